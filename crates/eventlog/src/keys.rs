//! Keys for crypto-shredding: one key per data subject, kept outside the
//! log, so that personal values can be written to the immutable log sealed
//! and later made unreadable everywhere by destroying one key.
//!
//! A subject is a string chosen by the caller (`owner-O-1`,
//! `phone-<pseudonym>`). Its key is 32 random bytes in
//! `<dir>/<aa>/<sha256 of the subject>.key`, readable by the owner only,
//! written to a temporary file, synced, then hard-linked into place so that
//! two writers racing to create it end with one key. Values are sealed
//! with XChaCha20-Poly1305 (random 24-byte nonces; the subject is the
//! associated data, so a value moved to another subject does not open).
//!
//! [`Keyring::destroy`] overwrites the key file with zeros, syncs it,
//! removes it and leaves a tombstone (`.erased`), after which the subject
//! can no longer seal and nothing sealed for it opens. Caveats: a
//! journalling or copy-on-write file system, or an SSD's wear levelling,
//! may keep an old copy of the 32 bytes in blocks the file no longer owns,
//! and backups of the key folder keep the keys they hold; the key folder
//! belongs on an encrypted volume and its backups must expire.

use std::collections::HashMap;
use std::io::Write as _;
use std::path::{Path, PathBuf};
use std::sync::{Mutex, RwLock};

use chacha20poly1305::aead::{Aead, KeyInit, Payload};
use chacha20poly1305::{XChaCha20Poly1305, XNonce};
use hmac::{Hmac, Mac};
use sha2::{Digest, Sha256};

const KEY_BYTES: usize = 32;
const NONCE_BYTES: usize = 24;
const SECRET: &str = "pseudonym.secret";
const STRIPES: usize = 64;

/// A key-store failure.
#[derive(Debug, thiserror::Error)]
pub enum KeyError {
    /// A file of the key folder could not be read or written.
    #[error("key store {path}: {source}")]
    Io {
        /// The file.
        path: PathBuf,
        /// The cause.
        source: std::io::Error,
    },
    /// A key file does not hold a key.
    #[error("key store {path}: {reason}")]
    Corrupt {
        /// The file.
        path: PathBuf,
        /// What is wrong.
        reason: String,
    },
    /// The subject's key was destroyed: nothing can be sealed for it.
    #[error("the key of {0} was destroyed (its personal data was erased)")]
    Destroyed(String),
    /// The operating system gave no randomness.
    #[error("no randomness: {0}")]
    Random(String),
    /// The cipher refused (a value too large to seal).
    #[error("sealing failed")]
    Seal,
}

fn io(path: &Path) -> impl FnOnce(std::io::Error) -> KeyError + '_ {
    move |source| KeyError::Io {
        path: path.to_path_buf(),
        source,
    }
}

fn random<const N: usize>() -> Result<[u8; N], KeyError> {
    let mut bytes = [0u8; N];
    getrandom::fill(&mut bytes).map_err(|e| KeyError::Random(e.to_string()))?;
    Ok(bytes)
}

#[derive(Clone)]
enum Held {
    Live(Box<XChaCha20Poly1305>),
    Destroyed,
    Missing,
}

/// The key folder of a data folder (`data/keys`).
pub struct Keyring {
    dir: PathBuf,
    pseudonyms: Hmac<Sha256>,
    held: RwLock<HashMap<String, Held>>,
    /// Creation and destruction of one subject's key happen one at a time;
    /// different subjects' (striped by hash) in parallel, so that their
    /// syncs can share the file system's journal commits.
    stripes: Vec<Mutex<()>>,
}

impl std::fmt::Debug for Keyring {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Keyring")
            .field("dir", &self.dir)
            .finish_non_exhaustive()
    }
}

/// Creates `path` with `bytes`, readable by the owner only, synced.
fn write_private(path: &Path, bytes: &[u8]) -> Result<(), KeyError> {
    let mut options = std::fs::OpenOptions::new();
    options.write(true).create_new(true);
    #[cfg(unix)]
    {
        use std::os::unix::fs::OpenOptionsExt as _;
        options.mode(0o600);
    }
    let mut file = options.open(path).map_err(io(path))?;
    file.write_all(bytes).map_err(io(path))?;
    file.sync_all().map_err(io(path))
}

