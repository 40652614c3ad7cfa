//! The GraphQL schema. Names are a contract with staff tools: extend,
//! never rename. This first part holds the ticket intake (`receiveTicket`,
//! `acknowledgeTicket`, `commentTicket`), `ticket(id)` and `workdays`; the
//! rest of the commands and views follow the same pattern.

use async_graphql::{Context, EmptySubscription, Enum, InputObject, Object, Result, Schema, SimpleObject};
use chrono::{DateTime, NaiveDate, Utc};
use domain::actor::Actor;
use domain::ids::{BuildingId, OwnerId, ProjectId, TicketId, UnitId};
use domain::personal::{PersonName, Personal, PhoneNumber};
use domain::ticket as t;
use projections::tickets::TicketRecord;
use std::sync::Arc;

use crate::error::AppError;
use crate::service::{Acting, Service};

/// The schema type.
pub type AppSchema = Schema<QueryRoot, MutationRoot, EmptySubscription>;

/// Builds the schema around a service.
pub fn build(service: Arc<Service>) -> AppSchema {
    Schema::build(QueryRoot, MutationRoot, EmptySubscription)
        .data(service)
        .limit_depth(20)
        .limit_complexity(5_000)
        .finish()
}

macro_rules! gql_enum {
    ($gql:ident, $name:literal, $domain:ty { $($v:ident),+ $(,)? }) => {
        #[derive(Enum, Copy, Clone, Eq, PartialEq, Debug)]
        #[graphql(name = $name)]
        #[allow(missing_docs)]
        pub enum $gql { $($v),+ }
        impl From<$gql> for $domain {
            fn from(v: $gql) -> Self { match v { $($gql::$v => <$domain>::$v),+ } }
        }
        impl From<$domain> for $gql {
            fn from(v: $domain) -> Self { match v { $(<$domain>::$v => $gql::$v),+ } }
        }
    };
}

gql_enum!(
    TicketKind,
    "TicketKind",
    t::TicketKind {
        Repair,
        Complaint,
        Inquiry,
        HandoverDefect
    }
);
gql_enum!(
    Priority,
    "Priority",
    t::Priority {
        Emergency,
        Urgent,
        Normal
    }
);
gql_enum!(
    Channel,
    "Channel",
    t::Channel {
        Hotline,
        CallCenter400,
        App,
        WeChat,
        ServiceDesk,
        Email,
        WebForm,
        Forum,
        Revisit,
        BackOffice
    }
);
gql_enum!(
    Category,
    "Category",
    t::Category {
        Planning,
        Engineering,
        ModelUnit,
        PublicFacilities,
        Service,
        Other
    }
);
gql_enum!(
    Trade,
    "Trade",
    t::Trade {
        Leak,
        Crack,
        Hollow,
        DoorsWindows,
        WaterElectric,
        Hvac,
        Fixtures,
        Blockage,
        Structure,
        Facade,
        Elevator,
        Landscaping,
        Decoration,
        None,
        Other
    }
);
gql_enum!(
    Status,
    "TicketStatus",
    t::Status {
        Received,
        Acknowledged,
        Dispatched,
        Scheduled,
        OnSite,
        Diagnosed,
        PlanDeclined,
        InRepair,
        Repaired,
        Accepted,
        Rejected,
        Reopened,
        OnHold,
        Investigating,
        ResolutionProposed,
        OwnerAgreed,
        OwnerDisagreed,
        Answered,
        Closed,
        Withdrawn,
        Merged
    }
);

/// A ticket as staff tools see it. Personal fields are masked.
#[derive(SimpleObject)]
#[graphql(name = "Ticket")]
pub struct TicketOut {
    /// Ticket number.
    pub id: String,
    /// Kind.
    pub kind: TicketKind,
    /// Status.
    pub status: Status,
    /// Priority.
    pub priority: Priority,
    /// The channel it was reported through.
    pub channel: Channel,
    /// Category.
    pub category: Category,
    /// Trade.
    pub trade: Trade,
    /// The owner's description.
    pub description: String,
    /// Project.
    pub project_id: String,
    /// Building, if known.
    pub building_id: Option<String>,
    /// Unit, for unit tickets.
    pub unit_id: Option<String>,
    /// Reporter's name, masked (王**).
    pub reporter_name: String,
    /// Reporter's phone, masked (138****5678).
    pub reporter_phone: String,
    /// When it was received (occurred).
    pub received_at: DateTime<Utc>,
    /// First acknowledgement.
    pub acknowledged_at: Option<DateTime<Utc>>,
    /// Rework cycles.
    pub reopen_count: u32,
    /// Stream version of the latest event: pass it as `expectedVersion`.
    pub version: u64,
    /// Log position of the latest event.
    pub position: u64,
}

