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

use std::collections::HashMap;
use std::fs::File;
use std::path::PathBuf;
use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::{mpsc as std_mpsc, Arc, Condvar, Mutex};
use std::thread::JoinHandle;
use std::time::{Duration, Instant};

use chrono::{DateTime, Utc};
use tokio::sync::{mpsc, oneshot, watch};

use super::chunk;
use super::keys::*;
use super::wal::{FrameBuilder, Wal, MAX_FRAME_PAYLOAD};
use super::{Durability, SledOptions};
use crate::envelope;
use crate::error::StoreError;
use crate::types::{AppendOutcome, EventId, NewEvent, Position, RecordedEvent, StreamAppend, StreamId, StreamVersion};
use crate::types::{
    MAX_EVENTS_PER_MULTI_APPEND, MAX_EVENT_TYPE_LEN, MAX_METADATA_FIELD_LEN, MAX_PAYLOAD_LEN, MAX_STREAM_ID_LEN,
};

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

/// Counters of the write path, for metrics and benchmarks.
#[derive(Default)]
pub(super) struct Counters {
    pub groups: AtomicU64,
    pub events: AtomicU64,
    pub apply_nanos: AtomicU64,
    pub syncs: AtomicU64,
    pub sync_nanos: AtomicU64,
}

/// State shared by the store handle, the writer and the sync thread.
pub(super) struct Shared {
    pub counters: Counters,
    db: sled::Db,
    db_file: File,
    path: PathBuf,
    /// Number of events readers may see (the visible head + 1).
    pub visible_len: AtomicU64,
    /// Number of events inserted into sled (the writer moves it, the sync
    /// thread waits for it).
    applied_len: Mutex<u64>,
    applied: Condvar,
    poison: Mutex<Option<String>>,
}

impl Shared {
    pub fn new(db: sled::Db, db_file: File, path: PathBuf, visible_len: u64) -> Self {
        Self {
            counters: Counters::default(),
            db,
            db_file,
            path,
            visible_len: AtomicU64::new(visible_len),
            applied_len: Mutex::new(visible_len),
            applied: Condvar::new(),
            poison: Mutex::new(None),
        }
    }

    pub fn poisoned(&self) -> Option<String> {
        match self.poison.lock() {
            Ok(p) => p.clone(),
            Err(_) => Some("a store thread panicked".into()),
        }
    }

    pub fn poison(&self, reason: String) {
        if let Ok(mut p) = self.poison.lock() {
            p.get_or_insert(reason);
        }
        // Wake a sync thread waiting for an apply that will not come.
        let _guard = self.applied_len.lock();
        self.applied.notify_all();
    }

    /// Records that sled holds every event below `len`.
    fn set_applied(&self, len: u64) {
        if let Ok(mut applied) = self.applied_len.lock() {
            *applied = (*applied).max(len);
        }
        self.applied.notify_all();
    }

    /// Waits until sled holds every event below `len`; `Err` with the
    /// reason when the store is poisoned instead.
    fn wait_applied(&self, len: u64) -> Result<(), String> {
        let mut applied = self
            .applied_len
            .lock()
            .map_err(|_| "a store thread panicked".to_owned())?;
        loop {
            if let Some(reason) = self.poisoned() {
                return Err(reason);
            }
            if *applied >= len {
                return Ok(());
            }
            applied = self
                .applied
                .wait(applied)
                .map_err(|_| "a store thread panicked".to_owned())?;
        }
    }

    /// Makes everything sled has applied so far durable: the checkpoint
    /// that lets the write-ahead files go.
    ///
    /// sled 0.34's `flush` writes its buffers and calls `sync_file_range`,
    /// which neither flushes the drive's write cache nor the file's
    /// metadata; the `fdatasync` that follows does both. Blob files (only
    /// for values above sled's blob threshold, which the size limits keep
    /// events below) are synced too if any exist.
    pub fn sync_files(&self) -> Result<(), StoreError> {
        self.db.flush()?;
        self.db_file.sync_data()?;
        let blobs = self.path.join("blobs");
        if let Ok(entries) = std::fs::read_dir(&blobs) {
            let mut any = false;
            for entry in entries {
                File::open(entry?.path())?.sync_all()?;
                any = true;
            }
            if any {
                File::open(&blobs)?.sync_all()?;
            }
        }
        Ok(())
    }
}

/// Work handed from the writer to the sync thread: everything below
/// `visible_len` is durable once `wal` is synced; then send `replies`.
struct SyncJob {
    visible_len: u64,
    wal: Arc<File>,
    replies: Vec<Answer>,
}

