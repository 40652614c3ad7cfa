//! Business-time arithmetic: the day table and the two functions that add
//! and measure working time, exact at every edge.

use chrono::{DateTime, NaiveDate, TimeDelta, TimeZone, Utc};

use super::{BusinessCalendar, DayTable, Minute};

/// Days searched forward before [`BusinessCalendar::add_business_time`]
/// gives up (about 30 years); validation makes it unreachable in practice.
const MAX_DAYS_SEARCHED: u32 = 11_000;

impl BusinessCalendar {
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
    pub(super) fn build_table(&self) -> DayTable {
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
