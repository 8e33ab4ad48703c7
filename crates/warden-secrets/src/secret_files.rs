//! Paths that hold credentials by their nature, whatever their content.
//!
//! The hook denies Read (and commands that read) these paths unless the policy allows one
//! by name. The match is lexical: the path is normalised (`.`/`..` removed, `~/` expanded
//! with `home`) but symlinks are not followed; the sandbox, which hides these paths, is the
//! layer that holds against a link. Names are compared ASCII case-insensitively, because
//! on case-insensitive file systems `.ENV` opens `.env`.
//!
//! Template files are not secret: `.env.example`, `.env.sample`, `.env.template`,
//! `.env.dist`, `.env.defaults` and `.env.schema` are committed on purpose, read by setup docs
//! and tools, and hold names or dummy values. Blocking them would push people to allow
//! `.env*` wholesale. Public keys (`id_rsa.pub`) are not secret either, except inside
//! `~/.ssh`, which is denied as a whole. A file under a directory called `.env` (a Python
//! virtualenv named `.env`) is judged by its own name, not the directory's.

use std::path::{Component, Path, PathBuf};

/// The patterns, for documentation and `warden` explanations. `~/` is the home directory;
/// other patterns match the file name anywhere.
pub const DEFAULT_PATTERNS: &[&str] = &[
    ".env",
    ".env.*",
    ".envrc",
    "*.pem",
    "*.key",
    "*.p12",
    "*.pfx",
    "*.jks",
    "*.keystore",
    "*.ppk",
    "*.asc (private key export)",
    "id_rsa*",
    "id_dsa*",
    "id_ecdsa*",
    "id_ed25519*",
    ".netrc",
    "_netrc",
    ".pgpass",
    ".npmrc",
    ".pypirc",
    ".git-credentials",
    ".htpasswd",
    "credentials.json",
    "client_secret*.json",
    "service-account*.json",
    "*.tfstate",
    "*.tfstate.backup",
    "*.tfvars",
    ".vault-token",
    "secrets.yml",
    "secrets.yaml",
    "master.key",
    "*.kdbx",
    ".docker/config.json",
    "*.kubeconfig",
    "kubeconfig",
    "~/.ssh/**",
    "~/.aws/**",
    "~/.config/gcloud/**",
    "~/.azure/**",
    "~/.gnupg/**",
    "~/.kube/config",
    "~/.kube/**",
    "**/.ssh/**",
    "**/.aws/**",
    "**/.gnupg/**",
    "**/.password-store/**",
    "~/.docker/config.json",
    "~/.password-store/**",
    "~/.config/gh/hosts.yml",
    "~/.cargo/credentials",
    "~/.cargo/credentials.toml",
    "~/.terraform.d/credentials.tfrc.json",
    "~/.config/op/**",
    "~/.local/share/keyrings/**",
    "~/.claude/.credentials.json",
    "~/.config/hub",
    "~/.gem/credentials",
];

/// `.env.<suffix>` names that are templates, not secrets.
const ENV_TEMPLATE_SUFFIXES: &[&str] = &[
    "example", "sample", "template", "dist", "defaults", "schema", "tmpl", "tpl",
];

/// Directories under the home directory whose every file is secret.
const HOME_DIRS: &[&str] = &[
    ".ssh",
    ".aws",
    ".config/gcloud",
    ".azure",
    ".gnupg",
    ".kube",
    ".password-store",
    ".config/op",
    ".local/share/keyrings",
];

/// Single files under the home directory.
const HOME_FILES: &[&str] = &[
    ".docker/config.json",
    ".config/gh/hosts.yml",
    ".cargo/credentials",
    ".cargo/credentials.toml",
    ".terraform.d/credentials.tfrc.json",
    ".claude/.credentials.json",
    ".config/hub",
    ".gem/credentials",
];

/// Directory names whose files are secret wherever they are.
const ANY_DIRS: &[&str] = &[".ssh", ".aws", ".gnupg", ".password-store"];
const ANY_DIR_PATTERNS: &[&str] = &[
    "**/.ssh/**",
    "**/.aws/**",
    "**/.gnupg/**",
    "**/.password-store/**",
];

