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

import re
import sys
from pathlib import Path

from debian_corpus import MIB, build_pools, copy_tree, unpack

out = Path(sys.argv[1])
total = int(sys.argv[2]) if len(sys.argv) > 2 else 120
salt = sys.argv[3] if len(sys.argv) > 3 else "warden-heldout11-2026-12-03"
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
                     r"|^zsh|^fish|^bash-|^w3m|^emacs|-el$|^haskell-|^gnustep|^x11-|-bin$")
CONF = {".conf", ".cfg", ".cnf", ".ini", ".yaml", ".yml", ".json", ".toml", ".xml",
        ".properties", ".env", ".example", ".sample", ".sh", ".bash",
        ".service", ".socket", ".timer"}
CODE = {".py", ".pl", ".pm", ".rb", ".php", ".js", ".lua", ".tcl", ".html", ".tpl",
        ".sql"} | CONF
GRAPHICS = {".scm", ".svg"} | CODE
DOCS = {".css", ".md"} | CODE
OFFICE = {".xcu", ".xcd", ".bas"} | CODE
BUILD = {".groovy", ".gradle", ".scala"} | CODE
SCRIPT_ROOTS = {("etc",), ("usr", "lib"), ("usr", "share"), ("usr", "bin"), ("usr", "sbin")}


def script(path, rel):
    """A file under etc/, usr/lib/, usr/share/, usr/bin/ or usr/sbin/ that starts with `#!`."""
    if rel.parts[:1] not in SCRIPT_ROOTS and rel.parts[:2] not in SCRIPT_ROOTS:
        return False
    with open(path, "rb") as f:
        return f.read(2) == b"#!"


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


def pool_of(name):
    """The one pool a package name belongs to, by the precedence of POOLS."""
    for label, patterns, _, _, _ in POOLS:
        if any(re.search(p, name) for p in patterns):
            return label
    return None


def take_pool(pool, name, deb, room):
    label, _, exts, _, also = pool
    return copy_tree(unpack(deb), out / label / name, exts, min(CAP, room), also)


build_pools(out, total, salt, POOLS, pool_of, EARLIER, take_pool, "heldout11-stage-",
            max_deb=MAX_DEB, batch=BATCH)
