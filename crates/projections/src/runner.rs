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

use std::collections::BTreeMap;
use std::sync::{Arc, RwLock};
use std::time::{Duration, Instant};

use chrono::{DateTime, Utc};
use eventlog::codec::{self, CodecError};
use eventlog::views::{ViewBatch, ViewDb, ViewTree};
use eventlog::{EventStore, Position, StoreError, Subscription};
use serde::{de::DeserializeOwned, Serialize};
use tokio::sync::watch;

use eventformat::wire::{self, DomainEvent, WireError};

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

/// Reads a view's tree through the writes staged in the current batch, and
/// stages new ones.
pub struct ViewWriter<'t> {
    tree: &'t ViewTree,
    staged: BTreeMap<Vec<u8>, Option<Vec<u8>>>,
}

impl<'t> ViewWriter<'t> {
    fn new(tree: &'t ViewTree) -> Self {
        Self {
            tree,
            staged: BTreeMap::new(),
        }
    }

    /// The current value of `key`, staged writes included.
    pub fn get(&self, key: &[u8]) -> Result<Option<Vec<u8>>, ProjectionError> {
        match self.staged.get(key) {
            Some(v) => Ok(v.clone()),
            None => Ok(self.tree.get(key)?),
        }
    }

    /// Decodes the value of `key`.
    pub fn get_value<T: DeserializeOwned>(&self, key: &[u8]) -> Result<Option<T>, ProjectionError> {
        match self.get(key)? {
            Some(bytes) => Ok(Some(codec::decode("view value", 1, &bytes)?)),
            None => Ok(None),
        }
    }

    /// Stages `key = value`.
    pub fn put(&mut self, key: Vec<u8>, value: Vec<u8>) {
        debug_assert!(key.first() != Some(&0), "keys starting with 0x00 are reserved");
        self.staged.insert(key, Some(value));
    }

    /// Stages `key = encode(value)`.
    pub fn put_value<T: Serialize>(&mut self, key: Vec<u8>, value: &T) -> Result<(), ProjectionError> {
        let bytes = codec::encode(value)?;
        self.put(key, bytes);
        Ok(())
    }

    /// Stages the removal of `key`.
    pub fn delete(&mut self, key: Vec<u8>) {
        self.staged.insert(key, None);
    }

    fn into_batch(self, next: Position, dead: Vec<(Vec<u8>, Vec<u8>)>) -> ViewBatch {
        let mut batch = ViewBatch::default();
        for (k, v) in dead {
            batch.put(k, v);
        }
        for (k, v) in self.staged {
            match v {
                Some(v) => batch.put(k, v),
                None => batch.delete(k),
            }
        }
        batch.put(CHECKPOINT_KEY.to_vec(), next.to_be_bytes().to_vec());
        batch
    }
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

/// What a view is doing.
#[derive(Debug, Clone, PartialEq)]
pub enum ViewStatus {
    /// Starting.
    Starting,
    /// Following the log live.
    Live,
    /// Replaying the log into a fresh tree while the old one serves.
    Rebuilding(RebuildProgress),
    /// Stopped on an error; queries still read the last good state.
    Failed {
        /// The event it could not apply.
        position: Position,
        /// Why.
        reason: String,
    },
    /// The runner ended (store closed).
    Stopped,
}

/// Progress of a rebuild.
#[derive(Debug, Clone, PartialEq)]
pub struct RebuildProgress {
    /// Events applied to the new tree.
    pub events_done: u64,
    /// The head when last measured.
    pub head: Option<Position>,
    /// Events per second since the rebuild (re)started.
    pub events_per_second: f64,
    /// Estimated time left.
    pub estimated_left: Option<Duration>,
}

/// A running view: queries read [`ViewHandle::tree`]; callers wait for
/// their writes with [`ViewHandle::wait_for`].
#[derive(Clone)]
pub struct ViewHandle {
    name: &'static str,
    serving: Arc<RwLock<ViewTree>>,
    applied: watch::Receiver<Option<Position>>,
    status: watch::Receiver<ViewStatus>,
    rebuild: Arc<tokio::sync::Notify>,
}

impl std::fmt::Debug for ViewHandle {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("ViewHandle")
            .field("name", &self.name)
            .finish_non_exhaustive()
    }
}

