//! Opening a sled database, for the log ([`crate::sled_store`]) and the
//! views ([`crate::views`]) alike, and the one policy for a folder whose
//! lock is held.
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
