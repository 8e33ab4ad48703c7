//! Injection signals in text an agent is about to read.

use std::collections::BTreeSet;
use std::fmt;
use std::ops::Range;

use base64::engine::general_purpose::GeneralPurpose;
use base64::engine::{DecodePaddingMode, GeneralPurposeConfig};
use base64::Engine as _;
use serde::{Deserialize, Serialize};

use crate::cues::{Cue, PHRASES};
use crate::phrase_dfa;

/// What kind of injection evidence a [`Signal`] is.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum SignalKind {
    /// Text that talks to the model: an instruction override ("ignore previous
    /// instructions"), a new role ("you are now ..."), secrecy toward the user, or an
    /// urgent precondition aimed at the agent.
    AddressedToModel,
    /// Fake role or system markup: `<system>`, `<INFORMATION>`, `[INST]`, `<|im_start|>`,
    /// "Human:" / "Assistant:" turns.
    FakeRoleTag,
    /// A request to read or hand over credentials (`~/.ssh`, `.env`, tokens).
    CredentialRequest,
    /// A request to contact a URL or send data out.
    ExfilUrl,
    /// Unicode tag characters, zero-width characters or bidi overrides.
    InvisibleChars,
    /// Instructions inside an HTML or Markdown comment, or in markup styled to be invisible.
    HiddenComment,
    /// A long base64 run that decodes to readable instructions.
    EncodedInstructions,
}

impl SignalKind {
    /// A short human description, free of any text from the scanned content.
    pub fn describe(self) -> &'static str {
        match self {
            SignalKind::AddressedToModel => "text addressed to the AI agent",
            SignalKind::FakeRoleTag => "fake system or chat-role markup",
            SignalKind::CredentialRequest => "a request for credentials or secret files",
            SignalKind::ExfilUrl => "a request to send data to a URL",
            SignalKind::InvisibleChars => "invisible or direction-changing Unicode characters",
            SignalKind::HiddenComment => "instructions hidden in a comment or invisible markup",
            SignalKind::EncodedInstructions => "base64 that decodes to instructions",
        }
    }
}

impl fmt::Display for SignalKind {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.describe())
    }
}

/// One piece of injection evidence.
///
/// `excerpt` is escaped (control and invisible characters as `\u{..}`, whitespace
/// collapsed) and at most [`EXCERPT_MAX_CHARS`] characters, so it is safe for a log line;
/// it still quotes the content, so do not hand it to the agent: use [`summarize`] for that.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Signal {
    /// What the evidence is.
    pub kind: SignalKind,
    /// Where it is, in bytes of the scanned text.
    pub byte_range: Range<usize>,
    /// 1-based line of `byte_range.start`.
    pub line: usize,
    /// A short escaped quote around the evidence.
    pub excerpt: String,
    /// Confidence in `[0, 1]`; the detector reports signals at or above its threshold.
    pub score: f32,
}

/// Longest excerpt kept in a [`Signal`], in characters.
pub const EXCERPT_MAX_CHARS: usize = 100;

/// Default reporting threshold of [`InjectionDetector::new`].
pub const DEFAULT_THRESHOLD: f32 = 0.5;

// Hits closer than this (bytes) are read as one passage.
const CLUSTER_GAP: usize = 160;
// ... and a passage is never longer than this, so weak hits spread over a long document
// cannot add up to a finding.
const CLUSTER_SPAN: usize = 600;
// A verb and an object this close form an override ("ignore ... previous instructions").
const OVERRIDE_REACH: usize = 48;
// Shortest base64 run worth decoding.
const BASE64_MIN: usize = 40;
// Cap on how much decoded base64 is rescanned per call, to bound the work an adversary
// can cause.
const BASE64_BUDGET: usize = 256 * 1024;

/// Finds injection signals in text. [`InjectionDetector::scan`] takes `&self` and is safe
/// to call from many threads.
///
/// Building one costs nothing: the phrase table is compiled into an automaton when the
/// crate is built, so a short-lived process (the hook) pays only for the scan.
#[derive(Debug, Clone)]
pub struct InjectionDetector {
    threshold: f32,
}

impl Default for InjectionDetector {
    fn default() -> Self {
        Self::new()
    }
}

#[derive(Debug, Clone, Copy)]
struct Hit {
    start: usize,
    end: usize,
    cue: Cue,
    weight: f32,
    hidden: bool,
    text: &'static str,
}

impl InjectionDetector {
    /// A detector with the built-in phrase table and [`DEFAULT_THRESHOLD`]. Free to build:
    /// its automaton is a static table compiled with the crate.
    pub fn new() -> Self {
        InjectionDetector {
            threshold: DEFAULT_THRESHOLD,
        }
    }

    /// The same detector as [`InjectionDetector::new`]. It once built a larger, faster
    /// automaton at run time; the built-in one is now both, and this is kept so that
    /// callers keep compiling.
    pub fn new_dfa() -> Self {
        Self::new()
    }

    /// The same detector reporting signals at or above `threshold` (clamped to `[0, 1]`).
    pub fn with_threshold(mut self, threshold: f32) -> Self {
        self.threshold = if threshold.is_nan() {
            DEFAULT_THRESHOLD
        } else {
            threshold.clamp(0.0, 1.0)
        };
        self
    }

    /// The reporting threshold.
    pub fn threshold(&self) -> f32 {
        self.threshold
    }

    /// Signals at or above the threshold, in order of position.
    pub fn scan(&self, text: &str) -> Vec<Signal> {
        self.scan_with_floor(text, self.threshold)
    }

    /// Every signal the detector scored, including those below the threshold (for tuning
    /// and for explaining why a passage was not flagged).
    pub fn scan_all(&self, text: &str) -> Vec<Signal> {
        self.scan_with_floor(text, 0.0)
    }

    fn scan_with_floor(&self, text: &str, floor: f32) -> Vec<Signal> {
        let mut out = Vec::new();
        let invisible = find_invisible(text);
        if invisible.is_empty() {
            self.phrase_signals(text, &mut out, None);
        } else {
            invisible_signals(text, &invisible, &mut out);
            // Zero-width characters inside words defeat phrase matching ("ig\u{200b}nore");
            // scan a copy with them removed and map positions back.
            let (stripped, map) = strip_invisible(text, &invisible);
            self.phrase_signals(&stripped, &mut out, Some(&map));
        }
        self.base64_signals(text, &mut out);
        out.retain(|s| s.score >= floor);
        out.sort_by(|a, b| {
            a.byte_range
                .start
                .cmp(&b.byte_range.start)
                .then(a.kind.cmp(&b.kind))
        });
        // Lines and excerpts only for what is reported, lines counted in one forward pass.
        let bytes = text.as_bytes();
        let (mut pos, mut line) = (0usize, 1usize);
        // The kinds of one passage share its range, and so its excerpt.
        let mut last: Option<(Range<usize>, String)> = None;
        for s in out.iter_mut() {
            let to = floor_boundary(text, s.byte_range.start);
            if to > pos {
                line += memchr::memchr_iter(b'\n', &bytes[pos..to]).count();
                pos = to;
            }
            s.line = line;
            if s.excerpt.is_empty() {
                s.excerpt = match &last {
                    Some((r, e)) if *r == s.byte_range => e.clone(),
                    _ => {
                        let e = excerpt(text, s.byte_range.clone());
                        last = Some((s.byte_range.clone(), e.clone()));
                        e
                    }
                };
            }
        }
        out
    }

    /// Highest score over the whole text (0 when nothing was seen).
    pub fn max_score(&self, text: &str) -> f32 {
        self.scan_all(text)
            .iter()
            .map(|s| s.score)
            .fold(0.0, f32::max)
    }

    fn hits(&self, text: &str) -> Vec<Hit> {
        let bytes = text.as_bytes();
        let mut hits = Vec::new();
        let mut comment_until: usize = 0;
        let mut in_html_comment = false;
        let mut in_fence = false;
        for (start, id) in phrase_starts(bytes) {
            let phrase = &PHRASES[id];
            let end = start + phrase.text.len();
            if !on_word_boundaries(bytes, start, end) {
                continue;
            }
            match phrase.cue {
                Cue::CommentOpen => {
                    in_html_comment = true;
                    continue;
                }
                Cue::CommentClose => {
                    in_html_comment = false;
                    continue;
                }
                Cue::MdComment => {
                    comment_until =
                        memchr::memchr(b'\n', &bytes[end..]).map_or(bytes.len(), |i| end + i);
                    continue;
                }
                Cue::CodeFence => {
                    in_fence = !in_fence;
                    continue;
                }
                _ => {}
            }
            let hidden = in_html_comment || start < comment_until;
            let mut weight = phrase.weight;
            if matches!(phrase.cue, Cue::RoleTag | Cue::TurnMarker)
                && (in_fence || (start > 0 && bytes[start - 1] == b'`'))
            {
                // Chat templates shown as code in LLM documentation.
                weight *= 0.3;
            }
            hits.push(Hit {
                start,
                end,
                cue: phrase.cue,
                weight,
                hidden,
                text: phrase.text,
            });
        }
        hits
    }

