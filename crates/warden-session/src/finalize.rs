//! Steps 5 and 6 of a run: discard the work (keeping it for forensics) or commit, push and
//! open a pull request.

use std::fmt::Write as _;
use std::time::Duration;

use serde::{Deserialize, Serialize};

use crate::forge::{self, ForgeConfig, PullRequest, PullRequestRequest};
use crate::gates::{GateReport, GateStatus};
use crate::git::{is_object_id, Git};
use crate::workspace::remove_worktree;
use crate::{snapshot, SessionError, Workspace};

/// An action the agent attempted that warden denied or asked about. The text is published in
/// the pull request: pass it already redacted.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct ActionNote {
    /// What was attempted (`Bash: rm -rf /`, `Read: .env`).
    pub action: String,
    /// Why it was denied or asked.
    pub reason: String,
}

/// What the session did, as the commit message and the pull request tell it.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct RunSummary {
    pub task: Option<String>,
    pub scope: Vec<String>,
    /// The agent that ran (`claude`), for the record.
    pub agent: Option<String>,
    pub denied: Vec<ActionNote>,
    pub asked: Vec<ActionNote>,
    /// The audit log's session id, for `warden log show <session>`.
    pub audit_session: Option<String>,
}

/// Who warden's commits are from. The default, `warden <warden@localhost>`, says plainly that
/// an agent under warden wrote the work, not the person whose machine ran it.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Identity {
    pub name: String,
    pub email: String,
}

impl Default for Identity {
    fn default() -> Self {
        Identity {
            name: "warden".into(),
            email: "warden@localhost".into(),
        }
    }
}

/// Where passing work goes.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct PublishConfig {
    /// Remote to push to (`origin`); `None` keeps the branch local.
    pub remote: Option<String>,
    /// Branch the pull request targets; `None` uses the branch the checkout was on when the
    /// run started.
    pub base_branch: Option<String>,
    /// Forge to open the pull request on; `None` pushes without opening one.
    pub forge: Option<ForgeConfig>,
    pub identity: Identity,
    pub push_timeout: Duration,
    /// Keep the worktree directory after publishing (it is removed by default; the branch
    /// holds the work).
    pub keep_worktree: bool,
}

impl Default for PublishConfig {
    fn default() -> Self {
        PublishConfig {
            remote: None,
            base_branch: None,
            forge: None,
            identity: Identity::default(),
            push_timeout: Duration::from_secs(120),
            keep_worktree: false,
        }
    }
}

/// How the push went.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(tag = "state", rename_all = "kebab-case")]
pub enum PushOutcome {
    /// No remote configured: the branch stays local.
    NoRemote,
    Pushed {
        remote: String,
        remote_ref: String,
    },
    Failed {
        remote: String,
        error: String,
    },
}

/// How opening the pull request went.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(tag = "state", rename_all = "kebab-case")]
pub enum PrOutcome {
    /// No forge configured, or nothing was pushed.
    NotRequested,
    Opened(PullRequest),
    Failed {
        error: String,
    },
}

/// What [`finalize`] did. Once the commit exists, later problems (push, pull request) are
/// reported here rather than as an error, so the caller still learns where the work is.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Published {
    pub branch: String,
    /// The commit warden made on the branch.
    pub commit: String,
    pub push: PushOutcome,
    pub pr: PrOutcome,
    /// A gate asked for approval: the pull request was opened as a draft and must not be merged
    /// without a person's sign-off.
    pub needs_approval: bool,
    pub worktree_removed: bool,
    /// Commands for a person to review, merge or drop the work.
    pub next_steps: Vec<String>,
}

/// What [`discard`] kept.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Discarded {
    /// `refs/warden/discarded/<id>`.
    pub kept_ref: String,
    /// The commit holding everything the agent left.
    pub commit: String,
    pub worktree_removed: bool,
}

fn commit_tree(
    ws: &Workspace,
    identity: &Identity,
    tree: &str,
    parent: &str,
    message: &str,
) -> Result<String, SessionError> {
    let git = ws
        .repo_git()
        .with_env("GIT_AUTHOR_NAME", &identity.name)
        .with_env("GIT_AUTHOR_EMAIL", &identity.email)
        .with_env("GIT_COMMITTER_NAME", &identity.name)
        .with_env("GIT_COMMITTER_EMAIL", &identity.email);
    let out = git.run_full(
        ["commit-tree", tree, "-p", parent, "-F", "-"],
        Some(message.as_bytes().to_vec()),
        None,
    )?;
    let commit = String::from_utf8_lossy(&out).trim().to_string();
    if !is_object_id(&commit) {
        return Err(SessionError::GitOutput {
            args: "commit-tree".into(),
            detail: format!("not an object id: {commit:?}"),
        });
    }
    Ok(commit)
}

