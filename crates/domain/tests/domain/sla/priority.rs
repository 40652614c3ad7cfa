//! Priority and target changes: the time already used is kept.

use chrono::TimeDelta;
use domain::policy::ClockKind;
use domain::sla::ClockStatus;
use domain::testing::fixtures::*;
use domain::ticket::*;

use super::*;

#[test]
fn raising_the_priority_keeps_the_time_already_used() {
    let refs = simple_refs();
    let h = received(&refs, TicketKind::Repair, Priority::Normal, "2025-09-29 10:00");
    assert_eq!(
        clock(&h, ClockKind::FirstResponse, "2025-09-29 10:00").due_at,
        Some(bj("2025-09-29 14:30"))
    );
    let h = then(
        &refs,
        h,
        vec![(
            agent(),
            "2025-09-29 11:00",
            TicketCommand::ChangePriority {
                priority: Priority::Urgent,
                reason: "affects daily use".into(),
            },
        )],
    );
    let c = clock(&h, ClockKind::FirstResponse, "2025-09-29 11:00");
    assert_eq!(c.due_at, Some(bj("2025-09-29 12:00")));
    assert_eq!(c.elapsed, minutes(60));
    assert_eq!(c.policy.id, "simple");
}

#[test]
fn a_new_target_already_exceeded_breaches_at_the_change() {
    let refs = simple_refs();
    let h = received(&refs, TicketKind::Repair, Priority::Normal, "2025-09-29 10:00");
    // 2 h 30 min used by 14:00; the urgent target is 2 h.
    let h = then(
        &refs,
        h,
        vec![(
            agent(),
            "2025-09-29 14:00",
            TicketCommand::ChangePriority {
                priority: Priority::Urgent,
                reason: "owner called again".into(),
            },
        )],
    );
    let c = clock(&h, ClockKind::FirstResponse, "2025-09-29 14:05");
    assert_eq!(
        (c.status, c.breached_at),
        (ClockStatus::Breached, Some(bj("2025-09-29 14:00")))
    );
}

#[test]
fn a_priority_change_after_the_repair_applies_when_a_rejection_restarts_the_clock() {
    let refs = simple_refs();
    let h = rework_history(&refs);
    // Cut the history after the first completion (11:00), raise the
    // priority at 12:00 (urgent: 4 h resolution), then reject at 14:00.
    let mut h: H = h
        .into_iter()
        .take_while(|e| e.occurred_at <= bj("2025-09-29 11:00"))
        .collect();
    h = then(
        &refs,
        h,
        vec![
            (
                agent(),
                "2025-09-29 11:30",
                TicketCommand::ChangePriority {
                    priority: Priority::Urgent,
                    reason: "second leak".into(),
                },
            ),
            (
                agent(),
                "2025-09-29 14:00",
                TicketCommand::RejectRepair {
                    reason: "still drips".into(),
                },
            ),
        ],
    );
    let c = clock(&h, ClockKind::Resolution, "2025-09-29 14:00");
    // 2 h used of the urgent 4 h: due 16:00, not 17:00 as under normal's 5 h.
    assert_eq!(c.target.minutes(), Some(240));
    assert_eq!(c.due_at, Some(bj("2025-09-29 16:00")));
}

#[test]
fn a_clock_that_is_over_keeps_the_target_it_was_judged_by() {
    let refs = simple_refs();
    let h = received(&refs, TicketKind::Repair, Priority::Normal, "2025-09-29 09:00");
    // First response met after 1 h of a 3 h target; then raised to
    // emergency (30 min 24x7): the met clock stays met against 3 h.
    let h = then(
        &refs,
        h,
        vec![
            (agent(), "2025-09-29 10:00", ack()),
            (
                agent(),
                "2025-09-29 10:30",
                TicketCommand::ChangePriority {
                    priority: Priority::Emergency,
                    reason: "ceiling sagging".into(),
                },
            ),
        ],
    );
    let c = clock(&h, ClockKind::FirstResponse, "2025-09-29 11:00");
    assert_eq!((c.status, c.target.minutes()), (ClockStatus::Met, Some(180)));
}

#[test]
fn a_change_of_basis_re_measures_the_time_used() {
    let refs = simple_refs();
    // Emergency (24x7) received Friday 26 September 19:00, after hours,
    // and downgraded to normal (business time) at 19:20: the 20 wall-clock
    // minutes used are no business minutes at all.
    let h = received(&refs, TicketKind::Repair, Priority::Emergency, "2025-09-26 19:00");
    assert_eq!(
        clock(&h, ClockKind::Resolution, "2025-09-26 19:20").elapsed,
        minutes(20)
    );
    let h = then(
        &refs,
        h,
        vec![(
            agent(),
            "2025-09-26 19:20",
            TicketCommand::ChangePriority {
                priority: Priority::Normal,
                reason: "only a drip".into(),
            },
        )],
    );
    let c = clock(&h, ClockKind::Resolution, "2025-09-26 19:20");
    assert_eq!((c.elapsed, c.status), (TimeDelta::zero(), ClockStatus::Running));
    // 5 business hours from Sunday 28th, an adjusted working day.
    assert_eq!(c.due_at, Some(bj("2025-09-28 15:30")));
}
