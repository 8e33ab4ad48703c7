#!/usr/bin/env python3
"""Build the FOURTEENTH held-out corpus: self-hosted web applications (wikis, feed
readers, CalDAV, Git hosting, log analysers, video surveillance, Cockpit, Matrix), media
and download applications (Kodi and its add-ons, MPD clients, Mopidy, BitTorrent and Usenet
clients, Calibre), databases and their tools (MariaDB, PostgreSQL add-ons, poolers and
backup tools, Redis, InfluxDB, ODBC drivers, dbconfig, database shells) and message queues
and coordination services (ZooKeeper, Kafka tools, ActiveMQ, Gearman, Celery, RabbitMQ), from
sources no earlier corpus (make_corpus.py, the C headers and Perl of /usr, make_heldout.py to
make_heldout13.py) read and no filter of warden was chosen on.

Why this family: like the thirteenth, software whose configuration and code handle
credentials (database URLs and passwords, API keys of media services, admin accounts), where
a scanner is most tempted to report what is not a secret. The family and the rule were
chosen, and the build of warden to measure fixed, before any file of it was looked at.

usage: make_heldout14.py OUT [TOTAL_MIB] [SALT]

The rule, written down before any file of it was looked at:
- Excluded everywhere: every package installed on this machine (`dpkg-query`), every
  package whose name matches a pool of an earlier corpus (make_heldout13.py's list, plus its
  own pools), and packages whose .deb is over 64 MiB (`apt-cache show`).
- Pools, as shares of TOTAL_MIB (120 by default), at most 3 MiB per package in every pool:
  - web applications (30 %), packages named `ikiwiki*`, `tt-rss*`, `davical*`, `radicale*`,
    `seafile*`, `syncthing*`, `cgit*`, `gitweb*`, `gitolite*`, `awstats*`, `webalizer*`,
    `goaccess*`, `zoneminder*`, `motion*`, `shaarli*`, `listadmin*`, `cockpit*`,
    `synapse*`, `matrix-synapse*`, `fusioninventory*`, `ocsinventory*`, `nfdump*` or
    `rancid*`: also .cgi .inc .tmpl;
  - media and downloads (20 %), packages named `kodi*`, `mpd*`, `mopidy*`, `icecast*`,
    `transmission*`, `deluge*`, `qbittorrent*`, `rtorrent*`, `nzbget*`, `calibre*` or
    `gallery-dl*`;
  - databases (30 %), packages named `mariadb*`, `mysql*`, `percona*`, `galera*`,
    `pgbouncer*`, `pgpool*`, `repmgr*`, `patroni*`, `barman*`, `pgbackrest*`, `pgtap*`,
    `postgis*`, `redis*`, `memcached*`, `influxdb*`, `sqlite*`, `adminer*`, `mycli*`,
    `pgcli*`, `sqlline*`, `unixodbc*`, `odbc*`, `tdsodbc*`, `libdbd*`, `dbconfig*`,
    `automysqlbackup*`, `autopostgresqlbackup*`, `mydumper*`, `pg-*`, `pgxnclient*`,
    `postgresql-*`, `skytools*`, `pgloader*`, `sqlsmith*`, `pspg*`, `gdbm*`, `db5*` or
    `db-util*`;
  - message queues and coordination (20 %), packages named `zookeeper*`, `etcd*`,
    `kafka*`, `activemq*`, `beanstalkd*`, `gearman*`, `celery*`, `rabbitmq*`, `nats*`,
    `consul*` or `nomad*`.
  Every pool takes the configuration suffixes, .py .pl .pm .rb .php .js .lua .tcl .html
  .tpl .sql, and scripts. The configuration suffixes are .conf .cfg .cnf .ini .yaml .yml
  .json .toml .xml .properties .env .example .sample .sh .bash .service .socket .timer. A
  script is a file under `etc/`, `usr/lib/`, `usr/share/`, `usr/bin/` or `usr/sbin/` whose
  first two bytes are `#!`.
  A package is in one pool only, by the order above (web applications first); a file is
  matched by its last suffix.
- The pools are filled in the order above, the queue pool last: any pool that runs out of
  candidates before its share leaves its shortfall to it, and it takes TOTAL_MIB less what
  the others took (most of these packages are compiled programs, so the corpus may be
  smaller than TOTAL_MIB).
- Candidates are the names `apt-cache search --names-only` lists, in a fixed pseudo-random
  order (sha256 of SALT and the name; SALT "warden-heldout14-2026-12-03" by default). Each
  package is fetched with `apt-get download` (8 at a time; the result does not depend on the
  batching) and unpacked with `dpkg-deb -x` (nothing is installed); files of the pool are
  copied in sorted order until the pool's share is reached, files over 2 MiB or empty skipped.
- No pool is named like a directory warden reads as tests, examples or documentation (the
  thirteenth corpus's `testing` pool was, see its TSV).
OUT.packages.txt lists every package and version used; OUT.sha256 a checksum of every file
(`cd OUT && sha256sum -c --quiet ../OUT.sha256`), both beside OUT, not in it.
"""

from debian_corpus import CODE, pool_patterns, run_pools, script
from make_heldout13 import SEEN as SEEN_BEFORE

WEB = {".cgi", ".inc", ".tmpl"} | CODE


# (label, name patterns, extensions, share, also); the queue pool last (it takes what the
# others left).
POOLS = [
    ("webapps", [r"^ikiwiki", r"^tt-rss", r"^davical", r"^radicale", r"^seafile", r"^syncthing",
                 r"^cgit", r"^gitweb", r"^gitolite", r"^awstats", r"^webalizer", r"^goaccess",
                 r"^zoneminder", r"^motion", r"^shaarli", r"^listadmin", r"^cockpit",
                 r"^synapse", r"^matrix-synapse", r"^fusioninventory", r"^ocsinventory",
                 r"^nfdump", r"^rancid"], WEB, 0.30, script),
    ("media", [r"^kodi", r"^mpd", r"^mopidy", r"^icecast", r"^transmission", r"^deluge",
               r"^qbittorrent", r"^rtorrent", r"^nzbget", r"^calibre", r"^gallery-dl"],
     CODE, 0.20, script),
    ("databases", [r"^mariadb", r"^mysql", r"^percona", r"^galera", r"^pgbouncer", r"^pgpool",
                   r"^repmgr", r"^patroni", r"^barman", r"^pgbackrest", r"^pgtap", r"^postgis",
                   r"^redis", r"^memcached", r"^influxdb", r"^sqlite", r"^adminer", r"^mycli",
                   r"^pgcli", r"^sqlline", r"^unixodbc", r"^odbc", r"^tdsodbc", r"^libdbd",
                   r"^dbconfig", r"^automysqlbackup", r"^autopostgresqlbackup", r"^mydumper",
                   r"^pg-", r"^pgxnclient", r"^postgresql-", r"^skytools", r"^pgloader",
                   r"^sqlsmith", r"^pspg", r"^gdbm", r"^db5", r"^db-util"], CODE, 0.30, script),
    ("queues", [r"^zookeeper", r"^etcd", r"^kafka", r"^activemq", r"^beanstalkd", r"^gearman",
                r"^celery", r"^rabbitmq", r"^nats", r"^consul", r"^nomad"], CODE, 0.20, script),
]


# Every name this corpus and the earlier ones drew from: the next corpus excludes them.
SEEN = SEEN_BEFORE + pool_patterns(POOLS)

if __name__ == "__main__":
    run_pools(POOLS, SEEN_BEFORE, 120, "warden-heldout14-2026-12-03", "heldout14-stage-")
