//! Personal data in stored events: sealed under a key per data subject
//! ([`keyring::Keyring`]), so that erasing a person destroys one key
//! and leaves every history replayable (crypto-shredding, PIPL art. 47).
//!
//! Whose key seals a value:
//! - an owner's record (`owner-…` stream): the owner's (`owner-O-1`);
//! - a ticket's reporter: the owner's when the reporter is linked to one;
//!   otherwise the caller's phone number's (`phone-<pseudonym>`, the
//!   pseudonym a random id the key folder links to the number until the
//!   number's subject is erased), so that erasing an owner also erases
//!   what they reported from that number without being linked; if that key
//!   was destroyed already, the ticket's own (`ticket-T-1`).
//! - mobile and resident ID numbers typed into a ticket's free text
//!   (descriptions, notes, comments …): the same subject as the ticket's
//!   reporter, found when the command is decided
//!   ([`domain::personal::find_personal`]); the text keeps a placeholder,
//!   the event the sealed piece ([`Stamped::text_seals`]).
//!
//! The service seals events before it appends them and opens the ones it
//! reads back before deciding; views keep what the log holds (sealed), and
//! the API opens values only to show them. A value whose key was destroyed
//! stays sealed: it shows as [`ERASED`]. A value whose key is missing
//! without an erasure (a damaged key folder) shows as [`KEY_MISSING`], is
//! logged as an error, and no new key is ever minted for its subject.

use domain::archive::OwnerEvent;
use domain::decider::Stamped;
use domain::ids::{OwnerId, TicketId};
use domain::personal::{Personal, PersonalField, Sealed, TextKind, TextSeal};
use domain::ticket::{Reporter, TicketEvent};
use eventlog::codec;
use eventlog::EventStore;
use keyring::{describe_subject, KeyError, Keyring, Unsealed};
use serde::de::DeserializeOwned;
use serde::Serialize;

/// Shown in place of a personal value that was erased.
pub const ERASED: &str = "[erased]";
/// Shown in place of a personal value whose key is missing from the key
/// folder without an erasure: damage, to be repaired from a backup.
pub const KEY_MISSING: &str = "[key missing]";
/// Shown in place of a personal value whose bytes do not open under its
/// key (altered).
pub const UNREADABLE: &str = "[unreadable]";

