//! The handover defect: the signed record, dispatch straight from
//! received, and the promised-date deadline.

use domain::actor::Role;
use domain::calendar::CalendarRegistry;
use domain::policy::ClockTarget;
use domain::sla::{evaluate, ClockStatus};
use domain::testing::fixtures::*;
use domain::testing::given;
use domain::ticket::*;
use domain::DomainError;

use super::*;

#[test]
fn a_handover_defect_without_the_signed_record_is_refused() {
    let refs = refs();
    given::<TicketDecider>(Vec::new())
        .when(
            receive_with(TicketKind::HandoverDefect, None),
            &at(&refs, agent(), "2025-09-30 10:00"),
        )
        .then_error_containing("a handover defect needs the inspection record signed by both sides");
}

#[test]
fn a_handover_defect_with_an_empty_signed_record_reference_is_refused() {
    let refs = refs();
    let mut record = handover_record("2025-10-15");
    record.signed_record = " ".into();
    given::<TicketDecider>(Vec::new())
        .when(
            receive_with(TicketKind::HandoverDefect, Some(record)),
            &at(&refs, agent(), "2025-09-30 10:00"),
        )
        .then_error(DomainError::input("signed inspection record", "it is empty"));
}

#[test]
fn a_repair_carrying_a_handover_record_is_refused() {
    let refs = refs();
    given::<TicketDecider>(Vec::new())
        .when(
            receive_with(TicketKind::Repair, Some(handover_record("2025-10-15"))),
            &at(&refs, agent(), "2025-09-30 10:00"),
        )
        .then_error(DomainError::input("handover record", "only handover defects carry one"));
}

#[test]
fn a_promised_date_before_the_inspection_day_is_refused() {
    let refs = refs();
    given::<TicketDecider>(Vec::new())
        .when(
            receive_with(TicketKind::HandoverDefect, Some(handover_record("2025-09-29"))),
            &at(&refs, agent(), "2025-09-30 10:00"),
        )
        .then_error_containing("2025-09-29 is before the inspection on 2025-09-30");
}

#[test]
fn a_promised_date_on_the_inspection_day_is_accepted() {
    let refs = refs();
    let events = given::<TicketDecider>(Vec::new())
        .when(
            receive_with(TicketKind::HandoverDefect, Some(handover_record("2025-09-30"))),
            &at(&refs, agent(), "2025-09-30 10:00"),
        )
        .then_names(&["Received"]);
    assert_eq!(
        ticket_of(&events).clocks.resolution,
        Some(ClockTarget::Deadline {
            due: bj("2025-10-01 00:00")
        })
    );
}

#[test]
fn a_handover_defect_is_dispatched_straight_from_received() {
    let refs = refs();
    let events = given::<TicketDecider>(handover_received(&refs))
        .when(dispatch_to_c1(), &at(&refs, agent(), "2025-09-30 10:30"))
        .then_names(&["Dispatched"]);
    let ticket = ticket_of(&events);
    assert_eq!(ticket.status, Status::Dispatched);
    assert_eq!(
        ticket.assignee,
        Some(Assignee::Contractor(domain::ids::ContractorId::new("C-1").unwrap()))
    );
}

#[test]
fn a_repair_is_not_dispatched_before_it_is_acknowledged() {
    let refs = refs();
    let events = history(
        &refs,
        vec![(
            agent(),
            "2025-09-30 10:00",
            receive(TicketKind::Repair, Priority::Normal),
        )],
    );
    given::<TicketDecider>(events)
        .when(dispatch_to_c1(), &at(&refs, agent(), "2025-09-30 10:30"))
        .then_error_containing("repair T-1 is received (it must be acknowledged");
}

#[test]
fn a_handover_defect_goes_from_received_to_accepted_and_closed() {
    let refs = refs();
    let events = handover_diagnosed(&refs);
    let diagnosed = ticket_of(&events);
    assert_eq!(diagnosed.status, Status::Diagnosed);
    let diagnosis = diagnosed.diagnosis.unwrap();
    assert!(!diagnosis.chargeable);
    assert!(diagnosis.warranty.unwrap().in_warranty);

    let events = given::<TicketDecider>(events)
        .when(complete(), &at(&refs, contractor("C-1"), "2025-10-14 17:00"))
        .then_names(&["Repaired"]);
    let events = given::<TicketDecider>(events)
        .when(accept(), &at(&refs, owner_actor(), "2025-10-14 17:30"))
        .then_names(&["Accepted"]);
    assert_eq!(ticket_of(&events).status, Status::Accepted);
    let events = given::<TicketDecider>(events)
        .when(close(), &at(&refs, manager(), "2025-10-15 09:00"))
        .then_names(&["Closed"]);

    let ticket = ticket_of(&events);
    assert_eq!(ticket.kind, TicketKind::HandoverDefect);
    assert_eq!(ticket.status, Status::Closed);
    assert_eq!(ticket.handover, Some(handover_record("2025-10-15")));
    assert_eq!(ticket.repaired_at, Some(bj("2025-10-14 17:00")));
    assert_eq!(ticket.accepted_at, Some(bj("2025-10-14 17:30")));
    assert_eq!(ticket.acceptance_ratings, Some(ratings(4)));
    assert_eq!(ticket.closed_at, Some(bj("2025-10-15 09:00")));
}

