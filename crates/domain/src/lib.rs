//! The after-sales business rules (售后服务): commands, events and the
//! deciders that turn one into the other. Pure: no I/O, no clock, no
//! storage. `../shared/domain.md` describes the work; this crate models it.
//!
//! - [`ticket`]: the work item (工单) — repair, complaint, inquiry, handover
//!   defect — with its lifecycle rules ([`ticket::TicketDecider`]).
//! - [`archive`]: the customer archive (客户档案): projects, buildings,
//!   units, owners.
//! - [`incident`]: major complaints and batch defects handled as one.
//! - [`calendar`]: business time on a Chinese calendar with 调休.
//! - [`policy`]: service levels (响应时限) as versioned data.
//! - [`sla`]: the clocks, as a pure function of a ticket's events.
//! - [`warranty`]: warranty periods (保修期) and the computed finding.
//! - [`severity`]: the 0–100 severity score that suggests a priority.
//! - [`personal`]: personal data (PIPL) marked in the type system.
//! - [`decider`]: the `decide` / `evolve` shape and the [`decider::Context`].
//! - [`testing`]: given / when / then and fixtures.
//!
//! **Invariant:** the domain never reads the clock; `now` and the time an
//! action happened arrive in the [`decider::Context`]. Same inputs, same
//! outputs.
//!
//! ```
//! use domain::decider::Decider;
//! use domain::testing::fixtures::*;
//! use domain::ticket::{Priority, Status, TicketDecider, TicketKind};
//! let refs = refs();
//! let events = TicketDecider::decide(
//!     &Default::default(),
//!     receive(TicketKind::Repair, Priority::Urgent),
//!     &agent_context(&refs),
//! ).unwrap();
//! let ticket = TicketDecider::fold(&events);
//! assert_eq!(ticket.ticket().unwrap().status, Status::Received);
//! ```

/// Serde for a field-less enum by its stored name (`as_str` / `FromStr`),
/// in JSON and in the log alike, so that variants may be reordered but
/// never renamed.
macro_rules! serde_by_name {
    ($name:ident) => {
        impl ::serde::Serialize for $name {
            fn serialize<S: ::serde::Serializer>(&self, serializer: S) -> Result<S::Ok, S::Error> {
                serializer.serialize_str(self.as_str())
            }
        }

        impl<'de> ::serde::Deserialize<'de> for $name {
            fn deserialize<D: ::serde::Deserializer<'de>>(deserializer: D) -> Result<Self, D::Error> {
                let text = <::std::borrow::Cow<'de, str> as ::serde::Deserialize>::deserialize(deserializer)?;
                text.parse().map_err(::serde::de::Error::custom)
            }
        }
    };
}
pub(crate) use serde_by_name;

pub mod actor;
pub mod archive;
pub mod calendar;
pub mod decider;
pub mod directory;
pub mod error;
pub mod ids;
pub mod incident;
pub mod personal;
pub mod policy;
pub mod reference;
pub mod severity;
pub mod sla;
pub mod testing;
pub mod ticket;
pub mod warranty;

pub use decider::{Context, Decider, Stamped};
pub use error::DomainError;
