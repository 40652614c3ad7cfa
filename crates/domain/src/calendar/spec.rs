//! The calendar as data ([`CalendarSpec`], what a TOML file holds) and the
//! checks a new version passes before it is published.

use std::collections::{BTreeMap, BTreeSet};

use chrono::{Datelike, NaiveDate, Weekday};
use serde::{Deserialize, Serialize};

use crate::error::DomainError;

use super::{parse_weekday, BusinessCalendar, DayKind};

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