fn sync_dir(dir: &Path) -> Result<(), KeyError> {
    std::fs::File::open(dir).and_then(|d| d.sync_all()).map_err(io(dir))
}

fn make_dir(dir: &Path) -> Result<(), KeyError> {
    let mut builder = std::fs::DirBuilder::new();
    builder.recursive(true);
    #[cfg(unix)]
    {
        use std::os::unix::fs::DirBuilderExt as _;
        builder.mode(0o700);
    }
    builder.create(dir).map_err(io(dir))
}

impl Keyring {
    /// Opens (creating if needed) the key folder `dir`.
    pub fn open(dir: impl Into<PathBuf>) -> Result<Self, KeyError> {
        let dir = dir.into();
        make_dir(&dir)?;
        let secret_path = dir.join(SECRET);
        let secret = match std::fs::read(&secret_path) {
            Ok(bytes) => bytes,
            Err(e) if e.kind() == std::io::ErrorKind::NotFound => {
                let bytes = random::<KEY_BYTES>()?;
                let tag: String = random::<8>()?.iter().map(|b| format!("{b:02x}")).collect();
                let temp = dir.join(format!("{SECRET}.{}-{tag}.tmp", std::process::id()));
                let _ = std::fs::remove_file(&temp);
                write_private(&temp, &bytes)?;
                match std::fs::hard_link(&temp, &secret_path) {
                    Ok(()) => {}
                    Err(e) if e.kind() == std::io::ErrorKind::AlreadyExists => {}
                    Err(e) => return Err(io(&secret_path)(e)),
                }
                let _ = std::fs::remove_file(&temp);
                sync_dir(&dir)?;
                std::fs::read(&secret_path).map_err(io(&secret_path))?
            }
            Err(e) => return Err(io(&secret_path)(e)),
        };
        if secret.len() != KEY_BYTES {
            return Err(KeyError::Corrupt {
                path: secret_path,
                reason: format!("{} bytes, {KEY_BYTES} expected", secret.len()),
            });
        }
        let pseudonyms = <Hmac<Sha256> as Mac>::new_from_slice(&secret).map_err(|_| KeyError::Corrupt {
            path: secret_path,
            reason: "not a key".into(),
        })?;
        Ok(Self {
            dir,
            pseudonyms,
            held: RwLock::new(HashMap::new()),
            stripes: (0..STRIPES).map(|_| Mutex::new(())).collect(),
        })
    }

    /// A stable pseudonym of `value` (a phone number) for subject names:
    /// the same value always gives the same pseudonym in this key folder,
    /// and the pseudonym does not reveal the value without the folder's
    /// secret.
    pub fn pseudonym(&self, value: &str) -> String {
        let mut mac = self.pseudonyms.clone();
        mac.update(value.as_bytes());
        mac.finalize().into_bytes()[..16]
            .iter()
            .map(|b| format!("{b:02x}"))
            .collect()
    }

