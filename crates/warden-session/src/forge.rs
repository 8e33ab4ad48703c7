//! Opening a pull request (merge request) through a forge's REST API.
//!
//! GitHub and GitHub Enterprise (`POST /repos/{owner}/{repo}/pulls`), GitLab
//! (`POST /projects/{id}/merge_requests`) and Gitea / Forgejo (`POST /repos/{owner}/{repo}/pulls`).
//! The token comes from an environment variable named in the configuration and is sent only
//! over https (plain http is accepted for loopback addresses, where tests run a stand-in
//! server). Error messages never contain the token or a remote URL's credentials.

use std::time::Duration;

use serde::{Deserialize, Serialize};
use serde_json::{json, Value};

/// Which forge API to speak.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "kebab-case")]
pub enum ForgeKind {
    /// github.com and GitHub Enterprise Server.
    GitHub,
    GitLab,
    /// Gitea and Forgejo.
    Gitea,
}

impl ForgeKind {
    /// The environment variable read for the token when the configuration names none.
    pub fn default_token_env(self) -> &'static str {
        match self {
            ForgeKind::GitHub => "GITHUB_TOKEN",
            ForgeKind::GitLab => "GITLAB_TOKEN",
            ForgeKind::Gitea => "GITEA_TOKEN",
        }
    }
}

/// Where and how to open the pull request.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct ForgeConfig {
    pub kind: ForgeKind,
    /// API root, e.g. `https://api.github.com`, `https://ghe.example.com/api/v3`,
    /// `https://gitlab.example.com/api/v4`. `None`: derived from the remote's host.
    pub api_base: Option<String>,
    /// `owner/repo` (GitLab: `group/subgroup/project`). `None`: taken from the remote URL.
    pub repo: Option<String>,
    /// Name of the environment variable holding the token. `None`: the kind's default.
    pub token_env: Option<String>,
    /// Bound on the whole request.
    pub timeout: Duration,
}

impl ForgeConfig {
    pub fn new(kind: ForgeKind) -> Self {
        ForgeConfig {
            kind,
            api_base: None,
            repo: None,
            token_env: None,
            timeout: Duration::from_secs(30),
        }
    }

    pub fn token_env(&self) -> &str {
        self.token_env
            .as_deref()
            .unwrap_or(self.kind.default_token_env())
    }
}

/// What went wrong talking to the forge.
#[derive(Debug, thiserror::Error)]
#[non_exhaustive]
pub enum ForgeError {
    #[error("cannot tell owner/repo from remote {remote}; set the forge's repo explicitly")]
    UnknownRepo { remote: String },
    #[error("cannot tell the forge's API address from remote {remote}; set api_base")]
    UnknownApi { remote: String },
    #[error("environment variable {var} with the forge token is not set")]
    MissingToken { var: String },
    #[error("refusing to send a token over plain http to {url}; use https")]
    InsecureApi { url: String },
    #[error("the forge answered {status}: {message}")]
    Rejected { status: u16, message: String },
    #[error("could not reach the forge at {url}: {detail}")]
    Transport { url: String, detail: String },
    #[error("unexpected answer from the forge: {detail}")]
    BadResponse { detail: String },
}

/// A remote's host and repository path, parsed from its URL.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct RemoteRepo {
    /// Host, with `:port` for http(s) URLs that name one.
    pub host: String,
    /// `owner/repo` or `group/subgroup/project`, without `.git`.
    pub path: String,
    /// The URL's scheme was http (not https or ssh).
    pub plain_http: bool,
}

/// Parses `https://host/owner/repo.git`, `ssh://git@host:22/owner/repo`, `git@host:owner/repo.git`
/// and `git://host/owner/repo`; local paths and `file://` URLs give `None`. Credentials in the
/// URL are dropped.
pub fn parse_remote_url(url: &str) -> Option<RemoteRepo> {
    let url = url.trim();
    let (scheme, rest) = match url.split_once("://") {
        Some((s, r)) => (s.to_ascii_lowercase(), r),
        None => {
            // scp-like `user@host:path`: a colon before any slash, and not a Windows drive.
            let colon = url.find(':')?;
            if url[..colon].contains('/') || colon < 2 {
                return None;
            }
            let host = url[..colon].rsplit('@').next()?;
            return finish(host.to_string(), &url[colon + 1..], false);
        }
    };
    if !matches!(
        scheme.as_str(),
        "https" | "http" | "ssh" | "git" | "git+ssh" | "ssh+git"
    ) {
        return None;
    }
    let (authority, path) = rest.split_once('/')?;
    let host_port = authority.rsplit('@').next()?;
    let host = if scheme.starts_with("http") {
        host_port.to_string()
    } else {
        // An ssh port says nothing about where the web API listens.
        strip_port(host_port).to_string()
    };
    finish(host, path, scheme == "http")
}

