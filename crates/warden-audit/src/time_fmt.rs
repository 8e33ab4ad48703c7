//! Time helpers: the log stores microseconds since the Unix epoch (UTC).

use std::time::{SystemTime, UNIX_EPOCH};

use time::format_description::well_known::Rfc3339;
use time::OffsetDateTime;

/// Now, in microseconds since the epoch. A clock before 1970 reads as 0.
pub(crate) fn now_us() -> i64 {
    match SystemTime::now().duration_since(UNIX_EPOCH) {
        Ok(d) => i64::try_from(d.as_micros()).unwrap_or(i64::MAX),
        Err(_) => 0,
    }
}

/// RFC 3339 in UTC with microseconds, e.g. `2026-11-25T09:01:25.123456Z`.
pub(crate) fn rfc3339_us(ts_us: i64) -> String {
    let nanos = i128::from(ts_us) * 1000;
    match OffsetDateTime::from_unix_timestamp_nanos(nanos) {
        Ok(t) => {
            let fmt = time::macros::format_description!(
                "[year]-[month]-[day]T[hour]:[minute]:[second].[subsecond digits:6]Z"
            );
            t.format(&fmt).unwrap_or_else(|_| ts_us.to_string())
        }
        Err(_) => ts_us.to_string(),
    }
}

/// Parses an RFC 3339 time into microseconds since the epoch.
pub(crate) fn parse_rfc3339_us(s: &str) -> Option<i64> {
    let t = OffsetDateTime::parse(s, &Rfc3339).ok()?;
    i64::try_from(t.unix_timestamp_nanos() / 1000).ok()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn round_trip() {
        let s = rfc3339_us(1_764_061_285_123_456);
        assert_eq!(s, "2025-11-25T09:01:25.123456Z");
        assert_eq!(parse_rfc3339_us(&s), Some(1_764_061_285_123_456));
    }
}
