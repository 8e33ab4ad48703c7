//! Path resolution and path patterns.
//!
//! Every path is resolved to an absolute, lexically clean path with symlinks followed as far as
//! the file system allows, *before* any rule sees it: `./src/../.env` is `.env`, and a symlink
//! `docs/link -> ../.env` is `.env` too. Patterns are made absolute the same way, so matching is
//! one glob test on absolute paths.

use globset::{Glob, GlobBuilder, GlobMatcher};
use std::path::{Component, Path, PathBuf};
use std::sync::OnceLock;

/// Where relative paths and `~` resolve.
#[derive(Debug, Clone)]
pub struct Anchors {
    /// The project root (the directory holding `warden.toml`, or the git top level).
    pub root: PathBuf,
    /// The agent's working directory, for relative paths in actions.
    pub cwd: PathBuf,
    /// The user's home directory, if known.
    pub home: Option<PathBuf>,
}

impl Anchors {
    /// Anchors with the working directory at the root.
    pub fn at_root(root: impl Into<PathBuf>, home: Option<PathBuf>) -> Self {
        let root = resolve_existing(&root.into());
        Anchors {
            cwd: root.clone(),
            root,
            home: home.map(|h| resolve_existing(&h)),
        }
    }

    /// Resolve a path an agent gave: `~` expands, relative joins the working directory, `..`
    /// collapses, symlinks on the existing part are followed.
    pub fn resolve(&self, raw: &Path) -> PathBuf {
        let expanded = expand_home(raw, self.home.as_deref());
        let absolute = if expanded.is_absolute() {
            expanded
        } else {
            self.cwd.join(expanded)
        };
        resolve_existing(&lexical_clean(&absolute))
    }

    /// The path relative to the project root, when inside it.
    pub fn relative_to_root<'a>(&self, path: &'a Path) -> Option<&'a Path> {
        path.strip_prefix(&self.root).ok()
    }
}

fn expand_home(raw: &Path, home: Option<&Path>) -> PathBuf {
    let Some(home) = home else {
        return raw.to_path_buf();
    };
    match raw.strip_prefix("~") {
        Ok(rest) => home.join(rest),
        Err(_) => raw.to_path_buf(),
    }
}

/// Remove `.` and collapse `..` without touching the file system. `..` above `/` stays at `/`.
pub fn lexical_clean(path: &Path) -> PathBuf {
    let mut out = PathBuf::new();
    for component in path.components() {
        match component {
            Component::CurDir => {}
            Component::ParentDir => {
                if !out.pop() {
                    out.push("..");
                }
            }
            other => out.push(other.as_os_str()),
        }
    }
    if out.as_os_str().is_empty() {
        out.push(".");
    }
    out
}

/// Follow symlinks on the longest prefix of `path` that exists, and keep the rest as written.
/// A file the agent is about to create does not exist yet, but its directory may be a link.
pub fn resolve_existing(path: &Path) -> PathBuf {
    if let Ok(real) = std::fs::canonicalize(path) {
        return real;
    }
    let mut missing = Vec::new();
    let mut cursor = path.to_path_buf();
    loop {
        match cursor.file_name() {
            Some(name) => missing.push(name.to_os_string()),
            None => return lexical_clean(path),
        }
        if !cursor.pop() {
            return lexical_clean(path);
        }
        if let Ok(real) = std::fs::canonicalize(&cursor) {
            let mut resolved = real;
            for name in missing.iter().rev() {
                resolved.push(name);
            }
            return lexical_clean(&resolved);
        }
    }
}

/// A gitignore-flavoured path pattern made absolute.
///
/// Claude Code's conventions: `//abs/path` is absolute, `~/x` is in the home directory,
/// `/x`, `./x` and `x` are relative to the project root. A pattern with no `/` (such as
/// `.env*` or `*.pem`) matches that name at any depth. `*` stays within one path segment,
/// `**` crosses segments, and a pattern naming a directory also covers what is inside it.
#[derive(Debug, Clone)]
pub struct PathPattern {
    source: String,
    glob: Glob,
    inner: Option<Glob>,
    // Compiling a glob builds a regex (tens of microseconds); a hook process evaluates one
    // action, so patterns compile on first use and most never do.
    compiled: OnceLock<(GlobMatcher, Option<GlobMatcher>)>,
}

impl PathPattern {
    /// Parse `pattern` against `anchors`. Syntax errors show here; compiling waits for first use.
    pub fn new(pattern: &str, anchors: &Anchors) -> Result<PathPattern, globset::Error> {
        let absolute = absolutize_pattern(pattern, anchors);
        let glob = glob_of(&absolute)?;
        // `Edit(./infra)` or `infra/` should cover the files below it as well.
        let inner = if absolute.ends_with("/**") {
            None
        } else {
            Some(glob_of(&format!("{}/**", absolute.trim_end_matches('/')))?)
        };
        Ok(PathPattern {
            source: pattern.to_string(),
            glob,
            inner,
            compiled: OnceLock::new(),
        })
    }

