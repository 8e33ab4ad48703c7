//! Built-in rule packs: named, documented rules over classified commands that a policy can
//! enable or disable as a whole (by pack id) or one by one (by rule id).

use crate::model::{Analysis, EffectKind, SimpleCommand};
use serde::Serialize;

/// What a pack rule asks for.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, PartialOrd, Ord)]
#[serde(rename_all = "lowercase")]
pub enum PackDecision {
    /// Needs a person's approval.
    Ask,
    /// Refused.
    Deny,
}

/// One rule of a pack.
#[derive(Debug)]
pub struct PackRule {
    /// Stable id, `pack:rule`, e.g. `core.git:force-push`.
    pub id: &'static str,
    /// The pack it belongs to.
    pub pack: &'static str,
    /// What the rule decides when it matches.
    pub decision: PackDecision,
    /// Why, for a person reading the decision.
    pub reason: &'static str,
    test: fn(&SimpleCommand) -> bool,
    /// What a command has whenever `test` holds for it: checked first, so that most rules
    /// are passed over for most commands without running their test.
    gate: Gate,
}

/// A necessary condition of a pack rule's test.
#[derive(Debug, Clone, Copy)]
enum Gate {
    /// The command has an effect of this kind.
    Effect(EffectKind),
    /// The command runs this program.
    Program(&'static str),
}

/// The kinds of a command's effects, one bit each.
fn effect_kinds(cmd: &SimpleCommand) -> u32 {
    cmd.effects
        .iter()
        .fold(0, |kinds, e| kinds | 1 << (e.kind as u32))
}

impl Gate {
    fn open(self, cmd: &SimpleCommand, kinds: u32) -> bool {
        match self {
            Gate::Effect(kind) => kinds & 1 << (kind as u32) != 0,
            Gate::Program(program) => cmd.program == program,
        }
    }
}

impl PackRule {
    /// True when the rule applies to this command.
    pub fn matches(&self, cmd: &SimpleCommand) -> bool {
        self.gate.open(cmd, effect_kinds(cmd)) && (self.test)(cmd)
    }
}

/// A named set of rules.
#[derive(Debug)]
pub struct Pack {
    /// Pack id, e.g. `core.filesystem`.
    pub id: &'static str,
    /// What the pack protects against.
    pub description: &'static str,
    /// Its rules.
    pub rules: &'static [PackRule],
}

/// Which packs and rules are enabled. The default enables every built-in pack.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize)]
pub struct PackSelection {
    /// When set, only these pack ids are enabled.
    pub only: Option<Vec<String>>,
    /// Pack ids or rule ids that are disabled.
    pub disabled: Vec<String>,
}

impl PackSelection {
    /// Every built-in pack.
    pub fn all() -> Self {
        Self::default()
    }

    /// Disables a pack id or a rule id.
    pub fn without(mut self, id: impl Into<String>) -> Self {
        self.disabled.push(id.into());
        self
    }

    fn enabled(&self, rule: &PackRule) -> bool {
        if self.disabled.iter().any(|d| d == rule.id || d == rule.pack) {
            return false;
        }
        match &self.only {
            Some(only) => only.iter().any(|p| p == rule.pack),
            None => true,
        }
    }
}

/// A rule that matched one command of an analysis.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct PackHit {
    /// Rule id.
    pub rule: &'static str,
    /// Pack id.
    pub pack: &'static str,
    /// The rule's decision.
    pub decision: PackDecision,
    /// The rule's reason.
    pub reason: &'static str,
    /// Index into [`Analysis::commands`].
    pub command: usize,
    /// The command's normalised text, with its wrappers.
    pub text: String,
}

/// Every built-in pack.
pub fn builtin_packs() -> &'static [Pack] {
    PACKS
}

/// Looks a rule up by id.
pub fn rule(id: &str) -> Option<&'static PackRule> {
    PACKS
        .iter()
        .flat_map(|p| p.rules.iter())
        .find(|r| r.id == id)
}