fn strip_port(host_port: &str) -> &str {
    if host_port.starts_with('[') {
        return host_port
            .split_once(']')
            .map(|(h, _)| &host_port[..h.len() + 1])
            .unwrap_or(host_port);
    }
    host_port.split(':').next().unwrap_or(host_port)
}

fn finish(host: String, path: &str, plain_http: bool) -> Option<RemoteRepo> {
    let path = path.trim_matches('/');
    let path = path
        .strip_suffix(".git")
        .unwrap_or(path)
        .trim_end_matches('/');
    let segments: Vec<&str> = path.split('/').collect();
    let valid = |s: &&str| {
        !s.is_empty()
            && *s != "."
            && *s != ".."
            && s.chars()
                .all(|c| c.is_ascii_alphanumeric() || "-_.~".contains(c))
    };
    if host.is_empty() || segments.len() < 2 || !segments.iter().all(valid) {
        return None;
    }
    Some(RemoteRepo {
        host,
        path: segments.join("/"),
        plain_http,
    })
}

/// The pull request to open.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct PullRequestRequest {
    pub title: String,
    /// The branch with the work (`warden/<id>`).
    pub head: String,
    /// The branch to merge into (`main`).
    pub base: String,
    pub body: String,
    /// Open as a draft (GitHub) or with a `Draft:` / `WIP:` title (GitLab, Gitea): used when a
    /// gate asks for approval.
    pub draft: bool,
}

/// An opened pull request.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct PullRequest {
    /// The page a person opens.
    pub url: String,
    /// The pull request number (GitLab: the merge request's iid).
    pub number: u64,
}

/// The API root and repository a request goes to.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ForgeTarget {
    pub api_base: String,
    pub repo: String,
}

/// Works out the API root and repository from the configuration and the remote URL.
pub fn target(cfg: &ForgeConfig, remote_url: &str) -> Result<ForgeTarget, ForgeError> {
    let parsed = parse_remote_url(remote_url);
    let shown_remote = || {
        parsed
            .as_ref()
            .map(|r| format!("{}/{}", r.host, r.path))
            .unwrap_or_else(|| "(a local path)".into())
    };
    let repo = match (&cfg.repo, &parsed) {
        (Some(r), _) => r.trim_matches('/').to_string(),
        (None, Some(p)) => p.path.clone(),
        (None, None) => {
            return Err(ForgeError::UnknownRepo {
                remote: shown_remote(),
            })
        }
    };
    let api_base = match (&cfg.api_base, &parsed) {
        (Some(base), _) => base.trim_end_matches('/').to_string(),
        (None, Some(p)) => {
            let scheme = if p.plain_http { "http" } else { "https" };
            match cfg.kind {
                ForgeKind::GitHub if p.host.eq_ignore_ascii_case("github.com") => {
                    "https://api.github.com".to_string()
                }
                ForgeKind::GitHub => format!("{scheme}://{}/api/v3", p.host),
                ForgeKind::GitLab => format!("{scheme}://{}/api/v4", p.host),
                ForgeKind::Gitea => format!("{scheme}://{}/api/v1", p.host),
            }
        }
        (None, None) => {
            return Err(ForgeError::UnknownApi {
                remote: shown_remote(),
            })
        }
    };
    Ok(ForgeTarget { api_base, repo })
}

/// Refuses plain http except to loopback addresses.
fn require_secure(url: &str) -> Result<(), ForgeError> {
    let lower = url.to_ascii_lowercase();
    if lower.starts_with("https://") {
        return Ok(());
    }
    if let Some(rest) = lower.strip_prefix("http://") {
        let authority = rest.split('/').next().unwrap_or("");
        let host = strip_port(authority.rsplit('@').next().unwrap_or(""));
        let loopback_v4 = host
            .parse::<std::net::Ipv4Addr>()
            .is_ok_and(|ip| ip.is_loopback());
        if host == "localhost" || host == "[::1]" || loopback_v4 {
            return Ok(());
        }
    }
    Err(ForgeError::InsecureApi {
        url: url.to_string(),
    })
}

fn percent_encode(s: &str) -> String {
    let mut out = String::with_capacity(s.len());
    for b in s.bytes() {
        if b.is_ascii_alphanumeric() || b"-_.~".contains(&b) {
            out.push(char::from(b));
        } else {
            out.push_str(&format!("%{b:02X}"));
        }
    }
    out
}

