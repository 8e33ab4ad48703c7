#!/usr/bin/env python3
"""Build the TENTH held-out corpus: GNOME applications, `*-bin` packages, chat, mail,
terminal and shell add-ons, Emacs Lisp (`*-el`) and Haskell, GNUstep and X11 packages, from
sources no earlier corpus (make_corpus.py, the C headers and Perl of /usr, make_heldout.py
to make_heldout9.py) read and no filter of warden was chosen on. Built with the ninth, so
that one build of warden can be measured on two fresh corpora with no change in between.

usage: make_heldout10.py OUT [TOTAL_MIB] [SALT]

The rule, written down before any file of it was looked at:
- Excluded everywhere: every package installed on this machine (`dpkg-query`), every
  package whose name matches a pool of an earlier corpus (make_heldout9.py's list, plus its
  own pools: -config$, -conf$, -scripts$, -templates$, -sql$, -mode$, ^mate-, ^cinnamon,
  ^lxqt, ^lxde, -theme$, ^fcitx, ^ibus-, -core$, -base$); and packages whose .deb is over
  64 MiB (`apt-cache show`).
- Pools, as shares of TOTAL_MIB (120 by default), at most 3 MiB per package in every pool:
  - GNOME applications, packages named `gnome-*` (25 %);
  - chat, mail, terminal and shell add-ons, packages named `mutt*`, `neomutt*`, `irssi*`,
    `weechat*`, `znc*`, `bitlbee*`, `conky*`, `tmux*`, `zsh*`, `fish*`, `bash-*`, `w3m*`
    or `emacs*` (20 %): also .el .zsh .fish .vim;
  - Emacs Lisp, packages named `*-el` (10 %): also .el;
  - Haskell, GNUstep and X11, packages named `haskell-*`, `gnustep*` or `x11-*` (20 %):
    also .hs .lhs .cabal .m .plist;
  - `*-bin` packages (25 %).
  Every pool takes the configuration suffixes, .py .pl .pm .rb .php .js .lua .tcl .html
  .tpl .sql, and scripts. The configuration suffixes are .conf .cfg .cnf .ini .yaml .yml
  .json .toml .xml .properties .env .example .sample .sh .bash .service .socket .timer. A
  script is a file under `etc/`, `usr/lib/`, `usr/share/`, `usr/bin/` or `usr/sbin/` whose
  first two bytes are `#!`.
  A package is in one pool only, by the order above (GNOME first); a file is matched by its
  last suffix.
- The pools are filled in the order above, the `*-bin` pool last: any pool that runs out of
  candidates before its share leaves its shortfall to it, and it takes TOTAL_MIB less what
  the others took.
- Candidates are the names `apt-cache search --names-only` lists, in a fixed pseudo-random
  order (sha256 of SALT and the name; SALT "warden-heldout10-2026-12-03" by default). Each
  package is fetched with `apt-get download` (8 at a time; the result does not depend on the
  batching) and unpacked with `dpkg-deb -x` (nothing is installed); files of the pool are
  copied in sorted order until the pool's share is reached, files over 2 MiB or empty skipped.
OUT.packages.txt lists every package and version used; OUT.sha256 a checksum of every file
(`cd OUT && sha256sum -c --quiet ../OUT.sha256`), both beside OUT, not in it.
"""

from debian_corpus import CODE, pool_patterns, run_pools, script
from make_heldout9 import SEEN as SEEN_BEFORE

SHELLS = {".el", ".zsh", ".fish", ".vim"} | CODE
LISP = {".el"} | CODE
OTHERS = {".hs", ".lhs", ".cabal", ".m", ".plist"} | CODE


ADDONS = [r"^mutt", r"^neomutt", r"^irssi", r"^weechat", r"^znc", r"^bitlbee", r"^conky",
          r"^tmux", r"^zsh", r"^fish", r"^bash-", r"^w3m", r"^emacs"]

# (label, name patterns, extensions, share, also); the *-bin pool last (it takes what the
# others left).
POOLS = [
    ("gnome", [r"^gnome-"], CODE, 0.25, script),
    ("addons", ADDONS, SHELLS, 0.20, script),
    ("elisp", [r"-el$"], LISP, 0.10, script),
    ("others", [r"^haskell-", r"^gnustep", r"^x11-"], OTHERS, 0.20, script),
    ("bin", [r"-bin$"], CODE, 0.25, script),
]


# Every name this corpus and the earlier ones drew from: the next corpus excludes them.
SEEN = SEEN_BEFORE + pool_patterns(POOLS)

if __name__ == "__main__":
    run_pools(POOLS, SEEN_BEFORE, 120, "warden-heldout10-2026-12-03", "heldout10-stage-")
