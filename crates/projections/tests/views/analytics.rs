//! Satisfaction, contractor scorecards and defect statistics on one small
//! project whose figures are worked out by hand.

use domain::actor::Role;
use domain::archive::{ProjectCommand, ProjectDecider, UnitCommand, UnitDecider};
use domain::decider::{Context, Decider};
use domain::ids::{BuildingId, ContractorId, ProjectId, TicketId, UnitId};
use domain::testing::fixtures::{bj, contractor, date, owner_actor, ratings, refs, staff};
use domain::ticket::{
    Assignee, Channel, Location, Priority, RepairPlan, ResponsibleParty, RevisitOutcome, TicketCommand, TicketKind,
    TouchpointStage,
};
use domain::warranty::WarrantyItem;
use eventformat::wire;
use eventlog::{EventId, EventStore, ExpectedVersion};
use projections::contractors::{self, ContractorsView};
use projections::defects::{self, DefectsView};
use projections::runner;
use projections::satisfaction::{self, SatisfactionView};

use crate::support::*;

fn ack() -> TicketCommand {
    TicketCommand::Acknowledge {
        promised_at: None,
        note: String::new(),
    }
}
fn dispatch(c: &str) -> TicketCommand {
    TicketCommand::Dispatch {
        to: Assignee::Contractor(ContractorId::new(c).unwrap()),
        note: String::new(),
    }
}
fn diagnose(misuse: bool) -> TicketCommand {
    TicketCommand::Diagnose {
        cause: "sealant".into(),
        responsible: if misuse {
            ResponsibleParty::OwnerMisuse
        } else {
            ResponsibleParty::Developer
        },
        item: WarrantyItem::WaterproofedRooms,
        plan: RepairPlan {
            content: "re-seal".into(),
            materials: vec![],
            duration_minutes: 60,
            cost: misuse.then_some(domain::ticket::Money { fen: 20_000 }),
        },
    }
}
fn complete() -> TicketCommand {
    TicketCommand::CompleteRepair {
        summary: "done".into(),
        usage_advice: String::new(),
    }
}
fn accept(n: u8) -> TicketCommand {
    TicketCommand::AcceptRepair {
        confirmation: "QR".into(),
        ratings: ratings(n),
        comment: String::new(),
    }
}
fn close() -> TicketCommand {
    TicketCommand::Close { note: String::new() }
}

/// Project HZ-1 with building HZ-1-3 and two units delivered 2024-06-30.
async fn archive(f: &Fixture) {
    let admin = staff(Role::Admin);
    let base = Context {
        now: bj("2024-07-01 09:00"),
        occurred_at: None,
        actor: admin.clone(),
        channel: Channel::BackOffice,
        reference: (),
    };
    let mut project = Vec::new();
    for command in [
        ProjectCommand::Register {
            project: ProjectId::new("HZ-1").unwrap(),
            name: "滨江壹号".into(),
            city: "杭州".into(),
            calendar: "cn-mainland".into(),
        },
        ProjectCommand::RegisterBuilding {
            building: BuildingId::new("HZ-1-3").unwrap(),
            name: "3栋".into(),
        },
    ] {
        let state = ProjectDecider::fold(&project);
        project.extend(ProjectDecider::decide(&state, command, &base).unwrap());
    }
    let stream = wire::stream_of(&ProjectId::new("HZ-1").unwrap()).unwrap();
    let new = project
        .iter()
        .map(|e| wire::to_new_event(e, EventId::new_random(), None).unwrap())
        .collect();
    f.store.append(&stream, ExpectedVersion::Any, new).await.unwrap();
    let state = ProjectDecider::fold(&project);
    for unit in ["HZ-1-3-1502", "HZ-1-3-1601"] {
        let unit_id = UnitId::new(unit).unwrap();
        let mut events = UnitDecider::decide(
            &Default::default(),
            UnitCommand::Register {
                unit: unit_id.clone(),
                project: ProjectId::new("HZ-1").unwrap(),
                building: BuildingId::new("HZ-1-3").unwrap(),
                number: unit.into(),
            },
            &base.with_reference(state.0.as_ref()),
        )
        .unwrap();
        let folded = UnitDecider::fold(&events);
        events.extend(
            UnitDecider::decide(
                &folded,
                UnitCommand::RecordDelivery {
                    delivered_on: date("2024-06-30"),
                },
                &base.with_reference(state.0.as_ref()),
            )
            .unwrap(),
        );
        let new = events
            .iter()
            .map(|e| wire::to_new_event(e, EventId::new_random(), None).unwrap())
            .collect();
        f.store
            .append(&wire::stream_of(&unit_id).unwrap(), ExpectedVersion::Any, new)
            .await
            .unwrap();
    }
}

