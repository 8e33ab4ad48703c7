//! Temp workspaces and the Claude Code process.

use std::collections::HashMap;
use std::ffi::OsString;
use std::fmt::Write as _;
use std::io::Read;
use std::path::{Path, PathBuf};
use std::process::{Command, Stdio};
use std::sync::{Mutex, OnceLock, PoisonError};
use std::time::{Duration, Instant};

use serde_json::{json, Value};
use wait_timeout::ChildExt;

use crate::scenario::{repo_root, Scenario, Setup};
use crate::server::{MockApi, RecordedRequest, RequestKind};
use crate::Error;

/// Environment variable naming the Claude Code binary, overriding the pinned npm install.
pub const CLAUDE_BIN_ENV: &str = "WARDEN_CLAUDE_BIN";
/// Set (to anything) to keep each workspace on disk after the test, for debugging.
pub const KEEP_ENV: &str = "WARDEN_E2E_KEEP";
/// Per-run timeout in seconds (default 60).
pub const TIMEOUT_ENV: &str = "WARDEN_E2E_TIMEOUT_SECS";

/// The command that installs the pinned CLI, named in errors.
pub const INSTALL_HINT: &str = "npm ci --prefix tests/e2e";

/// A throwaway directory holding a real git repository (`repo/`) and a fake home (`home/`).
///
/// Claude Code runs with `HOME` set to `home/`, so the user's own `~/.claude` is never read
/// or written, and with `repo/` as its working directory.
#[derive(Debug)]
pub struct Workspace {
    dir: Option<tempfile::TempDir>,
    root: PathBuf,
    repo: PathBuf,
    home: PathBuf,
}

impl Workspace {
    /// Create the directories and `git init` the repository.
    pub fn new() -> Result<Self, Error> {
        let dir = tempfile::Builder::new()
            .prefix("warden-e2e-")
            .tempdir()
            .map_err(|source| Error::Io {
                context: "creating the workspace directory".to_owned(),
                source,
            })?;
        // Claude Code reports the canonical cwd; canonicalise so paths compare equal.
        let root = dir.path().canonicalize().map_err(|source| Error::Io {
            context: format!("resolving {}", dir.path().display()),
            source,
        })?;
        let repo = root.join("repo");
        let home = root.join("home");
        for d in [&repo, &home.join(".config")] {
            std::fs::create_dir_all(d).map_err(|source| Error::Io {
                context: format!("creating {}", d.display()),
                source,
            })?;
        }
        let keep = std::env::var_os(KEEP_ENV).is_some();
        let ws = Self {
            dir: if keep {
                let _ = dir.keep();
                None
            } else {
                Some(dir)
            },
            root,
            repo,
            home,
        };
        ws.git(&["-c", "init.defaultBranch=main", "init", "-q"])?;
        ws.git(&["config", "user.email", "e2e@warden.invalid"])?;
        ws.git(&["config", "user.name", "warden e2e"])?;
        Ok(ws)
    }

    /// Commit everything in the repository (`git add -A`): what `warden run` branches from.
    pub fn commit_all(&self, message: &str) -> Result<(), Error> {
        self.git(&["add", "-A"])?;
        self.git(&["commit", "-q", "-m", message])
    }

    /// The workspace directory (holds `repo/`, `home/` and, after a run, `requests.jsonl`).
    pub fn root(&self) -> &Path {
        &self.root
    }

    /// The git repository Claude Code works in.
    pub fn repo(&self) -> &Path {
        &self.repo
    }

    /// The `HOME` given to every process started here.
    pub fn home(&self) -> &Path {
        &self.home
    }

    /// Whether the workspace is deleted on drop (false when `WARDEN_E2E_KEEP` is set).
    pub fn is_temporary(&self) -> bool {
        self.dir.is_some()
    }

