//! Path resolution and path patterns.
//!
//! Every path is resolved to an absolute, lexically clean path with symlinks followed as far as
//! the file system allows, *before* any rule sees it: `./src/../.env` is `.env`, and a symlink
//! `docs/link -> ../.env` is `.env` too. Patterns are made absolute the same way, so matching is
//! one glob test on absolute paths.

use globset::{Glob, GlobBuilder, GlobMatcher};
use std::borrow::Cow;
use std::path::{Component, Path, PathBuf};
use std::sync::{Arc, OnceLock};

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
        // `~/x` is below the home directory, a relative path below the working directory.
        let (base, rest) = match (self.home.as_deref(), raw.strip_prefix("~")) {
            (Some(home), Ok(rest)) => (Some(home), rest),
            _ if raw.is_absolute() => (None, raw),
            _ => (Some(self.cwd.as_path()), raw),
        };
        // Most paths are plain names below an absolute base: written once into one buffer,
        // which is what the steps below would make of them.
        if let Some(plain) = plain_joined(base, rest) {
            return if free_of_links(&plain) {
                plain
            } else {
                resolve_by_walk(&plain)
            };
        }
        let absolute = match base {
            Some(base) => base.join(rest),
            None => rest.to_path_buf(),
        };
        resolve_existing(&lexical_clean(&absolute))
    }

    /// The path relative to the project root, when inside it.
    pub fn relative_to_root<'a>(&self, path: &'a Path) -> Option<&'a Path> {
        path.strip_prefix(&self.root).ok()
    }
}

