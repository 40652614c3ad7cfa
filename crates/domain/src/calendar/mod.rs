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

use chrono::{DateTime, Datelike, NaiveDate, TimeDelta, TimeZone, Utc, Weekday};
use chrono_tz::Tz;
use serde::{Deserialize, Serialize};

use crate::error::DomainError;

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

/// One holiday period as the State Council notice lists it.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct HolidaySpec {
    /// Its name, e.g. `国庆节 National Day`.
    pub name: String,
    /// First day off (`YYYY-MM-DD`).
    pub from: NaiveDate,
    /// Last day off, inclusive.
    pub to: NaiveDate,
    /// Weekend days turned into working days (调休) for this holiday.
    #[serde(default)]
    pub working_days: Vec<NaiveDate>,
}

/// The calendar as data: what the TOML file holds, and what is stored when
/// a calendar version is published.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct CalendarSpec {
    /// Name of the calendar.
    pub id: String,
    /// Version; a published version is never edited.
    pub version: String,
    /// Human-readable title.
    #[serde(default)]
    pub name: String,
    /// IANA time zone, e.g. `Asia/Shanghai`.
    pub time_zone: String,
    /// Daily working hours, `HH:MM-HH:MM` each, in order, not overlapping;
    /// `24:00` may end the last one.
    pub working_hours: Vec<String>,
    /// Working weekdays, `Mon` … `Sun`.
    pub working_weekdays: Vec<String>,
    /// Years whose official arrangement the calendar contains.
    #[serde(default)]
    pub years: Vec<i32>,
    /// Holidays and their adjusted working days.
    #[serde(default)]
    pub holidays: Vec<HolidaySpec>,
    /// Days of years an earlier version already covered that this version
    /// changes, each with why (a notice amended after publication, a typing
    /// error). Without an entry here, a new version must keep every day of
    /// the years the previous version had.
    #[serde(default)]
    pub corrections: Vec<CorrectionSpec>,
}

/// A day a new calendar version changes in a year already published.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct CorrectionSpec {
    /// The day (`YYYY-MM-DD`).
    pub date: NaiveDate,
    /// Why it changes.
    pub reason: String,
}

/// How far (in days) an adjusted working day may lie from its holiday: the
/// notices put them on the weekends around it (at most 11 days away in
/// 2024–2026: 20 September 2026 for National Day).
pub const MAX_ADJUSTED_DAY_DISTANCE: i64 = 14;

fn kind_name(kind: &DayKind) -> &'static str {
    match kind {
        DayKind::Workday => "a working day",
        DayKind::RestDay => "a rest day",
        DayKind::Holiday(_) => "a holiday",
        DayKind::AdjustedWorkday(_) => "an adjusted working day",
    }
}

