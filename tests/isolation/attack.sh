#!/bin/bash
# attack.sh KIND SOFTCHECK PLUGIN_DIR WORK REAPER REFERENCE: one plugin that attacks
# the host (tests/plugins/attacks.cpp) through softcheck, asserting
#   - the exit code, and the one error line (an attack at load) or the
#     FAULT line (an attack in a call) that names what happened, with the
#     rest of the run going on;
#   - that the built-in set's results are byte-identical with and without
#     the plugin in the run (report.json, the built-in set's entries);
#   - that no process of the run is left (the reaper: by ancestry).
set -u
kind=$1 softcheck=$2 dir=$3 work=$4 reaper=$5 reference=$6
plugin=$dir/libattack_$kind.so
rm -rf "$work" && mkdir -p "$work" && cd "$work" || exit 1
fail() {
  echo "FAIL ($kind): $*"
  for f in out.txt err.txt rep-out.txt rep-err.txt; do [ -s $f ] && { echo "--- $f:"; head -c 3000 $f; }; done
  exit 1
}
limits=(--call-timeout 2 --load-timeout 3 --memory-limit 256 --faults faults)

# What the attack must give: exit code, a pattern on stdout (FAULT) or
# stderr (error), and whether the other op still runs and passes.
load=0 code=1 fault="" error="" others=1
case $kind in
load_crash) load=1 error='crashed: killed by signal 11 \(SIGSEGV\).* while loading' ;;
load_abort) load=1 error='crashed: killed by signal 6 \(SIGABRT\).* while loading' ;;
load_exit0 | entry_exit0) load=1 error='exited with status 0 while loading' ;;
wild_name) load=1 error='crashed: killed by signal 11 \(SIGSEGV\).* while loading' ;;
load_hang) load=1 error='did not finish loading within 3 s' ;;
too_many_sets) load=1 error='provides 100000 kernel sets; a run takes at most 64' ;;
fp_env) code=any others=0 ;; # its own kernels run in its own environment
lock) fault='killed by signal 11 \(SIGSEGV\)' ;;
sigstop_group) fault='stopped by signal 19 \(SIGSTOP\)' ;;
sigterm_group) fault='killed by signal 15 \(SIGTERM\)' ;;
signal_parent | flood | padded_read | prefill | socket_escape) code=0 ;;
fork_sleep | system_background) fault='left a child process running after it returned' ;;
fork_crash) fault='killed by signal 11 \(SIGSEGV\)' ;;
fork_memory) fault='(memory limit|did not return|killed by signal 9)' ;;
overread) fault='read past the end of its input x \([0-9]+ elements\): element [0-9]+, offset \+0 \(a guard page\); a set that reads past its inputs declares input_padding_bytes' ;;
padded_overread) fault='read past the end of its input x \([0-9]+ elements\): element [0-9]+, offset \+4 \(a guard page\); the set declares input_padding_bytes = 16' ;;
far_write) fault='wrote past the end of its output \([0-9]+ elements\): element [0-9]+, offset \+1000' ;;
late_writer) fault='a thread it left running touched its buffers after the call returned' ;;
late_spinner) fault='left a thread at work after it returned' ;;
*) echo "unknown attack $kind"; exit 1 ;;
esac

export SOFTCHECK_TEST_LOCK=$work/lock
: >"$SOFTCHECK_TEST_LOCK"
# Listeners on this machine only (a unix socket file, a loopback TCP port):
# whatever reaches them came out of the worker.
listener=""
if [ $kind = socket_escape ]; then
  export SOFTCHECK_TEST_SOCKET=$work/service.sock
  python3 - "$SOFTCHECK_TEST_SOCKET" "$work/port" "$work/reached" <<'PY' &
