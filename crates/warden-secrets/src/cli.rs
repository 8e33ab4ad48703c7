//! The engine of `warden scan`: files, directories, git diffs and standard input, reported
//! for people, as JSON, or as SARIF 2.1.0 for code-scanning uploads.
//!
//! The binary owns the process (argument parsing entry point, printing errors, exiting);
//! this module does the work and writes the report to the writer it is given.
//!
//! Findings below `--confidence` (default `medium`: see [`crate::Confidence`]) are counted
//! but not listed; `--confidence low` lists every finding, which is what the hook acts on.
//!
//! Exit status returned by [`run`]: `0` nothing found, `1` secrets found, `2` the scan could
//! not be completed (an unreadable file or directory, a failed `git diff`): a partial scan
//! is never reported as clean. Errors that stop the scan before it starts are `Err`, which
//! the binary should also turn into `2`.

use std::io::{IsTerminal, Read, Write};
use std::path::{Path, PathBuf};
use std::process::Command;
use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::Mutex;

use clap::{Args, ValueEnum};
use serde::Serialize;

use crate::{Confidence, Finding, ScanConfig, Scanner, SecretsError};

/// Exit status: nothing found.
pub const EXIT_CLEAN: i32 = 0;
/// Exit status: at least one secret found.
pub const EXIT_FINDINGS: i32 = 1;
/// Exit status: the scan could not be completed.
pub const EXIT_ERROR: i32 = 2;

/// Bytes looked at to decide that a file is binary.
const BINARY_SNIFF: usize = 8 * 1024;

/// Report formats.
#[derive(Debug, Clone, Copy, PartialEq, Eq, ValueEnum, Default)]
pub enum Format {
    /// One line per finding, then a summary.
    #[default]
    Human,
    /// One JSON object: findings, errors, counts.
    Json,
    /// SARIF 2.1.0, for GitHub code scanning and other SARIF consumers.
    Sarif,
}

/// `warden scan [PATH|-]`: find secrets in files, a directory, a git diff or stdin.
#[derive(Debug, Clone, Args, Default)]
pub struct ScanArgs {
    /// File or directory to scan (`.gitignore` respected), or `-` for standard input.
    #[arg(value_name = "PATH|-", default_value = ".")]
    pub target: PathBuf,
    /// Scan only the lines added since BASE (`git diff BASE` in PATH), reporting new line numbers.
    #[arg(long, value_name = "BASE")]
    pub diff: Option<String>,
    /// Report format.
    #[arg(long, value_enum, default_value_t = Format::Human)]
    pub format: Format,
    /// Shorthand for `--format json`.
    #[arg(long, conflicts_with = "format")]
    pub json: bool,
    /// Worker threads for directory scans; 0 uses every core.
    #[arg(long, value_name = "N", default_value_t = 0)]
    pub threads: usize,
    /// Also scan files that `.gitignore` and `.ignore` exclude.
    #[arg(long)]
    pub no_ignore: bool,
    /// Extra rules from a gitleaks-format TOML file (added to the built-in pack, or
    /// replacing it when the file does not say `[extend] useDefault = true`).
    #[arg(long, value_name = "FILE")]
    pub config: Option<PathBuf>,
    /// Skip files larger than this many MiB.
    #[arg(long, value_name = "MIB", default_value_t = 10)]
    pub max_file_size: u64,
    /// Never draw a progress bar (it is drawn only when stderr is a terminal anyway).
    #[arg(long)]
    pub no_progress: bool,
    /// List findings of this confidence and above: `high` (a provider's own format),
    /// `medium` (also values that read as generated, found by their name), `low` (also
    /// passwords people choose and made-up values: everything the hook acts on).
    #[arg(long, value_enum, value_name = "LEVEL", default_value_t = Confidence::Medium)]
    pub confidence: Confidence,
}

impl ScanArgs {
    fn format(&self) -> Format {
        if self.json {
            Format::Json
        } else {
            self.format
        }
    }
}

