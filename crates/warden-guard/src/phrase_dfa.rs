//! The phrase automaton, compiled from [`crate::cues::PHRASES`] by `build.rs`.
//!
//! Nothing is built at run time: the tables are statics in the binary, so a fresh hook
//! process scans with the first call. See `build.rs` for what the automaton reports.
//!
//! A DFA walk is one dependent memory load per byte, so one walk leaves most of a core
//! idle. Longer texts are cut into [`LANES`] pieces walked in the same loop, which the
//! core runs side by side. A walk started anywhere is in the right state after
//! [`MAX_PHRASE_LEN`] + 1 bytes, because a state only remembers that many bytes: each lane
//! but the first starts that far before its piece and drops what it finds before it.

include!(concat!(env!("OUT_DIR"), "/phrase_dfa.rs"));

/// Pieces walked side by side.
const LANES: usize = 4;
/// Bytes a walk started from [`START`] needs before its state is exact.
const WARM: usize = MAX_PHRASE_LEN + 1;
/// Shortest text cut into lanes.
const LANES_MIN: usize = 1024;

/// The state after `state` reads `byte`.
#[inline(always)]
fn next(state: usize, byte: u8) -> usize {
    let at = state + usize::from(CLASS_OFFSET[usize::from(byte)]);
    let t = &TRANS[at..at + 4];
    u32::from_le_bytes([t[0], t[1], t[2], t[3]]) as usize
}

/// Runs from `state` over `bytes[i..]` until a state with output is entered; returns the
/// offset just past the byte that entered it and the state, or `bytes.len()` and the last
/// state. Kept apart from the caller so that the loop keeps its state in registers.
#[inline(never)]
fn run(bytes: &[u8], mut i: usize, mut state: usize) -> (usize, usize) {
    while i + 4 <= bytes.len() {
        let b = &bytes[i..i + 4];
        state = next(state, b[0]);
        if state >= MATCH_MIN {
            return (i + 1, state);
        }
        state = next(state, b[1]);
        if state >= MATCH_MIN {
            return (i + 2, state);
        }
        state = next(state, b[2]);
        if state >= MATCH_MIN {
            return (i + 3, state);
        }
        state = next(state, b[3]);
        if state >= MATCH_MIN {
            return (i + 4, state);
        }
        i += 4;
    }
    while i < bytes.len() {
        state = next(state, bytes[i]);
        i += 1;
        if state >= MATCH_MIN {
            return (i, state);
        }
    }
    (i, state)
}

/// Walks `bytes[i..]` from `state`, pushing `(end, state)` for every state with output
/// entered at an `end` past `keep_after`.
fn walk(
    bytes: &[u8],
    mut i: usize,
    mut state: usize,
    keep_after: usize,
    out: &mut Vec<(usize, usize)>,
) {
    while i < bytes.len() {
        (i, state) = run(bytes, i, state);
        if state >= MATCH_MIN && i > keep_after {
            out.push((i, state));
        }
    }
}

/// Every `(end, state)` where a state with output is entered, in order of `end`.
fn match_states(bytes: &[u8]) -> Vec<(usize, usize)> {
    let n = bytes.len();
    let mut out = Vec::new();
    if n < LANES_MIN {
        walk(bytes, 0, START, 0, &mut out);
        return out;
    }
    // Lane j keeps what ends in (lo[j], hi[j]] and starts reading at from[j].
    let chunk = n / LANES;
    let lo: [usize; LANES] = std::array::from_fn(|j| j * chunk);
    let hi: [usize; LANES] = std::array::from_fn(|j| if j + 1 == LANES { n } else { lo[j + 1] });
    let from: [usize; LANES] = std::array::from_fn(|j| lo[j].saturating_sub(WARM));
    // The first lane is the shortest (no warm-up): walk that many bytes in every lane
    // together, then finish each lane alone.
    let steps = hi[0] - from[0];
    let mut lanes: [Vec<(usize, usize)>; LANES] = Default::default();
    let mut s = [START; LANES];
    let (l0, l1, l2, l3) = (
        &bytes[from[0]..from[0] + steps],
        &bytes[from[1]..from[1] + steps],
        &bytes[from[2]..from[2] + steps],
        &bytes[from[3]..from[3] + steps],
    );
    for (t, (((&b0, &b1), &b2), &b3)) in l0.iter().zip(l1).zip(l2).zip(l3).enumerate() {
        s[0] = next(s[0], b0);
        s[1] = next(s[1], b1);
        s[2] = next(s[2], b2);
        s[3] = next(s[3], b3);
        if s[0] >= MATCH_MIN || s[1] >= MATCH_MIN || s[2] >= MATCH_MIN || s[3] >= MATCH_MIN {
            for j in 0..LANES {
                let end = from[j] + t + 1;
                if s[j] >= MATCH_MIN && end > lo[j] {
                    lanes[j].push((end, s[j]));
                }
            }
        }
    }
    for j in 0..LANES {
        walk(&bytes[..hi[j]], from[j] + steps, s[j], lo[j], &mut lanes[j]);
    }
    out.reserve(lanes.iter().map(Vec::len).sum());
    for l in &lanes {
        out.extend_from_slice(l);
    }
    out
}

