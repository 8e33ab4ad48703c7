//! Compiles the built-in rule pack (`src/rules.toml`) into Rust statics, so that a process
//! that uses the built-in scanner parses nothing at run time:
//!
//! - one `StaticRule` per rule: id, description, regex source, gate regex source (see
//!   below), secret group, entropy floor, path, flags;
//! - the distinct keywords and, for each, the rules it triggers;
//! - the keyword prefilter as a ready-made Aho-Corasick DFA: a byte-class table, a
//!   transition table, and for each state the keywords that end there (overlapping
//!   semantics: every occurrence of every keyword is reported).
//!
//! The gate of a rule is its regex with large counted repetitions relaxed (`{20,512}`
//! becomes `{16,}`, `{0,20}` becomes `*`): it matches a superset of what the rule matches.
//! The gate is determinized here, into a dense DFA serialized into the binary (`gates.bin`),
//! so that at run time it costs a validation of its bytes instead of a regex compilation.
//! A scan runs the gate first and compiles the rule's own regex only where the gate matches:
//! on clean text most rules never compile a regex at all. A gate whose DFA would be too big
//! is left to be compiled at run time (still cheaper than the rule).
//!
//! Most rules get an anchored gate instead (see `anchored_gate`): the part of the relaxed
//! regex from where a keyword must occur, determinized with anchored start states and run
//! from each occurrence of the rule's keywords only, so that a scan reads a few bytes per
//! keyword occurrence rather than the lines around it. A rule whose matches all start at a
//! keyword (`starts_at_keyword`) also runs its own regex anchored there. Only one of the two gate DFAs of a rule is stored.
//!
//! A rule regex whose secret is a counted repetition with a wide spread (`{20,512}`) also
//! gets a relaxed form (`{20,}`, see `relax_groups`) that compiles in a fraction of the
//! time; the scanner runs it and checks the group's length, falling back to the regex
//! itself where it is out of bounds.
//!
//! A generic rule (`password = ...`) also gets a finding gate: its anchored gate with the
//! secret narrowed to values that hold a byte other than a letter, `_`, `.` or `-` (the
//! scanner drops every other value as a word or a dotted name). Code is full of
//! `password = password` and `secret_key = settings.SECRET_KEY`: the finding gate settles
//! those without compiling or running the rule's regex. Test cases (`positive`,
//! `negative`) are not compiled in: the test suite reads them from the TOML.

use std::collections::{BTreeMap, VecDeque};
use std::fmt::Write as _;
use std::path::PathBuf;

use regex_syntax::ast::{self, Ast, RepetitionKind, RepetitionRange};
use regex_syntax::hir::literal::{ExtractKind, Extractor};
use regex_syntax::hir::{Hir, HirKind};
use serde::Deserialize;

#[derive(Deserialize)]
struct File {
    rule: Vec<Rule>,
}

// Mirrors `BuiltinRule` in src/builtin.rs (the test cases are read and dropped).
#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct Rule {
    id: String,
    description: String,
    #[serde(default)]
    regex: Option<String>,
    #[serde(default)]
    secret_group: Option<usize>,
    #[serde(default)]
    entropy: Option<f32>,
    #[serde(default)]
    keywords: Vec<String>,
    #[serde(default)]
    path: Option<String>,
    #[serde(default)]
    generic: bool,
    #[serde(default = "yes")]
    line_local: bool,
    /// `high`, `medium`, `low` or `by-value` (see src/confidence.rs).
    #[serde(default)]
    confidence: Option<String>,
    #[serde(default)]
    #[allow(dead_code)]
    positive: Vec<String>,
    #[serde(default)]
    #[allow(dead_code)]
    negative: Vec<String>,
}

/// The Rust expression of a rule's `confidence`; a misspelt value fails the build.
fn confidence_expr(value: Option<&str>) -> &'static str {
    match value {
        None => "None",
        Some("high") => "Some(crate::confidence::RuleConfidence::High)",
        Some("medium") => "Some(crate::confidence::RuleConfidence::Medium)",
        Some("low") => "Some(crate::confidence::RuleConfidence::Low)",
        Some("by-value") => "Some(crate::confidence::RuleConfidence::ByValue)",
        Some(other) => panic!("rules.toml: unknown confidence {other:?}"),
    }
}

fn yes() -> bool {
    true
}

