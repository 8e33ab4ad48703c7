//! The hash chain: the canonical encoding of an event and of a checkpoint.
//!
//! # Event hash
//!
//! `hash(e) = SHA-256(encoding)`, where the encoding is the concatenation of
//!
//! 1. the domain tag `b"warden-audit/event/v1\n"`,
//! 2. the log id, as a *string field*,
//! 3. `seq` as 8 bytes big-endian, `ts_us` as 8 bytes big-endian (two's complement),
//! 4. string fields `session_id`, `agent`, `kind`, `cwd`,
//! 5. optional strings `tool`, `tool_use_id`,
//! 6. string field `input` (the stored canonical JSON text),
//! 7. optional strings `decision`, `rule`,
//! 8. string field `reasons` (canonical JSON array of strings),
//! 9. optional integer `latency_us`,
//! 10. optional string `result` (the kept prefix), optional integer
//!     `result_len`, optional bytes `result_sha256` (32 raw bytes),
//! 11. string field `extra` (canonical JSON),
//! 12. `prev_hash`, 32 raw bytes.
//!
//! A *string field* is its byte length as 8 bytes big-endian, then the bytes.
//! An *optional* field is one byte `0` when absent, or `1` followed by the
//! field. Length prefixes make the encoding injective: no two different
//! events share an encoding, so moving bytes between fields changes the hash.
//!
//! The first event's `prev_hash` is `SHA-256(b"warden-audit/genesis/v1\n" ||
//! string field(log id))`, so a chain cannot be moved to another log.
//!
//! # Canonical JSON
//!
//! JSON fields are hashed as the text that is stored, which this crate writes
//! canonically: compact (no white space), object keys sorted by their UTF-8
//! bytes, strings escaped and numbers printed as `serde_json` does. Verifying
//! never re-serializes; another backend must store the same bytes.
//!
//! # Checkpoint message
//!
//! The signed message of a checkpoint is `b"warden-audit/checkpoint/v1\n"`,
//! the log id as a string field, `seq` (8 bytes BE), the head hash (32 raw
//! bytes) and the checkpoint time `ts_us` (8 bytes BE), signed with Ed25519.

use sha2::{Digest, Sha256};

const EVENT_TAG: &[u8] = b"warden-audit/event/v1\n";
const GENESIS_TAG: &[u8] = b"warden-audit/genesis/v1\n";
const CHECKPOINT_TAG: &[u8] = b"warden-audit/checkpoint/v1\n";

/// A 32-byte SHA-256 digest.
pub type Hash = [u8; 32];

/// The fields of one event exactly as stored, borrowed for hashing.
#[derive(Debug, Clone, Copy)]
pub struct EventFields<'a> {
    pub seq: u64,
    pub ts_us: i64,
    pub session_id: &'a str,
    pub agent: &'a str,
    pub kind: &'a str,
    pub cwd: &'a str,
    pub tool: Option<&'a str>,
    pub tool_use_id: Option<&'a str>,
    pub input: &'a str,
    pub decision: Option<&'a str>,
    pub rule: Option<&'a str>,
    pub reasons: &'a str,
    pub latency_us: Option<u64>,
    pub result: Option<&'a str>,
    pub result_len: Option<u64>,
    pub result_sha256: Option<&'a [u8]>,
    pub extra: &'a str,
}

fn field(out: &mut Vec<u8>, bytes: &[u8]) {
    out.extend_from_slice(&(bytes.len() as u64).to_be_bytes());
    out.extend_from_slice(bytes);
}

fn opt_field(out: &mut Vec<u8>, bytes: Option<&[u8]>) {
    match bytes {
        None => out.push(0),
        Some(b) => {
            out.push(1);
            field(out, b);
        }
    }
}

fn opt_u64(out: &mut Vec<u8>, v: Option<u64>) {
    match v {
        None => out.push(0),
        Some(n) => {
            out.push(1);
            out.extend_from_slice(&n.to_be_bytes());
        }
    }
}

/// The `prev_hash` of the first event of the log `log_id`.
pub fn genesis_hash(log_id: &str) -> Hash {
    let mut m = Vec::with_capacity(GENESIS_TAG.len() + 8 + log_id.len());
    m.extend_from_slice(GENESIS_TAG);
    field(&mut m, log_id.as_bytes());
    sha256(&m)
}

/// Appends the encoding of one event (the module doc's list) to `out`: the
/// exact bytes [`event_hash`] hashes. Verifying builds these from the stored
/// column bytes, without decoding or re-serializing anything.
pub fn encode_event(log_id: &str, e: &EventFields<'_>, prev_hash: &Hash, out: &mut Vec<u8>) {
    out.extend_from_slice(EVENT_TAG);
    field(out, log_id.as_bytes());
    out.extend_from_slice(&e.seq.to_be_bytes());
    out.extend_from_slice(&e.ts_us.to_be_bytes());
    field(out, e.session_id.as_bytes());
    field(out, e.agent.as_bytes());
    field(out, e.kind.as_bytes());
    field(out, e.cwd.as_bytes());
    opt_field(out, e.tool.map(str::as_bytes));
    opt_field(out, e.tool_use_id.map(str::as_bytes));
    field(out, e.input.as_bytes());
    opt_field(out, e.decision.map(str::as_bytes));
    opt_field(out, e.rule.map(str::as_bytes));
    field(out, e.reasons.as_bytes());
    opt_u64(out, e.latency_us);
    opt_field(out, e.result.map(str::as_bytes));
    opt_u64(out, e.result_len);
    opt_field(out, e.result_sha256);
    field(out, e.extra.as_bytes());
    out.extend_from_slice(prev_hash);
}