/// A finding with the file it was found in and where it ends.
#[derive(Debug, Clone, Serialize)]
pub struct Located {
    /// Path relative to the scanned directory (`-` for stdin).
    pub file: String,
    #[serde(flatten)]
    pub finding: Finding,
    /// 1-based line of the secret's last character.
    pub end_line: usize,
    /// 1-based column just after the secret (exclusive, as SARIF wants it).
    pub end_column: usize,
}

/// What a scan produced.
#[derive(Debug, Default, Serialize)]
pub struct Report {
    /// The findings at or above `min_confidence`.
    pub findings: Vec<Located>,
    /// The lowest confidence listed (`--confidence`).
    pub min_confidence: Confidence,
    /// Findings found but not listed: their confidence is below `min_confidence`.
    pub below_min_confidence: u64,
    /// Files or directories that could not be read (the scan is incomplete when not empty).
    pub errors: Vec<String>,
    pub files_scanned: u64,
    pub bytes_scanned: u64,
}

impl Report {
    /// The exit status for this report (see the module doc).
    pub fn exit_code(&self) -> i32 {
        if !self.findings.is_empty() {
            EXIT_FINDINGS
        } else if !self.errors.is_empty() {
            EXIT_ERROR
        } else {
            EXIT_CLEAN
        }
    }
}

/// Runs `warden scan`: builds the scanner from `config` (the policy's rules; pass
/// `ScanConfig { use_builtin: true, ..Default::default() }` for the built-in pack) plus
/// `--config`, scans, writes the report to `out`, and returns the exit status.
pub fn run(
    args: &ScanArgs,
    mut config: ScanConfig,
    out: &mut dyn Write,
    color: bool,
) -> Result<i32, SecretsError> {
    if let Some(path) = &args.config {
        let text = std::fs::read_to_string(path).map_err(|e| SecretsError::Io {
            path: path.display().to_string(),
            source: e,
        })?;
        let extra = Scanner::from_gitleaks_toml(&text)?;
        config.use_builtin &= extra.use_builtin;
        config.rules.extend(extra.rules);
        config.allowlists.extend(extra.allowlists);
        config.disabled.extend(extra.disabled);
    }
    let scanner = if config
        == (ScanConfig {
            use_builtin: true,
            ..ScanConfig::default()
        }) {
        Scanner::builtin()
    } else {
        Scanner::from_config(config)?
    };
    let report = scan(args, &scanner)?;
    write_report(&report, &scanner, args.format(), out, color)?;
    Ok(report.exit_code())
}

/// Scans what `args` names with `scanner`, without writing anything; findings below
/// `args.confidence` are counted, not listed.
pub fn scan(args: &ScanArgs, scanner: &Scanner) -> Result<Report, SecretsError> {
    let mut report = scan_all(args, scanner)?;
    let before = report.findings.len();
    report
        .findings
        .retain(|l| l.finding.confidence >= args.confidence);
    report.min_confidence = args.confidence;
    report.below_min_confidence = (before - report.findings.len()) as u64;
    Ok(report)
}

fn scan_all(args: &ScanArgs, scanner: &Scanner) -> Result<Report, SecretsError> {
    if let Some(base) = &args.diff {
        return scan_diff(&args.target, base, scanner);
    }
    if args.target.as_os_str() == "-" {
        let mut buf = Vec::new();
        std::io::stdin()
            .read_to_end(&mut buf)
            .map_err(|e| SecretsError::Io {
                path: "<stdin>".into(),
                source: e,
            })?;
        let text = String::from_utf8_lossy(&buf);
        let mut report = Report {
            files_scanned: 1,
            bytes_scanned: buf.len() as u64,
            ..Report::default()
        };
        report.findings = locate("-", &text, scanner.scan(&text));
        return Ok(report);
    }
    if !args.target.exists() {
        return Err(SecretsError::Io {
            path: args.target.display().to_string(),
            source: std::io::Error::new(std::io::ErrorKind::NotFound, "no such file or directory"),
        });
    }
    scan_tree(args, scanner)
}

fn threads(n: usize) -> usize {
    if n > 0 {
        n
    } else {
        std::thread::available_parallelism().map_or(1, |n| n.get())
    }
}

fn display_path(path: &Path) -> String {
    let s = path.to_string_lossy();
    s.strip_prefix("./").unwrap_or(&s).to_string()
}