/// Discards a run: commits everything the agent left (committed, staged, modified or new,
/// ignored files excepted) on top of its branch, keeps that commit at
/// `refs/warden/discarded/<id>`, then removes the worktree and the branch.
///
/// Inspect the kept work with `git show refs/warden/discarded/<id>`; remove it with
/// [`crate::runs::RunStore::discard_run`].
pub fn discard(ws: &Workspace, reason: &str) -> Result<Discarded, SessionError> {
    let repo = ws.repo_git();
    let (tree, parent) = if ws.worktree.is_dir() {
        let snap = snapshot(ws)?;
        (snap.tree, snap.head)
    } else {
        // The worktree is already gone; the branch is all that is left to keep.
        let head = repo.text([
            "rev-parse",
            "--verify",
            "--end-of-options",
            &format!("{}^{{commit}}", ws.branch_ref()),
        ])?;
        (
            repo.text([
                "rev-parse",
                "--verify",
                "--end-of-options",
                &format!("{head}^{{tree}}"),
            ])?,
            head,
        )
    };
    let message = format!(
        "warden: discarded run {id}\n\nReason: {reason}\n\nEverything the agent left in its worktree, kept for review.\n\nWarden-Run: {id}\n",
        id = ws.run_id,
        reason = one_line(reason),
    );
    let commit = commit_tree(ws, &Identity::default(), &tree, &parent, &message)?;
    let kept_ref = ws.run_id.discarded_ref();
    repo.run(["update-ref", "-m", "warden: discard", &kept_ref, &commit])?;
    let worktree_removed = remove_worktree(&repo, &ws.worktree)?;
    delete_ref_if_present(&repo, &ws.branch_ref())?;
    Ok(Discarded {
        kept_ref,
        commit,
        worktree_removed,
    })
}

fn delete_ref_if_present(repo: &Git, name: &str) -> Result<bool, SessionError> {
    let exists = !repo
        .run(["for-each-ref", "--format=%(refname)", name])?
        .is_empty();
    if exists {
        repo.run(["update-ref", "-d", name])?;
    }
    Ok(exists)
}

