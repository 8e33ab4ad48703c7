//! Claude Code `Bash(...)` rule bodies, matched against normalised commands by meaning.

use crate::model::SimpleCommand;
use crate::opts::{self, Parsed, Spec};
use serde::Serialize;
use std::sync::OnceLock;

/// Why a rule body could not be used.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum PatternError {
    /// The body is empty (`Bash()`).
    #[error("empty command pattern")]
    Empty,
    /// The body has a `:*` that is not at the end (`git:* push`).
    #[error("`:*` is only allowed at the end of a command pattern: {0:?}")]
    MisplacedPrefix(String),
}

/// A parsed `Bash(...)` rule body.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct CommandPattern {
    raw: String,
    kind: Kind,
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
enum Kind {
    Semantic {
        program: String,
        args: Vec<String>,
        /// Trailing `*` or `:*`: anything may follow.
        prefix: bool,
        /// The `*` was glued to the last token (`-rf*`, `feat*`): that token is a prefix too.
        partial_last: bool,
        /// `args` split into canonical flags and operands, once, when the pattern is parsed.
        #[serde(skip)]
        canonical: Parsed,
    },
    /// Case-insensitive wildcard text over the command and what reaches it.
    Text { glob: String },
}

impl CommandPattern {
    /// Parses a rule body such as `rm -rf*`, `git push:*`, `npm test*` or `*DROP TABLE*`.
    pub fn parse(body: &str) -> Result<CommandPattern, PatternError> {
        let raw = body.trim();
        if raw.is_empty() {
            return Err(PatternError::Empty);
        }
        if let Some(pos) = raw.find(":*") {
            if pos + 2 != raw.len() {
                return Err(PatternError::MisplacedPrefix(raw.to_owned()));
            }
        }
        let text = || CommandPattern {
            raw: raw.to_owned(),
            kind: Kind::Text {
                glob: raw.to_lowercase(),
            },
        };
        let (core, prefix, partial_last) = if let Some(c) = raw.strip_suffix(":*") {
            (c.trim_end(), true, false)
        } else if let Some(c) = raw.strip_suffix('*') {
            let glued = !c.ends_with(' ');
            (c.trim_end(), true, glued && !c.is_empty())
        } else {
            (raw, false, false)
        };
        if core.is_empty()
            || core.contains('*')
            || core.contains(['|', ';', '&', '<', '>', '`', '$', '(', ')', '\n'])
        {
            return Ok(text());
        }
        // Normalise the pattern the same way as commands: `/bin/rm` is `rm`, `git -C x push`
        // is `git push`, quotes are removed.
        let analysis = crate::analyze(core);
        if !analysis.unresolved.is_empty() || analysis.commands.len() != 1 {
            return Ok(text());
        }
        let Some(cmd) = analysis.commands.into_iter().next() else {
            return Ok(text());
        };
        let canonical = canonical(&cmd.program, &cmd.args);
        Ok(CommandPattern {
            raw: raw.to_owned(),
            kind: Kind::Semantic {
                program: cmd.program.into_string(),
                args: cmd.args,
                prefix,
                partial_last,
                canonical,
            },
        })
    }

    /// The body as written.
    pub fn as_str(&self) -> &str {
        &self.raw
    }

    /// False when the pattern had to fall back to text matching.
    pub fn is_semantic(&self) -> bool {
        matches!(self.kind, Kind::Semantic { .. })
    }

    /// The program a semantic pattern is about.
    pub fn program(&self) -> Option<&str> {
        match &self.kind {
            Kind::Semantic { program, .. } => Some(program),
            Kind::Text { .. } => None,
        }
    }

    /// Matches one normalised command: the program itself, not the wrappers that reached it
    /// (see [`CommandPattern::matches_via_wrapper`]).
    pub fn matches(&self, cmd: &SimpleCommand) -> bool {
        match &self.kind {
            Kind::Text { glob } => cmd.texts().any(|t| wildcard(glob, &t.to_lowercase())),
            Kind::Semantic {
                program,
                args,
                prefix,
                partial_last,
                canonical: pat,
            } => {
                if *program != cmd.program {
                    return false;
                }
                let c = canonical(program, &cmd.args);
                args_match(args, pat, &c.flags, &c.operands, *prefix, *partial_last)
            }
        }
    }

