//! One-line summaries of actions, shared by the CLI, the web app and the
//! webhook.

use serde_json::Value;

/// The part of a tool input a person recognises first: the command, the
/// file, the URL; otherwise the compact JSON. Cut to `max` characters.
pub fn summarize(tool: &str, action: &Value, max: usize) -> String {
    let field = |k: &str| action.get(k).and_then(Value::as_str).map(str::to_string);
    let text = match tool {
        "Bash" => field("command"),
        "Edit" | "Write" | "MultiEdit" | "Read" => field("file_path"),
        "NotebookEdit" => field("notebook_path"),
        "WebFetch" => field("url"),
        "WebSearch" => field("query"),
        _ => None,
    }
    .unwrap_or_else(|| crate::hash::canonical_json(action));
    truncate(&one_line(&text), max)
}

/// Agent-controlled text for a terminal: control characters (escape
/// sequences included) become spaces, and the result is cut to `max`.
pub fn line(s: &str, max: usize) -> String {
    truncate(&one_line(s), max)
}

fn one_line(s: &str) -> String {
    s.chars()
        .map(|c| if c.is_control() { ' ' } else { c })
        .collect()
}

/// Cut at a character boundary, marking the cut.
pub fn truncate(s: &str, max: usize) -> String {
    if s.chars().count() <= max {
        return s.to_string();
    }
    let mut out: String = s.chars().take(max.saturating_sub(1)).collect();
    out.push('…');
    out
}

/// Seconds as "42s", "3m 5s", "2h 1m", "4d 3h".
pub fn human_duration(secs: i64) -> String {
    let s = secs.max(0);
    match s {
        0..=59 => format!("{s}s"),
        60..=3599 => format!("{}m {}s", s / 60, s % 60),
        3600..=86_399 => format!("{}h {}m", s / 3600, (s % 3600) / 60),
        _ => format!("{}d {}h", s / 86_400, (s % 86_400) / 3600),
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    #[test]
    fn summaries_pick_the_telling_field_and_flatten_newlines() {
        assert_eq!(
            summarize("Bash", &json!({"command": "psql\n-f x.sql"}), 80),
            "psql -f x.sql"
        );
        assert_eq!(
            summarize(
                "Edit",
                &json!({"file_path": "infra/a.tf", "old_string": "x"}),
                80
            ),
            "infra/a.tf"
        );
        assert_eq!(
            summarize("mcp__db__q", &json!({"b": 1, "a": 2}), 80),
            r#"{"a":2,"b":1}"#
        );
        assert_eq!(summarize("Bash", &json!({"command": "abcdef"}), 4), "abc…");
        assert_eq!(human_duration(3725), "1h 2m");
    }
}
