//! Webhooks against a real local HTTP receiver.

use std::io::{BufRead, BufReader, Read, Write};
use std::net::TcpListener;
use std::sync::mpsc;
use std::thread;
use std::time::{Duration, Instant};

use serde_json::{json, Value};
use warden_approvals::notify::{pending_payload, send_pending, WebhookConfig, WebhookFormat};
use warden_approvals::{
    request_and_wait, ApprovalError, ApprovalStore, Decision, NewRequest, Outcome, Scope,
    SqliteApprovals, WaitOptions,
};

/// Accepts one request, answers `status`, and sends its body back.
fn receiver(status: u16) -> (String, mpsc::Receiver<(String, Value)>) {
    let listener = TcpListener::bind("127.0.0.1:0").unwrap();
    let url = format!("http://{}/hook", listener.local_addr().unwrap());
    let (tx, rx) = mpsc::channel();
    thread::spawn(move || {
        let (stream, _) = listener.accept().unwrap();
        let mut reader = BufReader::new(stream.try_clone().unwrap());
        let mut head = String::new();
        let mut len = 0usize;
        loop {
            let mut line = String::new();
            reader.read_line(&mut line).unwrap();
            if let Some(v) = line.to_ascii_lowercase().strip_prefix("content-length:") {
                len = v.trim().parse().unwrap();
            }
            if line == "\r\n" {
                break;
            }
            head.push_str(&line);
        }
        let mut body = vec![0; len];
        reader.read_exact(&mut body).unwrap();
        let mut stream = stream;
        write!(
            stream,
            "HTTP/1.1 {status} X\r\nContent-Length: 0\r\nConnection: close\r\n\r\n"
        )
        .unwrap();
        tx.send((head, serde_json::from_slice(&body).unwrap()))
            .unwrap();
    });
    (url, rx)
}

fn request(s: &SqliteApprovals) -> warden_approvals::ApprovalRequest {
    s.create(NewRequest::new(
        "s1",
        "Bash",
        json!({"command": "psql -f migrate.sql <!channel>"}),
        "ask: migration",
    ))
    .unwrap()
}

#[test]
fn json_webhook_carries_the_request_and_its_link() {
    let dir = tempfile::tempdir().unwrap();
    let s = SqliteApprovals::open(&dir.path().join("audit.db")).unwrap();
    let r = request(&s);
    let (url, rx) = receiver(200);
    send_pending(
        &WebhookConfig::new(url, WebhookFormat::Json),
        &r,
        Some("http://127.0.0.1:8642/"),
    )
    .unwrap();
    let (head, body) = rx.recv_timeout(Duration::from_secs(5)).unwrap();
    assert!(head.starts_with("POST /hook"), "{head}");
    assert!(
        head.to_ascii_lowercase()
            .contains("content-type: application/json"),
        "{head}"
    );
    assert_eq!(body["id"], r.id);
    assert_eq!(body["event"], "approval.pending");
    assert_eq!(
        body["url"],
        format!("http://127.0.0.1:8642/requests/{}", r.id)
    );
    assert_eq!(body["action"]["command"], "psql -f migrate.sql <!channel>");
}

#[test]
fn slack_webhook_is_a_text_message_with_escaped_agent_text() {
    let dir = tempfile::tempdir().unwrap();
    let s = SqliteApprovals::open(&dir.path().join("audit.db")).unwrap();
    let r = request(&s);
    let body = pending_payload(WebhookFormat::Slack, &r, Some("http://127.0.0.1:8642"));
    let obj = body.as_object().unwrap();
    assert_eq!(obj.len(), 1, "Slack takes {{\"text\": ...}}");
    let text = body["text"].as_str().unwrap();
    assert!(text.contains("&lt;!channel&gt;"), "{text}");
    assert!(!text.contains("<!channel>"), "{text}");
    assert!(
        text.contains(&format!("<http://127.0.0.1:8642/requests/{}|", r.id)),
        "{text}"
    );
}

#[test]
fn a_failing_receiver_is_an_error() {
    let dir = tempfile::tempdir().unwrap();
    let s = SqliteApprovals::open(&dir.path().join("audit.db")).unwrap();
    let (url, _rx) = receiver(500);
    let e = send_pending(
        &WebhookConfig::new(url, WebhookFormat::Json),
        &request(&s),
        None,
    )
    .unwrap_err();
    assert!(matches!(e, ApprovalError::Notify { .. }), "{e:?}");
}

#[test]
fn a_hanging_receiver_never_delays_the_decision() {
    let dir = tempfile::tempdir().unwrap();
    let db = dir.path().join("audit.db");
    // Accepts connections and never answers.
    let listener = TcpListener::bind("127.0.0.1:0").unwrap();
    let url = format!("http://{}/hook", listener.local_addr().unwrap());
    let _hold = thread::spawn(move || {
        let mut held = Vec::new();
        for s in listener.incoming() {
            held.push(s);
        }
    });
    let db2 = db.clone();
    thread::spawn(move || {
        let s = SqliteApprovals::open(&db2).unwrap();
        loop {
            if let Some(r) = s.pending().unwrap().first() {
                let d = Decision::Approve {
                    by: "alice".into(),
                    reason: None,
                    scope: Scope::ThisAction,
                };
                s.decide(&r.id, d).unwrap();
                return;
            }
            thread::sleep(Duration::from_millis(10));
        }
    });
    let s = SqliteApprovals::open(&db).unwrap();
    let mut hook = WebhookConfig::new(url, WebhookFormat::Json);
    hook.timeout = Duration::from_secs(30);
    let opts = WaitOptions {
        timeout: Duration::from_secs(20),
        poll_interval: Duration::from_millis(20),
        webhook: Some(hook),
        base_url: None,
    };
    let t = Instant::now();
    let out = request_and_wait(&s, request_new(), &opts).unwrap();
    assert!(matches!(out, Outcome::Approved { .. }), "{out:?}");
    assert!(t.elapsed() < Duration::from_secs(5), "{:?}", t.elapsed());
}

fn request_new() -> NewRequest {
    NewRequest::new(
        "s9",
        "Bash",
        json!({"command": "make deploy"}),
        "ask: deploy",
    )
}
