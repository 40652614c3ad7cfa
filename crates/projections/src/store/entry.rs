//! One entry of a view tree: its key and value in one allocation.

use std::sync::Arc;

use eventlog::StoreError;

/// A key and its value in one allocation, shared between a tree and its
/// snapshots; ordered, compared and looked up by its key alone.
#[derive(Clone)]
pub(crate) struct Stored {
    bytes: Arc<[u8]>,
    key_len: u32,
}

impl Stored {
    pub(crate) fn new(key: &[u8], value: &[u8]) -> Result<Self, StoreError> {
        let key_len = u32::try_from(key.len())
            .map_err(|_| StoreError::InvalidAppend(format!("a view key of {} bytes is too long", key.len())))?;
        let mut bytes = Vec::with_capacity(key.len() + value.len());
        bytes.extend_from_slice(key);
        bytes.extend_from_slice(value);
        Ok(Self {
            bytes: Arc::from(bytes),
            key_len,
        })
    }

    /// A key to look up or bound a range with (no value).
    pub(crate) fn key_only(key: &[u8]) -> Self {
        Self {
            bytes: Arc::from(key),
            key_len: u32::try_from(key.len()).unwrap_or(u32::MAX),
        }
    }

    pub(crate) fn key(&self) -> &[u8] {
        &self.bytes[..self.key_len as usize]
    }

    pub(crate) fn value(&self) -> &[u8] {
        &self.bytes[self.key_len as usize..]
    }
}

impl std::borrow::Borrow<[u8]> for Stored {
    fn borrow(&self) -> &[u8] {
        self.key()
    }
}

impl PartialEq for Stored {
    fn eq(&self, other: &Self) -> bool {
        self.key() == other.key()
    }
}

impl Eq for Stored {}

impl PartialOrd for Stored {
    fn partial_cmp(&self, other: &Self) -> Option<std::cmp::Ordering> {
        Some(self.cmp(other))
    }
}

impl Ord for Stored {
    fn cmp(&self, other: &Self) -> std::cmp::Ordering {
        self.key().cmp(other.key())
    }
}
