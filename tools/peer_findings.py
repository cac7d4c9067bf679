#!/usr/bin/env python3
"""Writes README's "What softcheck finds in popular kernels" from softcheck's own output.

Runs `softcheck check` (fixed seed) on each peer plugin's set and turns every
failed property into a table row: property, op and dtype, the minimal input
softcheck shrank to, and what it got against the correctly rounded value.
The section between the README's peer-findings markers is replaced; nothing
else is touched, and the file is replaced in one rename.

  tools/peer_findings.py --softcheck build/cli/softcheck --plugin P ... --readme README.md
"""
import argparse
import os
import re
import subprocess
import sys
import tempfile

BEGIN = "<!-- peer-findings:begin (written by `make peer-findings`; do not edit) -->"
END = "<!-- peer-findings:end -->"


def sets_of(softcheck, plugin):
    out = subprocess.run([softcheck, "kernels", "--plugin", plugin], capture_output=True,
                         text=True, check=True).stdout
    found = []
    for line in out.splitlines():
        m = re.match(r"^(\S+)\s+\[(.+)\]\s+version (\S+)", line)
        if m and m.group(2) == plugin:
            found.append((m.group(1), m.group(3)))
    return found


def failures(text):
    """(property, op, dtype, message, case lines) for every FAIL block."""
    out = []
    lines = text.splitlines()
    i = 0
    while i < len(lines):
        m = re.match(r"^\s+FAIL\s+(\S+)\s+(\S+)\s+(f32|f64|bf16|f16)\s", lines[i])
        if not m:
            i += 1
            continue
        k = re.search(r", ((special values|finite accuracy|status|fault)( on [A-Za-z ]+)?)(;|$)",
                      lines[i])
        kind = k.group(1) if k else ""
        i += 1
        message, case = [], []
        while i < len(lines) and "minimal counterexample:" not in lines[i] and \
                not re.match(r"^\s+(PASS|FAIL|SKIP)", lines[i]):
            message.append(lines[i].strip())
            i += 1
        if i < len(lines) and "minimal counterexample:" in lines[i]:
            i += 1
            while i < len(lines) and not lines[i].strip().startswith("reproduce:") and \
                    not lines[i].strip().startswith("the property derived"):
                case.append(lines[i].strip())
                i += 1
        # A property that derives its input from the drawn case: the row shows
        # the input the kernel failed on.
        if i < len(lines) and lines[i].strip().startswith("the property derived"):
            i += 1
            case = []
            while i < len(lines) and not lines[i].strip().startswith("reproduce:"):
                case.append(lines[i].strip())
                i += 1
        out.append((m.group(1), m.group(2), m.group(3), " ".join(message), case, kind))
    return out


def kind_of(kind, message):
    """What kind of defect a failure is, as check named it (else from its message)."""
    if kind:
        return kind
    if re.search(r"NaN where finite|number where NaN|wrong infinity|wrong sign|flushed|"
                 r"positive log-probability|-nan|\bnan\b|\binf\b", message):
        return "special values"
    return "finite accuracy"


def conventions_of(text):
    return [l.split("conventions of this set:", 1)[1].strip() for l in text.splitlines()
            if "conventions of this set:" in l]


def short(text, limit):
    return text if len(text) <= limit else text[: limit - 3] + "..."


def input_of(case):
    fields = {}
    for line in case:
        if line.startswith("softcheck-case") or line.startswith("op ") or line.startswith("dtype "):
            continue
        key, _, value = line.partition(" ")
        if key == "#":  # "# x = decimal values": shown instead of the hex line
            k, _, v = value.partition(" = ")
            fields[k] = v
            continue
        fields.setdefault(key, value)
    shape = fields.pop("shape", "")
    parts = [f"shape {shape}"] if shape and shape != "1 1 1" else []
    parts += [f"{k} {v}" for k, v in fields.items()]
    return short("; ".join(parts), 160)


def message_of(text):
    text = re.sub(r"\s*\(got [^()]*(\([^()]*\)[^()]*)*, expected [^()]*(\([^()]*\)[^()]*)*\)$", "",
                  text)
    return short(text, 220)


def cell(text):
    return text.replace("|", "\\|")


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--softcheck", required=True)
    ap.add_argument("--plugin", action="append", required=True)
    ap.add_argument("--readme", required=True)
    ap.add_argument("--seed", default="1")
    ap.add_argument("--cases", default="100")
    args = ap.parse_args()
    for p in args.plugin:
        if not os.path.exists(p):
            sys.exit(f"peer_findings: {p} is not built (make peers)")
    body = [BEGIN, ""]
    body.append(f"Every row is a failed property as `softcheck check --seed {args.seed} "
                f"--cases {args.cases}` printed it on the peer plugins (`make peer-findings` "
                "rewrites this section; `make report-peers` gives the accuracy tables): the "
                "minimal input it shrank to (for a property that derives its input from the "
                "drawn case, the input the kernel was called with), and the kernel's output "
                "against the expected one. The kind says which class of mismatch, on which "
                "family of row; two kinds can be one defect seen from two families. The bounds are the suite's defaults (the peers declare none). "
                "Each peer declares the conventions it follows where libraries differ "
                "(plugin.h, \"Conventions\"); they are listed apart and fail no property, so "
                "every row is a defect: a special value plugin.h or the declared convention "
                "rules out, an error past the bound the error analysis gives, or a broken "
                "property.")
    body.append("")
    for plugin in args.plugin:
        for name, version in sets_of(args.softcheck, plugin):
            run = subprocess.run([args.softcheck, "check", "--plugin", plugin, "--set", name,
                                  "--seed", args.seed, "--cases", args.cases],
                                 capture_output=True, text=True)
            if run.returncode not in (0, 1):
                sys.exit(f"peer_findings: softcheck check on {name} failed:\n{run.stderr}")
            summary = [l for l in run.stdout.splitlines() if re.match(r"^\d+ passed", l)]
            found = failures(run.stdout)
            body.append(f"### {name} {version} ({os.path.basename(plugin)}): "
                        f"{summary[-1] if summary else ''}")
            body.append("")
            conventions = conventions_of(run.stdout)
            body.append("Conventions of this set (not defects): " +
                        ("; ".join(f"`{c.split(':', 1)[0]}` ({c.split(':', 1)[1].strip()})"
                                   for c in conventions) if conventions else "softcheck's") + ".")
            body.append("")
            if not found:
                body.append("No property failed.")
                body.append("")
                continue
            body.append("| property | op | defect | minimal input | got vs expected |")
            body.append("|---|---|---|---|---|")
            for prop, op, dtype, message, case, kind in found:
                body.append(f"| {prop} | {op} {dtype} | {kind_of(kind, message)} | "
                            f"{cell(input_of(case))} | {cell(message_of(message))} |")
            body.append("")
    body.append(END)
    with open(args.readme) as f:
        readme = f.read()
    if BEGIN not in readme or END not in readme:
        sys.exit(f"peer_findings: {args.readme} has no peer-findings markers")
    start, end = readme.index(BEGIN), readme.index(END) + len(END)
    new = readme[:start] + "\n".join(body) + readme[end:]
    folder = os.path.dirname(os.path.abspath(args.readme))
    fd, tmp = tempfile.mkstemp(dir=folder, prefix=".README.")
    with os.fdopen(fd, "w") as f:
        f.write(new)
    os.replace(tmp, args.readme)
    print(f"peer_findings: wrote the section of {args.readme}")


if __name__ == "__main__":
    main()
