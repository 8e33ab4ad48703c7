#!/usr/bin/env python3
"""Build the ELEVENTH held-out corpus: graphics, CAD, GIS and radio applications with their
plugins, documentation generators, LibreOffice, games and their mods, version control and
build tools, and the remaining `python-*`, `php8*` and JavaScript tooling packages, from
sources no earlier corpus (make_corpus.py, the C headers and Perl of /usr, make_heldout.py
to make_heldout10.py) read and no filter of warden was chosen on. Built with the ninth and
tenth, to measure one build of warden on fresh corpora with no change in between.

usage: make_heldout11.py OUT [TOTAL_MIB] [SALT]

The rule, written down before any file of it was looked at:
- Excluded everywhere: every package installed on this machine (`dpkg-query`), every
  package whose name matches a pool of an earlier corpus (make_heldout10.py's list, plus its
  own pools: ^gnome-, ^mutt, ^neomutt, ^irssi, ^weechat, ^znc, ^bitlbee, ^conky, ^tmux,
  ^zsh, ^fish, ^bash-, ^w3m, ^emacs, -el$, ^haskell-, ^gnustep, ^x11-, -bin$); and packages
  whose .deb is over 64 MiB (`apt-cache show`).
- Pools, as shares of TOTAL_MIB (120 by default), at most 3 MiB per package in every pool:
  - graphics, CAD, GIS and radio, packages named `inkscape*`, `gimp*`, `freecad*`,
    `kicad*`, `qgis*` or `gnuradio*` (20 %): also .scm .svg;
  - documentation generators, packages named `sphinx*`, `mkdocs*`, `jekyll*`, `hugo*`,
    `pelican*` or `doxygen*` (10 %): also .css .md;
  - LibreOffice, packages named `libreoffice*` (15 %): also .xcu .xcd .bas;
  - games and their mods, packages named `minetest*`, `wesnoth*`, `0ad*`, `supertux*`,
    `freeciv*` or `openttd*` (15 %);
  - version control and build tools, packages named `git-*`, `mercurial*`, `subversion*`,
    `gitlab*`, `ant*`, `maven*`, `gradle*`, `scala*`, `groovy*`, `jython*` or `pypy*`
    (15 %): also .groovy .gradle .scala;
  - the rest: packages named `python-*`, `php8*`, `nodejs*`, `npm*`, `yarn*` or
    `rubygems*` (25 %).
  Every pool takes the configuration suffixes, .py .pl .pm .rb .php .js .lua .tcl .html
  .tpl .sql, and scripts. The configuration suffixes are .conf .cfg .cnf .ini .yaml .yml
  .json .toml .xml .properties .env .example .sample .sh .bash .service .socket .timer. A
  script is a file under `etc/`, `usr/lib/`, `usr/share/`, `usr/bin/` or `usr/sbin/` whose
  first two bytes are `#!`.
  A package is in one pool only, by the order above (graphics first); a file is matched by
  its last suffix.
- The pools are filled in the order above, the last one last: any pool that runs out of
  candidates before its share leaves its shortfall to it, and it takes TOTAL_MIB less what
  the others took.
- Candidates are the names `apt-cache search --names-only` lists, in a fixed pseudo-random
  order (sha256 of SALT and the name; SALT "warden-heldout11-2026-12-03" by default). Each
  package is fetched with `apt-get download` (8 at a time; the result does not depend on the
  batching) and unpacked with `dpkg-deb -x` (nothing is installed); files of the pool are
  copied in sorted order until the pool's share is reached, files over 2 MiB or empty skipped.
OUT.packages.txt lists every package and version used; OUT.sha256 a checksum of every file
(`cd OUT && sha256sum -c --quiet ../OUT.sha256`), both beside OUT, not in it.
"""

from debian_corpus import CODE, pool_patterns, run_pools, script
from make_heldout10 import SEEN as SEEN_BEFORE

GRAPHICS = {".scm", ".svg"} | CODE
DOCS = {".css", ".md"} | CODE
OFFICE = {".xcu", ".xcd", ".bas"} | CODE
BUILD = {".groovy", ".gradle", ".scala"} | CODE


# (label, name patterns, extensions, share, also); the last pool takes what the others left.
POOLS = [
    ("graphics", [r"^inkscape", r"^gimp", r"^freecad", r"^kicad", r"^qgis", r"^gnuradio"],
     GRAPHICS, 0.20, script),
    ("docgen", [r"^sphinx", r"^mkdocs", r"^jekyll", r"^hugo", r"^pelican", r"^doxygen"], DOCS,
     0.10, script),
    ("office", [r"^libreoffice"], OFFICE, 0.15, script),
    ("games", [r"^minetest", r"^wesnoth", r"^0ad", r"^supertux", r"^freeciv", r"^openttd"],
     CODE, 0.15, script),
    ("build", [r"^git-", r"^mercurial", r"^subversion", r"^gitlab", r"^ant", r"^maven",
               r"^gradle", r"^scala", r"^groovy", r"^jython", r"^pypy"], BUILD, 0.15, script),
    ("rest", [r"^python-", r"^php8", r"^nodejs", r"^npm", r"^yarn", r"^rubygems"], CODE, 0.25,
     script),
]


# Every name this corpus and the earlier ones drew from: the next corpus excludes them.
SEEN = SEEN_BEFORE + pool_patterns(POOLS)

if __name__ == "__main__":
    run_pools(POOLS, SEEN_BEFORE, 120, "warden-heldout11-2026-12-03", "heldout11-stage-")
