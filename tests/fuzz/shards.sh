#!/bin/bash
# shards.sh SOFTCHECK WORK: a campaign as two shards and a merge; a run with
# --cases is the same run every time.
set -u
softcheck=$1 work=$2
rm -rf "$work" && mkdir -p "$work" && cd "$work" || exit 1
fail() { echo "FAIL: $*"; exit 1; }
for i in 0 1; do
  "$softcheck" fuzz --cases 600 --seed 7 --shard $i/2 --corpus s$i >s$i.out || fail "shard $i: exit $?"
done
cmp -s s0/worst-shard0of2.json s1/worst-shard1of2.json && fail "two shards found the same"
"$softcheck" fuzz --cases 600 --seed 7 --shard 0/2 --corpus again >/dev/null || fail "again"
cmp s0/worst-shard0of2.json again/worst-shard0of2.json || fail "same seed and shard differ"
for f in s0/*.case; do cmp "$f" "again/$(basename "$f")" || fail "$f differs"; done
"$softcheck" merge s0 s1 --out merged >merge.out || fail "merge: exit $?"
[ -s merged/worst.json ] && [ -s merged/worst.md ] || fail "no merged table"
grep -q '"schema": "softcheck-fuzz-worst"' merged/worst.json || fail "merged table schema"
rows=$(grep -c '"op"' merged/worst.json)
[ "$rows" = 44 ] || fail "merged table has $rows rows, expected 44 (11 ops x 4 dtypes)"
# Every row's case file is in the merged corpus.
for f in $(grep -o '"file": "[^"]*"' merged/worst.json | cut -d'"' -f4); do
  [ -f "merged/$f" ] || fail "merged/$f missing"
done
echo "ok: $(head -1 merge.out)"
