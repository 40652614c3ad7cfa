//! The repair lifecycle: every transition and every refusal.

use chrono::TimeDelta;
use domain::actor::{Actor, Role};
use domain::decider::{Context, Decider, Stamped};
use domain::error::DomainError;
use domain::ids::{ContractorId, TicketId, UserId};
use domain::policy::{ClockTarget, TimeBasis};
use domain::testing::fixtures::*;
use domain::testing::given;
use domain::ticket::*;
use domain::warranty::WarrantyItem;

type H = Vec<Stamped<TicketEvent>>;

fn agent() -> Actor {
    staff(Role::Agent)
}
fn engineer() -> Actor {
    staff(Role::Engineer)
}
fn c1() -> Actor {
    contractor("C-1")
}
fn ack() -> TicketCommand {
    TicketCommand::Acknowledge {
        promised_at: Some(bj("2025-09-30 14:00")),
        note: "visit this afternoon".into(),
    }
}
fn dispatch(to: &str) -> TicketCommand {
    TicketCommand::Dispatch {
        to: Assignee::Contractor(ContractorId::new(to).unwrap()),
        note: String::new(),
    }
}
fn arrive() -> TicketCommand {
    TicketCommand::RecordArrival { note: String::new() }
}
fn diagnose(responsible: ResponsibleParty, cost: Option<u64>) -> TicketCommand {
    TicketCommand::Diagnose {
        cause: "failed sealant around the floor drain".into(),
        responsible,
        item: WarrantyItem::WaterproofedRooms,
        plan: RepairPlan {
            content: "re-seal the floor drain, 48 h water test".into(),
            materials: vec!["polyurethane sealant".into()],
            duration_minutes: 180,
            cost: cost.map(|fen| Money { fen }),
        },
    }
}
fn complete() -> TicketCommand {
    TicketCommand::CompleteRepair {
        summary: "drain re-sealed".into(),
        usage_advice: "no standing water for 24 h".into(),
    }
}
fn accept() -> TicketCommand {
    TicketCommand::AcceptRepair {
        confirmation: "WXQR-0001".into(),
        ratings: ratings(5),
        comment: "quick".into(),
    }
}
fn reject() -> TicketCommand {
    TicketCommand::RejectRepair {
        reason: "still dripping".into(),
    }
}
fn close() -> TicketCommand {
    TicketCommand::Close { note: String::new() }
}

/// Received 10:00, acknowledged 10:30, dispatched to C-1 at 11:00 on
/// Tuesday 30 September 2025.
fn dispatched(refs: &Refs) -> H {
    history(
        refs,
        vec![
            (
                agent(),
                "2025-09-30 10:00",
                receive(TicketKind::Repair, Priority::Urgent),
            ),
            (agent(), "2025-09-30 10:30", ack()),
            (agent(), "2025-09-30 11:00", dispatch("C-1")),
        ],
    )
}

/// … arrived 13:40 and diagnosed (developer, in warranty) 13:50.
fn diagnosed(refs: &Refs) -> H {
    let mut h = dispatched(refs);
    h.extend(history_from(
        refs,
        &h,
        vec![
            (c1(), "2025-09-30 13:40", arrive()),
            (
                engineer(),
                "2025-09-30 13:50",
                diagnose(ResponsibleParty::Developer, None),
            ),
        ],
    ));
    h
}

/// … repaired at 15:00.
fn repaired(refs: &Refs) -> H {
    let mut h = diagnosed(refs);
    h.extend(history_from(refs, &h, vec![(c1(), "2025-09-30 15:00", complete())]));
    h
}

/// Continues a history with more steps; panics on a refusal.
fn history_from(refs: &Refs, before: &H, steps: Vec<(Actor, &str, TicketCommand)>) -> H {
    let mut all = before.clone();
    let mut new = Vec::new();
    for (actor, at, command) in steps {
        let state = TicketDecider::fold(&all);
        let events = TicketDecider::decide(&state, command, &context_at(refs, actor, bj(at)))
            .unwrap_or_else(|e| panic!("step at {at} refused: {e}"));
        all.extend(events.clone());
        new.extend(events);
    }
    new
}

fn status(h: &H) -> Status {
    TicketDecider::fold(h).ticket().unwrap().status
}

