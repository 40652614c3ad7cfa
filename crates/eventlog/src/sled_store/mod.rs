//! The sled backend of [`EventStore`]: one tree, one writer thread that
//! commits appends in groups, one sync thread that makes them durable.

mod chunk;
mod keys;
mod lost;
mod repair;
mod verify;
mod wal;

pub use lost::{LostPosition, LOST_EVENT_TYPE, LOST_STREAM};
pub use repair::{RepairOptions, RepairReport};
pub use wal::{RecoveryReport, WalDamage};
mod writer;

use std::collections::HashSet;
use std::fs::File;
use std::path::{Path, PathBuf};
use std::sync::atomic::Ordering;
use std::sync::{Arc, Mutex, RwLock};
use std::thread::JoinHandle;
use std::time::Duration;

use async_trait::async_trait;
use chrono::DateTime;
use tokio::sync::{mpsc, oneshot, watch};

use crate::envelope;
use crate::error::StoreError;
use crate::store::{EventIter, EventStore, VerifyReport};
use crate::types::{
    AppendOutcome, ExpectedVersion, NewEvent, Position, RecordedEvent, StreamAppend, StreamId, StreamVersion,
    MAX_EVENTS_PER_APPEND, MAX_EVENTS_PER_MULTI_APPEND, MAX_EVENT_TYPE_LEN, MAX_METADATA_FIELD_LEN, MAX_PAYLOAD_LEN,
};

use keys::*;
use writer::{AppendRequest, Shared};

/// The on-disk layout version of the store (keyspaces and envelope).
/// Format 2 stores the records of a group in chunks ([`chunk`]); format 1
/// held one record per key, which format 2 reads as chunks of one, so a
/// format-1 store is opened as it is and its marker raised to 2 (an older
/// build then refuses it instead of misreading chunks).
pub const STORE_FORMAT: u32 = 2;
/// The earlier formats this build opens.
const READABLE_FORMATS: [u32; 1] = [1];

/// sled's segment (and IO buffer) size. The default 512 KiB makes sled
/// write its log in many small synchronous pieces; with durability carried
/// by the write-ahead file, larger pieces cost less. Fixed when a data
/// folder is created.
const SEGMENT_BYTES: usize = 8 * 1024 * 1024;

/// When an append is acknowledged.
#[derive(Clone, Copy, PartialEq, Eq, Debug)]
pub enum Durability {
    /// An append returns once its events are on stable storage: written to
    /// the write-ahead file and covered by an `fdatasync` of it. Concurrent
    /// appends share one sync. The default.
    Durable,
    /// An append returns once its events are written to the write-ahead
    /// file (the operating system's cache) and applied to sled; a sync runs
    /// every `interval`. A killed process loses nothing; a power loss or
    /// kernel crash loses at most the appends of the last `interval` (plus
    /// the sync's own duration). Readers still see only synced events, so a
    /// projection never follows an event that a crash could take back.
    Buffered {
        /// Time between syncs.
        interval: Duration,
    },
}

/// How to open a [`SledEventStore`].
#[derive(Clone, Debug)]
pub struct SledOptions {
    /// When appends are acknowledged.
    pub durability: Durability,
    /// sled's page cache, in bytes.
    pub cache_capacity_bytes: u64,
    /// Most events committed in one group (one write-ahead frame).
    pub max_group_events: usize,
}

impl Default for SledOptions {
    fn default() -> Self {
        Self {
            durability: Durability::Durable,
            cache_capacity_bytes: 256 * 1024 * 1024,
            max_group_events: 4096,
        }
    }
}

/// Counters of the write path: how well group commit is grouping.
#[derive(Clone, Copy, PartialEq, Eq, Debug, Default)]
pub struct WriteStats {
    /// Groups applied (one write-ahead frame each).
    pub groups: u64,
    /// Events written.
    pub events: u64,
    /// Time spent applying groups to sled.
    pub apply_time: Duration,
    /// Syncs to stable storage.
    pub syncs: u64,
    /// Time spent syncing.
    pub sync_time: Duration,
}

