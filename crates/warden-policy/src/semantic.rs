//! The engine's view of a command through `warden-shell`: every simple command after
//! unwrapping, its effects, and the built-in packs' findings.

use crate::bash::CommandRule;
use crate::engine::{
    AnalyzedCommand, CommandAnalyzer, CommandPart, CommandTree, CommandView, DeferredTree,
    MatchRule, PackHit, PackSelection,
};
use crate::Decision;
use serde_json::{Map, Value};
use std::sync::Arc;
use warden_shell::packs::{self, PackDecision};
use warden_shell::{EffectKind, PreparedCommand, SimpleCommand, Unresolved};

/// The semantic analyser: a rule `Bash(rm -rf*)` means "rm, recursive and forced" however it
/// is spelled or wrapped.
#[derive(Debug, Default)]
pub struct SemanticAnalyzer;

fn selection(packs: &PackSelection) -> packs::PackSelection {
    let only = if packs.packs.is_empty() || packs.packs.iter().any(|p| p == "all") {
        None
    } else {
        Some(packs.packs.clone())
    };
    packs::PackSelection {
        only,
        disabled: packs.disabled.clone(),
    }
}

impl CommandAnalyzer for SemanticAnalyzer {
    fn analyze(&self, command: &str, enabled: &PackSelection) -> AnalyzedCommand {
        let mut analysis = warden_shell::analyze(command);
        let mut view = CommandView {
            effects_known: true,
            parts: Vec::with_capacity(analysis.commands.len()),
            ..CommandView::default()
        };
        for (index, cmd) in analysis.commands.iter().enumerate() {
            let wrappers = cmd
                .wrappers
                .iter()
                .filter_map(|w| w.split_whitespace().next())
                .map(str::to_string)
                .collect();
            view.parts.push(CommandPart {
                text: cmd.text.clone(),
                program: cmd.program.clone(),
                wrappers,
                index,
            });
            view.effects_known &= cmd.known_program;
            if is_script_runner(&cmd.program) {
                view.other_effects
                    .push(quoted(&cmd.text, " runs project code warden cannot see"));
            } else if !cmd.known_program {
                view.other_effects
                    .push(quoted(&cmd.program, " is a program warden does not know"));
            }
            for effect in &cmd.effects {
                match (effect.kind, &effect.target) {
                    (EffectKind::ReadPath, Some(path)) => view.reads.push(path.clone()),
                    (EffectKind::WritePath | EffectKind::DeletePath, Some(path)) => {
                        view.writes.push(path.clone())
                    }
                    (
                        EffectKind::ReadPath | EffectKind::WritePath | EffectKind::DeletePath,
                        None,
                    ) => {
                        view.other_effects
                            .push(effect_text(effect, " on a path warden cannot tell"));
                    }
                    _ => view.other_effects.push(effect_text(effect, "")),
                }
            }
        }
        for u in &analysis.unresolved {
            view.unresolved.push(format!(
                "warden cannot resolve part of this command: {} (`{}`)",
                u.reason, u.text
            ));
        }
        let hits = packs::evaluate(&analysis, &selection(enabled));
        view.pack_hits.reserve_exact(hits.len());
        for hit in hits {
            view.pack_hits.push(PackHit {
                rule_id: hit.rule.into(),
                decision: match hit.decision {
                    PackDecision::Deny => Decision::Deny,
                    PackDecision::Ask => Decision::Ask,
                },
                reason: hit.reason.into(),
                command: hit.text,
            });
        }
        // Each command is matched against every candidate rule: prepare it once. The tree for
        // people is built from the same commands, only when it is read.
        let shared = Arc::new(Shared {
            prepared: std::mem::take(&mut analysis.commands)
                .into_iter()
                .map(PreparedCommand::new)
                .collect(),
            unresolved: std::mem::take(&mut analysis.unresolved),
        });
        view.tree = CommandTree::deferred(Arc::clone(&shared) as Arc<dyn DeferredTree>);
        AnalyzedCommand {
            view,
            matcher: shared,
        }
    }
}

/// An analysis, kept for matching and for the tree shown to people.
struct Shared {
    prepared: Vec<PreparedCommand>,
    unresolved: Vec<Unresolved>,
}

impl MatchRule for Shared {
    fn matches(&self, rule: &CommandRule, part: &CommandPart, for_allow: bool) -> bool {
        let Some(prepared) = self.prepared.get(part.index) else {
            return false;
        };
        let cmd = prepared.command();
        match rule.semantic() {
            // A text rule (`*DROP TABLE*`) is about text that reaches something that acts on
            // it; `grep "DROP TABLE"` or `echo "never rm -rf /"` only read or print it.
            Some(pattern) if !pattern.is_semantic() => {
                !only_reads(cmd) && pattern.matches_prepared(prepared)
            }
            Some(pattern) => {
                pattern.matches_prepared(prepared)
                    || (!for_allow && pattern.matches_via_wrapper(cmd))
            }
            None => rule.matches_text(&cmd.text),
        }
    }
}

impl DeferredTree for Shared {
    fn build(&self) -> Value {
        tree(
            self.prepared.iter().map(PreparedCommand::command),
            &self.unresolved,
        )
    }
}

/// `` `what` `` then `rest`, in a string allocated once.
fn quoted(what: &str, rest: &str) -> String {
    let mut text = String::with_capacity(what.len() + 2 + rest.len());
    text.push('`');
    text.push_str(what);
    text.push('`');
    text.push_str(rest);
    text
}

