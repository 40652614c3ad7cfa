//! Chunks: the records of a group stored under one log key.
//!
//! sled's cost is per key (a tree walk, a copy of the leaf, a log write
//! and, every few inserts, a split), whatever the value's size. The writer
//! therefore stores the records of a group in chunks of up to
//! [`MAX_RECORDS`] records and [`MAX_BYTES`] bytes, each under the log key
//! of its first position. The envelopes inside are unchanged (their bytes,
//! checksum and stored position are exactly what a single record holds),
//! so reading a record out of a chunk is a slice of the chunk, not a copy.
//!
//! A chunk of one record is stored as the bare envelope: that is the whole
//! of store format 1, which this layout reads as it is.
//!
//! Layout of a chunk of two or more records (integers big-endian):
//!
//! | bytes | field |
//! |---|---|
//! | 1 | tag `0xC2` (an envelope starts with its format version, 1) |
//! | 4 | crc32c of the count and the ends |
//! | 4 | count of records, at least 2 |
//! | 4 × count | end of each record, counted from the first record's start |
//! | ... | the records' envelopes, back to back |
//!
//! The header has its own checksum, so a damaged count or end is reported
//! as damage rather than read as a shorter chunk.

use sled::IVec;

use super::keys::*;
use crate::error::StoreError;
use crate::types::Position;

/// The first byte of a chunk of two or more records.
pub(super) const TAG: u8 = 0xC2;
/// Most records in one chunk.
pub(super) const MAX_RECORDS: usize = 64;
/// A chunk takes no further record once its records hold this many bytes.
/// Far below sled's 2 MiB blob threshold (a quarter of its 8 MiB segment)
/// even for a leaf of 17 chunks, so chunks stay in sled's pages.
pub(super) const MAX_BYTES: usize = 32 * 1024;

const FIXED_HEADER: usize = 1 + 4 + 4;

/// Splits `records` (in position order) into chunks: the index of each
/// chunk's first record, its count of records and its stored bytes. The
/// same records always split the same way.
pub(super) fn encode<R: AsRef<[u8]>>(records: &[R]) -> Vec<(usize, usize, Vec<u8>)> {
    let mut out = Vec::new();
    let mut start = 0;
    while start < records.len() {
        let mut end = start;
        let mut bytes = 0;
        while end < records.len() && end - start < MAX_RECORDS && (end == start || bytes < MAX_BYTES) {
            bytes += records[end].as_ref().len();
            end += 1;
        }
        out.push((start, end - start, encode_one(&records[start..end], bytes)));
        start = end;
    }
    out
}

fn encode_one<R: AsRef<[u8]>>(records: &[R], record_bytes: usize) -> Vec<u8> {
    if let [only] = records {
        return only.as_ref().to_vec();
    }
    let header = FIXED_HEADER + 4 * records.len();
    let mut out = Vec::with_capacity(header + record_bytes);
    out.push(TAG);
    out.extend_from_slice(&[0; 4]);
    // At most MAX_RECORDS records of at most a few hundred KiB each.
    out.extend_from_slice(&(records.len() as u32).to_be_bytes());
    let mut end = 0u32;
    for record in records {
        end += record.as_ref().len() as u32;
        out.extend_from_slice(&end.to_be_bytes());
    }
    let crc = crc32c::crc32c(&out[5..header]);
    out[1..5].copy_from_slice(&crc.to_be_bytes());
    for record in records {
        out.extend_from_slice(record.as_ref());
    }
    out
}

/// A stored chunk, parsed: which positions it holds and where.
#[derive(Clone, Debug)]
pub(super) struct Chunk {
    first: Position,
    bytes: IVec,
    /// Where the records start in `bytes`.
    records_at: usize,
    count: usize,
}

impl Chunk {
    /// Reads the chunk stored under the log key of `first` with `count`
    /// records (both from the key). `Err` says what is damaged; the
    /// records themselves are checked when decoded.
    pub fn parse(first: Position, count: usize, bytes: IVec) -> Result<Self, String> {
        if bytes.is_empty() {
            return Err("record is empty".into());
        }
        if count == 1 {
            return Ok(Self {
                first,
                records_at: 0,
                count: 1,
                bytes,
            });
        }
        let fixed = bytes.get(..FIXED_HEADER).ok_or("chunk header is cut short")?;
        if fixed[0] != TAG {
            return Err(format!("chunk starts with byte {:#04x}, not the chunk tag", fixed[0]));
        }
        let stored_crc = u32::from_be_bytes([fixed[1], fixed[2], fixed[3], fixed[4]]);
        let stored_count = u32::from_be_bytes([fixed[5], fixed[6], fixed[7], fixed[8]]) as usize;
        if stored_count != count || !(2..=MAX_RECORDS).contains(&count) {
            return Err(format!("chunk header gives {stored_count} records, its key {count}"));
        }
        let records_at = FIXED_HEADER + 4 * count;
        let header = bytes.get(..records_at).ok_or("chunk header is cut short")?;
        if crc32c::crc32c(&header[5..]) != stored_crc {
            return Err("chunk header checksum mismatch".into());
        }
        let chunk = Self {
            first,
            records_at,
            count,
            bytes,
        };
        let mut previous = 0;
        for i in 0..count {
            let end = chunk.end(i);
            if end <= previous {
                return Err(format!("chunk record {i} is empty"));
            }
            previous = end;
        }
        if records_at + previous != chunk.bytes.len() {
            return Err(format!(
                "chunk holds {} bytes of records, its header says {previous}",
                chunk.bytes.len() - records_at
            ));
        }
        Ok(chunk)
    }

