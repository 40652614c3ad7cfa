//! Diagnosis: warranty, responsibility and charge, and the owner's
//! confirmation of a chargeable plan.

use domain::error::DomainError;
use domain::testing::fixtures::*;
use domain::testing::given;
use domain::ticket::*;
use domain::warranty::WarrantyItem;

use super::*;

#[test]
fn diagnosis_computes_warranty_and_charge() {
    let refs = refs();
    let h = diagnosed(&refs);
    let TicketEvent::Diagnosed {
        warranty, chargeable, ..
    } = &h.last().unwrap().event
    else {
        panic!()
    };
    let w = warranty.as_ref().unwrap();
    // Delivered 2024-06-30, waterproofed rooms 5 years, reported 2025-09-30.
    assert!(w.in_warranty);
    assert_eq!(w.last_day, date("2029-06-30"));
    assert_eq!(w.report_date, date("2025-09-30"));
    assert!(!chargeable);
    // A free repair has no cost for the owner.
    let mut h = dispatched(&refs);
    h.extend(history_from(&refs, &h, vec![(c1(), "2025-09-30 13:40", arrive())]));
    given::<TicketDecider>(h.clone())
        .when(
            diagnose(ResponsibleParty::Developer, Some(5000)),
            &at(&refs, engineer(), "2025-09-30 13:50"),
        )
        .then_error_containing("leave the cost out");
    // Owner misuse is chargeable and needs its cost.
    given::<TicketDecider>(h.clone())
        .when(
            diagnose(ResponsibleParty::OwnerMisuse, None),
            &at(&refs, engineer(), "2025-09-30 13:50"),
        )
        .then_error_containing("needs its cost");
    let h = given::<TicketDecider>(h)
        .when(
            diagnose(ResponsibleParty::OwnerMisuse, Some(35_000)),
            &at(&refs, engineer(), "2025-09-30 13:50"),
        )
        .then_names(&["Diagnosed"]);
    let TicketEvent::Diagnosed { chargeable, .. } = &h.last().unwrap().event else {
        panic!()
    };
    assert!(chargeable);
}

#[test]
fn out_of_warranty_the_developer_is_not_responsible_and_the_owner_pays() {
    let mut refs = refs();
    refs.delivered_on = Some(date("2019-06-30"));
    let mut h = dispatched(&refs);
    h.extend(history_from(&refs, &h, vec![(c1(), "2025-09-30 13:40", arrive())]));
    given::<TicketDecider>(h.clone())
        .when(
            diagnose(ResponsibleParty::Developer, None),
            &at(&refs, engineer(), "2025-09-30 13:50"),
        )
        .then_error_containing("warranty for waterproofed rooms ended on 2024-06-30");
    let h = given::<TicketDecider>(h)
        .when(
            diagnose(ResponsibleParty::ThirdParty, Some(20_000)),
            &at(&refs, engineer(), "2025-09-30 13:50"),
        )
        .then_names(&["Diagnosed"]);
    let TicketEvent::Diagnosed {
        chargeable, warranty, ..
    } = &h.last().unwrap().event
    else {
        panic!()
    };
    assert!(chargeable);
    assert!(!warranty.as_ref().unwrap().in_warranty);
}

#[test]
fn a_unit_without_a_delivery_date_cannot_be_diagnosed() {
    let mut refs = refs();
    let mut h = dispatched(&refs);
    h.extend(history_from(&refs, &h, vec![(c1(), "2025-09-30 13:40", arrive())]));
    refs.delivered_on = None;
    let err = given::<TicketDecider>(h)
        .when(
            diagnose(ResponsibleParty::Developer, None),
            &at(&refs, engineer(), "2025-09-30 13:50"),
        )
        .then_error_containing("delivery date of unit HZ-1-3-1502");
    assert!(matches!(err, DomainError::MissingReference { .. }));
}