/// `base` joined with `rest` as `/` and plain names, when `base` (or `rest`, without a base)
/// is absolute and neither holds a `.` or `..` component: what `lexical_clean` of the join
/// gives then, built in one buffer.
fn plain_joined(base: Option<&Path>, rest: &Path) -> Option<PathBuf> {
    if !base.unwrap_or(rest).is_absolute() || (base.is_some() && rest.has_root()) {
        return None;
    }
    let len = base.map_or(0, |b| b.as_os_str().len()) + rest.as_os_str().len() + 2;
    let mut out = PathBuf::with_capacity(len);
    out.push("/");
    for part in base.into_iter().chain(std::iter::once(rest)) {
        for component in part.components() {
            match component {
                Component::RootDir => {}
                Component::Normal(name) => out.push(name),
                Component::CurDir | Component::ParentDir | Component::Prefix(_) => return None,
            }
        }
    }
    Some(out)
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
///
/// An absolute path is walked one component at a time, the way the kernel does: each existing
/// component is checked with one `readlink` (which also tells a link from a file or directory),
/// a link is replaced by its target, resolved in turn (at most 40 links, as the kernel), and
/// from the first component that does not exist the rest is appended as written. So a link
/// whose target does not exist yet (a file to be created through it) resolves to that target.
/// This costs one system call per existing component instead of `realpath`'s several calls
/// for each prefix tried.
///
/// Most paths hold no link at all: on Linux one `openat2` call that refuses to follow links
/// says so first (see [`free_of_links`]), and only a path that has one is walked.
pub fn resolve_existing(path: &Path) -> PathBuf {
    if !path.is_absolute() {
        return resolve_by_canonicalize(path);
    }
    if let Some(plain) = plain_absolute(path) {
        if free_of_links(&plain) {
            return plain;
        }
    }
    resolve_by_walk(path)
}

/// `path` as `/` followed by its plain names, when it has no `.` or `..` component (which the
/// walk would have to interpret); what the walk returns for it when it holds no link.
fn plain_absolute(path: &Path) -> Option<PathBuf> {
    let mut out = PathBuf::from("/");
    for component in path.components() {
        match component {
            Component::RootDir => {}
            Component::Normal(name) => out.push(name),
            Component::CurDir | Component::ParentDir | Component::Prefix(_) => return None,
        }
    }
    Some(out)
}

/// True when the kernel, resolving the absolute, plain `path`, meets no symbolic link on the
/// part of it that exists: then [`resolve_by_walk`] would return `path` itself.
///
/// One `openat2(O_PATH, RESOLVE_NO_SYMLINKS)` (and a `close` when the path exists): the
/// kernel walks the components in order and fails with `ELOOP` at the first link, the last
/// component included. Success means no component is a link; `ENOENT` or `ENOTDIR` mean a
/// component is missing or not a directory, and no link came before it (nothing after it
/// can be followed). Any other answer (a link, a kernel or sandbox without `openat2`, a
/// directory that cannot be searched) says nothing, and the path is walked.
#[cfg(target_os = "linux")]
fn free_of_links(path: &Path) -> bool {
    use rustix::fs::{openat2, Mode, OFlags, ResolveFlags, CWD};
    use rustix::io::Errno;
    match openat2(
        CWD,
        path,
        OFlags::PATH | OFlags::CLOEXEC,
        Mode::empty(),
        ResolveFlags::NO_SYMLINKS,
    ) {
        Ok(_fd) => true,
        Err(e) => e == Errno::NOENT || e == Errno::NOTDIR,
    }
}

#[cfg(not(target_os = "linux"))]
fn free_of_links(_path: &Path) -> bool {
    false
}

/// The walk itself, one `readlink` per existing component.
fn resolve_by_walk(path: &Path) -> PathBuf {
    const MAX_LINKS: usize = 40;
    // Components still to walk, the next one last.
    let mut todo: Vec<std::ffi::OsString> = Vec::new();
    push_components(&mut todo, path);
    let mut resolved = PathBuf::from("/");
    // How many trailing components of `resolved` do not exist (so nothing below them does).
    let mut missing = 0usize;
    let mut links = 0usize;
    while let Some(name) = todo.pop() {
        if name == ".." {
            resolved.pop();
            missing = missing.saturating_sub(1);
            continue;
        }
        resolved.push(&name);
        if missing > 0 {
            missing += 1;
            continue;
        }
        match std::fs::read_link(&resolved) {
            Ok(target) => {
                links += 1;
                if links > MAX_LINKS {
                    // A loop: the kernel gives up too (ELOOP). Keep the rest as written.
                    missing = 1;
                    continue;
                }
                resolved.pop();
                if target.is_absolute() {
                    resolved = PathBuf::from("/");
                }
                push_components(&mut todo, &target);
            }
            // Exists and is not a link.
            Err(e) if e.kind() == std::io::ErrorKind::InvalidInput => {}
            // Missing, not a directory, not searchable...: nothing below it can be followed.
            Err(_) => missing = 1,
        }
    }
    resolved
}

/// Push the normal and `..` components of `path` onto `todo` so that they pop in order.
fn push_components(todo: &mut Vec<std::ffi::OsString>, path: &Path) {
    let start = todo.len();
    for component in path.components() {
        match component {
            Component::Normal(name) => todo.push(name.to_os_string()),
            Component::ParentDir => todo.push("..".into()),
            Component::RootDir | Component::Prefix(_) | Component::CurDir => {}
        }
    }
    todo[start..].reverse();
}

/// The same with `canonicalize` (`realpath`) of the longest prefix that resolves. Used for a
/// relative path (only when the root or working directory given was relative: it resolves
/// against the process's working directory), and in tests as the reference for the walk.
fn resolve_by_canonicalize(path: &Path) -> PathBuf {
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
///
/// A hook process decides one action, and most of a policy's patterns are never consulted
/// for it (a shell command consults no `Read(...)` rule): so a pattern is only checked when
/// it is made (a malformed one is refused then), and made absolute, split into the literals
/// of its prefilter and compiled to a regex on first use.
#[derive(Debug, Clone)]
pub struct PathPattern {
    source: Cow<'static, str>,
    base: Arc<PatternBase>,
    // Boxed: most patterns never need their parts, and a policy's rules stay small.
    parts: OnceLock<Box<Parts>>,
}

/// What patterns are made absolute against: the root and the home directory, escaped for
/// `globset`. One per policy, shared by all of its patterns.
#[derive(Debug)]
pub struct PatternBase {
    root: String,
    home: Option<String>,
}

impl PatternBase {
    /// The base of patterns resolved against `anchors`.
    pub fn of(anchors: &Anchors) -> PatternBase {
        PatternBase {
            root: globset_escape(&anchors.root.to_string_lossy()),
            home: anchors
                .home
                .as_deref()
                .map(|h| globset_escape(&h.to_string_lossy())),
        }
    }
}

/// A pattern made absolute, with its prefilter and (once run) its matchers.
#[derive(Debug, Clone)]
struct Parts {
    // The glob text, anchored at the root (and the same text with `/**` added for a pattern
    // that may name a directory).
    glob: String,
    inner: Option<String>,
    // Literal parts every path matching `glob` (`inner`) has: checked before the glob, so
    // that most patterns never run (or even compile) a regex for most paths.
    glob_needs: Literals,
    inner_needs: Option<Literals>,
    // Compiling a glob builds a regex (tens of microseconds): only for a path that passes the
    // prefilter.
    compiled: OnceLock<(GlobMatcher, Option<GlobMatcher>)>,
}

impl Parts {
    fn of(source: &str, base: &PatternBase) -> Parts {
        let absolute = absolutize_pattern(source, base);
        // `Edit(./infra)` or `infra/` should cover the files below it as well.
        let inner =
            (!absolute.ends_with("/**")).then(|| format!("{}/**", absolute.trim_end_matches('/')));
        Parts {
            glob_needs: Literals::of(&absolute),
            inner_needs: inner.as_deref().map(Literals::of),
            glob: absolute,
            inner,
            compiled: OnceLock::new(),
        }
    }
}

impl PathPattern {
    /// Parse `pattern` against `anchors`. Syntax errors show here; the rest waits for first use.
    pub fn new(pattern: &str, anchors: &Anchors) -> Result<PathPattern, globset::Error> {
        PathPattern::with_base(
            Cow::Owned(pattern.to_string()),
            &Arc::new(PatternBase::of(anchors)),
        )
    }

    /// Parse `pattern` against a base shared with other patterns.
    pub fn with_base(
        pattern: Cow<'static, str>,
        base: &Arc<PatternBase>,
    ) -> Result<PathPattern, globset::Error> {
        let pattern = PathPattern {
            source: pattern,
            base: Arc::clone(base),
            parts: OnceLock::new(),
        };
        // `globset` can only reject classes, alternations and escapes. The absolute glob holds
        // the pattern's own text and the base, escaped (always valid): a pattern without them
        // is valid as it stands, and making it absolute waits for first use.
        if has_classes_alternations_or_escapes(&pattern.source) {
            let parts = pattern.parts();
            glob_of(&parts.glob)?;
            if let Some(inner) = &parts.inner {
                glob_of(inner)?;
            }
        }
        Ok(pattern)
    }

    /// The pattern as the user wrote it.
    pub fn source(&self) -> &str {
        &self.source
    }

    fn parts(&self) -> &Parts {
        self.parts
            .get_or_init(|| Box::new(Parts::of(&self.source, &self.base)))
    }

    /// Whether the resolved absolute `path` matches.
    pub fn matches(&self, path: &Path) -> bool {
        let parts = self.parts();
        let outer_may = parts.glob_needs.may_match(path);
        let inner_may = parts
            .inner_needs
            .as_ref()
            .is_some_and(|needs| needs.may_match(path));
        if !outer_may && !inner_may {
            return false;
        }
        let (outer, inner) = parts.compiled.get_or_init(|| {
            (
                compile_valid(&parts.glob),
                parts.inner.as_deref().map(compile_valid),
            )
        });
        (outer_may && outer.is_match(path))
            || (inner_may && inner.as_ref().is_some_and(|m| m.is_match(path)))
    }
}

/// Whether `glob` has classes, alternations or escapes: the only parts `globset` can find
/// malformed, and the only ones whose text between `*` and `?` is not literal.
pub(crate) fn has_classes_alternations_or_escapes(glob: &str) -> bool {
    glob.contains(['[', ']', '{', '}', '\\'])
}

/// The matcher of a glob [`PathPattern::new`] has already accepted.
fn compile_valid(glob: &str) -> GlobMatcher {
    // Unreachable failure: `new` parsed every glob that could fail. Were it reached, the hook
    // turns the panic into a deny.
    glob_of(glob)
        .expect("a path pattern's glob was checked when the policy loaded")
        .compile_matcher()
}

/// Literal text that every path a glob matches must have: a necessary condition, cheap to
/// test, so a path that lacks it cannot match and the glob need not run.
///
/// Derived from how `globset` (with `literal_separator`) turns a glob into a regex anchored
/// at both ends, in which a literal character stands for itself:
/// - `prefix`: the characters before the first special one (`*?[]{}\`) start every match.
///   A `/` there that `/**` or `/**/` absorbs comes back as the `/` those always begin with.
/// - Only for a glob without classes, alternations or escapes (`[]{}\`), where the text
///   between `*` and `?` is literal: `suffix`, the characters after the last `*` or `?`, end
///   every match (unless the glob starts with `*`: a leading `**/` makes its `/` optional);
///   and each run of literal text in between, `/` trimmed from its ends (a `/**/` may
///   absorb them), occurs in every match.
///
/// Anything the rules above do not cover adds no condition, which only costs speed.
/// `tests::literals_never_reject_a_match` checks the rules against `globset` itself.
#[derive(Debug, Clone, Default)]
struct Literals {
    prefix: String,
    suffix: String,
    inside: Vec<String>,
}

impl Literals {
    fn of(glob: &str) -> Literals {
        const SPECIAL: &[char] = &['*', '?', '[', ']', '{', '}', '\\'];
        let prefix_end = glob.find(SPECIAL).unwrap_or(glob.len());
        let mut out = Literals {
            prefix: glob[..prefix_end].to_string(),
            ..Literals::default()
        };
        if prefix_end == glob.len() || has_classes_alternations_or_escapes(glob) {
            return out;
        }
        let runs: Vec<&str> = glob.split(['*', '?']).collect();
        if !glob.starts_with('*') {
            if let Some(last) = runs.last() {
                out.suffix = last.to_string();
            }
        }
        if runs.len() > 2 {
            for run in &runs[1..runs.len() - 1] {
                let run = run.trim_matches('/');
                if !run.is_empty() {
                    out.inside.push(run.to_string());
                }
            }
        }
        out
    }

    /// False when `path` cannot match the glob these literals come from.
    #[cfg(unix)]
    fn may_match(&self, path: &Path) -> bool {
        use std::os::unix::ffi::OsStrExt;
        let bytes = path.as_os_str().as_bytes();
        let (prefix, suffix) = (self.prefix.as_bytes(), self.suffix.as_bytes());
        bytes.len() >= prefix.len().max(suffix.len())
            && same_bytes(&bytes[..prefix.len()], prefix)
            && same_bytes(&bytes[bytes.len() - suffix.len()..], suffix)
            && self
                .inside
                .iter()
                .all(|run| contains(bytes, run.as_bytes()))
    }

    #[cfg(not(unix))]
    fn may_match(&self, _path: &Path) -> bool {
        true
    }
}

/// Whether `needle` occurs in `haystack`; compares whole windows only where the first byte
/// matches.
#[cfg(unix)]
fn contains(haystack: &[u8], needle: &[u8]) -> bool {
    let Some((&first, rest)) = needle.split_first() else {
        return true;
    };
    let Some(last_start) = haystack.len().checked_sub(needle.len()) else {
        return false;
    };
    (0..=last_start)
        .any(|i| haystack[i] == first && same_bytes(&haystack[i + 1..i + needle.len()], rest))
}

/// `a == b`, last byte first. The literals compared here are short and share their start
/// with the path (the project root) more often than their end: a loop that stops at the
/// first difference costs less than the `memcmp` call a slice comparison makes.
#[cfg(unix)]
fn same_bytes(a: &[u8], b: &[u8]) -> bool {
    a.len() == b.len() && a.iter().rev().zip(b.iter().rev()).all(|(x, y)| x == y)
}

fn glob_of(pattern: &str) -> Result<Glob, globset::Error> {
    GlobBuilder::new(pattern)
        .literal_separator(true)
        .backslash_escape(true)
        .build()
}

fn absolutize_pattern(pattern: &str, base: &PatternBase) -> String {
    if let Some(rest) = pattern.strip_prefix("//") {
        return format!("/{rest}");
    }
    if let Some(rest) = pattern.strip_prefix("~/") {
        return format!(
            "{}/{rest}",
            base.home.as_deref().unwrap_or("/nonexistent-home")
        );
    }
    let escaped_root = &base.root;
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

pub(crate) fn globset_escape(text: &str) -> String {
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

    /// A tree with links of every kind, for comparing the walk with `realpath`.
    fn link_tree() -> (tempfile::TempDir, PathBuf) {
        let dir = tempfile::tempdir().unwrap();
        let root = dir.path().canonicalize().unwrap();
        std::fs::create_dir_all(root.join("a/b")).unwrap();
        std::fs::write(root.join("a/f"), "x").unwrap();
        std::fs::write(root.join(".env"), "X=1").unwrap();
        let link = |target: &Path, name: &str| std::os::unix::fs::symlink(target, root.join(name));
        link(Path::new("a"), "rel").unwrap();
        link(&root.join("a/b"), "abs").unwrap();
        link(Path::new("a/f"), "file").unwrap();
        link(Path::new("rel/b"), "chain").unwrap();
        link(Path::new("a/b/../../.env"), "up").unwrap();
        link(Path::new("../../a"), "a/b/back").unwrap();
        link(Path::new("/"), "slash").unwrap();
        (dir, root)
    }

    proptest::proptest! {
        #![proptest_config(proptest::prelude::ProptestConfig::with_cases(512))]

        /// Without dangling links or loops, the walk finds what `realpath` finds, and so does
        /// `resolve_existing` (which skips the walk for a path free of links).
        #[test]
        fn walk_resolves_like_realpath(
            names in proptest::collection::vec(proptest::sample::select(vec![
                "a", "b", "f", "rel", "abs", "file", "chain", "up", "back", "slash", ".env",
                "missing", "x.txt", ".", "..",
            ]), 0..7)
        ) {
            let (_dir, root) = link_tree();
            let mut path = root.clone();
            for n in &names {
                path.push(n);
            }
            let path = lexical_clean(&path);
            let reference = resolve_by_canonicalize(&path);
            proptest::prop_assert_eq!(&resolve_by_walk(&path), &reference, "{:?}", path);
            proptest::prop_assert_eq!(&resolve_existing(&path), &reference, "{:?}", path);
        }
    }

    proptest::proptest! {
        #![proptest_config(proptest::prelude::ProptestConfig::with_cases(512))]

        /// Resolving a path an agent gave is expanding `~`, joining the working directory,
        /// cleaning and resolving, whichever way the path is written.
        #[test]
        fn resolve_is_expand_join_clean_resolve(
            lead in proptest::sample::select(vec!["", "~", "~/", "/", "./", "../", "~x/"]),
            names in proptest::collection::vec(proptest::sample::select(vec![
                "a", "b", "f", "rel", "abs", "file", "chain", "up", "back", ".env",
                "missing", ".", "..", "", "~",
            ]), 0..6),
            cwd in proptest::sample::select(vec!["", "a", "a/b", "rel", "missing", "a/../rel"]),
            with_home in proptest::bool::ANY,
        ) {
            let (_dir, root) = link_tree();
            let anchors = Anchors {
                cwd: root.join(cwd),
                home: with_home.then(|| root.join("a")),
                root: root.clone(),
            };
            let raw = PathBuf::from(format!("{lead}{}", names.join("/")));
            let expanded = match (&anchors.home, raw.strip_prefix("~")) {
                (Some(home), Ok(rest)) => home.join(rest),
                _ => raw.clone(),
            };
            let absolute = if expanded.is_absolute() {
                expanded
            } else {
                anchors.cwd.join(expanded)
            };
            let reference = resolve_existing(&lexical_clean(&absolute));
            proptest::prop_assert_eq!(anchors.resolve(&raw), reference, "{:?}", raw);
        }
    }

    /// The one-call check says "no link" exactly where the walk finds none to follow.
    #[test]
    fn free_of_links_only_where_no_link_is_met() {
        let (_dir, root) = link_tree();
        std::os::unix::fs::symlink(root.join("nowhere"), root.join("dangling")).unwrap();
        let openat2_works = free_of_links(Path::new("/"));
        for clean in [
            "",
            "a",
            "a/b",
            "a/f",
            "a/f/below",
            ".env",
            "missing",
            "missing/x/y",
        ] {
            let path = root.join(clean);
            assert_eq!(resolve_by_walk(&path), path, "{clean}");
            // Where `openat2` is missing (not Linux, an old kernel, a sandbox that filters
            // it) the check says nothing and every path is walked.
            if openat2_works {
                assert!(free_of_links(&path), "{clean}");
            }
        }
        for linked in [
            "rel",
            "rel/b",
            "rel/missing",
            "file",
            "chain/x",
            "a/b/back",
            "a/b/back/f",
            "slash",
            "dangling",
            "dangling/x",
        ] {
            let path = root.join(linked);
            assert!(!free_of_links(&path), "{linked}");
            assert_ne!(resolve_existing(&path), path, "{linked}");
        }
        // `.` and `..` are left to the walk.
        assert_eq!(plain_absolute(Path::new("/a/../b")), None);
        assert_eq!(
            plain_absolute(Path::new("/a//b/")),
            Some(PathBuf::from("/a/b"))
        );
    }

    #[test]
    fn links_resolve_to_their_targets() {
        let (_dir, root) = link_tree();
        assert_eq!(resolve_existing(&root.join("up")), root.join(".env"));
        assert_eq!(
            resolve_existing(&root.join("chain/new")),
            root.join("a/b/new")
        );
        assert_eq!(resolve_existing(&root.join("a/b/back/f")), root.join("a/f"));
        assert_eq!(resolve_existing(&root.join("slash")), PathBuf::from("/"));
        assert_eq!(
            resolve_existing(&root.join("missing/deeper/x")),
            root.join("missing/deeper/x")
        );
    }

    #[test]
    fn a_link_to_a_file_not_yet_created_resolves_to_where_it_points() {
        let (_dir, root) = link_tree();
        std::fs::create_dir(root.join(".warden")).unwrap();
        std::os::unix::fs::symlink(root.join(".warden/policy.toml"), root.join("innocent"))
            .unwrap();
        // Writing `innocent` creates `.warden/policy.toml`.
        assert_eq!(
            resolve_existing(&root.join("innocent")),
            root.join(".warden/policy.toml")
        );
        // A link through a missing directory: the rest as written, `..` collapsed.
        std::os::unix::fs::symlink("nowhere/../a/f", root.join("odd")).unwrap();
        let once = resolve_existing(&root.join("odd"));
        assert_eq!(resolve_existing(&once), once);
    }

    #[test]
    fn a_link_loop_stops() {
        let (_dir, root) = link_tree();
        std::os::unix::fs::symlink("loop2", root.join("loop1")).unwrap();
        std::os::unix::fs::symlink("loop1", root.join("loop2")).unwrap();
        let got = resolve_existing(&root.join("loop1/x"));
        assert!(got.starts_with(&root), "{got:?}");
    }

    fn glob(pattern: &str) -> Option<GlobMatcher> {
        glob_of(pattern).ok().map(|g| g.compile_matcher())
    }

    /// Builds a path the glob matches by filling its wildcards from `fill`.
    fn instantiate(glob: &str, fill: &[String]) -> String {
        let mut fills = fill.iter().cycle();
        let mut out = String::new();
        let mut chars = glob.chars().peekable();
        while let Some(c) = chars.next() {
            match c {
                '*' if chars.peek() == Some(&'*') => {
                    chars.next();
                    out.push_str(fills.next().unwrap());
                }
                '*' => out.push_str(&fills.next().unwrap().replace('/', "")),
                '?' => out.push(fills.next().unwrap().chars().next().unwrap_or('q')),
                '\\' => {
                    if let Some(n) = chars.next() {
                        out.push(n);
                    }
                }
                '[' => {
                    // `[ab]` -> `a`
                    let class: String = chars.by_ref().take_while(|&c| c != ']').collect();
                    out.push(class.chars().find(|c| *c != '!').unwrap_or('a'));
                }
                '{' => {
                    let alt: String = chars.by_ref().take_while(|&c| c != '}').collect();
                    out.push_str(alt.split(',').next().unwrap_or(""));
                }
                c => out.push(c),
            }
        }
        out
    }

    proptest::proptest! {
        #![proptest_config(proptest::prelude::ProptestConfig::with_cases(4096))]

        /// The literal prefilter never rejects a path the glob matches: globs in the shapes
        /// `absolutize_pattern` produces and others, paths built to match them and mutated.
        #[test]
        fn literals_never_reject_a_match(
            lead in proptest::sample::select(vec!["", "/", "/proj/", "/home/u/", "**/", "*", "/tmp\\[x\\]/"]),
            segs in proptest::collection::vec(proptest::sample::select(vec![
                "src", "a", ".env", "*", "**", "*.pem", "id_rsa*", "?", "a?c", ".env.*", "x*y",
                "[ab]", "{a,b}", "\\*", "**.rs", "service-account*.json", "a**b", "/", "",
            ]), 0..5),
            tail in proptest::sample::select(vec!["", "/**", "/", "/*"]),
            fill in proptest::collection::vec("[a-z./]{0,6}", 1..6),
            mutate in proptest::option::of((0usize..40, "[a-z./\n]{0,2}")),
        ) {
            let pattern = format!("{lead}{}{tail}", segs.join("/"));
            let Some(m) = glob(&pattern) else { return Ok(()); };
            let needs = Literals::of(&pattern);
            let mut path = instantiate(&pattern, &fill);
            if let Some((at, text)) = mutate {
                let at = at.min(path.len());
                if path.is_char_boundary(at) {
                    path.insert_str(at, &text);
                }
            }
            for p in [path.clone(), format!("/{path}"), format!("{path}/x")] {
                if m.is_match(&p) {
                    proptest::prop_assert!(
                        needs.may_match(Path::new(&p)),
                        "{:?} matches {:?} but {:?} rejects it",
                        p,
                        pattern,
                        needs
                    );
                }
            }
        }
    }

    proptest::proptest! {
        #![proptest_config(proptest::prelude::ProptestConfig::with_cases(2048))]

        /// A pattern is refused when the policy loads exactly when `globset` refuses its glob,
        /// although only globs that could be malformed are parsed then.
        #[test]
        fn refused_at_load_exactly_when_globset_refuses(
            pattern in "[a-z./*?\\[\\]{},!\\\\-]{1,12}",
        ) {
            let a = Anchors::at_root(Path::new("/proj"), Some(PathBuf::from("/home/u")));
            let absolute = absolutize_pattern(&pattern, &PatternBase::of(&a));
            let inner = format!("{}/**", absolute.trim_end_matches('/'));
            let globset_refuses = glob_of(&absolute).is_err()
                || (!absolute.ends_with("/**") && glob_of(&inner).is_err());
            let refused = PathPattern::new(&pattern, &a);
            proptest::prop_assert_eq!(refused.is_err(), globset_refuses, "{:?}", pattern);
            if let Ok(p) = refused {
                // Matching compiles the globs: never a panic for an accepted pattern.
                p.matches(Path::new("/proj/a/b.txt"));
                p.matches(Path::new("/proj/src/x"));
            }
        }
    }

    #[test]
    fn literals_reject_what_they_should() {
        let env = Literals::of("/proj/**/.env/**");
        assert_eq!(env.prefix, "/proj/");
        assert_eq!(env.inside, [".env"]);
        assert!(!env.may_match(Path::new("/proj/src/main.rs")));
        let pem = Literals::of("/proj/**/*.pem");
        assert_eq!(pem.suffix, ".pem");
        assert!(!pem.may_match(Path::new("/proj/src/main.rs")));
        assert!(pem.may_match(Path::new("/proj/k.pem")));
        // A leading `**/` makes its `/` optional: no suffix condition.
        assert_eq!(Literals::of("**/.env").suffix, "");
        // Classes, alternations and escapes: only the prefix before them.
        let class = Literals::of("/proj/[ab]/x.rs");
        assert_eq!(
            (class.prefix.as_str(), class.suffix.as_str()),
            ("/proj/", "")
        );
    }

    /// Every built-in secret pattern, through the prefilter and without it, on paths that
    /// are and are not secrets.
    #[test]
    fn secret_patterns_decide_the_same_with_the_prefilter() {
        let a = anchors();
        let paths = [
            "/proj/.env",
            "/proj/src/.env",
            "/proj/.env.local",
            "/proj/.env/inner",
            "/proj/deep/a/b/id_rsa",
            "/proj/id_rsa.pub",
            "/proj/k.pem",
            "/proj/k.pem/x",
            "/proj/service-account-1.json",
            "/proj/src/main.rs",
            "/home/u/.ssh/config",
            "/home/u/.kube/config",
            "/home/u/.docker/config.json",
            "/elsewhere/.env",
            "/proj/.npmrc",
            "/proj/x/credentials.json",
        ];
        for pattern in crate::engine::BUILTIN_SECRET_FILES
            .iter()
            .chain(crate::engine::BUILTIN_SECRET_EXCEPTIONS)
        {
            let p = PathPattern::new(pattern, &a).unwrap();
            let outer = glob_of(&p.parts().glob).unwrap().compile_matcher();
            let inner = p
                .parts()
                .inner
                .as_deref()
                .map(|g| glob_of(g).unwrap().compile_matcher());
            for path in paths {
                let plain =
                    outer.is_match(path) || inner.as_ref().is_some_and(|m| m.is_match(path));
                assert_eq!(p.matches(Path::new(path)), plain, "{pattern} on {path}");
            }
        }
    }
}
