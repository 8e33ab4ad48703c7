//! The data the analyser hands out: commands, redirections, effects, unresolved parts.

use compact_str::CompactString;
use serde::Serialize;
use std::borrow::Cow;

/// Everything the analyser learned about one command line.
#[derive(Debug, Clone, Default, Serialize, PartialEq, Eq)]
pub struct Analysis {
    /// Every simple command in the tree, after unwrapping wrappers, recursively.
    pub commands: Vec<SimpleCommand>,
    /// Parts the analyser could not resolve. Any entry here means the caller must not allow
    /// the command without a person's approval.
    pub unresolved: Vec<Unresolved>,
}

impl Analysis {
    /// True when the analyser resolved every part of the command.
    pub fn is_fully_resolved(&self) -> bool {
        self.unresolved.is_empty()
    }

    /// Every effect of every command, with the index of the command it belongs to.
    pub fn effects(&self) -> impl Iterator<Item = (usize, &Effect)> {
        self.commands
            .iter()
            .enumerate()
            .flat_map(|(i, c)| c.effects.iter().map(move |e| (i, e)))
    }

    /// A short, human-readable tree of the analysis, for `warden check`.
    pub fn render(&self) -> String {
        let mut out = String::new();
        for cmd in &self.commands {
            let mut line = String::new();
            for w in &cmd.wrappers {
                line.push_str(w);
                line.push_str(" > ");
            }
            line.push_str(&cmd.text);
            out.push_str(&line);
            out.push('\n');
            for r in &cmd.redirects {
                out.push_str(&format!("    redirect {:?} {}\n", r.kind, r.target));
            }
            for e in &cmd.effects {
                out.push_str(&format!("    effect {e}\n"));
            }
        }
        for u in &self.unresolved {
            out.push_str(&format!("unresolved: {} ({})\n", u.reason, u.text));
        }
        out
    }
}

/// One simple command, normalised.
#[derive(Debug, Clone, Default, Serialize, PartialEq, Eq)]
pub struct SimpleCommand {
    /// The program, resolved: `/bin/rm`, `\rm`, `'rm'`, `r\m` all give `rm`. When the program
    /// is computed (`$CMD`), this is its visible text and the analysis has an [`Unresolved`].
    pub program: CompactString,
    /// The words after the program, after quote removal. Expansions that cannot be resolved
    /// statically are kept visibly (`$HOME/x`, `$(date)`).
    pub args: Vec<String>,
    /// `NAME=value` assignments that prefix the command (including `env NAME=value`).
    pub assignments: Vec<String>,
    /// How the command was reached, outermost first: `sudo`, `bash -c`, `xargs`, `ssh host`...
    pub wrappers: Vec<String>,
    /// Redirections of this command, including those of enclosing groups and loops.
    pub redirects: Vec<Redirect>,
    /// Literal text that reaches the command's standard input: heredoc bodies, here-strings,
    /// the output of `echo`/`printf` piped into it.
    pub inputs: Vec<String>,
    /// The program whose output is piped into this command, if any.
    pub stdin_from: Option<String>,
    /// The classified effects of this command.
    pub effects: Vec<Effect>,
    /// True when the analyser knows this program's effects: absence of a write effect then
    /// means the command does not write. False for programs it does not know.
    pub known_program: bool,
    /// Normalised text, `program arg1 arg2`, arguments quoted when they need it.
    pub text: CompactString,
}

impl SimpleCommand {
    /// Every string that reaches this command as code or data: its text, its arguments and
    /// its stdin inputs. Used by text matching.
    pub fn texts(&self) -> impl Iterator<Item = &str> {
        std::iter::once(self.text.as_str())
            .chain(self.args.iter().map(String::as_str))
            .chain(self.inputs.iter().map(String::as_str))
    }

    /// True when `kind` is among the effects.
    pub fn has_effect(&self, kind: EffectKind) -> bool {
        self.effects.iter().any(|e| e.kind == kind)
    }
}

/// A redirection of a command's input or output.
#[derive(Debug, Clone, Serialize, PartialEq, Eq)]
pub struct Redirect {
    /// The file descriptor, when written explicitly (`2>`).
    pub fd: Option<i32>,
    /// What the redirection does.
    pub kind: RedirectKind,
    /// The target path (after quote removal), or the duplicated descriptor, or `<(...)`.
    pub target: String,
}

/// The kind of a redirection.
#[derive(Debug, Clone, Copy, Serialize, PartialEq, Eq)]
#[serde(rename_all = "kebab-case")]
pub enum RedirectKind {
    /// `< file`
    Read,
    /// `> file`, `>| file`, `&> file`
    Write,
    /// `>> file`, `&>> file`
    Append,
    /// `<> file`
    ReadWrite,
    /// `>&2`, `<&0`
    Duplicate,
    /// `<<EOF`
    HereDoc,
    /// `<<< word`
    HereString,
}