import os, select, socket, sys
u = socket.socket(socket.AF_UNIX); u.bind(sys.argv[1]); u.listen()
t = socket.socket(); t.bind(("127.0.0.1", 0)); t.listen()
open(sys.argv[2], "w").write(str(t.getsockname()[1]))
for _ in range(300):
    for s in select.select([u, t], [], [], 0.1)[0]:
        c, _ = s.accept()
        with open(sys.argv[3], "a") as f:
            f.write("a connection reached the %s listener\n" % ("unix" if s is u else "tcp"))
PY
  listener=$!
  for _ in $(seq 100); do [ -s "$work/port" ] && break; sleep 0.05; done
  export SOFTCHECK_TEST_PORT=$(cat "$work/port")
  # Unconfined (--in-process), the same kernel reaches both listeners: the
  # check below can fail.
  "$softcheck" check --in-process --plugin "$plugin" --set attack --op softmax --dtype f32 \
    --property oracle_agreement --cases 2 >/dev/null 2>&1
  for _ in $(seq 100); do [ "$(grep -c . "$work/reached" 2>/dev/null)" = 2 ] && break; sleep 0.05; done
  [ "$(grep -c . "$work/reached" 2>/dev/null)" = 2 ] ||
    fail "an unconfined kernel did not reach both listeners: the test cannot tell"
  rm -f "$work/reached"
fi

# 1. softcheck check on the attack set: the verdict, and no process left.
peak=()
[ $kind = fork_memory ] && peak=(--peak-rss)
"$reaper" "${peak[@]}" -- "$softcheck" check --plugin "$plugin" --set attack --op softmax \
  --op log_softmax --dtype f32 --property oracle_agreement --cases 20 "${limits[@]}" \
  >out.txt 2>err.txt
got=$?
[ $got = 99 ] && fail "processes of the run outlived it"
if [ $load = 1 ]; then
  [ $got = 2 ] || fail "exit $got, expected 2"
  [ "$(grep -c . err.txt)" = 1 ] || fail "expected exactly one line on stderr"
  grep -Eq "^error: plugin '.*libattack_$kind.so' .*$error" err.txt || fail "no error line /$error/"
  [ -s out.txt ] && fail "stdout should be empty"
else
  [ "$code" = any ] || [ $got = "$code" ] || fail "exit $got, expected $code"
  if [ -n "$fault" ]; then
    grep -Eq "^FAULT attack softmax f32: .*$fault" out.txt || fail "no FAULT line /$fault/"
    input=$(grep -m1 -A1 "^FAULT attack softmax" out.txt | sed -n 's/^  input: //p')
    [ -s "$input" ] || fail "the fault's input '$input' was not saved"
  elif [ "$code" != any ]; then
    grep -q "^FAULT" out.txt && fail "a FAULT where there is none"
  fi
  [ $others = 1 ] && { grep -Eq "^  PASS  oracle_agreement +log_softmax " out.txt ||
    fail "log_softmax did not run and pass"; }
  tail -n 1 out.txt | grep -Eq "^[0-9]+ passed, [0-9]+ failed, [0-9]+ skipped" ||
    fail "the summary is not the last line of stdout"
fi

if [ -n "$listener" ]; then
  kill $listener 2>/dev/null
  [ -s "$work/reached" ] && fail "$(cat "$work/reached")"
fi

# What the plugin printed stays out of softcheck's stdout, shown on stderr
# under the set's name, bounded, with no raw escape character anywhere.
if [ $kind = flood ]; then
  grep -q "999 passed\|FAKE PASS" out.txt && fail "the plugin's output reached softcheck's stdout"
  grep -q "^softcheck: what the plugin kernels printed" err.txt || fail "no section for the plugin's output"
  grep -Eq "^  set attack \[.*\], [0-9]{7,} bytes, the first 4096:" err.txt || fail "output not labelled and bounded"
  grep -q "^    | 999 passed, 0 failed, 0 skipped" err.txt || fail "the plugin's lines are not shown behind '|'"
  grep -q "more bytes not shown" err.txt || fail "no count of the bytes not shown"
  grep -q $'\x1b' out.txt err.txt && fail "a raw escape character was printed"
  [ "$(wc -c <err.txt)" -lt 20000 ] || fail "the shown output is not bounded"
