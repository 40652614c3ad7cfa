//! Hand-checked due instants across the 2025 National Day holiday, and
//! the calendar a clock is measured by.

use std::sync::Arc;

use domain::calendar::{BusinessCalendar, CalendarRegistry, CN_MAINLAND_TOML};
use domain::policy::ClockKind;
use domain::sla::{evaluate, ClockStatus};
use domain::testing::fixtures::*;
use domain::ticket::*;

use super::*;

/// Due instants computed by hand from the 2025 arrangement: 1–8 October
/// off, Sunday 28 September and Saturday 11 October worked, 09:00–12:00 and
/// 13:30–18:00.
#[test]
fn due_instants_across_the_2025_national_day_holiday() {
    let refs = refs();
    use ClockKind::*;
    use Priority::*;
    use TicketKind::*;
    let cases: &[(TicketKind, Priority, &str, ClockKind, &str, &str)] = &[
        // The last working day before the holiday, 17:00: 1 h that day,
        // 6 h 30 min on Thursday 9 October.
        (
            Repair,
            Normal,
            "2025-09-30 17:00",
            FirstResponse,
            "2025-10-09 17:00",
            "1 business day from 17:00 before the holiday",
        ),
        (
            Repair,
            Urgent,
            "2025-09-30 16:00",
            FirstResponse,
            "2025-09-30 18:00",
            "2 h ending exactly at closing time",
        ),
        (
            Repair,
            Urgent,
            "2025-09-30 16:00",
            OnSite,
            "2025-10-09 16:00",
            "1 business day over the holiday",
        ),
        // 2 h + 7.5 h (9th) + 7.5 h (10th) + 5.5 h on Saturday the 11th.
        (
            Repair,
            Urgent,
            "2025-09-30 16:00",
            Resolution,
            "2025-10-11 16:00",
            "3 business days ending on the adjusted Saturday",
        ),
        (
            Repair,
            Normal,
            "2025-10-03 10:00",
            FirstResponse,
            "2025-10-09 18:00",
            "received on a holiday",
        ),
        (
            Repair,
            Urgent,
            "2025-09-28 09:00",
            FirstResponse,
            "2025-09-28 11:00",
            "received on the adjusted Sunday",
        ),
        (
            Repair,
            Urgent,
            "2025-09-27 10:00",
            FirstResponse,
            "2025-09-28 11:00",
            "received on the rest Saturday before it",
        ),
        (
            Repair,
            Urgent,
            "2025-09-29 12:15",
            FirstResponse,
            "2025-09-29 15:30",
            "received in the lunch break",
        ),
        (
            Repair,
            Emergency,
            "2025-10-01 02:00",
            FirstResponse,
            "2025-10-01 02:30",
            "24x7 runs through the holiday night",
        ),
        (
            Repair,
            Emergency,
            "2025-10-01 02:00",
            OnSite,
            "2025-10-01 04:00",
            "24x7 on site",
        ),
        (
            Repair,
            Emergency,
            "2025-10-01 02:00",
            Resolution,
            "2025-10-02 02:00",
            "24x7 resolution",
        ),
        // 5 days: 30 Sep, 9, 10, 11 (Saturday worked), 13 October.
        (
            Complaint,
            Normal,
            "2025-09-30 09:00",
            Resolution,
            "2025-10-13 18:00",
            "complaint, 5 business days to a proposal",
        ),
        (
            Inquiry,
            Normal,
            "2025-09-30 13:00",
            Resolution,
            "2025-10-10 12:00",
            "inquiry, 2 business days",
        ),
    ];
    for (kind, priority, at, which, due, why) in cases {
        let h = received(&refs, *kind, *priority, at);
        let c = clock(&h, *which, at);
        assert_eq!(c.due_at, Some(bj(due)), "{why}");
        assert_eq!(c.status, ClockStatus::Running, "{why}");
    }
}

#[test]
fn met_and_breached_are_measured_on_business_time() {
    let refs = refs();
    // Due at 18:00 on 30 September; acknowledged after the holiday.
    let h = received(&refs, TicketKind::Repair, Priority::Urgent, "2025-09-30 16:00");
    let h = then(&refs, h, vec![(agent(), "2025-10-09 09:30", ack())]);
    let c = clock(&h, ClockKind::FirstResponse, "2025-10-20 09:00");
    assert_eq!(c.status, ClockStatus::Breached);
    assert_eq!(c.breached_at, Some(bj("2025-09-30 18:00")));
    assert_eq!(c.elapsed, minutes(150));
    assert_eq!(c.stopped_at, Some(bj("2025-10-09 09:30")));
    // One business minute inside the target.
    let h = received(&refs, TicketKind::Repair, Priority::Normal, "2025-09-30 17:00");
    let h = then(&refs, h, vec![(agent(), "2025-10-09 16:59", ack())]);
    let c = clock(&h, ClockKind::FirstResponse, "2025-10-20 09:00");
    assert_eq!(
        (c.status, c.elapsed, c.due_at),
        (ClockStatus::Met, minutes(449), Some(bj("2025-10-09 17:00")))
    );
}

#[test]
fn replay_uses_the_recorded_calendar_version() {
    let refs = refs();
    let h = received(&refs, TicketKind::Repair, Priority::Normal, "2025-09-30 17:00");
    let original = report(&h, "2025-10-09 10:00");
    // A later version declares 9 October a holiday too; the ticket still
    // evaluates on the version it recorded.
    let next = CN_MAINLAND_TOML
        .replace("to = \"2025-10-08\"", "to = \"2025-10-09\"")
        .replace("version = \"2026.1\"", "version = \"2027.1\"");
    let registry = registry();
    registry
        .insert(Arc::new(BusinessCalendar::from_toml(&next).unwrap()))
        .unwrap();
    let replayed = evaluate(&h, &registry, bj("2025-10-09 10:00")).unwrap();
    assert_eq!(replayed, original);
    assert_eq!(original.first_response.unwrap().calendar.version, "2026.1");
    // Without the recorded version, evaluation says what is missing.
    let err = evaluate(&h, &CalendarRegistry::default(), bj("2025-10-09 10:00")).unwrap_err();
    assert!(
        err.to_string().contains("business calendar cn-mainland 2026.1"),
        "{err}"
    );
}

#[test]
fn figures_beyond_the_calendars_years_are_provisional() {
    let refs = refs();
    // Normal repair received 31 December 2026, 17:00: its first-response
    // deadline falls in 2027, whose holidays the 2026.1 calendar lacks.
    let h = received(&refs, TicketKind::Repair, Priority::Normal, "2026-12-31 17:00");
    let c = clock(&h, ClockKind::FirstResponse, "2026-12-31 17:30");
    assert!(c.provisional);
    let h = received(&refs, TicketKind::Repair, Priority::Normal, "2025-09-30 17:00");
    assert!(!clock(&h, ClockKind::FirstResponse, "2025-09-30 17:30").provisional);
}