impl ViewHandle {
    /// The view's name.
    pub fn name(&self) -> &'static str {
        self.name
    }

    /// The tree that answers queries now.
    pub fn tree(&self) -> ViewTree {
        match self.serving.read() {
            Ok(t) => t.clone(),
            Err(poisoned) => poisoned.into_inner().clone(),
        }
    }

    /// The last position the serving tree has applied.
    pub fn applied(&self) -> Option<Position> {
        *self.applied.borrow()
    }

    /// The events the serving tree has set aside, by position.
    pub fn dead_letters(&self) -> Result<Vec<DeadLetter>, ProjectionError> {
        dead_letters(&self.tree())
    }

    /// What the view is doing.
    pub fn status(&self) -> ViewStatus {
        self.status.borrow().clone()
    }

    /// Waits until the serving tree has applied `position`.
    pub async fn wait_for(&self, position: Position, timeout: Duration) -> Result<(), ProjectionError> {
        let mut applied = self.applied.clone();
        let outcome = tokio::time::timeout(timeout, async {
            applied.wait_for(|a| a.is_some_and(|a| a >= position)).await.map(|_| ())
        })
        .await;
        match outcome {
            Ok(Ok(())) => Ok(()),
            Ok(Err(_)) => match self.status() {
                ViewStatus::Failed { position, reason } => Err(ProjectionError::Failed {
                    view: self.name.to_string(),
                    position,
                    reason,
                }),
                _ => Err(ProjectionError::Stopped(self.name.to_string())),
            },
            Err(_) => Err(ProjectionError::Timeout {
                view: self.name.to_string(),
                position,
                waited: timeout,
                applied: self.applied(),
            }),
        }
    }

    /// Waits until the view has stopped rebuilding and is live (or
    /// failed).
    pub async fn wait_until_live(&self, timeout: Duration) -> Result<(), ProjectionError> {
        let mut status = self.status.clone();
        let outcome = tokio::time::timeout(timeout, async {
            status
                .wait_for(|s| !matches!(s, ViewStatus::Starting | ViewStatus::Rebuilding(_)))
                .await
                .map(|s| s.clone())
        })
        .await;
        match outcome {
            Ok(Ok(ViewStatus::Live)) => Ok(()),
            Ok(Ok(s)) => Err(ProjectionError::Invalid(format!("view {} is {s:?}", self.name))),
            Ok(Err(_)) => Err(ProjectionError::Stopped(self.name.to_string())),
            Err(_) => Err(ProjectionError::Timeout {
                view: self.name.to_string(),
                position: 0,
                waited: timeout,
                applied: self.applied(),
            }),
        }
    }

    /// Waits until the runner has ended (after the store was closed), so
    /// that it no longer holds the store or the view database.
    pub async fn wait_stopped(&self, timeout: Duration) -> Result<(), ProjectionError> {
        let mut status = self.status.clone();
        let outcome = tokio::time::timeout(timeout, async {
            status
                .wait_for(|s| matches!(s, ViewStatus::Stopped | ViewStatus::Failed { .. }))
                .await
                .map(|_| ())
        })
        .await;
        match outcome {
            Ok(_) => Ok(()),
            Err(_) => Err(ProjectionError::Timeout {
                view: self.name.to_string(),
                position: 0,
                waited: timeout,
                applied: self.applied(),
            }),
        }
    }

    /// Asks for a rebuild from position 0 into a fresh tree; the current
    /// tree keeps serving until the new one has caught up.
    pub fn rebuild(&self) {
        self.rebuild.notify_one();
    }
}

fn meta_get(meta: &ViewTree, key: &str) -> Result<Option<String>, ProjectionError> {
    Ok(meta
        .get(key.as_bytes())?
        .map(|v| String::from_utf8_lossy(&v).into_owned()))
}

