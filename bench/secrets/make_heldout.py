#!/usr/bin/env python3
"""Build a held-out corpus of real code in languages no earlier corpus used: Go, Ruby and
PHP from Debian packages, Java from the JDK's own sources. It exists to count false
positives on code that no filter of warden was chosen on.

usage: make_heldout.py OUT [TOTAL_MIB] [SALT]

- Go: `golang-*-dev` packages (library sources), Ruby: `ruby-*`, PHP: `php-*`. The
  candidates are the package names `apt-cache search --names-only` lists, put in a fixed
  pseudo-random order (sha256 of SALT and the name), so the sample does not depend on
  alphabetical accidents. Each package is fetched with `apt-get download` and unpacked with
  `dpkg-deb -x` under OUT's staging folder (nothing is installed); text files with the
  language's extensions are copied until the language's share of the budget is reached, at
  most 3 MiB per package so that no one package dominates.
- Java: `.java` files from the JDK's `lib/src.zip` (the newest JDK under /usr/lib/jvm that
  has one), in the same fixed order of member names.

Shares: Go 35 %, Ruby 22 %, PHP 22 %, Java the rest. Files over 2 MiB or empty are skipped.
OUT.packages.txt lists every package and version used; OUT.sha256 holds a checksum of every
file, so that the frozen corpus can be checked later (`cd OUT && sha256sum -c --quiet
../OUT.sha256`). Both lie beside OUT, not in it, so that no scanner reads them.
Debian's archive moves (security updates), so a later run can pick other versions: the
lists, not the script, define the corpus a result was measured on.
"""
import hashlib
import os
import shutil
import subprocess
import sys
import tempfile
import zipfile
from pathlib import Path

out = Path(sys.argv[1])
total = int(sys.argv[2]) if len(sys.argv) > 2 else 180
salt = sys.argv[3] if len(sys.argv) > 3 else "warden-heldout-2026-12-02"
MIB = 1 << 20
PER_PACKAGE = 3 * MIB
MAX_FILE = 2 * MIB

DEBIAN = [
    # (label, package name pattern, extensions, share)
    ("go", r"^golang-.*-dev$", {".go", ".md", ".json", ".yaml", ".yml", ".toml"}, 0.35),
    ("ruby", r"^ruby-", {".rb", ".md", ".rdoc", ".erb", ".yml", ".yaml", ".json", ".gemspec"}, 0.22),
    ("php", r"^php-", {".php", ".md", ".json", ".yml", ".yaml", ".xml", ".ini", ".dist", ".neon"}, 0.22),
]


def order(names):
    return sorted(names, key=lambda n: hashlib.sha256(f"{salt}\0{n}".encode()).hexdigest())


def candidates(pattern):
    res = subprocess.run(["apt-cache", "search", "--names-only", pattern],
                         capture_output=True, text=True, check=True)
    return order({line.split(" - ", 1)[0].strip() for line in res.stdout.splitlines() if line})


def version(deb):
    res = subprocess.run(["dpkg-deb", "-f", str(deb), "Package", "Version"],
                         capture_output=True, text=True, check=True)
    return " ".join(res.stdout.split())


def copy_tree(root, dest, exts, room):
    used = 0
    for dirpath, dirnames, filenames in os.walk(root):
        dirnames.sort()
        for name in sorted(filenames):
            p = Path(dirpath) / name
            if p.suffix not in exts or p.is_symlink() or not p.is_file():
                continue
            size = p.stat().st_size
            if size == 0 or size > MAX_FILE or used + size > room:
                continue
            d = dest / p.relative_to(root)
            d.parent.mkdir(parents=True, exist_ok=True)
            shutil.copyfile(p, d)
            used += size
    return used


if out.exists():
    shutil.rmtree(out)
out.mkdir(parents=True)
packages = []
grand = 0
with tempfile.TemporaryDirectory(dir="/tmp", prefix="heldout-stage-") as stage:
    stage = Path(stage)
    for label, pattern, exts, share in DEBIAN:
        budget = int(total * share * MIB)
        used = 0
        for name in candidates(pattern):
            if used >= budget * 0.99:
                break
            work = stage / name
            work.mkdir()
            got = subprocess.run(["apt-get", "download", "-q", name], cwd=work,
                                 capture_output=True, text=True)
            debs = list(work.glob("*.deb"))
            if got.returncode != 0 or not debs:
                shutil.rmtree(work)
                continue
            tree = work / "x"
            subprocess.run(["dpkg-deb", "-x", str(debs[0]), str(tree)], check=True)
            n = copy_tree(tree, out / label / name, exts, min(PER_PACKAGE, budget - used))
            if n:
                packages.append(f"{label} {version(debs[0])} {n}")
                used += n
            shutil.rmtree(work)
        print(f"{label}: {used / MIB:.1f} MiB", flush=True)
        grand += used

    # Java: the JDK's own sources.
    budget = (total * MIB) - grand
    jdks = sorted(Path("/usr/lib/jvm").glob("*/lib/src.zip"), key=lambda p: p.stat().st_mtime)
    used = 0
    if jdks:
        src = jdks[-1]
        with zipfile.ZipFile(src) as z:
            members = {i.filename: i for i in z.infolist()
                       if i.filename.endswith(".java") and 0 < i.file_size <= MAX_FILE}
            for m in order(members):
                info = members[m]
                if used + info.file_size > budget:
                    continue
                d = out / "java" / m
                d.parent.mkdir(parents=True, exist_ok=True)
                d.write_bytes(z.read(info))
                used += info.file_size
        packages.append(f"java {src} {used}")
    print(f"java: {used / MIB:.1f} MiB", flush=True)
    grand += used

out.with_name(out.name + ".packages.txt").write_text("\n".join(packages) + "\n")
files = sorted(p for p in out.rglob("*") if p.is_file())
with open(out.with_name(out.name + ".sha256"), "w") as f:
    for p in files:
        f.write(f"{hashlib.sha256(p.read_bytes()).hexdigest()}  {p.relative_to(out)}\n")
print(f"total: {grand / MIB:.1f} MiB in {len(files)} files, {len(packages)} sources, in {out}")