fn scan_tree(args: &ScanArgs, scanner: &Scanner) -> Result<Report, SecretsError> {
    let findings = Mutex::new(Vec::new());
    let errors = Mutex::new(Vec::new());
    let files = AtomicU64::new(0);
    let bytes = AtomicU64::new(0);
    let max = args.max_file_size.saturating_mul(1 << 20);
    let progress = progress_bar(args.no_progress);

    let mut builder = ignore::WalkBuilder::new(&args.target);
    builder
        .hidden(false)
        .git_ignore(!args.no_ignore)
        .git_global(!args.no_ignore)
        .git_exclude(!args.no_ignore)
        .ignore(!args.no_ignore)
        .parents(!args.no_ignore)
        .require_git(false)
        .threads(threads(args.threads))
        .filter_entry(|e| e.file_name() != ".git");
    builder.build_parallel().run(|| {
        let findings = &findings;
        let errors = &errors;
        let (files, bytes, progress) = (&files, &bytes, &progress);
        Box::new(move |entry| {
            let entry = match entry {
                Ok(e) => e,
                Err(e) => {
                    push(errors, e.to_string());
                    return ignore::WalkState::Continue;
                }
            };
            if !entry.file_type().is_some_and(|t| t.is_file()) {
                return ignore::WalkState::Continue;
            }
            let path = entry.path();
            match scan_file(path, &args.target, max, scanner) {
                Ok(Some((n, found))) => {
                    files.fetch_add(1, Ordering::Relaxed);
                    bytes.fetch_add(n, Ordering::Relaxed);
                    if let Some(p) = progress {
                        p.inc(1);
                    }
                    if !found.is_empty() {
                        if let Ok(mut all) = findings.lock() {
                            all.extend(found);
                        }
                    }
                }
                Ok(None) => {}
                Err(e) => push(errors, e.to_string()),
            }
            ignore::WalkState::Continue
        })
    });
    if let Some(p) = &progress {
        p.finish_and_clear();
    }
    let mut findings = findings.into_inner().unwrap_or_else(|p| p.into_inner());
    findings.sort_by(|a: &Located, b: &Located| {
        (a.file.as_str(), a.finding.byte_range.start)
            .cmp(&(b.file.as_str(), b.finding.byte_range.start))
    });
    let mut errors = errors.into_inner().unwrap_or_else(|p| p.into_inner());
    errors.sort();
    Ok(Report {
        findings,
        errors,
        files_scanned: files.into_inner(),
        bytes_scanned: bytes.into_inner(),
        ..Report::default()
    })
}

fn push(errors: &Mutex<Vec<String>>, e: String) {
    if let Ok(mut v) = errors.lock() {
        v.push(e);
    }
}

/// Scans one file found under `root`; `None` when skipped as too large.
fn scan_file(
    path: &Path,
    root: &Path,
    max: u64,
    scanner: &Scanner,
) -> Result<Option<(u64, Vec<Located>)>, SecretsError> {
    let io = |e| SecretsError::Io {
        path: path.display().to_string(),
        source: e,
    };
    let meta = std::fs::metadata(path).map_err(io)?;
    if meta.len() > max {
        return Ok(None);
    }
    let data = std::fs::read(path).map_err(io)?;
    let shown = display_path(path);
    let hint = display_path(crate::path_inside(path, root));
    let head = &data[..data.len().min(BINARY_SNIFF)];
    let found = if memchr::memchr(0, head).is_some() {
        // Binary: only path rules (key stores) apply.
        locate(&shown, "", scanner.scan_path_hint(Some(&hint), ""))
    } else {
        let text = String::from_utf8_lossy(&data);
        locate(&shown, &text, scanner.scan_path_hint(Some(&hint), &text))
    };
    Ok(Some((data.len() as u64, found)))
}

fn locate(file: &str, text: &str, findings: Vec<Finding>) -> Vec<Located> {
    findings
        .into_iter()
        .map(|finding| {
            let end = finding.byte_range.end.min(text.len());
            let (end_line, end_column) =
                position(text, end, finding.line, finding.byte_range.start);
            Located {
                file: file.to_string(),
                finding,
                end_line,
                end_column,
            }
        })
        .collect()
}

