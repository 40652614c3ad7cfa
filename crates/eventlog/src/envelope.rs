//! The stored record: a versioned, checksummed envelope around each event.
//!
//! Layout of format 1 (all integers big-endian):
//!
//! | bytes | field |
//! |---|---|
//! | 1 | format version (1) |
//! | 4 | crc32c of every byte after this field |
//! | 8 | global position |
//! | 8 | stream version |
//! | 16 | event id |
//! | 8 | `recorded_at`, microseconds since the Unix epoch, UTC |
//! | 2 | payload schema version |
//! | 2 + n | stream id, UTF-8 |
//! | 2 + n | event type, UTF-8 |
//! | 2 + n | actor, UTF-8 |
//! | 2 + n | role, UTF-8 |
//! | 2 + n | channel, UTF-8 |
//! | 1 | flags: 1 = occurred_at, 2 = correlation id, 4 = causation id |
//! | 8 / 16 / 16 | the optional fields the flags announce, in that order |
//! | 4 + n | payload |
//!
//! The layout is written by hand rather than by a serialization library so
//! that the bytes of stored history cannot change when a dependency does;
//! golden-byte tests pin it.

use chrono::{DateTime, Utc};
use uuid::Uuid;

use crate::types::{EventId, NewEvent, Position, RecordedEvent, StreamId, StreamVersion};

/// The envelope format this build writes.
pub const FORMAT_VERSION: u8 = 1;

pub(crate) const FLAG_OCCURRED: u8 = 1;
pub(crate) const FLAG_CORRELATION: u8 = 2;
pub(crate) const FLAG_CAUSATION: u8 = 4;
/// The optional fields after the flags byte: flag and length, in order.
pub(crate) const OPTIONAL_FIELDS: [(u8, usize); 3] = [(FLAG_OCCURRED, 8), (FLAG_CORRELATION, 16), (FLAG_CAUSATION, 16)];
const HEADER_LEN: usize = 1 + 4;
/// Where the first length-prefixed text starts: after the header, the
/// position, version, id, `recorded_at` and schema version.
pub(crate) const TEXTS_AT: usize = HEADER_LEN + 8 + 8 + 16 + 8 + 2;

/// What the log adds to a [`NewEvent`] when it stores it.
pub(crate) struct Placement<'a> {
    pub position: Position,
    pub stream: &'a StreamId,
    pub stream_version: StreamVersion,
    pub recorded_at: DateTime<Utc>,
}

/// Encodes a record. The caller has checked the size limits, so every
/// length fits its prefix.
pub(crate) fn encode(at: &Placement<'_>, event: &NewEvent) -> Vec<u8> {
    let m = &event.metadata;
    let mut out = Vec::with_capacity(
        96 + at.stream.as_str().len()
            + event.event_type.len()
            + m.actor.len()
            + m.role.len()
            + m.channel.len()
            + event.payload.len(),
    );
    out.push(FORMAT_VERSION);
    out.extend_from_slice(&[0; 4]);
    out.extend_from_slice(&at.position.to_be_bytes());
    out.extend_from_slice(&at.stream_version.to_be_bytes());
    out.extend_from_slice(event.id.as_bytes());
    out.extend_from_slice(&at.recorded_at.timestamp_micros().to_be_bytes());
    out.extend_from_slice(&event.schema_version.to_be_bytes());
    for text in [at.stream.as_str(), &event.event_type, &m.actor, &m.role, &m.channel] {
        // Lengths were checked against limits far below u16::MAX.
        out.extend_from_slice(&(text.len() as u16).to_be_bytes());
        out.extend_from_slice(text.as_bytes());
    }
    let mut flags = 0;
    if m.occurred_at.is_some() {
        flags |= FLAG_OCCURRED;
    }
    if m.correlation_id.is_some() {
        flags |= FLAG_CORRELATION;
    }
    if m.causation_id.is_some() {
        flags |= FLAG_CAUSATION;
    }
    out.push(flags);
    if let Some(t) = m.occurred_at {
        out.extend_from_slice(&t.timestamp_micros().to_be_bytes());
    }
    if let Some(id) = m.correlation_id {
        out.extend_from_slice(id.as_bytes());
    }
    if let Some(id) = m.causation_id {
        out.extend_from_slice(id.as_bytes());
    }
    out.extend_from_slice(&(event.payload.len() as u32).to_be_bytes());
    out.extend_from_slice(&event.payload);
    let crc = crc32c::crc32c(&out[HEADER_LEN..]);
    out[1..HEADER_LEN].copy_from_slice(&crc.to_be_bytes());
    out
}

