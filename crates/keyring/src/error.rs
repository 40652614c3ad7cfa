//! The key folder's one error type.

use std::path::{Path, PathBuf};

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

pub(crate) fn io(path: &Path) -> impl FnOnce(std::io::Error) -> KeyError + '_ {
    move |source| KeyError::Io {
        path: path.to_path_buf(),
        source,
    }
}