#[test]
fn a_chargeable_repair_waits_for_the_owners_confirmation() {
    let refs = refs();
    let mut h = dispatched(&refs);
    h.extend(history_from(
        &refs,
        &h,
        vec![
            (c1(), "2025-09-30 13:40", arrive()),
            (
                engineer(),
                "2025-09-30 13:50",
                diagnose(ResponsibleParty::OwnerMisuse, Some(35_000)),
            ),
        ],
    ));
    given::<TicketDecider>(h.clone())
        .when(complete(), &at(&refs, c1(), "2025-09-30 15:00"))
        .then_error_containing("the repair is chargeable (¥350.00) and the owner has not confirmed the plan");
    let h = given::<TicketDecider>(h)
        .when(
            TicketCommand::ConfirmPlan {
                confirmation: "PLAN-SIGNED-7".into(),
            },
            &at(&refs, owner_actor(), "2025-09-30 14:00"),
        )
        .then_names(&["PlanConfirmed"]);
    assert_eq!(status(&h), Status::InRepair);
    given::<TicketDecider>(h)
        .when(complete(), &at(&refs, c1(), "2025-09-30 15:00"))
        .then_names(&["Repaired"]);
}

#[test]
fn a_declined_plan_can_be_closed_but_not_completed() {
    let refs = refs();
    let mut h = dispatched(&refs);
    h.extend(history_from(
        &refs,
        &h,
        vec![
            (c1(), "2025-09-30 13:40", arrive()),
            (
                engineer(),
                "2025-09-30 13:50",
                diagnose(ResponsibleParty::OwnerMisuse, Some(35_000)),
            ),
            (
                agent(),
                "2025-09-30 14:00",
                TicketCommand::DeclinePlan {
                    reason: "too expensive".into(),
                },
            ),
        ],
    ));
    assert_eq!(status(&h), Status::PlanDeclined);
    given::<TicketDecider>(h.clone())
        .when(complete(), &at(&refs, c1(), "2025-09-30 15:00"))
        .then_error_containing("is plan declined");
    given::<TicketDecider>(h)
        .when(close(), &at(&refs, agent(), "2025-09-30 15:00"))
        .then_names(&["Closed"]);
}

#[test]
fn warranty_is_judged_on_the_local_report_date_not_the_diagnosis_date() {
    // Electrical lines, 2 years from 2023-09-30: last day 2025-09-30.
    let mut refs = refs();
    refs.delivered_on = Some(date("2023-09-30"));
    let lines = |cost: Option<u64>| TicketCommand::Diagnose {
        cause: "loose terminal".into(),
        responsible: ResponsibleParty::Developer,
        item: WarrantyItem::ElectricalLines,
        plan: RepairPlan {
            content: "tighten".into(),
            materials: vec![],
            duration_minutes: 30,
            cost: cost.map(|fen| Money { fen }),
        },
    };
    let path = |received: &str| {
        history(
            &refs,
            vec![
                (agent(), received, receive(TicketKind::Repair, Priority::Normal)),
                (
                    agent(),
                    "2025-10-09 09:00",
                    TicketCommand::Acknowledge {
                        promised_at: None,
                        note: String::new(),
                    },
                ),
                (agent(), "2025-10-09 09:10", dispatch("C-1")),
                (c1(), "2025-10-09 10:00", arrive()),
            ],
        )
    };
    // Received at 23:30 Beijing on the last day (15:30 UTC), diagnosed nine
    // days later: in warranty.
    let events = given::<TicketDecider>(path("2025-09-30 23:30"))
        .when(lines(None), &at(&refs, engineer(), "2025-10-09 10:30"))
        .then_names(&["Diagnosed"]);
    let TicketEvent::Diagnosed { warranty, .. } = &events.last().unwrap().event else {
        panic!()
    };
    assert_eq!(warranty.as_ref().unwrap().report_date, date("2025-09-30"));
    // Received half an hour after midnight (still 30 September in UTC):
    // out of warranty.
    given::<TicketDecider>(path("2025-10-01 00:30"))
        .when(lines(None), &at(&refs, engineer(), "2025-10-09 10:30"))
        .then_error_containing("ended on 2025-09-30");
}
