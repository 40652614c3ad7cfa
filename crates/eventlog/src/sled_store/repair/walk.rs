//! The walk of the whole log in position order: each stream's last
//! version, the gaps in streams' versions, the versions earlier repairs
//! declared lost, and the placeholders of this repair.

use std::collections::{BTreeMap, HashMap};

use chrono::{DateTime, Utc};

use super::refused;
use crate::envelope;
use crate::error::StoreError;
use crate::sled_store::lost::{Declared, LostPosition, LOST_STREAM};
use crate::types::{Position, RecordedEvent, StreamVersion};

/// A placeholder to store at a lost position.
pub(super) struct Placeholder {
    pub(super) version: StreamVersion,
    pub(super) recorded_at: Option<DateTime<Utc>>,
    /// The damaged region (file and region) that held the position.
    pub(super) damage: (usize, usize),
    pub(super) declares: Vec<(String, StreamVersion)>,
}

/// Versions `from..to` of `stream` missing between the positions `after`
/// (of its last version before, if any) and `before` (of the version
/// after).
pub(super) struct Gap {
    pub(super) stream: String,
    pub(super) from: StreamVersion,
    pub(super) to: StreamVersion,
    pub(super) after: Option<Position>,
    pub(super) before: Position,
}

/// The walk of the whole log in position order: each stream's last
/// version, the gaps in streams' versions, the versions earlier repairs
/// declared lost, and the placeholders of this repair.
#[derive(Default)]
pub(super) struct Walk {
    pub(super) streams: HashMap<String, (StreamVersion, Position)>,
    pub(super) gaps: Vec<Gap>,
    pub(super) declared: Declared,
    pub(super) placeholders: BTreeMap<Position, Placeholder>,
    /// Placeholders still waiting for a `recorded_at` (no record before
    /// them): they take the next record's.
    pub(super) undated: Vec<Position>,
    pub(super) last_recorded_at: Option<DateTime<Utc>>,
}

impl Walk {
    pub(super) fn record(&mut self, event: &RecordedEvent) -> Result<(), StoreError> {
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

    pub(super) fn lost(&mut self, position: Position, damage: (usize, usize)) {
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
pub(super) enum Source {
    Sled,
    Frame,
    Salvaged,
}

pub(super) fn decode_checked(position: Position, bytes: &[u8], source: Source) -> Result<RecordedEvent, StoreError> {
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

pub(super) fn unexplained(gap: &Gap, version: StreamVersion) -> StoreError {
    let after = gap
        .after
        .map_or_else(|| "its start".to_owned(), |a| format!("position {a}"));
    refused(format!(
        "{} lacks version {version} between {after} and position {}, and no position lost there could have held it: \
         this is not damage of the write-ahead files (restore the folder from a backup)",
        gap.stream, gap.before
    ))
}