impl From<&TicketRecord> for TicketOut {
    fn from(r: &TicketRecord) -> Self {
        let tk = &r.ticket;
        Self {
            id: tk.id.to_string(),
            kind: tk.kind.into(),
            status: tk.status.into(),
            priority: tk.priority.into(),
            channel: tk.channel.into(),
            category: tk.category.into(),
            trade: tk.trade.into(),
            description: tk.description.clone(),
            project_id: tk.location.project().to_string(),
            building_id: tk.location.building().map(|b| b.to_string()),
            unit_id: tk.location.unit().map(|u| u.to_string()),
            reporter_name: tk.reporter.name.masked(),
            reporter_phone: tk.reporter.phone.masked(),
            received_at: tk.received_at,
            acknowledged_at: tk.acknowledged_at,
            reopen_count: tk.reopen_count,
            version: tk.event_count.saturating_sub(1),
            position: r.position,
        }
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
    /// When it really happened.
    pub occurred_at: Option<DateTime<Utc>>,
    /// Makes a retry safe.
    pub idempotency_key: Option<String>,
}

/// `acknowledgeTicket`.
#[derive(InputObject)]
pub struct AcknowledgeTicketInput {
    /// The ticket.
    pub ticket_id: String,
    /// When the owner can expect the visit or answer.
    pub promised_at: Option<DateTime<Utc>>,
    /// What was said.
    #[graphql(default)]
    pub note: String,
    /// When it really happened.
    pub occurred_at: Option<DateTime<Utc>>,
    /// The version last seen.
    pub expected_version: Option<u64>,
    /// Makes a retry safe.
    pub idempotency_key: Option<String>,
}

/// `commentTicket`.
#[derive(InputObject)]
pub struct CommentTicketInput {
    /// The ticket.
    pub ticket_id: String,
    /// The remark.
    pub text: String,
    /// Staff only.
    #[graphql(default)]
    pub internal: bool,
    /// When it really happened.
    pub occurred_at: Option<DateTime<Utc>>,
    /// The version last seen.
    pub expected_version: Option<u64>,
    /// Makes a retry safe.
    pub idempotency_key: Option<String>,
}

fn bad(e: impl std::fmt::Display) -> AppError {
    AppError::BadInput(e.to_string())
}

fn service<'a>(ctx: &Context<'a>) -> Result<&'a Arc<Service>> {
    ctx.data::<Arc<Service>>()
}

fn actor(ctx: &Context<'_>) -> Result<Actor> {
    Ok(ctx.data::<Actor>()?.clone())
}

fn ticket_id(text: &str) -> Result<TicketId, AppError> {
    TicketId::new(text).map_err(AppError::from)
}

/// Queries.
pub struct QueryRoot;

#[Object]
impl QueryRoot {
    /// One ticket, or null.
    async fn ticket(&self, ctx: &Context<'_>, id: String) -> Result<Option<TicketOut>> {
        let id = ticket_id(&id)?;
        Ok(service(ctx)?.ticket(&id)?.as_ref().map(TicketOut::from))
    }

    /// The working days from `from` to `to` (inclusive) on the mainland
    /// calendar, at most 366 days.
    async fn workdays(&self, ctx: &Context<'_>, from: NaiveDate, to: NaiveDate) -> Result<Vec<NaiveDate>> {
        if to < from || (to - from).num_days() > 366 {
            return Err(bad("the range must run forward and span at most 366 days").into());
        }
        Ok(service(ctx)?.calendar().workdays(from, to))
    }
}

/// Mutations.
pub struct MutationRoot;

