#!/bin/bash
# faults.sh SOFTCHECK CRASH_PLUGIN WORK: fault inputs are written whole, in a
# folder of the run's own (two runs in one --faults folder never share a
# file), and a folder that cannot be made is said, not hidden behind the
# name of a file that was never written.
set -u
softcheck=$1 plugin=$2 work=$3
rm -rf "$work" && mkdir -p "$work" && cd "$work" || exit 1
fail() { echo "FAIL: $*"; cat out*.txt 2>/dev/null; exit 1; }
run=(check --plugin "$plugin" --set crash --op softmax --dtype f32 --cases 5 --property oracle_agreement)
"$softcheck" "${run[@]}" --faults shared >out1.txt 2>/dev/null
"$softcheck" "${run[@]}" --faults shared >out2.txt 2>/dev/null
one=$(sed -n 's/^  input: //p' out1.txt) two=$(sed -n 's/^  input: //p' out2.txt)
[ -n "$one" ] && [ -n "$two" ] && [ "$one" != "$two" ] || fail "two runs share '$one'"
[ -s "$one" ] && [ -s "$two" ] || fail "a fault input is missing"
case "$one $two" in shared/run-1/*" "shared/run-2/*) ;; *) fail "not one folder per run: $one $two" ;; esac
ls shared/run-1 shared/run-2 | grep -q '\.tmp' && fail "a temporary file was left"
touch not-a-folder
"$softcheck" "${run[@]}" --faults not-a-folder/sub >out3.txt 2>/dev/null
[ $? = 1 ] || fail "exit $? with an unwritable --faults"
grep -q "^FAULT crash softmax f32: killed by signal 11" out3.txt || fail "no FAULT line"
grep -q "^  input: not saved: cannot create 'not-a-folder/sub'" out3.txt ||
  fail "the unsaved input is not said"
grep -q "^  reproduce:" out3.txt && fail "a reproduce line names a file that was never written"
echo "ok"