/// Why a record could not be decoded; turned into `StoreError::Corrupt`
/// with the position by the caller.
pub(crate) type DecodeError = String;

/// How much of a record to check when decoding it.
#[derive(Clone, Copy, PartialEq, Eq)]
pub(crate) enum Check {
    /// Checksum, layout, position: what every read does. The checksum
    /// vouches for the texts, which were written from valid `String`s.
    Read,
    /// Everything, also the UTF-8 of every text and the stream id's
    /// rules: what `verify` does.
    Full,
}

/// Decodes and checks a record stored under `position`, keeping `raw` as
/// the record's storage (no copy).
pub(crate) fn decode_raw(position: Position, raw: sled::IVec, check: Check) -> Result<RecordedEvent, DecodeError> {
    let bytes: &[u8] = &raw;
    if bytes.len() < HEADER_LEN {
        return Err(format!("record is {} bytes, shorter than its header", bytes.len()));
    }
    if bytes[0] != FORMAT_VERSION {
        return Err(format!("unknown envelope format {}", bytes[0]));
    }
    let stored_crc = u32::from_be_bytes([bytes[1], bytes[2], bytes[3], bytes[4]]);
    let actual_crc = crc32c::crc32c(&bytes[HEADER_LEN..]);
    if stored_crc != actual_crc {
        return Err(format!(
            "checksum mismatch (stored {stored_crc:08x}, computed {actual_crc:08x})"
        ));
    }
    let mut r = Reader {
        bytes,
        at: HEADER_LEN,
        check,
    };
    let stored_position = r.u64()?;
    if stored_position != position {
        return Err(format!("record says position {stored_position}"));
    }
    let stream_version = r.u64()?;
    let id = EventId(Uuid::from_bytes(r.array16()?));
    let recorded_at = micros_to_time(r.i64()?)?;
    let schema_version = r.u16()?;
    let mut text_lens = [0u16; 5];
    for (i, len) in text_lens.iter_mut().enumerate() {
        let (start, end) = r.text16()?;
        if i == 0 && check == Check::Full {
            let text = std::str::from_utf8(&bytes[start as usize..end as usize]).unwrap_or_default();
            StreamId::new(text).map_err(|e| e.to_string())?;
        }
        *len = (end - start) as u16;
    }
    let flags_at = r.at as u32;
    let flags = r.u8()?;
    if flags & !(FLAG_OCCURRED | FLAG_CORRELATION | FLAG_CAUSATION) != 0 {
        return Err(format!("unknown metadata flags {flags:#04x}"));
    }
    for (flag, len) in OPTIONAL_FIELDS {
        if flags & flag != 0 {
            let field = r.take(len)?;
            if flag == FLAG_OCCURRED && check == Check::Full {
                let micros = field.try_into().map(i64::from_be_bytes).unwrap_or(i64::MIN);
                micros_to_time(micros)?;
            }
        }
    }
    let payload_len = r.u32()?;
    let payload_at = r.at as u32;
    r.take(payload_len as usize)?;
    if r.at != bytes.len() {
        return Err(format!("{} unexpected bytes after the payload", bytes.len() - r.at));
    }
    Ok(RecordedEvent {
        position,
        stream_version,
        id,
        recorded_at,
        schema_version,
        text_lens,
        flags_at,
        payload_at,
        payload_len,
        raw,
    })
}

