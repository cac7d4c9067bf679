#!/bin/bash
# shards.sh SOFTCHECK WORK: a campaign run whole and as N shards in separate
# processes (with --shard I/N and with the index taken from the Kubernetes
# and Slurm variables): merged, the shards give byte for byte the corpus and
# table of the unsharded run with the same seed and budget. A merge that
# lacks a shard says which; a run with --cases is the same run every time.
set -u
softcheck=$1 work=$2
rm -rf "$work" && mkdir -p "$work" && cd "$work" || exit 1
fail() { echo "FAIL: $*"; exit 1; }
run() { # corpus args...
  local corpus=$1
  shift
  "$softcheck" fuzz --cases 1500 --seed 7 --corpus "$corpus" "$@" >"$corpus.out" 2>&1
}
merge() { # out corpora...
  local out=$1
  shift
  "$softcheck" merge "$@" --out "$out" >"$out.out" 2>&1 || { cat "$out.out"; fail "merge $out"; }
}

# The built-in set, every op and dtype (44 units), whole and as 3 shards.
run whole || fail "whole run: exit $?"
pids=()
for i in 0 1 2; do
  run s$i --shard $i/3 &
  pids+=($!)
done
for p in "${pids[@]}"; do wait "$p" || fail "a shard exited $?"; done
merge whole-merged whole
merge shards-merged s0 s1 s2
diff -r whole-merged shards-merged >diff.txt || { head -20 diff.txt; fail "3 shards merged differ from the whole run"; }
rows=$(grep -c '"op"' shards-merged/worst.json)
[ "$rows" = 44 ] || fail "merged table has $rows rows, expected 44 (11 ops x 4 dtypes)"
for f in $(grep -o '"file": "[^"]*"' shards-merged/worst.json | cut -d'"' -f4); do
  [ -f "shards-merged/$f" ] || fail "shards-merged/$f missing"
done
# Each shard ran its own units only, and the shards' executions add up.
total=0
for i in 0 1 2; do
  n=$(sed -n 's/^\([0-9]*\) executions in .*/\1/p' s$i.out)
  [ -n "$n" ] || fail "shard $i printed no execution count"
  total=$((total + n))
done
whole_n=$(sed -n 's/^\([0-9]*\) executions in .*/\1/p' whole.out)
[ "$total" = "$whole_n" ] && [ "$whole_n" = 1500 ] ||
  fail "executions: shards $total, whole $whole_n, budget 1500"

# Same seed and shard: the same bytes.
run again --shard 0/3 || fail "again"
diff -r s0 again >/dev/null || fail "same seed and shard differ"

# The engines' index variables give the shard --shard I/N gives.
SOFTCHECK_SHARD_INDEX=1 SOFTCHECK_SHARD_COUNT=3 run gha --shard auto || fail "SOFTCHECK_SHARD_*"
diff -r s1 gha >/dev/null || fail "SOFTCHECK_SHARD_INDEX=1 differs from --shard 1/3"
grep -q 'shard 1/3 (from SOFTCHECK_SHARD_INDEX and SOFTCHECK_SHARD_COUNT)' gha.out || fail "gha line"
JOB_COMPLETION_INDEX=2 run k8s --shard auto/3 || fail "JOB_COMPLETION_INDEX"
diff -r s2 k8s >/dev/null || fail "JOB_COMPLETION_INDEX=2 differs from --shard 2/3"
# sbatch --array=1-5:2 gives ids 1, 3, 5: id 5 is the third task.
SLURM_ARRAY_TASK_ID=5 SLURM_ARRAY_TASK_MIN=1 SLURM_ARRAY_TASK_STEP=2 SLURM_ARRAY_TASK_COUNT=3 \
  run slurm --shard auto || fail "SLURM_ARRAY_TASK_ID"
diff -r s2 slurm >/dev/null || fail "SLURM_ARRAY_TASK_ID=5 of 1-5:2 differs from --shard 2/3"
JOB_COMPLETION_INDEX=0 run nocount --shard auto && fail "an index without a count ran"
grep -q 'nothing gives the count' nocount.out || fail "no count: message"
env -u SOFTCHECK_SHARD_INDEX -u JOB_COMPLETION_INDEX -u SLURM_ARRAY_TASK_ID \
  "$softcheck" fuzz --cases 10 --shard auto --corpus none >none.out 2>&1 && fail "auto without an index ran"
grep -q 'none of SOFTCHECK_SHARD_INDEX' none.out || fail "no index: message"

# A missing shard is named; --partial merges what is there.
"$softcheck" merge s0 s2 --out lacking >lacking.out 2>&1 && fail "a merge without shard 1 passed"
grep -q '1 of its 3 shards missing (1)' lacking.out || { cat lacking.out; fail "missing shard message"; }
"$softcheck" merge s0 s2 --partial --out partial >/dev/null 2>&1 || fail "--partial"

# More shards than ops and dtypes: --streams splits one op and dtype into
# independent units, and the merge is again the unsharded run.
"$softcheck" fuzz --cases 400 --seed 3 --op log_softmax --dtype f32 --streams 5 --corpus st \
  >st.out 2>&1 || fail "streams run: exit $?"
for i in 0 1 2 3; do
  "$softcheck" fuzz --cases 400 --seed 3 --op log_softmax --dtype f32 --streams 5 --shard $i/4 \
    --corpus st$i >st$i.out 2>&1 || fail "streams shard $i: exit $?"
done
merge st-merged st
merge st-shards st0 st1 st2 st3
diff -r st-merged st-shards >diff.txt || { head -20 diff.txt; fail "streams: 4 shards merged differ"; }
[ "$(grep -c '"op"' st-shards/worst.json)" = 1 ] || fail "streams: one row expected"
echo "ok: $(head -1 shards-merged.out)"
