//! The one error type of the domain: every refusal is about the business,
//! never about storage, and names what was attempted and why it is refused.

use thiserror::Error;

/// Why a command was refused or reference data was rejected.
#[derive(Debug, Clone, PartialEq, Eq, Error)]
pub enum DomainError {
    /// The command is not allowed in the ticket's (or record's) current
    /// status, for example accepting a repair that is not repaired yet.
    #[error("cannot {action}: {subject} is {status}{}", explain(.reason))]
    InvalidTransition {
        /// What was attempted, in staff words ("accept the repair").
        action: &'static str,
        /// What it was attempted on ("ticket T-1").
        subject: String,
        /// The status it is in ("repair in progress").
        status: String,
        /// Extra explanation, empty when the status says it all.
        reason: String,
    },
    /// The acting user's role may not do this at all, or a contractor acts
    /// on a ticket that is not dispatched to it, or an owner on someone
    /// else's ticket.
    #[error("{actor} may not {action}: {reason}")]
    Forbidden {
        /// Who tried ("contractor user c-7").
        actor: String,
        /// What was attempted.
        action: &'static str,
        /// Why not.
        reason: String,
    },
    /// A field of the command is missing, malformed or out of range.
    #[error("invalid {field}: {reason}")]
    InvalidInput {
        /// The field, in staff words.
        field: &'static str,
        /// What is wrong with it.
        reason: String,
    },
    /// The time the action is said to have happened is impossible: in the
    /// future, or before the record's previous event.
    #[error("invalid time of the action: {reason}")]
    InvalidOccurredAt {
        /// What is wrong with it.
        reason: String,
    },
    /// The command refers to something that does not exist (yet), such as a
    /// ticket that was never received or a building that was never
    /// registered.
    #[error("{what} does not exist")]
    NotFound {
        /// What was looked for ("ticket T-9").
        what: String,
    },
    /// The command would create something that already exists.
    #[error("{what} already exists")]
    AlreadyExists {
        /// What exists already.
        what: String,
    },
    /// A decision needs reference data the caller did not supply, for
    /// example the delivery date of the unit to decide on warranty.
    #[error("missing reference data: {what}")]
    MissingReference {
        /// What is missing.
        what: String,
    },
    /// A calendar, policy or warranty file offered for publication has
    /// problems: every one of them, so that the operator fixes the file
    /// once.
    #[error("cannot publish {what}: {}", .problems.join("; "))]
    RefusedReferenceData {
        /// Which file or version ("business calendar cn-mainland 2027.1").
        what: String,
        /// Every problem found.
        problems: Vec<String>,
    },
    /// A calendar, policy or warranty table is malformed.
    #[error("invalid {what}: {reason}")]
    InvalidReferenceData {
        /// Which table ("business calendar cn-mainland 2026.1").
        what: String,
        /// What is wrong with it.
        reason: String,
    },
}

fn explain(reason: &str) -> String {
    if reason.is_empty() {
        String::new()
    } else {
        format!(" ({reason})")
    }
}

impl DomainError {
    /// Shorthand for an [`InvalidInput`](Self::InvalidInput) refusal.
    pub fn input(field: &'static str, reason: impl Into<String>) -> Self {
        Self::InvalidInput {
            field,
            reason: reason.into(),
        }
    }
}