/// Sealing or opening failed.
#[derive(Debug, thiserror::Error)]
pub enum PrivacyError {
    /// The key store failed.
    #[error(transparent)]
    Keys(#[from] KeyError),
    /// A value could not be encoded or decoded.
    #[error(transparent)]
    Codec(#[from] codec::CodecError),
    /// The log could not be read.
    #[error(transparent)]
    Store(#[from] eventlog::StoreError),
}

/// The subject of an owner's personal data.
pub fn owner_subject(owner: &OwnerId) -> String {
    format!("owner-{owner}")
}

/// The subject of a caller known by phone number: `phone-` and the
/// number's pseudonym in the key folder, created on first use.
pub fn phone_subject(ring: &Keyring, phone: &str) -> Result<String, PrivacyError> {
    Ok(format!("phone-{}", ring.pseudonym_or_new(phone)?))
}

/// Every subject the key folder links to `phone` now: that of its
/// pseudonym, and, while the key folder keeps an earlier build's secret,
/// the one that build derived from the number.
pub fn phone_subjects(ring: &Keyring, phone: &str) -> Result<Vec<String>, PrivacyError> {
    let mut subjects = Vec::new();
    if let Some(p) = ring.pseudonym(phone)? {
        subjects.push(format!("phone-{p}"));
    }
    if let Some(p) = ring.legacy_pseudonym(phone) {
        let legacy = format!("phone-{p}");
        if !subjects.contains(&legacy) {
            subjects.push(legacy);
        }
    }
    Ok(subjects)
}

/// Unlinks `phone` from its subject once that subject's key is destroyed:
/// nothing left in the data folder then leads from the number to the
/// subject, and a later call from it gets a new subject.
pub fn forget_phone(ring: &Keyring, phone: &str) -> Result<bool, PrivacyError> {
    Ok(ring.forget_pseudonym(phone)?)
}

/// The subject of a ticket's reporter when no other applies.
pub fn ticket_subject(ticket: &TicketId) -> String {
    format!("ticket-{ticket}")
}

/// The subject that seals a ticket's personal data: the reporter's owner
/// if linked and not erased; otherwise the reporter's phone number's (a
/// new pseudonym only if `new_pseudonym`) if its key was not destroyed;
/// failing both, the ticket's own. A reporter whose values are sealed is
/// taken as it is: an erased phone number is not known any more.
pub fn reporter_subject(
    ring: &Keyring,
    reporter: &Reporter,
    record: &str,
    new_pseudonym: bool,
) -> Result<String, PrivacyError> {
    if let Some(owner) = &reporter.owner {
        let subject = owner_subject(owner);
        if !ring.is_destroyed(&subject)? {
            return Ok(subject);
        }
    }
    if let Some(phone) = reporter.phone.expose() {
        let subject = if new_pseudonym {
            Some(phone_subject(ring, phone.as_str())?)
        } else {
            ring.pseudonym(phone.as_str())?.map(|p| format!("phone-{p}"))
        };
        if let Some(subject) = subject {
            if !ring.is_destroyed(&subject)? {
                return Ok(subject);
            }
        }
    }
    Ok(format!("ticket-{record}"))
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

/// What a sealed value opened to.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Opened<T> {
    /// The value.
    Clear(T),
    /// Its key was destroyed: erased.
    Erased,
    /// Its key is missing without an erasure: the key folder is damaged.
    KeyMissing,
    /// Its bytes do not open under its key.
    Unreadable,
}

impl<T> Opened<T> {
    /// The marker shown instead of a value that did not open.
    pub fn marker(&self) -> Option<&'static str> {
        match self {
            Opened::Clear(_) => None,
            Opened::Erased => Some(ERASED),
            Opened::KeyMissing => Some(KEY_MISSING),
            Opened::Unreadable => Some(UNREADABLE),
        }
    }
}

/// Opens `sealed`, logging damage (a missing key, altered bytes) as an
/// error that names the subject's kind.
pub fn open_sealed(ring: &Keyring, sealed: &Sealed) -> Result<Opened<Vec<u8>>, PrivacyError> {
    Ok(
        match ring.open_value(&sealed.subject, &sealed.nonce, &sealed.ciphertext)? {
            Unsealed::Opened(plain) => Opened::Clear(plain),
            Unsealed::Erased => Opened::Erased,
            Unsealed::KeyMissing => {
                tracing::error!(
                    subject = %describe_subject(&sealed.subject),
                    key = %ring.key_path(&sealed.subject).display(),
                    "a personal value cannot be opened: its key is missing from the key folder and was never erased; restore the key folder from the backup taken with the log"
                );
                Opened::KeyMissing
            }
            Unsealed::Unreadable => {
                tracing::error!(
                    subject = %describe_subject(&sealed.subject),
                    "a personal value does not open under its key: its sealed bytes were altered"
                );
                Opened::Unreadable
            }
        },
    )
}

/// What `field` holds: in clear as it is, or opened, or why not.
pub fn open_status<T: DeserializeOwned + Clone>(
    ring: &Keyring,
    field: &Personal<T>,
) -> Result<Opened<T>, PrivacyError> {
    if let Some(v) = field.expose() {
        return Ok(Opened::Clear(v.clone()));
    }
    let Some(sealed) = field.as_sealed() else {
        return Ok(Opened::Erased);
    };
    Ok(match open_sealed(ring, sealed)? {
        Opened::Clear(plain) => Opened::Clear(codec::decode("personal value", 2, &plain)?),
        Opened::Erased => Opened::Erased,
        Opened::KeyMissing => Opened::KeyMissing,
        Opened::Unreadable => Opened::Unreadable,
    })
}

/// The clear value of `field`: as it is if in clear, opened if sealed and
/// its key is there, `None` if it does not open (erased, or damaged:
/// [`open_status`] tells which).
pub fn open<T: DeserializeOwned + Clone>(ring: &Keyring, field: &Personal<T>) -> Result<Option<T>, PrivacyError> {
    Ok(match open_status(ring, field)? {
        Opened::Clear(v) => Some(v),
        _ => None,
    })
}

/// `text` as a reader sees it: each placeholder of a piece in `seals`
/// replaced by the piece as typed (`whole`) or masked as a field of its
/// kind is, or by [`ERASED`], [`KEY_MISSING`] or [`UNREADABLE`].
pub fn render_text(ring: &Keyring, text: &str, seals: &[TextSeal], whole: bool) -> Result<String, PrivacyError> {
    if seals.is_empty() {
        return Ok(text.to_string());
    }
    let mut failure = None;
    let rendered = domain::personal::replace_placeholders(text, |tag| {
        let seal = seals.iter().find(|s| s.tag == tag)?;
        match open_sealed(ring, &seal.sealed) {
            Ok(Opened::Clear(plain)) => {
                let original = String::from_utf8_lossy(&plain).into_owned();
                Some(if whole { original } else { mask(seal.kind, &original) })
            }
            Ok(other) => other.marker().map(str::to_string),
            Err(e) => {
                failure = Some(e);
                None
            }
        }
    });
    match failure {
        Some(e) => Err(e),
        None => Ok(rendered),
    }
}

fn mask(kind: TextKind, original: &str) -> String {
    kind.masked(original)
}

fn open_one<T: DeserializeOwned + Clone>(ring: &Keyring, field: &mut Personal<T>) -> Result<(), PrivacyError> {
    if field.as_sealed().is_some() {
        if let Opened::Clear(v) = open_status(ring, field)? {
            *field = Personal::new(v);
        }
    }
    Ok(())
}

/// Opens every sealed field of `fields` whose key is there; erased (and
/// damaged) ones stay sealed.
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

/// Whether a stored event holds a sealed personal value.
fn holds_sealed(event: &crate::wire::DomainEvent) -> bool {
    use crate::wire::DomainEvent;
    match event {
        DomainEvent::Ticket(_, e) => {
            !e.text_seals.is_empty()
                || e.event
                    .reporter()
                    .is_some_and(|r| r.name.as_sealed().is_some() || r.phone.as_sealed().is_some())
        }
        DomainEvent::Owner(_, e) => {
            let mut event = e.event.clone();
            event.personal_fields().into_iter().any(|f| match f {
                PersonalField::Name(f) => f.as_sealed().is_some(),
                PersonalField::Phone(f) => f.as_sealed().is_some(),
                PersonalField::IdNumber(f) => f.as_sealed().is_some(),
            })
        }
        _ => false,
    }
}

/// Whether the log holds a sealed personal value: a walk from the start
/// to the first one (events that are not the domain's, such as those
/// `aftersales log append` writes, are skipped). For the rare open of a
/// data folder that recorded no key folder and has none.
pub fn log_holds_sealed_values(store: &dyn EventStore) -> Result<bool, PrivacyError> {
    for recorded in store.read_all(0) {
        let recorded = recorded?;
        if let Ok(event) = crate::wire::decode(&recorded) {
            if holds_sealed(&event) {
                return Ok(true);
            }
        }
    }
    Ok(false)
}

/// What [`adopt_legacy_pseudonyms`] did.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct LegacyAdoption {
    /// Phone subjects of the earlier build whose number was linked to them
    /// in the pseudonym index.
    pub adopted: usize,
    /// Phone subjects of the earlier build whose values did not open
    /// because their key is missing or their bytes were altered (damage):
    /// while there are any, the earlier build's secret is kept.
    pub damaged: usize,
    /// Whether the earlier build's secret was destroyed.
    pub retired: bool,
}

/// For a key folder of an earlier build, which named a caller's subject
/// `phone-<HMAC of the number under pseudonym.secret>`: links each such
/// live subject to its number in the pseudonym index (the number read from
/// the values sealed for it), then destroys that secret, so that the
/// pseudonyms already in the log can no longer be recomputed from a
/// number, and erased ones are unlinkable like new ones. Keeps the secret
/// (and says so) while a subject's values cannot be opened for damage.
pub fn adopt_legacy_pseudonyms(store: &dyn EventStore, ring: &Keyring) -> Result<LegacyAdoption, PrivacyError> {
    let mut outcome = LegacyAdoption::default();
    if !ring.has_legacy_secret() {
        return Ok(outcome);
    }
    let mut seen = std::collections::HashSet::new();
    for recorded in store.read_all(0) {
        let recorded = recorded?;
        let Ok(crate::wire::DomainEvent::Ticket(_, e)) = crate::wire::decode(&recorded) else {
            continue;
        };
        let Some(reporter) = e.event.reporter() else {
            continue;
        };
        let Some(sealed) = reporter.phone.as_sealed() else {
            continue;
        };
        let Some(pseudonym) = sealed.subject.strip_prefix("phone-") else {
            continue;
        };
        if !seen.insert(sealed.subject.clone()) {
            continue;
        }
        match open_status(ring, &reporter.phone)? {
            Opened::Clear(phone) => {
                if ring.legacy_pseudonym(phone.as_str()).as_deref() == Some(pseudonym) {
                    ring.adopt_pseudonym(phone.as_str(), pseudonym)?;
                    outcome.adopted += 1;
                }
            }
            Opened::Erased => {}
            Opened::KeyMissing | Opened::Unreadable => outcome.damaged += 1,
        }
    }
    if outcome.damaged == 0 {
        outcome.retired = ring.retire_legacy_secret()?;
    }
    Ok(outcome)
}

#[cfg(test)]
mod tests {
    use super::*;
    use domain::testing::fixtures::*;