/// Exact file names (lowercase) that are secret anywhere.
const NAMES: &[&str] = &[
    ".env",
    ".envrc",
    ".netrc",
    "_netrc",
    ".pgpass",
    ".npmrc",
    ".pypirc",
    ".git-credentials",
    ".htpasswd",
    "credentials.json",
    ".vault-token",
    "secrets.yml",
    "secrets.yaml",
    "master.key",
    "kubeconfig",
];

/// Extensions (lowercase, without the dot) that are secret anywhere.
const EXTENSIONS: &[&str] = &[
    "pem",
    "key",
    "p12",
    "pfx",
    "jks",
    "keystore",
    "ppk",
    "tfstate",
    "tfvars",
    "kdbx",
    "kubeconfig",
];

/// Why `path` is a secret file (the pattern that matched), or `None`.
///
/// `home` is the user's home directory; without it the `~/` patterns are not checked.
/// A relative path is judged by its components only: pass an absolute path (joined with
/// the working directory) to have the home patterns apply.
pub fn is_secret_path(path: &Path, home: Option<&Path>) -> Option<&'static str> {
    let path = normalize(path, home);
    if let Some(home) = home.map(|h| normalize(h, None)) {
        if let Ok(rest) = path.strip_prefix(&home) {
            let rest_lower = rest.to_string_lossy().to_ascii_lowercase();
            for (dir, pattern) in HOME_DIRS.iter().zip(HOME_DIR_PATTERNS) {
                if rest_lower == *dir || rest_lower.starts_with(&format!("{dir}/")) {
                    return Some(pattern);
                }
            }
            for (file, pattern) in HOME_FILES.iter().zip(HOME_FILE_PATTERNS) {
                if rest_lower == *file {
                    return Some(pattern);
                }
            }
        }
    }
    // Another user's home (`/root/.ssh/id_rsa` while HOME is elsewhere) or a copied
    // credentials directory: these directory names hold nothing but secrets.
    if let Some(parent) = path.parent() {
        for c in parent.components() {
            let c = c.as_os_str().to_string_lossy().to_ascii_lowercase();
            if let Some(i) = ANY_DIRS.iter().position(|d| *d == c) {
                return Some(ANY_DIR_PATTERNS[i]);
            }
        }
    }
    let name = path.file_name()?.to_string_lossy().to_ascii_lowercase();
    // `.docker/config.json` anywhere (a `DOCKER_CONFIG` directory copied into a project).
    if name == "config.json"
        && path
            .parent()
            .and_then(Path::file_name)
            .is_some_and(|d| d.eq_ignore_ascii_case(".docker"))
    {
        return Some(".docker/config.json");
    }
    if let Some(i) = NAMES.iter().position(|n| *n == name) {
        return Some(NAMES[i]);
    }
    if let Some(suffix) = name.strip_prefix(".env.") {
        let last = suffix.rsplit('.').next().unwrap_or(suffix);
        if ENV_TEMPLATE_SUFFIXES.contains(&suffix) || ENV_TEMPLATE_SUFFIXES.contains(&last) {
            return None;
        }
        return Some(".env.*");
    }
    for (prefix, pattern) in [
        ("id_rsa", "id_rsa*"),
        ("id_dsa", "id_dsa*"),
        ("id_ecdsa", "id_ecdsa*"),
        ("id_ed25519", "id_ed25519*"),
    ] {
        if name.starts_with(prefix) && !name.ends_with(".pub") {
            return Some(pattern);
        }
    }
    if name.ends_with(".json")
        && (name.starts_with("client_secret")
            || name.starts_with("service-account")
            || name.starts_with("service_account"))
    {
        return Some("client_secret*.json / service-account*.json");
    }
    if name.ends_with(".tfstate.backup") {
        return Some("*.tfstate.backup");
    }
    let ext = Path::new(&name).extension()?.to_str()?;
    EXTENSIONS
        .iter()
        .position(|e| *e == ext)
        .map(|i| EXTENSION_PATTERNS[i])
}

