//! The engine: keyword prefilter, lazily compiled rule regexes, filters, overlap resolution.

use std::borrow::Cow;
use std::collections::BTreeMap;
use std::ops::Range;
use std::sync::{Arc, OnceLock};

use aho_corasick::{AhoCorasick, AhoCorasickBuilder, MatchKind};
use serde::Serialize;

use crate::confidence::{
    assigns_local_shell_variable, inside_quotes, is_example_path, is_source_path,
    name_says_not_a_credential, value_confidence, Confidence, RuleConfidence,
};
use crate::doc_context::{doc_syntax, is_shell_script, DocContext};
use crate::entropy::shannon;
use crate::filters::{
    basic_password_is_word, documentation_url_example, is_password_hash, is_placeholder,
    looks_like_code, looks_like_identifier, names_a_credential, names_a_hash, names_not_the_secret,
    url_encoded_text, value_repeats_name, words_and_counters,
};
use crate::rule::{
    Allowlist, AllowlistSpec, Candidate, Gate, GroupBounds, Rule, RuleRegex, RuleSpec,
};
use crate::{builtin, SecretsError};

/// Inline markers that silence findings on their line, for a known-safe value in a test or
/// a doc. `gitleaks:allow` is honoured so that existing annotations keep working.
pub const ALLOW_MARKERS: &[&str] = &["warden:allow-secret", "gitleaks:allow"];

/// One secret found in a text. It never holds the secret itself: only where it is, which
/// rule found it, and a preview of its first four characters.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct Finding {
    /// The rule that matched (`github-pat`).
    pub rule_id: String,
    /// The rule's description (`GitHub personal access token (classic)`).
    pub description: String,
    /// 1-based line of the secret's first byte.
    pub line: usize,
    /// 1-based column (in characters) of the secret's first byte.
    pub column: usize,
    /// Byte range of the secret in the scanned text.
    pub byte_range: Range<usize>,
    /// The first 4 characters of the secret, then `***`.
    pub preview: String,
    /// Shannon entropy of the secret, in bits per byte.
    pub entropy: Option<f32>,
    /// How sure the finding is (see [`Confidence`]).
    pub confidence: Confidence,
}

impl std::fmt::Display for Finding {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(
            f,
            "{}:{}: {} ({}) {}",
            self.line, self.column, self.rule_id, self.description, self.preview
        )
    }
}

/// Everything a scanner needs to know besides the built-in pack: user rules (added, or
/// replacing a built-in rule of the same id), global allowlists, disabled rule ids.
#[derive(Debug, Clone, Default, PartialEq)]
pub struct ScanConfig {
    /// Start from the built-in pack (`true` unless a config says otherwise).
    pub use_builtin: bool,
    pub rules: Vec<RuleSpec>,
    pub allowlists: Vec<AllowlistSpec>,
    pub disabled: Vec<String>,
}

/// A compiled rule set. Cheap to clone (shared), safe to use from many threads.
#[derive(Clone)]
pub struct Scanner {
    inner: Arc<Inner>,
}

struct Inner {
    /// Built-in rules first (in pack order), then user rules.
    rules: Vec<Rule>,
    /// When the built-in pack is used: built-in rule index -> index in `rules`, or
    /// [`NO_RULE`] for a built-in rule that was disabled or replaced. The built-in keywords
    /// are found by the compiled-in automaton ([`builtin::keyword_hits`]).
    builtin_map: Option<Vec<u32>>,
    /// The keywords of user rules, one pattern per distinct keyword; `None` when no user
    /// rule has keywords.
    prefilter: Option<AhoCorasick>,
    /// Prefilter pattern index -> the rules that keyword triggers.
    pattern_rules: Vec<Vec<u32>>,
    /// Rules without keywords: they run on every text.
    always: Vec<u32>,
    global: Vec<Allowlist>,
    /// Run the gates of built-in rules (always, but in the tests that check that the gates
    /// change no finding).
    gates: bool,
    /// Run the relaxed regexes of built-in rules that have one, checking their groups
    /// (always, but in the tests that check that this changes no finding).
    relax: bool,
}

/// A built-in rule that is not in this scanner.
const NO_RULE: u32 = u32::MAX;

impl std::fmt::Debug for Scanner {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Scanner")
            .field("rules", &self.inner.rules.len())
            .finish()
    }
}

/// A candidate before overlap resolution.
struct Raw {
    rule: u32,
    range: Range<usize>,
    entropy: Option<f32>,
}

impl Scanner {
    /// The built-in pack. The pack and its keyword automaton are compiled into the binary,
    /// so the first call in a process only sets up a table of not yet compiled rules;
    /// later calls share it.
    ///
    /// The built-in pack is checked by the test suite; should it ever fail to load, the
    /// scanner falls back to a broad private-key / token rule set rather than to nothing.
    pub fn builtin() -> Scanner {
        static BUILTIN: OnceLock<Scanner> = OnceLock::new();
        BUILTIN
            .get_or_init(|| {
                Scanner::from_config(ScanConfig {
                    use_builtin: true,
                    ..ScanConfig::default()
                })
                .unwrap_or_else(|_| Scanner::fallback())
            })
            .clone()
    }

