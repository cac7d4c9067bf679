#!/bin/bash
# junit.sh SOFTCHECK PLUGIN: `softcheck check --junit` writes valid JUnit XML
# whose counts match the run (the textbook set fails, the careful one passes).
set -u
softcheck=$1 plugin=$2
dir=$(mktemp -d)
trap 'rm -rf "$dir"' EXIT
"$softcheck" check --plugin "$plugin" --cases 20 --quiet --junit "$dir/out.xml" >"$dir/stdout"
code=$?
if [ $code != 1 ]; then echo "exit code $code, expected 1 (textbook fails)"; exit 1; fi
python3 - "$dir/out.xml" "$dir/stdout" <<'PY'
import re, sys, xml.etree.ElementTree as ET
root = ET.parse(sys.argv[1]).getroot()
assert root.tag == "testsuites", root.tag
suite = root.find("testsuite")
cases = suite.findall("testcase")
failures = [c for c in cases if c.find("failure") is not None]
skipped = [c for c in cases if c.find("skipped") is not None]
assert int(suite.get("tests")) == len(cases) > 0
assert int(suite.get("failures")) == len(failures) > 0
assert int(suite.get("skipped")) == len(skipped)
assert all(c.get("classname").startswith("textbook.") for c in failures), "only textbook fails"
summary = open(sys.argv[2]).read().strip().splitlines()[-1]
m = re.match(r"(\d+) passed, (\d+) failed, (\d+) skipped", summary)
assert m and int(m.group(2)) == len(failures), summary
print("valid JUnit XML:", len(cases), "cases,", len(failures), "failures")
PY
