//! Finding the project a command or hook call belongs to, and loading its policy.

use anyhow::{Context, Result};
use std::path::{Path, PathBuf};
use warden_policy::Policy;

/// The user's home directory.
pub fn home_dir() -> Option<PathBuf> {
    std::env::var_os("HOME")
        .filter(|h| !h.is_empty())
        .map(PathBuf::from)
}

/// The project root for a working directory: `$WARDEN_PROJECT_ROOT` if set, else the nearest
/// ancestor holding a warden policy, else the git top level, else the directory itself.
pub fn project_root(cwd: &Path) -> PathBuf {
    if let Some(root) = std::env::var_os("WARDEN_PROJECT_ROOT").filter(|r| !r.is_empty()) {
        return PathBuf::from(root);
    }
    let mut git_root = None;
    for dir in cwd.ancestors() {
        if warden_policy::config::has_warden_policy(dir) {
            return dir.to_path_buf();
        }
        if git_root.is_none() && dir.join(".git").exists() {
            git_root = Some(dir.to_path_buf());
        }
    }
    git_root.unwrap_or_else(|| cwd.to_path_buf())
}

/// Load the policy that applies at `root`, or the one file given with `--policy`.
pub fn load_policy(root: &Path, explicit: Option<&Path>) -> Result<Policy> {
    let home = home_dir();
    let policy = match explicit {
        Some(file) => {
            let loaded = warden_policy::config::load_file(file, warden_policy::Layer::Explicit)?;
            Policy::from_files(root, home.as_deref(), vec![loaded])?
        }
        None => Policy::load(root, home.as_deref())?,
    };
    Ok(crate::analysis::install(policy))
}

/// The current directory, with a message a person can act on.
pub fn current_dir() -> Result<PathBuf> {
    std::env::current_dir().context("cannot read the current directory")
}