/// Opens the pull request and returns its address.
pub fn open_pull_request(
    cfg: &ForgeConfig,
    target: &ForgeTarget,
    token: &str,
    pr: &PullRequestRequest,
) -> Result<PullRequest, ForgeError> {
    let (url, body, auth): (String, Value, (&str, String)) = match cfg.kind {
        ForgeKind::GitHub => (
            format!("{}/repos/{}/pulls", target.api_base, target.repo),
            json!({"title": pr.title, "head": pr.head, "base": pr.base, "body": pr.body, "draft": pr.draft}),
            ("Authorization", format!("Bearer {token}")),
        ),
        ForgeKind::GitLab => (
            format!(
                "{}/projects/{}/merge_requests",
                target.api_base,
                percent_encode(&target.repo)
            ),
            json!({
                "source_branch": pr.head,
                "target_branch": pr.base,
                "title": if pr.draft { format!("Draft: {}", pr.title) } else { pr.title.clone() },
                "description": pr.body,
            }),
            ("PRIVATE-TOKEN", token.to_string()),
        ),
        ForgeKind::Gitea => (
            format!("{}/repos/{}/pulls", target.api_base, target.repo),
            json!({
                "head": pr.head,
                "base": pr.base,
                "title": if pr.draft { format!("WIP: {}", pr.title) } else { pr.title.clone() },
                "body": pr.body,
            }),
            ("Authorization", format!("token {token}")),
        ),
    };
    require_secure(&url)?;
    let agent: ureq::Agent = ureq::Agent::config_builder()
        .timeout_global(Some(cfg.timeout))
        .http_status_as_error(false)
        .user_agent(concat!("warden/", env!("CARGO_PKG_VERSION")))
        .build()
        .into();
    let mut request = agent.post(&url).header(auth.0, &auth.1);
    if cfg.kind == ForgeKind::GitHub {
        request = request
            .header("Accept", "application/vnd.github+json")
            .header("X-GitHub-Api-Version", "2022-11-28");
    }
    let mut response = request
        .send_json(&body)
        .map_err(|e| ForgeError::Transport {
            url: url.clone(),
            detail: e.to_string(),
        })?;
    let status = response.status().as_u16();
    let text = response
        .body_mut()
        .with_config()
        .limit(1024 * 1024)
        .lossy_utf8(true)
        .read_to_string()
        .map_err(|e| ForgeError::Transport {
            url: url.clone(),
            detail: e.to_string(),
        })?;
    let value: Value = serde_json::from_str(&text).unwrap_or(Value::Null);
    if !(200..300).contains(&status) {
        return Err(ForgeError::Rejected {
            status,
            message: error_message(&value, &text),
        });
    }
    let (url_key, number_key) = match cfg.kind {
        ForgeKind::GitLab => ("web_url", "iid"),
        _ => ("html_url", "number"),
    };
    match (
        value.get(url_key).and_then(Value::as_str),
        value.get(number_key).and_then(Value::as_u64),
    ) {
        (Some(u), Some(n)) => Ok(PullRequest {
            url: u.to_string(),
            number: n,
        }),
        _ => Err(ForgeError::BadResponse {
            detail: format!(
                "status {status} without {url_key} and {number_key}: {}",
                clip(&text, 300)
            ),
        }),
    }
}

/// The forge's own words about a refusal (GitHub: `message` plus `errors[].message`).
fn error_message(value: &Value, raw: &str) -> String {
    let mut parts = Vec::new();
    if let Some(m) = value.get("message") {
        parts.push(match m {
            Value::String(s) => s.clone(),
            other => other.to_string(),
        });
    }
    if let Some(Value::Array(errors)) = value.get("errors") {
        for e in errors {
            if let Some(m) = e.get("message").and_then(Value::as_str) {
                parts.push(m.to_string());
            } else if let Some(s) = e.as_str() {
                parts.push(s.to_string());
            }
        }
    }
    if let Some(e) = value.get("error").and_then(Value::as_str) {
        parts.push(e.to_string());
    }
    if parts.is_empty() {
        clip(raw, 300)
    } else {
        clip(&parts.join("; "), 500)
    }
}

fn clip(s: &str, max: usize) -> String {
    if s.chars().count() <= max {
        return s.to_string();
    }
    let cut: String = s.chars().take(max).collect();
    format!("{cut}…")
}

#[cfg(test)]
mod tests {
    use super::*;
    use proptest::prelude::*;