    fn phrase_signals(&self, text: &str, out: &mut Vec<Signal>, map: Option<&OffsetMap>) {
        let hits = self.hits(text);
        cluster_signals(text, &hits, out, map);
    }

    fn base64_signals(&self, text: &str, out: &mut Vec<Signal>) {
        let bytes = text.as_bytes();
        let mut budget = BASE64_BUDGET;
        let n = bytes.len();
        let mut i = 0;
        while i + BASE64_MIN <= n {
            // A run of BASE64_MIN bytes must include the byte at i + BASE64_MIN - 1; scan the
            // window backwards and jump past the last byte that breaks it. Prose breaks
            // within a word or two, so most of the text is never looked at.
            let window_end = i + BASE64_MIN;
            if let Some(k) = bytes[i..window_end].iter().rposition(|b| !is_b64(*b)) {
                i += k + 1;
                continue;
            }
            let start = i;
            i = window_end;
            while i < n && is_b64(bytes[i]) {
                i += 1;
            }
            if budget == 0 {
                continue;
            }
            let run = &text[start..i];
            let Some(decoded) = decode_b64(run) else {
                continue;
            };
            budget = budget.saturating_sub(decoded.len());
            if !readable_prose(&decoded) {
                continue;
            }
            let decoded = String::from_utf8_lossy(&decoded);
            let inner = self.phrase_best(&decoded);
            let cue_bonus = if inner.1 { 0.25 } else { 0.0 };
            let score = noisy_or(&[0.35, (inner.0 * 1.2).min(0.95), cue_bonus]);
            out.push(Signal {
                kind: SignalKind::EncodedInstructions,
                byte_range: start..i,
                line: 0,
                excerpt: format!("base64 decoding to: {}", excerpt_str(&decoded)),
                score,
            });
        }
    }

    /// Best cluster score in `text`, and whether any non-trivial cue was seen at all.
    fn phrase_best(&self, text: &str) -> (f32, bool) {
        let hits = self.hits(text);
        let any = hits.iter().any(|h| h.weight >= 0.02);
        let mut out = Vec::new();
        cluster_signals(text, &hits, &mut out, None);
        (out.iter().map(|s| s.score).fold(0.0, f32::max), any)
    }
}

/// Signals of the passages (clusters of nearby hits) in `hits`, found in `text`; with
/// `map`, `text` is a stripped copy and ranges are mapped back to the original.
fn cluster_signals(text: &str, hits: &[Hit], out: &mut Vec<Signal>, map: Option<&OffsetMap>) {
    let mut i = 0;
    while i < hits.len() {
        let first = hits[i].start;
        let mut j = i + 1;
        let mut end = hits[i].end;
        while j < hits.len()
            && hits[j].start <= end + CLUSTER_GAP
            && hits[j].end <= first + CLUSTER_SPAN
        {
            end = end.max(hits[j].end);
            j += 1;
        }
        let cluster = &hits[i..j];
        i = j;
        let Some(scored) = score_cluster(text.as_bytes(), cluster) else {
            continue;
        };
        let range = match map {
            Some(m) => m.original(scored.range.start)..m.original(scored.range.end),
            None => scored.range.clone(),
        };
        for kind in scored.kinds {
            out.push(Signal {
                kind,
                byte_range: range.clone(),
                // Filled in by `scan_with_floor` for reported signals only.
                line: 0,
                excerpt: String::new(),
                score: scored.score,
            });
        }
    }
}

/// For every offset where a phrase of [`PHRASES`] starts (ASCII case-insensitively), the
/// longest phrase starting there, in order of offset; offsets inside a word are left out
/// for phrases that begin with a word character ("ai" in "main").
fn phrase_starts(bytes: &[u8]) -> Vec<(usize, usize)> {
    let mut found: Vec<(usize, usize)> = Vec::new();
    phrase_dfa::for_each_match(bytes, |end, id| {
        found.push((end - PHRASES[id].text.len(), id));
    });
    // Found in order of end. A longer phrase with the same start ends later, so after a
    // stable sort by start the last of each start is the longest.
    found.sort_by_key(|&(start, _)| start);
    found.dedup_by(|later, earlier| {
        if later.0 == earlier.0 {
            *earlier = *later;
            true
        } else {
            false
        }
    });
    found
}

struct Scored {
    range: Range<usize>,
    score: f32,
    kinds: BTreeSet<SignalKind>,
}

fn noisy_or(ws: &[f32]) -> f32 {
    1.0 - ws
        .iter()
        .fold(1.0f32, |acc, w| acc * (1.0 - w.clamp(0.0, 1.0)))
}

fn score_cluster(text: &[u8], cluster: &[Hit]) -> Option<Scored> {
    use Cue::*;
    let mut max = std::collections::BTreeMap::<Cue, f32>::new();
    let mut hidden_weight = 0.0f32;
    let mut last_verb_end: Option<usize> = None;
    let mut turns: Vec<&str> = Vec::new();
    for h in cluster {
        // Text nobody sees in the rendered page counts for more.
        let w = if h.hidden {
            hidden_weight += h.weight;
            (h.weight * 1.6).min(0.95)
        } else {
            h.weight
        };
        let e = max.entry(h.cue).or_insert(0.0);
        *e = e.max(w);
        match h.cue {
            TurnMarker if !turns.contains(&h.text) => turns.push(h.text),
            OverrideVerb => last_verb_end = Some(h.end),
            OverrideObject => {
                if let Some(v) = last_verb_end {
                    if h.start >= v && h.start - v <= OVERRIDE_REACH {
                        let e = max.entry(Override).or_insert(0.0);
                        *e = e.max(0.85);
                    }
                }
            }
            _ => {}
        }
    }
    // Sentences that name an agent and tell it to do something sensitive.
    let mut agent_best = AgentSentence::default();
    // Every sentence looked at below lies within this span (see `sentence_bounds`: back
    // 240 bytes from an agent word, forward 320 and 320 more for the next sentence).
    let agent_span = cluster.iter().filter(|h| h.cue == AgentWord).fold(
        None,
        |span: Option<(usize, usize)>, h| {
            Some(span.map_or((h.start, h.end), |(lo, hi)| {
                (lo.min(h.start), hi.max(h.end))
            }))
        },
    );
    let mut facts = match agent_span {
        Some((lo, hi)) => SentenceFacts::new(lo.saturating_sub(240), hi + 640),
        None => SentenceFacts::default(),
    };
    for h in cluster.iter().filter(|h| h.cue == AgentWord) {
        let (s, e) = sentence_bounds(text, h.start, h.end);
        let word = (h.start, h.end);
        let a = agent_sentence(text, (s, e), word, &mut facts);
        // An agent spoken to ("To the AI reviewing this: ...") may get its order in the
        // next sentence.
        let a = if a.vocative {
            let e = e.min(text.len());
            let (_, e2) = sentence_bounds(text, e, e);
            if e2 > e {
                agent_sentence(text, (s, e2), word, &mut facts)
            } else {
                a
            }
        } else {
            a
        };
        if a.score > agent_best.score {
            agent_best = a;
        }
    }
    if agent_best.score > 0.0 {
        let w = if cluster.iter().any(|h| h.hidden && h.cue == AgentWord) {
            (agent_best.score * 1.3).min(0.95)
        } else {
            agent_best.score
        };
        let e = max.entry(Addressee).or_insert(0.0);
        *e = e.max(w);
        if agent_best.credential {
            let e = max.entry(CredentialTarget).or_insert(0.0);
            *e = e.max(0.1);
        }
    }
    if turns.len() >= 2 {
        // Two different speakers: a fabricated conversation transcript.
        let e = max.entry(TurnMarker).or_insert(0.0);
        *e = e.max(0.5);
    }
    let g = |c: Cue| max.get(&c).copied().unwrap_or(0.0);
    let mut parts: Vec<f32> = max.values().copied().collect();

    let cred = g(CredentialTarget);
    let send = g(SendVerb);
    let exfil = g(Exfil);
    let cred_combo = if cred > 0.0 && (send > 0.0 || exfil > 0.0) {
        (2.0 * (cred + send + exfil)).min(0.9) - cred.max(send).max(exfil)
    } else {
        0.0
    };
    parts.push(cred_combo.max(0.0));
    let directed = g(Override)
        .max(g(NewRole))
        .max(g(Addressee))
        .max(g(Secrecy))
        .max(g(Authority))
        .max(g(Tamper))
        .max(g(RoleTag))
        .max(g(TurnMarker))
        .max(g(Urgency));
    let action = g(Exec) + cred + send + exfil;
    if directed >= 0.2 && action >= 0.04 {
        parts.push(0.2);
    }
    if hidden_weight >= 0.1 {
        parts.push(0.25);
    }
    if g(HiddenStyle) > 0.0 && parts.iter().filter(|w| **w >= 0.05).count() >= 2 {
        parts.push(0.25);
    }
    let score = noisy_or(&parts);
    if score < 0.05 {
        return None;
    }

    let mut kinds = BTreeSet::new();
    let addressed = g(Override)
        .max(g(NewRole))
        .max(g(Addressee))
        .max(g(Secrecy))
        .max(g(Authority))
        .max(g(Tamper))
        .max(g(Urgency).min(0.3));
    if addressed >= 0.15 {
        kinds.insert(SignalKind::AddressedToModel);
    }
    if g(RoleTag).max(g(TurnMarker)) >= 0.15 {
        kinds.insert(SignalKind::FakeRoleTag);
    }
    if cred >= 0.1 || (cred > 0.0 && cred_combo >= 0.2) {
        kinds.insert(SignalKind::CredentialRequest);
    }
    if exfil >= 0.1 || (exfil > 0.0 && send >= 0.08) {
        kinds.insert(SignalKind::ExfilUrl);
    }
    if hidden_weight >= 0.1 || g(HiddenStyle) > 0.0 {
        kinds.insert(SignalKind::HiddenComment);
    }
    if kinds.is_empty() {
        kinds.insert(SignalKind::AddressedToModel);
    }
    let start = cluster.first().map_or(0, |h| h.start);
    let end = cluster.iter().map(|h| h.end).max().unwrap_or(start);
    Some(Scored {
        range: start..end,
        score,
        kinds,
    })
}

