//! The complaint: investigation, proposal, the owner's response, revisit,
//! escalation, and the steps a complaint refuses.

use chrono::TimeDelta;
use domain::actor::Actor;
use domain::calendar::CalendarRegistry;
use domain::ids::{IncidentId, OwnerId, UserId};
use domain::sla::{evaluate, ClockStatus};
use domain::testing::fixtures::*;
use domain::testing::given;
use domain::ticket::*;
use domain::DomainError;

use super::*;

#[test]
fn complaint_goes_from_received_to_closed_through_investigation_proposal_agreement_and_revisit() {
    let refs = refs();
    let events = history(
        &refs,
        vec![(
            agent(),
            "2025-09-26 10:00",
            receive(TicketKind::Complaint, Priority::Normal),
        )],
    );
    let events = given::<TicketDecider>(events)
        .when(acknowledge(), &at(&refs, agent(), "2025-09-26 10:30"))
        .then_names(&["Acknowledged"]);
    let events = given::<TicketDecider>(events)
        .when(investigate("维修拖延属实"), &at(&refs, manager(), "2025-09-28 11:00"))
        .then_names(&["Investigated"]);
    assert_eq!(ticket_of(&events).status, Status::Investigating);
    let events = given::<TicketDecider>(events)
        .when(propose(), &at(&refs, manager(), "2025-09-29 15:00"))
        .then_names(&["ResolutionProposed"]);
    let events = given::<TicketDecider>(events)
        .when(owner_response(true), &at(&refs, agent(), "2025-09-30 10:00"))
        .then_names(&["OwnerAgreed"]);
    assert_eq!(ticket_of(&events).status, Status::OwnerAgreed);
    let events = given::<TicketDecider>(events)
        .when(revisit(), &at(&refs, agent(), "2025-10-09 10:00"))
        .then_names(&["Revisited"]);
    let events = given::<TicketDecider>(events)
        .when(close(), &at(&refs, manager(), "2025-10-09 11:00"))
        .then_names(&["Closed"]);

    let ticket = ticket_of(&events);
    assert_eq!(ticket.kind, TicketKind::Complaint);
    assert_eq!(ticket.status, Status::Closed);
    assert_eq!(ticket.acknowledged_at, Some(bj("2025-09-26 10:30")));
    assert_eq!(ticket.resolution_proposed_at, Some(bj("2025-09-29 15:00")));
    assert_eq!(ticket.revisit_count, 1);
    assert_eq!(ticket.last_revisit, Some(RevisitOutcome::Satisfied));
    assert_eq!(ticket.closed_at, Some(bj("2025-10-09 11:00")));
    assert_eq!(ticket.event_count, 7);
    // The resolution clock of a complaint stops at the proposal: well within
    // its 5 business days.
    let report = evaluate(&events, &CalendarRegistry::with_cn_mainland(), bj("2025-10-09 11:00")).unwrap();
    assert_eq!(report.resolution.unwrap().status, ClockStatus::Met);
}

#[test]
fn owner_disagreeing_returns_the_complaint_to_investigation() {
    let refs = refs();
    let events = complaint_disagreed(&refs);
    assert_eq!(ticket_of(&events).status, Status::OwnerDisagreed);
    let events = given::<TicketDecider>(events)
        .when(
            investigate("补充调查 further facts"),
            &at(&refs, manager(), "2025-09-30 14:00"),
        )
        .then_names(&["Investigated"]);
    assert_eq!(ticket_of(&events).status, Status::Investigating);
    let events = given::<TicketDecider>(events)
        .when(propose(), &at(&refs, manager(), "2025-10-09 10:00"))
        .then_names(&["ResolutionProposed"]);
    let ticket = ticket_of(&events);
    assert_eq!(ticket.status, Status::ResolutionProposed);
    assert_eq!(ticket.resolution_proposed_at, Some(bj("2025-10-09 10:00")));
}

#[test]
fn a_disagreement_sets_the_resolution_clock_running_again_from_the_time_used() {
    let refs = refs();
    let events = complaint_disagreed(&refs);
    let report = evaluate(&events, &CalendarRegistry::with_cn_mainland(), bj("2025-09-30 12:00")).unwrap();
    let resolution = report.resolution.unwrap();
    assert_eq!(resolution.status, ClockStatus::Running);
    assert_eq!(resolution.stops, 1);
    // Friday 10:00-18:00 (6.5 h), the adjusted working Sunday (7.5 h) and
    // Monday until the proposal at 15:00 (4.5 h) ...
    assert_eq!(resolution.first_cycle_elapsed, Some(TimeDelta::minutes(18 * 60 + 30)));
    // ... plus Tuesday from the disagreement at 10:00 to noon.
    assert_eq!(resolution.elapsed, TimeDelta::minutes(20 * 60 + 30));
}

