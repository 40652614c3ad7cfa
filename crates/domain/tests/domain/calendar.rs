//! Business time on the mainland China calendar: exact at every edge.

use chrono::{DateTime, Duration, TimeDelta, Utc};
use domain::calendar::{BusinessCalendar, CalendarRegistry, DayKind, CN_MAINLAND_TOML};
use domain::testing::fixtures::{bj, date};
use proptest::prelude::*;

fn cal() -> std::sync::Arc<BusinessCalendar> {
    BusinessCalendar::cn_mainland()
}

fn add(from: &str, minutes: i64) -> DateTime<Utc> {
    cal().add_business_time(bj(from), TimeDelta::minutes(minutes))
}

fn between(from: &str, to: &str) -> i64 {
    cal().business_time_between(bj(from), bj(to)).num_minutes()
}

#[test]
fn the_bundled_calendar_knows_the_official_arrangements() {
    let cal = cal();
    assert_eq!(cal.reference().to_string(), "cn-mainland 2026.1");
    assert!((2024..=2026).all(|y| cal.covers_year(y)));
    assert!(!cal.covers_year(2027));
    assert_eq!(cal.working_day_length(), TimeDelta::minutes(450));
    let kind = |d: &str| cal.day_kind(date(d));
    // 2025 National Day and Mid-Autumn: 1–8 October off, Sunday 28
    // September and Saturday 11 October worked.
    assert_eq!(
        kind("2025-09-28"),
        DayKind::AdjustedWorkday("国庆节、中秋节 National Day and Mid-Autumn Festival".into())
    );
    assert!(matches!(kind("2025-10-08"), DayKind::Holiday(_)));
    assert!(kind("2025-10-11").is_working());
    assert_eq!(kind("2025-10-12"), DayKind::RestDay);
    assert_eq!(kind("2025-10-09"), DayKind::Workday);
    // 2024: New Year's Eve of the lunar year (9 February) was not an
    // official holiday; Sunday 4 February was worked.
    assert_eq!(kind("2024-02-09"), DayKind::Workday);
    assert!(kind("2024-02-04").is_working());
    // 2026: 1–3 January off, Sunday 4 January worked; 9-day Spring Festival.
    assert!(!kind("2026-01-02").is_working());
    assert!(kind("2026-01-04").is_working());
    assert_eq!(cal.workdays(date("2026-02-14"), date("2026-02-28")).len(), 6);
    // October 2025: 23 weekdays, 6 of them holidays, plus Saturday the 11th.
    assert_eq!(cal.workdays(date("2025-10-01"), date("2025-10-31")).len(), 18);
}

#[test]
fn adding_from_inside_the_lunch_break_starts_at_13_30() {
    assert_eq!(add("2025-09-29 12:15", 120), bj("2025-09-29 15:30"));
}

#[test]
fn adding_from_a_holiday_starts_on_the_next_working_day() {
    assert_eq!(add("2025-10-03 10:00", 60), bj("2025-10-09 10:00"));
}

#[test]
fn adjusted_working_saturdays_count() {
    assert_eq!(add("2025-10-11 09:00", 60), bj("2025-10-11 10:00"));
    assert_eq!(between("2025-10-10 17:00", "2025-10-13 10:00"), 60 + 450 + 60);
}

#[test]
fn adding_across_the_year_end_meets_the_adjusted_sunday() {
    // 1 h on 31 December, then 1–3 January 2026 off, Sunday 4 January worked.
    assert_eq!(add("2025-12-31 17:00", 120), bj("2026-01-04 10:00"));
}

#[test]
fn boundaries_are_exact() {
    // A target ending exactly at noon is due at noon, not at 13:30.
    assert_eq!(add("2025-09-29 09:00", 180), bj("2025-09-29 12:00"));
    // One more minute is due after lunch.
    assert_eq!(add("2025-09-29 09:00", 181), bj("2025-09-29 13:31"));
    // Starting exactly at noon or at 18:00.
    assert_eq!(add("2025-09-29 12:00", 1), bj("2025-09-29 13:31"));
    assert_eq!(add("2025-09-29 18:00", 60), bj("2025-09-30 10:00"));
    // Adding nothing returns the start, even outside working hours.
    assert_eq!(add("2025-10-03 03:00", 0), bj("2025-10-03 03:00"));
    assert_eq!(between("2025-09-29 12:00", "2025-09-29 13:30"), 0);
    assert_eq!(between("2025-09-29 11:59", "2025-09-29 13:31"), 2);
}

