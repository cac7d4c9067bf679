#!/bin/bash
# isolation.sh KIND SOFTCHECK PLUGIN WORK REAPER: a hostile kernel set (see
# tests/plugins/hostile.cpp) through `softcheck check`: the fault is
# reported with what happened, the saved input and a reproduce command; the
# other op still runs and passes; the exit code is 1; no process of the run
# is left (the reaper: by ancestry).
set -u
kind=$1 softcheck=$2 plugin=$3 work=$4 reaper=$5
rm -rf "$work" && mkdir -p "$work" && cd "$work" || exit 1
fail() { echo "FAIL: $*"; echo "--- output:"; cat out.txt; exit 1; }
faulty=softmax other=log_softmax
case $kind in
crash) set=crash want='killed by signal 11 \(SIGSEGV\)' ;;
abort) set=abort want='killed by signal 6 \(SIGABRT\)' ;;
hang) set=hang want='did not return within 2 s' ;;
exit) set=exit3 want='exited with status 3 inside the kernel' ;;
leak) set=leak want='(killed by signal|exited with status)' ;;
scribble) set=scribble want='wrote past the end of its output \([0-9]+ elements\): element [0-9]+, offset \+0' ;;
input_writer) set=input_writer faulty=log_softmax other=softmax want='changed its input x\[0\]' ;;
unwritten) set=unwritten want='returned ok but left output element [0-9]+ unwritten' ;;
*) echo "unknown kind $kind"; exit 1 ;;
esac
"$reaper" -- "$softcheck" check --plugin "$plugin" --set $set --op $faulty --op $other \
  --dtype f32 --cases 40 --property oracle_agreement --call-timeout 2 --memory-limit 128 \
  --faults faults >out.txt 2>err.txt
code=$?
[ $code = 99 ] && fail "processes of the run outlived it (stderr: $(cat err.txt))"
[ $code = 1 ] || fail "exit $code, expected 1 (stderr: $(cat err.txt))"
grep -Eq "^FAULT $set $faulty f32: $want" out.txt || fail "no FAULT line matching /$want/"
grep -Eq "^  PASS  oracle_agreement +$other " out.txt || fail "$other did not run and pass"
input=$(grep -m1 -A1 "^FAULT $set" out.txt | sed -n 's/^  input: //p')
[ -s "$input" ] || fail "the input '$input' was not saved"
grep -q "^softcheck-case 1" "$input" || fail "the saved input is not a case file"
grep -Eq "^  reproduce: softcheck eval --plugin $plugin --set $set --case $input" out.txt ||
  fail "no reproduce line"
# The saved input reproduces the fault (in a worker, through check --replay).
"$reaper" -- "$softcheck" check --plugin "$plugin" --set $set --replay "$input" --call-timeout 2 \
  --memory-limit 128 --faults again >again.txt 2>&1
[ $? = 99 ] && fail "processes of the replay outlived it"
grep -Eq "^FAULT $set $faulty f32: $want" again.txt || fail "the saved input does not reproduce it: $(cat again.txt)"
echo "ok: $(grep -m1 "^FAULT" out.txt)"