#[test]
fn a_new_proposal_after_a_disagreement_needs_a_new_investigation_first() {
    let refs = refs();
    given::<TicketDecider>(complaint_disagreed(&refs))
        .when(propose(), &at(&refs, manager(), "2025-09-30 14:00"))
        .then_error_containing("the facts have not been established yet");
}

#[test]
fn closing_a_complaint_the_owner_disagreed_with_is_refused() {
    let refs = refs();
    let error = given::<TicketDecider>(complaint_disagreed(&refs))
        .when(close(), &at(&refs, manager(), "2025-09-30 14:00"))
        .then_error_containing("is owner disagreed");
    assert!(error.to_string().contains("investigate again"), "{error}");
}

#[test]
fn closing_a_complaint_without_an_agreed_resolution_is_refused() {
    let refs = refs();
    given::<TicketDecider>(complaint_proposed(&refs))
        .when(close(), &at(&refs, manager(), "2025-09-30 14:00"))
        .then_error_containing("the owner has not agreed to a resolution");
}

#[test]
fn proposing_a_resolution_before_investigating_is_refused() {
    let refs = refs();
    given::<TicketDecider>(complaint_acknowledged(&refs))
        .when(propose(), &at(&refs, manager(), "2025-09-26 11:00"))
        .then_error_containing("complaint T-1 is acknowledged (the facts have not been established yet)");
}

#[test]
fn investigating_before_acknowledging_is_refused() {
    let refs = refs();
    let events = history(
        &refs,
        vec![(
            agent(),
            "2025-09-26 10:00",
            receive(TicketKind::Complaint, Priority::Normal),
        )],
    );
    given::<TicketDecider>(events)
        .when(investigate("查看记录"), &at(&refs, manager(), "2025-09-26 11:00"))
        .then_error_containing("complaint T-1 is received (it must be acknowledged");
}

#[test]
fn a_complaint_escalates_to_city_then_to_group() {
    let refs = refs();
    let events = given::<TicketDecider>(complaint_acknowledged(&refs))
        .when(
            escalate(EscalationLevel::City, None),
            &at(&refs, manager(), "2025-09-26 11:00"),
        )
        .then_names(&["Escalated"]);
    assert_eq!(ticket_of(&events).escalation, Some(EscalationLevel::City));
    let events = given::<TicketDecider>(events)
        .when(
            escalate(EscalationLevel::Group, None),
            &at(&refs, manager(), "2025-09-26 12:00"),
        )
        .then_names(&["Escalated"]);
    assert_eq!(ticket_of(&events).escalation, Some(EscalationLevel::Group));
}

#[test]
fn escalating_to_the_same_or_a_lower_level_is_refused() {
    let refs = refs();
    let events = given::<TicketDecider>(complaint_acknowledged(&refs))
        .when(
            escalate(EscalationLevel::City, None),
            &at(&refs, manager(), "2025-09-26 11:00"),
        )
        .then_names(&["Escalated"]);
    given::<TicketDecider>(events.clone())
        .when(
            escalate(EscalationLevel::City, None),
            &at(&refs, manager(), "2025-09-26 12:00"),
        )
        .then_error_containing("it is already handled at city level");
    given::<TicketDecider>(events)
        .when(
            escalate(EscalationLevel::Project, None),
            &at(&refs, manager(), "2025-09-26 12:00"),
        )
        .then_error_containing("it is already handled at city level");
}

#[test]
fn escalating_to_project_level_is_no_escalation() {
    let refs = refs();
    given::<TicketDecider>(complaint_acknowledged(&refs))
        .when(
            escalate(EscalationLevel::Project, None),
            &at(&refs, manager(), "2025-09-26 11:00"),
        )
        .then_error_containing("it is already handled at project level");
}

#[test]
fn escalating_into_an_incident_records_the_incident() {
    let refs = refs();
    let events = given::<TicketDecider>(complaint_acknowledged(&refs))
        .when(
            escalate(EscalationLevel::Group, Some("INC-2025-7")),
            &at(&refs, manager(), "2025-09-26 11:00"),
        )
        .then_names(&["Escalated"]);
    let ticket = ticket_of(&events);
    assert_eq!(ticket.escalation, Some(EscalationLevel::Group));
    assert_eq!(ticket.incident, Some(IncidentId::new("INC-2025-7").unwrap()));
}

