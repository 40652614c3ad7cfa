//! Pseudonyms: a random id per value (a phone number), linked to it only
//! by an index entry `phones/<aa>/<HMAC(phones.secret, value)>` that
//! [`Keyring::forget_pseudonym`] overwrites and removes.

use std::path::PathBuf;

use hmac::Mac;

use crate::error::io;
use crate::folder::{create_once, shred, sync_dir};
use crate::{hex, random, unhex, KeyError, Keyring, INDEX, PSEUDONYM_BYTES};

impl Keyring {
    pub(crate) fn index_path(&self, value: &str) -> PathBuf {
        let mut mac = self.index.clone();
        mac.update(value.as_bytes());
        let name = hex(&mac.finalize().into_bytes());
        self.dir.join(INDEX).join(&name[..2]).join(name)
    }

    /// The pseudonym `value` (a phone number) has in this key folder, if
    /// it has one: a random id, unrelated to the value, remembered in the
    /// index until [`forget_pseudonym`](Self::forget_pseudonym).
    pub fn pseudonym(&self, value: &str) -> Result<Option<String>, KeyError> {
        let path = self.index_path(value);
        match std::fs::read(&path) {
            Ok(bytes) => {
                let text = String::from_utf8_lossy(&bytes).trim().to_string();
                if unhex::<PSEUDONYM_BYTES>(&text).is_none() {
                    return Err(KeyError::Corrupt {
                        path,
                        reason: "not a pseudonym".into(),
                    });
                }
                Ok(Some(text))
            }
            Err(e) if e.kind() == std::io::ErrorKind::NotFound => Ok(None),
            Err(e) => Err(io(&path)(e)),
        }
    }

    /// The pseudonym of `value`, given a new random one if it has none
    /// (racing callers get the same one).
    pub fn pseudonym_or_new(&self, value: &str) -> Result<String, KeyError> {
        if let Some(p) = self.pseudonym(value)? {
            return Ok(p);
        }
        let fresh = hex(&random::<PSEUDONYM_BYTES>()?);
        self.adopt_pseudonym(value, &fresh)?;
        self.pseudonym(value)?.ok_or_else(|| KeyError::Corrupt {
            path: self.index_path(value),
            reason: "the pseudonym vanished as it was created".into(),
        })
    }

    /// Makes `pseudonym` the pseudonym of `value` unless it has one (for
    /// adopting the names an earlier build derived).
    pub fn adopt_pseudonym(&self, value: &str, pseudonym: &str) -> Result<(), KeyError> {
        let path = self.index_path(value);
        if unhex::<PSEUDONYM_BYTES>(pseudonym).is_none() {
            return Err(KeyError::Corrupt {
                path,
                reason: "not a pseudonym".into(),
            });
        }
        if path.exists() {
            return Ok(());
        }
        create_once(&path, pseudonym.as_bytes())?;
        Ok(())
    }

    /// Forgets the pseudonym of `value`: overwrites its index entry,
    /// syncs and removes it, leaving nothing named after the value. A
    /// later [`pseudonym_or_new`](Self::pseudonym_or_new) gives a new one.
    /// Returns whether there was one.
    pub fn forget_pseudonym(&self, value: &str) -> Result<bool, KeyError> {
        let path = self.index_path(value);
        let existed = shred(&path)?;
        // An empty shard folder would still be named after the value's
        // first byte.
        if let Some(shard) = path.parent() {
            if std::fs::remove_dir(shard).is_ok() {
                sync_dir(&self.dir.join(INDEX))?;
            }
        }
        Ok(existed)
    }

    /// Every name this key folder derives from `value`, in hexadecimal: its
    /// index entry's name and, while the earlier build's secret is here,
    /// that build's pseudonym. For audits and tests: after an erasure,
    /// none of them should occur anywhere.
    pub fn derived_names(&self, value: &str) -> Vec<String> {
        let mut names = Vec::new();
        if let Some(name) = self.index_path(value).file_name() {
            names.push(name.to_string_lossy().into_owned());
        }
        names.extend(self.legacy_pseudonym(value));
        names
    }
}

