//! The end of a ticket: closing it, and the revisit (回访) after.

use crate::error::DomainError;
use crate::ticket::{Ratings, RevisitOutcome, Status as S, TicketEvent, TicketKind as K, TouchpointStage};

use super::{text, Refusal};

/// `Close`: once the kind's path is finished.
pub(super) fn close(r: &Refusal<'_>, note: String) -> Result<TicketEvent, DomainError> {
    let status = r.ticket.status;
    text("note", &note, false)?;
    match r.ticket.kind {
        K::Repair | K::HandoverDefect => r.unless(
            matches!(status, S::Accepted | S::PlanDeclined),
            "a repair is closed once the owner accepted it or declined the plan",
        )?,
        K::Complaint => match status {
            S::OwnerDisagreed => return Err(r.because("the owner disagreed with the resolution; investigate again")),
            _ => r.unless(status == S::OwnerAgreed, "the owner has not agreed to a resolution")?,
        },
        K::Inquiry => r.unless(status == S::Answered, "the inquiry is not answered")?,
    }
    Ok(TicketEvent::Closed { note })
}

/// `RecordRevisit`: after the owner's acceptance or agreement.
pub(super) fn record_revisit(
    r: &Refusal<'_>,
    outcome: RevisitOutcome,
    ratings: Option<Ratings>,
    stage: TouchpointStage,
    note: String,
) -> Result<TicketEvent, DomainError> {
    let status = r.ticket.status;
    let done = match r.ticket.kind {
        K::Repair | K::HandoverDefect => matches!(status, S::Accepted | S::Closed),
        K::Complaint => matches!(status, S::OwnerAgreed | S::Closed),
        K::Inquiry => matches!(status, S::Answered | S::Closed),
    };
    r.unless(done, "a revisit follows the owner's acceptance or agreement")?;
    if let Some(ratings) = &ratings {
        ratings.validate()?;
    }
    text("note", &note, false)?;
    Ok(TicketEvent::Revisited {
        outcome,
        ratings,
        stage,
        note,
    })
}
