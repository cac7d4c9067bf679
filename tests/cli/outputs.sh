#!/bin/bash
# outputs.sh SOFTCHECK LABELS_PLUGIN EXAMPLE_PLUGIN WORK: where softcheck's
# files go, and what leaves it.
#  - --junit to a FIFO, a character device, /dev/stdout, a symlink (to a
#    file, dangling), a folder; --out as a symlink and with a trailing slash.
#  - Text a plugin supplies (labels.c: <script>, a heading, a fake table row,
#    a remote image, terminal escapes, a right-to-left override, bytes that
#    are not UTF-8) and a plugin path that is shell syntax and not UTF-8:
#    escaped on the terminal, in report.md, index.html, report.json and
#    JUnit; the reproduce line, pasted into a shell, reproduces and runs
#    nothing else.
set -u
softcheck=$1 labels=$2 example=$3 work=$4
rm -rf "$work" && mkdir -p "$work" && cd "$work" || exit 1
fail() { echo "FAIL: $*"; exit 1; }
quick=(check --plugin "$example" --set careful --op softmax --dtype f32 --cases 5 --quiet)

# --junit into a FIFO someone reads: written in place, the FIFO stays.
mkfifo j.fifo
cat j.fifo >from-fifo.xml &
reader=$!
"$softcheck" "${quick[@]}" --junit j.fifo >/dev/null 2>err.txt || fail "fifo: $(cat err.txt)"
wait $reader
[ -p j.fifo ] || fail "the FIFO was replaced"
python3 -c "import xml.etree.ElementTree as E, sys; E.parse(sys.argv[1])" from-fifo.xml ||
  fail "the XML read from the FIFO is not well-formed"
# A FIFO nobody reads: an error, not a hang.
mkfifo lonely.fifo
timeout 60 "$softcheck" "${quick[@]}" --junit lonely.fifo >/dev/null 2>err.txt
got=$?
[ $got = 2 ] || fail "lonely fifo: exit $got, expected 2"
grep -q "^error: --junit 'lonely.fifo': no process is reading this FIFO" err.txt ||
  fail "lonely fifo: $(cat err.txt)"

# A character device: written in place (and never replaced).
"$softcheck" "${quick[@]}" --junit /dev/null >/dev/null 2>err.txt || fail "/dev/null: $(cat err.txt)"
[ -c /dev/null ] || fail "/dev/null is no longer a character device"
# /dev/stdout and '-': onto this process's stdout, after its own lines.
"$softcheck" "${quick[@]}" --junit /dev/stdout >stdout.txt 2>err.txt || fail "/dev/stdout: $(cat err.txt)"
grep -q "^[0-9]* passed, 0 failed" stdout.txt && grep -q "<testsuites" stdout.txt ||
  fail "/dev/stdout: $(head -c 400 stdout.txt)"
"$softcheck" "${quick[@]}" --junit - >dash.txt 2>err.txt || fail "-: $(cat err.txt)"
grep -q "<testsuites" dash.txt || fail "--junit - did not write to stdout"

# A symlink to a file: the file is replaced, the link stays a link.
echo old >target.xml
ln -s target.xml link.xml
"$softcheck" "${quick[@]}" --junit link.xml >/dev/null || fail "symlink"
[ -L link.xml ] || fail "the symlink was replaced by a file"
grep -q "<testsuites" target.xml || fail "the symlink's target was not written"
# A dangling symlink: its target is made.
ln -s made.xml dangling.xml
"$softcheck" "${quick[@]}" --junit dangling.xml >/dev/null || fail "dangling symlink"
[ -L dangling.xml ] && grep -q "<testsuites" made.xml || fail "the dangling symlink's target was not made"
# A folder: refused before the run.
mkdir afolder
"$softcheck" "${quick[@]}" --junit afolder >out.txt 2>err.txt
[ $? = 2 ] && grep -q "^error: --junit 'afolder' is a folder" err.txt && [ ! -s out.txt ] ||
  fail "a folder as --junit: $(cat err.txt)"