/// T-1: fixed at the first visit, rated 5, closed, revisited (4).
/// T-2: chargeable, rejected once, reworked, rated 3, closed.
/// T-3: a complaint. T-4: withdrawn. T-5: dispatched to C-2, open.
async fn tickets(f: &Fixture) -> u64 {
    let refs = refs();
    let c1 = || contractor("C-1");
    let t1 = decide(
        &refs,
        &[],
        vec![
            (
                agent(),
                "2025-09-29 09:00",
                receive_as("T-1", TicketKind::Repair, Priority::Normal),
            ),
            (agent(), "2025-09-29 09:10", ack()),
            (agent(), "2025-09-29 09:20", dispatch("C-1")),
            (
                c1(),
                "2025-09-29 10:00",
                TicketCommand::RecordArrival { note: String::new() },
            ),
            (staff(Role::Engineer), "2025-09-29 10:10", diagnose(false)),
            (c1(), "2025-09-29 11:00", complete()),
            (owner_actor(), "2025-09-29 11:30", accept(5)),
            (agent(), "2025-09-29 11:40", close()),
            (
                agent(),
                "2025-10-09 10:00",
                TicketCommand::RecordRevisit {
                    outcome: RevisitOutcome::Satisfied,
                    ratings: Some(ratings(4)),
                    stage: TouchpointStage::ResidenceRevisit,
                    note: String::new(),
                },
            ),
        ],
    );
    let t2 = decide(
        &refs,
        &[],
        vec![
            (
                agent(),
                "2025-09-29 09:05",
                receive_as("T-2", TicketKind::Repair, Priority::Normal),
            ),
            (agent(), "2025-09-29 09:10", ack()),
            (agent(), "2025-09-29 09:20", dispatch("C-1")),
            (
                c1(),
                "2025-09-29 13:40",
                TicketCommand::RecordArrival { note: String::new() },
            ),
            (staff(Role::Engineer), "2025-09-29 13:50", diagnose(true)),
            (
                owner_actor(),
                "2025-09-29 14:00",
                TicketCommand::ConfirmPlan {
                    confirmation: "SIGNED".into(),
                },
            ),
            (c1(), "2025-09-29 15:00", complete()),
            (
                owner_actor(),
                "2025-09-29 15:30",
                TicketCommand::RejectRepair { reason: "drips".into() },
            ),
            (
                agent(),
                "2025-09-29 15:40",
                TicketCommand::Reopen {
                    reason: "rework".into(),
                },
            ),
            (c1(), "2025-09-29 16:30", complete()),
            (owner_actor(), "2025-09-29 17:00", accept(3)),
            (agent(), "2025-09-29 17:10", close()),
        ],
    );
    let t3 = decide(
        &refs,
        &[],
        vec![(
            agent(),
            "2025-09-29 09:30",
            receive_as("T-3", TicketKind::Complaint, Priority::Normal),
        )],
    );
    let t4 = decide(
        &refs,
        &[],
        vec![
            (
                agent(),
                "2025-09-29 09:40",
                receive_as("T-4", TicketKind::Repair, Priority::Normal),
            ),
            (
                owner_actor(),
                "2025-09-29 09:50",
                TicketCommand::Withdraw {
                    reason: "fine now".into(),
                },
            ),
        ],
    );
    let t5 = decide(
        &refs,
        &[],
        vec![
            (
                agent(),
                "2025-09-29 09:45",
                receive_as("T-5", TicketKind::Repair, Priority::Normal),
            ),
            (agent(), "2025-09-29 09:50", ack()),
            (agent(), "2025-09-29 09:55", dispatch("C-2")),
        ],
    );
    let mut last = 0;
    for (id, events) in [("T-1", t1), ("T-2", t2), ("T-3", t3), ("T-4", t4), ("T-5", t5)] {
        last = f.append(&TicketId::new(id).unwrap(), &events).await;
    }
    last
}