fn at<'r>(refs: &'r Refs, actor: Actor, when: &str) -> Context<TicketReference<'r>> {
    context_at(refs, actor, bj(when))
}

#[test]
fn receiving_records_the_report_and_starts_the_clocks() {
    let refs = refs();
    let events = given::<TicketDecider>(vec![])
        .when(
            receive(TicketKind::Repair, Priority::Normal),
            &at(&refs, agent(), "2025-09-30 10:00"),
        )
        .then_names(&["Received"]);
    let stamped = &events[0];
    assert_eq!(stamped.occurred_at, bj("2025-09-30 10:00"));
    assert_eq!(stamped.actor, agent());
    let TicketEvent::Received { clocks, channel, .. } = &stamped.event else {
        panic!("not Received");
    };
    assert_eq!(*channel, Channel::BackOffice);
    assert_eq!(clocks.policy.id, "default");
    assert_eq!(clocks.calendar.id, "cn-mainland");
    let business = |minutes| {
        Some(ClockTarget::Duration {
            minutes,
            basis: TimeBasis::Business,
        })
    };
    // 1, 2 and 7 business days of 7 h 30 min.
    assert_eq!(clocks.first_response, business(450));
    assert_eq!(clocks.on_site, business(900));
    assert_eq!(clocks.resolution, business(3150));
    let ticket = TicketDecider::fold(&events);
    let t = ticket.ticket().unwrap();
    assert_eq!(
        (t.status, t.priority, t.reopen_count),
        (Status::Received, Priority::Normal, 0)
    );
    assert_eq!(t.received_at, bj("2025-09-30 10:00"));
}

#[test]
fn the_standard_path_runs_from_received_to_closed() {
    let refs = refs();
    let mut h = repaired(&refs);
    assert_eq!(status(&h), Status::Repaired);
    h.extend(history_from(&refs, &h, vec![(agent(), "2025-09-30 16:00", accept())]));
    assert_eq!(status(&h), Status::Accepted);
    h.extend(history_from(&refs, &h, vec![(agent(), "2025-09-30 16:05", close())]));
    let state = TicketDecider::fold(&h);
    let t = state.ticket().unwrap();
    assert_eq!(t.status, Status::Closed);
    assert_eq!(t.acceptance_ratings, Some(ratings(5)));
    assert_eq!(t.first_arrived_at, Some(bj("2025-09-30 13:40")));
    assert_eq!(t.closed_at, Some(bj("2025-09-30 16:05")));
    let names: Vec<&str> = h.iter().map(|e| e.event.name()).collect();
    assert_eq!(
        names,
        [
            "Received",
            "Acknowledged",
            "Dispatched",
            "Arrived",
            "Diagnosed",
            "Repaired",
            "Accepted",
            "Closed"
        ]
    );
}

#[test]
fn a_repair_is_not_dispatched_before_it_is_acknowledged() {
    let refs = refs();
    let h = history(
        &refs,
        vec![(
            agent(),
            "2025-09-30 10:00",
            receive(TicketKind::Repair, Priority::Normal),
        )],
    );
    given::<TicketDecider>(h)
        .when(dispatch("C-1"), &at(&refs, agent(), "2025-09-30 10:10"))
        .then_error_containing("cannot dispatch the ticket: repair T-1 is received (it must be acknowledged or");
}

#[test]
fn acknowledging_twice_or_with_a_promise_in_the_past_is_refused() {
    let refs = refs();
    let h = history(
        &refs,
        vec![(
            agent(),
            "2025-09-30 10:00",
            receive(TicketKind::Repair, Priority::Normal),
        )],
    );
    given::<TicketDecider>(h.clone())
        .when(
            TicketCommand::Acknowledge {
                promised_at: Some(bj("2025-09-30 09:00")),
                note: String::new(),
            },
            &at(&refs, agent(), "2025-09-30 10:10"),
        )
        .then_error_containing("promised time");
    let h = given::<TicketDecider>(h)
        .when(ack(), &at(&refs, agent(), "2025-09-30 10:10"))
        .then_names(&["Acknowledged"]);
    given::<TicketDecider>(h)
        .when(ack(), &at(&refs, agent(), "2025-09-30 10:20"))
        .then_error_containing("is acknowledged (it must be received)");
}

