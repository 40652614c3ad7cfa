//! The projection machinery: a [`Projection`] folds stored events into a
//! view kept in its own tree of the view database; a runner follows the
//! log from the view's checkpoint and writes each batch of changes together
//! with the new checkpoint in one atomic batch, so that after a crash no
//! event is applied twice and none is skipped.
//!
//! **Versions and builds.** A view's tree is named `<name>.v<version>`
//! (`.r<n>` appended for a rebuild of the same version). When the view
//! database has no tree for the view yet, when the projection's version
//! differs from the tree that serves queries (recorded in the `meta`
//! tree), or when [`ViewHandle::rebuild`] asks for it, the runner replays
//! the log from 0 into a fresh tree while the old one keeps answering
//! queries (on a fresh view database, an empty tree answers them), and
//! swaps them atomically (one `meta` write, one pointer swap) once the new
//! tree has caught up with the head. On an empty log there is nothing to
//! replay: the fresh tree serves at once.
//!
//! A build writes its tree with plain sled inserts instead of atomic
//! batches (about 1.4x faster, see `docs/benchmarks.md`). That is safe
//! because nothing reads the tree before the swap, the view database is
//! flushed before the swap is recorded (and sled recovers its log in
//! order), and a build interrupted by a stop or a crash is not resumed: at
//! the next start its tree is dropped and the build starts again from 0.
//! From the swap on, the view commits every batch atomically with its
//! checkpoint.
//!
//! **Read-your-writes.** [`ViewHandle::wait_for`] waits until the view has
//! applied a position.
//!
//! **Dead letters.** A view never stops at an event it cannot read (a
//! payload that does not decode as its stream's events, written by an
//! older build or a raw tool): it sets the event aside in a
//! [`DeadLetter`] record kept in its own tree, written in the same batch as
//! the checkpoint that moves past the event, and keeps going.
//! [`ViewHandle::dead_letters`] lists them; the server reports them in
//! `/readyz` and `/metrics`. A rebuild meets the same events and sets them
//! aside again. An event the view reads but cannot fold still stops it
//! ([`ViewStatus::Failed`]).
//!
//! Keys starting with byte `0x00` are reserved for the runner (the
//! checkpoint and the dead letters); a projection's own keys must start
//! with another byte.

use std::sync::{Arc, RwLock};
use std::time::Duration;

use crate::store::{ViewDb, ViewTree};
use chrono::{DateTime, Utc};
use eventlog::codec::{self, CodecError};
use eventlog::{EventStore, Position, StoreError, Subscription};
use serde::Serialize;
use tokio::sync::watch;

use eventformat::wire::{self, DomainEvent, WireError};

mod build;
mod feed;
mod handle;
mod writer;

pub use feed::{start, start_all};
pub use handle::{Rebuild, RebuildProgress, ViewChanges, ViewHandle, ViewStatus};
pub use writer::ViewWriter;

use build::prepare;