/// One classified effect.
#[derive(Debug, Clone, Serialize, PartialEq, Eq)]
pub struct Effect {
    /// What kind of effect.
    pub kind: EffectKind,
    /// The path or host it applies to, when there is one.
    pub target: Option<String>,
    /// A short explanation (`force push`, `DROP TABLE reaching psql`).
    pub detail: Cow<'static, str>,
}

impl Effect {
    pub(crate) fn new(
        kind: EffectKind,
        target: Option<&str>,
        detail: impl Into<Cow<'static, str>>,
    ) -> Self {
        Effect {
            kind,
            target: target.map(str::to_owned),
            detail: detail.into(),
        }
    }
}

impl std::fmt::Display for Effect {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(self.kind.name())?;
        if let Some(t) = &self.target {
            write!(f, " {t}")?;
        }
        if !self.detail.is_empty() {
            write!(f, " ({})", self.detail)?;
        }
        Ok(())
    }
}

/// The kinds of effects the analyser classifies.
#[derive(Debug, Clone, Copy, Serialize, PartialEq, Eq, Hash, PartialOrd, Ord)]
#[serde(rename_all = "kebab-case")]
pub enum EffectKind {
    /// Reads a path.
    ReadPath,
    /// Writes (creates, modifies, changes metadata of) a path.
    WritePath,
    /// Deletes a path.
    DeletePath,
    /// Talks to another host.
    Network,
    /// Publishes a package or artifact (irreversible).
    Publish,
    /// Runs with raised privileges or changes privileges.
    Privilege,
    /// Runs code the analyser cannot see: `eval` of a computed string, a shell reading stdin,
    /// `python -c`, a script file.
    DynamicCode,
    /// Destroys version-control history or work (force push, `reset --hard`, ...).
    DestructiveVcs,
    /// Destroys data: SQL `DROP`/`TRUNCATE`/`DELETE` without `WHERE`, migration resets,
    /// raw writes to devices, filesystem creation.
    DestructiveData,
    /// Changes infrastructure (terraform, kubectl, cloud CLIs); `detail` says whether it deletes.
    Infrastructure,
    /// Applies database migrations or deploys (irreversible, usually "ask").
    Migration,
}

impl EffectKind {
    /// Every kind.
    pub const ALL: [EffectKind; 11] = [
        EffectKind::ReadPath,
        EffectKind::WritePath,
        EffectKind::DeletePath,
        EffectKind::Network,
        EffectKind::Publish,
        EffectKind::Privilege,
        EffectKind::DynamicCode,
        EffectKind::DestructiveVcs,
        EffectKind::DestructiveData,
        EffectKind::Infrastructure,
        EffectKind::Migration,
    ];

    /// The kind's name as `Debug` writes it (`ReadPath`, `Network`...), without formatting.
    pub fn name(self) -> &'static str {
        match self {
            EffectKind::ReadPath => "ReadPath",
            EffectKind::WritePath => "WritePath",
            EffectKind::DeletePath => "DeletePath",
            EffectKind::Network => "Network",
            EffectKind::Publish => "Publish",
            EffectKind::Privilege => "Privilege",
            EffectKind::DynamicCode => "DynamicCode",
            EffectKind::DestructiveVcs => "DestructiveVcs",
            EffectKind::DestructiveData => "DestructiveData",
            EffectKind::Infrastructure => "Infrastructure",
            EffectKind::Migration => "Migration",
        }
    }
}

/// A part of the command the analyser could not resolve.
#[derive(Debug, Clone, Serialize, PartialEq, Eq)]
pub struct Unresolved {
    /// Why (`program name is computed`, `unparseable`, `nesting limit`...).
    pub reason: String,
    /// The text concerned.
    pub text: String,
    /// How it was reached (wrappers).
    pub wrappers: Vec<String>,
}

#[cfg(test)]
mod tests {
    use super::*;

    /// `name` is what `Debug` writes, for every kind (an effect's `Display` starts with it).
    #[test]
    fn kind_names_are_their_debug_text() {
        for kind in EffectKind::ALL {
            assert_eq!(kind.name(), format!("{kind:?}"));
        }
        // `ALL` holds each kind once; a kind added to the enum without a name fails to
        // compile in `name`.
        let mut sorted = EffectKind::ALL.to_vec();
        sorted.sort();
        sorted.dedup();
        assert_eq!(sorted.len(), EffectKind::ALL.len());
    }
}
