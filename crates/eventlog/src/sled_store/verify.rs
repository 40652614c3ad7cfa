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
//! Memory stays constant but for the versions declared lost (none, unless
//! a repair lost events): each check is a lookup, not a table in memory.

use super::chunk::{Lookup, Records};
use super::keys::*;
use super::lost::{self, is_declared};
use crate::envelope;
use crate::error::StoreError;
use crate::store::VerifyReport;
use crate::types::{Position, RecordedEvent};

fn corrupt(position: Position, reason: impl Into<String>) -> StoreError {
    StoreError::Corrupt {
        position,
        reason: reason.into(),
    }
}

fn record(tree: &sled::Tree, lookup: &mut Lookup, position: Position) -> Result<Option<RecordedEvent>, StoreError> {
    match lookup.record(tree, position)? {
        None => Ok(None),
        Some(bytes) => envelope::decode(position, bytes)
            .map(Some)
            .map_err(|reason| corrupt(position, reason)),
    }
}

fn index_position(tree: &sled::Tree, key: &[u8]) -> Result<Option<Position>, StoreError> {
    Ok(tree.get(key)?.and_then(|v| be_u64(&v)))
}

pub(super) fn verify(tree: &sled::Tree, visible_len: u64) -> Result<VerifyReport, StoreError> {
    let (declared, placeholders) = lost::declared(tree, visible_len, true)?;
    let mut report = VerifyReport {
        head: visible_len.checked_sub(1),
        lost: placeholders,
        ..VerifyReport::default()
    };

    // 1 and 2: the log, in position order.
    for entry in Records::new(tree, 0, visible_len) {
        let (position, bytes) = entry?;
        let event =
            envelope::decode_raw(position, bytes, envelope::Check::Full).map_err(|reason| corrupt(position, reason))?;
        let stream = event.stream();
        let version = event.stream_version;
        if index_position(tree, &stream_key(stream, version))? != Some(position) {
            return Err(corrupt(
                position,
                format!("stream index of {stream} at version {version} does not point here"),
            ));
        }
        if index_position(tree, &id_key(&event.id))? != Some(position) {
            return Err(corrupt(
                position,
                format!("id index of {} does not point here", event.id),
            ));
        }
        // The nearest earlier version, past any a repair declared lost.
        let mut earlier = version.checked_sub(1);
        loop {
            let Some(v) = earlier else {
                report.streams += 1;
                break;
            };
            match index_position(tree, &stream_key(stream, v))? {
                Some(previous) if previous < position => break,
                None if is_declared(&declared, stream, v) => earlier = v.checked_sub(1),
                _ => {
                    return Err(corrupt(
                        position,
                        format!("{stream} version {version} has no earlier version {v}"),
                    ))
                }
            }
        }
        report.events += 1;
    }

    // 3: the indexes, each entry back to its record.
    let mut lookup = Lookup::default();
    for entry in tree.scan_prefix([STREAM]) {
        let (key, value) = entry?;
        let position = be_u64(&value).ok_or_else(|| corrupt(visible_len, "unreadable stream index value"))?;
        if position >= visible_len {
            continue;
        }
        let (name, version) = parse_stream_key(&key).ok_or_else(|| corrupt(position, "unreadable stream index key"))?;
        match record(tree, &mut lookup, position)? {
            Some(e) if e.stream() == name && e.stream_version == version => {}
            _ => {
                return Err(corrupt(
                    position,
                    format!("stream index entry {name} v{version} points to a record of another event"),
                ))
            }
        }
    }
    for (stream, versions) in &declared {
        for version in versions {
            if let Some(position) = index_position(tree, &stream_key(stream, *version))? {
                if position < visible_len {
                    return Err(corrupt(
                        position,
                        format!("{stream} version {version} is here, yet a repair declared it lost"),
                    ));
                }
            }
        }
    }
    for entry in tree.scan_prefix([ID]) {
        let (key, value) = entry?;
        let position = be_u64(&value).ok_or_else(|| corrupt(visible_len, "unreadable id index value"))?;
        if position >= visible_len {
            continue;
        }
        match record(tree, &mut lookup, position)? {
            Some(e) if key.get(1..) == Some(e.id.as_bytes().as_slice()) => {}
            _ => return Err(corrupt(position, "id index entry points to a record of another event")),
        }
    }
    Ok(report)
}
