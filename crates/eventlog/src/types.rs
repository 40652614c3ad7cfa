//! The vocabulary of the log: streams, event ids, expectations, events to
//! append and events as recorded.

use std::fmt;

use chrono::{DateTime, Utc};
use uuid::Uuid;

use crate::error::StoreError;

/// A global position in the log. Positions start at 0 and are dense: the
/// n-th event ever appended has position n - 1.
pub type Position = u64;

/// A version within one stream. The first event of a stream has version 0;
/// versions are dense, but for versions a repair declared lost (see
/// [`crate::LostPosition`]).
pub type StreamVersion = u64;

/// Longest stream id, in bytes of UTF-8.
pub const MAX_STREAM_ID_LEN: usize = 256;
/// Longest event type name, in bytes of UTF-8.
pub const MAX_EVENT_TYPE_LEN: usize = 256;
/// Longest actor, role or channel in the metadata, in bytes of UTF-8.
pub const MAX_METADATA_FIELD_LEN: usize = 1024;
/// Largest payload of one event, in bytes. Records stay far below sled's
/// blob threshold (a quarter of a 512 KiB segment), so that every byte of an
/// event lives in sled's main `db` file, the file the store fsyncs.
pub const MAX_PAYLOAD_LEN: usize = 64 * 1024;
/// Most events one `append` call may carry.
pub const MAX_EVENTS_PER_APPEND: usize = 1000;
/// Most events of all the parts of one `append_streams` call together
/// (they are one write-ahead frame): a calendar publication settles every
/// open ticket's provisional clocks in the same call as it is recorded.
pub const MAX_EVENTS_PER_MULTI_APPEND: usize = 20_000;

/// The name of a stream: one aggregate's history, such as `ticket-42`.
///
/// Non-empty, at most [`MAX_STREAM_ID_LEN`] bytes, no control characters.
#[derive(Clone, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub struct StreamId(String);

impl StreamId {
    /// Checks and wraps a stream name.
    ///
    /// ```
    /// use eventlog::StreamId;
    /// assert!(StreamId::new("ticket-42").is_ok());
    /// assert!(StreamId::new("").is_err());
    /// ```
    pub fn new(name: impl Into<String>) -> Result<Self, StoreError> {
        let name = name.into();
        let reason = if name.is_empty() {
            Some("it is empty")
        } else if name.len() > MAX_STREAM_ID_LEN {
            Some("it is longer than 256 bytes")
        } else if name.chars().any(char::is_control) {
            Some("it contains a control character")
        } else {
            None
        };
        match reason {
            Some(reason) => Err(StoreError::InvalidStreamId {
                stream: name.chars().take(64).collect(),
                reason,
            }),
            None => Ok(Self(name)),
        }
    }

    /// The stream name as text.
    pub fn as_str(&self) -> &str {
        &self.0
    }
}

impl fmt::Display for StreamId {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.0)
    }
}

impl fmt::Debug for StreamId {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{:?}", self.0)
    }
}

/// The caller-chosen identity of one event; the key of idempotent appends.
///
/// A client that retries an append after a timeout sends the same ids, and
/// the log recognises the events it already holds.
#[derive(Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord, Debug)]
pub struct EventId(pub Uuid);

impl EventId {
    /// A fresh random id.
    pub fn new_random() -> Self {
        Self(Uuid::new_v4())
    }

    /// The id's 16 bytes.
    pub fn as_bytes(&self) -> &[u8; 16] {
        self.0.as_bytes()
    }
}

impl fmt::Display for EventId {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{}", self.0)
    }
}

/// What the caller believes about the stream it appends to: the optimistic
/// concurrency check of `append`.
#[derive(Clone, Copy, PartialEq, Eq, Debug)]
pub enum ExpectedVersion {
    /// No check: append whatever the stream holds.
    Any,
    /// The stream must not exist yet.
    NoStream,
    /// The stream must already hold at least one event.
    StreamExists,
    /// The stream's last event must have exactly this version.
    Exact(StreamVersion),
}

impl ExpectedVersion {
    /// Whether a stream whose last version is `actual` satisfies this
    /// expectation.
    pub fn is_satisfied_by(self, actual: Option<StreamVersion>) -> bool {
        match self {
            Self::Any => true,
            Self::NoStream => actual.is_none(),
            Self::StreamExists => actual.is_some(),
            Self::Exact(v) => actual == Some(v),
        }
    }
}