    /// The built-in pack plus `extra` rules (a rule whose id is built in replaces it),
    /// minus the `disabled` ids. User rules compile now, so that a bad one is reported here.
    pub fn with_rules(extra: Vec<RuleSpec>, disabled: &[String]) -> Result<Scanner, SecretsError> {
        Scanner::from_config(ScanConfig {
            use_builtin: true,
            rules: extra,
            allowlists: Vec::new(),
            disabled: disabled.to_vec(),
        })
    }

    /// Rules from a gitleaks TOML config, as is: see [`crate::gitleaks`].
    pub fn from_gitleaks_toml(text: &str) -> Result<ScanConfig, SecretsError> {
        crate::gitleaks::parse(text)
    }

    /// A scanner from a full configuration.
    pub fn from_config(config: ScanConfig) -> Result<Scanner, SecretsError> {
        let mut rules: Vec<Rule> = Vec::with_capacity(
            usize::from(config.use_builtin) * builtin::generated::RULES.len() + config.rules.len(),
        );
        let user_ids: std::collections::HashSet<&str> =
            config.rules.iter().map(|r| r.id.as_str()).collect();
        let mut builtin_map = None;
        if config.use_builtin {
            let mut map = vec![NO_RULE; builtin::generated::RULES.len()];
            for (b, (slot, rule)) in map
                .iter_mut()
                .zip(builtin::generated::RULES.iter())
                .enumerate()
            {
                if user_ids.contains(rule.id) || config.disabled.iter().any(|d| d == rule.id) {
                    continue;
                }
                *slot = u32::try_from(rules.len())
                    .map_err(|_| SecretsError::Prefilter("too many rules".into()))?;
                rules.push(Rule::builtin(b));
            }
            builtin_map = Some(map);
        }
        let mut seen = std::collections::HashSet::new();
        for spec in config.rules {
            if !seen.insert(spec.id.clone()) {
                return Err(SecretsError::InvalidRule {
                    rule: spec.id,
                    reason: "defined twice".into(),
                });
            }
            if config.disabled.iter().any(|d| d == &spec.id) {
                continue;
            }
            rules.push(Rule::new(spec)?);
        }
        let global = config
            .allowlists
            .iter()
            .map(|a| Allowlist::compile(a, "global allowlist"))
            .collect::<Result<_, _>>()?;
        Scanner::assemble(rules, builtin_map, global)
    }

    fn assemble(
        rules: Vec<Rule>,
        builtin_map: Option<Vec<u32>>,
        global: Vec<Allowlist>,
    ) -> Result<Scanner, SecretsError> {
        let mut keywords: Vec<String> = Vec::new();
        let mut index: std::collections::HashMap<String, usize> = std::collections::HashMap::new();
        let mut pattern_rules: Vec<Vec<u32>> = Vec::new();
        let mut always = Vec::new();
        if let Some(map) = &builtin_map {
            always.extend(
                builtin::generated::ALWAYS
                    .iter()
                    .map(|&b| map[b as usize])
                    .filter(|&i| i != NO_RULE),
            );
        }
        for (i, rule) in rules.iter().enumerate() {
            if rule.is_builtin() {
                continue;
            }
            let i =
                u32::try_from(i).map_err(|_| SecretsError::Prefilter("too many rules".into()))?;
            let kws: Vec<String> = rule
                .user_keywords()
                .iter()
                .map(|k| k.to_ascii_lowercase())
                .filter(|k| !k.is_empty())
                .collect();
            if kws.is_empty() {
                always.push(i);
                continue;
            }
            for k in kws {
                let slot = *index.entry(k.clone()).or_insert_with(|| {
                    keywords.push(k);
                    pattern_rules.push(Vec::new());
                    pattern_rules.len() - 1
                });
                if !pattern_rules[slot].contains(&i) {
                    pattern_rules[slot].push(i);
                }
            }
        }
        // Overlapping search: every occurrence of every keyword, as the built-in automaton.
        let prefilter = if keywords.is_empty() {
            None
        } else {
            Some(
                AhoCorasickBuilder::new()
                    .ascii_case_insensitive(true)
                    .match_kind(MatchKind::Standard)
                    .build(&keywords)
                    .map_err(|e| SecretsError::Prefilter(e.to_string()))?,
            )
        };
        Ok(Scanner {
            inner: Arc::new(Inner {
                rules,
                builtin_map,
                prefilter,
                pattern_rules,
                always,
                global,
                gates: true,
                relax: true,
            }),
        })
    }

