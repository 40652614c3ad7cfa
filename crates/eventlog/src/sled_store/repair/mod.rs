//! The explicit repair of damaged write-ahead files (`aftersales repair`).
//!
//! An open refuses a folder whose write-ahead file holds bytes that fail
//! the frame check with valid frames after them ([`StoreError::WalDamaged`]):
//! events acknowledged there may be lost, and only an operator may decide
//! to go on without them. The repair is that decision, made explicit:
//!
//! 1. With the lock an open takes (sled's, on its `db` file), it reads
//!    every write-ahead file. Without damage it stops there: nothing is
//!    changed and the report says so.
//! 2. It copies every file of the log's folder, byte for byte, into the
//!    next free `repair-<n>` folder inside it and syncs the copy, before
//!    anything is changed. The number comes from the folders already
//!    there, never from the clock.
//! 3. It opens sled (whose lock it then holds to the end), checks that the
//!    write-ahead files still hold the bytes copied, and reads the whole
//!    log once: sled's records, then the write-ahead records past them.
//!    For each damaged region it takes, position by position, a record
//!    whose envelope still checks inside the damaged bytes (each carries
//!    its own crc32c), else the record sled holds (a checkpoint made it
//!    durable before the damage), else the position is lost and gets a
//!    placeholder in [`LOST_STREAM`] ([`super::lost`]). Versions missing
//!    in a stream that shows a later version are declared lost in the
//!    placeholders; a gap in a stream's versions that no lost position
//!    explains, damaged records in sled, or sled ending before the last
//!    checkpoint are damage it does not mend: [`StoreError::Repair`], with
//!    the write-ahead files unchanged.
//! 4. It writes its report into the copy's folder, then rewrites each
//!    damaged file: every valid frame byte for byte, each damaged region
//!    replaced by frames of the records just chosen (temporary file, sync,
//!    rename, sync of the folder).
//! 5. It opens the store as every open does (recovery applies the new
//!    frames, a checkpoint follows), verifies it, and adds the outcome to
//!    the report.
//!
//! A repair interrupted before step 4 leaves the log as it was (and a
//! copy); one interrupted in step 4 or 5 left files that read as valid,
//! which the next open recovers as usual. A second repair finds no damage
//! and changes nothing.

use std::collections::{BTreeMap, BTreeSet, HashMap};
use std::fmt;
use std::fs::File;
use std::io::Write;
use std::path::{Path, PathBuf};

use chrono::{DateTime, Utc};

use super::chunk::Records;
use super::keys::*;
use super::lost::{Declared, LostPosition, LOST_EVENT_TYPE, LOST_STREAM};
use super::wal::{self, FrameBuilder, Piece, WalDamage, WalMap};
use super::{log_end, open_db, SledEventStore, SledOptions, READABLE_FORMATS, STORE_FORMAT};
use crate::envelope;
use crate::error::StoreError;
use crate::store::{EventStore, VerifyReport};
use crate::types::{
    EventId, EventMetadata, NewEvent, Position, RecordedEvent, StreamId, StreamVersion, MAX_PAYLOAD_LEN,
};

/// The name of the report in a repair's folder.
const REPORT_FILE: &str = "report.txt";

/// The ids of placeholders are name-based (UUID version 5) in this
/// namespace, from the position they fill: the same position always gets
/// the same id.
const PLACEHOLDER_IDS: uuid::Uuid = uuid::Uuid::from_u128(0x9d1c_52a0_3f4e_4b8e_a6d2_6c6f_7374_0001);

/// Most records in one frame written in place of a damaged region.
const FRAME_RECORDS: usize = 4096;

/// How to repair.
#[derive(Clone, Debug, Default)]
pub struct RepairOptions {
    /// How to open the store once repaired (and sled while repairing).
    pub open: SledOptions,
}