impl fmt::Display for ExpectedVersion {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Self::Any => f.write_str("any version"),
            Self::NoStream => f.write_str("no stream"),
            Self::StreamExists => f.write_str("an existing stream"),
            Self::Exact(v) => write!(f, "version {v}"),
        }
    }
}

/// Who did it, through which channel, when it really happened, and why:
/// the audit facts stored beside every event.
#[derive(Clone, PartialEq, Eq, Debug, Default)]
pub struct EventMetadata {
    /// The acting principal (user id, `system`, ...).
    pub actor: String,
    /// The actor's role when acting.
    pub role: String,
    /// The channel the action came through (hotline, app, ...).
    pub channel: String,
    /// When the action happened, if it differs from when it was recorded
    /// (a phone report typed after the call, an offline app syncing later).
    pub occurred_at: Option<DateTime<Utc>>,
    /// The id shared by every event caused by one request.
    pub correlation_id: Option<Uuid>,
    /// The id of the event or command that caused this one.
    pub causation_id: Option<Uuid>,
}

/// An event as a caller hands it to `append`.
#[derive(Clone, PartialEq, Eq, Debug)]
pub struct NewEvent {
    /// Caller-chosen identity; see [`EventId`].
    pub id: EventId,
    /// The stored type name. A contract with every byte on disk: never
    /// rename it; add a schema version and an upcaster instead.
    pub event_type: String,
    /// Version of the payload's schema, for upcasting.
    pub schema_version: u16,
    /// The payload bytes, usually from [`crate::codec::encode`].
    pub payload: Vec<u8>,
    /// Audit facts.
    pub metadata: EventMetadata,
}

/// One stream's part of an atomic multi-stream append
/// ([`crate::EventStore::append_streams`]): the events for `stream`, if the
/// stream matches `expected`.
#[derive(Clone, PartialEq, Eq, Debug)]
pub struct StreamAppend {
    /// The stream appended to.
    pub stream: StreamId,
    /// What the caller believes about the stream.
    pub expected: ExpectedVersion,
    /// The events, in order; at least one.
    pub events: Vec<NewEvent>,
}

/// An event as the log holds it.
///
/// It keeps the stored envelope's bytes (shared with sled's cache, never
/// copied on read) and reads its texts, payload and optional metadata
/// straight from them; the layout was checked once, when the record was
/// read. Replaying millions of events thus costs no allocation per field
/// and moves a small value.
#[derive(Clone, PartialEq, Eq)]
pub struct RecordedEvent {
    /// Global position.
    pub position: Position,
    /// Its version within the stream.
    pub stream_version: StreamVersion,
    /// Caller-chosen identity.
    pub id: EventId,
    /// When the log stored it (UTC; never decreases along positions).
    pub recorded_at: DateTime<Utc>,
    /// Payload schema version as written.
    pub schema_version: u16,
    /// Lengths of the stream id, type, actor, role and channel texts.
    pub(crate) text_lens: [u16; 5],
    /// Offset of the metadata flags byte in `raw`.
    pub(crate) flags_at: u32,
    /// Offset and length of the payload in `raw`.
    pub(crate) payload_at: u32,
    pub(crate) payload_len: u32,
    pub(crate) raw: sled::IVec,
}

impl RecordedEvent {
    fn text(&self, index: usize) -> &str {
        let mut start = crate::envelope::TEXTS_AT;
        for len in &self.text_lens[..index] {
            start += 2 + *len as usize;
        }
        start += 2;
        let end = start + self.text_lens[index] as usize;
        // The checksum vouches that these are the bytes written from a
        // `String`; `verify` checks the UTF-8 of every record as well.
        self.raw
            .get(start..end)
            .and_then(|b| std::str::from_utf8(b).ok())
            .unwrap_or_default()
    }

    fn flags(&self) -> u8 {
        self.raw.get(self.flags_at as usize).copied().unwrap_or_default()
    }

    /// The bytes of the optional field `flag` (occurred_at, correlation,
    /// causation, in that order after the flags byte), if present.
    fn optional(&self, flag: u8) -> Option<&[u8]> {
        let flags = self.flags();
        if flags & flag == 0 {
            return None;
        }
        let mut at = self.flags_at as usize + 1;
        for (bit, len) in crate::envelope::OPTIONAL_FIELDS {
            if bit == flag {
                return self.raw.get(at..at + len);
            }
            if flags & bit != 0 {
                at += len;
            }
        }
        None
    }

