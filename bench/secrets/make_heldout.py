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
import shutil
import sys
import tempfile
import zipfile
from pathlib import Path

from debian_corpus import MAX_FILE, MIB, fill, order, search, write_lists

out = Path(sys.argv[1])
total = int(sys.argv[2]) if len(sys.argv) > 2 else 180
salt = sys.argv[3] if len(sys.argv) > 3 else "warden-heldout-2026-12-02"
PER_PACKAGE = 3 * MIB

DEBIAN = [
    # (label, package name pattern, extensions, share)
    ("go", r"^golang-.*-dev$", {".go", ".md", ".json", ".yaml", ".yml", ".toml"}, 0.35),
    ("ruby", r"^ruby-", {".rb", ".md", ".rdoc", ".erb", ".yml", ".yaml", ".json", ".gemspec"}, 0.22),
    ("php", r"^php-", {".php", ".md", ".json", ".yml", ".yaml", ".xml", ".ini", ".dist", ".neon"}, 0.22),
]


def candidates(pattern):
    return order(salt, search(pattern))


if out.exists():
    shutil.rmtree(out)
out.mkdir(parents=True)
packages = []
grand = 0
with tempfile.TemporaryDirectory(dir="/tmp", prefix="heldout-stage-") as stage:
    stage = Path(stage)
    for label, pattern, exts, share in DEBIAN:
        grand += fill(stage, out, label, candidates(pattern), exts, int(total * share * MIB),
                      PER_PACKAGE, packages)

    # Java: the JDK's own sources.
    budget = (total * MIB) - grand
    jdks = sorted(Path("/usr/lib/jvm").glob("*/lib/src.zip"), key=lambda p: p.stat().st_mtime)
    used = 0
    if jdks:
        src = jdks[-1]
        with zipfile.ZipFile(src) as z:
            members = {i.filename: i for i in z.infolist()
                       if i.filename.endswith(".java") and 0 < i.file_size <= MAX_FILE}
            for m in order(salt, members):
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

write_lists(out, packages, grand)