/// What a repair found and did. Its `Display` is the report written to
/// `repair-<n>/report.txt` and printed by `aftersales repair`.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct RepairReport {
    /// The log's folder.
    pub folder: PathBuf,
    /// The repair's number (`repair-<n>`); `None` when no write-ahead file
    /// was damaged and nothing was changed.
    pub number: Option<u32>,
    /// Where every file of the folder was copied, byte for byte, before
    /// anything was changed.
    pub preserved_in: Option<PathBuf>,
    /// The report's text file.
    pub report_file: Option<PathBuf>,
    /// Each damaged region: file, byte offset and length, and the
    /// positions it may have held (`first_at_risk` up to, not including,
    /// `next_valid`).
    pub damage: Vec<WalDamage>,
    /// Positions of the valid frames of the damaged files, kept byte for
    /// byte.
    pub kept: Vec<Position>,
    /// Positions whose records were taken from inside damaged bytes: their
    /// envelopes still check.
    pub salvaged: Vec<Position>,
    /// Positions of damaged regions whose records sled already held.
    pub from_sled: Vec<Position>,
    /// Positions lost: no byte of their records could be trusted. Each now
    /// holds a placeholder in [`LOST_STREAM`].
    pub lost: Vec<Position>,
    /// Stream versions lost, where a later version of the stream survived
    /// and shows the gap (declared in the placeholders, so that `verify`
    /// accepts exactly these gaps). The other lost events cannot be named.
    pub lost_versions: Vec<(String, StreamVersion)>,
    /// Bytes at the end of write-ahead files that do not form a whole
    /// frame, with nothing valid after them: a write cut short, which the
    /// open drops as after any crash.
    pub torn_tail_bytes: u64,
    /// What `verify` said once the repaired store was opened.
    pub verified: Option<VerifyReport>,
}

impl RepairReport {
    fn new(folder: &Path) -> Self {
        Self {
            folder: folder.to_path_buf(),
            number: None,
            preserved_in: None,
            report_file: None,
            damage: Vec::new(),
            kept: Vec::new(),
            salvaged: Vec::new(),
            from_sled: Vec::new(),
            lost: Vec::new(),
            lost_versions: Vec::new(),
            torn_tail_bytes: 0,
            verified: None,
        }
    }

    /// How many lost events cannot be named (their stream is unknown).
    pub fn unnamed_lost(&self) -> usize {
        self.lost.len().saturating_sub(self.lost_versions.len())
    }
}

/// Positions as ranges: `3-5, 9, 12-40`, or `none`.
fn ranges(positions: &[Position]) -> String {
    let mut out: Vec<String> = Vec::new();
    let mut run: Option<(Position, Position)> = None;
    for &p in positions {
        run = match run {
            Some((first, last)) if last.checked_add(1) == Some(p) => Some((first, p)),
            Some(done) => {
                out.push(range_text(done));
                Some((p, p))
            }
            None => Some((p, p)),
        };
    }
    if let Some(done) = run {
        out.push(range_text(done));
    }
    if out.is_empty() {
        "none".to_owned()
    } else {
        out.join(", ")
    }
}

/// `1 event`, `2 events`.
fn counted(n: u64, noun: &str) -> String {
    if n == 1 {
        format!("1 {noun}")
    } else {
        format!("{n} {noun}s")
    }
}

fn range_text((first, last): (Position, Position)) -> String {
    if first == last {
        first.to_string()
    } else {
        format!("{first}-{last}")
    }
}

