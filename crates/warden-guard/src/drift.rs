//! Drift: actions that depart sharply from what the session is for.

use std::collections::BTreeSet;
use std::path::Path;

use globset::{GlobBuilder, GlobSet, GlobSetBuilder};
use serde::{Deserialize, Serialize};
use serde_json::Value;

use crate::narrow::Capability;
use crate::sources::{normalize, split_simple_commands};

/// What kind of work a task describes, as far as drift rules care.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum TaskClass {
    /// A documentation-only change (typo, README, comments, changelog).
    Docs,
    /// Anything else: code changes, investigations, operations.
    General,
}

/// The task text and scope, digested once per session.
#[derive(Debug, Clone)]
pub struct TaskProfile {
    /// The task as given (possibly truncated).
    pub task: String,
    /// The kind of work.
    pub class: TaskClass,
    /// Capabilities the task's words call for ("deploy" implies network egress).
    pub implied: BTreeSet<Capability>,
    /// Declared scope globs plus paths the task names.
    pub scope: Vec<String>,
    scope_set: Option<GlobSet>,
}

impl TaskProfile {
    /// Whether a write to `rel` (project-relative) is within the profile's scope. With no
    /// scope at all, a docs task's scope is documentation files and any other task's scope
    /// is the whole project.
    pub fn in_scope(&self, rel: &str) -> bool {
        let rel = rel.trim_start_matches("./");
        match &self.scope_set {
            Some(set) if set.is_match(rel) => true,
            Some(_) if self.class == TaskClass::General => false,
            _ if self.class == TaskClass::Docs => is_doc_path(rel),
            _ => true,
        }
    }
}

/// What a pending action does, as the drift rules see it.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct ActionSummary {
    /// The tool name.
    pub tool: String,
    /// Capabilities the action needs.
    pub capabilities: Vec<Capability>,
    /// Project-relative (or absolute, when outside) paths it reads.
    pub paths_read: Vec<String>,
    /// Project-relative (or absolute, when outside) paths it writes.
    pub paths_written: Vec<String>,
}

/// How serious a drift finding is.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum DriftSeverity {
    /// Worth a person's look: answer "ask".
    Ask,
    /// A sharp departure: halt the session (`continue: false` with a stop reason).
    Halt,
}

/// Why an action does not fit the task.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct DriftFinding {
    /// What to do about it.
    pub severity: DriftSeverity,
    /// Stable rule id for the audit log and `warden check`.
    pub rule: String,
    /// The capability that drifted, when one did.
    pub capability: Option<Capability>,
    /// A sentence a person reads.
    pub reason: String,
}

/// Decides whether an action departs from the task. Rules today; a model-based checker
/// can implement the same trait later.
pub trait DriftChecker {
    /// A finding, or `None` when the action fits the task.
    fn check(&self, task: &TaskProfile, action: &ActionSummary) -> Option<DriftFinding>;
}

/// Explainable rules over scope paths and the capability classes a task implies.
#[derive(Debug, Clone, Copy, Default)]
pub struct RuleDriftChecker;

fn words(text: &str) -> Vec<String> {
    text.split(|c: char| !(c.is_alphanumeric() || c == '.' || c == '_' || c == '-' || c == '/'))
        .map(|w| {
            w.trim_matches(|c| c == '.' || c == '-')
                .to_ascii_lowercase()
        })
        .filter(|w| !w.is_empty())
        .collect()
}

fn any(ws: &[String], keys: &[&str]) -> bool {
    ws.iter().any(|w| keys.iter().any(|k| w == k))
}

const DOC_WORDS: &[&str] = &[
    "typo",
    "typos",
    "spelling",
    "misspelling",
    "grammar",
    "wording",
    "readme",
    "readme.md",
    "docs",
    "documentation",
    "doc",
    "docstring",
    "docstrings",
    "comment",
    "comments",
    "changelog",
    "changelog.md",
    "prose",
    "sentence",
    "paragraph",
    "link",
    "links",
    "markdown",
    "punctuation",
];
const CODE_WORDS: &[&str] = &[
    "implement",
    "feature",
    "bug",
    "bugs",
    "refactor",
    "test",
    "tests",
    "function",
    "crash",
    "build",
    "compile",
    "endpoint",
    "api",
    "performance",
    "migrate",
    "migration",
    "deploy",
    "release",
    "dependency",
    "dependencies",
    "upgrade",
    "install",
    "script",
    "ci",
    "pipeline",
    "debug",
    "investigate",
    "rotate",
    "secret",
    "secrets",
    "credentials",
    "server",
];

