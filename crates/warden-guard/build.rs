//! Compiles the injection detector's phrase table (`src/cues.rs`) into a DFA at build time,
//! so that a hook process pays nothing to build it.
//!
//! The automaton reports, at every byte, each phrase that ends there and may start where it
//! starts. "May start" is the detector's word rule folded into the automaton: a phrase that
//! begins with a word character (ASCII alphanumeric or `_`) only starts at the beginning of
//! the text or after a non-word byte, so "ai" in "main" is never reported. ASCII case is
//! folded by the byte classes, so the text is matched as it is, without a lower-cased copy.
//!
//! States are sets of live trie nodes plus one bit (the previous byte was a non-word byte);
//! the subset construction below visits only the reachable ones. Output, in `OUT_DIR`:
//! `phrase_dfa.rs` (constants, byte classes, match lists) and `phrase_dfa.bin` (the
//! transition table, little-endian `u32` byte offsets of the next state's row).

use std::collections::{BTreeMap, HashMap, VecDeque};
use std::fmt::Write as _;
use std::path::PathBuf;

#[allow(dead_code)]
#[path = "src/cues.rs"]
mod cues;

fn is_word(b: u8) -> bool {
    b.is_ascii_alphanumeric() || b == b'_'
}

struct Node {
    children: BTreeMap<u8, usize>,
    /// The phrase that ends at this node.
    phrase: Option<u16>,
}