fn calendars() -> Arc<domain::calendar::CalendarRegistry> {
    Arc::new(domain::calendar::CalendarRegistry::with_cn_mainland())
}

#[tokio::test]
async fn satisfaction_counts_ratings_revisits_first_visits_and_complaints() {
    let f = Fixture::new();
    let view = runner::start(
        f.dyn_store(),
        f.views.clone(),
        Arc::new(SatisfactionView::new(calendars())),
    )
    .unwrap();
    archive(&f).await;
    let last = tickets(&f).await;
    view.wait_for(last, WAIT).await.unwrap();
    let tree = view.tree();
    let all = satisfaction::ratings(&tree, "all", "").unwrap();
    assert_eq!(all.count, 3);
    assert_eq!(all.overall, Some(4.0));
    assert_eq!(all.staff_attitude, Some(4.0));
    let by_stage = satisfaction::ratings_by(&tree, "stage").unwrap();
    let stages: Vec<(&str, i64, Option<f64>)> =
        by_stage.iter().map(|(s, r)| (s.as_str(), r.count, r.overall)).collect();
    assert_eq!(
        stages,
        [
            ("f_warranty_service", 2, Some(4.0)),
            ("g_residence_revisit", 1, Some(4.0))
        ]
    );
    assert_eq!(satisfaction::ratings(&tree, "contractor", "C-1").unwrap().count, 3);
    assert_eq!(satisfaction::ratings(&tree, "month", "2025-10").unwrap().count, 1);
    let hz1 = ProjectId::new("HZ-1").unwrap();
    let service = satisfaction::service(&tree, Some(&hz1)).unwrap();
    assert_eq!(
        (service.closed_repairs, service.revisited, service.revisit_coverage),
        (2, 1, Some(0.5))
    );
    assert_eq!(
        (service.accepted, service.accepted_first_visit, service.first_visit_rate),
        (2, 1, Some(0.5))
    );
    assert_eq!((service.complaints, service.delivered_units), (1, 2));
    assert_eq!(service.complaints_per_1000_units, Some(500.0));
}

#[tokio::test]
async fn contractor_scorecards_rank_the_year() {
    let f = Fixture::new();
    let view = runner::start(
        f.dyn_store(),
        f.views.clone(),
        Arc::new(ContractorsView::new(calendars())),
    )
    .unwrap();
    archive(&f).await;
    let last = tickets(&f).await;
    view.wait_for(last, WAIT).await.unwrap();
    let cards = contractors::scorecards(&view.tree(), 2025).unwrap();
    assert_eq!(cards.len(), 2);
    let c1 = &cards[0];
    assert_eq!((c1.contractor.as_str(), c1.rank, c1.handled), ("C-1", 1, 2));
    assert_eq!(c1.on_time_rate, Some(1.0));
    assert_eq!(c1.first_time_fix_rate, Some(0.5));
    assert_eq!(c1.rework_rate, Some(0.5));
    assert_eq!(c1.mean_rating, Some(4.0));
    assert_eq!(c1.chargeable_share, Some(0.5));
    // 40 × 1 + 30 × 0.5 + 20 × 4/5 + 10 × (1 − 0.5)
    assert_eq!(c1.score, 76.0);
    let c2 = &cards[1];
    assert_eq!(
        (c2.contractor.as_str(), c2.rank, c2.handled, c2.on_time_rate),
        ("C-2", 2, 1, None)
    );
    assert!(contractors::scorecards(&view.tree(), 2024).unwrap().is_empty());
}

#[tokio::test]
async fn defects_count_repairs_but_not_withdrawn_reports() {
    let f = Fixture::new();
    let view = runner::start(f.dyn_store(), f.views.clone(), Arc::new(DefectsView::new(calendars()))).unwrap();
    archive(&f).await;
    let last = tickets(&f).await;
    view.wait_for(last, WAIT).await.unwrap();
    let tree = view.tree();
    assert_eq!(defects::count(&tree, "all", "").unwrap(), 3);
    assert_eq!(defects::counts(&tree, "trade").unwrap(), [("leak".to_string(), 3)]);
    // Reported 2025-09-29, delivered 2024-06-30: 15 months.
    assert_eq!(
        defects::counts(&tree, "since_delivery").unwrap(),
        [("1-2y".to_string(), 3)]
    );
    assert_eq!(defects::count(&tree, "project_month", "HZ-1/2025-09").unwrap(), 3);
    assert_eq!(defects::count(&tree, "building", "HZ-1-3").unwrap(), 3);
    assert_eq!(defects::count(&tree, "category_trade", "engineering/leak").unwrap(), 3);
    assert_eq!(
        defects::counts(&tree, "category_building").unwrap(),
        [("engineering/HZ-1-3".to_string(), 3)]
    );
    let _ = Location::CommonArea {
        project: ProjectId::new("HZ-1").unwrap(),
        building: None,
        place: "lobby".into(),
    };
}

