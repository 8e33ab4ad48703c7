#!/usr/bin/env python3
"""Fetch the Debian packages behind a held-out TSV's warden and Kingfisher rows, whole, into
OUT/<pool>/<package>/ (the corpus's own layout), so that a later build can be scored on the
files those rows name without rebuilding the corpus (minutes instead of half an hour):

    python3 bench/secrets/fetch_tsv_packages.py bench/secrets/heldout3-2026-12-02.tsv /tmp/tsv3
    /tmp/warden-scan /tmp/tsv3 --no-ignore --json > /tmp/tsv3.json
    python3 bench/secrets/score_tsv.py /tmp/tsv3.json bench/secrets/heldout3-2026-12-02.tsv \\
        --root /tmp/tsv3

usage: fetch_tsv_packages.py TSV OUT

Packages are unpacked whole (a corpus took at most 3 MiB of each), so score_tsv.py reports
findings in files the corpus did not hold as unclassified: read only the counts of the TSV's
files. The Debian version fetched may be newer than the one classified. Rows from the JDK's
`src.zip` (pool `java`) are skipped: it is not a Debian package.
"""
import shutil
import sys
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path

from debian_corpus import fetch, unpack

tsv, out = Path(sys.argv[1]), Path(sys.argv[2])
packages = set()
for line in tsv.read_text().splitlines():
    fields = line.split("\t")
    if line.startswith("#") or len(fields) < 5 or fields[0] == "tool":
        continue
    if fields[0].startswith(("warden", "kingfisher")):
        pool, package = fields[1].split("/")[:2]
        if pool != "java":
            packages.add((pool, package))

stage = out.with_name(out.name + ".stage")
stage.mkdir(parents=True, exist_ok=True)


def get(item):
    pool, package = item
    dest = out / pool / package
    if dest.exists():
        return
    deb = fetch(stage, package)
    if deb is None:
        return
    dest.parent.mkdir(parents=True, exist_ok=True)
    unpack(deb).rename(dest)
    shutil.rmtree(deb.parent)


with ThreadPoolExecutor(8) as threads:
    list(threads.map(get, sorted(packages)))
shutil.rmtree(stage, ignore_errors=True)
print(f"{len(packages)} packages in {out}")
