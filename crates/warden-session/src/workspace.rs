//! Step 1 of a run: a disposable worktree on a new branch, cut from the user's HEAD.

use std::path::{Path, PathBuf};

use serde::{Deserialize, Serialize};

use crate::git::{is_object_id, Git};
use crate::{RunId, SessionError};

/// Where a run's worktree goes.
#[derive(Debug, Clone, Default)]
pub struct WorkspaceOptions {
    /// Parent directory for worktrees; each run gets `<dir>/<run id>`. `None` (the default)
    /// puts them under `<git common dir>/warden/worktrees/`, inside `.git`, where editors,
    /// build tools and `git status` in the user's checkout never see them. A directory inside
    /// the user's checkout is refused.
    pub worktrees_dir: Option<PathBuf>,
    /// What to branch from (any commit-ish); `None` means the checkout's `HEAD`.
    pub base: Option<String>,
}

/// A run's disposable copy of the repository. Serializable, so a run record can bring it back
/// for `warden discard` long after the process that created it has exited.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Workspace {
    pub run_id: RunId,
    /// The top of the user's checkout the run was started from.
    pub repo_root: PathBuf,
    /// The repository's common git directory (`.git` of the main checkout).
    pub git_common_dir: PathBuf,
    /// The agent's working directory.
    pub worktree: PathBuf,
    /// The worktree's private git directory, as git reported it when the worktree was made.
    pub worktree_git_dir: PathBuf,
    /// `warden/<run id>`.
    pub branch: String,
    /// The full commit id the branch started from.
    pub base_commit: String,
    /// The branch the user's checkout was on (`main`), if it was on one: the pull request's
    /// default target.
    pub base_branch: Option<String>,
}

impl Workspace {
    /// `refs/heads/warden/<run id>`.
    pub fn branch_ref(&self) -> String {
        format!("refs/heads/{}", self.branch)
    }

    /// git addressed at the repository itself (refs, objects), never through the worktree's
    /// agent-writable `.git` file.
    pub(crate) fn repo_git(&self) -> Git {
        Git::repo(&self.git_common_dir)
    }
}

/// Creates the worktree and branch for `run_id` from the checkout's `HEAD` (or `opts.base`).
///
/// Runs `git worktree add -b warden/<id> <dir> <base commit>`; the user's checkout, index and
/// current branch are not touched. Refuses outside a git working tree and on a repository
/// without commits.
pub fn create_workspace(
    repo: &Path,
    run_id: &RunId,
    opts: &WorkspaceOptions,
) -> Result<Workspace, SessionError> {
    let found = Git::discover(repo)
        .text([
            "rev-parse",
            "--path-format=absolute",
            "--show-toplevel",
            "--git-common-dir",
        ])
        .map_err(|e| SessionError::NotARepository {
            path: repo.to_path_buf(),
            detail: match e {
                SessionError::Git { stderr, .. } => stderr,
                other => other.to_string(),
            },
        })?;
    let mut lines = found.lines();
    let (Some(top), Some(common), None) = (lines.next(), lines.next(), lines.next()) else {
        return Err(SessionError::GitOutput {
            args: "rev-parse --show-toplevel --git-common-dir".into(),
            detail: format!("expected two lines, got {found:?}"),
        });
    };
    let repo_root = PathBuf::from(top);
    let git_common_dir = PathBuf::from(common);
    let user = Git::discover(&repo_root);

    let base_spec = format!("{}^{{commit}}", opts.base.as_deref().unwrap_or("HEAD"));
    let base_commit = user
        .text([
            "rev-parse",
            "--verify",
            "--quiet",
            "--end-of-options",
            &base_spec,
        ])
        .map_err(|_| SessionError::NoCommits {
            repo: repo_root.clone(),
        })?;
    if !is_object_id(&base_commit) {
        return Err(SessionError::GitOutput {
            args: format!("rev-parse --verify {base_spec}"),
            detail: format!("not an object id: {base_commit:?}"),
        });
    }
    // Exit 1 means a detached HEAD: then there is no branch to aim the pull request at.
    let base_branch = if opts.base.is_none() {
        match user.run(["symbolic-ref", "--quiet", "--short", "HEAD"]) {
            Ok(out) => Some(String::from_utf8_lossy(&out).trim().to_string()),
            Err(SessionError::Git { .. }) => None,
            Err(other) => return Err(other),
        }
    } else {
        None
    };

    let worktree = match &opts.worktrees_dir {
        None => git_common_dir
            .join("warden")
            .join("worktrees")
            .join(run_id.as_str()),
        Some(dir) => {
            let dir = absolute(dir)?;
            refuse_inside_checkout(&dir, &repo_root, &git_common_dir)?;
            dir.join(run_id.as_str())
        }
    };
    if let Some(parent) = worktree.parent() {
        std::fs::create_dir_all(parent)
            .map_err(|e| SessionError::io(format!("creating {}", parent.display()), e))?;
    }

    let branch = run_id.branch();
    let repo_git = Git::repo(&git_common_dir);
    repo_git.run([
        "worktree".as_ref(),
        "add".as_ref(),
        "--quiet".as_ref(),
        "-b".as_ref(),
        branch.as_ref(),
        worktree.as_os_str(),
        base_commit.as_ref(),
    ])?;
    // Right after creation the worktree's `.git` file is still the one git wrote, so asking
    // through it is trustworthy; later calls never go through it.
    let worktree_git_dir =
        PathBuf::from(Git::discover(&worktree).text(["rev-parse", "--absolute-git-dir"])?);

    Ok(Workspace {
        run_id: run_id.clone(),
        repo_root,
        git_common_dir,
        worktree,
        worktree_git_dir,
        branch,
        base_commit,
        base_branch,
    })
}

