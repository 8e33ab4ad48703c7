//! Run identifiers: short, sortable by start time, safe in a ref name and a file name.

use std::fmt;

use serde::{Deserialize, Serialize};

use crate::SessionError;

/// Crockford's base32 alphabet in lower case: no i, l, o or u to misread. 256 is a multiple of
/// 32, so reducing a random byte modulo 32 is unbiased.
const ALPHABET: &[u8; 32] = b"0123456789abcdefghjkmnpqrstvwxyz";
const RANDOM_CHARS: usize = 4;

/// The identity of one run: `YYYYMMDD-HHMMSS-xxxx` (UTC start time, then 20 random bits).
///
/// Sorting ids as strings sorts runs by start time. The id names the branch
/// (`warden/<id>`), the kept ref (`refs/warden/discarded/<id>`), the worktree directory and the
/// run record file, so [`RunId::parse`] accepts only characters that are safe in all four: a
/// value typed by a person (`warden discard RUN`) can never reach outside those namespaces.
#[derive(Debug, Clone, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize, Deserialize)]
#[serde(try_from = "String", into = "String")]
pub struct RunId(String);

impl RunId {
    /// A new id for a run starting now.
    pub fn generate() -> Result<RunId, SessionError> {
        let now = time::OffsetDateTime::now_utc();
        let mut random = [0u8; RANDOM_CHARS];
        getrandom::fill(&mut random).map_err(|e| {
            SessionError::io(
                "reading random bytes for a run id",
                std::io::Error::other(e.to_string()),
            )
        })?;
        let suffix: String = random
            .iter()
            .map(|b| char::from(ALPHABET[usize::from(*b) % ALPHABET.len()]))
            .collect();
        let id = format!(
            "{:04}{:02}{:02}-{:02}{:02}{:02}-{suffix}",
            now.year(),
            u8::from(now.month()),
            now.day(),
            now.hour(),
            now.minute(),
            now.second(),
        );
        RunId::parse(&id)
    }

    /// Accepts an id of 1 to 64 characters from `[A-Za-z0-9._-]`, not starting with `.` or `-`,
    /// without `..` and not ending in `.lock` (rules that keep it a valid single ref component
    /// and a plain file name).
    pub fn parse(s: &str) -> Result<RunId, SessionError> {
        let bad = |reason| {
            Err(SessionError::InvalidRunId {
                id: s.to_string(),
                reason,
            })
        };
        if s.is_empty() || s.len() > 64 {
            return bad("must be 1 to 64 characters");
        }
        if !s
            .bytes()
            .all(|b| b.is_ascii_alphanumeric() || b == b'-' || b == b'_' || b == b'.')
        {
            return bad("only letters, digits, '-', '_' and '.' are allowed");
        }
        if s.starts_with(['.', '-']) {
            return bad("must not start with '.' or '-'");
        }
        if s.contains("..") || s.ends_with(".lock") || s.ends_with('.') {
            return bad("must not contain '..' or end in '.' or '.lock'");
        }
        Ok(RunId(s.to_string()))
    }

    pub fn as_str(&self) -> &str {
        &self.0
    }

    /// The run's branch name, `warden/<id>`.
    pub fn branch(&self) -> String {
        format!("warden/{}", self.0)
    }

    /// The ref that keeps a discarded run's work, `refs/warden/discarded/<id>`.
    pub fn discarded_ref(&self) -> String {
        format!("refs/warden/discarded/{}", self.0)
    }
}

impl fmt::Display for RunId {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.0)
    }
}

impl TryFrom<String> for RunId {
    type Error = SessionError;
    fn try_from(value: String) -> Result<Self, Self::Error> {
        RunId::parse(&value)
    }
}

impl From<RunId> for String {
    fn from(value: RunId) -> Self {
        value.0
    }
}

impl std::str::FromStr for RunId {
    type Err = SessionError;
    fn from_str(s: &str) -> Result<Self, Self::Err> {
        RunId::parse(s)
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use proptest::prelude::*;

    #[test]
    fn generated_ids_have_the_documented_shape() {
        let id = RunId::generate().unwrap();
        let s = id.as_str();
        assert_eq!(s.len(), 8 + 1 + 6 + 1 + RANDOM_CHARS, "{s}");
        assert_eq!(&s[8..9], "-");
        assert_eq!(&s[15..16], "-");
        assert!(s[..8].bytes().all(|b| b.is_ascii_digit()));
        assert_eq!(id.branch(), format!("warden/{s}"));
    }

    #[test]
    fn ids_from_later_seconds_sort_later() {
        let a = RunId::parse("20261125-090156-zzzz").unwrap();
        let b = RunId::parse("20261125-090157-2222").unwrap();
        assert!(a < b);
    }

    #[test]
    fn hostile_ids_are_refused() {
        for s in [
            "", "../x", "a/b", "-x", ".x", "a..b", "x.lock", "a b", "a\nb", "x~1", "a:b", "a^",
        ] {
            assert!(RunId::parse(s).is_err(), "{s:?} accepted");
        }
        assert!(RunId::parse(&"a".repeat(65)).is_err());
    }

    #[test]
    fn serde_validates() {
        assert!(serde_json::from_str::<RunId>("\"../../etc\"").is_err());
        let id: RunId = serde_json::from_str("\"20261125-090156-k3f9\"").unwrap();
        assert_eq!(
            serde_json::to_string(&id).unwrap(),
            "\"20261125-090156-k3f9\""
        );
    }

    proptest! {
        #[test]
        fn accepted_ids_are_single_safe_components(s in "\\PC{0,70}") {
            if let Ok(id) = RunId::parse(&s) {
                let v = id.as_str();
                prop_assert!(!v.contains('/'));
                prop_assert!(!v.contains(".."));
                prop_assert!(v != "." );
                prop_assert!(!v.starts_with('-'));
            }
        }

        #[test]
        fn generated_shape_always_parses(secs in 0i64..4_000_000_000, r in "[0-9a-z]{4}") {
            let t = time::OffsetDateTime::from_unix_timestamp(secs).unwrap();
            let s = format!("{:04}{:02}{:02}-{:02}{:02}{:02}-{r}", t.year(), u8::from(t.month()),
                t.day(), t.hour(), t.minute(), t.second());
            prop_assert!(RunId::parse(&s).is_ok());
        }
    }
}
