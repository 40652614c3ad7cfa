//! Waiting on the owner pauses a clock; other holds do not.

use chrono::TimeDelta;
use domain::policy::ClockKind;
use domain::sla::ClockStatus;
use domain::testing::fixtures::*;
use domain::ticket::*;

use super::*;

#[test]
fn waiting_on_the_owner_pauses_with_credit() {
    let refs = simple_refs();
    let h = received(&refs, TicketKind::Repair, Priority::Normal, "2025-09-29 10:00");
    let h = then(
        &refs,
        h,
        vec![
            (agent(), "2025-09-29 10:30", hold(HoldReason::OwnerUnreachable)),
            (agent(), "2025-09-29 15:00", resume()),
        ],
    );
    let paused = clock(&h, ClockKind::FirstResponse, "2025-09-29 12:30");
    assert!(paused.is_paused);
    assert_eq!(
        (paused.due_at, paused.elapsed, paused.paused),
        (None, minutes(30), minutes(90))
    );
    let c = clock(&h, ClockKind::FirstResponse, "2025-09-29 15:00");
    // 10:30–12:00 and 13:30–15:00 not counted; 2 h 30 min left from 15:00.
    assert_eq!((c.elapsed, c.paused, c.is_paused), (minutes(30), minutes(180), false));
    assert_eq!(c.due_at, Some(bj("2025-09-29 17:30")));
}

#[test]
fn a_hold_outside_working_hours_adds_nothing() {
    let refs = simple_refs();
    let h = received(&refs, TicketKind::Repair, Priority::Normal, "2025-09-26 17:30");
    let h = then(
        &refs,
        h,
        vec![
            (agent(), "2025-09-26 18:30", hold(HoldReason::WaitingForOwnerDecision)),
            (agent(), "2025-09-27 20:00", resume()),
        ],
    );
    // Saturday 27th is a rest day: nothing paused, nothing used. Sunday 28th
    // is worked: 09:00-11:30 plus Friday's 30 min is 3 h.
    let c = clock(&h, ClockKind::FirstResponse, "2025-09-28 09:00");
    assert_eq!((c.elapsed, c.paused), (minutes(30), TimeDelta::zero()));
    assert_eq!(c.due_at, Some(bj("2025-09-28 11:30")));
}

#[test]
fn waiting_for_material_does_not_pause() {
    let refs = simple_refs();
    let h = received(&refs, TicketKind::Repair, Priority::Normal, "2025-09-29 10:00");
    let h = then(
        &refs,
        h,
        vec![(agent(), "2025-09-29 10:30", hold(HoldReason::WaitingForMaterial))],
    );
    let c = clock(&h, ClockKind::FirstResponse, "2025-09-29 15:00");
    // 10:00–12:00 and 13:30–15:00, hold or not.
    assert_eq!(
        (c.elapsed, c.paused, c.is_paused),
        (minutes(210), TimeDelta::zero(), false)
    );
    assert_eq!(c.status, ClockStatus::Breached);
}

#[test]
fn a_clock_added_while_waiting_on_the_owner_starts_paused() {
    let refs = refs();
    // A handover defect has no on-site clock until raised to emergency.
    let h = received(&refs, TicketKind::HandoverDefect, Priority::Normal, "2025-09-29 09:00");
    let h = then(
        &refs,
        h,
        vec![
            (agent(), "2025-09-29 09:10", hold(HoldReason::OwnerUnreachable)),
            (
                agent(),
                "2025-09-29 09:20",
                TicketCommand::ChangePriority {
                    priority: Priority::Emergency,
                    reason: "water near the switchboard".into(),
                },
            ),
        ],
    );
    let c = clock(&h, ClockKind::OnSite, "2025-09-29 15:00");
    assert!(c.is_paused);
    assert_eq!((c.status, c.elapsed), (ClockStatus::Running, TimeDelta::zero()));
}