/// Publishes a run whose gates did not fail: commits exactly the tree the gates checked, with a
/// message summarizing the session; pushes the branch if a remote is configured; opens a pull
/// request if a forge is configured (as a draft when a gate asks for approval). Without a
/// remote the branch stays local and [`Published::next_steps`] says how to review and merge it.
///
/// Refuses (before changing anything) when a gate failed, when the report is for another
/// workspace, when the branch moved since the gates ran, or when there is nothing to publish.
pub fn finalize(
    ws: &Workspace,
    summary: &RunSummary,
    report: &GateReport,
    publish: &PublishConfig,
) -> Result<Published, SessionError> {
    let failed: Vec<&str> = report
        .results
        .iter()
        .filter(|r| r.status == GateStatus::Failed)
        .map(|r| r.gate.name())
        .collect();
    if !failed.is_empty() {
        return Err(SessionError::GatesFailed {
            gates: failed.join(", "),
        });
    }
    let snap = &report.snapshot;
    if snap.base_commit != ws.base_commit {
        return Err(SessionError::ReportMismatch {
            detail: format!(
                "report base {} but workspace base {}",
                snap.base_commit, ws.base_commit
            ),
        });
    }
    if snap.files.is_empty() && snap.head == ws.base_commit {
        return Err(SessionError::NoChanges {
            base: ws.base_commit.clone(),
        });
    }
    let repo = ws.repo_git();
    let branch_ref = ws.branch_ref();
    let current = repo.text([
        "rev-parse",
        "--verify",
        "--end-of-options",
        &format!("{branch_ref}^{{commit}}"),
    ])?;
    if current != snap.head {
        return Err(SessionError::BranchMoved {
            branch: ws.branch.clone(),
            expected: snap.head.clone(),
            found: current,
        });
    }
    if !repo.check(["merge-base", "--is-ancestor", &ws.base_commit, &snap.head])? {
        return Err(SessionError::NotDescendant {
            branch: ws.branch.clone(),
            base: ws.base_commit.clone(),
        });
    }

    let message = commit_message(ws, summary, report);
    let commit = commit_tree(ws, &publish.identity, &snap.tree, &snap.head, &message)?;
    // Compare-and-swap: if anything moved the branch since the check above, fail rather than
    // overwrite it.
    repo.run([
        "update-ref",
        "-m",
        "warden: gates passed",
        &branch_ref,
        &commit,
        &snap.head,
    ])?;

    let worktree_removed = if publish.keep_worktree {
        false
    } else {
        remove_worktree(&repo, &ws.worktree)?
    };
    let needs_approval = report.outcome() == GateStatus::NeedsApproval;
    let base_branch = publish
        .base_branch
        .clone()
        .or_else(|| ws.base_branch.clone());

    let push = match &publish.remote {
        None => PushOutcome::NoRemote,
        Some(remote) => {
            let refspec = format!("{branch_ref}:{branch_ref}");
            match repo.run_full(
                [
                    "push",
                    "--porcelain",
                    "--",
                    remote.as_str(),
                    refspec.as_str(),
                ],
                None,
                Some(publish.push_timeout),
            ) {
                Ok(_) => PushOutcome::Pushed {
                    remote: remote.clone(),
                    remote_ref: branch_ref.clone(),
                },
                Err(e) => PushOutcome::Failed {
                    remote: remote.clone(),
                    error: e.to_string(),
                },
            }
        }
    };

    let pr = match (&publish.forge, &push) {
        (Some(cfg), PushOutcome::Pushed { remote, .. }) => match &base_branch {
            None => PrOutcome::Failed {
                error: "no base branch: the checkout was on a detached HEAD; set the publish base branch".into(),
            },
            Some(base) => open_pr(&repo, cfg, remote, ws, summary, report, base, needs_approval),
        },
        _ => PrOutcome::NotRequested,
    };

    let next_steps = next_steps(ws, &push, &pr, base_branch.as_deref());
    Ok(Published {
        branch: ws.branch.clone(),
        commit,
        push,
        pr,
        needs_approval,
        worktree_removed,
        next_steps,
    })
}

#[allow(clippy::too_many_arguments)]
fn open_pr(
    repo: &Git,
    cfg: &ForgeConfig,
    remote: &str,
    ws: &Workspace,
    summary: &RunSummary,
    report: &GateReport,
    base: &str,
    draft: bool,
) -> PrOutcome {
    let url = match repo.text(["remote", "get-url", "--", remote]) {
        Ok(u) => u,
        Err(e) => {
            return PrOutcome::Failed {
                error: e.to_string(),
            }
        }
    };
    let target = match forge::target(cfg, &url) {
        Ok(t) => t,
        Err(e) => {
            return PrOutcome::Failed {
                error: e.to_string(),
            }
        }
    };
    let var = cfg.token_env();
    let token = match std::env::var(var) {
        Ok(t) if !t.trim().is_empty() => t,
        _ => {
            return PrOutcome::Failed {
                error: forge::ForgeError::MissingToken {
                    var: var.to_string(),
                }
                .to_string(),
            }
        }
    };
    let request = PullRequestRequest {
        title: pr_title(ws, summary),
        head: ws.branch.clone(),
        base: base.to_string(),
        body: pr_body(ws, summary, report),
        draft,
    };
    match forge::open_pull_request(cfg, &target, token.trim(), &request) {
        Ok(pr) => PrOutcome::Opened(pr),
        Err(e) => PrOutcome::Failed {
            error: e.to_string(),
        },
    }
}

fn next_steps(
    ws: &Workspace,
    push: &PushOutcome,
    pr: &PrOutcome,
    base: Option<&str>,
) -> Vec<String> {
    let b = &ws.branch;
    let short = ws.base_commit.get(..12).unwrap_or(&ws.base_commit);
    let mut steps = Vec::new();
    if let PrOutcome::Opened(p) = pr {
        steps.push(format!("review and merge the pull request: {}", p.url));
    }
    steps.push(format!("git log --stat {short}..{b}"));
    steps.push(format!("git diff {short}...{b}"));
    match (push, pr) {
        (_, PrOutcome::Opened(_)) => {}
        (PushOutcome::Pushed { remote, .. }, _) => {
            steps.push(format!(
                "open a pull request from {b} into {} on {remote}",
                base.unwrap_or("your main branch")
            ));
        }
        _ => {
            let target = base.unwrap_or("<your branch>");
            steps.push(format!("git switch {target} && git merge --no-ff {b}"));
        }
    }
    steps.push(format!("warden discard {}", ws.run_id));
    steps
}