    /// [`CommandPattern::matches`] against a [`PreparedCommand`], which computes what every
    /// pattern needs from the command once instead of once per pattern. Same answer.
    pub fn matches_prepared(&self, prepared: &PreparedCommand) -> bool {
        let cmd = &prepared.command;
        match &self.kind {
            Kind::Text { glob } => prepared
                .lowered
                .get_or_init(|| cmd.texts().map(str::to_lowercase).collect())
                .iter()
                .any(|t| wildcard(glob, t)),
            Kind::Semantic {
                program,
                args,
                prefix,
                partial_last,
                canonical: pat,
            } => {
                if *program != cmd.program {
                    return false;
                }
                // The canonical form depends on the program and the arguments only, and the
                // program is the pattern's here: the same for every pattern that gets this far.
                // Arguments that are all operands are their own canonical form: nothing is
                // parsed or copied for them.
                let c = prepared.canonical.get_or_init(|| {
                    (!operands_only(&cmd.program, &cmd.args))
                        .then(|| canonical(&cmd.program, &cmd.args))
                });
                match c {
                    Some(c) => args_match(args, pat, &c.flags, &c.operands, *prefix, *partial_last),
                    None => args_match(args, pat, &[], &cmd.args, *prefix, *partial_last),
                }
            }
        }
    }

    /// True when the pattern names a wrapper the command was reached through
    /// (`Bash(sudo:*)` against `sudo rm x`). Use it for deny and ask rules, not for allow:
    /// allowing a wrapper must not allow whatever it runs.
    pub fn matches_via_wrapper(&self, cmd: &SimpleCommand) -> bool {
        match &self.kind {
            Kind::Semantic { program, args, .. } if args.is_empty() => cmd
                .wrappers
                .iter()
                .any(|w| w.split_whitespace().next() == Some(program.as_str())),
            _ => false,
        }
    }
}

/// A command ready to be matched against many patterns: what matching needs from it (its
/// arguments in canonical form, its texts lower-cased) is computed on first use and kept.
#[derive(Debug)]
pub struct PreparedCommand {
    command: SimpleCommand,
    /// `None` when the arguments are their own canonical form ([`operands_only`]).
    canonical: OnceLock<Option<Parsed>>,
    lowered: OnceLock<Vec<String>>,
}

impl PreparedCommand {
    /// Wraps a command of an analysis.
    pub fn new(command: SimpleCommand) -> Self {
        PreparedCommand {
            command,
            canonical: OnceLock::new(),
            lowered: OnceLock::new(),
        }
    }

    /// The command.
    pub fn command(&self) -> &SimpleCommand {
        &self.command
    }
}

/// The option syntax used to compare a program's arguments, and how many leading operands
/// name a subcommand that must be equal.
fn spec_for(program: &str, args: &[String]) -> &'static Spec {
    match program {
        "rm" | "unlink" => &opts::RM,
        "rmdir" => &opts::RMDIR,
        "cp" | "mv" => &opts::CP_MV,
        "chmod" => &opts::CHMOD,
        "chown" | "chgrp" => &opts::CHOWN,
        "shred" => &opts::SHRED,
        "truncate" => &opts::TRUNCATE,
        "tee" => &opts::TEE,
        "sed" => &opts::SED,
        "grep" | "egrep" | "fgrep" | "rg" => &opts::GREP,
        "curl" => &opts::CURL,
        "wget" => &opts::WGET,
        "rsync" => &opts::RSYNC,
        "psql" => &opts::PSQL,
        "mysql" | "mariadb" => &opts::MYSQL,
        "docker" | "podman" => &opts::DOCKER,
        "terraform" | "tofu" => &opts::TERRAFORM,
        "git" => match args.first().map(String::as_str) {
            Some("push") => &opts::GIT_PUSH,
            Some("reset") => &opts::GIT_RESET,
            Some("clean") => &opts::GIT_CLEAN,
            Some("branch") => &opts::GIT_BRANCH,
            Some("checkout") => &opts::GIT_CHECKOUT,
            _ => &opts::GIT_GENERIC,
        },
        _ => &opts::GENERIC,
    }
}

/// Parses arguments for comparison, folding spellings that mean the same thing.
pub(crate) fn canonical(program: &str, args: &[String]) -> Parsed {
    let spec = spec_for(program, args);
    let mut p = opts::parse(spec, args);
    if program == "git" && args.first().is_some_and(|a| a == "push") {
        for op in p.operands.iter_mut() {
            if let Some(r) = op.strip_prefix('+') {
                *op = r.to_owned();
                p.flags.push(("force".to_owned(), None));
            } else if op.starts_with(':') && op.len() > 1 {
                p.flags.push(("delete".to_owned(), None));
                *op = op[1..].to_owned();
            }
        }
    }
    p
}

/// Whether [`canonical`] gives `args` back as they are: no flags, every argument an operand,
/// unchanged. True when no argument looks like an option (for any spec, `opts::parse` then
/// takes each as an operand) and, for `git push`, no refspec starts with `+` or `:` (which
/// `canonical` rewrites).
fn operands_only(program: &str, args: &[String]) -> bool {
    let git_push = program == "git" && args.first().is_some_and(|a| a == "push");
    args.iter()
        .all(|a| opts::is_operand(a) && !(git_push && (a.starts_with('+') || a.starts_with(':'))))
}

