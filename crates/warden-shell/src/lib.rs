//! # warden-shell: what a shell command really does
//!
//! Claude Code's `Bash(...)` rules match command text, so `Bash(rm -rf*)` stops `rm -rf /`
//! but not `rm -fr /`, `/bin/rm -rf /`, `sudo rm -rf /` or `bash -c 'rm -rf /'`. This crate
//! understands the command instead:
//!
//! 1. **Parse** with a real bash parser ([`brush-parser`](https://crates.io/crates/brush-parser);
//!    the choice is argued in `PARSER_CHOICE.md`): lists, pipelines, subshells, groups,
//!    `if`/`for`/`while`/`case`, functions, command and process substitution, heredocs,
//!    here-strings, redirections, assignments, quoting and escapes.
//! 2. **Normalise** each simple command: the program however it is spelled (`/bin/rm`,
//!    `\rm`, `'rm'`, `r\m`, `command rm`, `builtin`, `exec`), wrappers unwrapped (`sudo`,
//!    `doas`, `env`, `nice`, `nohup`, `timeout`, `time`, `stdbuf`, `ionice`, `xargs`,
//!    `find -exec`, `sh/bash/zsh/dash/ksh -c` and `-lc`, shells reading a heredoc, `eval`,
//!    `watch`, `ssh HOST CMD`, `su -c`, `npx`, `bundle exec`..., `git -C DIR -c k=v`), nested
//!    sources parsed again, recursively, with a depth limit.
//! 3. **Classify effects** per program ([`EffectKind`]): paths read, written and deleted
//!    (redirections included), network egress, publishing, privilege, dynamic code,
//!    destructive version control, destructive data (SQL reaching `psql`/`mysql`/`sqlite3`
//!    through arguments, heredocs, here-strings or pipes; migration resets), infrastructure.
//! 4. **Match** Claude Code rule bodies by meaning ([`CommandPattern`]): flags compared as
//!    sets per program (`-rf` = `-fr` = `-r -f` = `--recursive --force` = `-R --force`).
//! 5. **Built-in packs** ([`packs`]) of deny / ask rules over those effects, which a policy can
//!    enable, disable and extend.
//!
//! ```
//! use warden_shell::{analyze, CommandPattern, packs};
//!
//! let a = analyze("cd /tmp && sudo env X=1 bash -c 'rm -fr /'");
//! let rm = a.commands.iter().find(|c| c.program == "rm").unwrap();
//! assert_eq!(rm.args, ["-fr", "/"]);
//! assert_eq!(rm.wrappers, ["sudo", "env", "bash -c"]);
//!
//! let deny = CommandPattern::parse("rm -rf*").unwrap();
//! assert!(a.commands.iter().any(|c| deny.matches(c)));
//!
//! let hits = packs::evaluate(&a, &packs::PackSelection::all());
//! assert_eq!(packs::strongest(&hits), Some(packs::PackDecision::Deny));
//! ```
//!
//! ## How a caller combines the results
//!
//! - A deny (or ask) pattern applies when **any** command of [`Analysis::commands`] matches it
//!   ([`CommandPattern::matches`] or, for deny/ask only, [`CommandPattern::matches_via_wrapper`]).
//! - An allow needs **every** command to be allowed, and [`Analysis::unresolved`] to be empty:
//!   a computed program name (`$CMD`), `eval "$x"`, an unparseable string or a nesting limit
//!   means "ask", never "allow".
//! - Effects carry paths so that a caller can check them against a read scope and a write
//!   allowlist; [`SimpleCommand::known_program`] says whether the absence of a write effect
//!   can be trusted.
//!
//! ## What it is not
//!
//! - Not a policy engine: it does not combine deny / ask / allow or know about scopes
//!   (that is `warden-policy`).
//! - Not a sandbox: a script file, a Makefile target or an alias can still do anything; the
//!   analyser reports that it cannot see inside them (`DynamicCode`), and the sandbox is the
//!   layer that holds when analysis is sidestepped.
//! - Not an evaluator: variables are not expanded, `cd` does not change how later paths
//!   resolve, globs are not matched against the filesystem.
//!
//! ## Bounds
//!
//! [`analyze`] never panics (a panic in the parser is caught and reported as unresolved) and
//! runs in bounded time: input above [`MAX_INPUT_BYTES`], nesting above [`MAX_NESTING`]
//! brackets, re-parsing deeper than [`MAX_DEPTH`] and more than [`MAX_COMMANDS`] commands are
//! reported as unresolved instead of analysed. No lazy statics: every table is a `static`.

#![forbid(unsafe_code)]
#![warn(missing_docs)]

mod effects;
mod model;
mod opts;
mod pattern;
mod walk;
mod words;

pub mod packs;

/// The inline-when-short string of [`SimpleCommand::program`] and [`SimpleCommand::text`].
pub use compact_str::CompactString;
pub use model::{Analysis, Effect, EffectKind, Redirect, RedirectKind, SimpleCommand, Unresolved};
pub use pattern::{CommandPattern, PatternError, PreparedCommand};
pub use walk::{MAX_COMMANDS, MAX_DEPTH, MAX_INPUT_BYTES, MAX_NESTING};

/// Parses, normalises and classifies a command line.
///
/// Never panics; bounded time on any input. Whatever could not be resolved is listed in
/// [`Analysis::unresolved`].
pub fn analyze(command: &str) -> Analysis {
    analyze_with(command, walk::Walker::new)
}

fn analyze_with(command: &str, walker: fn() -> walk::Walker) -> Analysis {
    let result = std::panic::catch_unwind(|| {
        let mut w = walker();
        w.analyze_top(command);
        w.out
    });
    match result {
        Ok(a) => a,
        Err(_) => Analysis {
            commands: Vec::new(),
            unresolved: vec![Unresolved {
                reason: "the shell parser failed on this input".to_owned(),
                text: command.chars().take(200).collect(),
                wrappers: Vec::new(),
            }],
        },
    }
}

/// [`analyze`] with every source sent through the bash parser, even one made only of plain
/// words that [`analyze`] splits itself. The two give the same analysis on every input; this
/// one exists so that tests can show it.
#[doc(hidden)]
pub fn analyze_with_parser_only(command: &str) -> Analysis {
    analyze_with(command, walk::Walker::without_fast_path)
}

/// True when the destructive-SQL detector finds `DROP`, `TRUNCATE`, or `DELETE`/`UPDATE`
/// without `WHERE` in `sql`. Exposed for callers that see SQL outside a shell command.
pub fn is_destructive_sql(sql: &str) -> bool {
    effects::destructive_sql(sql).is_some()
}
