#!/usr/bin/env python3
"""Build the TWELFTH held-out corpus: Tryton modules, issue trackers and CI (Trac, Request
Tracker, Redmine, Bugzilla, Ganeti, Buildbot), monitoring (Ganglia, SmokePing, MRTG,
collectd, Netdata, Monit, Graphite), printing (printer drivers, CUPS add-ons) and music
(Pure Data, SuperCollider, Csound, LilyPond), from sources no earlier corpus (make_corpus.py,
the C headers and Perl of /usr, make_heldout.py to make_heldout11.py) read and no filter of
warden was chosen on. Built with the ninth to eleventh, to measure one build of warden on
fresh corpora with no change in between.

usage: make_heldout12.py OUT [TOTAL_MIB] [SALT]

The rule, written down before any file of it was looked at:
- Excluded everywhere: every package installed on this machine (`dpkg-query`), every
  package whose name matches a pool of an earlier corpus (make_heldout11.py's list, plus its
  own pools: ^inkscape, ^gimp, ^freecad, ^kicad, ^qgis, ^gnuradio, ^sphinx, ^mkdocs,
  ^jekyll, ^hugo, ^pelican, ^doxygen, ^libreoffice, ^minetest, ^wesnoth, ^0ad, ^supertux,
  ^freeciv, ^openttd, ^git-, ^mercurial, ^subversion, ^gitlab, ^ant, ^maven, ^gradle,
  ^scala, ^groovy, ^jython, ^pypy, ^python-, ^php8, ^nodejs, ^npm, ^yarn, ^rubygems); and
  packages whose .deb is over 64 MiB (`apt-cache show`).
- Pools, as shares of TOTAL_MIB (120 by default), at most 3 MiB per package in every pool:
  - Tryton modules, packages named `tryton-modules-*` (20 %);
  - issue trackers and CI, packages named `trac*`, `bugzilla*`, `request-tracker*`,
    `rt4-*`, `redmine*`, `ganeti*` or `buildbot*` (20 %): also .erb .tt .pm;
  - monitoring, packages named `ganglia*`, `smokeping*`, `mrtg*`, `collectd*`, `netdata*`,
    `monit*` or `graphite*` (20 %);
  - printing, packages named `printer-driver-*` or `cups-*` (15 %): also .ppd .drv;
  - music, packages named `pd-*`, `puredata*`, `supercollider*`, `sc3-*`, `csound*` or
    `lilypond*` (25 %): also .pd .sc .scd .csd .orc .ly .scm.
  Every pool takes the configuration suffixes, .py .pl .pm .rb .php .js .lua .tcl .html
  .tpl .sql, and scripts. The configuration suffixes are .conf .cfg .cnf .ini .yaml .yml
  .json .toml .xml .properties .env .example .sample .sh .bash .service .socket .timer. A
  script is a file under `etc/`, `usr/lib/`, `usr/share/`, `usr/bin/` or `usr/sbin/` whose
  first two bytes are `#!`.
  A package is in one pool only, by the order above (Tryton first); a file is matched by its
  last suffix.
- The pools are filled in the order above, the music pool last: any pool that runs out of
  candidates before its share leaves its shortfall to it, and it takes TOTAL_MIB less what
  the others took.
- Candidates are the names `apt-cache search --names-only` lists, in a fixed pseudo-random
  order (sha256 of SALT and the name; SALT "warden-heldout12-2026-12-03" by default). Each
  package is fetched with `apt-get download` (8 at a time; the result does not depend on the
  batching) and unpacked with `dpkg-deb -x` (nothing is installed); files of the pool are
  copied in sorted order until the pool's share is reached, files over 2 MiB or empty skipped.
OUT.packages.txt lists every package and version used; OUT.sha256 a checksum of every file
(`cd OUT && sha256sum -c --quiet ../OUT.sha256`), both beside OUT, not in it.
"""

from debian_corpus import CODE, pool_patterns, run_pools, script
from make_heldout11 import SEEN as SEEN_BEFORE

TRACKERS = {".erb", ".tt", ".pm"} | CODE
PRINTING = {".ppd", ".drv"} | CODE
MUSIC = {".pd", ".sc", ".scd", ".csd", ".orc", ".ly", ".scm"} | CODE


# (label, name patterns, extensions, share, also); the music pool last (it takes what the
# others left).
POOLS = [
    ("tryton", [r"^tryton-modules-"], CODE, 0.20, script),
    ("trackers", [r"^trac", r"^bugzilla", r"^request-tracker", r"^rt4-", r"^redmine",
                  r"^ganeti", r"^buildbot"], TRACKERS, 0.20, script),
    ("monitoring", [r"^ganglia", r"^smokeping", r"^mrtg", r"^collectd", r"^netdata", r"^monit",
                    r"^graphite"], CODE, 0.20, script),
    ("printing", [r"^printer-driver-", r"^cups-"], PRINTING, 0.15, script),
    ("music", [r"^pd-", r"^puredata", r"^supercollider", r"^sc3-", r"^csound", r"^lilypond"],
     MUSIC, 0.25, script),
]


# Every name this corpus and the earlier ones drew from: the next corpus excludes them.
SEEN = SEEN_BEFORE + pool_patterns(POOLS)

if __name__ == "__main__":
    run_pools(POOLS, SEEN_BEFORE, 120, "warden-heldout12-2026-12-03", "heldout12-stage-")
