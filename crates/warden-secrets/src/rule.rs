//! Rule specifications (what users write) and compiled rules (what the engine runs).

use std::sync::OnceLock;

use regex::bytes::{Regex, RegexBuilder};
use serde::{Deserialize, Serialize};

use crate::SecretsError;

/// Upper bound on the compiled size of one rule regex. The default of the `regex` crate
/// (10 MiB) lets one careless user rule cost tens of milliseconds to compile in a hook.
const REGEX_SIZE_LIMIT: usize = 4 << 20;
/// Upper bound on the lazy DFA cache of one rule regex.
const DFA_SIZE_LIMIT: usize = 2 << 20;

/// One detection rule, as written in the built-in pack, a policy file or a gitleaks config.
///
/// Either `regex` or `path` (or both) must be set. A rule with only `path` reports the file
/// itself (for example a `.p12` key store) and needs a path hint to fire.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct RuleSpec {
    /// Stable identifier, reported in findings (`github-pat`).
    pub id: String,
    /// What the rule detects, for people.
    #[serde(default)]
    pub description: String,
    /// Pattern in the `regex` crate's syntax, matched on bytes with Unicode off (like Go's
    /// RE2 in gitleaks: `\w`, `\b`, `\s` are ASCII). Start the pattern with `(?u)` to opt in.
    #[serde(default)]
    pub regex: Option<String>,
    /// Capture group holding the secret. `None` or `0`: group 1 when the regex has groups,
    /// else the whole match.
    #[serde(default)]
    pub secret_group: Option<usize>,
    /// Minimum Shannon entropy (bits per byte) of the secret.
    #[serde(default)]
    pub entropy: Option<f32>,
    /// Lowercase keywords: the rule's regex runs only when one occurs in the text
    /// (ASCII case-insensitively). Empty: the regex runs on every text.
    #[serde(default)]
    pub keywords: Vec<String>,
    /// Regex over the file path; the rule fires only for paths it matches.
    #[serde(default)]
    pub path: Option<String>,
    /// Assignment-style rule (`password = ...`): word-like values are ignored and a more
    /// specific rule wins when both match the same bytes.
    #[serde(default)]
    pub generic: bool,
    /// The regex never matches across more than one line break and every match holds a
    /// keyword: it then runs only on the lines around keyword hits instead of the whole
    /// text (much faster on large files). Off by default (gitleaks semantics: the whole
    /// text); the built-in rules turn it on except for multi-line formats (PEM keys).
    #[serde(default)]
    pub line_local: bool,
    /// Exceptions for this rule.
    #[serde(default)]
    pub allowlists: Vec<AllowlistSpec>,
}

/// What an allowlist regex is matched against.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum RegexTarget {
    /// The secret (capture group) only.
    #[default]
    Secret,
    /// The whole regex match.
    Match,
    /// The line(s) holding the match.
    Line,
}

/// How the parts of an allowlist combine.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "UPPERCASE")]
pub enum Condition {
    /// Any part that matches drops the finding.
    #[default]
    Or,
    /// Every part that is set must match to drop the finding.
    And,
}

/// Exceptions: a finding that matches is dropped.
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct AllowlistSpec {
    #[serde(default)]
    pub description: String,
    #[serde(default)]
    pub condition: Condition,
    /// Regexes matched against `regex_target`.
    #[serde(default)]
    pub regexes: Vec<String>,
    #[serde(default)]
    pub regex_target: RegexTarget,
    /// Regexes matched against the file path.
    #[serde(default)]
    pub paths: Vec<String>,
    /// Substrings (case-insensitive) of the secret.
    #[serde(default)]
    pub stopwords: Vec<String>,
    /// Only for global allowlists: the rule ids it applies to (empty: all rules).
    #[serde(default)]
    pub target_rules: Vec<String>,
}

pub(crate) fn build_regex(
    pattern: &str,
    rule: &str,
    what: &'static str,
) -> Result<Regex, SecretsError> {
    RegexBuilder::new(pattern)
        .unicode(false)
        .size_limit(REGEX_SIZE_LIMIT)
        .dfa_size_limit(DFA_SIZE_LIMIT)
        .build()
        .map_err(|e| SecretsError::Regex {
            rule: rule.to_string(),
            what,
            source: Box::new(e),
        })
}

/// An allowlist with its regexes compiled.
#[derive(Debug)]
pub(crate) struct Allowlist {
    pub condition: Condition,
    pub regexes: Vec<Regex>,
    pub regex_target: RegexTarget,
    pub paths: Vec<Regex>,
    pub stopwords: Vec<Vec<u8>>,
    pub target_rules: Vec<String>,
}

/// What an allowlist looks at for one candidate finding.
pub(crate) struct Candidate<'a> {
    pub secret: &'a [u8],
    pub whole: &'a [u8],
    pub line: &'a [u8],
    pub path: Option<&'a str>,
}

