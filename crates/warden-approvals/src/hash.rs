//! Canonical serialization and the action hash.
//!
//! The hash must not depend on the order of keys in the agent's JSON, nor
//! on whether some other crate in the build turns on serde_json's
//! `preserve_order`, so the canonical form sorts object keys itself.

use serde_json::Value;
use sha2::{Digest, Sha256};

/// JSON with object keys sorted (by UTF-8 bytes), no whitespace, serde_json's
/// escaping of strings and numbers.
pub fn canonical_json(value: &Value) -> String {
    let mut out = String::new();
    write_canonical(value, &mut out);
    out
}

fn write_canonical(value: &Value, out: &mut String) {
    match value {
        Value::Object(map) => {
            let mut keys: Vec<&String> = map.keys().collect();
            keys.sort();
            out.push('{');
            for (i, k) in keys.into_iter().enumerate() {
                if i > 0 {
                    out.push(',');
                }
                out.push_str(&Value::String(k.clone()).to_string());
                out.push(':');
                if let Some(v) = map.get(k) {
                    write_canonical(v, out);
                }
            }
            out.push('}');
        }
        Value::Array(items) => {
            out.push('[');
            for (i, v) in items.iter().enumerate() {
                if i > 0 {
                    out.push(',');
                }
                write_canonical(v, out);
            }
            out.push(']');
        }
        scalar => out.push_str(&scalar.to_string()),
    }
}

/// SHA-256 (lower-case hex) over the canonical JSON array
/// `["warden-approval-v1", tool, input, session]`. The session is part of
/// the hash, so an approval never carries over to another session.
pub fn action_hash(tool: &str, input: &Value, session_id: &str) -> String {
    let framed = Value::Array(vec![
        Value::String("warden-approval-v1".into()),
        Value::String(tool.into()),
        input.clone(),
        Value::String(session_id.into()),
    ]);
    let digest = Sha256::digest(canonical_json(&framed).as_bytes());
    let mut hex = String::with_capacity(64);
    for b in digest {
        hex.push_str(&format!("{b:02x}"));
    }
    hex
}

#[cfg(test)]
mod tests {
    use super::*;
    use proptest::prelude::*;
    use serde_json::json;

    #[test]
    fn key_order_does_not_change_the_hash() {
        let a: Value = serde_json::from_str(r#"{"command":"ls","timeout":5}"#).unwrap();
        let b: Value = serde_json::from_str(r#"{"timeout":5,"command":"ls"}"#).unwrap();
        assert_eq!(action_hash("Bash", &a, "s1"), action_hash("Bash", &b, "s1"));
    }

    #[test]
    fn tool_input_and_session_each_change_the_hash() {
        let input = json!({"command": "psql -f migrate.sql"});
        let base = action_hash("Bash", &input, "s1");
        assert_ne!(base, action_hash("Bash", &input, "s2"));
        assert_ne!(base, action_hash("Shell", &input, "s1"));
        assert_ne!(
            base,
            action_hash("Bash", &json!({"command": "psql -f other.sql"}), "s1")
        );
    }

    #[test]
    fn framing_prevents_field_shifting() {
        // Moving text between tool and session must not collide.
        let v = json!(null);
        assert_ne!(action_hash("ab", &v, "c"), action_hash("a", &v, "bc"));
    }

    fn arb_json() -> impl Strategy<Value = Value> {
        let leaf = prop_oneof![
            Just(Value::Null),
            any::<bool>().prop_map(Value::Bool),
            any::<i64>().prop_map(Value::from),
            ".{0,12}".prop_map(Value::String),
        ];
        leaf.prop_recursive(3, 24, 6, |inner| {
            prop_oneof![
                prop::collection::vec(inner.clone(), 0..5).prop_map(Value::Array),
                prop::collection::btree_map(".{0,6}", inner, 0..5)
                    .prop_map(|m| Value::Object(m.into_iter().collect())),
            ]
        })
    }

    proptest! {
        #[test]
        fn canonical_json_round_trips_to_the_same_value(v in arb_json()) {
            let text = canonical_json(&v);
            let back: Value = serde_json::from_str(&text).unwrap();
            prop_assert_eq!(&back, &v);
            prop_assert_eq!(canonical_json(&back), text);
        }
    }
}