fi
# The memory of the whole tree stays under the limit where a cgroup bounds it.
if [ $kind = fork_memory ]; then
  mib=$(sed -n 's/^reaper: peak resident memory of the tree \([0-9]*\) MiB/\1/p' err.txt)
  if "$softcheck" kernels --plugin "$dir/libattack_prefill.so" | grep -q "memory limit for the whole tree"; then
    # The limit plus the three processes' own shared pages, counted once each.
    [ "$mib" -le 384 ] || fail "the tree reached $mib MiB under a 256 MiB limit"
  else
    echo "note: no memory cgroup on this machine; the tree's peak was $mib MiB (RLIMIT_AS per process)"
  fi
fi

# 2. The built-in set's results with and without the plugin in the run
# (the report without it is made once for every attack: attack_reference).
quick=(--set softcheck --op softmax --dtype f32 --cases 2 --seed 3 --worst 0)
[ -s "$reference/report.json" ] || fail "no reference report at $reference"
"$reaper" -- "$softcheck" report --plugin "$plugin" "${quick[@]}" --set attack "${limits[@]}" \
  --out both >rep-out.txt 2>rep-err.txt
got=$?
[ $got = 99 ] && fail "processes of the report run outlived it"
if [ $load = 1 ]; then
  [ $got = 2 ] || fail "report: exit $got, expected 2"
  [ ! -e both ] || fail "report: a folder was written for a plugin that did not load"
elif [ -n "$fault" ]; then
  # The report says it too (exit 1, the FAULT line), as fuzz does below.
  [ $got = 1 ] || fail "report: exit $got with a fault, expected 1"
  grep -Eq "^FAULT attack softmax f32: .*$fault" rep-out.txt || fail "report: no FAULT line /$fault/"
fi
if [ $load = 0 ]; then
  python3 - "$reference/report.json" both/report.json <<'EOF' || fail "the built-in set's results changed"
import json, sys
def mine(path):
    r = json.load(open(path))
    keep = lambda xs: [x for x in xs if x.get("set") == "softcheck"]
    return json.dumps({k: keep(r[k]) for k in ("results", "special_values", "pipelines", "error_vs_gap")},
                      sort_keys=True)
a, b = mine(sys.argv[1]), mine(sys.argv[2])
if a != b:
    sys.exit("the softcheck set's entries differ")
if not json.loads(a)["results"]:
    sys.exit("no entries for the softcheck set")
EOF
fi
case $kind in
overread | padded_overread | far_write | late_writer)
  "$reaper" -- "$softcheck" fuzz --plugin "$plugin" --set attack --op softmax --dtype f32 \
    --cases 40 "${limits[@]}" --corpus corpus >fuzz-out.txt 2>&1
  got=$?
  [ $got = 99 ] && fail "processes of the fuzz run outlived it"
  [ $got = 1 ] && grep -Eq "^FAULT attack softmax f32: .*$fault" fuzz-out.txt ||
    fail "fuzz: exit $got, no FAULT line /$fault/: $(head -c 800 fuzz-out.txt)"
  ;;
esac
# --in-process too keeps the built-in set's floating-point environment.
if [ $kind = fp_env ]; then
  "$softcheck" report --in-process --plugin "$plugin" "${quick[@]}" --set attack --out inproc \
    >/dev/null 2>&1
  python3 - "$reference/report.json" inproc/report.json <<'EOF' || fail "--in-process: the built-in set's results changed"
import json, sys
def mine(path):
    r = json.load(open(path))
    return json.dumps([x for x in r["results"] if x.get("set") == "softcheck"], sort_keys=True)
sys.exit(0 if mine(sys.argv[1]) == mine(sys.argv[2]) else "differ")
EOF
fi
echo "ok ($kind): exit $got; $(grep -m1 -E '^(FAULT|error)' out.txt err.txt | head -1)"
