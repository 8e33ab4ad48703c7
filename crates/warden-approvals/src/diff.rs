//! Diff previews for file changes, so a reviewer sees what an `Edit`,
//! `MultiEdit` or `Write` would do before approving it.
//!
//! The preview is computed by the hook when it creates the request: the
//! file's current content (when it can be read) with the change applied,
//! against the current content. Reading is bounded; binary or oversized
//! files get a one-line note instead of a diff. The preview is advisory: the
//! approval binds to the action itself (its hash), not to this text.

use std::path::{Path, PathBuf};

use serde_json::Value;
use similar::TextDiff;

/// Files larger than this are not read for the preview.
pub const MAX_FILE_BYTES: u64 = 1 << 20;
/// Previews longer than this are cut (with a note).
pub const MAX_PREVIEW_CHARS: usize = 64 * 1024;

/// A unified diff (3 lines of context) from `old` to `new`, with
/// `a/PATH` / `b/PATH` headers.
pub fn unified(old: &str, new: &str, path: &str) -> String {
    let diff = TextDiff::from_lines(old, new);
    let sep = if path.starts_with('/') { "" } else { "/" };
    let text = diff
        .unified_diff()
        .context_radius(3)
        .header(&format!("a{sep}{path}"), &format!("b{sep}{path}"))
        .to_string();
    cap(text)
}

fn cap(mut text: String) -> String {
    if text.len() > MAX_PREVIEW_CHARS {
        let mut cut = MAX_PREVIEW_CHARS;
        while !text.is_char_boundary(cut) {
            cut -= 1;
        }
        text.truncate(cut);
        text.push_str("\n[... preview cut at 64 KiB ...]\n");
    }
    text
}

enum Current {
    Missing,
    Text(String),
    Unreadable(String),
}

fn read_current(path: &Path) -> Current {
    match std::fs::metadata(path) {
        Err(e) if e.kind() == std::io::ErrorKind::NotFound => return Current::Missing,
        Err(e) => return Current::Unreadable(e.to_string()),
        Ok(m) if !m.is_file() => return Current::Unreadable("not a regular file".into()),
        Ok(m) if m.len() > MAX_FILE_BYTES => {
            return Current::Unreadable(format!("{} bytes, too large to preview", m.len()))
        }
        Ok(_) => {}
    }
    match std::fs::read(path) {
        Ok(bytes) => match String::from_utf8(bytes) {
            Ok(s) => Current::Text(s),
            Err(_) => Current::Unreadable("binary file".into()),
        },
        Err(e) => Current::Unreadable(e.to_string()),
    }
}

fn resolve(file: &str, cwd: Option<&Path>) -> PathBuf {
    let p = Path::new(file);
    match cwd {
        Some(dir) if p.is_relative() => dir.join(p),
        _ => p.to_path_buf(),
    }
}

struct Replacement<'a> {
    old: &'a str,
    new: &'a str,
    all: bool,
}

fn replacement(v: &Value) -> Option<Replacement<'_>> {
    Some(Replacement {
        old: v.get("old_string")?.as_str()?,
        new: v.get("new_string")?.as_str()?,
        all: v
            .get("replace_all")
            .and_then(Value::as_bool)
            .unwrap_or(false),
    })
}

/// Applies the edits in order; `None` if one of them does not match the
/// text (the edit would fail in the agent, so there is nothing faithful
/// to show beyond the strings themselves).
fn apply(content: &str, edits: &[Replacement<'_>]) -> Option<String> {
    let mut text = content.to_string();
    for e in edits {
        if e.old.is_empty() || !text.contains(e.old) {
            return None;
        }
        text = if e.all {
            text.replace(e.old, e.new)
        } else {
            text.replacen(e.old, e.new, 1)
        };
    }
    Some(text)
}

/// The preview for one tool call, or `None` for tools that change no file
/// (or inputs without the fields those tools need).
pub fn preview(tool: &str, input: &Value, cwd: Option<&Path>) -> Option<String> {
    let file = input.get("file_path")?.as_str()?;
    let path = resolve(file, cwd);
    match tool {
        "Write" => {
            let new = input.get("content")?.as_str()?;
            match read_current(&path) {
                Current::Missing => Some(unified("", new, file)),
                Current::Text(old) => Some(unified(&old, new, file)),
                Current::Unreadable(why) => Some(format!(
                    "(current content of {file} not shown: {why})\n{}",
                    unified("", new, file)
                )),
            }
        }
        "Edit" | "MultiEdit" => {
            let edits: Vec<Replacement<'_>> = if tool == "Edit" {
                vec![replacement(input)?]
            } else {
                input
                    .get("edits")?
                    .as_array()?
                    .iter()
                    .map(replacement)
                    .collect::<Option<Vec<_>>>()?
            };
            if let Current::Text(old) = read_current(&path) {
                if let Some(new) = apply(&old, &edits) {
                    return Some(unified(&old, &new, file));
                }
            }
            // Fall back to the strings themselves.
            let mut out = format!(
                "(diff of the edit strings; {file} could not be patched for a full preview)\n"
            );
            for e in &edits {
                out.push_str(&unified(e.old, e.new, file));
            }
            Some(cap(out))
        }
        _ => None,
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    #[test]
    fn edit_preview_shows_the_change_in_context() {
        let dir = tempfile::tempdir().unwrap();
        std::fs::write(dir.path().join("main.tf"), "a\nb\nreplicas = 1\nc\n").unwrap();
        let input = json!({"file_path": "main.tf", "old_string": "replicas = 1", "new_string": "replicas = 0"});
        let p = preview("Edit", &input, Some(dir.path())).unwrap();
        assert!(p.contains("--- a/main.tf"), "{p}");
        assert!(p.contains("-replicas = 1\n+replicas = 0"), "{p}");
        assert!(p.contains(" b\n"), "context line missing: {p}");
    }

    #[test]
    fn write_of_a_new_file_is_all_additions_and_binary_is_noted() {
        let dir = tempfile::tempdir().unwrap();
        let p = preview(
            "Write",
            &json!({"file_path": "new.txt", "content": "x\ny\n"}),
            Some(dir.path()),
        )
        .unwrap();
        assert!(p.contains("+x\n+y\n"), "{p}");
        std::fs::write(dir.path().join("bin"), [0xff, 0xfe, 0x00]).unwrap();
        let p = preview(
            "Write",
            &json!({"file_path": "bin", "content": "t"}),
            Some(dir.path()),
        )
        .unwrap();
        assert!(
            p.starts_with("(current content of bin not shown: binary file)"),
            "{p}"
        );
    }

    #[test]
    fn non_matching_edit_falls_back_and_other_tools_get_none() {
        let input = json!({"file_path": "/nonexistent/x", "old_string": "a", "new_string": "b"});
        let p = preview("Edit", &input, None).unwrap();
        assert!(p.contains("--- a/nonexistent/x\n"), "{p}");
        assert!(p.contains("\n-a\n") && p.contains("\n+b\n"), "{p}");
        assert!(preview("Bash", &json!({"command": "ls"}), None).is_none());
        assert!(preview("Edit", &json!({"file_path": 3}), None).is_none());
    }
}