    #[test]
    fn remote_urls() {
        let r = |u| parse_remote_url(u).map(|r| (r.host, r.path, r.plain_http));
        let gh = Some(("github.com".to_string(), "o/r".to_string(), false));
        assert_eq!(r("https://github.com/o/r.git"), gh);
        assert_eq!(r("https://x-access-token:SECRET@github.com/o/r"), gh);
        assert_eq!(r("git@github.com:o/r.git"), gh);
        assert_eq!(r("ssh://git@github.com:22/o/r.git"), gh);
        assert_eq!(r("git://github.com/o/r/"), gh);
        assert_eq!(
            r("http://127.0.0.1:8080/o/r"),
            Some(("127.0.0.1:8080".into(), "o/r".into(), true))
        );
        assert_eq!(
            r("https://gitlab.com/g/sub/p.git"),
            Some(("gitlab.com".into(), "g/sub/p".into(), false))
        );
        for local in [
            "/srv/git/r.git",
            "../r",
            "file:///srv/r.git",
            "C:/x/y",
            "https://github.com/onlyowner",
            "https://h/o/../x",
        ] {
            assert_eq!(r(local), None, "{local}");
        }
    }

    #[test]
    fn api_defaults_and_overrides() {
        let t = target(
            &ForgeConfig::new(ForgeKind::GitHub),
            "git@github.com:o/r.git",
        )
        .unwrap();
        assert_eq!(
            t,
            ForgeTarget {
                api_base: "https://api.github.com".into(),
                repo: "o/r".into()
            }
        );
        let t = target(&ForgeConfig::new(ForgeKind::GitHub), "https://ghe.corp/o/r").unwrap();
        assert_eq!(t.api_base, "https://ghe.corp/api/v3");
        let t = target(
            &ForgeConfig::new(ForgeKind::GitLab),
            "git@gitlab.corp:g/s/p.git",
        )
        .unwrap();
        assert_eq!(t.api_base, "https://gitlab.corp/api/v4");
        assert!(matches!(
            target(&ForgeConfig::new(ForgeKind::Gitea), "/tmp/x.git"),
            Err(ForgeError::UnknownRepo { .. })
        ));
        let mut cfg = ForgeConfig::new(ForgeKind::Gitea);
        cfg.repo = Some("o/r".into());
        assert!(matches!(
            target(&cfg, "/tmp/x.git"),
            Err(ForgeError::UnknownApi { .. })
        ));
        cfg.api_base = Some("http://127.0.0.1:3000/api/v1/".into());
        assert_eq!(
            target(&cfg, "/tmp/x.git").unwrap().api_base,
            "http://127.0.0.1:3000/api/v1"
        );
    }

    #[test]
    fn tokens_only_over_https_or_loopback() {
        assert!(require_secure("https://api.github.com/repos").is_ok());
        assert!(require_secure("http://127.0.0.1:9/x").is_ok());
        assert!(require_secure("http://localhost/x").is_ok());
        assert!(require_secure("http://[::1]:80/x").is_ok());
        assert!(require_secure("http://ghe.corp/api/v3").is_err());
        assert!(require_secure("http://127.0.0.1.evil.com/x").is_err());
        assert!(require_secure("http://localhost.evil.com/x").is_err());
    }

    #[test]
    fn insecure_api_is_refused_before_any_request() {
        let mut cfg = ForgeConfig::new(ForgeKind::GitHub);
        cfg.timeout = Duration::from_millis(200);
        let t = ForgeTarget {
            api_base: "http://example.invalid".into(),
            repo: "o/r".into(),
        };
        let pr = PullRequestRequest {
            title: "t".into(),
            head: "h".into(),
            base: "b".into(),
            body: String::new(),
            draft: false,
        };
        assert!(matches!(
            open_pull_request(&cfg, &t, "tok", &pr),
            Err(ForgeError::InsecureApi { .. })
        ));
    }

    #[test]
    fn gitlab_project_ids_are_encoded() {
        assert_eq!(percent_encode("g/sub/p.x"), "g%2Fsub%2Fp.x");
    }

    #[test]
    fn github_error_messages_are_kept() {
        let v: Value = serde_json::from_str(r#"{"message":"Validation Failed","errors":[{"message":"A pull request already exists"}]}"#).unwrap();
        assert_eq!(
            error_message(&v, ""),
            "Validation Failed; A pull request already exists"
        );
    }

    proptest! {
        #[test]
        fn parsing_never_panics_and_never_keeps_credentials(u in "\\PC{0,80}") {
            if let Some(r) = parse_remote_url(&u) {
                prop_assert!(!r.host.contains('@'));
                prop_assert!(!r.path.contains(".."));
            }
        }
    }
}