    /// Write `contents` to `rel` (relative to the repository), creating parent directories.
    pub fn write(&self, rel: &str, contents: &str) -> Result<PathBuf, Error> {
        let path = self.repo.join(rel);
        if let Some(parent) = path.parent() {
            std::fs::create_dir_all(parent).map_err(|source| Error::Io {
                context: format!("creating {}", parent.display()),
                source,
            })?;
        }
        std::fs::write(&path, contents).map_err(|source| Error::Io {
            context: format!("writing {}", path.display()),
            source,
        })?;
        Ok(path)
    }

    /// Read `rel` (relative to the repository).
    pub fn read(&self, rel: &str) -> Result<String, Error> {
        let path = self.repo.join(rel);
        std::fs::read_to_string(&path).map_err(|source| Error::Io {
            context: format!("reading {}", path.display()),
            source,
        })
    }

    /// Write the scenario's setup files and directories.
    pub fn apply(&self, setup: &Setup) -> Result<(), Error> {
        for dir in &setup.dirs {
            let path = self.repo.join(dir);
            std::fs::create_dir_all(&path).map_err(|source| Error::Io {
                context: format!("creating {}", path.display()),
                source,
            })?;
        }
        for (rel, contents) in &setup.files {
            self.write(rel, contents)?;
        }
        Ok(())
    }

    /// Write `.claude/settings.json` in the repository.
    pub fn write_settings(&self, settings: &Value) -> Result<PathBuf, Error> {
        let text = serde_json::to_string_pretty(settings).map_err(|source| Error::Json {
            context: "serialising settings.json".to_owned(),
            source,
        })?;
        self.write(".claude/settings.json", &text)
    }

    /// A command that runs in the repository with the workspace's hermetic environment:
    /// cleared, then `PATH` (with `path_prepend` first), `HOME`, `XDG_CONFIG_HOME`, `LANG`,
    /// `TMPDIR` (if set) and `GIT_CONFIG_NOSYSTEM`.
    pub fn command(
        &self,
        program: impl AsRef<std::ffi::OsStr>,
        path_prepend: &[PathBuf],
    ) -> Command {
        let mut cmd = Command::new(program);
        cmd.current_dir(&self.repo).env_clear();
        let inherited = std::env::var_os("PATH")
            .unwrap_or_else(|| OsString::from("/usr/local/bin:/usr/bin:/bin"));
        let dirs = path_prepend
            .iter()
            .cloned()
            .chain(std::env::split_paths(&inherited));
        if let Ok(path) = std::env::join_paths(dirs) {
            cmd.env("PATH", path);
        } else {
            cmd.env("PATH", inherited);
        }
        cmd.env("HOME", &self.home)
            .env("XDG_CONFIG_HOME", self.home.join(".config"))
            .env("LANG", "C.UTF-8")
            .env("GIT_CONFIG_NOSYSTEM", "1");
        if let Some(tmp) = std::env::var_os("TMPDIR") {
            cmd.env("TMPDIR", tmp);
        }
        cmd
    }

    fn git(&self, args: &[&str]) -> Result<(), Error> {
        let out = self
            .command("git", &[])
            .args(args)
            .output()
            .map_err(|source| Error::Io {
                context: format!("running git {}", args.join(" ")),
                source,
            })?;
        if out.status.success() {
            Ok(())
        } else {
            Err(Error::Command {
                what: format!("git {}", args.join(" ")),
                detail: String::from_utf8_lossy(&out.stderr).into_owned(),
            })
        }
    }
}

/// Settings that install `command` as the PreToolUse hook for every tool, the way warden's
/// hooks are meant to be installed: with `"onFailure": "block"`, so a hook that is missing,
/// crashes or prints garbage blocks the call instead of falling back to Claude Code's own
/// permission check.
pub fn hook_settings(command: &str) -> Value {
    json!({
        "hooks": {
            "PreToolUse": [
                {"matcher": "*", "hooks": [
                    {"type": "command", "command": command, "onFailure": "block", "timeout": 30}
                ]}
            ]
        }
    })
}

