//! Acceptance, rejection and rework, reopening, closing and revisits.

use domain::decider::Decider;
use domain::error::DomainError;
use domain::testing::fixtures::*;
use domain::testing::given;
use domain::ticket::*;

use super::*;

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