#[tokio::test]
async fn monthly_and_weekly_reports_add_up() {
    use projections::reports::{self, ReportViews};
    use projections::sla::SlaView;
    use projections::tickets::TicketsView;
    let f = Fixture::new();
    let tickets_view = runner::start(f.dyn_store(), f.views.clone(), Arc::new(TicketsView)).unwrap();
    let sla_view = runner::start(f.dyn_store(), f.views.clone(), Arc::new(SlaView::new(calendars()))).unwrap();
    let sat_view = runner::start(
        f.dyn_store(),
        f.views.clone(),
        Arc::new(SatisfactionView::new(calendars())),
    )
    .unwrap();
    archive(&f).await;
    let last = tickets(&f).await;
    for v in [&tickets_view, &sla_view, &sat_view] {
        v.wait_for(last, WAIT).await.unwrap();
    }
    let (t, s, r) = (tickets_view.tree(), sla_view.tree(), sat_view.tree());
    let views = ReportViews {
        tickets: &t,
        sla: &s,
        satisfaction: &r,
    };
    let hz1 = ProjectId::new("HZ-1").unwrap();
    let tz = chrono_tz::Asia::Shanghai;
    let m = reports::monthly_report(views, tz, &hz1, 2025, 9).unwrap();
    let kinds: Vec<(&str, usize)> = m.received_by_kind.iter().map(|(k, n)| (k.as_str(), *n)).collect();
    assert_eq!(kinds, [("complaint", 1), ("repair", 4)]);
    assert_eq!((m.finished, m.open, m.reopened, m.escalated_complaints), (3, 2, 1, 0));
    assert_eq!(m.defects_by_trade, [("leak".to_string(), 4)]);
    let first = &m.sla.first_response;
    assert_eq!((first.met, first.breached, first.cancelled), (3, 0, 1));
    let resolution = &m.sla.resolution;
    assert_eq!((resolution.met, resolution.breached, resolution.cancelled), (2, 0, 1));
    // September's ratings: the two acceptances; the revisit was in October.
    assert_eq!((m.ratings.count, m.ratings.overall), (2, Some(4.0)));
    assert_eq!((m.closed_repairs, m.revisited), (2, 1));
    let csv = m.to_csv();
    assert!(
        csv.starts_with("section,item,value\nreport,project,HZ-1\nreport,month,2025-09\n"),
        "{csv}"
    );
    assert!(csv.contains("\nsla,first_response_compliance_pct,100.0\n"), "{csv}");
    assert!(csv.contains("\nsatisfaction,overall,4.00\n"), "{csv}");
    assert!(reports::monthly_report(views, tz, &hz1, 2025, 13).is_err());
    // Nothing was received in August.
    let august = reports::monthly_report(views, tz, &hz1, 2025, 8).unwrap();
    assert!(august.received_by_kind.is_empty());

    let calendars = domain::calendar::CalendarRegistry::with_cn_mainland();
    let w = reports::weekly_repair_report(views, &calendars, tz, &hz1, 2025, 40, bj("2025-09-29 18:00")).unwrap();
    assert_eq!(w.week, "2025-W40");
    assert_eq!((w.from, w.to), (date("2025-09-29"), date("2025-10-05")));
    assert_eq!(
        (w.received, w.repaired, w.accepted, w.open, w.reopened, w.on_hold),
        (4, 2, 2, 1, 1, 0)
    );
    // The complaint T-3 has used 420 of its 450 first-response minutes.
    assert_eq!((w.breached_now, w.at_risk_now), (0, 1));
    assert_eq!(
        w.to_csv().lines().nth(1).unwrap(),
        "HZ-1,2025-W40,2025-09-29,2025-10-05,4,2,2,1,1,0,0,1"
    );
}