#[Object]
impl MutationRoot {
    /// Records a new report, whatever the channel (受理).
    async fn receive_ticket(&self, ctx: &Context<'_>, input: ReceiveTicketInput) -> Result<TicketPayload> {
        let id = match (&input.ticket_id, &input.idempotency_key) {
            (Some(id), _) => ticket_id(id)?,
            (None, Some(key)) => ticket_id(&format!(
                "T-{}",
                &uuid::Uuid::new_v5(&uuid::Uuid::NAMESPACE_OID, key.as_bytes())
                    .simple()
                    .to_string()[..12]
            ))?,
            (None, None) => ticket_id(&format!("T-{}", &uuid::Uuid::new_v4().simple().to_string()[..12]))?,
        };
        let l = &input.location;
        let project = ProjectId::new(l.project_id.as_str()).map_err(AppError::from)?;
        let building = l
            .building_id
            .as_deref()
            .map(BuildingId::new)
            .transpose()
            .map_err(AppError::from)?;
        let location = match (&l.unit_id, building) {
            (Some(unit), Some(building)) => t::Location::Unit {
                project,
                building,
                unit: UnitId::new(unit.as_str()).map_err(AppError::from)?,
            },
            (Some(_), None) => return Err(bad("a unit location needs its building").into()),
            (None, building) => t::Location::CommonArea {
                project,
                building,
                place: l.place.clone().unwrap_or_default(),
            },
        };
        let r = &input.reporter;
        let reporter = t::Reporter {
            owner: r
                .owner_id
                .as_deref()
                .map(OwnerId::new)
                .transpose()
                .map_err(AppError::from)?,
            name: Personal::new(
                PersonName::new(r.family_name.as_str(), r.given_name.as_str()).map_err(AppError::from)?,
            ),
            phone: Personal::new(PhoneNumber::new(&r.phone).map_err(AppError::from)?),
        };
        let command = t::TicketCommand::Receive(Box::new(t::Receive {
            ticket: id.clone(),
            kind: input.kind.into(),
            reporter,
            location,
            category: input.category.into(),
            trade: input.trade.into(),
            description: input.description,
            attachments: input.attachments,
            priority: input.priority.into(),
            handover: None,
        }));
        let acting = Acting {
            actor: actor(ctx)?,
            channel: input.channel.into(),
            occurred_at: input.occurred_at,
            expected_version: None,
            idempotency_key: input.idempotency_key,
        };
        let outcome = service(ctx)?.ticket_command(&id, command, acting).await?;
        Ok(TicketPayload {
            ticket: TicketOut::from(&outcome.ticket),
            position: outcome.position,
        })
    }

    /// Staff confirmed the details with the owner and told the expected
    /// time.
    async fn acknowledge_ticket(&self, ctx: &Context<'_>, input: AcknowledgeTicketInput) -> Result<TicketPayload> {
        let id = ticket_id(&input.ticket_id)?;
        let command = t::TicketCommand::Acknowledge {
            promised_at: input.promised_at,
            note: input.note,
        };
        let acting = Acting {
            actor: actor(ctx)?,
            channel: t::Channel::BackOffice,
            occurred_at: input.occurred_at,
            expected_version: input.expected_version,
            idempotency_key: input.idempotency_key,
        };
        let outcome = service(ctx)?.ticket_command(&id, command, acting).await?;
        Ok(TicketPayload {
            ticket: TicketOut::from(&outcome.ticket),
            position: outcome.position,
        })
    }

    /// A remark on the record.
    async fn comment_ticket(&self, ctx: &Context<'_>, input: CommentTicketInput) -> Result<TicketPayload> {
        let id = ticket_id(&input.ticket_id)?;
        let command = t::TicketCommand::Comment {
            text: input.text,
            internal: input.internal,
        };
        let acting = Acting {
            actor: actor(ctx)?,
            channel: t::Channel::BackOffice,
            occurred_at: input.occurred_at,
            expected_version: input.expected_version,
            idempotency_key: input.idempotency_key,
        };
        let outcome = service(ctx)?.ticket_command(&id, command, acting).await?;
        Ok(TicketPayload {
            ticket: TicketOut::from(&outcome.ticket),
            position: outcome.position,
        })
    }
}