/// Calls `f(end, phrase)` for every phrase of [`crate::cues::PHRASES`] that occurs in
/// `bytes` (ASCII case-insensitively) ending at byte offset `end`, in order of `end`, and
/// whose start obeys the word rule: a phrase that begins with an ASCII alphanumeric or `_`
/// only starts at offset 0 or after a byte that is neither.
pub(crate) fn for_each_match(bytes: &[u8], mut f: impl FnMut(usize, usize)) {
    for (end, state) in match_states(bytes) {
        let k = (state - MATCH_MIN) / ROW_BYTES;
        let (lo, hi) = (MATCH_OFFSETS[k] as usize, MATCH_OFFSETS[k + 1] as usize);
        for &p in &MATCH_PHRASES[lo..hi] {
            f(end, usize::from(p));
        }
    }
}

#[cfg(test)]
mod tests {
    use proptest::prelude::*;

    use super::*;
    use crate::cues::PHRASES;

    fn one_lane(bytes: &[u8]) -> Vec<(usize, usize)> {
        let mut out = Vec::new();
        walk(bytes, 0, START, 0, &mut out);
        out
    }

    #[test]
    fn tables_are_consistent() {
        assert!(TRANS.len().is_multiple_of(ROW_BYTES));
        assert!(START.is_multiple_of(ROW_BYTES));
        assert!(START < TRANS.len() && MATCH_MIN <= TRANS.len());
        assert!(CLASS_OFFSET
            .iter()
            .all(|&c| usize::from(c).is_multiple_of(4) && usize::from(c) < ROW_BYTES));
        for t in TRANS.chunks_exact(4) {
            let s = u32::from_le_bytes([t[0], t[1], t[2], t[3]]) as usize;
            assert!(
                s.is_multiple_of(ROW_BYTES) && s < TRANS.len(),
                "bad transition {s}"
            );
        }
        let matches = (TRANS.len() - MATCH_MIN) / ROW_BYTES;
        assert_eq!(MATCH_OFFSETS.len(), matches + 1);
        assert!(MATCH_OFFSETS.windows(2).all(|w| w[0] < w[1]));
        assert_eq!(MATCH_OFFSETS[matches] as usize, MATCH_PHRASES.len());
        assert!(MATCH_PHRASES
            .iter()
            .all(|&p| usize::from(p) < PHRASES.len()));
        assert_eq!(
            MAX_PHRASE_LEN,
            PHRASES.iter().map(|p| p.text.len()).max().unwrap()
        );
    }

    /// Every phrase placed across each lane boundary, at every offset around it, in text
    /// that keeps the automaton busy (word starts everywhere).
    #[test]
    fn lanes_agree_with_one_walk_at_the_seams() {
        let filler: Vec<u8> = b"a model; the agent said: send it. "
            .iter()
            .copied()
            .cycle()
            .take(LANES_MIN)
            .collect();
        let chunk = filler.len() / LANES;
        for p in PHRASES {
            let t = p.text.as_bytes();
            for seam in [chunk, 2 * chunk, 3 * chunk] {
                let n = t.len();
                for back in [0, 1, 2, n - 1, n, n + 1, WARM - 1, WARM, WARM + 1, n + WARM] {
                    let at = seam - back;
                    for glue in [&b" "[..], b"x"] {
                        let mut text = filler.clone();
                        let piece = [glue, t].concat();
                        text[at..at + piece.len()].copy_from_slice(&piece);
                        assert_eq!(match_states(&text), one_lane(&text), "{:?} at {at}", p.text);
                    }
                }
            }
        }
    }

    proptest! {
        #![proptest_config(ProptestConfig::with_cases(300))]

        #[test]
        fn lanes_agree_with_one_walk(
            pieces in prop::collection::vec(
                prop_oneof![
                    (0..PHRASES.len()).prop_map(|i| PHRASES[i].text.to_string()),
                    "[a-zA-Z0-9 _.,:<>|/~@!#`'\n-]{0,12}",
                ],
                100..400,
            )
        ) {
            let text = pieces.concat();
            prop_assert_eq!(match_states(text.as_bytes()), one_lane(text.as_bytes()));
        }
    }
}