    /// Used only if the embedded pack failed to load: keeps the scanner failing closed.
    fn fallback() -> Scanner {
        let spec = RuleSpec {
            id: "fallback-credential".into(),
            description: "Credential-shaped value (built-in pack failed to load)".into(),
            regex: Some(r"(-----BEGIN[ A-Z0-9]*PRIVATE KEY-----|\b(?:gh[pousr]_|glpat-|xox[abposr]-|sk-|AKIA|AIza)[A-Za-z0-9_\-]{16,})".into()),
            secret_group: None,
            entropy: None,
            keywords: Vec::new(),
            path: None,
            generic: false,
            line_local: false,
            confidence: None,
            allowlists: Vec::new(),
        };
        let rules = Rule::new(spec).map(|r| vec![r]).unwrap_or_default();
        Scanner::assemble(rules, None, Vec::new()).unwrap_or_else(|_| Scanner {
            inner: Arc::new(Inner {
                rules: Vec::new(),
                builtin_map: None,
                prefilter: None,
                pattern_rules: Vec::new(),
                always: Vec::new(),
                global: Vec::new(),
                gates: true,
                relax: true,
            }),
        })
    }

    /// Number of rules in this scanner.
    pub fn rule_count(&self) -> usize {
        self.inner.rules.len()
    }

    /// Ids and descriptions of the rules, in order.
    pub fn rules(&self) -> impl Iterator<Item = (&str, &str)> {
        self.inner.rules.iter().map(|r| (r.id(), r.description()))
    }

    /// Findings in `text`, ordered by position. Rules that need a path are skipped.
    pub fn scan(&self, text: &str) -> Vec<Finding> {
        self.scan_path_hint(None, text)
    }

    /// Findings in `text`, the content of the file at `path` (when known): rules with a
    /// `path` constraint and path allowlists take part.
    pub fn scan_path_hint(&self, path: Option<&str>, text: &str) -> Vec<Finding> {
        let raw = self.candidates(path, text.as_bytes());
        self.finish(text, raw, path)
    }

