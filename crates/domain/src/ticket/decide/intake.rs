//! The first steps: receiving a report, acknowledging it, changing its
//! priority, answering an inquiry.

use chrono::{DateTime, Utc};

use crate::decider::Context;
use crate::error::DomainError;
use crate::ticket::{
    HandoverRecord, Location, Priority, Receive, Stamped, Status, TicketEvent, TicketKind, TicketState,
};

use super::{clock_setup, stamp, text, Refusal, TicketReference, MAX_ATTACHMENTS};

/// `Receive` on a ticket not yet received.
pub(super) fn receive(
    state: &TicketState,
    r: Receive,
    ctx: &Context<TicketReference<'_>>,
) -> Result<Vec<Stamped<TicketEvent>>, DomainError> {
    if state.ticket().is_some() {
        return Err(DomainError::AlreadyExists {
            what: format!("ticket {}", r.ticket),
        });
    }
    let at = ctx.action_time(None)?;
    text("description", &r.description, true)?;
    check_attachments(&r.attachments)?;
    if let Location::CommonArea { place, .. } = &r.location {
        text("common area", place, true)?;
    }
    check_handover(r.kind, r.handover.as_ref(), ctx, at)?;
    let clocks = clock_setup(
        &ctx.reference,
        r.kind,
        r.priority,
        &r.location,
        r.category,
        r.handover.as_ref(),
    )?;
    Ok(vec![stamp(
        ctx,
        at,
        TicketEvent::Received {
            ticket: r.ticket,
            kind: r.kind,
            channel: ctx.channel,
            reporter: r.reporter,
            location: r.location,
            category: r.category,
            trade: r.trade,
            description: r.description,
            attachments: r.attachments,
            priority: r.priority,
            handover: r.handover,
            clocks,
        },
    )])
}

/// At most [`MAX_ATTACHMENTS`] references to stored files.
fn check_attachments(attachments: &[String]) -> Result<(), DomainError> {
    if attachments.len() > MAX_ATTACHMENTS {
        return Err(DomainError::input(
            "attachments",
            format!("{} attachments (at most {MAX_ATTACHMENTS})", attachments.len()),
        ));
    }
    for a in attachments {
        if a.trim().is_empty() || a.len() > 512 || a.chars().any(char::is_control) {
            return Err(DomainError::input(
                "attachments",
                format!("{a:?} is not a file reference"),
            ));
        }
    }
    Ok(())
}

/// A handover defect carries the signed inspection record with a promised
/// date not before the inspection; no other kind carries one.
fn check_handover(
    kind: TicketKind,
    handover: Option<&HandoverRecord>,
    ctx: &Context<TicketReference<'_>>,
    at: DateTime<Utc>,
) -> Result<(), DomainError> {
    match (kind, handover) {
        (TicketKind::HandoverDefect, None) => {
            return Err(DomainError::input(
                "handover record",
                "a handover defect needs the inspection record signed by both sides",
            ))
        }
        (TicketKind::HandoverDefect, Some(h)) => {
            text("signed inspection record", &h.signed_record, true)?;
            let today = ctx.reference.calendar.local_date(at);
            if h.promised_by < today {
                return Err(DomainError::input(
                    "promised rectification date",
                    format!("{} is before the inspection on {today}", h.promised_by),
                ));
            }
        }
        (_, Some(_)) => {
            return Err(DomainError::input("handover record", "only handover defects carry one"));
        }
        (_, None) => {}
    }
    Ok(())
}

/// `Acknowledge`: owner contacted, expected time told.
pub(super) fn acknowledge(
    r: &Refusal<'_>,
    at: DateTime<Utc>,
    promised_at: Option<DateTime<Utc>>,
    note: String,
) -> Result<TicketEvent, DomainError> {
    r.only_in(&[Status::Received])?;
    text("note", &note, false)?;
    if let Some(p) = promised_at {
        if p < at {
            return Err(DomainError::input(
                "promised time",
                format!("{p} is before the acknowledgement at {at}"),
            ));
        }
    }
    Ok(TicketEvent::Acknowledged { promised_at, note })
}

/// `ChangePriority`: new clock targets from the policy in force.
pub(super) fn change_priority(
    r: &Refusal<'_>,
    ctx: &Context<TicketReference<'_>>,
    priority: Priority,
    reason: String,
) -> Result<TicketEvent, DomainError> {
    let ticket = r.ticket;
    text("reason", &reason, true)?;
    r.unless(
        priority != ticket.priority,
        format!("the priority is already {priority}"),
    )?;
    let clocks = clock_setup(
        &ctx.reference,
        ticket.kind,
        priority,
        &ticket.location,
        ticket.category,
        ticket.handover.as_ref(),
    )?;
    Ok(TicketEvent::PriorityChanged {
        from: ticket.priority,
        to: priority,
        reason,
        clocks,
    })
}

/// `AnswerInquiry`.
pub(super) fn answer_inquiry(r: &Refusal<'_>, answer: String, on_the_spot: bool) -> Result<TicketEvent, DomainError> {
    r.only_kinds(&[TicketKind::Inquiry])?;
    r.only_in(&[Status::Received, Status::Acknowledged])?;
    text("answer", &answer, true)?;
    Ok(TicketEvent::Answered { answer, on_the_spot })
}
