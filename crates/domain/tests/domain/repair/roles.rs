//! Who acts on a repair: contractors, analysts and auditors, owners.

use domain::actor::{Actor, Role};
use domain::error::DomainError;
use domain::ids::UserId;
use domain::testing::fixtures::*;
use domain::testing::given;
use domain::ticket::*;

use super::*;

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