    /// `text` with every secret replaced by `[REDACTED:<rule-id>]`, and the findings
    /// (their byte ranges refer to the original text). Borrows when nothing was found.
    pub fn redact<'a>(&self, text: &'a str) -> (Cow<'a, str>, Vec<Finding>) {
        let findings = self.scan(text);
        if findings.is_empty() {
            return (Cow::Borrowed(text), findings);
        }
        let mut out = String::with_capacity(text.len());
        let mut at = 0;
        for f in &findings {
            // Findings never overlap (see `finish`); guard anyway so redaction cannot panic.
            if f.byte_range.start < at {
                continue;
            }
            out.push_str(&text[at..f.byte_range.start]);
            out.push_str("[REDACTED:");
            out.push_str(&f.rule_id);
            out.push(']');
            at = f.byte_range.end;
        }
        out.push_str(&text[at..]);
        (Cow::Owned(out), findings)
    }

    fn candidates(&self, path: Option<&str>, hay: &[u8]) -> Vec<Raw> {
        let inner = &*self.inner;
        // Where each rule's keywords occur (empty list: runs on the whole text).
        let mut hits: Vec<Option<Vec<usize>>> = vec![None; inner.rules.len()];
        for &i in &inner.always {
            hits[i as usize] = Some(Vec::new());
        }
        if let Some(map) = &inner.builtin_map {
            builtin::keyword_hits(hay, |k, start| {
                for &b in builtin::generated::KEYWORD_RULES[k] {
                    let i = map[b as usize];
                    if i != NO_RULE {
                        hits[i as usize].get_or_insert_with(Vec::new).push(start);
                    }
                }
            });
        }
        if let Some(ac) = &inner.prefilter {
            for m in ac.find_overlapping_iter(hay) {
                for &i in &inner.pattern_rules[m.pattern().as_usize()] {
                    hits[i as usize]
                        .get_or_insert_with(Vec::new)
                        .push(m.start());
                }
            }
        }
        let mut raw = Vec::new();
        for (i, rule) in inner.rules.iter().enumerate() {
            let Some(positions) = &mut hits[i] else {
                continue;
            };
            positions.sort_unstable();
            positions.dedup();
            let positions = &*positions;
            if !rule.path_allows(path) {
                continue;
            }
            let i = i as u32;
            match plan(rule, hay, positions, inner.gates, inner.relax) {
                // A path-only rule: the file itself is the finding.
                Needed::PathOnly => {
                    let c = Candidate {
                        secret: b"",
                        whole: b"",
                        line: b"",
                        path,
                    };
                    if !self.allowed(rule, &c) {
                        raw.push(Raw {
                            rule: i,
                            range: 0..0,
                            entropy: None,
                        });
                    }
                }
                Needed::Nothing => {}
                // Fail closed: a rule that cannot compile reports, rather than passing text.
                Needed::Broken => raw.push(Raw {
                    rule: i,
                    range: 0..0,
                    entropy: None,
                }),
                Needed::Run(re, runs) => {
                    for run in runs {
                        let starts = run.starts.as_deref();
                        self.run_rule(i, rule, re, path, hay, run.window, starts, &mut raw);
                    }
                }
                Needed::RunRelaxed(re, bounds, runs) => {
                    for run in runs {
                        let starts = run.starts.as_deref();
                        self.run_relaxed(
                            i,
                            rule,
                            (re, bounds),
                            path,
                            hay,
                            run.window,
                            starts,
                            &mut raw,
                        );
                    }
                }
            }
        }
        raw
    }

    #[allow(clippy::too_many_arguments)]
    /// Runs `re` over `hay[window]`: everywhere (`starts`: `None`), or anchored at each
    /// of `starts` (a rule whose matches all start at a keyword occurrence: the same
    /// matches, found without reading the text between them).
    #[allow(clippy::too_many_arguments)]
    fn run_rule(
        &self,
        i: u32,
        rule: &Rule,
        re: &RuleRegex,
        path: Option<&str>,
        hay: &[u8],
        window: Range<usize>,
        starts: Option<&[usize]>,
        raw: &mut Vec<Raw>,
    ) {
        let offset = window.start;
        let sub = &hay[window];
        match starts {
            None => {
                for caps in re.captures_iter(sub) {
                    self.take(i, rule, path, hay, offset, &caps, raw);
                }
            }
            Some(starts) => {
                use regex_automata::{Anchored, Input};
                let mut caps = re.create_captures();
                // Matches do not overlap: the next one starts at or after this end.
                let mut next = 0;
                for &at in starts {
                    let at = at - offset;
                    if at < next {
                        continue;
                    }
                    re.search_captures(
                        &Input::new(sub).range(at..).anchored(Anchored::Yes),
                        &mut caps,
                    );
                    if let Some(m) = caps.get_match() {
                        next = m.end().max(at + 1);
                        self.take(i, rule, path, hay, offset, &caps, raw);
                    }
                }
            }
        }
    }

    /// Like [`Scanner::run_rule`], with the relaxed regex of the rule and the bounds of its
    /// groups (see build.rs): its matches are the rule's own as long as the groups are
    /// within bounds. From the first match that is not, the rule's own regex takes over:
    /// over the rest of the window, or at that start.
    #[allow(clippy::too_many_arguments)]
    fn run_relaxed(
        &self,
        i: u32,
        rule: &Rule,
        (re, bounds): (&RuleRegex, &GroupBounds),
        path: Option<&str>,
        hay: &[u8],
        window: Range<usize>,
        starts: Option<&[usize]>,
        raw: &mut Vec<Raw>,
    ) {
        use regex_automata::util::captures::Captures;
        use regex_automata::{Anchored, Input};
        let within = |caps: &Captures| {
            bounds.iter().all(|&(g, min, max)| {
                caps.get_group(g as usize)
                    .is_none_or(|span| (min as usize..=max as usize).contains(&span.len()))
            })
        };
        let broken = Raw {
            rule: i,
            range: 0..0,
            entropy: None,
        };
        let offset = window.start;
        let sub = &hay[window];
        let mut caps = re.create_captures();
        match starts {
            None => {
                let mut at = 0;
                let from = loop {
                    re.search_captures(&Input::new(sub).range(at..), &mut caps);
                    let Some(m) = caps.get_match() else { return };
                    // An empty match (none in the pack) would need the iterator's handling
                    // of empty matches: leave it to the rule's own regex too.
                    if m.is_empty() || !within(&caps) {
                        break at;
                    }
                    self.take(i, rule, path, hay, offset, &caps, raw);
                    at = m.end();
                };
                let Some(Ok(full)) = rule.regex() else {
                    raw.push(broken);
                    return;
                };
                for caps in full.captures_iter(Input::new(sub).range(from..)) {
                    self.take(i, rule, path, hay, offset, &caps, raw);
                }
            }
            Some(starts) => {
                let mut full_caps: Option<Captures> = None;
                // Matches do not overlap: the next one starts at or after this end.
                let mut next = 0;
                for &at in starts {
                    let at = at - offset;
                    if at < next {
                        continue;
                    }
                    let input = Input::new(sub).range(at..).anchored(Anchored::Yes);
                    re.search_captures(&input, &mut caps);
                    if caps.get_match().is_none() {
                        continue;
                    }
                    let found = if within(&caps) {
                        &caps
                    } else {
                        let Some(Ok(full)) = rule.regex() else {
                            raw.push(broken);
                            return;
                        };
                        let fc = full_caps.get_or_insert_with(|| full.create_captures());
                        full.search_captures(&input, fc);
                        &*fc
                    };
                    if let Some(m) = found.get_match() {
                        next = m.end().max(at + 1);
                        self.take(i, rule, path, hay, offset, found, raw);
                    }
                }
            }
        }
    }

    /// Checks one match of rule `i` in `hay[offset..]` and keeps it unless a filter or an
    /// allowlist drops it.
    #[allow(clippy::too_many_arguments)]
    fn take(
        &self,
        i: u32,
        rule: &Rule,
        path: Option<&str>,
        hay: &[u8],
        offset: usize,
        caps: &regex_automata::util::captures::Captures,
        raw: &mut Vec<Raw>,
    ) {
        let sub = &hay[offset..];
        let Some(whole) = caps.get_match() else {
            return;
        };
        let secret = match rule.secret_group() {
            Some(g) if g > 0 => caps.get_group(g),
            _ => (1..caps.group_len())
                .find_map(|g| caps.get_group(g))
                .or(Some(whole.span())),
        };
        let Some(secret) = secret else { return };
        let value = &sub[secret.range()];
        // Cheapest filter first (they only ever drop a match, so their order is free).
        if value.is_empty()
            || (rule.generic()
                && (looks_like_code(value)
                    || names_a_hash(&sub[whole.start()..secret.start])
                    // A URL's password keeps the stricter test of documentation_url_example.
                    || (words_and_counters(value)
                        && memchr::memmem::find(&sub[whole.start()..secret.start], b"://")
                            .is_none())
                    || is_password_hash(value)
                    || url_encoded_text(value)
                    || basic_password_is_word(value)))
            || is_placeholder(value)
            || documentation_url_example(value, &sub[secret.end..whole.end()])
        {
            return;
        }
        let entropy = shannon(value);
        if rule
            .entropy()
            .is_some_and(|floor| entropy < entropy_floor(floor, value))
        {
            return;
        }
        let line = line_span(hay, offset + whole.start(), offset + whole.end());
        // The rest of the line after the secret, and whether a quote opens it.
        let line_end =
            memchr::memchr(b'\n', &sub[secret.end..]).map_or(sub.len(), |n| secret.end + n);
        let after = &sub[secret.end..line_end];
        let quoted = secret.start > 0 && matches!(sub[secret.start - 1], b'"' | b'\'' | b'`');
        if rule.generic() && {
            let line_before = &hay[memchr::memrchr(b'\n', &hay[..offset + secret.start])
                .map_or(0, |n| n + 1)..offset + secret.start];
            looks_like_identifier(value, quoted, after)
                || names_a_credential(value, quoted)
                || names_not_the_secret(line_before)
                || value_repeats_name(line_before, value)
        } {
            return;
        }
        if ALLOW_MARKERS
            .iter()
            .any(|m| memchr::memmem::find(line, m.as_bytes()).is_some())
        {
            return;
        }
        let c = Candidate {
            secret: value,
            whole: &sub[whole.range()],
            line,
            path,
        };
        if self.allowed(rule, &c) {
            return;
        }
        raw.push(Raw {
            rule: i,
            range: offset + secret.start..offset + secret.end,
            entropy: Some(entropy),
        });
    }

    fn allowed(&self, rule: &Rule, c: &Candidate<'_>) -> bool {
        rule.allowlists.iter().any(|a| a.allows(c))
            || self
                .inner
                .global
                .iter()
                .any(|a| a.applies_to(rule.id()) && a.allows(c))
    }

    /// Resolves overlaps (a specific rule beats a generic one, then the earlier rule wins),
    /// orders by position, and computes lines, columns and previews.
    fn finish(&self, text: &str, mut raw: Vec<Raw>, path: Option<&str>) -> Vec<Finding> {
        if raw.is_empty() {
            return Vec::new();
        }
        let rules = &self.inner.rules;
        for r in &mut raw {
            r.range = widen_to_char_boundaries(text, r.range.clone());
        }
        raw.sort_by_key(|r| (rules[r.rule as usize].generic(), r.rule, r.range.start));
        // start -> end of accepted ranges; empty ranges (path findings) never collide.
        let mut taken: BTreeMap<usize, usize> = BTreeMap::new();
        let mut kept: Vec<Raw> = Vec::with_capacity(raw.len());
        for r in raw {
            let overlaps = !r.range.is_empty()
                && (taken
                    .range(..r.range.end)
                    .next_back()
                    .is_some_and(|(_, &end)| end > r.range.start));
            if overlaps {
                continue;
            }
            if !r.range.is_empty() {
                taken.insert(r.range.start, r.range.end);
            }
            kept.push(r);
        }
        kept.sort_by_key(|r| (r.range.start, r.rule));
        let bytes = text.as_bytes();
        // Where the text is, for rules that rate a value also by its place: once per text.
        let in_example = path.is_some_and(is_example_path);
        let in_source = path.is_some_and(is_source_path);
        let in_shell_script = path.is_some_and(|path| is_shell_script(path, bytes));
        let mut documentation = path
            .and_then(|path| doc_syntax(path, bytes))
            .map(|syntax| DocContext::new(syntax, bytes));
        let (mut pos, mut line) = (0usize, 1usize);
        kept.into_iter()
            .map(|r| {
                let start = r.range.start;
                line += memchr::memchr_iter(b'\n', &bytes[pos..start]).count();
                pos = start;
                let line_start = memchr::memrchr(b'\n', &bytes[..start]).map_or(0, |n| n + 1);
                let column = text[line_start..start].chars().count() + 1;
                let rule = &rules[r.rule as usize];
                let preview = if r.range.is_empty() {
                    String::new()
                } else {
                    let head: String = text[r.range.clone()].chars().take(4).collect();
                    format!("{head}***")
                };
                let line_before = &bytes[line_start..start];
                let confidence = match rule.confidence() {
                    RuleConfidence::High => Confidence::High,
                    RuleConfidence::Medium => Confidence::Medium,
                    RuleConfidence::Low => Confidence::Low,
                    RuleConfidence::ByValue if in_example => Confidence::Low,
                    // A bare value in source code: an expression, not a literal.
                    RuleConfidence::ByValue if in_source && !inside_quotes(line_before) => {
                        Confidence::Low
                    }
                    // `DUMMY_PASSWORD = ...`, `password_hash = ...`: the name says it.
                    RuleConfidence::ByValue if name_says_not_a_credential(line_before) => {
                        Confidence::Low
                    }
                    // `derived_secret="..."`: a shell script's own working value.
                    RuleConfidence::ByValue
                        if in_shell_script && assigns_local_shell_variable(line_before) =>
                    {
                        Confidence::Low
                    }
                    // Shown in a comment or a documentation block, not used.
                    RuleConfidence::ByValue
                        if documentation
                            .as_mut()
                            .is_some_and(|doc| doc.is_documentation(line_start, start)) =>
                    {
                        Confidence::Low
                    }
                    RuleConfidence::ByValue => value_confidence(&bytes[r.range.clone()]),
                };
                Finding {
                    rule_id: rule.id().to_string(),
                    description: rule.description().to_string(),
                    line,
                    column,
                    byte_range: r.range,
                    preview,
                    entropy: r.entropy,
                    confidence,
                }
            })
            .collect()
    }
}

