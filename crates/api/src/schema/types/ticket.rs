//! The `Ticket` object, the objects it holds, and what every ticket
//! mutation returns.

use async_graphql::{Context, Object, Result, SimpleObject};
use chrono::{DateTime, NaiveDate, Utc};
use domain::ticket as t;
use projections::tickets::TicketRecord;

use super::*;
use crate::schema::service;

/// A ticket as staff tools see it. Personal fields are masked. The second
/// field holds the clocks of a replayed state ("as of" a cut of its
/// history), evaluated from that history at the cut's instant; `None`:
/// the live clocks, evaluated now.
pub struct TicketOut(
    pub std::sync::Arc<TicketRecord>,
    pub Option<std::sync::Arc<domain::sla::SlaReport>>,
);

/// Who works on a ticket.
#[derive(SimpleObject)]
#[graphql(name = "Assignee")]
pub struct AssigneeOut {
    /// An internal engineer, or null.
    pub engineer_id: Option<String>,
    /// A contractor company, or null.
    pub contractor_id: Option<String>,
}

/// An appointment window (预约时段).
#[derive(SimpleObject)]
#[graphql(name = "Appointment")]
pub struct AppointmentOut {
    /// From.
    pub from: DateTime<Utc>,
    /// To.
    pub to: DateTime<Utc>,
}

/// The warranty finding of a diagnosis.
#[derive(SimpleObject)]
#[graphql(name = "Warranty")]
pub struct WarrantyOut {
    /// The item the defect is in.
    pub item: WarrantyItem,
    /// The period that applied, in words ("5 years", "2 heating seasons").
    pub period: String,
    /// The delivery date it was counted from.
    pub delivered_on: NaiveDate,
    /// The last day in warranty.
    pub last_day: NaiveDate,
    /// Whether the report date was in warranty.
    pub in_warranty: bool,
    /// The rules version used.
    pub rules_version: String,
}

/// The diagnosis on record (勘查结论).
#[derive(SimpleObject)]
#[graphql(name = "Diagnosis")]
pub struct DiagnosisOut {
    /// The cause.
    pub cause: String,
    /// Who is responsible.
    pub responsible: ResponsibleParty,
    /// The warranty finding, when the delivery date is known.
    pub warranty: Option<WarrantyOut>,
    /// Whether the owner pays.
    pub chargeable: bool,
    /// What will be done.
    pub plan: String,
    /// Materials.
    pub materials: Vec<String>,
    /// Expected duration in minutes.
    pub duration_minutes: u32,
    /// What the owner pays, in fen.
    pub cost_fen: Option<u64>,
}

/// A handover defect's inspection record.
#[derive(SimpleObject)]
#[graphql(name = "Handover")]
pub struct HandoverOut {
    /// Pre-inspection or delivery walk-through.
    pub inspection: InspectionKind,
    /// Promised rectification date (整改时限).
    pub promised_by: NaiveDate,
    /// The signed inspection sheet.
    pub signed_record: String,
}

