#!/usr/bin/env python3
"""Build the SECOND held-out corpus: real code from sources no earlier corpus (make_corpus.py,
the C headers and Perl of the third corpus, make_heldout.py's Go, Ruby, PHP and Java) and no
filter of warden was chosen on. It exists to count false positives after the held-out corpus
of make_heldout.py became tuning data.

usage: make_heldout2.py OUT [TOTAL_MIB] [SALT]

The rule, written down before any file of it was looked at:
- Third-party Python from Debian `python3-*` packages, JavaScript from `node-*`, R from
  `r-cran-*`, Emacs Lisp from `elpa-*` and Lua from `lua-*` packages. Shares: Python 35 %,
  JavaScript 30 %, R 15 %, Emacs Lisp 10 %, Lua 10 % (150 MiB by default).
- Excluded, so that no file an earlier corpus could hold comes back: every package installed
  on this machine (`dpkg-query`: their Python lies under /usr/lib/python3, which the first
  corpus read) and every `node-X` whose module X is in the npm corpus or the global npm
  install (`/tmp/npm-corpus/node_modules`, `npm root -g`).
- Candidates are the names `apt-cache search --names-only` lists, in a fixed pseudo-random
  order (sha256 of SALT and the name). Each package is fetched with `apt-get download` and
  unpacked with `dpkg-deb -x` (nothing is installed); text files with the language's
  extensions are copied until the language's share is reached, at most 3 MiB per package,
  files over 2 MiB or empty skipped.
OUT.packages.txt lists every package and version used; OUT.sha256 a checksum of every file
(`cd OUT && sha256sum -c --quiet ../OUT.sha256`), both beside OUT, not in it.
"""
import shutil
import subprocess
import sys
import tempfile
from pathlib import Path

from debian_corpus import MIB, fill, installed, order, search, write_lists

out = Path(sys.argv[1])
total = int(sys.argv[2]) if len(sys.argv) > 2 else 150
salt = sys.argv[3] if len(sys.argv) > 3 else "warden-heldout2-2026-12-02"
PER_PACKAGE = 3 * MIB
CONF = {".json", ".yaml", ".yml", ".toml", ".cfg", ".ini", ".md", ".rst", ".sh"}

DEBIAN = [
    # (label, package name pattern, extensions, share)
    ("python", r"^python3-", {".py", ".pyi"} | CONF, 0.35),
    ("js", r"^node-", {".js", ".mjs", ".cjs", ".ts"} | CONF, 0.30),
    ("r", r"^r-cran-", {".R", ".r", ".Rd", ".Rmd"} | CONF, 0.15),
    ("elisp", r"^elpa-", {".el", ".org"} | CONF, 0.10),
    ("lua", r"^lua-", {".lua", ".rockspec"} | CONF, 0.10),
]


def npm_modules():
    roots = [Path("/tmp/npm-corpus/node_modules")]
    g = subprocess.run(["npm", "root", "-g"], capture_output=True, text=True)
    if g.returncode == 0 and g.stdout.strip():
        roots.append(Path(g.stdout.strip()))
    mods = set()
    for r in roots:
        if r.is_dir():
            for p in r.iterdir():
                if p.name.startswith("@"):
                    mods.update(f"{p.name[1:]}-{q.name}" for q in p.iterdir())
                mods.add(p.name.lstrip("@"))
    return {m.lower().replace(".", "-").replace("_", "-") for m in mods}


def candidates(pattern, skip, node_skip):
    names = {n for n in search(pattern) if n not in skip and not (
        n.startswith("node-") and n[len("node-"):] in node_skip)}
    return order(salt, names)


if out.exists():
    shutil.rmtree(out)
out.mkdir(parents=True)
skip = installed()
node_skip = npm_modules()
packages = []
grand = 0
with tempfile.TemporaryDirectory(dir="/tmp", prefix="heldout2-stage-") as stage:
    stage = Path(stage)
    for label, pattern, exts, share in DEBIAN:
        grand += fill(stage, out, label, candidates(pattern, skip, node_skip), exts, int(total * share * MIB),
                      PER_PACKAGE, packages)

write_lists(out, packages, grand)
