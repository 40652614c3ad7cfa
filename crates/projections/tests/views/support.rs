//! A log, a view database and domain histories for the views' tests.

pub use std::sync::Arc;
pub use std::time::Duration;

use domain::actor::{Actor, Role};
use domain::decider::Stamped;
use domain::ids::TicketId;
use domain::testing::fixtures::receive;
use domain::ticket::{Priority, TicketCommand, TicketEvent, TicketKind};
use eventformat::wire;
use eventlog::{EventId, EventStore, ExpectedVersion, SledEventStore, SledOptions};
use projections::runner::ViewHandle;
use projections::store::ViewDb;

/// A log and a view database in one temporary folder.
pub struct Fixture {
    pub dir: tempfile::TempDir,
    pub store: Arc<SledEventStore>,
    pub views: ViewDb,
}

impl Fixture {
    pub fn new() -> Self {
        let dir = tempfile::tempdir().unwrap();
        let store = Arc::new(SledEventStore::open(dir.path().join("log"), SledOptions::default()).unwrap());
        let views = ViewDb::open(&dir.path().join("views")).unwrap();
        Self { dir, store, views }
    }

    /// Closes and reopens both, as a restart does.
    pub fn restart(self) -> Self {
        let Fixture { dir, store, views } = self;
        store.close().unwrap();
        drop(store);
        views.flush().unwrap();
        drop(views);
        let store = Arc::new(SledEventStore::open(dir.path().join("log"), SledOptions::default()).unwrap());
        let views = ViewDb::open(&dir.path().join("views")).unwrap();
        Self { dir, store, views }
    }

    pub fn dyn_store(&self) -> Arc<dyn EventStore> {
        self.store.clone()
    }

    /// Appends a ticket's events; returns the last position.
    pub async fn append(&self, id: &TicketId, events: &[Stamped<TicketEvent>]) -> u64 {
        let stream = wire::stream_of(id).unwrap();
        let new = events
            .iter()
            .map(|e| wire::to_new_event(e, EventId::new_random(), None).unwrap())
            .collect();
        let outcome = self.store.append(&stream, ExpectedVersion::Any, new).await.unwrap();
        outcome.last_position()
    }
}

/// A ticket's receipt with id `id`, of `kind` and `priority`.
pub fn receive_as(id: &str, kind: TicketKind, priority: Priority) -> TicketCommand {
    let TicketCommand::Receive(mut r) = receive(kind, priority) else {
        unreachable!()
    };
    r.ticket = TicketId::new(id).unwrap();
    TicketCommand::Receive(r)
}

/// Decides `steps` on top of `history` (actor, Beijing time, command);
/// returns only the new events.
pub use domain::testing::fixtures::continue_history as decide;

pub fn agent() -> Actor {
    domain::testing::fixtures::staff(Role::Agent)
}

pub const WAIT: Duration = Duration::from_secs(10);

/// Which tree serves a view's queries (a tree's debug form names it).
pub fn serving(view: &ViewHandle) -> String {
    format!("{:?}", view.tree())
}

/// Asks `view` to rebuild from 0 and waits until the rebuilt tree serves.
pub async fn rebuild(view: &ViewHandle) {
    let old = serving(view);
    view.rebuild()
        .finished(WAIT)
        .await
        .unwrap_or_else(|e| panic!("view {}: rebuild: {e}", view.name()));
    assert_ne!(serving(view), old, "view {}: the rebuilt tree serves", view.name());
}
