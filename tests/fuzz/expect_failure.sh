#!/bin/bash
# expect_failure.sh MESSAGE_REGEX -- COMMAND...: COMMAND must fail (any
# non-zero exit, a signal included) and print MESSAGE_REGEX on stderr.
set -u
re=$1
shift 2
err=$(mktemp)
trap 'rm -f "$err"' EXIT
"$@" 2>"$err" >/dev/null
code=$?
if [ $code = 0 ]; then echo "FAIL: the command passed: $*"; exit 1; fi
grep -Eq -- "$re" "$err" || { echo "FAIL: exit $code, stderr lacks /$re/:"; tail -20 "$err"; exit 1; }
echo "ok: exit $code, $(grep -Eo -- "$re" "$err" | head -1)"
