//! The write-ahead file: what makes an append durable.
//!
//! Each group of appends is written as one frame to the current WAL file,
//! and the sync thread makes it durable with one `fdatasync` before the
//! appends are acknowledged. sled receives the same records in one batch
//! but is synced only at checkpoints, so its costly flush (many
//! `sync_file_range` writes of page fragments) stays off the path of every
//! append.
//!
//! Frame layout (integers big-endian): magic `AWF1`, payload length (4),
//! crc32c of the payload (4), payload = records, each a length (4) and an
//! envelope ([`crate::envelope`]), in position order.
//!
//! Recovery, at open: sled holds a prefix of the groups (its batches are
//! atomic and its log recovers in order). Every valid frame's records past
//! that prefix are applied again, in order; a frame that is cut short or
//! fails its checksum ends its file, as a torn record ends PostgreSQL's
//! WAL replay: it was never acknowledged, because an acknowledgement needs
//! the sync that would have completed it, and neither were the frames
//! after it. The bytes dropped are counted in [`RecoveryReport`]. A record
//! past a gap means an acknowledged event is missing and is reported as
//! `Corrupt`. Then a checkpoint makes sled durable and the old files go.
//!
//! Checkpoint: sled flush + `fdatasync`, then a fresh WAL file (named after
//! the next position), the directory synced, older files removed. It runs
//! at open, at close, and whenever the current file passes
//! [`CHECKPOINT_BYTES`].

use std::fs::{File, OpenOptions};
use std::io::{Read, Write};
use std::path::{Path, PathBuf};
use std::sync::Arc;

use super::keys::*;
use crate::envelope;
use crate::error::StoreError;
use crate::types::Position;

const MAGIC: &[u8; 4] = b"AWF1";
const FRAME_HEADER: usize = 12;

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

fn sync_dir(dir: &Path) -> Result<(), StoreError> {
    File::open(dir)?.sync_all()?;
    Ok(())
}

/// WAL files in the folder, oldest first.
fn wal_files(dir: &Path) -> Result<Vec<PathBuf>, StoreError> {
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

/// Lays out one frame while a group is planned.
pub(super) struct FrameBuilder {
    bytes: Vec<u8>,
}

impl FrameBuilder {
    pub fn new() -> Self {
        let mut bytes = Vec::with_capacity(64 * 1024);
        bytes.extend_from_slice(MAGIC);
        bytes.extend_from_slice(&[0; 8]);
        Self { bytes }
    }

    pub fn push(&mut self, envelope: &[u8]) {
        // Envelopes are far below 4 GiB (payloads are capped at 64 KiB).
        self.bytes.extend_from_slice(&(envelope.len() as u32).to_be_bytes());
        self.bytes.extend_from_slice(envelope);
    }

    pub fn finish(mut self) -> Vec<u8> {
        // Groups are capped far below 4 GiB (`MAX_GROUP_BYTES`).
        let payload_len = (self.bytes.len() - FRAME_HEADER) as u32;
        let crc = crc32c::crc32c(&self.bytes[FRAME_HEADER..]);
        self.bytes[4..8].copy_from_slice(&payload_len.to_be_bytes());
        self.bytes[8..12].copy_from_slice(&crc.to_be_bytes());
        self.bytes
    }
}

/// What recovery did at open.
#[derive(Clone, Copy, PartialEq, Eq, Debug, Default)]
pub struct RecoveryReport {
    /// Events re-applied to sled from the write-ahead file.
    pub replayed: u64,
    /// Bytes at the end of a write-ahead file that did not form a whole,
    /// valid frame: a write cut short by a crash, never acknowledged.
    pub discarded_bytes: u64,
}

/// Valid frames' payloads of one file, up to the first bad or cut frame,
/// and the number of bytes after them.
fn frames(path: &Path) -> Result<(Vec<Vec<u8>>, u64), StoreError> {
    let mut data = Vec::new();
    File::open(path)?.read_to_end(&mut data)?;
    let mut out = Vec::new();
    let mut at = 0;
    while data.len() - at >= FRAME_HEADER {
        let header = &data[at..at + FRAME_HEADER];
        if &header[..4] != MAGIC {
            break;
        }
        let len = u32::from_be_bytes([header[4], header[5], header[6], header[7]]) as usize;
        let crc = u32::from_be_bytes([header[8], header[9], header[10], header[11]]);
        let Some(payload) = data.get(at + FRAME_HEADER..at + FRAME_HEADER + len) else {
            break;
        };
        if crc32c::crc32c(payload) != crc {
            break;
        }
        out.push(payload.to_vec());
        at += FRAME_HEADER + len;
    }
    Ok((out, (data.len() - at) as u64))
}

/// Re-applies to sled every WAL record at or past `next_position` (what
/// sled already holds ends there) and returns the new next position.
pub(super) fn recover(
    dir: &Path,
    tree: &sled::Tree,
    mut next_position: Position,
) -> Result<(Position, RecoveryReport), StoreError> {
    let mut report = RecoveryReport::default();
    if !dir.exists() {
        if next_position > 0 {
            // Every open creates the folder before the first append; a store
            // with events but without it has lost what it last acknowledged.
            return Err(StoreError::Corrupt {
                position: next_position,
                reason: format!(
                    "the write-ahead folder {} is missing; events acknowledged since the last checkpoint may be lost",
                    dir.display()
                ),
            });
        }
        return Ok((next_position, report));
    }
    for path in wal_files(dir)? {
        let (frames, discarded) = frames(&path)?;
        report.discarded_bytes += discarded;
        for payload in frames {
            let mut batch = sled::Batch::default();
            let mut any = false;
            let mut at = 0;
            while at < payload.len() {
                let len_bytes = payload.get(at..at + 4).ok_or_else(|| StoreError::Corrupt {
                    position: next_position,
                    reason: format!("malformed frame in {}", path.display()),
                })?;
                let len = u32::from_be_bytes([len_bytes[0], len_bytes[1], len_bytes[2], len_bytes[3]]) as usize;
                let bytes = payload.get(at + 4..at + 4 + len).ok_or_else(|| StoreError::Corrupt {
                    position: next_position,
                    reason: format!("malformed frame in {}", path.display()),
                })?;
                at += 4 + len;
                // The record's own position, read through the envelope.
                let position = bytes.get(5..13).and_then(be_u64).ok_or_else(|| StoreError::Corrupt {
                    position: next_position,
                    reason: format!("malformed record in {}", path.display()),
                })?;
                if position < next_position {
                    continue;
                }
                if position > next_position {
                    return Err(StoreError::Corrupt {
                        position: next_position,
                        reason: format!(
                            "record is missing: the write-ahead file {} continues at position {position}",
                            path.display()
                        ),
                    });
                }
                let event = envelope::decode(position, sled::IVec::from(bytes))
                    .map_err(|reason| StoreError::Corrupt { position, reason })?;
                let position_bytes = position.to_be_bytes();
                batch.insert(&log_key(position), bytes);
                batch.insert(stream_key(event.stream(), event.stream_version), &position_bytes);
                batch.insert(&id_key(&event.id), &position_bytes);
                next_position += 1;
                report.replayed += 1;
                any = true;
            }
            if any {
                tree.apply_batch(batch)?;
            }
        }
    }
    Ok((next_position, report))
}
