//! The repair's file work: the folder's lock, the synced copy into
//! `repair-<n>` before anything changes, and whole-or-nothing writes.

use std::fs::File;
use std::io::Write;
use std::path::{Path, PathBuf};

use super::refused;
use crate::error::StoreError;
use crate::sled_store::wal::{self, WalMap};

/// Takes the lock sled takes when it opens the folder (on its `db` file),
/// so that nobody opens the store while the repair reads and copies it.
/// `None` when there is no `db` file. A handle of this process that has
/// just been closed may hold it a moment longer (see [`crate::sled_store::open_db`]), so a
/// conflict is retried for a few seconds.
pub(super) fn lock_folder(dir: &Path) -> Result<Option<File>, StoreError> {
    use fs2::FileExt;
    let file = match File::open(dir.join("db")) {
        Ok(file) => file,
        Err(e) if e.kind() == std::io::ErrorKind::NotFound => return Ok(None),
        Err(e) => return Err(e.into()),
    };
    crate::sled_open::retry_while_locked(
        dir,
        || file.try_lock_exclusive(),
        |e| e.raw_os_error() == fs2::lock_contended_error().raw_os_error(),
    )?;
    Ok(Some(file))
}

/// Copies every file of `dir` (but earlier repairs' folders) into the next
/// free `repair-<n>` folder and syncs it; checks that the copies of the
/// write-ahead files hold the bytes read.
pub(super) fn preserve(dir: &Path, maps: &[WalMap]) -> Result<(u32, PathBuf), StoreError> {
    let mut number = 1u32;
    for entry in std::fs::read_dir(dir)? {
        let name = entry?.file_name();
        if let Some(n) = name.to_str().and_then(repair_number) {
            number = number.max(n.saturating_add(1));
        }
    }
    let target = dir.join(format!("repair-{number}"));
    // `create_dir`, not `create_dir_all`: a folder of that name that
    // appeared since is another repair's.
    std::fs::create_dir(&target)?;
    copy_tree(dir, &target, true)?;
    wal::sync_dir(&target)?;
    wal::sync_dir(dir)?;
    for map in maps {
        let copy = map
            .path
            .strip_prefix(dir)
            .map(|relative| target.join(relative))
            .map_err(|_| refused(format!("{} is not inside {}", map.path.display(), dir.display())))?;
        if std::fs::read(&copy)? != map.data {
            return Err(refused(format!(
                "the copy {} does not hold the bytes of {}; the repair changed nothing",
                copy.display(),
                map.path.display()
            )));
        }
    }
    Ok((number, target))
}

/// The number of a repair's folder name, `repair-<n>`.
fn repair_number(name: &str) -> Option<u32> {
    name.strip_prefix("repair-")?.parse().ok()
}

fn copy_tree(from: &Path, to: &Path, top: bool) -> Result<(), StoreError> {
    for entry in std::fs::read_dir(from)? {
        let entry = entry?;
        let name = entry.file_name();
        if top && name.to_str().is_some_and(|n| n.starts_with("repair-")) {
            continue;
        }
        let target = to.join(&name);
        if entry.file_type()?.is_dir() {
            std::fs::create_dir(&target)?;
            copy_tree(&entry.path(), &target, false)?;
            wal::sync_dir(&target)?;
        } else {
            std::fs::copy(entry.path(), &target)?;
            File::open(&target)?.sync_all()?;
        }
    }
    Ok(())
}

/// Replaces `path` with `bytes` whole or not at all: a temporary file
/// beside it, synced, renamed over it, and the folder synced.
pub(super) fn write_atomically(path: &Path, bytes: &[u8]) -> Result<(), StoreError> {
    let mut temporary = path.as_os_str().to_owned();
    temporary.push(".repairing");
    let temporary = PathBuf::from(temporary);
    {
        let mut file = File::create(&temporary)?;
        file.write_all(bytes)?;
        file.sync_all()?;
    }
    std::fs::rename(&temporary, path)?;
    if let Some(folder) = path.parent() {
        wal::sync_dir(folder)?;
    }
    Ok(())
}
