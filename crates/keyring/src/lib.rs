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

use std::collections::{HashMap, HashSet};
use std::io::Write as _;
use std::path::{Path, PathBuf};
use std::sync::{Mutex, RwLock};

use chacha20poly1305::aead::{Aead, KeyInit, Payload};
use chacha20poly1305::{XChaCha20Poly1305, XNonce};
use hmac::{Hmac, Mac};
use sha2::{Digest, Sha256};

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
    /// The subject was given a key in this folder, the key file is gone and
    /// no erasure left a tombstone: the key folder is damaged. A new key is
    /// never minted for such a subject.
    #[error("the key of {subject} ({path}) is missing, but it was created in this key folder and never erased: the key folder is damaged; restore it from the backup taken with the log")]
    KeyLost {
        /// The subject's kind and record (`owner O-1`, `a caller's phone number`).
        subject: String,
        /// The key file that should be there.
        path: PathBuf,
    },
    /// The data folder recorded the id of the key folder its values are
    /// sealed with, and that key folder is missing.
    #[error("{data} uses key folder {expected}, and {keys} is missing: restore {keys} from the backup taken with the log; refusing to start (nothing was changed; new keys would leave every sealed personal value unreadable)")]
    FolderMissing {
        /// The data folder.
        data: PathBuf,
        /// Where the key folder belongs.
        keys: PathBuf,
        /// The recorded id.
        expected: String,
    },
    /// The key folder in place is not the one the data folder recorded.
    #[error("{data} uses key folder {expected}, but {keys} is {found}: put back the key folder of {data} (restore {keys} from the backup taken with the log); refusing to start (nothing was changed)")]
    FolderReplaced {
        /// The data folder.
        data: PathBuf,
        /// The key folder in place.
        keys: PathBuf,
        /// The recorded id.
        expected: String,
        /// What is there instead (`key folder <id>`, `a folder without a key folder id`).
        found: String,
    },
    /// Nothing recorded which key folder the data folder uses, the key
    /// folder is missing, and the log holds sealed values.
    #[error("the log of {data} holds sealed personal values, but {keys} is missing (or is no key folder): restore {keys} from the backup taken with the log; refusing to start (nothing was changed; new keys would leave every sealed personal value unreadable)")]
    SealedWithoutKeys {
        /// The data folder.
        data: PathBuf,
        /// Where the key folder belongs.
        keys: PathBuf,
    },
    /// The log could not be searched for sealed values.
    #[error("cannot tell whether the log holds sealed personal values: {0}")]
    Log(String),
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

fn hex(bytes: &[u8]) -> String {
    bytes.iter().map(|b| format!("{b:02x}")).collect()
}