#[derive(Debug, Default, Clone, Copy)]
struct AgentSentence {
    score: f32,
    credential: bool,
    vocative: bool,
}

// Sentence analysis around an agent word. Small word lists, matched on whole words of the
// lower-cased sentence; only runs where an agent is named, which ordinary docs rarely do.
macro_rules! verbs {
    ($($w:literal),* $(,)?) => {
        #[cfg(test)]
        const SENSITIVE_VERBS: &[&str] = &[$($w),*];
        /// Whether `w` is one of the verbs (a `match`, which compiles to length
        /// checks and word-sized compares).
        fn is_sensitive_verb(w: &str) -> bool {
            matches!(w, $($w)|*)
        }
    };
}
verbs!(
    "add",
    "append",
    "approve",
    "commit",
    "copy",
    "delete",
    "disable",
    "dump",
    "edit",
    "email",
    "encode",
    "execute",
    "exfiltrate",
    "export",
    "fetch",
    "forward",
    "grab",
    "grant",
    "include",
    "install",
    "leak",
    "mirror",
    "modify",
    "output",
    "paste",
    "post",
    "print",
    "push",
    "quote",
    "read",
    "register",
    "remove",
    "run",
    "send",
    "set",
    "share",
    "sync",
    "tar",
    "tell",
    "transmit",
    "upload",
    "write",
    "zip",
);
const SENSITIVE_OBJECTS: &[(&str, bool)] = &[
    ("ssh", true),
    ("id_rsa", true),
    ("credential", true),
    ("token", true),
    ("secret", true),
    ("password", true),
    ("api_key", true),
    ("api key", true),
    (".env", true),
    ("printenv", true),
    ("environment", true),
    ("netrc", true),
    ("npmrc", true),
    ("pypirc", true),
    (".aws", true),
    ("private key", true),
    ("process.env", true),
    ("cookie", true),
    ("wallet", true),
    ("history", true),
    ("settings.json", false),
    ("settings.local.json", false),
    ("hooks", false),
    ("sudoers", false),
    ("/etc/", false),
    ("curl ", false),
    ("wget ", false),
    ("| sh", false),
    ("| bash", false),
    ("sudo ", false),
    ("chmod", false),
    ("rm -rf", false),
    ("https://", false),
    ("http://", false),
    ("`env`", true),
    ("output of env", true),
    ("os.environ", true),
    ("antivirus", false),
    ("firewall", false),
    ("security", false),
    ("directly to main", false),
    ("--force", false),
    ("os.system", false),
];
const DIRECTIVES: &[&str] = &[
    "must",
    "should",
    "please",
    "need",
    "needs",
    "required",
    "expected",
    "have to",
    "has to",
    "is to",
    "are to",
    "make sure",
    "can you",
    "could you",
    "would you",
    "requests that you",
];
const PRESSURE: &[&str] = &[
    "quietly",
    "silently",
    "secretly",
    "don't mention",
    "do not mention",
    "not tell",
    "bring this up",
    "bother",
    "without telling",
    "without asking",
    "without confirmation",
    "no confirmation",
    "pre-approved",
    "authorized",
    "authorised",
    "approved",
    "mandatory",
    "immediately",
    "don't ask",
    "do not ask",
    "not necessary to ask",
];

/// An agent word at `word` (byte range in `text`) in the sentence `sent` (byte range in
/// `text`): is the agent being told to do something sensitive? The sentence's own facts
/// come from `facts`, which keeps them for sentences seen before.
fn agent_sentence(
    text: &[u8],
    sent: (usize, usize),
    word: (usize, usize),
    facts: &mut SentenceFacts,
) -> AgentSentence {
    let s = &text[sent.0..sent.1];
    let Some(vocative) = addressee(s, word.0 - sent.0, word.1 - sent.0) else {
        return AgentSentence::default();
    };
    let f = facts.of(text, sent);
    if !f.verb {
        return AgentSentence {
            vocative,
            ..AgentSentence::default()
        };
    }
    scored(f, vocative)
}

/// Whether the agent word at `word_start..word_end` of sentence `s` names an addressee:
/// `None` for an identifier in code (`Agent::new()`, `model.fit(`), otherwise whether the
/// agent is spoken to ("Assistant, delete ..." / "Hey Copilot: ...").
fn addressee(s: &[u8], word_start: usize, word_end: usize) -> Option<bool> {
    let after = s.get(word_end..).unwrap_or(&[]);
    if matches!(after, [b'(', ..] | [b':', b':', ..] | [b'.', b'a'..=b'z' | b'A'..=b'Z' | b'_', ..])
        || word_start > 0
            && matches!(
                s[word_start - 1],
                b'.' | b':' | b'/' | b'-' | b'`' | b'$' | b'_'
            )
    {
        return None;
    }
    Some(
        word_start < 40
            && matches!(
                after,
                [b',' | b':' | b'!', b' ' | b'\n', ..] | [b'/', b'A'..=b'Z', ..]
            )
            || word_start > 0 && s[word_start - 1] == b'@',
    )
}

/// The score of a sentence with a sensitive verb, from its facts and whether the agent is
/// spoken to.
fn scored(f: Facts, vocative: bool) -> AgentSentence {
    let mut score: f32 = 0.0;
    if f.object {
        score = if f.directive || vocative { 0.5 } else { 0.3 };
    } else if vocative || (f.directive && f.pressure) {
        score = 0.4;
    }
    if f.pressure && score > 0.0 {
        score += 0.15;
    }
    AgentSentence {
        score: score.min(0.8),
        credential: f.credential && f.object,
        vocative,
    }
}

/// What a sentence says, whoever it names: a sensitive verb that is not forbidden ("never
/// read", "do not print"), a sensitive object, a directive, pressure.
#[derive(Debug, Default, Clone, Copy, PartialEq)]
struct Facts {
    verb: bool,
    object: bool,
    credential: bool,
    directive: bool,
    pressure: bool,
}

/// [`Facts`] of the sentences of one cluster. A sentence often names several agent words
/// ("AI agents and assistants"), so each is worked out once; and where sentences overlap
/// (agent words close together with no sentence end between them: a few hundred bytes
/// around each), the text they share is lower-cased and cut into words once, in `region`.
#[derive(Default)]
struct SentenceFacts {
    seen: Vec<((usize, usize), Facts)>,
    /// The span every sentence of the cluster lies in, until `region` is built from it.
    span: Option<(usize, usize)>,
    region: Option<Region>,
}

