#!/usr/bin/env python3
"""check_json.py SOFTCHECK SCHEMA TEXTBOOK_PLUGIN CRASH_PLUGIN WORK

`softcheck check --json FILE` against its schema (docs/check-result.schema.json)
on a passing run, a failing run and a run with a kernel fault; the JSON says
what the exit code and the JUnit file say; the same seed gives the same
JSON but for the timings; a usage error writes no file; and the schema
itself rejects documents that break it (so the validation can fail).
"""
import copy
import json
import os
import shutil
import subprocess
import sys

import jsonschema

softcheck, schema_path, textbook, crash, work = sys.argv[1:6]
shutil.rmtree(work, ignore_errors=True)
os.makedirs(work)
with open(schema_path) as f:
    schema = json.load(f)
jsonschema.Draft202012Validator.check_schema(schema)
validator = jsonschema.Draft202012Validator(schema)
failures = []


def fail(msg):
    failures.append(msg)
    print("FAIL:", msg)


def run(name, *args):
    out = os.path.join(work, name + ".json")
    junit = os.path.join(work, name + ".xml")
    p = subprocess.run([softcheck, "check", *args, "--json", out, "--junit", junit,
                        "--faults", os.path.join(work, name + "-faults")],
                       cwd=work, capture_output=True, text=True, timeout=240)
    doc = None
    if os.path.exists(out):
        with open(out, encoding="utf-8") as f:
            doc = json.load(f)
    return p, doc, junit


def validate(name, doc):
    errors = sorted(validator.iter_errors(doc), key=lambda e: list(e.path))
    for e in errors[:5]:
        fail(f"{name}: {list(e.path)}: {e.message}")
    return not errors


def consistent(name, p, doc, junit):
    if doc["exit_code"] != p.returncode:
        fail(f"{name}: exit_code {doc['exit_code']}, the process exited {p.returncode}")
    verdicts = [r["verdict"] for r in doc["results"]]
    s = doc["summary"]
    for v in ("passed", "failed", "skipped"):
        if s[v] != verdicts.count(v):
            fail(f"{name}: summary.{v} = {s[v]}, results have {verdicts.count(v)}")
    with open(junit) as f:
        x = f.read()
    if f'tests="{len(verdicts)}" failures="{s["failed"]}"' not in x:
        fail(f"{name}: the JUnit totals differ from the JSON's")
    if f'"softcheck check: ' not in p.stdout and "passed," not in p.stdout:
        fail(f"{name}: no console summary")


# A passing run: the careful set.
p, doc, junit = run("pass", "--plugin", textbook, "--set", "careful", "--cases", "20",
                    "--seed", "5")
if doc is None:
    fail("pass: no JSON written")
else:
    validate("pass", doc)
    consistent("pass", p, doc, junit)
    if p.returncode != 0 or doc["verdict"] != "passed":
        fail(f"pass: exit {p.returncode}, verdict {doc['verdict']}")
    if doc["seed"] != "5" or doc["cases"] != 20:
        fail("pass: seed or cases not the run's")
    if [s["name"] for s in doc["sets"]] != ["careful"]:
        fail(f"pass: sets {doc['sets']}")
    if not any(r["worst"] is not None for r in doc["results"]):
        fail("pass: no oracle agreement measured")
    # Same seed, same document but for the timings.
    p2, doc2, _ = run("pass-again", "--plugin", textbook, "--set", "careful", "--cases", "20",
                      "--seed", "5")

    def untimed(d):
        d = copy.deepcopy(d)
        for r in d["results"]:
            r["seconds"] = 0
        for s in d["sets"]:
            s["source"] = ""
        return d

    if doc2 is None or untimed(doc) != untimed(doc2):
        fail("pass: the same seed gave another JSON")

# A failing run: the textbook set, whose failures carry counterexamples.
p, doc, junit = run("fail", "--plugin", textbook, "--set", "textbook", "--cases", "30")
if doc is None:
    fail("fail: no JSON written")
else:
    validate("fail", doc)
    consistent("fail", p, doc, junit)
    failed = [r for r in doc["results"] if r["verdict"] == "failed"]
    if p.returncode != 1 or doc["verdict"] != "failed" or not failed:
        fail(f"fail: exit {p.returncode}, verdict {doc['verdict']}, {len(failed)} failed")
    for r in failed:
        if not r["reason"] or not r["counterexample"].strip():
            fail(f"fail: {r['property']} {r['op']} {r['dtype']}: no reason or counterexample")
        if r["kind"] == "":
            fail(f"fail: {r['property']}: no kind")

# A kernel that crashes: a fault, verdict failed.
p, doc, junit = run("fault", "--plugin", crash, "--set", "crash", "--dtype", "f32", "--op",
                    "softmax", "--cases", "5")
if doc is None:
    fail("fault: no JSON written")
else:
    validate("fault", doc)
    if p.returncode != 1 or doc["verdict"] != "failed" or not doc["faults"]:
        fail(f"fault: exit {p.returncode}, {len(doc['faults'])} faults")
    elif doc["summary"]["kernel_faults"] != len(doc["faults"]) or \
            "signal" not in doc["faults"][0]["what"]:
        fail(f"fault: {doc['faults'][0]}")

# A usage error writes nothing, and --json beside --junit on one file is refused.
p, doc, _ = run("usage", "--cases", "0")
if p.returncode != 2 or doc is not None:
    fail(f"usage: exit {p.returncode}, file written: {doc is not None}")
same = os.path.join(work, "same.out")
p = subprocess.run([softcheck, "check", "--json", same, "--junit", same], capture_output=True,
                   text=True, cwd=work)
if p.returncode != 2 or "one file" not in p.stderr or os.path.exists(same):
    fail(f"--json and --junit on one file: exit {p.returncode}, {p.stderr.strip()}")

# The schema can fail: documents broken in the ways a writer could break them.
if doc is None:
    with open(os.path.join(work, "fail.json")) as f:
        doc = json.load(f)
broken = []
d = copy.deepcopy(doc); del d["results"]; broken.append(("no results", d))
d = copy.deepcopy(doc); d["version"] = 2; broken.append(("version 2", d))
d = copy.deepcopy(doc); d["seed"] = 1; broken.append(("seed as a number", d))
d = copy.deepcopy(doc); d["verdict"] = "passed"; broken.append(("passed with exit 1", d))
d = copy.deepcopy(doc); d["results"][0]["dtype"] = "f8"; broken.append(("unknown dtype", d))
d = copy.deepcopy(doc); d["results"][0]["op"] = "softmaxx"; broken.append(("unknown op", d))
d = copy.deepcopy(doc); d["summary"]["failed"] = -1; broken.append(("negative count", d))
fd = [r for r in d["results"] if r["verdict"] == "failed"]
d = copy.deepcopy(doc)
for r in d["results"]:
    if r["verdict"] == "failed":
        r["reason"] = ""
        break
broken.append(("failure without a reason", d))
for what, d in broken:
    if validator.is_valid(d):
        fail(f"the schema accepts a document with {what}")

if failures:
    sys.exit(1)
print("ok: pass, fail and fault runs match the schema, the exit code and JUnit")
