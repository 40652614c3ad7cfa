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
//!   the event the sealed piece ([`Stamped::text_seals`](domain::decider::Stamped::text_seals)).
//!
//! The service seals events before it appends them and opens the ones it
//! reads back before deciding; views keep what the log holds (sealed), and
//! the API opens values only to show them. A value whose key was destroyed
//! stays sealed: it shows as [`ERASED`]. A value whose key is missing
//! without an erasure (a damaged key folder) shows as [`KEY_MISSING`], is
//! logged as an error, and no new key is ever minted for its subject.

mod open;
mod scan;
mod seal;
mod subjects;

use eventlog::codec;
use keyring::KeyError;

pub use open::{open, open_fields, open_sealed, open_status, render_text, Opened};
pub use scan::{adopt_legacy_pseudonyms, log_holds_sealed_values, LegacyAdoption};
pub use seal::{seal_fields, seal_record, seal_texts, Sealable};
pub use subjects::{forget_phone, owner_subject, phone_subject, phone_subjects, reporter_subject, ticket_subject};

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

#[cfg(test)]
mod tests {
    use super::*;
    use domain::decider::Stamped;
    use domain::personal::TextKind;
    use domain::testing::fixtures::*;
    use domain::ticket::TicketEvent;
    use keyring::Keyring;
    use serde::Serialize;

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
