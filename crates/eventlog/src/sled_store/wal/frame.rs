//! The frame format: magic `AWF1`, payload length (4), crc32c of the
//! payload (4), payload = records, each a length (4) and an envelope.

use crate::sled_store::keys::be_u64;
use crate::types::Position;

pub(super) const MAGIC: &[u8; 4] = b"AWF1";
pub(super) const FRAME_HEADER: usize = 12;

/// The largest payload a frame can hold: its length field has 4 bytes.
/// The writer keeps every group far below it (see `MAX_GROUP_BYTES` in
/// [`crate::sled_store::writer`]), so one request, however many streams it appends
/// to, always fits one frame and is never split.
pub(crate) const MAX_FRAME_PAYLOAD: usize = u32::MAX as usize;

/// Lays out one frame while a group is planned.
pub(crate) struct FrameBuilder {
    bytes: Vec<u8>,
}

impl FrameBuilder {
    pub fn new() -> Self {
        let mut bytes = Vec::with_capacity(64 * 1024);
        bytes.extend_from_slice(MAGIC);
        bytes.extend_from_slice(&[0; 8]);
        Self { bytes }
    }

    pub fn push(&mut self, envelope: &[u8]) {
        // Envelopes are far below 4 GiB (payloads are capped at 64 KiB).
        self.bytes.extend_from_slice(&(envelope.len() as u32).to_be_bytes());
        self.bytes.extend_from_slice(envelope);
    }

    pub fn finish(mut self) -> Vec<u8> {
        // Groups are capped far below `MAX_FRAME_PAYLOAD` (`MAX_GROUP_BYTES`).
        let payload_len = (self.bytes.len() - FRAME_HEADER) as u32;
        let crc = crc32c::crc32c(&self.bytes[FRAME_HEADER..]);
        self.bytes[4..8].copy_from_slice(&payload_len.to_be_bytes());
        self.bytes[8..12].copy_from_slice(&crc.to_be_bytes());
        self.bytes
    }
}

/// The frame that starts at `at` in `data`, if a whole, valid one does:
/// its payload's range.
pub(super) fn frame_at(data: &[u8], at: usize) -> Option<std::ops::Range<usize>> {
    let header = data.get(at..at.checked_add(FRAME_HEADER)?)?;
    if &header[..4] != MAGIC {
        return None;
    }
    let len = u32::from_be_bytes([header[4], header[5], header[6], header[7]]) as usize;
    let crc = u32::from_be_bytes([header[8], header[9], header[10], header[11]]);
    let range = at + FRAME_HEADER..(at + FRAME_HEADER).checked_add(len)?;
    let payload = data.get(range.clone())?;
    (crc32c::crc32c(payload) == crc).then_some(range)
}

/// The first whole, valid frame that starts after `from`.
pub(super) fn next_frame(data: &[u8], from: usize) -> Option<(usize, std::ops::Range<usize>)> {
    let mut at = from;
    while let Some(found) = data.get(at..)?.windows(4).position(|w| w == MAGIC) {
        let start = at + found;
        if let Some(range) = frame_at(data, start) {
            return Some((start, range));
        }
        at = start + 1;
    }
    None
}

/// The positions of the first and the last record of a frame's payload.
pub(super) fn positions_of(payload: &[u8]) -> Option<(Position, Position)> {
    let mut at = 0;
    let mut first = None;
    let mut last = None;
    while at < payload.len() {
        let len = payload.get(at..at + 4).and_then(be_u32)? as usize;
        let position = payload.get(at + 4 + 5..at + 4 + 13).and_then(be_u64)?;
        first.get_or_insert(position);
        last = Some(position);
        at += 4 + len;
    }
    Some((first?, last?))
}

fn be_u32(bytes: &[u8]) -> Option<u32> {
    Some(u32::from_be_bytes(bytes.try_into().ok()?))
}

/// The records of a frame's payload: each one's bytes, in order; `None`
/// if the payload is not a sequence of length-prefixed records.
pub(crate) fn records_of(payload: &[u8]) -> Option<Vec<&[u8]>> {
    let mut out = Vec::new();
    let mut at = 0;
    while at < payload.len() {
        let len = payload.get(at..at.checked_add(4)?).and_then(be_u32)? as usize;
        let start = at + 4;
        let end = start.checked_add(len)?;
        out.push(payload.get(start..end)?);
        at = end;
    }
    Some(out)
}