/// Starts the runner of `projection` on `store`, with its trees in `db`.
/// Must be called inside a tokio runtime.
pub fn start(
    store: Arc<dyn EventStore>,
    db: ViewDb,
    projection: Arc<dyn Projection>,
) -> Result<ViewHandle, ProjectionError> {
    let runner = prepare(store, db, projection)?;
    let handle = runner.handle.clone();
    tokio::spawn(runner.run());
    Ok(handle)
}

/// Starts every view of `projections`. Views share readers: each event is
/// read and decoded once and handed to every view of a reader, which
/// applies and commits it in its own task (building every view reads the
/// log once instead of once per view). Views that follow the log from
/// their checkpoint share one reader; views that must be built from 0
/// share another, so that a build does not hold up the views that are
/// live. A view asked to rebuild later leaves its reader and rebuilds on
/// its own. Must be called inside a tokio runtime.
pub fn start_all(
    store: Arc<dyn EventStore>,
    db: ViewDb,
    projections: Vec<Arc<dyn Projection>>,
) -> Result<Vec<ViewHandle>, ProjectionError> {
    let mut handles = Vec::new();
    let mut followers = Vec::new();
    let mut builders = Vec::new();
    for projection in projections {
        let runner = prepare(store.clone(), db.clone(), projection)?;
        handles.push(runner.handle.clone());
        if runner.build_name.is_some() {
            builders.push(runner);
        } else {
            followers.push(runner);
        }
    }
    for members in [followers, builders] {
        if members.is_empty() {
            continue;
        }
        let mut from = Position::MAX;
        let mut senders = Vec::new();
        for runner in members {
            // A build starts from 0 in a fresh tree.
            let start = match runner.build_name {
                Some(_) => 0,
                None => checkpoint(&runner.handle.tree())?,
            };
            from = from.min(start);
            let (tx, rx) = tokio::sync::mpsc::channel(FEED_DEPTH);
            senders.push(tx);
            tokio::spawn(runner.run_member(rx));
        }
        tokio::spawn(feed(store.clone(), from, senders));
    }
    Ok(handles)
}

/// Events decoded once for every member of a shared feed: position, log
/// time, and the domain event (`None` for streams that are not the
/// domain's, `Err` for an event that does not decode).
struct DecodedBatch {
    events: Vec<DecodedEvent>,
    last: Position,
    /// The log could not be read at `last`: every member fails there.
    error: Option<String>,
    /// Nothing after `last` was visible when the batch was read: a member
    /// building its tree has caught up with the head once it applied it.
    caught_up: bool,
}

/// One event of a [`DecodedBatch`].
type DecodedEvent = (Position, DateTime<Utc>, Result<Option<DomainEvent>, Unreadable>);

/// Batches a feed may run ahead of its slowest member.
const FEED_DEPTH: usize = 4;

/// The shared reader: reads and decodes each batch once and hands it to
/// every member still listening; ends when the store closes or no member
/// is left.
async fn feed(
    store: Arc<dyn EventStore>,
    from: Position,
    mut members: Vec<tokio::sync::mpsc::Sender<Arc<DecodedBatch>>>,
) {
    let mut sub = Subscription::new(store, from);
    loop {
        let Some(first) = sub.next().await else { return };
        let mut raw = Vec::new();
        match first {
            Ok(e) => raw.push(e),
            Err(e) => {
                let failed = Arc::new(DecodedBatch {
                    events: Vec::new(),
                    last: sub.next_position(),
                    error: Some(e.to_string()),
                    caught_up: false,
                });
                for m in members {
                    let _ = m.send(failed.clone()).await;
                }
                return;
            }
        }
        let mut caught_up = false;
        while raw.len() < MAX_BATCH {
            match sub.try_next() {
                Some(Ok(e)) => raw.push(e),
                Some(Err(_)) => break,
                None => {
                    caught_up = true;
                    break;
                }
            }
        }
        let last = raw.last().map(|r| r.position).unwrap_or(from);
        let events = raw.iter().map(|r| (r.position, r.recorded_at, read_event(r))).collect();
        let batch = Arc::new(DecodedBatch {
            events,
            last,
            error: None,
            caught_up,
        });
        let mut still = Vec::with_capacity(members.len());
        for m in members {
            if m.send(batch.clone()).await.is_ok() {
                still.push(m);
            }
        }
        members = still;
        if members.is_empty() {
            return;
        }
    }
}

