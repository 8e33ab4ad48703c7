//! The scripted Messages API server.
//!
//! It plays a [`Scenario`]: each main-conversation request gets the next scripted turn,
//! streamed as server-sent events in the Messages API's order. Every request is recorded.

use std::net::SocketAddr;
use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::{Arc, Mutex, PoisonError};
use std::thread::JoinHandle;

use serde::Serialize;
use serde_json::{json, Value};
use tiny_http::{Header, Response, Server};

use crate::scenario::{tool_use_id, turn_of_id, Block, Scenario};
use crate::Error;

/// What a recorded request was, as the server classified it.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
#[serde(rename_all = "snake_case")]
pub enum RequestKind {
    /// `POST /v1/messages` offering tools: the agent loop. These advance the scenario.
    Main,
    /// `POST /v1/messages` without tools (titles, summaries, ...): answered with a short text.
    Side,
    /// `POST /v1/messages/count_tokens`.
    CountTokens,
    /// Anything else: answered 404 with an API-shaped error.
    Other,
}

/// One request as the server received it.
#[derive(Debug, Clone, Serialize)]
pub struct RecordedRequest {
    /// Arrival order, from 0.
    pub seq: usize,
    /// HTTP method.
    pub method: String,
    /// Path and query, as sent (`/v1/messages?beta=true`).
    pub url: String,
    /// How the server classified it.
    pub kind: RequestKind,
    /// The JSON body (`Null` when empty or not JSON; see `raw_body`).
    pub body: Value,
    /// The body text when it was not JSON.
    pub raw_body: Option<String>,
    /// For [`RequestKind::Main`]: the scripted turn served, or `None` for the closing reply.
    pub turn: Option<usize>,
    /// Whether the reply was streamed as server-sent events.
    pub streamed: bool,
}

impl RecordedRequest {
    /// The model named in the body, if any.
    pub fn model(&self) -> Option<&str> {
        self.body.get("model").and_then(Value::as_str)
    }

    /// Names of the tools the request offered.
    pub fn tool_names(&self) -> Vec<&str> {
        self.body
            .get("tools")
            .and_then(Value::as_array)
            .map(|tools| {
                tools
                    .iter()
                    .filter_map(|t| t.get("name").and_then(Value::as_str))
                    .collect()
            })
            .unwrap_or_default()
    }

    /// One line for logs and failure reports.
    pub fn summary(&self) -> String {
        format!(
            "#{} {} {} kind={:?} model={} stream={} tools={} messages={} turn={}",
            self.seq,
            self.method,
            self.url,
            self.kind,
            self.model().unwrap_or("-"),
            self.streamed,
            self.tool_names().len(),
            self.body
                .get("messages")
                .and_then(Value::as_array)
                .map_or(0, Vec::len),
            self.turn.map_or_else(|| "-".to_owned(), |t| t.to_string()),
        )
    }
}

struct Shared {
    scenario: Scenario,
    log: Mutex<Vec<RecordedRequest>>,
    next_message: AtomicU64,
}

/// A running scripted Messages API server on 127.0.0.1; it stops when dropped.
pub struct MockApi {
    server: Arc<Server>,
    addr: SocketAddr,
    shared: Arc<Shared>,
    worker: Option<JoinHandle<()>>,
}

impl std::fmt::Debug for MockApi {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("MockApi").field("addr", &self.addr).finish()
    }
}

impl MockApi {
    /// Bind an ephemeral port on 127.0.0.1 and start serving `scenario`.
    pub fn start(scenario: Scenario) -> Result<Self, Error> {
        let server = Server::http("127.0.0.1:0").map_err(|e| Error::Server(e.to_string()))?;
        let addr = server
            .server_addr()
            .to_ip()
            .ok_or_else(|| Error::Server("listener has no IP address".to_owned()))?;
        let server = Arc::new(server);
        let shared = Arc::new(Shared {
            scenario,
            log: Mutex::new(Vec::new()),
            next_message: AtomicU64::new(1),
        });
        let worker = {
            let server = Arc::clone(&server);
            let shared = Arc::clone(&shared);
            std::thread::Builder::new()
                .name("warden-testkit-api".to_owned())
                .spawn(move || serve(&server, &shared))
                .map_err(|source| Error::Io {
                    context: "spawning the server thread".to_owned(),
                    source,
                })?
        };
        Ok(Self {
            server,
            addr,
            shared,
            worker: Some(worker),
        })
    }

    /// `http://127.0.0.1:PORT`, the value for `ANTHROPIC_BASE_URL`.
    pub fn base_url(&self) -> String {
        format!("http://{}", self.addr)
    }

    /// The scenario being played.
    pub fn scenario(&self) -> &Scenario {
        &self.shared.scenario
    }

    /// Every request received so far, in arrival order.
    pub fn requests(&self) -> Vec<RecordedRequest> {
        self.shared
            .log
            .lock()
            .unwrap_or_else(PoisonError::into_inner)
            .clone()
    }
}

