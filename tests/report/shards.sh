#!/bin/bash
# shards.sh SOFTCHECK TEXTBOOK WORK: `softcheck report` whole and as 3 shards
# in separate processes (one taking its index from SOFTCHECK_SHARD_INDEX),
# then `report --merge`: report.json and every case file byte for byte the
# whole run's, report.md too but for the kernels' speed; the baseline gate
# on the merged report; a missing shard, a shard with --baseline and a
# merge of a whole run are refused with exit 2.
set -u
softcheck=$1 textbook=$2 work=$3
rm -rf "$work" && mkdir -p "$work" && cd "$work" || exit 1
fail() { echo "FAIL: $*"; exit 1; }
args=(report --plugin "$textbook" --set softcheck --set textbook --cases 12 --seed 5 --worst 2)
"$softcheck" "${args[@]}" --out whole >whole.out 2>&1 || { cat whole.out; fail "whole: exit $?"; }
"$softcheck" "${args[@]}" --shard 0/3 --out p0 >p0.out 2>&1 &
a=$!
SOFTCHECK_SHARD_INDEX=1 SOFTCHECK_SHARD_COUNT=3 "$softcheck" "${args[@]}" --shard auto --out p1 \
  >p1.out 2>&1 &
b=$!
"$softcheck" "${args[@]}" --shard 2/3 --out p2 >p2.out 2>&1 || fail "shard 2: exit $?"
wait $a || fail "shard 0: exit $?"
wait $b || fail "shard 1: exit $?"
grep -q 'shard 1/3 (from SOFTCHECK_SHARD_INDEX and SOFTCHECK_SHARD_COUNT)' p1.out || fail "p1 line"
grep -q '"shard"' p0/report.json || fail "a shard's report.json does not say so"
grep -q '"shard"' whole/report.json && fail "the whole run's report.json has a shard"

"$softcheck" report --merge p2 p0 p1 --out merged >merged.out 2>&1 ||
  { cat merged.out; fail "merge: exit $?"; }
cmp whole/report.json merged/report.json || fail "merged report.json differs from the whole run's"
diff -r whole/cases merged/cases >/dev/null || fail "merged case files differ"
[ "$(ls merged/cases | wc -l)" -gt 10 ] || fail "too few case files"
# report.md: the same but for the throughput section (kernel speed varies).
strip() { awk '/^## /{skip = ($0 ~ /^## Throughput/)} !skip' "$1"; }
diff <(strip whole/report.md) <(strip merged/report.md) >md.diff ||
  { head md.diff; fail "merged report.md differs beyond timing"; }
[ -s merged/index.html ] && [ -s merged/timing.json ] || fail "merged page or timing missing"

# The gate on the merged run: its own numbers pass, a baseline of other
# kernels does not compare.
"$softcheck" report --merge p0 p1 p2 --baseline whole/report.json --out gated >gated.out 2>&1 ||
  { cat gated.out; fail "merged run against its own baseline: exit $?"; }
grep -q 'metrics worse' gated.out || fail "no baseline verdict"

expect2() { # what command...
  local what=$1
  shift
  "$@" >e.out 2>&1
  local rc=$?
  [ $rc = 2 ] || { cat e.out; fail "$* exited $rc, not 2"; }
  grep -q "$what" e.out || { cat e.out; fail "no '$what'"; }
}
expect2 '1 of the 3 shards missing (1)' "$softcheck" report --merge p0 p2 --out x
expect2 'not a shard' "$softcheck" report --merge whole --out x
expect2 'judges a whole run' "$softcheck" "${args[@]}" --shard 0/3 --baseline whole/report.json \
  --out x
expect2 'no --plugin' "$softcheck" report --merge p0 p1 p2 --plugin "$textbook" --out x
[ -e x ] && fail "a refused command wrote its folder"
echo "ok: 3 shards merged are the whole report"
