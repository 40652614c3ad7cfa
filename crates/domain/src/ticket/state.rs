//! A ticket's state, folded from its events. `evolve` holds no rules and
//! never fails.

use chrono::{DateTime, Utc};
use serde::{Deserialize, Serialize};

use crate::ids::{IncidentId, TicketId};
use crate::policy::ClockSetup;
use crate::warranty::WarrantyFinding;

use super::event::{Stamped, TicketEvent};
use super::types::*;

named_enum!(
    /// Where a ticket is in its lifecycle.
    Status, "status" {
        /// Recorded, not yet confirmed with the owner.
        Received => "received",
        /// Confirmed with the owner.
        Acknowledged => "acknowledged",
        /// Dispatched to an engineer or contractor.
        Dispatched => "dispatched",
        /// Appointment agreed.
        Scheduled => "scheduled",
        /// Engineer or contractor on site.
        OnSite => "on site",
        /// Cause, responsibility and plan established.
        Diagnosed => "diagnosed",
        /// The owner declined the plan.
        PlanDeclined => "plan declined",
        /// Plan confirmed, work in progress.
        InRepair => "in repair",
        /// Work done, waiting for the owner's acceptance.
        Repaired => "repaired",
        /// The owner accepted the work.
        Accepted => "accepted",
        /// The owner rejected the work.
        Rejected => "rejected",
        /// Rework under way after a rejection or a recurrence.
        Reopened => "reopened",
        /// On hold.
        OnHold => "on hold",
        /// Complaint being investigated.
        Investigating => "under investigation",
        /// Resolution proposed to the complaining owner.
        ResolutionProposed => "resolution proposed",
        /// The owner agreed to the resolution.
        OwnerAgreed => "owner agreed",
        /// The owner disagreed with the resolution.
        OwnerDisagreed => "owner disagreed",
        /// Inquiry answered.
        Answered => "answered",
        /// Closed and archived.
        Closed => "closed",
        /// Withdrawn by the owner.
        Withdrawn => "withdrawn",
        /// Merged into another ticket as a duplicate.
        Merged => "merged",
    }
);

impl Status {
    /// Whether the ticket is finished (closed, withdrawn or merged).
    pub fn is_terminal(self) -> bool {
        matches!(self, Status::Closed | Status::Withdrawn | Status::Merged)
    }
}

/// The diagnosis on record.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Diagnosis {
    /// The cause.
    pub cause: String,
    /// Who is responsible.
    pub responsible: ResponsibleParty,
    /// The warranty finding.
    pub warranty: Option<WarrantyFinding>,
    /// Whether the owner pays.
    pub chargeable: bool,
    /// The plan.
    pub plan: RepairPlan,
}

