//! What the agent changed: a snapshot of its worktree as a git tree, the list of changed
//! files against the base commit, and the lines it added.
//!
//! The snapshot is built in a private index (never the worktree's own) and written as a tree
//! object. The gates check that tree and [`crate::finalize`] commits that same tree, so the
//! work that is published is byte for byte the work that was checked, whatever the test
//! command or anything else writes into the worktree afterwards.

use std::collections::BTreeMap;
use std::path::PathBuf;

use serde::{Deserialize, Serialize};

use crate::git::{is_object_id, nul_fields, Git};
use crate::{SessionError, Workspace};

/// How a path changed between the base commit and the snapshot.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "kebab-case")]
pub enum ChangeKind {
    Added,
    Modified,
    Deleted,
    Renamed,
    Copied,
    /// File became a symlink, a submodule, or the reverse.
    TypeChanged,
    /// A status letter this crate does not know; treated as a change to the path.
    Other,
}

/// One changed path. Renames carry the path they came from: both count for scope checks.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct ChangedFile {
    pub path: String,
    pub old_path: Option<String>,
    pub kind: ChangeKind,
    pub added: u64,
    pub removed: u64,
    /// git saw binary content; `added` and `removed` are 0.
    pub binary: bool,
}

impl ChangedFile {
    /// Every path this change touches (the new one and, for renames and copies, the old one).
    pub fn paths(&self) -> impl Iterator<Item = &str> {
        std::iter::once(self.path.as_str()).chain(self.old_path.as_deref())
    }
}

/// The agent's work at one moment, as git objects.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Snapshot {
    /// Where the run's branch pointed when the snapshot was taken (the agent may have
    /// committed on it).
    pub head: String,
    /// The tree of the whole worktree (`.gitignore` respected).
    pub tree: String,
    /// The run's base commit the changes are measured against.
    pub base_commit: String,
    /// Changed paths, sorted by path.
    pub files: Vec<ChangedFile>,
}

impl Snapshot {
    /// Lines added plus lines removed, over all files.
    pub fn lines_changed(&self) -> u64 {
        self.files
            .iter()
            .map(|f| f.added.saturating_add(f.removed))
            .fold(0, u64::saturating_add)
    }
}

/// Takes a snapshot of the workspace: stages everything the agent left (new files included,
/// ignored files not) into a private index, writes it as a tree, and lists the changes against
/// the base commit, including commits the agent made on the branch.
pub fn snapshot(ws: &Workspace) -> Result<Snapshot, SessionError> {
    let repo = ws.repo_git();
    let head = repo.text([
        "rev-parse",
        "--verify",
        "--end-of-options",
        &format!("{}^{{commit}}", ws.branch_ref()),
    ])?;
    let tree = write_worktree_tree(ws, &head)?;
    let files = diff_files(&repo, &ws.base_commit, &tree)?;
    Ok(Snapshot {
        head,
        tree,
        base_commit: ws.base_commit.clone(),
        files,
    })
}

/// The files the agent changed relative to the base commit (see [`snapshot`]).
pub fn changed_files(ws: &Workspace) -> Result<Vec<ChangedFile>, SessionError> {
    Ok(snapshot(ws)?.files)
}

/// Removes the temporary index however the snapshot ends.
struct TempIndex(PathBuf);

impl Drop for TempIndex {
    fn drop(&mut self) {
        let _ = std::fs::remove_file(&self.0);
    }
}

