//! Step 4 of a run: the checks the agent's work must pass before anyone is asked to merge it.

use std::path::Path;
use std::process::Command;
use std::time::{Duration, Instant};

use globset::{GlobBuilder, GlobSet, GlobSetBuilder};
use serde::{Deserialize, Serialize};

use crate::diff::{added_lines, snapshot, Snapshot};
use crate::exec;
use crate::{SessionError, Workspace};

/// Sensitive paths used when a policy names none: authentication code, database migrations,
/// infrastructure and CI definitions. A change under any of them needs a person's approval.
pub const DEFAULT_SENSITIVE_PATHS: &[&str] = &[
    "**/auth/**",
    "**/authn/**",
    "**/authz/**",
    "**/migrations/**",
    "**/migrate/**",
    "infra/**",
    "**/terraform/**",
    "**/*.tf",
    "**/*.tfvars",
    "**/k8s/**",
    "**/helm/**",
    "**/Dockerfile",
    "**/docker-compose*.yml",
    ".github/**",
    ".gitlab-ci.yml",
    "**/CODEOWNERS",
];

/// How many detail lines a gate keeps; the summary still counts them all.
const MAX_DETAILS: usize = 50;
/// Bytes of test output kept per stream, then the last lines of that.
const TEST_TAIL_BYTES: usize = 16 * 1024;
const TEST_TAIL_LINES: usize = 40;

/// What the gates check. Path patterns are globs relative to the repository root, matched
/// against `/`-separated paths: `*` stays within one directory, `**` crosses directories, and a
/// pattern without wildcards (or ending in `/`) names a file or a whole directory (`src` matches
/// `src` and everything under it). A leading `./` or `/` is ignored.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct GateConfig {
    /// The project's test command as an argument vector (no shell unless you ask for one with
    /// [`GateConfig::shell_test_command`]). `None` skips the tests gate, and says so.
    pub test_command: Option<Vec<String>>,
    pub test_timeout: Duration,
    /// The run's declared scope (`--scope`): when not empty, every changed path must match.
    pub scope: Vec<String>,
    /// The policy's write allowlist: when not empty, every changed path must match.
    pub write_allowlist: Vec<String>,
    pub max_files_changed: Option<usize>,
    /// Added plus removed lines over all files.
    pub max_lines_changed: Option<u64>,
    /// Changes here pass only with a person's approval.
    pub sensitive_paths: Vec<String>,
}

impl Default for GateConfig {
    fn default() -> Self {
        GateConfig {
            test_command: None,
            test_timeout: Duration::from_secs(600),
            scope: Vec::new(),
            write_allowlist: Vec::new(),
            max_files_changed: None,
            max_lines_changed: None,
            sensitive_paths: DEFAULT_SENSITIVE_PATHS
                .iter()
                .map(|s| s.to_string())
                .collect(),
        }
    }
}

impl GateConfig {
    /// Sets a test command given as one shell line (`cargo test --quiet && npm test`), run
    /// with `sh -c`.
    pub fn shell_test_command(mut self, line: &str) -> Self {
        self.test_command = Some(vec!["sh".into(), "-c".into(), line.into()]);
        self
    }
}

/// The four gates.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "kebab-case")]
pub enum GateKind {
    Tests,
    Secrets,
    Overreach,
    SensitivePaths,
}

impl GateKind {
    /// `tests`, `secrets`, `overreach`, `sensitive-paths`.
    pub fn name(self) -> &'static str {
        match self {
            GateKind::Tests => "tests",
            GateKind::Secrets => "secrets",
            GateKind::Overreach => "overreach",
            GateKind::SensitivePaths => "sensitive-paths",
        }
    }
}

impl std::fmt::Display for GateKind {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(self.name())
    }
}

/// A gate's verdict.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "kebab-case")]
pub enum GateStatus {
    Passed,
    Failed,
    /// Nothing is wrong, but a person must approve before merge.
    NeedsApproval,
    /// Not configured (no test command): reported, never counted as a pass of that check.
    Skipped,
}

