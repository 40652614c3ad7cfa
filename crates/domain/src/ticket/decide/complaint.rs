//! The complaint path: investigation, the proposed resolution, the owner's
//! response, escalation.

use crate::error::DomainError;
use crate::ids::IncidentId;
use crate::ticket::{EscalationLevel, Status as S, TicketEvent, TicketKind as K};

use super::{text, Refusal};

/// `Investigate`: findings, again after the owner disagreed.
pub(super) fn investigate(r: &Refusal<'_>, findings: String) -> Result<TicketEvent, DomainError> {
    r.only_kinds(&[K::Complaint])?;
    r.only_in(&[S::Acknowledged, S::Investigating, S::OwnerDisagreed])?;
    text("findings", &findings, true)?;
    Ok(TicketEvent::Investigated { findings })
}

/// `ProposeResolution`: once the facts are established.
pub(super) fn propose_resolution(r: &Refusal<'_>, proposal: String, basis: String) -> Result<TicketEvent, DomainError> {
    r.only_kinds(&[K::Complaint])?;
    r.unless(
        r.ticket.status == S::Investigating,
        "the facts have not been established yet",
    )?;
    text("proposal", &proposal, true)?;
    text("basis", &basis, true)?;
    Ok(TicketEvent::ResolutionProposed { proposal, basis })
}

/// `RecordOwnerResponse`: agreement, or disagreement with its reason.
pub(super) fn record_owner_response(r: &Refusal<'_>, agreed: bool, note: String) -> Result<TicketEvent, DomainError> {
    r.only_kinds(&[K::Complaint])?;
    r.unless(
        r.ticket.status == S::ResolutionProposed,
        "no resolution is waiting for the owner's response",
    )?;
    if agreed {
        text("note", &note, false)?;
        Ok(TicketEvent::OwnerAgreed { note })
    } else {
        text("reason", &note, true)?;
        Ok(TicketEvent::OwnerDisagreed { reason: note })
    }
}

/// `Escalate`: only ever to a higher level.
pub(super) fn escalate(
    r: &Refusal<'_>,
    level: EscalationLevel,
    incident: Option<IncidentId>,
    reason: String,
) -> Result<TicketEvent, DomainError> {
    r.only_kinds(&[K::Complaint])?;
    text("reason", &reason, true)?;
    // Every complaint is handled at project level to begin with.
    let current = r.ticket.escalation.unwrap_or(EscalationLevel::Project);
    r.unless(
        level > current,
        format!("it is already handled at {current} level; escalate to a higher one"),
    )?;
    Ok(TicketEvent::Escalated {
        level,
        incident,
        reason,
    })
}
