//! What a clock reports: met, breached, at risk, cancelled, absent.

use chrono::{DateTime, Utc};
use domain::policy::ClockKind;
use domain::sla::{ClockStatus, SlaReport};
use domain::testing::fixtures::*;
use domain::ticket::*;

use super::*;

#[test]
fn breach_is_sticky() {
    let refs = simple_refs();
    let h = received(&refs, TicketKind::Repair, Priority::Urgent, "2025-09-29 10:00");
    // Due 12:00; at 13:45 it is breached. Lowering the priority and then
    // answering change nothing.
    assert_eq!(
        clock(&h, ClockKind::FirstResponse, "2025-09-29 13:45").status,
        ClockStatus::Breached
    );
    let h = then(
        &refs,
        h,
        vec![
            (
                agent(),
                "2025-09-29 14:00",
                TicketCommand::ChangePriority {
                    priority: Priority::Normal,
                    reason: "cosmetic after all".into(),
                },
            ),
            (agent(), "2025-09-29 14:10", ack()),
        ],
    );
    let c = clock(&h, ClockKind::FirstResponse, "2025-10-20 10:00");
    assert_eq!(
        (c.status, c.breached_at),
        (ClockStatus::Breached, Some(bj("2025-09-29 12:00")))
    );
    // Before the due instant, the same history was running.
    assert_eq!(
        clock(&h, ClockKind::FirstResponse, "2025-09-29 11:59").status,
        ClockStatus::AtRisk
    );
}

#[test]
fn at_risk_from_80_percent_of_the_target() {
    let refs = simple_refs();
    let h = received(&refs, TicketKind::Repair, Priority::Normal, "2025-09-29 09:00");
    // 3 h target: 144 min is 80%.
    assert_eq!(
        clock(&h, ClockKind::FirstResponse, "2025-09-29 11:23").status,
        ClockStatus::Running
    );
    assert_eq!(
        clock(&h, ClockKind::FirstResponse, "2025-09-29 11:24").status,
        ClockStatus::AtRisk
    );
}

#[test]
fn a_rejection_reopens_the_resolution_clock_and_both_times_are_reported() {
    let refs = simple_refs();
    let h = rework_history(&refs);
    let c = clock(&h, ClockKind::Resolution, "2025-09-30 09:00");
    // First cycle 09:00–11:00 = 2 h; waiting for acceptance 11:00–14:00 is
    // not counted; second cycle 14:00–15:30 = 1 h 30 min.
    assert_eq!(c.first_cycle_elapsed, Some(minutes(120)));
    assert_eq!(c.elapsed, minutes(210));
    assert_eq!((c.stops, c.status), (2, ClockStatus::Met));
    // Between the rejection and the second completion it was running again.
    let during = clock(&h, ClockKind::Resolution, "2025-09-29 15:00");
    assert_eq!((during.status, during.stopped_at), (ClockStatus::Running, None));
    assert_eq!(during.due_at, Some(bj("2025-09-29 17:00")));
}

#[test]
fn withdrawal_cancels_running_clocks_but_keeps_a_breach() {
    let refs = simple_refs();
    let h = received(&refs, TicketKind::Repair, Priority::Urgent, "2025-09-29 09:00");
    let h = then(
        &refs,
        h,
        vec![(
            owner_actor(),
            "2025-09-29 10:30",
            TicketCommand::Withdraw {
                reason: "fixed it myself".into(),
            },
        )],
    );
    let r = report(&h, "2025-10-20 09:00");
    assert_eq!(r.first_response.unwrap().status, ClockStatus::Cancelled);
    let h = received(&refs, TicketKind::Repair, Priority::Urgent, "2025-09-29 09:00");
    let h = then(
        &refs,
        h,
        vec![(
            owner_actor(),
            "2025-09-29 14:00",
            TicketCommand::Withdraw {
                reason: "too slow".into(),
            },
        )],
    );
    assert_eq!(
        report(&h, "2025-10-20 09:00").first_response.unwrap().status,
        ClockStatus::Breached
    );
}

#[test]
fn evaluation_as_of_an_instant_ignores_later_events() {
    let refs = simple_refs();
    let h = rework_history(&refs);
    let before_ack = report(&h, "2025-09-29 09:05");
    let first = before_ack.first_response.unwrap();
    assert_eq!((first.status, first.elapsed), (ClockStatus::Running, minutes(5)));
    assert_eq!(
        report(&h, "2025-09-29 09:10").first_response.unwrap().status,
        ClockStatus::Met
    );
    // Before the ticket existed there are no clocks.
    assert_eq!(report(&h, "2025-09-28 09:00"), SlaReport::default());
}

#[test]
fn clocks_that_do_not_apply_are_absent() {
    let refs = refs();
    let h = received(&refs, TicketKind::Complaint, Priority::Normal, "2025-09-30 09:00");
    let r = report(&h, "2025-09-30 10:00");
    assert!(r.on_site.is_none());
    assert_eq!(r.clocks().count(), 2);
    let _: DateTime<Utc> = r.first_response.unwrap().started_at;
}
