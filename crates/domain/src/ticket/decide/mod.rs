//! The ticket rules: which command is allowed in which status, by whom, and
//! what it records.

use chrono::{DateTime, NaiveDate, NaiveTime, TimeZone, Utc};

use crate::actor::{Actor, Role};
use crate::calendar::BusinessCalendar;
use crate::decider::{Context, Decider};
use crate::error::DomainError;
use crate::policy::{ClockSetup, ClockTarget, ServicePolicy};
use crate::warranty::WarrantyRules;

use super::command::{Receive, TicketCommand};
use super::event::{Stamped, TicketEvent};
use super::state::{evolve, Status, Ticket, TicketState};
use super::types::*;

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

fn roles_for(command: &TicketCommand) -> &'static [Role] {
    use Role::*;
    use TicketCommand as C;
    match command {
        C::Receive(_) => &[Agent, Manager, Engineer, Owner, System],
        C::Acknowledge { .. } | C::AnswerInquiry { .. } => &[Agent, Manager, Engineer, System],
        C::ChangePriority { .. } => &[Agent, Manager, Engineer, System],
        C::Dispatch { .. } => &[Agent, Manager, Engineer, System],
        C::Schedule { .. } | C::PutOnHold { .. } | C::Resume { .. } => &[Agent, Manager, Engineer, Contractor, System],
        C::RecordArrival { .. } | C::NoteProgress { .. } | C::CompleteRepair { .. } => {
            &[Manager, Engineer, Contractor, System]
        }
        // Cause and responsibility decide who pays: the engineer's call
        // (工程部), never the contractor's, whose own work may be at fault.
        C::Diagnose { .. } => &[Manager, Engineer, System],
        C::LinkIncident { .. } => &[Agent, Manager, Engineer, System],
        C::ConfirmPlan { .. } | C::DeclinePlan { .. } | C::AcceptRepair { .. } | C::RejectRepair { .. } => {
            &[Owner, Agent, Manager, Engineer, System]
        }
        C::RecordOwnerResponse { .. } => &[Owner, Agent, Manager, System],
        C::Reopen { .. } => &[Agent, Manager, Engineer, System],
        C::Withdraw { .. } => &[Owner, Agent, Manager, System],
        C::Merge { .. } | C::Close { .. } | C::Escalate { .. } | C::ProposeResolution { .. } => {
            &[Agent, Manager, System]
        }
        C::RecordRevisit { .. } => &[Agent, Manager, System],
        C::Investigate { .. } => &[Agent, Manager, Engineer, System],
        C::Comment { .. } => &[Agent, Manager, Engineer, Contractor, Owner, Admin, System],
    }
}

/// Which roles may issue a command at all (the finer rules, such as a
/// contractor acting only on its own tickets, are checked in `decide`).
pub fn roles_allowed(command: &TicketCommand) -> &'static [Role] {
    roles_for(command)
}

/// Whether `actor` may issue `command` on `ticket` (`None`: a ticket not
/// yet received): the role, a contractor only on the tickets dispatched to
/// its company, an owner only on their own reports. `decide` checks it
/// first; a server checks it before anything else (a retry lookup
/// included).
pub fn authorize(actor: &Actor, command: &TicketCommand, ticket: Option<&Ticket>) -> Result<(), DomainError> {
    check_actor(actor, command, ticket)
}