/// Sentences worked out alone before the rest come from a [`Region`]: most passages name
/// an agent in a sentence or two, and a region costs a few sentences' work to build.
const REGION_AFTER: usize = 2;

/// A span of the text, lower-cased, with its words.
struct Region {
    /// Where the span starts in the text.
    base: usize,
    lower: String,
    /// For each byte of the span (and its end), where its character's lower-cased form
    /// starts in `lower`; `None` when the span is ASCII (the same offsets).
    map: Option<Vec<u32>>,
    /// The words of `lower` (runs of alphanumerics, `_` and `'`), as byte ranges.
    words: Vec<(u32, u32)>,
    /// [`word_flags`] of each word.
    flags: Vec<u8>,
    /// `verbs[i]`: how many of the first `i` words are verbs that the two words before
    /// them do not forbid.
    verbs: Vec<u32>,
    /// Every occurrence of a word-list entry in `lower` (offset, index into [`NEEDLES`]),
    /// found when a sentence first has a verb.
    needles: std::cell::OnceCell<Vec<(u32, u8)>>,
}

const VERB: u8 = 1;
/// A word that forbids the verb after it ("never read").
const NEG1: u8 = 2;
/// A word that forbids the verb two words on ("do not ever print").
const NEG2: u8 = 4;

fn word_flags(w: &str) -> u8 {
    let mut f = 0;
    if is_verb_form(w) {
        f |= VERB;
    }
    if matches!(w, "never" | "not" | "don't" | "dont" | "or" | "nor") {
        f |= NEG1;
    }
    if matches!(w, "never" | "not" | "don't") {
        f |= NEG2;
    }
    f
}

/// Whether a lower-cased word is one of the sensitive verbs or an inflection of one.
fn is_verb_form(w: &str) -> bool {
    is_sensitive_verb(w)
        || w.strip_suffix('s').is_some_and(is_sensitive_verb)
        || w.strip_suffix("ed").is_some_and(is_sensitive_verb)
        || w.strip_suffix("ing").is_some_and(|c| {
            if is_sensitive_verb(c) {
                return true;
            }
            // "encoding" is "encode" + "ing".
            let mut buf = [0u8; 24];
            c.len() < buf.len() && {
                buf[..c.len()].copy_from_slice(c.as_bytes());
                buf[c.len()] = b'e';
                std::str::from_utf8(&buf[..=c.len()]).is_ok_and(is_sensitive_verb)
            }
        })
}

fn is_word_char(c: char) -> bool {
    c.is_alphanumeric() || c == '_' || c == '\''
}

/// Whether byte `i` of UTF-8 `b` starts a character (or is the end).
fn starts_char(b: &[u8], i: usize) -> bool {
    b.get(i).is_none_or(|&x| (x as i8) >= -0x40)
}

impl SentenceFacts {
    /// Facts of sentences of `text` (UTF-8), those after the first few from a region
    /// spanning `lo..hi`.
    fn new(lo: usize, hi: usize) -> Self {
        SentenceFacts {
            span: Some((lo, hi)),
            ..SentenceFacts::default()
        }
    }

    fn of(&mut self, text: &[u8], sent: (usize, usize)) -> Facts {
        // Agent words of one sentence come one after the other.
        if let Some((_, f)) = self.seen.iter().rev().take(4).find(|(k, _)| *k == sent) {
            return *f;
        }
        if self.seen.len() >= REGION_AFTER {
            if let Some((lo, hi)) = self.span.take() {
                self.region = Region::new(text, lo, hi);
            }
        }
        let f = match &self.region {
            Some(r) if r.covers(sent) => r.facts(text, sent),
            _ => sentence_facts(&text[sent.0..sent.1]),
        };
        self.seen.push((sent, f));
        f
    }
}

impl Region {
    fn new(text: &[u8], lo: usize, hi: usize) -> Option<Region> {
        let mut lo = lo.min(text.len());
        let mut hi = hi.min(text.len());
        while !starts_char(text, lo) {
            lo -= 1;
        }
        while !starts_char(text, hi) {
            hi += 1;
        }
        let span = std::str::from_utf8(&text[lo..hi]).ok()?;
        let (lower, map) = if span.is_ascii() {
            (span.to_ascii_lowercase(), None)
        } else {
            let mut lower = String::with_capacity(span.len() + 8);
            let mut map = vec![0u32; span.len() + 1];
            for (i, c) in span.char_indices() {
                map[i..i + c.len_utf8()].fill(lower.len() as u32);
                lower.extend(c.to_lowercase());
            }
            map[span.len()] = lower.len() as u32;
            (lower, Some(map))
        };
        let mut words = Vec::new();
        let mut start = None;
        for (i, c) in lower.char_indices() {
            match (is_word_char(c), start) {
                (true, None) => start = Some(i),
                (false, Some(s)) => {
                    words.push((s as u32, i as u32));
                    start = None;
                }
                _ => {}
            }
        }
        if let Some(s) = start {
            words.push((s as u32, lower.len() as u32));
        }
        let flags: Vec<u8> = words
            .iter()
            .map(|&(s, e)| word_flags(&lower[s as usize..e as usize]))
            .collect();
        let mut verbs = Vec::with_capacity(flags.len() + 1);
        verbs.push(0u32);
        for i in 0..flags.len() {
            let free = flags[i] & VERB != 0
                && !(i >= 1 && flags[i - 1] & NEG1 != 0)
                && !(i >= 2 && flags[i - 2] & NEG2 != 0);
            verbs.push(verbs[i] + u32::from(free));
        }
        Some(Region {
            base: lo,
            lower,
            map,
            words,
            flags,
            verbs,
            needles: std::cell::OnceCell::new(),
        })
    }

    /// Whether the sentence `sent` lies within the region.
    fn covers(&self, sent: (usize, usize)) -> bool {
        sent.0 >= self.base && sent.1 <= self.base + self.map_len() && sent.0 <= sent.1
    }

    fn map_len(&self) -> usize {
        match &self.map {
            Some(m) => m.len() - 1,
            None => self.lower.len(),
        }
    }

    /// Offset in `lower` of byte `i` of the text, a character start within the region.
    fn at(&self, i: usize) -> usize {
        match &self.map {
            Some(m) => m[i - self.base] as usize,
            None => i - self.base,
        }
    }

    /// The same as `sentence_facts(&text[sent.0..sent.1])`. That reads the sentence as
    /// lossy UTF-8, so a character cut at either end becomes U+FFFD, which is no word
    /// character and in no word list: the same as the sentence without it.
    fn facts(&self, text: &[u8], sent: (usize, usize)) -> Facts {
        let (mut s, mut e) = sent;
        while s < e && !starts_char(text, s) {
            s += 1;
        }
        while e > s && !starts_char(text, e) {
            e -= 1;
        }
        if s >= e {
            return Facts::default();
        }
        let (a, b) = (self.at(s), self.at(e));
        // Words of the sentence: those of the region, the first and the last cut at its
        // ends. Past the first three, a word and the two before it are whole words of the
        // region, so `verbs` counts them; the first three and the last are looked at here.
        let first = self.words.partition_point(|&(_, we)| we as usize <= a);
        let count = self.words[first..].partition_point(|&(ws, _)| (ws as usize) < b);
        let flags_at = |j: usize| {
            let (ws, we) = self.words[first + j];
            let (ws, we) = (ws as usize, we as usize);
            let (cs, ce) = (ws.max(a), we.min(b));
            if (cs, ce) == (ws, we) {
                self.flags[first + j]
            } else {
                word_flags(&self.lower[cs..ce])
            }
        };
        let free_verb = |j: usize| {
            flags_at(j) & VERB != 0
                && !(j >= 1 && flags_at(j - 1) & NEG1 != 0)
                && !(j >= 2 && flags_at(j - 2) & NEG2 != 0)
        };
        let verb = (0..count.min(3)).any(free_verb)
            || count > 3
                && (free_verb(count - 1) || self.verbs[first + count - 1] > self.verbs[first + 3]);
        if !verb {
            return Facts::default();
        }
        facts_with_verb(self.occurring(a, b))
    }

    /// The same as `occurring(&self.lower[a..b])`, from the region's occurrences.
    fn occurring(&self, a: usize, b: usize) -> u128 {
        let lower = self.lower.as_bytes();
        let needles = self.needles.get_or_init(|| every_occurrence(lower));
        let first = needles.partition_point(|&(i, _)| (i as usize) < a);
        let mut found = 0u128;
        for &(i, k) in &needles[first..] {
            let (i, k) = (i as usize, usize::from(k));
            if i >= b {
                break;
            }
            let end = i + NEEDLES[k].len();
            if end <= b
                && (DIRECTIVE_BITS >> k & 1 == 0 || is_word_at(&lower[a..b], i - a, end - a))
            {
                found |= 1 << k;
            }
        }
        found
    }
}

