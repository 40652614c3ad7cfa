//! Sealing: one XChaCha20-Poly1305 key per subject (the subject is the
//! associated data), created on first use and never minted again for a
//! subject that had one, and its destruction.

use std::path::Path;

use chacha20poly1305::aead::{Aead, KeyInit, Payload};
use chacha20poly1305::{XChaCha20Poly1305, XNonce};
use sha2::{Digest, Sha256};

use crate::error::io;
use crate::folder::{create_once, make_dir, shred, sync_dir, write_private};
use crate::{random, KeyError, Keyring, KEY_BYTES, NONCE_BYTES, STRIPES};

/// How a subject is named in messages: its kind and record, never a
/// pseudonym (`owner O-1`, `ticket T-1`, `a caller's phone number`).
pub fn describe_subject(subject: &str) -> String {
    match subject.split_once('-') {
        Some(("phone", _)) => "a caller's phone number".to_string(),
        Some((kind, record)) => format!("{kind} {record}"),
        None => "a data subject".to_string(),
    }
}

#[derive(Clone)]
pub(crate) enum Held {
    Live(Box<XChaCha20Poly1305>),
    Destroyed,
    Missing,
}

/// What opening a sealed value found.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Unsealed {
    /// The value.
    Opened(Vec<u8>),
    /// The subject's key was destroyed: the value was erased.
    Erased,
    /// The subject's key is missing without a tombstone: the key folder is
    /// damaged (or is not the one the value was sealed with). Not an
    /// erasure.
    KeyMissing,
    /// The key is there but the bytes do not open under it: altered, or
    /// sealed for another subject.
    Unreadable,
}