/// The event log on sled. Cheap to clone; all clones share one store.
#[derive(Clone)]
pub struct SledEventStore {
    inner: Arc<Inner>,
}

struct Inner {
    recovery: RecoveryReport,
    /// Stream versions repairs declared lost: gaps `read_stream` accepts.
    declared: lost::Declared,
    path: PathBuf,
    tree: sled::Tree,
    shared: Arc<Shared>,
    head_rx: watch::Receiver<Option<Position>>,
    requests: RwLock<Option<mpsc::Sender<AppendRequest>>>,
    threads: Mutex<Vec<JoinHandle<()>>>,
}

impl SledEventStore {
    /// Opens (or creates) the store in the folder `path`.
    pub fn open(path: impl AsRef<Path>, options: SledOptions) -> Result<Self, StoreError> {
        let path = path.as_ref().to_path_buf();
        std::fs::create_dir_all(&path)?;
        // The write-ahead files are read and checked before anything is
        // written, sled's files included: damage refuses the open and
        // leaves every byte as it was. That first reading may race a
        // process that still holds the folder, so recovery uses a second
        // one, taken once sled's lock is ours.
        wal::scan(&path.join("wal"))?;
        let db = open_db(&path, &options)?;
        Self::start(path, db, options)
    }

    /// Mends a store whose write-ahead files are damaged, with the store
    /// closed, and opens and verifies it; see [`RepairReport`] for what it
    /// says and `ARCHITECTURE.md` for how lost positions stay dense. It
    /// takes the lock an open takes, copies every file of the folder into
    /// `<path>/repair-<n>` (and syncs the copy) before it changes
    /// anything, keeps every valid frame, takes the records that still
    /// check out of damaged bytes and those sled holds, stores a
    /// placeholder in the stream [`LOST_STREAM`] at each position still
    /// lost, rewrites each damaged file (temporary file, sync, rename,
    /// sync), and writes its report into the copy's folder. A folder
    /// without write-ahead damage is left as it is; damage it cannot mend
    /// (sled's own records, a gap no write-ahead damage explains) is
    /// [`StoreError::Repair`] with the write-ahead files unchanged.
    pub fn repair(path: impl AsRef<Path>, options: &RepairOptions) -> Result<RepairReport, StoreError> {
        repair::repair(path.as_ref(), options)
    }

    /// Opens the store in `path` once sled's database `db` (and its lock)
    /// is held: recovery from the write-ahead files, a checkpoint, the
    /// writer's threads.
    fn start(path: PathBuf, db: sled::Db, options: SledOptions) -> Result<Self, StoreError> {
        let wal_dir = path.join("wal");
        let wal_files = wal::scan(&wal_dir)?;
        let tree = db.open_tree("eventlog")?;
        let opened_before = check_format(&tree)?;
        let next_position = log_end(&tree)?;
        let (next_position, recovery) = wal::recover(&wal_dir, wal_files, &tree, next_position, opened_before)?;
        // Only used to keep `recorded_at` from going backwards. A damaged
        // last record must not stop the store from opening: reads and
        // `verify` are how an operator finds and reports the damage.
        let last_recorded_at = match next_position.checked_sub(1) {
            None => None,
            Some(last) => chunk::chunk_at(&tree, last)
                .ok()
                .flatten()
                .and_then(|chunk| chunk.record(last))
                .and_then(|bytes| envelope::decode(last, bytes).ok())
                .map(|event| event.recorded_at),
        };
        let db_file = File::open(path.join("db"))?;
        let shared = Arc::new(Shared::new(db.clone(), db_file, path.clone(), next_position));
        // The write-ahead folder exists (durably) before the format marker
        // does, so a store with a marker and no folder has lost it.
        std::fs::create_dir_all(&wal_dir)?;
        File::open(&path)?.sync_all()?;
        // Whatever was recovered becomes durable in sled before anything is
        // shown to readers; then the write-ahead file starts afresh.
        shared.sync_files()?;
        let wal = wal::Wal::start(&wal_dir, next_position)?;

        // Reads accept a gap in a stream's versions only where a repair
        // declared it; an unreadable placeholder is for `verify` to report.
        let (declared, _) = lost::declared(&tree, next_position, false)?;

        let head = next_position.checked_sub(1);
        let (head_tx, head_rx) = watch::channel(head);
        let (req_tx, req_rx) = mpsc::channel(1024);
        let threads = writer::start(
            tree.clone(),
            shared.clone(),
            head_tx,
            req_rx,
            options,
            writer::Recovered {
                next_position,
                last_recorded_at,
                wal,
            },
        )?;
        Ok(Self {
            inner: Arc::new(Inner {
                recovery,
                declared,
                path,
                tree,
                shared,
                head_rx,
                requests: RwLock::new(Some(req_tx)),
                threads: Mutex::new(threads),
            }),
        })
    }

