//! The built-in rule pack: `rules.toml`, compiled by the build script into Rust statics
//! (rules, keywords, and the keyword automaton), so that a process parses nothing to use
//! it. The TOML text stays embedded for tools and tests that want the test cases.

use std::sync::OnceLock;

use regex_automata::dfa::dense;
use regex_automata::util::wire::AlignAs;
use serde::Deserialize;

use crate::confidence::RuleConfidence;
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
    #[serde(default)]
    pub confidence: Option<RuleConfidence>,
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
            confidence: self.confidence,
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
    /// For a generic rule: the anchored gate of its regex with the secret narrowed to
    /// values that are not words (see build.rs). Where it finds nothing, every match of
    /// the rule is dropped as code, and the regex need not run.
    pub finding_gate_dfa: Option<(usize, usize)>,
    /// Every match of the regex starts where one of the rule's keywords starts (see
    /// build.rs): the regex can run anchored at the keyword occurrences only.
    pub starts_at_keyword: bool,
    /// The regex with the counted repetitions of `relaxed_groups` relaxed to no upper
    /// bound (see build.rs): it finds the regex's own matches, with the same captures,
    /// wherever those groups come out within their bounds, and compiles much faster.
    pub relaxed_regex: Option<&'static str>,
    /// `(group, min, max)`: the bounds the relaxed regex's groups must be checked against.
    pub relaxed_groups: &'static [(u32, u32, u32)],
    pub secret_group: Option<usize>,
    pub entropy: Option<f32>,
    pub keywords: &'static [&'static str],
    pub path: Option<&'static str>,
    pub generic: bool,
    pub line_local: bool,
    pub confidence: Option<RuleConfidence>,
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
            confidence: self.confidence,
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

/// Texts at least this long are walked in [`LANES`] pieces side by side.
const LANES_MIN: usize = 2048;
/// Pieces walked side by side: one walk is a chain of dependent loads, several keep the
/// core busy.
const LANES: usize = 4;

/// The state after `state` reads `b`. States are premultiplied row offsets below 65536
/// and the table has 65536 entries (see build.rs), so the mask costs the bounds check.
#[inline(always)]
fn step(state: usize, b: u8) -> usize {
    use generated::{CLASSES, TRANS};
    usize::from(TRANS[(state + usize::from(CLASSES[usize::from(b)])) & (TRANS.len() - 1)])
}

/// Reports the keywords that end at `end` in state `state` (a match state).
#[inline]
fn report(state: usize, end: usize, on_hit: &mut impl FnMut(usize, usize)) {
    use generated::{FIRST_MATCH, KEYWORD_LENS, MATCHES, MATCH_AT, STRIDE};
    let m = (state - FIRST_MATCH) / STRIDE;
    for &k in &MATCHES[MATCH_AT[m] as usize..MATCH_AT[m + 1] as usize] {
        let k = usize::from(k);
        on_hit(k, end - usize::from(KEYWORD_LENS[k]));
    }
}

/// Walks `hay[from..to]` from `state`, reporting keywords that end after `keep_after`;
/// returns the last state.
fn walk(
    hay: &[u8],
    from: usize,
    to: usize,
    mut state: usize,
    keep_after: usize,
    on_hit: &mut impl FnMut(usize, usize),
) -> usize {
    for (i, &b) in hay[from..to].iter().enumerate() {
        state = step(state, b);
        if state >= generated::FIRST_MATCH && from + i + 1 > keep_after {
            report(state, from + i + 1, on_hit);
        }
    }
    state
}

