//! The time an action is said to have happened.

use domain::testing::fixtures::*;
use domain::testing::given;
use domain::ticket::*;
use domain::DomainError;

use super::*;

#[test]
fn an_action_said_to_happen_in_the_future_is_refused() {
    let refs = refs();
    let mut ctx = at(&refs, manager(), "2025-09-26 11:00");
    ctx.occurred_at = Some(bj("2025-09-26 12:00"));
    let error = given::<TicketDecider>(complaint_acknowledged(&refs))
        .when(investigate("维修拖延属实"), &ctx)
        .then_error_containing("future");
    assert!(matches!(error, DomainError::InvalidOccurredAt { .. }), "{error:?}");
}

#[test]
fn an_action_said_to_happen_before_the_previous_event_is_refused() {
    let refs = refs();
    let mut ctx = at(&refs, manager(), "2025-09-26 11:00");
    // The acknowledgement was at 10:30.
    ctx.occurred_at = Some(bj("2025-09-26 10:15"));
    let error = given::<TicketDecider>(complaint_acknowledged(&refs))
        .when(investigate("维修拖延属实"), &ctx)
        .then_error_containing("before");
    assert!(matches!(error, DomainError::InvalidOccurredAt { .. }), "{error:?}");
}

#[test]
fn an_action_entered_late_is_recorded_when_it_happened() {
    let refs = refs();
    let mut ctx = at(&refs, manager(), "2025-09-28 18:00");
    ctx.occurred_at = Some(bj("2025-09-28 11:00"));
    let events = given::<TicketDecider>(complaint_acknowledged(&refs))
        .when(investigate("维修拖延属实"), &ctx)
        .then_names(&["Investigated"]);
    assert_eq!(events.last().unwrap().occurred_at, bj("2025-09-28 11:00"));
    assert_eq!(ticket_of(&events).last_event_at, bj("2025-09-28 11:00"));
}

#[test]
fn a_report_said_to_be_received_in_the_future_is_refused() {
    let refs = refs();
    let mut ctx = at(&refs, agent(), "2025-09-30 10:00");
    ctx.occurred_at = Some(bj("2025-09-30 10:01"));
    given::<TicketDecider>(Vec::new())
        .when(receive(TicketKind::Complaint, Priority::Normal), &ctx)
        .then_error_containing("future");
}