/// 1-based line and column of byte `at`, counting from a known line at byte `from`.
fn position(text: &str, at: usize, line_at_from: usize, from: usize) -> (usize, usize) {
    let from = from.min(at);
    let bytes = text.as_bytes();
    let line = line_at_from + memchr::memchr_iter(b'\n', &bytes[from..at]).count();
    let line_start = memchr::memrchr(b'\n', &bytes[..at]).map_or(0, |n| n + 1);
    let column = text
        .get(line_start..at)
        .map_or(1, |s| s.chars().count() + 1);
    (line, column)
}

fn progress_bar(disabled: bool) -> Option<indicatif::ProgressBar> {
    if disabled || !std::io::stderr().is_terminal() {
        return None;
    }
    let bar = indicatif::ProgressBar::new_spinner();
    if let Ok(style) =
        indicatif::ProgressStyle::with_template("{spinner} scanning: {pos} files ({per_sec})")
    {
        bar.set_style(style);
    }
    bar.enable_steady_tick(std::time::Duration::from_millis(120));
    Some(bar)
}

// ------------------------------------------------------------------------- git diff

/// One file's added lines: the joined text and the new line number of each line.
struct Added {
    path: String,
    text: String,
    lines: Vec<usize>,
}

fn scan_diff(dir: &Path, base: &str, scanner: &Scanner) -> Result<Report, SecretsError> {
    let dir = if dir.as_os_str() == "-" {
        Path::new(".")
    } else {
        dir
    };
    let dir = if dir.is_file() {
        dir.parent().unwrap_or(Path::new("."))
    } else {
        dir
    };
    let git_err = |reason: String| SecretsError::Git {
        base: base.to_string(),
        reason,
    };
    if base.starts_with('-') {
        return Err(git_err("BASE must be a revision, not an option".into()));
    }
    let out = Command::new("git")
        .arg("-C")
        .arg(dir)
        .args([
            "-c",
            "core.quotePath=false",
            "diff",
            "--no-color",
            "--no-ext-diff",
            "--unified=0",
            "--no-renames",
        ])
        .arg(base)
        .arg("--")
        .output()
        .map_err(|e| git_err(format!("cannot run git: {e}")))?;
    if !out.status.success() {
        return Err(git_err(
            String::from_utf8_lossy(&out.stderr).trim().to_string(),
        ));
    }
    let diff = String::from_utf8_lossy(&out.stdout);
    let files = parse_diff(&diff);
    let mut report = Report::default();
    for f in files {
        report.files_scanned += 1;
        report.bytes_scanned += f.text.len() as u64;
        for mut l in locate(
            &f.path,
            &f.text,
            scanner.scan_path_hint(Some(&f.path), &f.text),
        ) {
            let map = |n: usize| f.lines.get(n.saturating_sub(1)).copied().unwrap_or(n);
            l.finding.line = map(l.finding.line);
            l.end_line = map(l.end_line);
            report.findings.push(l);
        }
    }
    Ok(report)
}

/// Added lines per file from `git diff --unified=0` output.
fn parse_diff(diff: &str) -> Vec<Added> {
    let mut files: Vec<Added> = Vec::new();
    let mut current: Option<Added> = None;
    let mut next_line = 0usize;
    for line in diff.split('\n') {
        if let Some(rest) = line.strip_prefix("+++ ") {
            if let Some(done) = current.take() {
                files.push(done);
            }
            let path = unquote(rest.trim_end_matches('\r'));
            current = path.strip_prefix("b/").map(|p| Added {
                path: p.to_string(),
                text: String::new(),
                lines: Vec::new(),
            });
        } else if line.starts_with("diff --git ") {
            if let Some(done) = current.take() {
                files.push(done);
            }
        } else if let Some(hunk) = line.strip_prefix("@@ ") {
            // `@@ -a[,b] +c[,d] @@`: added lines start at c.
            next_line = hunk
                .split(' ')
                .find_map(|p| p.strip_prefix('+'))
                .and_then(|p| p.split(',').next())
                .and_then(|n| n.parse().ok())
                .unwrap_or(0);
        } else if let (Some(added), Some(cur)) = (line.strip_prefix('+'), current.as_mut()) {
            cur.text.push_str(added);
            cur.text.push('\n');
            cur.lines.push(next_line);
            next_line += 1;
        }
    }
    if let Some(done) = current.take() {
        files.push(done);
    }
    files.retain(|f| !f.lines.is_empty());
    files
}