/// Evaluates the enabled packs against every command of the analysis.
pub fn evaluate(analysis: &Analysis, enabled: &PackSelection) -> Vec<PackHit> {
    let mut hits = Vec::new();
    for (i, cmd) in analysis.commands.iter().enumerate() {
        let kinds = effect_kinds(cmd);
        for pack in PACKS {
            for rule in pack.rules {
                if rule.gate.open(cmd, kinds) && enabled.enabled(rule) && (rule.test)(cmd) {
                    let mut text = String::new();
                    for w in &cmd.wrappers {
                        text.push_str(w);
                        text.push_str(" > ");
                    }
                    text.push_str(&cmd.text);
                    hits.push(PackHit {
                        rule: rule.id,
                        pack: rule.pack,
                        decision: rule.decision,
                        reason: rule.reason,
                        command: i,
                        text,
                    });
                }
            }
        }
    }
    hits
}

/// The strongest decision among the hits, if any.
pub fn strongest(hits: &[PackHit]) -> Option<PackDecision> {
    hits.iter().map(|h| h.decision).max()
}

fn effect(cmd: &SimpleCommand, kind: EffectKind, detail_has: &[&str]) -> bool {
    cmd.effects.iter().any(|e| {
        e.kind == kind && (detail_has.is_empty() || detail_has.iter().any(|d| e.detail.contains(d)))
    })
}

fn rm_flags(cmd: &SimpleCommand) -> Option<crate::opts::Parsed> {
    (cmd.program == "rm").then(|| crate::opts::parse(&crate::opts::RM, &cmd.args))
}

/// Targets whose recursive deletion wipes a system, a home directory or a whole project.
pub fn is_critical_target(t: &str) -> bool {
    let t = t.trim();
    let stripped = t.trim_end_matches("/*").trim_end_matches('/');
    if matches!(
        t,
        "/" | "/*"
            | "~"
            | "~/"
            | "~/*"
            | "."
            | "./"
            | ".."
            | "../"
            | "*"
            | "./*"
            | ".*"
            | "../*"
            | "~/.*"
    ) {
        return true;
    }
    if matches!(
        stripped,
        "" | "$HOME" | "${HOME}" | "~" | "$PWD" | "${PWD}" | "$(pwd)" | "`pwd`"
    ) {
        return true;
    }
    // `"$VAR"/` or `$VAR/*`: an empty variable turns it into `/`.
    if let Some(rest) = t.strip_prefix('$') {
        let after = rest.trim_start_matches(|c: char| {
            c.is_ascii_alphanumeric() || c == '_' || c == '{' || c == '}'
        });
        if after == "/" || after == "/*" {
            return true;
        }
    }
    if stripped.starts_with('/') && crate::effects::is_system_path(stripped) {
        // `/etc`, `/usr/*`, `/home/user` but not `/var/tmp/build/x`.
        return stripped.matches('/').count() <= 2 && !stripped.starts_with("/tmp");
    }
    false
}

fn recursive_delete_critical(cmd: &SimpleCommand) -> bool {
    if cmd.program == "rmdir" {
        // rmdir only removes empty directories.
        return false;
    }
    let recursive_rm = rm_flags(cmd).is_some_and(|p| p.has("recursive"));
    cmd.effects.iter().any(|e| {
        e.kind == EffectKind::DeletePath
            && e.target.as_deref().is_some_and(is_critical_target)
            && (recursive_rm
                || e.detail.contains("find -delete")
                || e.detail.contains("rsync")
                || e.target.as_deref().is_some_and(|t| t.ends_with('*')))
    })
}

fn recursive_force_delete(cmd: &SimpleCommand) -> bool {
    rm_flags(cmd).is_some_and(|p| p.has("recursive") && p.has("force"))
        && !recursive_delete_critical(cmd)
}

