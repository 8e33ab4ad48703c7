#!/usr/bin/env python3
"""Build the EIGHTH held-out corpus: the configuration and scripts of infrastructure services,
of mail, web and network servers, of clients and command-line tools, of agents, exporters
and web front ends, plus notebooks and computer algebra (Jupyter, SageMath, GAP) and Qt/QML
desktop code, from sources no earlier corpus (make_corpus.py, the C headers and Perl of
/usr, make_heldout.py to make_heldout7.py) read and no filter of warden was chosen on. Built
together with the seventh, to count false positives on two fresh corpora.

usage: make_heldout8.py OUT [TOTAL_MIB] [SALT]

The rule, written down before any file of it was looked at:
- Excluded everywhere: every package installed on this machine (`dpkg-query`), every
  package whose name matches a pool of an earlier corpus (make_heldout7.py's list, plus its
  own pools: ^roundcube, ^wordpress, ^phpmyadmin, ^mediawiki, ^icingaweb2, ^dokuwiki,
  ^zabbix, ^nagios, ^icinga, ^munin, ^mailman, ^sogo, ^cacti, -dkms$, ^cl-,
  ^postgresql-NN-, ^webext-, ^xul-ext-, ^dh-, -server$, -daemon$); and packages whose
  .deb is over 64 MiB (`apt-cache show`).
- Pools, as shares of TOTAL_MIB (120 by default), at most 3 MiB per package in every pool:
  - infrastructure, packages named `openstack*`, `nova-*`, `neutron-*`, `keystone*`,
    `heat-*`, `cinder-*`, `glance*`, `swift*`, `ceph*`, `salt-*`, `docker*`, `podman*`,
    `kubernetes*`, `vagrant*`, `lxc*`, `libvirt*`, `cloud-*` or `prometheus-*` (20 %);
  - mail, web and network servers, packages named `postfix*`, `dovecot*`, `exim4*`,
    `bind9*`, `apache2*`, `nginx*`, `lighttpd*`, `haproxy*`, `squid*`, `samba*`,
    `freeradius*`, `asterisk*`, `kamailio*`, `openvpn*`, `strongswan*`, `wireguard*`,
    `fail2ban*`, `slapd*` or `openldap*` (20 %);
  - clients and command-line tools, packages named `*-client` or `*-cli` (15 %);
  - notebooks and computer algebra, packages named `jupyter*`, `sagemath*` or `gap-*`
    (10 %): also .ipynb .g .gi .gd .sage;
  - Qt/QML and desktop, packages named `qml-*`, `kde*` or `xfce4-*` (15 %): also .qml;
  - agents, exporters and front ends, packages named `*-agent`, `*-exporter`, `*-backend`,
    `*-api`, `*-web`, `*-www` or `*-frontend` (20 %).
  Every pool takes the configuration suffixes, .py .pl .pm .rb .php .js .lua .tcl .html
  .tpl .sql, and scripts. The configuration suffixes are .conf .cfg .cnf .ini .yaml .yml
  .json .toml .xml .properties .env .example .sample .sh .bash .service .socket .timer. A
  script is a file under `etc/`, `usr/lib/`, `usr/share/`, `usr/bin/` or `usr/sbin/` whose
  first two bytes are `#!`.
  A package is in one pool only, by the order above (infrastructure first); a file is
  matched by its last suffix.
- The pools are filled in the order above, the front-end pool last: any pool that runs out
  of candidates before its share leaves its shortfall to it, and it takes TOTAL_MIB less
  what the others took.
- Candidates are the names `apt-cache search --names-only` lists, in a fixed pseudo-random
  order (sha256 of SALT and the name; SALT "warden-heldout8-2026-12-03" by default). Each
  package is fetched with `apt-get download` (8 at a time; the result does not depend on the
  batching) and unpacked with `dpkg-deb -x` (nothing is installed); files of the pool are
  copied in sorted order until the pool's share is reached, files over 2 MiB or empty skipped.
OUT.packages.txt lists every package and version used; OUT.sha256 a checksum of every file
(`cd OUT && sha256sum -c --quiet ../OUT.sha256`), both beside OUT, not in it.
"""

from debian_corpus import CODE, pool_patterns, run_pools, script
from make_heldout7 import SEEN as SEEN_BEFORE

NOTEBOOKS = {".ipynb", ".g", ".gi", ".gd", ".sage"} | CODE
QML = {".qml"} | CODE


INFRA = [r"^openstack", r"^nova-", r"^neutron-", r"^keystone", r"^heat-", r"^cinder-",
         r"^glance", r"^swift", r"^ceph", r"^salt-", r"^docker", r"^podman", r"^kubernetes",
         r"^vagrant", r"^lxc", r"^libvirt", r"^cloud-", r"^prometheus-"]
NETWORK = [r"^postfix", r"^dovecot", r"^exim4", r"^bind9", r"^apache2", r"^nginx",
           r"^lighttpd", r"^haproxy", r"^squid", r"^samba", r"^freeradius", r"^asterisk",
           r"^kamailio", r"^openvpn", r"^strongswan", r"^wireguard", r"^fail2ban", r"^slapd",
           r"^openldap"]

# (label, name patterns, extensions, share, also); the front-end pool last (it takes what
# the others left).
POOLS = [
    ("infrastructure", INFRA, CODE, 0.20, script),
    ("network", NETWORK, CODE, 0.20, script),
    ("clients", [r"-client$", r"-cli$"], CODE, 0.15, script),
    ("notebooks", [r"^jupyter", r"^sagemath", r"^gap-"], NOTEBOOKS, 0.10, script),
    ("desktop", [r"^qml-", r"^kde", r"^xfce4-"], QML, 0.15, script),
    ("frontends", [r"-agent$", r"-exporter$", r"-backend$", r"-api$", r"-web$", r"-www$",
                   r"-frontend$"], CODE, 0.20, script),
]


# Every name this corpus and the earlier ones drew from: the next corpus excludes them.
SEEN = SEEN_BEFORE + pool_patterns(POOLS)

if __name__ == "__main__":
    run_pools(POOLS, SEEN_BEFORE, 120, "warden-heldout8-2026-12-03", "heldout8-stage-")
