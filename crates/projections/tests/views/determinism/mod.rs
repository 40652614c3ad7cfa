//! Determinism of the views: every view of [`projections::all_views`] must
//! hold exactly the same entries whether it followed the log live, was
//! built from 0 in one pass, or resumed from a checkpoint in the middle of
//! the log; and a restart, clean or a killed process, must neither apply an
//! event twice nor skip one.
//!
//! The histories are random command sequences over a few tickets, decided
//! by the real [`TicketDecider`] at increasing times, plus the project and
//! unit records some views count. Each step tries every command on its
//! ticket, skips those the domain refuses (which keeps every sequence
//! valid) and takes one of the others at random. Views are compared entry
//! by entry, without the runner's reserved keys (those starting with byte
//! `0x00`, the checkpoint), so a view added to `all_views()` is covered
//! without touching this file.
//!
//! The modules: `histories` (generating and appending them), `prefix` (the
//! log cut short), `live_vs_rebuilt` (the property), `restart` (restarts
//! between appends, a log that lost its tail), `crash` (a SIGKILL, with the
//! `views-crash-child` binary) and `rebuilds`, which pins the runner's own
//! rebuild bookkeeping across restarts: a restart after an operator's
//! rebuild, a new version of a projection deployed while a rebuild was
//! under way, and a build from 0 stopped half way.

mod crash;
mod histories;
mod live_vs_rebuilt;
mod prefix;
mod rebuilds;
mod restart;

use domain::ids::TicketId;
use eventformat::wire;
use eventlog::{EventStore, Position, SledEventStore};
use projections::runner::{self, ViewHandle, ViewStatus};
use projections::store::{ViewDb, ViewTree};
use projections::{all_views, tickets};
use proptest::prelude::*;
use proptest::test_runner::TestCaseError;

use crate::support::*;
use histories::{ticket_id, TICKETS};

// ----------------------------------------------------------------- views

/// Starts every view of `all_views()` on `log`, with its trees in `db`.
fn start_all(log: Arc<dyn EventStore>, db: &ViewDb) -> Vec<ViewHandle> {
    all_views()
        .into_iter()
        .map(|view| runner::start(log.clone(), db.clone(), view).unwrap())
        .collect()
}

async fn wait_all(views: &[ViewHandle], position: Position) {
    for view in views {
        view.wait_for(position, WAIT)
            .await
            .unwrap_or_else(|e| panic!("view {}: {e}", view.name()));
    }
}

/// Waits until every runner has ended (its log was closed).
async fn stop_all(views: &[ViewHandle]) {
    for view in views {
        view.wait_stopped(WAIT).await.unwrap();
        assert_eq!(view.status(), ViewStatus::Stopped, "view {}", view.name());
    }
}

/// A view's entries, in key order.
type Entries = Vec<(Vec<u8>, Vec<u8>)>;

/// Every entry of a view's tree, without the runner's reserved keys.
fn entries(tree: &ViewTree) -> Entries {
    tree.scan_prefix(b"")
        .map(|entry| entry.unwrap())
        .filter(|(key, _)| key.first() != Some(&0))
        .collect()
}

/// The first difference between two views' entries, in words, or `None`.
fn difference(left: &Entries, right: &Entries) -> Option<String> {
    let show = |key: &[u8]| String::from_utf8_lossy(key).into_owned();
    let mut l = left.iter();
    let mut r = right.iter();
    loop {
        match (l.next(), r.next()) {
            (None, None) => return None,
            (Some((k, _)), None) => return Some(format!("only the first has key {:?}", show(k))),
            (None, Some((k, _))) => return Some(format!("only the second has key {:?}", show(k))),
            (Some((lk, lv)), Some((rk, rv))) => {
                if lk != rk {
                    return Some(format!("keys differ: {:?} against {:?}", show(lk), show(rk)));
                }
                if lv != rv {
                    return Some(format!("values of key {:?} differ", show(lk)));
                }
            }
        }
    }
}

/// Asserts that each view holds the same entries in every build of it.
fn assert_same_views(builds: &[(&str, &[ViewHandle])]) -> Result<(), TestCaseError> {
    let (first_name, first) = builds[0];
    for (i, view) in first.iter().enumerate() {
        let expected = entries(&view.tree());
        for (name, other) in &builds[1..] {
            let other = &other[i];
            prop_assert_eq!(other.name(), view.name());
            let found = entries(&other.tree());
            if let Some(diff) = difference(&expected, &found) {
                return Err(TestCaseError::fail(format!(
                    "view {}: built {first_name} ({} entries) and {name} ({} entries) differ: {diff}",
                    view.name(),
                    expected.len(),
                    found.len()
                )));
            }
        }
    }
    Ok(())
}

/// The tickets that have a stream in the log.
fn tickets_received(log: &SledEventStore) -> Vec<TicketId> {
    (0..TICKETS)
        .map(ticket_id)
        .filter(|id| log.stream_version(&wire::stream_of(id).unwrap()).unwrap().is_some())
        .collect()
}

/// Checks the tickets view against the log: every ticket's `event_count` is
/// the number of events in its stream (an event applied twice makes it
/// larger, one skipped makes it smaller), and its `position` is the
/// position of the stream's last event.
fn assert_tickets_match_the_log(log: &SledEventStore, tickets_view: &ViewHandle) {
    let tree = tickets_view.tree();
    let received = tickets_received(log);
    assert!(!received.is_empty(), "the history received no ticket");
    for id in &received {
        let stream = log.read_stream(&wire::stream_of(id).unwrap(), 0, usize::MAX).unwrap();
        let record = tickets::ticket(&tree, id).unwrap().unwrap();
        assert_eq!(record.ticket.event_count, stream.len() as u64, "ticket {id}");
        assert_eq!(record.position, stream.last().unwrap().position, "ticket {id}");
    }
    let listed = tickets::list(&tree, &tickets::TicketFilter::default(), 100, None).unwrap();
    assert_eq!(listed.items.len(), received.len());
}
