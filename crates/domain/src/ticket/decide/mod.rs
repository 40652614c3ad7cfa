//! The ticket rules: which command is allowed in which status, by whom, and
//! what it records.
//!
//! `decide` checks who acts and whether the ticket's status accepts the
//! command at all, then hands the command to one function, grouped by
//! concern: `access` (who may act), `intake` (receiving, acknowledging,
//! the priority, answering an inquiry), `repair` (dispatch to acceptance),
//! `diagnosis` (cause, warranty, cost), `complaint` (investigation to the
//! owner's response), `handling` (holds, merges, remarks, on any kind) and
//! `closing` (close, revisit).

use chrono::{DateTime, NaiveDate, NaiveTime, TimeZone, Utc};

use crate::calendar::BusinessCalendar;
use crate::decider::{Context, Decider};
use crate::error::DomainError;
use crate::policy::{ClockSetup, ClockTarget, ServicePolicy};
use crate::warranty::WarrantyRules;

use super::command::TicketCommand;
use super::event::{Stamped, TicketEvent};
use super::state::{evolve, Status, Ticket, TicketState};
use super::types::*;

mod access;
mod closing;
mod complaint;
mod diagnosis;
mod handling;
mod intake;
mod offer;
mod repair;

use access::check_actor;
pub use access::{authorize, roles_allowed};
pub use offer::offered;

/// Reference data a ticket decision needs.
#[derive(Debug, Clone, Copy)]
pub struct TicketReference<'a> {
    /// The service policy in force (recorded when clocks start or are
    /// re-targeted).
    pub policy: &'a ServicePolicy,
    /// The project's business calendar.
    pub calendar: &'a BusinessCalendar,
    /// Warranty periods.
    pub warranty: &'a WarrantyRules,
    /// Delivery date of the ticket's unit; for common areas, the date the
    /// area was handed over, if known.
    pub delivered_on: Option<NaiveDate>,
}

/// The ticket aggregate's decider.
#[derive(Debug, Clone, Copy, Default)]
pub struct TicketDecider;

impl Decider for TicketDecider {
    type State = TicketState;
    type Command = TicketCommand;
    type Event = Stamped<TicketEvent>;
    type Reference<'r> = TicketReference<'r>;

    fn decide(
        state: &TicketState,
        command: TicketCommand,
        ctx: &Context<TicketReference<'_>>,
    ) -> Result<Vec<Stamped<TicketEvent>>, DomainError> {
        decide(state, command, ctx)
    }

    fn evolve(state: TicketState, event: &Stamped<TicketEvent>) -> TicketState {
        evolve(state, event)
    }
}

/// Longest free text accepted (descriptions, notes, findings), in
/// characters.
pub const MAX_TEXT: usize = 4000;
/// Most attachments on one ticket.
pub const MAX_ATTACHMENTS: usize = 50;

/// The longest expected duration of a repair plan, in minutes (90 days).
pub const MAX_PLAN_MINUTES: u32 = 90 * 24 * 60;

/// The largest cost a plan may charge the owner, in fen (¥1,000,000).
pub const MAX_COST_FEN: u64 = 100_000_000;

fn text(field: &'static str, value: &str, required: bool) -> Result<(), DomainError> {
    if required && value.trim().is_empty() {
        return Err(DomainError::input(field, "it is empty"));
    }
    let n = value.chars().count();
    if n > MAX_TEXT {
        return Err(DomainError::input(
            field,
            format!("{n} characters (at most {MAX_TEXT})"),
        ));
    }
    if value
        .chars()
        .any(|c| c.is_control() && c != '\n' && c != '\t' && c != '\r')
    {
        return Err(DomainError::input(field, "it contains control characters"));
    }
    Ok(())
}

struct Refusal<'t> {
    ticket: &'t Ticket,
    action: &'static str,
}

impl Refusal<'_> {
    fn because(&self, reason: impl Into<String>) -> DomainError {
        DomainError::InvalidTransition {
            action: self.action,
            subject: format!("{} {}", self.ticket.kind.as_str().replace('_', " "), self.ticket.id),
            status: self.ticket.status.as_str().to_string(),
            reason: reason.into(),
        }
    }

    fn unless(&self, allowed: bool, reason: impl Into<String>) -> Result<(), DomainError> {
        if allowed {
            Ok(())
        } else {
            Err(self.because(reason))
        }
    }

    fn only_in(&self, statuses: &[Status]) -> Result<(), DomainError> {
        let expected = statuses.iter().map(|s| s.as_str()).collect::<Vec<_>>().join(" or ");
        self.unless(statuses.contains(&self.ticket.status), format!("it must be {expected}"))
    }

    fn only_kinds(&self, kinds: &[TicketKind]) -> Result<(), DomainError> {
        let expected = kinds
            .iter()
            .map(|k| k.as_str().replace('_', " "))
            .collect::<Vec<_>>()
            .join(" or ");
        let article = if expected.starts_with(['a', 'e', 'i', 'o', 'u']) {
            "an"
        } else {
            "a"
        };
        self.unless(
            kinds.contains(&self.ticket.kind),
            format!("only {article} {expected} allows this"),
        )
    }
}

/// The instant a promised rectification date ends: the start of the next
/// day in the calendar's time zone.
pub fn end_of_local_day(calendar: &BusinessCalendar, date: NaiveDate) -> DateTime<Utc> {
    let next = date.succ_opt().unwrap_or(date).and_time(NaiveTime::MIN);
    calendar
        .time_zone()
        .from_local_datetime(&next)
        .earliest()
        .map(|t| t.with_timezone(&Utc))
        .unwrap_or_else(|| Utc.from_utc_datetime(&next))
}

