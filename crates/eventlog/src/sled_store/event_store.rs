//! [`EventStore`] for [`SledEventStore`]: appends checked before they are
//! queued for the writer, and reads bounded by the visible head.

use std::collections::HashSet;

use async_trait::async_trait;
use chrono::DateTime;
use tokio::sync::watch;

use super::keys::*;
use super::{chunk, decode_record, lost, verify, SledEventStore, LOST_STREAM};
use crate::error::StoreError;
use crate::store::{EventIter, EventStore, VerifyReport};
use crate::types::{
    AppendOutcome, ExpectedVersion, NewEvent, Position, RecordedEvent, StreamAppend, StreamId, StreamVersion,
    MAX_EVENTS_PER_APPEND, MAX_EVENTS_PER_MULTI_APPEND, MAX_EVENT_TYPE_LEN, MAX_METADATA_FIELD_LEN, MAX_PAYLOAD_LEN,
};

/// The streaming `read_all` of the sled store: each record decoded as its
/// chunk is read.
struct StreamingReadAll {
    records: chunk::Records,
    done: bool,
}

impl Iterator for StreamingReadAll {
    type Item = Result<RecordedEvent, StoreError>;

    fn next(&mut self) -> Option<Self::Item> {
        if self.done {
            return None;
        }
        let result = match self.records.next()? {
            Ok((position, bytes)) => decode_record(position, bytes),
            Err(e) => Err(e),
        };
        self.done = result.is_err();
        Some(result)
    }
}

/// Checks one stream's events before queueing them, as `append` and each
/// part of `append_streams` need: not the reserved stream, the limits of
/// [`validate_append`]; and normalises `occurred_at` to what the envelope
/// keeps.
fn prepare_part(stream: &StreamId, events: &mut [NewEvent]) -> Result<(), StoreError> {
    if stream.as_str() == LOST_STREAM {
        return Err(StoreError::InvalidStreamId {
            stream: stream.to_string(),
            reason: "it is reserved for the placeholders a repair stores at lost positions",
        });
    }
    validate_append(events)?;
    // The envelope keeps microseconds; normalise now, so that a retry
    // compares equal to what was stored.
    for event in events {
        if let Some(t) = event.metadata.occurred_at {
            event.metadata.occurred_at = Some(DateTime::from_timestamp_micros(t.timestamp_micros()).unwrap_or(t));
        }
    }
    Ok(())
}

/// Checks what can be checked before queueing an append: no I/O.
fn validate_append(events: &[NewEvent]) -> Result<(), StoreError> {
    if events.is_empty() {
        return Err(StoreError::InvalidAppend("an append needs at least one event".into()));
    }
    if events.len() > MAX_EVENTS_PER_APPEND {
        return Err(StoreError::InvalidAppend(format!(
            "{} events in one append; at most {MAX_EVENTS_PER_APPEND}",
            events.len()
        )));
    }
    let mut ids = HashSet::with_capacity(events.len());
    for event in events {
        if !ids.insert(event.id) {
            return Err(StoreError::DuplicateIdInBatch { id: event.id });
        }
        if event.event_type.is_empty() || event.event_type.len() > MAX_EVENT_TYPE_LEN {
            return Err(StoreError::InvalidAppend(format!(
                "event {}: the type name must be 1 to {MAX_EVENT_TYPE_LEN} bytes",
                event.id
            )));
        }
        if event.payload.len() > MAX_PAYLOAD_LEN {
            return Err(StoreError::InvalidAppend(format!(
                "event {}: payload of {} bytes; at most {MAX_PAYLOAD_LEN}",
                event.id,
                event.payload.len()
            )));
        }
        let m = &event.metadata;
        for (name, value) in [("actor", &m.actor), ("role", &m.role), ("channel", &m.channel)] {
            if value.len() > MAX_METADATA_FIELD_LEN {
                return Err(StoreError::InvalidAppend(format!(
                    "event {}: {name} is {} bytes; at most {MAX_METADATA_FIELD_LEN}",
                    event.id,
                    value.len()
                )));
            }
        }
    }
    Ok(())
}

#[async_trait]
impl EventStore for SledEventStore {
    async fn append(
        &self,
        stream: &StreamId,
        expected: ExpectedVersion,
        mut events: Vec<NewEvent>,
    ) -> Result<AppendOutcome, StoreError> {
        prepare_part(stream, &mut events)?;
        let part = StreamAppend {
            stream: stream.clone(),
            expected,
            events,
        };
        self.submit(vec![part]).await?.pop().ok_or(StoreError::Closed)
    }

