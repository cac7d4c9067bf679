#!/bin/bash
# report.sh MODE SOFTCHECK WORKDIR [PLUGINS...]: `softcheck report` as a user
# runs it. Modes:
#   files        the three files (and timing.json, cases/) are written, the path printed
#   determinism  one seed, 1 and 2 threads: byte-identical report.json
#   gate         a one-ulp-worse build of a set fails the baseline gate (exit 1)
#   atomic       a killed run and refused runs leave the previous report intact
#   hostile      bad baselines, folders and flags: one error line, exit 2, nothing touched
set -u
mode=$1 softcheck=$2 work=$3
shift 3
rm -rf "$work" && mkdir -p "$work" && cd "$work" || exit 1
fail() { echo "FAIL: $*"; exit 1; }
quick=(--cases 3 --seed 5)

case $mode in
files)
  out=$("$softcheck" report "${quick[@]}" --out r) || fail "exit $?"
  echo "$out" | grep -Eq "written to $work/r \(report.json, report.md, index.html\)" ||
    fail "no path line in: $out"
  for f in report.json report.md index.html timing.json; do
    [ -s "r/$f" ] || fail "r/$f missing or empty"
  done
  ls r/cases/*.case >/dev/null 2>&1 || fail "no case files"
  # Each reproduce line runs, from the report's folder.
  line=$(grep -o 'softcheck eval --set softcheck --case cases/[^`]*' r/report.md | head -1)
  [ -n "$line" ] || fail "no reproduce line in report.md"
  (cd r && "$softcheck" ${line#softcheck }) | grep -q "oracle: correctly rounded" ||
    fail "reproduce line failed: $line"
  ls r | grep -q tmp && fail "temporary files left: $(ls r)"
  # A fuzz run's worst-case table goes into the report.
  "$softcheck" fuzz --cases 300 --corpus f >/dev/null || fail "fuzz: exit $?"
  "$softcheck" report "${quick[@]}" --fuzz f --out r >/dev/null || fail "report --fuzz: exit $?"
  grep -q "^## Fuzzing: the worst inputs found" r/report.md || fail "no fuzz table in report.md"
  grep -q "| softcheck | log_softmax | f32 |" r/report.md || fail "fuzz table rows missing"
  grep -q "<h2>Fuzzing: the worst inputs found</h2>" r/index.html || fail "no fuzz table in the page"
  ;;
determinism)
  # The built-in set and a plugin's, 1 and 2 threads.
  plugin=(--plugin "$1")
  "$softcheck" report "${quick[@]}" "${plugin[@]}" --threads 1 --out r >/dev/null ||
    fail "1 thread: exit $?"
  cp r/report.json one.json
  "$softcheck" report "${quick[@]}" "${plugin[@]}" --threads 2 --out r >/dev/null ||
    fail "2 threads: exit $?"
  cmp one.json r/report.json || fail "report.json differs between 1 and 2 threads"
  grep -q '"name": "textbook"' one.json || fail "the plugin's sets are missing"
  "$softcheck" report --cases 3 --seed 6 --out r >/dev/null || fail "seed 6: exit $?"
  cmp -s one.json r/report.json && fail "seeds 5 and 6 gave the same report"
  ;;
gate)
  good=$1 worse=$2
  "$softcheck" report "${quick[@]}" --plugin "$good" --set gate --out base >good.out 2>&1 ||
    fail "good: exit $? $(cat good.out)"
  "$softcheck" report "${quick[@]}" --plugin "$good" --set gate --baseline base/report.json \
    --out same >same.out 2>same.err || fail "good against itself: exit $? $(cat same.err)"
  grep -Eq "^baseline .*: [0-9]+ entries compared, 0 metrics worse" same.out ||
    fail "good against itself: $(cat same.out)"
  "$softcheck" report "${quick[@]}" --plugin "$worse" --set gate --baseline base/report.json \
    --out now >now.out 2>now.err
  code=$?
  [ $code = 1 ] || fail "worse kernel: exit $code, expected 1"
  grep -q "^worse: gate / log_softmax / f32 / .* max_ulp" now.err || fail "$(cat now.err)"
  grep -q "| \*\*worse\*\* | gate / log_softmax" now/report.md || fail "no diff table in report.md"
  "$softcheck" report "${quick[@]}" --plugin "$worse" --set gate --baseline base/report.json \
    --tolerance ulp=1 --tolerance normwise=2 --out now >/dev/null 2>&1 ||
    fail "1 ulp (2u relative) of tolerance should let a 1 ulp nudge pass: exit $?"
  ;;
atomic)
  "$softcheck" report "${quick[@]}" --out r >/dev/null || fail "first run: exit $?"
  sum=$(cat r/* 2>/dev/null | md5sum; ls r/cases | md5sum)
  # A long run killed midway: nothing of it lands.
  "$softcheck" report --cases 10000 --seed 9 --out r >/dev/null 2>&1 &
  pid=$!
  sleep 2
  kill -9 $pid
  wait $pid 2>/dev/null
  [ "$sum" = "$(cat r/* 2>/dev/null | md5sum; ls r/cases | md5sum)" ] ||
    fail "a killed run changed the report"
  ls -a . r | grep -q tmp && fail "temporary files left: $(ls -a . r)"
  # A refused run (bad baseline) does not touch it either.
  echo '{"schema": "softcheck-report", "schema_version": 1' >bad.json
  "$softcheck" report "${quick[@]}" --baseline bad.json --out r >/dev/null 2>&1
  [ $? = 2 ] || fail "a corrupt baseline should exit 2"
  [ "$sum" = "$(cat r/* 2>/dev/null | md5sum; ls r/cases | md5sum)" ] ||
    fail "a refused run changed the report"
  ;;
hostile)
  "$softcheck" report "${quick[@]}" --out r >/dev/null || fail "first run: exit $?"
  cp r/report.json keep.json
  sum=$(cat r/* | md5sum)
  expect() { # expected-stderr-regex args...
    local re=$1
    shift
    "$softcheck" report "$@" >o.txt 2>e.txt
    local code=$?
    [ $code = 2 ] || fail "$*: exit $code, expected 2"
    [ "$(wc -l <e.txt)" = 1 ] && grep -Eq "^error: .*$re" e.txt || fail "$*: stderr $(cat e.txt)"
    [ "$sum" = "$(cat r/* | md5sum)" ] || fail "$*: the report changed"
  }
  printf 'not json' >garbage.json
  expect "baseline 'garbage.json': not JSON" "${quick[@]}" --baseline garbage.json --out r
  head -c 200 keep.json >truncated.json
  expect "baseline 'truncated.json': not JSON" "${quick[@]}" --baseline truncated.json --out r
  sed 's/"schema_version": 1/"schema_version": 7/' keep.json >v7.json
  expect "schema version 7" "${quick[@]}" --baseline v7.json --out r
  echo '{"schema": "something-else"}' >other.json
  expect "not a softcheck report" "${quick[@]}" --baseline other.json --out r
  expect "baseline: cannot read 'missing.json'" "${quick[@]}" --baseline missing.json --out r
  expect "was made with --seed 5 --cases 3" --cases 4 --seed 5 --baseline keep.json --out r
  touch afile
  expect "--out 'afile' is a file" "${quick[@]}" --out afile
  expect "--cases must be between" --cases -3 --out r
  expect "--cases must be between" --cases 100000000 --out r
  mkdir notes && touch notes/mine.txt
  expect "'notes' holds files that are not a softcheck report" "${quick[@]}" --out notes
  [ -f notes/mine.txt ] || fail "a user's file was touched"
  expect "the folder '/nonexistent' does not exist" "${quick[@]}" --out /nonexistent/r
  expect "count must be a whole number" "${quick[@]}" --baseline keep.json --tolerance count=1e300 --out r
  expect "not an integer: 'x'" --cases 3 --seed x --out r
  expect "unknown op 'sofmax'" "${quick[@]}" --op sofmax --out r
  expect "no kernel set named 'nope'" "${quick[@]}" --set nope --out r
  expect "--tolerance ulp=-1" "${quick[@]}" --baseline keep.json --tolerance ulp=-1 --out r
  expect "--tolerance applies to --baseline" "${quick[@]}" --tolerance 1 --out r
  expect "--frobnicate" "${quick[@]}" --frobnicate --out r
  expect "--fuzz 'nowhere' is not a folder" "${quick[@]}" --fuzz nowhere --out r
  mkdir empty
  expect "--fuzz 'empty' holds no worst-case table" "${quick[@]}" --fuzz empty --out r
  if [ "$(id -u)" != 0 ]; then
    mkdir ro && chmod 555 ro
    expect "--out 'ro' is not writable" "${quick[@]}" --out ro
  fi
  ;;
*) fail "unknown mode $mode" ;;
esac
echo "ok: $mode"
