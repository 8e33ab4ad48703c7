"""What the held-out corpus scripts (make_heldout*.py) share: choosing Debian packages in a
fixed pseudo-random order, fetching and unpacking them without installing anything, copying
their text files within a budget, and writing the lists that define a frozen corpus.

Each script keeps its own rule of what to take (which packages, which extensions, which
shares); only the mechanics live here, so that the held-out corpora are built the same way.
"""
import hashlib
import os
import shutil
import subprocess
import sys
import tempfile
import time
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path

MIB = 1 << 20
MAX_FILE = 2 * MIB


def order(salt, names):
    """`names` in a fixed pseudo-random order (sha256 of the salt and the name), so that a
    sample does not depend on alphabetical accidents."""
    return sorted(names, key=lambda n: hashlib.sha256(f"{salt}\0{n}".encode()).hexdigest())


def search(pattern):
    """The package names `apt-cache search --names-only PATTERN` lists (PATTERN may start with
    `-`)."""
    res = subprocess.run(["apt-cache", "search", "--names-only", "--", pattern],
                         capture_output=True, text=True, check=True)
    return {line.split(" - ", 1)[0].strip() for line in res.stdout.splitlines() if line}


def installed():
    """The packages installed on this machine (their files may have fed an earlier corpus)."""
    res = subprocess.run(["dpkg-query", "-W", "-f", "${Package}\n"],
                         capture_output=True, text=True, check=True)
    return set(res.stdout.split())


def deb_sizes(names):
    """The size in bytes of each package's .deb (`apt-cache show`, the candidate version), for
    the names apt knows."""
    sizes = {}
    names = sorted(names)
    for i in range(0, len(names), 500):
        res = subprocess.run(["apt-cache", "show", "--no-all-versions", "--", *names[i:i + 500]],
                             capture_output=True, text=True)
        name = None
        for line in res.stdout.splitlines():
            if line.startswith("Package: "):
                name = line.split(": ", 1)[1].strip()
            elif line.startswith("Size: ") and name is not None:
                sizes.setdefault(name, int(line.split(": ", 1)[1]))
    return sizes


def version(deb):
    """`PACKAGE VERSION` of a .deb file."""
    res = subprocess.run(["dpkg-deb", "-f", str(deb), "Package", "Version"],
                         capture_output=True, text=True, check=True)
    return " ".join(res.stdout.split())


def fetch(stage, name, tries=3):
    """Downloads package `name` into its own folder under `stage`; the .deb, or None. A
    failed download is tried again (under load a mirror may drop one), and a package that
    still fails is named on stderr: a rebuilt corpus that quietly lost a package would differ
    from the one its checksums describe."""
    work = stage / name
    work.mkdir()
    for attempt in range(tries):
        got = subprocess.run(["apt-get", "download", "-q", name], cwd=work,
                             capture_output=True, text=True)
        debs = list(work.glob("*.deb"))
        if got.returncode == 0 and debs:
            return debs[0]
        if attempt + 1 < tries:
            time.sleep(2 * (attempt + 1))
    print(f"warning: {name} could not be downloaded ({got.stderr.strip()[:200]})",
          file=sys.stderr, flush=True)
    shutil.rmtree(work)
    return None


def unpack(deb):
    """Unpacks `deb` beside itself (`dpkg-deb -x`, nothing installed); the tree."""
    tree = deb.parent / "x"
    subprocess.run(["dpkg-deb", "-x", str(deb), str(tree)], check=True)
    return tree


def copy_tree(root, dest, exts, room, also=None):
    """Copies the regular files under `root` whose suffix is in `exts` (or, when `also` is
    given, for which `also(path, path relative to root)` holds) to `dest`, in sorted order,
    skipping empty files and files over MAX_FILE, until `room` bytes; the bytes copied."""
    used = 0
    for dirpath, dirnames, filenames in os.walk(root):
        dirnames.sort()
        for name in sorted(filenames):
            p = Path(dirpath) / name
            if p.is_symlink() or not p.is_file():
                continue
            if p.suffix not in exts and (also is None or not also(p, p.relative_to(root))):
                continue
            size = p.stat().st_size
            if size == 0 or size > MAX_FILE or used + size > room:
                continue
            d = dest / p.relative_to(root)
            d.parent.mkdir(parents=True, exist_ok=True)
            shutil.copyfile(p, d)
            used += size
    return used