#[test]
fn elapsed_time_skips_nights_weekends_lunch_and_holidays() {
    // Friday 1 h, Saturday 27th rest, Sunday 28th an adjusted working day
    // (7 h 30 min), Monday 1 h.
    assert_eq!(between("2025-09-26 17:00", "2025-09-29 10:00"), 60 + 450 + 60);
    // An ordinary weekend counts nothing.
    assert_eq!(between("2025-09-19 17:00", "2025-09-22 10:00"), 60 + 60);
    assert_eq!(between("2025-09-29 11:00", "2025-09-29 14:30"), 120);
    assert_eq!(between("2025-10-01 00:00", "2025-10-09 00:00"), 0);
    assert_eq!(between("2025-09-29 10:00", "2025-09-29 09:00"), 0);
}

#[test]
fn a_user_supplied_calendar_with_daylight_saving_counts_local_hours() {
    let text = r#"
        id = "de-office"
        version = "1"
        time_zone = "Europe/Berlin"
        working_hours = ["09:00-17:00"]
        working_weekdays = ["Mon", "Tue", "Wed", "Thu", "Fri"]
    "#;
    let cal = BusinessCalendar::from_toml(text).unwrap();
    // Clocks went forward on Sunday 30 March 2025. Friday 17:00 CET is
    // 16:00 UTC; Monday 10:00 CEST is 08:00 UTC: one working hour between.
    let fri = "2025-03-28T16:00:00Z".parse::<DateTime<Utc>>().unwrap();
    let mon = "2025-03-31T08:00:00Z".parse::<DateTime<Utc>>().unwrap();
    assert_eq!(cal.business_time_between(fri, mon), TimeDelta::hours(1));
    assert_eq!(cal.add_business_time(fri, TimeDelta::hours(1)), mon);
}

#[test]
fn malformed_calendars_are_refused_with_the_reason() {
    let base = |hours: &str, days: &str, tz: &str, extra: &str| {
        format!(
            "id = \"x\"\nversion = \"1\"\ntime_zone = \"{tz}\"\nworking_hours = [{hours}]\nworking_weekdays = [{days}]\n{extra}"
        )
    };
    let cases = [
        (base("\"9-12\"", "\"Mon\"", "Asia/Shanghai", ""), "not HH:MM-HH:MM"),
        (base("\"12:00-09:00\"", "\"Mon\"", "Asia/Shanghai", ""), "end before they start"),
        (base("\"09:00-12:00\", \"11:00-13:00\"", "\"Mon\"", "Asia/Shanghai", ""), "overlap"),
        (base("\"09:00-12:00\"", "", "Asia/Shanghai", ""), "no working weekdays"),
        (base("", "\"Mon\"", "Asia/Shanghai", ""), "no working hours"),
        (base("\"09:00-12:00\"", "\"Mon\"", "Mars/Olympus", ""), "unknown time zone"),
        (base("\"09:00-12:00\"", "\"Funday\"", "Asia/Shanghai", ""), "is not a weekday"),
        (
            base(
                "\"09:00-12:00\"",
                "\"Mon\"",
                "Asia/Shanghai",
                "[[holidays]]\nname = \"a\"\nfrom = \"2025-10-01\"\nto = \"2025-10-03\"\nworking_days = [\"2025-10-02\"]\n",
            ),
            "both a holiday and an adjusted working day",
        ),
        (
            base(
                "\"09:00-12:00\"",
                "\"Mon\"",
                "Asia/Shanghai",
                "[[holidays]]\nname = \"a\"\nfrom = \"2025-10-03\"\nto = \"2025-10-01\"\n",
            ),
            "ends before it starts",
        ),
        ("id = \"x\"".to_string(), "missing field"),
    ];
    for (text, expected) in cases {
        let err = BusinessCalendar::from_toml(&text).unwrap_err().to_string();
        assert!(err.contains(expected), "{err:?} should mention {expected:?}");
    }
}

#[test]
fn a_published_calendar_version_never_changes() {
    let registry = CalendarRegistry::with_cn_mainland();
    // The same content again is fine.
    registry.insert(BusinessCalendar::cn_mainland()).unwrap();
    let edited = CN_MAINLAND_TOML.replace("to = \"2025-10-08\"", "to = \"2025-10-09\"");
    let edited = BusinessCalendar::from_toml(&edited).unwrap();
    let err = registry.insert(std::sync::Arc::new(edited)).unwrap_err().to_string();
    assert!(err.contains("already published with different content"), "{err}");
    let next = CN_MAINLAND_TOML
        .replace("to = \"2025-10-08\"", "to = \"2025-10-09\"")
        .replace("version = \"2026.1\"", "version = \"2027.1\"");
    registry
        .insert(std::sync::Arc::new(BusinessCalendar::from_toml(&next).unwrap()))
        .unwrap();
    assert_eq!(registry.latest("cn-mainland").unwrap().reference().version, "2027.1");
}

