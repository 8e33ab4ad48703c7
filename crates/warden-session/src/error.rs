//! The one error type of the crate: every failure says what was being done and, for git,
//! what git itself said.

use std::path::PathBuf;
use std::time::Duration;

/// Everything that can go wrong while preparing, gating, discarding or publishing a run.
#[derive(Debug, thiserror::Error)]
#[non_exhaustive]
pub enum SessionError {
    /// The path is not inside a git working tree (or is a bare repository).
    #[error("{path} is not inside a git working tree: {detail}")]
    NotARepository { path: PathBuf, detail: String },

    /// The repository has no commit to branch from.
    #[error("the repository at {repo} has no commits yet; commit something before starting a run")]
    NoCommits { repo: PathBuf },

    /// A configured worktree directory would put the agent's copy inside the user's checkout.
    #[error(
        "worktree directory {dir} is inside the checkout {repo}; choose a directory outside it \
         (the default lives under the repository's .git directory)"
    )]
    WorktreeInsideCheckout { dir: PathBuf, repo: PathBuf },

    /// A git command exited with an error.
    #[error("`git {args}` failed ({status}): {stderr}")]
    Git {
        args: String,
        status: String,
        stderr: String,
    },

    /// A git command ran past its time limit and was killed.
    #[error("`git {args}` did not finish within {after:?} and was stopped")]
    GitTimeout { args: String, after: Duration },

    /// git printed something this crate does not understand; nothing is assumed from it.
    #[error("unexpected output from `git {args}`: {detail}")]
    GitOutput { args: String, detail: String },

    /// A program could not be started at all.
    #[error("could not start {program}: {source}")]
    Spawn {
        program: String,
        source: std::io::Error,
    },

    /// A file-system operation failed.
    #[error("{context}: {source}")]
    Io {
        context: String,
        source: std::io::Error,
    },

    /// A run id that could not have come from [`crate::RunId::generate`].
    #[error("invalid run id {id:?}: {reason}")]
    InvalidRunId { id: String, reason: &'static str },

    /// A scope, allowlist or sensitive-path pattern that is not a valid glob.
    #[error("invalid path pattern {pattern:?}: {reason}")]
    InvalidPattern { pattern: String, reason: String },

    /// The run's branch no longer points where the gated snapshot says it did: something moved
    /// it after the gates ran, so what would be published is not what was checked.
    #[error("branch {branch} moved: the gates checked {expected} but it now points at {found}")]
    BranchMoved {
        branch: String,
        expected: String,
        found: String,
    },

    /// The branch's history no longer starts at the run's base commit.
    #[error("branch {branch} does not descend from the run's base commit {base}")]
    NotDescendant { branch: String, base: String },

    /// The gate report belongs to another run or another base.
    #[error("the gate report does not belong to this workspace: {detail}")]
    ReportMismatch { detail: String },

    /// `finalize` was asked to publish work whose gates failed.
    #[error("refusing to publish: gates failed: {gates}")]
    GatesFailed { gates: String },

    /// The agent left no change at all relative to the base commit.
    #[error("the run changed nothing relative to {base}; there is nothing to publish")]
    NoChanges { base: String },

    /// No record for this run id.
    #[error("no run {id} is recorded in {dir}")]
    RunNotFound { id: String, dir: PathBuf },

    /// The run is still marked as running; removing it could pull the tree from under an agent.
    #[error("run {id} is still marked as running; stop it first or force the removal")]
    RunStillRunning { id: String },

    /// A run record that could not be read or written as JSON.
    #[error("run record {path}: {source}")]
    Record {
        path: PathBuf,
        source: serde_json::Error,
    },
}

impl SessionError {
    pub(crate) fn io(context: impl Into<String>, source: std::io::Error) -> Self {
        SessionError::Io {
            context: context.into(),
            source,
        }
    }
}
