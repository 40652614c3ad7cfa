//! Sealing new events: personal fields and the numbers found in free text,
//! for every stored event type ([`Sealable`]) and for encoded records.

use domain::archive::OwnerEvent;
use domain::decider::Stamped;
use domain::personal::{Personal, PersonalField, Sealed, TextSeal};
use domain::ticket::TicketEvent;
use eventlog::codec;
use keyring::Keyring;
use serde::Serialize;

use super::open::open_fields;
use super::subjects::reporter_subject;
use super::PrivacyError;

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

/// A placeholder tag: 12 random lower-case letters.
fn new_tag() -> String {
    uuid::Uuid::new_v4()
        .as_bytes()
        .iter()
        .take(12)
        .map(|b| char::from(b'a' + b % 26))
        .collect()
}

/// Finds the mobile and resident ID numbers in `texts`, seals each for
/// `subject` and puts a placeholder in its place; returns the sealed
/// pieces.
pub fn seal_texts(ring: &Keyring, subject: &str, texts: Vec<&mut String>) -> Result<Vec<TextSeal>, PrivacyError> {
    let mut seals = Vec::new();
    for text in texts {
        let found = domain::personal::find_personal(text);
        if found.is_empty() {
            continue;
        }
        let mut out = String::with_capacity(text.len());
        let mut last = 0;
        for f in found {
            out.push_str(&text[last..f.start]);
            let (nonce, ciphertext) = ring.seal(subject, &text.as_bytes()[f.start..f.end])?;
            let tag = new_tag();
            out.push_str(&domain::personal::placeholder(&tag));
            seals.push(TextSeal {
                tag,
                kind: f.kind,
                sealed: Sealed {
                    subject: subject.to_string(),
                    nonce,
                    ciphertext,
                },
            });
            last = f.end;
        }
        out.push_str(&text[last..]);
        *text = out;
    }
    Ok(seals)
}

/// Events whose personal data is sealed before they are stored.
pub trait Sealable: Sized {
    /// Seals the personal data of `events`, about to be appended to the
    /// stream of record `record` (`T-1`, `O-1`) whose `history` (opened)
    /// they follow: the clear personal fields and, for tickets, the mobile
    /// and ID numbers typed into free text.
    fn seal_new(
        events: &mut [Stamped<Self>],
        history: &[Stamped<Self>],
        ring: &Keyring,
        record: &str,
    ) -> Result<(), PrivacyError>;
    /// Opens the event's sealed personal fields whose keys are there.
    fn open(&mut self, ring: &Keyring) -> Result<(), PrivacyError>;
}

impl Sealable for TicketEvent {
    fn seal_new(
        events: &mut [Stamped<Self>],
        history: &[Stamped<Self>],
        ring: &Keyring,
        record: &str,
    ) -> Result<(), PrivacyError> {
        let mut reporter = history.iter().find_map(|e| e.event.reporter().cloned());
        for stamped in events {
            let (subject, new_pseudonym) = match stamped.event.reporter() {
                Some(r) => (reporter_subject(ring, r, record, true)?, true),
                None => match &reporter {
                    Some(r) => (reporter_subject(ring, r, record, false)?, false),
                    None => (format!("ticket-{record}"), false),
                },
            };
            if new_pseudonym {
                reporter = stamped.event.reporter().cloned();
            }
            seal_fields(ring, &subject, stamped.event.personal_fields())?;
            let seals = seal_texts(ring, &subject, stamped.event.free_text_mut())?;
            stamped.text_seals.extend(seals);
        }
        Ok(())
    }

    fn open(&mut self, ring: &Keyring) -> Result<(), PrivacyError> {
        open_fields(ring, self.personal_fields())
    }
}

impl Sealable for OwnerEvent {
    fn seal_new(
        events: &mut [Stamped<Self>],
        _history: &[Stamped<Self>],
        ring: &Keyring,
        record: &str,
    ) -> Result<(), PrivacyError> {
        let subject = format!("owner-{record}");
        for stamped in events {
            seal_fields(ring, &subject, stamped.event.personal_fields())?;
        }
        Ok(())
    }

    fn open(&mut self, ring: &Keyring) -> Result<(), PrivacyError> {
        open_fields(ring, self.personal_fields())
    }
}

macro_rules! nothing_personal {
    ($($t:ty),*) => {$(
        impl Sealable for $t {
            fn seal_new(_: &mut [Stamped<Self>], _: &[Stamped<Self>], _: &Keyring, _: &str) -> Result<(), PrivacyError> {
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
    domain::directory::EngineerEvent,
    domain::reference::ReferenceEvent
);

/// Seals the personal data of a log record about to be appended to
/// `stream` (for writers that hold encoded records, such as the demo
/// generator): decodes it, seals, encodes it again. Without the ticket's
/// history at hand, personal data in the free text of a ticket event
/// other than `Received` is sealed for the ticket itself.
pub fn seal_record(
    ring: &Keyring,
    stream: &eventlog::StreamId,
    event: &mut eventlog::NewEvent,
) -> Result<(), crate::wire::WireError> {
    use crate::wire::{self, DomainEvent};
    let decoded = wire::decode_new(stream, event)?;
    let fail = |e: PrivacyError| crate::wire::WireError::Privacy(e.to_string());
    let payload = match decoded {
        DomainEvent::Ticket(id, e) => {
            let mut events = [e];
            TicketEvent::seal_new(&mut events, &[], ring, id.as_str()).map_err(fail)?;
            codec::encode(&events[0])?
        }
        DomainEvent::Owner(id, e) => {
            let mut events = [e];
            OwnerEvent::seal_new(&mut events, &[], ring, id.as_str()).map_err(fail)?;
            codec::encode(&events[0])?
        }
        _ => return Ok(()),
    };
    event.payload = payload;
    event.schema_version = wire::SCHEMA_VERSION;
    Ok(())
}