impl Keyring {
    pub(crate) fn stripe(&self, subject: &str) -> Result<std::sync::MutexGuard<'_, ()>, KeyError> {
        let hash = Sha256::digest(subject.as_bytes());
        self.stripes[usize::from(hash[0]) % STRIPES]
            .lock()
            .map_err(|_| KeyError::Seal)
    }

    pub(crate) fn load(&self, subject: &str) -> Result<Held, KeyError> {
        if let Some(held) = self.held.read().ok().and_then(|h| h.get(subject).cloned()) {
            if !matches!(held, Held::Missing) {
                return Ok(held);
            }
        }
        let held = if self.tombstone_path(subject).exists() {
            Held::Destroyed
        } else {
            let path = self.key_path(subject);
            match std::fs::read(&path) {
                Ok(bytes) if bytes.len() == KEY_BYTES => {
                    let cipher = XChaCha20Poly1305::new_from_slice(&bytes).map_err(|_| KeyError::Corrupt {
                        path: path.clone(),
                        reason: "not a key".into(),
                    })?;
                    // A key created just before a crash may not be listed yet.
                    self.list(subject)?;
                    Held::Live(Box::new(cipher))
                }
                Ok(bytes) => {
                    return Err(KeyError::Corrupt {
                        path,
                        reason: format!("{} bytes, {KEY_BYTES} expected", bytes.len()),
                    })
                }
                Err(e) if e.kind() == std::io::ErrorKind::NotFound => Held::Missing,
                Err(e) => return Err(io(&path)(e)),
            }
        };
        if let Ok(mut h) = self.held.write() {
            h.insert(subject.to_string(), held.clone());
        }
        Ok(held)
    }

    /// Whether `subject`'s key was destroyed.
    pub fn is_destroyed(&self, subject: &str) -> Result<bool, KeyError> {
        Ok(matches!(self.load(subject)?, Held::Destroyed))
    }

    pub(crate) fn live_or_create(&self, subject: &str) -> Result<Box<XChaCha20Poly1305>, KeyError> {
        match self.load(subject)? {
            Held::Live(cipher) => return Ok(cipher),
            Held::Destroyed => return Err(KeyError::Destroyed(subject.to_string())),
            Held::Missing => {}
        }
        let _one_at_a_time = self.stripe(subject)?;
        if let Ok(mut h) = self.held.write() {
            h.remove(subject);
        }
        match self.load(subject)? {
            Held::Live(cipher) => return Ok(cipher),
            Held::Destroyed => return Err(KeyError::Destroyed(subject.to_string())),
            Held::Missing => {}
        }
        let path = self.key_path(subject);
        if self.was_minted(subject)? {
            // Listed: either another process created it since the look
            // above (it links the key before it lists it), or it is lost.
            if let Ok(mut h) = self.held.write() {
                h.remove(subject);
            }
            if let Held::Live(cipher) = self.load(subject)? {
                return Ok(cipher);
            }
            return Err(KeyError::KeyLost {
                subject: describe_subject(subject),
                path,
            });
        }
        create_once(&path, &random::<KEY_BYTES>()?)?;
        self.list(subject)?;
        if let Ok(mut h) = self.held.write() {
            h.remove(subject);
        }
        match self.load(subject)? {
            Held::Live(cipher) => Ok(cipher),
            Held::Destroyed => Err(KeyError::Destroyed(subject.to_string())),
            Held::Missing => Err(KeyError::Corrupt {
                path,
                reason: "the key vanished as it was created".into(),
            }),
        }
    }

    /// Seals `plaintext` for `subject`, creating its key on first use.
    /// Returns the nonce and the ciphertext. Refused once the subject's
    /// key was destroyed, and when its key was lost
    /// ([`KeyError::KeyLost`]).
    pub fn seal(&self, subject: &str, plaintext: &[u8]) -> Result<(Vec<u8>, Vec<u8>), KeyError> {
        let cipher = self.live_or_create(subject)?;
        let nonce = random::<NONCE_BYTES>()?;
        let ciphertext = cipher
            .encrypt(
                XNonce::from_slice(&nonce),
                Payload {
                    msg: plaintext,
                    aad: subject.as_bytes(),
                },
            )
            .map_err(|_| KeyError::Seal)?;
        Ok((nonce.to_vec(), ciphertext))
    }

    /// Opens a value sealed for `subject`, saying why not when it does not
    /// open: erased, its key missing (damage), or unreadable.
    pub fn open_value(&self, subject: &str, nonce: &[u8], ciphertext: &[u8]) -> Result<Unsealed, KeyError> {
        let cipher = match self.load(subject)? {
            Held::Live(cipher) => cipher,
            Held::Destroyed => return Ok(Unsealed::Erased),
            Held::Missing => return Ok(Unsealed::KeyMissing),
        };
        if nonce.len() != NONCE_BYTES {
            return Ok(Unsealed::Unreadable);
        }
        Ok(cipher
            .decrypt(
                XNonce::from_slice(nonce),
                Payload {
                    msg: ciphertext,
                    aad: subject.as_bytes(),
                },
            )
            .map_or(Unsealed::Unreadable, Unsealed::Opened))
    }

    /// Opens a value sealed for `subject`: `None` if its key was destroyed
    /// or is missing, or if the bytes were not sealed under it (tampered,
    /// or sealed for another subject). [`open_value`](Self::open_value)
    /// tells these apart.
    pub fn unseal(&self, subject: &str, nonce: &[u8], ciphertext: &[u8]) -> Result<Option<Vec<u8>>, KeyError> {
        Ok(match self.open_value(subject, nonce, ciphertext)? {
            Unsealed::Opened(plain) => Some(plain),
            _ => None,
        })
    }

    /// Destroys `subject`'s key: overwrites the file with zeros, syncs,
    /// removes it and leaves a tombstone. Returns whether a key existed.
    /// Destroying again is harmless.
    pub fn destroy(&self, subject: &str) -> Result<bool, KeyError> {
        let _one_at_a_time = self.stripe(subject)?;
        let path = self.key_path(subject);
        let shard = path.parent().map(Path::to_path_buf).unwrap_or_else(|| self.dir.clone());
        make_dir(&shard)?;
        let tombstone = self.tombstone_path(subject);
        if !tombstone.exists() {
            match write_private(&tombstone, b"") {
                Ok(()) => {}
                Err(KeyError::Io { source, .. }) if source.kind() == std::io::ErrorKind::AlreadyExists => {}
                Err(e) => return Err(e),
            }
        }
        let existed = shred(&path)?;
        sync_dir(&shard)?;
        if let Ok(mut h) = self.held.write() {
            h.insert(subject.to_string(), Held::Destroyed);
        }
        Ok(existed)
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::test_support::{ok, ring, walk};

    #[test]
    fn sealed_values_open_only_for_their_subject() {
        let (_dir, ring) = ring();
        let (nonce, sealed) = ring
            .seal("owner-O-1", "13812345678".as_bytes())
            .unwrap_or_else(|e| panic!("{e}"));
        assert!(!sealed.windows(11).any(|w| w == b"13812345678"));
        let opened = ring
            .unseal("owner-O-1", &nonce, &sealed)
            .unwrap_or_else(|e| panic!("{e}"));
        assert_eq!(opened.as_deref(), Some("13812345678".as_bytes()));
        // Another subject's key, or the associated data, does not open it.
        ring.seal("owner-O-2", b"x").unwrap_or_else(|e| panic!("{e}"));
        assert_eq!(
            ring.unseal("owner-O-2", &nonce, &sealed)
                .unwrap_or_else(|e| panic!("{e}")),
            None
        );
        let mut tampered = sealed.clone();
        tampered[0] ^= 1;
        assert_eq!(
            ring.unseal("owner-O-1", &nonce, &tampered)
                .unwrap_or_else(|e| panic!("{e}")),
            None
        );
        // Two seals of one value differ (fresh nonces).
        let (_, again) = ring
            .seal("owner-O-1", "13812345678".as_bytes())
            .unwrap_or_else(|e| panic!("{e}"));
        assert_ne!(again, sealed);
    }

    #[test]
    fn a_destroyed_key_is_gone_for_good() {
        let (dir, ring) = ring();
        let (nonce, sealed) = ring.seal("owner-O-1", b"secret").unwrap_or_else(|e| panic!("{e}"));
        let path = ring.key_path("owner-O-1");
        let key = std::fs::read(&path).unwrap_or_else(|e| panic!("{e}"));
        assert_eq!(key.len(), KEY_BYTES);
        #[cfg(unix)]
        {
            use std::os::unix::fs::PermissionsExt as _;
            let mode = std::fs::metadata(&path)
                .unwrap_or_else(|e| panic!("{e}"))
                .permissions()
                .mode();
            assert_eq!(mode & 0o777, 0o600);
        }
        assert!(ring.destroy("owner-O-1").unwrap_or_else(|e| panic!("{e}")));
        assert!(!path.exists());
        assert_eq!(
            ring.unseal("owner-O-1", &nonce, &sealed)
                .unwrap_or_else(|e| panic!("{e}")),
            None
        );
        assert!(matches!(ring.seal("owner-O-1", b"new"), Err(KeyError::Destroyed(_))));
        assert!(!ring.destroy("owner-O-1").unwrap_or_else(|e| panic!("{e}")));
        // A fresh process sees the same.
        let reopened = Keyring::open(dir.path().join("keys")).unwrap_or_else(|e| panic!("{e}"));
        assert!(reopened.is_destroyed("owner-O-1").unwrap_or_else(|e| panic!("{e}")));
        assert_eq!(
            reopened
                .unseal("owner-O-1", &nonce, &sealed)
                .unwrap_or_else(|e| panic!("{e}")),
            None
        );
        // No file in the folder holds the key's bytes any more.
        for entry in walk(dir.path()) {
            let bytes = std::fs::read(&entry).unwrap_or_default();
            assert!(!bytes.windows(KEY_BYTES).any(|w| w == key.as_slice()), "{entry:?}");
        }
    }

    #[test]
    fn a_damaged_key_file_is_an_error_not_a_new_key() {
        let (_dir, ring) = ring();
        ring.seal("owner-O-1", b"x").unwrap_or_else(|e| panic!("{e}"));
        std::fs::write(ring.key_path("owner-O-1"), b"short").unwrap_or_else(|e| panic!("{e}"));
        let fresh = Keyring::open(ring.dir.clone()).unwrap_or_else(|e| panic!("{e}"));
        assert!(matches!(fresh.seal("owner-O-1", b"y"), Err(KeyError::Corrupt { .. })));
    }

    #[test]
    fn a_lost_key_is_damage_not_erasure_and_never_replaced() {
        let (_dir, ring) = ring();
        let (nonce, sealed) = ok(ring.seal("owner-O-1", b"secret"));
        let (n2, s2) = ok(ring.seal("owner-O-2", b"other"));
        ok(ring.destroy("owner-O-2"));
        let path = ring.key_path("owner-O-1");
        ok(std::fs::remove_file(&path).map_err(io(&path)));
        // A fresh process and this one (its cache emptied) alike.
        if let Ok(mut h) = ring.held.write() {
            h.clear();
        }
        for r in [&ok(Keyring::open(ring.dir.clone())), &ring] {
            assert_eq!(ok(r.open_value("owner-O-1", &nonce, &sealed)), Unsealed::KeyMissing);
            assert_eq!(ok(r.open_value("owner-O-2", &n2, &s2)), Unsealed::Erased);
            let refused = r.seal("owner-O-1", b"new");
            let message = refused.as_ref().err().map(|e| e.to_string()).unwrap_or_default();
            assert!(matches!(refused, Err(KeyError::KeyLost { .. })), "{message}");
            assert!(
                message.contains("owner O-1") && message.contains("damaged"),
                "{message}"
            );
            assert!(!path.exists(), "no new key was minted");
        }
        // Tampered bytes are told apart from a missing key.
        ok(ring.seal("owner-O-3", b"x"));
        let (n3, mut s3) = ok(ring.seal("owner-O-3", b"y"));
        s3[0] ^= 1;
        assert_eq!(ok(ring.open_value("owner-O-3", &n3, &s3)), Unsealed::Unreadable);
    }
}
