#!/bin/bash
# consumer.sh BUILD SOURCE WORK: softcheck installed from BUILD into a
# prefix, the prefix moved, and used the way a user with only the package
# would: the consumer example (from the installed docs) configured, built
# and checked by its own ctest; a broken kernel fails with its
# counterexample in the output and the JUnit file; the baseline target and
# test; find_package's version check; pkg-config; nothing of the build
# machine's paths in the tree.
set -u
build=$1 source=$2 work=$3
fail() { echo "FAIL: $*"; exit 1; }
rm -rf "$work" && mkdir -p "$work" && cd "$work" || exit 1
# The user's side sees none of softcheck's build: no inherited prefix paths.
unset CMAKE_PREFIX_PATH PKG_CONFIG_PATH

cmake --install "$build" --prefix "$work/staged" >install.log 2>&1 ||
  { cat install.log; fail "cmake --install: exit $?"; }
mv staged prefix || fail "cannot move the installed tree"
prefix=$work/prefix

# Relocatable: no path of the build or source tree anywhere in it.
for p in "$build" "$source"; do
  if grep -rlF "$p" prefix >hits.txt; then cat hits.txt; fail "the installed tree holds $p"; fi
done
grep -rlF "$work/staged" prefix >/dev/null && fail "the installed tree holds its install path"
for f in bin/softcheck include/softcheck/plugin.h include/softcheck/plugin_util.h \
  share/softcheck/check-result.schema.json share/doc/softcheck/README.md \
  share/doc/softcheck/LICENSE share/doc/softcheck/check-json.md \
  share/doc/softcheck/examples/consumer/CMakeLists.txt; do
  [ -s "prefix/$f" ] || fail "$f is not installed"
done
ls prefix/lib*/softcheck/libsoftcheck_zoo.so >/dev/null 2>&1 || fail "no zoo plugin installed"
ls prefix/lib*/cmake/softcheck/softcheckConfigVersion.cmake >/dev/null 2>&1 ||
  fail "no package version file"
grep -q '^\.TH SOFTCHECK 1' prefix/share/man/man1/softcheck.1 || fail "no man page"
grep -q '^\.SS check' prefix/share/man/man1/softcheck.1 || fail "man page lacks check"

# The moved executable finds its zoo plugin.
"$prefix/bin/softcheck" --version | grep -qx '[0-9]*\.[0-9]*\.[0-9]*' || fail "--version"
"$prefix/bin/softcheck" zoo --set exp_without_max_shift --cases 20 >zoo.out 2>&1 ||
  { cat zoo.out; fail "softcheck zoo from the installed tree: exit $?"; }

# pkg-config: a plugin built by hand with the installed headers.
pc=$(ls -d prefix/lib*/pkgconfig | head -1)
flags=$(PKG_CONFIG_PATH="$work/$pc" pkg-config --cflags softcheck-plugin) || fail "pkg-config"
case "$flags" in *"$prefix/"*include*) ;; *) fail "pkg-config --cflags gave '$flags'" ;; esac
cc -std=c99 -Wall -Wextra -Werror -O2 -shared -fPIC $flags \
  prefix/share/doc/softcheck/examples/consumer/mykernels.c -o libbyhand.so -lm ||
  fail "the example does not build with pkg-config's flags"
"$prefix/bin/softcheck" kernels --plugin ./libbyhand.so | grep -q mykernels ||
  fail "softcheck kernels does not list the hand-built plugin"

# The C++ helpers compile from the installed headers alone.
printf '#include <softcheck/adapt.hpp>\n#include <softcheck/plugin_util.h>\nint main() { return softcheck::bf16(1.5f).bits() == 0x3fc0 ? 0 : 1; }\n' >helpers.cpp
c++ -std=c++20 -Wall -Wextra -Werror $flags helpers.cpp -o helpers && ./helpers ||
  fail "the installed C++ helpers do not build or run"

# find_package with a version the package does not have fails the configure.
for want in 99.0 0.1; do
  mkdir -p "version-$want"
  printf 'cmake_minimum_required(VERSION 3.25)\nproject(v LANGUAGES NONE)\nfind_package(softcheck %s CONFIG REQUIRED)\n' \
    "$want" >"version-$want/CMakeLists.txt"
  if cmake -S "version-$want" -B "version-$want/build" -DCMAKE_PREFIX_PATH="$prefix" \
    >"version-$want.log" 2>&1; then
    fail "find_package(softcheck $want) succeeded"
  fi
  grep -q "compatible with requested version \"$want\"" "version-$want.log" ||
    { cat "version-$want.log"; fail "find_package(softcheck $want): no version message"; }
done

# The consumer project, copied from the installed docs.
cp -r prefix/share/doc/softcheck/examples/consumer src || fail "copy the example"
configure() { # build-dir options...
  local dir=$1
  shift
  cmake -S src -B "$dir" -G Ninja -DCMAKE_PREFIX_PATH="$prefix" "$@" >"$dir.configure.log" 2>&1 ||
    { cat "$dir.configure.log"; fail "configure $dir: exit $?"; }
  cmake --build "$dir" >"$dir.build.log" 2>&1 || { cat "$dir.build.log"; fail "build $dir"; }
}

configure good
ctest --test-dir good --output-on-failure >good.ctest.log 2>&1 ||
  { cat good.ctest.log; fail "the careful kernels fail their ctest"; }
grep -q '100% tests passed, 0 tests failed out of 3' good.ctest.log ||
  { cat good.ctest.log; fail "expected 3 passing tests"; }
for op in softmax log_softmax logsumexp; do
  x=good/softcheck-results/softcheck.mykernels.$op.xml
  j=good/softcheck-results/softcheck.mykernels.$op.json
  grep -q 'failures="0"' "$x" || fail "$x: failures"
  grep -q '<testcase ' "$x" || fail "$x: no testcases"
  grep -q '"verdict": "passed"' "$j" || fail "$j: not passed"