impl fmt::Display for RepairReport {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let Some(number) = self.number else {
            return writeln!(
                f,
                "no write-ahead file of the event log in {} is damaged: nothing to repair, nothing was changed",
                self.folder.display()
            );
        };
        writeln!(f, "repair {number} of the event log in {}", self.folder.display())?;
        if let Some(preserved) = &self.preserved_in {
            writeln!(f, "the files as they were, byte for byte: {}", preserved.display())?;
        }
        writeln!(f, "damaged bytes:")?;
        for d in &self.damage {
            let held = match d.next_valid.checked_sub(1) {
                Some(last) if last >= d.first_at_risk => format!("where positions {}-{last} were", d.first_at_risk),
                _ => "holding no position".to_owned(),
            };
            writeln!(
                f,
                "  {} bytes {}-{} ({} bytes), {held}",
                d.file.display(),
                d.offset,
                (d.offset + d.bytes).saturating_sub(1),
                d.bytes
            )?;
        }
        writeln!(
            f,
            "kept as they were (valid frames of the damaged files): positions {}",
            ranges(&self.kept)
        )?;
        writeln!(
            f,
            "salvaged from inside damaged frames (their records still check): positions {}",
            ranges(&self.salvaged)
        )?;
        writeln!(
            f,
            "recovered from sled, which already held them: positions {}",
            ranges(&self.from_sled)
        )?;
        if self.lost.is_empty() {
            writeln!(f, "lost: none")?;
        } else {
            writeln!(
                f,
                "lost: positions {} ({}); each now holds a placeholder in the stream {LOST_STREAM}",
                ranges(&self.lost),
                counted(self.lost.len() as u64, "event")
            )?;
        }
        if !self.lost_versions.is_empty() {
            let versions: Vec<String> = self.lost_versions.iter().map(|(s, v)| format!("{s} v{v}")).collect();
            writeln!(
                f,
                "lost stream versions (a later version of the stream survived): {}",
                versions.join(", ")
            )?;
        }
        let unnamed = self.unnamed_lost();
        if unnamed > 0 {
            writeln!(
                f,
                "{} cannot be named: their bytes are unreadable and no later event of their stream survived",
                counted(unnamed as u64, "lost event")
            )?;
        }
        if self.torn_tail_bytes > 0 {
            writeln!(
                f,
                "{} bytes at the end of a write-ahead file do not form a whole frame (a write cut short): the open drops them, as after any crash",
                self.torn_tail_bytes
            )?;
        }
        match &self.verified {
            Some(v) => writeln!(
                f,
                "opened and verified: {} in {}, head {}, {} lost in repairs",
                counted(v.events, "event"),
                counted(v.streams, "stream"),
                v.head.map_or_else(|| "none".to_owned(), |h| h.to_string()),
                counted(v.lost, "position")
            ),
            None => writeln!(f, "not opened yet: written before the damaged files were rewritten"),
        }
    }
}

fn refused(reason: impl Into<String>) -> StoreError {
    StoreError::Repair { reason: reason.into() }
}

/// A refusal after the copy was made: nothing was changed, and where the
/// copy is.
fn unchanged(error: StoreError, preserved: &Path) -> StoreError {
    let reason = match error {
        StoreError::Repair { reason } => reason,
        other => other.to_string(),
    };
    refused(format!(
        "{reason}; the repair changed nothing (a copy of the files as they were is in {})",
        preserved.display()
    ))
}

pub(super) fn repair(dir: &Path, options: &RepairOptions) -> Result<RepairReport, StoreError> {
    let mut report = RepairReport::new(dir);
    let wal_dir = dir.join("wal");
    if !dir.join("db").exists() && !wal_dir.exists() {
        return Err(refused(format!("{} holds no event log", dir.display())));
    }
    let lock = lock_folder(dir)?;
    let maps = wal::map_files(&wal_dir)?;
    report.damage = maps.iter().flat_map(|m| m.damage().cloned()).collect();
    if report.damage.is_empty() {
        return Ok(report);
    }
    if lock.is_none() {
        return Err(refused(format!(
            "the write-ahead files are damaged and sled's file {} is missing; the repair changed nothing",
            dir.join("db").display()
        )));
    }
    let (number, preserved) = preserve(dir, &maps)?;
    report.number = Some(number);
    report.preserved_in = Some(preserved.clone());
    drop(lock);

    let db = open_db(dir, &options.open).map_err(|e| unchanged(e, &preserved))?;
    // sled's lock is held from here on: the files must still be the ones
    // copied (another process may have held the folder in between).
    let now = wal::map_files(&wal_dir)?;
    let same = now.len() == maps.len() && now.iter().zip(&maps).all(|(a, b)| a.path == b.path && a.data == b.data);
    if !same {
        return Err(unchanged(
            refused("the write-ahead files changed while they were being copied; run the repair again"),
            &preserved,
        ));
    }
    let tree = db.open_tree("eventlog")?;
    let plan = plan(&tree, &now, number).map_err(|e| unchanged(e, &preserved))?;
    drop(tree);
    report.kept = plan.kept;
    report.salvaged = plan.salvaged;
    report.from_sled = plan.from_sled;
    report.lost = plan.lost;
    report.lost_versions = plan.lost_versions;
    report.torn_tail_bytes = plan.torn_tail_bytes;
    let report_file = preserved.join(REPORT_FILE);
    report.report_file = Some(report_file.clone());
    write_atomically(&report_file, report.to_string().as_bytes())?;

    for (path, bytes) in &plan.rewrites {
        write_atomically(path, bytes)?;
    }
    let failed = |e: StoreError| {
        refused(format!(
            "the damaged write-ahead files were rewritten, then the log failed: {e}; the files as they were are in {}",
            preserved.display()
        ))
    };
    let store = SledEventStore::start(dir.to_path_buf(), db, options.open.clone()).map_err(failed)?;
    let verified = store.verify();
    let closed = store.close();
    report.verified = Some(verified.map_err(failed)?);
    closed.map_err(failed)?;
    write_atomically(&report_file, report.to_string().as_bytes())?;
    Ok(report)
}

