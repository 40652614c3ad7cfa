//! The business calendar: which instants are working time.
//!
//! A [`BusinessCalendar`] has a time zone (Asia/Shanghai by default), daily
//! working hours (09:00–12:00 and 13:30–18:00 by default), working weekdays,
//! statutory holidays and adjusted working days (调休). Business-time clocks
//! run only inside working hours of working days, in the calendar's time
//! zone; instants themselves are always UTC.
//!
//! Two functions carry all the arithmetic and are exact at every edge (a
//! start inside the lunch break, on a holiday, on an adjusted working
//! Saturday, across a year end, or exactly on a boundary):
//! [`BusinessCalendar::add_business_time`] and
//! [`BusinessCalendar::business_time_between`]. For every instant `t` and
//! duration `d > 0`, `business_time_between(t, add_business_time(t, d)) == d`.
//!
//! Calendars are versioned data ([`CalendarRef`]): a published version is
//! never edited, so that a ticket's clocks replay to the same deadlines years
//! later. Mainland China's arrangements for 2024–2026 ship in
//! `crates/domain/calendars/cn-mainland.toml`; users load their own with
//! [`BusinessCalendar::from_toml`]. Outside the years a calendar lists
//! (`years`), only weekdays and working hours apply, because holidays have
//! not been announced yet.
//!
//! The calendar's data and the checks before publishing are in `spec`, the
//! arithmetic in `business_time`, the versions a deployment knows in
//! `registry`; this module builds a calendar and answers what a day is.
//!
//! ```
//! use chrono::{TimeDelta, TimeZone, Utc};
//! use domain::calendar::BusinessCalendar;
//! let cal = BusinessCalendar::cn_mainland();
//! // 17:00 Beijing time on Tuesday 30 September 2025, the last working day
//! // before the National Day holiday; 2 business hours later is 10:00 on
//! // Thursday 9 October, the first working day after it.
//! let start = Utc.with_ymd_and_hms(2025, 9, 30, 9, 0, 0).unwrap();
//! let due = cal.add_business_time(start, TimeDelta::hours(2));
//! assert_eq!(due, Utc.with_ymd_and_hms(2025, 10, 9, 2, 0, 0).unwrap());
//! assert_eq!(cal.business_time_between(start, due), TimeDelta::hours(2));
//! ```

use std::collections::{BTreeMap, BTreeSet};
use std::fmt;
use std::sync::Arc;

use chrono::{DateTime, Datelike, NaiveDate, TimeDelta, Utc, Weekday};
use chrono_tz::Tz;
use serde::{Deserialize, Serialize};

use crate::error::DomainError;

mod business_time;
mod registry;
mod spec;

pub use registry::{compare_versions, CalendarRegistry};
pub use spec::{check_publication, CalendarSpec, CorrectionSpec, HolidaySpec, MAX_ADJUSTED_DAY_DISTANCE};

/// Which calendar, in which version, a clock was computed with. Recorded in
/// ticket events when a clock starts or is re-targeted.
#[derive(Debug, Clone, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize, Deserialize)]
pub struct CalendarRef {
    /// The calendar's name, e.g. `cn-mainland`.
    pub id: String,
    /// Its version, e.g. `2026.1`.
    pub version: String,
}

impl fmt::Display for CalendarRef {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{} {}", self.id, self.version)
    }
}

/// How a date counts.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum DayKind {
    /// A working weekday.
    Workday,
    /// A weekend (non-working weekday) with nothing special.
    RestDay,
    /// A statutory holiday.
    Holiday(String),
    /// A weekend day that is a working day because of a holiday (调休).
    AdjustedWorkday(String),
}

impl DayKind {
    /// Whether working hours apply on this day.
    pub fn is_working(&self) -> bool {
        matches!(self, DayKind::Workday | DayKind::AdjustedWorkday(_))
    }
}

/// Minutes after local midnight; 1440 is the end of the day.
type Minute = u16;

