#!/bin/bash
# timeout.sh SOFTCHECK HANG_PLUGIN WORK REAPER: --timeout stops a run whose
# plugin hangs (call timeout longer than the run's): one line, exit 1, no
# report folder, and no process of the run left (the reaper: by ancestry).
set -u
softcheck=$1 plugin=$2 work=$3 reaper=$4
rm -rf "$work" && mkdir -p "$work" && cd "$work" || exit 1
"$reaper" -- "$softcheck" report --plugin "$plugin" --set hang --op softmax --cases 5 \
  --call-timeout 100 --timeout 2 --faults f --out r >out.txt 2>err.txt
code=$?
[ $code = 99 ] && { echo "FAIL: processes of the run outlived it"; cat err.txt; exit 1; }
[ $code = 1 ] || { echo "FAIL: exit $code"; cat err.txt; exit 1; }
grep -q "^softcheck: stopped by --timeout 2 s before the run finished; nothing was written" err.txt ||
  { echo "FAIL: $(cat err.txt)"; exit 1; }
[ ! -e r ] || { echo "FAIL: the report folder exists"; exit 1; }
echo "ok"