/// Takes the lock sled takes when it opens the folder (on its `db` file),
/// so that nobody opens the store while the repair reads and copies it.
/// `None` when there is no `db` file. A handle of this process that has
/// just been closed may hold it a moment longer (see [`open_db`]), so a
/// conflict is retried for a few seconds.
fn lock_folder(dir: &Path) -> Result<Option<File>, StoreError> {
    use fs2::FileExt;
    let file = match File::open(dir.join("db")) {
        Ok(file) => file,
        Err(e) if e.kind() == std::io::ErrorKind::NotFound => return Ok(None),
        Err(e) => return Err(e.into()),
    };
    crate::sled_open::retry_while_locked(
        dir,
        || file.try_lock_exclusive(),
        |e| e.raw_os_error() == fs2::lock_contended_error().raw_os_error(),
    )?;
    Ok(Some(file))
}

/// Copies every file of `dir` (but earlier repairs' folders) into the next
/// free `repair-<n>` folder and syncs it; checks that the copies of the
/// write-ahead files hold the bytes read.
fn preserve(dir: &Path, maps: &[WalMap]) -> Result<(u32, PathBuf), StoreError> {
    let mut number = 1u32;
    for entry in std::fs::read_dir(dir)? {
        let name = entry?.file_name();
        if let Some(n) = name.to_str().and_then(repair_number) {
            number = number.max(n.saturating_add(1));
        }
    }
    let target = dir.join(format!("repair-{number}"));
    // `create_dir`, not `create_dir_all`: a folder of that name that
    // appeared since is another repair's.
    std::fs::create_dir(&target)?;
    copy_tree(dir, &target, true)?;
    wal::sync_dir(&target)?;
    wal::sync_dir(dir)?;
    for map in maps {
        let copy = map
            .path
            .strip_prefix(dir)
            .map(|relative| target.join(relative))
            .map_err(|_| refused(format!("{} is not inside {}", map.path.display(), dir.display())))?;
        if std::fs::read(&copy)? != map.data {
            return Err(refused(format!(
                "the copy {} does not hold the bytes of {}; the repair changed nothing",
                copy.display(),
                map.path.display()
            )));
        }
    }
    Ok((number, target))
}

/// The number of a repair's folder name, `repair-<n>`.
fn repair_number(name: &str) -> Option<u32> {
    name.strip_prefix("repair-")?.parse().ok()
}

fn copy_tree(from: &Path, to: &Path, top: bool) -> Result<(), StoreError> {
    for entry in std::fs::read_dir(from)? {
        let entry = entry?;
        let name = entry.file_name();
        if top && name.to_str().is_some_and(|n| n.starts_with("repair-")) {
            continue;
        }
        let target = to.join(&name);
        if entry.file_type()?.is_dir() {
            std::fs::create_dir(&target)?;
            copy_tree(&entry.path(), &target, false)?;
            wal::sync_dir(&target)?;
        } else {
            std::fs::copy(entry.path(), &target)?;
            File::open(&target)?.sync_all()?;
        }
    }
    Ok(())
}

