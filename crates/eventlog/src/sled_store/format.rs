//! The store format marker and where sled's log keyspace ends: what an
//! open (and a repair) checks before it reads or writes records.

use super::keys::*;
use crate::error::StoreError;
use crate::types::Position;

/// The on-disk layout version of the store (keyspaces and envelope).
/// Format 2 stores the records of a group in chunks ([`super::chunk`]); format 1
/// held one record per key, which format 2 reads as chunks of one, so a
/// format-1 store is opened as it is and its marker raised to 2 (an older
/// build then refuses it instead of misreading chunks).
pub const STORE_FORMAT: u32 = 2;
/// The earlier formats this build opens.
pub(super) const READABLE_FORMATS: [u32; 1] = [1];

/// Where sled's log keyspace ends: one past the last position its last
/// log key holds.
pub(super) fn log_end(tree: &sled::Tree) -> Result<Position, StoreError> {
    match tree.scan_prefix([LOG]).next_back() {
        None => Ok(0),
        Some(entry) => {
            let (key, _) = entry?;
            let (first, count) = parse_log_key(&key).ok_or_else(|| StoreError::Corrupt {
                position: 0,
                reason: "unreadable key at the end of the log".into(),
            })?;
            Ok(first.saturating_add(count as u64))
        }
    }
}

/// Checks (and writes, for a new store, or raises, for an older format)
/// the store format marker. Returns whether the store existed before:
/// whether an earlier open had written the marker.
pub(super) fn check_format(tree: &sled::Tree) -> Result<bool, StoreError> {
    match tree.get(FORMAT_KEY)? {
        Some(bytes) => {
            let found = bytes
                .as_ref()
                .try_into()
                .map(u32::from_be_bytes)
                .map_err(|_| StoreError::Corrupt {
                    position: 0,
                    reason: "unreadable store format marker".into(),
                })?;
            if READABLE_FORMATS.contains(&found) {
                tree.insert(FORMAT_KEY, &STORE_FORMAT.to_be_bytes())?;
            } else if found != STORE_FORMAT {
                return Err(StoreError::UnsupportedFormat {
                    found,
                    supported: STORE_FORMAT,
                });
            }
            Ok(true)
        }
        None => {
            if tree.scan_prefix([LOG]).next().is_some() {
                return Err(StoreError::Corrupt {
                    position: 0,
                    reason: "events present but the store format marker is missing".into(),
                });
            }
            tree.insert(FORMAT_KEY, &STORE_FORMAT.to_be_bytes())?;
            Ok(false)
        }
    }
}