/// The Claude Code CLI and how to run it.
#[derive(Debug, Clone)]
pub struct Claude {
    bin: PathBuf,
    timeout: Duration,
    env: Vec<(String, String)>,
    path_prepend: Vec<PathBuf>,
    args: Vec<String>,
    wrapper: Vec<OsString>,
}

impl Claude {
    /// Find the CLI: `$WARDEN_CLAUDE_BIN`, else `tests/e2e/node_modules/.bin/claude`.
    ///
    /// A missing CLI is an error, never a skip: the end-to-end suite must not pass by
    /// running nothing.
    pub fn locate() -> Result<Self, Error> {
        let bin = match std::env::var_os(CLAUDE_BIN_ENV) {
            Some(path) => PathBuf::from(path),
            None => repo_root().join("tests/e2e/node_modules/.bin/claude"),
        };
        Self::at(bin)
    }

    /// Use the CLI at `bin`; an error if there is no file there, if it does not run (npm's
    /// placeholder, left when the package's postinstall did not run), or if it is not the
    /// pinned version ([`PINNED_VERSION`]).
    pub fn at(bin: impl Into<PathBuf>) -> Result<Self, Error> {
        let bin = bin.into();
        if !bin.is_file() {
            return Err(Error::ClaudeMissing { path: bin });
        }
        check_version(&bin)?;
        let timeout = std::env::var(TIMEOUT_ENV)
            .ok()
            .and_then(|s| s.parse().ok())
            .map_or(Duration::from_secs(60), Duration::from_secs);
        Ok(Self {
            bin,
            timeout,
            env: Vec::new(),
            path_prepend: Vec::new(),
            args: Vec::new(),
            wrapper: Vec::new(),
        })
    }

    /// The binary that will run.
    pub fn bin(&self) -> &Path {
        &self.bin
    }

    /// Kill Claude Code after this long.
    #[must_use]
    pub fn timeout(mut self, timeout: Duration) -> Self {
        self.timeout = timeout;
        self
    }

    /// Add an environment variable (it reaches the hooks too).
    #[must_use]
    pub fn env(mut self, key: &str, value: &str) -> Self {
        self.env.push((key.to_owned(), value.to_owned()));
        self
    }

    /// Put `dir` first on `PATH`, so hooks can call a binary by name (`warden hook claude`).
    #[must_use]
    pub fn path_prepend(mut self, dir: impl Into<PathBuf>) -> Self {
        self.path_prepend.push(dir.into());
        self
    }

    /// Extra command-line arguments after the standard ones.
    #[must_use]
    pub fn arg(mut self, arg: &str) -> Self {
        self.args.push(arg.to_owned());
        self
    }

    /// Start Claude Code through another program: `wrapper... CLAUDE -p ...` (for example
    /// `warden run --scope src --`). The wrapper inherits the hermetic environment and the
    /// scripted API's variables; `{cwd}` in tool inputs then stands for wherever Claude Code
    /// reports working.
    #[must_use]
    pub fn wrapped_in<I, S>(mut self, wrapper: I) -> Self
    where
        I: IntoIterator<Item = S>,
        S: Into<OsString>,
    {
        self.wrapper = wrapper.into_iter().map(Into::into).collect();
        self
    }

