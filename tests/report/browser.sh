#!/bin/bash
# browser.sh MODE SOFTCHECK WORKDIR: index.html as a user sees it, in
# headless Chromium (Debian's `chromium`).
#   page      a fresh report's page: self-contained, no console errors, a
#             screenshot that is not blank
#   controls  the same check must refuse a page with a console error and a
#             blank page (so it is a check that can fail)
# Without chromium it says so and exits 77, which ctest reports as skipped.
set -u
mode=$1 softcheck=$2 work=$3
chromium=$(command -v chromium || command -v chromium-browser || true)
if [ -z "$chromium" ]; then
  echo "SKIPPED: chromium is not installed (apt-get install chromium); the page was not checked"
  exit 77
fi
rm -rf "$work" && mkdir -p "$work" && cd "$work" || exit 1
fail() { echo "FAIL: $*"; exit 1; }

# check_page FILE: prints why the page is bad and returns 1, or returns 0.
check_page() {
  local page=$1 shot=$work/shot.png log=$work/chromium.log
  rm -f "$shot"
  timeout 120 "$chromium" --headless --no-sandbox --disable-gpu --disable-background-networking \
    --no-first-run --user-data-dir="$work/profile" --enable-logging=stderr --v=0 \
    --window-size=1280,2400 --screenshot="$shot" "file://$page" >"$log" 2>&1
  if grep -q 'CONSOLE' "$log"; then
    echo "console messages:"; grep 'CONSOLE' "$log"; return 1
  fi
  [ -s "$shot" ] || { echo "no screenshot; chromium said:"; tail -5 "$log"; return 1; }
  python3 - "$shot" <<'PY' || return 1
import struct, sys, zlib
data = open(sys.argv[1], 'rb').read()
assert data[:8] == b'\x89PNG\r\n\x1a\n', 'not a PNG'
pos, idat = 8, b''
while pos < len(data):
    n, kind = struct.unpack('>I4s', data[pos:pos + 8])
    body = data[pos + 8:pos + 8 + n]
    if kind == b'IHDR':
        w, h, depth, ctype = struct.unpack('>IIBB', body[:10])
    elif kind == b'IDAT':
        idat += body
    pos += 12 + n
assert depth == 8 and ctype in (2, 6), f'unexpected PNG format {depth} {ctype}'
bpp = 3 if ctype == 2 else 4
raw, stride = zlib.decompress(idat), w * bpp
prev, colors, ink, i = bytearray(stride), set(), 0, 0
for y in range(h):
    f, row = raw[i], bytearray(raw[i + 1:i + 1 + stride])
    i += 1 + stride
    for x in range(stride):
        a = row[x - bpp] if x >= bpp else 0
        b, c = prev[x], prev[x - bpp] if x >= bpp else 0
        if f == 1: row[x] = (row[x] + a) & 255
        elif f == 2: row[x] = (row[x] + b) & 255
        elif f == 3: row[x] = (row[x] + (a + b) // 2) & 255
        elif f == 4:
            p = a + b - c
            pa, pb, pc = abs(p - a), abs(p - b), abs(p - c)
            row[x] = (row[x] + (a if pa <= pb and pa <= pc else b if pb <= pc else c)) & 255
    for x in range(0, stride, bpp * 4):  # every 4th pixel is plenty
        px = bytes(row[x:x + 3])
        colors.add(px)
        ink += px != b'\xff\xff\xff'
    prev = row
share = ink / (w * h / 4)
if len(colors) < 8 or share < 0.01:
    print(f'blank screenshot: {len(colors)} colors, {share:.2%} of pixels not white')
    sys.exit(1)
print(f'screenshot {w}x{h}: {len(colors)} colors, {share:.1%} of pixels not white')
PY
}

case $mode in
page)
  "$softcheck" report --cases 3 --seed 5 --out r >/dev/null || fail "report: exit $?"
  page=$work/r/index.html
  if grep -Eiq '<script|<link|<img|<iframe|src=|href=|url\(|@import' "$page"; then
    fail "index.html loads something: $(grep -Eio '<script|<link|<img|<iframe|src=|href=|url\(|@import' "$page" | sort -u | tr '\n' ' ')"
  fi
  check_page "$page" || fail "index.html"
  ;;
controls)
  printf '<!DOCTYPE html><html><body><h1>report</h1><p>%s</p><script>console.error("broken")</script></body></html>' \
    "$(printf 'text %.0s' $(seq 400))" >error.html
  check_page "$work/error.html" >error.out && fail "a console error passed the check"
  grep -q 'broken' error.out || fail "the console error was not shown: $(cat error.out)"
  printf '<!DOCTYPE html><html><body></body></html>' >blank.html
  check_page "$work/blank.html" >blank.out && fail "a blank page passed the check"
  grep -q 'blank screenshot' blank.out || fail "blank page: $(cat blank.out)"
  ;;
*) fail "unknown mode $mode" ;;
esac
echo "ok: browser $mode"
