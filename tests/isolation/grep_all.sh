#!/bin/bash
# grep_all.sh CODE PATTERN... -- COMMAND...: COMMAND exits with CODE and its
# stdout matches every PATTERN (extended regexes, each on some line).
set -u
code=$1
shift
patterns=()
while [ "$1" != "--" ]; do patterns+=("$1"); shift; done
shift
out=$(mktemp)
trap 'rm -f "$out"' EXIT
"$@" >"$out" 2>&1
got=$?
[ $got = "$code" ] || { echo "FAIL: exit $got, expected $code"; cat "$out"; exit 1; }
for p in "${patterns[@]}"; do
  grep -Eq -- "$p" "$out" || { echo "FAIL: no line matches /$p/"; cat "$out"; exit 1; }
done
echo "ok"