#[test]
fn re_dispatch_records_the_previous_assignee_and_clears_the_appointment() {
    let refs = refs();
    let mut h = dispatched(&refs);
    h.extend(history_from(
        &refs,
        &h,
        vec![(
            c1(),
            "2025-09-30 11:10",
            TicketCommand::Schedule {
                window: AppointmentWindow {
                    from: bj("2025-09-30 14:00"),
                    to: bj("2025-09-30 16:00"),
                },
            },
        )],
    ));
    assert_eq!(status(&h), Status::Scheduled);
    let h = given::<TicketDecider>(h)
        .when(dispatch("C-2"), &at(&refs, staff(Role::Manager), "2025-09-30 11:20"))
        .then_names(&["Dispatched"]);
    let TicketEvent::Dispatched { previous, .. } = &h.last().unwrap().event else {
        panic!()
    };
    assert_eq!(previous, &Some(Assignee::Contractor(ContractorId::new("C-1").unwrap())));
    let state = TicketDecider::fold(&h);
    let t = state.ticket().unwrap();
    assert_eq!(
        (t.dispatch_count, t.appointment, t.status),
        (2, None, Status::Dispatched)
    );
    given::<TicketDecider>(h)
        .when(dispatch("C-2"), &at(&refs, staff(Role::Manager), "2025-09-30 11:30"))
        .then_error_containing("already dispatched to contractor C-2");
}

#[test]
fn a_contractor_acts_only_on_tickets_dispatched_to_it() {
    let refs = refs();
    let h = dispatched(&refs);
    let err = given::<TicketDecider>(h.clone())
        .when(arrive(), &at(&refs, contractor("C-2"), "2025-09-30 13:00"))
        .then_error_containing("not dispatched to contractor C-2");
    assert!(matches!(err, DomainError::Forbidden { .. }));
    given::<TicketDecider>(h.clone())
        .when(arrive(), &at(&refs, c1(), "2025-09-30 13:00"))
        .then_names(&["Arrived"]);
    // Nor may a contractor re-dispatch, accept its own work or close.
    for command in [dispatch("C-1"), accept(), close()] {
        let err = given::<TicketDecider>(h.clone())
            .when(command, &at(&refs, c1(), "2025-09-30 13:00"))
            .then_error_containing("the contractor role cannot do this");
        assert!(matches!(err, DomainError::Forbidden { .. }));
    }
}

#[test]
fn analysts_and_auditors_only_read() {
    let refs = refs();
    for role in [Role::Analyst, Role::Auditor] {
        given::<TicketDecider>(vec![])
            .when(
                receive(TicketKind::Repair, Priority::Normal),
                &at(&refs, staff(role), "2025-09-30 10:00"),
            )
            .then_error_containing(&format!("the {role} role cannot do this"));
        given::<TicketDecider>(dispatched(&refs))
            .when(
                TicketCommand::Comment {
                    text: "x".into(),
                    internal: true,
                },
                &at(&refs, staff(role), "2025-09-30 12:00"),
            )
            .then_error_containing("cannot do this");
    }
}

#[test]
fn owners_act_on_their_own_reports_only() {
    let refs = refs();
    let h = repaired(&refs);
    given::<TicketDecider>(h.clone())
        .when(accept(), &at(&refs, owner_actor(), "2025-09-30 16:00"))
        .then_names(&["Accepted"]);
    let stranger = Actor::owner(UserId::new("u-9").unwrap(), domain::ids::OwnerId::new("O-9").unwrap());
    given::<TicketDecider>(h.clone())
        .when(accept(), &at(&refs, stranger, "2025-09-30 16:00"))
        .then_error_containing("owners act only on their own reports");
    given::<TicketDecider>(h)
        .when(close(), &at(&refs, owner_actor(), "2025-09-30 16:00"))
        .then_error_containing("the owner role cannot do this");
}

#[test]
fn appointment_windows_must_make_sense() {
    let refs = refs();
    let h = dispatched(&refs);
    let window = |from: &str, to: &str| TicketCommand::Schedule {
        window: AppointmentWindow {
            from: bj(from),
            to: bj(to),
        },
    };
    let ctx = at(&refs, agent(), "2025-09-30 12:00");
    given::<TicketDecider>(h.clone())
        .when(window("2025-10-09 16:00", "2025-10-09 14:00"), &ctx)
        .then_error_containing("ends before it starts");
    given::<TicketDecider>(h.clone())
        .when(window("2025-10-09 09:00", "2025-10-11 09:00"), &ctx)
        .then_error_containing("longer than one day");
    given::<TicketDecider>(h.clone())
        .when(window("2025-09-29 09:00", "2025-09-29 11:00"), &ctx)
        .then_error_containing("over before it was agreed");
    given::<TicketDecider>(h)
        .when(window("2025-10-09 09:00", "2025-10-09 11:00"), &ctx)
        .then_names(&["Scheduled"]);
}