impl Drop for MockApi {
    fn drop(&mut self) {
        self.server.unblock();
        if let Some(worker) = self.worker.take() {
            // A panic in the worker has already been recorded as a failed reply; nothing to add.
            let _ = worker.join();
        }
    }
}

fn serve(server: &Server, shared: &Shared) {
    // `incoming_requests` ends when `unblock` is called.
    for mut request in server.incoming_requests() {
        let method = request.method().as_str().to_owned();
        let url = request.url().to_owned();
        let mut raw = Vec::new();
        let read = request.as_reader().read_to_end(&mut raw);
        let (body, raw_body) = match serde_json::from_slice::<Value>(&raw) {
            Ok(v) => (v, None),
            Err(_) if raw.is_empty() => (Value::Null, None),
            Err(_) => (
                Value::Null,
                Some(String::from_utf8_lossy(&raw).into_owned()),
            ),
        };
        let path = url.split('?').next().unwrap_or("");
        let kind = match (method.as_str(), path) {
            ("POST", "/v1/messages") => {
                let has_tools = body
                    .get("tools")
                    .and_then(Value::as_array)
                    .is_some_and(|t| !t.is_empty());
                if has_tools {
                    RequestKind::Main
                } else {
                    RequestKind::Side
                }
            }
            ("POST", "/v1/messages/count_tokens") => RequestKind::CountTokens,
            _ => RequestKind::Other,
        };
        let streamed = body.get("stream").and_then(Value::as_bool).unwrap_or(false)
            && matches!(kind, RequestKind::Main | RequestKind::Side);

        let (turn, reply) = if read.is_err() || raw_body.is_some() {
            (
                None,
                error_reply(400, "invalid_request_error", "body is not JSON"),
            )
        } else {
            match kind {
                RequestKind::Main => {
                    let turn = next_turn(&body);
                    let blocks = shared.scenario.turns.get(turn).map(|t| t.blocks.as_slice());
                    let served = blocks.map(|_| turn);
                    let content = match blocks {
                        Some(blocks) => {
                            let mut content = content_of(turn, blocks);
                            if let Some(cwd) = reported_cwd(&body) {
                                for block in &mut content {
                                    substitute(block, CWD_PLACEHOLDER, &cwd);
                                }
                            }
                            content
                        }
                        None => vec![json!({"type": "text", "text": shared.scenario.final_text()})],
                    };
                    (served, message_reply(shared, &body, content, streamed))
                }
                RequestKind::Side => {
                    let content = vec![json!({"type": "text", "text": "Scripted side reply."})];
                    (None, message_reply(shared, &body, content, streamed))
                }
                RequestKind::CountTokens => (
                    None,
                    json_reply(200, &json!({"input_tokens": estimate_tokens(&body)})),
                ),
                RequestKind::Other => (
                    None,
                    error_reply(404, "not_found_error", "not served by the scripted API"),
                ),
            }
        };

        {
            let mut log = shared.log.lock().unwrap_or_else(PoisonError::into_inner);
            let seq = log.len();
            log.push(RecordedRequest {
                seq,
                method,
                url,
                kind,
                body,
                raw_body,
                turn,
                streamed,
            });
        }
        // The client may have gone away (it timed out or was killed); nothing to do then.
        let _ = request.respond(reply);
    }
}

/// Which scripted turn a main request asks for.
///
/// Counting assistant messages is not enough: Claude Code merges assistant messages that
/// share an id and adds its own `system` messages. The tool_use ids carry the turn number,
/// so the next turn is one past the highest turn already in the conversation. A retried
/// request therefore gets the same turn again.
pub(crate) fn next_turn(body: &Value) -> usize {
    let mut next = 0;
    let messages = body.get("messages").and_then(Value::as_array);
    for message in messages.into_iter().flatten() {
        if message.get("role").and_then(Value::as_str) != Some("assistant") {
            continue;
        }
        let blocks = message.get("content").and_then(Value::as_array);
        for block in blocks.into_iter().flatten() {
            if let Some(turn) = block.get("id").and_then(Value::as_str).and_then(turn_of_id) {
                next = next.max(turn + 1);
            }
        }
    }
    next
}

/// Stands, in a scenario's tool inputs, for the directory Claude Code reports working in: a
/// scenario played under `warden run` does not know the run's worktree in advance.
pub const CWD_PLACEHOLDER: &str = "{cwd}";

/// The working directory Claude Code states in its system prompt ("Primary working
/// directory: PATH"), wherever in the request it appears.
pub(crate) fn reported_cwd(body: &Value) -> Option<String> {
    const MARK: &str = "Primary working directory: ";
    let text = body.to_string();
    let at = text.find(MARK)? + MARK.len();
    let rest = &text[at..];
    // The body is JSON text: the path ends at an escaped newline or the string's end.
    let end = rest
        .find("\\n")
        .into_iter()
        .chain(rest.find('"'))
        .min()
        .unwrap_or(rest.len());
    let path = rest[..end].trim();
    (!path.is_empty()).then(|| path.to_owned())
}