/// Checks a calendar file before it is published, as a new version of
/// `previous` (the latest published version of the same calendar, if any),
/// and lists every problem found: the file parses; holidays do not
/// overlap and lie in the years the file lists; each adjusted working day
/// (调休) falls on a rest weekday within [`MAX_ADJUSTED_DAY_DISTANCE`]
/// days of its holiday; and a new version keeps the time zone, the working
/// hours and weekdays, and every year and day of the previous version,
/// except the days listed under `corrections`, each with a reason.
pub fn check_publication(text: &str, previous: Option<&BusinessCalendar>) -> Result<BusinessCalendar, Vec<String>> {
    let spec: CalendarSpec = toml::from_str(text).map_err(|e| vec![format!("the file does not parse: {e}")])?;
    let mut problems = Vec::new();
    let years: BTreeSet<i32> = spec.years.iter().copied().collect();
    let weekdays: Vec<Weekday> = spec.working_weekdays.iter().filter_map(|d| parse_weekday(d)).collect();
    let mut days_off: BTreeMap<NaiveDate, &str> = BTreeMap::new();
    for h in &spec.holidays {
        if h.to < h.from {
            problems.push(format!(
                "holiday {:?} ends ({}) before it starts ({})",
                h.name, h.to, h.from
            ));
            continue;
        }
        if (h.to - h.from).num_days() > 366 {
            problems.push(format!("holiday {:?} is longer than a year", h.name));
            continue;
        }
        for day in h.from.iter_days().take_while(|d| *d <= h.to) {
            if let Some(other) = days_off.insert(day, &h.name) {
                problems.push(format!("{day} is in two holidays: {other:?} and {:?}", h.name));
            }
        }
        // A New Year holiday may begin on the last days of the year
        // before (2022-12-31 to 2023-01-02): a holiday needs one day in a
        // listed year, and may reach only into the year before it.
        let mut touched: BTreeSet<i32> = [h.from.year(), h.to.year()].into_iter().collect();
        touched.extend(h.working_days.iter().map(|d| d.year()));
        let anchored = touched.iter().any(|y| years.contains(y));
        for year in touched.iter().filter(|y| !years.contains(y)) {
            if !anchored || !years.contains(&(year + 1)) {
                problems.push(format!(
                    "holiday {:?} ({} to {}) has days in {year}, which `years` does not list",
                    h.name, h.from, h.to
                ));
            }
        }
    }
    for year in &years {
        if !spec
            .holidays
            .iter()
            .any(|h| h.from.year() == *year || h.to.year() == *year)
        {
            problems.push(format!(
                "{year} is listed in `years` but has no holiday: a year is listed once its arrangement is written in"
            ));
        }
    }
    let mut adjusted = BTreeSet::new();
    for h in spec.holidays.iter().filter(|h| h.from <= h.to) {
        for day in &h.working_days {
            if !adjusted.insert(*day) {
                problems.push(format!("{day} is listed twice as an adjusted working day"));
            }
            if days_off.contains_key(day) {
                problems.push(format!(
                    "adjusted working day {day} of {:?} is itself a holiday",
                    h.name
                ));
                continue;
            }
            if weekdays.contains(&day.weekday()) {
                problems.push(format!(
                    "adjusted working day {day} of {:?} is a {:?}, already a working day: an adjusted working day \
                     (调休) turns a rest day into a working day",
                    h.name,
                    day.weekday()
                ));
            }
            let distance = if *day < h.from {
                (h.from - *day).num_days()
            } else {
                (*day - h.to).num_days()
            };
            if distance > MAX_ADJUSTED_DAY_DISTANCE {
                problems.push(format!(
                    "adjusted working day {day} of {:?} is {distance} days from the holiday ({} to {}); \
                     it must be within {MAX_ADJUSTED_DAY_DISTANCE} days of it",
                    h.name, h.from, h.to
                ));
            }
        }
    }
    let calendar = match BusinessCalendar::from_spec(spec.clone()) {
        Ok(calendar) => Some(calendar),
        Err(DomainError::InvalidReferenceData { reason, .. }) => {
            // The checks above report overlaps in full; the calendar's own
            // check stops at the first.
            let reported = [
                "two holidays",
                "listed twice",
                "both a holiday",
                "longer than a year",
                "ends before it starts",
            ]
            .iter()
            .any(|known| reason.contains(known));
            if !reported {
                problems.push(reason);
            }
            None
        }
        Err(other) => {
            problems.push(other.to_string());
            None
        }
    };
    let corrections: BTreeMap<NaiveDate, &str> = spec.corrections.iter().map(|c| (c.date, c.reason.as_str())).collect();
    for c in &spec.corrections {
        if c.reason.trim().is_empty() {
            problems.push(format!("the correction of {} gives no reason", c.date));
        }
    }
    match previous {
        None => {
            if let Some(c) = spec.corrections.first() {
                problems.push(format!(
                    "the correction of {} has nothing to correct: this is the calendar's first version",
                    c.date
                ));
            }
        }
        Some(previous) => {
            let before = previous.spec();
            let version = &before.version;
            if spec.time_zone != before.time_zone {
                problems.push(format!(
                    "the time zone changes from {} (version {version}) to {}: it applies to every year the calendar \
                     covers; publish it as a new calendar id",
                    before.time_zone, spec.time_zone
                ));
            }
            if spec.working_hours != before.working_hours {
                problems.push(format!(
                    "the working hours change from {:?} (version {version}) to {:?}: they apply to every year the \
                     calendar covers; publish them as a new calendar id",
                    before.working_hours, spec.working_hours
                ));
            }
            if spec.working_weekdays != before.working_weekdays {
                problems.push(format!(
                    "the working weekdays change from {:?} (version {version}) to {:?}: publish them as a new \
                     calendar id",
                    before.working_weekdays, spec.working_weekdays
                ));
            }
            for year in before.years.iter().filter(|y| !years.contains(y)) {
                problems.push(format!(
                    "{year} is missing: version {version} covers it, and a new version keeps every year"
                ));
            }
            for c in &spec.corrections {
                if !previous.covers_year(c.date.year()) {
                    problems.push(format!(
                        "the correction of {} is in {}, which version {version} did not cover: only days of \
                         years already published are corrected",
                        c.date,
                        c.date.year()
                    ));
                }
            }
            if let Some(calendar) = &calendar {
                for year in before.years.iter().filter(|y| years.contains(y)) {
                    let (Some(first), Some(last)) = (
                        NaiveDate::from_ymd_opt(*year, 1, 1),
                        NaiveDate::from_ymd_opt(*year, 12, 31),
                    ) else {
                        continue;
                    };
                    for day in first.iter_days().take_while(|d| *d <= last) {
                        let (was, is) = (previous.day_kind(day), calendar.day_kind(day));
                        // What counts is whether working time changes: a
                        // rest day that becomes a holiday changes none.
                        let changed = was.is_working() != is.is_working();
                        match (changed, corrections.contains_key(&day)) {
                            (true, false) => problems.push(format!(
                                "{day} was {} in version {version} and is {} here: keep it, or list it under \
                                 [[corrections]] with the reason",
                                kind_name(&was),
                                kind_name(&is)
                            )),
                            (false, true) => problems.push(format!(
                                "the correction of {day} changes nothing: it is {} in both versions",
                                kind_name(&is)
                            )),
                            _ => {}
                        }
                    }
                }
            }
        }
    }
    match calendar {
        Some(calendar) if problems.is_empty() => Ok(calendar),
        _ => Err(problems),
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

/// Days searched forward before [`BusinessCalendar::add_business_time`]
/// gives up (about 30 years); validation makes it unreachable in practice.
const MAX_DAYS_SEARCHED: u32 = 11_000;

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

    /// The instant at which local `minute` of `date` happens. A local time
    /// that does not exist (a daylight-saving gap) maps to the first instant
    /// after the gap; an ambiguous one to its first occurrence.
    fn instant(&self, date: NaiveDate, minute: Minute) -> DateTime<Utc> {
        let midnight = date.and_time(chrono::NaiveTime::MIN);
        let mut local = midnight + TimeDelta::minutes(i64::from(minute));
        for _ in 0..240 {
            if let Some(t) = self.tz.from_local_datetime(&local).earliest() {
                return t.with_timezone(&Utc);
            }
            local += TimeDelta::minutes(1);
        }
        // No zone has a gap longer than four hours; fall back to UTC.
        Utc.from_utc_datetime(&local)
    }

    /// The working intervals `[start, end)` of `date`, in order.
    fn intervals(&self, date: NaiveDate) -> impl Iterator<Item = (DateTime<Utc>, DateTime<Utc>)> + '_ {
        let working = self.is_working_day(date);
        self.hours
            .iter()
            .filter(move |_| working)
            .map(move |&(s, e)| (self.instant(date, s), self.instant(date, e)))
    }

    /// The day table: from five years before the first listed year (or
    /// 2000) to ten years after the last (or 2050).
    fn build_table(&self) -> DayTable {
        let from_year = self.years.first().map(|y| y - 5).unwrap_or(2000);
        let to_year = self.years.last().map(|y| y + 10).unwrap_or(2050);
        let (Some(first), Some(last)) = (
            NaiveDate::from_ymd_opt(from_year, 1, 1),
            NaiveDate::from_ymd_opt(to_year, 12, 31),
        ) else {
            return DayTable::default();
        };
        let mut days = Vec::new();
        let mut prefix = vec![TimeDelta::zero()];
        for day in first.iter_days().take_while(|d| *d <= last) {
            let intervals: Vec<_> = self.intervals(day).collect();
            let total = intervals.iter().fold(TimeDelta::zero(), |t, (s, e)| t + (*e - *s));
            prefix.push(prefix.last().copied().unwrap_or_default() + total);
            days.push(intervals);
        }
        DayTable {
            first: Some(first),
            days,
            prefix,
        }
    }

    /// Working time between two instants (zero when `to <= from`).
    pub fn business_time_between(&self, from: DateTime<Utc>, to: DateTime<Utc>) -> TimeDelta {
        if to <= from {
            return TimeDelta::zero();
        }
        let t = &self.table;
        if let (Some(i0), Some(i1)) = (t.index(self.local_date(from)), t.index(self.local_date(to))) {
            let overlap = |i: usize, a: DateTime<Utc>, b: DateTime<Utc>| {
                t.days[i].iter().fold(TimeDelta::zero(), |acc, (s, e)| {
                    let (s, e) = ((*s).max(a), (*e).min(b));
                    if e > s {
                        acc + (e - s)
                    } else {
                        acc
                    }
                })
            };
            if i0 == i1 {
                return overlap(i0, from, to);
            }
            return overlap(i0, from, DateTime::<Utc>::MAX_UTC)
                + (t.prefix[i1] - t.prefix[i0 + 1])
                + overlap(i1, DateTime::<Utc>::MIN_UTC, to);
        }
        self.business_time_between_by_days(from, to)
    }

    /// [`business_time_between`](Self::business_time_between) by walking
    /// every day: the reference the day table is checked against, and the
    /// way outside the table's years.
    #[doc(hidden)]
    pub fn business_time_between_by_days(&self, from: DateTime<Utc>, to: DateTime<Utc>) -> TimeDelta {
        if to <= from {
            return TimeDelta::zero();
        }
        // Start a day early: in zones west of UTC a local day's hours can
        // begin before the UTC date of `from`.
        let first = self.local_date(from).pred_opt().unwrap_or(NaiveDate::MIN);
        let last = self.local_date(to);
        let mut total = TimeDelta::zero();
        for day in first.iter_days().take_while(|d| *d <= last) {
            for (s, e) in self.intervals(day) {
                let (s, e) = (s.max(from), e.min(to));
                if e > s {
                    total += e - s;
                }
            }
        }
        total
    }

    /// The instant at which `amount` of working time has passed since
    /// `start`. Adding zero returns `start` itself; a positive amount that
    /// ends exactly at the end of a working interval returns that end (a
    /// 3-hour target from 09:00 is due at 12:00, not at 13:30).
    pub fn add_business_time(&self, start: DateTime<Utc>, amount: TimeDelta) -> DateTime<Utc> {
        if amount <= TimeDelta::zero() {
            return start;
        }
        let t = &self.table;
        if let Some(i0) = t.index(self.local_date(start)) {
            let mut remaining = amount;
            for (s, e) in &t.days[i0] {
                if *e <= start {
                    continue;
                }
                let s = (*s).max(start);
                if remaining <= *e - s {
                    return s + remaining;
                }
                remaining -= *e - s;
            }
            // The first later day whose running total covers what remains.
            let base = t.prefix[i0 + 1];
            let need = base + remaining;
            let j = t.prefix.partition_point(|p| *p < need);
            // prefix[j] >= need: the goal is reached during day j - 1.
            if j >= 1 && j < t.prefix.len() {
                let day = j - 1;
                let mut left = need - t.prefix[day];
                for (s, e) in &t.days[day] {
                    if left <= *e - *s {
                        return *s + left;
                    }
                    left -= *e - *s;
                }
            }
            // Past the table's end: carry on day by day from there.
            if let Some(last) = t.days.iter().rev().find_map(|d| d.last()).map(|(_, e)| *e) {
                let done = t.prefix[t.prefix.len() - 1] - base;
                return self.add_business_time_by_days(last, remaining - done);
            }
        }
        self.add_business_time_by_days(start, amount)
    }

    /// [`add_business_time`](Self::add_business_time) by walking every
    /// day: the reference the day table is checked against, and the way
    /// outside the table's years.
    #[doc(hidden)]
    pub fn add_business_time_by_days(&self, start: DateTime<Utc>, amount: TimeDelta) -> DateTime<Utc> {
        if amount <= TimeDelta::zero() {
            return start;
        }
        let mut remaining = amount;
        let first = self.local_date(start).pred_opt().unwrap_or(NaiveDate::MIN);
        for day in first.iter_days().take(MAX_DAYS_SEARCHED as usize) {
            for (s, e) in self.intervals(day) {
                if e <= start {
                    continue;
                }
                let s = s.max(start);
                let available = e - s;
                if remaining <= available {
                    return s + remaining;
                }
                remaining -= available;
            }
        }
        DateTime::<Utc>::MAX_UTC
    }
}