#[test]
fn arrival_needs_a_dispatch_and_diagnosis_needs_an_arrival() {
    let refs = refs();
    let acknowledged = repair_received_and_acknowledged();
    given::<TicketDecider>(acknowledged)
        .when(arrive(), &at(&refs, engineer(), "2025-09-30 12:00"))
        .then_error_containing("cannot record the arrival: repair T-1 is acknowledged");
    given::<TicketDecider>(dispatched(&refs))
        .when(
            diagnose(ResponsibleParty::Developer, None),
            &at(&refs, engineer(), "2025-09-30 12:00"),
        )
        .then_error_containing("cannot record the diagnosis: repair T-1 is dispatched (it must be on site");
}

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
fn accepting_a_repair_that_is_not_repaired_is_refused_by_name() {
    let refs = refs();
    given::<TicketDecider>(diagnosed(&refs))
        .when(accept(), &at(&refs, agent(), "2025-09-30 15:00"))
        .then_error(DomainError::InvalidTransition {
            action: "accept the repair",
            subject: "repair T-1".into(),
            status: "diagnosed".into(),
            reason: "the repair is not finished".into(),
        });
}

#[test]
fn every_rejection_reopens_a_counted_rework_cycle() {
    let refs = refs();
    let mut h = repaired(&refs);
    for (cycle, hour) in [(1u32, 15), (2, 16)] {
        h.extend(history_from(
            &refs,
            &h,
            vec![
                (agent(), &format!("2025-09-30 {hour}:10"), reject()),
                (
                    agent(),
                    &format!("2025-09-30 {hour}:20"),
                    TicketCommand::Reopen {
                        reason: "rework".into(),
                    },
                ),
            ],
        ));
        let TicketEvent::Reopened { cycle: recorded, .. } = &h.last().unwrap().event else {
            panic!()
        };
        assert_eq!(*recorded, cycle);
        assert_eq!(status(&h), Status::Reopened);
        // Rework with the diagnosis on record: straight to repaired.
        h.extend(history_from(
            &refs,
            &h,
            vec![(c1(), &format!("2025-09-30 {hour}:40"), complete())],
        ));
    }
    let state = TicketDecider::fold(&h);
    let t = state.ticket().unwrap();
    assert_eq!((t.reopen_count, t.rejection_count, t.status), (2, 2, Status::Repaired));
}

#[test]
fn reopen_needs_a_rejection_or_a_closed_accepted_repair() {
    let refs = refs();
    let h = repaired(&refs);
    let reopen = || TicketCommand::Reopen {
        reason: "leaks again".into(),
    };
    given::<TicketDecider>(h.clone())
        .when(reopen(), &at(&refs, agent(), "2025-09-30 16:00"))
        .then_error_containing("only a rejected repair");
    let mut h = h;
    h.extend(history_from(
        &refs,
        &h,
        vec![
            (agent(), "2025-09-30 16:00", accept()),
            (agent(), "2025-09-30 16:05", close()),
        ],
    ));
    let h = given::<TicketDecider>(h)
        .when(reopen(), &at(&refs, agent(), "2025-10-20 09:00"))
        .then_names(&["Reopened"]);
    assert_eq!(status(&h), Status::Reopened);
}

