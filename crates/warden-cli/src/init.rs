//! `warden init`: a starter policy and warden's hooks in Claude Code's settings.

use anyhow::{bail, Context, Result};
use serde_json::{json, Map, Value};
use std::path::{Path, PathBuf};

pub const STARTER_POLICY: &str = include_str!("assets/starter-policy.toml");

/// The Claude Code events warden hooks, with the seconds each hook may take.
/// PreToolUse may wait for a person's approval (10 minutes by default), so it gets longer.
pub const HOOK_EVENTS: &[(&str, u64)] = &[
    ("PreToolUse", 660),
    ("PostToolUse", 30),
    ("UserPromptSubmit", 30),
    ("SessionStart", 30),
    ("SessionEnd", 30),
];

#[derive(Debug, clap::Args)]
pub struct InitArgs {
    /// Show what would change, write nothing.
    #[arg(long)]
    pub dry_run: bool,
    /// Install for your user (~/.claude/settings.json, ~/.config/warden/policy.toml) instead of
    /// this project.
    #[arg(long)]
    pub user: bool,
    /// Report as JSON.
    #[arg(long)]
    pub json: bool,
}

/// One file `init` writes.
struct Planned {
    path: PathBuf,
    before: Option<String>,
    after: String,
    what: &'static str,
}

/// The command the hooks run: this binary, by absolute path, so the hook works whatever PATH
/// Claude Code gives it.
pub fn hook_command() -> Result<String> {
    let exe = std::env::current_exe().context("cannot find the warden binary's own path")?;
    let exe = exe.canonicalize().unwrap_or(exe);
    Ok(format!(
        "{} hook claude",
        shell_quote(&exe.to_string_lossy())
    ))
}

fn shell_quote(s: &str) -> String {
    if s.chars()
        .all(|c| c.is_ascii_alphanumeric() || "/._-+:@".contains(c))
    {
        s.to_string()
    } else {
        format!("'{}'", s.replace('\'', r"'\''"))
    }
}

fn git_toplevel(dir: &Path) -> Option<PathBuf> {
    let out = std::process::Command::new("git")
        .args(["rev-parse", "--show-toplevel"])
        .current_dir(dir)
        .output()
        .ok()?;
    out.status
        .success()
        .then(|| PathBuf::from(String::from_utf8_lossy(&out.stdout).trim()))
}

/// Merge warden's hooks into a settings document, keeping everything else.
/// Returns the notes for people (converted shorthand hooks and the like).
pub fn merge_hooks(settings: &mut Value, command: &str) -> Result<Vec<String>> {
    let mut notes = Vec::new();
    let Some(root) = settings.as_object_mut() else {
        bail!(
            "the settings file is not a JSON object; fix it by hand, warden will not overwrite it"
        );
    };
    let hooks = root
        .entry("hooks")
        .or_insert_with(|| Value::Object(Map::new()));
    let Some(hooks) = hooks.as_object_mut() else {
        bail!("\"hooks\" in the settings file is not an object; fix it by hand, warden will not overwrite it");
    };
    for (event, timeout) in HOOK_EVENTS {
        let ours = json!({
            "type": "command",
            "command": command,
            "timeout": timeout,
            "onFailure": "block",
        });
        let entry = hooks
            .entry(event.to_string())
            .or_insert_with(|| Value::Array(Vec::new()));
        if let Value::String(shorthand) = entry {
            notes.push(format!(
                "{event}: the shorthand hook {shorthand:?} was rewritten in Claude Code's full form (same command, every call)"
            ));
            *entry = json!([{ "matcher": "*", "hooks": [{ "type": "command", "command": shorthand.clone() }] }]);
        }
        let Some(groups) = entry.as_array_mut() else {
            bail!("hooks.{event} in the settings file is neither a list nor a command string; fix it by hand");
        };
        let mut found = false;
        for group in groups.iter_mut() {
            let Some(list) = group.get_mut("hooks").and_then(Value::as_array_mut) else {
                continue;
            };
            for hook in list.iter_mut() {
                let is_warden = hook
                    .get("command")
                    .and_then(Value::as_str)
                    .is_some_and(|c| c.ends_with(" hook claude") && c.contains("warden"));
                if is_warden {
                    if found {
                        // A second copy of warden's hook would run every check twice.
                        *hook = Value::Null;
                    } else {
                        *hook = ours.clone();
                        found = true;
                    }
                }
            }
            list.retain(|h| !h.is_null());
        }
        groups.retain(|g| {
            g.get("hooks")
                .and_then(Value::as_array)
                .is_none_or(|l| !l.is_empty())
        });
        if !found {
            let mut group = Map::new();
            if matches!(*event, "PreToolUse" | "PostToolUse") {
                group.insert("matcher".into(), json!("*"));
            }
            group.insert("hooks".into(), json!([ours]));
            groups.push(Value::Object(group));
        }
    }
    Ok(notes)
}

