//! Shared helpers for the integration tests: real git repositories in temporary directories,
//! a small secret scanner, and local HTTP servers standing in for a forge and a webhook.
#![allow(dead_code)]

use std::path::{Path, PathBuf};
use std::process::Command;
use std::sync::mpsc;
use std::thread::JoinHandle;

use warden_session::{create_workspace, GateFinding, RunId, Workspace, WorkspaceOptions};

/// Runs git in `dir` (as a user would), panicking with stderr on failure.
pub fn git(dir: &Path, args: &[&str]) -> String {
    let out = Command::new("git")
        .current_dir(dir)
        .args([
            "-c",
            "user.name=Test User",
            "-c",
            "user.email=test@example.com",
            "-c",
            "init.defaultBranch=main",
        ])
        .args(args)
        .env_remove("GIT_DIR")
        .env_remove("GIT_WORK_TREE")
        .env_remove("GIT_INDEX_FILE")
        .output()
        .expect("git runs");
    assert!(
        out.status.success(),
        "git {args:?} failed: {}",
        String::from_utf8_lossy(&out.stderr)
    );
    String::from_utf8_lossy(&out.stdout).trim_end().to_string()
}

pub fn write(root: &Path, rel: &str, content: &str) {
    let p = root.join(rel);
    if let Some(parent) = p.parent() {
        std::fs::create_dir_all(parent).unwrap();
    }
    std::fs::write(p, content).unwrap();
}

/// A repository on branch `main` with a few committed files, and a tempdir keeping it alive.
pub struct Repo {
    pub dir: tempfile::TempDir,
}

impl Repo {
    pub fn new() -> Repo {
        let dir = tempfile::tempdir().unwrap();
        let root = dir.path();
        git(root, &["init", "-q", "-b", "main"]);
        write(root, "src/lib.rs", "pub fn answer() -> u32 { 42 }\n");
        write(root, "README.md", "# demo\n");
        write(root, "infra/main.tf", "resource \"x\" \"y\" {}\n");
        write(root, ".gitignore", "target/\n");
        write(root, "test.sh", "#!/bin/sh\ngrep -q 42 src/lib.rs\n");
        git(root, &["add", "-A"]);
        git(root, &["commit", "-q", "-m", "initial"]);
        Repo { dir }
    }

    pub fn root(&self) -> &Path {
        self.dir.path()
    }

    pub fn head(&self) -> String {
        git(self.root(), &["rev-parse", "HEAD"])
    }

    pub fn workspace(&self) -> Workspace {
        let id = RunId::generate().unwrap();
        create_workspace(self.root(), &id, &WorkspaceOptions::default()).unwrap()
    }

    /// `git status --porcelain` of the user's checkout, ignored files included.
    pub fn status(&self) -> String {
        git(self.root(), &["status", "--porcelain", "--ignored"])
    }

    pub fn ref_exists(&self, name: &str) -> bool {
        !git(self.root(), &["for-each-ref", "--format=%(refname)", name]).is_empty()
    }
}

/// Flags AWS access key ids (`AKIA` + 16 upper-case letters or digits): the one rule these
/// tests need; warden's real scanner lives in its secrets crate.
pub fn aws_scanner(_path: &str, added: &str) -> Vec<GateFinding> {
    let mut found = Vec::new();
    for (i, line) in added.lines().enumerate() {
        if let Some(pos) = line.find("AKIA") {
            let key = &line[pos + 4..];
            if key.len() >= 16
                && key[..16]
                    .bytes()
                    .all(|b| b.is_ascii_uppercase() || b.is_ascii_digit())
            {
                found.push(GateFinding {
                    line: Some(i + 1),
                    rule: "aws-access-key-id".into(),
                    message: "AWS access key id".into(),
                });
            }
        }
    }
    found
}

/// One HTTP request as a stand-in server saw it.
#[derive(Debug, Clone)]
pub struct SeenRequest {
    pub method: String,
    pub url: String,
    pub headers: Vec<(String, String)>,
    pub body: String,
}

impl SeenRequest {
    pub fn header(&self, name: &str) -> Option<&str> {
        self.headers
            .iter()
            .find(|(k, _)| k.eq_ignore_ascii_case(name))
            .map(|(_, v)| v.as_str())
    }
}

/// A local HTTP server answering each request with `respond`, reporting what it saw.
pub struct Server {
    pub base: String,
    pub seen: mpsc::Receiver<SeenRequest>,
    _thread: JoinHandle<()>,
}

pub fn serve<F>(requests: usize, respond: F) -> Server
where
    F: Fn(&SeenRequest) -> (u16, String) + Send + 'static,
{
    let server = tiny_http::Server::http("127.0.0.1:0").unwrap();
    let port = server.server_addr().to_ip().unwrap().port();
    let (tx, rx) = mpsc::channel();
    let thread = std::thread::spawn(move || {
        for _ in 0..requests {
            let Ok(Some(mut req)) = server.recv_timeout(std::time::Duration::from_secs(20)) else {
                return;
            };
            let mut body = String::new();
            let _ = std::io::Read::read_to_string(req.as_reader(), &mut body);
            let seen = SeenRequest {
                method: req.method().to_string(),
                url: req.url().to_string(),
                headers: req
                    .headers()
                    .iter()
                    .map(|h| (h.field.to_string(), h.value.to_string()))
                    .collect(),
                body,
            };
            let (status, reply) = respond(&seen);
            let _ = tx.send(seen);
            let header =
                tiny_http::Header::from_bytes(&b"Content-Type"[..], &b"application/json"[..])
                    .unwrap();
            let _ = req.respond(
                tiny_http::Response::from_string(reply)
                    .with_status_code(status)
                    .with_header(header),
            );
        }
    });
    Server {
        base: format!("http://127.0.0.1:{port}"),
        seen: rx,
        _thread: thread,
    }
}

/// A stand-in for GitHub's `POST /repos/{owner}/{repo}/pulls`: it checks the method, the path,
/// the token and the JSON fields the way GitHub does, and answers like GitHub.
pub fn github_standin(owner_repo: &'static str, token: &'static str) -> Server {
    serve(1, move |req| {
        let expected_path = format!("/repos/{owner_repo}/pulls");
        if req.method != "POST" || req.url != expected_path {
            return (404, r#"{"message":"Not Found"}"#.into());
        }
        if req.header("Authorization") != Some(&format!("Bearer {token}")) {
            return (401, r#"{"message":"Bad credentials"}"#.into());
        }
        if req.header("Accept") != Some("application/vnd.github+json") {
            return (415, r#"{"message":"Unsupported Media Type"}"#.into());
        }
        let Ok(v) = serde_json::from_str::<serde_json::Value>(&req.body) else {
            return (400, r#"{"message":"Problems parsing JSON"}"#.into());
        };
        for field in ["title", "head", "base", "body"] {
            if !matches!(v.get(field).and_then(|f| f.as_str()), Some(s) if !s.is_empty()) {
                return (
                    422,
                    format!(
                        r#"{{"message":"Validation Failed","errors":[{{"field":"{field}","code":"missing_field","message":"{field} is missing"}}]}}"#
                    ),
                );
            }
        }
        (
            201,
            format!(
                r#"{{"number":7,"html_url":"https://github.example/{owner_repo}/pull/7","state":"open"}}"#
            ),
        )
    })
}

pub fn bare_remote() -> (tempfile::TempDir, PathBuf) {
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("remote.git");
    git(dir.path(), &["init", "-q", "--bare", "remote.git"]);
    (dir, path)
}
