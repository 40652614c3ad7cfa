//! The pseudonym secret of earlier builds (`pseudonym.secret`, HMAC names
//! for phone subjects): read until [`Keyring::retire_legacy_secret`]
//! destroys it.

use hmac::Mac;

use crate::folder::shred;
use crate::{hex, KeyError, Keyring, LEGACY_SECRET, PSEUDONYM_BYTES};

impl Keyring {
    /// The pseudonym an earlier build gave `value` (HMAC under
    /// `pseudonym.secret`), while that secret is still here.
    pub fn legacy_pseudonym(&self, value: &str) -> Option<String> {
        let legacy = self.legacy.read().ok()?;
        let mut mac = legacy.as_ref()?.clone();
        mac.update(value.as_bytes());
        Some(hex(&mac.finalize().into_bytes()[..PSEUDONYM_BYTES]))
    }

    /// Whether the secret of an earlier build's pseudonyms is still here.
    pub fn has_legacy_secret(&self) -> bool {
        self.legacy.read().is_ok_and(|l| l.is_some())
    }

    /// Destroys the secret of an earlier build's pseudonyms (overwritten,
    /// synced, removed): from then on nothing recomputes those pseudonyms
    /// from a value. Call it once their live subjects were adopted into
    /// the index. Returns whether it was there.
    pub fn retire_legacy_secret(&self) -> Result<bool, KeyError> {
        let existed = shred(&self.dir.join(LEGACY_SECRET))?;
        if let Ok(mut legacy) = self.legacy.write() {
            *legacy = None;
        }
        Ok(existed)
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::binding::read_id;
    use crate::error::io;
    use crate::folder::{make_dir, write_private};
    use crate::test_support::ok;
    use crate::KEY_BYTES;

    /// A key folder and a data folder of an earlier build (no id, no
    /// record, no list of subjects): the key folder gets an id, the data
    /// folder records it, its keys are listed, and its pseudonym secret
    /// keeps working until it is retired.
    #[test]
    fn an_earlier_builds_key_folder_is_adopted() {
        let root = tempfile::tempdir().unwrap_or_else(|e| panic!("{e}"));
        let data = root.path().join("data");
        let keys = data.join("keys");
        let record = data.join("keys.id");
        ok(make_dir(&keys));
        ok(write_private(&keys.join(LEGACY_SECRET), &[7u8; KEY_BYTES]));
        let old_key = [9u8; KEY_BYTES];
        let stem = hex(&Keyring::hash("owner-O-1"));
        ok(make_dir(&keys.join(&stem[..2])));
        ok(write_private(
            &keys.join(&stem[..2]).join(format!("{stem}.key")),
            &old_key,
        ));
        let ring = ok(Keyring::open_bound(&keys, &record, || -> Result<bool, String> {
            panic!("an earlier build's key folder needs no scan")
        }));
        assert_eq!(ok(read_id(&record)).as_deref(), Some(ring.id()));
        let legacy = ring.legacy_pseudonym("13812345678");
        assert_eq!(legacy.as_ref().map(String::len), Some(32));
        assert!(ring
            .derived_names("13812345678")
            .contains(&legacy.clone().unwrap_or_default()));
        // The old key is listed: lost, it is damage, not a new subject.
        ok(std::fs::remove_file(ring.key_path("owner-O-1")).map_err(io(&keys)));
        let fresh = ok(Keyring::open(&keys));
        assert!(matches!(fresh.seal("owner-O-1", b"y"), Err(KeyError::KeyLost { .. })));
        assert!(ok(fresh.retire_legacy_secret()));
        assert!(!keys.join(LEGACY_SECRET).exists());
        assert_eq!(fresh.legacy_pseudonym("13812345678"), None);
        assert!(!ok(Keyring::open(&keys)).has_legacy_secret());
    }
}