static PACKS: &[Pack] = &[
    Pack {
        id: "core.filesystem",
        description: "Deleting or overwriting files beyond recovery.",
        rules: &[
            PackRule {
                id: "core.filesystem:recursive-delete-critical",
                pack: "core.filesystem",
                decision: PackDecision::Deny,
                reason: "recursive delete of the root, a system directory, the home directory or the whole working tree",
                test: recursive_delete_critical,
                gate: Gate::Effect(EffectKind::DeletePath),
            },
            PackRule {
                id: "core.filesystem:no-preserve-root",
                pack: "core.filesystem",
                decision: PackDecision::Deny,
                reason: "rm --no-preserve-root",
                test: |c| rm_flags(c).is_some_and(|p| p.has("no-preserve-root")),
                gate: Gate::Program("rm"),
            },
            PackRule {
                id: "core.filesystem:destroy-device",
                pack: "core.filesystem",
                decision: PackDecision::Deny,
                reason: "writes to a raw device, formats or repartitions a disk, or shreds data",
                test: |c| effect(c, EffectKind::DestructiveData, &["device", "formats", "shred", "whole tree", "repartitions"]),
                gate: Gate::Effect(EffectKind::DestructiveData),
            },
            PackRule {
                id: "core.filesystem:crontab-remove",
                pack: "core.filesystem",
                decision: PackDecision::Deny,
                reason: "crontab -r removes every scheduled job without confirmation",
                test: |c| effect(c, EffectKind::DestructiveData, &["crontab -r"]),
                gate: Gate::Effect(EffectKind::DestructiveData),
            },
            PackRule {
                id: "core.filesystem:recursive-force-delete",
                pack: "core.filesystem",
                decision: PackDecision::Ask,
                reason: "recursive forced delete",
                test: recursive_force_delete,
                gate: Gate::Program("rm"),
            },
            PackRule {
                id: "core.filesystem:truncate",
                pack: "core.filesystem",
                decision: PackDecision::Ask,
                reason: "empties a file",
                test: |c| effect(c, EffectKind::DestructiveData, &["truncates"]),
                gate: Gate::Effect(EffectKind::DestructiveData),
            },
        ],
    },
    Pack {
        id: "core.git",
        description: "Destroying version-control history or uncommitted work.",
        rules: &[
            PackRule {
                id: "core.git:force-push",
                pack: "core.git",
                decision: PackDecision::Deny,
                reason: "force push rewrites remote history",
                test: |c| effect(c, EffectKind::DestructiveVcs, &["force push", "mirror push"]),
                gate: Gate::Effect(EffectKind::DestructiveVcs),
            },
            PackRule {
                id: "core.git:remote-branch-delete",
                pack: "core.git",
                decision: PackDecision::Deny,
                reason: "deletes branches on the remote",
                test: |c| effect(c, EffectKind::DestructiveVcs, &["deletes a remote branch", "push --prune"]),
                gate: Gate::Effect(EffectKind::DestructiveVcs),
            },
            PackRule {
                id: "core.git:history-rewrite",
                pack: "core.git",
                decision: PackDecision::Deny,
                reason: "rewrites history or drops unreachable objects and reflog entries",
                test: |c| effect(c, EffectKind::DestructiveVcs, &["rewrites history", "reflog", "update-ref -d", "gc --prune"]),
                gate: Gate::Effect(EffectKind::DestructiveVcs),
            },
            PackRule {
                id: "core.git:discard-work",
                pack: "core.git",
                decision: PackDecision::Deny,
                reason: "discards uncommitted or unmerged work (reset --hard, clean -f, branch -D, checkout -- ., stash clear)",
                test: |c| effect(c, EffectKind::DestructiveVcs, &["reset --hard", "clean -f", "branch -D", "discards uncommitted", "stash clear"]),
                gate: Gate::Effect(EffectKind::DestructiveVcs),
            },
            PackRule {
                id: "core.git:overwrite-ref",
                pack: "core.git",
                decision: PackDecision::Ask,
                reason: "moves or overwrites a branch, or drops a stash",
                test: |c| effect(c, EffectKind::DestructiveVcs, &["branch -M", "branch -f", "stash drop"]),
                gate: Gate::Effect(EffectKind::DestructiveVcs),
            },
        ],
    },
    Pack {
        id: "database",
        description: "Destroying database data: SQL DROP / TRUNCATE / DELETE without WHERE, dropped databases, migration resets.",
        rules: &[
            PackRule {
                id: "database:destructive-sql",
                pack: "database",
                decision: PackDecision::Deny,
                reason: "destructive SQL reaches a database client",
                test: |c| effect(c, EffectKind::DestructiveData, &["reaching"]),
                gate: Gate::Effect(EffectKind::DestructiveData),
            },
            PackRule {
                id: "database:drop-database",
                pack: "database",
                decision: PackDecision::Deny,
                reason: "drops or flushes a whole database",
                test: |c| effect(c, EffectKind::DestructiveData, &["drops a database", "mysqladmin drop", "FLUSHALL", "MongoDB"]),
                gate: Gate::Effect(EffectKind::DestructiveData),
            },
            PackRule {
                id: "database:migration-reset",
                pack: "database",
                decision: PackDecision::Deny,
                reason: "resets, drops or rolls back every migration of the database",
                test: |c| effect(c, EffectKind::DestructiveData, &["rails ", "django ", "prisma", "alembic", "knex", "sequelize", "typeorm", "flyway", "liquibase"]),
                gate: Gate::Effect(EffectKind::DestructiveData),
            },
            PackRule {
                id: "database:migration",
                pack: "database",
                decision: PackDecision::Ask,
                reason: "applies database migrations",
                test: |c| c.has_effect(EffectKind::Migration),
                gate: Gate::Effect(EffectKind::Migration),
            },
        ],
    },
    Pack {
        id: "infrastructure",
        description: "Deleting or changing cloud and cluster resources.",
        rules: &[
            PackRule {
                id: "infrastructure:delete",
                pack: "infrastructure",
                decision: PackDecision::Deny,
                reason: "deletes infrastructure (terraform destroy, kubectl delete, cloud delete, docker system prune)",
                test: |c| c.effects.iter().any(|e| e.kind == EffectKind::Infrastructure && e.detail.starts_with("delete:")),
                gate: Gate::Effect(EffectKind::Infrastructure),
            },
            PackRule {
                id: "infrastructure:change",
                pack: "infrastructure",
                decision: PackDecision::Ask,
                reason: "changes infrastructure or deploys",
                test: |c| c.effects.iter().any(|e| e.kind == EffectKind::Infrastructure && e.detail.starts_with("change:")),
                gate: Gate::Effect(EffectKind::Infrastructure),
            },
        ],
    },
    Pack {
        id: "network",
        description: "Talking to other hosts and publishing packages.",
        rules: &[
            PackRule {
                id: "network:publish",
                pack: "network",
                decision: PackDecision::Ask,
                reason: "publishes a package or image (irreversible)",
                test: |c| c.has_effect(EffectKind::Publish),
                gate: Gate::Effect(EffectKind::Publish),
            },
            PackRule {
                id: "network:egress",
                pack: "network",
                decision: PackDecision::Ask,
                reason: "network egress",
                test: |c| c.has_effect(EffectKind::Network),
                gate: Gate::Effect(EffectKind::Network),
            },
        ],
    },
    Pack {
        id: "dynamic-code",
        description: "Running code the analyser cannot see.",
        rules: &[
            PackRule {
                id: "dynamic-code:remote-code",
                pack: "dynamic-code",
                decision: PackDecision::Deny,
                reason: "runs code downloaded from the network or decoded from an opaque blob",
                test: |c| effect(c, EffectKind::DynamicCode, &["downloaded by", "decoded by"]),
                gate: Gate::Effect(EffectKind::DynamicCode),
            },
            PackRule {
                id: "dynamic-code:opaque",
                pack: "dynamic-code",
                decision: PackDecision::Ask,
                reason: "runs code the analyser cannot see (eval, inline interpreter code, scripts, stdin)",
                test: |c| c.has_effect(EffectKind::DynamicCode),
                gate: Gate::Effect(EffectKind::DynamicCode),
            },
        ],
    },
    Pack {
        id: "privilege",
        description: "Raising or changing privileges.",
        rules: &[PackRule {
            id: "privilege:escalation",
            pack: "privilege",
            decision: PackDecision::Ask,
            reason: "runs with or changes privileges",
            test: |c| c.has_effect(EffectKind::Privilege),
            gate: Gate::Effect(EffectKind::Privilege),
        }],
    },
];

#[cfg(test)]
mod tests {
    use super::*;

    /// Each rule's gate is a necessary condition of its test: on every command of the
    /// destructive-spellings corpus, a test that holds has its gate open.
    #[test]
    fn gates_hold_wherever_tests_hold() {
        let path = concat!(env!("CARGO_MANIFEST_DIR"), "/tests/corpus/destructive.toml");
        let text = std::fs::read_to_string(path).expect("the corpus is readable");
        let corpus: toml::Table = toml::from_str(&text).expect("the corpus parses");
        let mut held = 0;
        for case in corpus["case"].as_array().expect("[[case]] entries") {
            let line = case["cmd"].as_str().expect("a case has cmd");
            for cmd in &crate::analyze(line).commands {
                for rule in PACKS.iter().flat_map(|p| p.rules) {
                    if (rule.test)(cmd) {
                        held += 1;
                        assert!(
                            rule.gate.open(cmd, effect_kinds(cmd)),
                            "{}: {line}",
                            rule.id
                        );
                    }
                }
            }
        }
        assert!(held > 150, "only {held} rule hits");
    }
}
