//! One mutation per ticket command. Each takes one `input` object: the
//! ticket, when the action really happened (`occurredAt`), the version the
//! caller last saw (`expectedVersion`), an `idempotencyKey` and the
//! channel, plus the command's own fields; each returns the ticket as it
//! now is and the log position of the change.

use async_graphql::{Context, InputObject, Object, Result};
use chrono::{DateTime, NaiveDate, Utc};
use domain::ids::{BuildingId, ContractorId, IncidentId, OwnerId, ProjectId, UnitId, UserId};
use domain::personal::{PersonName, Personal, PhoneNumber};
use domain::ticket as t;

use super::types::*;
use super::{actor, bad, service, ticket_id};
use crate::error::AppError;
use application::service::Acting;

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
fn new_ticket_id(input: &ReceiveTicketInput, actor: &domain::actor::Actor) -> Result<domain::ids::TicketId, AppError> {
    match &input.ticket_id {
        Some(id) => ticket_id(id),
        None => ticket_id(&application::service::new_record_number(
            "T",
            input.idempotency_key.as_deref(),
            actor,
        )),
    }
}

fn location(l: &LocationInput) -> Result<t::Location, AppError> {
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

fn reporter(r: &ReporterInput) -> Result<t::Reporter, AppError> {
    Ok(t::Reporter {
        owner: r.owner_id.as_deref().map(OwnerId::new).transpose()?,
        name: Personal::new(PersonName::new(r.family_name.as_str(), r.given_name.as_str())?),
        phone: Personal::new(PhoneNumber::new(&r.phone)?),
    })
}

fn acting(ctx: &Context<'_>, on: &TicketAction) -> Result<Acting> {
    Ok(Acting {
        projects: super::principal(ctx)?.projects.clone(),
        actor: actor(ctx)?,
        channel: on.channel.map(Into::into).unwrap_or(t::Channel::BackOffice),
        occurred_at: on.occurred_at,
        expected_version: on.expected_version,
        idempotency_key: on.idempotency_key.clone(),
        shared_key: false,
    })
}

async fn run(ctx: &Context<'_>, on: TicketAction, command: t::TicketCommand) -> Result<TicketPayload> {
    let id = ticket_id(&on.ticket_id)?;
    let acting = acting(ctx, &on)?;
    Ok(service(ctx)?.ticket_command(&id, command, acting).await?.into())
}

/// The ticket mutations.
#[derive(Default)]
pub struct TicketMutations;

#[Object]
impl TicketMutations {
    /// Records a new report, whatever the channel (受理). Handover defects
    /// carry their signed inspection record.
    async fn receive_ticket(
        &self,
        ctx: &Context<'_>,
        #[graphql(
            desc = "The ticket, the command's own fields, and the optional `occurredAt`, `expectedVersion` and `idempotencyKey`."
        )]
        input: ReceiveTicketInput,
    ) -> Result<TicketPayload> {
        let id = new_ticket_id(&input, &actor(ctx)?)?;
        let command = t::TicketCommand::Receive(Box::new(t::Receive {
            ticket: id.clone(),
            kind: input.kind.into(),
            reporter: reporter(&input.reporter)?,
            location: location(&input.location)?,
            category: input.category.into(),
            trade: input.trade.into(),
            description: input.description,
            attachments: input.attachments,
            priority: input.priority.into(),
            handover: input.handover.map(|h| t::HandoverRecord {
                inspection: h.inspection.into(),
                promised_by: h.promised_by,
                signed_record: h.signed_record,
            }),
        }));
        let acting = Acting {
            projects: super::principal(ctx)?.projects.clone(),
            actor: actor(ctx)?,
            channel: input.channel.into(),
            occurred_at: input.occurred_at,
            expected_version: None,
            idempotency_key: input.idempotency_key,
            shared_key: false,
        };
        Ok(service(ctx)?.ticket_command(&id, command, acting).await?.into())
    }

    /// Staff confirmed the details with the owner and told the expected
    /// time (响应).
    async fn acknowledge_ticket(
        &self,
        ctx: &Context<'_>,
        #[graphql(
            desc = "The ticket, the command's own fields, and the optional `occurredAt`, `expectedVersion` and `idempotencyKey`."
        )]
        input: AcknowledgeTicketInput,
    ) -> Result<TicketPayload> {
        let command = t::TicketCommand::Acknowledge {
            promised_at: input.promised_at,
            note: input.note,
        };
        run(ctx, input.on, command).await
    }

    /// A new priority; running clocks are re-targeted.
    async fn change_priority(
        &self,
        ctx: &Context<'_>,
        #[graphql(
            desc = "The ticket, the command's own fields, and the optional `occurredAt`, `expectedVersion` and `idempotencyKey`."
        )]
        input: ChangePriorityInput,
    ) -> Result<TicketPayload> {
        let command = t::TicketCommand::ChangePriority {
            priority: input.priority.into(),
            reason: input.reason,
        };
        run(ctx, input.on, command).await
    }

    /// Sends the ticket to an engineer or a contractor (派工); also
    /// re-dispatch.
    async fn dispatch_ticket(
        &self,
        ctx: &Context<'_>,
        #[graphql(
            desc = "The ticket, the command's own fields, and the optional `occurredAt`, `expectedVersion` and `idempotencyKey`."
        )]
        input: DispatchTicketInput,
    ) -> Result<TicketPayload> {
        let to = match (input.engineer_id, input.contractor_id) {
            (Some(e), None) => t::Assignee::Engineer(UserId::new(e).map_err(AppError::from)?),
            (None, Some(c)) => t::Assignee::Contractor(ContractorId::new(c).map_err(AppError::from)?),
            _ => return Err(bad("give exactly one of engineerId and contractorId").into()),
        };
        run(ctx, input.on, t::TicketCommand::Dispatch { to, note: input.note }).await
    }

    /// An appointment window agreed with the owner (预约).
    async fn schedule_visit(
        &self,
        ctx: &Context<'_>,
        #[graphql(
            desc = "The ticket, the command's own fields, and the optional `occurredAt`, `expectedVersion` and `idempotencyKey`."
        )]
        input: ScheduleVisitInput,
    ) -> Result<TicketPayload> {
        let window = t::AppointmentWindow {
            from: input.from,
            to: input.to,
        };
        run(ctx, input.on, t::TicketCommand::Schedule { window }).await
    }

    /// The engineer or contractor arrived on site (上门).
    async fn record_arrival(
        &self,
        ctx: &Context<'_>,
        #[graphql(
            desc = "The ticket, the command's own fields, and the optional `occurredAt`, `expectedVersion` and `idempotencyKey`."
        )]
        input: NoteInput,
    ) -> Result<TicketPayload> {
        run(ctx, input.on, t::TicketCommand::RecordArrival { note: input.note }).await
    }

    /// The cause, who is responsible and the plan (勘查); the warranty
    /// finding and whether the owner pays are computed.
    async fn diagnose_ticket(
        &self,
        ctx: &Context<'_>,
        #[graphql(
            desc = "The ticket, the command's own fields, and the optional `occurredAt`, `expectedVersion` and `idempotencyKey`."
        )]
        input: DiagnoseTicketInput,
    ) -> Result<TicketPayload> {
        let command = t::TicketCommand::Diagnose {
            cause: input.cause,
            responsible: input.responsible.into(),
            item: input.item.into(),
            plan: t::RepairPlan {
                content: input.plan,
                materials: input.materials,
                duration_minutes: input.duration_minutes,
                cost: input.cost_fen.map(|fen| t::Money { fen }),
            },
        };
        run(ctx, input.on, command).await
    }

    /// The owner confirmed the plan (方案确认).
    async fn confirm_plan(
        &self,
        ctx: &Context<'_>,
        #[graphql(
            desc = "The ticket, the command's own fields, and the optional `occurredAt`, `expectedVersion` and `idempotencyKey`."
        )]
        input: ConfirmPlanInput,
    ) -> Result<TicketPayload> {
        let command = t::TicketCommand::ConfirmPlan {
            confirmation: input.confirmation,
        };
        run(ctx, input.on, command).await
    }

    /// The owner declined the plan.
    async fn decline_plan(
        &self,
        ctx: &Context<'_>,
        #[graphql(
            desc = "The ticket, the command's own fields, and the optional `occurredAt`, `expectedVersion` and `idempotencyKey`."
        )]
        input: ReasonInput,
    ) -> Result<TicketPayload> {
        run(ctx, input.on, t::TicketCommand::DeclinePlan { reason: input.reason }).await
    }

    /// Progress on the work (过程沟通).
    async fn note_progress(
        &self,
        ctx: &Context<'_>,
        #[graphql(
            desc = "The ticket, the command's own fields, and the optional `occurredAt`, `expectedVersion` and `idempotencyKey`."
        )]
        input: NoteProgressInput,
    ) -> Result<TicketPayload> {
        run(ctx, input.on, t::TicketCommand::NoteProgress { note: input.note }).await
    }

    /// The repair is done (维修完成).
    async fn complete_repair(
        &self,
        ctx: &Context<'_>,
        #[graphql(
            desc = "The ticket, the command's own fields, and the optional `occurredAt`, `expectedVersion` and `idempotencyKey`."
        )]
        input: CompleteRepairInput,
    ) -> Result<TicketPayload> {
        let command = t::TicketCommand::CompleteRepair {
            summary: input.summary,
            usage_advice: input.usage_advice,
        };
        run(ctx, input.on, command).await
    }

    /// The owner accepted the repair and signed (验收合格).
    async fn accept_repair(
        &self,
        ctx: &Context<'_>,
        #[graphql(
            desc = "The ticket, the command's own fields, and the optional `occurredAt`, `expectedVersion` and `idempotencyKey`."
        )]
        input: AcceptRepairInput,
    ) -> Result<TicketPayload> {
        let command = t::TicketCommand::AcceptRepair {
            confirmation: input.confirmation,
            ratings: input.ratings.into(),
            comment: input.comment,
        };
        run(ctx, input.on, command).await
    }

    /// The owner rejected the repair (验收不合格).
    async fn reject_repair(
        &self,
        ctx: &Context<'_>,
        #[graphql(
            desc = "The ticket, the command's own fields, and the optional `occurredAt`, `expectedVersion` and `idempotencyKey`."
        )]
        input: ReasonInput,
    ) -> Result<TicketPayload> {
        run(ctx, input.on, t::TicketCommand::RejectRepair { reason: input.reason }).await
    }

    /// Back to work after a rejection or a failed revisit; each cycle is
    /// counted.
    async fn reopen_ticket(
        &self,
        ctx: &Context<'_>,
        #[graphql(
            desc = "The ticket, the command's own fields, and the optional `occurredAt`, `expectedVersion` and `idempotencyKey`."
        )]
        input: ReasonInput,
    ) -> Result<TicketPayload> {
        run(ctx, input.on, t::TicketCommand::Reopen { reason: input.reason }).await
    }

    /// Puts the ticket on hold (挂起).
    async fn put_on_hold(
        &self,
        ctx: &Context<'_>,
        #[graphql(
            desc = "The ticket, the command's own fields, and the optional `occurredAt`, `expectedVersion` and `idempotencyKey`."
        )]
        input: PutOnHoldInput,
    ) -> Result<TicketPayload> {
        let command = t::TicketCommand::PutOnHold {
            reason: input.reason.into(),
            note: input.note,
        };
        run(ctx, input.on, command).await
    }

    /// Takes the ticket off hold.
    async fn resume_ticket(
        &self,
        ctx: &Context<'_>,
        #[graphql(
            desc = "The ticket, the command's own fields, and the optional `occurredAt`, `expectedVersion` and `idempotencyKey`."
        )]
        input: NoteInput,
    ) -> Result<TicketPayload> {
        run(ctx, input.on, t::TicketCommand::Resume { note: input.note }).await
    }

    /// The owner withdrew the report.
    async fn withdraw_ticket(
        &self,
        ctx: &Context<'_>,
        #[graphql(
            desc = "The ticket, the command's own fields, and the optional `occurredAt`, `expectedVersion` and `idempotencyKey`."
        )]
        input: ReasonInput,
    ) -> Result<TicketPayload> {
        run(ctx, input.on, t::TicketCommand::Withdraw { reason: input.reason }).await
    }

    /// This ticket duplicates `into`, which must exist.
    async fn merge_ticket(
        &self,
        ctx: &Context<'_>,
        #[graphql(
            desc = "The ticket, the command's own fields, and the optional `occurredAt`, `expectedVersion` and `idempotencyKey`."
        )]
        input: MergeTicketInput,
    ) -> Result<TicketPayload> {
        // That `into` exists (and is in the caller's scope) is checked
        // after the caller's right to this ticket.
        let into = ticket_id(&input.into)?;
        if input.on.ticket_id == input.into {
            return Err(bad("a ticket cannot be merged into itself").into());
        }
        run(ctx, input.on, t::TicketCommand::Merge { into }).await
    }

    /// A remark on the record.
    async fn comment_ticket(
        &self,
        ctx: &Context<'_>,
        #[graphql(
            desc = "The ticket, the command's own fields, and the optional `occurredAt`, `expectedVersion` and `idempotencyKey`."
        )]
        input: CommentTicketInput,
    ) -> Result<TicketPayload> {
        let command = t::TicketCommand::Comment {
            text: input.text,
            internal: input.internal,
        };
        run(ctx, input.on, command).await
    }

    /// Closes and archives the ticket (闭环归档).
    async fn close_ticket(
        &self,
        ctx: &Context<'_>,
        #[graphql(
            desc = "The ticket, the command's own fields, and the optional `occurredAt`, `expectedVersion` and `idempotencyKey`."
        )]
        input: NoteInput,
    ) -> Result<TicketPayload> {
        run(ctx, input.on, t::TicketCommand::Close { note: input.note }).await
    }

    /// A callback to the owner after the work (回访).
    async fn record_revisit(
        &self,
        ctx: &Context<'_>,
        #[graphql(
            desc = "The ticket, the command's own fields, and the optional `occurredAt`, `expectedVersion` and `idempotencyKey`."
        )]
        input: RecordRevisitInput,
    ) -> Result<TicketPayload> {
        let command = t::TicketCommand::RecordRevisit {
            outcome: input.outcome.into(),
            ratings: input.ratings.map(Into::into),
            stage: input.stage.into(),
            note: input.note,
        };
        run(ctx, input.on, command).await
    }

    /// Findings of a complaint's investigation (调查核实).
    async fn investigate_complaint(
        &self,
        ctx: &Context<'_>,
        #[graphql(
            desc = "The ticket, the command's own fields, and the optional `occurredAt`, `expectedVersion` and `idempotencyKey`."
        )]
        input: InvestigateComplaintInput,
    ) -> Result<TicketPayload> {
        let command = t::TicketCommand::Investigate {
            findings: input.findings,
        };
        run(ctx, input.on, command).await
    }

    /// A resolution proposed to the complaining owner, with its basis.
    async fn propose_resolution(
        &self,
        ctx: &Context<'_>,
        #[graphql(
            desc = "The ticket, the command's own fields, and the optional `occurredAt`, `expectedVersion` and `idempotencyKey`."
        )]
        input: ProposeResolutionInput,
    ) -> Result<TicketPayload> {
        let command = t::TicketCommand::ProposeResolution {
            proposal: input.proposal,
            basis: input.basis,
        };
        run(ctx, input.on, command).await
    }

    /// The owner agreed or disagreed with the proposed resolution.
    async fn record_owner_response(
        &self,
        ctx: &Context<'_>,
        #[graphql(
            desc = "The ticket, the command's own fields, and the optional `occurredAt`, `expectedVersion` and `idempotencyKey`."
        )]
        input: RecordOwnerResponseInput,
    ) -> Result<TicketPayload> {
        let command = t::TicketCommand::RecordOwnerResponse {
            agreed: input.agreed,
            note: input.note,
        };
        run(ctx, input.on, command).await
    }

    /// Raises a complaint to a major complaint, optionally into an incident.
    async fn escalate_complaint(
        &self,
        ctx: &Context<'_>,
        #[graphql(
            desc = "The ticket, the command's own fields, and the optional `occurredAt`, `expectedVersion` and `idempotencyKey`."
        )]
        input: EscalateComplaintInput,
    ) -> Result<TicketPayload> {
        let incident = input
            .incident_id
            .map(IncidentId::new)
            .transpose()
            .map_err(AppError::from)?;
        // The incident is checked (its rules, the caller's scope, its
        // project and state) with the ticket's command, before either
        // record is written.
        let command = t::TicketCommand::Escalate {
            level: input.level.into(),
            incident: incident.clone(),
            reason: input.reason,
        };
        let acting = acting(ctx, &input.on)?;
        let payload = run(ctx, input.on, command).await?;
        if let Some(i) = &incident {
            service(ctx)?
                .link_on_incident(i, &payload.ticket.0.ticket.id, &acting)
                .await?;
        }
        Ok(payload)
    }

    /// The answer to an inquiry.
    async fn answer_inquiry(
        &self,
        ctx: &Context<'_>,
        #[graphql(
            desc = "The ticket, the command's own fields, and the optional `occurredAt`, `expectedVersion` and `idempotencyKey`."
        )]
        input: AnswerInquiryInput,
    ) -> Result<TicketPayload> {
        let command = t::TicketCommand::AnswerInquiry {
            answer: input.answer,
            on_the_spot: input.on_the_spot,
        };
        run(ctx, input.on, command).await
    }

    /// The ticket is one of many with one cause: handle it in the incident.
    async fn link_ticket_to_incident(
        &self,
        ctx: &Context<'_>,
        #[graphql(
            desc = "The ticket, the command's own fields, and the optional `occurredAt`, `expectedVersion` and `idempotencyKey`."
        )]
        input: LinkTicketToIncidentInput,
    ) -> Result<TicketPayload> {
        let incident = IncidentId::new(input.incident_id).map_err(AppError::from)?;
        let acting = acting(ctx, &input.on)?;
        // Both records' rules are checked before either is written: the
        // incident's role rule here, its existence, state, project and the
        // caller's scope with the ticket's command.
        domain::incident::authorize(
            &acting.actor,
            &domain::incident::IncidentCommand::LinkTicket {
                ticket: ticket_id(&input.on.ticket_id)?,
            },
        )
        .map_err(AppError::from)?;
        let id = ticket_id(&input.on.ticket_id)?;
        let linked = run(
            ctx,
            input.on,
            t::TicketCommand::LinkIncident {
                incident: incident.clone(),
            },
        )
        .await;
        let payload = match linked {
            Ok(payload) => payload,
            Err(refused) => {
                // A link cut short after the ticket's half (the ticket names
                // the incident, the incident does not list it yet): the
                // ticket refuses a second link, after every check on the
                // caller passed; the retry completes the incident's half.
                let already = refused
                    .source
                    .as_ref()
                    .and_then(|s| s.downcast_ref::<AppError>())
                    .is_some_and(|e| e.code() == crate::error::codes::INVALID_TRANSITION);
                let record = service(ctx)?.ticket(&id)?;
                let half_done = already
                    && service(ctx)?
                        .incident(&incident)?
                        .0
                        .is_some_and(|i| !i.tickets.contains(&id));
                match record {
                    Some(record) if half_done && record.ticket.incident.as_ref() == Some(&incident) => TicketPayload {
                        position: record.position,
                        ticket: super::types::TicketOut(record, None),
                    },
                    _ => return Err(refused),
                }
            }
        };
        service(ctx)?
            .link_on_incident(&incident, &payload.ticket.0.ticket.id, &acting)
            .await?;
        Ok(payload)
    }
}
