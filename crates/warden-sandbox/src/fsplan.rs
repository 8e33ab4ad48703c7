//! From a spec to an ordered list of mount operations and Landlock read rules.
//! Pure planning (only reads the filesystem), so it can be tested without
//! namespaces.

use std::collections::BTreeSet;
use std::path::{Component, Path, PathBuf};

use crate::{SandboxError, SandboxSpec};

/// What to do at one path, in the order the mounts must happen.
#[derive(Debug, Clone, PartialEq, Eq, PartialOrd, Ord)]
pub(crate) enum OpKind {
    /// A fresh tmpfs (private `/tmp`).
    Tmpfs,
    /// Bind read-write.
    Writable,
    /// Bind read-only.
    Readonly,
    /// Mask: an empty mode-000 tmpfs (directory) or file.
    Hidden { dir: bool },
    /// Re-bind read-only after everything else.
    Protected,
}

#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) struct MountOp {
    pub kind: OpKind,
    pub path: PathBuf,
}

/// A Landlock read rule: the whole subtree, or only listing the directory.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) struct ReadRule {
    pub path: PathBuf,
    pub full: bool,
    pub is_dir: bool,
}

#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) struct Plan {
    pub workdir: PathBuf,
    pub ops: Vec<MountOp>,
    /// Canonical writable paths (plus `/tmp` when private).
    pub writable: Vec<PathBuf>,
    pub read_rules: Vec<ReadRule>,
    /// Hidden paths Landlock cannot exclude (they are under a writable path):
    /// only the mount mask holds there.
    pub mount_only_hidden: Vec<PathBuf>,
}

fn depth(p: &Path) -> usize {
    p.components()
        .filter(|c| matches!(c, Component::Normal(_)))
        .count()
}

fn canonical(p: &Path) -> Result<PathBuf, SandboxError> {
    if !p.is_absolute() {
        return Err(SandboxError::InvalidSpec(format!(
            "{} is not an absolute path",
            p.display()
        )));
    }
    std::fs::canonicalize(p).map_err(|source| SandboxError::Path {
        path: p.to_path_buf(),
        source,
    })
}

/// Canonicalize when the path exists; `Ok(None)` when it does not.
fn canonical_if_exists(p: &Path) -> Result<Option<PathBuf>, SandboxError> {
    match canonical(p) {
        Ok(c) => Ok(Some(c)),
        Err(SandboxError::Path { source, .. }) if source.kind() == std::io::ErrorKind::NotFound => {
            Ok(None)
        }
        Err(e) => Err(e),
    }
}

/// The nearest existing ancestor of `p`, canonicalized.
fn existing_ancestor(p: &Path) -> PathBuf {
    let mut cur = p.to_path_buf();
    while !cur.exists() {
        if !cur.pop() {
            return PathBuf::from("/");
        }
    }
    std::fs::canonicalize(&cur).unwrap_or(cur)
}

fn under_any(p: &Path, roots: &[PathBuf]) -> bool {
    roots.iter().any(|r| p.starts_with(r))
}

impl Plan {
    pub(crate) fn build(spec: &SandboxSpec) -> Result<Plan, SandboxError> {
        let workdir = canonical(&spec.workdir)?;
        let mut ops = Vec::new();
        let mut writable = Vec::new();
        if spec.private_tmp {
            ops.push(MountOp {
                kind: OpKind::Tmpfs,
                path: PathBuf::from("/tmp"),
            });
            writable.push(PathBuf::from("/tmp"));
        }
        for w in &spec.writable {
            let c = canonical(w)?;
            if c == Path::new("/") {
                return Err(SandboxError::InvalidSpec(
                    "making / writable defeats the sandbox".into(),
                ));
            }
            writable.push(c.clone());
            ops.push(MountOp {
                kind: OpKind::Writable,
                path: c,
            });
        }
        for r in &spec.readonly {
            ops.push(MountOp {
                kind: OpKind::Readonly,
                path: canonical(r)?,
            });
        }
        let mut hidden = Vec::new();
        for h in &spec.hidden {
            if let Some(c) = canonical_if_exists(h)? {
                if c == Path::new("/") {
                    return Err(SandboxError::InvalidSpec("cannot hide /".into()));
                }
                ops.push(MountOp {
                    kind: OpKind::Hidden { dir: c.is_dir() },
                    path: c.clone(),
                });
                hidden.push(c);
            }
        }
        // Mounts deeper in the tree go later, so an inner read-only or hidden
        // path wins over an outer writable one.
        ops.sort_by(|a, b| {
            depth(&a.path)
                .cmp(&depth(&b.path))
                .then(a.kind.cmp(&b.kind))
        });
        ops.dedup();

        let mut protected = Vec::new();
        for p in &spec.protected {
            match canonical_if_exists(p)? {
                Some(c) => {
                    if !under_any(&c, &hidden) {
                        protected.push(c);
                    }
                }
                None => {
                    let anc = existing_ancestor(p);
                    let inside_tmp = spec.private_tmp && anc.starts_with("/tmp");
                    if under_any(&anc, &writable) && !inside_tmp {
                        return Err(SandboxError::InvalidSpec(format!(
                            "protected path {} does not exist and could be created from inside (its parent {} is writable); create it first",
                            p.display(),
                            anc.display()
                        )));
                    }
                }
            }
        }
        protected.sort_by_key(|p| depth(p));
        protected.dedup();
        ops.extend(protected.into_iter().map(|path| MountOp {
            kind: OpKind::Protected,
            path,
        }));

        let (effective_hidden, mount_only_hidden): (Vec<_>, Vec<_>) = hidden
            .iter()
            .cloned()
            .partition(|h| !under_any(h, &writable));
        let hidden_set: BTreeSet<PathBuf> = effective_hidden.into_iter().collect();
        let mut read_rules = Vec::new();
        expand_read(Path::new("/"), &hidden_set, &mut read_rules);

        Ok(Plan {
            workdir,
            ops,
            writable,
            read_rules,
            mount_only_hidden,
        })
    }
}

