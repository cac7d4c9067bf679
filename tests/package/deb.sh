#!/bin/bash
# deb.sh BUILD WORK: `make package`'s .deb (CPack) built from BUILD, its
# control fields read, unpacked into a scratch root (dpkg-deb -x, as dpkg
# would lay it out under /) and used from there: the command runs, finds
# its zoo, and the consumer example builds against it and passes.
set -u
build=$1 work=$2
fail() { echo "FAIL: $*"; exit 1; }
rm -rf "$work" && mkdir -p "$work" && cd "$work" || exit 1
unset CMAKE_PREFIX_PATH PKG_CONFIG_PATH

cpack --config "$build/CPackConfig.cmake" -B "$work/out" >cpack.log 2>&1 ||
  { cat cpack.log; fail "cpack: exit $?"; }
deb=$(ls out/softcheck_*.deb 2>/dev/null | head -1)
[ -n "$deb" ] || { cat cpack.log; fail "no .deb written"; }
dpkg-deb --field "$deb" Package Version Architecture Depends >fields.txt || fail "dpkg-deb -f"
grep -qx 'Package: softcheck' fields.txt || { cat fields.txt; fail "Package"; }
grep -q '^Version: [0-9]' fields.txt || fail "Version"
grep -q '^Depends: .*libmpfr6' fields.txt || fail "Depends lacks libmpfr6"
dpkg-deb --contents "$deb" >contents.txt || fail "dpkg-deb -c"
for f in ./usr/bin/softcheck ./usr/include/softcheck/plugin.h \
  ./usr/share/doc/softcheck/examples/consumer/mykernels.c; do
  grep -q " $f\$" contents.txt || fail "the .deb lacks $f"
done
grep -q ' \./usr/lib.*/cmake/softcheck/softcheckConfig.cmake$' contents.txt ||
  fail "the .deb lacks the CMake package config"

dpkg-deb -x "$deb" root || fail "dpkg-deb -x"
usr=$work/root/usr
# Every library the command needs is on this machine (the Depends above).
ldd "$usr/bin/softcheck" | grep 'not found' && fail "unresolved libraries"
"$usr/bin/softcheck" --version >/dev/null || fail "softcheck --version"
"$usr/bin/softcheck" zoo --set exp_without_max_shift --cases 20 >zoo.out 2>&1 ||
  { cat zoo.out; fail "softcheck zoo from the .deb: exit $?"; }
cp -r "$usr/share/doc/softcheck/examples/consumer" src || exit 1
cmake -S src -B b -G Ninja -DCMAKE_PREFIX_PATH="$usr" >configure.log 2>&1 ||
  { cat configure.log; fail "configure against the .deb"; }
cmake --build b >build.log 2>&1 || { cat build.log; fail "build against the .deb"; }
ctest --test-dir b --output-on-failure >ctest.log 2>&1 || { cat ctest.log; fail "ctest"; }
echo "ok: $(basename "$deb") unpacked and used"
