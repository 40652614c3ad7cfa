//! Group commit: the writer thread and the sync thread.
//!
//! One writer thread owns every write. It takes all queued appends at once
//! (a group), checks each against the stream heads and the id index,
//! assigns positions from its own counter, writes the group as one frame
//! to the write-ahead file ([`super::wal`]) and inserts it into sled. Because positions are allocated inside this one
//! serialized step, they are dense and commit order is position order.
//! A request is one `append` or one `append_streams` call: all its parts
//! are checked before any is placed, and a request never spans two
//! groups, so its events are consecutive and in one frame.
//!
//! The sync thread makes groups durable with one `fdatasync` of the
//! write-ahead file. The writer hands it each group as soon as the frame
//! is written, before inserting the group into sled, so the sync and the
//! sled inserts of a group run at the same time; the sync thread
//! acknowledges the appends and moves the visible head only when both are
//! done. One sync covers every frame written before it started.
//!
//! The shared state and the sync thread are in `sync.rs`, the planning of
//! each request (checks, retries, positions) in `plan.rs`.

mod plan;
mod sync;

use std::collections::HashMap;
use std::sync::atomic::Ordering;
use std::sync::{mpsc as std_mpsc, Arc};
use std::thread::JoinHandle;
use std::time::Instant;

use chrono::{DateTime, Utc};
use tokio::sync::{mpsc, oneshot, watch};

use super::chunk;
use super::keys::*;
use super::wal::{FrameBuilder, Wal, MAX_FRAME_PAYLOAD};
use super::{Durability, SledOptions};
use crate::error::StoreError;
use crate::types::{AppendOutcome, EventId, Position, StreamAppend, StreamId, StreamVersion};
use crate::types::{
    MAX_EVENTS_PER_MULTI_APPEND, MAX_EVENT_TYPE_LEN, MAX_METADATA_FIELD_LEN, MAX_PAYLOAD_LEN, MAX_STREAM_ID_LEN,
};

pub(super) use sync::Shared;

use sync::{sync_each_group, sync_on_interval, SyncJob};

pub(super) type Reply = oneshot::Sender<Result<Vec<AppendOutcome>, StoreError>>;
/// A reply and the outcomes to send with it.
type Answer = (Reply, Result<Vec<AppendOutcome>, StoreError>);

/// One queued `append` (one part) or `append_streams` call. Its parts
/// are planned together and always land in the same group, so in one
/// write-ahead frame, at consecutive positions.
pub(super) struct AppendRequest {
    /// Distinct streams, each with at least one event (checked before
    /// queueing).
    pub parts: Vec<StreamAppend>,
    pub reply: Reply,
}

impl AppendRequest {
    fn events(&self) -> usize {
        self.parts.iter().map(|p| p.events.len()).sum()
    }
}

/// Where the writer resumes after `open` recovered the store.
pub(super) struct Recovered {
    pub next_position: Position,
    pub last_recorded_at: Option<DateTime<Utc>>,
    pub wal: Wal,
}

pub(super) fn start(
    tree: sled::Tree,
    shared: Arc<Shared>,
    head_tx: watch::Sender<Option<Position>>,
    requests: mpsc::Receiver<AppendRequest>,
    options: SledOptions,
    recovered: Recovered,
) -> Result<Vec<JoinHandle<()>>, StoreError> {
    let Recovered {
        next_position,
        last_recorded_at,
        wal,
    } = recovered;
    let (sync_tx, sync_rx) = std_mpsc::channel();
    let sync_shared = shared.clone();
    let durability = options.durability;
    let syncer = std::thread::Builder::new()
        .name("eventlog-sync".into())
        .spawn(move || match durability {
            Durability::Durable => sync_each_group(&sync_shared, &head_tx, sync_rx),
            Durability::Buffered { interval } => sync_on_interval(&sync_shared, &head_tx, sync_rx, interval),
        })?;
    let mut writer = Writer {
        tree,
        wal,
        heads: HashMap::new(),
        shared,
        next_position,
        last_recorded_at,
        acknowledge_early: matches!(durability, Durability::Buffered { .. }),
        max_group_events: options.max_group_events.max(1),
    };
    let writer = std::thread::Builder::new()
        .name("eventlog-writer".into())
        .spawn(move || writer.run(requests, sync_tx))?;
    Ok(vec![writer, syncer])
}