/// Digests a task text and declared scope into a [`TaskProfile`].
pub fn profile_task(task_text: &str, scope: &[String]) -> TaskProfile {
    let ws = words(task_text);
    let class = if any(&ws, DOC_WORDS) && !any(&ws, CODE_WORDS) {
        TaskClass::Docs
    } else {
        TaskClass::General
    };
    let mut implied = BTreeSet::new();
    let mut imply = |keys: &[&str], caps: &[Capability]| {
        if any(&ws, keys) {
            implied.extend(caps.iter().copied());
        }
    };
    use Capability::*;
    imply(
        &[
            "deploy",
            "deployment",
            "release",
            "publish",
            "upload",
            "download",
            "fetch",
            "curl",
            "wget",
            "http",
            "https",
            "webhook",
            "api",
            "endpoint",
            "push",
            "ping",
            "request",
            "install",
            "upgrade",
            "update",
            "sync",
            "send",
            "network",
            "url",
            "server",
            "clone",
        ],
        &[NetworkEgress],
    );
    imply(
        &[
            "secret",
            "secrets",
            ".env",
            "env",
            "dotenv",
            "credential",
            "credentials",
            "token",
            "tokens",
            "password",
            "passwords",
            "rotate",
            "key",
            "keys",
            "api-key",
            "ssh",
            "certificate",
            "certificates",
            "cert",
            "tls",
            "auth",
            "authentication",
            "login",
        ],
        &[ReadSecretFile],
    );
    imply(
        &[
            "install",
            "dependency",
            "dependencies",
            "deps",
            "upgrade",
            "bump",
            "package",
            "packages",
            "crate",
            "crates",
            "npm",
            "pip",
            "cargo",
            "yarn",
            "pnpm",
            "poetry",
        ],
        &[InstallDependency, NetworkEgress],
    );
    imply(
        &[
            "ci",
            "pipeline",
            "workflow",
            "workflows",
            "actions",
            "deploy",
            "deployment",
            "docker",
            "dockerfile",
            "kubernetes",
            "k8s",
            "terraform",
            "infra",
            "infrastructure",
            "helm",
            "release",
            "ansible",
        ],
        &[ModifyInfra],
    );
    imply(
        &["push", "release", "publish", "deploy", "pr", "merge"],
        &[GitPush, NetworkEgress],
    );
    imply(
        &[
            "delete", "remove", "clean", "cleanup", "prune", "drop", "purge",
        ],
        &[Delete],
    );
    imply(
        &["sudo", "root", "system", "apt", "privilege"],
        &[Privilege],
    );
    if class == TaskClass::General {
        // Code work runs code: builds, tests and scripts.
        implied.insert(DynamicCode);
    }
    let mut all_scope: Vec<String> = scope.to_vec();
    for w in &ws {
        // Paths the task names are in its scope ("fix the typo in docs/intro.md").
        if (w.contains('/') || w.contains('.'))
            && !w.starts_with('/')
            && w.len() > 2
            && !w.contains("..")
        {
            all_scope.push(w.clone());
        }
    }
    let scope_set = build_scope(&all_scope);
    TaskProfile {
        task: task_text.to_string(),
        class,
        implied,
        scope: all_scope,
        scope_set,
    }
}

fn build_scope(scope: &[String]) -> Option<GlobSet> {
    if scope.is_empty() {
        return None;
    }
    let mut b = GlobSetBuilder::new();
    for s in scope {
        // A bad glob in a task's free text is dropped, never an error: it only shrinks the
        // scope, which makes the checker stricter, not looser.
        let g = s.trim_end_matches('/');
        for pat in [g.to_string(), format!("{g}/**"), format!("**/{g}")] {
            if let Ok(glob) = GlobBuilder::new(&pat).case_insensitive(true).build() {
                b.add(glob);
            }
        }
    }
    b.build().ok()
}

