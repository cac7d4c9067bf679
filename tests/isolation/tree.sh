#!/bin/bash
# tree.sh SOFTCHECK PLUGIN_DIR WORK REAPER: the worker tree never outlives
# softcheck. softcheck is killed with SIGKILL (no chance to clean up) while
# its kernel spins, and while eight children of it sleep; then a run
# whose kernel leaves a child behind is piped into cat, which must end.
set -u
softcheck=$1 dir=$2 work=$3 reaper=$4
rm -rf "$work" && mkdir -p "$work" && cd "$work" || exit 1
fail() { echo "FAIL: $*"; cat err.txt 2>/dev/null; exit 1; }

# A kernel that spins, and one whose eight children sleep while it waits
# for them (a tree of ten processes): a call timeout far past the kill, so
# only the kill ends the run. (A kernel that stops itself is ended at once
# by its reaper: attack_sigstop_group.)
for plugin in libhostile_hang.so libattack_fork_memory.so; do
  set_name=attack
  [ $plugin = libhostile_hang.so ] && set_name=hang
  "$reaper" --kill-after 3 -- "$softcheck" check --plugin "$dir/$plugin" --set $set_name \
    --op softmax --dtype f32 --call-timeout 600 --faults f >out.txt 2>err.txt
  got=$?
  [ $got = 99 ] && fail "$plugin: processes outlived softcheck killed -9"
  [ $got = 137 ] || fail "$plugin: exit $got, expected 137 (killed)"
done

# The child a kernel leaves holds nothing of softcheck's: a pipe ends.
timeout 60 bash -c "'$softcheck' check --plugin '$dir/libattack_fork_sleep.so' --set attack \
  --op softmax --dtype f32 --cases 5 --faults f | cat >piped.txt"
[ $? = 124 ] && fail "softcheck | cat did not end: a process of the run holds the pipe"
grep -q "^FAULT attack softmax f32: left a child process running" piped.txt ||
  fail "the piped run did not report the fault: $(cat piped.txt)"
echo "ok"