/// Replaces `path` with `bytes` whole or not at all: a temporary file
/// beside it, synced, renamed over it, and the folder synced.
fn write_atomically(path: &Path, bytes: &[u8]) -> Result<(), StoreError> {
    let mut temporary = path.as_os_str().to_owned();
    temporary.push(".repairing");
    let temporary = PathBuf::from(temporary);
    {
        let mut file = File::create(&temporary)?;
        file.write_all(bytes)?;
        file.sync_all()?;
    }
    std::fs::rename(&temporary, path)?;
    if let Some(folder) = path.parent() {
        wal::sync_dir(folder)?;
    }
    Ok(())
}

/// What the repair will write, decided before anything is changed.
struct Plan {
    kept: Vec<Position>,
    salvaged: Vec<Position>,
    from_sled: Vec<Position>,
    lost: Vec<Position>,
    lost_versions: Vec<(String, StreamVersion)>,
    torn_tail_bytes: u64,
    /// Each damaged file and its new bytes.
    rewrites: Vec<(PathBuf, Vec<u8>)>,
}

/// A placeholder to store at a lost position.
struct Placeholder {
    version: StreamVersion,
    recorded_at: Option<DateTime<Utc>>,
    /// The damaged region (file and region) that held the position.
    damage: (usize, usize),
    declares: Vec<(String, StreamVersion)>,
}

/// Versions `from..to` of `stream` missing between the positions `after`
/// (of its last version before, if any) and `before` (of the version
/// after).
struct Gap {
    stream: String,
    from: StreamVersion,
    to: StreamVersion,
    after: Option<Position>,
    before: Position,
}

/// The walk of the whole log in position order: each stream's last
/// version, the gaps in streams' versions, the versions earlier repairs
/// declared lost, and the placeholders of this repair.
#[derive(Default)]
struct Walk {
    streams: HashMap<String, (StreamVersion, Position)>,
    gaps: Vec<Gap>,
    declared: Declared,
    placeholders: BTreeMap<Position, Placeholder>,
    /// Placeholders still waiting for a `recorded_at` (no record before
    /// them): they take the next record's.
    undated: Vec<Position>,
    last_recorded_at: Option<DateTime<Utc>>,
}

impl Walk {
    fn record(&mut self, event: &RecordedEvent) -> Result<(), StoreError> {
        let stream = event.stream();
        let version = event.stream_version;
        let position = event.position;
        let (expected, after) = match self.streams.get(stream) {
            Some((last, at)) => (last.saturating_add(1), Some(*at)),
            None => (0, None),
        };
        if version < expected {
            return Err(refused(format!(
                "position {position} holds {stream} version {version}, which an earlier position already holds: \
                 this is not damage of the write-ahead files (restore the folder from a backup)"
            )));
        }
        if version > expected {
            self.gaps.push(Gap {
                stream: stream.to_owned(),
                from: expected,
                to: version,
                after,
                before: position,
            });
        }
        if stream == LOST_STREAM {
            let lost = LostPosition::of(event)
                .map_err(|e| refused(format!("the placeholder at position {position} is unreadable: {e}")))?;
            for (s, v) in lost.into_iter().flat_map(|l| l.declares) {
                self.declared.entry(s).or_default().insert(v);
            }
        }
        self.streams.insert(stream.to_owned(), (version, position));
        for undated in self.undated.drain(..) {
            if let Some(p) = self.placeholders.get_mut(&undated) {
                p.recorded_at = Some(event.recorded_at);
            }
        }
        self.last_recorded_at = Some(event.recorded_at);
        Ok(())
    }