pub fn run(args: &InitArgs, out: &mut dyn std::io::Write) -> Result<i32> {
    let cwd = crate::project::current_dir()?;
    let home = crate::project::home_dir();
    let (policy_path, settings_path, root) = if args.user {
        let home = home
            .clone()
            .context("HOME is not set, so there is no user level to install at")?;
        let dir = warden_policy::config::user_config_dir(Some(&home))
            .context("no user config directory")?;
        (
            dir.join("policy.toml"),
            home.join(".claude/settings.json"),
            None,
        )
    } else {
        let Some(root) = git_toplevel(&cwd) else {
            bail!(
                "{} is not inside a git repository. warden init sets up a project: run it at the top of a git checkout (or `git init` first), or use --user to install for your user",
                cwd.display()
            );
        };
        let policy = if root.join(".warden/policy.toml").is_file() {
            root.join(".warden/policy.toml")
        } else {
            root.join("warden.toml")
        };
        (policy, root.join(".claude/settings.json"), Some(root))
    };

    let mut planned = Vec::new();
    let mut notes = Vec::new();
    if !policy_path.exists() {
        planned.push(Planned {
            path: policy_path.clone(),
            before: None,
            after: STARTER_POLICY.to_string(),
            what: "starter policy",
        });
    } else {
        notes.push(format!("{} exists: kept as it is", policy_path.display()));
    }
    let before = match std::fs::read_to_string(&settings_path) {
        Ok(text) => Some(text),
        Err(e) if e.kind() == std::io::ErrorKind::NotFound => None,
        Err(e) => {
            return Err(e).with_context(|| format!("cannot read {}", settings_path.display()))
        }
    };
    let mut settings: Value = match &before {
        Some(text) if !text.trim().is_empty() => serde_json::from_str(text).with_context(|| {
            format!(
                "{} is not valid JSON; fix it first, warden will not overwrite it",
                settings_path.display()
            )
        })?,
        _ => json!({}),
    };
    notes.extend(merge_hooks(&mut settings, &hook_command()?)?);
    let after = format!("{}\n", serde_json::to_string_pretty(&settings)?);
    if before.as_deref() != Some(after.as_str()) {
        planned.push(Planned {
            path: settings_path.clone(),
            before,
            after,
            what: "Claude Code hooks",
        });
    }
    if let Some(root) = &root {
        let ignore = root.join(".warden/.gitignore");
        if !ignore.exists() {
            planned.push(Planned {
                path: ignore,
                before: None,
                after: "# The audit log is local state, not source.\n*.db\n*.db-*\n".into(),
                what: "keeps the audit log out of git",
            });
        }
    }

    if args.json {
        let files: Vec<Value> = planned
            .iter()
            .map(|p| json!({ "path": p.path, "what": p.what, "created": p.before.is_none() }))
            .collect();
        writeln!(
            out,
            "{}",
            json!({ "dry_run": args.dry_run, "changes": files, "notes": notes })
        )?;
    }
    if args.dry_run {
        if !args.json {
            if planned.is_empty() {
                writeln!(out, "warden init: nothing to change")?;
            }
            for p in &planned {
                let old = p.before.clone().unwrap_or_default();
                let diff = similar::TextDiff::from_lines(&old, &p.after);
                let label = p.path.display().to_string();
                write!(
                    out,
                    "{}",
                    diff.unified_diff().header(
                        if p.before.is_some() {
                            &label
                        } else {
                            "/dev/null"
                        },
                        &label
                    )
                )?;
            }
            for n in &notes {
                writeln!(out, "note: {n}")?;
            }
        }
        return Ok(0);
    }
    for p in &planned {
        if let Some(dir) = p.path.parent() {
            std::fs::create_dir_all(dir)
                .with_context(|| format!("cannot create {}", dir.display()))?;
        }
        write_atomically(&p.path, &p.after)?;
    }
    if !args.json {
        if planned.is_empty() {
            writeln!(out, "warden init: already set up, nothing changed")?;
        }
        for p in &planned {
            let verb = if p.before.is_some() {
                "updated"
            } else {
                "created"
            };
            writeln!(out, "{verb} {} ({})", p.path.display(), p.what)?;
        }
        for n in &notes {
            writeln!(out, "note: {n}")?;
        }
        if !planned.is_empty() {
            writeln!(out, "\nNext: edit the policy's [scope] write list, then try `warden check 'Bash(rm -fr /)'`.")?;
        }
    }
    Ok(0)
}