/// A group stops taking requests past this many payload bytes, so a
/// write-ahead frame stays far below its length field's limit
/// ([`MAX_FRAME_PAYLOAD`]): one request, all its parts together, is at
/// most [`MAX_EVENTS_PER_MULTI_APPEND`] events of at most
/// [`MAX_RECORD_BYTES`] each.
const MAX_GROUP_BYTES: usize = 16 * 1024 * 1024;

/// The most bytes one record takes in a frame: its length field and an
/// envelope at every size limit (about 100 fixed bytes, the texts with
/// their length fields, the optional metadata, the payload).
const MAX_RECORD_BYTES: usize =
    MAX_PAYLOAD_LEN + MAX_STREAM_ID_LEN + MAX_EVENT_TYPE_LEN + 3 * MAX_METADATA_FIELD_LEN + 256;

// The largest group (requests up to `MAX_GROUP_BYTES`, then one more of
// the largest size) fits one frame, so no request is ever refused for its
// size once `validate_append` and the per-call event limit passed, and no
// request's parts are ever split.
const _: () = assert!(MAX_GROUP_BYTES + MAX_EVENTS_PER_MULTI_APPEND * MAX_RECORD_BYTES < MAX_FRAME_PAYLOAD);

fn request_bytes(request: &AppendRequest) -> usize {
    request
        .parts
        .iter()
        .flat_map(|p| &p.events)
        .map(|e| e.payload.len() + 256)
        .sum()
}

/// Streams whose head the writer remembers; past this it forgets them all
/// (the stream index remains the truth), so memory stays bounded.
const HEAD_CACHE_STREAMS: usize = 100_000;

struct Writer {
    tree: sled::Tree,
    wal: Wal,
    /// Heads of recently appended streams, as applied to the tree.
    heads: HashMap<StreamId, StreamVersion>,
    shared: Arc<Shared>,
    next_position: Position,
    last_recorded_at: Option<DateTime<Utc>>,
    acknowledge_early: bool,
    max_group_events: usize,
}

/// What a group has written so far but not yet applied: the overlay that
/// later requests of the same group must see.
#[derive(Default)]
struct GroupState {
    start: Position,
    /// The group's encoded records, in position order.
    records: Vec<sled::IVec>,
    heads: HashMap<StreamId, StreamVersion>,
    ids: HashMap<EventId, Position>,
    /// Each record's stream-index key and event id, in position order.
    index: Vec<(Vec<u8>, EventId)>,
    frame: Option<FrameBuilder>,
}

impl GroupState {
    /// Inserts the group into sled: its records in chunks (one key for up
    /// to [`chunk::MAX_RECORDS`] records, see [`super::chunk`]), then each
    /// record's stream-index and id-index entries. Plain inserts rather
    /// than one `sled::Batch`: atomicity comes from the write-ahead frame
    /// (recovery re-derives the index entries of every record past the
    /// last checkpoint, see [`super::wal::recover`]), and sled's batches
    /// cost about a third more per key on this path (pinned epoch for the
    /// whole batch, the global write lock, the batch seal).
    fn apply(&self, tree: &sled::Tree) -> Result<(), StoreError> {
        insert_chunks(tree, self.start, &self.records)?;
        for (offset, (stream_key, id)) in self.index.iter().enumerate() {
            let position_bytes = (self.start + offset as u64).to_be_bytes();
            tree.insert(stream_key.as_slice(), &position_bytes)?;
            tree.insert(id_key(id), &position_bytes)?;
        }
        Ok(())
    }
}

/// Inserts `records` (positions `first` on) into sled as chunks: what the
/// writer does with a group, and recovery with a frame's records.
pub(super) fn insert_chunks<R: AsRef<[u8]>>(
    tree: &sled::Tree,
    first: Position,
    records: &[R],
) -> Result<(), StoreError> {
    for (start, count, bytes) in chunk::encode(records) {
        tree.insert(chunk_key(first + start as u64, count), bytes)?;
    }
    Ok(())
}