/// What a rule needs to run on one text.
enum Needed<'a> {
    /// A rule without a regex: the path is the finding.
    PathOnly,
    /// The gate found nothing: the rule cannot match (its regex is not even compiled).
    Nothing,
    /// The regex does not compile.
    Broken,
    /// Run the regex over these windows.
    Run(&'a RuleRegex, Vec<Run>),
    /// Run the relaxed regex, whose groups must stay within these bounds, over these
    /// windows (see [`Rule::relaxed_regex`]).
    RunRelaxed(&'a RuleRegex, &'a GroupBounds, Vec<Run>),
}

/// A window to run a rule's regex over, everywhere in it or anchored at `starts`.
struct Run {
    window: Range<usize>,
    starts: Option<Vec<usize>>,
}

/// Where a rule must run: the lines around its keyword hits (line-local rules) or the
/// whole text, less the windows in which its gate finds nothing. The gate matches wherever
/// the regex matches (see build.rs), on the same window, so this drops no match. A rule
/// whose matches all start at a keyword runs anchored at the keyword occurrences from
/// which its gate matches. `positions`: where the rule's keywords start, sorted. `relax`:
/// run the relaxed regex where the rule has one (see [`Rule::relaxed_regex`]).
fn plan<'a>(
    rule: &'a Rule,
    hay: &[u8],
    positions: &[usize],
    gates: bool,
    relax: bool,
) -> Needed<'a> {
    if !rule.has_regex() {
        return Needed::PathOnly;
    }
    let windows = if rule.line_local() && !positions.is_empty() {
        line_windows(hay, positions)
    } else {
        let whole = 0..hay.len();
        vec![whole]
    };
    let gate = if gates { rule.gate() } else { &Gate::Open };
    let anchored = gates && rule.starts_at_keyword() && !positions.is_empty();
    let mut runs = Vec::with_capacity(windows.len());
    for w in windows {
        let from = positions.partition_point(|&p| p < w.start);
        let to = positions.partition_point(|&p| p < w.end);
        let starts = &positions[from..to];
        match gate {
            Gate::Anchored(_) if anchored => {
                let kept: Vec<usize> = starts
                    .iter()
                    .copied()
                    .filter(|&p| gate.may_match(hay, w.clone(), &[p]))
                    .collect();
                if !kept.is_empty() {
                    runs.push(Run {
                        window: w,
                        starts: Some(kept),
                    });
                }
            }
            _ if gate.may_match(hay, w.clone(), starts) => runs.push(Run {
                window: w,
                starts: anchored.then(|| starts.to_vec()),
            }),
            _ => {}
        }
    }
    // Windows in which no match can survive the filters (see `Rule::finding_gate`).
    if let Some(finding_gate) = rule.finding_gate().filter(|_| gates) {
        runs.retain(|run| {
            // Anchored runs: the keyword occurrences the gate kept; else all in the window.
            let starts = match &run.starts {
                Some(kept) => kept.as_slice(),
                None => {
                    let from = positions.partition_point(|&p| p < run.window.start);
                    let to = positions.partition_point(|&p| p < run.window.end);
                    &positions[from..to]
                }
            };
            starts.is_empty()
                || starts
                    .iter()
                    .any(|&p| finding_gate.may_match(hay, run.window.clone(), &[p]))
        });
    }
    if runs.is_empty() {
        return Needed::Nothing;
    }
    if let Some((Ok(re), bounds)) = rule.relaxed_regex().filter(|_| relax) {
        return Needed::RunRelaxed(re, bounds, runs);
    }
    match rule.regex() {
        None => Needed::PathOnly,
        Some(Err(_)) => Needed::Broken,
        Some(Ok(re)) => Needed::Run(re, runs),
    }
}

