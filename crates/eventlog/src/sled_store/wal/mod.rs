//! The write-ahead file: what makes an append durable.
//!
//! Each group of appends is written as one frame to the current WAL file,
//! and the sync thread makes it durable with one `fdatasync` before the
//! appends are acknowledged. sled receives the same records (plain
//! inserts) but is synced only at checkpoints, so its costly flush (many
//! `sync_file_range` writes of page fragments) stays off the path of every
//! append.
//!
//! Frame layout (integers big-endian): magic `AWF1`, payload length (4),
//! crc32c of the payload (4), payload = records, each a length (4) and an
//! envelope ([`crate::envelope`]), in position order. sled stores the same
//! records in chunks ([`super::chunk`]). A frame holds whole requests: the
//! parts of a multi-stream append (`append_streams`) are always in the
//! same frame, so recovery keeps or drops them together.
//!
//! Recovery, at open: sled holds a prefix of the writer's inserts (its log
//! recovers in order up to the first incomplete write), so it may hold a
//! record without its index entries, or the first chunks of a group
//! without the rest. The index entries of every record
//! since the last checkpoint are written again, and every valid frame's
//! records past sled's last record are applied, in order. Every file is
//! read and checked ([`scan`]) before anything is written. Bytes at the
//! end of a file that do not form a whole, valid frame, with nothing valid
//! after them, are a torn write, as a torn record ends PostgreSQL's WAL
//! replay: never acknowledged, because an acknowledgement needs the sync
//! that would have completed them; they are dropped and counted in
//! [`RecoveryReport`]. Bytes that fail the frame check with a valid frame
//! after them cannot be a torn write (frames are appended in order): that
//! is damage, and the open is refused with [`StoreError::WalDamaged`]
//! (file, offset, the positions at risk) before any byte is changed; the
//! explicit repair ([`super::repair`]) is the way past it. A
//! record past a gap means an acknowledged event is missing and is
//! reported as `Corrupt`. Then a checkpoint makes sled durable and the old
//! files go.
//!
//! Checkpoint: sled flush + `fdatasync`, then a fresh WAL file (named after
//! the next position), the directory synced, older files removed. It runs
//! at open, at close, and whenever the current file passes
//! [`CHECKPOINT_BYTES`].
//!
//! The frame format is in `frame.rs`, the map of each file (valid frames,
//! damaged regions, a torn tail) and the salvage of damaged bytes in
//! `map.rs`, recovery at open in `recover.rs`; this file holds the current
//! file and its checkpoints.

mod frame;
mod map;
mod recover;

use std::fs::{File, OpenOptions};
use std::io::Write;
use std::path::{Path, PathBuf};
use std::sync::Arc;

use crate::error::StoreError;
use crate::types::Position;

pub(super) use frame::{records_of, FrameBuilder, MAX_FRAME_PAYLOAD};
pub use map::WalDamage;
pub(super) use map::{map_files, salvage, scan, Piece, WalMap};
pub(super) use recover::recover;
pub use recover::RecoveryReport;

/// A WAL file larger than this triggers a checkpoint.
pub(super) const CHECKPOINT_BYTES: u64 = 64 * 1024 * 1024;

/// The current WAL file, owned by the writer thread.
pub(super) struct Wal {
    dir: PathBuf,
    file: Arc<File>,
    size: u64,
}

fn file_name(first_position: Position) -> String {
    format!("wal-{first_position:020}.log")
}

/// Syncs the folder `dir`: its entries become durable.
pub(super) fn sync_dir(dir: &Path) -> Result<(), StoreError> {
    File::open(dir)?.sync_all()?;
    Ok(())
}

/// WAL files in the folder, oldest first.
pub(super) fn wal_files(dir: &Path) -> Result<Vec<PathBuf>, StoreError> {
    let mut files: Vec<PathBuf> = std::fs::read_dir(dir)?
        .filter_map(|entry| entry.ok().map(|e| e.path()))
        .filter(|p| {
            p.file_name()
                .and_then(|n| n.to_str())
                .is_some_and(|n| n.starts_with("wal-") && n.ends_with(".log"))
        })
        .collect();
    files.sort();
    Ok(files)
}

/// The position a WAL file starts at, from its name.
pub(super) fn first_position_of(path: &Path) -> Option<Position> {
    path.file_name()?
        .to_str()?
        .strip_prefix("wal-")?
        .strip_suffix(".log")?
        .parse()
        .ok()
}

impl Wal {
    /// Starts a fresh WAL file for records from `next_position` on and
    /// removes the older ones. The caller has made sled durable first.
    pub fn start(dir: &Path, next_position: Position) -> Result<Self, StoreError> {
        if !dir.exists() {
            std::fs::create_dir_all(dir)?;
            // The folder's own entry must be durable too, or a power loss
            // could take the whole write-ahead folder with it.
            if let Some(parent) = dir.parent() {
                sync_dir(parent)?;
            }
        }
        let path = dir.join(file_name(next_position));
        let file = OpenOptions::new().create(true).append(true).open(&path)?;
        // A file left from an earlier start at the same position held
        // nothing sled lacks now; start it empty.
        file.set_len(0)?;
        file.sync_all()?;
        sync_dir(dir)?;
        for old in wal_files(dir)? {
            if old != path {
                std::fs::remove_file(old)?;
            }
        }
        sync_dir(dir)?;
        Ok(Self {
            dir: dir.to_path_buf(),
            file: Arc::new(file),
            size: 0,
        })
    }

    /// The file the sync thread must sync for what was just written.
    pub fn file(&self) -> Arc<File> {
        self.file.clone()
    }

    pub fn dir(&self) -> &Path {
        &self.dir
    }

    pub fn needs_checkpoint(&self) -> bool {
        self.size >= CHECKPOINT_BYTES
    }

    /// Writes one frame (already laid out by [`FrameBuilder`]).
    pub fn write(&mut self, frame: &[u8]) -> Result<(), StoreError> {
        (&*self.file).write_all(frame)?;
        self.size += frame.len() as u64;
        Ok(())
    }
}