impl Writer {
    fn run(&mut self, mut requests: mpsc::Receiver<AppendRequest>, sync_tx: std_mpsc::Sender<SyncJob>) {
        while let Some(first) = requests.blocking_recv() {
            let mut group = vec![first];
            let mut events = group[0].events();
            let mut bytes = request_bytes(&group[0]);
            while events < self.max_group_events && bytes < MAX_GROUP_BYTES {
                match requests.try_recv() {
                    Ok(next) => {
                        events += next.events();
                        bytes += request_bytes(&next);
                        group.push(next);
                    }
                    Err(_) => break,
                }
            }
            let (replies, written) = self.write_group(group);
            let job = SyncJob {
                visible_len: self.next_position,
                wal: self.wal.file(),
                replies,
            };
            if sync_tx.send(job).is_err() {
                // The sync thread is gone: nothing more can become durable.
                self.shared.poison("the sync thread stopped".into());
            }
            if let Some(state) = written {
                self.apply_group(state);
            }
            if self.wal.needs_checkpoint() {
                self.checkpoint();
            }
        }
        // Closing: leave sled durable and the write-ahead file empty, so the
        // next open has nothing to replay.
        self.checkpoint();
    }

    /// Makes sled durable and starts a fresh write-ahead file. A failure
    /// poisons the store: what is durable can no longer be told.
    fn checkpoint(&mut self) {
        if self.shared.poisoned().is_some() {
            return;
        }
        let result = self
            .shared
            .sync_files()
            .and_then(|()| Wal::start(self.wal.dir(), self.next_position));
        match result {
            Ok(wal) => self.wal = wal,
            Err(e) => self.shared.poison(format!("checkpoint failed: {e}")),
        }
    }

    /// Plans one group and writes its frame to the write-ahead file.
    /// Returns the replies to send once it is durable and in sled (or at
    /// once, for refusals and in buffered mode), and the group to insert
    /// into sled if it wrote anything.
    fn write_group(&mut self, group: Vec<AppendRequest>) -> (Vec<Answer>, Option<GroupState>) {
        if let Some(reason) = self.shared.poisoned() {
            let replies = group
                .into_iter()
                .map(|r| (r.reply, Err(StoreError::Poisoned { reason: reason.clone() })))
                .collect();
            return (replies, None);
        }
        let now = self.recorded_at();
        let mut state = GroupState {
            start: self.next_position,
            ..GroupState::default()
        };
        let mut pending = Vec::with_capacity(group.len());
        for request in group {
            // Refusals wrote nothing, but they were judged against state
            // that is not yet durable: they too are answered after the sync
            // (and become `Poisoned` if it fails), so that no caller is told
            // about a version that may never become visible.
            let outcome = self.plan(&mut state, request.parts, now);
            pending.push((request.reply, outcome));
        }
        let mut written = None;
        if let Some(frame) = state.frame.take() {
            let started = Instant::now();
            let result = self.wal.write(&frame.finish());
            self.shared
                .counters
                .apply_nanos
                .fetch_add(started.elapsed().as_nanos() as u64, Ordering::Relaxed);
            if let Err(e) = result {
                // After an I/O error nobody can tell what reached the disk:
                // stop writing.
                let reason = format!("writing a group failed: {e}");
                self.shared.poison(reason.clone());
                self.next_position = state.start;
                let replies = pending
                    .into_iter()
                    .map(|(reply, _)| (reply, Err(StoreError::Poisoned { reason: reason.clone() })))
                    .collect();
                return (replies, None);
            }
            self.last_recorded_at = Some(now);
            if self.heads.len() + state.heads.len() > HEAD_CACHE_STREAMS {
                self.heads.clear();
            }
            self.heads.extend(state.heads.drain());
            written = Some(state);
        }
        if self.acknowledge_early {
            for (reply, outcome) in pending {
                let _ = reply.send(outcome);
            }
            return (Vec::new(), written);
        }
        (pending, written)
    }

    /// Inserts a written group into sled, then tells the sync thread. A
    /// failure poisons the store: the sync thread then answers the group's
    /// appends with `Poisoned` instead of acknowledging them.
    fn apply_group(&mut self, state: GroupState) {
        let started = Instant::now();
        let result = state.apply(&self.tree);
        let counters = &self.shared.counters;
        counters
            .apply_nanos
            .fetch_add(started.elapsed().as_nanos() as u64, Ordering::Relaxed);
        counters.groups.fetch_add(1, Ordering::Relaxed);
        counters.events.fetch_add(state.records.len() as u64, Ordering::Relaxed);
        match result {
            Ok(()) => self.shared.set_applied(state.start + state.records.len() as u64),
            Err(e) => self.shared.poison(format!("inserting a group into sled failed: {e}")),
        }
    }
}