/// The hash of one event given the hash of the one before it.
pub fn event_hash(log_id: &str, e: &EventFields<'_>, prev_hash: &Hash) -> Hash {
    let mut m = Vec::with_capacity(512);
    encode_event(log_id, e, prev_hash, &mut m);
    sha256(&m)
}

/// The message an Ed25519 checkpoint signature covers.
pub fn checkpoint_message(log_id: &str, seq: u64, head: &Hash, ts_us: i64) -> Vec<u8> {
    let mut m = Vec::with_capacity(CHECKPOINT_TAG.len() + 8 + log_id.len() + 8 + 32 + 8);
    m.extend_from_slice(CHECKPOINT_TAG);
    m.extend_from_slice(&(log_id.len() as u64).to_be_bytes());
    m.extend_from_slice(log_id.as_bytes());
    m.extend_from_slice(&seq.to_be_bytes());
    m.extend_from_slice(head);
    m.extend_from_slice(&ts_us.to_be_bytes());
    m
}

/// Writes `v` as canonical JSON (see the module doc).
pub fn canonical_json(v: &serde_json::Value) -> String {
    let mut out = String::new();
    write_canonical(v, &mut out);
    out
}

fn write_canonical(v: &serde_json::Value, out: &mut String) {
    use serde_json::Value;
    match v {
        Value::Null | Value::Bool(_) | Value::Number(_) | Value::String(_) => {
            // Scalars: serde_json's own printing is the canonical form.
            out.push_str(&v.to_string());
        }
        Value::Array(items) => {
            out.push('[');
            for (i, item) in items.iter().enumerate() {
                if i > 0 {
                    out.push(',');
                }
                write_canonical(item, out);
            }
            out.push(']');
        }
        Value::Object(map) => {
            // Sorted explicitly: serde_json's map order depends on a cargo
            // feature another crate in the build may switch on.
            let mut entries: Vec<_> = map.iter().collect();
            entries.sort_by(|a, b| a.0.as_bytes().cmp(b.0.as_bytes()));
            out.push('{');
            for (i, (k, val)) in entries.into_iter().enumerate() {
                if i > 0 {
                    out.push(',');
                }
                out.push_str(&serde_json::Value::String(k.clone()).to_string());
                out.push(':');
                write_canonical(val, out);
            }
            out.push('}');
        }
    }
}

/// SHA-256 of some bytes.
pub fn sha256(bytes: &[u8]) -> Hash {
    Sha256::digest(bytes).into()
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    #[test]
    fn canonical_json_sorts_keys_and_is_compact() {
        let v = json!({"b": [1, {"z": null, "a": "x"}], "a": true, "é": 1.5});
        assert_eq!(
            canonical_json(&v),
            r#"{"a":true,"b":[1,{"a":"x","z":null}],"é":1.5}"#
        );
    }

    /// The encoding is the documented one: this vector was computed
    /// independently from the module doc (Python's hashlib), so a change of
    /// the encoding, which would make every stored log fail to verify,
    /// cannot pass unnoticed.
    #[test]
    fn event_hash_matches_an_independently_computed_vector() {
        let log = "0123456789abcdef0123456789abcdef";
        let g = genesis_hash(log);
        assert_eq!(
            hex::encode(g),
            "d991a653feeff0419932e029367c1979a67a107026807f729fd8e886b529b8a8"
        );
        let rs = sha256(b"ok");
        let e = EventFields {
            seq: 7,
            ts_us: -5,
            session_id: "s1",
            agent: "claude-code",
            kind: "PostToolUse",
            cwd: "/tmp/p",
            tool: Some("Bash"),
            tool_use_id: None,
            input: r#"{"command":"ls"}"#,
            decision: Some("allow"),
            rule: None,
            reasons: r#"["r"]"#,
            latency_us: Some(42),
            result: Some("ok"),
            result_len: Some(2),
            result_sha256: Some(&rs),
            extra: "null",
        };
        assert_eq!(
            hex::encode(event_hash(log, &e, &g)),
            "37fe1239b5df73402623f2cc00124b58ef0f6748d954688bbbeac617d7b2fa3f"
        );
    }

    #[test]
    fn length_prefix_keeps_field_boundaries() {
        let base = EventFields {
            seq: 1,
            ts_us: 0,
            session_id: "ab",
            agent: "c",
            kind: "k",
            cwd: "",
            tool: None,
            tool_use_id: None,
            input: "null",
            decision: None,
            rule: None,
            reasons: "[]",
            latency_us: None,
            result: None,
            result_len: None,
            result_sha256: None,
            extra: "null",
        };
        let moved = EventFields {
            session_id: "a",
            agent: "bc",
            ..base
        };
        let g = genesis_hash("log");
        assert_ne!(event_hash("log", &base, &g), event_hash("log", &moved, &g));
        let some_empty = EventFields {
            tool: Some(""),
            ..base
        };
        assert_ne!(
            event_hash("log", &base, &g),
            event_hash("log", &some_empty, &g)
        );
        assert_ne!(event_hash("log", &base, &g), event_hash("log2", &base, &g));
    }
}