    fn lost(&mut self, position: Position, damage: (usize, usize)) {
        let version = self.streams.get(LOST_STREAM).map_or(0, |(v, _)| v.saturating_add(1));
        self.streams.insert(LOST_STREAM.to_owned(), (version, position));
        if self.last_recorded_at.is_none() {
            self.undated.push(position);
        }
        self.placeholders.insert(
            position,
            Placeholder {
                version,
                recorded_at: self.last_recorded_at,
                damage,
                declares: Vec::new(),
            },
        );
    }
}

/// Where a record the walk reads comes from.
#[derive(Clone, Copy, PartialEq, Eq)]
enum Source {
    Sled,
    Frame,
    Salvaged,
}

fn decode_checked(position: Position, bytes: &[u8], source: Source) -> Result<RecordedEvent, StoreError> {
    envelope::decode_raw(position, sled::IVec::from(bytes), envelope::Check::Full).map_err(|reason| {
        refused(match source {
            Source::Sled => format!(
                "sled's records are damaged: the record at position {position} is unreadable ({reason}); \
                 this is not damage of the write-ahead files (restore the folder from a backup)"
            ),
            Source::Frame => {
                format!("the record at position {position} in a valid write-ahead frame is unreadable: {reason}")
            }
            Source::Salvaged => {
                format!("the record at position {position} salvaged from damaged bytes is unreadable: {reason}")
            }
        })
    })
}

fn check_format(tree: &sled::Tree) -> Result<(), StoreError> {
    match tree.get(FORMAT_KEY)? {
        Some(bytes) => {
            let found = bytes
                .as_ref()
                .try_into()
                .map(u32::from_be_bytes)
                .map_err(|_| refused("the store format marker is unreadable: sled's records are damaged"))?;
            if found != STORE_FORMAT && !READABLE_FORMATS.contains(&found) {
                return Err(StoreError::UnsupportedFormat {
                    found,
                    supported: STORE_FORMAT,
                });
            }
            Ok(())
        }
        None if tree.scan_prefix([LOG]).next().is_some() => Err(refused(
            "sled holds events but no store format marker: sled's records are damaged",
        )),
        None => Ok(()),
    }
}