#[test]
fn dispatching_a_complaint_is_refused() {
    let refs = refs();
    given::<TicketDecider>(complaint_acknowledged(&refs))
        .when(dispatch_to_c1(), &at(&refs, manager(), "2025-09-26 11:00"))
        .then_error_containing("only a repair or handover defect");
}

#[test]
fn diagnosing_a_complaint_is_refused() {
    let refs = refs();
    given::<TicketDecider>(complaint_acknowledged(&refs))
        .when(diagnose(), &at(&refs, manager(), "2025-09-26 11:00"))
        .then_error_containing("only a repair or handover defect");
}

#[test]
fn completing_a_repair_on_a_complaint_is_refused() {
    let refs = refs();
    given::<TicketDecider>(complaint_acknowledged(&refs))
        .when(complete(), &at(&refs, manager(), "2025-09-26 11:00"))
        .then_error_containing("only a repair or handover defect");
}

#[test]
fn recording_an_owner_response_with_nothing_proposed_is_refused() {
    let refs = refs();
    let events = given::<TicketDecider>(complaint_acknowledged(&refs))
        .when(investigate("维修拖延属实"), &at(&refs, manager(), "2025-09-28 11:00"))
        .then_names(&["Investigated"]);
    given::<TicketDecider>(events)
        .when(owner_response(true), &at(&refs, agent(), "2025-09-28 12:00"))
        .then_error_containing("no resolution is waiting for the owner's response");
}

#[test]
fn a_disagreement_needs_the_owners_reason() {
    let refs = refs();
    given::<TicketDecider>(complaint_proposed(&refs))
        .when(
            TicketCommand::RecordOwnerResponse {
                agreed: false,
                note: "  ".into(),
            },
            &at(&refs, agent(), "2025-09-30 10:00"),
        )
        .then_error(DomainError::input("reason", "it is empty"));
}

#[test]
fn the_complaining_owner_may_record_their_own_response() {
    let refs = refs();
    let events = given::<TicketDecider>(complaint_proposed(&refs))
        .when(owner_response(true), &at(&refs, owner_actor(), "2025-09-30 10:00"))
        .then_names(&["OwnerAgreed"]);
    assert_eq!(events.last().unwrap().actor, owner_actor());
}

#[test]
fn a_contractor_may_not_record_the_owners_response() {
    let refs = refs();
    let result = given::<TicketDecider>(complaint_proposed(&refs))
        .when(owner_response(true), &at(&refs, contractor("C-1"), "2025-09-30 10:00"))
        .result();
    assert!(
        matches!(
            &result,
            Err(DomainError::Forbidden {
                action: "record the owner's response",
                ..
            })
        ),
        "{result:?}"
    );
}

#[test]
fn another_owner_may_not_record_a_response_on_someone_elses_complaint() {
    let refs = refs();
    let neighbour = Actor::owner(UserId::new("owner-user-2").unwrap(), OwnerId::new("O-2").unwrap());
    let error = given::<TicketDecider>(complaint_proposed(&refs))
        .when(owner_response(true), &at(&refs, neighbour, "2025-09-30 10:00"))
        .then_error_containing("owners act only on their own reports");
    assert!(matches!(error, DomainError::Forbidden { .. }), "{error:?}");
}

#[test]
fn a_priority_change_on_a_complaint_records_the_new_clocks() {
    let refs = refs();
    let expected_clocks = refs
        .policy
        .clock_setup(
            TicketKind::Complaint,
            Priority::Urgent,
            Some(unit_location().project()),
            Category::Service,
            &refs.calendar,
        )
        .unwrap();
    let events = given::<TicketDecider>(complaint_acknowledged(&refs))
        .when(
            TicketCommand::ChangePriority {
                priority: Priority::Urgent,
                reason: "业主情绪激动 owner very upset".into(),
            },
            &at(&refs, manager(), "2025-09-26 11:00"),
        )
        .then(vec![Stamped {
            occurred_at: bj("2025-09-26 11:00"),
            actor: manager(),
            channel: Channel::BackOffice,
            event: TicketEvent::PriorityChanged {
                from: Priority::Normal,
                to: Priority::Urgent,
                reason: "业主情绪激动 owner very upset".into(),
                clocks: expected_clocks.clone(),
            },
            text_seals: Vec::new(),
        }]);
    let ticket = ticket_of(&events);
    assert_eq!(ticket.priority, Priority::Urgent);
    assert_eq!(ticket.clocks, expected_clocks);
    assert_eq!(ticket.status, Status::Acknowledged);
}