/// Landlock can only allow. To allow reading everything except the hidden
/// paths, walk down the ancestors of each hidden path: an ancestor gets only
/// "list" (`ReadDir`), and each of its other entries gets a full read rule.
fn expand_read(dir: &Path, hidden: &BTreeSet<PathBuf>, out: &mut Vec<ReadRule>) {
    if hidden.contains(dir) {
        return;
    }
    let has_hidden_below = hidden.iter().any(|h| h.starts_with(dir));
    if !has_hidden_below {
        out.push(ReadRule {
            path: dir.to_path_buf(),
            full: true,
            is_dir: dir.is_dir(),
        });
        return;
    }
    out.push(ReadRule {
        path: dir.to_path_buf(),
        full: false,
        is_dir: true,
    });
    let Ok(entries) = std::fs::read_dir(dir) else {
        return;
    };
    for e in entries.flatten() {
        let Ok(ft) = e.file_type() else { continue };
        // A rule on a symlink would land on its target, which may be hidden;
        // reads through a symlink are covered by the target's own rule.
        if ft.is_symlink() {
            continue;
        }
        let p = e.path();
        if ft.is_dir() {
            expand_read(&p, hidden, out);
        } else if !hidden.contains(&p) {
            out.push(ReadRule {
                path: p,
                full: true,
                is_dir: false,
            });
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::fs;

    #[test]
    fn order_and_expansion() {
        let t = tempfile::tempdir().unwrap();
        let root = t.path().canonicalize().unwrap();
        let home = root.join("home");
        let proj = home.join("proj");
        fs::create_dir_all(home.join(".ssh")).unwrap();
        fs::create_dir_all(proj.join(".warden")).unwrap();
        fs::write(home.join(".ssh/id_rsa"), "k").unwrap();
        fs::write(home.join(".bashrc"), "x").unwrap();
        fs::write(proj.join(".env"), "S=1").unwrap();
        fs::write(proj.join(".warden/policy.toml"), "").unwrap();
        let mut spec = SandboxSpec::new(&proj);
        spec.private_tmp = false;
        spec.writable = vec![proj.clone()];
        spec.hidden = vec![home.join(".ssh"), proj.join(".env"), home.join(".aws")];
        spec.protected = vec![proj.join(".warden/policy.toml")];
        let plan = Plan::build(&spec).unwrap();
        let kinds: Vec<_> = plan
            .ops
            .iter()
            .map(|o| (o.kind.clone(), o.path.clone()))
            .collect();
        let pos = |k: &OpKind, p: &Path| kinds.iter().position(|(a, b)| a == k && b == p).unwrap();
        assert!(pos(&OpKind::Hidden { dir: true }, &home.join(".ssh")) < kinds.len());
        assert!(
            pos(&OpKind::Writable, &proj) < pos(&OpKind::Hidden { dir: false }, &proj.join(".env"))
        );
        assert_eq!(kinds.last().unwrap().0, OpKind::Protected);
        // ~/.aws does not exist: nothing to hide.
        assert!(!kinds.iter().any(|(_, p)| p.ends_with(".aws")));
        // .env sits under a writable dir: Landlock cannot exclude it.
        assert_eq!(plan.mount_only_hidden, vec![proj.join(".env")]);
        // Landlock: ~/.ssh gets no rule, its siblings do, ancestors only list.
        assert!(!plan
            .read_rules
            .iter()
            .any(|r| r.path.starts_with(home.join(".ssh"))));
        assert!(plan
            .read_rules
            .iter()
            .any(|r| r.path == home.join(".bashrc") && r.full));
        assert!(plan.read_rules.iter().any(|r| r.path == home && !r.full));
        assert!(plan
            .read_rules
            .iter()
            .any(|r| r.path == Path::new("/") && !r.full));
    }

    #[test]
    fn missing_protected_under_writable_is_refused() {
        let t = tempfile::tempdir().unwrap();
        let proj = t.path().canonicalize().unwrap();
        let mut spec = SandboxSpec::new(&proj);
        spec.private_tmp = false;
        spec.writable = vec![proj.clone()];
        spec.protected = vec![proj.join(".claude/settings.json")];
        assert!(matches!(
            Plan::build(&spec),
            Err(SandboxError::InvalidSpec(_))
        ));
    }

    #[test]
    fn relative_and_root_paths_are_refused() {
        let mut spec = SandboxSpec::new("/");
        spec.writable = vec!["relative".into()];
        assert!(Plan::build(&spec).is_err());
        spec.writable = vec!["/".into()];
        assert!(Plan::build(&spec).is_err());
        spec.writable = vec!["/does/not/exist/anywhere".into()];
        assert!(matches!(Plan::build(&spec), Err(SandboxError::Path { .. })));
    }
}
