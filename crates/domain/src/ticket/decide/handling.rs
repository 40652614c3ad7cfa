//! Commands on a ticket of any kind while it is open: holds, withdrawal,
//! merging, incidents, remarks.

use crate::actor::Role;
use crate::decider::Context;
use crate::error::DomainError;
use crate::ids::{IncidentId, TicketId};
use crate::ticket::{HoldReason, Status as S, TicketEvent};

use super::{text, Refusal, TicketReference};

/// `PutOnHold`.
pub(super) fn put_on_hold(r: &Refusal<'_>, reason: HoldReason, note: String) -> Result<TicketEvent, DomainError> {
    r.unless(r.ticket.status != S::OnHold, "it is already on hold")?;
    text("note", &note, false)?;
    Ok(TicketEvent::PutOnHold { reason, note })
}

/// `Resume`.
pub(super) fn resume(r: &Refusal<'_>, note: String) -> Result<TicketEvent, DomainError> {
    r.unless(r.ticket.status == S::OnHold, "it is not on hold")?;
    text("note", &note, false)?;
    Ok(TicketEvent::Resumed { note })
}

/// `Withdraw`: not once the work is done.
pub(super) fn withdraw(r: &Refusal<'_>, reason: String) -> Result<TicketEvent, DomainError> {
    r.unless(
        !matches!(r.ticket.status, S::Repaired | S::Accepted),
        "the work is done; close the ticket instead",
    )?;
    text("reason", &reason, true)?;
    Ok(TicketEvent::Withdrawn { reason })
}

/// `Merge`: this ticket is a duplicate of `into`.
pub(super) fn merge(r: &Refusal<'_>, into: TicketId) -> Result<TicketEvent, DomainError> {
    r.unless(into != r.ticket.id, "a ticket cannot be merged into itself")?;
    r.unless(
        !matches!(r.ticket.status, S::Repaired | S::Accepted),
        "the work is done; close the ticket instead",
    )?;
    Ok(TicketEvent::MergedInto { into })
}

/// `LinkIncident`.
pub(super) fn link_incident(r: &Refusal<'_>, incident: IncidentId) -> Result<TicketEvent, DomainError> {
    r.unless(
        r.ticket.incident.as_ref() != Some(&incident),
        format!("it is already part of incident {incident}"),
    )?;
    Ok(TicketEvent::LinkedToIncident { incident })
}

/// `Comment`: internal remarks are for staff.
pub(super) fn comment(
    r: &Refusal<'_>,
    ctx: &Context<TicketReference<'_>>,
    remark: String,
    internal: bool,
) -> Result<TicketEvent, DomainError> {
    text("comment", &remark, true)?;
    if internal && ctx.actor.role == Role::Owner {
        return Err(DomainError::Forbidden {
            actor: ctx.actor.to_string(),
            action: r.action,
            reason: "internal remarks are for staff".into(),
        });
    }
    Ok(TicketEvent::Commented { text: remark, internal })
}
