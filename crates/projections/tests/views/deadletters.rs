//! Dead letters: a view never stops at an event it cannot read. It sets
//! the event aside in a dead letter kept in its own tree, written with the
//! checkpoint that moves past it, and keeps going; following the log live,
//! building from 0 and following from a checkpoint after a restart set the
//! same events aside.

use domain::ids::TicketId;
use domain::testing::fixtures::refs;
use domain::ticket::{Priority, TicketKind};
use eventlog::{EventId, EventMetadata, EventStore, ExpectedVersion, NewEvent, StreamId};
use projections::runner::{self, DeadLetter, ViewStatus};
use projections::tickets::{self, TicketsView};
use projections::{all_views, timeline};

use crate::support::*;

fn id(s: &str) -> TicketId {
    TicketId::new(s).unwrap()
}

/// Receives ticket `ticket`; returns its position.
async fn receive_ticket(f: &Fixture, ticket: &str, at: &str) -> u64 {
    let events = decide(
        &refs(),
        &[],
        vec![(agent(), at, receive_as(ticket, TicketKind::Repair, Priority::Normal))],
    );
    f.append(&id(ticket), &events).await
}

/// Appends to `stream` an `Accepted` event whose payload is a text, as an
/// older build or a raw tool could; returns its position.
async fn plant(f: &Fixture, stream: &str) -> u64 {
    let event = NewEvent {
        id: EventId::new_random(),
        event_type: "Accepted".into(),
        schema_version: 1,
        payload: eventlog::codec::encode(&"hello".to_string()).unwrap(),
        metadata: EventMetadata::default(),
    };
    f.store
        .append(&StreamId::new(stream).unwrap(), ExpectedVersion::Any, vec![event])
        .await
        .unwrap()
        .last_position()
}

fn positions(letters: &[DeadLetter]) -> Vec<u64> {
    letters.iter().map(|l| l.position).collect()
}

#[tokio::test]
async fn a_view_following_the_log_sets_an_unreadable_event_aside_and_keeps_going() {
    let f = Fixture::new();
    let view = runner::start(f.dyn_store(), f.views.clone(), Arc::new(TicketsView)).unwrap();
    receive_ticket(&f, "T-1", "2025-09-29 09:00").await;
    let bad = plant(&f, "ticket-T-1").await;
    let last = receive_ticket(&f, "T-2", "2025-09-29 09:10").await;
    view.wait_for(last, WAIT).await.unwrap();
    assert_eq!(view.status(), ViewStatus::Live);
    assert!(tickets::ticket(&view.tree(), &id("T-2")).unwrap().is_some());
    let letters = view.dead_letters().unwrap();
    assert_eq!(positions(&letters), vec![bad]);
    assert_eq!(letters[0].view, "tickets");
    assert_eq!(letters[0].event_type, "Accepted");
    assert!(!letters[0].reason.is_empty());
    // The history answers with the readable events and the unreadable one
    // apart; the strict history names its position.
    let (entries, unreadable) = timeline::history_marked(f.store.as_ref(), &id("T-1")).unwrap();
    assert_eq!(entries.len(), 1);
    assert_eq!(unreadable.len(), 1);
    assert_eq!(unreadable[0].position, bad);
    assert_eq!(unreadable[0].event_type, "Accepted");
    let strict = timeline::history(f.store.as_ref(), &id("T-1")).unwrap_err().to_string();
    assert!(strict.contains(&format!("position {bad}")), "{strict}");
}

#[tokio::test]
async fn every_view_built_from_0_or_following_after_a_restart_sets_the_same_events_aside() {
    let f = Fixture::new();
    receive_ticket(&f, "T-1", "2025-09-29 09:00").await;
    let first = plant(&f, "ticket-T-1").await;
    // A stream no view reads is not a dead letter.
    plant(&f, "tool-1").await;
    let last = receive_ticket(&f, "T-2", "2025-09-29 09:10").await;
    let views = runner::start_all(f.dyn_store(), f.views.clone(), all_views()).unwrap();
    for view in &views {
        view.wait_for(last, WAIT).await.unwrap();
        assert_eq!(positions(&view.dead_letters().unwrap()), vec![first], "{}", view.name());
    }
    assert!(tickets::ticket(&views[0].tree(), &id("T-2")).unwrap().is_some());
    f.store.close().unwrap();
    for view in &views {
        view.wait_stopped(WAIT).await.unwrap();
        assert_eq!(view.status(), ViewStatus::Stopped, "{}", view.name());
    }
    drop(views);

    // After a restart the views follow from their checkpoints: the event
    // set aside is not met again, a new one is set aside as well.
    let f = f.restart();
    let views = runner::start_all(f.dyn_store(), f.views.clone(), all_views()).unwrap();
    let second = plant(&f, "ticket-T-2").await;
    let last = receive_ticket(&f, "T-3", "2025-09-29 09:20").await;
    for view in &views {
        view.wait_for(last, WAIT).await.unwrap();
        assert_eq!(view.status(), ViewStatus::Live, "{}", view.name());
        assert_eq!(
            positions(&view.dead_letters().unwrap()),
            vec![first, second],
            "{}",
            view.name()
        );
    }
    assert!(tickets::ticket(&views[0].tree(), &id("T-3")).unwrap().is_some());
}
