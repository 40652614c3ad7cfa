//! What happened to a ticket. The stored name of every event
//! ([`TicketEvent::name`]) and its fields are a contract with every byte on
//! disk: never rename or reorder; add a new event or a schema version with
//! an upcaster instead. Committed payload bytes pin every event's fields
//! (`crates/eventformat/tests/stored_format/`). `docs/events.md` is
//! the catalogue for staff-tool authors.

use chrono::{DateTime, Utc};
use serde::{Deserialize, Serialize};

use crate::calendar::CalendarRef;
pub use crate::decider::Stamped;
use crate::ids::{IncidentId, TicketId};
use crate::policy::{ClockKind, ClockSetup};
use crate::warranty::WarrantyFinding;

use super::types::*;

/// Everything that can happen to a ticket.
// `Received` carries the whole report and is much larger than the rest;
// boxing it would change nothing on disk but make every match on it
// clumsier, and tickets hold tens of events, not millions.
#[allow(clippy::large_enum_variant)]
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub enum TicketEvent {
    /// 受理: the report is recorded and the service clocks start.
    Received {
        /// The ticket's number.
        ticket: TicketId,
        /// Repair, complaint, inquiry or handover defect.
        kind: TicketKind,
        /// Where the report came in.
        channel: Channel,
        /// Who reported it.
        reporter: Reporter,
        /// Unit or common area.
        location: Location,
        /// Defect category.
        category: Category,
        /// Trade.
        trade: Trade,
        /// The owner's description.
        description: String,
        /// Photos and documents (references to stored files).
        attachments: Vec<String>,
        /// Handling priority.
        priority: Priority,
        /// For handover defects: the signed inspection record.
        handover: Option<HandoverRecord>,
        /// Clock targets, policy and calendar in force from now on.
        clocks: ClockSetup,
    },
    /// Staff confirmed the details with the owner and said when to expect
    /// a response or visit; the first-response clock stops.
    Acknowledged {
        /// When the owner was told to expect the visit or answer.
        promised_at: Option<DateTime<Utc>>,
        /// What was said.
        note: String,
    },
    /// The priority changed; running clocks are re-targeted and keep the
    /// time already used.
    PriorityChanged {
        /// Old priority.
        from: Priority,
        /// New priority.
        to: Priority,
        /// Why.
        reason: String,
        /// The new targets, policy and calendar.
        clocks: ClockSetup,
    },
    /// 派工: dispatched (or re-dispatched) to an engineer or contractor.
    Dispatched {
        /// Who does the work now.
        to: Assignee,
        /// Who did it before, on a re-dispatch.
        previous: Option<Assignee>,
        /// Instructions.
        note: String,
    },
    /// 预约: an appointment window agreed with the owner.
    Scheduled {
        /// The window.
        window: AppointmentWindow,
    },
    /// 上门: the engineer or contractor arrived; the on-site clock stops.
    Arrived {
        /// Remarks.
        note: String,
    },
    /// 勘查: cause, responsibility, warranty and plan established.
    Diagnosed {
        /// The cause found.
        cause: String,
        /// Who is responsible.
        responsible: ResponsibleParty,
        /// Warranty as computed from the delivery date and the report date;
        /// `None` only where no unit warranty applies.
        warranty: Option<WarrantyFinding>,
        /// Whether the owner pays: out of warranty or owner misuse.
        chargeable: bool,
        /// The plan.
        plan: RepairPlan,
    },
    /// 方案确认: the owner agreed to the plan (and its cost).
    PlanConfirmed {
        /// Reference of the owner's signed confirmation.
        confirmation: String,
    },
    /// The owner declined the plan.
    PlanDeclined {
        /// Why.
        reason: String,
    },
    /// 过程沟通: progress told to the owner.
    ProgressNoted {
        /// What was said.
        note: String,
    },
    /// 维修完成: the work is done; the resolution clock stops.
    Repaired {
        /// What was done.
        summary: String,
        /// How to use the repaired part, as told to the owner.
        usage_advice: String,
    },
    /// 验收合格: the owner accepted the work.
    Accepted {
        /// Reference of the signed service confirmation (维修服务确认单).
        confirmation: String,
        /// The owner's ratings.
        ratings: Ratings,
        /// The owner's words.
        comment: String,
    },
    /// 验收不合格: the owner rejected the work; the resolution clock runs
    /// again.
    Rejected {
        /// Why.
        reason: String,
    },
    /// Rework starts (after a rejection, or a closed repair that failed
    /// again).
    Reopened {
        /// Why.
        reason: String,
        /// Which rework cycle this is: 1 for the first reopen.
        cycle: u32,
    },
    /// 挂起.
    PutOnHold {
        /// Why; only waiting on the owner pauses the clocks.
        reason: HoldReason,
        /// Details.
        note: String,
    },
    /// Back from hold.
    Resumed {
        /// Details.
        note: String,
    },
    /// The owner withdrew the report.
    Withdrawn {
        /// Why.
        reason: String,
    },
    /// A duplicate of another ticket, which carries on.
    MergedInto {
        /// The ticket that carries on.
        into: TicketId,
    },
    /// A remark on the record.
    Commented {
        /// The remark.
        text: String,
        /// Staff only, not shown to the owner.
        internal: bool,
    },
    /// 闭环归档.
    Closed {
        /// Closing remark.
        note: String,
    },
    /// 回访: a callback to the owner.
    Revisited {
        /// How it went.
        outcome: RevisitOutcome,
        /// Ratings given, if any.
        ratings: Option<Ratings>,
        /// The touchpoint stage measured.
        stage: TouchpointStage,
        /// Remarks.
        note: String,
    },
    /// 调查核实: facts of a complaint established.
    Investigated {
        /// Findings.
        findings: String,
    },
    /// A resolution proposed to the complaining owner; the resolution clock
    /// stops.
    ResolutionProposed {
        /// The proposal.
        proposal: String,
        /// Its basis (contract clause, standard, policy).
        basis: String,
    },
    /// The owner agreed to the proposed resolution.
    OwnerAgreed {
        /// Remarks.
        note: String,
    },
    /// The owner disagreed; back to investigation, the resolution clock runs
    /// again.
    OwnerDisagreed {
        /// Why.
        reason: String,
    },
    /// Escalated to a major complaint (重大投诉) or an incident.
    Escalated {
        /// To which level.
        level: EscalationLevel,
        /// The incident it is handled in, if any.
        incident: Option<IncidentId>,
        /// Why.
        reason: String,
    },
    /// The ticket joined an incident (one cause, many tickets).
    LinkedToIncident {
        /// The incident.
        incident: IncidentId,
    },
    /// An inquiry answered.
    Answered {
        /// The answer.
        answer: String,
        /// Answered during the first contact (当场解答).
        on_the_spot: bool,
    },
    /// A calendar version covering a year the ticket's clocks had been
    /// counted over on weekdays alone (provisional deadlines) was
    /// published: from now on those clocks count on it, from their start.
    /// Recorded by the publication itself, with each clock's deadline
    /// before and after.
    CalendarSettled {
        /// The calendar version the clocks now count on.
        calendar: CalendarRef,
        /// The version they counted on before.
        previous: CalendarRef,
        /// The clocks that moved to it.
        clocks: Vec<SettledClock>,
    },
}