    /// Start a scripted API for `scenario`, write its setup files into `ws`, run
    /// `claude -p PROMPT --output-format json --max-turns N` in the repository, and collect
    /// everything. Install hooks in `ws` (settings or `warden init`) before calling this.
    /// `{repo}` in tool inputs and expectations stands for the repository's absolute path.
    pub fn run(&self, ws: &Workspace, scenario: &Scenario) -> Result<Outcome, Error> {
        let scenario = &scenario.with_repo(ws.repo());
        ws.apply(&scenario.setup)?;
        let api = MockApi::start(scenario.clone())?;
        let mut cmd = match self.wrapper.split_first() {
            Some((program, rest)) => {
                let mut cmd = ws.command(program, &self.path_prepend);
                cmd.args(rest).arg(&self.bin);
                cmd
            }
            None => ws.command(&self.bin, &self.path_prepend),
        };
        cmd.arg("-p")
            .arg(&scenario.prompt)
            .arg("--output-format")
            .arg("json")
            .arg("--max-turns")
            .arg(scenario.max_turns().to_string())
            .args(&self.args)
            .env("ANTHROPIC_BASE_URL", api.base_url())
            .env("ANTHROPIC_API_KEY", "sk-ant-e2e-not-a-real-key")
            .env("CLAUDE_CODE_DISABLE_NONESSENTIAL_TRAFFIC", "1")
            .stdin(Stdio::null())
            .stdout(Stdio::piped())
            .stderr(Stdio::piped());
        for (k, v) in &self.env {
            cmd.env(k, v);
        }
        let started = Instant::now();
        let mut child = cmd.spawn().map_err(|source| Error::Io {
            context: format!("starting {}", self.bin.display()),
            source,
        })?;
        // Drain both pipes on their own threads so a chatty child never blocks on a full pipe.
        let stdout = child.stdout.take().map(drain);
        let stderr = child.stderr.take().map(drain);
        let waited = child
            .wait_timeout(self.timeout)
            .map_err(|source| Error::Io {
                context: "waiting for Claude Code".to_owned(),
                source,
            })?;
        let (status, timed_out) = match waited {
            Some(status) => (Some(status), false),
            None => {
                // Best effort: the child may have exited between the timeout and the kill.
                let _ = child.kill();
                (child.wait().ok(), true)
            }
        };
        let elapsed = started.elapsed();
        let stdout = stdout.map(join_drain).unwrap_or_default();
        let stderr = stderr.map(join_drain).unwrap_or_default();
        let requests = api.requests();
        drop(api);
        let transcript: String = requests
            .iter()
            .filter_map(|r| serde_json::to_string(r).ok())
            .map(|line| line + "\n")
            .collect();
        // The transcript is for a person debugging a kept workspace; failing to write it
        // must not fail the run.
        let _ = std::fs::write(ws.root().join("requests.jsonl"), transcript);
        Ok(Outcome {
            scenario: scenario.clone(),
            repo: ws.repo().to_owned(),
            exit_code: status.and_then(|s| s.code()),
            timed_out,
            result: serde_json::from_str(stdout.trim()).ok(),
            stdout,
            stderr,
            requests,
            elapsed,
        })
    }
}

/// The Claude Code version the end-to-end facts were observed on (`tests/e2e/package.json`).
pub const PINNED_VERSION: &str = "2.1.328";

/// Run `claude --version` once per binary per process and compare it with the pin.
fn check_version(bin: &Path) -> Result<(), Error> {
    static CHECKED: OnceLock<Mutex<HashMap<PathBuf, Result<(), String>>>> = OnceLock::new();
    let cache = CHECKED.get_or_init(Default::default);
    let mut cache = cache.lock().unwrap_or_else(PoisonError::into_inner);
    let verdict = cache
        .entry(bin.to_owned())
        .or_insert_with(|| version_verdict(bin))
        .clone();
    verdict.map_err(|detail| Error::ClaudeUnusable {
        path: bin.to_owned(),
        detail,
    })
}

fn version_verdict(bin: &Path) -> Result<(), String> {
    let out = Command::new(bin)
        .arg("--version")
        .stdin(Stdio::null())
        .output()
        .map_err(|e| format!("it does not start: {e}"))?;
    let stdout = String::from_utf8_lossy(&out.stdout);
    if !out.status.success() {
        return Err(format!(
            "`--version` failed ({}): {}{}",
            out.status,
            stdout.trim(),
            String::from_utf8_lossy(&out.stderr).trim()
        ));
    }
    let version = stdout.split_whitespace().next().unwrap_or_default();
    if version != PINNED_VERSION {
        return Err(format!(
            "it is version {:?}, the tests are pinned to {PINNED_VERSION}",
            stdout.trim()
        ));
    }
    Ok(())
}