fn plan(tree: &sled::Tree, maps: &[WalMap], number: u32) -> Result<Plan, StoreError> {
    check_format(tree)?;
    let sled_end = log_end(tree).map_err(|e| refused(format!("sled's records are damaged: {e}")))?;
    let checkpoint = maps.first().and_then(|m| wal::first_position_of(&m.path));
    if let Some(checkpoint) = checkpoint {
        if checkpoint > sled_end {
            return Err(refused(format!(
                "sled's records end at position {sled_end} but the last checkpoint was at {checkpoint}: \
                 sled's own files lost records that were durable (restore the folder from a backup)"
            )));
        }
    }

    // The write-ahead records: valid frames', and those that still check
    // inside damaged bytes; the positions each damaged region may have held.
    let mut framed: BTreeMap<Position, &[u8]> = BTreeMap::new();
    let mut salvaged: BTreeMap<Position, Vec<u8>> = BTreeMap::new();
    let mut at_risk: BTreeMap<Position, (usize, usize)> = BTreeMap::new();
    let mut kept = Vec::new();
    let mut torn_tail_bytes = 0;
    for (f, map) in maps.iter().enumerate() {
        let damaged_file = map.damage().next().is_some();
        torn_tail_bytes += (map.data.len() - map.torn_from) as u64;
        for (r, piece) in map.pieces.iter().enumerate() {
            match piece {
                Piece::Frame { payload, .. } => {
                    let records = map
                        .data
                        .get(payload.clone())
                        .and_then(wal::records_of)
                        .ok_or_else(|| refused(format!("a frame of {} is malformed", map.path.display())))?;
                    for bytes in records {
                        let position = bytes
                            .get(5..13)
                            .and_then(be_u64)
                            .ok_or_else(|| refused(format!("a record of {} is malformed", map.path.display())))?;
                        if checkpoint.is_some_and(|c| position < c) {
                            // Older than the last checkpoint: sled has it.
                            continue;
                        }
                        framed.entry(position).or_insert(bytes);
                        if damaged_file {
                            kept.push(position);
                        }
                    }
                }
                Piece::Damaged(damage) => {
                    let count = damage.next_valid.saturating_sub(damage.first_at_risk);
                    // A record takes more than 64 bytes of a frame.
                    if count > damage.bytes / 32 + 1 {
                        return Err(refused(format!(
                            "{} bytes from byte {} of {} cannot have held positions {}-{}",
                            damage.bytes,
                            damage.offset,
                            map.path.display(),
                            damage.first_at_risk,
                            damage.next_valid.saturating_sub(1)
                        )));
                    }
                    for (position, bytes) in wal::salvage(&map.data, damage) {
                        salvaged.entry(position).or_insert(bytes);
                    }
                    for position in damage.first_at_risk..damage.next_valid {
                        at_risk.entry(position).or_insert((f, r));
                    }
                }
            }
        }
    }
    if let Some(position) = at_risk.keys().find(|p| framed.contains_key(p)) {
        return Err(refused(format!(
            "position {position} is both in a valid frame and among the positions damaged bytes held"
        )));
    }
    let end = [
        Some(sled_end),
        framed.keys().next_back().map(|p| p + 1),
        salvaged.keys().next_back().map(|p| p + 1),
    ]
    .into_iter()
    .flatten()
    .max()
    .unwrap_or(sled_end);

    // The whole log, in position order.
    let mut walk = Walk::default();
    let mut from_sled: BTreeMap<Position, Vec<u8>> = BTreeMap::new();
    for item in Records::new(tree, 0, sled_end) {
        let (position, bytes) = item.map_err(|e| {
            refused(format!(
                "sled's records are damaged ({e}): this is not damage of the write-ahead files (restore the folder from a backup)"
            ))
        })?;
        let event = decode_checked(position, &bytes, Source::Sled)?;
        walk.record(&event)?;
        if at_risk.contains_key(&position) && !salvaged.contains_key(&position) {
            from_sled.insert(position, bytes.to_vec());
        }
    }
    for position in sled_end..end {
        if let Some(bytes) = framed.get(&position) {
            walk.record(&decode_checked(position, bytes, Source::Frame)?)?;
        } else if let Some(bytes) = salvaged.get(&position) {
            walk.record(&decode_checked(position, bytes, Source::Salvaged)?)?;
        } else if let Some(damage) = at_risk.get(&position) {
            walk.lost(position, *damage);
        } else {
            return Err(refused(format!(
                "position {position} is missing: no write-ahead frame holds it, no damaged bytes could have held it \
                 and sled's records end at {sled_end}"
            )));
        }
    }

    // Each gap in a stream's versions not declared by an earlier repair
    // must be a lost event: one lost position between the versions around
    // the gap stands for it (earliest deadline first, so every gap that
    // can get a position gets one).
    let lost: Vec<Position> = walk.placeholders.keys().copied().collect();
    let mut missing: Vec<(String, StreamVersion, Option<Position>, Position)> = Vec::new();
    for gap in &walk.gaps {
        let declared = walk.declared.get(&gap.stream);
        let undeclared = (gap.from..gap.to).filter(|v| !declared.is_some_and(|d| d.contains(v)));
        for version in undeclared {
            if missing.len() >= lost.len() {
                return Err(unexplained(gap, version));
            }
            missing.push((gap.stream.clone(), version, gap.after, gap.before));
        }
    }
    missing.sort_by(|a, b| (a.3, &a.0, a.1).cmp(&(b.3, &b.0, b.1)));
    let mut available: BTreeSet<Position> = lost.iter().copied().collect();
    let mut lost_versions = Vec::new();
    for (stream, version, after, before) in missing {
        let from = after.map_or(0, |a| a + 1);
        let Some(&position) = available.range(from..before).next() else {
            return Err(unexplained(
                &Gap {
                    stream,
                    from: version,
                    to: version + 1,
                    after,
                    before,
                },
                version,
            ));
        };
        available.remove(&position);
        if let Some(placeholder) = walk.placeholders.get_mut(&position) {
            placeholder.declares.push((stream.clone(), version));
        }
        lost_versions.push((stream, version));
    }
    lost_versions.sort();

    // The placeholders' records.
    let lost_stream = StreamId::new(LOST_STREAM)?;
    let mut placeholders: BTreeMap<Position, Vec<u8>> = BTreeMap::new();
    for (&position, placeholder) in &walk.placeholders {
        let (f, r) = placeholder.damage;
        let Some(Piece::Damaged(damage)) = maps.get(f).and_then(|m| m.pieces.get(r)) else {
            return Err(refused("internal: a lost position without its damaged region"));
        };
        let payload = crate::codec::encode(&LostPosition {
            repair: number,
            file: damage
                .file
                .file_name()
                .map(|n| n.to_string_lossy().into_owned())
                .unwrap_or_default(),
            damaged_from: damage.offset,
            damaged_bytes: damage.bytes,
            declares: placeholder.declares.clone(),
        })?;
        if payload.len() > MAX_PAYLOAD_LEN {
            return Err(refused(format!(
                "the placeholder at position {position} would be too large"
            )));
        }
        let id = EventId(uuid::Uuid::new_v5(
            &PLACEHOLDER_IDS,
            format!("{LOST_STREAM} position {position}").as_bytes(),
        ));
        if tree.get(id_key(&id))?.is_some() {
            return Err(refused(format!(
                "the id {id} of the placeholder for position {position} is already in use"
            )));
        }
        let event = NewEvent {
            id,
            event_type: LOST_EVENT_TYPE.to_owned(),
            schema_version: 1,
            payload,
            metadata: EventMetadata {
                actor: "repair".to_owned(),
                role: "system".to_owned(),
                channel: "repair".to_owned(),
                ..EventMetadata::default()
            },
        };
        let placement = envelope::Placement {
            position,
            stream: &lost_stream,
            stream_version: placeholder.version,
            // No record before it: the epoch, which no later record precedes.
            recorded_at: placeholder.recorded_at.unwrap_or_default(),
        };
        placeholders.insert(position, envelope::encode(&placement, &event));
    }

    // Each damaged file, rewritten: valid frames byte for byte, each
    // damaged region replaced by frames of the records chosen for the
    // positions it held, the torn tail (if any) as it was.
    let mut rewrites = Vec::new();
    for map in maps.iter().filter(|m| m.damage().next().is_some()) {
        let mut out = Vec::with_capacity(map.data.len());
        for piece in &map.pieces {
            match piece {
                Piece::Frame { start, payload } => out.extend_from_slice(&map.data[*start..payload.end]),
                Piece::Damaged(damage) => {
                    let positions: Vec<Position> = (damage.first_at_risk..damage.next_valid).collect();
                    for group in positions.chunks(FRAME_RECORDS) {
                        let mut frame = FrameBuilder::new();
                        for position in group {
                            let bytes = salvaged
                                .get(position)
                                .or_else(|| from_sled.get(position))
                                .or_else(|| placeholders.get(position))
                                .ok_or_else(|| {
                                    refused(format!("internal: no record chosen for position {position}"))
                                })?;
                            frame.push(bytes);
                        }
                        out.extend_from_slice(&frame.finish());
                    }
                }
            }
        }
        out.extend_from_slice(&map.data[map.torn_from..]);
        rewrites.push((map.path.clone(), out));
    }

    let in_range = |p: &&Position| at_risk.contains_key(p);
    Ok(Plan {
        kept,
        salvaged: salvaged.keys().filter(in_range).copied().collect(),
        from_sled: from_sled.keys().copied().collect(),
        lost,
        lost_versions,
        torn_tail_bytes,
        rewrites,
    })
}

fn unexplained(gap: &Gap, version: StreamVersion) -> StoreError {
    let after = gap
        .after
        .map_or_else(|| "its start".to_owned(), |a| format!("position {a}"));
    refused(format!(
        "{} lacks version {version} between {after} and position {}, and no position lost there could have held it: \
         this is not damage of the write-ahead files (restore the folder from a backup)",
        gap.stream, gap.before
    ))
}