fn unhex<const N: usize>(text: &str) -> Option<[u8; N]> {
    if text.len() != 2 * N || !text.bytes().all(|b| b.is_ascii_hexdigit()) {
        return None;
    }
    let mut out = [0u8; N];
    for (i, byte) in out.iter_mut().enumerate() {
        *byte = u8::from_str_radix(&text[2 * i..2 * i + 2], 16).ok()?;
    }
    Some(out)
}

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
enum Held {
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

fn private_options() -> std::fs::OpenOptions {
    let mut options = std::fs::OpenOptions::new();
    #[cfg(unix)]
    {
        use std::os::unix::fs::OpenOptionsExt as _;
        options.mode(0o600);
    }
    options
}

/// Creates `path` with `bytes`, readable by the owner only, synced.
fn write_private(path: &Path, bytes: &[u8]) -> Result<(), KeyError> {
    let mut file = private_options()
        .write(true)
        .create_new(true)
        .open(path)
        .map_err(io(path))?;
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

/// Creates `path` holding `bytes` unless it exists: through a synced
/// temporary file and a hard link, so that racing creators end with one
/// file (the first one's). Returns what `path` holds afterwards.
fn create_once(path: &Path, bytes: &[u8]) -> Result<Vec<u8>, KeyError> {
    let dir = path.parent().map(Path::to_path_buf).unwrap_or_default();
    // The folders this creates, whose entries in their parents need a sync.
    let mut created = Vec::new();
    let mut missing = Some(dir.as_path());
    while let Some(d) = missing.filter(|d| !d.as_os_str().is_empty() && !d.exists()) {
        created.push(d.to_path_buf());
        missing = d.parent();
    }
    make_dir(&dir)?;
    let tag = hex(&random::<8>()?);
    let name = path
        .file_name()
        .map(|n| n.to_string_lossy().into_owned())
        .unwrap_or_default();
    let temp = dir.join(format!("{name}.{}-{tag}.tmp", std::process::id()));
    let _ = std::fs::remove_file(&temp);
    match write_private(&temp, bytes) {
        // The folder was removed as it emptied (a forgotten pseudonym's
        // shard): once more.
        Err(KeyError::Io { source, .. }) if source.kind() == std::io::ErrorKind::NotFound => {
            make_dir(&dir)?;
            write_private(&temp, bytes)?;
        }
        other => other?,
    }
    let linked = std::fs::hard_link(&temp, path);
    let _ = std::fs::remove_file(&temp);
    match linked {
        Ok(()) => {}
        Err(e) if e.kind() == std::io::ErrorKind::AlreadyExists => {}
        Err(e) => return Err(io(path)(e)),
    }
    sync_dir(&dir)?;
    for d in &created {
        if let Some(parent) = d.parent() {
            sync_dir(parent)?;
        }
    }
    std::fs::read(path).map_err(io(path))
}

/// Overwrites `path` with zeros, syncs it and removes it. Returns whether
/// it existed.
fn shred(path: &Path) -> Result<bool, KeyError> {
    match std::fs::OpenOptions::new().write(true).open(path) {
        Ok(mut file) => {
            let len = file.metadata().map_err(io(path))?.len();
            let zeros = vec![0u8; usize::try_from(len).unwrap_or(0).max(KEY_BYTES)];
            file.write_all(&zeros).map_err(io(path))?;
            file.sync_all().map_err(io(path))?;
            std::fs::remove_file(path).map_err(io(path))?;
            if let Some(dir) = path.parent() {
                sync_dir(dir)?;
            }
            Ok(true)
        }
        Err(e) if e.kind() == std::io::ErrorKind::NotFound => Ok(false),
        Err(e) => Err(io(path)(e)),
    }
}

fn read_secret(path: &Path) -> Result<Option<Hmac<Sha256>>, KeyError> {
    let bytes = match std::fs::read(path) {
        Ok(bytes) => bytes,
        Err(e) if e.kind() == std::io::ErrorKind::NotFound => return Ok(None),
        Err(e) => return Err(io(path)(e)),
    };
    if bytes.len() != KEY_BYTES {
        return Err(KeyError::Corrupt {
            path: path.to_path_buf(),
            reason: format!("{} bytes, {KEY_BYTES} expected", bytes.len()),
        });
    }
    <Hmac<Sha256> as Mac>::new_from_slice(&bytes)
        .map(Some)
        .map_err(|_| KeyError::Corrupt {
            path: path.to_path_buf(),
            reason: "not a key".into(),
        })
}

/// The key folder id held in `path` (a key folder's `keyring.id`, or the
/// data folder's record of it); `None` if the file does not exist.
fn read_id(path: &Path) -> Result<Option<String>, KeyError> {
    let text = match std::fs::read_to_string(path) {
        Ok(text) => text,
        Err(e) if e.kind() == std::io::ErrorKind::NotFound => return Ok(None),
        Err(e) => return Err(io(path)(e)),
    };
    let id = text.trim();
    if unhex::<ID_BYTES>(id).is_none() {
        return Err(KeyError::Corrupt {
            path: path.to_path_buf(),
            reason: format!("not a key folder id ({} hexadecimal digits expected)", 2 * ID_BYTES),
        });
    }
    Ok(Some(id.to_string()))
}

/// Writes the data folder's record of its key folder's id: a temporary
/// file, synced, renamed into place, the folder synced.
fn write_record(path: &Path, id: &str) -> Result<(), KeyError> {
    let dir = path.parent().map(Path::to_path_buf).unwrap_or_default();
    std::fs::create_dir_all(&dir).map_err(io(&dir))?;
    let name = path
        .file_name()
        .map(|n| n.to_string_lossy().into_owned())
        .unwrap_or_default();
    let temp = dir.join(format!(".{name}.{}-{}.tmp", std::process::id(), hex(&random::<8>()?)));
    let _ = std::fs::remove_file(&temp);
    write_private(&temp, format!("{id}\n").as_bytes())?;
    std::fs::rename(&temp, path).map_err(io(path))?;
    sync_dir(&dir)
}

/// The hashes listed in a `subjects` file. Each line ends with one hash in
/// hexadecimal; a line torn by a crash is followed by the next record on
/// the same line, whose hash is still its last 64 characters.
fn read_journal(path: &Path) -> Result<HashSet<[u8; 32]>, KeyError> {
    let mut listed = HashSet::new();
    read_journal_from(path, 0, &mut listed)?;
    Ok(listed)
}

/// Adds the hashes of the whole lines of `path` from byte `from` on to
/// `listed`; returns the offset past the last whole line.
fn read_journal_from(path: &Path, from: u64, listed: &mut HashSet<[u8; 32]>) -> Result<u64, KeyError> {
    use std::io::{Read as _, Seek as _};
    let mut file = match std::fs::File::open(path) {
        Ok(file) => file,
        Err(e) if e.kind() == std::io::ErrorKind::NotFound => return Ok(from),
        Err(e) => return Err(io(path)(e)),
    };
    file.seek(std::io::SeekFrom::Start(from)).map_err(io(path))?;
    let mut text = Vec::new();
    file.read_to_end(&mut text).map_err(io(path))?;
    let whole = text.iter().rposition(|b| *b == b'\n').map_or(0, |i| i + 1);
    listed.extend(text[..whole].split(|b| *b == b'\n').filter_map(|line| {
        let tail = line.get(line.len().checked_sub(64)?..)?;
        unhex::<32>(std::str::from_utf8(tail).ok()?)
    }));
    Ok(from + whole as u64)
}

impl Keyring {
    /// Opens (creating if needed) the key folder `dir`. A data folder's key
    /// folder is opened with [`Keyring::open_bound`], which refuses a
    /// missing or replaced one; this is for a folder known to be the right
    /// one (tests, tools).
    pub fn open(dir: impl Into<PathBuf>) -> Result<Self, KeyError> {
        let dir = dir.into();
        make_dir(&dir)?;
        let id_path = dir.join(ID);
        let id = match read_id(&id_path)? {
            Some(id) => {
                if !dir.join(INDEX_SECRET).exists() {
                    return Err(KeyError::Corrupt {
                        path: dir.join(INDEX_SECRET),
                        reason: "missing from a key folder that has an id: the key folder is damaged; restore it from the backup taken with the log".into(),
                    });
                }
                id
            }
            None => Self::initialise(&dir)?,
        };
        let index = read_secret(&dir.join(INDEX_SECRET))?.ok_or_else(|| KeyError::Corrupt {
            path: dir.join(INDEX_SECRET),
            reason: "missing".into(),
        })?;
        let legacy = read_secret(&dir.join(LEGACY_SECRET))?;
        let mut listed = HashSet::new();
        let read = read_journal_from(&dir.join(JOURNAL), 0, &mut listed)?;
        Ok(Self {
            dir,
            id,
            index,
            legacy: RwLock::new(legacy),
            held: RwLock::new(HashMap::new()),
            minted: RwLock::new((listed, read)),
            stripes: (0..STRIPES).map(|_| Mutex::new(())).collect(),
        })
    }

    /// Gives a new key folder, or one made by an earlier build, what this
    /// build expects: the index secret, every existing key listed in
    /// `subjects`, and, last, an id. Returns the id.
    fn initialise(dir: &Path) -> Result<String, KeyError> {
        let index = dir.join(INDEX_SECRET);
        if !index.exists() {
            create_once(&index, &random::<KEY_BYTES>()?)?;
        }
        let journal = dir.join(JOURNAL);
        let listed = read_journal(&journal)?;
        let mut missing = Vec::new();
        for shard in std::fs::read_dir(dir).map_err(io(dir))?.flatten() {
            let name = shard.file_name().to_string_lossy().into_owned();
            if name.len() != 2 || !shard.path().is_dir() {
                continue;
            }
            for entry in std::fs::read_dir(shard.path()).map_err(io(&shard.path()))?.flatten() {
                let file = entry.file_name().to_string_lossy().into_owned();
                if let Some(hash) = file.strip_suffix(".key").and_then(unhex::<32>) {
                    if !listed.contains(&hash) {
                        missing.push(hash);
                    }
                }
            }
        }
        if !missing.is_empty() {
            let mut text = String::new();
            for hash in &missing {
                text.push_str(&hex(hash));
                text.push('\n');
            }
            let mut file = private_options()
                .append(true)
                .create(true)
                .open(&journal)
                .map_err(io(&journal))?;
            file.write_all(text.as_bytes()).map_err(io(&journal))?;
            file.sync_all().map_err(io(&journal))?;
        }
        create_once(&dir.join(ID), format!("{}\n", hex(&random::<ID_BYTES>()?)).as_bytes())?;
        read_id(&dir.join(ID))?.ok_or_else(|| KeyError::Corrupt {
            path: dir.join(ID),
            reason: "vanished as it was written".into(),
        })
    }

    /// Opens the key folder `dir` of the data folder whose record of it is
    /// the file `record` (outside the log). Refuses, changing nothing:
    /// - a record and no key folder ([`KeyError::FolderMissing`]);
    /// - a record and a key folder with another id or none
    ///   ([`KeyError::FolderReplaced`]);
    /// - no record, no key folder (or an empty one) and a log that holds
    ///   sealed values, as `sealed_in_log` finds out (called only then)
    ///   ([`KeyError::SealedWithoutKeys`]).
    ///
    /// Otherwise it opens the key folder (creating it for a data folder
    /// without sealed values) and records its id if nothing was recorded
    /// (a data folder from an earlier build).
    pub fn open_bound<E: std::fmt::Display>(
        dir: impl Into<PathBuf>,
        record: &Path,
        sealed_in_log: impl FnOnce() -> Result<bool, E>,
    ) -> Result<Self, KeyError> {
        let dir = dir.into();
        let data = record.parent().map(Path::to_path_buf).unwrap_or_default();
        let recorded = read_id(record)?;
        let present = dir.is_dir();
        let found = if present { read_id(&dir.join(ID))? } else { None };
        // A folder without an id is a key folder of an earlier build only
        // if it holds that build's secret; otherwise it is an empty or
        // unrelated folder.
        let earlier_build = present && found.is_none() && dir.join(LEGACY_SECRET).exists();
        match (&recorded, &found) {
            (Some(expected), None) if !present => {
                return Err(KeyError::FolderMissing {
                    data,
                    keys: dir,
                    expected: expected.clone(),
                })
            }
            (Some(expected), None) => {
                return Err(KeyError::FolderReplaced {
                    data,
                    keys: dir,
                    expected: expected.clone(),
                    found: if earlier_build {
                        "a key folder without an id (from an earlier build)".into()
                    } else {
                        "not a key folder (no keyring.id)".into()
                    },
                })
            }
            (Some(expected), Some(found)) if expected != found => {
                return Err(KeyError::FolderReplaced {
                    data,
                    keys: dir,
                    expected: expected.clone(),
                    found: format!("key folder {found}"),
                })
            }
            (Some(_), Some(_)) => return Self::open(dir),
            (None, Some(_)) => {}
            (None, None) if earlier_build => {}
            (None, None) => {
                if sealed_in_log().map_err(|e| KeyError::Log(e.to_string()))? {
                    return Err(KeyError::SealedWithoutKeys { data, keys: dir });
                }
            }
        }
        let ring = Self::open(dir)?;
        write_record(record, &ring.id)?;
        Ok(ring)
    }

    /// The key folder's id (`keyring.id`).
    pub fn id(&self) -> &str {
        &self.id
    }

    /// The key folder.
    pub fn dir(&self) -> &Path {
        &self.dir
    }

    fn index_path(&self, value: &str) -> PathBuf {
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

    fn stripe(&self, subject: &str) -> Result<std::sync::MutexGuard<'_, ()>, KeyError> {
        let hash = Sha256::digest(subject.as_bytes());
        self.stripes[usize::from(hash[0]) % STRIPES]
            .lock()
            .map_err(|_| KeyError::Seal)
    }

    fn hash(subject: &str) -> [u8; 32] {
        Sha256::digest(subject.as_bytes()).into()
    }

    fn stem(&self, subject: &str) -> PathBuf {
        let hash = hex(&Self::hash(subject));
        self.dir.join(&hash[..2]).join(hash)
    }

    /// The file that holds `subject`'s key (whether or not it exists).
    pub fn key_path(&self, subject: &str) -> PathBuf {
        self.stem(subject).with_extension("key")
    }

    fn tombstone_path(&self, subject: &str) -> PathBuf {
        self.stem(subject).with_extension("erased")
    }

    /// Whether `subject` is listed as given a key here; reads `subjects`
    /// again if this process has not seen it (another process may have
    /// created it).
    fn was_minted(&self, subject: &str) -> Result<bool, KeyError> {
        let hash = Self::hash(subject);
        let mut minted = self.minted.write().map_err(|_| KeyError::Seal)?;
        if minted.0.contains(&hash) {
            return Ok(true);
        }
        // Only what was appended since the last look.
        let (listed, read) = &mut *minted;
        *read = read_journal_from(&self.dir.join(JOURNAL), *read, listed)?;
        Ok(listed.contains(&hash))
    }

    /// Lists `subject` in `subjects` (appended, synced).
    fn list(&self, subject: &str) -> Result<(), KeyError> {
        if self.was_minted(subject)? {
            return Ok(());
        }
        let hash = Self::hash(subject);
        let path = self.dir.join(JOURNAL);
        let mut file = private_options()
            .append(true)
            .create(true)
            .open(&path)
            .map_err(io(&path))?;
        file.write_all(format!("{}\n", hex(&hash)).as_bytes())
            .map_err(io(&path))?;
        file.sync_data().map_err(io(&path))?;
        if let Ok(mut m) = self.minted.write() {
            m.0.insert(hash);
        }
        Ok(())
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
    fn a_damaged_key_file_is_an_error_not_a_new_key() {
        let (_dir, ring) = ring();
        ring.seal("owner-O-1", b"x").unwrap_or_else(|e| panic!("{e}"));
        std::fs::write(ring.key_path("owner-O-1"), b"short").unwrap_or_else(|e| panic!("{e}"));
        let fresh = Keyring::open(ring.dir.clone()).unwrap_or_else(|e| panic!("{e}"));
        assert!(matches!(fresh.seal("owner-O-1", b"y"), Err(KeyError::Corrupt { .. })));
    }

    fn ok<T>(r: Result<T, KeyError>) -> T {
        r.unwrap_or_else(|e| panic!("{e}"))
    }

    fn no_sealed_values() -> Result<bool, String> {
        Ok(false)
    }

    /// Every file under `dir` with its bytes.
    fn snapshot(dir: &Path) -> Vec<(PathBuf, Vec<u8>)> {
        let mut files: Vec<_> = walk(dir)
            .into_iter()
            .map(|p| {
                let bytes = std::fs::read(&p).unwrap_or_default();
                (p, bytes)
            })
            .collect();
        files.sort();
        files
    }

    #[test]
    fn a_data_folder_refuses_a_missing_or_replaced_key_folder_and_changes_nothing() {
        let root = tempfile::tempdir().unwrap_or_else(|e| panic!("{e}"));
        let data = root.path().join("data");
        let keys = data.join("keys");
        let record = data.join("keys.id");
        let ring = ok(Keyring::open_bound(&keys, &record, no_sealed_values));
        let id = ring.id().to_string();
        assert_eq!(ok(read_id(&record)), Some(id.clone()));
        let (nonce, sealed) = ok(ring.seal("owner-O-1", b"13812345678"));
        drop(ring);
        // Opened again: the same folder.
        let ring = ok(Keyring::open_bound(&keys, &record, || -> Result<bool, String> {
            panic!("no scan when the key folder is the recorded one")
        }));
        assert_eq!(ring.id(), id);
        drop(ring);

        // Deleted: refused, and no key folder is created.
        let moved = root.path().join("backup-keys");
        ok(std::fs::rename(&keys, &moved).map_err(io(&keys)));
        let e = Keyring::open_bound(&keys, &record, || Ok::<_, String>(true)).map(|_| ());
        let message = e.err().map(|e| e.to_string()).unwrap_or_default();
        assert!(
            message.contains(&id) && message.contains("is missing") && message.contains("restore"),
            "{message}"
        );
        assert!(
            message.contains(&keys.display().to_string()) && message.contains(&data.display().to_string()),
            "{message}"
        );
        assert!(!keys.exists());
        assert_eq!(ok(read_id(&record)), Some(id.clone()));

        // Replaced by another data folder's key folder: refused, and
        // neither folder changes.
        let other = root.path().join("other");
        let other_ring = ok(Keyring::open_bound(
            other.join("keys"),
            &other.join("keys.id"),
            no_sealed_values,
        ));
        ok(other_ring.seal("owner-O-9", b"x"));
        drop(other_ring);
        ok(std::fs::rename(other.join("keys"), &keys).map_err(io(&keys)));
        let before = snapshot(&keys);
        let e = Keyring::open_bound(&keys, &record, || Ok::<_, String>(true)).map(|_| ());
        let message = e.err().map(|e| e.to_string()).unwrap_or_default();
        assert!(
            message.contains(&id) && message.contains("key folder ") && message.contains("put back"),
            "{message}"
        );
        assert_eq!(snapshot(&keys), before);
        assert_eq!(ok(read_id(&record)), Some(id.clone()));
        ok(std::fs::remove_dir_all(&keys).map_err(io(&keys)));

        // An empty folder in its place is no key folder either.
        ok(make_dir(&keys));
        let e = Keyring::open_bound(&keys, &record, || Ok::<_, String>(true)).map(|_| ());
        assert!(matches!(e, Err(KeyError::FolderReplaced { .. })), "{e:?}");
        assert_eq!(snapshot(&keys), Vec::new());
        ok(std::fs::remove_dir(&keys).map_err(io(&keys)));

        // The backup put back: everything opens again.
        ok(std::fs::rename(&moved, &keys).map_err(io(&keys)));
        let ring = ok(Keyring::open_bound(&keys, &record, no_sealed_values));
        assert_eq!(
            ok(ring.open_value("owner-O-1", &nonce, &sealed)),
            Unsealed::Opened(b"13812345678".to_vec())
        );
    }

    #[test]
    fn without_a_record_a_missing_key_folder_is_refused_only_over_sealed_values() {
        let root = tempfile::tempdir().unwrap_or_else(|e| panic!("{e}"));
        let data = root.path().join("data");
        let keys = data.join("keys");
        let record = data.join("keys.id");
        let e = Keyring::open_bound(&keys, &record, || Ok::<_, String>(true)).map(|_| ());
        let message = e.err().map(|e| e.to_string()).unwrap_or_default();
        assert!(
            message.contains("holds sealed personal values") && message.contains("restore"),
            "{message}"
        );
        assert!(!keys.exists() && !record.exists());
        // A scan that fails is an error, not a guess.
        let e = Keyring::open_bound(&keys, &record, || Err("log damaged")).map(|_| ());
        assert!(matches!(e, Err(KeyError::Log(_))), "{e:?}");
        assert!(!keys.exists() && !record.exists());
        // No sealed values (an empty log, or one written by `log append`):
        // a new key folder, recorded.
        let ring = ok(Keyring::open_bound(&keys, &record, no_sealed_values));
        assert_eq!(ok(read_id(&record)).as_deref(), Some(ring.id()));
    }

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

    #[test]
    fn a_torn_line_in_the_list_of_subjects_loses_no_other_entry() {
        let (_dir, ring) = ring();
        ok(ring.seal("owner-O-1", b"x"));
        let journal = ring.dir.join(JOURNAL);
        let mut file = ok(std::fs::OpenOptions::new()
            .append(true)
            .open(&journal)
            .map_err(io(&journal)));
        ok(file.write_all(b"3fa9").map_err(io(&journal)));
        drop(file);
        ok(ring.seal("owner-O-2", b"x"));
        let listed = ok(read_journal(&journal));
        assert!(listed.contains(&Keyring::hash("owner-O-1")) && listed.contains(&Keyring::hash("owner-O-2")));
    }
}
