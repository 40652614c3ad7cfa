//! Encoding as each version stored it, and reading back as the log's
//! readers do.

use domain::archive::OwnerEvent;
use domain::personal::Personal;
use domain::ticket::TicketEvent;
use eventformat::wire::{self, DomainEvent};
use eventlog::codec;
use eventlog::{EventId, EventMetadata, NewEvent};
use serde::Serialize;

// ---------------------------------------------------------------------------
// Encoding as each version stored it.

pub(crate) fn encode_current(event: &DomainEvent) -> Vec<u8> {
    let bytes = match event {
        DomainEvent::Ticket(_, e) => codec::encode(e),
        DomainEvent::Project(_, e) => codec::encode(e),
        DomainEvent::Unit(_, e) => codec::encode(e),
        DomainEvent::Owner(_, e) => codec::encode(e),
        DomainEvent::Incident(_, e) => codec::encode(e),
        DomainEvent::Contractor(_, e) => codec::encode(e),
        DomainEvent::Engineer(_, e) => codec::encode(e),
        DomainEvent::Reference(e) => codec::encode(e),
    };
    bytes.unwrap()
}

/// Version 2: the payload ended with the event (no `text_seals`).
pub(crate) fn schema_2_payload(event: &DomainEvent) -> Vec<u8> {
    let mut bytes = encode_current(event);
    assert_eq!(bytes.pop(), Some(0), "a version 2 sample has no sealed free text");
    bytes
}

pub(crate) fn encode_tuple<T: Serialize>(value: &T) -> Vec<u8> {
    codec::encode(value).unwrap()
}

/// Version 1: as version 2, with personal values bare. The events that
/// hold personal values are written field by field, in stored order.
pub(crate) fn schema_1_payload(event: &DomainEvent) -> Vec<u8> {
    fn bare<T>(p: &Personal<T>) -> &T {
        p.expose().expect("a version 1 sample holds personal values in clear")
    }
    match event {
        DomainEvent::Ticket(_, e) => match &e.event {
            TicketEvent::Received {
                ticket,
                kind,
                channel,
                reporter,
                location,
                category,
                trade,
                description,
                attachments,
                priority,
                handover,
                clocks,
            } => {
                let reporter = (&reporter.owner, bare(&reporter.name), bare(&reporter.phone));
                // Variant 0 of `TicketEvent`, then its fields.
                let event = (
                    0u32,
                    ticket,
                    kind,
                    channel,
                    reporter,
                    location,
                    category,
                    trade,
                    description,
                    attachments,
                    priority,
                    handover,
                    clocks,
                );
                encode_tuple(&(&e.occurred_at, &e.actor, &e.channel, event))
            }
            _ => schema_2_payload(event),
        },
        DomainEvent::Owner(_, e) => match &e.event {
            OwnerEvent::OwnerRegistered {
                owner,
                name,
                phone,
                id_number,
            } => {
                let event = (0u32, owner, bare(name), bare(phone), id_number.as_ref().map(bare));
                encode_tuple(&(&e.occurred_at, &e.actor, &e.channel, event))
            }
            OwnerEvent::ContactChanged { phone } => {
                let event = (2u32, bare(phone));
                encode_tuple(&(&e.occurred_at, &e.actor, &e.channel, event))
            }
            _ => schema_2_payload(event),
        },
        _ => schema_2_payload(event),
    }
}

pub(crate) fn payload_of(version: u16, event: &DomainEvent) -> Vec<u8> {
    match version {
        1 => schema_1_payload(event),
        2 => schema_2_payload(event),
        _ => encode_current(event),
    }
}

pub(crate) fn stream_of(event: &DomainEvent) -> eventlog::StreamId {
    match event {
        DomainEvent::Ticket(id, _) => wire::stream_of(id),
        DomainEvent::Project(id, _) => wire::stream_of(id),
        DomainEvent::Unit(id, _) => wire::stream_of(id),
        DomainEvent::Owner(id, _) => wire::stream_of(id),
        DomainEvent::Incident(id, _) => wire::stream_of(id),
        DomainEvent::Contractor(id, _) => wire::stream_of(id),
        DomainEvent::Engineer(id, _) => wire::stream_of(id),
        DomainEvent::Reference(_) => wire::reference_stream(),
    }
    .unwrap()
}

/// Reads stored bytes back as the log's readers do.
pub(crate) fn read_back(
    version: u16,
    name: &str,
    stream: &eventlog::StreamId,
    payload: &[u8],
) -> Result<DomainEvent, String> {
    let stored = NewEvent {
        id: EventId(uuid::Uuid::nil()),
        event_type: name.to_string(),
        schema_version: version,
        payload: payload.to_vec(),
        metadata: EventMetadata::default(),
    };
    wire::decode_new(stream, &stored).map_err(|e| e.to_string())
}