fn clock_setup(
    reference: &TicketReference<'_>,
    kind: TicketKind,
    priority: Priority,
    location: &Location,
    category: Category,
    handover: Option<&HandoverRecord>,
) -> Result<ClockSetup, DomainError> {
    let mut setup =
        reference
            .policy
            .clock_setup(kind, priority, Some(location.project()), category, reference.calendar)?;
    if let Some(h) = handover {
        setup.resolution = Some(ClockTarget::Deadline {
            due: end_of_local_day(reference.calendar, h.promised_by),
        });
    }
    Ok(setup)
}

fn stamp<R>(ctx: &Context<R>, at: DateTime<Utc>, event: TicketEvent) -> Stamped<TicketEvent> {
    Stamped {
        occurred_at: at,
        actor: ctx.actor.clone(),
        channel: ctx.channel,
        event,
        text_seals: Vec::new(),
    }
}

/// Decides a ticket command. See the crate docs for the lifecycle.
pub fn decide(
    state: &TicketState,
    command: TicketCommand,
    ctx: &Context<TicketReference<'_>>,
) -> Result<Vec<Stamped<TicketEvent>>, DomainError> {
    let Some(ticket) = state.ticket() else {
        check_actor(&ctx.actor, &command, None)?;
        return match command {
            TicketCommand::Receive(r) => intake::receive(state, *r, ctx),
            other => Err(DomainError::NotFound {
                what: format!("the ticket to {}", other.action()),
            }),
        };
    };
    check_actor(&ctx.actor, &command, Some(ticket))?;
    let at = ctx.action_time(Some(ticket.last_event_at))?;
    let r = Refusal {
        ticket,
        action: command.action(),
    };
    accepted_in_status(&r, &command)?;
    let event = dispatch(&r, command, ctx, at)?;
    Ok(vec![stamp(ctx, at, event)])
}

/// Finished tickets accept only remarks, revisits and (repairs) a reopen
/// when the problem comes back; a ticket on hold only what makes sense
/// while it waits.
fn accepted_in_status(r: &Refusal<'_>, command: &TicketCommand) -> Result<(), DomainError> {
    use Status as S;
    let status = r.ticket.status;
    if status.is_terminal() {
        let still_allowed = match command {
            TicketCommand::Comment { .. } => true,
            TicketCommand::RecordRevisit { .. } | TicketCommand::Reopen { .. } => status == S::Closed,
            _ => false,
        };
        r.unless(still_allowed, "the ticket is finished")?;
    }
    if status == S::OnHold {
        let still_allowed = matches!(
            command,
            TicketCommand::Resume { .. }
                | TicketCommand::Comment { .. }
                | TicketCommand::NoteProgress { .. }
                | TicketCommand::ChangePriority { .. }
                | TicketCommand::Withdraw { .. }
                | TicketCommand::Merge { .. }
                | TicketCommand::Escalate { .. }
                | TicketCommand::LinkIncident { .. }
        );
        r.unless(still_allowed, "resume it first")?;
    }
    Ok(())
}

/// The event a command on an existing ticket records, from the function
/// that handles it.
fn dispatch(
    r: &Refusal<'_>,
    command: TicketCommand,
    ctx: &Context<TicketReference<'_>>,
    at: DateTime<Utc>,
) -> Result<TicketEvent, DomainError> {
    use TicketCommand as C;
    match command {
        C::Receive(_) => Err(DomainError::AlreadyExists {
            what: format!("ticket {}", r.ticket.id),
        }),
        C::Acknowledge { promised_at, note } => intake::acknowledge(r, at, promised_at, note),
        C::ChangePriority { priority, reason } => intake::change_priority(r, ctx, priority, reason),
        C::AnswerInquiry { answer, on_the_spot } => intake::answer_inquiry(r, answer, on_the_spot),
        C::Dispatch { to, note } => repair::dispatch(r, to, note),
        C::Schedule { window } => repair::schedule(r, at, window),
        C::RecordArrival { note } => repair::record_arrival(r, note),
        C::Diagnose {
            cause,
            responsible,
            item,
            plan,
        } => diagnosis::diagnose(r, ctx, cause, responsible, item, plan),
        C::ConfirmPlan { confirmation } => repair::confirm_plan(r, confirmation),
        C::DeclinePlan { reason } => repair::decline_plan(r, reason),
        C::NoteProgress { note } => repair::note_progress(r, note),
        C::CompleteRepair { summary, usage_advice } => repair::complete(r, summary, usage_advice),
        C::AcceptRepair {
            confirmation,
            ratings,
            comment,
        } => repair::accept(r, confirmation, ratings, comment),
        C::RejectRepair { reason } => repair::reject(r, reason),
        C::Reopen { reason } => repair::reopen(r, reason),
        C::PutOnHold { reason, note } => handling::put_on_hold(r, reason, note),
        C::Resume { note } => handling::resume(r, note),
        C::Withdraw { reason } => handling::withdraw(r, reason),
        C::Merge { into } => handling::merge(r, into),
        C::LinkIncident { incident } => handling::link_incident(r, incident),
        C::Comment { text, internal } => handling::comment(r, ctx, text, internal),
        C::Close { note } => closing::close(r, note),
        C::RecordRevisit {
            outcome,
            ratings,
            stage,
            note,
        } => closing::record_revisit(r, outcome, ratings, stage, note),
        C::Investigate { findings } => complaint::investigate(r, findings),
        C::ProposeResolution { proposal, basis } => complaint::propose_resolution(r, proposal, basis),
        C::RecordOwnerResponse { agreed, note } => complaint::record_owner_response(r, agreed, note),
        C::Escalate {
            level,
            incident,
            reason,
        } => complaint::escalate(r, level, incident, reason),
    }
}
