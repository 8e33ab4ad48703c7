//! The web app over real HTTP (no browser): login, escaping, and the CSRF,
//! Origin and Host checks on every POST.

use std::io::{BufRead, BufReader, Read, Write};
use std::net::{SocketAddr, TcpStream};
use std::time::Duration;

use serde_json::json;
use warden_approvals::web::{self, RunningServer, ServeOptions};
use warden_approvals::{ApprovalError, ApprovalStore, NewRequest, SqliteApprovals, Status};

const TOKEN: &str = "test-token-0123456789abcdef";
const HOSTILE: &str = "<script>alert('pwned')</script>";

struct Fixture {
    _dir: tempfile::TempDir,
    store: SqliteApprovals,
    server: RunningServer,
    id: String,
    agent: ureq::Agent,
}

fn fixture() -> Fixture {
    fixture_with(|_| {})
}

fn fixture_with(tune: impl FnOnce(&mut ServeOptions)) -> Fixture {
    let dir = tempfile::tempdir().unwrap();
    let db = dir.path().join("audit.db");
    let store = SqliteApprovals::open(&db).unwrap();
    let req = NewRequest::new(
        format!("sess</td>{HOSTILE}"),
        "Bash",
        json!({"command": format!("psql -f migrate.sql # {HOSTILE}")}),
        format!("rule ask:db {HOSTILE}"),
    )
    .with_diff_preview(Some(format!(
        "--- a/x\n+++ b/x\n@@ -1 +1 @@\n-old\n+{HOSTILE}\n"
    )));
    let id = store.create(req).unwrap().id;
    let mut opts = ServeOptions::new(&db);
    opts.bind = "127.0.0.1:0".parse().unwrap();
    opts.token = Some(TOKEN.into());
    tune(&mut opts);
    let server = web::start(opts).unwrap();
    let agent: ureq::Agent = ureq::Agent::config_builder()
        .max_redirects(0)
        .max_redirects_will_error(false)
        .http_status_as_error(false)
        .timeout_global(Some(Duration::from_secs(10)))
        .build()
        .into();
    Fixture {
        _dir: dir,
        store,
        server,
        id,
        agent,
    }
}

impl Fixture {
    fn url(&self, path: &str) -> String {
        format!("{}{path}", self.server.base_url())
    }

    fn origin(&self) -> String {
        self.server.base_url().to_string()
    }

    /// Logs in and returns the cookie pair and the page's CSRF value.
    fn login(&self) -> (String, String) {
        let res = self
            .agent
            .get(&self.url(&format!("/login?token={TOKEN}")))
            .call()
            .unwrap();
        assert_eq!(res.status(), 200);
        let set = res
            .headers()
            .get("set-cookie")
            .expect("login sets a cookie")
            .to_str()
            .unwrap()
            .to_string();
        assert!(set.contains("HttpOnly"), "{set}");
        assert!(set.contains("SameSite=Strict"), "{set}");
        let cookie = set.split(';').next().unwrap().to_string();
        let page = self.get("/", Some(&cookie)).1;
        (cookie, csrf_in(&page))
    }

    fn get(&self, path: &str, cookie: Option<&str>) -> (u16, String) {
        let mut req = self.agent.get(&self.url(path));
        if let Some(c) = cookie {
            req = req.header("Cookie", c);
        }
        let mut res = req.call().unwrap();
        let status = res.status().as_u16();
        (status, res.body_mut().read_to_string().unwrap())
    }

    fn post(
        &self,
        path: &str,
        cookie: Option<&str>,
        origin: Option<&str>,
        form: &[(&str, &str)],
    ) -> (u16, Option<String>) {
        let mut req = self.agent.post(&self.url(path));
        if let Some(c) = cookie {
            req = req.header("Cookie", c);
        }
        if let Some(o) = origin {
            req = req.header("Origin", o);
        }
        let res = req.send_form(form.iter().copied()).unwrap();
        let loc = res
            .headers()
            .get("location")
            .map(|v| v.to_str().unwrap().to_string());
        (res.status().as_u16(), loc)
    }

    fn status(&self) -> Status {
        self.store.get(&self.id).unwrap().unwrap().status
    }
}

fn csrf_in(page: &str) -> String {
    let marker = r#"name="csrf" value=""#;
    let start = page.find(marker).expect("page has a CSRF field") + marker.len();
    let end = page[start..].find('"').unwrap();
    page[start..start + end].to_string()
}

#[test]
fn pages_need_a_login_and_a_wrong_token_is_refused() {
    let f = fixture();
    let (status, body) = f.get("/", None);
    assert_eq!(status, 401);
    assert!(
        body.contains("name=\"token\""),
        "login form expected: {body}"
    );
    assert!(!body.contains(&f.id), "no request data before login");
    assert_eq!(f.get(&format!("/requests/{}", f.id), None).0, 401);
    assert_eq!(f.get("/login?token=wrong-token-0000000000", None).0, 403);
    let (status, _) = f.get("/", Some("warden_session_1=forged"));
    assert_eq!(status, 401);
}

