//! The layout of the records a view keeps of its own (a ticket's record in
//! the tickets and SLA views): each says which layout it is in its first
//! two bytes, [`TAG`] and then the layout's number, before the record's
//! bincode. A reader picks the decoder by that number; it never tries one
//! layout and then another.
//!
//! Records written by builds before the tag have no such bytes. They
//! begin with the varint length of a ticket number (1 to 64 bytes), and a
//! bincode varint never begins with 255, so they are told apart by their
//! first byte alone and read by each view's rules for them (the view's
//! `decode_untagged`). Such a record is written tagged the next time its
//! ticket changes, and a rebuild writes every record tagged.

use eventlog::codec::{self, CodecError};
use serde::{de::DeserializeOwned, Serialize};

/// The first byte of every tagged record.
pub const TAG: u8 = 0xFF;

/// What a stored record says of its layout.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Stored<'a> {
    /// A tagged record: its layout's number and the bytes after the tag.
    Tagged {
        /// The layout's number.
        layout: u8,
        /// The record's bincode.
        body: &'a [u8],
    },
    /// A record of a build before the tag.
    Untagged(&'a [u8]),
}

/// Reads the tag of a stored record.
pub fn stored(bytes: &[u8]) -> Stored<'_> {
    match bytes {
        [TAG, layout, body @ ..] => Stored::Tagged { layout: *layout, body },
        _ => Stored::Untagged(bytes),
    }
}

/// A record in layout `layout`: the tag, the layout's number, the bincode.
pub fn encode<T: Serialize>(layout: u8, value: &T) -> Result<Vec<u8>, CodecError> {
    let body = codec::encode(value)?;
    let mut bytes = Vec::with_capacity(body.len() + 2);
    bytes.extend_from_slice(&[TAG, layout]);
    bytes.extend_from_slice(&body);
    Ok(bytes)
}

/// Decodes the body of a tagged record of layout `layout`.
pub fn decode<T: DeserializeOwned>(what: &str, layout: u8, body: &[u8]) -> Result<T, CodecError> {
    codec::decode(what, u16::from(layout), body)
}

/// The error for a tagged record of a layout this build does not know
/// (written by a newer build).
pub fn unknown_layout(what: &str, layout: u8) -> CodecError {
    CodecError::Decode {
        event_type: what.to_string(),
        schema_version: u16::from(layout),
        reason: format!("record layout {layout} is unknown to this build (written by a newer one?)"),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_tagged_record_says_its_layout_first() {
        let bytes = encode(3, &("T-1".to_string(), 7u64)).unwrap_or_else(|e| panic!("{e}"));
        assert_eq!(&bytes[..2], &[TAG, 3]);
        match stored(&bytes) {
            Stored::Tagged { layout, body } => {
                assert_eq!(layout, 3);
                let back: (String, u64) = decode("test", layout, body).unwrap_or_else(|e| panic!("{e}"));
                assert_eq!(back, ("T-1".to_string(), 7));
            }
            other => panic!("{other:?}"),
        }
    }

    #[test]
    fn a_record_of_an_earlier_build_is_told_apart_by_its_first_byte() {
        // Untagged records begin with a ticket number's length.
        let untagged = codec::encode(&("T-20250101-0001".to_string(), 7u64)).unwrap_or_else(|e| panic!("{e}"));
        assert_ne!(untagged[0], TAG);
        assert_eq!(stored(&untagged), Stored::Untagged(&untagged));
        assert_eq!(stored(&[]), Stored::Untagged(&[]));
        assert_eq!(stored(&[TAG]), Stored::Untagged(&[TAG]));
    }
}