    /// The end of record `i`, counted from the first record's start.
    fn end(&self, i: usize) -> usize {
        if self.records_at == 0 {
            return self.bytes.len();
        }
        let at = FIXED_HEADER + 4 * i;
        let b = &self.bytes[at..at + 4];
        u32::from_be_bytes([b[0], b[1], b[2], b[3]]) as usize
    }

    /// One past the last position the chunk holds.
    pub fn end_position(&self) -> Position {
        self.first + self.count as u64
    }

    /// Whether the chunk holds `position`.
    pub fn holds(&self, position: Position) -> bool {
        (self.first..self.end_position()).contains(&position)
    }

    /// The record at `position`, sharing the chunk's bytes; `None` outside
    /// the chunk.
    pub fn record(&self, position: Position) -> Option<IVec> {
        if !self.holds(position) {
            return None;
        }
        let i = (position - self.first) as usize;
        let start = if i == 0 { 0 } else { self.end(i - 1) };
        let end = self.end(i);
        Some(self.bytes.subslice(self.records_at + start, end - start))
    }
}

fn corrupt(position: Position, reason: impl Into<String>) -> StoreError {
    StoreError::Corrupt {
        position,
        reason: reason.into(),
    }
}

/// The chunk that holds `position`, if the log has one.
pub(super) fn chunk_at(tree: &sled::Tree, position: Position) -> Result<Option<Chunk>, StoreError> {
    let Some(entry) = tree.range(&log_key(0)[..]..=&chunk_key_bound(position)[..]).next_back() else {
        return Ok(None);
    };
    let (key, value) = entry?;
    let (first, count) = parse_log_key(&key).ok_or_else(|| corrupt(position, "unreadable log key"))?;
    if first.saturating_add(count as u64) <= position {
        return Ok(None);
    }
    Chunk::parse(first, count, value)
        .map(Some)
        .map_err(|reason| corrupt(position, reason))
}

/// Reads records one position at a time, keeping the last chunk it read
/// (the records of one append share a chunk).
#[derive(Default)]
pub(super) struct Lookup {
    last: Option<Chunk>,
}

impl Lookup {
    /// The stored bytes of the record at `position`, `None` if the log has
    /// no such record.
    pub fn record(&mut self, tree: &sled::Tree, position: Position) -> Result<Option<IVec>, StoreError> {
        if let Some(chunk) = &self.last {
            if chunk.holds(position) {
                return Ok(chunk.record(position));
            }
        }
        let Some(chunk) = chunk_at(tree, position)? else {
            return Ok(None);
        };
        let record = chunk.record(position);
        self.last = Some(chunk);
        Ok(record)
    }
}

/// The records of positions `from..end`, in order, chunk by chunk from one
/// sled range: the position and stored bytes of each. A gap, an overlap or
/// a damaged chunk is an error at the first position it leaves unreadable,
/// and ends the iteration.
pub(super) struct Records {
    entries: sled::Iter,
    current: Option<Chunk>,
    /// Whether a chunk or record has been taken yet: every key after the
    /// first must start exactly where the one before ended.
    started: bool,
    next: Position,
    end: Position,
    failed: bool,
    start_error: Option<StoreError>,
}

impl Records {
    pub fn new(tree: &sled::Tree, from: Position, end: Position) -> Self {
        // Start at the first key of the chunk that holds `from`, which may
        // begin before it: at its plain log key, so that any other key of
        // the same first position is walked too (and reported as overlap).
        let (start, start_error) = match tree.range(&log_key(0)[..]..=&chunk_key_bound(from)[..]).next_back() {
            Some(Ok((key, _))) => match parse_log_key(&key) {
                Some((first, _)) => (log_key(first).to_vec(), None),
                None => (key.to_vec(), None),
            },
            Some(Err(e)) => (log_key(from).to_vec(), Some(e.into())),
            None => (log_key(from).to_vec(), None),
        };
        let end_key = log_key(end.max(from)).to_vec();
        Self {
            entries: tree.range(start..end_key),
            current: None,
            started: false,
            next: from,
            end,
            failed: false,
            start_error,
        }
    }