/// A work item (工单): a repair, complaint, inquiry or handover defect,
/// as it now is (or, in `ticketHistory`, as it was at a cut of its
/// history). Personal fields are shown as the caller's role may see them.
#[Object(name = "Ticket")]
impl TicketOut {
    /// Ticket number.
    async fn id(&self) -> String {
        self.0.ticket.id.to_string()
    }
    /// Kind.
    async fn kind(&self) -> TicketKind {
        self.0.ticket.kind.into()
    }
    /// Status.
    async fn status(&self) -> Status {
        self.0.ticket.status.into()
    }
    /// Priority.
    async fn priority(&self) -> Priority {
        self.0.ticket.priority.into()
    }
    /// The channel it was reported through.
    async fn channel(&self) -> Channel {
        self.0.ticket.channel.into()
    }
    /// Category.
    async fn category(&self) -> Category {
        self.0.ticket.category.into()
    }
    /// Trade.
    async fn trade(&self) -> Trade {
        self.0.ticket.trade.into()
    }
    /// The owner's description. Mobile and ID numbers typed into it are
    /// stored sealed: in full for staff who call owners back, masked for
    /// analysts and auditors, `[erased]` once the reporter's personal data
    /// was erased.
    async fn description(&self, ctx: &Context<'_>) -> Result<String> {
        text(ctx, &self.0.ticket.description, &self.0.text_seals)
    }
    /// Photos and documents.
    async fn attachments(&self) -> &[String] {
        &self.0.ticket.attachments
    }
    /// Project.
    async fn project_id(&self) -> String {
        self.0.ticket.location.project().to_string()
    }
    /// Building, if known.
    async fn building_id(&self) -> Option<String> {
        self.0.ticket.location.building().map(|b| b.to_string())
    }
    /// Unit, for unit tickets.
    async fn unit_id(&self) -> Option<String> {
        self.0.ticket.location.unit().map(|u| u.to_string())
    }
    /// The common area, in words, for common-area tickets.
    async fn place(&self) -> Option<&str> {
        match &self.0.ticket.location {
            t::Location::CommonArea { place, .. } => Some(place),
            t::Location::Unit { .. } => None,
        }
    }
    /// The reporting owner's archive id.
    async fn owner_id(&self) -> Option<String> {
        self.0.ticket.reporter.owner.as_ref().map(|o| o.to_string())
    }
    /// Reporter's name: in full for staff who call owners back, masked
    /// (王**) for analysts and auditors; `[erased]` once the reporter's
    /// personal data was erased; `[key missing]` if the key folder lost
    /// its key (damage, not an erasure).
    async fn reporter_name(&self, ctx: &Context<'_>) -> Result<String> {
        shown_in(ctx, &self.0.ticket.reporter.name, |n| n.full())
    }
    /// Reporter's phone: in full for staff who call owners back, masked
    /// (138****5678) for analysts and auditors; `[erased]` once erased;
    /// `[key missing]` if the key folder lost its key.
    async fn reporter_phone(&self, ctx: &Context<'_>) -> Result<String> {
        shown_in(ctx, &self.0.ticket.reporter.phone, |p| p.as_str().to_string())
    }
    /// Whether the reporter's personal data was erased at their request
    /// (false while it reads `[key missing]`: that is damage).
    async fn reporter_erased(&self, ctx: &Context<'_>) -> Result<bool> {
        let status = eventformat::sealing::open_status(service(ctx)?.keyring(), &self.0.ticket.reporter.phone)
            .map_err(crate::error::AppError::internal)?;
        Ok(status == eventformat::sealing::Opened::Erased)
    }
    /// Who works on it.
    async fn assignee(&self) -> Option<AssigneeOut> {
        self.0.ticket.assignee.as_ref().map(|a| match a {
            t::Assignee::Engineer(u) => AssigneeOut {
                engineer_id: Some(u.to_string()),
                contractor_id: None,
            },
            t::Assignee::Contractor(c) => AssigneeOut {
                engineer_id: None,
                contractor_id: Some(c.to_string()),
            },
        })
    }
    /// Dispatches so far (re-dispatches included).
    async fn dispatch_count(&self) -> u32 {
        self.0.ticket.dispatch_count
    }
    /// Current appointment.
    async fn appointment(&self) -> Option<AppointmentOut> {
        self.0
            .ticket
            .appointment
            .as_ref()
            .map(|a| AppointmentOut { from: a.from, to: a.to })
    }
    /// Current diagnosis (personal data in its text shown as in
    /// `description`).
    async fn diagnosis(&self, ctx: &Context<'_>) -> Result<Option<DiagnosisOut>> {
        let seals = &self.0.text_seals;
        let Some(d) = self.0.ticket.diagnosis.as_ref() else {
            return Ok(None);
        };
        Ok(Some(DiagnosisOut {
            cause: text(ctx, &d.cause, seals)?,
            responsible: d.responsible.into(),
            warranty: d.warranty.as_ref().map(|w| WarrantyOut {
                item: w.item.into(),
                period: w.period.to_string(),
                delivered_on: w.delivered_on,
                last_day: w.last_day,
                in_warranty: w.in_warranty,
                rules_version: w.rules_version.clone(),
            }),
            chargeable: d.chargeable,
            plan: text(ctx, &d.plan.content, seals)?,
            materials: d
                .plan
                .materials
                .iter()
                .map(|m| text(ctx, m, seals))
                .collect::<Result<_>>()?,
            duration_minutes: d.plan.duration_minutes,
            cost_fen: d.plan.cost.map(|m| m.fen),
        }))
    }
    /// Whether the owner confirmed the current plan.
    async fn plan_confirmed(&self) -> bool {
        self.0.ticket.plan_confirmed
    }
    /// Handover record (handover defects).
    async fn handover(&self) -> Option<HandoverOut> {
        self.0.ticket.handover.as_ref().map(|h| HandoverOut {
            inspection: h.inspection.into(),
            promised_by: h.promised_by,
            signed_record: h.signed_record.clone(),
        })
    }
    /// Why it is on hold.
    async fn hold_reason(&self) -> Option<HoldReason> {
        self.0.ticket.hold_reason.map(Into::into)
    }
    /// Rework cycles.
    async fn reopen_count(&self) -> u32 {
        self.0.ticket.reopen_count
    }
    /// Rejections at acceptance.
    async fn rejection_count(&self) -> u32 {
        self.0.ticket.rejection_count
    }
    /// Escalation level of a complaint.
    async fn escalation(&self) -> Option<EscalationLevel> {
        self.0.ticket.escalation.map(Into::into)
    }
    /// The incident it is handled in.
    async fn incident_id(&self) -> Option<String> {
        self.0.ticket.incident.as_ref().map(|i| i.to_string())
    }
    /// The ticket it was merged into.
    async fn merged_into(&self) -> Option<String> {
        self.0.ticket.merged_into.as_ref().map(|i| i.to_string())
    }
    /// Overall rating given at acceptance (1 to 5).
    async fn acceptance_rating(&self) -> Option<u8> {
        self.0.ticket.acceptance_ratings.map(|r| r.overall)
    }
    /// Revisits made.
    async fn revisit_count(&self) -> u32 {
        self.0.ticket.revisit_count
    }
    /// Outcome of the last revisit.
    async fn last_revisit(&self) -> Option<RevisitOutcome> {
        self.0.ticket.last_revisit.map(Into::into)
    }
    /// The owner's ratings at acceptance (验收评价), per dimension.
    async fn acceptance_ratings(&self) -> Option<RatingsOut> {
        self.0.ticket.acceptance_ratings.map(Into::into)
    }
    /// Every revisit (回访), oldest first: when, how it went, the ratings
    /// given per dimension and the remarks. Read from the ticket's history.
    /// Cost: 500 + 20 × the selection.
    #[graphql(complexity = "crate::cost::history(child_complexity)")]
    async fn revisits(&self, ctx: &Context<'_>) -> Result<Vec<RevisitOut>> {
        let service = service(ctx)?;
        let entries = projections::timeline::history(service.store().as_ref(), &self.0.ticket.id)
            .map_err(crate::error::AppError::internal)?;
        let mut out = Vec::new();
        for e in entries {
            if let t::TicketEvent::Revisited {
                outcome,
                ratings,
                stage,
                note,
            } = e.event
            {
                out.push(RevisitOut {
                    at: e.occurred_at,
                    outcome: outcome.into(),
                    ratings: ratings.map(Into::into),
                    stage: stage.into(),
                    note: text(ctx, &note, &e.text_seals)?,
                });
            }
        }
        Ok(out)
    }
    /// When it was received (occurred).
    async fn received_at(&self) -> DateTime<Utc> {
        self.0.ticket.received_at
    }
    /// First acknowledgement.
    async fn acknowledged_at(&self) -> Option<DateTime<Utc>> {
        self.0.ticket.acknowledged_at
    }
    /// The time promised to the owner.
    async fn promised_at(&self) -> Option<DateTime<Utc>> {
        self.0.ticket.promised_at
    }
    /// First arrival on site.
    async fn first_arrived_at(&self) -> Option<DateTime<Utc>> {
        self.0.ticket.first_arrived_at
    }
    /// Latest completion of the repair.
    async fn repaired_at(&self) -> Option<DateTime<Utc>> {
        self.0.ticket.repaired_at
    }
    /// Acceptance.
    async fn accepted_at(&self) -> Option<DateTime<Utc>> {
        self.0.ticket.accepted_at
    }
    /// Closing, withdrawal or merge.
    async fn closed_at(&self) -> Option<DateTime<Utc>> {
        self.0.ticket.closed_at
    }
    /// When the latest event happened.
    async fn last_event_at(&self) -> DateTime<Utc> {
        self.0.ticket.last_event_at
    }
    /// When the log stored the latest event.
    async fn updated_at(&self) -> DateTime<Utc> {
        self.0.updated_at
    }
    /// Stream version of the latest event: pass it as `expectedVersion`.
    async fn version(&self) -> u64 {
        self.0.ticket.event_count.saturating_sub(1)
    }
    /// Log position of the latest event.
    async fn position(&self) -> u64 {
        self.0.position
    }
    /// The mutations the caller may run on this ticket now, by name
    /// (`acknowledgeTicket`, `dispatchTicket`, ...): each is offered unless
    /// the rules refuse it for the caller's role or for the ticket's state;
    /// what a form sends can still be refused for its inputs. Empty in a
    /// replayed state (`ticketHistory`). Cost: 40 + the selection.
    #[graphql(complexity = "crate::cost::clocks(child_complexity)")]
    async fn available_actions(&self, ctx: &Context<'_>) -> Result<Vec<String>> {
        if self.1.is_some() {
            return Ok(Vec::new());
        }
        let principal = super::super::principal(ctx)?;
        let acting = application::service::Acting {
            projects: principal.projects.clone(),
            actor: principal.actor(),
            channel: domain::ticket::Channel::BackOffice,
            occurred_at: None,
            expected_version: None,
            idempotency_key: None,
            shared_key: false,
        };
        let offered = service(ctx)?.offered_actions(&self.0.ticket.id, &acting)?;
        Ok(offered.into_iter().map(String::from).collect())
    }
    /// The service-level clocks that apply, evaluated now (first response,
    /// on site, resolution). Cost: 40 + the selection.
    #[graphql(complexity = "crate::cost::clocks(child_complexity)")]
    async fn clocks(&self, ctx: &Context<'_>) -> Result<Vec<Clock>> {
        if let Some(replayed) = &self.1 {
            return Ok(replayed.clocks().map(Clock::from).collect());
        }
        let service = service(ctx)?;
        let report = service.clocks(&self.0.ticket.id, service.now())?;
        Ok(report
            .map(|r| r.clocks().map(Clock::from).collect())
            .unwrap_or_default())
    }
}