/// Counted repetitions up to this many copies are kept as they are.
const KEEP_UP_TO: u32 = 16;

/// Relaxes counted repetitions in place; true when anything changed. Every string the
/// original matches, the relaxed one matches at the same span: only the counts of
/// repetitions change, and always towards more (`{m,n}` to `{min(m,16),}`).
fn relax(a: &mut Ast) -> bool {
    match a {
        Ast::Repetition(rep) => {
            let mut changed = relax(&mut rep.ast);
            if let RepetitionKind::Range(range) = &rep.op.kind {
                let (min, max) = match *range {
                    RepetitionRange::Exactly(n) => (n, Some(n)),
                    RepetitionRange::AtLeast(n) => (n, None),
                    RepetitionRange::Bounded(m, n) => (m, Some(n)),
                };
                let copies = max.unwrap_or(min);
                if copies > KEEP_UP_TO {
                    let min = min.min(KEEP_UP_TO);
                    rep.op.kind = match min {
                        0 => RepetitionKind::ZeroOrMore,
                        1 => RepetitionKind::OneOrMore,
                        m => RepetitionKind::Range(RepetitionRange::AtLeast(m)),
                    };
                    changed = true;
                }
            }
            changed
        }
        Ast::Group(g) => relax(&mut g.ast),
        Ast::Alternation(alt) => alt.asts.iter_mut().fold(false, |c, a| relax(a) | c),
        Ast::Concat(cat) => cat.asts.iter_mut().fold(false, |c, a| relax(a) | c),
        _ => false,
    }
}

/// The relaxed form of `pattern`, or `None` when nothing needed relaxing.
fn gate_for(id: &str, pattern: &str) -> Option<String> {
    let mut parsed = ast::parse::Parser::new()
        .parse(pattern)
        .unwrap_or_else(|e| panic!("rule {id}: regex does not parse: {e}"));
    if !relax(&mut parsed) {
        return None;
    }
    Some(printed(&parsed))
}

/// A capture group of a rule regex that is one greedy counted repetition of a one-byte
/// element (`([A-Za-z0-9]{20,512})`): its length in bytes is its number of iterations.
struct CountedGroup {
    index: u32,
    min: u32,
    max: u32,
}

/// The capture groups of `pattern` (parsed as the engine parses rule regexes) worth
/// relaxing: one greedy counted repetition of a one-byte class or literal, at least one
/// iteration, with a large spread (the copies cost the compilation).
fn counted_groups(pattern: &str) -> Vec<CountedGroup> {
    fn walk(h: &Hir, out: &mut Vec<CountedGroup>) {
        match h.kind() {
            HirKind::Capture(c) => {
                if let HirKind::Repetition(rep) = c.sub.kind() {
                    let one_byte = match rep.sub.kind() {
                        HirKind::Class(regex_syntax::hir::Class::Bytes(_)) => true,
                        HirKind::Literal(lit) => lit.0.len() == 1,
                        _ => false,
                    };
                    if let Some(max) = rep.max {
                        if one_byte && rep.greedy && rep.min >= 1 && max > rep.min + KEEP_UP_TO {
                            out.push(CountedGroup {
                                index: c.index,
                                min: rep.min,
                                max,
                            });
                        }
                    }
                }
                walk(&c.sub, out);
            }
            HirKind::Repetition(rep) => walk(&rep.sub, out),
            HirKind::Concat(hs) | HirKind::Alternation(hs) => hs.iter().for_each(|h| walk(h, out)),
            _ => {}
        }
    }
    let Ok(hir) = regex_syntax::ParserBuilder::new()
        .unicode(false)
        .utf8(false)
        .build()
        .parse(pattern)
    else {
        return Vec::new();
    };
    let mut out = Vec::new();
    walk(&hir, &mut out);
    out
}