#[test]
fn hold_and_resume_return_to_the_same_step() {
    let refs = refs();
    let h = dispatched(&refs);
    let h = given::<TicketDecider>(h)
        .when(
            TicketCommand::PutOnHold {
                reason: HoldReason::OwnerUnreachable,
                note: "no answer twice".into(),
            },
            &at(&refs, agent(), "2025-09-30 11:30"),
        )
        .then_names(&["PutOnHold"]);
    assert_eq!(status(&h), Status::OnHold);
    given::<TicketDecider>(h.clone())
        .when(arrive(), &at(&refs, c1(), "2025-09-30 11:40"))
        .then_error_containing("is on hold (resume it first)");
    given::<TicketDecider>(h.clone())
        .when(
            TicketCommand::PutOnHold {
                reason: HoldReason::WaitingForMaterial,
                note: String::new(),
            },
            &at(&refs, agent(), "2025-09-30 11:40"),
        )
        .then_error_containing("resume it first");
    let h = given::<TicketDecider>(h)
        .when(
            TicketCommand::Resume { note: String::new() },
            &at(&refs, agent(), "2025-09-30 12:00"),
        )
        .then_names(&["Resumed"]);
    assert_eq!(status(&h), Status::Dispatched);
    given::<TicketDecider>(h)
        .when(
            TicketCommand::Resume { note: String::new() },
            &at(&refs, agent(), "2025-09-30 12:10"),
        )
        .then_error_containing("it is not on hold");
}

#[test]
fn withdrawn_and_merged_tickets_only_take_comments() {
    let refs = refs();
    let withdrawn = given::<TicketDecider>(dispatched(&refs))
        .when(
            TicketCommand::Withdraw {
                reason: "fixed it myself".into(),
            },
            &at(&refs, owner_actor(), "2025-09-30 12:00"),
        )
        .then_names(&["Withdrawn"]);
    assert_eq!(status(&withdrawn), Status::Withdrawn);
    given::<TicketDecider>(withdrawn.clone())
        .when(arrive(), &at(&refs, c1(), "2025-09-30 13:00"))
        .then_error_containing("is withdrawn (the ticket is finished)");
    given::<TicketDecider>(withdrawn)
        .when(
            TicketCommand::Comment {
                text: "owner confirmed by phone".into(),
                internal: false,
            },
            &at(&refs, agent(), "2025-09-30 13:00"),
        )
        .then_names(&["Commented"]);

    given::<TicketDecider>(dispatched(&refs))
        .when(
            TicketCommand::Merge {
                into: TicketId::new("T-1").unwrap(),
            },
            &at(&refs, agent(), "2025-09-30 12:00"),
        )
        .then_error_containing("merged into itself");
    let merged = given::<TicketDecider>(dispatched(&refs))
        .when(
            TicketCommand::Merge {
                into: TicketId::new("T-0").unwrap(),
            },
            &at(&refs, agent(), "2025-09-30 12:00"),
        )
        .then_names(&["MergedInto"]);
    let state = TicketDecider::fold(&merged);
    assert_eq!(state.ticket().unwrap().merged_into, Some(TicketId::new("T-0").unwrap()));
    given::<TicketDecider>(merged)
        .when(
            TicketCommand::RecordRevisit {
                outcome: RevisitOutcome::Satisfied,
                ratings: None,
                stage: TouchpointStage::WarrantyService,
                note: String::new(),
            },
            &at(&refs, agent(), "2025-09-30 13:00"),
        )
        .then_error_containing("is merged");
}

#[test]
fn work_that_is_done_is_closed_not_withdrawn() {
    let refs = refs();
    given::<TicketDecider>(repaired(&refs))
        .when(
            TicketCommand::Withdraw {
                reason: "never mind".into(),
            },
            &at(&refs, owner_actor(), "2025-09-30 16:00"),
        )
        .then_error_containing("the work is done; close the ticket instead");
}

#[test]
fn closing_needs_the_owners_acceptance() {
    let refs = refs();
    given::<TicketDecider>(repaired(&refs))
        .when(close(), &at(&refs, agent(), "2025-09-30 16:00"))
        .then_error_containing("cannot close the ticket: repair T-1 is repaired");
}

#[test]
fn revisits_follow_acceptance_and_ratings_are_one_to_five() {
    let refs = refs();
    let revisit = |r: Option<Ratings>| TicketCommand::RecordRevisit {
        outcome: RevisitOutcome::Satisfied,
        ratings: r,
        stage: TouchpointStage::WarrantyService,
        note: String::new(),
    };
    given::<TicketDecider>(repaired(&refs))
        .when(revisit(None), &at(&refs, agent(), "2025-09-30 16:00"))
        .then_error_containing("a revisit follows the owner's acceptance");
    let mut h = repaired(&refs);
    h.extend(history_from(
        &refs,
        &h,
        vec![
            (agent(), "2025-09-30 16:00", accept()),
            (agent(), "2025-09-30 16:05", close()),
        ],
    ));
    given::<TicketDecider>(h.clone())
        .when(revisit(Some(ratings(6))), &at(&refs, agent(), "2025-10-09 10:00"))
        .then_error_containing("ratings are from 1 to 5");
    let h = given::<TicketDecider>(h)
        .when(revisit(Some(ratings(4))), &at(&refs, agent(), "2025-10-09 10:00"))
        .then_names(&["Revisited"]);
    let state = TicketDecider::fold(&h);
    let t = state.ticket().unwrap();
    assert_eq!(
        (t.revisit_count, t.last_revisit, t.status),
        (1, Some(RevisitOutcome::Satisfied), Status::Closed)
    );
}

