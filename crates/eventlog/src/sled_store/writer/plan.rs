//! How the writer plans a request: every part judged first (retries,
//! reused ids, expected versions), then all placed at consecutive
//! positions.

use chrono::{DateTime, Utc};

use super::{GroupState, Writer};
use crate::envelope;
use crate::error::StoreError;
use crate::sled_store::chunk;
use crate::sled_store::decode_record;
use crate::sled_store::keys::*;
use crate::sled_store::wal::FrameBuilder;
use crate::types::{AppendOutcome, NewEvent, Position, RecordedEvent, StreamAppend, StreamId, StreamVersion};

impl Writer {
    /// `recorded_at` for a group: now, at microsecond precision (what the
    /// envelope stores), never earlier than the last group's.
    pub(super) fn recorded_at(&self) -> DateTime<Utc> {
        let now = Utc::now();
        let now = DateTime::from_timestamp_micros(now.timestamp_micros()).unwrap_or(now);
        match self.last_recorded_at {
            Some(last) if last > now => last,
            _ => now,
        }
    }

    /// Plans one request in two phases. First every part is judged
    /// against the log and the group planned so far, changing nothing: a
    /// retry, a partial retry, a reused id, an unmet expected version.
    /// Only when every part passed are they all placed, at consecutive
    /// positions; placing cannot fail, so a request lands whole or not at
    /// all. The parts' streams are distinct, so placing one part cannot
    /// change what the check of another found.
    pub(super) fn plan(
        &mut self,
        state: &mut GroupState,
        parts: Vec<StreamAppend>,
        now: DateTime<Utc>,
    ) -> Result<Vec<AppendOutcome>, StoreError> {
        let mut retried = Vec::with_capacity(parts.len());
        for part in &parts {
            retried.push(self.deduplicate(state, &part.stream, &part.events)?);
        }
        let repeated = retried.iter().filter(|r| r.is_some()).count();
        if repeated == parts.len() {
            return Ok(retried.into_iter().flatten().collect());
        }
        // A retry resends the whole call: some parts present and others
        // not is neither a new call nor a retry of one.
        let mut existing = 0;
        let mut first = None;
        for (part, retry) in parts.iter().zip(&retried) {
            if let Some(outcome) = retry {
                existing += part.events.len();
                first = first.or(part
                    .events
                    .first()
                    .zip(outcome.positions.first())
                    .map(|(e, p)| (part, e.id, *p)));
            }
        }
        if let Some((part, first_existing, first_existing_position)) = first {
            return Err(StoreError::PartiallyWritten {
                stream: part.stream.clone(),
                existing,
                total: parts.iter().map(|p| p.events.len()).sum(),
                first_existing,
                first_existing_position,
            });
        }
        let mut heads = Vec::with_capacity(parts.len());
        for part in &parts {
            let actual = match state.heads.get(&part.stream) {
                Some(v) => Some(*v),
                None => self.stream_head(&part.stream)?,
            };
            if !part.expected.is_satisfied_by(actual) {
                return Err(StoreError::WrongExpectedVersion {
                    stream: part.stream.clone(),
                    expected: part.expected,
                    actual,
                });
            }
            heads.push(actual);
        }
        Ok(parts
            .into_iter()
            .zip(heads)
            .map(|(part, actual)| self.place(state, part.stream, actual, part.events, now))
            .collect())
    }

    /// Assigns positions and versions to one checked part and lays its
    /// records into the group's frame and overlay.
    fn place(
        &mut self,
        state: &mut GroupState,
        stream: StreamId,
        actual: Option<StreamVersion>,
        events: Vec<NewEvent>,
        now: DateTime<Utc>,
    ) -> AppendOutcome {
        let mut version = actual.map_or(0, |v| v + 1);
        let mut positions = Vec::with_capacity(events.len());
        for event in events {
            let position = self.next_position;
            let placement = envelope::Placement {
                position,
                stream: &stream,
                stream_version: version,
                recorded_at: now,
            };
            let bytes = sled::IVec::from(envelope::encode(&placement, &event));
            state.frame.get_or_insert_with(FrameBuilder::new).push(&bytes);
            state.index.push((stream_key(stream.as_str(), version), event.id));
            state.ids.insert(event.id, position);
            state.records.push(bytes);
            positions.push(position);
            self.next_position += 1;
            version += 1;
        }
        // Parts are never empty (checked before queueing).
        let last_version = version.saturating_sub(1);
        state.heads.insert(stream, last_version);
        AppendOutcome {
            positions,
            stream_version: last_version,
            deduplicated: false,
        }
    }

    /// Recognises a retried append: `Some` with the original positions when
    /// every id exists with the same content, `None` when none exists, and
    /// an error for anything in between.
    fn deduplicate(
        &self,
        state: &GroupState,
        stream: &StreamId,
        events: &[NewEvent],
    ) -> Result<Option<AppendOutcome>, StoreError> {
        let mut found = Vec::new();
        for event in events {
            let position = match state.ids.get(&event.id) {
                Some(p) => Some(*p),
                None => match self.tree.get(id_key(&event.id))? {
                    None => None,
                    Some(v) => Some(be_u64(&v).ok_or_else(|| StoreError::Corrupt {
                        position: self.next_position,
                        reason: format!("unreadable id index entry of {}", event.id),
                    })?),
                },
            };
            if let Some(position) = position {
                found.push((event, position));
            }
        }
        if found.is_empty() {
            return Ok(None);
        }
        let mut stream_version = 0;
        for (event, position) in &found {
            let stored = self.load(state, *position)?;
            if !stored.same_content_as(stream, event) {
                return Err(StoreError::IdReused {
                    id: event.id,
                    position: *position,
                });
            }
            stream_version = stream_version.max(stored.stream_version);
        }
        if found.len() != events.len() {
            let (first, position) = found[0];
            return Err(StoreError::PartiallyWritten {
                stream: stream.clone(),
                existing: found.len(),
                total: events.len(),
                first_existing: first.id,
                first_existing_position: position,
            });
        }
        Ok(Some(AppendOutcome {
            positions: found.iter().map(|(_, p)| *p).collect(),
            stream_version,
            deduplicated: true,
        }))
    }

    /// The last version of `stream` as applied to the tree: from the cache
    /// of recent streams, or the last entry of its stream-index range.
    fn stream_head(&mut self, stream: &StreamId) -> Result<Option<StreamVersion>, StoreError> {
        if let Some(v) = self.heads.get(stream) {
            return Ok(Some(*v));
        }
        match self.tree.scan_prefix(stream_prefix(stream.as_str())).next_back() {
            None => Ok(None),
            Some(entry) => {
                let (key, _) = entry?;
                let version = parse_stream_key(&key)
                    .map(|(_, v)| v)
                    .ok_or_else(|| StoreError::Corrupt {
                        position: self.next_position,
                        reason: format!("unreadable stream index key of {stream}"),
                    })?;
                Ok(Some(version))
            }
        }
    }

    /// A record written earlier, from this group's overlay or the tree.
    fn load(&self, state: &GroupState, position: Position) -> Result<RecordedEvent, StoreError> {
        if position >= state.start {
            if let Some(bytes) = state.records.get((position - state.start) as usize) {
                return decode_record(position, bytes.clone());
            }
        }
        let bytes = chunk::chunk_at(&self.tree, position)?
            .and_then(|c| c.record(position))
            .ok_or_else(|| StoreError::Corrupt {
                position,
                reason: "the id index points to a missing record".into(),
            })?;
        decode_record(position, bytes)
    }
}