fn sentence_facts(s: &[u8]) -> Facts {
    let lower: String = String::from_utf8_lossy(s).to_lowercase();
    let words: Vec<&str> = lower
        .split(|c: char| !is_word_char(c))
        .filter(|w| !w.is_empty())
        .collect();
    let mut verb = false;
    for (i, w) in words.iter().enumerate() {
        if !is_verb_form(w) {
            continue;
        }
        let neg = (i >= 1 && word_flags(words[i - 1]) & NEG1 != 0)
            || (i >= 2 && word_flags(words[i - 2]) & NEG2 != 0);
        if !neg {
            verb = true;
            break;
        }
    }
    if !verb {
        return Facts::default();
    }
    facts_with_verb(occurring(lower.as_bytes()))
}

/// Facts of a sentence known to have a verb, in which the [`NEEDLES`] of `found` occur.
fn facts_with_verb(found: u128) -> Facts {
    Facts {
        verb: true,
        object: found & OBJECT_BITS != 0,
        credential: found & CREDENTIAL_BITS != 0,
        directive: found & DIRECTIVE_BITS != 0,
        pressure: found & PRESSURE_BITS != 0,
    }
}

// The three word lists as one: objects, then directives, then pressure; bit k of a `u128`
// stands for `NEEDLES[k]`.
const N_OBJ: usize = SENSITIVE_OBJECTS.len();
const N_DIR: usize = DIRECTIVES.len();
const N_ALL: usize = N_OBJ + N_DIR + PRESSURE.len();
const NEEDLES: [&str; N_ALL] = {
    let mut t = [""; N_ALL];
    let mut k = 0;
    while k < N_ALL {
        t[k] = if k < N_OBJ {
            SENSITIVE_OBJECTS[k].0
        } else if k < N_OBJ + N_DIR {
            DIRECTIVES[k - N_OBJ]
        } else {
            PRESSURE[k - N_OBJ - N_DIR]
        };
        k += 1;
    }
    t
};
const fn bits(from: usize, to: usize) -> u128 {
    assert!(to <= 128, "at most 128 needles");
    let mut m = 0u128;
    let mut k = from;
    while k < to {
        m |= 1 << k;
        k += 1;
    }
    m
}
const OBJECT_BITS: u128 = bits(0, N_OBJ);
const DIRECTIVE_BITS: u128 = bits(N_OBJ, N_OBJ + N_DIR);
const PRESSURE_BITS: u128 = bits(N_OBJ + N_DIR, N_ALL);
const CREDENTIAL_BITS: u128 = {
    let mut m = 0u128;
    let mut k = 0;
    while k < N_OBJ {
        if SENSITIVE_OBJECTS[k].1 {
            m |= 1 << k;
        }
        k += 1;
    }
    m
};
/// Bucket of a needle's first two bytes in [`PAIRS`].
const fn pair_bucket(b0: u8, b1: u8) -> usize {
    (b0 as usize * 37 + b1 as usize) & 1023
}
/// For each bucket of two bytes, the needles that may start with them.
const PAIRS: [u128; 1024] = {
    let mut t = [0u128; 1024];
    let mut k = 0;
    while k < N_ALL {
        let b = NEEDLES[k].as_bytes();
        assert!(b.len() >= 2, "needles are at least two bytes");
        t[pair_bucket(b[0], b[1])] |= 1 << k;
        k += 1;
    }
    t
};

/// The needles that occur in `hay` (a directive only as a whole word). One pass over
/// `hay`, trying at each byte only the needles not found yet whose first two bytes fall
/// in the bucket of the two bytes there.
fn occurring(hay: &[u8]) -> u128 {
    let mut found = 0u128;
    for i in 0..hay.len().saturating_sub(1) {
        let mut m = PAIRS[pair_bucket(hay[i], hay[i + 1])] & !found;
        while m != 0 {
            let k = m.trailing_zeros() as usize;
            m &= m - 1;
            let n = NEEDLES[k].as_bytes();
            let here = hay.len() - i >= n.len() && hay[i..].iter().zip(n).all(|(a, b)| a == b);
            if here && (DIRECTIVE_BITS >> k & 1 == 0 || is_word_at(hay, i, i + n.len())) {
                found |= 1 << k;
            }
        }
    }
    found
}

/// Every occurrence of every needle in `hay`, in order of offset: (offset, needle).
fn every_occurrence(hay: &[u8]) -> Vec<(u32, u8)> {
    let mut out = Vec::new();
    for i in 0..hay.len().saturating_sub(1) {
        let mut m = PAIRS[pair_bucket(hay[i], hay[i + 1])];
        while m != 0 {
            let k = m.trailing_zeros() as usize;
            m &= m - 1;
            if hay[i..].starts_with(NEEDLES[k].as_bytes()) {
                out.push((i as u32, k as u8));
            }
        }
    }
    out
}

fn is_word_at(b: &[u8], start: usize, end: usize) -> bool {
    let w = |x: u8| x.is_ascii_alphanumeric() || x == b'_';
    (start == 0 || !w(b[start - 1])) && (end >= b.len() || !w(b[end]))
}

/// The sentence around `start..end`: back to the previous sentence end or line break,
/// forward to the next, each at most a few hundred bytes away. The bytes that may end a
/// sentence are found with `memchr` and only those are looked at closely, so that a long
/// stretch without any (agent words packed on one line) is crossed quickly.
fn sentence_bounds(text: &[u8], start: usize, end: usize) -> (usize, usize) {
    let lo = start.saturating_sub(240);
    // Backward: the last byte in lo..start that ends the sentence before this one.
    let ends_before = |i: usize| {
        let b = text[i];
        b == b'\n'
            || b == b'>' && i >= 1 && text[i - 1] == b'-'
            || (matches!(b, b'.' | b'!' | b'?')
                && text.get(i + 1).is_some_and(|c| c.is_ascii_whitespace()))
    };
    let back = &text[lo..start];
    let mut cands_a = memchr::memchr3_iter(b'\n', b'>', b'.', back)
        .rev()
        .peekable();
    let mut cands_b = memchr::memchr2_iter(b'!', b'?', back).rev().peekable();
    let mut s = lo;
    loop {
        let i = match (cands_a.peek(), cands_b.peek()) {
            (Some(&a), Some(&b)) if a > b => cands_a.next(),
            (Some(_), Some(_)) | (None, Some(_)) => cands_b.next(),
            (Some(_), None) => cands_a.next(),
            (None, None) => None,
        };
        let Some(i) = i else { break };
        if ends_before(lo + i) {
            s = lo + i + 1;
            break;
        }
    }
    // Forward: the first byte in end..hi that ends this sentence.
    let hi = (end + 320).min(text.len());
    let ends_here = |j: usize| {
        let b = text[j];
        let next_line_starts_item = || {
            text[j + 1..hi]
                .iter()
                .find(|c| **c != b' ' && **c != b'\t')
                .is_none_or(|c| {
                    matches!(
                        c,
                        b'*' | b'-' | b'#' | b'|' | b'>' | b'`' | b'\n' | b'0'..=b'9'
                    )
                })
        };
        b == b'\n' && next_line_starts_item()
            || (matches!(b, b'.' | b'!' | b'?')
                && text.get(j + 1).is_none_or(|c| c.is_ascii_whitespace()))
    };
    let ahead = text.get(end..hi).unwrap_or(&[]);
    let mut cands_a = memchr::memchr3_iter(b'\n', b'.', b'!', ahead).peekable();
    let mut cands_b = memchr::memchr_iter(b'?', ahead).peekable();
    let mut e = hi;
    loop {
        let j = match (cands_a.peek(), cands_b.peek()) {
            (Some(&a), Some(&b)) if a < b => cands_a.next(),
            (Some(_), Some(_)) | (None, Some(_)) => cands_b.next(),
            (Some(_), None) => cands_a.next(),
            (None, None) => None,
        };
        let Some(j) = j else { break };
        if ends_here(end + j) {
            e = end + j + 1;
            break;
        }
    }
    (s, e.max(s))
}

/// A pattern that starts or ends with a letter must not be the middle of a longer word:
/// "ignore" in ".gitignore", "llm" in "allmost".
fn on_word_boundaries(bytes: &[u8], start: usize, end: usize) -> bool {
    let word = |b: u8| b.is_ascii_alphanumeric() || b == b'_';
    if start > 0 && word(bytes[start]) && word(bytes[start - 1]) {
        return false;
    }
    if end < bytes.len() && end > 0 && word(bytes[end - 1]) && word(bytes[end]) {
        // Plurals and simple inflections still count ("instructions" ends the phrase).
        return false;
    }
    true
}