fn drain<R: Read + Send + 'static>(mut pipe: R) -> std::thread::JoinHandle<String> {
    std::thread::spawn(move || {
        let mut buf = Vec::new();
        let _ = pipe.read_to_end(&mut buf);
        String::from_utf8_lossy(&buf).into_owned()
    })
}

fn join_drain(handle: std::thread::JoinHandle<String>) -> String {
    handle
        .join()
        .unwrap_or_else(|_| "<pipe reader panicked>".to_owned())
}

/// A `tool_result` block that Claude Code sent back to the model.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ToolResult {
    /// The id of the tool call it answers.
    pub tool_use_id: String,
    /// `is_error` as sent (absent counts as false).
    pub is_error: bool,
    /// The content as text (text blocks joined by newlines when it was a list).
    pub text: String,
}

/// Everything one run produced.
#[derive(Debug, Clone)]
pub struct Outcome {
    /// The scenario that was played.
    pub scenario: Scenario,
    /// The repository it ran in.
    pub repo: PathBuf,
    /// Exit status of `claude`, `None` if killed by a signal.
    pub exit_code: Option<i32>,
    /// Whether the run was killed for exceeding the timeout.
    pub timed_out: bool,
    /// Raw stdout.
    pub stdout: String,
    /// Raw stderr.
    pub stderr: String,
    /// stdout parsed as the `--output-format json` result object, if it parsed.
    pub result: Option<Value>,
    /// Every request the scripted API received.
    pub requests: Vec<RecordedRequest>,
    /// Wall time of the `claude` process.
    pub elapsed: Duration,
}

impl Outcome {
    /// Every tool_result Claude Code sent, once each, in first-seen order.
    pub fn tool_results(&self) -> Vec<ToolResult> {
        let mut seen: Vec<ToolResult> = Vec::new();
        for req in self.requests.iter().filter(|r| r.kind == RequestKind::Main) {
            let messages = req.body.get("messages").and_then(Value::as_array);
            for message in messages.into_iter().flatten() {
                let blocks = message.get("content").and_then(Value::as_array);
                for block in blocks.into_iter().flatten() {
                    if block.get("type").and_then(Value::as_str) != Some("tool_result") {
                        continue;
                    }
                    let Some(id) = block.get("tool_use_id").and_then(Value::as_str) else {
                        continue;
                    };
                    if seen.iter().any(|r| r.tool_use_id == id) {
                        continue;
                    }
                    seen.push(ToolResult {
                        tool_use_id: id.to_owned(),
                        is_error: block
                            .get("is_error")
                            .and_then(Value::as_bool)
                            .unwrap_or(false),
                        text: content_text(block.get("content")),
                    });
                }
            }
        }
        seen
    }

    /// The tool_result for one call id (see [`crate::tool_use_id`]).
    pub fn tool_result(&self, id: &str) -> Option<ToolResult> {
        self.tool_results()
            .into_iter()
            .find(|r| r.tool_use_id == id)
    }

    /// Whether the server sent its closing `end_turn` reply, i.e. every scripted turn was played.
    pub fn completed(&self) -> bool {
        self.requests
            .iter()
            .any(|r| r.kind == RequestKind::Main && r.turn.is_none())
    }