fn is_doc_path(rel: &str) -> bool {
    let lower = rel.to_ascii_lowercase();
    let name = lower.rsplit('/').next().unwrap_or(&lower);
    lower.starts_with("docs/")
        || lower.starts_with("doc/")
        || lower.contains("/docs/")
        || [".md", ".markdown", ".rst", ".txt", ".adoc", ".mdx"]
            .iter()
            .any(|e| name.ends_with(e))
        || ["readme", "changelog", "contributing", "authors", "license"]
            .iter()
            .any(|p| name.starts_with(p))
}

impl DriftChecker for RuleDriftChecker {
    fn check(&self, task: &TaskProfile, action: &ActionSummary) -> Option<DriftFinding> {
        let quoted = {
            let t: String = task.task.chars().take(80).collect();
            if t.len() < task.task.len() {
                format!("\"{t}…\"")
            } else {
                format!("\"{t}\"")
            }
        };
        let kind = match task.class {
            TaskClass::Docs => "a documentation change",
            TaskClass::General => "a code task",
        };
        let mut findings: Vec<DriftFinding> = Vec::new();
        let mut push = |severity, rule: &str, capability: Option<Capability>, what: String| {
            findings.push(DriftFinding {
                severity,
                rule: rule.to_string(),
                capability,
                reason: format!("the task {quoted} is {kind}; {what} is not part of it"),
            });
        };
        let docs = task.class == TaskClass::Docs;
        let sev = |docs: bool| {
            if docs {
                DriftSeverity::Halt
            } else {
                DriftSeverity::Ask
            }
        };
        for &cap in &action.capabilities {
            if task.implied.contains(&cap) {
                continue;
            }
            let what = match action.paths_read.first() {
                Some(p) if cap == Capability::ReadSecretFile => {
                    format!("reading the secret file {p}")
                }
                _ => cap.describe().to_string(),
            };
            match cap {
                Capability::ReadSecretFile => push(sev(docs), "drift.secret-read", Some(cap), what),
                Capability::NetworkEgress if docs => {
                    push(DriftSeverity::Halt, "drift.network", Some(cap), what)
                }
                Capability::WriteOutsideScope => {
                    push(sev(docs), "drift.write-outside-scope", Some(cap), what)
                }
                Capability::ModifyInfra | Capability::Privilege => {
                    push(sev(docs), "drift.capability", Some(cap), what)
                }
                Capability::InstallDependency
                | Capability::GitPush
                | Capability::Delete
                | Capability::DynamicCode
                    if docs =>
                {
                    push(DriftSeverity::Halt, "drift.capability", Some(cap), what)
                }
                _ => {}
            }
        }
        for p in &action.paths_written {
            if !task.in_scope(p) {
                push(
                    sev(docs),
                    "drift.write-outside-scope",
                    Some(Capability::WriteOutsideScope),
                    format!("writing {p}"),
                );
            }
        }
        findings.into_iter().max_by_key(|f| f.severity)
    }
}

// ---- a light action derivation ---------------------------------------------------------