/// One clock a calendar publication settled.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct SettledClock {
    /// Which clock.
    pub clock: ClockKind,
    /// Its due instant before (provisional), if it had one then.
    pub due_before: Option<DateTime<Utc>>,
    /// Its due instant on the new version, if it has one.
    pub due_after: Option<DateTime<Utc>>,
}

impl TicketEvent {
    /// The reporter, on the event that names one (`Received`).
    pub fn reporter(&self) -> Option<&Reporter> {
        match self {
            TicketEvent::Received { reporter, .. } => Some(reporter),
            _ => None,
        }
    }

    /// The event's personal fields, for sealing before it is stored.
    pub fn personal_fields(&mut self) -> Vec<crate::personal::PersonalField<'_>> {
        match self {
            TicketEvent::Received { reporter, .. } => reporter.personal_fields(),
            _ => Vec::new(),
        }
    }

    /// The event's free text (descriptions, notes, reasons, remarks,
    /// findings, plans), where personal data typed in by hand is looked
    /// for and sealed before the event is stored. Attachments (references
    /// to stored files) are not free text.
    pub fn free_text_mut(&mut self) -> Vec<&mut String> {
        use TicketEvent as E;
        match self {
            E::Received {
                description, handover, ..
            } => {
                let mut texts = vec![description];
                if let Some(h) = handover {
                    texts.push(&mut h.signed_record);
                }
                texts
            }
            E::Acknowledged { note, .. }
            | E::Dispatched { note, .. }
            | E::Arrived { note }
            | E::ProgressNoted { note }
            | E::PutOnHold { note, .. }
            | E::Resumed { note }
            | E::Closed { note }
            | E::Revisited { note, .. }
            | E::OwnerAgreed { note } => vec![note],
            E::PriorityChanged { reason, .. }
            | E::PlanDeclined { reason }
            | E::Rejected { reason }
            | E::Reopened { reason, .. }
            | E::Withdrawn { reason }
            | E::OwnerDisagreed { reason }
            | E::Escalated { reason, .. } => vec![reason],
            E::Diagnosed { cause, plan, .. } => {
                let mut texts = vec![cause, &mut plan.content];
                texts.extend(plan.materials.iter_mut());
                texts
            }
            E::PlanConfirmed { confirmation } => vec![confirmation],
            E::Repaired { summary, usage_advice } => vec![summary, usage_advice],
            E::Accepted {
                confirmation, comment, ..
            } => vec![confirmation, comment],
            E::Commented { text, .. } => vec![text],
            E::Investigated { findings } => vec![findings],
            E::ResolutionProposed { proposal, basis } => vec![proposal, basis],
            E::Answered { answer, .. } => vec![answer],
            E::Scheduled { .. } | E::MergedInto { .. } | E::LinkedToIncident { .. } | E::CalendarSettled { .. } => {
                Vec::new()
            }
        }
    }

    /// Every stored event name.
    pub const NAMES: [&'static str; 29] = [
        "Received",
        "Acknowledged",
        "PriorityChanged",
        "Dispatched",
        "Scheduled",
        "Arrived",
        "Diagnosed",
        "PlanConfirmed",
        "PlanDeclined",
        "ProgressNoted",
        "Repaired",
        "Accepted",
        "Rejected",
        "Reopened",
        "PutOnHold",
        "Resumed",
        "Withdrawn",
        "MergedInto",
        "Commented",
        "Closed",
        "Revisited",
        "Investigated",
        "ResolutionProposed",
        "OwnerAgreed",
        "OwnerDisagreed",
        "Escalated",
        "Answered",
        "LinkedToIncident",
        "CalendarSettled",
    ];

    /// The stored event type name. Never changes for an existing event.
    pub fn name(&self) -> &'static str {
        match self {
            TicketEvent::Received { .. } => "Received",
            TicketEvent::Acknowledged { .. } => "Acknowledged",
            TicketEvent::PriorityChanged { .. } => "PriorityChanged",
            TicketEvent::Dispatched { .. } => "Dispatched",
            TicketEvent::Scheduled { .. } => "Scheduled",
            TicketEvent::Arrived { .. } => "Arrived",
            TicketEvent::Diagnosed { .. } => "Diagnosed",
            TicketEvent::PlanConfirmed { .. } => "PlanConfirmed",
            TicketEvent::PlanDeclined { .. } => "PlanDeclined",
            TicketEvent::ProgressNoted { .. } => "ProgressNoted",
            TicketEvent::Repaired { .. } => "Repaired",
            TicketEvent::Accepted { .. } => "Accepted",
            TicketEvent::Rejected { .. } => "Rejected",
            TicketEvent::Reopened { .. } => "Reopened",
            TicketEvent::PutOnHold { .. } => "PutOnHold",
            TicketEvent::Resumed { .. } => "Resumed",
            TicketEvent::Withdrawn { .. } => "Withdrawn",
            TicketEvent::MergedInto { .. } => "MergedInto",
            TicketEvent::Commented { .. } => "Commented",
            TicketEvent::Closed { .. } => "Closed",
            TicketEvent::Revisited { .. } => "Revisited",
            TicketEvent::Investigated { .. } => "Investigated",
            TicketEvent::ResolutionProposed { .. } => "ResolutionProposed",
            TicketEvent::OwnerAgreed { .. } => "OwnerAgreed",
            TicketEvent::OwnerDisagreed { .. } => "OwnerDisagreed",
            TicketEvent::Escalated { .. } => "Escalated",
            TicketEvent::Answered { .. } => "Answered",
            TicketEvent::LinkedToIncident { .. } => "LinkedToIncident",
            TicketEvent::CalendarSettled { .. } => "CalendarSettled",
        }
    }
}
