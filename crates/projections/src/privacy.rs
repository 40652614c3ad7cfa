//! Personal data in stored events: sealed under a key per data subject
//! ([`eventlog::keys::Keyring`]), so that erasing a person destroys one key
//! and leaves every history replayable (crypto-shredding, PIPL art. 47).
//!
//! Whose key seals a value:
//! - an owner's record (`owner-…` stream): the owner's (`owner-O-1`);
//! - a ticket's reporter: the owner's when the reporter is linked to one;
//!   otherwise the caller's phone number's (`phone-<pseudonym>`), so that
//!   erasing an owner also erases what they reported from that number
//!   without being linked; if that key was destroyed already, the
//!   ticket's own (`ticket-T-1`).
//!
//! The service seals events before it appends them and opens the ones it
//! reads back before deciding; views keep what the log holds (sealed), and
//! the API opens values only to show them. A value whose key was destroyed
//! stays sealed: it shows as erased.

use domain::archive::OwnerEvent;
use domain::ids::{OwnerId, TicketId};
use domain::personal::{Personal, PersonalField, Sealed};
use domain::ticket::TicketEvent;
use eventlog::codec;
use eventlog::keys::{KeyError, Keyring};
use serde::de::DeserializeOwned;
use serde::Serialize;

/// Sealing or opening failed.
#[derive(Debug, thiserror::Error)]
pub enum PrivacyError {
    /// The key store failed.
    #[error(transparent)]
    Keys(#[from] KeyError),
    /// A value could not be encoded or decoded.
    #[error(transparent)]
    Codec(#[from] codec::CodecError),
}

/// The subject of an owner's personal data.
pub fn owner_subject(owner: &OwnerId) -> String {
    format!("owner-{owner}")
}

/// The subject of a caller known by phone number.
pub fn phone_subject(ring: &Keyring, phone: &str) -> String {
    format!("phone-{}", ring.pseudonym(phone))
}

/// The subject of a ticket's reporter when no other applies.
pub fn ticket_subject(ticket: &TicketId) -> String {
    format!("ticket-{ticket}")
}

fn seal_one<T: Serialize>(ring: &Keyring, subject: &str, field: &mut Personal<T>) -> Result<(), PrivacyError> {
    let Some(value) = field.expose() else {
        return Ok(());
    };
    let plain = codec::encode(value)?;
    let (nonce, ciphertext) = ring.seal(subject, &plain)?;
    *field = Personal::sealed(Sealed {
        subject: subject.to_string(),
        nonce,
        ciphertext,
    });
    Ok(())
}

/// Seals every clear field of `fields` for `subject`.
pub fn seal_fields(ring: &Keyring, subject: &str, fields: Vec<PersonalField<'_>>) -> Result<(), PrivacyError> {
    for field in fields {
        match field {
            PersonalField::Name(f) => seal_one(ring, subject, f)?,
            PersonalField::Phone(f) => seal_one(ring, subject, f)?,
            PersonalField::IdNumber(f) => seal_one(ring, subject, f)?,
        }
    }
    Ok(())
}

/// The clear value of `field`: as it is if in clear, opened if sealed and
/// its key is there, `None` if its key was destroyed (erased).
pub fn open<T: DeserializeOwned + Clone>(ring: &Keyring, field: &Personal<T>) -> Result<Option<T>, PrivacyError> {
    if let Some(v) = field.expose() {
        return Ok(Some(v.clone()));
    }
    let Some(sealed) = field.as_sealed() else {
        return Ok(None);
    };
    match ring.unseal(&sealed.subject, &sealed.nonce, &sealed.ciphertext)? {
        Some(plain) => Ok(Some(codec::decode("personal value", 2, &plain)?)),
        None => Ok(None),
    }
}

fn open_one<T: DeserializeOwned + Clone>(ring: &Keyring, field: &mut Personal<T>) -> Result<(), PrivacyError> {
    if field.as_sealed().is_some() {
        if let Some(v) = open(ring, field)? {
            *field = Personal::new(v);
        }
    }
    Ok(())
}

/// Opens every sealed field of `fields` whose key is there; erased ones
/// stay sealed.
pub fn open_fields(ring: &Keyring, fields: Vec<PersonalField<'_>>) -> Result<(), PrivacyError> {
    for field in fields {
        match field {
            PersonalField::Name(f) => open_one(ring, f)?,
            PersonalField::Phone(f) => open_one(ring, f)?,
            PersonalField::IdNumber(f) => open_one(ring, f)?,
        }
    }
    Ok(())
}

/// Events whose personal fields are sealed before they are stored.
pub trait Sealable {
    /// Seals the event's clear personal fields; `record` is the stream's
    /// record id (`T-1`, `O-1`).
    fn seal(&mut self, ring: &Keyring, record: &str) -> Result<(), PrivacyError>;
    /// Opens the event's sealed personal fields whose keys are there.
    fn open(&mut self, ring: &Keyring) -> Result<(), PrivacyError>;
}

impl Sealable for TicketEvent {
    fn seal(&mut self, ring: &Keyring, record: &str) -> Result<(), PrivacyError> {
        let Some(reporter) = self.reporter() else {
            return Ok(());
        };
        let mut candidates = Vec::new();
        if let Some(owner) = &reporter.owner {
            candidates.push(owner_subject(owner));
        }
        if let Some(phone) = reporter.phone.expose() {
            candidates.push(phone_subject(ring, phone.as_str()));
        }
        let mut subject = format!("ticket-{record}");
        for candidate in candidates {
            if !ring.is_destroyed(&candidate)? {
                subject = candidate;
                break;
            }
        }
        seal_fields(ring, &subject, self.personal_fields())
    }

    fn open(&mut self, ring: &Keyring) -> Result<(), PrivacyError> {
        open_fields(ring, self.personal_fields())
    }
}

impl Sealable for OwnerEvent {
    fn seal(&mut self, ring: &Keyring, record: &str) -> Result<(), PrivacyError> {
        let subject = format!("owner-{record}");
        seal_fields(ring, &subject, self.personal_fields())
    }

    fn open(&mut self, ring: &Keyring) -> Result<(), PrivacyError> {
        open_fields(ring, self.personal_fields())
    }
}

macro_rules! nothing_personal {
    ($($t:ty),*) => {$(
        impl Sealable for $t {
            fn seal(&mut self, _: &Keyring, _: &str) -> Result<(), PrivacyError> {
                Ok(())
            }
            fn open(&mut self, _: &Keyring) -> Result<(), PrivacyError> {
                Ok(())
            }
        }
    )*};
}
nothing_personal!(
    domain::archive::ProjectEvent,
    domain::archive::UnitEvent,
    domain::incident::IncidentEvent,
    domain::directory::ContractorEvent,
    domain::directory::EngineerEvent
);

/// Seals the personal fields of a log record about to be appended to
/// `stream` (for writers that hold encoded records, such as the demo
/// generator): decodes it, seals, encodes it again.
pub fn seal_record(
    ring: &Keyring,
    stream: &eventlog::StreamId,
    event: &mut eventlog::NewEvent,
) -> Result<(), crate::wire::WireError> {
    use crate::wire::{self, DomainEvent};
    let decoded = wire::decode_new(stream, event)?;
    let fail = |e: PrivacyError| crate::wire::WireError::Privacy(e.to_string());
    let payload = match decoded {
        DomainEvent::Ticket(id, mut e) => {
            e.event.seal(ring, id.as_str()).map_err(fail)?;
            codec::encode(&e)?
        }
        DomainEvent::Owner(id, mut e) => {
            e.event.seal(ring, id.as_str()).map_err(fail)?;
            codec::encode(&e)?
        }
        _ => return Ok(()),
    };
    event.payload = payload;
    event.schema_version = wire::SCHEMA_VERSION;
    Ok(())
}