impl GateStatus {
    /// `passed`, `failed`, `needs approval`, `skipped`.
    pub fn label(self) -> &'static str {
        match self {
            GateStatus::Passed => "passed",
            GateStatus::Failed => "failed",
            GateStatus::NeedsApproval => "needs approval",
            GateStatus::Skipped => "skipped",
        }
    }
}

/// One gate's result.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct GateResult {
    pub gate: GateKind,
    pub status: GateStatus,
    /// One line for people.
    pub summary: String,
    /// The evidence: offending paths, findings, the tail of the test output.
    pub details: Vec<String>,
    pub duration_ms: u64,
}

/// The gates' results together with the exact snapshot they checked.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct GateReport {
    pub snapshot: Snapshot,
    pub results: Vec<GateResult>,
}

impl GateReport {
    /// Failed if any gate failed; otherwise needs approval if any gate asks for it; otherwise
    /// passed.
    pub fn outcome(&self) -> GateStatus {
        if self.results.iter().any(|r| r.status == GateStatus::Failed) {
            GateStatus::Failed
        } else if self
            .results
            .iter()
            .any(|r| r.status == GateStatus::NeedsApproval)
        {
            GateStatus::NeedsApproval
        } else {
            GateStatus::Passed
        }
    }

    /// The gates that failed or ask for approval.
    pub fn blocking(&self) -> impl Iterator<Item = &GateResult> {
        self.results
            .iter()
            .filter(|r| matches!(r.status, GateStatus::Failed | GateStatus::NeedsApproval))
    }

    pub fn get(&self, gate: GateKind) -> Option<&GateResult> {
        self.results.iter().find(|r| r.gate == gate)
    }
}

/// A credential found in added lines.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct GateFinding {
    /// 1-based line within the `added_text` given to the scanner; the gate turns it into the
    /// line number in the file.
    pub line: Option<usize>,
    /// The rule that matched (`aws-access-key-id`).
    pub rule: String,
    /// What to tell a person. Must not contain the secret itself: it goes into alerts and
    /// pull-request bodies.
    pub message: String,
}

/// The secret scanner the secrets gate uses. warden plugs its secrets crate in; tests plug in a
/// small one of their own.
pub trait DiffScanner {
    /// Scans the lines `path` gained (joined with `\n`, each line ending in `\n`).
    fn scan_added(&self, path: &str, added_text: &str) -> Vec<GateFinding>;
}

impl<F> DiffScanner for F
where
    F: Fn(&str, &str) -> Vec<GateFinding>,
{
    fn scan_added(&self, path: &str, added_text: &str) -> Vec<GateFinding> {
        self(path, added_text)
    }
}

/// Builds the process for the test command. The test command runs code the agent wrote, so
/// warden wraps it in the same sandbox as the agent; [`DirectLauncher`] runs it as is.
/// The gate adds stdio, a process group and the time limit.
pub trait TestLauncher {
    fn command(&self, argv: &[String], worktree: &Path) -> std::io::Result<Command>;
}

impl<F> TestLauncher for F
where
    F: Fn(&[String], &Path) -> std::io::Result<Command>,
{
    fn command(&self, argv: &[String], worktree: &Path) -> std::io::Result<Command> {
        self(argv, worktree)
    }
}

/// Runs the test command directly in the worktree, with the caller's environment.
#[derive(Debug, Clone, Copy, Default)]
pub struct DirectLauncher;

impl TestLauncher for DirectLauncher {
    fn command(&self, argv: &[String], worktree: &Path) -> std::io::Result<Command> {
        let (program, args) = argv.split_first().ok_or_else(|| {
            std::io::Error::new(
                std::io::ErrorKind::InvalidInput,
                "the test command is empty",
            )
        })?;
        let mut cmd = Command::new(program);
        cmd.args(args).current_dir(worktree);
        Ok(cmd)
    }
}

/// Takes a snapshot of the workspace and runs every gate on it (see [`run_gates_with`]),
/// running the test command with [`DirectLauncher`].
pub fn run_gates(
    ws: &Workspace,
    cfg: &GateConfig,
    scanner: &dyn DiffScanner,
) -> Result<GateReport, SessionError> {
    run_gates_with(ws, cfg, scanner, &DirectLauncher)
}