    fn fail(&mut self, error: StoreError) -> Option<Result<(Position, IVec), StoreError>> {
        self.failed = true;
        Some(Err(error))
    }
}

impl Iterator for Records {
    type Item = Result<(Position, IVec), StoreError>;

    fn next(&mut self) -> Option<Self::Item> {
        if self.failed || self.next >= self.end {
            return None;
        }
        if let Some(error) = self.start_error.take() {
            return self.fail(error);
        }
        let position = self.next;
        loop {
            if let Some(record) = self.current.as_ref().and_then(|c| c.record(position)) {
                self.next += 1;
                return Some(Ok((position, record)));
            }
            let (key, value) = match self.entries.next() {
                None => return self.fail(corrupt(position, "record is missing: the log has a gap")),
                Some(Err(e)) => return self.fail(e.into()),
                Some(Ok(entry)) => entry,
            };
            let Some((first, count)) = parse_log_key(&key) else {
                return self.fail(corrupt(position, "unreadable log key"));
            };
            if first.saturating_add(count as u64) <= position && !self.started {
                // The chunk before `from`, found by the start lookup.
                continue;
            }
            if first > position {
                return self.fail(corrupt(position, "record is missing: the log has a gap"));
            }
            if first < position && self.started {
                return self.fail(corrupt(
                    position,
                    format!("a chunk from position {first} overlaps the one before"),
                ));
            }
            if count == 1 && first == position && !value.is_empty() {
                // A lone record: handed out as stored, without a chunk.
                self.current = None;
                self.started = true;
                self.next += 1;
                return Some(Ok((position, value)));
            }
            match Chunk::parse(first, count, value) {
                Ok(chunk) => {
                    self.current = Some(chunk);
                    self.started = true;
                }
                Err(reason) => return self.fail(corrupt(position, reason)),
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn records(n: usize, len: usize) -> Vec<Vec<u8>> {
        (0..n).map(|i| vec![1 + (i % 200) as u8; len]).collect()
    }

    fn parse_all(records: &[Vec<u8>]) -> Vec<Chunk> {
        encode(records)
            .into_iter()
            .map(|(start, count, bytes)| {
                Chunk::parse(start as u64, count, IVec::from(bytes)).unwrap_or_else(|e| panic!("{e}"))
            })
            .collect()
    }

    #[test]
    fn every_record_comes_back_from_its_chunk() {
        for (n, len) in [(1, 10), (2, 10), (64, 300), (65, 300), (200, 406), (10, 40_000)] {
            let records = records(n, len);
            let chunks = parse_all(&records);
            let mut position = 0u64;
            for chunk in &chunks {
                assert_eq!(chunk.first, position);
                for p in chunk.first..chunk.end_position() {
                    assert_eq!(
                        chunk.record(p).map(|r| r.to_vec()),
                        Some(records[p as usize].clone()),
                        "{n} records of {len} bytes, position {p}"
                    );
                }
                assert!(chunk.record(chunk.end_position()).is_none());
                position = chunk.end_position();
            }
            assert_eq!(position, n as u64, "{n} records of {len} bytes");
        }
    }

    #[test]
    fn chunks_respect_their_limits() {
        let chunks = parse_all(&records(200, 406));
        assert!(chunks.iter().all(|c| c.end_position() - c.first <= MAX_RECORDS as u64));
        assert!(
            chunks.len() > 200 / MAX_RECORDS,
            "406-byte records fill a chunk by size first"
        );
        // A record larger than the byte limit gets a chunk of its own.
        let big = parse_all(&records(3, MAX_BYTES + 1));
        assert_eq!(big.len(), 3);
        // A chunk of one is the bare record.
        let one = encode(&records(1, 50));
        assert_eq!(one, vec![(0, 1, vec![1u8; 50])]);
    }

    #[test]
    fn a_damaged_header_is_reported() {
        let (_, _, bytes) = encode(&records(5, 30)).remove(0);
        assert!(Chunk::parse(0, 5, IVec::from(bytes.as_slice())).is_ok());
        for at in 0..FIXED_HEADER + 4 * 5 {
            let mut damaged = bytes.clone();
            damaged[at] ^= 0x10;
            assert!(Chunk::parse(0, 5, IVec::from(damaged)).is_err(), "byte {at}");
        }
        assert!(
            Chunk::parse(0, 4, IVec::from(bytes.as_slice())).is_err(),
            "the key's count differs"
        );
        assert!(Chunk::parse(0, 5, IVec::from(&bytes[..FIXED_HEADER + 3])).is_err());
        assert!(Chunk::parse(0, 5, IVec::from(&bytes[..bytes.len() - 1])).is_err());
        assert!(Chunk::parse(0, 1, IVec::from(Vec::new())).is_err());
    }
}
