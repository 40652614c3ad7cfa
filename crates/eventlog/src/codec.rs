//! Payload encoding, behind one small interface, and upcasting.
//!
//! Payloads are bincode 2 through serde with a frozen configuration:
//! little-endian, variable-length integers, no size limit. bincode is not
//! self-describing and its project has stopped (RUSTSEC-2025-0141), so
//! nothing outside this module names it: replacing the codec means adding a
//! new payload schema version and an upcaster from the old bytes, never
//! rewriting stored history. Golden-byte tests pin the encoding.
//!
//! Upcasting: an event stored with an older payload schema version is
//! brought to the current one by a chain of [`Upcaster`] steps, each from
//! version `n` to `n + 1`, before it is decoded as the current type.

use std::collections::HashMap;
use std::sync::Arc;

use serde::de::DeserializeOwned;
use serde::Serialize;

/// The frozen bincode configuration. Changing any of these settings
/// changes the bytes of every stored payload: don't.
fn config(
) -> bincode::config::Configuration<bincode::config::LittleEndian, bincode::config::Varint, bincode::config::NoLimit> {
    bincode::config::standard()
        .with_little_endian()
        .with_variable_int_encoding()
        .with_no_limit()
}

/// A payload could not be encoded, decoded or upcast.
#[derive(Debug, thiserror::Error)]
pub enum CodecError {
    /// serde/bincode refused to encode the value.
    #[error("cannot encode payload: {0}")]
    Encode(String),
    /// The bytes do not decode as the requested type.
    #[error("cannot decode payload of {event_type} v{schema_version}: {reason}")]
    Decode {
        /// Stored type name.
        event_type: String,
        /// Schema version the bytes were decoded as.
        schema_version: u16,
        /// What went wrong.
        reason: String,
    },
    /// No upcaster leads from the stored version to the wanted one.
    #[error("no upcaster for {event_type} from schema v{from} (wanted v{to})")]
    MissingUpcaster {
        /// Stored type name.
        event_type: String,
        /// Version without an upcaster.
        from: u16,
        /// Version wanted.
        to: u16,
    },
    /// The stored version is newer than this build understands.
    #[error("{event_type} is stored with schema v{stored}, newer than this build's v{current}")]
    FromTheFuture {
        /// Stored type name.
        event_type: String,
        /// Stored version.
        stored: u16,
        /// This build's version.
        current: u16,
    },
}

/// Encodes a payload with the frozen configuration.
pub fn encode<T: Serialize>(value: &T) -> Result<Vec<u8>, CodecError> {
    bincode::serde::encode_to_vec(value, config()).map_err(|e| CodecError::Encode(e.to_string()))
}

/// Decodes a payload written with the frozen configuration as `T`, without
/// upcasting. Trailing bytes are an error: they mean the bytes were not
/// written as `T`.
pub fn decode<T: DeserializeOwned>(event_type: &str, schema_version: u16, bytes: &[u8]) -> Result<T, CodecError> {
    let err = |reason: String| CodecError::Decode {
        event_type: event_type.to_owned(),
        schema_version,
        reason,
    };
    let (value, read) = bincode::serde::decode_from_slice(bytes, config()).map_err(|e| err(e.to_string()))?;
    if read != bytes.len() {
        return Err(err(format!("{} trailing bytes", bytes.len() - read)));
    }
    Ok(value)
}

/// One step of upcasting: turns the payload bytes of `event_type` at schema
/// version `from` into the bytes of version `from + 1`.
pub type Upcaster = Arc<dyn Fn(&[u8]) -> Result<Vec<u8>, CodecError> + Send + Sync>;

/// The registered upcasting steps, by event type and source version.
///
/// ```
/// use eventlog::codec::{self, Upcasters};
/// #[derive(serde::Serialize, serde::Deserialize)]
/// struct V1 { name: String }
/// #[derive(serde::Serialize, serde::Deserialize, PartialEq, Debug)]
/// struct V2 { name: String, phone: Option<String> }
///
/// let mut upcasters = Upcasters::default();
/// upcasters.register("OwnerRegistered", 1, |bytes| {
///     let old: V1 = codec::decode("OwnerRegistered", 1, bytes)?;
///     codec::encode(&V2 { name: old.name, phone: None })
/// });
/// let stored = codec::encode(&V1 { name: "王".into() }).unwrap();
/// let now: V2 = upcasters.decode("OwnerRegistered", 1, &stored, 2).unwrap();
/// assert_eq!(now, V2 { name: "王".into(), phone: None });
/// ```
#[derive(Clone, Default)]
pub struct Upcasters {
    steps: HashMap<(String, u16), Upcaster>,
}