    /// The pattern as the user wrote it.
    pub fn source(&self) -> &str {
        &self.source
    }

    /// Whether the resolved absolute `path` matches.
    pub fn matches(&self, path: &Path) -> bool {
        let (outer, inner) = self.compiled.get_or_init(|| {
            (
                self.glob.compile_matcher(),
                self.inner.as_ref().map(Glob::compile_matcher),
            )
        });
        outer.is_match(path) || inner.as_ref().is_some_and(|m| m.is_match(path))
    }
}

fn glob_of(pattern: &str) -> Result<Glob, globset::Error> {
    GlobBuilder::new(pattern)
        .literal_separator(true)
        .backslash_escape(true)
        .build()
}

fn absolutize_pattern(pattern: &str, anchors: &Anchors) -> String {
    let escaped_root = globset_escape(&anchors.root.to_string_lossy());
    if let Some(rest) = pattern.strip_prefix("//") {
        return format!("/{rest}");
    }
    if let Some(rest) = pattern.strip_prefix("~/") {
        let home = anchors
            .home
            .as_deref()
            .map(|h| globset_escape(&h.to_string_lossy()));
        return format!(
            "{}/{rest}",
            home.unwrap_or_else(|| "/nonexistent-home".into())
        );
    }
    let body = pattern
        .strip_prefix("./")
        .or_else(|| pattern.strip_prefix('/'))
        .unwrap_or(pattern);
    let body = body.trim_end_matches('/');
    if body.is_empty() || body == "." {
        return format!("{escaped_root}/**");
    }
    let anywhere = !pattern.starts_with("./") && !pattern.starts_with('/') && !body.contains('/');
    if anywhere {
        format!("{escaped_root}/**/{body}")
    } else {
        let clean = lexical_clean(Path::new(body));
        format!("{escaped_root}/{}", clean.to_string_lossy())
    }
}

fn globset_escape(text: &str) -> String {
    let mut out = String::with_capacity(text.len());
    for ch in text.chars() {
        if matches!(ch, '*' | '?' | '[' | ']' | '{' | '}' | '\\') {
            out.push('\\');
        }
        out.push(ch);
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    fn anchors() -> Anchors {
        Anchors {
            root: PathBuf::from("/proj"),
            cwd: PathBuf::from("/proj"),
            home: Some(PathBuf::from("/home/u")),
        }
    }

    #[test]
    fn dot_dot_collapses_before_matching() {
        let a = anchors();
        assert_eq!(
            a.resolve(Path::new("./src/../.env")),
            PathBuf::from("/proj/.env")
        );
        assert_eq!(
            a.resolve(Path::new("~/.ssh/id_rsa")),
            PathBuf::from("/home/u/.ssh/id_rsa")
        );
        assert_eq!(a.resolve(Path::new("/../../etc")), PathBuf::from("/etc"));
    }

    #[test]
    fn pattern_conventions() {
        let a = anchors();
        let src = PathPattern::new("./src/**", &a).unwrap();
        assert!(src.matches(Path::new("/proj/src/a/b.rs")));
        assert!(!src.matches(Path::new("/proj/srcx/a.rs")));
        let env = PathPattern::new(".env*", &a).unwrap();
        assert!(env.matches(Path::new("/proj/.env")));
        assert!(env.matches(Path::new("/proj/deep/dir/.env.local")));
        assert!(!env.matches(Path::new("/elsewhere/.env")));
        let home = PathPattern::new("~/.aws/**", &a).unwrap();
        assert!(home.matches(Path::new("/home/u/.aws/credentials")));
        let abs = PathPattern::new("//etc/passwd", &a).unwrap();
        assert!(abs.matches(Path::new("/etc/passwd")));
        let dir = PathPattern::new("./infra", &a).unwrap();
        assert!(dir.matches(Path::new("/proj/infra/main.tf")));
        let star = PathPattern::new("src/*.rs", &a).unwrap();
        assert!(star.matches(Path::new("/proj/src/a.rs")));
        assert!(!star.matches(Path::new("/proj/src/x/a.rs")));
    }

    #[test]
    fn symlinked_directory_resolves_to_its_target() {
        let dir = tempfile::tempdir().unwrap();
        let root = dir.path().canonicalize().unwrap();
        std::fs::create_dir(root.join("real")).unwrap();
        std::os::unix::fs::symlink(root.join("real"), root.join("link")).unwrap();
        let a = Anchors::at_root(&root, None);
        assert_eq!(
            a.resolve(Path::new("link/new.txt")),
            root.join("real/new.txt")
        );
    }
}