    /// Counters of the write path since the store was opened.
    pub fn stats(&self) -> WriteStats {
        let c = &self.inner.shared.counters;
        WriteStats {
            groups: c.groups.load(Ordering::Relaxed),
            events: c.events.load(Ordering::Relaxed),
            apply_time: Duration::from_nanos(c.apply_nanos.load(Ordering::Relaxed)),
            syncs: c.syncs.load(Ordering::Relaxed),
            sync_time: Duration::from_nanos(c.sync_nanos.load(Ordering::Relaxed)),
        }
    }

    /// What recovery did when this store was opened.
    pub fn recovery(&self) -> RecoveryReport {
        self.inner.recovery
    }

    /// The data folder.
    pub fn path(&self) -> &Path {
        &self.inner.path
    }

    /// Stops accepting appends, finishes and syncs the ones in flight, and
    /// stops the store's threads. Reads keep working on this handle.
    pub fn close(&self) -> Result<(), StoreError> {
        self.inner.close();
        match self.inner.shared.poisoned() {
            Some(reason) => Err(StoreError::Poisoned { reason }),
            None => Ok(()),
        }
    }

    /// Queues one request (all its parts checked already) for the writer
    /// and waits for its outcomes, one per part.
    async fn submit(&self, parts: Vec<StreamAppend>) -> Result<Vec<AppendOutcome>, StoreError> {
        if let Some(reason) = self.inner.shared.poisoned() {
            return Err(StoreError::Poisoned { reason });
        }
        let sender = match self.inner.requests.read() {
            Ok(guard) => guard.clone().ok_or(StoreError::Closed)?,
            Err(_) => return Err(StoreError::Closed),
        };
        let (reply, response) = oneshot::channel();
        sender
            .send(AppendRequest { parts, reply })
            .await
            .map_err(|_| StoreError::Closed)?;
        // Holding the sender while waiting would keep `close` from ever
        // seeing the last one go.
        drop(sender);
        response.await.map_err(|_| StoreError::Closed)?
    }

    /// The names of the streams that start with `prefix` and have a
    /// visible event, in order of length, then name. The stream index is
    /// keyed by the name's length first, so this is one short range scan
    /// per possible length: cheap when few streams match, whatever the
    /// size of the log.
    pub fn streams_with_prefix(&self, prefix: &str) -> Result<Vec<StreamId>, StoreError> {
        let visible = self.visible_len();
        let mut out = Vec::new();
        for len in prefix.len().max(1)..=crate::types::MAX_STREAM_ID_LEN {
            let mut key = vec![STREAM];
            key.extend_from_slice(&(len as u16).to_be_bytes());
            key.extend_from_slice(prefix.as_bytes());
            let mut last: Option<String> = None;
            for entry in self.inner.tree.scan_prefix(&key) {
                let (k, v) = entry?;
                let Some((name, _)) = parse_stream_key(&k) else {
                    continue;
                };
                // Versions of one stream are adjacent: count it once, if
                // its first event is visible.
                if last.as_deref() == Some(name.as_str()) {
                    continue;
                }
                if be_u64(&v).is_some_and(|position| position < visible) {
                    out.push(StreamId::new(name.clone())?);
                }
                last = Some(name);
            }
        }
        Ok(out)
    }

    /// The number of events visible to readers.
    fn visible_len(&self) -> u64 {
        self.inner.shared.visible_len.load(Ordering::Acquire)
    }

