#!/bin/bash
# expect.sh CODE OUT_REGEX ERR_REGEX -- COMMAND...
# Runs COMMAND and checks its exit code, that stdout matches OUT_REGEX and
# stderr matches ERR_REGEX (extended regexes; "" matches empty output only).
# A usage or load error (CODE 2) must print exactly one "error: " line.
set -u
code=$1 out_re=$2 err_re=$3
shift 3
[ "$1" = "--" ] && shift
out=$(mktemp) err=$(mktemp)
trap 'rm -f "$out" "$err"' EXIT
"$@" >"$out" 2>"$err"
got=$?
fail=0
if [ "$got" != "$code" ]; then echo "exit code $got, expected $code"; fail=1; fi
check() { # name file regex
  if [ -z "$3" ]; then
    if [ -s "$2" ]; then echo "$1 should be empty"; fail=1; fi
  elif ! grep -Eq -- "$3" "$2"; then echo "$1 does not match /$3/"; fail=1; fi
}
check stdout "$out" "$out_re"
check stderr "$err" "$err_re"
if [ "$code" = 2 ]; then
  lines=$(wc -l <"$err")
  if [ "$lines" != 1 ] || ! grep -q '^error: ' "$err"; then
    echo "expected exactly one 'error: ' line on stderr, got $lines lines"; fail=1
  fi
fi
if [ $fail != 0 ]; then
  echo "--- command: $*"; echo "--- stdout:"; cat "$out"; echo "--- stderr:"; cat "$err"
fi
exit $fail