done

configure broken -DMYKERNELS_BROKEN=ON
ctest --test-dir broken --output-on-failure >broken.ctest.log 2>&1 &&
  { cat broken.ctest.log; fail "the broken softmax passes its ctest"; }
grep -q '67% tests passed, 1 tests failed out of 3' broken.ctest.log ||
  { cat broken.ctest.log; fail "expected only the softmax test to fail"; }
grep -q 'softcheck.mykernels.softmax .*Failed' broken.ctest.log || fail "softmax test not failed"
grep -q 'minimal counterexample:' broken.ctest.log || fail "no counterexample in ctest output"
x=broken/softcheck-results/softcheck.mykernels.softmax.xml
grep -q '<failure message=' "$x" || fail "no failure in $x"
grep -q '^x \|# x = ' "$x" || grep -q 'reproduce: ' "$x" || fail "no case in $x"
grep -q '"verdict": "failed"' broken/softcheck-results/softcheck.mykernels.softmax.json ||
  fail "the JSON result of the broken softmax is not failed"

# The baseline: missing (the test says how to write it), written by its
# target, met by the same kernels, broken by the broken softmax.
configure good -DMYKERNELS_BASELINE=ON
ctest --test-dir good -R 'baseline' --output-on-failure >baseline-missing.log 2>&1 &&
  fail "the baseline test passes with no baseline"
grep -q 'target softcheck_baseline' baseline-missing.log ||
  { cat baseline-missing.log; fail "the missing baseline's message"; }
cmake --build good --target softcheck_baseline >baseline-write.log 2>&1 ||
  { cat baseline-write.log; fail "the baseline target: exit $?"; }
grep -q '"schema"' src/baseline/mykernels.json || fail "no baseline written"
ctest --test-dir good -R 'baseline' --output-on-failure >baseline-met.log 2>&1 ||
  { cat baseline-met.log; fail "the same kernels fail their own baseline"; }
configure broken -DMYKERNELS_BROKEN=ON -DMYKERNELS_BASELINE=ON
ctest --test-dir broken -R 'baseline' --output-on-failure >baseline-worse.log 2>&1 &&
  { cat baseline-worse.log; fail "the broken softmax meets the careful one's baseline"; }
grep -q 'a metric is worse' baseline-worse.log || { cat baseline-worse.log; fail "worse: message"; }
# softcheck_add_check's other forms, read back from ctest: one test for
# every set, one per set, labels, timeouts, dtypes; and its bad arguments.
mkdir -p api
cp src/mykernels.c api/
api_project() { # body
  printf 'cmake_minimum_required(VERSION 3.25)\nproject(api LANGUAGES C)\nfind_package(softcheck 0.2 CONFIG REQUIRED)\nsoftcheck_add_plugin(k mykernels.c)\ntarget_link_libraries(k PRIVATE m)\nenable_testing()\n%s\n' "$1" >api/CMakeLists.txt
  rm -rf api/build
  cmake -S api -B api/build -DCMAKE_PREFIX_PATH="$prefix" >api.log 2>&1
}
api_project 'softcheck_add_check(NAME all TARGET k)
softcheck_add_check(NAME each TARGET k SETS mykernels DTYPES f64 CASES 7 SEED 9 LABELS nightly TIMEOUT 120 ARGS --quiet)' ||
  { cat api.log; fail "api project"; }
ctest --test-dir api/build --show-only=json-v1 >api.json || fail "ctest --show-only"
/usr/bin/python3 - api.json <<'PY' || fail "softcheck_add_check registered other tests"
import json, sys
tests = {t["name"]: t for t in json.load(open(sys.argv[1]))["tests"]}
assert sorted(tests) == ["all", "each.mykernels"], sorted(tests)
props = lambda t: {p["name"]: p["value"] for p in t["properties"]}
a, e = tests["all"], tests["each.mykernels"]
assert "--set" not in a["command"] and "--plugin" in a["command"], a["command"]
cmd = e["command"]
for want in (["--set", "mykernels"], ["--dtype", "f64"], ["--cases", "7"], ["--seed", "9"],
             ["--timeout", "110"], ["--quiet"]):
    i = cmd.index(want[0])
    assert cmd[i:i + len(want)] == want, (want, cmd)
assert any(c.endswith("softcheck-results/each.mykernels.xml") for c in cmd), cmd
assert any(c.endswith("softcheck-results/each.mykernels.json") for c in cmd), cmd
assert props(e)["TIMEOUT"] == 120 and sorted(props(e)["LABELS"]) == ["nightly", "softcheck"]
assert props(a)["TIMEOUT"] == 1500 and props(a)["LABELS"] == ["softcheck"]
PY
for bad in 'softcheck_add_check(NAME x TARGET k OPS softmaxx)|unknown op softmaxx'   'softcheck_add_check(NAME x TARGET nosuch)|no target nosuch'   'softcheck_add_check(NAME x TARGET k BASELINE b.json)|BASELINE needs SETS'   'softcheck_add_check(NAME x TARGET k PER ROW)|PER takes SET or OP'   'softcheck_add_check(NAME x TARGET k DTYPES f8)|DTYPES take f32'   'softcheck_add_check(NAME x TARGET k CASES many)|CASES takes a whole number'; do
  api_project "${bad%%|*}" && fail "configure accepted ${bad%%|*}"
  grep -q "${bad#*|}" api.log || { cat api.log; fail "no '${bad#*|}' for ${bad%%|*}"; }
done

echo "ok: installed, moved, consumer passes (3 tests) and its broken build fails"
