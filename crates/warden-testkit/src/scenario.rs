//! Scenario files: what the scripted model says, turn by turn, and what the test expects back.

use std::collections::BTreeMap;
use std::path::{Path, PathBuf};

use serde::Deserialize;
use serde_json::Value;

use crate::Error;

/// Text of the reply that ends the conversation once the scripted turns are used up.
const DEFAULT_FINAL_TEXT: &str = "Done.";

/// A scripted conversation: the prompt, the model's turns, and the expected outcome.
#[derive(Debug, Clone, PartialEq, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Scenario {
    /// One line saying what the scenario shows; it is repeated in failure reports.
    #[serde(default)]
    pub description: String,
    /// The prompt given to `claude -p`.
    #[serde(default = "default_prompt")]
    pub prompt: String,
    /// `--max-turns`; by default the number of turns plus two, so a scenario cannot run away.
    #[serde(default)]
    pub max_turns: Option<u32>,
    /// Text of the last, `end_turn` reply sent after the scripted turns.
    #[serde(default)]
    pub final_text: Option<String>,
    /// What the workspace holds before Claude Code starts.
    #[serde(default)]
    pub setup: Setup,
    /// The model's replies, in order: one per main-conversation request.
    #[serde(default)]
    pub turns: Vec<Turn>,
    /// Filesystem checks made after Claude Code exits.
    #[serde(default)]
    pub after: After,
}

fn default_prompt() -> String {
    "Follow the plan.".to_owned()
}

/// Files written into the repository before the run.
#[derive(Debug, Clone, Default, PartialEq, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Setup {
    /// Path relative to the repository root, and its contents.
    #[serde(default)]
    pub files: BTreeMap<String, String>,
    /// Directories created (empty) before the run.
    #[serde(default)]
    pub dirs: Vec<String>,
}

/// One reply of the scripted model.
#[derive(Debug, Clone, PartialEq, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Turn {
    /// The content blocks of the reply, in order.
    pub blocks: Vec<Block>,
}

/// One content block: either `text` or a tool call (`tool` + `input`).
#[derive(Debug, Clone, PartialEq, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Block {
    /// A text block.
    #[serde(default)]
    pub text: Option<String>,
    /// The tool name of a `tool_use` block (`Bash`, `Read`, `Edit`, ...).
    #[serde(default)]
    pub tool: Option<String>,
    /// The tool input, sent as `input_json_delta`.
    #[serde(default)]
    pub input: Option<Value>,
    /// What the `tool_result` for this call must look like.
    #[serde(default)]
    pub expect: Option<Expect>,
}

/// Expectations on the `tool_result` that Claude Code sends back for one tool call.
#[derive(Debug, Clone, Default, PartialEq, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Expect {
    /// `is_error` must be exactly this.
    #[serde(default)]
    pub is_error: Option<bool>,
    /// Substrings the result text must contain.
    #[serde(default)]
    pub contains: Vec<String>,
    /// Substrings the result text must not contain.
    #[serde(default)]
    pub not_contains: Vec<String>,
}

/// Filesystem checks made after the run, paths relative to the repository root.
#[derive(Debug, Clone, Default, PartialEq, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct After {
    /// Paths that must exist.
    #[serde(default)]
    pub exists: Vec<String>,
    /// Paths that must not exist.
    #[serde(default)]
    pub absent: Vec<String>,
    /// File -> substring it must contain.
    #[serde(default)]
    pub contains: BTreeMap<String, String>,
    /// File -> substring it must not contain.
    #[serde(default)]
    pub not_contains: BTreeMap<String, String>,
}

/// A tool call of the scenario, with the id the server gives it.
#[derive(Debug, Clone, PartialEq)]
pub struct ScriptedCall {
    /// `toolu_e2e_<turn>_<block>`.
    pub id: String,
    /// The tool name.
    pub tool: String,
    /// The tool input.
    pub input: Value,
    /// The expectation, if the scenario gave one.
    pub expect: Option<Expect>,
}

impl Scenario {
    /// Parse and check a scenario from TOML text; `origin` names it in errors.
    pub fn from_toml_str(text: &str, origin: &str) -> Result<Self, Error> {
        let scenario: Scenario = toml::from_str(text).map_err(|e| Error::ScenarioParse {
            origin: origin.to_owned(),
            message: e.to_string(),
        })?;
        scenario.validate(origin)?;
        Ok(scenario)
    }

