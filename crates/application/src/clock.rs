//! The service's "now": when a command happens (`Context::now`), the
//! instant SLA clocks, alerts and the weekly report's "open now" figures
//! are read at.
//!
//! In production it is the system clock. Tests start it at an instant they
//! state ([`Clock::starting_at`]) and it runs forward at the real rate from
//! there, so data built from fixed dates meets a server that agrees with
//! them, whatever day the suite runs on. Token expiry and the log's
//! `recorded_at` are about the real world and always read the system
//! clock.

use std::time::Instant;

use chrono::{DateTime, NaiveDate, TimeDelta, Utc};
use chrono_tz::Asia::Shanghai;

/// Where "now" comes from.
#[derive(Debug, Clone, Copy, Default)]
pub struct Clock {
    start: Option<(DateTime<Utc>, Instant)>,
}

impl Clock {
    /// The system clock.
    pub fn system() -> Self {
        Self { start: None }
    }

    /// A clock that reads `at` now and runs forward at the real rate.
    pub fn starting_at(at: DateTime<Utc>) -> Self {
        Self {
            start: Some((at, Instant::now())),
        }
    }

    /// Now, to the microsecond (what the log stores).
    pub fn now(&self) -> DateTime<Utc> {
        let now = match self.start {
            None => Utc::now(),
            Some((at, since)) => {
                let elapsed = TimeDelta::from_std(since.elapsed()).unwrap_or(TimeDelta::MAX);
                at.checked_add_signed(elapsed).unwrap_or(at)
            }
        };
        DateTime::from_timestamp_micros(now.timestamp_micros()).unwrap_or(now)
    }

    /// Today in Asia/Shanghai.
    pub fn today(&self) -> NaiveDate {
        self.now().with_timezone(&Shanghai).date_naive()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_started_clock_reads_its_start_and_moves_forward() {
        let at = DateTime::parse_from_rfc3339("2024-02-29T23:30:00+08:00")
            .map(|d| d.with_timezone(&Utc))
            .unwrap_or_else(|e| panic!("{e}"));
        let clock = Clock::starting_at(at);
        let first = clock.now();
        assert!(first >= at && first - at < TimeDelta::seconds(60), "{first}");
        assert_eq!(clock.today(), NaiveDate::from_ymd_opt(2024, 2, 29).unwrap_or_default());
        let second = clock.now();
        assert!(second >= first);
    }

    #[test]
    fn the_system_clock_is_the_machines() {
        // About "now" itself: holds on any day.
        let before = Utc::now() - TimeDelta::seconds(1);
        let now = Clock::system().now();
        assert!(now >= before && now <= Utc::now() + TimeDelta::seconds(1), "{now}");
    }
}