fn write_worktree_tree(ws: &Workspace, head: &str) -> Result<String, SessionError> {
    let dir = ws.git_common_dir.join("warden").join("tmp");
    std::fs::create_dir_all(&dir)
        .map_err(|e| SessionError::io(format!("creating {}", dir.display()), e))?;
    let index = TempIndex(dir.join(format!("index-{}-{}", ws.run_id, std::process::id())));
    let index_str = index.0.to_string_lossy().into_owned();
    // The repository's own configuration (the user's) applies; the worktree's private git
    // directory, which the agent may have been able to write, is not consulted.
    let git = Git::worktree(&ws.git_common_dir, &ws.worktree)
        .with_env("GIT_INDEX_FILE", &index_str)
        .with_env("GIT_OPTIONAL_LOCKS", "0");
    // Starting from the worktree's index saves re-hashing every unchanged file; whatever it
    // claims, the tree written below is what gets checked and committed.
    let copied = copy_index(&ws.worktree_git_dir.join("index"), &index.0);
    let staged = copied
        && git
            .run([
                "-c",
                "core.untrackedCache=false",
                "-c",
                "core.splitIndex=false",
                "add",
                "-A",
            ])
            .is_ok();
    if !staged {
        let _ = std::fs::remove_file(&index.0);
        git.run(["read-tree", head])?;
        git.run([
            "-c",
            "core.untrackedCache=false",
            "-c",
            "core.splitIndex=false",
            "add",
            "-A",
        ])?;
    }
    let tree = git.text(["write-tree"])?;
    if !is_object_id(&tree) {
        return Err(SessionError::GitOutput {
            args: "write-tree".into(),
            detail: format!("not an object id: {tree:?}"),
        });
    }
    Ok(tree)
}

/// Copies an index keeping its modification time. git trusts a cached file stat only when the
/// file is older than the index itself ("racy git"); a copy stamped "now" would make an edit of
/// the same size in the same second look unchanged.
fn copy_index(from: &std::path::Path, to: &std::path::Path) -> bool {
    let Ok(modified) = std::fs::metadata(from).and_then(|m| m.modified()) else {
        return false;
    };
    std::fs::copy(from, to).is_ok()
        && std::fs::OpenOptions::new()
            .write(true)
            .open(to)
            .and_then(|f| f.set_modified(modified))
            .is_ok()
}

const DIFF_TREE: &[&str] = &["diff-tree", "-r", "-M", "--no-ext-diff", "--no-textconv"];

pub(crate) fn diff_files(
    repo: &Git,
    base: &str,
    tree: &str,
) -> Result<Vec<ChangedFile>, SessionError> {
    let mut args: Vec<&str> = DIFF_TREE.to_vec();
    args.extend(["-z", "--raw", "--numstat", base, tree]);
    let out = repo.run(&args)?;
    parse_raw_numstat(&out).map_err(|detail| SessionError::GitOutput {
        args: args.join(" "),
        detail,
    })
}

/// The added lines of one file, and the line number each has in the new file.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub(crate) struct AddedText {
    pub text: String,
    pub line_numbers: Vec<u64>,
}

pub(crate) fn added_lines(
    repo: &Git,
    base: &str,
    tree: &str,
) -> Result<BTreeMap<String, AddedText>, SessionError> {
    let mut args: Vec<&str> = DIFF_TREE.to_vec();
    // `--text` so credentials inside files git calls binary are scanned too.
    args.extend([
        "-p",
        "-U0",
        "--text",
        "--src-prefix=a/",
        "--dst-prefix=b/",
        base,
        tree,
    ]);
    let out = repo.run(&args)?;
    parse_added(&out).map_err(|detail| SessionError::GitOutput {
        args: args.join(" "),
        detail,
    })
}

fn lossy(b: &[u8]) -> String {
    String::from_utf8_lossy(b).into_owned()
}

