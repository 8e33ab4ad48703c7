//! `warden policy`: import, lint, schema.

use crate::term::Paint;
use anyhow::{Context, Result};
use std::path::PathBuf;
use warden_policy::config::{discover, import_claude_settings, json_schema};
use warden_policy::lint::{lint_paths, Severity};
use warden_policy::Layer;

#[derive(Debug, clap::Subcommand)]
pub enum PolicyCommand {
    /// Turn a Claude Code settings.json (its permissions block) into a warden policy.
    Import {
        /// The settings file, e.g. .claude/settings.json.
        file: PathBuf,
        /// Write the policy here instead of stdout (refuses to overwrite).
        #[arg(short, long)]
        output: Option<PathBuf>,
    },
    /// Report syntax errors, rules that can never match and rules shadowed by others.
    Lint {
        /// Files to lint (default: the file `$WARDEN_POLICY` names when it is set, as the
        /// hook reads it; else every layer that applies here).
        files: Vec<PathBuf>,
        /// Exit non-zero on warnings too.
        #[arg(long)]
        strict: bool,
        /// Findings as a JSON array.
        #[arg(long)]
        json: bool,
    },
    /// Print the JSON Schema of warden.toml, for editors.
    Schema,
}

pub fn run(cmd: &PolicyCommand, out: &mut dyn std::io::Write) -> Result<i32> {
    match cmd {
        PolicyCommand::Import { file, output } => {
            let text = std::fs::read_to_string(file)
                .with_context(|| format!("cannot read {}", file.display()))?;
            let policy = import_claude_settings(file, &text)?;
            match output {
                Some(path) if path.exists() => {
                    anyhow::bail!("{} exists; warden will not overwrite it", path.display())
                }
                Some(path) => {
                    std::fs::write(path, &policy)
                        .with_context(|| format!("cannot write {}", path.display()))?;
                    writeln!(out, "wrote {}", path.display())?;
                }
                None => write!(out, "{policy}")?,
            }
            Ok(0)
        }
        PolicyCommand::Lint {
            files,
            strict,
            json,
        } => {
            let targets: Vec<(PathBuf, Layer)> = if let (true, Some(explicit)) =
                (files.is_empty(), crate::hook::explicit_policy())
            {
                vec![(explicit, Layer::Explicit)]
            } else if files.is_empty() {
                let root = crate::project::project_root(&crate::project::current_dir()?);
                discover(&root, crate::project::home_dir().as_deref())
            } else {
                files.iter().map(|f| (f.clone(), Layer::Explicit)).collect()
            };
            let findings = lint_paths(&targets);
            if *json {
                writeln!(out, "{}", serde_json::to_string_pretty(&findings)?)?;
            } else {
                let paint = Paint {
                    on: crate::term::stdout_color(),
                };
                if targets.is_empty() {
                    writeln!(out, "no policy files found here; run `warden init`")?;
                }
                for f in &findings {
                    let sev = match f.severity {
                        Severity::Error => paint.red("error"),
                        Severity::Warning => paint.yellow("warning"),
                    };
                    writeln!(out, "{sev}: {}", f.message)?;
                    // Line 0: the finding is about the whole file (it cannot be read).
                    if f.line == 0 {
                        writeln!(out, "  --> {}", f.file.display())?;
                    } else {
                        writeln!(out, "  --> {}:{}:{}", f.file.display(), f.line, f.column)?;
                    }
                    if let Some(snippet) = &f.snippet {
                        for line in snippet.lines() {
                            writeln!(out, "   | {line}")?;
                        }
                    }
                }
                if findings.is_empty() && !targets.is_empty() {
                    let names: Vec<String> = targets
                        .iter()
                        .map(|(p, _)| p.display().to_string())
                        .collect();
                    writeln!(out, "ok: {}", names.join(", "))?;
                }
            }
            let errors = findings.iter().any(|f| f.severity == Severity::Error);
            let warnings = findings.iter().any(|f| f.severity == Severity::Warning);
            Ok(if errors || (*strict && warnings) {
                1
            } else {
                0
            })
        }
        PolicyCommand::Schema => {
            writeln!(out, "{}", serde_json::to_string_pretty(&json_schema())?)?;
            Ok(0)
        }
    }
}
