//! The ticket aggregate (工单): one stream per ticket, whatever its kind.
//!
//! **Repair** (and a handover defect from dispatch on):
//! `Received → Acknowledged → Dispatched → [Scheduled] → Arrived (on site)
//! → Diagnosed → [PlanConfirmed] → Repaired → Accepted → Closed → [Revisited]`.
//! A chargeable diagnosis (out of warranty, or owner misuse) needs the
//! owner's `PlanConfirmed` before `Repaired`. A rejection (`Rejected`) is
//! followed by `Reopened` and rework, as many times as needed; each cycle is
//! counted. Re-dispatch, re-scheduling, holds, priority changes, merging and
//! withdrawal are allowed where the process allows them.
//!
//! **Complaint**: `Received → Acknowledged → Investigated →
//! ResolutionProposed → OwnerAgreed | OwnerDisagreed (→ Investigated …) →
//! [Revisited] → Closed`, escalation at any open step.
//!
//! **Inquiry**: `Received → [Acknowledged] → Answered → Closed`.
//!
//! **Handover defect**: `Received` with the signed inspection record and a
//! promised rectification date, then `Dispatched` and the repair path.
//!
//! Every refusal names the ticket's status and the attempted action:
//!
//! ```
//! # use domain::testing::fixtures::*;
//! use domain::ticket::{TicketCommand, TicketDecider};
//! use domain::decider::Decider;
//! let state = TicketDecider::fold(&repair_received_and_acknowledged());
//! let err = TicketDecider::decide(&state, TicketCommand::AcceptRepair {
//!     confirmation: "QR-1".into(), ratings: ratings(5), comment: String::new(),
//! }, &agent_context(&refs())).unwrap_err();
//! assert_eq!(err.to_string(), "cannot accept the repair: repair T-1 is acknowledged (the repair is not finished)");
//! ```

mod command;
mod decide;
mod event;
mod state;
mod types;

pub use command::{Receive, TicketCommand};
pub use decide::{
    authorize, decide, end_of_local_day, offered, roles_allowed, TicketDecider, TicketReference, MAX_ATTACHMENTS,
    MAX_TEXT,
};
pub use event::{SettledClock, Stamped, TicketEvent};
pub use state::{evolve, Diagnosis, Status, Ticket, TicketState};
pub use types::*;