/// `pattern` with the repetitions of `groups` relaxed from `{min,max}` to `{min,}`
/// (nothing else changes), or `None` when there are none. Every match of the regex is a
/// match of the relaxed one, with the same priority among them (a greedy repetition
/// prefers more iterations either way), so where the relaxed regex's match has each
/// group within its bounds, it is the regex's own match, with the same captures. The
/// relaxed regex compiles in a fraction of the time (`{20,512}` is 512 NFA states).
fn relax_groups(pattern: &str, groups: &[CountedGroup]) -> Option<String> {
    fn walk(a: &mut Ast, groups: &[CountedGroup]) -> bool {
        match a {
            Ast::Group(g) => {
                let index = match &g.kind {
                    ast::GroupKind::CaptureIndex(i) => Some(*i),
                    ast::GroupKind::CaptureName { name, .. } => Some(name.index),
                    ast::GroupKind::NonCapturing(_) => None,
                };
                let group = index.and_then(|i| groups.iter().find(|c| c.index == i));
                if let (Some(group), Ast::Repetition(rep)) = (group, &mut *g.ast) {
                    rep.op.kind = RepetitionKind::Range(RepetitionRange::AtLeast(group.min));
                    return true;
                }
                walk(&mut g.ast, groups)
            }
            Ast::Repetition(rep) => walk(&mut rep.ast, groups),
            Ast::Alternation(alt) => alt.asts.iter_mut().fold(false, |c, a| walk(a, groups) | c),
            Ast::Concat(cat) => cat.asts.iter_mut().fold(false, |c, a| walk(a, groups) | c),
            _ => false,
        }
    }
    if groups.is_empty() {
        return None;
    }
    let mut parsed = ast::parse::Parser::new().parse(pattern).ok()?;
    if !walk(&mut parsed, groups) {
        return None;
    }
    Some(printed(&parsed))
}

/// True when every literal of `seq` is finite and starts (`prefix`) or ends with one of
/// `keywords`, ASCII case-insensitively.
fn all_keyword_bounded(hir: &Hir, keywords: &[String], prefix: bool) -> bool {
    let seq = Extractor::new()
        .kind(if prefix {
            ExtractKind::Prefix
        } else {
            ExtractKind::Suffix
        })
        .limit_class(16)
        .limit_literal_len(64)
        .limit_total(1 << 16)
        .extract(hir);
    let Some(lits) = seq.literals() else {
        return false;
    };
    !lits.is_empty()
        && lits.iter().all(|lit| {
            let lit = lit.as_bytes().to_ascii_lowercase();
            keywords.iter().any(|k| {
                let k = k.as_bytes();
                if prefix {
                    lit.starts_with(k)
                } else {
                    lit.ends_with(k)
                }
            })
        })
}

/// The anchored gate of a rule with keywords: a pattern that, run anchored at the start of
/// a keyword occurrence, matches wherever the rule's regex (`pattern`, already relaxed)
/// matches a text. With the regex a concatenation `e0 e1 .. en`:
///
/// - when every match of `ej .. en` starts with a keyword, every match of the regex holds
///   a keyword occurrence where `ej` begins, and `ej .. en` matches from there: the gate
///   is `ej .. en` (with `j = 0`, every match of the rule starts at a keyword);
/// - when every match of `e(j-1)` ends with a keyword, the keyword occurrence at its end is
///   followed by a match of `ej .. en`: the gate is `(?i:keyword|..) ej .. en`.
///
/// The smallest such `j` wins (the longest gate). `None` when no `j` qualifies; else the
/// gate and whether `j = 0` (every match of the rule starts at a keyword occurrence).
fn anchored_gate(pattern: &str, keywords: &[String]) -> Option<(String, bool)> {
    let keywords: Vec<String> = keywords
        .iter()
        .map(|k| k.to_ascii_lowercase())
        .filter(|k| !k.is_empty())
        .collect();
    if keywords.is_empty() {
        return None;
    }
    let hir = regex_syntax::ParserBuilder::new()
        .unicode(false)
        .utf8(false)
        .build()
        .parse(pattern)
        .ok()?;
    let parts: Vec<Hir> = match hir.kind() {
        HirKind::Concat(parts) => parts.clone(),
        _ => vec![hir.clone()],
    };
    let alternation = format!(
        "(?i-u:{})",
        keywords
            .iter()
            .map(|k| regex_syntax::escape(k))
            .collect::<Vec<_>>()
            .join("|")
    );
    for j in 0..parts.len() {
        let rest = Hir::concat(parts[j..].to_vec());
        if all_keyword_bounded(&rest, &keywords, true) {
            return Some((rest.to_string(), j == 0));
        }
        if j > 0 {
            if let Some(head) = keyword_head(&parts[j - 1], &keywords, &alternation) {
                return Some((format!("{head}(?:{rest})"), false));
            }
        }
    }
    None
}