/// Ratings an owner gave, 1 (very dissatisfied) to 5 (very satisfied).
#[derive(SimpleObject)]
#[graphql(name = "Ratings")]
pub struct RatingsOut {
    /// Overall (总体满意度).
    pub overall: u8,
    /// Product quality (产品质量), if asked.
    pub product_quality: Option<u8>,
    /// Service process (服务过程), if asked.
    pub service_process: Option<u8>,
    /// Staff attitude (服务态度), if asked.
    pub staff_attitude: Option<u8>,
}

impl From<t::Ratings> for RatingsOut {
    fn from(r: t::Ratings) -> Self {
        Self {
            overall: r.overall,
            product_quality: r.product_quality,
            service_process: r.service_process,
            staff_attitude: r.staff_attitude,
        }
    }
}

/// One revisit (回访) of a ticket.
#[derive(SimpleObject)]
#[graphql(name = "Revisit")]
pub struct RevisitOut {
    /// When it happened.
    pub at: DateTime<Utc>,
    /// How it went.
    pub outcome: RevisitOutcome,
    /// The ratings given, if any.
    pub ratings: Option<RatingsOut>,
    /// The touchpoint stage measured.
    pub stage: TouchpointStage,
    /// Remarks.
    pub note: String,
}

impl From<TicketRecord> for TicketOut {
    fn from(r: TicketRecord) -> Self {
        Self(std::sync::Arc::new(r), None)
    }
}

/// What every ticket mutation returns.
#[derive(SimpleObject)]
pub struct TicketPayload {
    /// The ticket as it now is.
    pub ticket: TicketOut,
    /// Log position of the change.
    pub position: u64,
}

impl From<application::service::Outcome> for TicketPayload {
    fn from(o: application::service::Outcome) -> Self {
        Self {
            ticket: TicketOut(o.ticket, None),
            position: o.position,
        }
    }
}
