//! Positions a repair could not restore, and the stream versions it
//! declared lost.
//!
//! When [`super::repair`] finds events whose bytes are gone (neither a
//! valid frame, nor an envelope that still checks, nor sled holds them),
//! it keeps positions dense by storing a placeholder at each lost
//! position: an ordinary record of the reserved stream [`LOST_STREAM`],
//! type [`LOST_EVENT_TYPE`], whose payload ([`LostPosition`]) names the
//! repair and the damaged bytes. Views skip it (it is not a stream of the
//! domain). A lost event whose stream shows a later version leaves a gap
//! in that stream's versions; the repair declares each such stream
//! version in a placeholder's payload, and `verify` and `read_stream`
//! accept a gap in a stream's versions only where a placeholder declares
//! it. The declarations live in the log itself, so every copy of the log
//! carries them.

use std::collections::{BTreeSet, HashMap};

use serde::{Deserialize, Serialize};

use super::chunk::Lookup;
use super::keys::*;
use crate::error::StoreError;
use crate::sled_store::decode_record;
use crate::types::{Position, RecordedEvent, StreamVersion};

/// The reserved stream of the placeholders a repair stores at lost
/// positions. Appends to it are refused. Its name has no `-`, so no view
/// of the domain reads it.
pub const LOST_STREAM: &str = "$lost";

/// The event type of a placeholder in [`LOST_STREAM`].
pub const LOST_EVENT_TYPE: &str = "PositionLost";

/// The payload of a placeholder: which repair stored it, where the
/// damaged bytes were, and which stream versions the repair declared lost.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct LostPosition {
    /// The repair's number: its copy of the original files is the folder
    /// `repair-<number>` of the log's folder, with its report.
    pub repair: u32,
    /// The write-ahead file whose damaged bytes held the lost event (its
    /// name in the `wal` folder).
    pub file: String,
    /// Where the damaged bytes started in that file.
    pub damaged_from: u64,
    /// How many bytes were damaged.
    pub damaged_bytes: u64,
    /// Stream versions the repair found missing (a later version of the
    /// stream survived) and declares lost, each placed at a lost position
    /// that could have held it: the event at this position may be one of
    /// them, or another event the same repair lost.
    pub declares: Vec<(String, StreamVersion)>,
}

impl LostPosition {
    /// The placeholder's payload, if `event` is a placeholder; an error if
    /// it claims to be one and its payload does not decode.
    pub fn of(event: &RecordedEvent) -> Result<Option<Self>, crate::codec::CodecError> {
        if event.stream() != LOST_STREAM {
            return Ok(None);
        }
        crate::codec::decode(event.event_type(), event.schema_version, event.payload()).map(Some)
    }
}

/// Stream versions declared lost, by stream.
pub(super) type Declared = HashMap<String, BTreeSet<StreamVersion>>;

/// Whether `declared` holds version `version` of `stream`.
pub(super) fn is_declared(declared: &Declared, stream: &str, version: StreamVersion) -> bool {
    declared.get(stream).is_some_and(|versions| versions.contains(&version))
}

/// What the placeholders below `visible_len` declare, and how many there
/// are. With `strict`, an unreadable placeholder is `Corrupt` (what
/// `verify` wants); without, it is passed over (what opening wants: reads
/// then report the gap it would have declared).
pub(super) fn declared(tree: &sled::Tree, visible_len: u64, strict: bool) -> Result<(Declared, u64), StoreError> {
    let mut out = Declared::new();
    let mut count = 0;
    let mut lookup = Lookup::default();
    for entry in tree.scan_prefix(stream_prefix(LOST_STREAM)) {
        let read = entry.map_err(StoreError::from).and_then(|(_, value)| {
            let position: Position = be_u64(&value).ok_or_else(|| StoreError::Corrupt {
                position: visible_len,
                reason: format!("unreadable stream index entry of {LOST_STREAM}"),
            })?;
            if position >= visible_len {
                return Ok(None);
            }
            let bytes = lookup.record(tree, position)?.ok_or_else(|| StoreError::Corrupt {
                position,
                reason: format!("the stream index of {LOST_STREAM} points to a missing record"),
            })?;
            let event = decode_record(position, bytes)?;
            let lost = LostPosition::of(&event).map_err(|e| StoreError::Corrupt {
                position,
                reason: format!("unreadable placeholder of a repair: {e}"),
            })?;
            Ok(lost)
        });
        match read {
            Ok(Some(lost)) => {
                count += 1;
                for (stream, version) in lost.declares {
                    out.entry(stream).or_default().insert(version);
                }
            }
            Ok(None) => {}
            Err(e) if strict => return Err(e),
            Err(_) => {}
        }
    }
    Ok((out, count))
}