def fill(stage, dest, label, names, exts, budget, per_package, packages):
    """Takes packages from `names` in order, each fetched into `stage` and unpacked, copying at
    most `per_package` bytes of each into `dest/label/NAME`, until `budget` bytes (99 %) are
    used; appends `LABEL PACKAGE VERSION BYTES` to `packages` for each one that gave files.
    Returns the bytes copied."""
    used = 0
    for name in names:
        if used >= budget * 0.99:
            break
        deb = fetch(stage, name)
        if deb is None:
            continue
        n = copy_tree(unpack(deb), dest / label / name, exts, min(per_package, budget - used))
        if n:
            packages.append(f"{label} {version(deb)} {n}")
            used += n
        shutil.rmtree(deb.parent)
    print(f"{label}: {used / MIB:.1f} MiB", flush=True)
    return used


def fill_batched(pool, stage, label, names, budget, take, packages, batch=8):
    """Like `fill`, fetching `batch` packages at a time with the thread pool `pool` (the result
    does not depend on the batching: packages are taken in order, and a fetched package past
    the budget is dropped). `take(name, deb, room)` copies what it wants of one fetched
    package (at most `room` bytes) and returns the bytes copied. Appends `LABEL PACKAGE
    VERSION BYTES` to `packages` for each one that gave files; returns the bytes copied."""
    used = 0
    for i in range(0, len(names), batch):
        if used >= budget * 0.99:
            break
        group = names[i:i + batch]
        debs = list(pool.map(lambda n: fetch(stage, n), group))
        for name, deb in zip(group, debs):
            if deb is None:
                continue
            if used < budget * 0.99:
                n = take(name, deb, budget - used)
                if n:
                    packages.append(f"{label} {version(deb)} {n}")
                    used += n
            shutil.rmtree(deb.parent)
    return used


def build_pools(out, total_mib, salt, pools, pool_of, earlier, take, prefix, max_deb=None,
                batch=8):
    """Builds a corpus in `out` from `pools`, each `(label, name patterns, extensions, share,
    extra)`, filled in order: a pool takes `share` of `total_mib`, the last one what the
    others left. A pool's candidates are the names its patterns find (`search`), less the
    installed packages, the names `earlier` (a compiled regex) matches, the names `pool_of`
    gives another pool and, with `max_deb`, packages whose .deb is larger; in the fixed order
    of `salt`. `take(pool, name, deb, room)` copies what it wants of a fetched package.
    Writes the lists beside `out` (`write_lists`)."""
    if out.exists():
        shutil.rmtree(out)
    out.mkdir(parents=True)
    skip = installed()
    packages = []
    grand = 0
    with tempfile.TemporaryDirectory(dir="/tmp", prefix=prefix) as stage, \
            ThreadPoolExecutor(batch) as threads:
        stage = Path(stage)
        for index, pool in enumerate(pools):
            label, patterns, _, share, _ = pool
            last = index == len(pools) - 1
            budget = int(total_mib * MIB) - grand if last else int(total_mib * share * MIB)
            names = set()
            for p in patterns:
                names |= search(p)
            names = {n for n in names
                     if n not in skip and not earlier.search(n) and pool_of(n) == label}
            if max_deb is not None:
                sizes = deb_sizes(names)
                names = {n for n in names if sizes.get(n, 0) <= max_deb}
            names = order(salt, names)
            used = fill_batched(threads, stage, label, names, budget,
                                lambda name, deb, room: take(pool, name, deb, room),
                                packages, batch)
            print(f"{label}: {used / MIB:.1f} MiB of {budget / MIB:.1f} from {len(names)} "
                  "candidates", flush=True)
            grand += used
    write_lists(out, packages, grand)


