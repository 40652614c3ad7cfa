//! How domain events are stored in the log, and read back: one stream per
//! record (`ticket-T-1`, `project-HZ-1`, `unit-…`, `owner-…`,
//! `incident-…`, `contractor-…`, `engineer-…`, and the one reference record
//! `reference-data`), the event's stored name as the log's type, the whole
//! [`Stamped`] event as the payload (frozen codec, [`SCHEMA_VERSION`]), and
//! the audit facts copied into the log's metadata so that log-level tools
//! (`aftersales log read`) show who, which role, which channel and when.
//!
//! The API appends with [`to_new_event`]; projections read with
//! [`decode`].

use domain::archive::{OwnerEvent, ProjectEvent, UnitEvent};
use domain::decider::Stamped;
use domain::directory::{ContractorEvent, EngineerEvent};
use domain::ids::{ContractorId, IncidentId, OwnerId, ProjectId, TicketId, UnitId, UserId};
use domain::incident::IncidentEvent;
use domain::reference::ReferenceEvent;
use domain::ticket::TicketEvent;
use eventlog::codec::{self, CodecError};
use eventlog::{EventId, EventMetadata, NewEvent, RecordedEvent, StoreError, StreamId};
use serde::{de::DeserializeOwned, Serialize};

use crate::schema1::Schema1;

/// Schema version of every payload written today. Version 3 adds, after
/// the event, the personal data sealed out of its free text
/// ([`Stamped::text_seals`]); version 2 stores personal values in clear or
/// sealed (see [`crate::sealing`]); version 1 stored them bare and in
/// clear. Versions 1 and 2 are still read: their payload followed by an
/// empty list is the version 3 payload (bincode writes an empty list as
/// one zero byte), so they read with no sealed free text.
pub const SCHEMA_VERSION: u16 = 3;

/// A stored event could not be understood.
#[derive(Debug, thiserror::Error)]
pub enum WireError {
    /// The stream name does not belong to a known kind of record.
    #[error("stream {0:?} is not a ticket, project, unit, owner, incident, contractor, engineer or reference stream")]
    UnknownStream(String),
    /// The payload does not decode as the stream's events.
    #[error(transparent)]
    Codec(#[from] CodecError),
    /// The stream name is not valid for the log.
    #[error(transparent)]
    Store(#[from] StoreError),
    /// The stream's record id is not a valid identifier.
    #[error("stream {stream:?}: {reason}")]
    BadId {
        /// The stream.
        stream: String,
        /// Why.
        reason: String,
    },
    /// Personal fields could not be sealed.
    #[error("personal data: {0}")]
    Privacy(String),
    /// The log's type name disagrees with the payload.
    #[error("event at position {position} is stored as {stored} but holds {actual}")]
    TypeMismatch {
        /// Position.
        position: u64,
        /// The log's type name.
        stored: String,
        /// The payload's event name.
        actual: String,
    },
}

/// An event of one of the domain's aggregates, with the record it belongs
/// to.
// Decoded one at a time and dropped after folding: the size of the largest
// variant costs nothing worth a box.
#[allow(clippy::large_enum_variant)]
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum DomainEvent {
    /// A ticket event.
    Ticket(TicketId, Stamped<TicketEvent>),
    /// A project event.
    Project(ProjectId, Stamped<ProjectEvent>),
    /// A unit event.
    Unit(UnitId, Stamped<UnitEvent>),
    /// An owner event.
    Owner(OwnerId, Stamped<OwnerEvent>),
    /// An incident event.
    Incident(IncidentId, Stamped<IncidentEvent>),
    /// A contractor company's event.
    Contractor(ContractorId, Stamped<ContractorEvent>),
    /// An engineer's event.
    Engineer(UserId, Stamped<EngineerEvent>),
    /// A publication of reference data (`reference-data`).
    Reference(Stamped<ReferenceEvent>),
}

impl DomainEvent {
    /// The stored event name.
    pub fn name(&self) -> &'static str {
        match self {
            DomainEvent::Ticket(_, e) => e.event.name(),
            DomainEvent::Project(_, e) => e.event.name(),
            DomainEvent::Unit(_, e) => e.event.name(),
            DomainEvent::Owner(_, e) => e.event.name(),
            DomainEvent::Incident(_, e) => e.event.name(),
            DomainEvent::Contractor(_, e) => e.event.name(),
            DomainEvent::Engineer(_, e) => e.event.name(),
            DomainEvent::Reference(e) => e.event.name(),
        }
    }
}

/// The kinds of record with a stream each.
pub trait StreamKind {
    /// Stream name prefix, with its dash.
    const PREFIX: &'static str;
}

macro_rules! stream_kind {
    ($id:ty, $prefix:literal) => {
        impl StreamKind for $id {
            const PREFIX: &'static str = $prefix;
        }
    };
}
stream_kind!(TicketId, "ticket-");
stream_kind!(ProjectId, "project-");
stream_kind!(UnitId, "unit-");
stream_kind!(OwnerId, "owner-");
stream_kind!(IncidentId, "incident-");
stream_kind!(ContractorId, "contractor-");
stream_kind!(UserId, "engineer-");

/// The stream of a record: `ticket-T-1`.
pub fn stream_of<I: StreamKind + std::fmt::Display>(id: &I) -> Result<StreamId, StoreError> {
    StreamId::new(format!("{}{id}", I::PREFIX))
}

/// Events that know their stored name.
pub trait StoredName {
    /// The stored name.
    fn stored_name(&self) -> &'static str;
}

impl StoredName for TicketEvent {
    fn stored_name(&self) -> &'static str {
        self.name()
    }
}
impl StoredName for ProjectEvent {
    fn stored_name(&self) -> &'static str {
        self.name()
    }
}
impl StoredName for UnitEvent {
    fn stored_name(&self) -> &'static str {
        self.name()
    }
}
impl StoredName for OwnerEvent {
    fn stored_name(&self) -> &'static str {
        self.name()
    }
}
impl StoredName for IncidentEvent {
    fn stored_name(&self) -> &'static str {
        self.name()
    }
}
impl StoredName for ContractorEvent {
    fn stored_name(&self) -> &'static str {
        self.name()
    }
}
impl StoredName for EngineerEvent {
    fn stored_name(&self) -> &'static str {
        self.name()
    }
}
impl StoredName for ReferenceEvent {
    fn stored_name(&self) -> &'static str {
        self.name()
    }
}