/// Compares two version texts part by part, numbers as numbers: `2026.2`
/// before `2026.10`, `2026.1` before `2027.1`. Parts that are not numbers
/// compare as text.
pub fn compare_versions(a: &str, b: &str) -> std::cmp::Ordering {
    let mut left = a.split(['.', '-']);
    let mut right = b.split(['.', '-']);
    loop {
        match (left.next(), right.next()) {
            (None, None) => return a.cmp(b),
            (None, Some(_)) => return std::cmp::Ordering::Less,
            (Some(_), None) => return std::cmp::Ordering::Greater,
            (Some(x), Some(y)) => {
                let order = match (x.parse::<u64>(), y.parse::<u64>()) {
                    (Ok(x), Ok(y)) => x.cmp(&y),
                    _ => x.cmp(y),
                };
                if order != std::cmp::Ordering::Equal {
                    return order;
                }
            }
        }
    }
}

/// Every calendar version known to a deployment, so that each ticket's
/// clocks are computed with the version recorded in its events. Shared
/// between the service and the views: publishing a version adds it while
/// they read.
#[derive(Debug, Default)]
pub struct CalendarRegistry {
    calendars: std::sync::RwLock<BTreeMap<CalendarRef, Arc<BusinessCalendar>>>,
}

impl Clone for CalendarRegistry {
    fn clone(&self) -> Self {
        Self {
            calendars: std::sync::RwLock::new(self.read().clone()),
        }
    }
}

