#!/usr/bin/env python3
"""Build the FIFTEENTH held-out corpus: network clients that hold their users' credentials
(mail clients and mail fetch, sync and send tools; chat, IRC, XMPP, Matrix, Gemini and VoIP
clients) and backup, sync and cloud-storage tools (Borg, restic, rclone, duplicity, s3cmd,
the AWS and Google Cloud storage command lines, Nextcloud and ownCloud clients), from
sources no earlier corpus (make_corpus.py, the C headers and Perl of /usr, make_heldout.py to
make_heldout14.py) read and no filter of warden was chosen on.

Why this family: programs that log in to services on their users' behalf ship OAuth client
ids and secrets, sample configurations with passwords, and code that handles tokens, the
material of the thirteenth and fourteenth corpora. The family and the rule were chosen, and
the build of warden to measure fixed (commit 3cce38c), before any file of it was looked at.

usage: make_heldout15.py OUT [TOTAL_MIB] [SALT]

The rule, written down before any file of it was looked at:
- Excluded everywhere: every package installed on this machine (`dpkg-query`), every
  package whose name matches a pool of an earlier corpus (make_heldout14.py's list, plus its
  own pools), and packages whose .deb is over 64 MiB (`apt-cache show`).
- Pools, as shares of TOTAL_MIB (120 by default), at most 3 MiB per package in every pool:
  - mail clients and tools (35 %), packages named `offlineimap*`, `isync*`, `getmail*`,
    `fetchmail*`, `msmtp*`, `davmail*`, `mpop*`, `alot*`, `notmuch*`, `aerc*`, `claws*`,
    `evolution*`, `thunderbird*`, `sylpheed*`, `balsa*`, `geary*`, `mailutils*`,
    `s-nail*`, `ssmtp*`, `nullmailer*`, `opensmtpd*`, `khal*` or `vdirsyncer*`;
  - chat and calls (30 %), packages named `toot*`, `gajim*`, `pidgin*`, `finch*`,
    `purple-*`, `profanity*`, `dino*`, `poezio*`, `hexchat*`, `quassel*`,
    `konversation*`, `telegram*`, `rtv*`, `newsboat*`, `catgirl*`, `ii`, `sic`,
    `kristall*`, `amfora*`, `bombadillo*`, `nheko*`, `quaternion*`, `neochat*`,
    `mumble*`, `jami*`, `linphone*`, `baresip*` or `twinkle*`;
  - backup, sync and cloud storage (35 %, last), packages named `duplicity*`, `borg*`,
    `restic*`, `rclone*`, `rsnapshot*`, `backuppc*`, `burp*`, `deja-dup*`, `bup*`,
    `s3cmd*`, `s3fs*`, `s3backer*`, `awscli*`, `gsutil*`, `dar`, `rdiff*`, `backintime*`,
    `backup-manager*`, `backupninja*`, `dirvish*`, `storebackup*`, `zbackup*`, `unison*`,
    `csync*`, `owncloud*`, `nextcloud*`, `megatools*`, `onedrive*`, `davfs*`, `sshfs*`,
    `rsync*`, `lsyncd*` or `datalad*`.
  Every pool takes the configuration suffixes, .py .pl .pm .rb .php .js .lua .tcl .html
  .tpl .sql, and scripts. The configuration suffixes are .conf .cfg .cnf .ini .yaml .yml
  .json .toml .xml .properties .env .example .sample .sh .bash .service .socket .timer. A
  script is a file under `etc/`, `usr/lib/`, `usr/share/`, `usr/bin/` or `usr/sbin/` whose
  first two bytes are `#!`.
  A package is in one pool only, by the order above (mail first); a file is matched by its
  last suffix.
- The pools are filled in the order above, the backup pool last: any pool that runs out of
  candidates before its share leaves its shortfall to it, and it takes TOTAL_MIB less what
  the others took (most of these packages are compiled programs, so the corpus may be
  smaller than TOTAL_MIB).
- Candidates are the names `apt-cache search --names-only` lists, in a fixed pseudo-random
  order (sha256 of SALT and the name; SALT "warden-heldout15-2026-12-03" by default). Each
  package is fetched with `apt-get download` (8 at a time; the result does not depend on the
  batching) and unpacked with `dpkg-deb -x` (nothing is installed); files of the pool are
  copied in sorted order until the pool's share is reached, files over 2 MiB or empty skipped.
- No pool is named like a directory warden reads as tests, examples or documentation; warden
  scans each pool as its own root (`corpus_findings.py --pool-roots`).
OUT.packages.txt lists every package and version used; OUT.sha256 a checksum of every file
(`cd OUT && sha256sum -c --quiet ../OUT.sha256`), both beside OUT, not in it.
"""

from debian_corpus import CODE, pool_patterns, run_pools, script
from make_heldout14 import SEEN as SEEN_BEFORE


# (label, name patterns, extensions, share, also); the backup pool last (it takes what the
# others left).
POOLS = [
    ("mail", [r"^offlineimap", r"^isync", r"^getmail", r"^fetchmail", r"^msmtp", r"^davmail",
              r"^mpop", r"^alot", r"^notmuch", r"^aerc", r"^claws", r"^evolution",
              r"^thunderbird", r"^sylpheed", r"^balsa", r"^geary", r"^mailutils", r"^s-nail",
              r"^ssmtp", r"^nullmailer", r"^opensmtpd", r"^khal", r"^vdirsyncer"],
     CODE, 0.35, script),
    ("chat", [r"^toot", r"^gajim", r"^pidgin", r"^finch", r"^purple-", r"^profanity", r"^dino",
              r"^poezio", r"^hexchat", r"^quassel", r"^konversation", r"^telegram", r"^rtv",
              r"^newsboat", r"^catgirl", r"^ii$", r"^sic$", r"^kristall", r"^amfora",
              r"^bombadillo", r"^nheko", r"^quaternion", r"^neochat", r"^mumble", r"^jami",
              r"^linphone", r"^baresip", r"^twinkle"], CODE, 0.30, script),
    ("backup", [r"^duplicity", r"^borg", r"^restic", r"^rclone", r"^rsnapshot", r"^backuppc",
                r"^burp", r"^deja-dup", r"^bup", r"^s3cmd", r"^s3fs", r"^s3backer", r"^awscli",
                r"^gsutil", r"^dar$", r"^rdiff", r"^backintime", r"^backup-manager",
                r"^backupninja", r"^dirvish", r"^storebackup", r"^zbackup", r"^unison",
                r"^csync", r"^owncloud", r"^nextcloud", r"^megatools", r"^onedrive", r"^davfs",
                r"^sshfs", r"^rsync", r"^lsyncd", r"^datalad"], CODE, 0.35, script),
]


# Every name this corpus and the earlier ones drew from: the next corpus excludes them.
SEEN = SEEN_BEFORE + pool_patterns(POOLS)

if __name__ == "__main__":
    run_pools(POOLS, SEEN_BEFORE, 120, "warden-heldout15-2026-12-03", "heldout15-stage-")
