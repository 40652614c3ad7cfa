//! The key folder of a data folder (`<data>/keys`), opened with its log:
//! bound to the data folder through `<data>/keys.id` (outside the log), so
//! that a missing or replaced key folder is refused instead of silently
//! replaced by new keys (see [`keyring::Keyring::open_bound`]); a
//! key folder of an earlier build has its phone pseudonyms adopted and its
//! pseudonym secret retired (see
//! [`eventformat::sealing::adopt_legacy_pseudonyms`]).

use std::path::Path;
use std::sync::Arc;

use eventlog::SledEventStore;
use keyring::Keyring;

use crate::error::AppError;

/// The file in the data folder that records its key folder's id.
pub const RECORD: &str = "keys.id";

/// Opens the log of `data` and its key folder. The key folder is checked
/// first; the log is opened before that only when the check needs to know
/// whether the log holds sealed values (nothing recorded, no key folder),
/// and closed again if the key folder is refused: a refusal changes
/// nothing.
pub fn open(data: &Path) -> Result<(Arc<SledEventStore>, Keyring), AppError> {
    let mut opened: Option<Arc<SledEventStore>> = None;
    let ring = Keyring::open_bound(data.join("keys"), &data.join(RECORD), || {
        let store = crate::jobs::open_log(data).map_err(|e| e.message())?;
        let sealed = eventformat::sealing::log_holds_sealed_values(store.as_ref()).map_err(|e| e.to_string());
        opened = Some(store);
        sealed
    });
    let ring = match ring {
        Ok(ring) => ring,
        Err(e) => {
            if let Some(store) = opened {
                let _ = store.close();
            }
            return Err(AppError::internal(e));
        }
    };
    let store = match opened {
        Some(store) => store,
        None => crate::jobs::open_log(data)?,
    };
    if ring.has_legacy_secret() {
        match eventformat::sealing::adopt_legacy_pseudonyms(store.as_ref(), &ring) {
            Ok(outcome) if outcome.retired => tracing::info!(
                adopted = outcome.adopted,
                "phone pseudonyms of an earlier build adopted; its pseudonym secret is destroyed"
            ),
            Ok(outcome) => tracing::warn!(
                adopted = outcome.adopted,
                damaged = outcome.damaged,
                "the earlier build's pseudonym secret is kept: some phone subjects' keys are missing; restore the key folder from backup"
            ),
            Err(e) => {
                let _ = store.close();
                return Err(AppError::internal(format!(
                    "adopting the phone pseudonyms of an earlier build: {e}"
                )));
            }
        }
    }
    Ok((store, ring))
}