fn one_line(s: &str) -> String {
    s.split_whitespace().collect::<Vec<_>>().join(" ")
}

fn clip(s: &str, max: usize) -> String {
    if s.chars().count() <= max {
        s.to_string()
    } else {
        format!(
            "{}…",
            s.chars().take(max.saturating_sub(1)).collect::<String>()
        )
    }
}

fn task_line(summary: &RunSummary) -> Option<String> {
    summary
        .task
        .as_deref()
        .map(|t| one_line(t.lines().next().unwrap_or("")))
        .filter(|t| !t.is_empty())
}

/// The pull request's title: the task's first line, or the run id.
pub fn pr_title(ws: &Workspace, summary: &RunSummary) -> String {
    match task_line(summary) {
        Some(t) => clip(&format!("warden: {t}"), 100),
        None => format!("warden: agent run {}", ws.run_id),
    }
}

fn gate_line(report: &GateReport) -> String {
    report
        .results
        .iter()
        .map(|r| format!("{} {}", r.gate.name(), r.status.label()))
        .collect::<Vec<_>>()
        .join(", ")
}

/// The commit message for published work: the task, the scope, each gate's verdict, how many
/// actions were denied or asked, where the audit trail is, and a `Warden-Run:` trailer.
pub fn commit_message(ws: &Workspace, summary: &RunSummary, report: &GateReport) -> String {
    let mut m = String::new();
    let subject = match task_line(summary) {
        Some(t) => clip(&format!("warden: {t}"), 72),
        None => format!("warden: agent run {}", ws.run_id),
    };
    let _ = writeln!(m, "{subject}\n");
    let _ = writeln!(
        m,
        "Agent run {} on branch {}, from {}.",
        ws.run_id, ws.branch, &ws.base_commit
    );
    if let Some(task) = &summary.task {
        let _ = writeln!(m, "\nTask: {}", task.trim());
    }
    let scope = if summary.scope.is_empty() {
        "not declared".to_string()
    } else {
        summary.scope.join(", ")
    };
    let _ = writeln!(m, "Scope: {scope}");
    let _ = writeln!(m, "Gates: {}", gate_line(report));
    let _ = writeln!(
        m,
        "Changes: {} files, +{} -{}",
        report.snapshot.files.len(),
        report.snapshot.files.iter().map(|f| f.added).sum::<u64>(),
        report.snapshot.files.iter().map(|f| f.removed).sum::<u64>()
    );
    let _ = writeln!(
        m,
        "Actions: {} denied, {} asked",
        summary.denied.len(),
        summary.asked.len()
    );
    if let Some(s) = &summary.audit_session {
        let _ = writeln!(m, "Audit: warden log show {s}");
    }
    let _ = write!(m, "\nWarden-Run: {}\n", ws.run_id);
    m
}

/// Wraps text in a Markdown code span that survives backticks inside it.
fn code(s: &str) -> String {
    let flat = clip(&one_line(s), 300);
    let longest = flat.split(|c| c != '`').map(str::len).max().unwrap_or(0);
    let fence = "`".repeat(longest + 1);
    let pad = if flat.starts_with('`') || flat.ends_with('`') {
        " "
    } else {
        ""
    };
    format!("{fence}{pad}{flat}{pad}{fence}")
}

/// Escapes text for a Markdown table cell.
fn cell(s: &str) -> String {
    one_line(s)
        .replace('\\', "\\\\")
        .replace('|', "\\|")
        .replace('<', "&lt;")
}

/// GitHub refuses bodies over 65,536 characters.
const MAX_BODY_CHARS: usize = 60_000;
const MAX_LISTED: usize = 100;