    fn read_record(&self, lookup: &mut chunk::Lookup, position: Position) -> Result<RecordedEvent, StoreError> {
        let bytes = lookup
            .record(&self.inner.tree, position)?
            .ok_or_else(|| StoreError::Corrupt {
                position,
                reason: "record is missing".into(),
            })?;
        envelope::decode(position, bytes).map_err(|reason| StoreError::Corrupt { position, reason })
    }
}

impl Inner {
    fn close(&self) {
        // Dropping the last sender lets the writer drain and stop, which in
        // turn lets the sync thread make everything durable and stop.
        if let Ok(mut requests) = self.requests.write() {
            requests.take();
        }
        // The lock is held while joining, so a second `close` returns only
        // once the first has finished the final checkpoint.
        let Ok(mut threads) = self.threads.lock() else {
            return;
        };
        for thread in std::mem::take(&mut *threads) {
            if thread.join().is_err() {
                self.shared.poison("a store thread panicked".into());
            }
        }
    }
}

impl Drop for Inner {
    fn drop(&mut self) {
        self.close();
    }
}

/// Opens sled's database in `path` with the log's settings. A held lock is
/// retried for a few seconds ([`crate::sled_open`]): sled releases it only
/// when its collector frees the last handle of a `Db` just dropped.
fn open_db(path: &Path, options: &SledOptions) -> Result<sled::Db, StoreError> {
    // Durability is ours to manage: sled's periodic flusher would only blur
    // what is and is not synced.
    crate::sled_open::open_sled(path, options.cache_capacity_bytes, None, Some(SEGMENT_BYTES))
}

/// Where sled's log keyspace ends: one past the last position its last
/// log key holds.
fn log_end(tree: &sled::Tree) -> Result<Position, StoreError> {
    match tree.scan_prefix([LOG]).next_back() {
        None => Ok(0),
        Some(entry) => {
            let (key, _) = entry?;
            let (first, count) = parse_log_key(&key).ok_or_else(|| StoreError::Corrupt {
                position: 0,
                reason: "unreadable key at the end of the log".into(),
            })?;
            Ok(first.saturating_add(count as u64))
        }
    }
}

/// The streaming `read_all` of the sled store: each record decoded as its
/// chunk is read.
struct StreamingReadAll {
    records: chunk::Records,
    done: bool,
}

impl Iterator for StreamingReadAll {
    type Item = Result<RecordedEvent, StoreError>;

    fn next(&mut self) -> Option<Self::Item> {
        if self.done {
            return None;
        }
        let result = match self.records.next()? {
            Ok((position, bytes)) => {
                envelope::decode(position, bytes).map_err(|reason| StoreError::Corrupt { position, reason })
            }
            Err(e) => Err(e),
        };
        self.done = result.is_err();
        Some(result)
    }
}

/// Checks (and writes, for a new store, or raises, for an older format)
/// the store format marker. Returns whether the store existed before:
/// whether an earlier open had written the marker.
fn check_format(tree: &sled::Tree) -> Result<bool, StoreError> {
    match tree.get(FORMAT_KEY)? {
        Some(bytes) => {
            let found = bytes
                .as_ref()
                .try_into()
                .map(u32::from_be_bytes)
                .map_err(|_| StoreError::Corrupt {
                    position: 0,
                    reason: "unreadable store format marker".into(),
                })?;
            if READABLE_FORMATS.contains(&found) {
                tree.insert(FORMAT_KEY, &STORE_FORMAT.to_be_bytes())?;
            } else if found != STORE_FORMAT {
                return Err(StoreError::UnsupportedFormat {
                    found,
                    supported: STORE_FORMAT,
                });
            }
            Ok(true)
        }
        None => {
            if tree.scan_prefix([LOG]).next().is_some() {
                return Err(StoreError::Corrupt {
                    position: 0,
                    reason: "events present but the store format marker is missing".into(),
                });
            }
            tree.insert(FORMAT_KEY, &STORE_FORMAT.to_be_bytes())?;
            Ok(false)
        }
    }
}

