#!/usr/bin/env python3
"""Recall on the planted set and false positives on clean code, for warden and its peers.

usage: evaluate.py SET_DIR [CORPUS_DIR]

SET_DIR is what make_planted.py wrote. Each tool scans SET_DIR/planted and SET_DIR/clean.
A plant counts as found when the tool reports a finding in its file on a line inside the
plant (multi-line plants: any of their lines; tools that report a line range: any overlap).
Every finding in SET_DIR/clean is a false positive. With CORPUS_DIR, the number of
findings each tool reports on that real source corpus is counted too (nearly all of them
false positives; see the README).

Tools are looked up on PATH, or in the environment: WARDEN_SCAN, GITLEAKS, KINGFISHER,
DETECT_SECRETS. A tool that is missing is reported as such, never silently dropped.
"""
import json
import os
import shutil
import subprocess
import sys
import tempfile
from collections import defaultdict
from pathlib import Path

root = Path(sys.argv[1]).resolve()
corpus = Path(sys.argv[2]).resolve() if len(sys.argv) > 2 else None
manifest = json.loads((root / "manifest.json").read_text())


def tool(env, name):
    return os.environ.get(env) or shutil.which(name)


def rel(path, base):
    p = Path(path)
    if not p.is_absolute():
        p = (base / p).resolve()
    try:
        return str(p.relative_to(base))
    except ValueError:
        return str(path)


def run_warden(target, confidence="medium"):
    """warden as shipped lists findings of medium confidence and up; `--confidence low`
    lists everything, which is what the hook acts on."""
    exe = tool("WARDEN_SCAN", "warden-scan")
    out = subprocess.run([exe, str(target), "--json", "--no-ignore", "--no-progress",
                          "--confidence", confidence], capture_output=True, text=True)
    data = json.loads(out.stdout)
    return [(rel(f["file"], target), f["line"], f["end_line"], f["rule_id"]) for f in data["findings"]]


def run_gitleaks(target):
    exe = tool("GITLEAKS", "gitleaks")
    with tempfile.TemporaryDirectory() as d:
        report = Path(d) / "r.json"
        subprocess.run([exe, "dir", str(target), "--no-banner", "-f", "json", "-r", str(report),
                        "--exit-code", "0", "--log-level", "error"], capture_output=True, text=True)
        data = json.loads(report.read_text() or "[]")
    return [(rel(f["File"], target), f["StartLine"], f["EndLine"], f["RuleID"]) for f in data]


def run_kingfisher(target):
    exe = tool("KINGFISHER", "kingfisher")
    with tempfile.TemporaryDirectory() as d:
        report = Path(d) / "r.json"
        subprocess.run([exe, "scan", str(target), "--no-validate", "--format", "json", "-o", str(report),
                        "--no-update-check"], capture_output=True, text=True)
        data = json.loads(report.read_text())
    res = []
    for f in data.get("findings", []):
        fi = f["finding"]
        res.append((rel(fi["path"], target), fi["line"], fi["line"], f["rule"]["id"]))
    return res


def run_detect_secrets(target):
    exe = tool("DETECT_SECRETS", "detect-secrets")
    out = subprocess.run([exe, "scan", "--all-files", "."], capture_output=True, text=True, cwd=target)
    data = json.loads(out.stdout)
    return [(rel(path, target), r["line_number"], r["line_number"], r["type"])
            for path, results in data["results"].items() for r in results]


TOOLS = {"warden": run_warden, "warden --confidence low": lambda t: run_warden(t, "low"),
         "warden --confidence high": lambda t: run_warden(t, "high"),
         "gitleaks": run_gitleaks, "kingfisher": run_kingfisher,
         "detect-secrets": run_detect_secrets}
ENV = {"warden": ("WARDEN_SCAN", "warden-scan"),
       "warden --confidence low": ("WARDEN_SCAN", "warden-scan"),
       "warden --confidence high": ("WARDEN_SCAN", "warden-scan"), "gitleaks": ("GITLEAKS", "gitleaks"),
       "kingfisher": ("KINGFISHER", "kingfisher"), "detect-secrets": ("DETECT_SECRETS", "detect-secrets")}

results = {}
for name, fn in TOOLS.items():
    if not tool(*ENV[name]):
        results[name] = None
        print(f"{name}: not installed", file=sys.stderr)
        continue
    planted = fn(root / "planted")
    clean = fn(root / "clean")
    by_file = defaultdict(list)
    for f, a, b, _ in planted:
        by_file[f].append((a, b))
    found = 0
    missed = defaultdict(int)
    for m in manifest:
        rel_file = str(Path(m["file"]))
        hit = any(a <= m["end_line"] and b >= m["line"] for a, b in by_file.get(rel_file, []))
        found += hit
        if not hit:
            missed[m["kind"]] += 1
    r = {"plants": len(manifest), "found": found, "recall": round(found / len(manifest), 3),
         "findings_on_planted": len(planted), "false_positives_clean": len(clean),
         "clean_findings": sorted({f"{f}:{a} {rule}" for f, a, _, rule in clean}),
         "missed_kinds": dict(sorted(missed.items()))}
    if corpus:
        r["findings_on_corpus"] = len(fn(corpus))
    results[name] = r

json.dump(results, sys.stdout, indent=1)
print()
print("\n| tool | recall (planted) | FP on clean set | findings on corpus |", file=sys.stderr)
print("|---|---|---|---|", file=sys.stderr)
for name, r in results.items():
    if r is None:
        print(f"| {name} | not installed | | |", file=sys.stderr)
    else:
        print(f"| {name} | {r['found']}/{r['plants']} = {r['recall']:.3f} | {r['false_positives_clean']} | "
              f"{r.get('findings_on_corpus', '-')} |", file=sys.stderr)