/// Parses `diff-tree -z --raw --numstat` output: all raw records, then all numstat records,
/// in the same order.
pub(crate) fn parse_raw_numstat(out: &[u8]) -> Result<Vec<ChangedFile>, String> {
    let fields = nul_fields(out);
    let mut i = 0;
    let mut files = Vec::new();
    while i < fields.len() && fields[i].first() == Some(&b':') {
        let meta = std::str::from_utf8(fields[i]).map_err(|_| "raw record is not UTF-8")?;
        let status = meta.rsplit(' ').next().unwrap_or("");
        let letter = status.chars().next().ok_or("empty status")?;
        let kind = match letter {
            'A' => ChangeKind::Added,
            'M' => ChangeKind::Modified,
            'D' => ChangeKind::Deleted,
            'R' => ChangeKind::Renamed,
            'C' => ChangeKind::Copied,
            'T' => ChangeKind::TypeChanged,
            _ => ChangeKind::Other,
        };
        let two_paths = matches!(kind, ChangeKind::Renamed | ChangeKind::Copied);
        let (path, old_path) = if two_paths {
            let old = fields.get(i + 1).ok_or("rename without source path")?;
            let new = fields.get(i + 2).ok_or("rename without target path")?;
            i += 3;
            (lossy(new), Some(lossy(old)))
        } else {
            let p = fields.get(i + 1).ok_or("raw record without path")?;
            i += 2;
            (lossy(p), None)
        };
        files.push(ChangedFile {
            path,
            old_path,
            kind,
            added: 0,
            removed: 0,
            binary: false,
        });
    }
    for file in &mut files {
        let rec = fields
            .get(i)
            .ok_or("fewer numstat records than raw records")?;
        let rec = std::str::from_utf8(rec).map_err(|_| "numstat record is not UTF-8")?;
        let mut parts = rec.splitn(3, '\t');
        let (Some(a), Some(r), Some(rest)) = (parts.next(), parts.next(), parts.next()) else {
            return Err(format!("malformed numstat record {rec:?}"));
        };
        // Renames print an empty path here and the two paths as separate fields.
        i += if rest.is_empty() { 3 } else { 1 };
        if a == "-" && r == "-" {
            file.binary = true;
        } else {
            file.added = a.parse().map_err(|_| format!("bad added count {a:?}"))?;
            file.removed = r.parse().map_err(|_| format!("bad removed count {r:?}"))?;
        }
    }
    if i != fields.len() {
        return Err(format!("{} unexpected trailing fields", fields.len() - i));
    }
    files.sort_by(|a, b| a.path.cmp(&b.path));
    Ok(files)
}

/// Parses a unified diff with zero context, keeping each file's added lines.
///
/// Hunk lengths from the `@@` headers decide where a hunk ends, so an added line that happens
/// to read `+++ b/x` or `diff --git` is content, not a header.
pub(crate) fn parse_added(out: &[u8]) -> Result<BTreeMap<String, AddedText>, String> {
    let mut result: BTreeMap<String, AddedText> = BTreeMap::new();
    let mut current: Option<String> = None;
    let mut lines = out.split(|b| *b == b'\n').peekable();
    while let Some(line) = lines.next() {
        if line.starts_with(b"diff --git ") {
            current = None;
            continue;
        }
        if let Some(rest) = line.strip_prefix(b"+++ ") {
            current = if rest == b"/dev/null" {
                None
            } else {
                let path = unquote_path(rest)?;
                let path = path
                    .strip_prefix(b"b/")
                    .ok_or("target path without b/ prefix")?;
                Some(lossy(path))
            };
            continue;
        }
        if let Some(header) = line.strip_prefix(b"@@ ") {
            let (mut old_left, mut new_left, mut new_line) = parse_hunk_header(header)?;
            while old_left > 0 || new_left > 0 {
                let body = lines.next().ok_or("diff ends inside a hunk")?;
                match body.first() {
                    Some(b'+') => {
                        new_left = new_left
                            .checked_sub(1)
                            .ok_or("hunk longer than its header")?;
                        let path = current.as_ref().ok_or("added line outside a file")?;
                        let entry = result.entry(path.clone()).or_default();
                        entry.text.push_str(&String::from_utf8_lossy(&body[1..]));
                        entry.text.push('\n');
                        entry.line_numbers.push(new_line);
                        new_line += 1;
                    }
                    Some(b'-') => {
                        old_left = old_left
                            .checked_sub(1)
                            .ok_or("hunk longer than its header")?;
                    }
                    Some(b' ') => {
                        old_left = old_left
                            .checked_sub(1)
                            .ok_or("hunk longer than its header")?;
                        new_left = new_left
                            .checked_sub(1)
                            .ok_or("hunk longer than its header")?;
                        new_line += 1;
                    }
                    Some(b'\\') => {}
                    _ => return Err("unexpected line inside a hunk".into()),
                }
            }
            // A "\ No newline at end of file" marker may follow the hunk's last line.
            while lines.peek().is_some_and(|l| l.first() == Some(&b'\\')) {
                lines.next();
            }
        }
    }
    Ok(result)
}

