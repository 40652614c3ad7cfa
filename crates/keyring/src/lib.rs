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
//!
//! **Identity.** A key folder has a random id (`keyring.id`), created with
//! it. [`Keyring::open_bound`] ties a key folder to the data folder whose
//! values it seals, through a small file in the data folder that records
//! the id (outside the log), and refuses a missing or replaced key folder
//! instead of creating a new one: new keys would leave every sealed value
//! unreadable, which looks exactly like an erasure.
//!
//! **Damage is not erasure.** Every subject ever given a key here is
//! listed (by the SHA-256 of its name) in `subjects`. A listed subject
//! whose key file is gone without a tombstone is damage: its values open
//! to [`Unsealed::KeyMissing`], not [`Unsealed::Erased`], and
//! [`Keyring::seal`] refuses it ([`KeyError::KeyLost`]) rather than mint a
//! second key for it.
//!
//! **Pseudonyms.** A value that names a person by itself (a phone number)
//! gets a random pseudonym for subject names ([`Keyring::pseudonym_or_new`]).
//! The link from the value to its pseudonym lives only here, in an index
//! entry `phones/<aa>/<HMAC-SHA256(phones.secret, value)>` holding the
//! pseudonym; [`Keyring::forget_pseudonym`] overwrites and removes it and
//! leaves no tombstone, so that once a subject is erased nothing in the
//! data folder lets anyone confirm a guessed value, secret or not. Key
//! folders of earlier builds named such subjects by HMAC of the value under
//! `pseudonym.secret` ([`Keyring::legacy_pseudonym`]); once their live
//! pseudonyms are adopted into the index ([`Keyring::adopt_pseudonym`]),
//! [`Keyring::retire_legacy_secret`] destroys that secret, and the old
//! names can no longer be recomputed from a value either.

mod binding;
mod error;
mod folder;
mod legacy;
mod pseudonyms;
mod seal;
mod subjects;
#[cfg(test)]
mod test_support;

use std::collections::{HashMap, HashSet};
use std::path::PathBuf;
use std::sync::{Mutex, RwLock};

use hmac::Hmac;
use sha2::Sha256;

pub use error::KeyError;
pub use seal::{describe_subject, Unsealed};

use seal::Held;

const KEY_BYTES: usize = 32;
const NONCE_BYTES: usize = 24;
/// The secret that named phone subjects in key folders of earlier builds.
const LEGACY_SECRET: &str = "pseudonym.secret";
/// The secret that names the pseudonym index's entries.
const INDEX_SECRET: &str = "phones.secret";
/// The folder of the pseudonym index.
const INDEX: &str = "phones";
/// The key folder's id.
const ID: &str = "keyring.id";
/// Every subject ever given a key here, by the SHA-256 of its name.
const JOURNAL: &str = "subjects";
const ID_BYTES: usize = 16;
const PSEUDONYM_BYTES: usize = 16;
const STRIPES: usize = 64;

pub(crate) fn random<const N: usize>() -> Result<[u8; N], KeyError> {
    let mut bytes = [0u8; N];
    getrandom::fill(&mut bytes).map_err(|e| KeyError::Random(e.to_string()))?;
    Ok(bytes)
}

pub(crate) fn hex(bytes: &[u8]) -> String {
    bytes.iter().map(|b| format!("{b:02x}")).collect()
}

pub(crate) fn unhex<const N: usize>(text: &str) -> Option<[u8; N]> {
    if text.len() != 2 * N || !text.bytes().all(|b| b.is_ascii_hexdigit()) {
        return None;
    }
    let mut out = [0u8; N];
    for (i, byte) in out.iter_mut().enumerate() {
        *byte = u8::from_str_radix(&text[2 * i..2 * i + 2], 16).ok()?;
    }
    Some(out)
}

/// The key folder of a data folder (`data/keys`).
pub struct Keyring {
    dir: PathBuf,
    id: String,
    index: Hmac<Sha256>,
    legacy: RwLock<Option<Hmac<Sha256>>>,
    held: RwLock<HashMap<String, Held>>,
    /// The subjects listed in `subjects`, as far as this process has read
    /// it, and how far that is (bytes).
    minted: RwLock<(HashSet<[u8; 32]>, u64)>,
    /// Creation and destruction of one subject's key happen one at a time;
    /// different subjects' (striped by hash) in parallel, so that their
    /// syncs can share the file system's journal commits.
    stripes: Vec<Mutex<()>>,
}

impl std::fmt::Debug for Keyring {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Keyring")
            .field("dir", &self.dir)
            .field("id", &self.id)
            .finish_non_exhaustive()
    }
}