/// What an anchored gate runs before the rest of the regex, when `part` (the element
/// before the rest) holds a keyword occurrence in each of its matches from which the
/// gate can start: the keyword alternation when every match of `part` ends with a
/// keyword; for an alternation, each branch that ends with a keyword contributes the
/// keywords, each branch that starts with one contributes itself (the gate then reads
/// the branch from the keyword on: `aws.{0,20}?secret|secret.?access.?key` gives
/// `(?:(?i:secret)|secret.?access.?key)`). `None` otherwise.
fn keyword_head(part: &Hir, keywords: &[String], alternation: &str) -> Option<String> {
    if all_keyword_bounded(part, keywords, false) {
        return Some(alternation.to_string());
    }
    let HirKind::Alternation(branches) = part.kind() else {
        return None;
    };
    let heads = branches
        .iter()
        .map(|b| {
            if all_keyword_bounded(b, keywords, false) {
                Some(alternation.to_string())
            } else if all_keyword_bounded(b, keywords, true) {
                Some(format!("(?:{b})"))
            } else {
                None
            }
        })
        .collect::<Option<Vec<String>>>()?;
    Some(format!("(?:{})", heads.join("|")))
}

/// The bytes of a value that the scanner's `looks_like_code` always drops for a generic
/// rule (a value made of them only is a word or a dotted name: `settings.SECRET_KEY`).
const WORDISH: &str = r"[A-Za-z_.\-]";

/// The finding gate of a generic rule: its regex with the secret, a counted repetition of
/// one class `C` that is the rule's only capture group, narrowed to values holding a byte
/// outside [`WORDISH`] (`(?:[C&&W]*[C--W]C*)`). Every match whose secret the scanner would
/// not drop as a word is a match of this pattern; where it cannot match, no match of the
/// rule can become a finding, and the rule's regex need not run. `None` when the regex
/// does not have that shape.
fn finding_gate_pattern(pattern: &str) -> Option<String> {
    let parsed = ast::parse::Parser::new().parse(pattern).ok()?;
    let top: Vec<&Ast> = match &parsed {
        Ast::Concat(c) => c.asts.iter().collect(),
        a => vec![a],
    };
    // Exactly one capture group in the whole pattern, and it is a top-level item (it
    // takes part in every match).
    fn captures(a: &Ast) -> usize {
        match a {
            Ast::Group(g) => {
                usize::from(!matches!(g.kind, ast::GroupKind::NonCapturing(_))) + captures(&g.ast)
            }
            Ast::Repetition(r) => captures(&r.ast),
            Ast::Alternation(alt) => alt.asts.iter().map(captures).sum(),
            Ast::Concat(cat) => cat.asts.iter().map(captures).sum(),
            _ => 0,
        }
    }
    if captures(&parsed) != 1 {
        return None;
    }
    let group = top.iter().find_map(|a| match a {
        Ast::Group(g) if matches!(g.kind, ast::GroupKind::CaptureIndex(_)) => Some(g),
        _ => None,
    })?;
    let Ast::Repetition(rep) = &*group.ast else {
        return None;
    };
    if !rep.greedy {
        return None;
    }
    let class = &pattern[rep.ast.span().start.offset..rep.ast.span().end.offset];
    let class = match &*rep.ast {
        Ast::ClassBracketed(_) => class.to_string(),
        Ast::ClassPerl(_) => format!("[{class}]"),
        _ => return None,
    };
    let narrowed = format!("((?:[{class}&&{WORDISH}]*[{class}--{WORDISH}]{class}*))");
    let span = group.span;
    Some(format!(
        "{}{narrowed}{}",
        &pattern[..span.start.offset],
        &pattern[span.end.offset..]
    ))
}

/// Largest serialized gate DFA kept in the binary.
const GATE_DFA_LIMIT: usize = 128 << 10;