/// `-a[,b] +c[,d] @@...` -> (old count, new count, first new line).
fn parse_hunk_header(header: &[u8]) -> Result<(u64, u64, u64), String> {
    let text = std::str::from_utf8(header).map_err(|_| "hunk header is not UTF-8")?;
    let mut parts = text.split(' ');
    let old = parts
        .next()
        .and_then(|p| p.strip_prefix('-'))
        .ok_or("hunk header without -")?;
    let new = parts
        .next()
        .and_then(|p| p.strip_prefix('+'))
        .ok_or("hunk header without +")?;
    let range = |r: &str| -> Result<(u64, u64), String> {
        let mut it = r.splitn(2, ',');
        let start = it
            .next()
            .unwrap_or("")
            .parse()
            .map_err(|_| format!("bad range {r:?}"))?;
        let len = match it.next() {
            Some(n) => n.parse().map_err(|_| format!("bad range {r:?}"))?,
            None => 1,
        };
        Ok((start, len))
    };
    let (_, old_len) = range(old)?;
    let (new_start, new_len) = range(new)?;
    Ok((old_len, new_len, new_start))
}

/// Undoes git's C-style quoting of a path (`"b/we\"ird\tname"`), or strips the tab git adds
/// after a path containing spaces.
pub(crate) fn unquote_path(raw: &[u8]) -> Result<Vec<u8>, String> {
    let Some(inner) = raw.strip_prefix(b"\"") else {
        let end = raw.iter().position(|b| *b == b'\t').unwrap_or(raw.len());
        return Ok(raw[..end].to_vec());
    };
    let mut out = Vec::with_capacity(inner.len());
    let mut i = 0;
    while i < inner.len() {
        match inner[i] {
            b'"' => return Ok(out),
            b'\\' => {
                let c = *inner.get(i + 1).ok_or("quoted path ends in a backslash")?;
                i += 2;
                let byte = match c {
                    b'a' => 7,
                    b'b' => 8,
                    b't' => b'\t',
                    b'n' => b'\n',
                    b'v' => 11,
                    b'f' => 12,
                    b'r' => b'\r',
                    b'"' => b'"',
                    b'\\' => b'\\',
                    b'0'..=b'3' => {
                        let digits = inner.get(i..i + 2).ok_or("short octal escape")?;
                        let mut v = u32::from(c - b'0');
                        for d in digits {
                            if !(b'0'..=b'7').contains(d) {
                                return Err("bad octal escape".into());
                            }
                            v = v * 8 + u32::from(d - b'0');
                        }
                        i += 2;
                        u8::try_from(v).map_err(|_| "octal escape out of range")?
                    }
                    _ => return Err(format!("unknown escape \\{}", char::from(c))),
                };
                out.push(byte);
            }
            b => {
                out.push(b);
                i += 1;
            }
        }
    }
    Err("quoted path without closing quote".into())
}

#[cfg(test)]
mod tests {
    use super::*;
    use proptest::prelude::*;

    #[test]
    fn raw_and_numstat_with_a_rename_and_a_binary() {
        let out = b":100644 100644 96cc 1c5a R097\0big\0big2\0:100644 120000 3e75 7937 T\0sp ace\0\
:000000 100644 0000 bca7 A\0we\"ird\tname\0:100644 100644 d5d0 4a27 M\0bin\0\
1\t0\t\0big\0big2\0\
1\t1\tsp ace\0\
1\t0\twe\"ird\tname\0\
-\t-\tbin\0";
        let files = parse_raw_numstat(out).unwrap();
        let names: Vec<_> = files.iter().map(|f| f.path.as_str()).collect();
        assert_eq!(names, ["big2", "bin", "sp ace", "we\"ird\tname"]);
        assert_eq!(files[0].old_path.as_deref(), Some("big"));
        assert_eq!(files[0].kind, ChangeKind::Renamed);
        assert_eq!((files[0].added, files[0].removed), (1, 0));
        assert!(files[1].binary);
        assert_eq!(files[2].kind, ChangeKind::TypeChanged);
    }