/// The length of the envelope that starts `bytes`, read from its own
/// fields (texts' lengths, flags, payload length), if its layout fits in
/// `bytes`; nothing is checked beyond that. How a repair finds records
/// among damaged bytes whose framing is gone; [`decode_raw`] then checks
/// the candidate.
pub(crate) fn envelope_len(bytes: &[u8]) -> Option<usize> {
    if *bytes.first()? != FORMAT_VERSION {
        return None;
    }
    let u16_at =
        |at: usize| -> Option<usize> { Some(u16::from_be_bytes(bytes.get(at..at + 2)?.try_into().ok()?) as usize) };
    let mut at = TEXTS_AT;
    for _ in 0..5 {
        at = at.checked_add(2)?.checked_add(u16_at(at)?)?;
    }
    let flags = *bytes.get(at)?;
    if flags & !(FLAG_OCCURRED | FLAG_CORRELATION | FLAG_CAUSATION) != 0 {
        return None;
    }
    at += 1;
    for (flag, len) in OPTIONAL_FIELDS {
        if flags & flag != 0 {
            at = at.checked_add(len)?;
        }
    }
    let payload_len = u32::from_be_bytes(bytes.get(at..at.checked_add(4)?)?.try_into().ok()?) as usize;
    let end = at.checked_add(4)?.checked_add(payload_len)?;
    (end <= bytes.len()).then_some(end)
}

/// Decodes a record read from sled (or built for it) without copying it.
pub(crate) fn decode(position: Position, value: sled::IVec) -> Result<RecordedEvent, DecodeError> {
    decode_raw(position, value, Check::Read)
}

fn micros_to_time(micros: i64) -> Result<DateTime<Utc>, DecodeError> {
    DateTime::from_timestamp_micros(micros).ok_or_else(|| format!("timestamp {micros} out of range"))
}

struct Reader<'a> {
    bytes: &'a [u8],
    at: usize,
    check: Check,
}