/// Undoes git's C-style quoting of unusual paths (`"a\tb"`).
fn unquote(s: &str) -> String {
    let Some(inner) = s.strip_prefix('"').and_then(|s| s.strip_suffix('"')) else {
        return s.to_string();
    };
    let mut bytes = Vec::with_capacity(inner.len());
    let mut it = inner.bytes().peekable();
    while let Some(b) = it.next() {
        if b != b'\\' {
            bytes.push(b);
            continue;
        }
        match it.next() {
            Some(b'n') => bytes.push(b'\n'),
            Some(b't') => bytes.push(b'\t'),
            Some(b'r') => bytes.push(b'\r'),
            Some(d @ b'0'..=b'7') => {
                let mut v = u32::from(d - b'0');
                for _ in 0..2 {
                    if let Some(&n @ b'0'..=b'7') = it.peek() {
                        v = v * 8 + u32::from(n - b'0');
                        it.next();
                    }
                }
                bytes.push(u8::try_from(v).unwrap_or(b'?'));
            }
            Some(other) => bytes.push(other),
            None => bytes.push(b'\\'),
        }
    }
    String::from_utf8_lossy(&bytes).into_owned()
}

// ------------------------------------------------------------------------- output

/// Writes `report` in `format`.
pub fn write_report(
    report: &Report,
    scanner: &Scanner,
    format: Format,
    out: &mut dyn Write,
    color: bool,
) -> Result<(), SecretsError> {
    let w = |e: std::io::Error| SecretsError::Output(e.to_string());
    match format {
        Format::Human => {
            let (red, dim, reset) = if color {
                ("\x1b[31m", "\x1b[2m", "\x1b[0m")
            } else {
                ("", "", "")
            };
            for l in &report.findings {
                let f = &l.finding;
                writeln!(
                    out,
                    "{}:{}:{}: {red}{}{reset} {} {dim}[{}, {} confidence]{reset}",
                    l.file, f.line, f.column, f.rule_id, f.description, f.preview, f.confidence
                )
                .map_err(w)?;
            }
            for e in &report.errors {
                writeln!(out, "error: {e}").map_err(w)?;
            }
            let files: std::collections::BTreeSet<&str> =
                report.findings.iter().map(|l| l.file.as_str()).collect();
            let scanned = format!(
                "{} files, {:.1} MiB scanned",
                report.files_scanned,
                report.bytes_scanned as f64 / (1 << 20) as f64
            );
            if report.findings.is_empty() {
                writeln!(out, "no secrets found ({scanned})").map_err(w)?;
            } else {
                writeln!(
                    out,
                    "{} secret(s) found in {} file(s) ({scanned})",
                    report.findings.len(),
                    files.len()
                )
                .map_err(w)?;
            }
            if report.below_min_confidence > 0 {
                let lower = match report.min_confidence {
                    Confidence::High => "medium",
                    _ => "low",
                };
                writeln!(
                    out,
                    "{} more below {} confidence not listed (--confidence {lower} lists them)",
                    report.below_min_confidence, report.min_confidence
                )
                .map_err(w)?;
            }
            if !report.errors.is_empty() {
                writeln!(
                    out,
                    "incomplete scan: {} path(s) could not be read",
                    report.errors.len()
                )
                .map_err(w)?;
            }
        }
        Format::Json => {
            serde_json::to_writer_pretty(&mut *out, report)
                .map_err(|e| SecretsError::Output(e.to_string()))?;
            writeln!(out).map_err(w)?;
        }
        Format::Sarif => {
            serde_json::to_writer_pretty(&mut *out, &sarif(report, scanner))
                .map_err(|e| SecretsError::Output(e.to_string()))?;
            writeln!(out).map_err(w)?;
        }
    }
    Ok(())
}

