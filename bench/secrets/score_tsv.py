#!/usr/bin/env python3
"""Score one tool's findings on a held-out corpus against its hand-classified TSV.

usage: score_tsv.py FINDINGS_JSON TSV [--tool NAME] [--root CORPUS] [--json]

FINDINGS_JSON is either what corpus_findings.py writes (`{"warden": [{"file", "line",
"rule", ...}], ...}`; the list of --tool is taken) or the JSON report of the `scan` example
(`--format json`: `{"findings": [{"file", "line", "rule_id", ...}], ...}`). Files must be
relative to the corpus root; give --root CORPUS when the scan was run on an absolute path,
and the prefix is cut. With --root the TSV rows whose file is not in CORPUS are counted too
(a sign that a rebuilt corpus differs from the one classified).

TSV: bench/secrets/heldout*-2026-12-02.tsv (tool, file, line, rule, verdict, reason; lines
starting with '#' and the header are skipped). A finding is matched by (file, line): its
verdict is the one the TSV gives this tool's row on that line, else the one any other tool's
row gives (credential if the rows differ). Findings are counted once per (file, line, rule),
as corpus_findings.py does.

Prints the count of findings per verdict (credential, not-a-secret, unclassified), the
credential lines of the TSV (any tool) that the tool does not report, and the unclassified
findings (file:line:rule). --json prints the same as one JSON object.
"""
import argparse
import csv
import json
import os
from collections import defaultdict

p = argparse.ArgumentParser(description="Score findings against a hand-classified TSV.")
p.add_argument("findings")
p.add_argument("tsv")
p.add_argument("--tool", default="warden", help="tool name in the TSV and findings (warden)")
p.add_argument("--root", help="corpus root: cut from absolute paths, check TSV files exist")
p.add_argument("--json", action="store_true", help="print JSON")
a = p.parse_args()


def rel(path):
    if a.root and os.path.isabs(path):
        return os.path.relpath(path, a.root)
    return path.removeprefix("./")


with open(a.findings) as f:
    data = json.load(f)
if isinstance(data, dict) and "findings" in data:  # the scan example's report
    raw = [(x["file"], x["line"], x["rule_id"]) for x in data["findings"]]
else:  # corpus_findings.py
    raw = [(x["file"], x["line"], x["rule"]) for x in data.get(a.tool) or []]
found = sorted({(rel(file), int(line), rule) for file, line, rule in raw})

rows = []  # (tool, file, line, rule, verdict)
with open(a.tsv, newline="") as f:
    for r in csv.reader((l for l in f if not l.startswith("#")), delimiter="\t"):
        if len(r) >= 5 and r[0] != "tool":
            rows.append((r[0], r[1], int(r[2]), r[3], r[4]))

by_line = defaultdict(dict)  # (file, line) -> {tool: verdict}
for tool, file, line, _, verdict in rows:
    seen = by_line[(file, line)]
    seen[tool] = "credential" if "credential" in (seen.get(tool), verdict) else verdict


def verdict(file, line):
    seen = by_line.get((file, line))
    if not seen:
        return "unclassified"
    if a.tool in seen:
        return seen[a.tool]
    return "credential" if "credential" in seen.values() else next(iter(seen.values()))


counts = {"credential": 0, "not-a-secret": 0, "unclassified": 0}
unclassified = []
for file, line, rule in found:
    v = verdict(file, line)
    counts[v] = counts.get(v, 0) + 1
    if v == "unclassified":
        unclassified.append(f"{file}:{line}:{rule}")

lines_found = {(file, line) for file, line, _ in found}
cred_lines = sorted(k for k, seen in by_line.items() if "credential" in seen.values())
missed = [f"{file}:{line}" for file, line in cred_lines if (file, line) not in lines_found]

result = {
    "tool": a.tool,
    "findings": len(found),
    "counts": counts,
    "credential_lines": len(cred_lines),
    "credential_lines_found": len(cred_lines) - len(missed),
    "missed_credential_lines": missed,
    "unclassified": unclassified,
}
if a.root:
    gone = [r for r in rows if not os.path.isfile(os.path.join(a.root, r[1]))]
    result["tsv_rows_file_missing"] = {
        "all": len(gone), a.tool: sum(r[0] == a.tool for r in gone)}

if a.json:
    print(json.dumps(result, indent=1))
else:
    c = counts
    print(f"{a.tool}: {len(found)} findings: {c['credential']} credential, "
          f"{c['not-a-secret']} not-a-secret, {c['unclassified']} unclassified")
    print(f"credential lines in the TSV (any tool): {len(cred_lines)}, "
          f"found {len(cred_lines) - len(missed)}, missed {len(missed)}")
    if a.root:
        g = result["tsv_rows_file_missing"]
        print(f"TSV rows whose file is not under {a.root}: {g['all']} ({a.tool}: {g[a.tool]})")
    for title, items in (("missed credential lines", missed), ("unclassified findings", unclassified)):
        if items:
            print(f"\n{title}:")
            for x in items:
                print(f"  {x}")