    fn stripe(&self, subject: &str) -> Result<std::sync::MutexGuard<'_, ()>, KeyError> {
        let hash = Sha256::digest(subject.as_bytes());
        self.stripes[usize::from(hash[0]) % STRIPES]
            .lock()
            .map_err(|_| KeyError::Seal)
    }

    fn stem(&self, subject: &str) -> PathBuf {
        let hash: String = Sha256::digest(subject.as_bytes())
            .iter()
            .map(|b| format!("{b:02x}"))
            .collect();
        self.dir.join(&hash[..2]).join(hash)
    }

    /// The file that holds `subject`'s key (whether or not it exists).
    pub fn key_path(&self, subject: &str) -> PathBuf {
        self.stem(subject).with_extension("key")
    }

    fn tombstone_path(&self, subject: &str) -> PathBuf {
        self.stem(subject).with_extension("erased")
    }

    fn load(&self, subject: &str) -> Result<Held, KeyError> {
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
                    Held::Live(Box::new(XChaCha20Poly1305::new_from_slice(&bytes).map_err(|_| {
                        KeyError::Corrupt {
                            path: path.clone(),
                            reason: "not a key".into(),
                        }
                    })?))
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

    fn live_or_create(&self, subject: &str) -> Result<Box<XChaCha20Poly1305>, KeyError> {
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
        let shard = path.parent().map(Path::to_path_buf).unwrap_or_else(|| self.dir.clone());
        let new_shard = !shard.exists();
        make_dir(&shard)?;
        let tag: String = random::<8>()?.iter().map(|b| format!("{b:02x}")).collect();
        let temp = path.with_extension(format!("{}-{tag}.tmp", std::process::id()));
        let _ = std::fs::remove_file(&temp);
        write_private(&temp, &random::<KEY_BYTES>()?)?;
        let linked = std::fs::hard_link(&temp, &path);
        let _ = std::fs::remove_file(&temp);
        match linked {
            Ok(()) => {}
            // Another process created it first: use theirs.
            Err(e) if e.kind() == std::io::ErrorKind::AlreadyExists => {}
            Err(e) => return Err(io(&path)(e)),
        }
        sync_dir(&shard)?;
        if new_shard {
            sync_dir(&self.dir)?;
        }
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
    /// key was destroyed.
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

    /// Opens a value sealed for `subject`: `None` if its key was destroyed
    /// or is missing, or if the bytes were not sealed under it (tampered,
    /// or sealed for another subject).
    pub fn unseal(&self, subject: &str, nonce: &[u8], ciphertext: &[u8]) -> Result<Option<Vec<u8>>, KeyError> {
        let Held::Live(cipher) = self.load(subject)? else {
            return Ok(None);
        };
        if nonce.len() != NONCE_BYTES {
            return Ok(None);
        }
        Ok(cipher
            .decrypt(
                XNonce::from_slice(nonce),
                Payload {
                    msg: ciphertext,
                    aad: subject.as_bytes(),
                },
            )
            .ok())
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
        let existed = match std::fs::OpenOptions::new().write(true).open(&path) {
            Ok(mut file) => {
                file.write_all(&[0u8; KEY_BYTES]).map_err(io(&path))?;
                file.sync_all().map_err(io(&path))?;
                std::fs::remove_file(&path).map_err(io(&path))?;
                true
            }
            Err(e) if e.kind() == std::io::ErrorKind::NotFound => false,
            Err(e) => return Err(io(&path)(e)),
        };
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

    fn ring() -> (tempfile::TempDir, Keyring) {
        let dir = tempfile::tempdir().unwrap_or_else(|e| panic!("{e}"));
        let ring = Keyring::open(dir.path().join("keys")).unwrap_or_else(|e| panic!("{e}"));
        (dir, ring)
    }

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

    fn walk(dir: &Path) -> Vec<PathBuf> {
        let mut out = Vec::new();
        for entry in std::fs::read_dir(dir).into_iter().flatten().flatten() {
            let path = entry.path();
            if path.is_dir() {
                out.extend(walk(&path));
            } else {
                out.push(path);
            }
        }
        out
    }

    #[test]
    fn keys_and_pseudonyms_survive_a_reopen_and_racing_creators_agree() {
        let dir = tempfile::tempdir().unwrap_or_else(|e| panic!("{e}"));
        let a = Keyring::open(dir.path()).unwrap_or_else(|e| panic!("{e}"));
        let b = Keyring::open(dir.path()).unwrap_or_else(|e| panic!("{e}"));
        assert_eq!(a.pseudonym("13812345678"), b.pseudonym("13812345678"));
        assert_ne!(a.pseudonym("13812345678"), a.pseudonym("13812345679"));
        assert!(!a.pseudonym("13812345678").contains("5678"));
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
    fn a_damaged_key_file_is_an_error_not_a_new_key() {
        let (_dir, ring) = ring();
        ring.seal("owner-O-1", b"x").unwrap_or_else(|e| panic!("{e}"));
        std::fs::write(ring.key_path("owner-O-1"), b"short").unwrap_or_else(|e| panic!("{e}"));
        let fresh = Keyring::open(ring.dir.clone()).unwrap_or_else(|e| panic!("{e}"));
        assert!(matches!(fresh.seal("owner-O-1", b"y"), Err(KeyError::Corrupt { .. })));
    }
}
