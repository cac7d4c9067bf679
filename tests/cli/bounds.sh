#!/bin/bash
# bounds.sh SOFTCHECK EXPECT WORK: inputs to the tool itself are bounded
# and exact: a case file, --input or a baseline that never ends (/dev/zero)
# or passes 64 MiB, an integer out of range, a NUL byte inside a value, a
# negative seed: each one clear error line and exit 2, before any work.
set -u
softcheck=$1 expect=$2 work=$3
rm -rf "$work" && mkdir -p "$work" && cd "$work" || exit 1
run() { bash "$expect" 2 "" "$1" -- "$softcheck" "${@:2}" || exit 1; }
run "'/dev/zero' is larger than 64 MiB" check --replay /dev/zero
run "'/dev/zero' is larger than 64 MiB" eval --op softmax --input /dev/zero
run "baseline: '/dev/zero' is larger than 64 MiB" report --baseline /dev/zero --out r
head -c $((65 << 20)) /dev/zero | tr '\0' '1' >big.case
run "'big.case' is larger than 64 MiB" check --replay big.case
printf 'softcheck-case 1\nop nll_loss\ndtype f32\nshape 1 2 1\nreduction sum\nignore_index -100\nlabel_smoothing 0x0p+0\nx -1 -2\ntarget 99999999999999999999\n' >range.case
run "line 9: '99999999999999999999' is out of range" check --replay range.case
printf 'softcheck-case 1\nop softmax\ndtype f32\nshape 1 2 1\nx 1\0 2\n' >nul.case
run "a NUL byte" check --replay nul.case
printf '1 2\0 3\n' >nul.rows
run "holds a NUL byte" eval --op softmax --input nul.rows
run "--seed must be a non-negative integer" zoo --seed -1
run "--seed must be a non-negative integer" check --seed -1
[ ! -e r ] || { echo "FAIL: a report folder was made"; exit 1; }
echo "ok"