/// Takes a snapshot of the workspace and runs the secrets, overreach, sensitive-paths and tests
/// gates, all of them (a person reading the result should see every problem, not the first).
///
/// Errors are reserved for failures of warden itself (git, bad patterns); a failing check is a
/// [`GateStatus::Failed`] result.
pub fn run_gates_with(
    ws: &Workspace,
    cfg: &GateConfig,
    scanner: &dyn DiffScanner,
    launcher: &dyn TestLauncher,
) -> Result<GateReport, SessionError> {
    let scope = PathPatterns::new(&cfg.scope)?;
    let allow = PathPatterns::new(&cfg.write_allowlist)?;
    let sensitive = PathPatterns::new(&cfg.sensitive_paths)?;
    let snap = snapshot(ws)?;
    let results = vec![
        secrets_gate(ws, &snap, scanner)?,
        overreach_gate(&snap, cfg, &scope, &allow),
        sensitive_gate(&snap, &sensitive),
        tests_gate(ws, cfg, launcher),
    ];
    Ok(GateReport {
        snapshot: snap,
        results,
    })
}

fn elapsed_ms(start: Instant) -> u64 {
    u64::try_from(start.elapsed().as_millis()).unwrap_or(u64::MAX)
}

fn capped(mut details: Vec<String>) -> Vec<String> {
    if details.len() > MAX_DETAILS {
        let more = details.len() - MAX_DETAILS;
        details.truncate(MAX_DETAILS);
        details.push(format!("... and {more} more"));
    }
    details
}

fn secrets_gate(
    ws: &Workspace,
    snap: &Snapshot,
    scanner: &dyn DiffScanner,
) -> Result<GateResult, SessionError> {
    let start = Instant::now();
    let gained = snap.files.iter().any(|f| f.added > 0 || f.binary);
    let added = if gained {
        added_lines(&ws.repo_git(), &snap.base_commit, &snap.tree)?
    } else {
        Default::default()
    };
    let mut details = Vec::new();
    for (path, text) in &added {
        for finding in scanner.scan_added(path, &text.text) {
            let line = finding
                .line
                .and_then(|l| l.checked_sub(1))
                .and_then(|i| text.line_numbers.get(i))
                .map(|n| format!(":{n}"))
                .unwrap_or_default();
            details.push(format!(
                "{path}{line}: {} ({})",
                finding.message, finding.rule
            ));
        }
    }
    let lines: usize = added.values().map(|t| t.line_numbers.len()).sum();
    let (status, summary) = if details.is_empty() {
        (
            GateStatus::Passed,
            format!(
                "no credentials in {lines} added lines of {} files",
                added.len()
            ),
        )
    } else {
        (
            GateStatus::Failed,
            format!("{} credential(s) in added lines", details.len()),
        )
    };
    Ok(GateResult {
        gate: GateKind::Secrets,
        status,
        summary,
        details: capped(details),
        duration_ms: elapsed_ms(start),
    })
}

fn overreach_gate(
    snap: &Snapshot,
    cfg: &GateConfig,
    scope: &PathPatterns,
    allow: &PathPatterns,
) -> GateResult {
    let start = Instant::now();
    let mut details = Vec::new();
    for file in &snap.files {
        for path in file.paths() {
            if !scope.is_empty() && scope.first_match(path).is_none() {
                details.push(format!("{path}: outside the declared scope"));
            }
            if !allow.is_empty() && allow.first_match(path).is_none() {
                details.push(format!("{path}: outside the write allowlist"));
            }
        }
    }
    let files = snap.files.len();
    let lines = snap.lines_changed();
    if let Some(max) = cfg.max_files_changed {
        if files > max {
            details.push(format!("{files} files changed, over the limit of {max}"));
        }
    }
    if let Some(max) = cfg.max_lines_changed {
        if lines > max {
            details.push(format!("{lines} lines changed, over the limit of {max}"));
        }
    }
    let (status, summary) = if details.is_empty() {
        (
            GateStatus::Passed,
            format!("{files} files and {lines} lines changed, all within bounds"),
        )
    } else {
        (
            GateStatus::Failed,
            format!("{} overreach problem(s)", details.len()),
        )
    };
    GateResult {
        gate: GateKind::Overreach,
        status,
        summary,
        details: capped(details),
        duration_ms: elapsed_ms(start),
    }
}

