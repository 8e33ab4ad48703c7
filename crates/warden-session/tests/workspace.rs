//! Creating a run's worktree and reading what the agent changed, against real git.

mod common;

use common::{git, write, Repo};
use warden_session::{
    changed_files, create_workspace, snapshot, ChangeKind, RunId, SessionError, WorkspaceOptions,
};

#[test]
fn workspace_is_cut_from_head_and_leaves_the_checkout_alone() {
    let repo = Repo::new();
    // The user has uncommitted work in progress: it must not move or leak into the run.
    write(repo.root(), "README.md", "# demo\nlocal edit\n");
    let head = repo.head();
    let status_before = repo.status();

    let ws = repo.workspace();
    assert_eq!(ws.base_commit, head);
    assert_eq!(ws.base_branch.as_deref(), Some("main"));
    assert_eq!(ws.branch, format!("warden/{}", ws.run_id));
    assert!(
        ws.worktree
            .starts_with(repo.root().join(".git").canonicalize().unwrap())
            || ws.worktree.starts_with(repo.root().join(".git"))
    );
    assert_eq!(
        std::fs::read_to_string(ws.worktree.join("README.md")).unwrap(),
        "# demo\n"
    );
    assert_eq!(git(&ws.worktree, &["rev-parse", "HEAD"]), head);
    assert_eq!(
        git(&ws.worktree, &["symbolic-ref", "HEAD"]),
        format!("refs/heads/{}", ws.branch)
    );

    // The agent edits its copy; the user's checkout, branch and status do not change.
    write(
        &ws.worktree,
        "src/lib.rs",
        "pub fn answer() -> u32 { 43 }\n",
    );
    assert_eq!(repo.status(), status_before);
    assert_eq!(
        git(repo.root(), &["symbolic-ref", "--short", "HEAD"]),
        "main"
    );
    assert_eq!(repo.head(), head);
    assert_eq!(
        std::fs::read_to_string(repo.root().join("src/lib.rs")).unwrap(),
        "pub fn answer() -> u32 { 42 }\n"
    );
}

#[test]
fn refuses_outside_a_repository_and_without_commits() {
    let plain = tempfile::tempdir().unwrap();
    let id = RunId::generate().unwrap();
    let err = create_workspace(plain.path(), &id, &WorkspaceOptions::default()).unwrap_err();
    assert!(matches!(err, SessionError::NotARepository { .. }), "{err}");
    assert!(err.to_string().contains("not a git repository"), "{err}");

    let empty = tempfile::tempdir().unwrap();
    git(empty.path(), &["init", "-q"]);
    let err = create_workspace(empty.path(), &id, &WorkspaceOptions::default()).unwrap_err();
    assert!(matches!(err, SessionError::NoCommits { .. }), "{err}");
}

#[test]
fn worktree_directory_must_be_outside_the_checkout() {
    let repo = Repo::new();
    let id = RunId::generate().unwrap();
    let inside = WorkspaceOptions {
        worktrees_dir: Some(repo.root().join("tmp/runs")),
        base: None,
    };
    let err = create_workspace(repo.root(), &id, &inside).unwrap_err();
    assert!(
        matches!(err, SessionError::WorktreeInsideCheckout { .. }),
        "{err}"
    );
    assert!(!repo.root().join("tmp").exists());

    let outside = tempfile::tempdir().unwrap();
    let opts = WorkspaceOptions {
        worktrees_dir: Some(outside.path().join("runs")),
        base: None,
    };
    let ws = create_workspace(repo.root(), &id, &opts).unwrap();
    assert_eq!(
        ws.worktree,
        outside
            .path()
            .canonicalize()
            .unwrap()
            .join("runs")
            .join(id.as_str())
    );
    assert!(ws.worktree.join("src/lib.rs").is_file());
}

