//! Personal data (个人信息) under PIPL: owners' names, phone numbers and ID
//! numbers.
//!
//! Such values are wrapped in [`Personal`], so that the type system tells
//! every later layer which fields need masking or erasure. A `Personal`
//! value never prints itself: `Debug` shows `<personal>`, and there is no
//! `Display`. Reading the value takes a deliberate call to
//! [`Personal::expose`]; [`Personal::masked`] gives the form that roles
//! without a need to know may see.
//!
//! In the log and the views personal values are [`Sealed`]: encrypted
//! under a key per data subject kept outside the log, so that destroying
//! the key erases them everywhere while every history still replays
//! (PIPL art. 47). Commands carry values in clear; the service seals them
//! before it appends.
//!
//! The kinds of personal data are in `values`, personal data in free text
//! in `text`; this module holds the wrapper and how it is stored.
//!
//! ```
//! use domain::personal::{Personal, PhoneNumber, PersonName};
//! let phone = Personal::new(PhoneNumber::new("13812345678").unwrap());
//! assert_eq!(phone.masked().as_deref(), Some("138****5678"));
//! assert_eq!(format!("{phone:?}"), "Personal(<personal>)");
//! let name = Personal::new(PersonName::new("欧阳", "娜娜").unwrap());
//! assert_eq!(name.masked().as_deref(), Some("欧阳**"));
//! ```

use std::fmt;

use serde::{Deserialize, Serialize};

mod text;
mod values;

pub use text::*;
pub use values::*;

/// A value that is personal data: either in clear (as a command brings
/// it) or sealed (encrypted under its data subject's key, as the log and
/// the views keep it; see [`Sealed`]).
#[derive(Clone, PartialEq, Eq, Hash)]
pub struct Personal<T>(Held<T>);

#[derive(Clone, PartialEq, Eq, Hash, Serialize, Deserialize)]
enum Held<T> {
    Clear(T),
    Sealed(Sealed),
}

/// A personal value encrypted under the key of its data subject (an owner,
/// or a caller known only by phone number). The domain treats it as
/// opaque bytes: sealing and opening happen where the keys are, outside
/// the domain. Destroying the subject's key erases every value sealed
/// under it, in the log and in the views alike (crypto-shredding).
#[derive(Debug, Clone, PartialEq, Eq, Hash, Serialize, Deserialize)]
pub struct Sealed {
    /// The data subject whose key sealed the value (`owner-O-1`).
    pub subject: String,
    /// The cipher's nonce.
    pub nonce: Vec<u8>,
    /// The encrypted value, with its authentication tag.
    pub ciphertext: Vec<u8>,
}

impl<T> Personal<T> {
    /// Marks a value as personal data.
    pub fn new(value: T) -> Self {
        Self(Held::Clear(value))
    }

    /// A sealed value.
    pub fn sealed(sealed: Sealed) -> Self {
        Self(Held::Sealed(sealed))
    }

    /// The value itself if it is in clear, `None` if it is sealed. Call
    /// sites are where personal data leaves the protection of the type:
    /// keep them few and justified.
    pub fn expose(&self) -> Option<&T> {
        match &self.0 {
            Held::Clear(v) => Some(v),
            Held::Sealed(_) => None,
        }
    }

    /// The clear value, or `None` if sealed; for the same reasons as
    /// [`expose`](Self::expose).
    pub fn into_inner(self) -> Option<T> {
        match self.0 {
            Held::Clear(v) => Some(v),
            Held::Sealed(_) => None,
        }
    }

    /// The sealed form, if the value is sealed.
    pub fn as_sealed(&self) -> Option<&Sealed> {
        match &self.0 {
            Held::Clear(_) => None,
            Held::Sealed(s) => Some(s),
        }
    }
}

impl<T: Mask> Personal<T> {
    /// The masked form, safe to show to any role allowed to see the record;
    /// `None` if the value is sealed (open it first).
    pub fn masked(&self) -> Option<String> {
        self.expose().map(Mask::masked)
    }
}

impl<T> fmt::Debug for Personal<T> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match &self.0 {
            Held::Clear(_) => f.write_str("Personal(<personal>)"),
            Held::Sealed(s) => write!(f, "Personal(<sealed for {}>)", s.subject),
        }
    }
}

impl<T: Serialize> Serialize for Personal<T> {
    fn serialize<S: serde::Serializer>(&self, serializer: S) -> Result<S::Ok, S::Error> {
        self.0.serialize(serializer)
    }
}

impl<'de, T: Deserialize<'de>> Deserialize<'de> for Personal<T> {
    fn deserialize<D: serde::Deserializer<'de>>(deserializer: D) -> Result<Self, D::Error> {
        // Always tagged, clear or sealed. Payloads of schema version 1
        // held bare values; the stored format's reader decodes those
        // through mirrors of their old layout (`eventformat`), by the
        // version the log records.
        Held::deserialize(deserializer).map(Personal)
    }
}

/// A personal field of an event or a record, by kind, for the code that
/// seals and opens them.
pub enum PersonalField<'a> {
    /// A name.
    Name(&'a mut Personal<PersonName>),
    /// A phone number.
    Phone(&'a mut Personal<PhoneNumber>),
    /// An identity document number.
    IdNumber(&'a mut Personal<IdNumber>),
}

/// How a kind of personal data is shown to roles that may not see it whole.
pub trait Mask {
    /// The masked text.
    fn masked(&self) -> String;
}