/// Checks one stream's events before queueing them, as `append` and each
/// part of `append_streams` need: not the reserved stream, the limits of
/// [`validate_append`]; and normalises `occurred_at` to what the envelope
/// keeps.
fn prepare_part(stream: &StreamId, events: &mut [NewEvent]) -> Result<(), StoreError> {
    if stream.as_str() == LOST_STREAM {
        return Err(StoreError::InvalidStreamId {
            stream: stream.to_string(),
            reason: "it is reserved for the placeholders a repair stores at lost positions",
        });
    }
    validate_append(events)?;
    // The envelope keeps microseconds; normalise now, so that a retry
    // compares equal to what was stored.
    for event in events {
        if let Some(t) = event.metadata.occurred_at {
            event.metadata.occurred_at = Some(DateTime::from_timestamp_micros(t.timestamp_micros()).unwrap_or(t));
        }
    }
    Ok(())
}

/// Checks what can be checked before queueing an append: no I/O.
fn validate_append(events: &[NewEvent]) -> Result<(), StoreError> {
    if events.is_empty() {
        return Err(StoreError::InvalidAppend("an append needs at least one event".into()));
    }
    if events.len() > MAX_EVENTS_PER_APPEND {
        return Err(StoreError::InvalidAppend(format!(
            "{} events in one append; at most {MAX_EVENTS_PER_APPEND}",
            events.len()
        )));
    }
    let mut ids = HashSet::with_capacity(events.len());
    for event in events {
        if !ids.insert(event.id) {
            return Err(StoreError::DuplicateIdInBatch { id: event.id });
        }
        if event.event_type.is_empty() || event.event_type.len() > MAX_EVENT_TYPE_LEN {
            return Err(StoreError::InvalidAppend(format!(
                "event {}: the type name must be 1 to {MAX_EVENT_TYPE_LEN} bytes",
                event.id
            )));
        }
        if event.payload.len() > MAX_PAYLOAD_LEN {
            return Err(StoreError::InvalidAppend(format!(
                "event {}: payload of {} bytes; at most {MAX_PAYLOAD_LEN}",
                event.id,
                event.payload.len()
            )));
        }
        let m = &event.metadata;
        for (name, value) in [("actor", &m.actor), ("role", &m.role), ("channel", &m.channel)] {
            if value.len() > MAX_METADATA_FIELD_LEN {
                return Err(StoreError::InvalidAppend(format!(
                    "event {}: {name} is {} bytes; at most {MAX_METADATA_FIELD_LEN}",
                    event.id,
                    value.len()
                )));
            }
        }
    }
    Ok(())
}

#[async_trait]
impl EventStore for SledEventStore {
    async fn append(
        &self,
        stream: &StreamId,
        expected: ExpectedVersion,
        mut events: Vec<NewEvent>,
    ) -> Result<AppendOutcome, StoreError> {
        prepare_part(stream, &mut events)?;
        let part = StreamAppend {
            stream: stream.clone(),
            expected,
            events,
        };
        self.submit(vec![part]).await?.pop().ok_or(StoreError::Closed)
    }

    async fn append_streams(&self, mut parts: Vec<StreamAppend>) -> Result<Vec<AppendOutcome>, StoreError> {
        if parts.is_empty() {
            return Err(StoreError::InvalidAppend(
                "a multi-stream append needs at least one part".into(),
            ));
        }
        let mut streams = HashSet::with_capacity(parts.len());
        let mut ids = HashSet::new();
        for part in &mut parts {
            if part.events.is_empty() {
                return Err(StoreError::InvalidAppend(format!(
                    "the part for stream {} has no events; every part needs at least one",
                    part.stream
                )));
            }
            if !streams.insert(part.stream.clone()) {
                return Err(StoreError::InvalidAppend(format!(
                    "stream {} appears in more than one part; give each stream one part with all its events",
                    part.stream
                )));
            }
            prepare_part(&part.stream, &mut part.events)?;
            for event in &part.events {
                if !ids.insert(event.id) {
                    return Err(StoreError::DuplicateIdInBatch { id: event.id });
                }
            }
        }
        if ids.len() > MAX_EVENTS_PER_MULTI_APPEND {
            return Err(StoreError::InvalidAppend(format!(
                "{} events in one multi-stream append; at most {MAX_EVENTS_PER_MULTI_APPEND} in all its parts \
                 together (they are written as one write-ahead frame)",
                ids.len()
            )));
        }
        self.submit(parts).await
    }