/// Why a view could not be built or read.
#[derive(Debug, thiserror::Error)]
pub enum ProjectionError {
    /// The log or the view database failed.
    #[error(transparent)]
    Store(#[from] StoreError),
    /// A stored event could not be read as a domain event.
    #[error(transparent)]
    Wire(#[from] WireError),
    /// A view value could not be encoded or decoded.
    #[error(transparent)]
    Codec(#[from] CodecError),
    /// The projection met something it cannot fold.
    #[error("{0}")]
    Invalid(String),
    /// The view stopped on an error; it keeps serving what it has.
    #[error("view {view} stopped at position {position}: {reason}")]
    Failed {
        /// The view.
        view: String,
        /// The event it could not apply.
        position: Position,
        /// Why.
        reason: String,
    },
    /// The view did not reach the position in time.
    #[error("view {view} has not applied position {position} after {waited:?} (applied: {applied:?})")]
    Timeout {
        /// The view.
        view: String,
        /// The position waited for.
        position: Position,
        /// How long.
        waited: Duration,
        /// What it had applied.
        applied: Option<Position>,
    },
    /// The runner is gone (the store closed or the process is stopping).
    #[error("view {0} is no longer running")]
    Stopped(String),
}

/// An event a view could not read and set aside instead of stopping.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, serde::Deserialize)]
pub struct DeadLetter {
    /// Its global position.
    pub position: Position,
    /// The view that set it aside.
    pub view: String,
    /// The log's type name for it.
    pub event_type: String,
    /// Why it could not be read.
    pub reason: String,
}

/// An event that does not decode: the log's type name and why.
#[derive(Debug, Clone, PartialEq, Eq)]
struct Unreadable {
    event_type: String,
    reason: String,
}

/// Where the dead letters live in every view tree: this prefix and the
/// position, big-endian.
const DEAD_LETTER_PREFIX: &[u8] = b"\x00dead/";

fn dead_letter_key(position: Position) -> Vec<u8> {
    let mut key = DEAD_LETTER_PREFIX.to_vec();
    key.extend_from_slice(&position.to_be_bytes());
    key
}

/// The events `tree` has set aside, by position.
pub fn dead_letters(tree: &ViewTree) -> Result<Vec<DeadLetter>, ProjectionError> {
    let mut out = Vec::new();
    for entry in tree.scan_prefix(DEAD_LETTER_PREFIX) {
        let (_, value) = entry?;
        out.push(codec::decode("dead letter", 1, &value)?);
    }
    Ok(out)
}

/// Reads a stored event for the views: `None` for streams that are not
/// the domain's (tools, tests), which no view reads.
fn read_event(recorded: &eventlog::RecordedEvent) -> Result<Option<DomainEvent>, Unreadable> {
    match wire::decode(recorded) {
        Ok(e) => Ok(Some(e)),
        Err(WireError::UnknownStream(_)) => Ok(None),
        Err(e) => Err(Unreadable {
            event_type: recorded.event_type().to_string(),
            reason: e.to_string(),
        }),
    }
}

/// One stored event, decoded, as a projection sees it.
#[derive(Debug, Clone, Copy)]
pub struct Applied<'a> {
    /// Its global position.
    pub position: Position,
    /// When the log stored it.
    pub recorded_at: DateTime<Utc>,
    /// The event.
    pub event: &'a DomainEvent,
}

/// A read model: a name, a version (bump it when the fold changes: the
/// view is rebuilt from 0), and how one event changes the view.
pub trait Projection: Send + Sync + 'static {
    /// Stable name; also the prefix of the view's trees.
    fn name(&self) -> &'static str;
    /// Version of the fold.
    fn version(&self) -> u32;
    /// Applies one event, reading and staging writes through `view`.
    fn apply(&self, view: &mut ViewWriter<'_>, event: &Applied<'_>) -> Result<(), ProjectionError>;

    /// Applies a batch of events in order. The default applies them one by
    /// one; a view may fold consecutive events of one record together
    /// (a rebuild reads a ticket's whole history in a row), as long as the
    /// result equals applying them one by one.
    fn apply_all(&self, view: &mut ViewWriter<'_>, events: &[Applied<'_>]) -> Result<(), ProjectionError> {
        for event in events {
            self.apply(view, event)?;
        }
        Ok(())
    }
}

/// A view that folds a batch of events at a time (consecutive events of
/// one record together, see [`runs`]), for which one event is a batch of
/// one: implementing this implements [`Projection`].
pub trait BatchProjection: Send + Sync + 'static {
    /// Stable name; also the prefix of the view's trees.
    fn name(&self) -> &'static str;
    /// Version of the fold.
    fn version(&self) -> u32;
    /// Applies a batch of events in order, with the result of applying
    /// them one by one.
    fn apply_batch(&self, view: &mut ViewWriter<'_>, events: &[Applied<'_>]) -> Result<(), ProjectionError>;
}

impl<T: BatchProjection> Projection for T {
    fn name(&self) -> &'static str {
        BatchProjection::name(self)
    }

    fn version(&self) -> u32 {
        BatchProjection::version(self)
    }

    fn apply(&self, view: &mut ViewWriter<'_>, event: &Applied<'_>) -> Result<(), ProjectionError> {
        self.apply_batch(view, std::slice::from_ref(event))
    }

    fn apply_all(&self, view: &mut ViewWriter<'_>, events: &[Applied<'_>]) -> Result<(), ProjectionError> {
        self.apply_batch(view, events)
    }
}

/// A stretch of consecutive events of one ticket, or any other event.
pub(crate) enum Run<'a> {
    /// Consecutive events of one ticket, with the last one's position and
    /// log time.
    Ticket {
        /// The ticket.
        id: &'a domain::ids::TicketId,
        /// Its events, in order.
        events: Vec<&'a domain::decider::Stamped<domain::ticket::TicketEvent>>,
        /// The last of them.
        last: &'a Applied<'a>,
    },
    /// An event of another record.
    Other(&'a Applied<'a>),
}

