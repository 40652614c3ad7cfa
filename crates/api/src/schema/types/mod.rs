//! The enums and output objects of the schema.
//!
//! - `enums.rs`: the enums, each mirroring a domain enum;
//! - `ticket.rs`: the `Ticket` object, what it holds, and `TicketPayload`;
//! - `clocks.rs`: a ticket's service-level clocks;
//! - `personal.rs`: personal values and free text as the caller may see them.

mod clocks;
mod enums;
mod personal;
mod ticket;

pub use clocks::*;
pub use enums::*;
pub use personal::ERASED;
pub(crate) use personal::{shown, shown_in, text};
pub use ticket::*;
