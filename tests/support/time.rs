//! The tests' time: instants written as text. "Now" is the test servers'
//! clock ([`domain::testing::test_now`]), never the machine's.

use chrono::{DateTime, Utc};

/// An instant written as RFC 3339 (`2026-10-20T10:00:00+08:00`).
pub fn instant(text: &str) -> DateTime<Utc> {
    DateTime::parse_from_rfc3339(text)
        .unwrap_or_else(|e| panic!("{text}: {e}"))
        .with_timezone(&Utc)
}
