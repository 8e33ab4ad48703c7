#!/usr/bin/env python3
"""Build the ~100 MiB mixed source corpus for the throughput benchmark.

Copies real source text that is already on the machine (Rust crates from the cargo
registry, Python's standard library, JavaScript from the global npm install) into OUT,
up to a byte budget per language. Nothing is committed: OUT lives under /tmp.

usage: make_corpus.py OUT [TOTAL_MIB]
"""
import os
import shutil
import sys
from pathlib import Path

out = Path(sys.argv[1])
total = int(sys.argv[2]) if len(sys.argv) > 2 else 100
home = Path.home()

SOURCES = [
    # (label, roots, extensions, share of the budget)
    ("python", [Path(p) for p in sorted(Path("/usr/lib").glob("python3*"))]
     + [Path(p) for p in sorted(Path("/usr/local/lib").glob("python3*"))], {".py", ".cfg", ".txt"}, 0.35),
    # `npm install --prefix /tmp/npm-corpus typescript lodash webpack` adds to the global npm.
    ("js", [Path("/usr/lib/node_modules"), Path("/tmp/npm-corpus/node_modules")],
     {".js", ".json", ".md", ".mjs", ".cjs", ".ts"}, 0.20),
    # Rust last: it fills whatever the others left of the budget.
    ("rust", sorted((home / ".cargo/registry/src").glob("*")), {".rs", ".toml", ".md"}, None),
]

if out.exists():
    shutil.rmtree(out)
out.mkdir(parents=True)
grand = 0
for label, roots, exts, share in SOURCES:
    budget = int(total * share * (1 << 20)) if share else (total << 20) - grand
    used = 0
    for root in roots:
        for dirpath, dirnames, filenames in os.walk(root):
            dirnames.sort()
            for name in sorted(filenames):
                p = Path(dirpath) / name
                if p.suffix not in exts or p.is_symlink():
                    continue
                try:
                    size = p.stat().st_size
                except OSError:
                    continue
                if size == 0 or size > 2 << 20 or used + size > budget:
                    continue
                dest = out / label / root.name / p.relative_to(root)
                dest.parent.mkdir(parents=True, exist_ok=True)
                shutil.copyfile(p, dest)
                used += size
            if used >= budget * 0.999:
                break
        if used >= budget * 0.999:
            break
    print(f"{label}: {used / (1 << 20):.1f} MiB")
    grand += used
print(f"total: {grand / (1 << 20):.1f} MiB in {out}")
