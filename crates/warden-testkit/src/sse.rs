//! Server-sent events in the order the Messages API streams a message.

use serde_json::{json, Value};

fn event(out: &mut String, name: &str, data: &Value) {
    out.push_str("event: ");
    out.push_str(name);
    out.push_str("\ndata: ");
    out.push_str(&data.to_string());
    out.push_str("\n\n");
}

/// The whole event stream for one assistant message whose content is `content`
/// (text and tool_use blocks, as they would appear in a non-streamed reply).
///
/// Tool inputs are sent the way the API sends them: the block starts with an empty
/// `input`, and the JSON arrives as `input_json_delta` string fragments (split in two here,
/// so a client that only handles a single fragment would be caught).
pub fn stream(
    id: &str,
    model: &str,
    content: &[Value],
    stop_reason: &str,
    input_tokens: u64,
) -> String {
    let mut out = String::new();
    event(
        &mut out,
        "message_start",
        &json!({"type": "message_start", "message": {
            "id": id, "type": "message", "role": "assistant", "model": model, "content": [],
            "stop_reason": null, "stop_sequence": null,
            "usage": {"input_tokens": input_tokens, "output_tokens": 1,
                      "cache_creation_input_tokens": 0, "cache_read_input_tokens": 0},
        }}),
    );
    for (index, block) in content.iter().enumerate() {
        if block["type"] == "tool_use" {
            event(
                &mut out,
                "content_block_start",
                &json!({"type": "content_block_start", "index": index, "content_block": {
                    "type": "tool_use", "id": block["id"], "name": block["name"], "input": {},
                }}),
            );
            let input = block["input"].to_string();
            let cut = split_point(&input);
            for part in [&input[..cut], &input[cut..]] {
                event(
                    &mut out,
                    "content_block_delta",
                    &json!({"type": "content_block_delta", "index": index,
                            "delta": {"type": "input_json_delta", "partial_json": part}}),
                );
            }
        } else {
            event(
                &mut out,
                "content_block_start",
                &json!({"type": "content_block_start", "index": index,
                        "content_block": {"type": "text", "text": ""}}),
            );
            event(
                &mut out,
                "content_block_delta",
                &json!({"type": "content_block_delta", "index": index,
                        "delta": {"type": "text_delta", "text": block["text"]}}),
            );
        }
        event(
            &mut out,
            "content_block_stop",
            &json!({"type": "content_block_stop", "index": index}),
        );
    }
    event(
        &mut out,
        "message_delta",
        &json!({"type": "message_delta",
                "delta": {"stop_reason": stop_reason, "stop_sequence": null},
                "usage": {"output_tokens": 10}}),
    );
    event(&mut out, "message_stop", &json!({"type": "message_stop"}));
    out
}

/// A char boundary near the middle of `s`.
fn split_point(s: &str) -> usize {
    let mut cut = s.len() / 2;
    while !s.is_char_boundary(cut) {
        cut -= 1;
    }
    cut
}

#[cfg(test)]
mod tests {
    use super::*;

    fn events(stream: &str) -> Vec<(String, Value)> {
        stream
            .split("\n\n")
            .filter(|e| !e.is_empty())
            .map(|e| {
                let mut lines = e.lines();
                let name = lines
                    .next()
                    .and_then(|l| l.strip_prefix("event: "))
                    .expect("event line");
                let data = lines
                    .next()
                    .and_then(|l| l.strip_prefix("data: "))
                    .expect("data line");
                (
                    name.to_owned(),
                    serde_json::from_str(data).expect("json data"),
                )
            })
            .collect()
    }

    #[test]
    fn tool_use_stream_has_api_order_and_reassembles() {
        let content = [
            json!({"type": "text", "text": "On it."}),
            json!({"type": "tool_use", "id": "toolu_1", "name": "Bash", "input": {"command": "ls é"}}),
        ];
        let s = stream("msg_1", "m", &content, "tool_use", 5);
        let evs = events(&s);
        let names: Vec<_> = evs.iter().map(|(n, _)| n.as_str()).collect();
        assert_eq!(
            names,
            [
                "message_start",
                "content_block_start",
                "content_block_delta",
                "content_block_stop",
                "content_block_start",
                "content_block_delta",
                "content_block_delta",
                "content_block_stop",
                "message_delta",
                "message_stop"
            ]
        );
        let json: String = evs
            .iter()
            .filter(|(_, d)| d["delta"]["type"] == "input_json_delta")
            .map(|(_, d)| d["delta"]["partial_json"].as_str().expect("str").to_owned())
            .collect();
        assert_eq!(
            serde_json::from_str::<Value>(&json).expect("json"),
            json!({"command": "ls é"})
        );
        assert_eq!(evs[8].1["delta"]["stop_reason"], "tool_use");
        assert_eq!(evs[4].1["content_block"]["input"], json!({}));
    }
}