    fn ring() -> (tempfile::TempDir, Keyring) {
        let dir = tempfile::tempdir().unwrap_or_else(|e| panic!("{e}"));
        let ring = Keyring::open(dir.path().join("keys")).unwrap_or_else(|e| panic!("{e}"));
        (dir, ring)
    }

    fn ok<T, E: std::fmt::Display>(r: Result<T, E>) -> T {
        r.unwrap_or_else(|e| panic!("{e}"))
    }

    /// A stamped event as schema version 2 stored it: without
    /// `text_seals`.
    #[derive(Serialize)]
    struct StampedV2<'a> {
        occurred_at: chrono::DateTime<chrono::Utc>,
        actor: &'a domain::actor::Actor,
        channel: domain::ticket::Channel,
        event: &'a TicketEvent,
    }

    #[test]
    fn payloads_stored_before_sealed_free_text_read_as_they_did() {
        let stream = ok(eventlog::StreamId::new("ticket-T-1"));
        for stamped in repair_received_and_acknowledged() {
            let v2 = ok(codec::encode(&StampedV2 {
                occurred_at: stamped.occurred_at,
                actor: &stamped.actor,
                channel: stamped.channel,
                event: &stamped.event,
            }));
            let mut v3 = v2.clone();
            v3.push(0);
            assert_eq!(
                ok(codec::encode(&stamped)),
                v3,
                "version 3 is version 2 and an empty list"
            );
            let stored = eventlog::NewEvent {
                id: eventlog::EventId::new_random(),
                event_type: stamped.event.name().to_string(),
                schema_version: 2,
                payload: v2,
                metadata: eventlog::EventMetadata::default(),
            };
            match ok(crate::wire::decode_new(&stream, &stored)) {
                crate::wire::DomainEvent::Ticket(_, read) => assert_eq!(read, stamped),
                other => panic!("{other:?}"),
            }
        }
    }

