//! The tests' time: instants written as text, and instants written as the
//! server writes and speaks them. "Now" is the test servers' clock
//! ([`domain::testing::test_now`]), never the machine's.

use chrono::{DateTime, FixedOffset, Utc};

/// An instant written as RFC 3339 (`2026-10-20T10:00:00+08:00`).
pub fn instant(text: &str) -> DateTime<Utc> {
    DateTime::parse_from_rfc3339(text)
        .unwrap_or_else(|e| panic!("{text}: {e}"))
        .with_timezone(&Utc)
}

/// The instant the test servers' clocks start at unless a test says
/// otherwise.
pub fn test_now() -> DateTime<Utc> {
    domain::testing::test_now()
}

/// `YYYY-MM-DDTHH:MM:SS+00:00`, as the server writes instants.
pub fn rfc3339(at: DateTime<Utc>) -> String {
    at.to_rfc3339()
}

/// How the event summaries print an instant: as staff read it, in the
/// mainland's zone (UTC+8), to the minute.
pub fn spoken(at: DateTime<Utc>) -> String {
    let mainland = FixedOffset::east_opt(8 * 3600).unwrap_or_else(|| panic!("UTC+8 is a valid offset"));
    at.with_timezone(&mainland).format("%Y-%m-%d %H:%M (UTC+8)").to_string()
}
