//! The scripted server's answers to requests Claude Code 2.1.328 does not make in these
//! tests (non-streamed messages, side requests, count_tokens, unknown paths, bad bodies),
//! checked over a plain TCP connection.

use std::io::{Read, Write};
use std::net::TcpStream;

use warden_testkit::serde_json::{self, json, Value};
use warden_testkit::{tool_use_id, MockApi, RequestKind, Scenario};

const SCENARIO: &str = r#"
[[turns]]
[[turns.blocks]]
text = "Looking."
[[turns.blocks]]
tool = "Bash"
input = { command = "ls" }
"#;

fn api() -> MockApi {
    MockApi::start(Scenario::from_toml_str(SCENARIO, "inline").expect("scenario")).expect("start")
}

/// POST `body` to `path`; returns (status, content type, body).
fn post(api: &MockApi, path: &str, body: &str) -> (u16, String, String) {
    let addr = api.base_url().trim_start_matches("http://").to_owned();
    let mut stream = TcpStream::connect(&addr).expect("connect");
    write!(
        stream,
        "POST {path} HTTP/1.1\r\nHost: {addr}\r\nContent-Type: application/json\r\nContent-Length: {}\r\nConnection: close\r\n\r\n{body}",
        body.len()
    )
    .expect("send");
    let mut raw = String::new();
    stream.read_to_string(&mut raw).expect("read");
    let (head, body) = raw.split_once("\r\n\r\n").expect("header end");
    let status = head
        .split_whitespace()
        .nth(1)
        .and_then(|s| s.parse().ok())
        .expect("status");
    let content_type = head
        .lines()
        .find_map(|l| {
            let (k, v) = l.split_once(':')?;
            k.eq_ignore_ascii_case("content-type")
                .then(|| v.trim().to_owned())
        })
        .unwrap_or_default();
    (status, content_type, body.to_owned())
}

#[test]
fn non_streamed_main_request_gets_the_turn_as_json() {
    let api = api();
    let req = json!({"model": "m", "tools": [{"name": "Bash"}],
                     "messages": [{"role": "user", "content": "go"}]});
    let (status, ct, body) = post(&api, "/v1/messages?beta=true", &req.to_string());
    assert_eq!(status, 200);
    assert!(ct.starts_with("application/json"), "{ct}");
    let msg: Value = serde_json::from_str(&body).expect("json");
    assert_eq!(msg["stop_reason"], "tool_use");
    assert_eq!(msg["content"][0]["text"], "Looking.");
    assert_eq!(msg["content"][1]["id"], tool_use_id(0, 1));
    assert_eq!(msg["content"][1]["input"]["command"], "ls");

    // The conversation now holds turn 0, so the next request gets the closing reply.
    let req2 = json!({"model": "m", "tools": [{"name": "Bash"}], "stream": true, "messages": [
        {"role": "user", "content": "go"},
        {"role": "assistant", "content": msg["content"]},
        {"role": "user", "content": [{"type": "tool_result", "tool_use_id": tool_use_id(0, 1), "content": "a"}]},
    ]});
    let (status, ct, body) = post(&api, "/v1/messages?beta=true", &req2.to_string());
    assert_eq!(status, 200);
    assert!(ct.starts_with("text/event-stream"), "{ct}");
    assert!(body.contains("\"stop_reason\":\"end_turn\""), "{body}");
    assert!(body.contains("Done."), "{body}");

    let log = api.requests();
    assert_eq!(log.len(), 2);
    assert_eq!((log[0].kind, log[0].turn), (RequestKind::Main, Some(0)));
    assert_eq!((log[1].kind, log[1].turn), (RequestKind::Main, None));
    assert!(!log[0].streamed && log[1].streamed);
}

#[test]
fn side_request_does_not_advance_the_scenario() {
    let api = api();
    let side = json!({"model": "haiku", "messages": [{"role": "user", "content": "title?"}]});
    let (status, _, body) = post(&api, "/v1/messages", &side.to_string());
    assert_eq!(status, 200);
    let msg: Value = serde_json::from_str(&body).expect("json");
    assert_eq!(msg["stop_reason"], "end_turn");
    assert_eq!(msg["content"][0]["type"], "text");

    let main = json!({"model": "m", "tools": [{"name": "Bash"}], "messages": []});
    let (_, _, body) = post(&api, "/v1/messages", &main.to_string());
    assert!(body.contains(&tool_use_id(0, 1)), "{body}");
    assert_eq!(api.requests()[0].kind, RequestKind::Side);
}

#[test]
fn count_tokens_unknown_paths_and_bad_bodies() {
    let api = api();
    let (status, _, body) = post(
        &api,
        "/v1/messages/count_tokens?beta=true",
        "{\"messages\":[]}",
    );
    assert_eq!(status, 200);
    let v: Value = serde_json::from_str(&body).expect("json");
    assert!(v["input_tokens"].is_u64(), "{v}");

    let (status, _, body) = post(&api, "/v1/elsewhere", "{}");
    assert_eq!(status, 404);
    assert!(body.contains("not_found_error"), "{body}");

    let (status, _, body) = post(&api, "/v1/messages", "{not json");
    assert_eq!(status, 400);
    assert!(body.contains("invalid_request_error"), "{body}");

    let kinds: Vec<_> = api.requests().iter().map(|r| r.kind).collect();
    assert_eq!(
        kinds,
        [
            RequestKind::CountTokens,
            RequestKind::Other,
            RequestKind::Side
        ]
    );
    assert_eq!(api.requests()[2].raw_body.as_deref(), Some("{not json"));
}
