#!/usr/bin/env python3
"""Build the SEVENTH held-out corpus: web applications, kernel modules, Common Lisp,
PostgreSQL extensions, browser extensions and build helpers, and the configuration and
scripts of servers and daemons, from sources no earlier corpus (make_corpus.py, the C
headers and Perl of /usr, make_heldout.py to make_heldout6.py) read and no filter of warden
was chosen on. It exists to count false positives after the sixth held-out corpus was
measured and the confidence split was in place.

usage: make_heldout7.py OUT [TOTAL_MIB] [SALT]

The rule, written down before any file of it was looked at:
- Excluded everywhere: every package installed on this machine (`dpkg-query`), every
  package whose name matches a pool of an earlier corpus: ^golang-, ^ruby-, ^php-,
  ^python3-, ^node-, ^r-cran-, ^elpa-, ^lua-, ^librust-, ^ansible, ^puppet-module-,
  ^lib.*-perl$, -doc$, -common$, ^libocaml, ^ocaml-, -ocaml-dev$, ^octave-, ^erlang-,
  ^elixir-, ^tcl, ^tk, ^lib.*-dev$, -examples?$, -data$, -tools$, -utils$, ^guile-,
  ^libjs-, ^r-bioc-, ^texlive-, ^vim-, ^gnome-shell-extension-, -plugins?$; and packages
  whose .deb is over 64 MiB (`apt-cache show`).
- Pools, as shares of TOTAL_MIB (120 by default), at most 3 MiB per package in every pool:
  - web applications and monitoring front ends, packages named `roundcube*`, `wordpress*`,
    `phpmyadmin*`, `mediawiki*`, `icingaweb2*`, `dokuwiki*`, `zabbix*`, `nagios*`,
    `icinga*`, `munin*`, `mailman*`, `sogo*` or `cacti*` (20 %): .php .inc .phtml .tpl
    .py .pl .js .html .sql and the configuration suffixes, and scripts (below);
  - kernel modules, packages named `*-dkms` (15 %): .c .h Makefile Kbuild Kconfig and the
    configuration suffixes;
  - Common Lisp, packages named `cl-*` (20 %): .lisp .lsp .cl .asd and the configuration
    suffixes;
  - PostgreSQL extensions, packages named `postgresql-NN-*` (15 %): .sql .control .c .h .py
    .pl and the configuration suffixes;
  - browser extensions and packaging helpers, packages named `webext-*`, `xul-ext-*` or
    `dh-*` (10 %): .js .json .html .pm .pl .py .sh and the configuration suffixes, and
    scripts;
  - servers and daemons, packages named `*-server` or `*-daemon` (20 %): the configuration
    suffixes, .py .pl .rb .lua, and scripts.
  The configuration suffixes are .conf .cfg .cnf .ini .yaml .yml .json .toml .xml
  .properties .env .example .sample .sh .bash .service .socket .timer. A script is a file
  under `etc/`, `usr/lib/`, `usr/share/`, `usr/bin/` or `usr/sbin/` whose first two bytes
  are `#!`.
  A package is in one pool only, by the order above (web applications first); a file is
  matched by its last suffix (or, for the kernel module pool, by its whole name).
- The pools are filled in the order above, the server pool last: any pool that runs out of
  candidates before its share leaves its shortfall to the server pool, which takes
  TOTAL_MIB less what the others took.
- Candidates are the names `apt-cache search --names-only` lists, in a fixed pseudo-random
  order (sha256 of SALT and the name; SALT "warden-heldout7-2026-12-03" by default). Each
  package is fetched with `apt-get download` (8 at a time; the result does not depend on the
  batching) and unpacked with `dpkg-deb -x` (nothing is installed); files of the pool are
  copied in sorted order until the pool's share is reached, files over 2 MiB or empty skipped.
OUT.packages.txt lists every package and version used; OUT.sha256 a checksum of every file
(`cd OUT && sha256sum -c --quiet ../OUT.sha256`), both beside OUT, not in it.
"""

from debian_corpus import CONF, SEEN_BEFORE_7, pool_patterns, run_pools, script

SEEN_BEFORE = SEEN_BEFORE_7
WEB = {".php", ".inc", ".phtml", ".tpl", ".py", ".pl", ".js", ".html", ".sql"} | CONF
DKMS = {".c", ".h"} | CONF
LISP = {".lisp", ".lsp", ".cl", ".asd"} | CONF
PG = {".sql", ".control", ".c", ".h", ".py", ".pl"} | CONF
HELPERS = {".js", ".json", ".html", ".pm", ".pl", ".py", ".sh"} | CONF
SERVERS = {".py", ".pl", ".rb", ".lua"} | CONF


def kbuild(path, rel):
    """A kernel module's build files, matched by their whole name."""
    return path.name in ("Makefile", "Kbuild", "Kconfig")


WEBAPPS = [r"^roundcube", r"^wordpress", r"^phpmyadmin", r"^mediawiki", r"^icingaweb2",
           r"^dokuwiki", r"^zabbix", r"^nagios", r"^icinga", r"^munin", r"^mailman", r"^sogo",
           r"^cacti"]

# (label, name patterns, extensions, share, also); the server pool last (it takes what the
# others left).
POOLS = [
    ("webapps", WEBAPPS, WEB, 0.20, script),
    ("dkms", [r"-dkms$"], DKMS, 0.15, kbuild),
    ("lisp", [r"^cl-"], LISP, 0.20, None),
    ("postgresql", [r"^postgresql-[0-9]+-"], PG, 0.15, None),
    ("helpers", [r"^webext-", r"^xul-ext-", r"^dh-"], HELPERS, 0.10, script),
    ("servers", [r"-server$", r"-daemon$"], SERVERS, 0.20, script),
]


# Every name this corpus and the earlier ones drew from: the next corpus excludes them.
SEEN = SEEN_BEFORE + pool_patterns(POOLS)

if __name__ == "__main__":
    run_pools(POOLS, SEEN_BEFORE, 120, "warden-heldout7-2026-12-03", "heldout7-stage-")