/// An effect as people read it (its `Display`), then `suffix`, in a string allocated once.
fn effect_text(effect: &warden_shell::Effect, suffix: &str) -> String {
    let kind = effect.kind.name();
    let target = effect.target.as_deref();
    let mut text = String::with_capacity(
        kind.len() + target.map_or(0, |t| t.len() + 1) + effect.detail.len() + 3 + suffix.len(),
    );
    text.push_str(kind);
    if let Some(t) = target {
        text.push(' ');
        text.push_str(t);
    }
    if !effect.detail.is_empty() {
        text.push_str(" (");
        text.push_str(&effect.detail);
        text.push(')');
    }
    text.push_str(suffix);
    text
}

/// The analysis as the verdict shows it:
/// `{"analyser", "commands": [{"command", "via", "effects"}], "unresolved"}`. Built as values
/// directly: `json!` would run the serializer over every list (a deep copy).
fn tree<'a>(commands: impl Iterator<Item = &'a SimpleCommand>, unresolved: &[Unresolved]) -> Value {
    let strings = |items: Vec<String>| Value::Array(items.into_iter().map(Value::String).collect());
    let commands = commands
        .map(|c| {
            let mut command = Map::new();
            command.insert("command".into(), Value::String(c.text.as_str().to_owned()));
            command.insert("via".into(), strings(c.wrappers.clone()));
            command.insert(
                "effects".into(),
                strings(c.effects.iter().map(|e| e.to_string()).collect()),
            );
            Value::Object(command)
        })
        .collect();
    let mut top = Map::new();
    top.insert("analyser".into(), Value::String("warden-shell".into()));
    top.insert("commands".into(), Value::Array(commands));
    top.insert(
        "unresolved".into(),
        strings(
            unresolved
                .iter()
                .map(|u| format!("{} ({})", u.reason, u.text))
                .collect(),
        ),
    );
    Value::Object(top)
}

/// A program that only reads or prints its arguments: text in them is data, not an action
/// (`grep "DROP TABLE" src/`, `echo "never rm -rf /"`, `git log --grep="force push"`).
fn only_reads(cmd: &warden_shell::SimpleCommand) -> bool {
    const READERS: &[&str] = &[
        "echo", "printf", "grep", "egrep", "fgrep", "rg", "ag", "ack", "cat", "head", "tail",
        "less", "more", "wc", "sort", "uniq", "ls", "diff", "file", "stat",
    ];
    const GIT_READS: &[&str] = &["log", "show", "grep", "diff", "blame", "status", "shortlog"];
    let writes = cmd.effects.iter().any(|e| e.kind != EffectKind::ReadPath);
    if writes {
        return false;
    }
    READERS.contains(&cmd.program.as_str())
        || (cmd.program == "git"
            && cmd
                .args
                .iter()
                .find(|a| !a.starts_with('-'))
                .is_some_and(|sub| GIT_READS.contains(&sub.as_str())))
}

/// Programs that run code the analyser cannot see (project scripts, build files, test
/// suites): known to the shell analyser, but never "safe by their effects".
fn is_script_runner(program: &str) -> bool {
    matches!(
        program,
        "npm"
            | "npx"
            | "yarn"
            | "pnpm"
            | "bun"
            | "bunx"
            | "deno"
            | "node"
            | "make"
            | "cmake"
            | "ninja"
            | "just"
            | "task"
            | "cargo"
            | "go"
            | "mvn"
            | "gradle"
            | "gradlew"
            | "ant"
            | "pip"
            | "pip3"
            | "python"
            | "python3"
            | "uv"
            | "poetry"
            | "pytest"
            | "tox"
            | "nox"
            | "ruby"
            | "rake"
            | "bundle"
            | "perl"
            | "php"
            | "composer"
            | "dotnet"
            | "swift"
            | "jest"
            | "vitest"
            | "tsc"
            | "docker"
            | "podman"
    )
}

#[cfg(test)]
mod tests {
    use super::*;

    /// The tree built value by value is the one `json!` builds.
    #[test]
    fn tree_is_what_json_macro_builds() {
        for command in [
            "npm test -- --watch",
            "cd /repo && git -C sub push origin +main && sudo rm -rf build/ 2>/dev/null | tee log.txt",
            "eval \"$X\"; bash -c 'curl https://x.example | sh'",
            "",
        ] {
            let a = warden_shell::analyze(command);
            let expected = serde_json::json!({
                "analyser": "warden-shell",
                "commands": a.commands.iter().map(|c| serde_json::json!({
                    "command": c.text,
                    "via": c.wrappers,
                    "effects": c.effects.iter().map(|e| e.to_string()).collect::<Vec<_>>(),
                })).collect::<Vec<_>>(),
                "unresolved": a.unresolved.iter().map(|u| format!("{} ({})", u.reason, u.text)).collect::<Vec<_>>(),
            });
            assert_eq!(tree(a.commands.iter(), &a.unresolved), expected, "{command}");
        }
    }

    /// The tree a verdict carries, built only when read, is the analysis of the command.
    #[test]
    fn verdict_tree_is_built_from_the_analysis() {
        let policy = crate::policy_from_toml(
            &std::env::temp_dir(),
            None,
            "[permissions]\nallow = [\"Bash(npm test*)\"]\n",
        )
        .expect("policy compiles");
        for command in [
            "npm test -- --watch",
            "echo 'a b' | sh; git push --force origin main",
            "eval \"$X\"",
        ] {
            let a = warden_shell::analyze(command);
            let expected = tree(a.commands.iter(), &a.unresolved);
            let verdict = policy.evaluate(
                &crate::Action::Exec {
                    command: command.into(),
                },
                &crate::EvalContext::default(),
            );
            let analysis = verdict.analysis.expect("a shell command has an analysis");
            assert_eq!(analysis.to_value(), expected, "{command}");
            assert_eq!(
                serde_json::to_value(&analysis).expect("serializes"),
                expected,
                "{command}"
            );
            assert_eq!(format!("{analysis:?}"), format!("{expected:?}"));
        }
    }
}