/// A hex string cannot reach the entropy of a base64 one (4 bits per byte at most, about
/// 3.5 for a random 32-character key), so a hex value is held to a lower floor.
fn entropy_floor(floor: f32, value: &[u8]) -> f32 {
    if value.len() >= 16 && value.iter().all(u8::is_ascii_hexdigit) {
        floor.min(3.0)
    } else {
        floor
    }
}

/// For line-local rules: the text around each keyword hit, from the start of the line
/// before it to the end of the line after it (so that a match with `\s` across one line
/// break is still seen), merged where they touch. Windows start and end at line
/// boundaries, so `^`, `$` and `\b` mean what they mean in the whole text.
/// `positions` is sorted.
fn line_windows(hay: &[u8], positions: &[usize]) -> Vec<Range<usize>> {
    let mut out: Vec<Range<usize>> = Vec::new();
    for &p in positions {
        if out.last().is_some_and(|w| p < w.end) {
            continue;
        }
        let line_start = memchr::memrchr(b'\n', &hay[..p]).map_or(0, |n| n + 1);
        let start = if line_start == 0 {
            0
        } else {
            memchr::memrchr(b'\n', &hay[..line_start - 1]).map_or(0, |n| n + 1)
        };
        let line_end = memchr::memchr(b'\n', &hay[p..]).map_or(hay.len(), |n| p + n);
        let end = if line_end >= hay.len() {
            hay.len()
        } else {
            memchr::memchr(b'\n', &hay[line_end + 1..]).map_or(hay.len(), |n| line_end + 1 + n)
        };
        match out.last_mut() {
            Some(last) if start <= last.end => last.end = last.end.max(end),
            _ => out.push(start..end),
        }
    }
    out
}