    #[test]
    fn numbers_in_free_text_are_sealed_for_the_reporter_and_shown_by_role() {
        let (_dir, ring) = ring();
        let mut history = repair_received_and_acknowledged();
        history.truncate(1);
        if let TicketEvent::Received { description, .. } = &mut history[0].event {
            *description = "回电 138-1234-5678，身份证11010519491231002X".into();
        }
        TicketEvent::seal_new(&mut history, &[], &ring, "T-1").unwrap_or_else(|e| panic!("{e}"));
        let received = &history[0];
        let TicketEvent::Received { description, .. } = &received.event else {
            panic!("not received")
        };
        assert!(
            !description.contains("5678") && !description.contains("1002X"),
            "{description}"
        );
        assert_eq!(received.text_seals.len(), 2);
        assert!(received.text_seals.iter().all(|s| s.sealed.subject == "owner-O-1"));
        let shown = |whole| ok(render_text(&ring, description, &received.text_seals, whole));
        assert_eq!(shown(true), "回电 138-1234-5678，身份证11010519491231002X");
        assert_eq!(shown(false), "回电 138****5678，身份证1***************2X");

        // A later comment is sealed for the same subject, found from the
        // (opened) history.
        let mut opened = history.clone();
        ok(opened[0].event.open(&ring));
        let mut comment = vec![Stamped {
            occurred_at: received.occurred_at,
            actor: received.actor.clone(),
            channel: received.channel,
            event: TicketEvent::Commented {
                text: "业主新号码 +86 139 0000 1111".into(),
                internal: false,
            },
            text_seals: Vec::new(),
        }];
        ok(TicketEvent::seal_new(&mut comment, &opened, &ring, "T-1"));
        assert_eq!(comment[0].text_seals.len(), 1);
        assert_eq!(comment[0].text_seals[0].sealed.subject, "owner-O-1");
        assert_eq!(comment[0].text_seals[0].kind, TextKind::Phone);

        // Erased: every piece reads as erased.
        ok(ring.destroy("owner-O-1"));
        assert_eq!(shown(true), "回电 [erased]，身份证[erased]");
        // Unknown tags (typed by hand) stay as they are.
        let typed = domain::personal::placeholder("zzzz");
        assert_eq!(ok(render_text(&ring, &typed, &received.text_seals, true)), typed);
    }

    #[test]
    fn a_caller_gets_a_random_pseudonym_until_erased_then_a_new_one() {
        let (_dir, ring) = ring();
        let mut reporter = reporter();
        reporter.owner = None;
        let first = ok(reporter_subject(&ring, &reporter, "T-1", true));
        assert!(first.starts_with("phone-") && !first.contains("5678"), "{first}");
        assert_eq!(ok(reporter_subject(&ring, &reporter, "T-2", false)), first);
        assert_eq!(ok(phone_subjects(&ring, "13812345678")), vec![first.clone()]);
        ok(ring.seal(&first, b"x"));
        ok(ring.destroy(&first));
        // Destroyed but not yet forgotten: not used again.
        assert_eq!(ok(reporter_subject(&ring, &reporter, "T-3", false)), "ticket-T-3");
        assert!(ok(forget_phone(&ring, "13812345678")));
        assert_eq!(ok(phone_subjects(&ring, "13812345678")), Vec::<String>::new());
        let second = ok(reporter_subject(&ring, &reporter, "T-4", true));
        assert!(second.starts_with("phone-") && second != first);
    }
}
