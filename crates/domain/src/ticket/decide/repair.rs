//! The repair path (a handover defect's too) apart from the diagnosis:
//! dispatch, appointment, arrival, the owner's word on the plan, progress,
//! completion, acceptance or rejection, reopening.

use chrono::{DateTime, Utc};

use crate::error::DomainError;
use crate::ticket::{AppointmentWindow, Assignee, Ratings, Status as S, TicketEvent, TicketKind as K};

use super::{text, Refusal};

/// The kinds that follow the repair path.
const REPAIR_KINDS: &[K] = &[K::Repair, K::HandoverDefect];

/// `Dispatch` (also re-dispatch).
pub(super) fn dispatch(r: &Refusal<'_>, to: Assignee, note: String) -> Result<TicketEvent, DomainError> {
    let ticket = r.ticket;
    r.only_kinds(REPAIR_KINDS)?;
    text("note", &note, false)?;
    let mut allowed = vec![
        S::Acknowledged,
        S::Dispatched,
        S::Scheduled,
        S::OnSite,
        S::Diagnosed,
        S::PlanDeclined,
        S::InRepair,
        S::Reopened,
    ];
    if ticket.kind == K::HandoverDefect {
        allowed.push(S::Received);
    }
    r.only_in(&allowed)?;
    r.unless(
        ticket.assignee.as_ref() != Some(&to) || ticket.status != S::Dispatched,
        format!("it is already dispatched to {to}"),
    )?;
    Ok(TicketEvent::Dispatched {
        previous: ticket.assignee.clone(),
        to,
        note,
    })
}

/// `Schedule`: a window of at most a day, not over when agreed.
pub(super) fn schedule(
    r: &Refusal<'_>,
    at: DateTime<Utc>,
    window: AppointmentWindow,
) -> Result<TicketEvent, DomainError> {
    r.only_kinds(REPAIR_KINDS)?;
    r.only_in(&[S::Dispatched, S::Scheduled, S::Reopened, S::Diagnosed, S::InRepair])?;
    if window.to <= window.from {
        return Err(DomainError::input("appointment window", "it ends before it starts"));
    }
    if window.to - window.from > chrono::TimeDelta::days(1) {
        return Err(DomainError::input("appointment window", "longer than one day"));
    }
    if window.to <= at {
        return Err(DomainError::input(
            "appointment window",
            format!("it is over before it was agreed at {at}"),
        ));
    }
    Ok(TicketEvent::Scheduled { window })
}

/// `RecordArrival`.
pub(super) fn record_arrival(r: &Refusal<'_>, note: String) -> Result<TicketEvent, DomainError> {
    r.only_kinds(REPAIR_KINDS)?;
    r.only_in(&[S::Dispatched, S::Scheduled, S::Reopened, S::Diagnosed, S::InRepair])?;
    text("note", &note, false)?;
    Ok(TicketEvent::Arrived { note })
}

/// `ConfirmPlan`: the owner's signed confirmation.
pub(super) fn confirm_plan(r: &Refusal<'_>, confirmation: String) -> Result<TicketEvent, DomainError> {
    r.only_kinds(REPAIR_KINDS)?;
    r.only_in(&[S::Diagnosed, S::PlanDeclined])?;
    text("confirmation", &confirmation, true)?;
    Ok(TicketEvent::PlanConfirmed { confirmation })
}

/// `DeclinePlan`.
pub(super) fn decline_plan(r: &Refusal<'_>, reason: String) -> Result<TicketEvent, DomainError> {
    r.only_kinds(REPAIR_KINDS)?;
    r.only_in(&[S::Diagnosed])?;
    text("reason", &reason, true)?;
    Ok(TicketEvent::PlanDeclined { reason })
}

/// `NoteProgress`: once there is work in progress.
pub(super) fn note_progress(r: &Refusal<'_>, note: String) -> Result<TicketEvent, DomainError> {
    r.only_kinds(REPAIR_KINDS)?;
    r.unless(
        !matches!(r.ticket.status, S::Received | S::Acknowledged),
        "there is no work in progress to report on",
    )?;
    text("note", &note, true)?;
    Ok(TicketEvent::ProgressNoted { note })
}

/// `CompleteRepair`: after a diagnosis and, if chargeable, the owner's
/// confirmation of the plan.
pub(super) fn complete(r: &Refusal<'_>, summary: String, usage_advice: String) -> Result<TicketEvent, DomainError> {
    let ticket = r.ticket;
    r.only_kinds(REPAIR_KINDS)?;
    r.only_in(&[S::Diagnosed, S::InRepair, S::Reopened, S::OnSite])?;
    let Some(diagnosis) = &ticket.diagnosis else {
        return Err(r.because("there is no diagnosis yet"));
    };
    if diagnosis.chargeable && !ticket.plan_confirmed {
        let cost = diagnosis.plan.cost.map(|c| c.to_string()).unwrap_or_default();
        return Err(r.because(format!(
            "the repair is chargeable ({cost}) and the owner has not confirmed the plan"
        )));
    }
    text("summary", &summary, true)?;
    text("usage advice", &usage_advice, false)?;
    Ok(TicketEvent::Repaired { summary, usage_advice })
}

/// `AcceptRepair`: the owner signs off a finished repair.
pub(super) fn accept(
    r: &Refusal<'_>,
    confirmation: String,
    ratings: Ratings,
    comment: String,
) -> Result<TicketEvent, DomainError> {
    r.only_kinds(REPAIR_KINDS)?;
    r.unless(r.ticket.status == S::Repaired, "the repair is not finished")?;
    text("confirmation", &confirmation, true)?;
    text("comment", &comment, false)?;
    ratings.validate()?;
    Ok(TicketEvent::Accepted {
        confirmation,
        ratings,
        comment,
    })
}

/// `RejectRepair`.
pub(super) fn reject(r: &Refusal<'_>, reason: String) -> Result<TicketEvent, DomainError> {
    r.only_kinds(REPAIR_KINDS)?;
    r.unless(r.ticket.status == S::Repaired, "the repair is not finished")?;
    text("reason", &reason, true)?;
    Ok(TicketEvent::Rejected { reason })
}

/// `Reopen`: a rejected repair, or a closed accepted one whose problem came
/// back; each cycle is counted.
pub(super) fn reopen(r: &Refusal<'_>, reason: String) -> Result<TicketEvent, DomainError> {
    let ticket = r.ticket;
    let status = ticket.status;
    r.only_kinds(REPAIR_KINDS)?;
    r.unless(
        status == S::Rejected || (status == S::Closed && ticket.accepted_at.is_some()),
        "only a rejected repair, or a closed accepted one whose problem came back, can be reopened",
    )?;
    text("reason", &reason, true)?;
    Ok(TicketEvent::Reopened {
        reason,
        cycle: ticket.reopen_count + 1,
    })
}