#[test]
fn agent_text_is_escaped_everywhere() {
    let f = fixture();
    let (cookie, _) = f.login();
    for path in [
        "/".to_string(),
        format!("/requests/{}", f.id),
        "/fragments/pending".to_string(),
        "/sessions".to_string(),
    ] {
        let (status, body) = f.get(&path, Some(&cookie));
        assert_eq!(status, 200, "{path}");
        assert!(!body.contains(HOSTILE), "{path} contains raw agent HTML");
        assert!(
            !body.contains("sess</td>"),
            "{path} contains raw agent HTML"
        );
        assert!(body.contains("&lt;script&gt;"), "{path} lost the text");
    }
    let (_, page) = f.get(&format!("/requests/{}", f.id), Some(&cookie));
    assert!(page.contains("Diff preview"));
    assert!(page.contains("No audit events match"), "{page}");
    // The session link encodes the agent-chosen id as one path segment.
    assert!(
        page.contains("/sessions/sess%3C%2Ftd%3E%3Cscript%3E"),
        "{page}"
    );
}

#[test]
fn forged_posts_are_refused_and_a_proper_one_is_accepted() {
    let f = fixture();
    let (cookie, csrf) = f.login();
    let origin = f.origin();
    let path = format!("/requests/{}/approve", f.id);
    let form = [("csrf", csrf.as_str()), ("reason", "ok")];
    // No cookie (a cross-site form post without the login).
    assert_eq!(f.post(&path, None, Some(&origin), &form).0, 403);
    // Cookie but no CSRF value.
    assert_eq!(
        f.post(&path, Some(&cookie), Some(&origin), &[("reason", "ok")])
            .0,
        403
    );
    // Cookie and a wrong CSRF value.
    assert_eq!(
        f.post(&path, Some(&cookie), Some(&origin), &[("csrf", "nope")])
            .0,
        403
    );
    // Right values from a foreign origin, or with no origin at all.
    assert_eq!(
        f.post(&path, Some(&cookie), Some("http://evil.example"), &form)
            .0,
        403
    );
    assert_eq!(f.post(&path, Some(&cookie), None, &form).0, 403);
    assert_eq!(f.status(), Status::Pending, "no forged post got through");
    // Everything right.
    let (status, location) = f.post(&path, Some(&cookie), Some(&origin), &form);
    assert_eq!(status, 303);
    assert_eq!(
        location.as_deref(),
        Some(format!("/requests/{}", f.id).as_str())
    );
    match f.status() {
        Status::Approved { by, reason, .. } => {
            assert!(by.starts_with("web:"), "{by}");
            assert_eq!(reason.as_deref(), Some("ok"));
        }
        other => panic!("{other:?}"),
    }
    // A second decision conflicts.
    assert_eq!(f.post(&path, Some(&cookie), Some(&origin), &form).0, 409);
}

#[test]
fn deny_needs_a_reason_and_session_wide_approval_makes_a_rule() {
    let f = fixture();
    let (cookie, csrf) = f.login();
    let origin = f.origin();
    let deny = format!("/requests/{}/deny", f.id);
    let (status, _) = f.post(
        &deny,
        Some(&cookie),
        Some(&origin),
        &[("csrf", &csrf), ("reason", "   ")],
    );
    assert_eq!(status, 400);
    assert_eq!(f.status(), Status::Pending);
    let approve = format!("/requests/{}/approve", f.id);
    let (status, _) = f.post(
        &approve,
        Some(&cookie),
        Some(&origin),
        &[("csrf", &csrf), ("scope", "session")],
    );
    assert_eq!(status, 303);
    let req = f.store.get(&f.id).unwrap().unwrap();
    assert_eq!(f.store.session_rules(&req.session_id).unwrap().len(), 1);
}

#[test]
fn a_foreign_host_header_is_refused() {
    let f = fixture();
    let addr: SocketAddr = f.server.local_addr();
    let mut s = TcpStream::connect(addr).unwrap();
    write!(
        s,
        "GET /login?token={TOKEN} HTTP/1.1\r\nHost: rebound.evil.example\r\nConnection: close\r\n\r\n"
    )
    .unwrap();
    let mut answer = String::new();
    s.read_to_string(&mut answer).unwrap();
    assert!(answer.starts_with("HTTP/1.1 403"), "{answer}");
    assert!(!answer.to_ascii_lowercase().contains("set-cookie"));
}

#[test]
fn pages_carry_a_strict_content_security_policy() {
    let f = fixture();
    let res = f.agent.get(&f.url("/")).call().unwrap();
    let csp = res
        .headers()
        .get("content-security-policy")
        .unwrap()
        .to_str()
        .unwrap();
    assert!(csp.contains("script-src 'self'") && csp.contains("frame-ancestors 'none'"));
    assert_eq!(res.headers().get("x-frame-options").unwrap(), "DENY");
}

