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

import re
import sys
from pathlib import Path

from debian_corpus import MIB, build_pools, copy_tree, unpack

out = Path(sys.argv[1])
total = int(sys.argv[2]) if len(sys.argv) > 2 else 120
salt = sys.argv[3] if len(sys.argv) > 3 else "warden-heldout12-2026-12-03"
BATCH = 8
CAP = 3 * MIB
MAX_DEB = 64 * MIB
EARLIER = re.compile(r"^golang-|^ruby-|^php-|^python3-|^node-|^r-cran-|^elpa-|^lua-|^librust-"
                     r"|^ansible|^puppet-module-|^lib.*-perl$|-doc$|-common$|^libocaml|^ocaml-"
                     r"|-ocaml-dev$|^octave-|^erlang-|^elixir-|^tcl|^tk"
                     r"|^lib.*-dev$|-examples?$|-data$|-tools$|-utils$|^guile-"
                     r"|^libjs-|^r-bioc-|^texlive-|^vim-|^gnome-shell-extension-|-plugins?$"
                     r"|^roundcube|^wordpress|^phpmyadmin|^mediawiki|^icingaweb2|^dokuwiki"
                     r"|^zabbix|^nagios|^icinga|^munin|^mailman|^sogo|^cacti|-dkms$|^cl-"
                     r"|^postgresql-[0-9]+-|^webext-|^xul-ext-|^dh-|-server$|-daemon$"
                     r"|^openstack|^nova-|^neutron-|^keystone|^heat-|^cinder-|^glance|^swift"
                     r"|^ceph|^salt-|^docker|^podman|^kubernetes|^vagrant|^lxc|^libvirt|^cloud-"
                     r"|^prometheus-|^postfix|^dovecot|^exim4|^bind9|^apache2|^nginx|^lighttpd"
                     r"|^haproxy|^squid|^samba|^freeradius|^asterisk|^kamailio|^openvpn"
                     r"|^strongswan|^wireguard|^fail2ban|^slapd|^openldap|-client$|-cli$"
                     r"|^jupyter|^sagemath|^gap-|^qml-|^kde|^xfce4-|-agent$|-exporter$"
                     r"|-backend$|-api$|-web$|-www$|-frontend$"
                     r"|-config$|-conf$|-scripts$|-templates$|-sql$|-mode$|^mate-|^cinnamon"
                     r"|^lxqt|^lxde|-theme$|^fcitx|^ibus-|-core$|-base$"
                     r"|^gnome-|^mutt|^neomutt|^irssi|^weechat|^znc|^bitlbee|^conky|^tmux"
                     r"|^zsh|^fish|^bash-|^w3m|^emacs|-el$|^haskell-|^gnustep|^x11-|-bin$"
                     r"|^inkscape|^gimp|^freecad|^kicad|^qgis|^gnuradio|^sphinx|^mkdocs"
                     r"|^jekyll|^hugo|^pelican|^doxygen|^libreoffice|^minetest|^wesnoth|^0ad"
                     r"|^supertux|^freeciv|^openttd|^git-|^mercurial|^subversion|^gitlab|^ant"
                     r"|^maven|^gradle|^scala|^groovy|^jython|^pypy|^python-|^php8|^nodejs"
                     r"|^npm|^yarn|^rubygems")
CONF = {".conf", ".cfg", ".cnf", ".ini", ".yaml", ".yml", ".json", ".toml", ".xml",
        ".properties", ".env", ".example", ".sample", ".sh", ".bash",
        ".service", ".socket", ".timer"}
CODE = {".py", ".pl", ".pm", ".rb", ".php", ".js", ".lua", ".tcl", ".html", ".tpl",
        ".sql"} | CONF
TRACKERS = {".erb", ".tt", ".pm"} | CODE
PRINTING = {".ppd", ".drv"} | CODE
MUSIC = {".pd", ".sc", ".scd", ".csd", ".orc", ".ly", ".scm"} | CODE
SCRIPT_ROOTS = {("etc",), ("usr", "lib"), ("usr", "share"), ("usr", "bin"), ("usr", "sbin")}


def script(path, rel):
    """A file under etc/, usr/lib/, usr/share/, usr/bin/ or usr/sbin/ that starts with `#!`."""
    if rel.parts[:1] not in SCRIPT_ROOTS and rel.parts[:2] not in SCRIPT_ROOTS:
        return False
    with open(path, "rb") as f:
        return f.read(2) == b"#!"


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


def pool_of(name):
    """The one pool a package name belongs to, by the precedence of POOLS."""
    for label, patterns, _, _, _ in POOLS:
        if any(re.search(p, name) for p in patterns):
            return label
    return None


def take_pool(pool, name, deb, room):
    label, _, exts, _, also = pool
    return copy_tree(unpack(deb), out / label / name, exts, min(CAP, room), also)


build_pools(out, total, salt, POOLS, pool_of, EARLIER, take_pool, "heldout12-stage-",
            max_deb=MAX_DEB, batch=BATCH)
