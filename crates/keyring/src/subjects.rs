//! The list of every subject ever given a key in the key folder
//! (`subjects`, the SHA-256 of each name, one line each, appended and
//! synced), which tells a lost key from an erased one.

use std::collections::HashSet;
use std::io::Write as _;
use std::path::{Path, PathBuf};

use sha2::{Digest, Sha256};

use crate::error::io;
use crate::folder::private_options;
use crate::{hex, unhex, KeyError, Keyring, JOURNAL};

/// The hashes listed in a `subjects` file. Each line ends with one hash in
/// hexadecimal; a line torn by a crash is followed by the next record on
/// the same line, whose hash is still its last 64 characters.
pub(crate) fn read_journal(path: &Path) -> Result<HashSet<[u8; 32]>, KeyError> {
    let mut listed = HashSet::new();
    read_journal_from(path, 0, &mut listed)?;
    Ok(listed)
}

/// Adds the hashes of the whole lines of `path` from byte `from` on to
/// `listed`; returns the offset past the last whole line.
pub(crate) fn read_journal_from(path: &Path, from: u64, listed: &mut HashSet<[u8; 32]>) -> Result<u64, KeyError> {
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
    pub(crate) fn hash(subject: &str) -> [u8; 32] {
        Sha256::digest(subject.as_bytes()).into()
    }

    pub(crate) fn stem(&self, subject: &str) -> PathBuf {
        let hash = hex(&Self::hash(subject));
        self.dir.join(&hash[..2]).join(hash)
    }

    /// The file that holds `subject`'s key (whether or not it exists).
    pub fn key_path(&self, subject: &str) -> PathBuf {
        self.stem(subject).with_extension("key")
    }

    pub(crate) fn tombstone_path(&self, subject: &str) -> PathBuf {
        self.stem(subject).with_extension("erased")
    }

    /// Whether `subject` is listed as given a key here; reads `subjects`
    /// again if this process has not seen it (another process may have
    /// created it).
    pub(crate) fn was_minted(&self, subject: &str) -> Result<bool, KeyError> {
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
    pub(crate) fn list(&self, subject: &str) -> Result<(), KeyError> {
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
}

#[cfg(test)]
mod tests {
    use std::io::Write as _;

    use super::*;
    use crate::test_support::{ok, ring};

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
