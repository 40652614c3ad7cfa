//! Erasing an owner's personal data at their request.

use domain::archive::{OwnerCommand, OwnerDecider, OwnerEvent};
use domain::decider::{Decider, Stamped};
use domain::error::DomainError;
use domain::ids::OwnerId;

use super::{owner_event, stream, Acting, Erasure, Service};
use crate::error::AppError;

impl Service {
    /// Erases owner `id`'s personal data at their request (PIPL art. 47):
    /// records the erasure on the owner's stream (who, when, which
    /// request), then destroys the keys that sealed their values: those of
    /// every phone number they had on record (which also covers what they
    /// reported from those numbers without being linked; the numbers'
    /// pseudonyms are then forgotten, so nothing left links a number to
    /// its subject) and the owner's own, last. Refused while the owner's
    /// values do not open for damage (a missing key). Histories still
    /// replay; their personal values read as erased from then on. Running
    /// it again completes an erasure that was recorded but interrupted.
    pub async fn erase_owner(&self, id: &OwnerId, request: &str, acting: Acting) -> Result<Erasure, AppError> {
        let (_, events) = self.history(&stream(id)?, owner_event)?;
        let Some(owner) = OwnerDecider::fold(&events).0 else {
            return Err(DomainError::NotFound {
                what: format!("owner {id}"),
            }
            .into());
        };
        let phones = self.phones_on_record(id, &events)?;
        let mut subjects = Vec::new();
        for phone in &phones {
            for subject in eventformat::sealing::phone_subjects(&self.keyring, phone).map_err(AppError::internal)? {
                if !subjects.contains(&subject) {
                    subjects.push(subject);
                }
            }
        }
        let recorded_now = owner.erased_at.is_none();
        if recorded_now {
            self.owner_command(
                id,
                OwnerCommand::ErasePersonalData {
                    request: request.to_string(),
                },
                acting,
            )
            .await?;
        }
        // The phones' keys, then their links to the numbers (nothing named
        // after a number stays), then the owner's key, last, so that a
        // re-run still reads the phone numbers.
        let mut destroyed = 0;
        for subject in &subjects {
            if self.keyring.destroy(subject).map_err(AppError::internal)? {
                destroyed += 1;
            }
        }
        for phone in &phones {
            eventformat::sealing::forget_phone(&self.keyring, phone).map_err(AppError::internal)?;
        }
        let owner_subject = eventformat::sealing::owner_subject(id);
        if self.keyring.destroy(&owner_subject).map_err(AppError::internal)? {
            destroyed += 1;
        }
        Ok(Erasure {
            recorded_now,
            keys_destroyed: destroyed,
        })
    }

    /// Every phone number owner `id` had on record, in the order their
    /// events name them; refused when one stays sealed for damage (a
    /// missing key) rather than an earlier erasure.
    fn phones_on_record(&self, id: &OwnerId, events: &[Stamped<OwnerEvent>]) -> Result<Vec<String>, AppError> {
        let mut phones: Vec<String> = Vec::new();
        for e in events {
            let phone = match &e.event {
                OwnerEvent::OwnerRegistered { phone, .. } | OwnerEvent::ContactChanged { phone } => phone,
                _ => continue,
            };
            if let Some(p) = phone.expose() {
                if !phones.iter().any(|known| known == p.as_str()) {
                    phones.push(p.as_str().to_string());
                }
                continue;
            }
            // Still sealed: erased by an earlier run, or damage, which
            // would hide the phone numbers whose keys must go too.
            let status = eventformat::sealing::open_status(&self.keyring, phone).map_err(AppError::internal)?;
            if let Some(marker) = status
                .marker()
                .filter(|_| status != eventformat::sealing::Opened::Erased)
            {
                return Err(AppError::internal(format!(
                    "cannot erase owner {id}: their phone number reads {marker} (the key folder is damaged), so the keys that seal it cannot all be found; restore data/keys from the backup taken with the log first"
                )));
            }
        }
        Ok(phones)
    }
}
