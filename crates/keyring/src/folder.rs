//! File primitives of the key folder: files readable by the owner only,
//! created through a synced temporary file and a hard link, overwritten
//! before removal, and the folders' syncs.

use std::io::Write as _;
use std::path::Path;

use hmac::{Hmac, Mac};
use sha2::Sha256;

use crate::error::io;
use crate::{hex, random, KeyError, KEY_BYTES};

pub(crate) fn private_options() -> std::fs::OpenOptions {
    let mut options = std::fs::OpenOptions::new();
    #[cfg(unix)]
    {
        use std::os::unix::fs::OpenOptionsExt as _;
        options.mode(0o600);
    }
    options
}

/// Creates `path` with `bytes`, readable by the owner only, synced.
pub(crate) fn write_private(path: &Path, bytes: &[u8]) -> Result<(), KeyError> {
    let mut file = private_options()
        .write(true)
        .create_new(true)
        .open(path)
        .map_err(io(path))?;
    file.write_all(bytes).map_err(io(path))?;
    file.sync_all().map_err(io(path))
}

pub(crate) fn sync_dir(dir: &Path) -> Result<(), KeyError> {
    std::fs::File::open(dir).and_then(|d| d.sync_all()).map_err(io(dir))
}

pub(crate) fn make_dir(dir: &Path) -> Result<(), KeyError> {
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
pub(crate) fn create_once(path: &Path, bytes: &[u8]) -> Result<Vec<u8>, KeyError> {
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
pub(crate) fn shred(path: &Path) -> Result<bool, KeyError> {
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

pub(crate) fn read_secret(path: &Path) -> Result<Option<Hmac<Sha256>>, KeyError> {
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
