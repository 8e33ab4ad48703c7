#!/usr/bin/env python3
"""Build the FOURTH held-out corpus: documentation, shipped configuration and code from sources
no earlier corpus (make_corpus.py, the C headers and Perl of /usr, make_heldout.py's Go, Ruby,
PHP and Java, make_heldout2.py's Python, JavaScript, R, Emacs Lisp and Lua, make_heldout3.py's
Rust, Ansible, Puppet and Perl) and no filter of warden was chosen on. It exists to count false
positives after the third held-out corpus became tuning data.

usage: make_heldout4.py OUT [TOTAL_MIB] [SALT]

The rule, written down before any file of it was looked at:
- Excluded everywhere: every package installed on this machine (`dpkg-query`), and every
  package whose name matches a pool of an earlier corpus: ^golang-, ^ruby-, ^php-, ^python3-,
  ^node-, ^r-cran-, ^elpa-, ^lua-, ^librust-, ^ansible, ^puppet-module-, ^lib.*-perl$.
- Pools, as shares of TOTAL_MIB (120 by default), at most 3 MiB per package in every pool:
  - documentation, packages named `*-doc` (35 %): text documents and their examples
    (Markdown, reStructuredText, plain text, AsciiDoc, Org, TeX, HTML, XML, YAML, JSON, TOML,
    INI, cfg/conf, properties, `.example`/`.sample` files, shell, Python, Ruby, JavaScript,
    Perl, Lua, PHP, Java, Go, SQL);
  - configuration shipped in packages named `*-common` (20 %): files under `etc/` and
    `usr/share/` with a configuration or shell-script suffix (conf, cfg, cnf, ini, YAML, JSON,
    TOML, XML, properties, env, `.example`/`.sample`, systemd units, shell);
  - OCaml, packages named `libocaml*`, `ocaml-*` or `*-ocaml-dev` (15 %): `.ml`, `.mli` and
    the configuration suffixes;
  - Octave, packages named `octave-*` (10 %): `.m` and the configuration suffixes;
  - Erlang and Elixir, packages named `erlang-*` or `elixir-*` (10 %): `.erl`, `.hrl`, `.ex`,
    `.exs` and the configuration suffixes;
  - Tcl/Tk, packages named `tcl*` or `tk*` (10 %): `.tcl` and the configuration suffixes.
  A package is in one pool only: a name ending `-doc` is in the documentation pool and one
  ending `-common` in the configuration pool, whatever it starts with; the four language
  pools take the other names. A file is matched by its last suffix (`.env.example` by
  `.example`; a bare `.env` has none and is not taken).
- The language pools are filled first, then the configuration pool, then the documentation
  pool last: any pool that runs out of candidates before its share leaves its shortfall to the
  documentation pool, which takes TOTAL_MIB less what the others took.
- Candidates are the names `apt-cache search --names-only` lists, in a fixed pseudo-random
  order (sha256 of SALT and the name; SALT "warden-heldout4-2026-12-02" by default). Each
  package is fetched with `apt-get download` (8 at a time; the result does not depend on the
  batching) and unpacked with `dpkg-deb -x` (nothing is installed); files with the pool's
  suffixes are copied in sorted order until the pool's share is reached, files over 2 MiB or
  empty skipped.
OUT.packages.txt lists every package and version used; OUT.sha256 a checksum of every file
(`cd OUT && sha256sum -c --quiet ../OUT.sha256`), both beside OUT, not in it.
"""
import re
import sys
from pathlib import Path

from debian_corpus import MIB, build_pools, copy_tree, unpack

out = Path(sys.argv[1])
total = int(sys.argv[2]) if len(sys.argv) > 2 else 120
salt = sys.argv[3] if len(sys.argv) > 3 else "warden-heldout4-2026-12-02"
BATCH = 8
CAP = 3 * MIB
EARLIER = re.compile(r"^golang-|^ruby-|^php-|^python3-|^node-|^r-cran-|^elpa-|^lua-|^librust-"
                     r"|^ansible|^puppet-module-|^lib.*-perl$")
CONF = {".conf", ".cfg", ".cnf", ".ini", ".yaml", ".yml", ".json", ".toml", ".xml",
        ".properties", ".env", ".example", ".sample", ".sh", ".bash",
        ".service", ".socket", ".timer"}
DOCS = CONF | {".md", ".markdown", ".rst", ".txt", ".adoc", ".asciidoc", ".org", ".tex",
               ".html", ".htm", ".xhtml", ".py", ".rb", ".js", ".pl", ".lua", ".php",
               ".java", ".go", ".sql"}

# (label, name patterns, extensions, share, directories of the package taken); the language
# pools first, the documentation pool last (it takes what the others left)
POOLS = [
    ("ocaml", [r"^libocaml", r"^ocaml-", r"-ocaml-dev$"], {".ml", ".mli"} | CONF, 0.15, [""]),
    ("octave", [r"^octave-"], {".m"} | CONF, 0.10, [""]),
    ("erlang", [r"^erlang-", r"^elixir-"], {".erl", ".hrl", ".ex", ".exs"} | CONF, 0.10, [""]),
    ("tcl", [r"^tcl", r"^tk"], {".tcl"} | CONF, 0.10, [""]),
    ("common", [r"-common$"], CONF, 0.20, ["etc", "usr/share"]),
    ("doc", [r"-doc$"], DOCS, 0.35, [""]),
]


def pool_of(name):
    """The one pool a package name belongs to: -doc and -common by their ending, else by start."""
    if name.endswith("-doc"):
        return "doc"
    if name.endswith("-common"):
        return "common"
    for label, patterns, _, _, _ in POOLS[:4]:
        if any(re.search(p, name) for p in patterns):
            return label
    return None


def take(tree, dest, exts, dirs, room):
    """Copies the pool's files of the unpacked package `tree` (only under `dirs`) into `dest`."""
    used = 0
    for d in dirs:
        used += copy_tree(tree / d, dest / d, exts, room - used)
    return used


def take_pool(pool, name, deb, room):
    label, _, exts, _, dirs = pool
    return take(unpack(deb), out / label / name, exts, dirs, min(CAP, room))


build_pools(out, total, salt, POOLS, pool_of, EARLIER, take_pool, "heldout4-stage-",
            batch=BATCH)