/// SARIF 2.1.0 log for `report`: one run, the reported rules, one result per finding.
pub fn sarif(report: &Report, scanner: &Scanner) -> serde_json::Value {
    use serde_json::json;
    let mut ids: Vec<&str> = report
        .findings
        .iter()
        .map(|l| l.finding.rule_id.as_str())
        .collect();
    ids.sort_unstable();
    ids.dedup();
    let descriptions: std::collections::HashMap<&str, &str> = scanner.rules().collect();
    let rules: Vec<_> = ids
        .iter()
        .map(|id| {
            let text = descriptions.get(id).copied().unwrap_or(id);
            json!({
                "id": id,
                "name": id,
                "shortDescription": {"text": text},
                "fullDescription": {"text": format!("{text}: a credential committed in plain text.")},
                "help": {"text": "Remove the secret from the file, rotate it, and load it from a secret store or the environment."},
                "defaultConfiguration": {"level": "error"},
                "properties": {"tags": ["security", "secret"], "security-severity": "8.0", "precision": "high"}
            })
        })
        .collect();
    let results: Vec<_> = report
        .findings
        .iter()
        .map(|l| {
            let f = &l.finding;
            let index = ids.binary_search(&f.rule_id.as_str()).unwrap_or(0);
            json!({
                "ruleId": f.rule_id,
                "ruleIndex": index,
                "level": match f.confidence {
                    Confidence::High => "error",
                    Confidence::Medium => "warning",
                    Confidence::Low => "note",
                },
                "properties": {"confidence": f.confidence},
                "message": {"text": format!("{} found: {}", f.description, f.preview)},
                "locations": [{
                    "physicalLocation": {
                        "artifactLocation": {"uri": uri(&l.file), "uriBaseId": "%SRCROOT%"},
                        "region": {
                            "startLine": f.line.max(1),
                            "startColumn": f.column.max(1),
                            "endLine": l.end_line.max(f.line).max(1),
                            "endColumn": l.end_column.max(1)
                        }
                    }
                }]
            })
        })
        .collect();
    json!({
        "$schema": "https://json.schemastore.org/sarif-2.1.0.json",
        "version": "2.1.0",
        "runs": [{
            "tool": {"driver": {
                "name": "warden",
                "semanticVersion": env!("CARGO_PKG_VERSION"),
                "informationUri": env!("CARGO_PKG_REPOSITORY"),
                "rules": rules
            }},
            "results": results,
            "columnKind": "unicodeCodePoints"
        }]
    })
}

/// A relative URI reference for a path: `/` separators, reserved bytes percent-encoded.
fn uri(path: &str) -> String {
    let mut out = String::with_capacity(path.len());
    for b in path.replace('\\', "/").bytes() {
        if b.is_ascii_alphanumeric() || b"-._~/".contains(&b) {
            out.push(b as char);
        } else {
            out.push_str(&format!("%{b:02X}"));
        }
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn diff_parsing_keeps_new_line_numbers() {
        let diff = "diff --git a/src/a.py b/src/a.py\nindex 1..2 100644\n--- a/src/a.py\n+++ b/src/a.py\n@@ -10,0 +11,2 @@ def f():\n+x = 1\n+y = 2\n@@ -40 +42 @@\n-old\n+new\ndiff --git a/gone b/gone\n--- a/gone\n+++ /dev/null\n@@ -1 +0,0 @@\n-bye\n";
        let files = parse_diff(diff);
        assert_eq!(files.len(), 1);
        assert_eq!(files[0].path, "src/a.py");
        assert_eq!(files[0].lines, vec![11, 12, 42]);
        assert_eq!(files[0].text, "x = 1\ny = 2\nnew\n");
    }

    #[test]
    fn unquotes_git_paths() {
        assert_eq!(unquote("\"b/a\\tb\\303\\251\""), "b/a\tbé");
        assert_eq!(unquote("b/plain"), "b/plain");
    }

    #[test]
    fn uri_encoding() {
        assert_eq!(uri("dir/my file.txt"), "dir/my%20file.txt");
    }
}