fn sensitive_gate(snap: &Snapshot, sensitive: &PathPatterns) -> GateResult {
    let start = Instant::now();
    let mut details = Vec::new();
    for file in &snap.files {
        for path in file.paths() {
            if let Some(pattern) = sensitive.first_match(path) {
                details.push(format!("{path} (matches {pattern})"));
            }
        }
    }
    let (status, summary) = if details.is_empty() {
        (GateStatus::Passed, "no sensitive paths changed".to_string())
    } else {
        (
            GateStatus::NeedsApproval,
            format!(
                "{} sensitive path(s) changed: a person must approve before merge",
                details.len()
            ),
        )
    };
    GateResult {
        gate: GateKind::SensitivePaths,
        status,
        summary,
        details: capped(details),
        duration_ms: elapsed_ms(start),
    }
}

fn tests_gate(ws: &Workspace, cfg: &GateConfig, launcher: &dyn TestLauncher) -> GateResult {
    let start = Instant::now();
    let result = |status, summary: String, details| GateResult {
        gate: GateKind::Tests,
        status,
        summary,
        details,
        duration_ms: elapsed_ms(start),
    };
    let Some(argv) = cfg.test_command.as_ref() else {
        return result(
            GateStatus::Skipped,
            "no test command configured".into(),
            Vec::new(),
        );
    };
    // A policy's one-line test command runs as `sh -c LINE`; people wrote LINE.
    let shown = match argv.as_slice() {
        [sh, c, line] if sh == "sh" && c == "-c" => line.clone(),
        _ => argv.join(" "),
    };
    let cmd = match launcher.command(argv, &ws.worktree) {
        Ok(cmd) => cmd,
        Err(e) => {
            return result(
                GateStatus::Failed,
                format!("could not prepare `{shown}`: {e}"),
                Vec::new(),
            )
        }
    };
    let done = match exec::run_bounded(cmd, None, Some(cfg.test_timeout), TEST_TAIL_BYTES, true) {
        Ok(done) => done,
        Err(e) => {
            return result(
                GateStatus::Failed,
                format!("could not start `{shown}`: {e}"),
                Vec::new(),
            )
        }
    };
    let mut details = Vec::new();
    for (name, tail) in [("stdout", &done.stdout), ("stderr", &done.stderr)] {
        let text = tail.text();
        let lines: Vec<&str> = text.lines().collect();
        if lines.is_empty() {
            continue;
        }
        let from = lines.len().saturating_sub(TEST_TAIL_LINES);
        let cut = from > 0 || tail.dropped;
        details.push(format!(
            "--- {name}{} ---",
            if cut { " (last lines)" } else { "" }
        ));
        details.extend(lines[from..].iter().map(|l| l.to_string()));
    }
    let how = exec::describe(done.status, done.timed_out, Some(cfg.test_timeout));
    let secs = done.elapsed.as_secs_f64();
    if done.status.is_some_and(|s| s.success()) {
        result(
            GateStatus::Passed,
            format!("`{shown}` passed in {secs:.1}s"),
            details,
        )
    } else {
        result(
            GateStatus::Failed,
            format!("`{shown}` failed: {how} after {secs:.1}s"),
            details,
        )
    }
}

/// A compiled list of path patterns that remembers which pattern matched.
#[derive(Debug, Clone)]
pub(crate) struct PathPatterns {
    set: GlobSet,
    /// For each glob in `set`, the pattern as the user wrote it.
    sources: Vec<String>,
}