/// Write via a temporary file and rename, so a crash never leaves half a settings file.
pub fn write_atomically(path: &Path, text: &str) -> Result<()> {
    let tmp = path.with_extension(format!("warden-tmp-{}", std::process::id()));
    std::fs::write(&tmp, text).with_context(|| format!("cannot write {}", tmp.display()))?;
    std::fs::rename(&tmp, path).with_context(|| format!("cannot replace {}", path.display()))?;
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn merge_keeps_other_hooks_and_is_idempotent() {
        let mut s = json!({
            "model": "x",
            "hooks": {
                "PreToolUse": "scripts/scan-for-secrets.sh",
                "PostToolUse": [{"matcher": "Bash", "hooks": [{"type": "command", "command": "log.sh"}]}]
            }
        });
        let notes = merge_hooks(&mut s, "/bin/warden hook claude").unwrap();
        assert_eq!(notes.len(), 1);
        let once = s.clone();
        merge_hooks(&mut s, "/bin/warden hook claude").unwrap();
        assert_eq!(s, once);
        assert_eq!(s["model"], "x");
        let post = s["hooks"]["PostToolUse"].as_array().unwrap();
        assert_eq!(post.len(), 2);
        assert_eq!(post[0]["hooks"][0]["command"], "log.sh");
        assert_eq!(post[1]["hooks"][0]["onFailure"], "block");
        let pre = s["hooks"]["PreToolUse"].as_array().unwrap();
        assert_eq!(pre[0]["hooks"][0]["command"], "scripts/scan-for-secrets.sh");
        assert_eq!(pre[1]["hooks"][0]["timeout"], 660);
        // A moved binary updates the existing entry instead of adding a second.
        merge_hooks(&mut s, "/opt/warden hook claude").unwrap();
        assert_eq!(s["hooks"]["PreToolUse"].as_array().unwrap().len(), 2);
        assert_eq!(
            s["hooks"]["PreToolUse"][1]["hooks"][0]["command"],
            "/opt/warden hook claude"
        );
    }

    #[test]
    fn refuses_non_object_settings() {
        assert!(merge_hooks(&mut json!([1]), "w hook claude").is_err());
        assert!(merge_hooks(&mut json!({"hooks": 3}), "w hook claude").is_err());
    }
}