/// How one of the secret-file shapes below sits in a path. Each is the meaning of a
/// `**/`-anchored glob (with `*` free to cross `/`, as `globset` builds them by default), kept
/// as plain string tests because a hook process needs the answer once and compiling the glob
/// set cost more than the rest of the derivation (`tests::secret_shapes_agree_with_globs`
/// checks them against `globset`).
#[derive(Clone, Copy)]
enum SecretShape {
    /// `**/NAME`: the path is NAME or ends in `/NAME`.
    Name(&'static str),
    /// `**/START*`: a component starts with START (the rest may cross `/`).
    Starts(&'static str),
    /// `**/*END`: the path ends with END.
    Ends(&'static str),
    /// `**/DIR/**`: something inside DIR.
    Inside(&'static str),
    /// The whole path.
    Exact(&'static str),
}

const SECRET_SHAPES: &[(&str, SecretShape)] = &[
    ("**/.env", SecretShape::Name(".env")),
    ("**/.env.*", SecretShape::Starts(".env.")),
    ("**/*.pem", SecretShape::Ends(".pem")),
    ("**/*.key", SecretShape::Ends(".key")),
    ("**/*.p12", SecretShape::Ends(".p12")),
    ("**/*.pfx", SecretShape::Ends(".pfx")),
    ("**/id_rsa*", SecretShape::Starts("id_rsa")),
    ("**/id_dsa*", SecretShape::Starts("id_dsa")),
    ("**/id_ecdsa*", SecretShape::Starts("id_ecdsa")),
    ("**/id_ed25519*", SecretShape::Starts("id_ed25519")),
    ("**/.ssh/**", SecretShape::Inside(".ssh")),
    ("**/.aws/**", SecretShape::Inside(".aws")),
    (
        "**/.config/gcloud/**",
        SecretShape::Inside(".config/gcloud"),
    ),
    ("**/.azure/**", SecretShape::Inside(".azure")),
    ("**/.netrc", SecretShape::Name(".netrc")),
    (
        "**/.docker/config.json",
        SecretShape::Name(".docker/config.json"),
    ),
    ("**/.kube/config", SecretShape::Name(".kube/config")),
    ("**/.npmrc", SecretShape::Name(".npmrc")),
    ("**/.pypirc", SecretShape::Name(".pypirc")),
    ("**/.git-credentials", SecretShape::Name(".git-credentials")),
    ("**/.gnupg/**", SecretShape::Inside(".gnupg")),
    ("/etc/shadow", SecretShape::Exact("/etc/shadow")),
];

impl SecretShape {
    fn matches(self, path: &str) -> bool {
        // `text` begins a component: at the start, or right after a `/`.
        let at_component = |text: &str| {
            path.starts_with(text)
                || path
                    .match_indices(text)
                    .any(|(at, _)| path[..at].ends_with('/'))
        };
        match self {
            SecretShape::Name(name) => {
                path == name
                    || path
                        .strip_suffix(name)
                        .is_some_and(|before| before.ends_with('/'))
            }
            SecretShape::Starts(start) => at_component(start),
            SecretShape::Ends(end) => path.ends_with(end),
            SecretShape::Inside(dir) => path.match_indices(dir).any(|(at, _)| {
                (at == 0 || path[..at].ends_with('/')) && path[at + dir.len()..].starts_with('/')
            }),
            SecretShape::Exact(whole) => path == whole,
        }
    }
}

/// Whether `path` looks like a secret file (`.env*` except examples, keys, cloud and SSH
/// credentials). The secrets crate owns the authoritative list; this one serves the light
/// derivation in [`ActionSummary::from_tool_call`].
pub fn is_secret_path(path: &str) -> bool {
    let lower = path.to_ascii_lowercase();
    let name = lower.rsplit('/').next().unwrap_or(&lower);
    if name.starts_with(".env.")
        && ["example", "sample", "template", "dist", "defaults"]
            .iter()
            .any(|s| name.ends_with(s))
    {
        return false;
    }
    let p = if let Some(rest) = path.strip_prefix("~/") {
        format!("/home/~/{rest}")
    } else {
        path.to_string()
    };
    SECRET_SHAPES.iter().any(|(_, shape)| shape.matches(&p))
}

fn is_infra_path(rel: &str) -> bool {
    let lower = rel.to_ascii_lowercase();
    let name = lower.rsplit('/').next().unwrap_or(&lower);
    lower.starts_with(".github/workflows/")
        || lower.starts_with(".gitlab-ci")
        || lower.starts_with(".circleci/")
        || lower.starts_with("deploy/")
        || lower.starts_with("infra/")
        || lower.starts_with("k8s/")
        || lower.starts_with("helm/")
        || name.starts_with("dockerfile")
        || name.starts_with("docker-compose")
        || name.ends_with(".tf")
        || name == "jenkinsfile"
}

fn is_manifest_path(rel: &str) -> bool {
    let name = rel.rsplit('/').next().unwrap_or(rel);
    matches!(
        name,
        "package.json"
            | "package-lock.json"
            | "yarn.lock"
            | "pnpm-lock.yaml"
            | "Cargo.toml"
            | "Cargo.lock"
            | "requirements.txt"
            | "pyproject.toml"
            | "poetry.lock"
            | "go.mod"
            | "go.sum"
            | "Gemfile"
            | "Gemfile.lock"
    )
}

const NET_PROGRAMS: &[&str] = &[
    "curl", "wget", "http", "https", "xh", "nc", "ncat", "socat", "telnet", "ssh", "scp", "sftp",
    "rsync", "ftp", "aria2c",
];
const DYNAMIC: &[&str] = &["eval", "source", "."];
const INTERPRETERS: &[&str] = &[
    "bash", "sh", "zsh", "dash", "python", "python3", "node", "perl", "ruby", "php", "deno", "bun",
];

impl ActionSummary {
    /// A light derivation from a hook payload's `tool_name` and `tool_input`, for callers
    /// without a shell analyser and for tests. Paths come out project-relative when inside
    /// `project_root`. The write scope used for `WriteOutsideScope` is `scope` (globs); with
    /// an empty scope every project path is in scope.
    pub fn from_tool_call(
        tool: &str,
        input: &Value,
        project_root: &Path,
        scope: &[String],
    ) -> Self {
        let mut a = ActionSummary {
            tool: tool.to_string(),
            ..Default::default()
        };
        let scope_set = build_scope(scope);
        let field = |k: &str| input.get(k).and_then(Value::as_str);
        match tool {
            "Read" | "NotebookRead" | "Grep" | "Glob" => {
                if let Some(p) = field("file_path")
                    .or_else(|| field("notebook_path"))
                    .or_else(|| field("path"))
                {
                    a.add_read(p, project_root);
                }
            }
            "Write" | "Edit" | "MultiEdit" | "NotebookEdit" => {
                if let Some(p) = field("file_path").or_else(|| field("notebook_path")) {
                    a.add_write(p, project_root, scope_set.as_ref());
                }
            }
            "WebFetch" | "WebSearch" => a.add_cap(Capability::NetworkEgress),
            "Bash" => {
                if let Some(cmd) = field("command") {
                    a.add_command(cmd, project_root, scope_set.as_ref());
                }
            }
            _ => {}
        }
        a
    }

    fn add_cap(&mut self, c: Capability) {
        if !self.capabilities.contains(&c) {
            self.capabilities.push(c);
        }
    }

    fn rel(p: &str, root: &Path) -> (String, bool) {
        if p.starts_with("~/") {
            return (p.to_string(), false);
        }
        let abs = normalize(&root.join(p));
        match abs.strip_prefix(normalize(root)) {
            Ok(r) => (r.to_string_lossy().into_owned(), true),
            Err(_) => (abs.to_string_lossy().into_owned(), false),
        }
    }

    fn add_read(&mut self, p: &str, root: &Path) {
        let (rel, inside) = Self::rel(p, root);
        if is_secret_path(&rel) || is_secret_path(p) {
            self.add_cap(Capability::ReadSecretFile);
        } else if inside {
            self.add_cap(Capability::ReadProject);
        } else {
            self.add_cap(Capability::ReadOutsideProject);
        }
        self.paths_read.push(rel);
    }

    fn add_write(&mut self, p: &str, root: &Path, scope: Option<&GlobSet>) {
        let (rel, inside) = Self::rel(p, root);
        let in_scope = inside && scope.is_none_or(|s| s.is_match(&rel));
        self.add_cap(if in_scope {
            Capability::WriteInScope
        } else {
            Capability::WriteOutsideScope
        });
        if is_infra_path(&rel) {
            self.add_cap(Capability::ModifyInfra);
        }
        if is_manifest_path(&rel) {
            self.add_cap(Capability::InstallDependency);
        }
        self.paths_written.push(rel);
    }

    fn add_command(&mut self, cmd: &str, root: &Path, scope: Option<&GlobSet>) {
        for words in split_simple_commands(cmd) {
            let mut w: &[String] = &words;
            while let Some((first, rest)) = w.split_first() {
                let name = first.rsplit('/').next().unwrap_or(first);
                if first.contains('=') && !first.starts_with('-') {
                    w = rest;
                } else if matches!(name, "sudo" | "doas") {
                    self.add_cap(Capability::Privilege);
                    w = rest;
                } else if matches!(
                    name,
                    "env" | "time" | "nice" | "nohup" | "command" | "exec" | "xargs"
                ) {
                    w = rest;
                } else {
                    break;
                }
            }
            let Some((prog, args)) = w.split_first() else {
                continue;
            };
            let name = prog.rsplit('/').next().unwrap_or(prog).to_string();
            let sub = args
                .iter()
                .find(|a| !a.starts_with('-'))
                .map(String::as_str);
            if NET_PROGRAMS.contains(&name.as_str()) {
                self.add_cap(Capability::NetworkEgress);
            }
            if DYNAMIC.contains(&name.as_str())
                || INTERPRETERS.contains(&name.as_str())
                    && args
                        .iter()
                        .any(|a| matches!(a.as_str(), "-c" | "-e" | "--eval"))
            {
                self.add_cap(Capability::DynamicCode);
            }
            match (name.as_str(), sub) {
                ("git", Some("push")) => {
                    self.add_cap(Capability::GitPush);
                    self.add_cap(Capability::NetworkEgress);
                }
                ("git", Some("clone" | "fetch" | "pull")) => {
                    self.add_cap(Capability::NetworkEgress)
                }
                (
                    "npm" | "pnpm" | "yarn" | "pip" | "pip3" | "cargo" | "gem" | "go" | "poetry"
                    | "uv",
                    Some(
                        "install" | "add" | "i" | "update" | "upgrade" | "get" | "remove"
                        | "uninstall",
                    ),
                ) => {
                    self.add_cap(Capability::InstallDependency);
                    self.add_cap(Capability::NetworkEgress);
                }
                ("rm" | "rmdir" | "shred" | "unlink", _) => self.add_cap(Capability::Delete),
                _ => {}
            }
            let mut redirect = false;
            for a in args {
                if redirect {
                    self.add_write(a, root, scope);
                    redirect = false;
                    continue;
                }
                if a == ">" || a == ">>" {
                    redirect = true;
                    continue;
                }
                // `curl -d @.env`, `-F file=@id_rsa`: the file after `@` is read.
                let path = a
                    .rsplit_once('@')
                    .filter(|_| a.starts_with('@') || a.contains("=@"))
                    .map_or(a.as_str(), |(_, p)| p);
                if path.starts_with('-') || path.is_empty() || path.starts_with("http") {
                    continue;
                }
                if is_secret_path(path) {
                    self.add_read(path, root);
                }
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use proptest::prelude::*;

    fn glob_says(glob: &str, path: &str) -> bool {
        let matcher = GlobBuilder::new(glob).build().unwrap().compile_matcher();
        matcher.is_match(path) || matcher.is_match(format!("./{path}"))
    }

    /// Path pieces chosen so that every shape's literal turns up often, at component starts
    /// and inside other names.
    fn piece() -> impl Strategy<Value = String> {
        prop::sample::select(vec![
            ".env",
            ".env.",
            ".env.local",
            "x.env",
            "env",
            ".pem",
            "a.pem",
            "pem",
            ".key",
            "k.p12",
            "c.pfx",
            "id_rsa",
            "id_rsa.pub",
            "my_id_rsa",
            "id_dsa",
            "id_ecdsa",
            "id_ed25519",
            ".ssh",
            "ssh",
            ".aws",
            "aws",
            ".config",
            "gcloud",
            ".azure",
            ".netrc",
            "netrc",
            ".docker",
            "config.json",
            ".kube",
            "config",
            ".npmrc",
            ".pypirc",
            ".git-credentials",
            ".gnupg",
            "etc",
            "shadow",
            "src",
            "",
            "~",
            "home",
        ])
        .prop_map(str::to_string)
    }

    proptest! {
        #[test]
        fn secret_shapes_agree_with_globs(
            pieces in prop::collection::vec(piece(), 1..5),
            lead in prop::sample::select(vec!["", "/", "./"]),
        ) {
            let path = format!("{lead}{}", pieces.join("/"));
            for (glob, shape) in SECRET_SHAPES {
                prop_assert_eq!(
                    shape.matches(&path),
                    glob_says(glob, &path),
                    "{} on {:?}",
                    glob,
                    path
                );
            }
        }
    }

    #[test]
    fn secret_paths() {
        for secret in [
            ".env",
            "app/.env.local",
            "~/.ssh/id_ed25519",
            "/root/.aws/credentials",
            "deploy/tls.pem",
            "/etc/shadow",
            "home/.docker/config.json",
            "~/.kube/config",
        ] {
            assert!(is_secret_path(secret), "{secret}");
        }
        for plain in [
            "src/env.rs",
            ".env.example",
            "app/.env.sample",
            "notes/ssh.md",
            "x.env",
            "/etc/shadowed",
            "docs/aws/readme.md",
        ] {
            assert!(!is_secret_path(plain), "{plain}");
        }
    }
}