fn instant_in_2024_to_2026() -> impl Strategy<Value = DateTime<Utc>> {
    // Any minute from 2024-01-01 to the end of 2026, Beijing time.
    (0i64..(3 * 366 * 24 * 60)).prop_map(|m| bj("2024-01-01 00:00") + Duration::minutes(m))
}

proptest! {
    #![proptest_config(ProptestConfig::with_cases(256))]

    #[test]
    fn adding_then_measuring_gives_back_the_duration(start in instant_in_2024_to_2026(), minutes in 1i64..20_000) {
        let cal = cal();
        let d = TimeDelta::minutes(minutes);
        let due = cal.add_business_time(start, d);
        prop_assert!(due > start);
        prop_assert_eq!(cal.business_time_between(start, due), d);
        // The due instant is inside working time of a working day.
        let local = due.with_timezone(&chrono_tz::Asia::Shanghai);
        prop_assert!(cal.is_working_day(local.date_naive()));
        let hm = local.format("%H:%M").to_string();
        prop_assert!(("09:01".."12:01").contains(&hm.as_str()) || ("13:31".."18:01").contains(&hm.as_str()), "{}", hm);
    }

    #[test]
    fn elapsed_time_is_additive_and_never_counts_holidays_or_lunch(
        a in instant_in_2024_to_2026(), b in instant_in_2024_to_2026(), c in instant_in_2024_to_2026()
    ) {
        let cal = cal();
        let mut v = [a, b, c];
        v.sort();
        let [a, b, c] = v;
        prop_assert_eq!(cal.business_time_between(a, c), cal.business_time_between(a, b) + cal.business_time_between(b, c));
        // Never more than the wall time, never more than 7.5 h per calendar day.
        let total = cal.business_time_between(a, c);
        prop_assert!(total <= c - a);
        let day = cal.local_date(a);
        let lunch_start = bj(&format!("{day} 12:00"));
        prop_assert_eq!(cal.business_time_between(lunch_start, lunch_start + Duration::minutes(90)), TimeDelta::zero());
        if !cal.is_working_day(day) {
            let midnight = bj(&format!("{day} 00:00"));
            prop_assert_eq!(cal.business_time_between(midnight, midnight + Duration::days(1)), TimeDelta::zero());
        }
    }

    #[test]
    fn adding_more_never_ends_earlier(start in instant_in_2024_to_2026(), m in 0i64..5_000, extra in 1i64..500) {
        let cal = cal();
        let a = cal.add_business_time(start, TimeDelta::minutes(m));
        let b = cal.add_business_time(start, TimeDelta::minutes(m + extra));
        prop_assert!(b > a);
    }
}

#[test]
fn a_misspelled_field_is_refused_not_ignored() {
    let typo = CN_MAINLAND_TOML.replacen("working_days = [", "workingdays = [", 1);
    let err = BusinessCalendar::from_toml(&typo).unwrap_err().to_string();
    assert!(err.contains("workingdays"), "{err}");
}

fn instant_in_1985_to_2045() -> impl Strategy<Value = DateTime<Utc>> {
    // Inside the day table (2019-2036 for the bundled calendar) and outside.
    (0i64..(60 * 366 * 24 * 60)).prop_map(|m| bj("1985-01-01 00:00") + Duration::minutes(m))
}

proptest! {
    #![proptest_config(ProptestConfig::with_cases(128))]

    #[test]
    fn the_day_table_agrees_with_walking_every_day(
        a in instant_in_1985_to_2045(),
        b in instant_in_1985_to_2045(),
        seconds in 1i64..(40 * 24 * 3600),
    ) {
        let cal = cal();
        prop_assert_eq!(cal.business_time_between(a, b), cal.business_time_between_by_days(a, b));
        let d = TimeDelta::seconds(seconds);
        prop_assert_eq!(cal.add_business_time(a, d), cal.add_business_time_by_days(a, d));
    }
}

#[test]
fn adding_runs_past_the_end_of_the_day_table() {
    let cal = cal();
    // The table ends with 2036; 400 working days from late 2035 go beyond it.
    let start = bj("2035-12-01 10:00");
    let d = TimeDelta::minutes(450 * 400);
    assert_eq!(cal.add_business_time(start, d), cal.add_business_time_by_days(start, d));
    assert_eq!(cal.business_time_between(start, cal.add_business_time(start, d)), d);
}