/// Everything known about a received ticket.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Ticket {
    /// Number.
    pub id: TicketId,
    /// Kind.
    pub kind: TicketKind,
    /// The channel it was reported through.
    pub channel: Channel,
    /// Reporter.
    pub reporter: Reporter,
    /// Where.
    pub location: Location,
    /// Category.
    pub category: Category,
    /// Trade.
    pub trade: Trade,
    /// Description.
    pub description: String,
    /// Attachments.
    pub attachments: Vec<String>,
    /// Current priority.
    pub priority: Priority,
    /// Handover record (handover defects).
    pub handover: Option<HandoverRecord>,
    /// Current status.
    pub status: Status,
    /// The status to return to when resumed.
    pub status_before_hold: Option<Status>,
    /// Why it is on hold.
    pub hold_reason: Option<HoldReason>,
    /// Who works on it.
    pub assignee: Option<Assignee>,
    /// How many times it was dispatched (re-dispatches included).
    pub dispatch_count: u32,
    /// Current appointment.
    pub appointment: Option<AppointmentWindow>,
    /// Current diagnosis.
    pub diagnosis: Option<Diagnosis>,
    /// Whether the owner confirmed the current plan.
    pub plan_confirmed: bool,
    /// Rework cycles so far.
    pub reopen_count: u32,
    /// Rejections so far.
    pub rejection_count: u32,
    /// Escalation level of a complaint.
    pub escalation: Option<EscalationLevel>,
    /// Incident the ticket is handled in.
    pub incident: Option<IncidentId>,
    /// The ticket this one was merged into.
    pub merged_into: Option<TicketId>,
    /// Clock targets in force.
    pub clocks: ClockSetup,
    /// Ratings given at acceptance.
    pub acceptance_ratings: Option<Ratings>,
    /// Revisits made.
    pub revisit_count: u32,
    /// Outcome of the last revisit.
    pub last_revisit: Option<RevisitOutcome>,
    /// When it was received (occurred).
    pub received_at: DateTime<Utc>,
    /// First acknowledgement.
    pub acknowledged_at: Option<DateTime<Utc>>,
    /// The time promised to the owner.
    pub promised_at: Option<DateTime<Utc>>,
    /// First arrival on site.
    pub first_arrived_at: Option<DateTime<Utc>>,
    /// First time the repair was completed.
    pub first_repaired_at: Option<DateTime<Utc>>,
    /// Latest completion.
    pub repaired_at: Option<DateTime<Utc>>,
    /// Acceptance.
    pub accepted_at: Option<DateTime<Utc>>,
    /// Resolution proposed (complaints).
    pub resolution_proposed_at: Option<DateTime<Utc>>,
    /// Answer (inquiries).
    pub answered_at: Option<DateTime<Utc>>,
    /// Closing, withdrawal or merge.
    pub closed_at: Option<DateTime<Utc>>,
    /// Time of the latest event; a new action may not be earlier.
    pub last_event_at: DateTime<Utc>,
    /// Events applied.
    pub event_count: u64,
}

/// The decider's state: nothing, or a received ticket.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct TicketState(pub Option<Box<Ticket>>);

impl TicketState {
    /// The ticket, if received.
    pub fn ticket(&self) -> Option<&Ticket> {
        self.0.as_deref()
    }
}

