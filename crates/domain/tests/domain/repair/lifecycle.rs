//! Receiving, the standard path, acknowledgement, dispatch, appointments
//! and arrival; bad reports; deterministic decisions.

use chrono::TimeDelta;
use domain::actor::Role;
use domain::decider::Decider;
use domain::error::DomainError;
use domain::ids::ContractorId;
use domain::policy::{ClockTarget, TimeBasis};
use domain::testing::fixtures::*;
use domain::testing::given;
use domain::ticket::*;

use super::*;

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
