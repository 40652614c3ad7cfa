//! What the unit tests of the key folder share.

use std::path::{Path, PathBuf};

use crate::{KeyError, Keyring};

pub(crate) fn ring() -> (tempfile::TempDir, Keyring) {
    let dir = tempfile::tempdir().unwrap_or_else(|e| panic!("{e}"));
    let ring = Keyring::open(dir.path().join("keys")).unwrap_or_else(|e| panic!("{e}"));
    (dir, ring)
}

pub(crate) fn walk(dir: &Path) -> Vec<PathBuf> {
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

pub(crate) fn ok<T>(r: Result<T, KeyError>) -> T {
    r.unwrap_or_else(|e| panic!("{e}"))
}

pub(crate) fn no_sealed_values() -> Result<bool, String> {
    Ok(false)
}
