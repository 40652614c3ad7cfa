//! The inputs of the ticket mutations ([`TicketAction`] and each
//! command's own fields), and their conversion to the domain's values.

use async_graphql::{InputObject, Result};
use chrono::{DateTime, NaiveDate, Utc};
use domain::ids::{BuildingId, OwnerId, ProjectId, UnitId};
use domain::personal::{PersonName, Personal, PhoneNumber};
use domain::ticket as t;

use crate::error::AppError;
use crate::schema::types::*;
use crate::schema::{bad, ticket_id};

/// The fields every command on an existing ticket takes.
#[derive(InputObject)]
pub struct TicketAction {
    /// The ticket.
    pub ticket_id: String,
    /// When it really happened (back-entered reports, offline field apps):
    /// never in the future, never before the ticket's previous event.
    pub occurred_at: Option<DateTime<Utc>>,
    /// The version last seen: a stale one gets `CONFLICT`.
    pub expected_version: Option<u64>,
    /// Makes a retry safe: the same key returns the first result.
    pub idempotency_key: Option<String>,
    /// The channel the action came through (default `BACK_OFFICE`).
    pub channel: Option<Channel>,
}

/// Declares the input object of a ticket mutation: [`TicketAction`]'s
/// fields flattened in, then the command's own.
macro_rules! ticket_input {
    ($(#[$m:meta])* $name:ident { $($(#[$fm:meta])* $f:ident : $ty:ty),* $(,)? }) => {
        $(#[$m])*
        #[derive(InputObject)]
        pub struct $name {
            /// The ticket and how the action is recorded.
            #[graphql(flatten)]
            pub on: TicketAction,
            $($(#[$fm])* pub $f: $ty,)*
        }
    };
}

ticket_input!(
    /// `acknowledgeTicket`.
    AcknowledgeTicketInput {
        /// When the owner can expect the visit or answer.
        promised_at: Option<DateTime<Utc>>,
        /// What was said.
        #[graphql(default)]
        note: String,
    }
);
ticket_input!(
    /// `changePriority`.
    ChangePriorityInput {
        /// The new priority.
        priority: Priority,
        /// Why.
        reason: String,
    }
);
ticket_input!(
    /// `dispatchTicket`.
    DispatchTicketInput {
        /// An internal engineer (give this or `contractorId`).
        engineer_id: Option<String>,
        /// A contractor company (give this or `engineerId`).
        contractor_id: Option<String>,
        /// Instructions.
        #[graphql(default)]
        note: String,
    }
);
ticket_input!(
    /// `scheduleVisit`.
    ScheduleVisitInput {
        /// Window start.
        from: DateTime<Utc>,
        /// Window end.
        to: DateTime<Utc>,
    }
);
ticket_input!(
    /// `recordArrival`, `resumeTicket`, `closeTicket`.
    NoteInput {
        /// Remark.
        #[graphql(default)]
        note: String,
    }
);
ticket_input!(
    /// `diagnoseTicket`.
    DiagnoseTicketInput {
        /// The cause found.
        cause: String,
        /// Who is responsible.
        responsible: ResponsibleParty,
        /// The warranty item the defect is in.
        item: WarrantyItem,
        /// What will be done.
        plan: String,
        /// Materials.
        #[graphql(default)]
        materials: Vec<String>,
        /// Expected duration in minutes.
        duration_minutes: u32,
        /// What the owner pays, in fen (分), for a chargeable repair.
        cost_fen: Option<u64>,
    }
);
ticket_input!(
    /// `confirmPlan`.
    ConfirmPlanInput {
        /// The owner's confirmation (signature reference, message id).
        confirmation: String,
    }
);
ticket_input!(
    /// `declinePlan`, `rejectRepair`, `reopenTicket`, `withdrawTicket`.
    ReasonInput {
        /// Why.
        reason: String,
    }
);
ticket_input!(
    /// `noteProgress`.
    NoteProgressInput {
        /// What happened.
        note: String,
    }
);
ticket_input!(
    /// `completeRepair`.
    CompleteRepairInput {
        /// What was done.
        summary: String,
        /// Advice to the owner on use and care.
        #[graphql(default)]
        usage_advice: String,
    }
);
ticket_input!(
    /// `acceptRepair`.
    AcceptRepairInput {
        /// The owner's signed confirmation reference.
        confirmation: String,
        /// Ratings, 1 to 5.
        ratings: RatingsInput,
        /// The owner's words.
        #[graphql(default)]
        comment: String,
    }
);
ticket_input!(
    /// `putOnHold`.
    PutOnHoldInput {
        /// Why (waiting on the owner pauses the clocks).
        reason: HoldReason,
        /// Remark.
        #[graphql(default)]
        note: String,
    }
);
ticket_input!(
    /// `mergeTicket`.
    MergeTicketInput {
        /// The ticket this one duplicates.
        into: String,
    }
);
ticket_input!(
    /// `commentTicket`.
    CommentTicketInput {
        /// The remark.
        text: String,
        /// Staff only.
        #[graphql(default)]
        internal: bool,
    }
);
ticket_input!(
    /// `recordRevisit`.
    RecordRevisitInput {
        /// How the call went.
        outcome: RevisitOutcome,
        /// Ratings, if given.
        ratings: Option<RatingsInput>,
        /// The touchpoint stage measured.
        #[graphql(default_with = "TouchpointStage::WarrantyService")]
        stage: TouchpointStage,
        /// Remark.
        #[graphql(default)]
        note: String,
    }
);
ticket_input!(
    /// `investigateComplaint`.
    InvestigateComplaintInput {
        /// Findings.
        findings: String,
    }
);
ticket_input!(
    /// `proposeResolution`.
    ProposeResolutionInput {
        /// The proposal.
        proposal: String,
        /// Its basis (contract clause, standard, precedent).
        basis: String,
    }
);
ticket_input!(
    /// `recordOwnerResponse`.
    RecordOwnerResponseInput {
        /// Whether the owner agreed.
        agreed: bool,
        /// Their words.
        #[graphql(default)]
        note: String,
    }
);
ticket_input!(
    /// `escalateComplaint`.
    EscalateComplaintInput {
        /// To which level.
        level: EscalationLevel,
        /// The incident it joins, if any.
        incident_id: Option<String>,
        /// Why.
        reason: String,
    }
);
ticket_input!(
    /// `answerInquiry`.
    AnswerInquiryInput {
        /// The answer given.
        answer: String,
        /// Answered during the call.
        #[graphql(default)]
        on_the_spot: bool,
    }
);
ticket_input!(
    /// `linkTicketToIncident`.
    LinkTicketToIncidentInput {
        /// The incident.
        incident_id: String,
    }
);

/// Owner's ratings, 1 to 5.
#[derive(InputObject)]
pub struct RatingsInput {
    /// Overall (总体满意度).
    pub overall: u8,
    /// Product quality.
    pub product_quality: Option<u8>,
    /// Service process.
    pub service_process: Option<u8>,
    /// Staff attitude.
    pub staff_attitude: Option<u8>,
}

impl From<RatingsInput> for t::Ratings {
    fn from(r: RatingsInput) -> Self {
        t::Ratings {
            overall: r.overall,
            product_quality: r.product_quality,
            service_process: r.service_process,
            staff_attitude: r.staff_attitude,
        }
    }
}

/// The reporter of a new ticket.
#[derive(InputObject)]
pub struct ReporterInput {
    /// The owner's archive id, if the reporter is an owner.
    pub owner_id: Option<String>,
    /// Family name (姓).
    pub family_name: String,
    /// Given name (名).
    #[graphql(default)]
    pub given_name: String,
    /// Contact phone.
    pub phone: String,
}

/// Where the defect is: a unit, or a common area of a project.
#[derive(InputObject)]
pub struct LocationInput {
    /// Project.
    pub project_id: String,
    /// Building.
    pub building_id: Option<String>,
    /// Unit; without it the location is a common area.
    pub unit_id: Option<String>,
    /// The common area, in words (required without a unit).
    pub place: Option<String>,
}

/// The signed inspection record of a handover defect.
#[derive(InputObject)]
pub struct HandoverInput {
    /// Pre-inspection or delivery walk-through.
    pub inspection: InspectionKind,
    /// Promised rectification date (整改时限).
    pub promised_by: NaiveDate,
    /// The inspection sheet signed by both sides.
    pub signed_record: String,
}

/// `receiveTicket`.
#[derive(InputObject)]
pub struct ReceiveTicketInput {
    /// Ticket number; generated when absent (from the idempotency key, if
    /// given, so that a retry finds the same ticket).
    pub ticket_id: Option<String>,
    /// Kind.
    pub kind: TicketKind,
    /// Where it came in.
    pub channel: Channel,
    /// Reporter.
    pub reporter: ReporterInput,
    /// Location.
    pub location: LocationInput,
    /// Category.
    pub category: Category,
    /// Trade.
    pub trade: Trade,
    /// Description.
    pub description: String,
    /// Attachments (file references).
    #[graphql(default)]
    pub attachments: Vec<String>,
    /// Priority.
    pub priority: Priority,
    /// Required for handover defects.
    pub handover: Option<HandoverInput>,
    /// When it really happened.
    pub occurred_at: Option<DateTime<Utc>>,
    /// Makes a retry safe.
    pub idempotency_key: Option<String>,
}

/// The new ticket's number: the caller's, or one derived from the
/// caller's idempotency key and identity (so a retry finds its ticket and
/// another caller's identical key makes a ticket of its own), or a random
/// one.
pub(super) fn new_ticket_id(
    input: &ReceiveTicketInput,
    actor: &domain::actor::Actor,
) -> Result<domain::ids::TicketId, AppError> {
    match &input.ticket_id {
        Some(id) => ticket_id(id),
        None => ticket_id(&application::service::new_record_number(
            "T",
            input.idempotency_key.as_deref(),
            actor,
        )),
    }
}

pub(super) fn location(l: &LocationInput) -> Result<t::Location, AppError> {
    let project = ProjectId::new(l.project_id.as_str())?;
    let building = l.building_id.as_deref().map(BuildingId::new).transpose()?;
    match (&l.unit_id, building) {
        (Some(unit), Some(building)) => Ok(t::Location::Unit {
            project,
            building,
            unit: UnitId::new(unit.as_str())?,
        }),
        (Some(_), None) => Err(bad("a unit location needs its building")),
        (None, building) => Ok(t::Location::CommonArea {
            project,
            building,
            place: l.place.clone().unwrap_or_default(),
        }),
    }
}

pub(super) fn reporter(r: &ReporterInput) -> Result<t::Reporter, AppError> {
    Ok(t::Reporter {
        owner: r.owner_id.as_deref().map(OwnerId::new).transpose()?,
        name: Personal::new(PersonName::new(r.family_name.as_str(), r.given_name.as_str())?),
        phone: Personal::new(PhoneNumber::new(&r.phone)?),
    })
}