/// The stream of the reference record: `reference-data`.
pub fn reference_stream() -> Result<StreamId, StoreError> {
    StreamId::new(format!("reference-{}", domain::reference::RECORD))
}

/// The log record of a domain event. `id` makes a retried append
/// idempotent; `correlation` ties together the events of one request.
pub fn to_new_event<E: Serialize + StoredName>(
    event: &Stamped<E>,
    id: EventId,
    correlation: Option<uuid::Uuid>,
) -> Result<NewEvent, CodecError> {
    Ok(NewEvent {
        id,
        event_type: event.event.stored_name().to_string(),
        schema_version: SCHEMA_VERSION,
        payload: codec::encode(event)?,
        metadata: EventMetadata {
            actor: event.actor.user.to_string(),
            role: event.actor.role.as_str().to_string(),
            channel: event.channel.as_str().to_string(),
            occurred_at: Some(event.occurred_at),
            correlation_id: correlation,
            causation_id: None,
        },
    })
}

/// What a stored or about-to-be-stored event is made of.
struct Parts<'a> {
    stream: &'a str,
    event_type: &'a str,
    schema_version: u16,
    payload: &'a [u8],
    position: u64,
}

fn payload<E: DeserializeOwned + StoredName + Schema1>(parts: &Parts<'_>) -> Result<Stamped<E>, WireError> {
    let decode = |bytes: &[u8]| codec::decode::<Stamped<E>>(parts.event_type, parts.schema_version, bytes);
    // Before version 3 the payload ended with the event: no sealed free
    // text, which is one more zero byte.
    let extended = || {
        let mut bytes = Vec::with_capacity(parts.payload.len() + 1);
        bytes.extend_from_slice(parts.payload);
        bytes.push(0);
        bytes
    };
    let stamped = match parts.schema_version {
        // Personal values were bare then: the events that held them read
        // through their version 1 layout.
        1 => {
            let bytes = extended();
            match E::decode_schema_1(parts.event_type, &bytes) {
                Some(read) => read?,
                None => decode(&bytes)?,
            }
        }
        2 => decode(&extended())?,
        _ => decode(parts.payload)?,
    };
    let actual = stamped.event.stored_name();
    if actual != parts.event_type {
        return Err(WireError::TypeMismatch {
            position: parts.position,
            stored: parts.event_type.to_string(),
            actual: actual.to_string(),
        });
    }
    Ok(stamped)
}

fn id<I: std::str::FromStr<Err = domain::error::DomainError>>(stream: &str, rest: &str) -> Result<I, WireError> {
    rest.parse().map_err(|e: domain::error::DomainError| WireError::BadId {
        stream: stream.to_string(),
        reason: e.to_string(),
    })
}

/// Reads a stored event back as a domain event.
pub fn decode(recorded: &RecordedEvent) -> Result<DomainEvent, WireError> {
    decode_parts(&Parts {
        stream: recorded.stream(),
        event_type: recorded.event_type(),
        schema_version: recorded.schema_version,
        payload: recorded.payload(),
        position: recorded.position,
    })
}

/// Reads an event not yet appended to `stream` back as a domain event.
pub fn decode_new(stream: &StreamId, event: &NewEvent) -> Result<DomainEvent, WireError> {
    decode_parts(&Parts {
        stream: stream.as_str(),
        event_type: &event.event_type,
        schema_version: event.schema_version,
        payload: &event.payload,
        position: 0,
    })
}

fn decode_parts(parts: &Parts<'_>) -> Result<DomainEvent, WireError> {
    let stream = parts.stream;
    let (prefix, rest) = stream
        .split_once('-')
        .ok_or_else(|| WireError::UnknownStream(stream.to_string()))?;
    Ok(match prefix {
        "ticket" => DomainEvent::Ticket(id(stream, rest)?, payload(parts)?),
        "project" => DomainEvent::Project(id(stream, rest)?, payload(parts)?),
        "unit" => DomainEvent::Unit(id(stream, rest)?, payload(parts)?),
        "owner" => DomainEvent::Owner(id(stream, rest)?, payload(parts)?),
        "incident" => DomainEvent::Incident(id(stream, rest)?, payload(parts)?),
        "contractor" => DomainEvent::Contractor(id(stream, rest)?, payload(parts)?),
        "engineer" => DomainEvent::Engineer(id(stream, rest)?, payload(parts)?),
        "reference" if rest == domain::reference::RECORD => DomainEvent::Reference(payload(parts)?),
        _ => return Err(WireError::UnknownStream(stream.to_string())),
    })
}
