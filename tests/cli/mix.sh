#!/bin/bash
# mix.sh SOFTCHECK PLUGIN: a convention and two kinds of defect in one op
# (tests/plugins/mix.c). check lists the convention once and reports each
# defect with its own counterexample; report lists the convention in its own
# section and fails nothing for it; fuzz keeps the finite error apart from
# the special-value mismatches.
set -u
sc=$1 plugin=$2
dir=$(mktemp -d)
trap 'rm -rf "$dir"' EXIT
fail() { echo "FAIL: $*"; for f in "$dir"/*.txt; do echo "--- $f"; cat "$f"; done; exit 1; }

"$sc" check --plugin "$plugin" --op softmax --junit "$dir/check.xml" >"$dir/check.txt" 2>&1
[ $? = 1 ] || fail "check should exit 1"
# JUnit: the convention as a property of the suite, each kind of failure
# its own testcase (names unique), the kind in the failure's type.
python3 - "$dir/check.xml" <<'PY' >"$dir/junit.txt" 2>&1 || fail "JUnit: $(cat "$dir/junit.txt")"
import sys, xml.etree.ElementTree as ET
suite = ET.parse(sys.argv[1]).getroot().find("testsuite")
props = {p.get("name"): p.get("value") for p in suite.find("properties")}
assert props.get("conventions of mix", "").startswith("masked=nan"), props
cases = suite.findall("testcase")
names = [(c.get("classname"), c.get("name")) for c in cases]
assert len(names) == len(set(names)), "testcase names repeat"
kinds = [c.find("failure").get("type") for c in cases
         if c.get("classname") == "mix.softmax.f32" and c.get("name").startswith("oracle_agreement")
         and c.find("failure") is not None]
assert any(k.startswith("special values") for k in kinds), kinds
assert any(k.startswith("finite accuracy") for k in kinds), kinds
PY
[ "$(grep -c 'conventions of this set: masked=nan' "$dir/check.txt")" = 1 ] ||
  fail "the convention is not listed exactly once"
grep -Eq '^  FAIL  oracle_agreement +softmax +f32 .*, special values on rows with NaN or infinities(;.*)?$' \
  "$dir/check.txt" || fail "no special-value failure of oracle_agreement on rows with NaN"
grep -Eq '^  FAIL  oracle_agreement +softmax +f32 .*, finite accuracy( on [a-z ]+)?(;.*)?$' "$dir/check.txt" ||
  fail "no finite-accuracy failure of oracle_agreement"
# Each failure of oracle_agreement has its own counterexample: the NaN row,
# and a finite row.
awk '/^  FAIL/ { k = $2 == "oracle_agreement" ? (index($0, "special values") ? "values" : "accuracy") : "" }
     /^          x / { if (k != "") { sub(/^ +/, ""); print k, $0 } }' "$dir/check.txt" >"$dir/cx.txt"
grep -Eq '^values x .*nan' "$dir/cx.txt" || fail "the special-value counterexample has no NaN"
grep -Eq '^accuracy x ' "$dir/cx.txt" && ! grep -Eq '^accuracy x .*(nan|inf)' "$dir/cx.txt" ||
  fail "the finite-accuracy counterexample is not finite"
# The masked rows (NaN, as declared) fail nothing.
grep -A8 '^  FAIL' "$dir/check.txt" | grep -Eq '^          x( -inf)+$' &&
  fail "a fully masked row was reported as a failure"

"$sc" report --plugin "$plugin" --set mix --op softmax --cases 30 --out "$dir/r" >"$dir/report.txt" 2>&1
grep -q '^## Conventions of these sets' "$dir/r/report.md" || fail "report has no conventions section"
grep -Eq '^- \*\*mix\*\*: masked=nan' "$dir/r/report.md" || fail "report does not list masked=nan"
grep -Eq '^- \*\*mix\*\*: [1-9][0-9]* outputs of this run were NaN by these conventions' \
  "$dir/r/report.md" || fail "report counts no output answered by the convention"

"$sc" fuzz --plugin "$plugin" --set mix --op softmax --dtype f32 --cases 3000 \
  --corpus "$dir/fz" >"$dir/fuzz.txt" 2>&1
# op, dtype, finite error (a number past the bound), bound, execs, special cases > 0
grep -Eq '^softmax +f32 +[0-9.e+]+ ulp +[0-9.e+]+ ulp +[0-9]+ +[1-9][0-9]*  ' "$dir/fuzz.txt" ||
  fail "fuzz does not show the finite error and the special-value cases apart"
awk '/^softmax +f32/{ if ($3 + 0 <= $5 + 0) exit 1 }' "$dir/fuzz.txt" ||
  fail "fuzz's finite error is within the bound"
# Finite regimes only: the finite defect is still found, and no mutation
# brings in the NaN that the other defect needs.
"$sc" fuzz --plugin "$plugin" --set mix --op softmax --dtype f32 --cases 3000 \
  --skip-regime masked fully_masked nan_inside inf_inside --corpus "$dir/fz2" >"$dir/fuzz2.txt" 2>&1
[ $? = 1 ] || fail "fuzz on finite regimes should exit 1 (the finite defect)"
grep -Eq '^softmax +f32 +[0-9.e+]+ ulp +[0-9.e+]+ ulp +[0-9]+ +0  ' "$dir/fuzz2.txt" ||
  fail "fuzz on finite regimes shows special-value cases"
grep -q '^FINDING softmax f32: .*ulps' "$dir/fuzz2.txt" || fail "fuzz on finite regimes found nothing"
echo "ok"
