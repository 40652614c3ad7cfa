//! `verify`: a full walk of the store that trusts nothing.
//!
//! 1. Every position below the visible head has a record whose checksum,
//!    layout and stored position are right, in a chunk whose header is
//!    right, with no gap and no overlap between chunks.
//! 2. Every record is reachable from the stream index at its version and
//!    from the id index, and its stream's previous version sits at an
//!    earlier position (so versions are dense), except for versions a
//!    repair declared lost ([`super::lost`]): the nearest earlier version
//!    not declared lost sits at an earlier position.
//! 3. Every stream-index and id-index entry points back to a record that
//!    names it, and no stream version declared lost is in the stream
//!    index.
//!
//! One ordered pass over each of the three key ranges (records, stream
//! index, id index), no lookup per record: the walk over the records keeps
//! each one's stream, version and id (about 32 bytes a record, plus each
//! stream's name once), and the indexes are checked against that table
//! and marked off in bitmaps. Memory and time grow linearly with the log.

use std::collections::HashMap;

use super::chunk::Records;
use super::keys::*;
use super::lost::{self, is_declared};
use crate::envelope;
use crate::error::StoreError;
use crate::store::VerifyReport;
use crate::types::Position;

fn corrupt(position: Position, reason: impl Into<String>) -> StoreError {
    StoreError::Corrupt {
        position,
        reason: reason.into(),
    }
}

/// What the walk over the records keeps of each, to check the indexes
/// against without looking anything up.
struct Seen {
    stream: u32,
    version: u64,
    id: [u8; 16],
}

/// One bit per position.
struct Marks(Vec<u64>);

impl Marks {
    fn new(len: usize) -> Self {
        Self(vec![0; len.div_ceil(64)])
    }

    /// Marks `i`; returns whether it was marked before.
    fn mark(&mut self, i: usize) -> bool {
        let (word, bit) = (i / 64, 1u64 << (i % 64));
        let before = self.0[word] & bit != 0;
        self.0[word] |= bit;
        before
    }

    /// The first position below `len` left unmarked.
    fn first_unmarked(&self, len: usize) -> Option<usize> {
        self.0.iter().enumerate().find_map(|(w, bits)| {
            (*bits != u64::MAX)
                .then(|| w * 64 + bits.trailing_ones() as usize)
                .filter(|i| *i < len)
        })
    }
}

fn position_of(value: &[u8], visible_len: u64) -> Result<Position, StoreError> {
    be_u64(value).ok_or_else(|| corrupt(visible_len, "unreadable index value"))
}

pub(super) fn verify(tree: &sled::Tree, visible_len: u64) -> Result<VerifyReport, StoreError> {
    let (declared, placeholders) = lost::declared(tree, visible_len, true)?;
    let mut report = VerifyReport {
        head: visible_len.checked_sub(1),
        lost: placeholders,
        ..VerifyReport::default()
    };
    let len = usize::try_from(visible_len).map_err(|_| corrupt(0, "the log is longer than this machine can verify"))?;

    // 1: the log, in position order; each record's stream, version and id
    // kept for the indexes.
    let mut numbers: HashMap<String, u32> = HashMap::new();
    let mut names: Vec<String> = Vec::new();
    let mut seen: Vec<Seen> = Vec::with_capacity(len);
    for entry in Records::new(tree, 0, visible_len) {
        let (position, bytes) = entry?;
        if position != seen.len() as u64 {
            return Err(corrupt(seen.len() as u64, "no record at this position"));
        }
        let event =
            envelope::decode_raw(position, bytes, envelope::Check::Full).map_err(|reason| corrupt(position, reason))?;
        let stream = match numbers.get(event.stream()) {
            Some(n) => *n,
            None => {
                let n = u32::try_from(names.len()).map_err(|_| corrupt(position, "more streams than verify counts"))?;
                numbers.insert(event.stream().to_owned(), n);
                names.push(event.stream().to_owned());
                n
            }
        };
        seen.push(Seen {
            stream,
            version: event.stream_version,
            id: *event.id.as_bytes(),
        });
        report.events += 1;
    }
    if seen.len() != len {
        return Err(corrupt(seen.len() as u64, "no record at this position"));
    }

    // 2: the stream index, in key order (each stream's versions together,
    // in order): every entry below the head points to the record of its
    // stream and version, each stream's versions are dense (but for
    // versions a repair declared lost) at rising positions, and every
    // record is pointed to once.
    let mut by_stream = Marks::new(len);
    // The stream being walked: its number, last version and position.
    let mut current: Option<(u32, u64, Position)> = None;
    for entry in tree.scan_prefix([STREAM]) {
        let (key, value) = entry?;
        let position = position_of(&value, visible_len)?;
        if position >= visible_len {
            continue;
        }
        let (name, version) = parse_stream_key(&key).ok_or_else(|| corrupt(position, "unreadable stream index key"))?;
        if is_declared(&declared, &name, version) {
            return Err(corrupt(
                position,
                format!("{name} version {version} is here, yet a repair declared it lost"),
            ));
        }
        let record = &seen[position as usize];
        if numbers.get(&name) != Some(&record.stream) || record.version != version || by_stream.mark(position as usize)
        {
            return Err(corrupt(
                position,
                format!("stream index entry {name} v{version} points to a record of another event"),
            ));
        }
        // The versions between the last one seen of this stream (or 0)
        // and this one must all have been declared lost.
        let (from, after) = match current {
            Some((stream, last, at)) if stream == record.stream => (last + 1, Some(at)),
            _ => {
                report.streams += 1;
                (0, None)
            }
        };
        let missing = (from..version).find(|v| !is_declared(&declared, &name, *v));
        if missing.is_some() || after.is_some_and(|at| at >= position) {
            return Err(corrupt(
                position,
                format!(
                    "{name} version {version} has no earlier version {}",
                    missing.unwrap_or(version.saturating_sub(1))
                ),
            ));
        }
        current = Some((record.stream, version, position));
    }
    if let Some(p) = by_stream.first_unmarked(len) {
        let record = &seen[p];
        return Err(corrupt(
            p as u64,
            format!(
                "stream index of {} at version {} does not point here",
                names[record.stream as usize], record.version
            ),
        ));
    }

    // 3: the id index, in key order: every entry below the head points to
    // the record of its id, and every record is pointed to once.
    let mut by_id = Marks::new(len);
    for entry in tree.scan_prefix([ID]) {
        let (key, value) = entry?;
        let position = position_of(&value, visible_len)?;
        if position >= visible_len {
            continue;
        }
        if key.get(1..) != Some(seen[position as usize].id.as_slice()) || by_id.mark(position as usize) {
            return Err(corrupt(position, "id index entry points to a record of another event"));
        }
    }
    if let Some(p) = by_id.first_unmarked(len) {
        return Err(corrupt(
            p as u64,
            format!(
                "id index of {} does not point here",
                crate::types::EventId(uuid::Uuid::from_bytes(seen[p].id))
            ),
        ));
    }
    Ok(report)
}