#[test]
fn priority_changes_re_target_and_must_change_something() {
    let refs = refs();
    let h = dispatched(&refs);
    given::<TicketDecider>(h.clone())
        .when(
            TicketCommand::ChangePriority {
                priority: Priority::Urgent,
                reason: "x".into(),
            },
            &at(&refs, agent(), "2025-09-30 11:30"),
        )
        .then_error_containing("the priority is already urgent");
    given::<TicketDecider>(h.clone())
        .when(
            TicketCommand::ChangePriority {
                priority: Priority::Emergency,
                reason: String::new(),
            },
            &at(&refs, agent(), "2025-09-30 11:30"),
        )
        .then_error_containing("invalid reason: it is empty");
    let h = given::<TicketDecider>(h)
        .when(
            TicketCommand::ChangePriority {
                priority: Priority::Emergency,
                reason: "water now reaching the flat below".into(),
            },
            &at(&refs, agent(), "2025-09-30 11:30"),
        )
        .then_names(&["PriorityChanged"]);
    let TicketEvent::PriorityChanged { from, to, clocks, .. } = &h.last().unwrap().event else {
        panic!()
    };
    assert_eq!((*from, *to), (Priority::Urgent, Priority::Emergency));
    assert_eq!(
        clocks.resolution,
        Some(ClockTarget::Duration {
            minutes: 24 * 60,
            basis: TimeBasis::WallClock
        })
    );
    assert_eq!(TicketDecider::fold(&h).ticket().unwrap().priority, Priority::Emergency);
}

#[test]
fn a_ticket_is_received_once_and_nothing_happens_to_one_never_received() {
    let refs = refs();
    given::<TicketDecider>(dispatched(&refs))
        .when(
            receive(TicketKind::Repair, Priority::Normal),
            &at(&refs, agent(), "2025-09-30 12:00"),
        )
        .then_error(DomainError::AlreadyExists {
            what: "ticket T-1".into(),
        });
    let err = given::<TicketDecider>(vec![])
        .when(ack(), &at(&refs, agent(), "2025-09-30 12:00"))
        .then_error_containing("does not exist");
    assert!(matches!(err, DomainError::NotFound { .. }));
}

#[test]
fn actions_happen_in_the_past_but_never_in_the_future_or_out_of_order() {
    let refs = refs();
    let h = dispatched(&refs);
    // A field app syncing at 15:00 a visit that happened at 13:40.
    let mut ctx = at(&refs, c1(), "2025-09-30 15:00");
    ctx.occurred_at = Some(bj("2025-09-30 13:40"));
    let events = given::<TicketDecider>(h.clone())
        .when(arrive(), &ctx)
        .then_names(&["Arrived"]);
    assert_eq!(events.last().unwrap().occurred_at, bj("2025-09-30 13:40"));
    ctx.occurred_at = Some(bj("2025-09-30 15:01"));
    given::<TicketDecider>(h.clone())
        .when(arrive(), &ctx)
        .then_error_containing("is in the future");
    ctx.occurred_at = Some(bj("2025-09-30 10:59"));
    given::<TicketDecider>(h)
        .when(arrive(), &ctx)
        .then_error_containing("before the record's previous event");
}

