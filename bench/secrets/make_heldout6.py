#!/usr/bin/env python3
"""Build the SIXTH held-out corpus: JavaScript libraries, Bioconductor packages, TeX macros,
editor and desktop extensions and monitoring plugins from sources no earlier corpus
(make_corpus.py, the C headers and Perl of /usr, make_heldout.py's Go, Ruby, PHP and Java,
make_heldout2.py's Python, JavaScript, R, Emacs Lisp and Lua, make_heldout3.py's Rust,
Ansible, Puppet and Perl, make_heldout4.py's documentation, configuration, OCaml, Octave,
Erlang/Elixir and Tcl/Tk, make_heldout5.py's C and C++, examples, data, tools and Scheme)
and no filter of warden was chosen on. It exists to count false positives after the fifth
held-out corpus was measured.

usage: make_heldout6.py OUT [TOTAL_MIB] [SALT]

The rule, written down before any file of it was looked at:
- Excluded everywhere: every package installed on this machine (`dpkg-query`), and every
  package whose name matches a pool of an earlier corpus: ^golang-, ^ruby-, ^php-,
  ^python3-, ^node-, ^r-cran-, ^elpa-, ^lua-, ^librust-, ^ansible, ^puppet-module-,
  ^lib.*-perl$, -doc$, -common$, ^libocaml, ^ocaml-, -ocaml-dev$, ^octave-, ^erlang-,
  ^elixir-, ^tcl, ^tk, ^lib.*-dev$, -examples?$, -data$, -tools$, -utils$, ^guile-.
- Excluded too: packages whose .deb is over 64 MiB (`apt-cache show`), as make_heldout5.py.
- Pools, as shares of TOTAL_MIB (100 by default), at most 3 MiB per package in every pool:
  - monitoring plugins, packages named `*-plugin` or `*-plugins` (15 %): .sh .pl .py .rb
    .php .conf .cfg .ini .yaml .yml .json, and any other file under `usr/lib/` or
    `usr/share/` whose first two bytes are `#!` (a script without a suffix);
  - Bioconductor, packages named `r-bioc-*` (20 %): .R .r .Rmd .json .yaml and the
    configuration suffixes;
  - TeX, packages named `texlive-*` (20 %): .tex .sty .cls .dtx .lua .cfg and the
    configuration suffixes;
  - editor and desktop extensions, packages named `vim-*` or `gnome-shell-extension-*`
    (15 %): .vim .js .json and the configuration suffixes;
  - JavaScript libraries, packages named `libjs-*` (30 %): .js .mjs .json .html and the
    configuration suffixes, leaving out every file whose name contains `.min.` (minified
    copies of the same code).
  The configuration suffixes are .conf .cfg .cnf .ini .yaml .yml .json .toml .xml
  .properties .env .example .sample .sh .bash .service .socket .timer.
  A package is in one pool only, by this precedence: a name ending `-plugin` or `-plugins`
  is a plugin whatever it starts with; then `r-bioc-*`, then `texlive-*`, then `vim-*` and
  `gnome-shell-extension-*`, then `libjs-*`. A file is matched by its last suffix.
- The plugin, Bioconductor, TeX and extension pools are filled first, in that order, then
  the JavaScript pool last: any pool that runs out of candidates before its share leaves its
  shortfall to the JavaScript pool, which takes TOTAL_MIB less what the others took.
- Candidates are the names `apt-cache search --names-only` lists, in a fixed pseudo-random
  order (sha256 of SALT and the name; SALT "warden-heldout6-2026-12-02" by default). Each
  package is fetched with `apt-get download` (8 at a time; the result does not depend on the
  batching) and unpacked with `dpkg-deb -x` (nothing is installed); files of the pool are
  copied in sorted order until the pool's share is reached, files over 2 MiB or empty skipped.
OUT.packages.txt lists every package and version used; OUT.sha256 a checksum of every file
(`cd OUT && sha256sum -c --quiet ../OUT.sha256`), both beside OUT, not in it.
"""
import re
import sys
from pathlib import Path

from debian_corpus import MIB, build_pools, copy_tree, unpack

out = Path(sys.argv[1])
total = int(sys.argv[2]) if len(sys.argv) > 2 else 100
salt = sys.argv[3] if len(sys.argv) > 3 else "warden-heldout6-2026-12-02"
BATCH = 8
CAP = 3 * MIB
MAX_DEB = 64 * MIB
EARLIER = re.compile(r"^golang-|^ruby-|^php-|^python3-|^node-|^r-cran-|^elpa-|^lua-|^librust-"
                     r"|^ansible|^puppet-module-|^lib.*-perl$|-doc$|-common$|^libocaml|^ocaml-"
                     r"|-ocaml-dev$|^octave-|^erlang-|^elixir-|^tcl|^tk"
                     r"|^lib.*-dev$|-examples?$|-data$|-tools$|-utils$|^guile-")
CONF = {".conf", ".cfg", ".cnf", ".ini", ".yaml", ".yml", ".json", ".toml", ".xml",
        ".properties", ".env", ".example", ".sample", ".sh", ".bash",
        ".service", ".socket", ".timer"}
PLUGINS = {".sh", ".pl", ".py", ".rb", ".php", ".conf", ".cfg", ".ini", ".yaml", ".yml",
           ".json"}
BIOC = {".R", ".r", ".Rmd", ".json", ".yaml"} | CONF
TEX = {".tex", ".sty", ".cls", ".dtx", ".lua", ".cfg"} | CONF
EDITOR = {".vim", ".js", ".json"} | CONF
JS = {".js", ".mjs", ".json", ".html"} | CONF


def script(path, rel):
    """A file under usr/lib/ or usr/share/ that starts with `#!`."""
    if rel.parts[:2] not in (("usr", "lib"), ("usr", "share")):
        return False
    with open(path, "rb") as f:
        return f.read(2) == b"#!"


def not_minified(path, rel):
    """A JavaScript-pool file whose name does not contain `.min.`."""
    return path.suffix in JS and ".min." not in path.name


# (label, name patterns, extensions, share, also); the JavaScript pool last (it takes what the
# others left). Its extensions are empty: `not_minified` decides alone.
POOLS = [
    ("plugins", [r"-plugins?$"], PLUGINS, 0.15, script),
    ("bioc", [r"^r-bioc-"], BIOC, 0.20, None),
    ("tex", [r"^texlive-"], TEX, 0.20, None),
    ("extensions", [r"^vim-", r"^gnome-shell-extension-"], EDITOR, 0.15, None),
    ("js", [r"^libjs-"], set(), 0.30, not_minified),
]


def pool_of(name):
    """The one pool a package name belongs to, by the precedence of POOLS."""
    for label, patterns, _, _, _ in POOLS:
        if any(re.search(p, name) for p in patterns):
            return label
    return None


def take_pool(pool, name, deb, room):
    label, _, exts, _, also = pool
    return copy_tree(unpack(deb), out / label / name, exts, min(CAP, room), also)


build_pools(out, total, salt, POOLS, pool_of, EARLIER, take_pool, "heldout6-stage-",
            max_deb=MAX_DEB, batch=BATCH)