/// The gate as a serialized dense DFA (little-endian), with the syntax options the engine
/// uses for rule regexes; `None` when it cannot be built (a Unicode word boundary, say)
/// or is too big.
fn gate_dfa(pattern: &str, anchored: bool) -> Option<Vec<u8>> {
    use regex_automata::dfa::{dense, StartKind};
    use regex_automata::nfa::thompson;
    use regex_automata::util::syntax;
    let dfa = dense::Builder::new()
        .syntax(syntax::Config::new().unicode(false).utf8(false))
        .thompson(
            thompson::Config::new()
                .utf8(false)
                .which_captures(thompson::WhichCaptures::None),
        )
        .configure(
            dense::Config::new()
                .start_kind(if anchored {
                    StartKind::Anchored
                } else {
                    StartKind::Unanchored
                })
                .minimize(true)
                .dfa_size_limit(Some(4 * GATE_DFA_LIMIT))
                .determinize_size_limit(Some(16 * GATE_DFA_LIMIT)),
        )
        .build(pattern)
        .ok()?;
    let (bytes, pad) = dfa.to_bytes_little_endian();
    let bytes = &bytes[pad..];
    (bytes.len() <= GATE_DFA_LIMIT).then(|| bytes.to_vec())
}

/// Entries in the keyword transition table (ids are u16).
const TRANS_LEN: usize = 1 << 16;

/// The keyword automaton: a DFA over byte classes, states renumbered so that every state
/// at which a keyword ends comes at or after state `first_match`.
struct Dfa {
    classes: [u8; 256],
    stride: usize,
    trans: Vec<u16>,
    first_match: usize,
    /// For state `first_match + i`: `MATCHES[MATCH_AT[i]..MATCH_AT[i + 1]]`.
    match_at: Vec<u32>,
    matches: Vec<u16>,
}

fn build_dfa(keywords: &[String]) -> Dfa {
    // Byte classes: each byte that occurs in a keyword is its own class, upper-case ASCII
    // letters share the class of their lower-case form, every other byte is class 0.
    let mut classes = [0u8; 256];
    let mut next = 1u16;
    for k in keywords {
        for &b in k.as_bytes() {
            assert!(!b.is_ascii_uppercase(), "keyword {k} is not lowercase");
            if classes[b as usize] == 0 {
                classes[b as usize] = u8::try_from(next).expect("under 256 byte classes");
                next += 1;
            }
        }
    }
    for b in b'A'..=b'Z' {
        classes[b as usize] = classes[b.to_ascii_lowercase() as usize];
    }
    let stride = next as usize;

    // Trie.
    let mut children: Vec<BTreeMap<u8, usize>> = vec![BTreeMap::new()];
    let mut out: Vec<Vec<u16>> = vec![Vec::new()];
    for (i, k) in keywords.iter().enumerate() {
        let mut s = 0;
        for &b in k.as_bytes() {
            let c = classes[b as usize];
            s = match children[s].get(&c) {
                Some(&n) => n,
                None => {
                    children.push(BTreeMap::new());
                    out.push(Vec::new());
                    let n = children.len() - 1;
                    children[s].insert(c, n);
                    n
                }
            };
        }
        out[s].push(u16::try_from(i).expect("under 65536 keywords"));
    }
    let n = children.len();

    // Failure links and the full transition function, breadth first.
    let mut delta = vec![0usize; n * stride];
    let mut fail = vec![0usize; n];
    let mut queue = VecDeque::new();
    for (&c, &child) in &children[0] {
        delta[c as usize] = child;
        fail[child] = 0;
        queue.push_back(child);
    }
    while let Some(s) = queue.pop_front() {
        let inherited = out[fail[s]].clone();
        for k in inherited {
            if !out[s].contains(&k) {
                out[s].push(k);
            }
        }
        for c in 0..stride {
            match children[s].get(&(c as u8)) {
                Some(&child) => {
                    fail[child] = delta[fail[s] * stride + c];
                    delta[s * stride + c] = child;
                    queue.push_back(child);
                }
                None => delta[s * stride + c] = delta[fail[s] * stride + c],
            }
        }
    }

    // Renumber: the root first, then states without output, then states with output.
    let mut order: Vec<usize> = (0..n).filter(|&s| out[s].is_empty()).collect();
    assert_eq!(order[0], 0, "the root has no output");
    let first_match = order.len();
    order.extend((0..n).filter(|&s| !out[s].is_empty()));
    let mut new_id = vec![0usize; n];
    for (new, &old) in order.iter().enumerate() {
        new_id[old] = new;
    }
    // State ids are premultiplied by the stride (the id of a state is the index of its
    // row), and the table is padded to 65536 entries, so that the run-time walk indexes
    // it with a masked u16 and needs no bounds check.
    assert!(n * stride <= TRANS_LEN, "too many keyword states");
    let mut trans = vec![0u16; TRANS_LEN];
    for (new, &old) in order.iter().enumerate() {
        for c in 0..stride {
            trans[new * stride + c] = (new_id[delta[old * stride + c]] * stride) as u16;
        }
    }
    let mut match_at = vec![0u32];
    let mut matches = Vec::new();
    for &old in &order[first_match..] {
        let mut ks = out[old].clone();
        ks.sort_unstable();
        matches.extend(ks);
        match_at.push(matches.len() as u32);
    }
    Dfa {
        classes,
        stride,
        trans,
        first_match,
        match_at,
        matches,
    }
}

