//! Dates and instants, saturating instead of overflowing.

use chrono::{DateTime, NaiveDate, NaiveTime, TimeDelta, TimeZone, Utc};
use domain::calendar::BusinessCalendar;

pub(crate) fn add_days(date: NaiveDate, days: i64) -> NaiveDate {
    date.checked_add_signed(TimeDelta::days(days)).unwrap_or(date)
}

pub(crate) fn plus(at: DateTime<Utc>, delta: TimeDelta) -> DateTime<Utc> {
    at.checked_add_signed(delta).unwrap_or(at)
}

pub(crate) fn minutes(m: i64) -> TimeDelta {
    TimeDelta::minutes(m)
}

/// The instant of local `seconds` after midnight of `date` in the
/// calendar's time zone.
pub(crate) fn local_time(calendar: &BusinessCalendar, date: NaiveDate, seconds: u32) -> DateTime<Utc> {
    let naive = date.and_time(NaiveTime::MIN) + TimeDelta::seconds(i64::from(seconds));
    calendar
        .time_zone()
        .from_local_datetime(&naive)
        .earliest()
        .map(|t| t.with_timezone(&Utc))
        .unwrap_or_else(|| Utc.from_utc_datetime(&naive))
}
