//! A loopback HTTP server standing in for a forge's REST API and an alert webhook: no real
//! forge is reachable from tests, so this one records every request for the test to check
//! and answers pull-request creation the way GitHub does.

use crate::Error;
use serde_json::Value;
use std::sync::{Arc, Mutex};
use std::thread::JoinHandle;
use tiny_http::{Header, Response, Server};

/// One request the recorder saw.
#[derive(Debug, Clone)]
pub struct HttpRequest {
    /// `GET`, `POST`, ...
    pub method: String,
    /// The path with its query.
    pub path: String,
    /// Headers as sent.
    pub headers: Vec<(String, String)>,
    /// The body parsed as JSON (`Null` when it is not JSON).
    pub body: Value,
}

impl HttpRequest {
    /// A header's value, by case-insensitive name.
    pub fn header(&self, name: &str) -> Option<&str> {
        self.headers
            .iter()
            .find(|(k, _)| k.eq_ignore_ascii_case(name))
            .map(|(_, v)| v.as_str())
    }
}

/// Answers `POST .../pulls` with 201 and `{"html_url": PR_URL, "number": 7}` (GitHub's shape),
/// anything else with 200 `{}`.
pub struct HttpRecorder {
    base: String,
    seen: Arc<Mutex<Vec<HttpRequest>>>,
    server: Arc<Server>,
    thread: Option<JoinHandle<()>>,
}

impl HttpRecorder {
    /// The pull request URL the recorder answers with.
    pub const PR_URL: &'static str = "https://forge.example/acme/greeter/pull/7";

    /// Start on an ephemeral port of 127.0.0.1.
    pub fn start() -> Result<HttpRecorder, Error> {
        let server = Arc::new(
            Server::http("127.0.0.1:0").map_err(|e| Error::Server(format!("recorder: {e}")))?,
        );
        let base = format!(
            "http://{}",
            server
                .server_addr()
                .to_ip()
                .ok_or_else(|| Error::Server("recorder has no IP address".into()))?
        );
        let seen = Arc::new(Mutex::new(Vec::new()));
        let (log, srv) = (seen.clone(), server.clone());
        let thread = std::thread::spawn(move || {
            for mut request in srv.incoming_requests() {
                let mut body = String::new();
                let _ = request.as_reader().read_to_string(&mut body);
                let recorded = HttpRequest {
                    method: request.method().as_str().to_string(),
                    path: request.url().to_string(),
                    headers: request
                        .headers()
                        .iter()
                        .map(|h| (h.field.to_string(), h.value.to_string()))
                        .collect(),
                    body: serde_json::from_str(&body).unwrap_or(Value::Null),
                };
                let (status, reply) = if recorded.method == "POST"
                    && recorded.path.ends_with("/pulls")
                {
                    (
                        201,
                        serde_json::json!({ "html_url": Self::PR_URL, "number": 7 }).to_string(),
                    )
                } else {
                    (200, "{}".to_string())
                };
                if let Ok(mut seen) = log.lock() {
                    seen.push(recorded);
                }
                let json = Header::from_bytes("Content-Type", "application/json")
                    .expect("a static header is valid");
                let _ = request.respond(
                    Response::from_string(reply)
                        .with_status_code(status)
                        .with_header(json),
                );
            }
        });
        Ok(HttpRecorder {
            base,
            seen,
            server,
            thread: Some(thread),
        })
    }

    /// `http://127.0.0.1:PORT`.
    pub fn base(&self) -> &str {
        &self.base
    }

    /// Every request so far, in arrival order.
    pub fn requests(&self) -> Vec<HttpRequest> {
        self.seen.lock().map(|s| s.clone()).unwrap_or_default()
    }
}

impl Drop for HttpRecorder {
    fn drop(&mut self) {
        self.server.unblock();
        if let Some(t) = self.thread.take() {
            let _ = t.join();
        }
    }
}
