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

/// The largest payload a frame can hold: its length field has 4 bytes.
/// The writer keeps every group far below it (see `MAX_GROUP_BYTES` in
/// [`super::writer`]), so one request, however many streams it appends
/// to, always fits one frame and is never split.
pub(super) const MAX_FRAME_PAYLOAD: usize = u32::MAX as usize;

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
        // Groups are capped far below `MAX_FRAME_PAYLOAD` (`MAX_GROUP_BYTES`).
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
    /// Records past the last checkpoint whose stream-index and id-index
    /// entries were written again (sled may have kept a record without
    /// them).
    pub reindexed: u64,
}

/// The frame that starts at `at` in `data`, if a whole, valid one does:
/// its payload's range.
fn frame_at(data: &[u8], at: usize) -> Option<std::ops::Range<usize>> {
    let header = data.get(at..at.checked_add(FRAME_HEADER)?)?;
    if &header[..4] != MAGIC {
        return None;
    }
    let len = u32::from_be_bytes([header[4], header[5], header[6], header[7]]) as usize;
    let crc = u32::from_be_bytes([header[8], header[9], header[10], header[11]]);
    let range = at + FRAME_HEADER..(at + FRAME_HEADER).checked_add(len)?;
    let payload = data.get(range.clone())?;
    (crc32c::crc32c(payload) == crc).then_some(range)
}

/// The first whole, valid frame that starts after `from`.
fn next_frame(data: &[u8], from: usize) -> Option<(usize, std::ops::Range<usize>)> {
    let mut at = from;
    while let Some(found) = data.get(at..)?.windows(4).position(|w| w == MAGIC) {
        let start = at + found;
        if let Some(range) = frame_at(data, start) {
            return Some((start, range));
        }
        at = start + 1;
    }
    None
}

/// The positions of the first and the last record of a frame's payload.
fn positions_of(payload: &[u8]) -> Option<(Position, Position)> {
    let mut at = 0;
    let mut first = None;
    let mut last = None;
    while at < payload.len() {
        let len = payload.get(at..at + 4).and_then(be_u32)? as usize;
        let position = payload.get(at + 4 + 5..at + 4 + 13).and_then(be_u64)?;
        first.get_or_insert(position);
        last = Some(position);
        at += 4 + len;
    }
    Some((first?, last?))
}

fn be_u32(bytes: &[u8]) -> Option<u32> {
    Some(u32::from_be_bytes(bytes.try_into().ok()?))
}

/// Bytes of a write-ahead file that fail the frame check while whole,
/// valid frames follow them: damage, not a write cut short by a crash
/// (a torn write is always the last thing in the file, because frames are
/// appended in order and each is synced before a later one is
/// acknowledged).
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct WalDamage {
    /// The write-ahead file.
    pub file: PathBuf,
    /// Where the unreadable bytes start in it.
    pub offset: u64,
    /// How many bytes up to the next valid frame.
    pub bytes: u64,
    /// The first position the damaged bytes may have held: the one after
    /// the last record before them.
    pub first_at_risk: Position,
    /// The position of the first record after them.
    pub next_valid: Position,
}

/// One write-ahead file, read and checked without changing anything.
pub(super) struct WalFile {
    path: PathBuf,
    /// Valid frames' payloads, in file order.
    frames: Vec<Vec<u8>>,
    /// Bytes after the last valid frame, with nothing valid after them: a
    /// write cut short.
    torn_tail: u64,
}

/// One piece of a write-ahead file, in file order.
#[derive(Clone, Debug)]
pub(super) enum Piece {
    /// A whole, valid frame: where it starts (its header) and its
    /// payload's range.
    Frame {
        start: usize,
        payload: std::ops::Range<usize>,
    },
    /// Bytes that fail the frame check with a valid frame after them.
    Damaged(WalDamage),
}

/// A write-ahead file as read: its bytes, cut into valid frames and
/// damaged regions, and where a torn tail starts.
pub(super) struct WalMap {
    pub path: PathBuf,
    pub data: Vec<u8>,
    pub pieces: Vec<Piece>,
    /// Where the bytes after the last valid frame start, which do not form
    /// a whole, valid frame and have nothing valid after them (the file's
    /// length when there are none).
    pub torn_from: usize,
}