    /// Read a scenario file.
    pub fn from_path(path: &Path) -> Result<Self, Error> {
        let text = std::fs::read_to_string(path).map_err(|source| Error::Io {
            context: format!("reading scenario {}", path.display()),
            source,
        })?;
        Self::from_toml_str(&text, &path.display().to_string())
    }

    /// Read `tests/e2e/scenarios/<name>.toml` from the repository root.
    pub fn named(name: &str) -> Result<Self, Error> {
        Self::from_path(&scenario_dir().join(format!("{name}.toml")))
    }

    fn validate(&self, origin: &str) -> Result<(), Error> {
        let bad = |message: String| Error::ScenarioInvalid {
            origin: origin.to_owned(),
            message,
        };
        for (t, turn) in self.turns.iter().enumerate() {
            if turn.blocks.is_empty() {
                return Err(bad(format!("turn {t} has no blocks")));
            }
            for (b, block) in turn.blocks.iter().enumerate() {
                match (&block.text, &block.tool) {
                    (Some(_), None) => {
                        if block.input.is_some() || block.expect.is_some() {
                            return Err(bad(format!(
                                "turn {t} block {b}: a text block takes no `input` or `expect`"
                            )));
                        }
                    }
                    (None, Some(_)) => match &block.input {
                        Some(Value::Object(_)) | None => {}
                        Some(_) => {
                            return Err(bad(format!("turn {t} block {b}: `input` must be a table")))
                        }
                    },
                    _ => {
                        return Err(bad(format!(
                            "turn {t} block {b}: give exactly one of `text` or `tool`"
                        )))
                    }
                }
            }
            // A turn without a tool call ends the conversation (stop_reason end_turn), so
            // any turn scripted after it would never be reached.
            let has_tool = turn.blocks.iter().any(|b| b.tool.is_some());
            if !has_tool && t + 1 < self.turns.len() {
                return Err(bad(format!(
                    "turn {t} has no tool call, so it ends the conversation; later turns would never run"
                )));
            }
        }
        Ok(())
    }

    /// The scenario with every `{repo}` in tool inputs and expectations replaced by `repo`.
    ///
    /// Claude Code's file tools take absolute paths, which only exist once the workspace does.
    pub fn with_repo(&self, repo: &Path) -> Scenario {
        let repo = repo.display().to_string();
        let mut out = self.clone();
        for block in out.turns.iter_mut().flat_map(|t| t.blocks.iter_mut()) {
            if let Some(input) = block.input.as_mut() {
                substitute(input, &repo);
            }
            if let Some(expect) = block.expect.as_mut() {
                for s in expect
                    .contains
                    .iter_mut()
                    .chain(expect.not_contains.iter_mut())
                {
                    *s = s.replace(REPO_PLACEHOLDER, &repo);
                }
            }
        }
        out
    }

    /// `--max-turns` for this scenario.
    pub fn max_turns(&self) -> u32 {
        self.max_turns
            .unwrap_or_else(|| u32::try_from(self.turns.len()).unwrap_or(u32::MAX - 2) + 2)
    }

    /// Text of the closing `end_turn` reply.
    pub fn final_text(&self) -> &str {
        self.final_text.as_deref().unwrap_or(DEFAULT_FINAL_TEXT)
    }

    /// Every scripted tool call in order, with its id.
    pub fn calls(&self) -> Vec<ScriptedCall> {
        let mut calls = Vec::new();
        for (t, turn) in self.turns.iter().enumerate() {
            for (b, block) in turn.blocks.iter().enumerate() {
                if let Some(tool) = &block.tool {
                    calls.push(ScriptedCall {
                        id: tool_use_id(t, b),
                        tool: tool.clone(),
                        input: block
                            .input
                            .clone()
                            .unwrap_or_else(|| Value::Object(Default::default())),
                        expect: block.expect.clone(),
                    });
                }
            }
        }
        calls
    }
}

/// Stands for the absolute repository path in tool inputs and expectations.
pub const REPO_PLACEHOLDER: &str = "{repo}";

