//! The state the store handle, the writer and the sync thread share, and
//! the sync thread: one `fdatasync` of the write-ahead file per group (or
//! per interval, buffered), then the acknowledgements and the visible head.

use std::fs::File;
use std::path::PathBuf;
use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::{mpsc as std_mpsc, Arc, Condvar, Mutex};
use std::time::{Duration, Instant};

use tokio::sync::watch;

use super::Answer;
use crate::error::StoreError;
use crate::types::Position;

/// Counters of the write path, for metrics and benchmarks.
#[derive(Default)]
pub(crate) struct Counters {
    pub groups: AtomicU64,
    pub events: AtomicU64,
    pub apply_nanos: AtomicU64,
    pub syncs: AtomicU64,
    pub sync_nanos: AtomicU64,
}

/// State shared by the store handle, the writer and the sync thread.
pub(crate) struct Shared {
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
    pub(super) fn set_applied(&self, len: u64) {
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
                crate::sled_store::wal::sync_dir(&blobs)?;
            }
        }
        Ok(())
    }
}

/// Work handed from the writer to the sync thread: everything below
/// `visible_len` is durable once `wal` is synced; then send `replies`.
pub(super) struct SyncJob {
    pub(super) visible_len: u64,
    pub(super) wal: Arc<File>,
    pub(super) replies: Vec<Answer>,
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

pub(super) fn sync_each_group(
    shared: &Shared,
    head_tx: &watch::Sender<Option<Position>>,
    jobs: std_mpsc::Receiver<SyncJob>,
) {
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

pub(super) fn sync_on_interval(
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
