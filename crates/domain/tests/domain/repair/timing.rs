//! The time an action is said to have happened.

use domain::testing::fixtures::*;
use domain::testing::given;
use domain::ticket::*;

use super::*;

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
fn an_action_more_than_a_year_back_is_refused() {
    let refs = refs();
    let mut ctx = at(&refs, agent(), "2025-09-30 10:00");
    ctx.occurred_at = Some(bj("2024-09-28 10:00"));
    given::<TicketDecider>(vec![])
        .when(receive(TicketKind::Repair, Priority::Normal), &ctx)
        .then_error_containing("more than 366 days before now");
}