#[test]
fn the_resolution_target_of_a_handover_defect_is_the_end_of_the_promised_date() {
    let refs = refs();
    let ticket = ticket_of(&handover_received(&refs));
    assert_eq!(
        ticket.clocks.resolution,
        Some(ClockTarget::Deadline {
            due: bj("2025-10-16 00:00")
        })
    );
}

#[test]
fn a_handover_defect_repaired_late_on_the_promised_date_meets_its_deadline() {
    let refs = refs();
    let events = given::<TicketDecider>(handover_diagnosed(&refs))
        .when(complete(), &at(&refs, contractor("C-1"), "2025-10-15 23:59"))
        .then_names(&["Repaired"]);
    let report = evaluate(&events, &CalendarRegistry::with_cn_mainland(), bj("2025-10-15 23:59")).unwrap();
    let resolution = report.resolution.unwrap();
    assert_eq!(resolution.status, ClockStatus::Met);
    assert_eq!(resolution.due_at, Some(bj("2025-10-16 00:00")));
}

#[test]
fn a_handover_defect_repaired_the_day_after_the_promised_date_breaches() {
    let refs = refs();
    let events = given::<TicketDecider>(handover_diagnosed(&refs))
        .when(complete(), &at(&refs, contractor("C-1"), "2025-10-16 10:00"))
        .then_names(&["Repaired"]);
    let report = evaluate(&events, &CalendarRegistry::with_cn_mainland(), bj("2025-10-16 10:00")).unwrap();
    let resolution = report.resolution.unwrap();
    assert_eq!(resolution.status, ClockStatus::Breached);
    assert_eq!(resolution.breached_at, Some(bj("2025-10-16 00:00")));
}

#[test]
fn raising_a_handover_defect_to_emergency_keeps_the_promised_deadline() {
    let refs = refs();
    let events = given::<TicketDecider>(handover_received(&refs))
        .when(
            TicketCommand::ChangePriority {
                priority: Priority::Emergency,
                reason: "渗水影响楼下 leaking into the unit below".into(),
            },
            &at(&refs, manager(), "2025-09-30 11:00"),
        )
        .then_names(&["PriorityChanged"]);
    let clocks = ticket_of(&events).clocks;
    assert_eq!(
        clocks.resolution,
        Some(ClockTarget::Deadline {
            due: bj("2025-10-16 00:00")
        })
    );
    assert_eq!(clocks.on_site.and_then(|t| t.minutes()), Some(120));
}

#[test]
fn a_pre_inspection_defect_is_diagnosed_before_delivery() {
    let mut refs = refs();
    refs.delivered_on = None;
    let engineer = || staff(Role::Engineer);
    let h = history(
        &refs,
        vec![
            (
                agent(),
                "2025-09-30 10:00",
                receive(TicketKind::HandoverDefect, Priority::Normal),
            ),
            (
                agent(),
                "2025-09-30 10:10",
                TicketCommand::Dispatch {
                    to: Assignee::Contractor(domain::ids::ContractorId::new("C-1").unwrap()),
                    note: String::new(),
                },
            ),
            (
                contractor("C-1"),
                "2025-09-30 11:00",
                TicketCommand::RecordArrival { note: String::new() },
            ),
        ],
    );
    let events = given::<TicketDecider>(h)
        .when(
            TicketCommand::Diagnose {
                cause: "hollow tiles".into(),
                responsible: ResponsibleParty::ContractorWorkmanship,
                item: domain::warranty::WarrantyItem::HollowOrCrackedFloor,
                plan: RepairPlan {
                    content: "re-lay".into(),
                    materials: vec![],
                    duration_minutes: 240,
                    cost: None,
                },
            },
            &context_at(&refs, engineer(), bj("2025-09-30 11:30")),
        )
        .then_names(&["Diagnosed"]);
    let TicketEvent::Diagnosed {
        warranty, chargeable, ..
    } = &events.last().unwrap().event
    else {
        panic!()
    };
    assert_eq!((warranty, chargeable), (&None, &false));
}
