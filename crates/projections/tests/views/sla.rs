//! The SLA view: per-ticket clocks, compliance aggregates, alerts.

use domain::calendar::CalendarRegistry;
use domain::ids::{ContractorId, ProjectId, TicketId};
use domain::policy::ClockKind;
use domain::sla::{evaluate, ClockStatus};
use domain::testing::fixtures::{bj, contractor, refs};
use domain::ticket::{Assignee, Priority, RepairPlan, ResponsibleParty, TicketCommand, TicketKind};
use domain::warranty::WarrantyItem;
use projections::runner::{self, ViewHandle};
use projections::sla::{self, SlaView};

use crate::support::*;

fn id(s: &str) -> TicketId {
    TicketId::new(s).unwrap()
}

fn ack() -> TicketCommand {
    TicketCommand::Acknowledge {
        promised_at: None,
        note: String::new(),
    }
}

fn start(f: &Fixture) -> ViewHandle {
    runner::start(
        f.dyn_store(),
        f.views.clone(),
        Arc::new(SlaView::new(Arc::new(CalendarRegistry::with_cn_mainland()))),
    )
    .unwrap()
}

#[tokio::test]
async fn compliance_counts_met_and_breached_clocks_around_the_holiday() {
    let f = Fixture::new();
    let view = start(&f);
    let refs = refs();
    // Due 2025-10-09 17:00, acknowledged a minute early: met after 449 min.
    let a = decide(
        &refs,
        &[],
        vec![
            (
                agent(),
                "2025-09-30 17:00",
                receive_as("T-A", TicketKind::Repair, Priority::Normal),
            ),
            (agent(), "2025-10-09 16:59", ack()),
        ],
    );
    // Due 2025-09-30 18:00, acknowledged after the holiday: breached, 150 min.
    let b = decide(
        &refs,
        &[],
        vec![
            (
                agent(),
                "2025-09-30 16:00",
                receive_as("T-B", TicketKind::Repair, Priority::Urgent),
            ),
            (agent(), "2025-10-09 09:30", ack()),
        ],
    );
    f.append(&id("T-A"), &a).await;
    let last = f.append(&id("T-B"), &b).await;
    view.wait_for(last, WAIT).await.unwrap();
    let all = sla::compliance(&view.tree(), "all", "").unwrap();
    let first = &all.first_response;
    assert_eq!((first.met, first.breached, first.cancelled), (1, 1, 0));
    assert_eq!(first.compliance_rate, Some(0.5));
    assert_eq!(first.mean_minutes, Some((449.0 + 150.0) / 2.0));
    assert_eq!(first.p90_minutes, Some(450));
    // Resolution clocks are still running: not counted yet.
    assert_eq!((all.resolution.met, all.resolution.breached), (0, 0));
    let by_priority = sla::breakdown(&view.tree(), "priority").unwrap();
    let names: Vec<&str> = by_priority.iter().map(|(v, _)| v.as_str()).collect();
    assert_eq!(names, ["normal", "urgent"]);
    assert_eq!(by_priority[1].1.first_response.breached, 1);
    assert_eq!(
        sla::compliance(&view.tree(), "month", "2025-09")
            .unwrap()
            .first_response
            .met,
        1
    );
    assert_eq!(
        sla::compliance(&view.tree(), "project_month", "HZ-1/2025-09")
            .unwrap()
            .first_response
            .breached,
        1
    );
    // Tuesday 2025-09-30 (Beijing) is in ISO week 40 of 2025.
    let week = sla::breakdown(&view.tree(), "week").unwrap();
    assert_eq!(week.len(), 1);
    assert_eq!(week[0].0, "2025-W40");
    assert_eq!(
        (week[0].1.first_response.met, week[0].1.first_response.breached),
        (1, 1)
    );
    assert_eq!(
        sla::compliance(&view.tree(), "project_week", "HZ-1/2025-W40")
            .unwrap()
            .first_response
            .met,
        1
    );
    let kinds = sla::breakdown(&view.tree(), "kind").unwrap();
    let names: Vec<&str> = kinds.iter().map(|(v, _)| v.as_str()).collect();
    assert_eq!(names, ["repair"]);
    // The per-ticket query gives what the domain computes from the events.
    let calendars = CalendarRegistry::with_cn_mainland();
    let at = bj("2025-10-10 10:00");
    let from_view = sla::ticket_clocks(&view.tree(), &calendars, &id("T-B"), at)
        .unwrap()
        .unwrap();
    assert_eq!(from_view, evaluate(&b, &calendars, at).unwrap());
}

