#!/bin/bash
# timeout.sh SOFTCHECK HANG_PLUGIN WORK: --timeout stops a run whose plugin
# hangs (call timeout longer than the run's): one line, exit 1, no report
# folder, and no worker left running.
set -u
softcheck=$1 plugin=$2 work=$3
rm -rf "$work" && mkdir -p "$work" && cd "$work" || exit 1
# A private copy, so no other test's worker matches the pgrep below.
cp "$plugin" ./libhang-timeout.so && plugin=$PWD/libhang-timeout.so
"$softcheck" report --plugin "$plugin" --set hang --op softmax --cases 5 --call-timeout 100 \
  --timeout 2 --faults f --out r >out.txt 2>err.txt
code=$?
[ $code = 1 ] || { echo "FAIL: exit $code"; cat err.txt; exit 1; }
grep -q "^softcheck: stopped by --timeout 2 s before the run finished; nothing was written" err.txt ||
  { echo "FAIL: $(cat err.txt)"; exit 1; }
[ ! -e r ] || { echo "FAIL: the report folder exists"; exit 1; }
sleep 0.5
if pgrep -f "__worker $plugin" >/dev/null; then echo "FAIL: a worker is still running"; exit 1; fi
echo "ok"