    async fn append_streams(&self, mut parts: Vec<StreamAppend>) -> Result<Vec<AppendOutcome>, StoreError> {
        if parts.is_empty() {
            return Err(StoreError::InvalidAppend(
                "a multi-stream append needs at least one part".into(),
            ));
        }
        let mut streams = HashSet::with_capacity(parts.len());
        let mut ids = HashSet::new();
        for part in &mut parts {
            if part.events.is_empty() {
                return Err(StoreError::InvalidAppend(format!(
                    "the part for stream {} has no events; every part needs at least one",
                    part.stream
                )));
            }
            if !streams.insert(part.stream.clone()) {
                return Err(StoreError::InvalidAppend(format!(
                    "stream {} appears in more than one part; give each stream one part with all its events",
                    part.stream
                )));
            }
            prepare_part(&part.stream, &mut part.events)?;
            for event in &part.events {
                if !ids.insert(event.id) {
                    return Err(StoreError::DuplicateIdInBatch { id: event.id });
                }
            }
        }
        if ids.len() > MAX_EVENTS_PER_MULTI_APPEND {
            return Err(StoreError::InvalidAppend(format!(
                "{} events in one multi-stream append; at most {MAX_EVENTS_PER_MULTI_APPEND} in all its parts \
                 together (they are written as one write-ahead frame)",
                ids.len()
            )));
        }
        self.submit(parts).await
    }

    fn read_stream(
        &self,
        stream: &StreamId,
        from_version: StreamVersion,
        limit: usize,
    ) -> Result<Vec<RecordedEvent>, StoreError> {
        if from_version == u64::MAX {
            // No stream can reach that version; counting past it would overflow.
            return Ok(Vec::new());
        }
        let visible = self.visible_len();
        let start = stream_key(stream.as_str(), from_version);
        let end = stream_key(stream.as_str(), u64::MAX);
        let mut out = Vec::new();
        let mut lookup = chunk::Lookup::default();
        let mut expected_version = from_version;
        for entry in self.inner.tree.range(start..=end) {
            if out.len() >= limit {
                break;
            }
            let (key, value) = entry?;
            let position = be_u64(&value).ok_or_else(|| StoreError::Corrupt {
                position: visible,
                reason: format!("unreadable stream index entry of {stream}"),
            })?;
            if position >= visible {
                break;
            }
            let version = parse_stream_key(&key).map(|(_, v)| v);
            // Versions a repair declared lost are the only gap allowed.
            while version.is_some_and(|v| v > expected_version)
                && lost::is_declared(&self.inner.declared, stream.as_str(), expected_version)
            {
                expected_version += 1;
            }
            let event = self.read_record(&mut lookup, position)?;
            if version != Some(expected_version)
                || event.stream() != stream.as_str()
                || event.stream_version != expected_version
            {
                return Err(StoreError::Corrupt {
                    position,
                    reason: format!(
                        "stream index of {stream} at version {expected_version} points to {} v{}",
                        event.stream(),
                        event.stream_version
                    ),
                });
            }
            out.push(event);
            expected_version += 1;
        }
        Ok(out)
    }

    fn stream_version(&self, stream: &StreamId) -> Result<Option<StreamVersion>, StoreError> {
        let visible = self.visible_len();
        for entry in self.inner.tree.scan_prefix(stream_prefix(stream.as_str())).rev() {
            let (key, value) = entry?;
            let position = be_u64(&value).unwrap_or(u64::MAX);
            if position < visible {
                return Ok(parse_stream_key(&key).map(|(_, v)| v));
            }
        }
        Ok(None)
    }

    fn read_all_batch(&self, from: Position, limit: usize) -> Result<Vec<RecordedEvent>, StoreError> {
        let visible = self.visible_len();
        if from >= visible || limit == 0 {
            return Ok(Vec::new());
        }
        let end = from.saturating_add(limit as u64).min(visible);
        let mut out = Vec::with_capacity(((end - from) as usize).min(crate::store::READ_BATCH));
        // On damage, the events before it are returned first; the next read
        // starts at the damaged position and reports it.
        for record in chunk::Records::new(&self.inner.tree, from, end) {
            let decoded = record.and_then(|(position, bytes)| decode_record(position, bytes));
            match decoded {
                Ok(event) => out.push(event),
                Err(_) if !out.is_empty() => return Ok(out),
                Err(e) => return Err(e),
            }
        }
        Ok(out)
    }

    /// Streams straight from one sled range: each chunk is read once and
    /// each event decoded as it is reached and dropped by the caller before
    /// the next, so replay holds no batch in memory and pays no seek per
    /// batch.
    fn read_all(&self, from: Position) -> EventIter<'_> {
        let end = self.visible_len().max(from);
        Box::new(StreamingReadAll {
            records: chunk::Records::new(&self.inner.tree, from, end),
            done: false,
        })
    }

    fn head(&self) -> Option<Position> {
        self.visible_len().checked_sub(1)
    }

    fn watch_head(&self) -> watch::Receiver<Option<Position>> {
        self.inner.head_rx.clone()
    }

    fn verify(&self) -> Result<VerifyReport, StoreError> {
        verify::verify(&self.inner.tree, self.visible_len())
    }
}
