//! What staff (or owners) ask to do with a ticket. One command per GraphQL
//! mutation; the names follow the mutations (`receiveTicket` →
//! [`TicketCommand::Receive`]).

use chrono::{DateTime, Utc};
use serde::{Deserialize, Serialize};

use crate::ids::{IncidentId, TicketId};
use crate::warranty::WarrantyItem;

use super::types::*;

/// A new report, whatever the channel.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Receive {
    /// The ticket number, chosen by the caller.
    pub ticket: TicketId,
    /// Kind of work item.
    pub kind: TicketKind,
    /// Who reported it.
    pub reporter: Reporter,
    /// Unit or common area.
    pub location: Location,
    /// Defect category.
    pub category: Category,
    /// Trade.
    pub trade: Trade,
    /// The owner's description (1 to 4,000 characters).
    pub description: String,
    /// Photos and documents (references to stored files, at most 50).
    pub attachments: Vec<String>,
    /// Handling priority ([`crate::severity`] can suggest one).
    pub priority: Priority,
    /// Required for handover defects: the signed inspection record.
    pub handover: Option<HandoverRecord>,
}

/// Every command a ticket accepts.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub enum TicketCommand {
    /// `receiveTicket`.
    Receive(Box<Receive>),
    /// `acknowledgeTicket`: owner contacted, expected time told.
    Acknowledge {
        /// When the owner can expect the visit or answer.
        promised_at: Option<DateTime<Utc>>,
        /// What was said.
        note: String,
    },
    /// `changePriority`.
    ChangePriority {
        /// The new priority.
        priority: Priority,
        /// Why.
        reason: String,
    },
    /// `dispatchTicket` (also re-dispatch).
    Dispatch {
        /// Engineer or contractor.
        to: Assignee,
        /// Instructions.
        note: String,
    },
    /// `scheduleVisit`.
    Schedule {
        /// The appointment window.
        window: AppointmentWindow,
    },
    /// `recordArrival`.
    RecordArrival {
        /// Remarks.
        note: String,
    },
    /// `diagnoseTicket`: the warranty finding and whether it is chargeable
    /// are computed, not typed in.
    Diagnose {
        /// The cause found.
        cause: String,
        /// Who is responsible.
        responsible: ResponsibleParty,
        /// What part of the building the defect is in.
        item: WarrantyItem,
        /// The plan; a chargeable plan needs its cost.
        plan: RepairPlan,
    },
    /// `confirmPlan`.
    ConfirmPlan {
        /// Reference of the owner's signed confirmation.
        confirmation: String,
    },
    /// `declinePlan`.
    DeclinePlan {
        /// Why.
        reason: String,
    },
    /// `noteProgress`.
    NoteProgress {
        /// What was told to the owner.
        note: String,
    },
    /// `completeRepair`.
    CompleteRepair {
        /// What was done.
        summary: String,
        /// Usage advice given to the owner.
        usage_advice: String,
    },
    /// `acceptRepair`.
    AcceptRepair {
        /// Reference of the signed service confirmation.
        confirmation: String,
        /// The owner's ratings.
        ratings: Ratings,
        /// The owner's words.
        comment: String,
    },
    /// `rejectRepair`.
    RejectRepair {
        /// Why.
        reason: String,
    },
    /// `reopenTicket`.
    Reopen {
        /// Why.
        reason: String,
    },
    /// `putOnHold`.
    PutOnHold {
        /// Why.
        reason: HoldReason,
        /// Details.
        note: String,
    },
    /// `resumeTicket`.
    Resume {
        /// Details.
        note: String,
    },
    /// `withdrawTicket`.
    Withdraw {
        /// Why.
        reason: String,
    },
    /// `mergeTicket`: this ticket is a duplicate of `into`.
    Merge {
        /// The ticket that carries on.
        into: TicketId,
    },
    /// `commentTicket`.
    Comment {
        /// The remark.
        text: String,
        /// Staff only.
        internal: bool,
    },
    /// `closeTicket`.
    Close {
        /// Closing remark.
        note: String,
    },
    /// `recordRevisit`.
    RecordRevisit {
        /// How it went.
        outcome: RevisitOutcome,
        /// Ratings, if given.
        ratings: Option<Ratings>,
        /// The stage measured.
        stage: TouchpointStage,
        /// Remarks.
        note: String,
    },
    /// `investigateComplaint`.
    Investigate {
        /// Findings.
        findings: String,
    },
    /// `proposeResolution`.
    ProposeResolution {
        /// The proposal.
        proposal: String,
        /// Its basis.
        basis: String,
    },
    /// `recordOwnerResponse`.
    RecordOwnerResponse {
        /// Whether the owner agreed.
        agreed: bool,
        /// Their words.
        note: String,
    },
    /// `escalateComplaint`.
    Escalate {
        /// To which level.
        level: EscalationLevel,
        /// The incident it joins, if any.
        incident: Option<IncidentId>,
        /// Why.
        reason: String,
    },
    /// `linkTicketToIncident`: the ticket is one of many with one cause
    /// (40 households, one leak), handled in `incident`.
    LinkIncident {
        /// The incident.
        incident: IncidentId,
    },
    /// `answerInquiry`.
    AnswerInquiry {
        /// The answer.
        answer: String,
        /// Answered during the first contact.
        on_the_spot: bool,
    },
}

impl TicketCommand {
    /// The action in staff words, for refusals ("accept the repair").
    pub fn action(&self) -> &'static str {
        match self {
            TicketCommand::Receive(_) => "receive the ticket",
            TicketCommand::Acknowledge { .. } => "acknowledge the ticket",
            TicketCommand::ChangePriority { .. } => "change the priority",
            TicketCommand::Dispatch { .. } => "dispatch the ticket",
            TicketCommand::Schedule { .. } => "schedule a visit",
            TicketCommand::RecordArrival { .. } => "record the arrival",
            TicketCommand::Diagnose { .. } => "record the diagnosis",
            TicketCommand::ConfirmPlan { .. } => "confirm the plan",
            TicketCommand::DeclinePlan { .. } => "decline the plan",
            TicketCommand::NoteProgress { .. } => "note progress",
            TicketCommand::CompleteRepair { .. } => "complete the repair",
            TicketCommand::AcceptRepair { .. } => "accept the repair",
            TicketCommand::RejectRepair { .. } => "reject the repair",
            TicketCommand::Reopen { .. } => "reopen the ticket",
            TicketCommand::PutOnHold { .. } => "put the ticket on hold",
            TicketCommand::Resume { .. } => "resume the ticket",
            TicketCommand::Withdraw { .. } => "withdraw the ticket",
            TicketCommand::Merge { .. } => "merge the ticket",
            TicketCommand::Comment { .. } => "comment on the ticket",
            TicketCommand::Close { .. } => "close the ticket",
            TicketCommand::RecordRevisit { .. } => "record a revisit",
            TicketCommand::Investigate { .. } => "record investigation findings",
            TicketCommand::ProposeResolution { .. } => "propose a resolution",
            TicketCommand::RecordOwnerResponse { .. } => "record the owner's response",
            TicketCommand::Escalate { .. } => "escalate the complaint",
            TicketCommand::AnswerInquiry { .. } => "answer the inquiry",
            TicketCommand::LinkIncident { .. } => "link the ticket to an incident",
        }
    }
}