fn floor_boundary(text: &str, mut i: usize) -> usize {
    i = i.min(text.len());
    while i > 0 && !text.is_char_boundary(i) {
        i -= 1;
    }
    i
}

fn excerpt(text: &str, range: Range<usize>) -> String {
    let start = floor_boundary(text, range.start.saturating_sub(20));
    let end = floor_boundary(text, range.end.saturating_add(20).min(range.start + 200));
    let end = end.max(start);
    excerpt_str(&text[start..end])
}

fn excerpt_str(s: &str) -> String {
    let mut out = String::with_capacity(s.len().min(4 * EXCERPT_MAX_CHARS) + 8);
    let mut chars = 0usize;
    let mut last_space = false;
    for c in s.chars() {
        if chars >= EXCERPT_MAX_CHARS {
            out.push('…');
            break;
        }
        if c.is_whitespace() {
            if !last_space {
                out.push(' ');
                chars += 1;
            }
            last_space = true;
            continue;
        }
        last_space = false;
        if c.is_control() || invisible_class(c).is_some() {
            let esc = format!("\\u{{{:x}}}", c as u32);
            chars += esc.len();
            out.push_str(&esc);
        } else {
            out.push(c);
            chars += 1;
        }
    }
    // Whitespace became single spaces: only a space can be left at either end.
    if out.ends_with(' ') {
        out.pop();
    }
    if out.starts_with(' ') {
        out.remove(0);
    }
    out
}

// ---- invisible characters --------------------------------------------------------------

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Invisible {
    Tag,
    ZeroWidth,
    Bidi,
}

fn invisible_class(c: char) -> Option<Invisible> {
    match c as u32 {
        0xE0000..=0xE007F => Some(Invisible::Tag),
        0x200B..=0x200D | 0x2060..=0x2064 | 0xFEFF | 0x180E => Some(Invisible::ZeroWidth),
        0x202A..=0x202E | 0x2066..=0x2069 => Some(Invisible::Bidi),
        _ => None,
    }
}

#[derive(Debug, Clone, Copy)]
struct InvisibleAt {
    pos: usize,
    len: usize,
    class: Invisible,
    ch: char,
}

fn find_invisible(text: &str) -> Vec<InvisibleAt> {
    let bytes = text.as_bytes();
    let mut out = Vec::new();
    // All of these start with one of three lead bytes; plain ASCII text is skipped at
    // memchr speed.
    for pos in memchr::memchr3_iter(0xE2, 0xEF, 0xF3, bytes) {
        if pos == 0 && bytes.starts_with(&[0xEF, 0xBB, 0xBF]) {
            continue; // a byte-order mark at the very start is ordinary
        }
        let Some(c) = text.get(pos..).and_then(|s| s.chars().next()) else {
            continue;
        };
        if let Some(class) = invisible_class(c) {
            out.push(InvisibleAt {
                pos,
                len: c.len_utf8(),
                class,
                ch: c,
            });
        }
    }
    out
}

fn char_before(text: &str, pos: usize) -> Option<char> {
    text.get(..pos).and_then(|s| s.chars().next_back())
}

fn is_emoji_like(c: char) -> bool {
    matches!(c as u32, 0x2600..=0x27BF | 0x1F000..=0x1FAFF | 0xFE0F)
}

fn invisible_signals(text: &str, inv: &[InvisibleAt], out: &mut Vec<Signal>) {
    // Unicode tag runs: ASCII smuggled as U+E0020..U+E007E. A subdivision flag
    // (black flag, a few tags, cancel tag) is the one ordinary use.
    let mut i = 0;
    let mut zw_count = 0usize;
    let mut zw_in_word = 0usize;
    let mut zw_first: Option<usize> = None;
    while i < inv.len() {
        let a = inv[i];
        match a.class {
            Invisible::Tag => {
                let mut j = i;
                let mut decoded = String::new();
                while j < inv.len()
                    && inv[j].class == Invisible::Tag
                    && (j == i || inv[j].pos == inv[j - 1].pos + inv[j - 1].len)
                {
                    let v = inv[j].ch as u32 - 0xE0000;
                    if (0x20..0x7F).contains(&v) {
                        decoded.push(char::from_u32(v).unwrap_or('?'));
                    }
                    j += 1;
                }
                let last = inv[j - 1];
                let is_flag = char_before(text, a.pos) == Some('\u{1F3F4}')
                    && last.ch == '\u{E007F}'
                    && j - i <= 8;
                if !is_flag {
                    let score = if decoded.len() >= 4 { 0.95 } else { 0.6 };
                    out.push(Signal {
                        kind: SignalKind::InvisibleChars,
                        byte_range: a.pos..last.pos + last.len,
                        line: 0,
                        excerpt: format!(
                            "{} Unicode tag characters spelling: {}",
                            j - i,
                            excerpt_str(&decoded)
                        ),
                        score,
                    });
                }
                i = j;
                continue;
            }
            Invisible::Bidi => {
                out.push(Signal {
                    kind: SignalKind::InvisibleChars,
                    byte_range: a.pos..a.pos + a.len,
                    line: 0,
                    excerpt: format!(
                        "bidi control U+{:04X} near: {}",
                        a.ch as u32,
                        excerpt(text, a.pos..a.pos + a.len)
                    ),
                    score: 0.6,
                });
            }
            Invisible::ZeroWidth => {
                let prev = char_before(text, a.pos);
                // Emoji ZWJ sequences and joiners in scripts that need them are ordinary.
                let ordinary = a.ch == '\u{200D}' && prev.is_some_and(is_emoji_like)
                    || a.ch == '\u{200C}' && prev.is_some_and(|c| !c.is_ascii());
                if !ordinary {
                    zw_count += 1;
                    zw_first.get_or_insert(a.pos);
                    let next = text.get(a.pos + a.len..).and_then(|s| s.chars().next());
                    if prev.is_some_and(|c| c.is_ascii_alphabetic())
                        && next.is_some_and(|c| {
                            c.is_ascii_alphabetic() || invisible_class(c).is_some()
                        })
                    {
                        zw_in_word += 1;
                    }
                }
            }
        }
        i += 1;
    }
    if let Some(first) = zw_first {
        let score = if zw_in_word >= 2 || zw_count >= 8 {
            0.8
        } else if zw_count >= 3 {
            0.5
        } else {
            0.2
        };
        out.push(Signal {
            kind: SignalKind::InvisibleChars,
            byte_range: first..first + 3,
            line: 0,
            excerpt: format!("{zw_count} zero-width characters ({zw_in_word} inside words)"),
            score,
        });
    }
}

/// Maps offsets in the stripped copy back to the original text.
struct OffsetMap {
    // (offset in stripped text, bytes removed before it)
    marks: Vec<(usize, usize)>,
}

impl OffsetMap {
    fn original(&self, stripped: usize) -> usize {
        let idx = self.marks.partition_point(|(s, _)| *s <= stripped);
        let removed = if idx == 0 { 0 } else { self.marks[idx - 1].1 };
        stripped + removed
    }
}

fn strip_invisible(text: &str, inv: &[InvisibleAt]) -> (String, OffsetMap) {
    let mut out = String::with_capacity(text.len());
    let mut marks = Vec::with_capacity(inv.len());
    let mut cursor = 0;
    let mut removed = 0;
    for a in inv {
        if a.pos < cursor {
            continue;
        }
        out.push_str(&text[cursor..a.pos]);
        removed += a.len;
        cursor = a.pos + a.len;
        marks.push((out.len(), removed));
    }
    out.push_str(&text[cursor..]);
    (out, OffsetMap { marks })
}

// ---- base64 ----------------------------------------------------------------------------

const B64: [bool; 256] = {
    let mut t = [false; 256];
    let mut c = 0;
    while c < 256 {
        let b = c as u8;
        t[c] = b.is_ascii_alphanumeric() || matches!(b, b'+' | b'/' | b'=' | b'-' | b'_');
        c += 1;
    }
    t
};

fn is_b64(b: u8) -> bool {
    B64[b as usize]
}

fn decode_b64(run: &str) -> Option<Vec<u8>> {
    let cfg = GeneralPurposeConfig::new()
        .with_decode_padding_mode(DecodePaddingMode::Indifferent)
        .with_decode_allow_trailing_bits(true);
    let body = run.trim_end_matches('=');
    // Only runs that mix cases and digits the way encoded data does; long identifiers
    // and paths rarely decode to prose anyway, this just saves the work.
    if body.contains(['-', '_']) {
        if body.contains(['+', '/']) {
            return None;
        }
        GeneralPurpose::new(&base64::alphabet::URL_SAFE, cfg)
            .decode(body)
            .ok()
    } else {
        GeneralPurpose::new(&base64::alphabet::STANDARD, cfg)
            .decode(body)
            .ok()
    }
}

