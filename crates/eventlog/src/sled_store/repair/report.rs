//! What a repair found and did: [`RepairReport`], and its text (the
//! `report.txt` of the copy, and what `aftersales repair` prints).

use std::fmt;
use std::path::{Path, PathBuf};

use crate::sled_store::lost::LOST_STREAM;
use crate::sled_store::wal::WalDamage;
use crate::store::VerifyReport;
use crate::types::{Position, StreamVersion};

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
    pub(super) fn new(folder: &Path) -> Self {
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
