//! Starting views, and the shared reader that feeds them: each event is
//! read and decoded once and handed to every view of a reader, which
//! applies and commits it in its own task.

use std::sync::Arc;

use crate::store::ViewDb;
use chrono::{DateTime, Utc};
use eventformat::wire::DomainEvent;
use eventlog::{EventStore, Position, Subscription};

use super::build::BuildProgress;
use super::{
    checkpoint, prepare, read_event, Projection, ProjectionError, Runner, Unreadable, ViewHandle, ViewStatus, MAX_BATCH,
};

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
pub(super) struct DecodedBatch {
    events: Vec<DecodedEvent>,
    last: Position,
    /// The log could not be read at `last`: every member fails there.
    error: Option<String>,
    /// Nothing after `last` was visible when the batch was read: a member
    /// building its tree has caught up with the head once it applied it.
    caught_up: bool,
}

/// One event of a [`DecodedBatch`].
pub(super) type DecodedEvent = (Position, DateTime<Utc>, Result<Option<DomainEvent>, Unreadable>);

/// Batches a feed may run ahead of its slowest member.
pub(super) const FEED_DEPTH: usize = 4;

/// The shared reader: reads and decodes each batch once and hands it to
/// every member still listening; ends when the store closes or no member
/// is left.
pub(super) async fn feed(
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

impl Runner {
    /// A member of a shared feed: applies the decoded batches it is handed
    /// until the store closes. A member that builds its tree from 0 swaps
    /// it in once it has caught up and carries on as any member. A rebuild
    /// request takes a member that is not building out of the feed, and it
    /// carries on alone.
    pub(super) async fn run_member(mut self, mut rx: tokio::sync::mpsc::Receiver<Arc<DecodedBatch>>) {
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
                    if building.is_some() || self.rebuild_covered() {
                        // Already building (its swap answers the request),
                        // or a request a build already answered.
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
            let last = match self.apply_decoded(&tree, &decoded, &dead, batch.last) {
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
}
