//! The built-in rule pack: `rules.toml`, compiled by the build script into Rust statics
//! (rules, keywords, and the keyword automaton), so that a process parses nothing to use
//! it. The TOML text stays embedded for tools and tests that want the test cases.

use std::sync::OnceLock;

use regex_automata::dfa::dense;
use regex_automata::util::wire::AlignAs;
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

/// The built-in rule specifications, built once per process from the compiled-in statics
/// (the scanner itself does not need them: it runs on the statics directly).
pub fn specs() -> Result<&'static [RuleSpec], SecretsError> {
    static SPECS: OnceLock<Vec<RuleSpec>> = OnceLock::new();
    Ok(SPECS.get_or_init(|| generated::RULES.iter().map(StaticRule::spec).collect()))
}

/// A built-in rule as the build script wrote it.
#[derive(Debug)]
pub(crate) struct StaticRule {
    pub id: &'static str,
    pub description: &'static str,
    pub regex: Option<&'static str>,
    /// The regex with large counted repetitions relaxed: matches a superset, compiles
    /// much faster, runs first (see build.rs). `None`: no gate.
    pub gate: Option<&'static str>,
    /// The gate as a dense DFA: `(offset, length)` in [`GATE_DFAS`].
    pub gate_dfa: Option<(usize, usize)>,
    /// The anchored gate (see build.rs), run from each keyword occurrence: a dense DFA
    /// with anchored start states, `(offset, length)` in [`GATE_DFAS`].
    pub anchored_gate_dfa: Option<(usize, usize)>,
    /// Every match of the regex starts where one of the rule's keywords starts (see
    /// build.rs): the regex can run anchored at the keyword occurrences only.
    pub starts_at_keyword: bool,
    pub secret_group: Option<usize>,
    pub entropy: Option<f32>,
    pub keywords: &'static [&'static str],
    pub path: Option<&'static str>,
    pub generic: bool,
    pub line_local: bool,
}

impl StaticRule {
    pub fn spec(&self) -> RuleSpec {
        RuleSpec {
            id: self.id.to_string(),
            description: self.description.to_string(),
            regex: self.regex.map(str::to_string),
            secret_group: self.secret_group,
            entropy: self.entropy,
            keywords: self.keywords.iter().map(|k| k.to_string()).collect(),
            path: self.path.map(str::to_string),
            generic: self.generic,
            line_local: self.line_local,
            allowlists: Vec::new(),
        }
    }
}

/// What build.rs generates: `RULES`, `ALWAYS` (rules without keywords), `KEYWORDS`,
/// `KEYWORD_LENS`, `KEYWORD_RULES`, and the keyword DFA (`CLASSES`, `STRIDE`, `TRANS`,
/// `FIRST_MATCH`, `MATCH_AT`, `MATCHES`).
#[allow(dead_code)] // `KEYWORDS` is read by the tests only.
pub(crate) mod generated {
    use super::StaticRule;
    include!(concat!(env!("OUT_DIR"), "/builtin_rules.rs"));
}

/// The serialized gate DFAs (little-endian), aligned as deserialization requires.
static GATE_DFAS: &AlignAs<[u8], u64> = &AlignAs {
    _align: [],
    #[cfg(target_endian = "little")]
    bytes: *include_bytes!(concat!(env!("OUT_DIR"), "/gates.bin")),
    // Big-endian targets: no DFA deserializes, every gate is compiled at run time.
    #[cfg(not(target_endian = "little"))]
    bytes: [],
};

/// A gate DFA of a built-in rule (`StaticRule::gate_dfa` or `anchored_gate_dfa`); `None`
/// when there is none or it does not validate. Validation reads the table once
/// (microseconds); nothing is compiled.
pub(crate) fn gate_dfa(at_len: Option<(usize, usize)>) -> Option<dense::DFA<&'static [u32]>> {
    let (at, len) = at_len?;
    let bytes = GATE_DFAS.bytes.get(at..at + len)?;
    dense::DFA::from_bytes(bytes).ok().map(|(dfa, _)| dfa)
}

/// Every occurrence of every built-in keyword in `hay`, ASCII case-insensitively, as
/// `(keyword index, start)`, in order of the keyword's end. One table lookup per byte.
pub(crate) fn keyword_hits(hay: &[u8], mut on_hit: impl FnMut(usize, usize)) {
    use generated::{CLASSES, FIRST_MATCH, KEYWORD_LENS, MATCHES, MATCH_AT, STRIDE, TRANS};
    let mut state = 0usize;
    for (i, &b) in hay.iter().enumerate() {
        state = TRANS[state * STRIDE + CLASSES[b as usize] as usize] as usize;
        if state >= FIRST_MATCH {
            let m = state - FIRST_MATCH;
            for &k in &MATCHES[MATCH_AT[m] as usize..MATCH_AT[m + 1] as usize] {
                let k = k as usize;
                on_hit(k, i + 1 - KEYWORD_LENS[k] as usize);
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use proptest::prelude::*;

    #[test]
    fn statics_match_the_toml() {
        let parsed: Vec<RuleSpec> = rules_with_cases()
            .unwrap()
            .iter()
            .map(BuiltinRule::spec)
            .collect();
        assert_eq!(specs().unwrap(), parsed.as_slice());
    }

    fn reference_hits(hay: &[u8]) -> Vec<(usize, usize)> {
        let ac = aho_corasick::AhoCorasickBuilder::new()
            .ascii_case_insensitive(true)
            .build(generated::KEYWORDS)
            .unwrap();
        let mut v: Vec<(usize, usize)> = ac
            .find_overlapping_iter(hay)
            .map(|m| (m.pattern().as_usize(), m.start()))
            .collect();
        v.sort_unstable();
        v
    }

    fn dfa_hits(hay: &[u8]) -> Vec<(usize, usize)> {
        let mut v = Vec::new();
        keyword_hits(hay, |k, start| v.push((k, start)));
        v.sort_unstable();
        v
    }

    #[test]
    fn keyword_dfa_finds_every_occurrence() {
        let all = generated::KEYWORDS.join(" ");
        assert_eq!(dfa_hits(all.as_bytes()), reference_hits(all.as_bytes()));
        let upper = all.to_ascii_uppercase();
        assert_eq!(dfa_hits(upper.as_bytes()), reference_hits(upper.as_bytes()));
        assert_eq!(
            dfa_hits(RULES_TOML.as_bytes()),
            reference_hits(RULES_TOML.as_bytes())
        );
        // Overlaps: `sshpass` holds `pass`, `secret_key_base` holds `secret_key` and `key`.
        let hits = dfa_hits(b"SSHPASS secret_key_base");
        assert!(hits.len() >= 4, "{hits:?}");
    }

    proptest! {
        #[test]
        fn keyword_dfa_equals_aho_corasick(
            parts in proptest::collection::vec(
                prop_oneof![
                    (0..generated::KEYWORDS.len()).prop_map(|i| generated::KEYWORDS[i].to_string()),
                    (0..generated::KEYWORDS.len()).prop_map(|i| generated::KEYWORDS[i].to_ascii_uppercase()),
                    "[a-zA-Z0-9_\\-:/. =\n\"']{0,6}",
                    proptest::collection::vec(any::<u8>(), 0..4).prop_map(|v| String::from_utf8_lossy(&v).into_owned()),
                ],
                0..24,
            )
        ) {
            let hay = parts.concat();
            prop_assert_eq!(dfa_hits(hay.as_bytes()), reference_hits(hay.as_bytes()));
        }
    }
}