/// The bytes of the line(s) holding `start..end`, without the newline.
fn line_span(hay: &[u8], start: usize, end: usize) -> &[u8] {
    let from = memchr::memrchr(b'\n', &hay[..start]).map_or(0, |n| n + 1);
    let to = memchr::memchr(b'\n', &hay[end..]).map_or(hay.len(), |n| end + n);
    &hay[from..to]
}

/// The rules match bytes with Unicode off, so a range may cut a multi-byte character:
/// widen it so that slicing the `str` is always valid.
fn widen_to_char_boundaries(text: &str, mut r: Range<usize>) -> Range<usize> {
    r.end = r.end.min(text.len());
    r.start = r.start.min(r.end);
    while !text.is_char_boundary(r.start) {
        r.start -= 1;
    }
    while !text.is_char_boundary(r.end) {
        r.end += 1;
    }
    r
}

#[cfg(test)]
mod tests {
    use super::*;
    use proptest::prelude::*;

    /// The built-in scanner with its gates and relaxed regexes off: every rule whose
    /// keywords occur runs its own regex over the lines around them.
    fn ungated() -> &'static Scanner {
        static S: OnceLock<Scanner> = OnceLock::new();
        S.get_or_init(|| {
            let s = Scanner::from_config(ScanConfig {
                use_builtin: true,
                ..ScanConfig::default()
            })
            .unwrap();
            let mut inner = Arc::try_unwrap(s.inner).ok().unwrap();
            inner.gates = false;
            inner.relax = false;
            Scanner {
                inner: Arc::new(inner),
            }
        })
    }

    fn texts() -> Vec<String> {
        let mut v: Vec<String> = builtin::rules_with_cases()
            .unwrap()
            .into_iter()
            .flat_map(|r| r.positive.into_iter().chain(r.negative))
            .collect();
        v.extend(builtin::RULES_TOML.lines().map(str::to_string));
        v.push(builtin::RULES_TOML.to_string());
        v
    }

    /// A positive case of each rule with a relaxed regex, its secret stretched or shrunk
    /// to each side of the bounds of its group (the relaxed regex then finds a group out
    /// of bounds and the rule's own regex takes over), and assignments with operators
    /// that give the relaxed regex a choice (`:=` read as `:` then a value from `=`).
    #[test]
    fn relaxed_regexes_change_no_finding() {
        let plain = ungated();
        let cases = builtin::rules_with_cases().unwrap();
        let mut checked = 0;
        for (r, case) in builtin::generated::RULES.iter().zip(&cases) {
            let Some(&(_, min, max)) = r.relaxed_groups.first() else {
                continue;
            };
            let (min, max) = (min as usize, max as usize);
            for t in &case.positive {
                for f in plain.scan(t).iter().filter(|f| f.rule_id == r.id) {
                    let secret = &t[f.byte_range.clone()];
                    for len in [min - 1, min, max, max + 1, max + 9, 2 * max + 3] {
                        let value: String = secret.chars().cycle().take(len).collect();
                        let text = format!(
                            "{}{value}{}",
                            &t[..f.byte_range.start],
                            &t[f.byte_range.end..]
                        );
                        for text in [text.clone(), format!("{text}\n{text}\nx = 1\n")] {
                            assert_eq!(
                                Scanner::builtin().scan(&text),
                                plain.scan(&text),
                                "{text:?}"
                            );
                            checked += 1;
                        }
                    }
                }
            }
        }
        assert!(checked >= 100, "only {checked} texts checked");
        let long = "Zq8".repeat(200);
        for text in [
            format!("token :={long}\n"),
            format!("TOKEN :=x{}\n", &long[..30]),
            format!(
                "api_key := '{long}' # and more\nclient_secret==={}\n",
                &long[..40]
            ),
            format!("password: {long}\npassword: {}\n", &long[..20]),
            format!("auth_token = \"{}\", bearer={long};", &long[..64]),
        ] {
            assert_eq!(
                Scanner::builtin().scan(&text),
                plain.scan(&text),
                "{text:?}"
            );
        }
    }

    /// The gates only skip work: with them, every text gets the findings it gets without.
    #[test]
    fn gates_change_no_finding() {
        let gated = Scanner::builtin();
        for t in texts() {
            assert_eq!(gated.scan(&t), ungated().scan(&t), "{t:?}");
        }
    }

    proptest! {
        /// Assignments to the names the generic rules look for, with values that are
        /// words or dotted names (which the finding gates rule out without running the
        /// rule), values with a digit or a symbol in them, and the punctuation around
        /// them: the findings are those of the rules run everywhere.
        #[test]
        fn finding_gates_change_no_finding(
            lines in proptest::collection::vec(
                (
                    prop::sample::select(vec![
                        "password", "DB_PASSWORD", "pwd", "passphrase", "secret", "api_key",
                        "client_secret", "credentials", "token", "auth_token", "bearer",
                        "self.secret_key", "user_pass",
                    ]),
                    prop::sample::select(vec![" = ", ": ", "=", " := ", " => ", " || ", ":"]),
                    prop::sample::select(vec!["", "\"", "'", "`"]),
                    prop_oneof![
                        "[A-Za-z_.-]{4,40}",
                        "[A-Za-z0-9_.+/=-]{6,60}",
                        "[A-Za-z]{3,12}\\.[A-Z_]{3,12}",
                        "[A-Za-z0-9!@#%^*~.-]{8,30}",
                    ],
                    prop::sample::select(vec!["", "\"", "'", ";", ",", ")", " # note", " &&"]),
                ),
                1..6,
            )
        ) {
            let text: String = lines
                .iter()
                .map(|(name, op, open, value, close)| format!("{name}{op}{open}{value}{close}\n"))
                .collect();
            prop_assert_eq!(Scanner::builtin().scan(&text), ungated().scan(&text));
        }

        /// Positive cases cut, joined and wrapped in other text.
        #[test]
        fn gates_change_no_finding_on_mixes(
            picks in proptest::collection::vec((any::<prop::sample::Index>(), any::<prop::sample::Index>()), 1..4),
            glue in "[ \n=:\"'a-zA-Z0-9_]{0,12}",
        ) {
            static CASES: OnceLock<Vec<String>> = OnceLock::new();
            let cases = CASES.get_or_init(|| {
                builtin::rules_with_cases().unwrap().into_iter().flat_map(|r| r.positive).collect()
            });
            let mut text = String::new();
            for (case, cut) in picks {
                let c = case.get(cases);
                let mut at = cut.index(c.len() + 1);
                while !c.is_char_boundary(at) {
                    at -= 1;
                }
                text.push_str(&c[at..]);
                text.push_str(&glue);
                text.push_str(&c[..at]);
                text.push('\n');
            }
            prop_assert_eq!(Scanner::builtin().scan(&text), ungated().scan(&text));
        }
    }
}
