//! Holds and resumes; withdrawn and merged tickets.

use domain::decider::Decider;
use domain::ids::TicketId;
use domain::testing::fixtures::*;
use domain::testing::given;
use domain::ticket::*;

use super::*;

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