    fn read_stream(
        &self,
        stream: &StreamId,
        from_version: StreamVersion,
        limit: usize,
    ) -> Result<Vec<RecordedEvent>, StoreError> {
        if from_version == u64::MAX {
            // No stream can reach that version; counting past it would overflow.
            return Ok(Vec::new());
        }
        let visible = self.visible_len();
        let start = stream_key(stream.as_str(), from_version);
        let end = stream_key(stream.as_str(), u64::MAX);
        let mut out = Vec::new();
        let mut lookup = chunk::Lookup::default();
        let mut expected_version = from_version;
        for entry in self.inner.tree.range(start..=end) {
            if out.len() >= limit {
                break;
            }
            let (key, value) = entry?;
            let position = be_u64(&value).ok_or_else(|| StoreError::Corrupt {
                position: visible,
                reason: format!("unreadable stream index entry of {stream}"),
            })?;
            if position >= visible {
                break;
            }
            let version = parse_stream_key(&key).map(|(_, v)| v);
            // Versions a repair declared lost are the only gap allowed.
            while version.is_some_and(|v| v > expected_version)
                && lost::is_declared(&self.inner.declared, stream.as_str(), expected_version)
            {
                expected_version += 1;
            }
            let event = self.read_record(&mut lookup, position)?;
            if version != Some(expected_version)
                || event.stream() != stream.as_str()
                || event.stream_version != expected_version
            {
                return Err(StoreError::Corrupt {
                    position,
                    reason: format!(
                        "stream index of {stream} at version {expected_version} points to {} v{}",
                        event.stream(),
                        event.stream_version
                    ),
                });
            }
            out.push(event);
            expected_version += 1;
        }
        Ok(out)
    }

    fn stream_version(&self, stream: &StreamId) -> Result<Option<StreamVersion>, StoreError> {
        let visible = self.visible_len();
        for entry in self.inner.tree.scan_prefix(stream_prefix(stream.as_str())).rev() {
            let (key, value) = entry?;
            let position = be_u64(&value).unwrap_or(u64::MAX);
            if position < visible {
                return Ok(parse_stream_key(&key).map(|(_, v)| v));
            }
        }
        Ok(None)
    }

    fn read_all_batch(&self, from: Position, limit: usize) -> Result<Vec<RecordedEvent>, StoreError> {
        let visible = self.visible_len();
        if from >= visible || limit == 0 {
            return Ok(Vec::new());
        }
        let end = from.saturating_add(limit as u64).min(visible);
        let mut out = Vec::with_capacity(((end - from) as usize).min(crate::store::READ_BATCH));
        // On damage, the events before it are returned first; the next read
        // starts at the damaged position and reports it.
        for record in chunk::Records::new(&self.inner.tree, from, end) {
            let decoded = record.and_then(|(position, bytes)| {
                envelope::decode(position, bytes).map_err(|reason| StoreError::Corrupt { position, reason })
            });
            match decoded {
                Ok(event) => out.push(event),
                Err(_) if !out.is_empty() => return Ok(out),
                Err(e) => return Err(e),
            }
        }
        Ok(out)
    }

    /// Streams straight from one sled range: each chunk is read once and
    /// each event decoded as it is reached and dropped by the caller before
    /// the next, so replay holds no batch in memory and pays no seek per
    /// batch.
    fn read_all(&self, from: Position) -> EventIter<'_> {
        let end = self.visible_len().max(from);
        Box::new(StreamingReadAll {
            records: chunk::Records::new(&self.inner.tree, from, end),
            done: false,
        })
    }

    fn head(&self) -> Option<Position> {
        self.visible_len().checked_sub(1)
    }

    fn watch_head(&self) -> watch::Receiver<Option<Position>> {
        self.inner.head_rx.clone()
    }

    fn verify(&self) -> Result<VerifyReport, StoreError> {
        verify::verify(&self.inner.tree, self.visible_len())
    }
}
