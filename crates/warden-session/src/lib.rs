//! Disposable git worktrees for agent runs, the gates their work must pass, and what happens
//! next: discard (kept for forensics, with an alert) or publish (commit, push, pull request).
//!
//! This is the git and gate machinery behind `warden run`. A run goes:
//!
//! 1. [`create_workspace`]: `git worktree add -b warden/<id>` from the user's `HEAD`, in a
//!    directory under `.git/warden/worktrees/` (or one you name outside the checkout). The
//!    user's checkout, index and branch are never touched.
//! 2. The agent works in [`Workspace::worktree`] (launching it is the caller's job).
//! 3. [`run_gates`]: a [`snapshot`] of everything the agent left (commits, edits, new files)
//!    as a git tree, then four gates on it: `secrets` (a [`DiffScanner`] over added lines only),
//!    `overreach` (paths outside the scope or the write allowlist, file and line limits),
//!    `sensitive-paths` (needs a person's approval, not a failure) and `tests` (the project's
//!    test command in the worktree, with a time limit, through a [`TestLauncher`] so it can be
//!    sandboxed).
//! 4. Failed: [`discard`] commits what the agent left, keeps it at
//!    `refs/warden/discarded/<id>`, removes worktree and branch; [`alert::send`] posts a JSON
//!    webhook. Passed (or needs approval): [`finalize`] commits exactly the tree the gates
//!    checked, pushes the branch, and opens a pull request through [`forge`], its body from
//!    [`pr_body`].
//! 5. [`runs::RunStore`] records each run under `.git/warden/runs/` for `warden runs` and
//!    `warden discard RUN`.
//!
//! ```no_run
//! use warden_session::{create_workspace, run_gates, finalize, discard, GateConfig, GateStatus,
//!     PublishConfig, RunId, RunSummary, WorkspaceOptions, GateFinding};
//! # fn main() -> Result<(), warden_session::SessionError> {
//! let id = RunId::generate()?;
//! let ws = create_workspace(".".as_ref(), &id, &WorkspaceOptions::default())?;
//! // ... run the agent in ws.worktree ...
//! let cfg = GateConfig { scope: vec!["src".into()], ..GateConfig::default() }
//!     .shell_test_command("cargo test --quiet");
//! let scanner = |_path: &str, added: &str| -> Vec<GateFinding> {
//!     added.lines().enumerate().filter(|(_, l)| l.contains("AKIA"))
//!         .map(|(i, _)| GateFinding { line: Some(i + 1), rule: "aws-key".into(),
//!                                     message: "AWS access key id".into() })
//!         .collect()
//! };
//! let report = run_gates(&ws, &cfg, &scanner)?;
//! let summary = RunSummary { task: Some("fix the parser".into()), ..RunSummary::default() };
//! if report.outcome() == GateStatus::Failed {
//!     let kept = discard(&ws, "gates failed")?;
//!     eprintln!("discarded; work kept at {}", kept.kept_ref);
//! } else {
//!     let published = finalize(&ws, &summary, &report, &PublishConfig::default())?;
//!     for step in &published.next_steps { eprintln!("  {step}"); }
//! }
//! # Ok(()) }
//! ```
//!
//! Every git call passes explicit arguments (never a shell line), names the repository with
//! `--git-dir` instead of trusting the agent-writable `.git` file in the worktree, and turns
//! off hooks and fsmonitor; errors carry git's stderr.
//!
//! What this crate is **not**: it does not start the agent, sandbox anything, scan for secrets
//! itself, or write the audit log. The caller supplies the scanner ([`DiffScanner`]) and the
//! sandboxed command builder ([`TestLauncher`]), and passes the denied and asked actions in
//! [`RunSummary`]. It does not print: results come back as values for the binary to show.

#![forbid(unsafe_code)]

pub mod alert;
mod diff;
mod error;
mod exec;
mod finalize;
pub mod forge;
mod gates;
mod git;
mod run_id;
pub mod runs;
mod workspace;

pub use diff::{changed_files, snapshot, ChangeKind, ChangedFile, Snapshot};
pub use error::SessionError;
pub use finalize::{
    commit_message, discard, finalize, pr_body, pr_title, ActionNote, Discarded, Identity,
    PrOutcome, PublishConfig, Published, PushOutcome, RunSummary,
};
pub use gates::{
    run_gates, run_gates_with, DiffScanner, DirectLauncher, GateConfig, GateFinding, GateKind,
    GateReport, GateResult, GateStatus, TestLauncher, DEFAULT_SENSITIVE_PATHS,
};
pub use run_id::RunId;
pub use workspace::{create_workspace, Workspace, WorkspaceOptions};