fn absolute(dir: &Path) -> Result<PathBuf, SessionError> {
    let abs = std::path::absolute(dir)
        .map_err(|e| SessionError::io(format!("resolving {}", dir.display()), e))?;
    // Resolve symlinks through the longest existing ancestor, so a link into the checkout is
    // seen for what it is.
    let mut existing = abs.as_path();
    let mut rest = Vec::new();
    loop {
        match existing.canonicalize() {
            Ok(real) => {
                let mut out = real;
                for part in rest.iter().rev() {
                    out.push(part);
                }
                return Ok(out);
            }
            Err(_) => match (existing.parent(), existing.file_name()) {
                (Some(parent), Some(name)) => {
                    rest.push(name.to_os_string());
                    existing = parent;
                }
                _ => return Ok(abs),
            },
        }
    }
}

fn refuse_inside_checkout(dir: &Path, repo_root: &Path, common: &Path) -> Result<(), SessionError> {
    let root = repo_root
        .canonicalize()
        .unwrap_or_else(|_| repo_root.to_path_buf());
    let common = common
        .canonicalize()
        .unwrap_or_else(|_| common.to_path_buf());
    if dir.starts_with(&root) && !dir.starts_with(&common) {
        return Err(SessionError::WorktreeInsideCheckout {
            dir: dir.to_path_buf(),
            repo: repo_root.to_path_buf(),
        });
    }
    Ok(())
}

/// Removes a worktree warden created. `git worktree remove` refuses some trees (ones holding
/// submodules, for instance); then, if git lists the path as one of its worktrees, the
/// directory is deleted and git's bookkeeping pruned. Returns whether a directory was removed.
pub(crate) fn remove_worktree(repo: &Git, path: &Path) -> Result<bool, SessionError> {
    let meta = std::fs::symlink_metadata(path);
    if meta.is_err() {
        // Already gone: only git's record of it is left.
        repo.run(["worktree", "prune"])?;
        return Ok(false);
    }
    let forced = repo.run([
        "worktree".as_ref(),
        "remove".as_ref(),
        "--force".as_ref(),
        "--force".as_ref(),
        path.as_os_str(),
    ]);
    match forced {
        Ok(_) => Ok(true),
        Err(err) => {
            let is_dir = meta.is_ok_and(|m| m.is_dir());
            if !is_dir || !registered_worktrees(repo)?.iter().any(|w| w == path) {
                return Err(err);
            }
            std::fs::remove_dir_all(path).map_err(|e| {
                SessionError::io(format!("removing worktree {}", path.display()), e)
            })?;
            repo.run(["worktree", "prune"])?;
            Ok(true)
        }
    }
}

/// The worktrees git knows about, with the branch each has checked out.
pub(crate) fn worktree_list(repo: &Git) -> Result<Vec<(PathBuf, Option<String>)>, SessionError> {
    let out = repo.run(["worktree", "list", "--porcelain", "-z"])?;
    let mut list: Vec<(PathBuf, Option<String>)> = Vec::new();
    for field in crate::git::nul_fields(&out) {
        let text = String::from_utf8_lossy(field);
        if let Some(p) = text.strip_prefix("worktree ") {
            list.push((PathBuf::from(p), None));
        } else if let Some(b) = text.strip_prefix("branch ") {
            if let Some(last) = list.last_mut() {
                last.1 = Some(b.to_string());
            }
        }
    }
    Ok(list)
}

fn registered_worktrees(repo: &Git) -> Result<Vec<PathBuf>, SessionError> {
    Ok(worktree_list(repo)?.into_iter().map(|(p, _)| p).collect())
}
