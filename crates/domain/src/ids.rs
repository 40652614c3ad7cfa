//! Identifiers of the things staff talk about: tickets, projects, buildings,
//! units, owners, incidents, staff members and contractors.
//!
//! Every identifier is a short, validated string chosen by the caller (the
//! API generates ticket numbers; the archive keeps the developer's own unit
//! codes such as `HZ-01-3-1502`). Validation happens once, at construction,
//! so that a value of one of these types is always safe to put in a stream
//! name, a log line or a URL.

use std::fmt;

use serde::{Deserialize, Serialize};

use crate::error::DomainError;

/// The longest identifier accepted, in bytes.
pub const MAX_ID_LEN: usize = 64;

fn validate(kind: &'static str, value: &str) -> Result<(), DomainError> {
    let problem = if value.is_empty() {
        Some("it is empty".to_string())
    } else if value.len() > MAX_ID_LEN {
        Some(format!("it is {} bytes long (at most {MAX_ID_LEN})", value.len()))
    } else {
        value
            .chars()
            .find(|c| !(c.is_alphanumeric() || matches!(c, '-' | '_' | '.' | ':')))
            .map(|c| format!("it contains {c:?} (letters, digits, '-', '_', '.' and ':' only)"))
    };
    match problem {
        Some(reason) => Err(DomainError::InvalidInput {
            field: kind,
            reason: format!("{value:?} is not a valid {kind}: {reason}"),
        }),
        None => Ok(()),
    }
}

macro_rules! identifier {
    ($(#[$doc:meta])* $name:ident, $kind:literal) => {
        $(#[$doc])*
        #[derive(Clone, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize, Deserialize)]
        #[serde(try_from = "String", into = "String")]
        pub struct $name(String);

        impl $name {
            /// Checks and wraps an identifier: non-empty, at most
            /// [`MAX_ID_LEN`] bytes, letters, digits, `-`, `_`, `.` and `:`.
            pub fn new(value: impl Into<String>) -> Result<Self, DomainError> {
                let value = value.into();
                validate($kind, &value)?;
                Ok(Self(value))
            }

            /// The identifier as text.
            pub fn as_str(&self) -> &str {
                &self.0
            }
        }

        impl TryFrom<String> for $name {
            type Error = DomainError;
            fn try_from(value: String) -> Result<Self, Self::Error> {
                Self::new(value)
            }
        }

        impl From<$name> for String {
            fn from(id: $name) -> String {
                id.0
            }
        }

        impl std::str::FromStr for $name {
            type Err = DomainError;
            fn from_str(s: &str) -> Result<Self, Self::Err> {
                Self::new(s)
            }
        }

        impl fmt::Display for $name {
            fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
                f.write_str(&self.0)
            }
        }

        impl fmt::Debug for $name {
            fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
                write!(f, "{}({:?})", stringify!($name), self.0)
            }
        }
    };
}

identifier!(
    /// A work item (工单): repair, complaint, inquiry or handover defect.
    TicketId,
    "ticket id"
);
identifier!(
    /// A development project (项目).
    ProjectId,
    "project id"
);
identifier!(
    /// A building (楼栋) within a project.
    BuildingId,
    "building id"
);
identifier!(
    /// An apartment or shop (房号).
    UnitId,
    "unit id"
);
identifier!(
    /// An owner (业主) in the customer archive.
    OwnerId,
    "owner id"
);
identifier!(
    /// A major complaint or batch defect handled as one (重大投诉 / 批量问题).
    IncidentId,
    "incident id"
);
identifier!(
    /// A person using the system: staff member, contractor's worker or owner.
    UserId,
    "user id"
);
identifier!(
    /// A repair or maintenance company (维修单位 / 维保单位).
    ContractorId,
    "contractor id"
);

/// 64-bit FNV-1a of `bytes`: a hash stable across builds and platforms
/// (unlike the standard library's hasher), for values derived from data
/// that must come out the same on every run: an import's keys from its
/// file, the simulator's seeds from stream names.
pub fn stable_hash(bytes: &[u8]) -> u64 {
    bytes.iter().fold(0xCBF2_9CE4_8422_2325, |h, b| {
        (h ^ u64::from(*b)).wrapping_mul(0x0000_0100_0000_01B3)
    })
}

#[cfg(test)]
mod stable_hash_tests {
    use super::stable_hash;

    #[test]
    fn stable_hash_is_fnv1a_64() {
        // The published FNV-1a 64 test vectors.
        assert_eq!(stable_hash(b""), 0xCBF2_9CE4_8422_2325);
        assert_eq!(stable_hash(b"a"), 0xAF63_DC4C_8601_EC8C);
        assert_eq!(stable_hash(b"foobar"), 0x8594_4171_F739_67E8);
    }
}
