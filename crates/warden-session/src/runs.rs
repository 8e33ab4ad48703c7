//! Step 7: the registry of runs, for `warden runs` and `warden discard RUN`.
//!
//! One JSON file per run under `<git common dir>/warden/runs/<id>.json`: inside `.git`, so the
//! agent's worktree never contains it and `git status` never shows it. Files are replaced
//! atomically (write, then rename), so a crash leaves the old record or the new one.

use std::path::{Path, PathBuf};

use serde::{Deserialize, Serialize};

use crate::gates::{GateKind, GateReport, GateStatus};
use crate::git::Git;
use crate::workspace::{remove_worktree, worktree_list};
use crate::{RunId, SessionError, Workspace};

/// How a run ended (so far).
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(tag = "state", rename_all = "kebab-case")]
pub enum RunOutcome {
    /// The agent is running, or warden stopped before recording an end.
    Running,
    /// Gates passed; the work is on `branch`.
    Passed {
        branch: String,
        commit: String,
        pushed_to: Option<String>,
        pr_url: Option<String>,
    },
    /// Nothing failed but a gate asks for a person's approval before merge.
    NeedsApproval {
        branch: String,
        commit: Option<String>,
        gates: Vec<String>,
        pushed_to: Option<String>,
        pr_url: Option<String>,
    },
    /// Gates failed; the work is kept at `kept_ref`.
    Discarded { kept_ref: String, reason: String },
    /// warden itself failed (git error, sandbox error); the message says what.
    Errored { error: String },
}

impl RunOutcome {
    /// `running`, `passed`, `needs-approval`, `discarded`, `errored`.
    pub fn label(&self) -> &'static str {
        match self {
            RunOutcome::Running => "running",
            RunOutcome::Passed { .. } => "passed",
            RunOutcome::NeedsApproval { .. } => "needs-approval",
            RunOutcome::Discarded { .. } => "discarded",
            RunOutcome::Errored { .. } => "errored",
        }
    }
}

/// One gate's verdict as recorded.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct GateLine {
    pub gate: GateKind,
    pub status: GateStatus,
    pub summary: String,
}

/// What `warden discard RUN` removed.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Removal {
    /// When (RFC 3339, UTC).
    pub at: String,
    /// The worktree directory removed, if one was left.
    pub worktree: Option<PathBuf>,
    /// Refs deleted (`refs/heads/warden/<id>`, `refs/warden/discarded/<id>`).
    pub refs: Vec<String>,
    /// The run's branch was pushed to this remote; the remote copy is left alone.
    pub remote_branch_left: Option<String>,
}

/// The record of one run.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct RunRecord {
    pub id: RunId,
    pub task: Option<String>,
    pub scope: Vec<String>,
    /// RFC 3339, UTC.
    pub started: String,
    pub finished: Option<String>,
    pub outcome: RunOutcome,
    pub workspace: Workspace,
    pub gates: Vec<GateLine>,
    pub audit_session: Option<String>,
    /// Set once `discard_run` has cleaned up after the run.
    pub removed: Option<Removal>,
}

impl RunRecord {
    /// A record for a run that starts now.
    pub fn start(ws: &Workspace, task: Option<String>, scope: Vec<String>) -> RunRecord {
        RunRecord {
            id: ws.run_id.clone(),
            task,
            scope,
            started: now(),
            finished: None,
            outcome: RunOutcome::Running,
            workspace: ws.clone(),
            gates: Vec::new(),
            audit_session: None,
            removed: None,
        }
    }

    /// Records the gates' verdicts.
    pub fn set_gates(&mut self, report: &GateReport) {
        self.gates = report
            .results
            .iter()
            .map(|r| GateLine {
                gate: r.gate,
                status: r.status,
                summary: r.summary.clone(),
            })
            .collect();
    }

    /// Records the end of the run.
    pub fn finish(&mut self, outcome: RunOutcome) {
        self.outcome = outcome;
        self.finished = Some(now());
    }
}

pub(crate) fn now() -> String {
    time::OffsetDateTime::now_utc()
        .format(&time::format_description::well_known::Rfc3339)
        .unwrap_or_else(|_| "unknown".to_string())
}

/// Run records that could be read, and the files that could not (listed, never skipped
/// silently).
#[derive(Debug, Default)]
pub struct RunList {
    /// Sorted by id, which sorts by start time.
    pub records: Vec<RunRecord>,
    pub unreadable: Vec<(PathBuf, String)>,
}

/// The run registry of one repository.
#[derive(Debug, Clone)]
pub struct RunStore {
    dir: PathBuf,
    git_common_dir: PathBuf,
}

impl RunStore {
    /// The registry of the repository containing `repo`.
    pub fn open(repo: &Path) -> Result<RunStore, SessionError> {
        let common = Git::discover(repo)
            .text(["rev-parse", "--path-format=absolute", "--git-common-dir"])
            .map_err(|e| SessionError::NotARepository {
                path: repo.to_path_buf(),
                detail: match e {
                    SessionError::Git { stderr, .. } => stderr,
                    other => other.to_string(),
                },
            })?;
        Ok(RunStore::at_git_dir(Path::new(&common)))
    }

    /// The registry of the repository a workspace belongs to.
    pub fn for_workspace(ws: &Workspace) -> RunStore {
        RunStore::at_git_dir(&ws.git_common_dir)
    }

    fn at_git_dir(common: &Path) -> RunStore {
        RunStore {
            dir: common.join("warden").join("runs"),
            git_common_dir: common.to_path_buf(),
        }
    }

