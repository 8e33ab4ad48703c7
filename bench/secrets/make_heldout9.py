#!/usr/bin/env python3
"""Build the NINTH held-out corpus: configuration, script, template and SQL packages, Emacs
major modes, desktop environments and themes, the core and base packages of applications,
and input methods, from sources no earlier corpus (make_corpus.py, the C headers and Perl of
/usr, make_heldout.py to make_heldout8.py) read and no filter of warden was chosen on. Built
after the eighth was measured, to count false positives once more on code nobody tuned on.

usage: make_heldout9.py OUT [TOTAL_MIB] [SALT]

The rule, written down before any file of it was looked at:
- Excluded everywhere: every package installed on this machine (`dpkg-query`), every
  package whose name matches a pool of an earlier corpus (make_heldout8.py's list, plus its
  own pools: ^openstack, ^nova-, ^neutron-, ^keystone, ^heat-, ^cinder-, ^glance, ^swift,
  ^ceph, ^salt-, ^docker, ^podman, ^kubernetes, ^vagrant, ^lxc, ^libvirt, ^cloud-,
  ^prometheus-, ^postfix, ^dovecot, ^exim4, ^bind9, ^apache2, ^nginx, ^lighttpd, ^haproxy,
  ^squid, ^samba, ^freeradius, ^asterisk, ^kamailio, ^openvpn, ^strongswan, ^wireguard,
  ^fail2ban, ^slapd, ^openldap, -client$, -cli$, ^jupyter, ^sagemath, ^gap-, ^qml-, ^kde,
  ^xfce4-, -agent$, -exporter$, -backend$, -api$, -web$, -www$, -frontend$); and packages
  whose .deb is over 64 MiB (`apt-cache show`).
- Pools, as shares of TOTAL_MIB (120 by default), at most 3 MiB per package in every pool:
  - configuration, scripts, templates and SQL, packages named `*-config`, `*-conf`,
    `*-scripts`, `*-templates` or `*-sql` (25 %);
  - Emacs major modes, packages named `*-mode` (15 %): also .el;
  - desktop environments and themes, packages named `mate-*`, `cinnamon*`, `lxqt*`,
    `lxde*` or `*-theme` (20 %): also .qml .css;
  - input methods, packages named `fcitx*` or `ibus-*` (15 %);
  - core and base packages, packages named `*-core` or `*-base` (25 %).
  Every pool takes the configuration suffixes, .py .pl .pm .rb .php .js .lua .tcl .html
  .tpl .sql, and scripts. The configuration suffixes are .conf .cfg .cnf .ini .yaml .yml
  .json .toml .xml .properties .env .example .sample .sh .bash .service .socket .timer. A
  script is a file under `etc/`, `usr/lib/`, `usr/share/`, `usr/bin/` or `usr/sbin/` whose
  first two bytes are `#!`.
  A package is in one pool only, by the order above (configuration first); a file is
  matched by its last suffix.
- The pools are filled in the order above, the core pool last: any pool that runs out of
  candidates before its share leaves its shortfall to it, and it takes TOTAL_MIB less what
  the others took.
- Candidates are the names `apt-cache search --names-only` lists, in a fixed pseudo-random
  order (sha256 of SALT and the name; SALT "warden-heldout9-2026-12-03" by default). Each
  package is fetched with `apt-get download` (8 at a time; the result does not depend on the
  batching) and unpacked with `dpkg-deb -x` (nothing is installed); files of the pool are
  copied in sorted order until the pool's share is reached, files over 2 MiB or empty skipped.
OUT.packages.txt lists every package and version used; OUT.sha256 a checksum of every file
(`cd OUT && sha256sum -c --quiet ../OUT.sha256`), both beside OUT, not in it.
"""

from debian_corpus import CODE, pool_patterns, run_pools, script
from make_heldout8 import SEEN as SEEN_BEFORE

MODES = {".el"} | CODE
DESKTOP = {".qml", ".css"} | CODE


# (label, name patterns, extensions, share, also); the core pool last (it takes what the
# others left).
POOLS = [
    ("configuration", [r"-config$", r"-conf$", r"-scripts$", r"-templates$", r"-sql$"], CODE,
     0.25, script),
    ("modes", [r"-mode$"], MODES, 0.15, script),
    ("desktop", [r"^mate-", r"^cinnamon", r"^lxqt", r"^lxde", r"-theme$"], DESKTOP, 0.20,
     script),
    ("input", [r"^fcitx", r"^ibus-"], CODE, 0.15, script),
    ("core", [r"-core$", r"-base$"], CODE, 0.25, script),
]


# Every name this corpus and the earlier ones drew from: the next corpus excludes them.
SEEN = SEEN_BEFORE + pool_patterns(POOLS)

if __name__ == "__main__":
    run_pools(POOLS, SEEN_BEFORE, 120, "warden-heldout9-2026-12-03", "heldout9-stage-")