fn list<T: std::fmt::Display>(items: impl IntoIterator<Item = T>) -> String {
    let mut s = String::from("[");
    for (i, x) in items.into_iter().enumerate() {
        if i > 0 {
            s.push(',');
        }
        if i % 32 == 31 {
            s.push('\n');
        }
        write!(s, "{x}").unwrap();
    }
    s.push(']');
    s
}

fn main() {
    println!("cargo::rerun-if-changed=src/rules.toml");
    println!("cargo::rerun-if-changed=build.rs");
    let manifest = PathBuf::from(std::env::var_os("CARGO_MANIFEST_DIR").unwrap());
    let text = std::fs::read_to_string(manifest.join("src/rules.toml")).unwrap();
    let file: File = toml::from_str(&text).unwrap_or_else(|e| panic!("src/rules.toml: {e}"));
    let rules = file.rule;
    assert!(rules.len() < u16::MAX as usize);

    // Distinct keywords, in order of first appearance, and the rules each one triggers.
    let mut keywords: Vec<String> = Vec::new();
    let mut keyword_rules: Vec<Vec<u16>> = Vec::new();
    for (i, r) in rules.iter().enumerate() {
        for k in &r.keywords {
            let k = k.to_ascii_lowercase();
            if k.is_empty() {
                continue;
            }
            let slot = match keywords.iter().position(|x| *x == k) {
                Some(slot) => slot,
                None => {
                    keywords.push(k);
                    keyword_rules.push(Vec::new());
                    keywords.len() - 1
                }
            };
            if !keyword_rules[slot].contains(&(i as u16)) {
                keyword_rules[slot].push(i as u16);
            }
        }
    }
    let dfa = build_dfa(&keywords);

    let mut o = String::new();
    let mut blob: Vec<u8> = Vec::new();
    let mut put = |bytes: Vec<u8>| {
        while !blob.len().is_multiple_of(8) {
            blob.push(0);
        }
        let at = blob.len();
        blob.extend_from_slice(&bytes);
        (at, bytes.len())
    };
    o.push_str("// @generated by build.rs from src/rules.toml. Do not edit.\n\n");
    writeln!(o, "pub(crate) const RULE_COUNT: usize = {};", rules.len()).unwrap();
    writeln!(o, "pub(crate) static RULES: [StaticRule; RULE_COUNT] = [").unwrap();
    for r in &rules {
        let relaxed = r.regex.as_deref().and_then(|p| gate_for(&r.id, p));
        // The anchored gate where there is one; else the gate as an unanchored DFA (the
        // scanner uses the first that loads, so the second is not stored).
        let anchored_gate = relaxed
            .as_deref()
            .or(r.regex.as_deref())
            .and_then(|p| anchored_gate(p, &r.keywords));
        let starts_at_keyword = anchored_gate
            .as_ref()
            .is_some_and(|(_, at_start)| *at_start);
        let anchored = anchored_gate
            .and_then(|(p, _)| gate_dfa(&p, true))
            .map(&mut put);
        // The finding gate of a generic rule (anchored, like the gate).
        let finding_gate = r
            .regex
            .as_deref()
            .filter(|_| r.generic && matches!(r.secret_group, None | Some(0) | Some(1)))
            .and_then(finding_gate_pattern)
            .and_then(|p| {
                let relaxed = gate_for(&r.id, &p).unwrap_or(p);
                crate::anchored_gate(&relaxed, &r.keywords)
            })
            .and_then(|(p, _)| gate_dfa(&p, true))
            .map(&mut put);
        let groups = r.regex.as_deref().map(counted_groups).unwrap_or_default();
        let relaxed_regex = r.regex.as_deref().and_then(|p| relax_groups(p, &groups));
        let relaxed_groups: Vec<(u32, u32, u32)> = if relaxed_regex.is_some() {
            groups.iter().map(|g| (g.index, g.min, g.max)).collect()
        } else {
            Vec::new()
        };
        let dfa = if anchored.is_some() {
            None
        } else {
            relaxed
                .as_deref()
                .or(r.regex.as_deref())
                .and_then(|p| gate_dfa(p, false))
                .map(&mut put)
        };
        // A rule regex without a DFA and without relaxation has no cheaper gate.
        let gate = if dfa.is_some() || anchored.is_some() || relaxed.is_some() {
            Some(relaxed.clone().unwrap_or_else(|| r.regex.clone().unwrap()))
        } else {
            None
        };
        writeln!(
            o,
            "    StaticRule {{ id: {:?}, description: {:?}, regex: {:?}, gate: {:?}, \
             gate_dfa: {:?}, anchored_gate_dfa: {:?}, finding_gate_dfa: {:?}, starts_at_keyword: {}, relaxed_regex: {:?}, relaxed_groups: &{:?}, secret_group: {:?}, entropy: {:?}, keywords: &{:?}, path: {:?}, \
             generic: {}, line_local: {}, confidence: {} }},",
            r.id,
            r.description,
            r.regex,
            gate,
            dfa,
            anchored,
            finding_gate,
            starts_at_keyword,
            relaxed_regex,
            relaxed_groups,
            r.secret_group,
            r.entropy,
            r.keywords,
            r.path,
            r.generic,
            r.line_local,
            confidence_expr(r.confidence.as_deref())
        )
        .unwrap();
    }
    o.push_str("];\n\n");
    let always: Vec<usize> = rules
        .iter()
        .enumerate()
        .filter(|(_, r)| r.keywords.iter().all(|k| k.is_empty()))
        .map(|(i, _)| i)
        .collect();
    writeln!(
        o,
        "pub(crate) static ALWAYS: [u16; {}] = {};",
        always.len(),
        list(&always)
    )
    .unwrap();
    writeln!(
        o,
        "pub(crate) static KEYWORDS: [&str; {}] = {:?};",
        keywords.len(),
        keywords
    )
    .unwrap();
    writeln!(
        o,
        "pub(crate) static KEYWORD_LENS: [u8; {}] = {};",
        keywords.len(),
        list(
            keywords
                .iter()
                .map(|k| u8::try_from(k.len()).expect("keyword under 256 bytes"))
        )
    )
    .unwrap();
    writeln!(
        o,
        "pub(crate) static KEYWORD_RULES: [&[u16]; {}] = [{}];",
        keyword_rules.len(),
        keyword_rules
            .iter()
            .map(|v| format!("&{v:?}"))
            .collect::<Vec<_>>()
            .join(", ")
    )
    .unwrap();
    writeln!(
        o,
        "pub(crate) static CLASSES: [u8; 256] = {};",
        list(dfa.classes)
    )
    .unwrap();
    writeln!(o, "pub(crate) const STRIDE: usize = {};", dfa.stride).unwrap();
    writeln!(
        o,
        "pub(crate) const FIRST_MATCH: usize = {};",
        dfa.first_match * dfa.stride
    )
    .unwrap();
    writeln!(
        o,
        "pub(crate) const MAX_KEYWORD_LEN: usize = {};",
        keywords.iter().map(String::len).max().unwrap_or(0)
    )
    .unwrap();
    writeln!(
        o,
        "pub(crate) static TRANS: [u16; {}] = {};",
        dfa.trans.len(),
        list(&dfa.trans)
    )
    .unwrap();
    writeln!(
        o,
        "pub(crate) static MATCH_AT: [u32; {}] = {};",
        dfa.match_at.len(),
        list(&dfa.match_at)
    )
    .unwrap();
    writeln!(
        o,
        "pub(crate) static MATCHES: [u16; {}] = {};",
        dfa.matches.len(),
        list(&dfa.matches)
    )
    .unwrap();

    let out_dir = PathBuf::from(std::env::var_os("OUT_DIR").unwrap());
    std::fs::write(out_dir.join("gates.bin"), blob).unwrap();
    std::fs::write(out_dir.join("builtin_rules.rs"), o).unwrap();
}

/// A regex syntax tree written back as a pattern.
fn printed(tree: &ast::Ast) -> String {
    let mut out = String::new();
    ast::print::Printer::new()
        .print(tree, &mut out)
        .expect("printing to a String");
    out
}
