//! The built-in rule pack: `rules.toml`, embedded in the binary and parsed on first use.

use std::sync::OnceLock;

use serde::Deserialize;

use crate::rule::RuleSpec;
use crate::SecretsError;

/// The rule pack, as shipped. Kept as TOML so that people can read and review it, and so
/// that the test cases sit next to the rule they pin.
pub const RULES_TOML: &str = include_str!("rules.toml");

#[derive(Deserialize)]
struct File {
    rule: Vec<BuiltinRule>,
}

/// A built-in rule with its test cases. The cases are parsed as borrowed strings (never
/// copied) so that a hook process pays little for carrying them.
#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
pub struct BuiltinRule {
    pub id: String,
    pub description: String,
    #[serde(default)]
    pub regex: Option<String>,
    #[serde(default)]
    pub secret_group: Option<usize>,
    #[serde(default)]
    pub entropy: Option<f32>,
    #[serde(default)]
    pub keywords: Vec<String>,
    #[serde(default)]
    pub path: Option<String>,
    #[serde(default)]
    pub generic: bool,
    /// `false` for rules whose matches span lines (PEM blocks); see [`RuleSpec::line_local`].
    #[serde(default = "yes")]
    pub line_local: bool,
    /// Texts in which this rule must report a finding.
    #[serde(default)]
    pub positive: Vec<String>,
    /// Texts in which this rule must not report a finding.
    #[serde(default)]
    pub negative: Vec<String>,
}

impl BuiltinRule {
    pub fn spec(&self) -> RuleSpec {
        RuleSpec {
            id: self.id.clone(),
            description: self.description.clone(),
            regex: self.regex.clone(),
            secret_group: self.secret_group,
            entropy: self.entropy,
            keywords: self.keywords.clone(),
            path: self.path.clone(),
            generic: self.generic,
            line_local: self.line_local,
            allowlists: Vec::new(),
        }
    }
}

fn yes() -> bool {
    true
}

/// The built-in rules with their test cases, parsed from [`RULES_TOML`].
pub fn rules_with_cases() -> Result<Vec<BuiltinRule>, SecretsError> {
    let file: File = toml::from_str(RULES_TOML).map_err(|e| SecretsError::Toml {
        what: "the built-in rule pack".into(),
        source: Box::new(e),
    })?;
    Ok(file.rule)
}

/// The built-in rule specifications, parsed once per process.
pub fn specs() -> Result<&'static [RuleSpec], SecretsError> {
    static SPECS: OnceLock<Result<Vec<RuleSpec>, String>> = OnceLock::new();
    let parsed = SPECS.get_or_init(|| {
        rules_with_cases()
            .map(|rules| rules.iter().map(BuiltinRule::spec).collect())
            .map_err(|e| e.to_string())
    });
    match parsed {
        Ok(v) => Ok(v.as_slice()),
        Err(reason) => Err(SecretsError::InvalidRule {
            rule: "built-in pack".into(),
            reason: reason.clone(),
        }),
    }
}
