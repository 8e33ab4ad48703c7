//! Rule specifications (what users write) and compiled rules (what the engine runs).

use std::ops::Range;
use std::sync::OnceLock;

use regex::bytes::{Regex, RegexBuilder};
use regex_automata::dfa::{dense, Automaton};
use serde::{Deserialize, Serialize};

use crate::builtin::generated::{RULES, RULE_COUNT};
use crate::builtin::StaticRule;
use crate::confidence::RuleConfidence;
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
    /// How sure the rule's findings are (see [`crate::Confidence`]). Unset: rated by the
    /// value for a generic rule, `high` for any other.
    #[serde(default)]
    pub confidence: Option<RuleConfidence>,
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

/// A rule regex as the engine runs it: the `regex` crate's meta engine, matched on bytes.
pub(crate) type RuleRegex = regex_automata::meta::Regex;

/// `(group, min, max)`: the length bounds of capture groups a relaxed regex leaves open.
pub(crate) type GroupBounds = [(u32, u32, u32)];

/// Compiles a rule regex. `prefilter`: let the engine extract literals and skip ahead with
/// them (worth it for a search over a whole text; for the lines around keyword hits the
/// keyword prefilter has done that job, and the literal prefilter of a case-insensitive
/// pattern can cost more to build than the rest of the regex). `captures`: keep the
/// capture groups (a gate only answers yes or no). `anchored_only`: the regex will only run
/// anchored, over a few bytes each time: skip the lazy DFAs (forward and reverse), which
/// cost about half of the build and serve long unanchored searches. No one-pass DFA.
pub(crate) fn build_rule_regex(
    pattern: &str,
    rule: &str,
    prefilter: bool,
    captures: bool,
    anchored_only: bool,
) -> Result<RuleRegex, SecretsError> {
    use regex_automata::nfa::thompson::WhichCaptures;
    use regex_automata::{meta, util::syntax};
    meta::Regex::builder()
        .syntax(syntax::Config::new().unicode(false).utf8(false))
        .configure(
            meta::Config::new()
                .utf8_empty(false)
                .auto_prefilter(prefilter)
                .hybrid(!anchored_only)
                // The one-pass DFA serves anchored searches with captures, but building it
                // (or finding that the regex is not one-pass) costs more than the few short
                // searches a hook makes with it; the backtracker and the PikeVM do them.
                .onepass(false)
                .which_captures(if captures {
                    WhichCaptures::All
                } else {
                    WhichCaptures::None
                })
                .nfa_size_limit(Some(REGEX_SIZE_LIMIT))
                .dfa_size_limit(Some(REGEX_SIZE_LIMIT))
                .hybrid_cache_capacity(DFA_SIZE_LIMIT),
        )
        .build(pattern)
        .map_err(|meta_err| {
            // Report the error as the `regex` crate words it (same parser, same limits).
            match build_regex(pattern, rule, "rule") {
                Err(e) => e,
                Ok(_) => SecretsError::InvalidRule {
                    rule: rule.to_string(),
                    reason: format!("invalid rule regex: {meta_err}"),
                },
            }
        })
}

/// Where a rule comes from: the compiled-in pack (borrowed, nothing to parse or copy, its
/// compiled parts shared by every scanner in the process) or a user's spec.
#[derive(Debug)]
enum Source {
    Builtin(&'static StaticRule, &'static Compiled),
    User(Box<RuleSpec>, Box<Compiled>),
}

/// The parts of a rule compiled on first use.
#[derive(Debug)]
struct Compiled {
    regex: OnceLock<Result<RuleRegex, String>>,
    /// The relaxed regex of a built-in rule that has one (see [`Rule::relaxed_regex`]).
    relaxed: OnceLock<Result<RuleRegex, String>>,
    gate: OnceLock<Gate>,
    /// The finding gate of a built-in generic rule (see [`Rule::finding_gate`]).
    finding_gate: OnceLock<Option<Gate>>,
    path: OnceLock<Result<Regex, String>>,
}