# --out as a symlink to a folder: the report goes to the target, the link stays.
report=(report --set softcheck --op logsumexp --dtype f32 --cases 2 --worst 1)
mkdir real-report
ln -s real-report linked-report
"$softcheck" "${report[@]}" --out linked-report >/dev/null 2>err.txt || fail "--out symlink: $(cat err.txt)"
[ -L linked-report ] && [ -f real-report/report.json ] || fail "--out symlink: not followed"
# --out DIR/ with a trailing slash, new and then existing.
"$softcheck" "${report[@]}" --out slash/ >/dev/null 2>err.txt || fail "--out new/: $(cat err.txt)"
"$softcheck" "${report[@]}" --out slash/ >/dev/null 2>err.txt || fail "--out existing/: $(cat err.txt)"
[ -f slash/report.json ] || fail "--out slash/: no report"

# A plugin path that is shell syntax and not UTF-8, a plugin whose text
# attacks: every output escaped.
dir='a b;$(touch PWNED)'
mkdir -p "$dir"
weird="$dir/lib"$'\xff'"labels.so"
cp "$labels" "$weird"
"$softcheck" kernels --plugin "$weird" >kernels.txt 2>err.txt || fail "kernels: $(cat err.txt)"
grep -q $'\x1b' kernels.txt && fail "kernels printed a raw escape character"
python3 -c "open('kernels.txt', encoding='utf-8', errors='strict').read()" ||
  fail "kernels printed bytes that are not UTF-8"
grep -q $'\xe2\x80\xae' kernels.txt && fail "kernels printed a right-to-left override"
grep -q '\\x1b\[31mred\\x1b\[0m' kernels.txt || fail "kernels did not show the escapes escaped"
grep -q '\\u202e' kernels.txt || fail "kernels did not show the override escaped"

"$softcheck" report --plugin "$weird" --set labels --op logsumexp --dtype f32 --cases 2 \
  --out weird-report >/dev/null 2>err.txt
[ $? -le 1 ] || fail "report: $(cat err.txt)"
md=weird-report/report.md html=weird-report/index.html
grep -q '<script' "$md" "$html" && fail "a live <script> in report.md or index.html"
grep -q '^# Forged heading' "$md" && fail "a forged heading in report.md"
grep -q '^| fake | PASSED |' "$md" && fail "a forged table row in report.md"
grep -q '!\[x\](http' "$md" && fail "a remote image in report.md"
grep -q 'src="http\|<img' "$html" && fail "a remote image in index.html"
grep -q $'\x1b' "$md" "$html" && fail "a raw escape character in the report"
grep -qF '&lt;script&gt;alert\(1\)&lt;/script&gt;' "$md" || fail "report.md does not show the description escaped"
python3 - weird-report <<'EOF' || fail "the report files are not valid UTF-8 / JSON"
import json, sys
d = sys.argv[1]
for f in ("report.md", "index.html", "report.json"):
    open(f"{d}/{f}", encoding="utf-8", errors="strict").read()
r = json.load(open(f"{d}/report.json"))
assert r["sets"][0]["name"] == "labels"
EOF

"$softcheck" check --plugin "$weird" --plugin "$example" --set labels --cases 20 \
  --junit weird.xml >check.txt 2>err.txt
[ $? = 1 ] || fail "check of the labels set did not fail: $(cat err.txt)"
python3 -c "import xml.etree.ElementTree as E, sys; E.parse(sys.argv[1])" weird.xml ||
  fail "JUnit is not well-formed XML"
python3 -c "open('weird.xml', encoding='utf-8', errors='strict').read()" || fail "JUnit is not UTF-8"
grep -q $'\x1b' check.txt weird.xml && fail "a raw escape character in check's output or JUnit"
line=$(grep -m1 "^        reproduce: " check.txt | sed 's/^        reproduce: softcheck //')
[ -n "$line" ] || fail "no reproduce line"
case $line in *--plugin*) ;; *) fail "the reproduce line lost --plugin: $line" ;; esac
# Pasted into a shell: the same failure, and nothing else runs.
bash -c "'$softcheck' $line" >again.txt 2>&1
got=$?
[ ! -e PWNED ] && [ ! -e "$dir/PWNED" ] || fail "pasting the reproduce line ran a command"
[ $got = 1 ] && grep -q "FAIL  oracle_agreement *logsumexp" again.txt ||
  fail "the pasted reproduce line did not reproduce (exit $got): $(head -c 600 again.txt)"
echo "ok"
