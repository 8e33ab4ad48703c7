#!/usr/bin/env python3
"""Build the THIRTEENTH held-out corpus: security software. PKI, authentication and
password tools (FreeIPA, Kerberos, certificate and ACME clients, smart cards, PAM modules,
GnuPG, password managers), network security (VPN, TLS and SSH tools, DNS servers, XMPP and
MQTT servers), security testing and monitoring (nmap, password crackers, web scanners, IDS,
malware scanners) and mail security and directory administration (SpamAssassin, DKIM and
DMARC, Cyrus, Courier, Sympa, LDAP web front ends), from sources no earlier corpus
(make_corpus.py, the C headers and Perl of /usr, make_heldout.py to make_heldout12.py) read
and no filter of warden was chosen on.

Why this family: the corpora 9 to 12 held so little that looks like a secret that every
careful scanner listed (almost) nothing on them, which cannot tell scanners apart. Security
software is where secret-shaped text is densest (PEM headers in key-handling code, test keys
and certificates, hashes, default and example passwords, TSIG and DKIM keys in sample
configurations), so it is the hardest place for every scanner, warden included, to avoid
false positives. The family and the rule were chosen before any file of it was looked at.

usage: make_heldout13.py OUT [TOTAL_MIB] [SALT]

The rule, written down before any file of it was looked at:
- Excluded everywhere: every package installed on this machine (`dpkg-query`), every
  package whose name matches a pool of an earlier corpus (make_heldout12.py's list, plus its
  own pools: ^tryton-modules-, ^trac, ^bugzilla, ^request-tracker, ^rt4-, ^redmine,
  ^ganeti, ^buildbot, ^ganglia, ^smokeping, ^mrtg, ^collectd, ^netdata, ^monit, ^graphite,
  ^printer-driver-, ^cups-, ^pd-, ^puredata, ^supercollider, ^sc3-, ^csound, ^lilypond);
  and packages whose .deb is over 64 MiB (`apt-cache show`).
- Pools, as shares of TOTAL_MIB (120 by default), at most 3 MiB per package in every pool:
  - PKI, authentication and passwords (25 %), packages named `freeipa*`, `certmonger*`,
    `easy-rsa*`, `389-ds*`, `sssd*`, `krb5*`, `heimdal*`, `shibboleth*`, `simplesamlphp*`,
    `certbot*`, `letsencrypt*`, `dehydrated*`, `lego*`, `acmetool*`, `uacme*`, `ssl-cert*`,
    `xca*`, `nss-*`, `p11*`, `opensc*`, `softhsm*`, `tpm2*`, `yubikey*`, `oath*`,
    `libpam-*`, `pam-*`, `gnupg*`, `pinentry*`, `signing-party*`, `monkeysphere*`,
    `signify*`, `minisign*`, `age`, `keepass*`, `gopass*`, `kwallet*`, `seahorse*`,
    `pwgen*`, `apg*`, `makepasswd*`, `cracklib*`, `passwdqc*` or `pwauth*`: also .pem .crt
    .key;
  - network security (25 %), packages named `openconnect*`, `ocserv*`, `vpnc*`,
    `libreswan*`, `tinc*`, `stunnel*`, `sslh*`, `dropbear*`, `ssh-*`, `putty*`, `mosh*`,
    `sshpass*`, `sshuttle*`, `autossh*`, `fwknop*`, `knockd*`, `tor`, `privoxy*`,
    `radsecproxy*`, `opendnssec*`, `knot*`, `unbound*`, `nsd*`, `pdns*`, `kea*`,
    `ejabberd*`, `prosody*`, `coturn*`, `mosquitto*` or `snmp*`: also .erl .hrl .pem .crt
    .key;
  - security testing and monitoring (25 %), packages named `nmap*`, `ncrack*`, `hydra*`,
    `john*`, `hashcat*`, `sqlmap*`, `wapiti*`, `wfuzz*`, `mitmproxy*`, `sslscan*`,
    `testssl*`, `lynis*`, `rkhunter*`, `chkrootkit*`, `aide*`, `suricata*`, `clamav*`,
    `yara*`, `ettercap*`, `wireshark*`, `tcpdump*`, `ngrep*`, `arpwatch*`, `steghide*` or
    `ssss*`: also .nse .rules .yar;
  - mail security and directory administration (25 %), packages named `spamassassin*`,
    `amavisd*`, `opendkim*`, `opendmarc*`, `rspamd*`, `sympa*`, `courier*`, `cyrus*`,
    `ldap-account-manager*`, `gosa*` or `phpldapadmin*`: also .cf .tt2 .inc.
  Every pool takes the configuration suffixes, .py .pl .pm .rb .php .js .lua .tcl .html
  .tpl .sql, and scripts. The configuration suffixes are .conf .cfg .cnf .ini .yaml .yml
  .json .toml .xml .properties .env .example .sample .sh .bash .service .socket .timer. A
  script is a file under `etc/`, `usr/lib/`, `usr/share/`, `usr/bin/` or `usr/sbin/` whose
  first two bytes are `#!`.
  A package is in one pool only, by the order above (PKI first); a file is matched by its
  last suffix.
- The pools are filled in the order above, the mail pool last: any pool that runs out of
  candidates before its share leaves its shortfall to it, and it takes TOTAL_MIB less what
  the others took (most of these packages are compiled programs, so the corpus may be
  smaller than TOTAL_MIB).
- Candidates are the names `apt-cache search --names-only` lists, in a fixed pseudo-random
  order (sha256 of SALT and the name; SALT "warden-heldout13-2026-12-03" by default). Each
  package is fetched with `apt-get download` (8 at a time; the result does not depend on the
  batching) and unpacked with `dpkg-deb -x` (nothing is installed); files of the pool are
  copied in sorted order until the pool's share is reached, files over 2 MiB or empty skipped.
OUT.packages.txt lists every package and version used; OUT.sha256 a checksum of every file
(`cd OUT && sha256sum -c --quiet ../OUT.sha256`), both beside OUT, not in it.
"""

