//! The sled backend of [`EventStore`](crate::EventStore): one tree, one
//! writer thread that commits appends in groups, one sync thread that makes
//! them durable.
//!
//! This file opens and closes the store; the trait's appends and reads are
//! in `event_store.rs`, the format marker in `format.rs`.

mod chunk;
mod event_store;
mod format;
mod keys;
mod lost;
mod repair;
mod verify;
mod wal;

pub use format::STORE_FORMAT;
pub use lost::{LostPosition, LOST_EVENT_TYPE, LOST_STREAM};
pub use repair::{RepairOptions, RepairReport};
pub use wal::{RecoveryReport, WalDamage};
mod writer;

use std::fs::File;
use std::path::{Path, PathBuf};
use std::sync::atomic::Ordering;
use std::sync::{Arc, Mutex, RwLock};
use std::thread::JoinHandle;
use std::time::Duration;

use tokio::sync::{mpsc, oneshot, watch};

use crate::envelope;
use crate::error::StoreError;
use crate::types::{AppendOutcome, Position, RecordedEvent, StreamAppend, StreamId};

use format::{check_format, log_end};
use keys::*;
use writer::{AppendRequest, Shared};

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
        wal::sync_dir(&path)?;
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
        decode_record(position, bytes)
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

/// Decodes the record stored at `position`: bytes that do not decode are
/// [`StoreError::Corrupt`] at that position.
fn decode_record(position: Position, bytes: sled::IVec) -> Result<RecordedEvent, StoreError> {
    envelope::decode(position, bytes).map_err(|reason| StoreError::Corrupt { position, reason })
}