impl PathPatterns {
    pub(crate) fn new(patterns: &[String]) -> Result<Self, SessionError> {
        let mut builder = GlobSetBuilder::new();
        let mut sources = Vec::new();
        for original in patterns {
            let invalid = |reason: String| SessionError::InvalidPattern {
                pattern: original.clone(),
                reason,
            };
            let trimmed = original.trim();
            let p = trimmed.trim_start_matches("./").trim_start_matches('/');
            let is_dir = p.ends_with('/');
            let p = p.trim_end_matches('/');
            if p.is_empty() {
                // An empty scope entry must not silently mean "everything".
                return Err(invalid("empty pattern".into()));
            }
            let literal = !p.contains(['*', '?', '[', '{']);
            let mut globs = Vec::new();
            if !is_dir || literal {
                globs.push(p.to_string());
            }
            if is_dir || literal {
                globs.push(format!("{p}/**"));
            }
            for g in globs {
                let glob = GlobBuilder::new(&g)
                    .literal_separator(true)
                    .backslash_escape(true)
                    .build()
                    .map_err(|e| invalid(e.kind().to_string()))?;
                builder.add(glob);
                sources.push(original.clone());
            }
        }
        let set = builder.build().map_err(|e| SessionError::InvalidPattern {
            pattern: patterns.join(", "),
            reason: e.to_string(),
        })?;
        Ok(PathPatterns { set, sources })
    }

    pub(crate) fn is_empty(&self) -> bool {
        self.sources.is_empty()
    }

    pub(crate) fn first_match(&self, path: &str) -> Option<&str> {
        self.set
            .matches(path)
            .first()
            .and_then(|i| self.sources.get(*i))
            .map(String::as_str)
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use proptest::prelude::*;

    fn pats(p: &[&str]) -> PathPatterns {
        PathPatterns::new(&p.iter().map(|s| s.to_string()).collect::<Vec<_>>()).unwrap()
    }

    #[test]
    fn pattern_semantics() {
        let p = pats(&["src", "docs/", "*.md", "tests/**/*.rs", "./lib/x.rs"]);
        for yes in [
            "src",
            "src/a.rs",
            "src/a/b.rs",
            "docs/x",
            "README.md",
            "tests/a/b/c.rs",
            "tests/c.rs",
            "lib/x.rs",
        ] {
            assert!(p.first_match(yes).is_some(), "{yes} should match");
        }
        for no in [
            "srcx/a.rs",
            "docsx",
            "sub/README.md",
            "tests/a.txt",
            "lib/y.rs",
            "xsrc",
        ] {
            assert!(p.first_match(no).is_none(), "{no} should not match");
        }
        assert_eq!(p.first_match("src/q"), Some("src"));
    }

    #[test]
    fn empty_or_broken_patterns_are_errors() {
        assert!(PathPatterns::new(&["".into()]).is_err());
        assert!(PathPatterns::new(&["/".into()]).is_err());
        assert!(PathPatterns::new(&["a[".into()]).is_err());
    }

    #[test]
    fn default_sensitive_paths_cover_the_usual_suspects() {
        let p = PathPatterns::new(&GateConfig::default().sensitive_paths).unwrap();
        for yes in [
            "src/auth/login.rs",
            "db/migrations/001.sql",
            "infra/main.tf",
            "modules/x.tf",
            ".github/workflows/ci.yml",
            "Dockerfile",
            "svc/Dockerfile",
        ] {
            assert!(p.first_match(yes).is_some(), "{yes}");
        }
        for no in ["src/author.rs", "src/lib.rs", "README.md"] {
            assert!(p.first_match(no).is_none(), "{no}");
        }
    }

    proptest! {
        #[test]
        fn a_literal_directory_covers_everything_below_it(dir in "[a-z]{1,8}", rest in "[a-z]{1,8}(/[a-z]{1,8}){0,3}") {
            let p = pats(&[&dir]);
            let inside = format!("{dir}/{rest}");
            let beside = format!("{dir}x/{rest}");
            prop_assert!(p.first_match(&inside).is_some());
            prop_assert!(p.first_match(&beside).is_none());
        }
    }
}