fn substitute(value: &mut Value, placeholder: &str, with: &str) {
    match value {
        Value::String(s) if s.contains(placeholder) => *s = s.replace(placeholder, with),
        Value::Array(items) => items
            .iter_mut()
            .for_each(|v| substitute(v, placeholder, with)),
        Value::Object(map) => map
            .values_mut()
            .for_each(|v| substitute(v, placeholder, with)),
        _ => {}
    }
}

fn content_of(turn: usize, blocks: &[Block]) -> Vec<Value> {
    blocks
        .iter()
        .enumerate()
        .map(|(b, block)| match (&block.text, &block.tool) {
            (Some(text), _) => json!({"type": "text", "text": text}),
            (None, tool) => json!({
                "type": "tool_use",
                "id": tool_use_id(turn, b),
                "name": tool.as_deref().unwrap_or_default(),
                "input": block.input.clone().unwrap_or_else(|| json!({})),
            }),
        })
        .collect()
}

fn estimate_tokens(body: &Value) -> u64 {
    // Four characters a token is the usual rough figure; the exact count does not matter.
    u64::try_from(body.to_string().len() / 4).unwrap_or(u64::MAX)
}

type Reply = Response<std::io::Cursor<Vec<u8>>>;

fn header(text: &'static str) -> Header {
    // Only called with fixed ASCII header lines, which always parse.
    text.parse::<Header>().expect("fixed ASCII header line")
}

fn json_reply(status: u16, value: &Value) -> Reply {
    Response::from_data(value.to_string().into_bytes())
        .with_status_code(status)
        .with_header(header("Content-Type: application/json"))
}

fn error_reply(status: u16, kind: &str, message: &str) -> Reply {
    json_reply(
        status,
        &json!({"type": "error", "error": {"type": kind, "message": message}}),
    )
}

fn message_reply(shared: &Shared, request: &Value, content: Vec<Value>, stream: bool) -> Reply {
    let id = format!(
        "msg_e2e_{:04}",
        shared.next_message.fetch_add(1, Ordering::Relaxed)
    );
    let model = request
        .get("model")
        .and_then(Value::as_str)
        .unwrap_or("claude-scripted");
    let stop_reason = if content.iter().any(|b| b["type"] == "tool_use") {
        "tool_use"
    } else {
        "end_turn"
    };
    let input_tokens = estimate_tokens(request);
    if !stream {
        return json_reply(
            200,
            &json!({
                "id": id, "type": "message", "role": "assistant", "model": model,
                "content": content, "stop_reason": stop_reason, "stop_sequence": null,
                "usage": {"input_tokens": input_tokens, "output_tokens": 10},
            }),
        );
    }
    let body = crate::sse::stream(&id, model, &content, stop_reason, input_tokens);
    Response::from_data(body.into_bytes())
        .with_status_code(200)
        .with_header(header("Content-Type: text/event-stream"))
        .with_header(header("Cache-Control: no-cache"))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn next_turn_follows_ids_not_message_count() {
        let body = json!({"messages": [
            {"role": "user", "content": "go"},
            {"role": "system", "content": "env"},
            {"role": "assistant", "content": [
                {"type": "tool_use", "id": "toolu_e2e_0_0"},
                {"type": "tool_use", "id": "toolu_e2e_1_0"}]},
            {"role": "user", "content": []},
        ]});
        assert_eq!(next_turn(&body), 2);
        assert_eq!(
            next_turn(&json!({"messages": [{"role": "user", "content": "go"}]})),
            0
        );
        assert_eq!(next_turn(&json!("not an object")), 0);
    }

    #[test]
    fn the_reported_working_directory_is_found_in_the_system_prompt() {
        let body = json!({"system": [
            {"type": "text", "text": "You are Claude Code."},
            {"type": "text", "text": "<env>\nPrimary working directory: /home/u/wt/run-1\nIs a git repo: true\n</env>"},
        ]});
        assert_eq!(reported_cwd(&body).as_deref(), Some("/home/u/wt/run-1"));
        let last = json!({"system": "Primary working directory: /w"});
        assert_eq!(reported_cwd(&last).as_deref(), Some("/w"));
        assert_eq!(reported_cwd(&json!({"system": "nothing"})), None);
        let mut block = json!({"input": {"file_path": "{cwd}/src/a.rs", "n": ["{cwd}"]}});
        substitute(&mut block, CWD_PLACEHOLDER, "/w");
        assert_eq!(block["input"]["file_path"], "/w/src/a.rs");
        assert_eq!(block["input"]["n"][0], "/w");
    }
}
