#!/usr/bin/env python3
"""Build the THIRD held-out corpus: real code and configuration from sources no earlier corpus
(make_corpus.py, the C headers and Perl of /usr, make_heldout.py's Go, Ruby, PHP and Java,
make_heldout2.py's Python, JavaScript, R, Emacs Lisp and Lua) and no filter of warden was
chosen on. It exists to count false positives after the second held-out corpus became tuning
data.

usage: make_heldout3.py OUT [TOTAL_MIB] [SALT]

The rule, written down before any file of it was looked at:
- Rust crates from Debian `librust-*-dev` packages (45 %), excluding feature meta-packages
  (names with `+`) and every crate whose name (lower case, `_` read as `-`) is in the cargo
  registry of this machine at any version (the first corpus read it); the crate name is read
  from the unpacked `usr/share/cargo/registry/NAME-VERSION` directory.
- Ansible: the Debian packages `ansible` (the collections), `ansible-core`, `ansible-lint`
  and `ansible-mitogen` (25 %), YAML, INI, Jinja, Python and docs, at most 20 MiB each.
- Puppet modules from `puppet-module-*` packages (15 %): manifests, ERB/EPP templates, Ruby,
  YAML and JSON.
- Third-party Perl from `lib*-perl` packages (15 %); the Perl of /usr read by an earlier corpus
  comes from installed packages, which are excluded.
- Excluded everywhere: every package installed on this machine (`dpkg-query`).
- Candidates are the names `apt-cache search --names-only` lists (the four Ansible names in
  the order above), in a fixed pseudo-random order (sha256 of SALT and the name). Each package
  is fetched with `apt-get download` (in batches of 8 at a time; the result does not depend on
  the batching) and unpacked with `dpkg-deb -x` (nothing is installed); text files with the
  label's extensions are copied until the label's share is reached, at most 3 MiB per package
  (20 MiB for Ansible), files over 2 MiB or empty skipped.
OUT.packages.txt lists every package and version used; OUT.sha256 a checksum of every file
(`cd OUT && sha256sum -c --quiet ../OUT.sha256`), both beside OUT, not in it.
"""
import shutil
import sys
import tempfile
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path

from debian_corpus import MIB, copy_tree, fill_batched, installed, order, search, unpack, \
    write_lists

out = Path(sys.argv[1])
total = int(sys.argv[2]) if len(sys.argv) > 2 else 120
salt = sys.argv[3] if len(sys.argv) > 3 else "warden-heldout3-2026-12-02"
BATCH = 8
CONF = {".json", ".yaml", ".yml", ".toml", ".cfg", ".ini", ".md", ".rst", ".sh", ".conf"}
ANSIBLE = ["ansible", "ansible-core", "ansible-lint", "ansible-mitogen"]

SOURCES = [
    # (label, package name pattern or fixed list, extensions, share, per-package cap)
    ("rust", r"^librust-.*-dev$", {".rs"} | CONF, 0.45, 3 * MIB),
    ("ansible", ANSIBLE, {".py", ".j2", ".jinja2", ".txt"} | CONF, 0.25, 20 * MIB),
    ("puppet", r"^puppet-module-", {".pp", ".erb", ".epp", ".rb"} | CONF, 0.15, 3 * MIB),
    ("perl", r"^lib.*-perl$", {".pm", ".pl", ".t", ".pod"} | CONF, 0.15, 3 * MIB),
]


def norm(crate):
    return crate.lower().replace("_", "-")


def registry_crates():
    crates = set()
    for reg in (Path.home() / ".cargo/registry/src").glob("*"):
        for d in reg.iterdir():
            name, _, ver = d.name.rpartition("-")
            if name and ver[:1].isdigit():
                crates.add(norm(name))
    return crates


def candidates(pattern, skip):
    if isinstance(pattern, list):
        return [n for n in pattern if n not in skip]
    return order(salt, (n for n in search(pattern) if n not in skip and "+" not in n))


def in_registry(tree, crates):
    reg = tree / "usr/share/cargo/registry"
    if not reg.is_dir():
        return False
    for d in reg.iterdir():
        name, _, _ = d.name.rpartition("-")
        if norm(name) in crates:
            return True
    return False


if out.exists():
    shutil.rmtree(out)
out.mkdir(parents=True)
skip = installed()
crates = registry_crates()
packages = []
grand = 0
with tempfile.TemporaryDirectory(dir="/tmp", prefix="heldout3-stage-") as stage, \
        ThreadPoolExecutor(BATCH) as pool:
    stage = Path(stage)
    for label, pattern, exts, share, cap in SOURCES:
        budget = int(total * share * MIB)

        def take(name, deb, room):
            tree = unpack(deb)
            if label == "rust" and in_registry(tree, crates):
                return 0
            return copy_tree(tree, out / label / name, exts, min(cap, room))

        used = fill_batched(pool, stage, label, candidates(pattern, skip), budget, take,
                            packages, BATCH)
        print(f"{label}: {used / MIB:.1f} MiB", flush=True)
        grand += used

write_lists(out, packages, grand)