/// Every occurrence of every built-in keyword in `hay`, ASCII case-insensitively, as
/// `(keyword index, start)`, in no particular order. One table lookup per byte.
///
/// A long text is cut into [`LANES`] pieces walked in one loop. A walk started anywhere
/// reports every keyword that starts at or after its first byte (the state it reaches
/// holds the longest suffix of what it read that begins a keyword), so each lane but the
/// first starts [`generated::MAX_KEYWORD_LEN`] bytes before its piece and keeps only the
/// keywords that end inside its piece.
pub(crate) fn keyword_hits(hay: &[u8], mut on_hit: impl FnMut(usize, usize)) {
    use generated::{FIRST_MATCH, MAX_KEYWORD_LEN};
    let n = hay.len();
    if n < LANES_MIN {
        walk(hay, 0, n, 0, 0, &mut on_hit);
        return;
    }
    // Lane j keeps the keywords that end in (lo[j], hi[j]] and starts reading at from[j].
    let chunk = n / LANES;
    let lo: [usize; LANES] = std::array::from_fn(|j| j * chunk);
    let hi: [usize; LANES] = std::array::from_fn(|j| if j + 1 == LANES { n } else { lo[j + 1] });
    let from: [usize; LANES] = std::array::from_fn(|j| lo[j].saturating_sub(MAX_KEYWORD_LEN));
    // Lane 0 is the shortest: all lanes walk that many bytes together, then each finishes
    // alone.
    let steps = hi[0] - from[0];
    let mut s = [0usize; LANES];
    let (l0, l1, l2, l3) = (
        &hay[from[0]..from[0] + steps],
        &hay[from[1]..from[1] + steps],
        &hay[from[2]..from[2] + steps],
        &hay[from[3]..from[3] + steps],
    );
    for (t, (((&b0, &b1), &b2), &b3)) in l0.iter().zip(l1).zip(l2).zip(l3).enumerate() {
        s[0] = step(s[0], b0);
        s[1] = step(s[1], b1);
        s[2] = step(s[2], b2);
        s[3] = step(s[3], b3);
        if s.iter().any(|&x| x >= FIRST_MATCH) {
            for j in 0..LANES {
                let end = from[j] + t + 1;
                if s[j] >= FIRST_MATCH && end > lo[j] {
                    report(s[j], end, &mut on_hit);
                }
            }
        }
    }
    for j in 0..LANES {
        walk(hay, from[j] + steps, hi[j], s[j], lo[j], &mut on_hit);
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
        static AC: OnceLock<aho_corasick::AhoCorasick> = OnceLock::new();
        let ac = AC.get_or_init(|| {
            aho_corasick::AhoCorasickBuilder::new()
                .ascii_case_insensitive(true)
                .build(generated::KEYWORDS)
                .unwrap()
        });
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

    /// Texts long enough for lanes, with every keyword placed across each lane boundary.
    #[test]
    fn keyword_lanes_agree_at_the_seams() {
        let filler: String = "x = f(a, b) + 1;\n".repeat(200);
        for n in [LANES_MIN, LANES_MIN + 1, LANES_MIN + 3, 3001] {
            let base = &filler.as_bytes()[..n];
            let chunk = n / LANES;
            for k in generated::KEYWORDS {
                for j in 1..LANES {
                    for shift in 0..=k.len() {
                        let mut hay = base.to_vec();
                        let at = j * chunk + shift - k.len().min(j * chunk + shift);
                        hay[at..at + k.len()].copy_from_slice(k.as_bytes());
                        assert_eq!(dfa_hits(&hay), reference_hits(&hay), "{k} at {at} of {n}");
                    }
                }
            }
        }
    }

    proptest! {
        #[test]
        fn keyword_lanes_equal_aho_corasick(
            parts in proptest::collection::vec(
                prop_oneof![
                    (0..generated::KEYWORDS.len()).prop_map(|i| generated::KEYWORDS[i].to_string()),
                    (0..generated::KEYWORDS.len()).prop_map(|i| generated::KEYWORDS[i].to_ascii_uppercase()),
                    "[a-zA-Z0-9_\\-:/. =\n\"']{0,300}",
                ],
                20..60,
            )
        ) {
            let hay = parts.concat();
            prop_assert_eq!(dfa_hits(hay.as_bytes()), reference_hits(hay.as_bytes()));
        }

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
