//! A key folder's identity and its binding to a data folder: the id
//! (`keyring.id`) created with the folder, the data folder's record of it,
//! and the opens that refuse a missing or replaced key folder.

use std::collections::{HashMap, HashSet};
use std::io::Write as _;
use std::path::{Path, PathBuf};
use std::sync::{Mutex, RwLock};

use crate::error::io;
use crate::folder::{create_once, make_dir, private_options, read_secret, write_private};
use crate::subjects::{read_journal, read_journal_from};
use crate::{
    hex, random, unhex, KeyError, Keyring, ID, ID_BYTES, INDEX_SECRET, JOURNAL, KEY_BYTES, LEGACY_SECRET, STRIPES,
};

/// The key folder id held in `path` (a key folder's `keyring.id`, or the
/// data folder's record of it); `None` if the file does not exist.
pub(crate) fn read_id(path: &Path) -> Result<Option<String>, KeyError> {
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
    crate::folder::sync_dir(&dir)
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
    pub(crate) fn initialise(dir: &Path) -> Result<String, KeyError> {
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
}

#[cfg(test)]
mod tests {
    use std::path::Path;

    use super::*;
    use crate::test_support::{no_sealed_values, ok, walk};
    use crate::Unsealed;

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
}
