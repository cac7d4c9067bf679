/*
 * reaper [--kill-after SECONDS] [--stop-after SECONDS] [--peak-rss] -- COMMAND...
 *
 * Runs COMMAND as a child of a subreaper and, when it has exited, checks
 * that no process it started is left: every descendant that outlives its
 * parent comes back to this process, so "left" is exact and by ancestry,
 * never by name. Waits up to 10 s for the tree to go (softcheck ends its
 * workers as it exits), then lists what is left on stderr, ends it and
 * exits 99. --kill-after sends SIGKILL to COMMAND after that many seconds
 * (softcheck killed -9); --peak-rss prints the largest total resident
 * memory of COMMAND's descendants (not COMMAND itself) seen while it ran.
 * Otherwise exits with COMMAND's exit status (128 + signal when killed).
 */
#define _GNU_SOURCE
#include <dirent.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/prctl.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

static double now(void) {
  struct timespec t;
  clock_gettime(CLOCK_MONOTONIC, &t);
  return (double)t.tv_sec + (double)t.tv_nsec * 1e-9;
}

/* The parent of pid and its resident kB, from /proc; 0 when it is gone. */
static int stat_of(int pid, int *ppid, long *rss_kb) {
  char path[64], buf[4096];
  snprintf(path, sizeof path, "/proc/%d/stat", pid);
  FILE *f = fopen(path, "r");
  if (!f) return 0;
  size_t n = fread(buf, 1, sizeof buf - 1, f);
  fclose(f);
  buf[n] = '\0';
  char *p = strrchr(buf, ')');
  if (!p) return 0;
  char state;
  long rss_pages = 0;
  /* fields after the command: state ppid ... rss is field 24 */
  int got = sscanf(p + 2,
                   "%c %d %*d %*d %*d %*d %*u %*u %*u %*u %*u %*u %*u %*d %*d %*d %*d %*d "
                   "%*d %*u %*u %ld",
                   &state, ppid, &rss_pages);
  if (got < 3) return 0;
  *rss_kb = rss_pages * (sysconf(_SC_PAGESIZE) / 1024);
  return state != 'Z';
}

/* The resident kB of every live descendant of `root` but `skip`. */
static long tree_rss(int root, int skip) {
  int pids[32768], parents[32768];
  long rss[32768];
  int n = 0;
  DIR *d = opendir("/proc");
  if (!d) return 0;
  struct dirent *e;
  while ((e = readdir(d)) && n < 32768) {
    int pid = atoi(e->d_name);
    if (pid <= 0) continue;
    if (stat_of(pid, &parents[n], &rss[n])) pids[n++] = pid;
  }
  closedir(d);
  long total = 0;
  for (int i = 0; i < n; ++i) {
    if (pids[i] == skip) continue;
    /* walk up to root */
    int p = parents[i], hops = 0;
    while (p > 1 && p != root && hops++ < 64) {
      int j;
      for (j = 0; j < n && pids[j] != p; ++j) {
      }
      p = j < n ? parents[j] : 0;
    }
    if (p == root) total += rss[i];
  }
  return total;
}

/* This process's children as /proc lists them (it is single-threaded). */
static int children(int *out, int max) {
  char path[64];
  snprintf(path, sizeof path, "/proc/self/task/%d/children", (int)getpid());
  FILE *f = fopen(path, "r");
  if (!f) return 0;
  int n = 0;
  while (n < max && fscanf(f, "%d", &out[n]) == 1) ++n;
  fclose(f);
  return n;
}

int main(int argc, char **argv) {
  double kill_after = -1;
  int peak = 0, i = 1;
  for (; i < argc && strcmp(argv[i], "--") != 0; ++i) {
    if (!strcmp(argv[i], "--kill-after") && i + 1 < argc)
      kill_after = atof(argv[++i]);
    else if (!strcmp(argv[i], "--peak-rss"))
      peak = 1;
  }
  if (i + 1 >= argc) {
    fprintf(stderr, "usage: reaper [--kill-after S] [--peak-rss] -- COMMAND...\n");
    return 2;
  }
  prctl(PR_SET_CHILD_SUBREAPER, 1);
  const int child = fork();
  if (child == 0) {
    execvp(argv[i + 1], argv + i + 1);
    perror("exec");
    _exit(127);
  }
  const double start = now();
  long peak_kb = 0;
  int status = 0, killed = 0;
  for (;;) {
    const int r = waitpid(child, &status, WNOHANG);
    if (r == child) break;
    if (kill_after >= 0 && !killed && now() - start >= kill_after) {
      kill(child, SIGKILL);
      killed = 1;
    }
    if (peak) {
      const long kb = tree_rss(getpid(), child);
      if (kb > peak_kb) peak_kb = kb;
    }
    usleep(peak ? 20000 : 5000);
  }
  const int code = WIFEXITED(status) ? WEXITSTATUS(status) : 128 + WTERMSIG(status);
  if (peak) fprintf(stderr, "reaper: peak resident memory of the tree %ld MiB\n", peak_kb / 1024);
  /* What outlives COMMAND comes back here; give softcheck's own teardown
   * (after a kill -9: its sandboxes see the host go) time to end it. */
  int left[4096], n = 0;
  for (const double until = now() + 10; now() < until;) {
    while (waitpid(-1, NULL, WNOHANG) > 0) {
    }
    n = children(left, 4096);
    if (n == 0) break;
    usleep(20000);
  }
  if (n > 0) {
    fprintf(stderr, "reaper: %d processes outlived the command:\n", n);
    for (int k = 0; k < n; ++k) {
      char path[64], cmd[512] = "";
      snprintf(path, sizeof path, "/proc/%d/cmdline", left[k]);
      FILE *f = fopen(path, "r");
      if (f) {
        size_t m = fread(cmd, 1, sizeof cmd - 1, f);
        fclose(f);
        for (size_t c = 0; c < m; ++c)
          if (cmd[c] == '\0') cmd[c] = ' ';
        cmd[m] = '\0';
      }
      fprintf(stderr, "  pid %d: %s\n", left[k], cmd);
      kill(left[k], SIGKILL);
    }
    while (waitpid(-1, NULL, 0) > 0) {
    }
    return 99;
  }
  return code;
}
