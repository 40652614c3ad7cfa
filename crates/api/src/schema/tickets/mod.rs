//! One mutation per ticket command. Each takes one `input` object: the
//! ticket, when the action really happened (`occurredAt`), the version the
//! caller last saw (`expectedVersion`), an `idempotencyKey` and the
//! channel, plus the command's own fields; each returns the ticket as it
//! now is and the log position of the change.
//!
//! The inputs are in `inputs.rs`.

use async_graphql::{Context, Object, Result};
use domain::ids::{ContractorId, IncidentId, UserId};
use domain::ticket as t;

use super::types::*;
use super::{actor, bad, service, ticket_id};
use crate::error::AppError;
use application::service::Acting;

mod inputs;

pub use inputs::*;
use inputs::{location, new_ticket_id, reporter};

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