fn prepare(store: Arc<dyn EventStore>, db: ViewDb, projection: Arc<dyn Projection>) -> Result<Runner, ProjectionError> {
    let name = projection.name();
    let meta = db.tree(META_TREE)?;
    let target = format!("{name}.v{}", projection.version());
    let current = meta_get(&meta, &format!("current/{name}"))?;
    let building = meta_get(&meta, &format!("building/{name}"))?;
    // A tree belongs to this version if it is `<name>.v<version>` or one of
    // its explicit rebuilds, `<name>.v<version>.r<n>`.
    let of_this_version = |tree: &str| tree == target || tree.starts_with(&format!("{target}.r"));
    // A build left by a stop or a crash was written without atomic batches
    // and cannot be resumed: drop it. If it was a build of this version, it
    // starts again from 0 below.
    let interrupted = match building {
        Some(b) => {
            db.drop_tree(&b)?;
            let mut batch = ViewBatch::default();
            batch.delete(format!("building/{name}").into_bytes());
            meta.apply(batch)?;
            of_this_version(&b)
        }
        None => false,
    };
    // A view whose checkpoint is past the log's end folds events the log
    // no longer holds (a log restored from an older backup, a lost tail):
    // it must never serve. It is dropped and built again from the log.
    let log_end = store.head().map_or(0, |h| h + 1);
    let ahead = match &current {
        Some(current) if db.has_tree(current) => {
            let at = checkpoint(&db.tree(current)?)?;
            (at > log_end).then_some(at)
        }
        _ => None,
    };
    if let Some(at) = ahead {
        tracing::warn!(
            view = name,
            checkpoint = at,
            log_end,
            "the view has applied events up to position {} but the log ends before position {log_end}; it is rebuilt from the log and serves nothing until then",
            at - 1
        );
    }
    // Serve what served before (on a fresh view database, an empty tree);
    // build this version if nothing of it serves, or start again a build
    // of it that was interrupted.
    let needs_build = match &current {
        Some(current) => !of_this_version(current) || interrupted || ahead.is_some(),
        None => true,
    };
    let serving_name = match &current {
        Some(current) if ahead.is_none() => current.clone(),
        _ => format!("{target}.empty"),
    };
    if ahead.is_some() {
        // The tree ahead of the log stops being current before it is
        // dropped, so that a stop in between cannot serve an empty tree
        // under its name as if it were live.
        let mut batch = ViewBatch::default();
        batch.delete(format!("current/{name}").into_bytes());
        meta.apply(batch)?;
        if db.has_tree(&serving_name) {
            // A placeholder left from earlier must serve nothing.
            db.drop_tree(&serving_name)?;
        }
    }
    let build_name = if !needs_build {
        None
    } else if current.as_deref().is_some_and(of_this_version) || interrupted || db.has_tree(&target) {
        Some(rebuild_name(&db, &target))
    } else {
        Some(target.clone())
    };
    // Any other tree of this view is left over: a placeholder of another
    // version, or an old tree a crash kept from being dropped after its swap.
    for tree in db.tree_names() {
        let ours = tree.starts_with(&format!("{name}.v"));
        if ours && tree != serving_name && Some(&tree) != build_name.as_ref() {
            db.drop_tree(&tree)?;
        }
    }
    let mut runner = Runner::new(store, db, meta, projection, serving_name, build_name)?;
    // On an empty log the fresh tree is the whole view: it serves at once.
    if let Some(build) = runner.build_name.clone() {
        if runner.store.head().is_none() {
            let tree = runner.fresh_tree(&build)?;
            runner.swap(&build, &tree)?;
        }
    }
    Ok(runner)
}

/// A name for a rebuild of `target` that no tree has.
fn rebuild_name(db: &ViewDb, target: &str) -> String {
    let mut n = Utc::now().timestamp_millis();
    loop {
        let name = format!("{target}.r{n}");
        if !db.has_tree(&name) {
            return name;
        }
        n += 1;
    }
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
}

