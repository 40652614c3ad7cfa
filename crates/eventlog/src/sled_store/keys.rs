//! The keyspaces of the one sled tree that holds the log.
//!
//! All live in one tree, written by the one writer thread (atomicity
//! comes from the write-ahead frame, see [`super::wal`]). Integers are big-endian, so
//! sled's byte order is numeric order. A stream's head (its last version)
//! is not stored separately: it is the last entry of the stream's range in
//! the stream index, one reverse seek away; storing it again would cost
//! every append a fourth write for nothing.
//!
//! | prefix | key | value |
//! |---|---|---|
//! | `L` | position (8) | one record: its envelope ([`crate::envelope`]) |
//! | `L` | first position (8), count (4) | a chunk of `count` ≥ 2 records ([`super::chunk`]) |
//! | `S` | stream length (2), stream, version (8) | position (8) |
//! | `I` | event id (16) | position (8) |
//! | `M` | name | store metadata (format version) |

use crate::types::{EventId, Position, StreamVersion};

pub(super) const LOG: u8 = b'L';
pub(super) const STREAM: u8 = b'S';
pub(super) const ID: u8 = b'I';
pub(super) const FORMAT_KEY: &[u8] = b"Mformat";

pub(super) fn log_key(position: Position) -> [u8; 9] {
    let mut key = [LOG; 9];
    key[1..].copy_from_slice(&position.to_be_bytes());
    key
}

/// The key of a chunk of `count` records from `first` on: a single
/// record keeps the plain log key (as in store format 1), a longer chunk
/// adds its count, so the key alone tells which positions it holds.
/// Either sorts by `first`, after every chunk that starts earlier.
pub(super) fn chunk_key(first: Position, count: usize) -> Vec<u8> {
    let mut key = log_key(first).to_vec();
    if count != 1 {
        // Chunks hold at most a few dozen records.
        key.extend_from_slice(&(count as u32).to_be_bytes());
    }
    key
}

/// The upper bound (inclusive) of every log key whose chunk starts at or
/// before `position`.
pub(super) fn chunk_key_bound(position: Position) -> [u8; 13] {
    let mut key = [0xFF; 13];
    key[..9].copy_from_slice(&log_key(position));
    key
}

/// The first position and the record count of a log key, if it is one.
pub(super) fn parse_log_key(key: &[u8]) -> Option<(Position, usize)> {
    match key {
        [LOG, rest @ ..] if rest.len() == 8 => Some((u64::from_be_bytes(rest.try_into().ok()?), 1)),
        [LOG, rest @ ..] if rest.len() == 12 => {
            let first = u64::from_be_bytes(rest[..8].try_into().ok()?);
            let count = u32::from_be_bytes(rest[8..].try_into().ok()?) as usize;
            (count >= 2).then_some((first, count))
        }
        _ => None,
    }
}

pub(super) fn stream_prefix(stream: &str) -> Vec<u8> {
    let name = stream.as_bytes();
    let mut key = Vec::with_capacity(3 + name.len() + 8);
    key.push(STREAM);
    // Stream ids are at most 256 bytes, so the length fits.
    key.extend_from_slice(&(name.len() as u16).to_be_bytes());
    key.extend_from_slice(name);
    key
}

pub(super) fn stream_key(stream: &str, version: StreamVersion) -> Vec<u8> {
    let mut key = stream_prefix(stream);
    key.extend_from_slice(&version.to_be_bytes());
    key
}

/// The stream and version of a stream-index key.
pub(super) fn parse_stream_key(key: &[u8]) -> Option<(String, StreamVersion)> {
    let [STREAM, l0, l1, rest @ ..] = key else {
        return None;
    };
    let len = u16::from_be_bytes([*l0, *l1]) as usize;
    if rest.len() != len + 8 {
        return None;
    }
    let name = std::str::from_utf8(&rest[..len]).ok()?.to_owned();
    let version = u64::from_be_bytes(rest[len..].try_into().ok()?);
    Some((name, version))
}

pub(super) fn id_key(id: &EventId) -> [u8; 17] {
    let mut key = [ID; 17];
    key[1..].copy_from_slice(id.as_bytes());
    key
}

/// Decodes an 8-byte big-endian value (a position or a version).
pub(super) fn be_u64(bytes: &[u8]) -> Option<u64> {
    Some(u64::from_be_bytes(bytes.try_into().ok()?))
}
