#!/usr/bin/env python3
"""Build the FIFTH held-out corpus: C and C++ headers and sources, examples, shipped data and
configuration, tool scripts and Scheme from sources no earlier corpus (make_corpus.py, the C
headers and Perl of /usr, make_heldout.py's Go, Ruby, PHP and Java, make_heldout2.py's Python,
JavaScript, R, Emacs Lisp and Lua, make_heldout3.py's Rust, Ansible, Puppet and Perl,
make_heldout4.py's documentation, configuration, OCaml, Octave, Erlang/Elixir and Tcl/Tk) and
no filter of warden was chosen on. It exists to count false positives after the fourth
held-out corpus was measured.

usage: make_heldout5.py OUT [TOTAL_MIB] [SALT]

The rule, written down before any file of it was looked at:
- Excluded everywhere: every package installed on this machine (`dpkg-query`; the C headers
  of /usr/include fed an earlier corpus), and every package whose name matches a pool of an
  earlier corpus: ^golang-, ^ruby-, ^php-, ^python3-, ^node-, ^r-cran-, ^elpa-, ^lua-,
  ^librust-, ^ansible, ^puppet-module-, ^lib.*-perl$, -doc$, -common$, ^libocaml, ^ocaml-,
  -ocaml-dev$, ^octave-, ^erlang-, ^elixir-, ^tcl, ^tk.
- Excluded too: packages whose .deb is over 64 MiB (`apt-cache show`; game and map data
  of a gigabyte and more would take the time of the whole build to fetch).
- Pools, as shares of TOTAL_MIB (120 by default), at most 3 MiB per package in every pool:
  - examples, packages named `*-example` or `*-examples` (15 %): any text suffix of code,
    configuration or documentation (C and C++, the configuration suffixes below, Markdown,
    reStructuredText, plain text, AsciiDoc, Org, TeX, HTML, CSS, Python, Ruby, JavaScript,
    TypeScript, Perl, Lua, PHP, Java, Kotlin, Scala, Go, Rust, C#, Swift, Haskell, OCaml,
    Scheme, Lisp, Tcl, R, Octave/Matlab, Erlang, Elixir, Fortran, Vala, SQL, CSV, CMake,
    make, `.in` templates);
  - data, packages named `*-data` (20 %): .json .yaml .yml .xml .ini .conf .cfg .toml
    .properties .sql .csv .txt .sh;
  - tools, packages named `*-tools` or `*-utils` (15 %): .sh .bash .py .pl .rb .js .lua .conf
    .cfg .ini .yaml .yml .json .toml, and any other file under `usr/bin/` or `usr/sbin/`
    whose first two bytes are `#!` (a script without a suffix);
  - Scheme, packages named `guile-*` (15 %): .scm .ss and the configuration suffixes;
  - C and C++, packages named `lib*-dev` (35 %): .h .hh .hpp .hxx .c .cc .cpp .cxx .inl and
    the configuration suffixes.
  The configuration suffixes are .conf .cfg .cnf .ini .yaml .yml .json .toml .xml
  .properties .env .example .sample .sh .bash .service .socket .timer.
  A package is in one pool only, by this precedence: a name ending `-example(s)`, `-data`,
  `-tools` or `-utils` is in that suffix pool whatever it starts with; then a name starting
  `guile-` is Scheme; then `lib*-dev` is C and C++. A file is matched by its last suffix.
- The examples, data, tools and Scheme pools are filled first, in that order, then the C and
  C++ pool last: any pool that runs out of candidates before its share leaves its shortfall
  to the C and C++ pool, which takes TOTAL_MIB less what the others took.
- Candidates are the names `apt-cache search --names-only` lists, in a fixed pseudo-random
  order (sha256 of SALT and the name; SALT "warden-heldout5-2026-12-02" by default). Each
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
total = int(sys.argv[2]) if len(sys.argv) > 2 else 120
salt = sys.argv[3] if len(sys.argv) > 3 else "warden-heldout5-2026-12-02"
BATCH = 8
CAP = 3 * MIB
MAX_DEB = 64 * MIB
EARLIER = re.compile(r"^golang-|^ruby-|^php-|^python3-|^node-|^r-cran-|^elpa-|^lua-|^librust-"
                     r"|^ansible|^puppet-module-|^lib.*-perl$|-doc$|-common$|^libocaml|^ocaml-"
                     r"|-ocaml-dev$|^octave-|^erlang-|^elixir-|^tcl|^tk")
CONF = {".conf", ".cfg", ".cnf", ".ini", ".yaml", ".yml", ".json", ".toml", ".xml",
        ".properties", ".env", ".example", ".sample", ".sh", ".bash",
        ".service", ".socket", ".timer"}
C_SRC = {".h", ".hh", ".hpp", ".hxx", ".c", ".cc", ".cpp", ".cxx", ".inl"}
EXAMPLES = C_SRC | CONF | {
    ".md", ".markdown", ".rst", ".txt", ".adoc", ".asciidoc", ".org", ".tex", ".html", ".htm",
    ".xhtml", ".css", ".py", ".rb", ".js", ".mjs", ".ts", ".pl", ".pm", ".lua", ".php",
    ".java", ".kt", ".scala", ".go", ".rs", ".cs", ".swift", ".hs", ".ml", ".mli", ".scm",
    ".lisp", ".el", ".tcl", ".r", ".R", ".m", ".erl", ".ex", ".exs", ".f", ".f90", ".vala",
    ".sql", ".csv", ".cmake", ".mk", ".in"}
DATA = {".json", ".yaml", ".yml", ".xml", ".ini", ".conf", ".cfg", ".toml", ".properties",
        ".sql", ".csv", ".txt", ".sh"}
TOOLS = {".sh", ".bash", ".py", ".pl", ".rb", ".js", ".lua", ".conf", ".cfg", ".ini", ".yaml",
         ".yml", ".json", ".toml"}


def script(path, rel):
    """A file under usr/bin/ or usr/sbin/ that starts with `#!`."""
    if rel.parts[:2] not in (("usr", "bin"), ("usr", "sbin")):
        return False
    with open(path, "rb") as f:
        return f.read(2) == b"#!"


# (label, name patterns, extensions, share, also); the C and C++ pool last (it takes what the
# others left)
POOLS = [
    ("examples", [r"-examples?$"], EXAMPLES, 0.15, None),
    ("data", [r"-data$"], DATA, 0.20, None),
    ("tools", [r"-tools$", r"-utils$"], TOOLS, 0.15, script),
    ("guile", [r"^guile-"], {".scm", ".ss"} | CONF, 0.15, None),
    ("c", [r"^lib.*-dev$"], C_SRC | CONF, 0.35, None),
]


def pool_of(name):
    """The one pool a package name belongs to: the suffix pools first, then guile, then lib*-dev."""
    for label, patterns, _, _, _ in POOLS:
        if any(re.search(p, name) for p in patterns):
            return label
    return None


def take_pool(pool, name, deb, room):
    label, _, exts, _, also = pool
    return copy_tree(unpack(deb), out / label / name, exts, min(CAP, room), also)


build_pools(out, total, salt, POOLS, pool_of, EARLIER, take_pool, "heldout5-stage-",
            max_deb=MAX_DEB, batch=BATCH)