def write_lists(out, packages, grand):
    """Writes OUT.packages.txt and OUT.sha256 beside OUT (not in it, so no scanner reads
    them) and prints the total."""
    out.with_name(out.name + ".packages.txt").write_text("\n".join(packages) + "\n")
    files = sorted(p for p in out.rglob("*") if p.is_file())
    with open(out.with_name(out.name + ".sha256"), "w") as f:
        for p in files:
            f.write(f"{hashlib.sha256(p.read_bytes()).hexdigest()}  {p.relative_to(out)}\n")
    print(f"total: {grand / MIB:.1f} MiB in {len(files)} files, {len(packages)} sources, in {out}")


# What the seventh and later held-out scripts share: the suffixes they take, the scripts they
# recognise, the names every earlier corpus drew from, and how a script's pools are run.

# Configuration suffixes every pool takes.
CONF = {".conf", ".cfg", ".cnf", ".ini", ".yaml", ".yml", ".json", ".toml", ".xml",
        ".properties", ".env", ".example", ".sample", ".sh", ".bash",
        ".service", ".socket", ".timer"}
# Code suffixes the eighth and later corpora take in every pool, with CONF.
CODE = {".py", ".pl", ".pm", ".rb", ".php", ".js", ".lua", ".tcl", ".html", ".tpl",
        ".sql"} | CONF
SCRIPT_ROOTS = {("etc",), ("usr", "lib"), ("usr", "share"), ("usr", "bin"), ("usr", "sbin")}

# Package names the pools of make_corpus.py and make_heldout.py to make_heldout6.py drew from.
SEEN_BEFORE_7 = [
    r"^golang-", r"^ruby-", r"^php-", r"^python3-", r"^node-", r"^r-cran-", r"^elpa-",
    r"^lua-", r"^librust-", r"^ansible", r"^puppet-module-", r"^lib.*-perl$", r"-doc$",
    r"-common$", r"^libocaml", r"^ocaml-", r"-ocaml-dev$", r"^octave-", r"^erlang-",
    r"^elixir-", r"^tcl", r"^tk", r"^lib.*-dev$", r"-examples?$", r"-data$", r"-tools$",
    r"-utils$", r"^guile-", r"^libjs-", r"^r-bioc-", r"^texlive-", r"^vim-",
    r"^gnome-shell-extension-", r"-plugins?$",
]


def script(path, rel):
    """A file under etc/, usr/lib/, usr/share/, usr/bin/ or usr/sbin/ that starts with `#!`."""
    if rel.parts[:1] not in SCRIPT_ROOTS and rel.parts[:2] not in SCRIPT_ROOTS:
        return False
    with open(path, "rb") as f:
        return f.read(2) == b"#!"


def pool_patterns(pools):
    """Every name pattern of `pools`: what the next corpus must exclude."""
    return [p for _, patterns, _, _, _ in pools for p in patterns]


def run_pools(pools, seen, default_mib, default_salt, prefix, cap=3 * MIB, max_deb=64 * MIB,
              batch=8):
    """The command line of a held-out script (`OUT [TOTAL_MIB] [SALT]`): builds OUT from
    `pools` (see `build_pools`), a package belonging to the first pool whose patterns match
    its name, excluding every name `seen` (patterns of earlier corpora) matches, at most `cap`
    bytes per package."""
    import re
    out = Path(sys.argv[1])
    total = int(sys.argv[2]) if len(sys.argv) > 2 else default_mib
    salt = sys.argv[3] if len(sys.argv) > 3 else default_salt

    def pool_of(name):
        for label, patterns, _, _, _ in pools:
            if any(re.search(p, name) for p in patterns):
                return label
        return None

    def take(pool, name, deb, room):
        label, _, exts, _, also = pool
        return copy_tree(unpack(deb), out / label / name, exts, min(cap, room), also)

    build_pools(out, total, salt, pools, pool_of, re.compile("|".join(seen)), take, prefix,
                max_deb=max_deb, batch=batch)