impl Upcasters {
    /// Registers the step from `from` to `from + 1` for `event_type`.
    pub fn register(
        &mut self,
        event_type: &str,
        from: u16,
        step: impl Fn(&[u8]) -> Result<Vec<u8>, CodecError> + Send + Sync + 'static,
    ) {
        self.steps.insert((event_type.to_owned(), from), Arc::new(step));
    }

    /// Brings `bytes`, stored as `event_type` at `stored` version, to the
    /// `current` version's bytes.
    pub fn upcast(&self, event_type: &str, stored: u16, bytes: &[u8], current: u16) -> Result<Vec<u8>, CodecError> {
        if stored > current {
            return Err(CodecError::FromTheFuture {
                event_type: event_type.to_owned(),
                stored,
                current,
            });
        }
        let mut bytes = bytes.to_vec();
        for from in stored..current {
            let step = self
                .steps
                .get(&(event_type.to_owned(), from))
                .ok_or_else(|| CodecError::MissingUpcaster {
                    event_type: event_type.to_owned(),
                    from,
                    to: current,
                })?;
            bytes = step(&bytes)?;
        }
        Ok(bytes)
    }

    /// Upcasts then decodes as the current type `T` (schema `current`).
    pub fn decode<T: DeserializeOwned>(
        &self,
        event_type: &str,
        stored: u16,
        bytes: &[u8],
        current: u16,
    ) -> Result<T, CodecError> {
        if stored == current {
            return decode(event_type, current, bytes);
        }
        let bytes = self.upcast(event_type, stored, bytes, current)?;
        decode(event_type, current, &bytes)
    }
}

impl std::fmt::Debug for Upcasters {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        let mut keys: Vec<_> = self.steps.keys().collect();
        keys.sort();
        f.debug_struct("Upcasters").field("steps", &keys).finish()
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde::Deserialize;

    #[derive(Serialize, Deserialize, PartialEq, Debug)]
    struct Sample {
        ticket: u64,
        note: String,
        tags: Vec<String>,
        cost: Option<i64>,
        kind: Kind,
    }

    #[derive(Serialize, Deserialize, PartialEq, Debug)]
    enum Kind {
        Repair,
        Complaint { level: u8 },
    }

    /// If this fails, the payload encoding changed and stored events would
    /// decode wrongly: the codec configuration is frozen.
    #[test]
    fn golden_payload_bytes() -> Result<(), CodecError> {
        let value = Sample {
            ticket: 300,
            note: "漏水".into(),
            tags: vec!["a".into()],
            cost: Some(-2),
            kind: Kind::Complaint { level: 3 },
        };
        let bytes = encode(&value)?;
        assert_eq!(
            bytes,
            vec![
                251, 44, 1, // 300 as a varint
                6, 230, 188, 143, 230, 176, 180, // "漏水"
                1, 1, b'a', // ["a"]
                1, 3, // Some(-2), zigzag
                1, 3, // variant 1, level 3
            ]
        );
        assert_eq!(decode::<Sample>("Sample", 1, &bytes)?, value);
        Ok(())
    }

    #[test]
    fn trailing_bytes_are_refused() -> Result<(), CodecError> {
        let mut bytes = encode(&7u32)?;
        bytes.push(0);
        assert!(matches!(decode::<u32>("N", 1, &bytes), Err(CodecError::Decode { .. })));
        Ok(())
    }

    #[test]
    fn chained_upcast_and_missing_steps() -> Result<(), CodecError> {
        let mut up = Upcasters::default();
        up.register("T", 1, |b| {
            let v: u32 = decode("T", 1, b)?;
            encode(&(v, "added in v2".to_owned()))
        });
        up.register("T", 2, |b| {
            let (v, s): (u32, String) = decode("T", 2, b)?;
            encode(&(u64::from(v) * 10, s, true))
        });
        let stored = encode(&4u32)?;
        let v3: (u64, String, bool) = up.decode("T", 1, &stored, 3)?;
        assert_eq!(v3, (40, "added in v2".to_owned(), true));
        assert!(matches!(
            up.decode::<u64>("T", 1, &stored, 4),
            Err(CodecError::MissingUpcaster { from: 3, .. })
        ));
        assert!(matches!(
            up.decode::<u64>("T", 5, &stored, 3),
            Err(CodecError::FromTheFuture { stored: 5, .. })
        ));
        Ok(())
    }
}