impl WalMap {
    /// The file's damaged regions, in file order.
    pub fn damage(&self) -> impl Iterator<Item = &WalDamage> {
        self.pieces.iter().filter_map(|piece| match piece {
            Piece::Damaged(damage) => Some(damage),
            Piece::Frame { .. } => None,
        })
    }
}

/// Every write-ahead file of `dir`, oldest first, read and cut into
/// pieces; nothing is changed.
pub(super) fn map_files(dir: &Path) -> Result<Vec<WalMap>, StoreError> {
    if !dir.exists() {
        return Ok(Vec::new());
    }
    wal_files(dir)?.into_iter().map(map_file).collect()
}

fn map_file(path: PathBuf) -> Result<WalMap, StoreError> {
    let mut data = Vec::new();
    File::open(&path)?.read_to_end(&mut data)?;
    let mut pieces = Vec::new();
    let mut last_position = first_position_of(&path).and_then(|p| p.checked_sub(1));
    let mut at = 0;
    let torn_from = loop {
        if at >= data.len() {
            break data.len();
        }
        if let Some(range) = frame_at(&data, at) {
            if let Some((_, last)) = positions_of(&data[range.clone()]) {
                last_position = Some(last);
            }
            pieces.push(Piece::Frame {
                start: at,
                payload: range.clone(),
            });
            at = range.end;
            continue;
        }
        // Only a frame that reads as one the writer wrote (records,
        // later than the last one before) proves that the bytes before
        // it are damage: a payload cut short may itself hold bytes
        // that look like a frame header.
        let first_at_risk = last_position.map_or(0, |p| p.saturating_add(1));
        let mut from = at + 1;
        let resumed = loop {
            match next_frame(&data, from) {
                None => break None,
                Some((start, range)) => match positions_of(&data[range]) {
                    Some((first, _)) if first >= first_at_risk => break Some((start, first)),
                    _ => from = start + 1,
                },
            }
        };
        match resumed {
            None => break at,
            Some((start, next_valid)) => {
                pieces.push(Piece::Damaged(WalDamage {
                    file: path.clone(),
                    offset: at as u64,
                    bytes: (start - at) as u64,
                    first_at_risk,
                    next_valid,
                }));
                at = start;
            }
        }
    };
    Ok(WalMap {
        path,
        data,
        pieces,
        torn_from,
    })
}

/// Every write-ahead file of `dir`, oldest first, read and checked before
/// anything is written; the first damage found is an error and nothing
/// has been changed.
pub(super) fn scan(dir: &Path) -> Result<Vec<WalFile>, StoreError> {
    let mut out = Vec::new();
    for map in map_files(dir)? {
        if let Some(damage) = map.damage().next() {
            return Err(StoreError::WalDamaged(Box::new(damage.clone())));
        }
        let frames = map
            .pieces
            .iter()
            .filter_map(|piece| match piece {
                Piece::Frame { payload, .. } => map.data.get(payload.clone()).map(<[u8]>::to_vec),
                Piece::Damaged(_) => None,
            })
            .collect();
        out.push(WalFile {
            torn_tail: (map.data.len() - map.torn_from) as u64,
            path: map.path,
            frames,
        });
    }
    Ok(out)
}

/// The records of a frame's payload: each one's bytes, in order; `None`
/// if the payload is not a sequence of length-prefixed records.
pub(super) fn records_of(payload: &[u8]) -> Option<Vec<&[u8]>> {
    let mut out = Vec::new();
    let mut at = 0;
    while at < payload.len() {
        let len = payload.get(at..at.checked_add(4)?).and_then(be_u32)? as usize;
        let start = at + 4;
        let end = start.checked_add(len)?;
        out.push(payload.get(start..end)?);
        at = end;
    }
    Some(out)
}

