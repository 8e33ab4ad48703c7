#!/usr/bin/env python3
"""Build the SEVENTEENTH held-out corpus: system and network administration (high
availability and storage: keepalived, Corosync, Pacemaker, iSCSI, NFS, autofs; routing,
time and network set-up: FRR, BIRD, ExaBGP, dnsmasq, DHCP, NTP, hostapd, wpa_supplicant,
NetworkManager plug-ins, Open vSwitch, PPP; hardware and power: NUT, apcupsd, IPMI,
smartmontools, LVM, mdadm; and base services: FTP servers, syslog-ng, logcheck, cfengine,
FAI, NSS and LDAP look-ups, auditd, cron), from sources no earlier corpus (make_corpus.py,
the C headers and Perl of /usr, make_heldout.py to make_heldout16.py) read and no filter of
warden was chosen on.

Why this family: daemons whose configuration holds shared secrets (VRRP and BGP
passwords, CHAP secrets, UPS and IPMI passwords, Wi-Fi pass phrases, RADIUS and LDAP bind
passwords). The family and the rule were chosen, and the build of warden to measure fixed
(commit 3cce38c, the fifteenth and sixteenth corpora's), before any file of it was looked
at.

usage: make_heldout17.py OUT [TOTAL_MIB] [SALT]

The rule, written down before any file of it was looked at:
- Excluded everywhere: every package installed on this machine (`dpkg-query`), every
  package whose name matches a pool of an earlier corpus (make_heldout16.py's list, plus its
  own pools), and packages whose .deb is over 64 MiB (`apt-cache show`).
- Pools, as shares of TOTAL_MIB (120 by default), at most 3 MiB per package in every pool:
  - high availability and storage (25 %), packages named `keepalived*`, `corosync*`,
    `pacemaker*`, `ucarp*`, `heartbeat*`, `open-iscsi*`, `targetcli*`, `tgt`, `nfs-*`,
    `autofs*`, `crmsh*`, `pcs`, `resource-agents*`, `fence-agents*`, `sanlock*`, `moosefs*`,
    `dlm-*`;
  - routing, time and network set-up (25 %), packages named `frr*`, `bird*`, `exabgp*`,
    `gobgp*`, `openbgpd*`, `dnsmasq*`, `isc-dhcp*`, `radvd*`, `chrony*`, `ntp*`,
    `openntpd*`, `linuxptp*`, `babeld*`, `batctl*`, `hostapd*`, `wpasupplicant*`, `iwd`,
    `connman*`, `network-manager-*`, `netplan*`, `ifupdown*`, `vlan`, `openvswitch*`,
    `ovn-*`, `miniupnpd*`, `igmpproxy*`, `pimd*`, `ppp*`, `xl2tpd*`, `pptpd*`;
  - hardware and power (25 %), packages named `nut-*`, `nut`, `apcupsd*`, `smartmontools*`,
    `ipmitool*`, `freeipmi*`, `openipmi*`, `lm-sensors*`, `fancontrol*`, `powertop*`, `tlp`,
    `thermald*`, `rasdaemon*`, `ledmon*`, `sg3-utils*`, `mdadm*`, `multipath*`, `lvm2*`,
    `zfs-*`, `btrfs*`;
  - base services (25 %, last), packages named `vsftpd*`, `proftpd*`, `pure-ftpd*`, `tftp*`,
    `xinetd*`, `syslog-ng*`, `logwatch*`, `logcheck*`, `sysstat*`, `atop*`, `nmon*`,
    `cfengine*`, `fai-*`, `nslcd*`, `libnss-*`, `nscd*`, `unscd*`, `sudo-ldap*`, `autolog*`,
    `acct`, `auditd*`, `incron*`, `bcron*`, `systemd-cron*`, `nagstamon*`.
  Every pool takes the configuration suffixes, .py .pl .pm .rb .php .js .lua .tcl .html
  .tpl .sql, and scripts. The configuration suffixes are .conf .cfg .cnf .ini .yaml .yml
  .json .toml .xml .properties .env .example .sample .sh .bash .service .socket .timer. A
  script is a file under `etc/`, `usr/lib/`, `usr/share/`, `usr/bin/` or `usr/sbin/` whose
  first two bytes are `#!`.
  A package is in one pool only, by the order above; a file is matched by its last suffix.
- The pools are filled in the order above, the last one last: a shortfall of the others is
  left to it, and it takes TOTAL_MIB less what they took (most of these packages are
  compiled programs, so the corpus may be smaller than TOTAL_MIB).
- Candidates are the names `apt-cache search --names-only` lists, in a fixed pseudo-random
  order (sha256 of SALT and the name; SALT "warden-heldout17-2026-12-03" by default). Each
  package is fetched with `apt-get download` (8 at a time; the result does not depend on the
  batching) and unpacked with `dpkg-deb -x` (nothing is installed); files of the pool are
  copied in sorted order until the pool's share is reached, files over 2 MiB or empty skipped.
- No pool is named like a directory warden reads as tests, examples or documentation; warden
  scans each pool as its own root (`corpus_findings.py --pool-roots`).
OUT.packages.txt lists every package and version used; OUT.sha256 a checksum of every file
(`cd OUT && sha256sum -c --quiet ../OUT.sha256`), both beside OUT, not in it.
"""