/// Applies one event to the state.
pub fn evolve(state: TicketState, stamped: &Stamped<TicketEvent>) -> TicketState {
    let at = stamped.occurred_at;
    if let TicketEvent::Received {
        ticket,
        kind,
        channel,
        reporter,
        location,
        category,
        trade,
        description,
        attachments,
        priority,
        handover,
        clocks,
    } = &stamped.event
    {
        if state.0.is_some() {
            // A second Received cannot be decided; history that has one is
            // folded as if it were not there.
            return state;
        }
        return TicketState(Some(Box::new(Ticket {
            id: ticket.clone(),
            kind: *kind,
            channel: *channel,
            reporter: reporter.clone(),
            location: location.clone(),
            category: *category,
            trade: *trade,
            description: description.clone(),
            attachments: attachments.clone(),
            priority: *priority,
            handover: handover.clone(),
            status: Status::Received,
            status_before_hold: None,
            hold_reason: None,
            assignee: None,
            dispatch_count: 0,
            appointment: None,
            diagnosis: None,
            plan_confirmed: false,
            reopen_count: 0,
            rejection_count: 0,
            escalation: None,
            incident: None,
            merged_into: None,
            clocks: clocks.clone(),
            acceptance_ratings: None,
            revisit_count: 0,
            last_revisit: None,
            received_at: at,
            acknowledged_at: None,
            promised_at: None,
            first_arrived_at: None,
            first_repaired_at: None,
            repaired_at: None,
            accepted_at: None,
            resolution_proposed_at: None,
            answered_at: None,
            closed_at: None,
            last_event_at: at,
            event_count: 1,
        })));
    }
    let Some(mut t) = state.0 else {
        // Events before Received cannot be decided either.
        return TicketState(None);
    };
    t.last_event_at = t.last_event_at.max(at);
    t.event_count += 1;
    match &stamped.event {
        TicketEvent::Received { .. } => {}
        TicketEvent::Acknowledged { promised_at, .. } => {
            t.status = Status::Acknowledged;
            t.acknowledged_at.get_or_insert(at);
            t.promised_at = *promised_at;
        }
        TicketEvent::PriorityChanged { to, clocks, .. } => {
            t.priority = *to;
            t.clocks = clocks.clone();
        }
        TicketEvent::Dispatched { to, .. } => {
            t.assignee = Some(to.clone());
            t.dispatch_count += 1;
            t.appointment = None;
            t.status = Status::Dispatched;
        }
        TicketEvent::Scheduled { window } => {
            t.appointment = Some(*window);
            if matches!(t.status, Status::Dispatched | Status::Scheduled | Status::Reopened) {
                t.status = Status::Scheduled;
            }
        }
        TicketEvent::Arrived { .. } => {
            t.first_arrived_at.get_or_insert(at);
            if matches!(t.status, Status::Dispatched | Status::Scheduled | Status::Reopened) {
                t.status = Status::OnSite;
            }
        }
        TicketEvent::Diagnosed {
            cause,
            responsible,
            warranty,
            chargeable,
            plan,
        } => {
            t.diagnosis = Some(Diagnosis {
                cause: cause.clone(),
                responsible: *responsible,
                warranty: warranty.clone(),
                chargeable: *chargeable,
                plan: plan.clone(),
            });
            t.plan_confirmed = false;
            t.status = Status::Diagnosed;
        }
        TicketEvent::PlanConfirmed { .. } => {
            t.plan_confirmed = true;
            t.status = Status::InRepair;
        }
        TicketEvent::PlanDeclined { .. } => {
            t.plan_confirmed = false;
            t.status = Status::PlanDeclined;
        }
        TicketEvent::ProgressNoted { .. } | TicketEvent::Commented { .. } => {}
        TicketEvent::Repaired { .. } => {
            t.first_repaired_at.get_or_insert(at);
            t.repaired_at = Some(at);
            t.status = Status::Repaired;
        }
        TicketEvent::Accepted { ratings, .. } => {
            t.acceptance_ratings = Some(*ratings);
            t.accepted_at = Some(at);
            t.status = Status::Accepted;
        }
        TicketEvent::Rejected { .. } => {
            t.rejection_count += 1;
            t.status = Status::Rejected;
        }
        TicketEvent::Reopened { cycle, .. } => {
            t.reopen_count = *cycle;
            t.accepted_at = None;
            t.closed_at = None;
            t.status = Status::Reopened;
        }
        TicketEvent::PutOnHold { reason, .. } => {
            t.status_before_hold = Some(t.status);
            t.hold_reason = Some(*reason);
            t.status = Status::OnHold;
        }
        TicketEvent::Resumed { .. } => {
            t.status = t.status_before_hold.take().unwrap_or(Status::Received);
            t.hold_reason = None;
        }
        TicketEvent::Withdrawn { .. } => {
            t.status = Status::Withdrawn;
            t.closed_at = Some(at);
            t.hold_reason = None;
        }
        TicketEvent::MergedInto { into } => {
            t.merged_into = Some(into.clone());
            t.status = Status::Merged;
            t.closed_at = Some(at);
            t.hold_reason = None;
        }
        TicketEvent::Closed { .. } => {
            t.status = Status::Closed;
            t.closed_at = Some(at);
        }
        TicketEvent::Revisited { outcome, .. } => {
            t.revisit_count += 1;
            t.last_revisit = Some(*outcome);
        }
        TicketEvent::Investigated { .. } => t.status = Status::Investigating,
        TicketEvent::ResolutionProposed { .. } => {
            t.resolution_proposed_at = Some(at);
            t.status = Status::ResolutionProposed;
        }
        TicketEvent::OwnerAgreed { .. } => t.status = Status::OwnerAgreed,
        TicketEvent::OwnerDisagreed { .. } => t.status = Status::OwnerDisagreed,
        TicketEvent::Escalated { level, incident, .. } => {
            t.escalation = Some(*level);
            if incident.is_some() {
                t.incident = incident.clone();
            }
        }
        TicketEvent::LinkedToIncident { incident } => t.incident = Some(incident.clone()),
        TicketEvent::Answered { .. } => {
            t.answered_at = Some(at);
            t.status = Status::Answered;
        }
        // The clocks' calendar: nothing of the ticket's own state.
        TicketEvent::CalendarSettled { .. } => {}
    }
    TicketState(Some(t))
}
