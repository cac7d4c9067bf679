#!/bin/bash
# libfuzzer.sh LIBFUZZER REPLAY CORPUS WORK PLUGIN: libFuzzer must find the
# hostile set's fault from the committed corpus, save the input, and the
# replay build must reproduce the failure from that file.
set -u
fuzzer=$1 replay=$2 corpus=$3 work=$4 plugin=$5
rm -rf "$work" && mkdir -p "$work/corpus" && cd "$work" || exit 1
cp "$corpus"/* corpus/
export SOFTCHECK_FUZZ_PLUGIN=$plugin
"$fuzzer" -max_total_time=120 -runs=5000000 -seed=1 -artifact_prefix="$work/" corpus \
  >fuzz.log 2>&1
code=$?
[ $code != 0 ] || { echo "FAIL: libFuzzer did not find the fault"; tail -20 fuzz.log; exit 1; }
grep -q "wrote past the end of its output" fuzz.log ||
  { echo "FAIL: libFuzzer stopped for another reason:"; tail -30 fuzz.log; exit 1; }
crash=$(ls "$work"/crash-* 2>/dev/null | head -1)
[ -n "$crash" ] || { echo "FAIL: no crash file saved"; exit 1; }
echo "found: $(grep -m1 'wrote past' fuzz.log)"
echo "saved: $crash ($(grep -m1 -Eo 'stat::number_of_executed_units: [0-9]+|#[0-9]+' fuzz.log | tail -1))"
"$replay" "$crash" >replay.log 2>&1 && { echo "FAIL: the replay passed"; exit 1; }
grep -q "wrote past the end of its output" replay.log ||
  { echo "FAIL: the replay failed for another reason:"; tail -20 replay.log; exit 1; }
echo "ok: the replay reproduces it"