impl Allowlist {
    pub fn compile(spec: &AllowlistSpec, rule: &str) -> Result<Allowlist, SecretsError> {
        let regexes = spec
            .regexes
            .iter()
            .map(|r| build_regex(r, rule, "allowlist"))
            .collect::<Result<_, _>>()?;
        let paths = spec
            .paths
            .iter()
            .map(|r| build_regex(r, rule, "allowlist path"))
            .collect::<Result<_, _>>()?;
        Ok(Allowlist {
            condition: spec.condition,
            regexes,
            regex_target: spec.regex_target,
            paths,
            stopwords: spec
                .stopwords
                .iter()
                .map(|s| s.to_ascii_lowercase().into_bytes())
                .collect(),
            target_rules: spec.target_rules.clone(),
        })
    }

    pub fn applies_to(&self, rule_id: &str) -> bool {
        self.target_rules.is_empty() || self.target_rules.iter().any(|r| r == rule_id)
    }

    /// True when the candidate is allowed (dropped).
    pub fn allows(&self, c: &Candidate<'_>) -> bool {
        let target = match self.regex_target {
            RegexTarget::Secret => c.secret,
            RegexTarget::Match => c.whole,
            RegexTarget::Line => c.line,
        };
        let regex_hit =
            (!self.regexes.is_empty()).then(|| self.regexes.iter().any(|r| r.is_match(target)));
        let path_hit = (!self.paths.is_empty()).then(|| {
            c.path
                .is_some_and(|p| self.paths.iter().any(|r| r.is_match(p.as_bytes())))
        });
        let stop_hit = (!self.stopwords.is_empty()).then(|| {
            let lower = c.secret.to_ascii_lowercase();
            self.stopwords
                .iter()
                .any(|w| !w.is_empty() && lower.windows(w.len()).any(|win| win == w.as_slice()))
        });
        let parts = [regex_hit, path_hit, stop_hit];
        let mut set = parts.iter().flatten().peekable();
        if set.peek().is_none() {
            return false;
        }
        match self.condition {
            Condition::Or => set.any(|&hit| hit),
            Condition::And => set.all(|&hit| hit),
        }
    }
}

/// A rule ready to run: its regex is compiled on first use.
#[derive(Debug)]
pub(crate) struct Rule {
    pub spec: RuleSpec,
    pub regex: OnceLock<Result<Regex, String>>,
    pub path: Option<Regex>,
    pub allowlists: Vec<Allowlist>,
}

impl Rule {
    /// Checks the spec; compiles the path and allowlist regexes (small, and needed to
    /// report errors early). The main regex compiles now when `eager`, else on first use.
    pub fn new(spec: RuleSpec, eager: bool) -> Result<Rule, SecretsError> {
        if spec.id.trim().is_empty() {
            return Err(SecretsError::InvalidRule {
                rule: String::new(),
                reason: "empty id".into(),
            });
        }
        if spec.regex.is_none() && spec.path.is_none() {
            return Err(SecretsError::InvalidRule {
                rule: spec.id.clone(),
                reason: "neither `regex` nor `path` is set".into(),
            });
        }
        if let Some(e) = spec.entropy {
            if !(0.0..=8.0).contains(&e) {
                return Err(SecretsError::InvalidRule {
                    rule: spec.id.clone(),
                    reason: format!("entropy {e} is outside 0..=8"),
                });
            }
        }
        let path = spec
            .path
            .as_deref()
            .map(|p| build_regex(p, &spec.id, "path"))
            .transpose()?;
        let allowlists = spec
            .allowlists
            .iter()
            .map(|a| Allowlist::compile(a, &spec.id))
            .collect::<Result<_, _>>()?;
        let regex = OnceLock::new();
        if eager {
            if let Some(p) = &spec.regex {
                let re = build_regex(p, &spec.id, "rule")?;
                check_group(&spec, &re)?;
                let _ = regex.set(Ok(re));
            }
        }
        Ok(Rule {
            spec,
            regex,
            path,
            allowlists,
        })
    }

    /// The compiled regex; `Err` carries the compile error as text (built-in rules are
    /// tested to compile, user rules are compiled eagerly, so this is a last line of defence).
    pub fn regex(&self) -> Option<&Result<Regex, String>> {
        let pattern = self.spec.regex.as_deref()?;
        Some(
            self.regex.get_or_init(|| {
                build_regex(pattern, &self.spec.id, "rule").map_err(|e| e.to_string())
            }),
        )
    }
}

fn check_group(spec: &RuleSpec, re: &Regex) -> Result<(), SecretsError> {
    if let Some(g) = spec.secret_group {
        // captures_len counts the implicit group 0.
        if g >= re.captures_len() {
            return Err(SecretsError::InvalidRule {
                rule: spec.id.clone(),
                reason: format!(
                    "secret group {g} but the regex has {} groups",
                    re.captures_len() - 1
                ),
            });
        }
    }
    Ok(())
}