const HOME_DIR_PATTERNS: &[&str] = &[
    "~/.ssh/**",
    "~/.aws/**",
    "~/.config/gcloud/**",
    "~/.azure/**",
    "~/.gnupg/**",
    "~/.kube/**",
    "~/.password-store/**",
    "~/.config/op/**",
    "~/.local/share/keyrings/**",
];
const HOME_FILE_PATTERNS: &[&str] = &[
    "~/.docker/config.json",
    "~/.config/gh/hosts.yml",
    "~/.cargo/credentials",
    "~/.cargo/credentials.toml",
    "~/.terraform.d/credentials.tfrc.json",
    "~/.claude/.credentials.json",
    "~/.config/hub",
    "~/.gem/credentials",
];
const EXTENSION_PATTERNS: &[&str] = &[
    "*.pem",
    "*.key",
    "*.p12",
    "*.pfx",
    "*.jks",
    "*.keystore",
    "*.ppk",
    "*.tfstate",
    "*.tfvars",
    "*.kdbx",
    "*.kubeconfig",
];

/// Lexical normalisation: expands a leading `~`, drops `.`, resolves `..` against the
/// components before it (never above the root).
fn normalize(path: &Path, home: Option<&Path>) -> PathBuf {
    let expanded;
    let path = match (path.strip_prefix("~"), home) {
        (Ok(rest), Some(h)) => {
            expanded = h.join(rest);
            expanded.as_path()
        }
        _ => path,
    };
    let mut out = PathBuf::new();
    for c in path.components() {
        match c {
            Component::CurDir => {}
            Component::ParentDir => {
                if !out.pop() {
                    // A relative path climbing above its start: keep the `..` so that
                    // nothing is matched against a directory it is not in.
                    out.push("..");
                }
            }
            other => out.push(other.as_os_str()),
        }
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    fn secret(p: &str) -> Option<&'static str> {
        is_secret_path(Path::new(p), Some(Path::new("/home/dev")))
    }

    #[test]
    fn tables_line_up() {
        assert_eq!(HOME_DIRS.len(), HOME_DIR_PATTERNS.len());
        assert_eq!(HOME_FILES.len(), HOME_FILE_PATTERNS.len());
        assert_eq!(EXTENSIONS.len(), EXTENSION_PATTERNS.len());
    }

    #[test]
    fn secret_paths() {
        for p in [
            ".env",
            "app/.env",
            "/srv/app/.env.local",
            ".env.production",
            ".ENV",
            ".envrc",
            "certs/server.pem",
            "tls.key",
            "/home/dev/.ssh/id_ed25519",
            "/home/dev/.ssh/known_hosts",
            "/home/dev/.ssh/id_rsa.pub",
            "~/.aws/credentials",
            "/home/dev/.config/gcloud/application_default_credentials.json",
            "/home/dev/.netrc",
            "/home/dev/.docker/config.json",
            "/home/dev/.kube/config",
            "proj/.npmrc",
            ".pypirc",
            "credentials.json",
            "id_rsa",
            "backup/id_ed25519.old",
            "/home/dev/proj/../.ssh/config",
            "infra/terraform.tfstate",
            "config/master.key",
            "client_secret_1234.apps.googleusercontent.com.json",
        ] {
            assert!(secret(p).is_some(), "{p} should be secret");
        }
    }

    #[test]
    fn benign_paths() {
        for p in [
            ".env.example",
            ".env.sample",
            ".env.template",
            ".env.local.example",
            ".env.dist",
            "src/env.rs",
            ".venv/bin/activate",
            ".env/bin/activate",
            "id_rsa.pub",
            "README.md",
            "/home/dev/proj/src/main.rs",
            "/home/dev/.sshrc",
            "/home/dev/.config/gcloud-notes.txt",
            "package.json",
            "keys.rs",
        ] {
            assert_eq!(secret(p), None, "{p} should not be secret");
        }
    }

    #[test]
    fn reasons_name_the_pattern() {
        assert_eq!(secret("/home/dev/.aws/config"), Some("~/.aws/**"));
        assert_eq!(secret("a/b/.env.staging"), Some(".env.*"));
        assert_eq!(secret("x.pem"), Some("*.pem"));
    }

    #[test]
    fn home_patterns_need_home() {
        let gcloud = Path::new("/home/dev/.config/gcloud/credentials.db");
        assert_eq!(is_secret_path(gcloud, None), None);
        assert_eq!(
            is_secret_path(gcloud, Some(Path::new("/home/dev"))),
            Some("~/.config/gcloud/**")
        );
        // Credential directories are recognised in any home, known or not.
        assert_eq!(
            is_secret_path(Path::new("/root/.aws/credentials"), None),
            Some("**/.aws/**")
        );
    }
}