    #[test]
    fn numstat_count_mismatch_is_an_error() {
        assert!(parse_raw_numstat(b":100644 100644 a b M\0f\0").is_err());
        assert!(parse_raw_numstat(b":100644 100644 a b M\0f\0x\ty\tf\0").is_err());
        assert!(parse_raw_numstat(b":100644 100644 a b M\0f\x001\t1\tf\0extra\0").is_err());
    }

    #[test]
    fn added_lines_ignore_header_lookalikes() {
        let patch = b"diff --git a/x b/x\nindex 1..2 100644\n--- a/x\n+++ b/x\n@@ -1,0 +2,3 @@\n\
++++ b/evil\n+diff --git a/y b/y\n+@@ -1 +1 @@\n\
diff --git \"a/q\\\"t\" \"b/q\\\"t\"\nnew file mode 100644\n--- /dev/null\n+++ \"b/q\\\"t\"\n\
@@ -0,0 +1 @@\n+AKIA\n\\ No newline at end of file\n\
diff --git a/gone b/gone\ndeleted file mode 100644\n--- a/gone\n+++ /dev/null\n@@ -1 +0,0 @@\n-old\n";
        let added = parse_added(patch).unwrap();
        assert_eq!(added.len(), 2, "{added:?}");
        let x = &added["x"];
        assert_eq!(x.text, "+++ b/evil\ndiff --git a/y b/y\n@@ -1 +1 @@\n");
        assert_eq!(x.line_numbers, [2, 3, 4]);
        assert_eq!(added["q\"t"].text, "AKIA\n");
    }

    #[test]
    fn unquotes_git_paths() {
        assert_eq!(unquote_path(b"b/plain").unwrap(), b"b/plain");
        assert_eq!(unquote_path(b"b/sp ace\t").unwrap(), b"b/sp ace");
        assert_eq!(
            unquote_path(b"\"b/a\\tb\\\"c\\\\d\\303\\251\"").unwrap(),
            "b/a\tb\"c\\dé".as_bytes()
        );
        assert!(unquote_path(b"\"b/open").is_err());
        assert!(unquote_path(b"\"b/\\9\"").is_err());
    }

    fn quote(path: &[u8]) -> Vec<u8> {
        // The quoting git applies with core.quotePath=false.
        let needs = path
            .iter()
            .any(|b| matches!(b, b'"' | b'\\' | b'\t' | b'\n') || *b < 0x20);
        if !needs {
            return path.to_vec();
        }
        let mut out = vec![b'"'];
        for &b in path {
            match b {
                b'"' => out.extend(b"\\\""),
                b'\\' => out.extend(b"\\\\"),
                b'\t' => out.extend(b"\\t"),
                b'\n' => out.extend(b"\\n"),
                b if b < 0x20 => out.extend(format!("\\{b:03o}").bytes()),
                b => out.push(b),
            }
        }
        out.push(b'"');
        out
    }

    proptest! {
        #[test]
        fn unquote_inverts_quote(name in proptest::collection::vec(1u8..=255, 1..40)) {
            let mut path = b"b/".to_vec();
            path.extend(&name);
            let quoted = quote(&path);
            prop_assert_eq!(unquote_path(&quoted).unwrap(), path);
        }

        #[test]
        fn added_lines_round_trip(lines in proptest::collection::vec("[ -~]{0,30}", 1..20), start in 1u64..500) {
            let mut patch = format!("diff --git a/f b/f\n--- a/f\n+++ b/f\n@@ -{},0 +{},{} @@\n", start - 1, start, lines.len());
            for l in &lines {
                patch.push('+');
                patch.push_str(l);
                patch.push('\n');
            }
            let added = parse_added(patch.as_bytes()).unwrap();
            let f = &added["f"];
            prop_assert_eq!(f.text.clone(), lines.iter().map(|l| format!("{l}\n")).collect::<String>());
            let want: Vec<u64> = (start..start + lines.len() as u64).collect();
            prop_assert_eq!(f.line_numbers.clone(), want);
        }

        #[test]
        fn parsers_never_panic(bytes in proptest::collection::vec(any::<u8>(), 0..300)) {
            let _ = parse_added(&bytes);
            let _ = parse_raw_numstat(&bytes);
            let _ = unquote_path(&bytes);
        }
    }
}