fn readable_prose(bytes: &[u8]) -> bool {
    if bytes.len() < 24 {
        return false;
    }
    let printable = bytes
        .iter()
        .filter(|b| matches!(b, 0x20..=0x7E | b'\n' | b'\t' | b'\r'))
        .count();
    let spaces = bytes.iter().filter(|b| **b == b' ').count();
    let letters = bytes.iter().filter(|b| b.is_ascii_alphabetic()).count();
    printable * 100 >= bytes.len() * 95 && spaces >= 3 && letters * 2 >= bytes.len()
}

/// A one-paragraph summary of `signals` that is safe to show the agent: it names kinds,
/// lines and counts, and never quotes the scanned content.
pub fn summarize(signals: &[Signal]) -> String {
    if signals.is_empty() {
        return "no injection signals".to_string();
    }
    let mut by_kind: std::collections::BTreeMap<SignalKind, Vec<usize>> = Default::default();
    for s in signals {
        by_kind.entry(s.kind).or_default().push(s.line);
    }
    let mut parts = Vec::new();
    for (kind, mut lines) in by_kind {
        lines.sort_unstable();
        lines.dedup();
        let shown: Vec<String> = lines.iter().take(5).map(|l| l.to_string()).collect();
        let more = if lines.len() > 5 {
            format!(" and {} more", lines.len() - 5)
        } else {
            String::new()
        };
        let noun = if lines.len() == 1 { "line" } else { "lines" };
        parts.push(format!(
            "{} ({noun} {}{more})",
            kind.describe(),
            shown.join(", ")
        ));
    }
    let top = signals.iter().map(|s| s.score).fold(0.0, f32::max);
    format!(
        "{} injection signal{} (highest confidence {:.2}): {}.",
        signals.len(),
        if signals.len() == 1 { "" } else { "s" },
        top,
        parts.join("; ")
    )
}

#[cfg(test)]
mod tests {
    use std::path::Path;
    use std::sync::OnceLock;

    use aho_corasick::{AhoCorasick, AhoCorasickBuilder, Input, MatchKind};
    use proptest::prelude::*;

    use super::*;

    /// The matcher the compiled automaton replaced, kept as the reference: aho-corasick
    /// leftmost-longest over a lower-cased copy, restarting one byte after each match
    /// start, then the word rule on the start.
    fn phrase_starts_reference(bytes: &[u8]) -> Vec<(usize, usize)> {
        static AC: OnceLock<AhoCorasick> = OnceLock::new();
        let ac = AC.get_or_init(|| {
            AhoCorasickBuilder::new()
                .match_kind(MatchKind::LeftmostLongest)
                .build(PHRASES.iter().map(|p| p.text))
                .expect("phrase table compiles")
        });
        let lower = bytes.to_ascii_lowercase();
        let word = |b: u8| b.is_ascii_alphanumeric() || b == b'_';
        let mut out = Vec::new();
        let mut at = 0usize;
        while at < lower.len() {
            let Some(m) = ac.find(Input::new(&lower).span(at..lower.len())) else {
                break;
            };
            at = m.start() + 1;
            let start = m.start();
            if start > 0 && word(lower[start]) && word(lower[start - 1]) {
                continue;
            }
            out.push((start, m.pattern().as_usize()));
        }
        out
    }

    /// The sentence rule's facts worked out as they were before they were cached and its
    /// word lists searched in one pass, kept as the reference (the addressee test and the
    /// score are shared).
    fn agent_sentence_reference(s: &[u8], word_start: usize, word_end: usize) -> AgentSentence {
        let Some(vocative) = addressee(s, word_start, word_end) else {
            return AgentSentence::default();
        };
        let lower: String = String::from_utf8_lossy(s).to_lowercase();
        let words: Vec<&str> = lower
            .split(|c: char| !(c.is_alphanumeric() || c == '_' || c == '\''))
            .filter(|w| !w.is_empty())
            .collect();
        let stem = |w: &str| -> bool {
            let cands = [
                w,
                w.strip_suffix('s').unwrap_or(w),
                w.strip_suffix("ing").unwrap_or(w),
                w.strip_suffix("ed").unwrap_or(w),
            ];
            cands.iter().any(|c| SENSITIVE_VERBS.contains(c))
                || w.strip_suffix("ing")
                    .is_some_and(|c| SENSITIVE_VERBS.contains(&format!("{c}e").as_str()))
        };
        // A sensitive verb that is not forbidden ("never read", "do not print").
        let mut verb = false;
        for (i, w) in words.iter().enumerate() {
            if !stem(w) {
                continue;
            }
            let neg = (i >= 1
                && matches!(
                    words[i - 1],
                    "never" | "not" | "don't" | "dont" | "or" | "nor"
                ))
                || (i >= 2 && matches!(words[i - 2], "never" | "not" | "don't"));
            if !neg {
                verb = true;
                break;
            }
        }
        if !verb {
            return AgentSentence {
                vocative,
                ..AgentSentence::default()
            };
        }
        let mut object = false;
        let mut credential = false;
        for (o, cred) in SENSITIVE_OBJECTS {
            if lower.contains(o) {
                object = true;
                credential |= cred;
            }
        }
        let directive = DIRECTIVES.iter().any(|d| {
            lower
                .match_indices(d)
                .any(|(i, _)| is_word_at(lower.as_bytes(), i, i + d.len()))
        });
        let pressure = PRESSURE.iter().any(|p| lower.contains(p));
        scored(
            Facts {
                verb,
                object,
                credential,
                directive,
                pressure,
            },
            vocative,
        )
    }

    /// `sentence_bounds` as it was before it searched with `memchr`, kept as the reference.
    fn sentence_bounds_reference(text: &[u8], start: usize, end: usize) -> (usize, usize) {
        let lo = start.saturating_sub(240);
        let mut s = lo;
        let mut i = start;
        while i > lo {
            let b = text[i - 1];
            if b == b'\n'
                || b == b'>' && i >= 2 && text[i - 2] == b'-'
                || (matches!(b, b'.' | b'!' | b'?')
                    && text.get(i).is_some_and(|c| c.is_ascii_whitespace()))
            {
                s = i;
                break;
            }
            i -= 1;
        }
        let hi = (end + 320).min(text.len());
        let mut e = hi;
        let mut j = end;
        while j < hi {
            let b = text[j];
            let next_line_starts_item = || {
                text[j + 1..hi]
                    .iter()
                    .find(|c| **c != b' ' && **c != b'\t')
                    .is_none_or(|c| {
                        matches!(
                            c,
                            b'*' | b'-' | b'#' | b'|' | b'>' | b'`' | b'\n' | b'0'..=b'9'
                        )
                    })
            };
            if b == b'\n' && next_line_starts_item()
                || (matches!(b, b'.' | b'!' | b'?')
                    && text.get(j + 1).is_none_or(|c| c.is_ascii_whitespace()))
            {
                e = j + 1;
                break;
            }
            j += 1;
        }
        (s, e.max(s))
    }

    proptest! {
        #![proptest_config(ProptestConfig::with_cases(2000))]

        /// Text made of the bytes that end sentences, the bytes looked at around them, and
        /// filler, at any length up to past both reaches.
        #[test]
        fn sentence_bounds_agree_with_reference(
            text in prop::collection::vec(
                prop_oneof![
                    3 => prop::sample::select(b"\n.!?>- \t*#|`0".to_vec()).prop_map(|b| vec![b]),
                    1 => "[a-z ]{0,200}".prop_map(String::into_bytes),
                ],
                0..40,
            ).prop_map(|pieces| pieces.concat()),
            at in any::<prop::sample::Index>(),
            len in 0usize..12,
        ) {
            let start = at.index(text.len() + 1);
            let end = (start + len).min(text.len());
            prop_assert_eq!(
                sentence_bounds(&text, start, end),
                sentence_bounds_reference(&text, start, end)
            );
        }
    }

    fn corpus_files() -> Vec<std::path::PathBuf> {
        let root = Path::new(env!("CARGO_MANIFEST_DIR"));
        let mut out = Vec::new();
        for dir in [
            "tests/corpus/attacks",
            "tests/corpus/benign",
            "benches/corpus",
        ] {
            for e in std::fs::read_dir(root.join(dir)).expect("corpus dir") {
                out.push(e.expect("dir entry").path());
            }
        }
        out.sort();
        out
    }

