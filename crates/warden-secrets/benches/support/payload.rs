//! The bench payload, shared by `benches/scan.rs` and `examples/first_scan.rs`.

/// ~100 KiB of ordinary code with the words that trigger rules (password, token, key,
/// secret, http URLs) and one real-looking secret at the end.
pub fn write_payload() -> String {
    let block = r#"
import os
from typing import Optional

API_BASE = "https://api.internal.example.org/v2"
TOKEN_HEADER = "Authorization"

class Client:
    def __init__(self, token: Optional[str] = None, password: Optional[str] = None):
        self.token = token or os.environ.get("SERVICE_TOKEN")
        self.password = password
        self.secret_key = settings.SECRET_KEY
        self.session = None

    def headers(self):
        return {TOKEN_HEADER: f"Bearer {self.token}", "Accept": "application/json"}

    def fetch(self, path, retries=3):
        for attempt in range(retries):
            resp = self.session.get(API_BASE + path, headers=self.headers(), timeout=10)
            if resp.status_code == 200:
                return resp.json()
        raise RuntimeError(f"failed after {retries} attempts: {path}")
"#;
    let mut s = String::with_capacity(110 * 1024);
    while s.len() < 100 * 1024 {
        s.push_str(block);
    }
    s.push_str("GITHUB_TOKEN = \"ghp_4kT9zQ2mW8rL1xV7bN3cF6hJ0pS5dG2aY8eU\"\n");
    s
}
