//! Whose key seals a value: the subjects of owners, callers by phone
//! number, tickets, and a ticket's reporter.

use domain::ids::{OwnerId, TicketId};
use domain::ticket::Reporter;
use keyring::Keyring;

use super::PrivacyError;

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
