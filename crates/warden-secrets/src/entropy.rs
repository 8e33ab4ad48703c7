//! Shannon entropy of a candidate secret, in bits per byte.

/// Shannon entropy of `bytes`, in bits per symbol (byte). 0.0 for an empty slice.
pub fn shannon(bytes: &[u8]) -> f32 {
    if bytes.is_empty() {
        return 0.0;
    }
    let mut counts = [0u32; 256];
    for &b in bytes {
        counts[b as usize] += 1;
    }
    let len = bytes.len() as f32;
    counts
        .iter()
        .filter(|&&c| c > 0)
        .map(|&c| {
            let p = c as f32 / len;
            -p * p.log2()
        })
        .sum()
}

#[cfg(test)]
mod tests {
    use super::shannon;
    use proptest::prelude::*;

    #[test]
    fn known_values() {
        assert_eq!(shannon(b""), 0.0);
        assert_eq!(shannon(b"aaaa"), 0.0);
        assert!((shannon(b"ab") - 1.0).abs() < 1e-6);
        assert!((shannon(b"0123456789abcdef") - 4.0).abs() < 1e-5);
    }

    proptest! {
        #[test]
        fn bounded_by_log2_of_length(v in proptest::collection::vec(any::<u8>(), 1..300)) {
            let h = shannon(&v);
            prop_assert!(h >= 0.0);
            prop_assert!(h <= (v.len() as f32).log2().min(8.0) + 1e-4);
        }
    }
}
