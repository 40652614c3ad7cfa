//! Opening sealed values for display: what a value opened to, and free
//! text with its sealed pieces put back or masked.

use domain::personal::{Personal, PersonalField, Sealed, TextKind, TextSeal};
use eventlog::codec;
use keyring::{describe_subject, Keyring, Unsealed};
use serde::de::DeserializeOwned;

use super::{PrivacyError, ERASED, KEY_MISSING, UNREADABLE};

/// What a sealed value opened to.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Opened<T> {
    /// The value.
    Clear(T),
    /// Its key was destroyed: erased.
    Erased,
    /// Its key is missing without an erasure: the key folder is damaged.
    KeyMissing,
    /// Its bytes do not open under its key.
    Unreadable,
}

impl<T> Opened<T> {
    /// The marker shown instead of a value that did not open.
    pub fn marker(&self) -> Option<&'static str> {
        match self {
            Opened::Clear(_) => None,
            Opened::Erased => Some(ERASED),
            Opened::KeyMissing => Some(KEY_MISSING),
            Opened::Unreadable => Some(UNREADABLE),
        }
    }
}

/// Opens `sealed`, logging damage (a missing key, altered bytes) as an
/// error that names the subject's kind.
pub fn open_sealed(ring: &Keyring, sealed: &Sealed) -> Result<Opened<Vec<u8>>, PrivacyError> {
    Ok(
        match ring.open_value(&sealed.subject, &sealed.nonce, &sealed.ciphertext)? {
            Unsealed::Opened(plain) => Opened::Clear(plain),
            Unsealed::Erased => Opened::Erased,
            Unsealed::KeyMissing => {
                tracing::error!(
                    subject = %describe_subject(&sealed.subject),
                    key = %ring.key_path(&sealed.subject).display(),
                    "a personal value cannot be opened: its key is missing from the key folder and was never erased; restore the key folder from the backup taken with the log"
                );
                Opened::KeyMissing
            }
            Unsealed::Unreadable => {
                tracing::error!(
                    subject = %describe_subject(&sealed.subject),
                    "a personal value does not open under its key: its sealed bytes were altered"
                );
                Opened::Unreadable
            }
        },
    )
}

/// What `field` holds: in clear as it is, or opened, or why not.
pub fn open_status<T: DeserializeOwned + Clone>(
    ring: &Keyring,
    field: &Personal<T>,
) -> Result<Opened<T>, PrivacyError> {
    if let Some(v) = field.expose() {
        return Ok(Opened::Clear(v.clone()));
    }
    let Some(sealed) = field.as_sealed() else {
        return Ok(Opened::Erased);
    };
    Ok(match open_sealed(ring, sealed)? {
        Opened::Clear(plain) => Opened::Clear(codec::decode("personal value", 2, &plain)?),
        Opened::Erased => Opened::Erased,
        Opened::KeyMissing => Opened::KeyMissing,
        Opened::Unreadable => Opened::Unreadable,
    })
}

/// The clear value of `field`: as it is if in clear, opened if sealed and
/// its key is there, `None` if it does not open (erased, or damaged:
/// [`open_status`] tells which).
pub fn open<T: DeserializeOwned + Clone>(ring: &Keyring, field: &Personal<T>) -> Result<Option<T>, PrivacyError> {
    Ok(match open_status(ring, field)? {
        Opened::Clear(v) => Some(v),
        _ => None,
    })
}

/// `text` as a reader sees it: each placeholder of a piece in `seals`
/// replaced by the piece as typed (`whole`) or masked as a field of its
/// kind is, or by [`ERASED`], [`KEY_MISSING`] or [`UNREADABLE`].
pub fn render_text(ring: &Keyring, text: &str, seals: &[TextSeal], whole: bool) -> Result<String, PrivacyError> {
    if seals.is_empty() {
        return Ok(text.to_string());
    }
    let mut failure = None;
    let rendered = domain::personal::replace_placeholders(text, |tag| {
        let seal = seals.iter().find(|s| s.tag == tag)?;
        match open_sealed(ring, &seal.sealed) {
            Ok(Opened::Clear(plain)) => {
                let original = String::from_utf8_lossy(&plain).into_owned();
                Some(if whole { original } else { mask(seal.kind, &original) })
            }
            Ok(other) => other.marker().map(str::to_string),
            Err(e) => {
                failure = Some(e);
                None
            }
        }
    });
    match failure {
        Some(e) => Err(e),
        None => Ok(rendered),
    }
}

fn mask(kind: TextKind, original: &str) -> String {
    kind.masked(original)
}

fn open_one<T: DeserializeOwned + Clone>(ring: &Keyring, field: &mut Personal<T>) -> Result<(), PrivacyError> {
    if field.as_sealed().is_some() {
        if let Opened::Clear(v) = open_status(ring, field)? {
            *field = Personal::new(v);
        }
    }
    Ok(())
}

/// Opens every sealed field of `fields` whose key is there; erased (and
/// damaged) ones stay sealed.
pub fn open_fields(ring: &Keyring, fields: Vec<PersonalField<'_>>) -> Result<(), PrivacyError> {
    for field in fields {
        match field {
            PersonalField::Name(f) => open_one(ring, f)?,
            PersonalField::Phone(f) => open_one(ring, f)?,
            PersonalField::IdNumber(f) => open_one(ring, f)?,
        }
    }
    Ok(())
}
