#!/usr/bin/env python3
"""Build the SIXTEENTH held-out corpus: command-line and desktop clients of web services
(video and file downloaders, FTP and HTTP clients, forge command lines, podcast and feed
readers, search and help tools) and personal information and secret keeping (contacts,
tasks, calendars, KDE PIM and online accounts, note takers, password stores and encrypted
file systems), from sources no earlier corpus (make_corpus.py, the C headers and Perl of
/usr, make_heldout.py to make_heldout15.py) read and no filter of warden was chosen on.

Why this family: as the thirteenth to fifteenth, programs that hold or send their users'
credentials and ship API keys of the services they use. The family and the rule were
chosen, and the build of warden to measure fixed (commit 3cce38c, the one the fifteenth
corpus measured), before any file of it was looked at.

usage: make_heldout16.py OUT [TOTAL_MIB] [SALT]

The rule, written down before any file of it was looked at:
- Excluded everywhere: every package installed on this machine (`dpkg-query`), every
  package whose name matches a pool of an earlier corpus (make_heldout15.py's list, plus its
  own pools), and packages whose .deb is over 64 MiB (`apt-cache show`).
- Pools, as shares of TOTAL_MIB (120 by default), at most 3 MiB per package in every pool:
  - web-service clients (50 %), packages named `yt-dlp*`, `youtube-dl*`, `streamlink*`,
    `instaloader*`, `aria2*`, `lftp*`, `ncftp*`, `filezilla*`, `httpie*`, `gh`, `hub`,
    `tea`, `wget2*`, `axel*`, `uget*`, `gpodder*`, `podget*`, `svtplay*`, `ytcc*`,
    `ytfzf*`, `rss2email*`, `feed2toot*`, `feed2exec*`, `liferea*`, `akregator*`,
    `quiterss*`, `rssguard*`, `sfeed*`, `surfraw*`, `ddgr*`, `googler*`, `howdoi*` or
    `tldr*`;
  - personal information and secrets (50 %, last), packages named `khard*`, `todoman*`,
    `taskwarrior*`, `bugwarrior*`, `buku*`, `kaccounts*`, `signon*`, `calcurse*`,
    `remind*`, `wyrd*`, `when`, `gcalcli*`, `orage*`, `korganizer*`, `kontact*`,
    `kmail*`, `kaddressbook*`, `akonadi*`, `zim*`, `cherrytree*`, `tomboy*`, `gnote*`,
    `xournal*`, `rednotebook*`, `basket*`, `treeline*`, `pass-*`, `passwordsafe*`,
    `kpcli*`, `keyringer*`, `otpclient*`, `keyutils*`, `cryfs*`, `gocryptfs*`, `encfs*`,
    `securefs*`, `tomb` or `cryptmount*`.
  Every pool takes the configuration suffixes, .py .pl .pm .rb .php .js .lua .tcl .html
  .tpl .sql, and scripts. The configuration suffixes are .conf .cfg .cnf .ini .yaml .yml
  .json .toml .xml .properties .env .example .sample .sh .bash .service .socket .timer. A
  script is a file under `etc/`, `usr/lib/`, `usr/share/`, `usr/bin/` or `usr/sbin/` whose
  first two bytes are `#!`.
  A package is in one pool only, by the order above; a file is matched by its last suffix.
- The pools are filled in the order above, the second last: a shortfall of the first is
  left to it, and it takes TOTAL_MIB less what the first took (most of these packages are
  compiled programs, so the corpus may be smaller than TOTAL_MIB).
- Candidates are the names `apt-cache search --names-only` lists, in a fixed pseudo-random
  order (sha256 of SALT and the name; SALT "warden-heldout16-2026-12-03" by default). Each
  package is fetched with `apt-get download` (8 at a time; the result does not depend on the
  batching) and unpacked with `dpkg-deb -x` (nothing is installed); files of the pool are
  copied in sorted order until the pool's share is reached, files over 2 MiB or empty skipped.
- No pool is named like a directory warden reads as tests, examples or documentation; warden
  scans each pool as its own root (`corpus_findings.py --pool-roots`).
OUT.packages.txt lists every package and version used; OUT.sha256 a checksum of every file
(`cd OUT && sha256sum -c --quiet ../OUT.sha256`), both beside OUT, not in it.
"""

from debian_corpus import CODE, pool_patterns, run_pools, script
from make_heldout15 import SEEN as SEEN_BEFORE


# (label, name patterns, extensions, share, also); the second pool last (it takes what the
# first left).
POOLS = [
    ("webclients", [r"^yt-dlp", r"^youtube-dl", r"^streamlink", r"^instaloader", r"^aria2",
                    r"^lftp", r"^ncftp", r"^filezilla", r"^httpie", r"^gh$", r"^hub$", r"^tea$",
                    r"^wget2", r"^axel", r"^uget", r"^gpodder", r"^podget", r"^svtplay",
                    r"^ytcc", r"^ytfzf", r"^rss2email", r"^feed2toot", r"^feed2exec",
                    r"^liferea", r"^akregator", r"^quiterss", r"^rssguard", r"^sfeed",
                    r"^surfraw", r"^ddgr", r"^googler", r"^howdoi", r"^tldr"], CODE, 0.50, script),
    ("personal", [r"^khard", r"^todoman", r"^taskwarrior", r"^bugwarrior", r"^buku",
                  r"^kaccounts", r"^signon", r"^calcurse", r"^remind", r"^wyrd", r"^when$",
                  r"^gcalcli", r"^orage", r"^korganizer", r"^kontact", r"^kmail",
                  r"^kaddressbook", r"^akonadi", r"^zim", r"^cherrytree", r"^tomboy", r"^gnote",
                  r"^xournal", r"^rednotebook", r"^basket", r"^treeline", r"^pass-",
                  r"^passwordsafe", r"^kpcli", r"^keyringer", r"^otpclient", r"^keyutils",
                  r"^cryfs", r"^gocryptfs", r"^encfs", r"^securefs", r"^tomb$", r"^cryptmount"],
     CODE, 0.50, script),
]


# Every name this corpus and the earlier ones drew from: the next corpus excludes them.
SEEN = SEEN_BEFORE + pool_patterns(POOLS)

if __name__ == "__main__":
    run_pools(POOLS, SEEN_BEFORE, 120, "warden-heldout16-2026-12-03", "heldout16-stage-")
