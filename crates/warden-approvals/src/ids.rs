//! Random identifiers and secrets.

use crate::ApprovalError;

/// Lower-case RFC 4648 base32 alphabet without padding: easy to read aloud
/// and to type after `warden approve`.
fn base32(bytes: &[u8]) -> String {
    let mut spec = data_encoding::Specification::new();
    spec.symbols.push_str("abcdefghijklmnopqrstuvwxyz234567");
    // The specification above is fixed and valid; a failure here would be a
    // programming error caught by the unit test below, so fall back to the
    // upper-case standard alphabet rather than panicking.
    match spec.encoding() {
        Ok(enc) => enc.encode(bytes),
        Err(_) => data_encoding::BASE32_NOPAD
            .encode(bytes)
            .to_ascii_lowercase(),
    }
}

pub(crate) fn random_bytes<const N: usize>() -> Result<[u8; N], ApprovalError> {
    let mut buf = [0u8; N];
    getrandom::fill(&mut buf).map_err(|e| ApprovalError::store("drawing random bytes", e))?;
    Ok(buf)
}

/// 12 base32 characters = 60 random bits: short enough to type, and with
/// the login token in front of every page, long enough not to be guessed.
pub(crate) fn request_id() -> Result<String, ApprovalError> {
    let bytes = random_bytes::<8>()?;
    let mut s = base32(&bytes);
    s.truncate(12);
    Ok(s)
}

/// 256-bit secrets (login token, session cookie, CSRF value).
pub(crate) fn secret() -> Result<String, ApprovalError> {
    Ok(base32(&random_bytes::<32>()?))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn ids_are_12_lowercase_base32_chars_and_differ() {
        let a = request_id().unwrap();
        let b = request_id().unwrap();
        assert_eq!(a.len(), 12);
        assert!(a
            .chars()
            .all(|c| c.is_ascii_lowercase() || ('2'..='7').contains(&c)));
        assert_ne!(a, b);
        assert_eq!(secret().unwrap().len(), 52);
    }
}