enum Step {
    Continue,
    StoreClosed,
    RebuildRequested,
}

impl Runner {
    fn new(
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
        let handle = ViewHandle {
            name: projection.name(),
            serving: Arc::new(RwLock::new(serving_tree)),
            applied: applied_rx,
            status: status_rx,
            rebuild: Arc::new(tokio::sync::Notify::new()),
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
        })
    }

    /// Records that `build` is being built and returns its tree, which
    /// must be new: a build writes it with plain inserts, from 0.
    fn fresh_tree(&self, build: &str) -> Result<ViewTree, ProjectionError> {
        if build == self.serving_name || self.db.has_tree(build) {
            return Err(ProjectionError::Invalid(format!(
                "view {}: tree {build} exists already and cannot be built from 0",
                self.projection.name()
            )));
        }
        let mut b = ViewBatch::default();
        b.put(
            format!("building/{}", self.projection.name()).into_bytes(),
            build.as_bytes().to_vec(),
        );
        self.meta.apply(b)?;
        Ok(self.db.tree(build)?)
    }

    async fn run(mut self) {
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

    /// Plans a rebuild into a fresh tree of this version.
    fn plan_rebuild(&mut self) {
        let target = format!("{}.v{}", self.projection.name(), self.projection.version());
        self.build_name = Some(rebuild_name(&self.db, &target));
    }

    /// A member of a shared feed: applies the decoded batches it is handed
    /// until the store closes. A member that builds its tree from 0 swaps
    /// it in once it has caught up and carries on as any member. A rebuild
    /// request takes a member that is not building out of the feed, and it
    /// carries on alone.
    async fn run_member(mut self, mut rx: tokio::sync::mpsc::Receiver<Arc<DecodedBatch>>) {
        let mut building = match self.build_name.clone() {
            Some(build) => match self.fresh_tree(&build) {
                Ok(tree) => {
                    let progress = BuildProgress::new(self.store.head());
                    self.status.send_replace(ViewStatus::Rebuilding(progress.report()));
                    Some((build, tree, progress))
                }
                Err(e) => return self.fail(0, e.to_string()),
            },
            None => {
                self.status.send_replace(ViewStatus::Live);
                None
            }
        };
        let mut tree = match &building {
            Some((_, tree, _)) => tree.clone(),
            None => self.handle.tree(),
        };
        loop {
            let batch = tokio::select! {
                b = rx.recv() => b,
                _ = self.handle.rebuild.notified() => {
                    if building.is_some() {
                        // Already building; a second request changes nothing.
                        continue;
                    }
                    drop(rx);
                    self.plan_rebuild();
                    return self.run().await;
                }
            };
            let Some(batch) = batch else {
                let _ = self.db.flush();
                self.status.send_replace(ViewStatus::Stopped);
                return;
            };
            if let Some(reason) = &batch.error {
                return self.fail(batch.last, reason.clone());
            }
            let next = match checkpoint(&tree) {
                Ok(n) => n,
                Err(e) => return self.fail(batch.last, e.to_string()),
            };
            if batch.last < next {
                continue;
            }
            let mut decoded = Vec::with_capacity(batch.events.len());
            let mut dead = Vec::new();
            for (position, recorded_at, event) in batch.events.iter().filter(|(p, _, _)| *p >= next) {
                match event {
                    Ok(Some(e)) => decoded.push((*position, *recorded_at, e)),
                    Ok(None) => {}
                    Err(unreadable) => dead.push((*position, unreadable)),
                }
            }
            let commit = match building {
                Some(_) => Commit::InOrder,
                None => Commit::Atomic,
            };
            let last = match self.apply_decoded(&tree, &decoded, &dead, batch.last, commit) {
                Ok(last) => last,
                Err((position, e)) => return self.fail(position, e.to_string()),
            };
            match &mut building {
                None => {
                    self.applied.send_replace(Some(last));
                }
                Some((build, built, progress)) => {
                    progress.done += batch.events.len() as u64;
                    progress.head = self.store.head();
                    if batch.caught_up || progress.head.is_none_or(|h| h <= last) {
                        if let Err(e) = self.swap(build, built) {
                            return self.fail(last, e.to_string());
                        }
                        tree = self.handle.tree();
                        building = None;
                        self.status.send_replace(ViewStatus::Live);
                    } else {
                        self.status.send_replace(ViewStatus::Rebuilding(progress.report()));
                    }
                }
            }
            tokio::task::yield_now().await;
        }
    }

    fn fail(&self, position: Position, reason: String) {
        self.status.send_replace(ViewStatus::Failed { position, reason });
    }

    /// Applies one batch of events to `tree` and commits it with the
    /// checkpoint. Returns the last position applied.
    fn apply_batch(
        &self,
        tree: &ViewTree,
        batch: &[eventlog::RecordedEvent],
        commit: Commit,
    ) -> Result<Position, (Position, ProjectionError)> {
        let Some(last) = batch.last().map(|r| r.position) else {
            return Ok(0);
        };
        let mut decoded = Vec::with_capacity(batch.len());
        let mut dead = Vec::new();
        for recorded in batch {
            match read_event(recorded) {
                Ok(Some(e)) => decoded.push((recorded.position, recorded.recorded_at, e)),
                Ok(None) => {}
                Err(unreadable) => dead.push((recorded.position, unreadable)),
            }
        }
        let decoded: Vec<(Position, DateTime<Utc>, &DomainEvent)> =
            decoded.iter().map(|(p, t, e)| (*p, *t, e)).collect();
        let dead: Vec<(Position, &Unreadable)> = dead.iter().map(|(p, u)| (*p, u)).collect();
        self.apply_decoded(tree, &decoded, &dead, last, commit)
    }

    /// Applies decoded events and commits them with the checkpoint after
    /// `last` (the last position read, decoded or not), and with a dead
    /// letter for each event of `dead`, which could not be read.
    fn apply_decoded(
        &self,
        tree: &ViewTree,
        decoded: &[(Position, DateTime<Utc>, &DomainEvent)],
        dead: &[(Position, &Unreadable)],
        last: Position,
        commit: Commit,
    ) -> Result<Position, (Position, ProjectionError)> {
        let applied: Vec<Applied<'_>> = decoded
            .iter()
            .map(|(position, recorded_at, event)| Applied {
                position: *position,
                recorded_at: *recorded_at,
                event,
            })
            .collect();
        let mut writer = ViewWriter::new(tree);
        if let Err(e) = self.projection.apply_all(&mut writer, &applied) {
            // Find the event that fails, one by one, to report its position.
            let mut probe = ViewWriter::new(tree);
            for a in &applied {
                if let Err(e) = self.projection.apply(&mut probe, a) {
                    return Err((a.position, e));
                }
            }
            return Err((applied.first().map(|a| a.position).unwrap_or(last), e));
        }
        let mut letters = Vec::with_capacity(dead.len());
        for (position, unreadable) in dead {
            let letter = DeadLetter {
                position: *position,
                view: self.projection.name().to_string(),
                event_type: unreadable.event_type.clone(),
                reason: unreadable.reason.clone(),
            };
            tracing::warn!(
                view = letter.view,
                position = letter.position,
                event_type = letter.event_type,
                reason = letter.reason,
                "the view cannot read the event at position {position}; it sets it aside and keeps going"
            );
            let value = codec::encode(&letter).map_err(|e| (*position, e.into()))?;
            letters.push((dead_letter_key(*position), value));
        }
        let batch = writer.into_batch(last + 1, letters);
        match commit {
            Commit::Atomic => tree.apply(batch),
            Commit::InOrder => tree.write_in_order(batch),
        }
        .map_err(|e| (last, e.into()))?;
        Ok(last)
    }

    /// Waits for the next event and gathers what else is visible.
    async fn next_batch(
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

    async fn follow(&mut self) -> Result<Step, (Position, ProjectionError)> {
        let tree = self.handle.tree();
        let from = checkpoint(&tree).map_err(|e| (0, e))?;
        let mut sub = Subscription::new(self.store.clone(), from);
        self.status.send_replace(ViewStatus::Live);
        loop {
            let Some(batch) = self.next_batch(&mut sub).await? else {
                return Ok(Step::StoreClosed);
            };
            if batch.is_empty() {
                return Ok(Step::RebuildRequested);
            }
            let last = self.apply_batch(&tree, &batch, Commit::Atomic)?;
            self.applied.send_replace(Some(last));
            tokio::task::yield_now().await;
        }
    }

    /// Builds `build` from 0 on a reader of its own, then swaps it in.
    async fn build(&mut self, build: &str) -> Result<Step, (Position, ProjectionError)> {
        let tree = self.fresh_tree(build).map_err(|e| (0, e))?;
        let mut sub = Subscription::new(self.store.clone(), 0);
        let mut progress = BuildProgress::new(self.store.head());
        self.status.send_replace(ViewStatus::Rebuilding(progress.report()));
        loop {
            progress.head = self.store.head();
            let caught_up = match progress.head {
                None => true,
                Some(h) => sub.next_position() > h,
            };
            if caught_up {
                self.swap(build, &tree).map_err(|e| (sub.next_position(), e))?;
                return Ok(Step::Continue);
            }
            let Some(batch) = self.next_batch(&mut sub).await? else {
                return Ok(Step::StoreClosed);
            };
            if batch.is_empty() {
                // Already rebuilding; a second request changes nothing.
                continue;
            }
            self.apply_batch(&tree, &batch, Commit::InOrder)?;
            progress.done += batch.len() as u64;
            self.status.send_replace(ViewStatus::Rebuilding(progress.report()));
            tokio::task::yield_now().await;
        }
    }

    /// Makes the built tree the serving one: everything written to the
    /// view database reaches sled's files, then one meta batch records the
    /// swap, then the pointer moves, the old tree goes, and waiters learn
    /// the position the view has applied.
    fn swap(&mut self, build: &str, tree: &ViewTree) -> Result<(), ProjectionError> {
        let name = self.projection.name();
        // The tree was written with plain inserts: they are on disk before
        // the swap that publishes them is.
        self.db.flush()?;
        let mut b = ViewBatch::default();
        b.put(format!("current/{name}").into_bytes(), build.as_bytes().to_vec());
        b.delete(format!("building/{name}").into_bytes());
        self.meta.apply(b)?;
        let applied = checkpoint(tree)?.checked_sub(1);
        match self.handle.serving.write() {
            Ok(mut t) => *t = tree.clone(),
            Err(poisoned) => *poisoned.into_inner() = tree.clone(),
        }
        let old = std::mem::replace(&mut self.serving_name, build.to_string());
        if old != build {
            self.db.drop_tree(&old)?;
        }
        self.build_name = None;
        // Last: a caller waiting for a position finds the swap complete.
        self.applied.send_replace(applied);
        Ok(())
    }
}

/// How a batch of view writes reaches sled.
#[derive(Debug, Clone, Copy)]
enum Commit {
    /// One atomic batch with the checkpoint: for a tree that serves.
    Atomic,
    /// Plain inserts in order: for a tree being built, which nothing reads
    /// and which is dropped if the build is interrupted.
    InOrder,
}

/// Counts a build's progress.
struct BuildProgress {
    started: Instant,
    done: u64,
    head: Option<Position>,
}

impl BuildProgress {
    fn new(head: Option<Position>) -> Self {
        Self {
            started: Instant::now(),
            done: 0,
            head,
        }
    }

    fn report(&self) -> RebuildProgress {
        let rate = self.done as f64 / self.started.elapsed().as_secs_f64().max(1e-6);
        let left = self.head.map(|h| (h + 1).saturating_sub(self.done));
        RebuildProgress {
            events_done: self.done,
            head: self.head,
            events_per_second: rate,
            estimated_left: left
                .filter(|_| rate > 0.0)
                .map(|l| Duration::from_secs_f64(l as f64 / rate)),
        }
    }
}