/// A validated business calendar. Cheap to share behind an [`Arc`].
#[derive(Debug, Clone)]
pub struct BusinessCalendar {
    spec: CalendarSpec,
    tz: Tz,
    hours: Vec<(Minute, Minute)>,
    weekdays: [bool; 7],
    holidays: BTreeMap<NaiveDate, String>,
    adjusted: BTreeMap<NaiveDate, String>,
    years: BTreeSet<i32>,
    table: DayTable,
}

/// Working intervals of every day in a range of years, as UTC instants,
/// with running totals, so that business time between two instants costs
/// two lookups instead of a walk over every day between them.
#[derive(Debug, Clone, Default)]
struct DayTable {
    first: Option<NaiveDate>,
    /// Working intervals per day.
    days: Vec<Vec<(DateTime<Utc>, DateTime<Utc>)>>,
    /// `prefix[i]`: working time of the days before day `i`.
    prefix: Vec<TimeDelta>,
}

impl DayTable {
    fn index(&self, date: NaiveDate) -> Option<usize> {
        let first = self.first?;
        let i = usize::try_from((date - first).num_days()).ok()?;
        (i < self.days.len()).then_some(i)
    }
}

/// The bundled mainland China calendar file.
pub const CN_MAINLAND_TOML: &str = include_str!("../../calendars/cn-mainland.toml");

fn parse_minute(text: &str) -> Option<Minute> {
    let (h, m) = text.trim().split_once(':')?;
    if h.len() != 2 || m.len() != 2 {
        return None;
    }
    let (h, m): (u16, u16) = (h.parse().ok()?, m.parse().ok()?);
    match (h, m) {
        (24, 0) => Some(1440),
        (0..=23, 0..=59) => Some(h * 60 + m),
        _ => None,
    }
}

fn parse_weekday(text: &str) -> Option<Weekday> {
    text.trim().parse().ok()
}

impl BusinessCalendar {
    /// Mainland China (Asia/Shanghai, 09:00–12:00 and 13:30–18:00,
    /// Monday–Friday, official holidays and 调休 for 2024–2026).
    pub fn cn_mainland() -> Arc<Self> {
        // The bundled file is checked by a test; failing here would mean the
        // binary was built from a broken tree.
        #[allow(clippy::expect_used)]
        Arc::new(Self::from_toml(CN_MAINLAND_TOML).expect("bundled calendars/cn-mainland.toml is valid"))
    }

    /// Parses and validates a calendar file (see `calendars/cn-mainland.toml`
    /// for the format).
    pub fn from_toml(text: &str) -> Result<Self, DomainError> {
        let spec: CalendarSpec = toml::from_str(text).map_err(|e| DomainError::InvalidReferenceData {
            what: "business calendar file".into(),
            reason: e.to_string(),
        })?;
        Self::from_spec(spec)
    }

