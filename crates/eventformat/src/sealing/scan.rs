//! Walks over the log: whether it holds a sealed value, and the adoption
//! of an earlier build's phone pseudonyms.

use domain::personal::PersonalField;
use eventlog::EventStore;
use keyring::Keyring;

use super::open::{open_status, Opened};
use super::PrivacyError;

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
