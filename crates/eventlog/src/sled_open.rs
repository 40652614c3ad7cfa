//! Opening a sled database (the log's, [`crate::sled_store`], and its
//! repair's), and the one policy for a folder whose lock is held (also
//! used by the view store's folder lock).
//!
//! **Interrupted sled snapshots.** sled 0.34 writes its page-table
//! snapshot to `snap.<lsn>.generating`, syncs it and renames it to
//! `snap.<lsn>`; but when it opens, it takes every `snap.*` file as a
//! candidate, `.generating` ones included, and reads the newest. A process
//! killed while writing one leaves a file cut short, the newest of the
//! candidates, which fails sled's checksum: sled then refuses to open with
//! `Corruption { at: None }` (sled issues #1527 and #1533; seen once in our
//! SIGKILL test). Such a file was never published by its rename, so it is
//! no part of the database: [`open_sled`] deletes `snap.*.generating` files
//! before sled opens, and says so in the log output.
//!
//! sled releases its file lock only when its epoch-based garbage collector
//! frees the last internal handle, which can be a moment after the previous
//! `Db` of this process was dropped; a lock conflict is therefore retried
//! for a few seconds before it is reported (another process holding the
//! folder then gets a clear error, [`StoreError::Locked`]).

use std::path::Path;
use std::time::{Duration, Instant};

use crate::error::StoreError;

/// How long a lock conflict is retried before it is reported.
const LOCK_WAIT: Duration = Duration::from_secs(5);
/// The pause between two attempts.
const LOCK_RETRY: Duration = Duration::from_millis(20);

/// Runs `attempt` until it succeeds, fails with an error `is_locked` does
/// not recognise, or [`LOCK_WAIT`] has passed since the first attempt;
/// then a lock conflict is [`StoreError::Locked`] on `path`.
pub fn retry_while_locked<T, E: Into<StoreError>>(
    path: &Path,
    mut attempt: impl FnMut() -> Result<T, E>,
    is_locked: impl Fn(&E) -> bool,
) -> Result<T, StoreError> {
    let deadline = Instant::now() + LOCK_WAIT;
    loop {
        match attempt() {
            Err(e) if is_locked(&e) => {
                if Instant::now() >= deadline {
                    return Err(StoreError::Locked {
                        path: path.to_path_buf(),
                    });
                }
                std::thread::sleep(LOCK_RETRY);
            }
            other => return other.map_err(Into::into),
        }
    }
}

/// Opens sled's database in `path` with a page cache of `cache_capacity`
/// bytes, sled's periodic flush every `flush_every_ms` (`None`: never) and,
/// if given, its segment size; a held lock is retried
/// ([`retry_while_locked`]).
pub(crate) fn open_sled(
    path: &Path,
    cache_capacity: u64,
    flush_every_ms: Option<u64>,
    segment_size: Option<usize>,
) -> Result<sled::Db, StoreError> {
    remove_unpublished_snapshots(path)?;
    retry_while_locked(
        path,
        || {
            let config = sled::Config::new()
                .path(path)
                .cache_capacity(cache_capacity)
                .flush_every_ms(flush_every_ms);
            match segment_size {
                Some(bytes) => config.segment_size(bytes),
                None => config,
            }
            .open()
        },
        |e| matches!(e, sled::Error::Io(io) if io.to_string().contains("could not acquire lock")),
    )
}

/// Deletes sled's snapshot files that a crash left before their rename
/// (`snap.<lsn>.generating`): see the module's text.
fn remove_unpublished_snapshots(path: &Path) -> Result<(), StoreError> {
    let entries = match std::fs::read_dir(path) {
        Ok(entries) => entries,
        Err(e) if e.kind() == std::io::ErrorKind::NotFound => return Ok(()),
        Err(e) => return Err(e.into()),
    };
    for entry in entries {
        let entry = entry?;
        let name = entry.file_name();
        let name = name.to_string_lossy();
        if name.starts_with("snap.") && name.ends_with(".generating") {
            tracing::warn!(
                file = %entry.path().display(),
                "removing sled's snapshot file {}: a crash interrupted its writing before it was published",
                entry.path().display()
            );
            std::fs::remove_file(entry.path())?;
        }
    }
    Ok(())
}