fn main() {
    println!("cargo:rerun-if-changed=src/cues.rs");
    println!("cargo:rerun-if-changed=build.rs");

    let phrases: Vec<&[u8]> = cues::PHRASES.iter().map(|p| p.text.as_bytes()).collect();
    assert!(phrases.len() < usize::from(u16::MAX), "phrase ids are u16");

    // The trie; node 0 is the root.
    let mut trie = vec![Node {
        children: BTreeMap::new(),
        phrase: None,
    }];
    for (id, text) in phrases.iter().enumerate() {
        assert!(!text.is_empty(), "empty phrase");
        assert_eq!(
            text.to_ascii_lowercase(),
            *text,
            "phrases are lower-case: {:?}",
            String::from_utf8_lossy(text)
        );
        let mut n = 0;
        for &b in *text {
            n = match trie[n].children.get(&b) {
                Some(&c) => c,
                None => {
                    trie.push(Node {
                        children: BTreeMap::new(),
                        phrase: None,
                    });
                    let c = trie.len() - 1;
                    trie[n].children.insert(b, c);
                    c
                }
            };
        }
        assert!(trie[n].phrase.is_none(), "duplicate phrase");
        trie[n].phrase = Some(id as u16);
    }

    // Byte classes before merging: every byte that occurs in a phrase is its own class (an
    // ASCII upper-case letter shares its lower-case letter's), the other bytes fall in two
    // classes, word and non-word.
    let mut in_phrase = [false; 256];
    for text in &phrases {
        for &b in *text {
            in_phrase[usize::from(b)] = true;
        }
    }
    let mut reps: Vec<u8> = Vec::new(); // one representative byte per class
    let mut class_of = [0usize; 256];
    let mut other_word = None;
    let mut other_nonword = None;
    for b in 0..=255u8 {
        let f = b.to_ascii_lowercase();
        let class = if in_phrase[usize::from(f)] {
            if f != b {
                class_of[usize::from(f)]
            } else {
                reps.push(b);
                reps.len() - 1
            }
        } else {
            let slot = if is_word(b) {
                &mut other_word
            } else {
                &mut other_nonword
            };
            *slot.get_or_insert_with(|| {
                reps.push(b);
                reps.len() - 1
            })
        };
        class_of[usize::from(b)] = class;
    }
    // Upper-case letters come before their lower-case forms in 0..=255: fix them up.
    for b in b'A'..=b'Z' {
        class_of[usize::from(b)] = class_of[usize::from(b.to_ascii_lowercase())];
    }

    // Subset construction.
    type Key = (Vec<usize>, bool);
    let start: Key = (Vec::new(), true);
    let mut ids: HashMap<Key, usize> = HashMap::new();
    let mut states: Vec<Key> = Vec::new();
    let mut trans: Vec<Vec<usize>> = Vec::new();
    let mut queue = VecDeque::new();
    ids.insert(start.clone(), 0);
    states.push(start);
    queue.push_back(0usize);
    while let Some(s) = queue.pop_front() {
        let (live, boundary) = states[s].clone();
        let mut row = Vec::with_capacity(reps.len());
        for &c in &reps {
            let mut next: Vec<usize> = live
                .iter()
                .filter_map(|&n| trie[n].children.get(&c).copied())
                .collect();
            if let Some(&n) = trie[0].children.get(&c) {
                if boundary || !is_word(c) {
                    next.push(n);
                }
            }
            next.sort_unstable();
            next.dedup();
            let key = (next, !is_word(c));
            let id = match ids.get(&key) {
                Some(&id) => id,
                None => {
                    let id = states.len();
                    ids.insert(key.clone(), id);
                    states.push(key);
                    queue.push_back(id);
                    id
                }
            };
            row.push(id);
        }
        trans.push(row);
    }

    // Merge classes whose columns are identical (their bytes lead everywhere to the same
    // state, and so to the same word bit).
    let mut column_class: HashMap<Vec<usize>, usize> = HashMap::new();
    let mut merged = vec![0usize; reps.len()];
    let mut kept: Vec<usize> = Vec::new();
    for c in 0..reps.len() {
        let column: Vec<usize> = trans.iter().map(|row| row[c]).collect();
        let next = column_class.len();
        let m = *column_class.entry(column).or_insert(next);
        if m == next {
            kept.push(c);
        }
        merged[c] = m;
    }
    let stride = kept.len();

    // Renumber: states without output first (in visiting order, which keeps the shallow,
    // hot states together), then states with output, so that one comparison says "output".
    let outputs: Vec<Vec<u16>> = states
        .iter()
        .map(|(live, _)| {
            let mut o: Vec<u16> = live.iter().filter_map(|&n| trie[n].phrase).collect();
            o.sort_unstable();
            o
        })
        .collect();
    let mut order: Vec<usize> = (0..states.len())
        .filter(|&s| outputs[s].is_empty())
        .collect();
    let match_min = order.len();
    order.extend((0..states.len()).filter(|&s| !outputs[s].is_empty()));
    let mut new_id = vec![0usize; states.len()];
    for (i, &s) in order.iter().enumerate() {
        new_id[s] = i;
    }
    let row_bytes = stride * 4;
    assert!(
        states.len() * row_bytes <= u32::MAX as usize,
        "transition table too large"
    );

    let mut bin = Vec::with_capacity(states.len() * row_bytes);
    for &s in &order {
        for &c in &kept {
            let next = new_id[trans[s][c]] * row_bytes;
            bin.extend_from_slice(&(next as u32).to_le_bytes());
        }
    }

    let mut src = String::new();
    let _ = writeln!(
        src,
        "// Generated by build.rs from src/cues.rs: {} phrases, {} trie nodes, {} states, \
         {} byte classes.",
        phrases.len(),
        trie.len(),
        states.len(),
        stride
    );
    let _ = writeln!(src, "/// Length of the longest phrase, in bytes.");
    let _ = writeln!(
        src,
        "pub(crate) const MAX_PHRASE_LEN: usize = {};",
        phrases.iter().map(|p| p.len()).max().unwrap_or(0)
    );
    let _ = writeln!(src, "/// Bytes per row of [`TRANS`].");
    let _ = writeln!(src, "pub(crate) const ROW_BYTES: usize = {row_bytes};");
    let _ = writeln!(src, "/// The start state (a byte offset into [`TRANS`]).");
    let _ = writeln!(
        src,
        "pub(crate) const START: usize = {};",
        new_id[0] * row_bytes
    );
    let _ = writeln!(src, "/// States at or past this offset have output.");
    let _ = writeln!(
        src,
        "pub(crate) const MATCH_MIN: usize = {};",
        match_min * row_bytes
    );
    let _ = writeln!(
        src,
        "/// Byte offset of each byte's class within a row (class times 4)."
    );
    let _ = write!(src, "pub(crate) static CLASS_OFFSET: [u16; 256] = [");
    for b in 0..256 {
        let _ = write!(src, "{},", merged[class_of[b]] * 4);
    }
    let _ = writeln!(src, "];");
    let _ = writeln!(
        src,
        "/// The transition table: for each state, for each class, the next state as a \
         little-endian u32 byte offset into this table."
    );
    let _ = writeln!(
        src,
        "pub(crate) static TRANS: &[u8; {}] = include_bytes!(concat!(env!(\"OUT_DIR\"), \
         \"/phrase_dfa.bin\"));",
        bin.len()
    );
    // Output lists of the match states, indexed by (state - MATCH_MIN) / ROW_BYTES.
    let mut offsets = vec![0u32];
    let mut pids: Vec<u16> = Vec::new();
    for &s in &order[match_min..] {
        pids.extend_from_slice(&outputs[s]);
        offsets.push(pids.len() as u32);
    }
    let _ = writeln!(
        src,
        "/// For match state k (counted from [`MATCH_MIN`]), its phrases are \
         `MATCH_PHRASES[MATCH_OFFSETS[k]..MATCH_OFFSETS[k + 1]]`."
    );
    let _ = write!(
        src,
        "pub(crate) static MATCH_OFFSETS: [u32; {}] = [",
        offsets.len()
    );
    for o in &offsets {
        let _ = write!(src, "{o},");
    }
    let _ = writeln!(src, "];");
    let _ = writeln!(src, "/// Phrase ids (indices into `PHRASES`).");
    let _ = write!(
        src,
        "pub(crate) static MATCH_PHRASES: [u16; {}] = [",
        pids.len()
    );
    for p in &pids {
        let _ = write!(src, "{p},");
    }
    let _ = writeln!(src, "];");

    let out = PathBuf::from(std::env::var_os("OUT_DIR").expect("OUT_DIR is set by cargo"));
    std::fs::write(out.join("phrase_dfa.bin"), &bin).expect("write phrase_dfa.bin");
    std::fs::write(out.join("phrase_dfa.rs"), src).expect("write phrase_dfa.rs");
}