/// The envelopes inside damaged bytes that still check, whole, with a
/// position the damage may have held (`first_at_risk` up to, not
/// including, `next_valid`), in increasing positions: each envelope
/// carries its own crc32c, so a record survives damage to the bytes
/// around it. Returns each one's position and bytes.
pub(super) fn salvage(data: &[u8], damage: &WalDamage) -> Vec<(Position, Vec<u8>)> {
    let start = usize::try_from(damage.offset).unwrap_or(usize::MAX);
    let end = usize::try_from(damage.offset.saturating_add(damage.bytes)).unwrap_or(usize::MAX);
    let Some(region) = data.get(start..end) else {
        return Vec::new();
    };
    let mut out: Vec<(Position, Vec<u8>)> = Vec::new();
    let mut at = 0;
    while at < region.len() {
        let candidate = match envelope::envelope_len(&region[at..]) {
            Some(len) => &region[at..at + len],
            None => {
                at += 1;
                continue;
            }
        };
        let position = candidate.get(5..13).and_then(be_u64);
        let accepted = position.filter(|p| {
            (damage.first_at_risk..damage.next_valid).contains(p)
                && out.last().is_none_or(|(last, _)| p > last)
                && envelope::decode_raw(*p, sled::IVec::from(candidate), envelope::Check::Full).is_ok()
        });
        match accepted {
            Some(position) => {
                out.push((position, candidate.to_vec()));
                at += candidate.len();
            }
            None => at += 1,
        }
    }
    out
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

/// Writes the stream-index and id-index entries of one record (again).
fn index_record(tree: &sled::Tree, position: Position, bytes: &[u8]) -> Result<(), StoreError> {
    let event = envelope::decode(position, sled::IVec::from(bytes))
        .map_err(|reason| StoreError::Corrupt { position, reason })?;
    let position_bytes = position.to_be_bytes();
    tree.insert(stream_key(event.stream(), event.stream_version), &position_bytes)?;
    tree.insert(id_key(&event.id), &position_bytes)?;
    Ok(())
}

/// Brings sled up to date with the write-ahead files at open and returns
/// the next position. `sled_end` is where sled's log keyspace ends.
///
/// Everything below the last checkpoint (the first WAL file's position) is
/// durable in sled, indexes included. Past it, sled holds a prefix of the
/// inserts the writer made (record, then its stream-index and id-index
/// entries, in position order; sled recovers its own log in order up to
/// the first incomplete write), so a record may have lost its index
/// entries. Recovery therefore writes the index entries of every record
/// from the checkpoint on again (same keys, same values), takes the records
/// sled lacks from the WAL, and for records sled kept beyond the WAL's
/// valid frames (written, never acknowledged) reads them from sled.
pub(super) fn recover(
    dir: &Path,
    files: Vec<WalFile>,
    tree: &sled::Tree,
    sled_end: Position,
    opened_before: bool,
) -> Result<(Position, RecoveryReport), StoreError> {
    let mut report = RecoveryReport::default();
    let mut next_position = sled_end;
    if !dir.exists() {
        if next_position > 0 || opened_before {
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
    let checkpoint = files.first().and_then(|f| first_position_of(&f.path));
    if let Some(checkpoint) = checkpoint {
        if checkpoint > sled_end {
            return Err(StoreError::Corrupt {
                position: sled_end,
                reason: format!(
                    "the log ends at position {sled_end} but its last checkpoint was at {checkpoint}: sled lost durable records"
                ),
            });
        }
    }
    // The next record the WAL must hold, so that its records are dense.
    let mut wal_next = checkpoint;
    for file in &files {
        let path = &file.path;
        report.discarded_bytes += file.torn_tail;
        for payload in &file.frames {
            // The frame's records that sled lacks, stored as the writer
            // stores them: in chunks, before the index entries of the
            // frame's records are written again.
            let missing_from = next_position;
            let mut missing: Vec<&[u8]> = Vec::new();
            let mut records: Vec<(Position, &[u8])> = Vec::new();
            let mut at = 0;
            while at < payload.len() {
                let malformed = || StoreError::Corrupt {
                    position: next_position,
                    reason: format!("malformed frame in {}", path.display()),
                };
                let len_bytes = payload.get(at..at + 4).ok_or_else(malformed)?;
                let len = u32::from_be_bytes([len_bytes[0], len_bytes[1], len_bytes[2], len_bytes[3]]) as usize;
                let bytes = payload.get(at + 4..at + 4 + len).ok_or_else(malformed)?;
                at += 4 + len;
                // The record's own position, read through the envelope.
                let position = bytes.get(5..13).and_then(be_u64).ok_or_else(|| StoreError::Corrupt {
                    position: next_position,
                    reason: format!("malformed record in {}", path.display()),
                })?;
                if wal_next.is_some_and(|n| position < n) {
                    // Older than the checkpoint (a file left from before
                    // it): sled has it for good.
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
                if let Some(n) = wal_next {
                    // A torn older file followed by a newer one: sled has
                    // the records in between (a checkpoint ran after them).
                    reindex_from_sled(tree, n..position, &mut report)?;
                }
                if position == next_position {
                    missing.push(bytes);
                    next_position += 1;
                    report.replayed += 1;
                }
                records.push((position, bytes));
                wal_next = Some(position + 1);
            }
            super::writer::insert_chunks(tree, missing_from, &missing)?;
            for (position, bytes) in records {
                index_record(tree, position, bytes)?;
                report.reindexed += 1;
            }
        }
    }
    // Records sled kept past the WAL's valid frames.
    if let Some(from) = wal_next {
        reindex_from_sled(tree, from..sled_end, &mut report)?;
    }
    Ok((next_position, report))
}

/// Writes the index entries of records sled holds but the WAL does not.
fn reindex_from_sled(
    tree: &sled::Tree,
    positions: std::ops::Range<Position>,
    report: &mut RecoveryReport,
) -> Result<(), StoreError> {
    let mut lookup = super::chunk::Lookup::default();
    for position in positions {
        let bytes = lookup.record(tree, position)?.ok_or_else(|| StoreError::Corrupt {
            position,
            reason: "record is missing: the log has a gap".into(),
        })?;
        index_record(tree, position, &bytes)?;
        report.reindexed += 1;
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::types::{EventId, EventMetadata, NewEvent, StreamId};

    type TestResult = Result<(), Box<dyn std::error::Error>>;
    /// A test record: position, envelope bytes, stream, version, id.
    type Record = (Position, Vec<u8>, String, u64, EventId);

    /// Records 0..n, alternating between two streams.
    fn records(n: u64) -> Result<Vec<Record>, Box<dyn std::error::Error>> {
        let mut out = Vec::new();
        for position in 0..n {
            let name = format!("s{}", position % 2);
            let stream = StreamId::new(name.clone())?;
            let version = position / 2;
            let event = NewEvent {
                id: EventId::new_random(),
                event_type: "Tested".into(),
                schema_version: 1,
                payload: vec![position as u8; 20],
                metadata: EventMetadata::default(),
            };
            let placement = envelope::Placement {
                position,
                stream: &stream,
                stream_version: version,
                recorded_at: chrono::Utc::now(),
            };
            out.push((position, envelope::encode(&placement, &event), name, version, event.id));
        }
        Ok(out)
    }

    fn wal_with(dir: &Path, records: &[Record]) -> Result<(), StoreError> {
        let mut wal = Wal::start(dir, records.first().map_or(0, |r| r.0))?;
        for chunk in records.chunks(2) {
            let mut frame = FrameBuilder::new();
            for record in chunk {
                frame.push(&record.1);
            }
            wal.write(&frame.finish())?;
        }
        Ok(())
    }

    /// A sled database in `dir` and the tree the tests recover into.
    fn sled_tree(dir: &Path) -> sled::Result<(sled::Db, sled::Tree)> {
        let db = sled::Config::new().path(dir.join("db")).open()?;
        let tree = db.open_tree("t")?;
        Ok((db, tree))
    }

    fn indexed(tree: &sled::Tree, record: &Record) -> Result<bool, StoreError> {
        let position = Some(record.0.to_be_bytes().to_vec());
        let stream = tree.get(stream_key(&record.2, record.3))?.map(|v| v.to_vec());
        let id = tree.get(id_key(&record.4))?.map(|v| v.to_vec());
        Ok(stream == position && id == position)
    }

    /// What a crash may leave: sled kept a prefix of the writer's inserts,
    /// so records 0..3 are whole, record 3 lost its index entries, and
    /// records 4 and 5 (in the WAL) are missing. A second case: sled kept
    /// records 6 and 7 past the WAL's last frame, without index entries.
    /// Recovery restores every index entry and the missing records.
    #[test]
    fn recovery_rewrites_index_entries_sled_lost() -> TestResult {
        let dir = tempfile::tempdir()?;
        let (_db, tree) = sled_tree(dir.path())?;
        let all = records(8)?;
        wal_with(&dir.path().join("wal"), &all[..6])?;
        for record in &all[..4] {
            tree.insert(log_key(record.0), record.1.as_slice())?;
        }
        for record in &all[..3] {
            tree.insert(stream_key(&record.2, record.3), &record.0.to_be_bytes())?;
            tree.insert(id_key(&record.4), &record.0.to_be_bytes())?;
        }
        assert!(
            !indexed(&tree, &all[3])?,
            "the test starts from a record without index entries"
        );
        let (next, report) = recover(&dir.path().join("wal"), scan(&dir.path().join("wal"))?, &tree, 4, true)?;
        assert_eq!(next, 6);
        assert_eq!(report.replayed, 2);
        assert_eq!(report.reindexed, 6);
        for record in &all[..6] {
            assert!(indexed(&tree, record)?, "position {}", record.0);
            assert_eq!(
                super::super::chunk::Lookup::default()
                    .record(&tree, record.0)?
                    .map(|v| v.to_vec()),
                Some(record.1.clone())
            );
        }

        // Records 6 and 7 reached sled, their WAL frame did not.
        for record in &all[6..] {
            tree.insert(log_key(record.0), record.1.as_slice())?;
        }
        let (next, report) = recover(&dir.path().join("wal"), scan(&dir.path().join("wal"))?, &tree, 8, true)?;
        assert_eq!(next, 8);
        assert_eq!(report.replayed, 0);
        assert_eq!(report.reindexed, 8);
        for record in &all {
            assert!(indexed(&tree, record)?, "position {}", record.0);
        }
        Ok(())
    }

    /// A group larger than one chunk, of which sled kept only the first
    /// chunk: recovery stores the rest from the WAL, in chunks that start
    /// where sled's end, and the log reads whole.
    #[test]
    fn recovery_completes_a_group_sled_kept_in_part() -> TestResult {
        let dir = tempfile::tempdir()?;
        let (_db, tree) = sled_tree(dir.path())?;
        let all = records(100)?;
        let mut wal = Wal::start(&dir.path().join("wal"), 0)?;
        let mut frame = FrameBuilder::new();
        for record in &all {
            frame.push(&record.1);
        }
        wal.write(&frame.finish())?;
        let envelopes: Vec<&[u8]> = all.iter().map(|r| r.1.as_slice()).collect();
        let chunks = super::super::chunk::encode(&envelopes);
        assert!(chunks.len() > 1, "the group needs more than one chunk");
        let (start, count, bytes) = &chunks[0];
        tree.insert(chunk_key(*start as u64, *count), bytes.as_slice())?;

        let (next, report) = recover(
            &dir.path().join("wal"),
            scan(&dir.path().join("wal"))?,
            &tree,
            *count as u64,
            true,
        )?;
        assert_eq!(next, 100);
        assert_eq!(report.replayed, 100 - *count as u64);
        let verified = super::super::verify::verify(&tree, next)?;
        assert_eq!(verified.events, 100);
        let mut lookup = super::super::chunk::Lookup::default();
        for record in &all {
            assert!(indexed(&tree, record)?, "position {}", record.0);
            assert_eq!(
                lookup.record(&tree, record.0)?.map(|v| v.to_vec()),
                Some(record.1.clone())
            );
        }
        // The next open finds the log's end from its last key.
        let last = tree.scan_prefix([LOG]).next_back().ok_or("no log key")??.0;
        assert_eq!(parse_log_key(&last).map(|(first, n)| first + n as u64), Some(100));
        Ok(())
    }

    /// sled ending before the last checkpoint, or a WAL record past a hole,
    /// is damage, reported as such.
    #[test]
    fn recovery_reports_what_it_cannot_restore() -> TestResult {
        let dir = tempfile::tempdir()?;
        let (_db, tree) = sled_tree(dir.path())?;
        let all = records(6)?;
        wal_with(&dir.path().join("wal"), &all[2..])?;
        let err = recover(&dir.path().join("wal"), scan(&dir.path().join("wal"))?, &tree, 0, true).err();
        assert!(
            matches!(&err, Some(StoreError::Corrupt { position: 0, reason }) if reason.contains("checkpoint")),
            "{err:?}"
        );
        // A WAL whose checkpoint sled reached but that skips a record.
        let gap = tempfile::tempdir()?;
        let mut wal = Wal::start(gap.path(), 0)?;
        let mut frame = FrameBuilder::new();
        frame.push(&all[0].1);
        frame.push(&all[2].1);
        wal.write(&frame.finish())?;
        let err = recover(gap.path(), scan(gap.path())?, &tree, 0, true).err();
        assert!(
            matches!(&err, Some(StoreError::Corrupt { position: 1, reason }) if reason.contains("missing")),
            "{err:?}"
        );
        Ok(())
    }
}