impl CalendarRegistry {
    fn read(&self) -> std::sync::RwLockReadGuard<'_, BTreeMap<CalendarRef, Arc<BusinessCalendar>>> {
        // A panic while holding the lock cannot leave the map half-changed
        // (inserts are single operations): read on.
        self.calendars.read().unwrap_or_else(std::sync::PoisonError::into_inner)
    }

    /// A registry holding the bundled mainland China calendar.
    pub fn with_cn_mainland() -> Self {
        let registry = Self::default();
        let cal = BusinessCalendar::cn_mainland();
        registry
            .calendars
            .write()
            .unwrap_or_else(std::sync::PoisonError::into_inner)
            .insert(cal.reference(), cal);
        registry
    }

    /// Forgets a version that was added for a publication that then did
    /// not happen (nothing in the log names it).
    pub fn remove(&self, reference: &CalendarRef) {
        self.calendars
            .write()
            .unwrap_or_else(std::sync::PoisonError::into_inner)
            .remove(reference);
    }

    /// Adds a calendar version. Adding the same version again with the same
    /// content is a no-op; with different content it is refused, because a
    /// published version must never change.
    pub fn insert(&self, calendar: Arc<BusinessCalendar>) -> Result<(), DomainError> {
        let key = calendar.reference();
        let mut map = self
            .calendars
            .write()
            .unwrap_or_else(std::sync::PoisonError::into_inner);
        match map.get(&key) {
            Some(existing) if existing.spec() != calendar.spec() => Err(DomainError::InvalidReferenceData {
                what: format!("business calendar {key}"),
                reason: "this version is already published with different content; publish a new version".into(),
            }),
            Some(_) => Ok(()),
            None => {
                map.insert(key, calendar);
                Ok(())
            }
        }
    }

    /// The calendar of a recorded reference.
    pub fn get(&self, reference: &CalendarRef) -> Option<Arc<BusinessCalendar>> {
        self.read().get(reference).cloned()
    }

    /// The newest version of calendar `id` (see [`compare_versions`]).
    pub fn latest(&self, id: &str) -> Option<Arc<BusinessCalendar>> {
        self.read()
            .iter()
            .filter(|(k, _)| k.id == id)
            .max_by(|(a, _), (b, _)| compare_versions(&a.version, &b.version))
            .map(|(_, v)| v.clone())
    }

    /// Every version, by id and then version.
    pub fn all(&self) -> Vec<Arc<BusinessCalendar>> {
        let mut all: Vec<_> = self.read().values().cloned().collect();
        all.sort_by(|a, b| {
            let (a, b) = (a.reference(), b.reference());
            a.id.cmp(&b.id).then_with(|| compare_versions(&a.version, &b.version))
        });
        all
    }
}