#[tokio::test]
async fn a_rejection_takes_the_resolution_back_out_of_the_counts() {
    let f = Fixture::new();
    let view = start(&f);
    let refs = refs();
    let c1 = || contractor("C-1");
    let mut h = decide(
        &refs,
        &[],
        vec![
            (
                agent(),
                "2025-09-29 09:00",
                receive_as("T-R", TicketKind::Repair, Priority::Urgent),
            ),
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
                "2025-09-29 10:00",
                TicketCommand::RecordArrival { note: String::new() },
            ),
            (
                domain::testing::fixtures::staff(domain::actor::Role::Engineer),
                "2025-09-29 10:10",
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
        ],
    );
    let p = f.append(&id("T-R"), &h).await;
    view.wait_for(p, WAIT).await.unwrap();
    let resolution = |view: &ViewHandle| sla::compliance(&view.tree(), "contractor", "C-1").unwrap().resolution;
    assert_eq!((resolution(&view).met, resolution(&view).breached), (1, 0));
    let more = decide(
        &refs,
        &h,
        vec![(
            agent(),
            "2025-09-29 14:00",
            TicketCommand::RejectRepair {
                reason: "still drips".into(),
            },
        )],
    );
    h.extend(more.clone());
    let p = f.append(&id("T-R"), &more).await;
    view.wait_for(p, WAIT).await.unwrap();
    assert_eq!((resolution(&view).met, resolution(&view).breached), (0, 0));
    let more = decide(
        &refs,
        &h,
        vec![
            (
                agent(),
                "2025-09-29 14:05",
                TicketCommand::Reopen {
                    reason: "rework".into(),
                },
            ),
            (
                c1(),
                "2025-09-29 15:00",
                TicketCommand::CompleteRepair {
                    summary: "replaced".into(),
                    usage_advice: String::new(),
                },
            ),
        ],
    );
    let p = f.append(&id("T-R"), &more).await;
    view.wait_for(p, WAIT).await.unwrap();
    let r = resolution(&view);
    assert_eq!((r.met, r.breached), (1, 0), "counted once, with its total time");
    // 09:00–11:00 and 14:00–15:00 (the rejection restarts the clock).
    assert_eq!(r.mean_minutes, Some(180.0));
}

#[tokio::test]
async fn alerts_list_open_tickets_at_risk_or_breached_now() {
    let f = Fixture::new();
    let view = start(&f);
    let refs = refs();
    // Urgent: first response due 11:00.
    let a = decide(
        &refs,
        &[],
        vec![(
            agent(),
            "2025-09-29 09:00",
            receive_as("T-1", TicketKind::Repair, Priority::Urgent),
        )],
    );
    let b = decide(
        &refs,
        &[],
        vec![(
            agent(),
            "2025-09-29 10:00",
            receive_as("T-2", TicketKind::Repair, Priority::Urgent),
        )],
    );
    f.append(&id("T-1"), &a).await;
    let last = f.append(&id("T-2"), &b).await;
    view.wait_for(last, WAIT).await.unwrap();
    let calendars = CalendarRegistry::with_cn_mainland();
    let hz1 = ProjectId::new("HZ-1").unwrap();
    // At 10:40: T-1 has used 100 of 120 minutes (at risk), T-2 40.
    let at = bj("2025-09-29 10:40");
    let alerts = sla::alerts(&view.tree(), &calendars, Some(&hz1), at).unwrap();
    let seen: Vec<(String, ClockKind, ClockStatus)> = alerts
        .iter()
        .map(|a| (a.ticket.to_string(), a.clock.clock, a.clock.status))
        .collect();
    assert_eq!(
        seen,
        [("T-1".to_string(), ClockKind::FirstResponse, ClockStatus::AtRisk)]
    );
    // At 11:30 T-1 is breached and listed first; T-2 is at risk.
    let alerts = sla::alerts(&view.tree(), &calendars, None, bj("2025-09-29 11:40")).unwrap();
    let seen: Vec<(String, ClockStatus)> = alerts.iter().map(|a| (a.ticket.to_string(), a.clock.status)).collect();
    assert_eq!(
        seen,
        [
            ("T-1".to_string(), ClockStatus::Breached),
            ("T-2".to_string(), ClockStatus::AtRisk)
        ]
    );
    // Withdrawn tickets leave the alerts.
    let w = decide(
        &refs,
        &a,
        vec![(
            agent(),
            "2025-09-29 11:45",
            TicketCommand::Withdraw { reason: "fixed".into() },
        )],
    );
    let last = f.append(&id("T-1"), &w).await;
    view.wait_for(last, WAIT).await.unwrap();
    let alerts = sla::alerts(&view.tree(), &calendars, None, bj("2025-09-29 11:50")).unwrap();
    assert!(alerts.iter().all(|a| a.ticket.as_str() == "T-2"));
    assert!(
        sla::alerts(&view.tree(), &calendars, Some(&ProjectId::new("SH-9").unwrap()), at)
            .unwrap()
            .is_empty()
    );
}