from debian_corpus import CODE, pool_patterns, run_pools, script
from make_heldout12 import SEEN as SEEN_BEFORE

KEYS = {".pem", ".crt", ".key"}
PKI = KEYS | CODE
NETWORK = {".erl", ".hrl"} | KEYS | CODE
TESTING = {".nse", ".rules", ".yar"} | CODE
MAIL = {".cf", ".tt2", ".inc"} | CODE


# (label, name patterns, extensions, share, also); the mail pool last (it takes what the
# others left).
POOLS = [
    ("pki", [r"^freeipa", r"^certmonger", r"^easy-rsa", r"^389-ds", r"^sssd", r"^krb5",
             r"^heimdal", r"^shibboleth", r"^simplesamlphp", r"^certbot", r"^letsencrypt",
             r"^dehydrated", r"^lego", r"^acmetool", r"^uacme", r"^ssl-cert", r"^xca",
             r"^nss-", r"^p11", r"^opensc", r"^softhsm", r"^tpm2", r"^yubikey", r"^oath",
             r"^libpam-", r"^pam-", r"^gnupg", r"^pinentry", r"^signing-party",
             r"^monkeysphere", r"^signify", r"^minisign", r"^age$", r"^keepass", r"^gopass",
             r"^kwallet", r"^seahorse", r"^pwgen", r"^apg", r"^makepasswd", r"^cracklib",
             r"^passwdqc", r"^pwauth"], PKI, 0.25, script),
    ("network", [r"^openconnect", r"^ocserv", r"^vpnc", r"^libreswan", r"^tinc", r"^stunnel",
                 r"^sslh", r"^dropbear", r"^ssh-", r"^putty", r"^mosh", r"^sshpass",
                 r"^sshuttle", r"^autossh", r"^fwknop", r"^knockd", r"^tor$", r"^privoxy",
                 r"^radsecproxy", r"^opendnssec", r"^knot", r"^unbound", r"^nsd", r"^pdns",
                 r"^kea", r"^ejabberd", r"^prosody", r"^coturn", r"^mosquitto", r"^snmp"],
     NETWORK, 0.25, script),
    ("testing", [r"^nmap", r"^ncrack", r"^hydra", r"^john", r"^hashcat", r"^sqlmap",
                 r"^wapiti", r"^wfuzz", r"^mitmproxy", r"^sslscan", r"^testssl", r"^lynis",
                 r"^rkhunter", r"^chkrootkit", r"^aide", r"^suricata", r"^clamav", r"^yara",
                 r"^ettercap", r"^wireshark", r"^tcpdump", r"^ngrep", r"^arpwatch",
                 r"^steghide", r"^ssss"], TESTING, 0.25, script),
    ("mail", [r"^spamassassin", r"^amavisd", r"^opendkim", r"^opendmarc", r"^rspamd", r"^sympa",
              r"^courier", r"^cyrus", r"^ldap-account-manager", r"^gosa", r"^phpldapadmin"],
     MAIL, 0.25, script),
]


# Every name this corpus and the earlier ones drew from: the next corpus excludes them.
SEEN = SEEN_BEFORE + pool_patterns(POOLS)

if __name__ == "__main__":
    run_pools(POOLS, SEEN_BEFORE, 120, "warden-heldout13-2026-12-03", "heldout13-stage-")
