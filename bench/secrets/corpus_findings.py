#!/usr/bin/env python3
"""List what warden, gitleaks and Kingfisher report on a corpus of real source code, with
the line each finding is on, for classifying them by hand (nearly all are false positives:
documentation examples, test fixtures, code that looks like an assignment).

usage: corpus_findings.py [--pool-roots] CORPUS_DIR [OUT_JSON]

--pool-roots: warden scans each top-level directory of CORPUS_DIR (a held-out corpus's pool)
as its own root, as a user scans one project, so that a pool's label is not read as part of
a package's paths (a pool named `testing` made every file in it a test file to warden). Used
from the fourteenth held-out corpus on; the thirteenth's TSV says how it was run.

Tools are found as in evaluate.py (WARDEN_SCAN, GITLEAKS, KINGFISHER, or on PATH); a tool
that is missing is reported as such. detect-secrets is left out: it does not finish on
100 MiB in useful time (see the README). Prints one line per finding and the counts;
OUT_JSON gets the same as JSON.
"""
import json
import os
import shutil
import subprocess
import sys
import tempfile
from pathlib import Path

args = sys.argv[1:]
pool_roots = "--pool-roots" in args
args = [a for a in args if a != "--pool-roots"]
target = Path(args[0]).resolve()
out_json = Path(args[1]) if len(args) > 1 else None


def tool(env, name):
    return os.environ.get(env) or shutil.which(name)


def rel(path):
    p = Path(path)
    if not p.is_absolute():
        p = target / p
    try:
        return str(p.resolve().relative_to(target))
    except ValueError:
        return str(path)


def line_of(file, n):
    try:
        return (target / file).read_text(errors="replace").splitlines()[n - 1].strip()[:200]
    except (OSError, IndexError) as e:
        return f"<{e}>"


def warden(exe, confidence="medium"):
    """warden as shipped lists medium confidence and up; `low` lists what the hook acts on."""
    roots = sorted(p for p in target.iterdir() if p.is_dir()) if pool_roots else [target]
    found = []
    for root in roots:
        out = subprocess.run([exe, str(root), "--json", "--no-ignore", "--no-progress",
                              "--confidence", confidence], capture_output=True, text=True)
        found += [(rel(f["file"]), f["line"], f["rule_id"])
                  for f in json.loads(out.stdout)["findings"]]
    return found


def gitleaks(exe):
    with tempfile.TemporaryDirectory() as d:
        report = Path(d) / "r.json"
        subprocess.run([exe, "dir", str(target), "--no-banner", "-f", "json", "-r", str(report),
                        "--exit-code", "0", "--log-level", "error"], capture_output=True)
        return [(rel(f["File"]), f["StartLine"], f["RuleID"])
                for f in json.loads(report.read_text() or "[]")]


def kingfisher(exe):
    with tempfile.TemporaryDirectory() as d:
        report = Path(d) / "r.json"
        subprocess.run([exe, "scan", str(target), "--no-validate", "--format", "json", "-o",
                        str(report), "--no-update-check"], capture_output=True)
        data = json.loads(report.read_text())
    return [(rel(f["finding"]["path"]), f["finding"]["line"], f["rule"]["id"])
            for f in data.get("findings", [])]


TOOLS = [("warden", "WARDEN_SCAN", "warden-scan", warden),
         ("warden --confidence low", "WARDEN_SCAN", "warden-scan", lambda exe: warden(exe, "low")),
         ("gitleaks", "GITLEAKS", "gitleaks", gitleaks),
         ("kingfisher", "KINGFISHER", "kingfisher", kingfisher)]

results = {}
for name, env, exe_name, run in TOOLS:
    exe = tool(env, exe_name)
    if not exe:
        print(f"{name}: not installed", file=sys.stderr)
        results[name] = None
        continue
    found = sorted(set(run(exe)))
    results[name] = [{"file": f, "line": n, "rule": r, "text": line_of(f, n)} for f, n, r in found]
    print(f"== {name}: {len(found)}")
    for x in results[name]:
        print(f"  {x['file']}:{x['line']} {x['rule']} | {x['text'][:150]}")

if out_json:
    out_json.write_text(json.dumps(results, indent=1) + "\n")
print("\n| tool | findings |\n|---|---|")
for name, r in results.items():
    print(f"| {name} | {'not installed' if r is None else len(r)} |")