fn substitute(value: &mut Value, repo: &str) {
    match value {
        Value::String(s) => *s = s.replace(REPO_PLACEHOLDER, repo),
        Value::Array(items) => items.iter_mut().for_each(|v| substitute(v, repo)),
        Value::Object(map) => map.values_mut().for_each(|v| substitute(v, repo)),
        _ => {}
    }
}

/// The id the server gives the tool call in block `block` of turn `turn`.
///
/// The turn number is part of the id so the server can tell, from the conversation Claude
/// Code sends back, which turns it has already played (see `server::next_turn`).
pub fn tool_use_id(turn: usize, block: usize) -> String {
    format!("toolu_e2e_{turn}_{block}")
}

/// Parse the turn number out of an id made by [`tool_use_id`].
pub(crate) fn turn_of_id(id: &str) -> Option<usize> {
    let rest = id.strip_prefix("toolu_e2e_")?;
    let (turn, block) = rest.split_once('_')?;
    block.parse::<usize>().ok()?;
    turn.parse().ok()
}

/// The repository root, found from this crate's manifest directory.
pub fn repo_root() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join("../..")
}

/// `tests/e2e/scenarios` in the repository.
pub fn scenario_dir() -> PathBuf {
    repo_root().join("tests/e2e/scenarios")
}

#[cfg(test)]
mod tests {
    use super::*;

    const SAMPLE: &str = r#"
description = "sample"
prompt = "clean up"

[setup.files]
"build/out.o" = "obj"

[[turns]]
[[turns.blocks]]
text = "Cleaning."
[[turns.blocks]]
tool = "Bash"
input = { command = "rm -rf build" }
expect.is_error = true
expect.contains = ["denied"]

[after]
exists = ["build/out.o"]
"#;

    #[test]
    fn parses_sample_and_numbers_calls() {
        let s = Scenario::from_toml_str(SAMPLE, "sample").expect("valid");
        assert_eq!(s.max_turns(), 3);
        let calls = s.calls();
        assert_eq!(calls.len(), 1);
        assert_eq!(calls[0].id, "toolu_e2e_0_1");
        assert_eq!(calls[0].input["command"], "rm -rf build");
        assert_eq!(
            calls[0].expect.as_ref().and_then(|e| e.is_error),
            Some(true)
        );
        assert_eq!(s.after.exists, vec!["build/out.o".to_owned()]);
    }

    #[test]
    fn rejects_block_with_text_and_tool() {
        let err = Scenario::from_toml_str(
            "[[turns]]\n[[turns.blocks]]\ntext = \"a\"\ntool = \"Bash\"\n",
            "x",
        )
        .expect_err("invalid");
        assert!(err.to_string().contains("exactly one"), "{err}");
    }

    #[test]
    fn rejects_unknown_keys() {
        let err = Scenario::from_toml_str("promt = \"typo\"\n", "x").expect_err("invalid");
        assert!(err.to_string().contains("promt"), "{err}");
    }

    #[test]
    fn rejects_text_only_turn_before_the_end() {
        let text = "[[turns]]\n[[turns.blocks]]\ntext = \"a\"\n[[turns]]\n[[turns.blocks]]\ntool = \"Bash\"\n";
        let err = Scenario::from_toml_str(text, "x").expect_err("invalid");
        assert!(err.to_string().contains("never run"), "{err}");
    }

    #[test]
    fn repo_placeholder_is_filled_in_inputs_and_expectations() {
        let text = "[[turns]]\n[[turns.blocks]]\ntool = \"Read\"\ninput = { file_path = \"{repo}/.env\", n = [\"{repo}\"] }\nexpect.contains = [\"{repo}/x\"]\n";
        let s = Scenario::from_toml_str(text, "x")
            .expect("valid")
            .with_repo(Path::new("/w/r"));
        let call = &s.calls()[0];
        assert_eq!(call.input["file_path"], "/w/r/.env");
        assert_eq!(call.input["n"][0], "/w/r");
        assert_eq!(
            call.expect.as_ref().map(|e| e.contains.clone()),
            Some(vec!["/w/r/x".to_owned()])
        );
    }

    #[test]
    fn id_round_trip() {
        assert_eq!(turn_of_id(&tool_use_id(7, 2)), Some(7));
        assert_eq!(turn_of_id("toolu_other"), None);
        assert_eq!(turn_of_id("toolu_e2e_x_1"), None);
    }
}