    /// Every way the run missed the scenario's expectations; empty when it met them all.
    pub fn failures(&self) -> Vec<String> {
        let mut out = Vec::new();
        if self.timed_out {
            out.push("Claude Code was killed at the timeout".to_owned());
        }
        if !self.completed() {
            out.push("the scripted turns were not all played (no closing request)".to_owned());
        }
        for call in self.scenario.calls() {
            let Some(expect) = &call.expect else { continue };
            let what = format!("{} {} {}", call.id, call.tool, call.input);
            let Some(result) = self.tool_result(&call.id) else {
                out.push(format!("{what}: no tool_result came back"));
                continue;
            };
            if let Some(want) = expect.is_error {
                if result.is_error != want {
                    out.push(format!(
                        "{what}: is_error is {}, expected {want}; content: {:?}",
                        result.is_error, result.text
                    ));
                }
            }
            for needle in &expect.contains {
                if !result.text.contains(needle.as_str()) {
                    out.push(format!(
                        "{what}: content lacks {needle:?}; content: {:?}",
                        result.text
                    ));
                }
            }
            for needle in &expect.not_contains {
                if result.text.contains(needle.as_str()) {
                    out.push(format!(
                        "{what}: content contains {needle:?}; content: {:?}",
                        result.text
                    ));
                }
            }
        }
        let after = &self.scenario.after;
        for rel in &after.exists {
            if std::fs::symlink_metadata(self.repo.join(rel)).is_err() {
                out.push(format!("{rel} should exist after the run, but does not"));
            }
        }
        for rel in &after.absent {
            if std::fs::symlink_metadata(self.repo.join(rel)).is_ok() {
                out.push(format!("{rel} should not exist after the run, but does"));
            }
        }
        for (rel, needle) in &after.contains {
            match std::fs::read_to_string(self.repo.join(rel)) {
                Ok(text) if text.contains(needle.as_str()) => {}
                Ok(text) => out.push(format!("{rel} lacks {needle:?}; it holds {text:?}")),
                Err(e) => out.push(format!("{rel} could not be read: {e}")),
            }
        }
        for (rel, needle) in &after.not_contains {
            match std::fs::read_to_string(self.repo.join(rel)) {
                Ok(text) if !text.contains(needle.as_str()) => {}
                Ok(text) => out.push(format!("{rel} contains {needle:?}; it holds {text:?}")),
                Err(e) => out.push(format!("{rel} could not be read: {e}")),
            }
        }
        out
    }

    /// Panic with a full report unless every expectation of the scenario held.
    #[track_caller]
    pub fn assert_expectations(&self) {
        let failures = self.failures();
        if !failures.is_empty() {
            panic!("{}", self.report(&failures));
        }
    }

    /// A readable account of the run: failures, exit, requests, tool results, output tails.
    pub fn report(&self, failures: &[String]) -> String {
        let mut s = String::new();
        let _ = writeln!(s, "scenario: {}", self.scenario.description);
        for f in failures {
            let _ = writeln!(s, "  FAILED: {f}");
        }
        let _ = writeln!(
            s,
            "claude exit code: {:?}, timed out: {}, took {:?}, repo: {}",
            self.exit_code,
            self.timed_out,
            self.elapsed,
            self.repo.display()
        );
        let _ = writeln!(s, "requests:");
        for r in &self.requests {
            let _ = writeln!(s, "  {}", r.summary());
        }
        let _ = writeln!(s, "tool results:");
        for r in self.tool_results() {
            let _ = writeln!(
                s,
                "  {} is_error={} {:?}",
                r.tool_use_id, r.is_error, r.text
            );
        }
        let _ = writeln!(s, "stdout (tail): {}", tail(&self.stdout, 1500));
        let _ = writeln!(s, "stderr (tail): {}", tail(&self.stderr, 3000));
        s
    }
}

fn tail(s: &str, max: usize) -> &str {
    if s.len() <= max {
        return s;
    }
    let mut start = s.len() - max;
    while !s.is_char_boundary(start) {
        start += 1;
    }
    &s[start..]
}

fn content_text(content: Option<&Value>) -> String {
    match content {
        Some(Value::String(s)) => s.clone(),
        Some(Value::Array(blocks)) => blocks
            .iter()
            .filter_map(|b| b.get("text").and_then(Value::as_str))
            .collect::<Vec<_>>()
            .join("\n"),
        Some(other) => other.to_string(),
        None => String::new(),
    }
}