/// Splits a batch into runs of consecutive events of one ticket.
pub(crate) fn runs<'a>(events: &'a [Applied<'a>]) -> Vec<Run<'a>> {
    let mut out: Vec<Run<'a>> = Vec::new();
    for applied in events {
        match applied.event {
            DomainEvent::Ticket(id, stamped) => {
                if let Some(Run::Ticket {
                    id: run_id,
                    events,
                    last,
                }) = out.last_mut()
                {
                    if *run_id == id {
                        events.push(stamped);
                        *last = applied;
                        continue;
                    }
                }
                out.push(Run::Ticket {
                    id,
                    events: vec![stamped],
                    last: applied,
                });
            }
            _ => out.push(Run::Other(applied)),
        }
    }
    out
}

/// Where the checkpoint lives in every view tree: the next position to
/// apply.
const CHECKPOINT_KEY: &[u8] = b"\x00checkpoint";
/// Events applied per atomic batch, at most.
const MAX_BATCH: usize = 1024;
const META_TREE: &str = "meta";

fn checkpoint(tree: &ViewTree) -> Result<Position, ProjectionError> {
    match tree.get(CHECKPOINT_KEY)? {
        None => Ok(0),
        Some(bytes) => {
            let arr: [u8; 8] = bytes
                .as_slice()
                .try_into()
                .map_err(|_| ProjectionError::Invalid("checkpoint is not 8 bytes".into()))?;
            Ok(u64::from_be_bytes(arr))
        }
    }
}

fn meta_get(meta: &ViewTree, key: &str) -> Result<Option<String>, ProjectionError> {
    Ok(meta
        .get(key.as_bytes())?
        .map(|v| String::from_utf8_lossy(&v).into_owned()))
}

struct Runner {
    store: Arc<dyn EventStore>,
    db: ViewDb,
    meta: ViewTree,
    projection: Arc<dyn Projection>,
    serving_name: String,
    build_name: Option<String>,
    handle: ViewHandle,
    applied: watch::Sender<Option<Position>>,
    status: watch::Sender<ViewStatus>,
    /// The rebuild requests the serving tree covers ([`handle::Rebuild`]
    /// waits on it).
    covered: watch::Sender<u64>,
}

enum Step {
    Continue,
    StoreClosed,
    RebuildRequested,
}

impl Runner {
    pub(super) fn new(
        store: Arc<dyn EventStore>,
        db: ViewDb,
        meta: ViewTree,
        projection: Arc<dyn Projection>,
        serving_name: String,
        build_name: Option<String>,
    ) -> Result<Self, ProjectionError> {
        let serving_tree = db.tree(&serving_name)?;
        let serving_applied = checkpoint(&serving_tree)?.checked_sub(1);
        let (applied_tx, applied_rx) = watch::channel(serving_applied);
        let (status_tx, status_rx) = watch::channel(ViewStatus::Starting);
        let (covered_tx, covered_rx) = watch::channel(0);
        let handle = ViewHandle {
            name: projection.name(),
            serving: Arc::new(RwLock::new(serving_tree)),
            applied: applied_rx,
            status: status_rx,
            rebuild: Arc::new(tokio::sync::Notify::new()),
            // A build from 0 planned at start is request number 1.
            requested: Arc::new(std::sync::atomic::AtomicU64::new(u64::from(build_name.is_some()))),
            built_at_start: build_name.is_some(),
            covered: covered_rx,
        };
        Ok(Self {
            store,
            db,
            meta,
            projection,
            serving_name,
            build_name,
            handle,
            applied: applied_tx,
            status: status_tx,
            covered: covered_tx,
        })
    }

    pub(super) async fn run(mut self) {
        loop {
            let result = match self.build_name.clone() {
                Some(build) => self.build(&build).await,
                None => self.follow().await,
            };
            match result {
                Ok(Step::Continue) => continue,
                Ok(Step::RebuildRequested) => self.plan_rebuild(),
                Ok(Step::StoreClosed) => {
                    let _ = self.db.flush();
                    self.status.send_replace(ViewStatus::Stopped);
                    return;
                }
                Err((position, e)) => {
                    self.fail(position, e.to_string());
                    return;
                }
            }
        }
    }

    /// Whether every rebuild request so far is answered by the serving
    /// tree (a wake-up left from a request a build already covered).
    pub(super) fn rebuild_covered(&self) -> bool {
        self.handle.requested.load(std::sync::atomic::Ordering::SeqCst) <= *self.covered.borrow()
    }

    pub(super) fn fail(&self, position: Position, reason: String) {
        self.status.send_replace(ViewStatus::Failed { position, reason });
    }

    /// Waits for the next event and gathers what else is visible.
    pub(super) async fn next_batch(
        &self,
        sub: &mut Subscription,
    ) -> Result<Option<Vec<eventlog::RecordedEvent>>, (Position, ProjectionError)> {
        let first = tokio::select! {
            e = sub.next() => e,
            _ = self.handle.rebuild.notified() => return Ok(Some(Vec::new())),
        };
        let Some(first) = first else { return Ok(None) };
        let mut batch = vec![first.map_err(|e| (sub.next_position(), e.into()))?];
        while batch.len() < MAX_BATCH {
            match sub.try_next() {
                Some(e) => batch.push(e.map_err(|e| (sub.next_position(), e.into()))?),
                None => break,
            }
        }
        Ok(Some(batch))
    }

    pub(super) async fn follow(&mut self) -> Result<Step, (Position, ProjectionError)> {
        let tree = self.handle.tree();
        let from = checkpoint(&tree).map_err(|e| (0, e))?;
        let mut sub = Subscription::new(self.store.clone(), from);
        self.status.send_replace(ViewStatus::Live);
        loop {
            let Some(batch) = self.next_batch(&mut sub).await? else {
                return Ok(Step::StoreClosed);
            };
            if batch.is_empty() {
                if self.rebuild_covered() {
                    // A request the serving tree already answers.
                    continue;
                }
                return Ok(Step::RebuildRequested);
            }
            let last = self.apply_batch(&tree, &batch)?;
            self.applied.send_replace(Some(last));
            tokio::task::yield_now().await;
        }
    }
}
