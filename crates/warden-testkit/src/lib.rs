//! End-to-end test harness: the real Claude Code CLI against a scripted Messages API.
//!
//! A test describes what "the model" does in a scenario file (TOML, see
//! `tests/e2e/README.md`): an ordered list of turns, each a list of text and tool_use
//! blocks, with expectations on the `tool_result` Claude Code sends back for each call and on
//! the filesystem afterwards. The harness
//!
//! 1. makes a throwaway [`Workspace`]: a real `git init` repository and a fake `HOME`;
//! 2. starts a [`MockApi`] on 127.0.0.1 that streams each scripted turn as server-sent events,
//!    exactly in the Messages API's event order, and records every request;
//! 3. runs `claude -p PROMPT --output-format json --max-turns N` ([`Claude`]) with
//!    `ANTHROPIC_BASE_URL` pointing at the server, a dummy key and
//!    `CLAUDE_CODE_DISABLE_NONESSENTIAL_TRAFFIC=1`, in a cleared environment;
//! 4. returns an [`Outcome`]: the requests, the tool results, stdout, stderr, exit code.
//!
//! Claude Code sees the tool calls as if a model made them, runs its hooks (installed by the
//! test in `.claude/settings.json`) and, where the hooks allow, the tools themselves.
//!
//! ```no_run
//! use warden_testkit::{hook_settings, Claude, Scenario, Workspace};
//!
//! let scenario = Scenario::named("harness-shell-hook")?;
//! let ws = Workspace::new()?;
//! ws.write_settings(&hook_settings("/path/to/hook.sh"))?;
//! let outcome = Claude::locate()?.run(&ws, &scenario)?;
//! outcome.assert_expectations();
//! # Ok::<(), warden_testkit::Error>(())
//! ```
//!
//! The CLI is the npm package `@anthropic-ai/claude-code`, pinned in `tests/e2e/package.json`
//! and installed with `npm ci --prefix tests/e2e`. A missing CLI is an error
//! ([`Error::ClaudeMissing`]), never a silent skip.
//!
//! What it is not: a model of Claude Code's behaviour (the real binary runs), nor a general
//! Messages API emulator. It answers what Claude Code 2.1.x asks for in `-p` mode: streamed
//! and plain `POST /v1/messages`, `count_tokens`, and a short text for side requests that
//! offer no tools. It is a dev-only crate and is never published.

#![forbid(unsafe_code)]

mod git;
mod recorder;
mod runner;
mod scenario;
mod server;
mod sse;

use std::path::PathBuf;

pub use git::git;
pub use recorder::{HttpRecorder, HttpRequest};
pub use runner::{
    hook_settings, Claude, Outcome, ToolResult, Workspace, CLAUDE_BIN_ENV, INSTALL_HINT, KEEP_ENV,
    PINNED_VERSION, TIMEOUT_ENV,
};
pub use scenario::{
    repo_root, scenario_dir, tool_use_id, After, Block, Expect, Scenario, ScriptedCall, Setup,
    Turn, REPO_PLACEHOLDER,
};
/// Re-exported so tests can read [`Outcome::result`] and request bodies without their own dependency.
pub use serde_json;
pub use server::{MockApi, RecordedRequest, RequestKind, CWD_PLACEHOLDER};

/// Everything that can go wrong while setting up or running a scenario.
#[derive(Debug, thiserror::Error)]
pub enum Error {
    /// The Claude Code binary is not where the harness looks.
    #[error(
        "Claude Code CLI not found at {}: install the pinned version with `{INSTALL_HINT}` \
         from the repository root (needs npm), or set {CLAUDE_BIN_ENV} to a claude binary",
        path.display()
    )]
    ClaudeMissing {
        /// Where it was looked for.
        path: PathBuf,
    },
    /// The binary is there but cannot be used.
    #[error(
        "Claude Code CLI at {} cannot be used: {detail}. Reinstall the pinned version with \
         `{INSTALL_HINT}` from the repository root, letting npm run the package's postinstall \
         (no --ignore-scripts), or set {CLAUDE_BIN_ENV} to a claude {PINNED_VERSION} binary",
        path.display()
    )]
    ClaudeUnusable {
        /// The binary.
        path: PathBuf,
        /// What `claude --version` did.
        detail: String,
    },
    /// A scenario file is not valid TOML or does not match the format.
    #[error("scenario {origin}: {message}")]
    ScenarioParse {
        /// File path or name.
        origin: String,
        /// The parser's message.
        message: String,
    },
    /// A scenario parses but cannot be played as written.
    #[error("scenario {origin} is not playable: {message}")]
    ScenarioInvalid {
        /// File path or name.
        origin: String,
        /// What is wrong.
        message: String,
    },
    /// The scripted server could not start.
    #[error("scripted API server: {0}")]
    Server(String),
    /// A helper command (git, warden init, ...) failed.
    #[error("{what} failed: {detail}")]
    Command {
        /// The command.
        what: String,
        /// Its stderr.
        detail: String,
    },
    /// A JSON value could not be written.
    #[error("{context}: {source}")]
    Json {
        /// What was being done.
        context: String,
        /// The underlying error.
        #[source]
        source: serde_json::Error,
    },
    /// An I/O error, with what was being done.
    #[error("{context}: {source}")]
    Io {
        /// What was being done.
        context: String,
        /// The underlying error.
        #[source]
        source: std::io::Error,
    },
}