#[test]
fn bad_reports_are_refused_with_the_field_named() {
    let refs = refs();
    let ctx = at(&refs, agent(), "2025-09-30 10:00");
    let with = |f: &dyn Fn(&mut Receive)| {
        let TicketCommand::Receive(mut r) = receive(TicketKind::Repair, Priority::Normal) else {
            unreachable!()
        };
        f(&mut r);
        TicketCommand::Receive(r)
    };
    given::<TicketDecider>(vec![])
        .when(with(&|r| r.description = "  ".into()), &ctx)
        .then_error_containing("invalid description: it is empty");
    given::<TicketDecider>(vec![])
        .when(with(&|r| r.description = "x".repeat(MAX_TEXT + 1)), &ctx)
        .then_error_containing("invalid description: 4001 characters");
    given::<TicketDecider>(vec![])
        .when(
            with(&|r| r.attachments = vec!["a.jpg".into(); MAX_ATTACHMENTS + 1]),
            &ctx,
        )
        .then_error_containing("51 attachments");
    given::<TicketDecider>(vec![])
        .when(with(&|r| r.description = "bell\u{7}".into()), &ctx)
        .then_error_containing("control characters");
}

#[test]
fn decisions_are_deterministic() {
    let refs = refs();
    let h = diagnosed(&refs);
    let state = TicketDecider::fold(&h);
    let ctx = at(&refs, c1(), "2025-09-30 15:00");
    let first = TicketDecider::decide(&state, complete(), &ctx).unwrap();
    let second = TicketDecider::decide(&state, complete(), &ctx).unwrap();
    assert_eq!(first, second);
    // Folding is a pure function of the events too.
    assert_eq!(TicketDecider::fold(&h), TicketDecider::fold(&h.clone()));
    let elapsed = first[0].occurred_at - h[0].occurred_at;
    assert_eq!(elapsed, TimeDelta::minutes(300));
}

#[test]
fn owners_comment_but_not_internally() {
    let refs = refs();
    let remark = |internal| TicketCommand::Comment {
        text: "please call after 18:00".into(),
        internal,
    };
    given::<TicketDecider>(dispatched(&refs))
        .when(remark(false), &at(&refs, owner_actor(), "2025-09-30 12:00"))
        .then_names(&["Commented"]);
    given::<TicketDecider>(dispatched(&refs))
        .when(remark(true), &at(&refs, owner_actor(), "2025-09-30 12:00"))
        .then_error_containing("internal remarks are for staff");
}

#[test]
fn contractors_do_not_decide_cause_and_responsibility() {
    let refs = refs();
    let mut h = dispatched(&refs);
    h.extend(history_from(&refs, &h, vec![(c1(), "2025-09-30 13:40", arrive())]));
    given::<TicketDecider>(h)
        .when(
            diagnose(ResponsibleParty::Developer, None),
            &at(&refs, c1(), "2025-09-30 13:50"),
        )
        .then_error_containing("the contractor role cannot do this");
}

#[test]
fn progress_is_noted_on_work_under_way() {
    let refs = refs();
    let note = || TicketCommand::NoteProgress {
        note: "material ordered".into(),
    };
    given::<TicketDecider>(repair_received_and_acknowledged())
        .when(note(), &at(&refs, staff(Role::Manager), "2025-09-30 12:00"))
        .then_error_containing("there is no work in progress");
    given::<TicketDecider>(dispatched(&refs))
        .when(note(), &at(&refs, c1(), "2025-09-30 12:00"))
        .then_names(&["ProgressNoted"]);
}

#[test]
fn tickets_join_an_incident_once() {
    let refs = refs();
    let link = || TicketCommand::LinkIncident {
        incident: domain::ids::IncidentId::new("INC-7").unwrap(),
    };
    let h = given::<TicketDecider>(dispatched(&refs))
        .when(link(), &at(&refs, staff(Role::Manager), "2025-09-30 12:00"))
        .then_names(&["LinkedToIncident"]);
    assert_eq!(
        TicketDecider::fold(&h).ticket().unwrap().incident,
        Some(domain::ids::IncidentId::new("INC-7").unwrap())
    );
    given::<TicketDecider>(h)
        .when(link(), &at(&refs, staff(Role::Manager), "2025-09-30 12:10"))
        .then_error_containing("already part of incident INC-7");
}

#[test]
fn an_action_more_than_a_year_back_is_refused() {
    let refs = refs();
    let mut ctx = at(&refs, agent(), "2025-09-30 10:00");
    ctx.occurred_at = Some(bj("2024-09-28 10:00"));
    given::<TicketDecider>(vec![])
        .when(receive(TicketKind::Repair, Priority::Normal), &ctx)
        .then_error_containing("more than 366 days before now");
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