/// `pat` is the pattern's arguments as written, `p` the canonical form of the pattern's
/// arguments, `c_flags` and `c_operands` that of the command's.
fn args_match(
    pat: &[String],
    p: &Parsed,
    c_flags: &[(String, Option<String>)],
    c_operands: &[String],
    prefix: bool,
    partial_last: bool,
) -> bool {
    let glued_flag = partial_last && pat.last().is_some_and(|l| l.starts_with('-'));
    let glued_operand = partial_last && !glued_flag;
    for (i, (name, value)) in p.flags.iter().enumerate() {
        let last_flag = glued_flag && i + 1 == p.flags.len();
        let found = c_flags.iter().any(|(n, v)| {
            let name_ok = n == name
                || (last_flag
                    && pat.last().is_some_and(|l| l.starts_with("--"))
                    && n.starts_with(name.as_str()));
            name_ok
                && (value.is_none()
                    || v == value
                    || (last_flag
                        && v.as_deref()
                            .zip(value.as_deref())
                            .is_some_and(|(cv, pv)| cv.starts_with(pv))))
        });
        if !found {
            return false;
        }
    }
    if p.operands.len() > c_operands.len() {
        return false;
    }
    for (i, (po, co)) in p.operands.iter().zip(c_operands).enumerate() {
        let last = i + 1 == p.operands.len();
        let ok = if last && glued_operand {
            co.starts_with(po.as_str())
        } else {
            po == co
        };
        if !ok {
            return false;
        }
    }
    if !prefix {
        if p.operands.len() != c_operands.len() {
            return false;
        }
        if c_flags.iter().any(|f| !p.flags.contains(f)) {
            return false;
        }
    }
    true
}

/// `*` matches any run of characters; everything else is literal.
pub(crate) fn wildcard(pattern: &str, text: &str) -> bool {
    let p = pattern.as_bytes();
    let t = text.as_bytes();
    let (mut pi, mut ti) = (0usize, 0usize);
    let mut star: Option<(usize, usize)> = None;
    while ti < t.len() {
        if pi < p.len() && p[pi] == b'*' {
            star = Some((pi, ti));
            pi += 1;
        } else if pi < p.len() && p[pi] == t[ti] {
            pi += 1;
            ti += 1;
        } else if let Some((sp, st)) = star {
            pi = sp + 1;
            ti = st + 1;
            star = Some((sp, st + 1));
        } else {
            return false;
        }
    }
    while pi < p.len() && p[pi] == b'*' {
        pi += 1;
    }
    pi == p.len()
}

#[cfg(test)]
mod tests {
    use super::*;

    /// Arguments `operands_only` accepts are what `canonical` gives back: no flags, no `--`,
    /// the same operands.
    #[test]
    fn operands_only_args_are_their_canonical_form() {
        let words = [
            "push", "origin", "main", "+main", ":old", "-", "x", "build/", "a=b", "-rf", "--",
            "--force", "-n5", "ref:x", "+",
        ];
        for program in [
            "rm",
            "git",
            "cp",
            "curl",
            "docker",
            "terraform",
            "npm",
            "sed",
            "tee",
        ] {
            for a in words {
                for b in words {
                    for c in words {
                        let args: Vec<String> = [a, b, c].iter().map(|w| (*w).to_owned()).collect();
                        for args in [&args[..1], &args[..2], &args[..]] {
                            if operands_only(program, args) {
                                let parsed = canonical(program, args);
                                assert!(parsed.flags.is_empty(), "{program} {args:?}");
                                assert!(!parsed.double_dash, "{program} {args:?}");
                                assert_eq!(parsed.operands, args, "{program} {args:?}");
                            }
                        }
                    }
                }
            }
        }
        assert!(operands_only(
            "git",
            &["push".into(), "origin".into(), "main".into()]
        ));
        assert!(!operands_only(
            "git",
            &["push".into(), "origin".into(), "+main".into()]
        ));
        assert!(!operands_only(
            "npm",
            &["test".into(), "--".into(), "--watch".into()]
        ));
    }

    #[test]
    fn wildcard_basics() {
        assert!(wildcard("*drop table*", "psql -c 'drop table x'"));
        assert!(!wildcard("*drop table*", "drop tables"[..4].as_ref()));
        assert!(wildcard("npm test*", "npm test"));
        assert!(wildcard("a*b*c", "axxbyyc"));
        assert!(!wildcard("a*b*c", "axxbyy"));
    }
}