#[test]
fn changed_files_sees_edits_new_files_deletions_renames_and_agent_commits() {
    let repo = Repo::new();
    write(
        repo.root(),
        "docs/long.txt",
        &(1..=40).map(|i| format!("line {i}\n")).collect::<String>(),
    );
    git(repo.root(), &["add", "-A"]);
    git(repo.root(), &["commit", "-q", "-m", "docs"]);
    let ws = repo.workspace();
    let wt = &ws.worktree;

    // A commit the agent made itself...
    write(wt, "src/committed.rs", "pub fn c() {}\n");
    git(wt, &["add", "src/committed.rs"]);
    git(wt, &["commit", "-q", "-m", "agent commit"]);
    // ...then uncommitted work: an edit, a new untracked file, a deletion, a rename, and an
    // ignored build output that must not count.
    write(
        wt,
        "src/lib.rs",
        "pub fn answer() -> u32 { 42 }\npub fn more() {}\n",
    );
    write(wt, "src/new file.rs", "// new\n");
    std::fs::remove_file(wt.join("README.md")).unwrap();
    std::fs::rename(wt.join("docs/long.txt"), wt.join("docs/moved.txt")).unwrap();
    write(wt, "target/debug/out", "binary junk\n");

    let files = changed_files(&ws).unwrap();
    let summary: Vec<(&str, ChangeKind, u64, u64)> = files
        .iter()
        .map(|f| (f.path.as_str(), f.kind, f.added, f.removed))
        .collect();
    assert_eq!(
        summary,
        [
            ("README.md", ChangeKind::Deleted, 0, 1),
            ("docs/moved.txt", ChangeKind::Renamed, 0, 0),
            ("src/committed.rs", ChangeKind::Added, 1, 0),
            ("src/lib.rs", ChangeKind::Modified, 1, 0),
            ("src/new file.rs", ChangeKind::Added, 1, 0),
        ]
    );
    assert_eq!(files[1].old_path.as_deref(), Some("docs/long.txt"));

    // Staging happened in a private index: the worktree's own index still shows the new file
    // as untracked, as the agent left it.
    let wt_status = git(wt, &["status", "--porcelain"]);
    assert!(
        wt_status.contains("?? \"src/new file.rs\"") || wt_status.contains("?? src/new file.rs"),
        "{wt_status}"
    );

    let snap = snapshot(&ws).unwrap();
    assert_eq!(snap.head, git(wt, &["rev-parse", "HEAD"]));
    assert_eq!(snap.lines_changed(), 4);
}

#[test]
fn a_replaced_dot_git_file_in_the_worktree_is_not_followed() {
    let repo = Repo::new();
    let ws = repo.workspace();
    // The agent swaps its `.git` file for a repository of its own whose config would run a
    // command whenever git consulted it.
    std::fs::remove_file(ws.worktree.join(".git")).unwrap();
    git(&ws.worktree, &["init", "-q"]);
    let marker = ws.worktree.join("pwned");
    git(
        &ws.worktree,
        &[
            "config",
            "core.fsmonitor",
            &format!("touch {}; false", marker.display()),
        ],
    );
    git(
        &ws.worktree,
        &[
            "config",
            "filter.evil.clean",
            &format!("touch {}; cat", marker.display()),
        ],
    );
    write(&ws.worktree, ".gitattributes", "* filter=evil\n");
    write(&ws.worktree, "src/lib.rs", "pub fn answer() -> u32 { 7 }\n");
    // Proof that the trap works when git is allowed to discover the repository from the
    // worktree (as a naive `git -C <worktree> add -A` would):
    let probe = tempfile::tempdir().unwrap();
    git(probe.path(), &["init", "-q"]);
    let probe_marker = probe.path().join("pwned");
    git(
        probe.path(),
        &[
            "config",
            "filter.evil.clean",
            &format!("touch {}; cat", probe_marker.display()),
        ],
    );
    write(probe.path(), ".gitattributes", "* filter=evil\n");
    write(probe.path(), "f", "x\n");
    git(probe.path(), &["add", "-A"]);
    assert!(probe_marker.exists(), "the probe's filter should have run");

    let files = changed_files(&ws).unwrap();
    assert!(!marker.exists(), "git followed the agent's .git");
    let paths: Vec<&str> = files.iter().map(|f| f.path.as_str()).collect();
    assert_eq!(
        paths,
        [".gitattributes", "src/lib.rs"],
        "the nested .git must not be staged"
    );
}

#[test]
fn a_same_size_edit_right_after_creation_is_seen() {
    // git's stat cache cannot tell these edits apart by size and (second-resolution) time;
    // the snapshot must still see every one.
    let repo = Repo::new();
    for i in 0..15 {
        let ws = repo.workspace();
        write(&ws.worktree, "infra/main.tf", "resource \"x\" \"z\" {}\n");
        let files = changed_files(&ws).unwrap();
        assert_eq!(files.len(), 1, "iteration {i}: {files:?}");
    }
}