from debian_corpus import CODE, pool_patterns, run_pools, script
from make_heldout16 import SEEN as SEEN_BEFORE


# (label, name patterns, extensions, share, also); the services pool last (it takes what the
# others left).
POOLS = [
    ("availability", [
        r"^keepalived", r"^corosync", r"^pacemaker", r"^ucarp", r"^heartbeat", r"^open-iscsi",
        r"^targetcli", r"^tgt$", r"^nfs-", r"^autofs", r"^crmsh", r"^pcs$",
        r"^resource-agents", r"^fence-agents", r"^sanlock", r"^moosefs", r"^dlm-"],
     CODE, 0.25, script),
    ("networking", [
        r"^frr", r"^bird", r"^exabgp", r"^gobgp", r"^openbgpd", r"^dnsmasq", r"^isc-dhcp",
        r"^radvd", r"^chrony", r"^ntp", r"^openntpd", r"^linuxptp", r"^babeld", r"^batctl",
        r"^hostapd", r"^wpasupplicant", r"^iwd$", r"^connman", r"^network-manager-",
        r"^netplan", r"^ifupdown", r"^vlan$", r"^openvswitch", r"^ovn-", r"^miniupnpd",
        r"^igmpproxy", r"^pimd", r"^ppp", r"^xl2tpd", r"^pptpd"],
     CODE, 0.25, script),
    ("hardware", [
        r"^nut-", r"^nut$", r"^apcupsd", r"^smartmontools", r"^ipmitool", r"^freeipmi",
        r"^openipmi", r"^lm-sensors", r"^fancontrol", r"^powertop", r"^tlp$", r"^thermald",
        r"^rasdaemon", r"^ledmon", r"^sg3-utils", r"^mdadm", r"^multipath", r"^lvm2", r"^zfs-",
        r"^btrfs"],
     CODE, 0.25, script),
    ("services", [
        r"^vsftpd", r"^proftpd", r"^pure-ftpd", r"^tftp", r"^xinetd", r"^syslog-ng",
        r"^logwatch", r"^logcheck", r"^sysstat", r"^atop", r"^nmon", r"^cfengine", r"^fai-",
        r"^nslcd", r"^libnss-", r"^nscd", r"^unscd", r"^sudo-ldap", r"^autolog", r"^acct$",
        r"^auditd", r"^incron", r"^bcron", r"^systemd-cron", r"^nagstamon"],
     CODE, 0.25, script),
]


# Every name this corpus and the earlier ones drew from: the next corpus excludes them.
SEEN = SEEN_BEFORE + pool_patterns(POOLS)

if __name__ == "__main__":
    run_pools(POOLS, SEEN_BEFORE, 120, "warden-heldout17-2026-12-03", "heldout17-stage-")
