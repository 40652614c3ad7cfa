//! Payloads of schema version 1, from before personal data was sealed:
//! each personal value was written bare (no clear-or-sealed tag). Only
//! three stored events held personal values then (`Received`,
//! `OwnerRegistered`, `ContactChanged`); they are read here through
//! mirrors of their version 1 layout, chosen by the stored name and the
//! schema version the log records, and turned into today's events with
//! their values in clear (so they cannot be erased by destroying a key).
//! Every other event of version 1 has no personal value and reads as
//! today's. Nothing here is written any more; the committed fixtures of
//! version 1 (`tests/fixtures/events/v1/`) pin it.

use chrono::{DateTime, Utc};
use domain::actor::Actor;
use domain::archive::OwnerEvent;
use domain::decider::Stamped;
use domain::ids::{OwnerId, TicketId};
use domain::personal::{IdNumber, PersonName, Personal, PhoneNumber, TextSeal};
use domain::policy::ClockSetup;
use domain::ticket::{Category, Channel, HandoverRecord, Location, Priority, Reporter, TicketEvent, TicketKind, Trade};
use eventlog::codec::{self, CodecError};
use serde::Deserialize;

/// How a stored event type reads a version 1 payload.
pub trait Schema1: Sized {
    /// `Some`: the event `event_type` of version 1 had personal values
    /// and reads through its version 1 layout; `None`: it reads as today's.
    fn decode_schema_1(event_type: &str, payload: &[u8]) -> Option<Result<Stamped<Self>, CodecError>>;
}

/// `Stamped` as version 1 stored it: the same fields, the event a mirror.
#[derive(Deserialize)]
struct StampedV1<E> {
    occurred_at: DateTime<Utc>,
    actor: Actor,
    channel: Channel,
    event: E,
    text_seals: Vec<TextSeal>,
}

impl<E> StampedV1<E> {
    fn into_current<T>(self, event: impl FnOnce(E) -> Result<T, CodecError>) -> Result<Stamped<T>, CodecError> {
        Ok(Stamped {
            occurred_at: self.occurred_at,
            actor: self.actor,
            channel: self.channel,
            event: event(self.event)?,
            text_seals: self.text_seals,
        })
    }
}

fn read<E: serde::de::DeserializeOwned>(event_type: &str, payload: &[u8]) -> Result<StampedV1<E>, CodecError> {
    codec::decode::<StampedV1<E>>(event_type, 1, payload)
}

/// `TicketEvent` as version 1 stored it: `Received` is its first variant,
/// the only one with personal values.
#[derive(Deserialize)]
enum TicketEventV1 {
    Received {
        ticket: TicketId,
        kind: TicketKind,
        channel: Channel,
        reporter: ReporterV1,
        location: Location,
        category: Category,
        trade: Trade,
        description: String,
        attachments: Vec<String>,
        priority: Priority,
        handover: Option<HandoverRecord>,
        clocks: ClockSetup,
    },
}

/// A reporter with bare personal values.
#[derive(Deserialize)]
struct ReporterV1 {
    owner: Option<OwnerId>,
    name: PersonName,
    phone: PhoneNumber,
}

impl Schema1 for TicketEvent {
    fn decode_schema_1(event_type: &str, payload: &[u8]) -> Option<Result<Stamped<Self>, CodecError>> {
        if event_type != "Received" {
            return None;
        }
        Some(read::<TicketEventV1>(event_type, payload).and_then(|stamped| {
            stamped.into_current(
                |TicketEventV1::Received {
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
                 }| {
                    Ok(TicketEvent::Received {
                        ticket,
                        kind,
                        channel,
                        reporter: Reporter {
                            owner: reporter.owner,
                            name: Personal::new(reporter.name),
                            phone: Personal::new(reporter.phone),
                        },
                        location,
                        category,
                        trade,
                        description,
                        attachments,
                        priority,
                        handover,
                        clocks,
                    })
                },
            )
        }))
    }
}

/// `OwnerEvent` as version 1 stored it, up to `ContactChanged` (its third
/// variant); the second has no personal value and is never read here.
#[derive(Deserialize)]
enum OwnerEventV1 {
    OwnerRegistered {
        owner: OwnerId,
        name: PersonName,
        phone: PhoneNumber,
        id_number: Option<IdNumber>,
    },
    #[allow(dead_code)]
    OwnerLinkedToUnit,
    ContactChanged {
        phone: PhoneNumber,
    },
}

impl Schema1 for OwnerEvent {
    fn decode_schema_1(event_type: &str, payload: &[u8]) -> Option<Result<Stamped<Self>, CodecError>> {
        if !matches!(event_type, "OwnerRegistered" | "ContactChanged") {
            return None;
        }
        Some(read::<OwnerEventV1>(event_type, payload).and_then(|stamped| {
            stamped.into_current(|event| match event {
                OwnerEventV1::OwnerRegistered {
                    owner,
                    name,
                    phone,
                    id_number,
                } => Ok(OwnerEvent::OwnerRegistered {
                    owner,
                    name: Personal::new(name),
                    phone: Personal::new(phone),
                    id_number: id_number.map(Personal::new),
                }),
                OwnerEventV1::ContactChanged { phone } => Ok(OwnerEvent::ContactChanged {
                    phone: Personal::new(phone),
                }),
                OwnerEventV1::OwnerLinkedToUnit => Err(CodecError::Decode {
                    event_type: event_type.to_string(),
                    schema_version: 1,
                    reason: "an OwnerLinkedToUnit payload under another event's name".to_string(),
                }),
            })
        }))
    }
}

/// Types whose version 1 payloads had no personal values.
macro_rules! reads_as_today {
    ($($t:ty),*) => {$(
        impl Schema1 for $t {
            fn decode_schema_1(_: &str, _: &[u8]) -> Option<Result<Stamped<Self>, CodecError>> {
                None
            }
        }
    )*};
}

reads_as_today!(
    domain::archive::ProjectEvent,
    domain::archive::UnitEvent,
    domain::incident::IncidentEvent,
    domain::directory::ContractorEvent,
    domain::directory::EngineerEvent,
    domain::reference::ReferenceEvent
);