    #[test]
    fn automaton_agrees_with_reference_on_the_corpora() {
        let files = corpus_files();
        assert!(files.len() > 300);
        for p in files {
            let text = std::fs::read(&p).expect("corpus file");
            let upper = text.to_ascii_uppercase();
            for t in [&text, &upper] {
                assert_eq!(
                    phrase_starts(t),
                    phrase_starts_reference(t),
                    "{}",
                    p.display()
                );
            }
        }
    }

    #[test]
    fn automaton_agrees_with_reference_on_every_phrase() {
        // Each phrase alone, glued to a word, after a word, and twice in a row.
        for p in PHRASES {
            for t in [
                p.text.to_string(),
                format!("x{}", p.text),
                format!("{}x", p.text),
                format!(" {} ", p.text.to_ascii_uppercase()),
                format!("{0}{0}", p.text),
            ] {
                assert_eq!(
                    phrase_starts(t.as_bytes()),
                    phrase_starts_reference(t.as_bytes()),
                    "{t:?}"
                );
            }
        }
    }

    /// Pieces of text that exercise the automaton: whole phrases in mixed case, their
    /// prefixes and suffixes, word and non-word glue, multi-byte characters.
    fn piece() -> impl Strategy<Value = String> {
        let phrase = (0..PHRASES.len(), any::<u64>()).prop_map(|(i, bits)| {
            PHRASES[i]
                .text
                .chars()
                .enumerate()
                .map(|(k, c)| {
                    if bits >> (k % 64) & 1 == 1 {
                        c.to_ascii_uppercase()
                    } else {
                        c
                    }
                })
                .collect::<String>()
        });
        let part = (
            0..PHRASES.len(),
            any::<prop::sample::Index>(),
            any::<bool>(),
        )
            .prop_map(|(i, cut, head)| {
                let t = PHRASES[i].text;
                let mut k = cut.index(t.len() + 1);
                while !t.is_char_boundary(k) {
                    k -= 1;
                }
                if head { &t[..k] } else { &t[k..] }.to_string()
            });
        prop_oneof![
            4 => phrase,
            3 => part,
            3 => "[a-zA-Z0-9 _.,:<>|/~@!#`'\n-]{0,6}",
            1 => prop::sample::select(vec![
                "é", "—", "\u{200b}", "忽", "ç", "õ", "\u{FEFF}", "日本", "\u{e0041}"
            ])
            .prop_map(str::to_string),
        ]
    }

    proptest! {
        #![proptest_config(ProptestConfig::with_cases(2000))]

        #[test]
        fn automaton_agrees_with_reference(pieces in prop::collection::vec(piece(), 0..24)) {
            let text = pieces.concat();
            prop_assert_eq!(
                phrase_starts(text.as_bytes()),
                phrase_starts_reference(text.as_bytes())
            );
        }

        #[test]
        fn automaton_agrees_with_reference_on_any_bytes(bytes in prop::collection::vec(any::<u8>(), 0..200)) {
            prop_assert_eq!(phrase_starts(&bytes), phrase_starts_reference(&bytes));
        }
    }

    #[test]
    fn word_lists_fit_their_lookups() {
        assert!(SENSITIVE_VERBS.iter().all(|v| is_sensitive_verb(v)));
        // `occurring` tries every occurrence of a directive; the rule it replaces looked at
        // non-overlapping ones. The same thing as long as no directive overlaps itself.
        for d in DIRECTIVES {
            for k in 1..d.len() {
                assert!(!d.ends_with(&d[..k]), "{d:?} overlaps itself");
            }
        }
    }

    /// Every sentence around an agent word in text where characters of two and three bytes
    /// and word characters touch the rule's words, so that sentences cut inside a character
    /// or a word are covered.
    #[test]
    fn sentence_rule_agrees_with_reference_on_every_cut() {
        let text = "Claude, éread İnot the é.env ss\u{212a}h now. \
                    AI: ésend İdon't print ~/.sshé token İnever upload \
                    assistant please write Σ.envΣ immediately. \
                    xmust agent write the .env needx. \
                    Then xnot the print copilot .env.";
        let bytes = text.as_bytes();
        let n = bytes.len();
        for word in ["Claude", "AI", "assistant", "agent", "copilot"] {
            let start = text.find(word).unwrap();
            let end = start + word.len();
            let mut with_region = SentenceFacts::new(0, n);
            let mut alone = SentenceFacts::default();
            for s in 0..=start {
                for e in end..=n {
                    let old = agent_sentence_reference(&bytes[s..e], start - s, end - s);
                    for facts in [&mut with_region, &mut alone] {
                        let new = agent_sentence(bytes, (s, e), (start, end), facts);
                        assert_eq!(
                            (new.score, new.credential, new.vocative),
                            (old.score, old.credential, old.vocative),
                            "{word}: sentence {s}..{e}"
                        );
                    }
                }
            }
        }
    }

    /// Sentence pieces: the rule's own words (verbs with endings, objects, directives,
    /// pressure, negations, agent words) in mixed case, and glue.
    fn sentence_piece() -> impl Strategy<Value = String> {
        let mut words: Vec<String> = Vec::new();
        for v in SENSITIVE_VERBS {
            for end in ["", "s", "ed", "ing"] {
                words.push(format!("{v}{end}"));
            }
            if let Some(stem) = v.strip_suffix('e') {
                words.push(format!("{stem}ing"));
            }
        }
        words.extend(SENSITIVE_OBJECTS.iter().map(|(o, _)| o.to_string()));
        words.extend(DIRECTIVES.iter().map(|d| d.to_string()));
        words.extend(PRESSURE.iter().map(|p| p.to_string()));
        for w in [
            "never", "not", "don't", "dont", "or", "nor", "the", "agent", "AI", "Claude",
        ] {
            words.push(w.to_string());
        }
        let verbs: Vec<&str> = SENSITIVE_VERBS.to_vec();
        let negations = vec!["never ", "not ", "don't ", "dont ", "or ", "nor ", "NOT "];
        prop_oneof![
            5 => (prop::sample::select(words.clone()), any::<bool>(), any::<bool>())
                .prop_map(|(w, up, space)| {
                    let w = if up { w.to_uppercase() } else { w };
                    if space { w + " " } else { w }
                }),
            3 => prop::sample::select(vec![" ", " ", ", ", ": ", "! ", "\n", "@", "(", "::", ".x", "-", "é", "İ"])
                .prop_map(str::to_string),
            1 => "[a-z ]{0,6}",
            // A verb forbidden by the word before it or the one before that.
            2 => (
                prop::sample::select(negations),
                prop::option::of(prop::sample::select(words)),
                prop::sample::select(verbs),
            )
                .prop_map(|(n, w, v)| match w {
                    Some(w) => format!("{n}{w} {v} "),
                    None => format!("{n}{v} "),
                }),
        ]
    }

    proptest! {
        #![proptest_config(ProptestConfig::with_cases(3000))]

        #[test]
        fn sentence_rule_agrees_with_reference(
            pieces in prop::collection::vec(sentence_piece(), 1..30),
            cuts in prop::collection::vec(
                (any::<prop::sample::Index>(), 1usize..10, any::<prop::sample::Index>(), any::<prop::sample::Index>()),
                1..6,
            ),
            region in (any::<prop::sample::Index>(), any::<prop::sample::Index>()),
        ) {
            let text = pieces.concat();
            prop_assume!(!text.is_empty());
            let bytes = text.as_bytes();
            let n = bytes.len();
            // One region (any span, cut anywhere, even inside a character), several
            // sentences with an agent word in each: worked out directly, from the region
            // where it covers them, and from the cache.
            let (r0, r1) = (region.0.index(n + 1), region.1.index(n + 1));
            let mut with_region = SentenceFacts::new(r0.min(r1), r0.max(r1));
            let mut alone = SentenceFacts::default();
            for (at, len, before, after) in &cuts {
                let start = at.index(n);
                let end = (start + len).min(n);
                let s = before.index(start + 1);
                let e = end + after.index(n - end + 1);
                let old = agent_sentence_reference(&bytes[s..e], start - s, end - s);
                for facts in [&mut with_region, &mut alone] {
                    for _ in 0..2 {
                        let new = agent_sentence(bytes, (s, e), (start, end), facts);
                        prop_assert_eq!(
                            (new.score, new.credential, new.vocative),
                            (old.score, old.credential, old.vocative),
                            "sentence {}..{}, word {}..{}", s, e, start, end
                        );
                    }
                }
            }
        }
    }
}