/// Syncs each distinct WAL file of `jobs` (normally just one).
fn sync_wal_files<'a>(shared: &Shared, files: impl Iterator<Item = &'a Arc<File>>) -> Result<(), String> {
    let started = Instant::now();
    let mut done: Vec<&Arc<File>> = Vec::new();
    for file in files {
        if done.iter().any(|d| Arc::ptr_eq(d, file)) {
            continue;
        }
        file.sync_data()
            .map_err(|e| format!("syncing the write-ahead file failed: {e}"))?;
        done.push(file);
    }
    shared.counters.syncs.fetch_add(1, Ordering::Relaxed);
    shared
        .counters
        .sync_nanos
        .fetch_add(started.elapsed().as_nanos() as u64, Ordering::Relaxed);
    Ok(())
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

fn sync_each_group(shared: &Shared, head_tx: &watch::Sender<Option<Position>>, jobs: std_mpsc::Receiver<SyncJob>) {
    while let Ok(first) = jobs.recv() {
        let mut group = vec![first];
        group.extend(jobs.try_iter());
        let visible_len = group.iter().map(|j| j.visible_len).max().unwrap_or(0);
        let result = match shared.poisoned() {
            Some(reason) => Err(reason),
            None => sync_wal_files(shared, group.iter().map(|j| &j.wal)),
        }
        .and_then(|()| shared.wait_applied(visible_len));
        match result {
            Ok(()) => publish(shared, head_tx, visible_len),
            Err(reason) => shared.poison(reason),
        }
        let poisoned = shared.poisoned();
        for job in group {
            for (reply, outcome) in job.replies {
                let outcome = match &poisoned {
                    Some(reason) => Err(StoreError::Poisoned { reason: reason.clone() }),
                    None => outcome,
                };
                // The caller may have gone away (a cancelled request): the
                // events are durable all the same.
                let _ = reply.send(outcome);
            }
        }
        if poisoned.is_some() {
            // Nothing will become visible any more: ending here closes the
            // head watch, so subscriptions end instead of waiting forever.
            return;
        }
    }
}

fn sync_on_interval(
    shared: &Shared,
    head_tx: &watch::Sender<Option<Position>>,
    jobs: std_mpsc::Receiver<SyncJob>,
    interval: Duration,
) {
    let mut pending: Vec<SyncJob> = Vec::new();
    let mut next_sync = Instant::now() + interval;
    loop {
        let wait = next_sync.saturating_duration_since(Instant::now());
        let stop = match jobs.recv_timeout(wait) {
            Ok(job) => {
                pending.push(job);
                continue;
            }
            Err(std_mpsc::RecvTimeoutError::Timeout) => false,
            Err(std_mpsc::RecvTimeoutError::Disconnected) => true,
        };
        if let Some(visible_len) = pending.iter().map(|j| j.visible_len).max() {
            match sync_wal_files(shared, pending.iter().map(|j| &j.wal)).and_then(|()| shared.wait_applied(visible_len))
            {
                Ok(()) if shared.poisoned().is_none() => publish(shared, head_tx, visible_len),
                Ok(()) => {}
                Err(reason) => shared.poison(reason),
            }
            pending.clear();
        }
        if stop {
            return;
        }
        next_sync = Instant::now() + interval;
    }
}

fn publish(shared: &Shared, head_tx: &watch::Sender<Option<Position>>, visible_len: u64) {
    if visible_len > shared.visible_len.load(Ordering::Acquire) {
        shared.visible_len.store(visible_len, Ordering::Release);
        head_tx.send_replace(visible_len.checked_sub(1));
    }
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

    /// `recorded_at` for a group: now, at microsecond precision (what the
    /// envelope stores), never earlier than the last group's.
    fn recorded_at(&self) -> DateTime<Utc> {
        let now = Utc::now();
        let now = DateTime::from_timestamp_micros(now.timestamp_micros()).unwrap_or(now);
        match self.last_recorded_at {
            Some(last) if last > now => last,
            _ => now,
        }
    }

    /// Plans one request in two phases. First every part is judged
    /// against the log and the group planned so far, changing nothing: a
    /// retry, a partial retry, a reused id, an unmet expected version.
    /// Only when every part passed are they all placed, at consecutive
    /// positions; placing cannot fail, so a request lands whole or not at
    /// all. The parts' streams are distinct, so placing one part cannot
    /// change what the check of another found.
    fn plan(
        &mut self,
        state: &mut GroupState,
        parts: Vec<StreamAppend>,
        now: DateTime<Utc>,
    ) -> Result<Vec<AppendOutcome>, StoreError> {
        let mut retried = Vec::with_capacity(parts.len());
        for part in &parts {
            retried.push(self.deduplicate(state, &part.stream, &part.events)?);
        }
        let repeated = retried.iter().filter(|r| r.is_some()).count();
        if repeated == parts.len() {
            return Ok(retried.into_iter().flatten().collect());
        }
        // A retry resends the whole call: some parts present and others
        // not is neither a new call nor a retry of one.
        let mut existing = 0;
        let mut first = None;
        for (part, retry) in parts.iter().zip(&retried) {
            if let Some(outcome) = retry {
                existing += part.events.len();
                first = first.or(part
                    .events
                    .first()
                    .zip(outcome.positions.first())
                    .map(|(e, p)| (part, e.id, *p)));
            }
        }
        if let Some((part, first_existing, first_existing_position)) = first {
            return Err(StoreError::PartiallyWritten {
                stream: part.stream.clone(),
                existing,
                total: parts.iter().map(|p| p.events.len()).sum(),
                first_existing,
                first_existing_position,
            });
        }
        let mut heads = Vec::with_capacity(parts.len());
        for part in &parts {
            let actual = match state.heads.get(&part.stream) {
                Some(v) => Some(*v),
                None => self.stream_head(&part.stream)?,
            };
            if !part.expected.is_satisfied_by(actual) {
                return Err(StoreError::WrongExpectedVersion {
                    stream: part.stream.clone(),
                    expected: part.expected,
                    actual,
                });
            }
            heads.push(actual);
        }
        Ok(parts
            .into_iter()
            .zip(heads)
            .map(|(part, actual)| self.place(state, part.stream, actual, part.events, now))
            .collect())
    }

    /// Assigns positions and versions to one checked part and lays its
    /// records into the group's frame and overlay.
    fn place(
        &mut self,
        state: &mut GroupState,
        stream: StreamId,
        actual: Option<StreamVersion>,
        events: Vec<NewEvent>,
        now: DateTime<Utc>,
    ) -> AppendOutcome {
        let mut version = actual.map_or(0, |v| v + 1);
        let mut positions = Vec::with_capacity(events.len());
        for event in events {
            let position = self.next_position;
            let placement = envelope::Placement {
                position,
                stream: &stream,
                stream_version: version,
                recorded_at: now,
            };
            let bytes = sled::IVec::from(envelope::encode(&placement, &event));
            state.frame.get_or_insert_with(FrameBuilder::new).push(&bytes);
            state.index.push((stream_key(stream.as_str(), version), event.id));
            state.ids.insert(event.id, position);
            state.records.push(bytes);
            positions.push(position);
            self.next_position += 1;
            version += 1;
        }
        // Parts are never empty (checked before queueing).
        let last_version = version.saturating_sub(1);
        state.heads.insert(stream, last_version);
        AppendOutcome {
            positions,
            stream_version: last_version,
            deduplicated: false,
        }
    }

    /// Recognises a retried append: `Some` with the original positions when
    /// every id exists with the same content, `None` when none exists, and
    /// an error for anything in between.
    fn deduplicate(
        &self,
        state: &GroupState,
        stream: &StreamId,
        events: &[NewEvent],
    ) -> Result<Option<AppendOutcome>, StoreError> {
        let mut found = Vec::new();
        for event in events {
            let position = match state.ids.get(&event.id) {
                Some(p) => Some(*p),
                None => match self.tree.get(id_key(&event.id))? {
                    None => None,
                    Some(v) => Some(be_u64(&v).ok_or_else(|| StoreError::Corrupt {
                        position: self.next_position,
                        reason: format!("unreadable id index entry of {}", event.id),
                    })?),
                },
            };
            if let Some(position) = position {
                found.push((event, position));
            }
        }
        if found.is_empty() {
            return Ok(None);
        }
        let mut stream_version = 0;
        for (event, position) in &found {
            let stored = self.load(state, *position)?;
            if !stored.same_content_as(stream, event) {
                return Err(StoreError::IdReused {
                    id: event.id,
                    position: *position,
                });
            }
            stream_version = stream_version.max(stored.stream_version);
        }
        if found.len() != events.len() {
            let (first, position) = found[0];
            return Err(StoreError::PartiallyWritten {
                stream: stream.clone(),
                existing: found.len(),
                total: events.len(),
                first_existing: first.id,
                first_existing_position: position,
            });
        }
        Ok(Some(AppendOutcome {
            positions: found.iter().map(|(_, p)| *p).collect(),
            stream_version,
            deduplicated: true,
        }))
    }

    /// The last version of `stream` as applied to the tree: from the cache
    /// of recent streams, or the last entry of its stream-index range.
    fn stream_head(&mut self, stream: &StreamId) -> Result<Option<StreamVersion>, StoreError> {
        if let Some(v) = self.heads.get(stream) {
            return Ok(Some(*v));
        }
        match self.tree.scan_prefix(stream_prefix(stream.as_str())).next_back() {
            None => Ok(None),
            Some(entry) => {
                let (key, _) = entry?;
                let version = parse_stream_key(&key)
                    .map(|(_, v)| v)
                    .ok_or_else(|| StoreError::Corrupt {
                        position: self.next_position,
                        reason: format!("unreadable stream index key of {stream}"),
                    })?;
                Ok(Some(version))
            }
        }
    }

    /// A record written earlier, from this group's overlay or the tree.
    fn load(&self, state: &GroupState, position: Position) -> Result<RecordedEvent, StoreError> {
        if position >= state.start {
            if let Some(bytes) = state.records.get((position - state.start) as usize) {
                return envelope::decode(position, bytes.clone())
                    .map_err(|reason| StoreError::Corrupt { position, reason });
            }
        }
        let bytes = chunk::chunk_at(&self.tree, position)?
            .and_then(|c| c.record(position))
            .ok_or_else(|| StoreError::Corrupt {
                position,
                reason: "the id index points to a missing record".into(),
            })?;
        envelope::decode(position, bytes).map_err(|reason| StoreError::Corrupt { position, reason })
    }
}
