//! One way to run git: explicit arguments (never a shell string), repository located
//! explicitly, user hooks and fsmonitor off, and git's own stderr in every error.
//!
//! The agent controls the files of its worktree, including the `.git` file that tells git
//! where the repository is. A replaced `.git` could point git at a config with
//! `core.fsmonitor` or hooks that run outside the sandbox the next time warden calls git there,
//! so every command names `--git-dir` (and `--work-tree`) instead of letting git discover them.

use std::ffi::{OsStr, OsString};
use std::path::{Path, PathBuf};
use std::process::Command;
use std::time::Duration;

use crate::exec;
use crate::SessionError;

/// Settings applied to every invocation. Hooks are off because a hook is code from the
/// repository (or from the agent, if it managed to write one) running with the user's rights;
/// fsmonitor for the same reason; the rest keeps output stable for parsing.
const HYGIENE: &[&str] = &[
    "-c",
    "core.hooksPath=/dev/null",
    "-c",
    "core.fsmonitor=false",
    "-c",
    "core.quotePath=false",
    "-c",
    "commit.gpgSign=false",
    "-c",
    "advice.detachedHead=false",
    "-c",
    "color.ui=false",
];

/// Environment variables that would redirect git to another repository than the one named.
const LOCATION_ENV: &[&str] = &[
    "GIT_DIR",
    "GIT_WORK_TREE",
    "GIT_INDEX_FILE",
    "GIT_OBJECT_DIRECTORY",
    "GIT_ALTERNATE_OBJECT_DIRECTORIES",
    "GIT_COMMON_DIR",
    "GIT_NAMESPACE",
    "GIT_PREFIX",
];

/// How to address one repository (or one worktree of it).
#[derive(Debug, Clone)]
pub(crate) struct Git {
    cwd: PathBuf,
    git_dir: Option<PathBuf>,
    work_tree: Option<PathBuf>,
    env: Vec<(OsString, OsString)>,
}

impl Git {
    /// Lets git discover the repository from `dir`: only for the user's own checkout, before
    /// warden knows where the repository is.
    pub fn discover(dir: &Path) -> Self {
        Git {
            cwd: dir.to_path_buf(),
            git_dir: None,
            work_tree: None,
            env: Vec::new(),
        }
    }

    /// Addresses a repository by its git directory, with no working tree (refs and objects).
    pub fn repo(git_dir: &Path) -> Self {
        Git {
            cwd: git_dir.to_path_buf(),
            git_dir: Some(git_dir.to_path_buf()),
            work_tree: None,
            env: Vec::new(),
        }
    }

    /// Addresses one worktree: its private git directory and its files.
    pub fn worktree(git_dir: &Path, work_tree: &Path) -> Self {
        Git {
            cwd: work_tree.to_path_buf(),
            git_dir: Some(git_dir.to_path_buf()),
            work_tree: Some(work_tree.to_path_buf()),
            env: Vec::new(),
        }
    }

    pub fn with_env(mut self, key: &str, value: &str) -> Self {
        self.env.push((key.into(), value.into()));
        self
    }

    fn command<I, S>(&self, args: I) -> (Command, String)
    where
        I: IntoIterator<Item = S>,
        S: AsRef<OsStr>,
    {
        let mut cmd = Command::new("git");
        cmd.current_dir(&self.cwd);
        for var in LOCATION_ENV {
            cmd.env_remove(var);
        }
        // Never wait on a password prompt: a run is unattended.
        cmd.env("GIT_TERMINAL_PROMPT", "0");
        cmd.env("GCM_INTERACTIVE", "never");
        cmd.env("LC_ALL", "C");
        for (k, v) in &self.env {
            cmd.env(k, v);
        }
        cmd.args(HYGIENE);
        if let Some(dir) = &self.git_dir {
            cmd.arg("--git-dir").arg(dir);
        }
        if let Some(tree) = &self.work_tree {
            cmd.arg("--work-tree").arg(tree);
        }
        let mut shown = Vec::new();
        for a in args {
            shown.push(a.as_ref().to_string_lossy().into_owned());
            cmd.arg(a.as_ref());
        }
        (cmd, shown.join(" "))
    }

    /// Runs git and returns its stdout; any non-zero exit is an error carrying stderr.
    pub fn run<I, S>(&self, args: I) -> Result<Vec<u8>, SessionError>
    where
        I: IntoIterator<Item = S>,
        S: AsRef<OsStr>,
    {
        self.run_full(args, None, None)
    }

    /// Like [`Git::run`], trimmed of the trailing newline and decoded (lossily).
    pub fn text<I, S>(&self, args: I) -> Result<String, SessionError>
    where
        I: IntoIterator<Item = S>,
        S: AsRef<OsStr>,
    {
        let out = self.run(args)?;
        Ok(String::from_utf8_lossy(&out)
            .trim_end_matches(['\n', '\r'])
            .to_string())
    }

    /// Runs git with `input` on stdin and an optional time limit.
    pub fn run_full<I, S>(
        &self,
        args: I,
        input: Option<Vec<u8>>,
        timeout: Option<Duration>,
    ) -> Result<Vec<u8>, SessionError>
    where
        I: IntoIterator<Item = S>,
        S: AsRef<OsStr>,
    {
        let (cmd, shown) = self.command(args);
        let done = exec::run_bounded(cmd, input, timeout, usize::MAX, false).map_err(|source| {
            SessionError::Spawn {
                program: "git".into(),
                source,
            }
        })?;
        if done.timed_out {
            return Err(SessionError::GitTimeout {
                args: shown,
                after: timeout.unwrap_or_default(),
            });
        }
        match done.status {
            Some(s) if s.success() => Ok(done.stdout.bytes),
            status => Err(SessionError::Git {
                args: shown,
                status: exec::describe(status, false, None),
                stderr: stderr_text(&done.stderr.bytes),
            }),
        }
    }

    /// For git commands that answer yes/no through their exit code (0 yes, 1 no); anything
    /// else is an error.
    pub fn check<I, S>(&self, args: I) -> Result<bool, SessionError>
    where
        I: IntoIterator<Item = S>,
        S: AsRef<OsStr>,
    {
        let (cmd, shown) = self.command(args);
        let done = exec::run_bounded(cmd, None, None, 64 * 1024, false).map_err(|source| {
            SessionError::Spawn {
                program: "git".into(),
                source,
            }
        })?;
        match done.status.and_then(|s| s.code()) {
            Some(0) => Ok(true),
            Some(1) => Ok(false),
            _ => Err(SessionError::Git {
                args: shown,
                status: exec::describe(done.status, false, None),
                stderr: stderr_text(&done.stderr.bytes),
            }),
        }
    }
}

fn stderr_text(bytes: &[u8]) -> String {
    let text = String::from_utf8_lossy(bytes);
    let trimmed = text.trim();
    if trimmed.is_empty() {
        "(git printed nothing on stderr)".to_string()
    } else {
        trimmed.to_string()
    }
}

/// Splits NUL-terminated output into its fields (the trailing empty field dropped).
pub(crate) fn nul_fields(bytes: &[u8]) -> Vec<&[u8]> {
    let mut fields: Vec<&[u8]> = bytes.split(|b| *b == 0).collect();
    if fields.last().is_some_and(|f| f.is_empty()) {
        fields.pop();
    }
    fields
}

/// Checks that a string is a full hexadecimal object id, as git prints them.
pub(crate) fn is_object_id(s: &str) -> bool {
    (s.len() == 40 || s.len() == 64) && s.bytes().all(|b| b.is_ascii_hexdigit())
}