fn check_actor(actor: &Actor, command: &TicketCommand, ticket: Option<&Ticket>) -> Result<(), DomainError> {
    let action = command.action();
    let forbidden = |reason: String| DomainError::Forbidden {
        actor: actor.to_string(),
        action,
        reason,
    };
    if !roles_for(command).contains(&actor.role) {
        return Err(forbidden(format!("the {} role cannot do this", actor.role)));
    }
    match actor.role {
        Role::Contractor => {
            let Some(company) = &actor.contractor else {
                return Err(forbidden("the contractor user belongs to no contractor".into()));
            };
            let assigned = ticket.and_then(|t| t.assignee.as_ref());
            if assigned != Some(&Assignee::Contractor(company.clone())) {
                return Err(forbidden(format!(
                    "the ticket is not dispatched to contractor {company}"
                )));
            }
        }
        Role::Owner => {
            let Some(owner) = &actor.owner else {
                return Err(forbidden("the owner user is linked to no owner record".into()));
            };
            let reporter = match (ticket, command) {
                (Some(t), _) => t.reporter.owner.as_ref(),
                (None, TicketCommand::Receive(r)) => r.reporter.owner.as_ref(),
                (None, _) => None,
            };
            if reporter != Some(owner) {
                return Err(forbidden("owners act only on their own reports".into()));
            }
        }
        _ => {}
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

fn receive(
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
    if r.attachments.len() > MAX_ATTACHMENTS {
        return Err(DomainError::input(
            "attachments",
            format!("{} attachments (at most {MAX_ATTACHMENTS})", r.attachments.len()),
        ));
    }
    for a in &r.attachments {
        if a.trim().is_empty() || a.len() > 512 || a.chars().any(char::is_control) {
            return Err(DomainError::input(
                "attachments",
                format!("{a:?} is not a file reference"),
            ));
        }
    }
    if let Location::CommonArea { place, .. } = &r.location {
        text("common area", place, true)?;
    }
    match (r.kind, &r.handover) {
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
            TicketCommand::Receive(r) => receive(state, *r, ctx),
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
    use Status as S;
    use TicketKind as K;
    let status = ticket.status;

    // Finished tickets accept only remarks, revisits and (repairs) a reopen
    // when the problem comes back.
    if status.is_terminal() {
        let still_allowed = match &command {
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

    let event = match command {
        TicketCommand::Receive(_) => {
            return Err(DomainError::AlreadyExists {
                what: format!("ticket {}", ticket.id),
            })
        }
        TicketCommand::Acknowledge { promised_at, note } => {
            r.only_in(&[S::Received])?;
            text("note", &note, false)?;
            if let Some(p) = promised_at {
                if p < at {
                    return Err(DomainError::input(
                        "promised time",
                        format!("{p} is before the acknowledgement at {at}"),
                    ));
                }
            }
            TicketEvent::Acknowledged { promised_at, note }
        }
        TicketCommand::ChangePriority { priority, reason } => {
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
            TicketEvent::PriorityChanged {
                from: ticket.priority,
                to: priority,
                reason,
                clocks,
            }
        }
        TicketCommand::Dispatch { to, note } => {
            r.only_kinds(&[K::Repair, K::HandoverDefect])?;
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
                ticket.assignee.as_ref() != Some(&to) || status != S::Dispatched,
                format!("it is already dispatched to {to}"),
            )?;
            TicketEvent::Dispatched {
                previous: ticket.assignee.clone(),
                to,
                note,
            }
        }
        TicketCommand::Schedule { window } => {
            r.only_kinds(&[K::Repair, K::HandoverDefect])?;
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
            TicketEvent::Scheduled { window }
        }
        TicketCommand::RecordArrival { note } => {
            r.only_kinds(&[K::Repair, K::HandoverDefect])?;
            r.only_in(&[S::Dispatched, S::Scheduled, S::Reopened, S::Diagnosed, S::InRepair])?;
            text("note", &note, false)?;
            TicketEvent::Arrived { note }
        }
        TicketCommand::Diagnose {
            cause,
            responsible,
            item,
            plan,
        } => {
            r.only_kinds(&[K::Repair, K::HandoverDefect])?;
            r.only_in(&[S::OnSite, S::Diagnosed, S::PlanDeclined])?;
            text("cause", &cause, true)?;
            text("plan", &plan.content, true)?;
            for m in &plan.materials {
                text("materials", m, true)?;
            }
            if !(1..=MAX_PLAN_MINUTES).contains(&plan.duration_minutes) {
                return Err(DomainError::input(
                    "durationMinutes",
                    format!(
                        "{} minutes (from 1 to {MAX_PLAN_MINUTES}, 90 days)",
                        plan.duration_minutes
                    ),
                ));
            }
            if let Some(cost) = plan.cost.filter(|c| c.fen > MAX_COST_FEN) {
                return Err(DomainError::input(
                    "cost",
                    format!("{cost} (at most {})", Money { fen: MAX_COST_FEN }),
                ));
            }
            let warranty = match (ctx.reference.delivered_on, &ticket.location) {
                (Some(delivered_on), location) => {
                    let report_date = ctx.reference.calendar.local_date(ticket.received_at);
                    Some(ctx.reference.warranty.finding_on(
                        item,
                        Some(location.project()),
                        delivered_on,
                        report_date,
                        ctx.reference.calendar,
                    ))
                }
                // A defect found at pre-inspection precedes delivery: the
                // developer's, whatever the warranty.
                (None, _) if ticket.kind == TicketKind::HandoverDefect => None,
                (None, Location::Unit { unit, .. }) => {
                    return Err(DomainError::MissingReference {
                        what: format!("the delivery date of unit {unit}, needed to decide on warranty"),
                    })
                }
                (None, Location::CommonArea { .. }) => None,
            };
            let in_warranty = warranty.as_ref().is_none_or(|w| w.in_warranty);
            if responsible == ResponsibleParty::Developer && !in_warranty {
                let ended = warranty.as_ref().map(|w| w.last_day.to_string()).unwrap_or_default();
                return Err(DomainError::input(
                    "responsible party",
                    format!(
                        "the developer's warranty for {} ended on {ended}; the repair is chargeable",
                        item.as_str().replace('_', " ")
                    ),
                ));
            }
            let chargeable = !in_warranty || responsible == ResponsibleParty::OwnerMisuse;
            match (chargeable, plan.cost) {
                (true, None) | (true, Some(Money { fen: 0 })) => {
                    return Err(DomainError::input(
                        "plan cost",
                        "a chargeable repair needs its cost for the owner",
                    ))
                }
                (false, Some(_)) => {
                    return Err(DomainError::input(
                        "plan cost",
                        "the repair is free for the owner; leave the cost out",
                    ))
                }
                _ => {}
            }
            TicketEvent::Diagnosed {
                cause,
                responsible,
                warranty,
                chargeable,
                plan,
            }
        }
        TicketCommand::ConfirmPlan { confirmation } => {
            r.only_kinds(&[K::Repair, K::HandoverDefect])?;
            r.only_in(&[S::Diagnosed, S::PlanDeclined])?;
            text("confirmation", &confirmation, true)?;
            TicketEvent::PlanConfirmed { confirmation }
        }
        TicketCommand::DeclinePlan { reason } => {
            r.only_kinds(&[K::Repair, K::HandoverDefect])?;
            r.only_in(&[S::Diagnosed])?;
            text("reason", &reason, true)?;
            TicketEvent::PlanDeclined { reason }
        }
        TicketCommand::NoteProgress { note } => {
            r.only_kinds(&[K::Repair, K::HandoverDefect])?;
            r.unless(
                !matches!(status, S::Received | S::Acknowledged),
                "there is no work in progress to report on",
            )?;
            text("note", &note, true)?;
            TicketEvent::ProgressNoted { note }
        }
        TicketCommand::CompleteRepair { summary, usage_advice } => {
            r.only_kinds(&[K::Repair, K::HandoverDefect])?;
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
            TicketEvent::Repaired { summary, usage_advice }
        }
        TicketCommand::AcceptRepair {
            confirmation,
            ratings,
            comment,
        } => {
            r.only_kinds(&[K::Repair, K::HandoverDefect])?;
            r.unless(status == S::Repaired, "the repair is not finished")?;
            text("confirmation", &confirmation, true)?;
            text("comment", &comment, false)?;
            ratings.validate()?;
            TicketEvent::Accepted {
                confirmation,
                ratings,
                comment,
            }
        }
        TicketCommand::RejectRepair { reason } => {
            r.only_kinds(&[K::Repair, K::HandoverDefect])?;
            r.unless(status == S::Repaired, "the repair is not finished")?;
            text("reason", &reason, true)?;
            TicketEvent::Rejected { reason }
        }
        TicketCommand::Reopen { reason } => {
            r.only_kinds(&[K::Repair, K::HandoverDefect])?;
            r.unless(
                status == S::Rejected || (status == S::Closed && ticket.accepted_at.is_some()),
                "only a rejected repair, or a closed accepted one whose problem came back, can be reopened",
            )?;
            text("reason", &reason, true)?;
            TicketEvent::Reopened {
                reason,
                cycle: ticket.reopen_count + 1,
            }
        }
        TicketCommand::PutOnHold { reason, note } => {
            r.unless(status != S::OnHold, "it is already on hold")?;
            text("note", &note, false)?;
            TicketEvent::PutOnHold { reason, note }
        }
        TicketCommand::Resume { note } => {
            r.unless(status == S::OnHold, "it is not on hold")?;
            text("note", &note, false)?;
            TicketEvent::Resumed { note }
        }
        TicketCommand::Withdraw { reason } => {
            r.unless(
                !matches!(status, S::Repaired | S::Accepted),
                "the work is done; close the ticket instead",
            )?;
            text("reason", &reason, true)?;
            TicketEvent::Withdrawn { reason }
        }
        TicketCommand::Merge { into } => {
            r.unless(into != ticket.id, "a ticket cannot be merged into itself")?;
            r.unless(
                !matches!(status, S::Repaired | S::Accepted),
                "the work is done; close the ticket instead",
            )?;
            TicketEvent::MergedInto { into }
        }
        TicketCommand::LinkIncident { incident } => {
            r.unless(
                ticket.incident.as_ref() != Some(&incident),
                format!("it is already part of incident {incident}"),
            )?;
            TicketEvent::LinkedToIncident { incident }
        }
        TicketCommand::Comment { text: remark, internal } => {
            text("comment", &remark, true)?;
            if internal && ctx.actor.role == Role::Owner {
                return Err(DomainError::Forbidden {
                    actor: ctx.actor.to_string(),
                    action: r.action,
                    reason: "internal remarks are for staff".into(),
                });
            }
            TicketEvent::Commented { text: remark, internal }
        }
        TicketCommand::Close { note } => {
            text("note", &note, false)?;
            match ticket.kind {
                K::Repair | K::HandoverDefect => r.unless(
                    matches!(status, S::Accepted | S::PlanDeclined),
                    "a repair is closed once the owner accepted it or declined the plan",
                )?,
                K::Complaint => match status {
                    S::OwnerDisagreed => {
                        return Err(r.because("the owner disagreed with the resolution; investigate again"))
                    }
                    _ => r.unless(status == S::OwnerAgreed, "the owner has not agreed to a resolution")?,
                },
                K::Inquiry => r.unless(status == S::Answered, "the inquiry is not answered")?,
            }
            TicketEvent::Closed { note }
        }
        TicketCommand::RecordRevisit {
            outcome,
            ratings,
            stage,
            note,
        } => {
            let done = match ticket.kind {
                K::Repair | K::HandoverDefect => matches!(status, S::Accepted | S::Closed),
                K::Complaint => matches!(status, S::OwnerAgreed | S::Closed),
                K::Inquiry => matches!(status, S::Answered | S::Closed),
            };
            r.unless(done, "a revisit follows the owner's acceptance or agreement")?;
            if let Some(ratings) = &ratings {
                ratings.validate()?;
            }
            text("note", &note, false)?;
            TicketEvent::Revisited {
                outcome,
                ratings,
                stage,
                note,
            }
        }
        TicketCommand::Investigate { findings } => {
            r.only_kinds(&[K::Complaint])?;
            r.only_in(&[S::Acknowledged, S::Investigating, S::OwnerDisagreed])?;
            text("findings", &findings, true)?;
            TicketEvent::Investigated { findings }
        }
        TicketCommand::ProposeResolution { proposal, basis } => {
            r.only_kinds(&[K::Complaint])?;
            r.unless(status == S::Investigating, "the facts have not been established yet")?;
            text("proposal", &proposal, true)?;
            text("basis", &basis, true)?;
            TicketEvent::ResolutionProposed { proposal, basis }
        }
        TicketCommand::RecordOwnerResponse { agreed, note } => {
            r.only_kinds(&[K::Complaint])?;
            r.unless(
                status == S::ResolutionProposed,
                "no resolution is waiting for the owner's response",
            )?;
            if agreed {
                text("note", &note, false)?;
                TicketEvent::OwnerAgreed { note }
            } else {
                text("reason", &note, true)?;
                TicketEvent::OwnerDisagreed { reason: note }
            }
        }
        TicketCommand::Escalate {
            level,
            incident,
            reason,
        } => {
            r.only_kinds(&[K::Complaint])?;
            text("reason", &reason, true)?;
            // Every complaint is handled at project level to begin with.
            let current = ticket.escalation.unwrap_or(EscalationLevel::Project);
            r.unless(
                level > current,
                format!("it is already handled at {current} level; escalate to a higher one"),
            )?;
            TicketEvent::Escalated {
                level,
                incident,
                reason,
            }
        }
        TicketCommand::AnswerInquiry { answer, on_the_spot } => {
            r.only_kinds(&[K::Inquiry])?;
            r.only_in(&[S::Received, S::Acknowledged])?;
            text("answer", &answer, true)?;
            TicketEvent::Answered { answer, on_the_spot }
        }
    };
    Ok(vec![stamp(ctx, at, event)])
}