#[cfg(test)]
mod tests {
    use std::path::Path;

    use super::*;
    use crate::test_support::{ok, ring, walk};

    #[test]
    fn keys_and_pseudonyms_survive_a_reopen_and_racing_creators_agree() {
        let dir = tempfile::tempdir().unwrap_or_else(|e| panic!("{e}"));
        let a = Keyring::open(dir.path()).unwrap_or_else(|e| panic!("{e}"));
        let b = Keyring::open(dir.path()).unwrap_or_else(|e| panic!("{e}"));
        assert_eq!(a.id(), b.id());
        let pa = a.pseudonym_or_new("13812345678").unwrap_or_else(|e| panic!("{e}"));
        assert_eq!(
            b.pseudonym("13812345678").unwrap_or_else(|e| panic!("{e}")),
            Some(pa.clone())
        );
        assert_eq!(b.pseudonym_or_new("13812345678").unwrap_or_else(|e| panic!("{e}")), pa);
        assert_ne!(a.pseudonym_or_new("13812345679").unwrap_or_else(|e| panic!("{e}")), pa);
        // Two key rings over one folder (two processes) create one key.
        let sealed: Vec<_> = std::thread::scope(|s| {
            let ha = s.spawn(|| a.seal("phone-x", b"one"));
            let hb = s.spawn(|| b.seal("phone-x", b"two"));
            [ha.join(), hb.join()]
        })
        .into_iter()
        .map(|r| {
            r.unwrap_or_else(|_| panic!("panicked"))
                .unwrap_or_else(|e| panic!("{e}"))
        })
        .collect();
        let (n, c) = &sealed[1];
        assert_eq!(
            a.unseal("phone-x", n, c).unwrap_or_else(|e| panic!("{e}")).as_deref(),
            Some(&b"two"[..])
        );
        let (n, c) = &sealed[0];
        assert_eq!(
            b.unseal("phone-x", n, c).unwrap_or_else(|e| panic!("{e}")).as_deref(),
            Some(&b"one"[..])
        );
    }

    #[test]
    fn a_forgotten_pseudonym_leaves_nothing_named_after_the_value() {
        let (dir, ring) = ring();
        let phone = "13812345678";
        let first = ok(ring.pseudonym_or_new(phone));
        assert_eq!(first.len(), 32);
        let names = ring.derived_names(phone);
        assert_eq!(names.len(), 1, "a new key folder has no earlier build's secret");
        assert!(walk(dir.path()).iter().any(|p| p.to_string_lossy().contains(&names[0])));
        let shard = ring
            .index_path(phone)
            .parent()
            .map(Path::to_path_buf)
            .unwrap_or_default();
        assert!(ok(ring.forget_pseudonym(phone)));
        assert!(!shard.exists(), "no empty folder named after the value's first byte");
        assert!(!ok(ring.forget_pseudonym(phone)));
        assert_eq!(ok(ring.pseudonym(phone)), None);
        for p in walk(dir.path()) {
            assert!(!p.to_string_lossy().contains(&names[0]), "{p:?}");
            let bytes = std::fs::read(&p).unwrap_or_default();
            assert!(!bytes.windows(first.len()).any(|w| w == first.as_bytes()), "{p:?}");
        }
        // The same value later: another pseudonym.
        assert_ne!(ok(ring.pseudonym_or_new(phone)), first);
        // Adopting keeps an existing pseudonym and refuses garbage.
        ok(ring.adopt_pseudonym("13900000000", &"ab".repeat(16)));
        ok(ring.adopt_pseudonym("13900000000", &"cd".repeat(16)));
        assert_eq!(ok(ring.pseudonym("13900000000")), Some("ab".repeat(16)));
        assert!(ring.adopt_pseudonym("13900000001", "../x").is_err());
    }
}