#[test]
fn live_updates_stream_the_revision() {
    let f = fixture();
    let (cookie, _) = f.login();
    let mut s = TcpStream::connect(f.server.local_addr()).unwrap();
    s.set_read_timeout(Some(Duration::from_secs(10))).unwrap();
    write!(
        s,
        "GET /events HTTP/1.1\r\nHost: {}\r\nCookie: {cookie}\r\n\r\n",
        f.server.local_addr()
    )
    .unwrap();
    let mut reader = BufReader::new(s);
    let mut first_rev = None;
    let mut line = String::new();
    while first_rev.is_none() {
        line.clear();
        assert!(reader.read_line(&mut line).unwrap() > 0, "stream ended");
        if let Some(d) = line.strip_prefix("data: ") {
            first_rev = Some(d.trim().parse::<u64>().unwrap());
        }
    }
    // A new request from "another process" is pushed.
    f.store
        .create(NewRequest::new(
            "s2",
            "Bash",
            json!({"command": "ls"}),
            "why",
        ))
        .unwrap();
    loop {
        line.clear();
        assert!(reader.read_line(&mut line).unwrap() > 0, "stream ended");
        if let Some(d) = line.strip_prefix("data: ") {
            let rev: u64 = d.trim().parse().unwrap();
            if rev > first_rev.unwrap() {
                break;
            }
        }
    }
}

#[test]
fn listening_beyond_loopback_needs_the_flag_and_warns() {
    let dir = tempfile::tempdir().unwrap();
    let mut opts = ServeOptions::new(dir.path().join("audit.db"));
    opts.bind = "0.0.0.0:0".parse().unwrap();
    let err = web::start(opts.clone()).unwrap_err();
    assert!(matches!(err, ApprovalError::NonLoopback { .. }), "{err:?}");
    opts.allow_non_loopback = true;
    let server = web::start(opts).unwrap();
    assert!(server.warning().unwrap().contains("beyond loopback"));
    server.shutdown().unwrap();
}

#[test]
fn a_short_token_is_refused() {
    let dir = tempfile::tempdir().unwrap();
    let mut opts = ServeOptions::new(dir.path().join("audit.db"));
    opts.bind = "127.0.0.1:0".parse().unwrap();
    opts.token = Some("short".into());
    assert!(matches!(web::start(opts), Err(ApprovalError::Invalid(_))));
}

#[test]
fn without_an_audit_reader_the_timeline_is_a_labelled_placeholder() {
    let f = fixture_with(|o| o.audit = None);
    let (cookie, _) = f.login();
    let (_, page) = f.get(&format!("/requests/{}", f.id), Some(&cookie));
    assert!(page.contains("Audit timeline not connected"), "{page}");
    let (_, page) = f.get("/log", Some(&cookie));
    assert!(page.contains("Audit timeline not connected"), "{page}");
}

#[test]
fn the_session_timeline_and_the_audit_log_come_from_warden_audit() {
    let f = fixture();
    let session = f.store.get(&f.id).unwrap().unwrap().session_id;
    {
        use warden_audit::{AuditStore, CheckpointOptions, EventKind, NewEvent, StoreOptions};
        let opts = StoreOptions {
            checkpoints: CheckpointOptions {
                enabled: false,
                ..CheckpointOptions::default()
            },
            ..StoreOptions::default()
        };
        let audit = warden_audit::SqliteStore::open(f.store.path(), opts).unwrap();
        let mut ev = NewEvent::new(session.as_str(), "claude-code", EventKind::PreToolUse);
        ev.tool = Some("Bash".into());
        ev.input = json!({"command": format!("rm -rf / {HOSTILE}")});
        ev.decision = Some(warden_audit::Decision::Deny);
        ev.rule = Some("Bash(rm -rf*)".into());
        audit.append(ev).unwrap();
        let mut ev = NewEvent::new("other-session", "claude-code", EventKind::PreToolUse);
        ev.tool = Some("Read".into());
        ev.input = json!({"file_path": "README.md"});
        ev.decision = Some(warden_audit::Decision::Allow);
        audit.append(ev).unwrap();
    }
    let (cookie, _) = f.login();
    let (_, page) = f.get(&format!("/requests/{}", f.id), Some(&cookie));
    assert!(page.contains("rm -rf / &lt;script&gt;"), "{page}");
    assert!(page.contains("rule Bash(rm -rf*)"), "{page}");
    assert!(
        !page.contains("README.md"),
        "another session's event leaked in"
    );
    assert!(!page.contains(HOSTILE));
    let (_, log) = f.get("/log?decision=deny", Some(&cookie));
    assert!(
        log.contains("rm -rf /") && !log.contains("README.md"),
        "{log}"
    );
    let (_, log) = f.get("/log?tool=Read&since=1h", Some(&cookie));
    assert!(
        log.contains("README.md") && !log.contains("rm -rf /"),
        "{log}"
    );
    assert_eq!(f.get("/log?since=yesterday", Some(&cookie)).0, 400);
    let (_, sessions) = f.get("/sessions", Some(&cookie));
    assert!(sessions.contains("other-session"), "{sessions}");
}