    /// Validates a calendar given as data.
    pub fn from_spec(spec: CalendarSpec) -> Result<Self, DomainError> {
        let what = format!("business calendar {} {}", spec.id, spec.version);
        let bad = |reason: String| DomainError::InvalidReferenceData {
            what: what.clone(),
            reason,
        };
        if spec.id.trim().is_empty() || spec.version.trim().is_empty() {
            return Err(bad("id and version must not be empty".into()));
        }
        let tz: Tz = spec
            .time_zone
            .parse()
            .map_err(|_| bad(format!("unknown time zone {:?}", spec.time_zone)))?;
        let mut hours = Vec::new();
        for range in &spec.working_hours {
            let parsed = range
                .split_once('-')
                .and_then(|(a, b)| Some((parse_minute(a)?, parse_minute(b)?)));
            let Some((start, end)) = parsed else {
                return Err(bad(format!("working hours {range:?} are not HH:MM-HH:MM")));
            };
            if start >= end {
                return Err(bad(format!("working hours {range:?} end before they start")));
            }
            if let Some(&(_, prev_end)) = hours.last() {
                if start < prev_end {
                    return Err(bad(format!("working hours {range:?} overlap or are out of order")));
                }
            }
            hours.push((start, end));
        }
        if hours.is_empty() {
            return Err(bad("no working hours".into()));
        }
        let mut weekdays = [false; 7];
        for day in &spec.working_weekdays {
            let wd = parse_weekday(day).ok_or_else(|| bad(format!("{day:?} is not a weekday")))?;
            weekdays[wd.num_days_from_monday() as usize] = true;
        }
        if !weekdays.iter().any(|w| *w) {
            return Err(bad("no working weekdays".into()));
        }
        let mut holidays = BTreeMap::new();
        let mut adjusted = BTreeMap::new();
        for h in &spec.holidays {
            if h.to < h.from {
                return Err(bad(format!("holiday {:?} ends before it starts", h.name)));
            }
            if (h.to - h.from).num_days() > 366 {
                return Err(bad(format!("holiday {:?} is longer than a year", h.name)));
            }
            for day in h.from.iter_days().take_while(|d| *d <= h.to) {
                if holidays.insert(day, h.name.clone()).is_some() {
                    return Err(bad(format!("{day} is listed in two holidays")));
                }
            }
            for day in &h.working_days {
                if adjusted.insert(*day, h.name.clone()).is_some() {
                    return Err(bad(format!("{day} is listed twice as an adjusted working day")));
                }
            }
        }
        if let Some(day) = adjusted.keys().find(|d| holidays.contains_key(d)) {
            return Err(bad(format!("{day} is both a holiday and an adjusted working day")));
        }
        let years: BTreeSet<i32> = spec.years.iter().copied().collect();
        let mut calendar = Self {
            spec,
            tz,
            hours,
            weekdays,
            holidays,
            adjusted,
            years,
            table: DayTable::default(),
        };
        calendar.table = calendar.build_table();
        Ok(calendar)
    }

    /// The calendar as data, for storing a published version.
    pub fn spec(&self) -> &CalendarSpec {
        &self.spec
    }

    /// Which calendar and version this is.
    pub fn reference(&self) -> CalendarRef {
        CalendarRef {
            id: self.spec.id.clone(),
            version: self.spec.version.clone(),
        }
    }

    /// The calendar's time zone.
    pub fn time_zone(&self) -> Tz {
        self.tz
    }

    /// Whether the calendar contains the official arrangement of `year`.
    pub fn covers_year(&self, year: i32) -> bool {
        self.years.contains(&year)
    }

    /// The local date of an instant in the calendar's time zone.
    pub fn local_date(&self, at: DateTime<Utc>) -> NaiveDate {
        at.with_timezone(&self.tz).date_naive()
    }

    /// The working time of one ordinary working day (7 h 30 min with the
    /// defaults): what "1 business day" means in a service target.
    pub fn working_day_length(&self) -> TimeDelta {
        TimeDelta::minutes(self.hours.iter().map(|(s, e)| i64::from(e - s)).sum())
    }

    /// How `date` counts: workday, rest day, holiday or adjusted workday.
    pub fn day_kind(&self, date: NaiveDate) -> DayKind {
        if let Some(name) = self.adjusted.get(&date) {
            DayKind::AdjustedWorkday(name.clone())
        } else if let Some(name) = self.holidays.get(&date) {
            DayKind::Holiday(name.clone())
        } else if self.weekdays[date.weekday().num_days_from_monday() as usize] {
            DayKind::Workday
        } else {
            DayKind::RestDay
        }
    }

    /// Whether working hours apply on `date`.
    pub fn is_working_day(&self, date: NaiveDate) -> bool {
        self.day_kind(date).is_working()
    }

    /// The working days from `from` to `to`, both included.
    pub fn workdays(&self, from: NaiveDate, to: NaiveDate) -> Vec<NaiveDate> {
        from.iter_days()
            .take_while(|d| *d <= to)
            .filter(|d| self.is_working_day(*d))
            .collect()
    }
}