/// The pull request body: the task, each gate with its evidence, the changed files, the denied
/// and asked actions, and how to see the audit trail.
pub fn pr_body(ws: &Workspace, summary: &RunSummary, report: &GateReport) -> String {
    let mut b = String::new();
    let _ = writeln!(
        b,
        "Opened by **warden** for agent run {}.\n",
        code(ws.run_id.as_str())
    );
    if report.outcome() == GateStatus::NeedsApproval {
        let _ = writeln!(
            b,
            "> **Approval required before merge.** A gate asks for a person's sign-off: {}.\n",
            report
                .blocking()
                .map(|r| r.summary.as_str())
                .collect::<Vec<_>>()
                .join("; ")
        );
    }
    let _ = writeln!(b, "## Task\n");
    match &summary.task {
        Some(t) if !t.trim().is_empty() => {
            for line in t.trim().lines() {
                let _ = writeln!(b, "> {}", line.replace('<', "&lt;"));
            }
            b.push('\n');
        }
        _ => {
            let _ = writeln!(b, "_No task was recorded._\n");
        }
    }
    let scope = if summary.scope.is_empty() {
        "not declared".to_string()
    } else {
        summary
            .scope
            .iter()
            .map(|s| code(s))
            .collect::<Vec<_>>()
            .join(", ")
    };
    let short = ws.base_commit.get(..12).unwrap_or(&ws.base_commit);
    let _ = writeln!(
        b,
        "Scope: {scope}. Branch {} from {}.",
        code(&ws.branch),
        code(short)
    );
    if let Some(agent) = &summary.agent {
        let _ = writeln!(b, "Agent: {}.", code(agent));
    }

    let _ = writeln!(
        b,
        "\n## Gates\n\n| gate | result | summary |\n|---|---|---|"
    );
    for r in &report.results {
        let _ = writeln!(
            b,
            "| {} | {} | {} |",
            r.gate.name(),
            r.status.label(),
            cell(&r.summary)
        );
    }
    for r in report.results.iter().filter(|r| !r.details.is_empty()) {
        let _ = writeln!(
            b,
            "\n<details><summary>{} details</summary>\n\n```text",
            r.gate.name()
        );
        for d in &r.details {
            let _ = writeln!(b, "{}", d.replace("```", "'''"));
        }
        let _ = writeln!(b, "```\n</details>");
    }

    let files = &report.snapshot.files;
    let _ = writeln!(
        b,
        "\n## Changes\n\n{} files, +{} −{}\n",
        files.len(),
        files.iter().map(|f| f.added).sum::<u64>(),
        files.iter().map(|f| f.removed).sum::<u64>()
    );
    for f in files.iter().take(MAX_LISTED) {
        let from = f
            .old_path
            .as_deref()
            .map(|o| format!(" (from {})", code(o)))
            .unwrap_or_default();
        let counts = if f.binary {
            "binary".to_string()
        } else {
            format!("+{} −{}", f.added, f.removed)
        };
        let _ = writeln!(b, "- {}{from}: {counts}", code(&f.path));
    }
    if files.len() > MAX_LISTED {
        let _ = writeln!(b, "- … and {} more", files.len() - MAX_LISTED);
    }

    for (title, notes) in [
        ("Denied actions", &summary.denied),
        ("Asked actions", &summary.asked),
    ] {
        let _ = writeln!(b, "\n## {title} ({})\n", notes.len());
        if notes.is_empty() {
            let _ = writeln!(b, "None.");
        }
        for n in notes.iter().take(MAX_LISTED) {
            let _ = writeln!(b, "- {}: {}", code(&n.action), cell(&n.reason));
        }
        if notes.len() > MAX_LISTED {
            let _ = writeln!(b, "- … and {} more", notes.len() - MAX_LISTED);
        }
    }

    let _ = writeln!(b, "\n## Audit trail\n");
    match &summary.audit_session {
        Some(s) => {
            let _ = writeln!(
                b,
                "Every tool call, decision and result of this run is in the audit log:\n\n```sh\nwarden log show {s}\nwarden log verify\n```"
            );
        }
        None => {
            let _ = writeln!(b, "No audit session was recorded for this run.");
        }
    }
    if b.chars().count() > MAX_BODY_CHARS {
        b = clip(&b, MAX_BODY_CHARS);
        b.push_str("\n\n_(truncated)_\n");
    }
    b
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn code_spans_survive_backticks() {
        assert_eq!(code("rm -rf /"), "`rm -rf /`");
        assert_eq!(code("echo `id`"), "`` echo `id` ``");
        assert_eq!(code("a``b"), "```a``b```");
        assert_eq!(code("line1\nline2"), "`line1 line2`");
    }

    #[test]
    fn cells_cannot_break_the_table() {
        assert_eq!(cell("a|b\nc<d"), "a\\|b c&lt;d");
    }
}
