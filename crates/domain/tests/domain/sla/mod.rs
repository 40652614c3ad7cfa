//! Service-level clocks: hand-checked cases across the 2025 National Day
//! holiday and its adjusted working days, and each clock rule.

use std::sync::Arc;

use chrono::{DateTime, TimeDelta, Utc};
use domain::actor::{Actor, Role};
use domain::calendar::{BusinessCalendar, CalendarRegistry, CN_MAINLAND_TOML};
use domain::decider::Stamped;
use domain::ids::ContractorId;
use domain::policy::{ClockKind, ServicePolicy};
use domain::sla::{evaluate, ClockReport, ClockStatus, SlaReport};
use domain::testing::fixtures::*;
use domain::ticket::*;
use domain::warranty::WarrantyItem;

type H = Vec<Stamped<TicketEvent>>;

fn agent() -> Actor {
    staff(Role::Agent)
}

fn registry() -> CalendarRegistry {
    CalendarRegistry::with_cn_mainland()
}

fn report(events: &H, at: &str) -> SlaReport {
    evaluate(events, &registry(), bj(at)).unwrap()
}

fn clock(events: &H, kind: ClockKind, at: &str) -> ClockReport {
    report(events, at).clock(kind).cloned().unwrap()
}

fn received(refs: &Refs, kind: TicketKind, priority: Priority, when: &str) -> H {
    history(refs, vec![(agent(), when, receive(kind, priority))])
}

fn then(refs: &Refs, mut h: H, steps: Vec<(Actor, &str, TicketCommand)>) -> H {
    use domain::decider::Decider;
    for (actor, at, command) in steps {
        let state = TicketDecider::fold(&h);
        let events = TicketDecider::decide(&state, command, &context_at(refs, actor, bj(at)))
            .unwrap_or_else(|e| panic!("step at {at} refused: {e}"));
        h.extend(events);
    }
    h
}

fn ack() -> TicketCommand {
    TicketCommand::Acknowledge {
        promised_at: None,
        note: String::new(),
    }
}

fn hold(reason: HoldReason) -> TicketCommand {
    TicketCommand::PutOnHold {
        reason,
        note: String::new(),
    }
}

fn resume() -> TicketCommand {
    TicketCommand::Resume { note: String::new() }
}

fn minutes(m: i64) -> TimeDelta {
    TimeDelta::minutes(m)
}

/// A policy with round numbers for the rule examples: normal 3 business
/// hours to first response, urgent 2.
fn simple_refs() -> Refs {
    let policy = r#"
        id = "simple"
        version = "1"
        [[rules]]
        kind = "repair"
        priority = "normal"
        first_response = "3h business"
        resolution = "5h business"
        [[rules]]
        kind = "repair"
        priority = "urgent"
        first_response = "2h business"
        resolution = "4h business"
        [[rules]]
        kind = "repair"
        priority = "emergency"
        first_response = "30m 24x7"
        resolution = "24h 24x7"
    "#;
    Refs {
        policy: Arc::new(ServicePolicy::from_toml(policy).unwrap()),
        ..refs()
    }
}

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

/// Received Monday 29 September 09:00 (simple policy, resolution 5 business
/// hours), dispatched, repaired at 11:00, rejected at 14:00, repaired again
/// at 15:30.
fn rework_history(refs: &Refs) -> H {
    let c1 = || contractor("C-1");
    let h = received(refs, TicketKind::Repair, Priority::Normal, "2025-09-29 09:00");
    then(
        refs,
        h,
        vec![
            (agent(), "2025-09-29 09:10", ack()),
            (
                agent(),
                "2025-09-29 09:20",
                TicketCommand::Dispatch {
                    to: Assignee::Contractor(ContractorId::new("C-1").unwrap()),
                    note: String::new(),
                },
            ),
            (
                c1(),
                "2025-09-29 09:40",
                TicketCommand::RecordArrival { note: String::new() },
            ),
            (
                staff(Role::Engineer),
                "2025-09-29 09:50",
                TicketCommand::Diagnose {
                    cause: "loose trap".into(),
                    responsible: ResponsibleParty::Developer,
                    item: WarrantyItem::WaterSupplyAndDrainage,
                    plan: RepairPlan {
                        content: "tighten".into(),
                        materials: vec![],
                        duration_minutes: 30,
                        cost: None,
                    },
                },
            ),
            (
                c1(),
                "2025-09-29 11:00",
                TicketCommand::CompleteRepair {
                    summary: "tightened".into(),
                    usage_advice: String::new(),
                },
            ),
            (
                agent(),
                "2025-09-29 14:00",
                TicketCommand::RejectRepair {
                    reason: "still drips".into(),
                },
            ),
            (
                agent(),
                "2025-09-29 14:05",
                TicketCommand::Reopen {
                    reason: "rework".into(),
                },
            ),
            (
                c1(),
                "2025-09-29 15:30",
                TicketCommand::CompleteRepair {
                    summary: "trap replaced".into(),
                    usage_advice: String::new(),
                },
            ),
        ],
    )
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
fn clocks_that_do_not_apply_are_absent() {
    let refs = refs();
    let h = received(&refs, TicketKind::Complaint, Priority::Normal, "2025-09-30 09:00");
    let r = report(&h, "2025-09-30 10:00");
    assert!(r.on_site.is_none());
    assert_eq!(r.clocks().count(), 2);
    let _: DateTime<Utc> = r.first_response.unwrap().started_at;
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
