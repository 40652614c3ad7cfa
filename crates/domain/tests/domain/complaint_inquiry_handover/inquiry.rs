//! The inquiry: answered on the spot or after checking, then closed or
//! revisited.

use domain::calendar::CalendarRegistry;
use domain::sla::{evaluate, ClockStatus};
use domain::testing::fixtures::*;
use domain::testing::given;
use domain::ticket::*;

use super::*;

#[test]
fn an_inquiry_answered_on_the_spot_is_closed() {
    let refs = refs();
    let events = given::<TicketDecider>(inquiry_received(&refs))
        .when(answer(true), &at(&refs, agent(), "2025-09-30 10:05"))
        .then_names(&["Answered"]);
    let ticket = ticket_of(&events);
    assert_eq!(ticket.status, Status::Answered);
    assert_eq!(ticket.answered_at, Some(bj("2025-09-30 10:05")));
    // The answer is both the first response and the resolution.
    let report = evaluate(&events, &CalendarRegistry::with_cn_mainland(), bj("2025-09-30 10:05")).unwrap();
    assert_eq!(report.first_response.unwrap().status, ClockStatus::Met);
    assert_eq!(report.resolution.unwrap().status, ClockStatus::Met);

    let events = given::<TicketDecider>(events)
        .when(close(), &at(&refs, agent(), "2025-09-30 10:10"))
        .then_names(&["Closed"]);
    assert_eq!(ticket_of(&events).status, Status::Closed);
}

#[test]
fn an_inquiry_acknowledged_first_is_answered_after_checking() {
    let refs = refs();
    let events = given::<TicketDecider>(inquiry_received(&refs))
        .when(acknowledge(), &at(&refs, agent(), "2025-09-30 10:05"))
        .then_names(&["Acknowledged"]);
    let events = given::<TicketDecider>(events)
        .when(answer(false), &at(&refs, manager(), "2025-09-30 15:00"))
        .then(vec![Stamped {
            occurred_at: bj("2025-09-30 15:00"),
            actor: manager(),
            channel: Channel::BackOffice,
            event: TicketEvent::Answered {
                answer: "产权证将于交付后 90 日内办理 title deeds within 90 days of delivery".into(),
                on_the_spot: false,
            },
            text_seals: Vec::new(),
        }]);
    let ticket = ticket_of(&events);
    assert_eq!(ticket.status, Status::Answered);
    assert_eq!(ticket.acknowledged_at, Some(bj("2025-09-30 10:05")));
    assert_eq!(ticket.answered_at, Some(bj("2025-09-30 15:00")));
}

#[test]
fn closing_an_unanswered_inquiry_is_refused() {
    let refs = refs();
    given::<TicketDecider>(inquiry_received(&refs))
        .when(close(), &at(&refs, agent(), "2025-09-30 10:10"))
        .then_error_containing("inquiry T-1 is received (the inquiry is not answered)");
}

#[test]
fn answering_an_inquiry_twice_is_refused() {
    let refs = refs();
    let events = given::<TicketDecider>(inquiry_received(&refs))
        .when(answer(true), &at(&refs, agent(), "2025-09-30 10:05"))
        .then_names(&["Answered"]);
    given::<TicketDecider>(events)
        .when(answer(false), &at(&refs, agent(), "2025-09-30 11:00"))
        .then_error_containing("inquiry T-1 is answered");
}

#[test]
fn an_answered_inquiry_can_be_revisited() {
    let refs = refs();
    let events = given::<TicketDecider>(inquiry_received(&refs))
        .when(answer(true), &at(&refs, agent(), "2025-09-30 10:05"))
        .then_names(&["Answered"]);
    let events = given::<TicketDecider>(events)
        .when(revisit(), &at(&refs, agent(), "2025-10-09 10:00"))
        .then_names(&["Revisited"]);
    let ticket = ticket_of(&events);
    assert_eq!(ticket.revisit_count, 1);
    assert_eq!(ticket.status, Status::Answered);
}

#[test]
fn an_unanswered_inquiry_cannot_be_revisited() {
    let refs = refs();
    given::<TicketDecider>(inquiry_received(&refs))
        .when(revisit(), &at(&refs, agent(), "2025-09-30 11:00"))
        .then_error_containing("a revisit follows the owner's acceptance or agreement");
}

#[test]
fn investigating_an_inquiry_is_refused() {
    let refs = refs();
    given::<TicketDecider>(inquiry_received(&refs))
        .when(investigate("查看记录"), &at(&refs, agent(), "2025-09-30 11:00"))
        .then_error_containing("only a complaint");
}