    /// The stream it belongs to.
    pub fn stream(&self) -> &str {
        self.text(0)
    }

    /// The stream it belongs to, as a [`StreamId`].
    pub fn stream_id(&self) -> StreamId {
        StreamId(self.stream().to_owned())
    }

    /// Stored type name.
    pub fn event_type(&self) -> &str {
        self.text(1)
    }

    /// The acting principal.
    pub fn actor(&self) -> &str {
        self.text(2)
    }

    /// The actor's role when acting.
    pub fn role(&self) -> &str {
        self.text(3)
    }

    /// The channel the action came through.
    pub fn channel(&self) -> &str {
        self.text(4)
    }

    /// When the action happened, if the caller said so.
    pub fn occurred_at(&self) -> Option<DateTime<Utc>> {
        let bytes: [u8; 8] = self.optional(crate::envelope::FLAG_OCCURRED)?.try_into().ok()?;
        DateTime::from_timestamp_micros(i64::from_be_bytes(bytes))
    }

    /// The id shared by every event caused by one request.
    pub fn correlation_id(&self) -> Option<Uuid> {
        let bytes: [u8; 16] = self.optional(crate::envelope::FLAG_CORRELATION)?.try_into().ok()?;
        Some(Uuid::from_bytes(bytes))
    }

    /// The id of the event or command that caused this one.
    pub fn causation_id(&self) -> Option<Uuid> {
        let bytes: [u8; 16] = self.optional(crate::envelope::FLAG_CAUSATION)?.try_into().ok()?;
        Some(Uuid::from_bytes(bytes))
    }

    /// Payload bytes as written.
    pub fn payload(&self) -> &[u8] {
        let start = self.payload_at as usize;
        self.raw
            .get(start..start + self.payload_len as usize)
            .unwrap_or_default()
    }

    /// The audit facts as one owned value.
    pub fn metadata(&self) -> EventMetadata {
        EventMetadata {
            actor: self.actor().to_owned(),
            role: self.role().to_owned(),
            channel: self.channel().to_owned(),
            occurred_at: self.occurred_at(),
            correlation_id: self.correlation_id(),
            causation_id: self.causation_id(),
        }
    }

    /// The stored envelope, exactly as on disk.
    pub fn envelope_bytes(&self) -> &[u8] {
        &self.raw
    }

    /// Whether this record holds the same content as `new` in `stream`:
    /// the test that tells a retried append from an id reused by mistake.
    /// Position, version and `recorded_at` are the log's, not the caller's,
    /// so they do not take part.
    pub fn same_content_as(&self, stream: &StreamId, new: &NewEvent) -> bool {
        let m = &new.metadata;
        self.stream() == stream.as_str()
            && self.id == new.id
            && self.event_type() == new.event_type
            && self.schema_version == new.schema_version
            && self.payload() == new.payload
            && self.actor() == m.actor
            && self.role() == m.role
            && self.channel() == m.channel
            && self.occurred_at() == m.occurred_at
            && self.correlation_id() == m.correlation_id
            && self.causation_id() == m.causation_id
    }
}

impl fmt::Debug for RecordedEvent {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("RecordedEvent")
            .field("position", &self.position)
            .field("stream", &self.stream())
            .field("stream_version", &self.stream_version)
            .field("id", &self.id)
            .field("event_type", &self.event_type())
            .field("schema_version", &self.schema_version)
            .field("recorded_at", &self.recorded_at)
            .field("metadata", &self.metadata())
            .field("payload_len", &self.payload().len())
            .finish()
    }
}

/// What a successful `append` tells the caller.
#[derive(Clone, PartialEq, Eq, Debug)]
pub struct AppendOutcome {
    /// The position of each event, in the order given.
    pub positions: Vec<Position>,
    /// The stream's version after the append (the last event's version).
    pub stream_version: StreamVersion,
    /// True when every event was already in the log (a retried append):
    /// nothing was written and the original positions are returned.
    pub deduplicated: bool,
}

impl AppendOutcome {
    /// The position of the last event appended: the one to wait for when
    /// reading one's own write.
    pub fn last_position(&self) -> Position {
        self.positions.last().copied().unwrap_or_default()
    }
}