impl<'a> Reader<'a> {
    fn take(&mut self, n: usize) -> Result<&'a [u8], DecodeError> {
        let end = self
            .at
            .checked_add(n)
            .filter(|end| *end <= self.bytes.len())
            .ok_or_else(|| format!("record truncated at byte {} (needs {n} more)", self.at))?;
        let slice = &self.bytes[self.at..end];
        self.at = end;
        Ok(slice)
    }

    fn array<const N: usize>(&mut self) -> Result<[u8; N], DecodeError> {
        let mut out = [0; N];
        out.copy_from_slice(self.take(N)?);
        Ok(out)
    }

    fn u8(&mut self) -> Result<u8, DecodeError> {
        Ok(self.array::<1>()?[0])
    }

    fn u16(&mut self) -> Result<u16, DecodeError> {
        Ok(u16::from_be_bytes(self.array()?))
    }

    fn u32(&mut self) -> Result<u32, DecodeError> {
        Ok(u32::from_be_bytes(self.array()?))
    }

    fn u64(&mut self) -> Result<u64, DecodeError> {
        Ok(u64::from_be_bytes(self.array()?))
    }

    fn i64(&mut self) -> Result<i64, DecodeError> {
        Ok(i64::from_be_bytes(self.array()?))
    }

    fn array16(&mut self) -> Result<[u8; 16], DecodeError> {
        self.array()
    }

    /// A length-prefixed UTF-8 text: its byte range in the record (the
    /// UTF-8 is checked in the full check only).
    fn text16(&mut self) -> Result<(u32, u32), DecodeError> {
        let len = self.u16()? as usize;
        let start = self.at;
        let raw = self.take(len)?;
        if self.check == Check::Full {
            std::str::from_utf8(raw).map_err(|_| format!("invalid UTF-8 in a text field at byte {start}"))?;
        }
        Ok((start as u32, self.at as u32))
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::types::EventMetadata;

    fn stream() -> StreamId {
        StreamId::new("ticket-1").unwrap_or_else(|e| panic!("{e}"))
    }

    fn sample() -> (NewEvent, DateTime<Utc>) {
        let event = NewEvent {
            id: EventId(Uuid::from_u128(0x0123_4567_89ab_cdef_0011_2233_4455_6677)),
            event_type: "Received".into(),
            schema_version: 1,
            payload: vec![1, 2, 3],
            metadata: EventMetadata {
                actor: "u1".into(),
                role: "agent".into(),
                channel: "hotline".into(),
                occurred_at: DateTime::from_timestamp_micros(1_699_999_000_000_000),
                correlation_id: Some(Uuid::from_u128(1)),
                causation_id: None,
            },
        };
        let recorded_at = DateTime::from_timestamp_micros(1_700_000_000_123_456).unwrap_or_else(|| panic!("time"));
        (event, recorded_at)
    }

    fn sample_bytes() -> Vec<u8> {
        let (event, recorded_at) = sample();
        let stream = stream();
        let at = Placement {
            position: 7,
            stream: &stream,
            stream_version: 2,
            recorded_at,
        };
        encode(&at, &event)
    }

    fn try_decode(position: Position, bytes: &[u8]) -> Result<RecordedEvent, DecodeError> {
        let raw = sled::IVec::from(bytes);
        let read = decode_raw(position, raw.clone(), Check::Read);
        let full = decode_raw(position, raw, Check::Full);
        assert_eq!(read.is_ok(), full.is_ok(), "reads and verify agree on every record");
        full
    }

    /// The bytes of stored history must never change: if this fails, the
    /// envelope encoding changed and old data folders would no longer read.
    #[test]
    fn golden_bytes_of_format_1() {
        let bytes = sample_bytes();
        let hex: String = bytes.iter().map(|b| format!("{b:02x}")).collect();
        assert_eq!(
            hex,
            "01c4be3153\
             0000000000000007\
             0000000000000002\
             0123456789abcdef0011223344556677\
             00060a2418202240\
             0001\
             00087469636b65742d31\
             00085265636569766564\
             00027531\
             00056167656e74\
             0007686f746c696e65\
             03\
             00060a23dc837600\
             00000000000000000000000000000001\
             00000003010203"
        );
        let decoded = try_decode(7, &bytes).unwrap_or_else(|e| panic!("{e}"));
        let (event, recorded_at) = sample();
        assert!(decoded.same_content_as(&stream(), &event));
        assert_eq!(
            (decoded.position, decoded.stream_version, decoded.recorded_at),
            (7, 2, recorded_at)
        );
        assert_eq!(decoded.envelope_bytes(), &bytes[..]);
    }

    #[test]
    fn every_single_bit_flip_is_detected() {
        let bytes = sample_bytes();
        for i in 0..bytes.len() {
            for bit in 0..8 {
                let mut damaged = bytes.clone();
                damaged[i] ^= 1 << bit;
                assert!(
                    try_decode(7, &damaged).is_err(),
                    "flip of bit {bit} in byte {i} went unnoticed"
                );
            }
        }
    }

    #[test]
    fn every_truncation_is_detected() {
        let bytes = sample_bytes();
        for len in 0..bytes.len() {
            assert!(
                try_decode(7, &bytes[..len]).is_err(),
                "truncation to {len} bytes went unnoticed"
            );
        }
    }

    #[test]
    fn an_envelope_tells_its_own_length() {
        let bytes = sample_bytes();
        let mut longer = bytes.clone();
        longer.extend_from_slice(&[7; 40]);
        assert_eq!(
            envelope_len(&longer),
            Some(bytes.len()),
            "trailing bytes are not the envelope's"
        );
        assert_eq!(envelope_len(&bytes), Some(bytes.len()));
        for len in 0..bytes.len() {
            assert_eq!(envelope_len(&bytes[..len]), None, "cut to {len} bytes");
        }
        let mut other_format = bytes.clone();
        other_format[0] = 2;
        assert_eq!(envelope_len(&other_format), None);
    }

    #[test]
    fn a_record_under_the_wrong_key_is_detected() {
        let bytes = sample_bytes();
        let err = try_decode(8, &bytes).err().unwrap_or_default();
        assert!(err.contains("position 7"), "{err}");
    }
}