    /// Where the records live.
    pub fn dir(&self) -> &Path {
        &self.dir
    }

    fn path(&self, id: &RunId) -> PathBuf {
        self.dir.join(format!("{id}.json"))
    }

    /// Writes (or replaces) a record.
    pub fn save(&self, record: &RunRecord) -> Result<(), SessionError> {
        std::fs::create_dir_all(&self.dir)
            .map_err(|e| SessionError::io(format!("creating {}", self.dir.display()), e))?;
        let path = self.path(&record.id);
        let json = serde_json::to_vec_pretty(record).map_err(|source| SessionError::Record {
            path: path.clone(),
            source,
        })?;
        let tmp = self
            .dir
            .join(format!(".{}.{}.tmp", record.id, std::process::id()));
        std::fs::write(&tmp, json)
            .map_err(|e| SessionError::io(format!("writing {}", tmp.display()), e))?;
        std::fs::rename(&tmp, &path).map_err(|e| {
            let _ = std::fs::remove_file(&tmp);
            SessionError::io(format!("replacing {}", path.display()), e)
        })
    }

    /// One run's record.
    pub fn get(&self, id: &RunId) -> Result<RunRecord, SessionError> {
        let path = self.path(id);
        let bytes = match std::fs::read(&path) {
            Ok(b) => b,
            Err(e) if e.kind() == std::io::ErrorKind::NotFound => {
                return Err(SessionError::RunNotFound {
                    id: id.to_string(),
                    dir: self.dir.clone(),
                })
            }
            Err(e) => return Err(SessionError::io(format!("reading {}", path.display()), e)),
        };
        let record: RunRecord =
            serde_json::from_slice(&bytes).map_err(|source| SessionError::Record {
                path: path.clone(),
                source,
            })?;
        if &record.id != id {
            return Err(SessionError::Record {
                path,
                source: serde::de::Error::custom(format!("file holds run {} instead", record.id)),
            });
        }
        Ok(record)
    }

    /// Every recorded run, oldest first.
    pub fn list(&self) -> Result<RunList, SessionError> {
        let mut list = RunList::default();
        let entries = match std::fs::read_dir(&self.dir) {
            Ok(e) => e,
            Err(e) if e.kind() == std::io::ErrorKind::NotFound => return Ok(list),
            Err(e) => {
                return Err(SessionError::io(
                    format!("listing {}", self.dir.display()),
                    e,
                ))
            }
        };
        for entry in entries {
            let entry = entry
                .map_err(|e| SessionError::io(format!("listing {}", self.dir.display()), e))?;
            let name = entry.file_name();
            let name = name.to_string_lossy();
            if name.starts_with('.') {
                continue; // a write in progress
            }
            let Some(stem) = name.strip_suffix(".json") else {
                list.unreadable
                    .push((entry.path(), "not a run record (.json)".into()));
                continue;
            };
            let result = RunId::parse(stem).and_then(|id| self.get(&id));
            match result {
                Ok(r) => list.records.push(r),
                Err(e) => list.unreadable.push((entry.path(), e.to_string())),
            }
        }
        list.records.sort_by(|a, b| a.id.cmp(&b.id));
        Ok(list)
    }

    /// Removes what a run left: its worktree (if git still lists one for the run's branch or
    /// at the recorded path), its branch and its kept ref, and marks the record. A branch
    /// already pushed to a remote stays there; [`Removal::remote_branch_left`] says so.
    /// A run still marked running is refused unless `force`.
    pub fn discard_run(&self, id: &RunId, force: bool) -> Result<Removal, SessionError> {
        let mut record = self.get(id)?;
        if record.outcome == RunOutcome::Running && !force {
            return Err(SessionError::RunStillRunning { id: id.to_string() });
        }
        let repo = Git::repo(&self.git_common_dir);
        let branch_ref = format!("refs/heads/{}", id.branch());
        // Trust git's list of worktrees, not the path in the record.
        let worktree = worktree_list(&repo)?
            .into_iter()
            .find(|(path, branch)| {
                branch.as_deref() == Some(branch_ref.as_str()) || *path == record.workspace.worktree
            })
            .map(|(path, _)| path);
        let mut removed_dir = None;
        if let Some(path) = worktree {
            if remove_worktree(&repo, &path)? {
                removed_dir = Some(path);
            }
        }
        let kept = id.discarded_ref();
        let existing = repo.run(["for-each-ref", "--format=%(refname)", &branch_ref, &kept])?;
        let refs: Vec<String> = String::from_utf8_lossy(&existing)
            .lines()
            .map(str::to_string)
            .filter(|r| !r.is_empty())
            .collect();
        if !refs.is_empty() {
            let script: String = refs.iter().map(|r| format!("delete {r}\n")).collect();
            repo.run_full(["update-ref", "--stdin"], Some(script.into_bytes()), None)?;
        }
        let remote_branch_left = match &record.outcome {
            RunOutcome::Passed {
                pushed_to: Some(r), ..
            }
            | RunOutcome::NeedsApproval {
                pushed_to: Some(r), ..
            } => Some(format!("{r}:{}", id.branch())),
            _ => None,
        };
        let removal = Removal {
            at: now(),
            worktree: removed_dir,
            refs,
            remote_branch_left,
        };
        record.removed = Some(removal.clone());
        if record.finished.is_none() {
            record.finished = Some(removal.at.clone());
        }
        self.save(&record)?;
        Ok(removal)
    }
}