impl Compiled {
    const fn new() -> Compiled {
        Compiled {
            regex: OnceLock::new(),
            relaxed: OnceLock::new(),
            gate: OnceLock::new(),
            finding_gate: OnceLock::new(),
            path: OnceLock::new(),
        }
    }
}

/// The compiled parts of the built-in rules, one per rule of the pack: a process compiles
/// a built-in regex at most once, however many scanners it builds (a hook builds one for
/// the audit redactor and one for the policy's secret check).
static BUILTIN: [Compiled; RULE_COUNT] = [const { Compiled::new() }; RULE_COUNT];

/// A rule ready to run: its regexes are compiled on first use (user rules: at once).
#[derive(Debug)]
pub(crate) struct Rule {
    source: Source,
    pub allowlists: Vec<Allowlist>,
}

/// A cheap first test for a built-in rule (see build.rs): a window in which the gate finds
/// nothing cannot hold a match of the rule.
#[derive(Debug)]
pub(crate) enum Gate {
    /// Run from each keyword occurrence, anchored: every match of the rule holds a keyword
    /// occurrence from which the gate matches. Determinized at build time.
    Anchored(dense::DFA<&'static [u32]>),
    /// Matches wherever the rule matches. Determinized at build time, deserialized
    /// without copying.
    Dfa(dense::DFA<&'static [u32]>),
    /// Compiled at run time (its DFA would be too big).
    Regex(RuleRegex),
    /// No gate: every window runs the regex.
    Open,
}

impl Gate {
    /// False only when `hay[window]` holds no match of the rule. `starts`: where the
    /// rule's keywords occur in `hay`, sorted, all inside `window` (for [`Gate::Anchored`];
    /// with none, the answer is yes). A DFA search that fails (it cannot here: no quit
    /// bytes) counts as a match.
    pub fn may_match(&self, hay: &[u8], window: Range<usize>, starts: &[usize]) -> bool {
        use regex_automata::{Anchored, Input};
        let offset = window.start;
        let window = &hay[window];
        match self {
            Gate::Anchored(dfa) => {
                starts.is_empty()
                    || starts.iter().any(|&at| {
                        let input = Input::new(window)
                            .range(at - offset..)
                            .anchored(Anchored::Yes)
                            .earliest(true);
                        dfa.try_search_fwd(&input).map_or(true, |m| m.is_some())
                    })
            }
            Gate::Dfa(dfa) => dfa
                .try_search_fwd(&Input::new(window).earliest(true))
                .map_or(true, |m| m.is_some()),
            Gate::Regex(re) => re.is_match(window),
            Gate::Open => true,
        }
    }
}

impl Rule {
    /// Built-in rule `i` of the pack: nothing is compiled until a scan needs it.
    pub fn builtin(i: usize) -> Rule {
        Rule {
            source: Source::Builtin(&RULES[i], &BUILTIN[i]),
            allowlists: Vec::new(),
        }
    }

    fn compiled(&self) -> &Compiled {
        match &self.source {
            Source::Builtin(_, c) => c,
            Source::User(_, c) => c,
        }
    }

    /// Checks a user's spec and compiles its regexes now, so that errors surface here.
    pub fn new(spec: RuleSpec) -> Result<Rule, SecretsError> {
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
        let compiled = Box::new(Compiled::new());
        if let Some(p) = &spec.path {
            let _ = compiled.path.set(Ok(build_regex(p, &spec.id, "path")?));
        }
        let allowlists = spec
            .allowlists
            .iter()
            .map(|a| Allowlist::compile(a, &spec.id))
            .collect::<Result<_, _>>()?;
        if let Some(p) = &spec.regex {
            let re = build_rule_regex(p, &spec.id, !spec.line_local, true, false)?;
            check_group(&spec, &re)?;
            let _ = compiled.regex.set(Ok(re));
        }
        Ok(Rule {
            source: Source::User(Box::new(spec), compiled),
            allowlists,
        })
    }

    pub fn is_builtin(&self) -> bool {
        matches!(self.source, Source::Builtin(..))
    }

    pub fn has_regex(&self) -> bool {
        self.pattern().is_some()
    }

    pub fn id(&self) -> &str {
        match &self.source {
            Source::Builtin(r, _) => r.id,
            Source::User(s, _) => &s.id,
        }
    }

    pub fn description(&self) -> &str {
        match &self.source {
            Source::Builtin(r, _) => r.description,
            Source::User(s, _) => &s.description,
        }
    }

    fn pattern(&self) -> Option<&str> {
        match &self.source {
            Source::Builtin(r, _) => r.regex,
            Source::User(s, _) => s.regex.as_deref(),
        }
    }

    pub fn secret_group(&self) -> Option<usize> {
        match &self.source {
            Source::Builtin(r, _) => r.secret_group,
            Source::User(s, _) => s.secret_group,
        }
    }

    pub fn entropy(&self) -> Option<f32> {
        match &self.source {
            Source::Builtin(r, _) => r.entropy,
            Source::User(s, _) => s.entropy,
        }
    }

    pub fn generic(&self) -> bool {
        match &self.source {
            Source::Builtin(r, _) => r.generic,
            Source::User(s, _) => s.generic,
        }
    }

    /// How the rule rates its findings: as written, else by the value for a generic rule
    /// and `high` for any other.
    pub fn confidence(&self) -> RuleConfidence {
        let (set, generic) = match &self.source {
            Source::Builtin(r, _) => (r.confidence, r.generic),
            Source::User(s, _) => (s.confidence, s.generic),
        };
        set.unwrap_or(if generic {
            RuleConfidence::ByValue
        } else {
            RuleConfidence::High
        })
    }

    pub fn line_local(&self) -> bool {
        match &self.source {
            Source::Builtin(r, _) => r.line_local,
            Source::User(s, _) => s.line_local,
        }
    }

    /// True when every match of the rule starts where one of its keywords starts (a
    /// built-in rule whose regex begins with its keywords; see build.rs).
    pub fn starts_at_keyword(&self) -> bool {
        match &self.source {
            Source::Builtin(r, _) => r.starts_at_keyword,
            Source::User(..) => false,
        }
    }

    /// The keywords of a user rule (built-in keywords live in the compiled-in automaton).
    pub fn user_keywords(&self) -> &[String] {
        match &self.source {
            Source::Builtin(..) => &[],
            Source::User(s, _) => &s.keywords,
        }
    }

    /// True when the rule may run on a text at `path`: it has no path constraint, or the
    /// path matches it. A path regex that cannot compile lets the rule run (fail closed).
    pub fn path_allows(&self, path: Option<&str>) -> bool {
        let pattern = match &self.source {
            Source::Builtin(r, _) => r.path,
            Source::User(s, _) => s.path.as_deref(),
        };
        let Some(pattern) = pattern else { return true };
        let Some(path) = path else { return false };
        match self
            .compiled()
            .path
            .get_or_init(|| build_regex(pattern, self.id(), "path").map_err(|e| e.to_string()))
        {
            Ok(re) => re.is_match(path.as_bytes()),
            Err(_) => true,
        }
    }

    /// The compiled regex; `Err` carries the compile error as text (built-in rules are
    /// tested to compile, user rules are compiled eagerly, so this is a last line of defence).
    pub fn regex(&self) -> Option<&Result<RuleRegex, String>> {
        let pattern = self.pattern()?;
        Some(
            self.compiled()
                .regex
                .get_or_init(|| self.compile_rule_regex(pattern)),
        )
    }

    fn compile_rule_regex(&self, pattern: &str) -> Result<RuleRegex, String> {
        // A rule that starts at its keywords runs anchored there (see the scanner).
        let anchored_only = self.starts_at_keyword();
        build_rule_regex(pattern, self.id(), !self.line_local(), true, anchored_only)
            .map_err(|e| e.to_string())
    }

    /// The relaxed form of a built-in rule's regex (see build.rs) and the bounds its
    /// groups must be checked against: `(group, min, max)`. Where every group it lists
    /// that takes part in a match is within its bounds, the match and its captures are
    /// the regex's own; elsewhere the caller must run [`Rule::regex`]. `None` when the
    /// rule has no relaxed form.
    pub fn relaxed_regex(&self) -> Option<(&Result<RuleRegex, String>, &GroupBounds)> {
        let Source::Builtin(r, c) = &self.source else {
            return None;
        };
        let pattern = r.relaxed_regex?;
        let re = c.relaxed.get_or_init(|| self.compile_rule_regex(pattern));
        Some((re, r.relaxed_groups))
    }

    /// The finding gate of a built-in generic rule (see build.rs), an anchored gate run
    /// from each keyword occurrence: in a window where it matches from none, every match
    /// of the rule has a secret that the scanner drops as a word or a dotted name, so the
    /// window can yield no finding. `None` for other rules.
    pub fn finding_gate(&self) -> Option<&Gate> {
        let Source::Builtin(r, c) = &self.source else {
            return None;
        };
        c.finding_gate
            .get_or_init(|| crate::builtin::gate_dfa(r.finding_gate_dfa).map(Gate::Anchored))
            .as_ref()
    }

    /// The gate of a built-in rule (see build.rs): the anchored gate where there is one,
    /// else a relaxed form of the regex that matches wherever the regex matches; both cost
    /// little or nothing to set up. User rules, and a gate that fails to load, get
    /// [`Gate::Open`].
    pub fn gate(&self) -> &Gate {
        let (r, c) = match &self.source {
            Source::Builtin(r, c) => (r, c),
            Source::User(_, c) => return c.gate.get_or_init(|| Gate::Open),
        };
        c.gate.get_or_init(|| {
            if let Some(dfa) = crate::builtin::gate_dfa(r.anchored_gate_dfa) {
                return Gate::Anchored(dfa);
            }
            if let Some(dfa) = crate::builtin::gate_dfa(r.gate_dfa) {
                return Gate::Dfa(dfa);
            }
            match r
                .gate
                .map(|p| build_rule_regex(p, r.id, !r.line_local, false, false))
            {
                Some(Ok(re)) => Gate::Regex(re),
                _ => Gate::Open,
            }
        })
    }
}

fn check_group(spec: &RuleSpec, re: &RuleRegex) -> Result<(), SecretsError> {
    if let Some(g) = spec.secret_group {
        // group_len counts the implicit group 0.
        let groups = re.group_info().group_len(regex_automata::PatternID::ZERO);
        if g >= groups {
            return Err(SecretsError::InvalidRule {
                rule: spec.id.clone(),
                reason: format!("secret group {g} but the regex has {} groups", groups - 1),
            });
        }
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::builtin::{gate_dfa, generated, rules_with_cases, RULES_TOML};
    use proptest::prelude::*;

    fn texts() -> Vec<String> {
        let mut v: Vec<String> = rules_with_cases()
            .unwrap()
            .into_iter()
            .flat_map(|r| r.positive.into_iter().chain(r.negative))
            .collect();
        v.extend(RULES_TOML.lines().map(str::to_string));
        v
    }

    /// The rule regexes, compiled once for all tests (without captures: only `is_match`).
    fn regexes() -> &'static [Option<RuleRegex>] {
        static RES: OnceLock<Vec<Option<RuleRegex>>> = OnceLock::new();
        RES.get_or_init(|| {
            RULES
                .iter()
                .map(|r| {
                    r.regex
                        .map(|p| build_rule_regex(p, r.id, !r.line_local, false, false).unwrap())
                })
                .collect()
        })
    }

    /// Every gate a built-in rule has (the scanner uses the first that loads).
    fn gates(i: usize) -> Vec<Gate> {
        let r = &RULES[i];
        let mut v = Vec::new();
        v.extend(gate_dfa(r.anchored_gate_dfa).map(Gate::Anchored));
        v.extend(gate_dfa(r.gate_dfa).map(Gate::Dfa));
        v.extend(
            r.gate.map(|p| {
                Gate::Regex(build_rule_regex(p, r.id, !r.line_local, false, false).unwrap())
            }),
        );
        v
    }

    /// Where the keywords of built-in rule `i` start in `text`.
    fn starts(i: usize, text: &[u8]) -> Vec<usize> {
        let mut v = Vec::new();
        crate::builtin::keyword_hits(text, |k, start| {
            if generated::KEYWORD_RULES[k].contains(&(i as u16)) {
                v.push(start);
            }
        });
        v.sort_unstable();
        v.dedup();
        v
    }

    /// Every gate must match wherever the rule's own regex matches.
    fn check_gates(i: usize, gates: &[Gate], text: &[u8]) -> Result<(), String> {
        let Some(re) = &regexes()[i] else {
            return Ok(());
        };
        if !re.is_match(text) {
            return Ok(());
        }
        let starts = starts(i, text);
        match gates
            .iter()
            .find(|g| !g.may_match(text, 0..text.len(), &starts))
        {
            Some(g) => Err(format!(
                "{}: the gate {g:?} misses {:?}",
                RULES[i].id,
                String::from_utf8_lossy(text)
            )),
            None => Ok(()),
        }
    }

    #[test]
    fn gates_load_and_cover_their_rule() {
        let count = |f: fn(&Gate) -> bool| {
            (0..RULES.len())
                .filter(|&i| f(Rule::builtin(i).gate()))
                .count()
        };
        let anchored = count(|g| matches!(g, Gate::Anchored(_)));
        let dfas = count(|g| matches!(g, Gate::Dfa(_)));
        assert!(anchored >= 120, "only {anchored} anchored gates load");
        assert!(
            anchored + dfas >= 160,
            "only {} gate DFAs load",
            anchored + dfas
        );
        let texts = texts();
        for i in 0..RULES.len() {
            let gates = gates(i);
            for t in &texts {
                check_gates(i, &gates, t.as_bytes()).unwrap();
            }
        }
    }

    /// What keeps the first scan in a process cheap for the rules that run most (see
    /// build.rs): an anchored gate where a rule's keyword can sit at either end of its
    /// first part, relaxed regexes for wide counted secrets, and finding gates for the
    /// generic rules.
    #[test]
    fn cold_scan_shortcuts_are_built() {
        let rule = |id: &str| RULES.iter().find(|r| r.id == id).unwrap();
        assert!(gate_dfa(rule("aws-secret-access-key").anchored_gate_dfa).is_some());
        for id in [
            "generic-token",
            "generic-secret",
            "generic-password-unquoted",
        ] {
            assert!(rule(id).relaxed_regex.is_some(), "{id}");
            assert_eq!(rule(id).relaxed_groups.len(), 1, "{id}");
        }
        assert!(rule("generic-token").starts_at_keyword);
        for id in [
            "generic-token",
            "generic-secret",
            "generic-password",
            "generic-password-unquoted",
        ] {
            assert!(gate_dfa(rule(id).finding_gate_dfa).is_some(), "{id}");
        }
        assert_eq!(rule("github-pat").relaxed_regex, None);
    }

    proptest! {
        #[test]
        fn gates_cover_their_rule_on_pieces(i in 0..RULES.len(), j in any::<usize>(), a in any::<usize>(), b in any::<usize>()) {
            static CASES: OnceLock<Vec<Vec<String>>> = OnceLock::new();
            let cases = CASES.get_or_init(|| {
                rules_with_cases().unwrap().into_iter().map(|r| r.positive).collect()
            });
            let case = &cases[i];
            prop_assume!(!case.is_empty());
            let text = case[j % case.len()].as_bytes();
            let (a, b) = (a % (text.len() + 1), b % (text.len() + 1));
            let piece = &text[a.min(b)..a.max(b)];
            let gates = gates(i);
            let checked = check_gates(i, &gates, piece);
            prop_assert!(checked.is_ok(), "{}", checked.unwrap_err());
        }
    }
}
