#!/usr/bin/env python3
"""examples.py SOFTCHECK EXAMPLES_DIR

The shipped CI and campaign examples (examples/ci, examples/shards) stay
true to the command: every YAML file parses, the workflows have the jobs
and steps they are documented to have, and every option a `softcheck`
command line in them gives is one that `softcheck COMMAND --help` lists.
"""
import pathlib
import re
import subprocess
import sys

import yaml

softcheck, root = sys.argv[1], pathlib.Path(sys.argv[2])
failures = []


def fail(msg):
    failures.append(msg)
    print("FAIL:", msg)


helps = {}


def options_of(command):
    if command not in helps:
        out = subprocess.run([softcheck, command, "--help"], capture_output=True, text=True)
        if out.returncode != 0:
            fail(f"softcheck {command} --help: exit {out.returncode}")
        helps[command] = set(re.findall(r"(--[a-z][a-z-]*)", out.stdout))
    return helps[command]


files = sorted(p for d in ("ci", "shards") for p in (root / d).iterdir())
if len(files) < 5:
    fail(f"only {len(files)} example files under {root}")
for path in files:
    text = path.read_text()
    if path.suffix in (".yml", ".yaml"):
        try:
            docs = [d for d in yaml.safe_load_all(text) if d is not None]
        except yaml.YAMLError as e:
            fail(f"{path.name}: not YAML: {e}")
            continue
        if not docs:
            fail(f"{path.name}: empty")
    # Shell lines joined at their continuations, then every softcheck call.
    joined = re.sub(r"\\\n\s*", " ", text)
    calls = re.findall(r"\bsoftcheck (kernels|eval|check|report|fuzz|merge|zoo)\b([^\n|;&]*)",
                       joined)
    for command, rest in calls:
        known = options_of(command)
        for opt in re.findall(r"(?<![\w-])(--[a-z][a-z-]*)", rest):
            if opt not in known:
                fail(f"{path.name}: softcheck {command} has no option {opt}")
    if path.parent.name == "shards" and not re.search(r"softcheck merge\b", joined):
        fail(f"{path.name}: no merge step")
    if path.parent.name == "shards" and "--shard auto" not in joined:
        fail(f"{path.name}: does not take the shard from the environment")

gha = yaml.safe_load((root / "ci" / "github-actions.yml").read_text())
steps = " ".join(str(s) for s in gha["jobs"]["softcheck"]["steps"])
for want in ("upload-artifact", "softcheck-results", "report.md", "createComment", "ctest"):
    if want not in steps:
        fail(f"github-actions.yml: no {want}")
gl = yaml.safe_load((root / "ci" / "gitlab-ci.yml").read_text())["softcheck"]
if "junit" not in gl["artifacts"]["reports"] or "notes" not in str(gl["after_script"]):
    fail("gitlab-ci.yml: no JUnit report or no merge-request note")
matrix = yaml.safe_load((root / "shards" / "github-matrix.yml").read_text())
if "merge" not in matrix["jobs"] or matrix["jobs"]["merge"].get("needs") != "fuzz":
    fail("github-matrix.yml: no merge job after the fuzz jobs")
job = next(d for d in yaml.safe_load_all((root / "shards" / "k8s-indexed-job.yaml").read_text())
           if d["kind"] == "Job")
if job["spec"].get("completionMode") != "Indexed" or "auto/%d" % job["spec"]["completions"] \
        not in str(job["spec"]["template"]):
    fail("k8s-indexed-job.yaml: not an Indexed Job whose --shard auto/N matches its completions")

if failures:
    sys.exit(1)
print(f"ok: {len(files)} example files, {sum(1 for _ in helps)} commands' options checked")
