//! Queries: tickets, audit histories, reports, archive lookups.

use async_graphql::{Context, Enum, InputObject, Object, Result, SimpleObject};
use chrono::{DateTime, NaiveDate, Utc};
use domain::decider::Stamped;
use domain::ids::{BuildingId, ContractorId, IncidentId, OwnerId, ProjectId, UnitId, UserId};
use domain::ticket::{evolve, TicketState};
use projections::tickets::{TicketFilter, TicketRecord};
use projections::{contractors, defects, satisfaction, sla, timeline};

use super::archive::{IncidentOut, OwnerOut, ProjectOut, UnitOut};
use super::types::*;
use super::{bad, principal, service, ticket_id};
use crate::error::AppError;
use application::access::{self, Read};

/// Which tickets `tickets` lists; every given field must match.
#[derive(InputObject, Default)]
pub struct TicketFilterInput {
    /// Project.
    pub project_id: Option<String>,
    /// Building.
    pub building_id: Option<String>,
    /// Status.
    pub status: Option<Status>,
    /// Kind.
    pub kind: Option<TicketKind>,
    /// Priority.
    pub priority: Option<Priority>,
    /// Internal engineer assigned.
    pub engineer_id: Option<String>,
    /// Contractor dispatched.
    pub contractor_id: Option<String>,
    /// Category.
    pub category: Option<Category>,
    /// Received at or after.
    pub received_from: Option<DateTime<Utc>>,
    /// Received before.
    pub received_before: Option<DateTime<Utc>>,
}

impl TicketFilterInput {
    /// What `totalCount` costs on this filter (a filter that does not
    /// convert is refused when it runs; it costs as the costlier count).
    fn count_cost(&self) -> usize {
        self.to_filter()
            .map_or(crate::cost::TOTAL_COUNT_MATCHED, |f| crate::cost::total_count(&f))
    }

    fn to_filter(&self) -> Result<TicketFilter, AppError> {
        Ok(TicketFilter {
            project: self.project_id.as_deref().map(ProjectId::new).transpose()?,
            building: self.building_id.as_deref().map(BuildingId::new).transpose()?,
            status: self.status.map(Into::into),
            kind: self.kind.map(Into::into),
            priority: self.priority.map(Into::into),
            assignee: self.engineer_id.as_deref().map(UserId::new).transpose()?,
            contractor: self.contractor_id.as_deref().map(ContractorId::new).transpose()?,
            category: self.category.map(Into::into),
            received_from: self.received_from,
            received_before: self.received_before,
        })
    }
}

/// A ticket in a listing, with its cursor.
#[derive(SimpleObject)]
pub struct TicketEdge {
    /// Pass as `after` to continue behind this ticket.
    pub cursor: String,
    /// The ticket.
    pub node: TicketOut,
}

/// Relay page information.
#[derive(SimpleObject)]
pub struct PageInfo {
    /// Whether more tickets match after this page.
    pub has_next_page: bool,
    /// Whether tickets come before this page (paging runs forward: true
    /// exactly when the page starts after a cursor).
    pub has_previous_page: bool,
    /// Cursor of the first ticket of the page.
    pub start_cursor: Option<String>,
    /// Cursor of the last ticket of the page.
    pub end_cursor: Option<String>,
}

/// A page of tickets, newest received first (Relay connection).
#[derive(SimpleObject)]
#[graphql(complex)]
pub struct TicketConnection {
    /// The tickets with their cursors.
    pub edges: Vec<TicketEdge>,
    /// Paging.
    pub page_info: PageInfo,
    /// The filter the page was listed with, the caller's scope applied:
    /// what `totalCount` counts, if it is asked for.
    #[graphql(skip)]
    pub filter: TicketFilter,
}

#[async_graphql::ComplexObject]
impl TicketConnection {
    /// How many tickets match the filter within the caller's scope (a
    /// contractor's own tickets, a scoped manager's projects), over every
    /// page, not only this one: the same on every page of a listing unless
    /// tickets change in between. Counted only when asked for. Cost, once
    /// however large the page: 10,000 when an index answers it alone (a
    /// filter naming nothing, a project with or without a status, or a
    /// contractor; date bounds on whole milliseconds); otherwise 120,000,
    /// as every ticket in the range of the narrowest index is read and
    /// matched.
    #[graphql(complexity = "crate::cost::TOTAL_COUNT_MARK")]
    async fn total_count(&self, ctx: &Context<'_>) -> Result<u64> {
        let tree = service(ctx)?.view("tickets")?.tree();
        Ok(projections::tickets::count(&tree, &self.filter).map_err(|e| match e {
            projections::tickets::QueryError::View(v) => AppError::internal(v),
            other => bad(other),
        })?)
    }
}

/// Which state `ticketHistory` replays to: give at most one field; none
/// means everything.
#[derive(InputObject, Default)]
pub struct AsOfInput {
    /// Everything up to and including this log position.
    pub position: Option<u64>,
    /// What the log had stored at this instant: the record as staff could
    /// see it then (back-entered events count from when they were entered).
    pub recorded_at: Option<DateTime<Utc>>,
    /// Everything that had happened by this instant, including what was
    /// entered later.
    pub occurred_at: Option<DateTime<Utc>>,
}

/// One event of a ticket's audit history. An event this build cannot read
/// has type `Unreadable`, a summary naming its stored type and why, is
/// never `included` (the state is replayed without it), and shows who,
/// when and the channel as the log recorded them (`BACK_OFFICE` when the
/// log names no channel of the domain).
#[derive(SimpleObject)]
pub struct HistoryEntry {
    /// Global log position.
    pub position: u64,
    /// Version within the ticket's stream.
    pub version: u64,
    /// Stored event type (`Accepted`, `Reopened`).
    #[graphql(name = "type")]
    pub event_type: String,
    /// When it happened.
    pub occurred_at: DateTime<Utc>,
    /// When it was entered.
    pub recorded_at: DateTime<Utc>,
    /// Who.
    pub actor: String,
    /// In which role.
    pub role: String,
    /// The contractor company acting, if any.
    pub contractor_id: Option<String>,
    /// Through which channel.
    pub channel: Channel,
    /// What changed, in words (times in the project's calendar zone).
    pub summary: String,
    /// The event's own fields, as stored (`{"reason": …, "cycle": 2}`),
    /// personal values shown as the caller may see them (in full, masked
    /// or `[erased]`), numbers typed into free text likewise.
    pub fields: async_graphql::Json<serde_json::Value>,
    /// Whether it falls within `asOf`.
    pub included: bool,
}

/// An event's fields as JSON for `HistoryEntry.fields`: the stored
/// payload's variant body, personal values shown per the caller's role.
fn event_fields(
    ctx: &Context<'_>,
    event: &domain::ticket::TicketEvent,
    seals: &[domain::personal::TextSeal],
) -> Result<serde_json::Value> {
    let tagged = serde_json::to_value(event).map_err(AppError::internal)?;
    let mut body = match tagged {
        serde_json::Value::Object(mut outer) if outer.len() == 1 => {
            let (_, body) = outer
                .iter_mut()
                .next()
                .map(|(k, v)| (k.clone(), v.take()))
                .unwrap_or_default();
            body
        }
        other => other,
    };
    restore_text(ctx, &mut body, seals)?;
    if let (domain::ticket::TicketEvent::Received { reporter, .. }, Some(r)) = (event, body.get_mut("reporter")) {
        r["name"] = serde_json::Value::String(super::types::shown_in(ctx, &reporter.name, |n| n.full())?);
        r["phone"] = serde_json::Value::String(super::types::shown_in(ctx, &reporter.phone, |p| {
            p.as_str().to_string()
        })?);
    }
    Ok(body)
}

/// Numbers sealed out of free text, put back as the caller may see them.
fn restore_text(ctx: &Context<'_>, value: &mut serde_json::Value, seals: &[domain::personal::TextSeal]) -> Result<()> {
    match value {
        serde_json::Value::String(text) if !seals.is_empty() => {
            *text = super::types::text(ctx, text, seals)?;
        }
        serde_json::Value::Array(items) => {
            for item in items {
                restore_text(ctx, item, seals)?;
            }
        }
        serde_json::Value::Object(map) => {
            for (_, item) in map.iter_mut() {
                restore_text(ctx, item, seals)?;
            }
        }
        _ => {}
    }
    Ok(())
}

/// The history line of an event that cannot be read.
fn unreadable_entry(u: timeline::UnreadableEntry) -> HistoryEntry {
    HistoryEntry {
        position: u.position,
        version: u.stream_version,
        event_type: "Unreadable".to_string(),
        occurred_at: u.occurred_at.unwrap_or(u.recorded_at),
        recorded_at: u.recorded_at,
        actor: u.actor,
        role: u.role,
        contractor_id: None,
        channel: u
            .channel
            .parse::<domain::ticket::Channel>()
            .unwrap_or(domain::ticket::Channel::BackOffice)
            .into(),
        summary: format!("unreadable {} event: {}", u.event_type, u.reason),
        fields: async_graphql::Json(serde_json::json!({ "storedType": u.event_type, "reason": u.reason })),
        included: false,
    }
}

/// A ticket's audit replay.
#[derive(SimpleObject)]
pub struct TicketHistory {
    /// The ticket.
    pub ticket_id: String,
    /// Every event, oldest first (also those after `asOf`, marked).
    pub events: Vec<HistoryEntry>,
    /// The ticket as of `asOf` (null: it did not exist yet). Its `clocks`
    /// are replayed too: evaluated from the history up to the cut, at the
    /// cut's instant (for a `position`, when the log recorded that event;
    /// for `recordedAt` and `occurredAt`, that instant; without a cut,
    /// now).
    pub state: Option<TicketOut>,
}

/// How `slaReport` groups tickets.
#[derive(Enum, Copy, Clone, Eq, PartialEq)]
pub enum SlaDimension {
    /// Everything in one bucket.
    All,
    /// By project.
    Project,
    /// By category.
    Category,
    /// By priority.
    Priority,
    /// By contractor dispatched.
    Contractor,
    /// By intake channel.
    Channel,
    /// By month received.
    Month,
    /// By project and month.
    ProjectMonth,
}

/// How `satisfactionReport` groups ratings.
#[derive(Enum, Copy, Clone, Eq, PartialEq)]
pub enum RatingDimension {
    /// Everything in one bucket.
    All,
    /// By project.
    Project,
    /// By contractor.
    Contractor,
    /// By staff member.
    Staff,
    /// By touchpoint stage.
    Stage,
    /// By month.
    Month,
    /// By project and month.
    ProjectMonth,
}

/// How `defectStats` groups defects.
#[derive(Enum, Copy, Clone, Eq, PartialEq)]
pub enum DefectDimension {
    /// Everything in one bucket.
    All,
    /// By category.
    Category,
    /// By trade.
    Trade,
    /// By project.
    Project,
    /// By building.
    Building,
    /// By location in the home (kitchen, bathroom, ...).
    Location,
    /// By time since delivery.
    SinceDelivery,
    /// By category and trade.
    CategoryTrade,
    /// By project and trade.
    ProjectTrade,
    /// By project and month.
    ProjectMonth,
}

fn dimension_name<T: async_graphql::InputType>(d: T) -> String {
    // Enum names are SCREAMING_SNAKE; the views key by snake_case.
    match d.to_value() {
        async_graphql::Value::Enum(name) => name.to_ascii_lowercase(),
        _ => String::new(),
    }
}

/// Compliance of one clock.
#[derive(SimpleObject)]
#[graphql(name = "ClockCompliance")]
pub struct ClockComplianceOut {
    /// Clocks stopped within target.
    pub met: i64,
    /// Clocks breached.
    pub breached: i64,
    /// Clocks cancelled (withdrawn, merged, closed before their goal).
    pub cancelled: i64,
    /// met / (met + breached).
    pub compliance_rate: Option<f64>,
    /// Mean minutes to the stop (business or wall minutes).
    pub mean_minutes: Option<f64>,
    /// 90th percentile, as its histogram bucket's upper bound.
    pub p90_minutes: Option<i64>,
}

impl From<sla::ClockCompliance> for ClockComplianceOut {
    fn from(c: sla::ClockCompliance) -> Self {
        Self {
            met: c.met,
            breached: c.breached,
            cancelled: c.cancelled,
            compliance_rate: c.compliance_rate,
            mean_minutes: c.mean_minutes,
            p90_minutes: c.p90_minutes,
        }
    }
}

/// Compliance of the three clocks in one bucket.
#[derive(SimpleObject)]
pub struct SlaBucket {
    /// The bucket ("" for ALL).
    pub key: String,
    /// First response.
    pub first_response: ClockComplianceOut,
    /// On site.
    pub on_site: ClockComplianceOut,
    /// Resolution.
    pub resolution: ClockComplianceOut,
}

fn sla_bucket(key: String, c: sla::SlaCompliance) -> SlaBucket {
    SlaBucket {
        key,
        first_response: c.first_response.into(),
        on_site: c.on_site.into(),
        resolution: c.resolution.into(),
    }
}

/// Mean ratings of one bucket.
#[derive(SimpleObject)]
pub struct RatingBucket {
    /// The bucket ("" for ALL).
    pub key: String,
    /// Ratings given.
    pub count: i64,
    /// Mean overall rating (1–5).
    pub overall: Option<f64>,
    /// Mean product-quality rating.
    pub product_quality: Option<f64>,
    /// Mean service-process rating.
    pub service_process: Option<f64>,
    /// Mean staff-attitude rating.
    pub staff_attitude: Option<f64>,
}

fn rating_bucket(key: String, r: satisfaction::RatingSummary) -> RatingBucket {
    RatingBucket {
        key,
        count: r.count,
        overall: r.overall,
        product_quality: r.product_quality,
        service_process: r.service_process,
        staff_attitude: r.staff_attitude,
    }
}

/// Service quality of a project or of everything.
#[derive(SimpleObject)]
#[graphql(name = "ServiceSummary")]
pub struct ServiceSummaryOut {
    /// Closed repairs.
    pub closed_repairs: i64,
    /// Of them, revisited.
    pub revisited: i64,
    /// Revisit coverage (回访率).
    pub revisit_coverage: Option<f64>,
    /// Accepted repairs.
    pub accepted: i64,
    /// Of them, accepted without a rejection.
    pub accepted_first_visit: i64,
    /// Acceptance-on-first-visit rate.
    pub first_visit_rate: Option<f64>,
    /// Complaints received.
    pub complaints: i64,
    /// Units delivered.
    pub delivered_units: i64,
    /// Complaints per 1,000 delivered units.
    pub complaints_per_1000_units: Option<f64>,
}

/// Ratings and service quality.
#[derive(SimpleObject)]
pub struct SatisfactionReport {
    /// Mean ratings per bucket.
    pub ratings: Vec<RatingBucket>,
    /// Service quality of the project asked for, or of everything.
    pub service: ServiceSummaryOut,
}

/// One contractor's year.
#[derive(SimpleObject)]
#[graphql(name = "Scorecard")]
pub struct ScorecardOut {
    /// The contractor.
    pub contractor_id: String,
    /// Rank within the year, 1 is best.
    pub rank: usize,
    /// The ranking score, 0–100.
    pub score: f64,
    /// Tickets dispatched to it (received that year).
    pub handled: i64,
    /// Resolution within target, of those decided.
    pub on_time_rate: Option<f64>,
    /// Accepted without a rejection, of those accepted.
    pub first_time_fix_rate: Option<f64>,
    /// Reopened at least once, of those handled.
    pub rework_rate: Option<f64>,
    /// Mean overall rating at acceptance.
    pub mean_rating: Option<f64>,
    /// Chargeable diagnoses, of those diagnosed.
    pub chargeable_share: Option<f64>,
}

/// A defect count.
#[derive(SimpleObject)]
pub struct DefectCount {
    /// The bucket.
    pub key: String,
    /// Defects (repairs and handover defects) in it.
    pub count: i64,
}

/// A count by name.
#[derive(SimpleObject)]
pub struct NamedCount {
    /// The name (stored snake_case name of a kind or trade).
    pub name: String,
    /// How many.
    pub count: usize,
}

/// The monthly customer-service report of a project.
#[derive(SimpleObject)]
#[graphql(name = "MonthlyReport")]
pub struct MonthlyReportOut {
    /// Project.
    pub project_id: String,
    /// Month, `YYYY-MM`.
    pub month: String,
    /// Tickets received in the month, by kind.
    pub received_by_kind: Vec<NamedCount>,
    /// Of them, finished by now.
    pub finished: usize,
    /// Of them, still open.
    pub open: usize,
    /// Repairs reopened at least once.
    pub reopened: usize,
    /// Escalated complaints.
    pub escalated_complaints: usize,
    /// Repairs and handover defects by trade, most frequent first.
    pub defects_by_trade: Vec<NamedCount>,
    /// Compliance of the clocks of tickets received in the month.
    pub sla: SlaBucket,
    /// Ratings given in the month.
    pub ratings: RatingBucket,
    /// Closed repairs received in the month.
    pub closed_repairs: usize,
    /// Revisited among them.
    pub revisited: usize,
    /// The report as CSV, as `aftersales export` writes it.
    pub csv: String,
}

/// The weekly repair report of a project.
#[derive(SimpleObject)]
#[graphql(name = "WeeklyRepairReport")]
pub struct WeeklyRepairReportOut {
    /// Project.
    pub project_id: String,
    /// ISO week, `YYYY-Www`.
    pub week: String,
    /// Monday.
    pub from: NaiveDate,
    /// Sunday.
    pub to: NaiveDate,
    /// Repairs and handover defects received in the week.
    pub received: usize,
    /// Of them, repaired at least once by now.
    pub repaired: usize,
    /// Of them, accepted by the owner.
    pub accepted: usize,
    /// Of them, still open now.
    pub open: usize,
    /// Of them, reopened at least once.
    pub reopened: usize,
    /// Of them, on hold now.
    pub on_hold: usize,
    /// The project's open tickets with a breached clock now.
    pub breached_now: usize,
    /// The project's open tickets with a clock at risk now.
    pub at_risk_now: usize,
    /// The report as CSV.
    pub csv: String,
}

/// An open ticket's clock that needs attention now.
#[derive(SimpleObject)]
pub struct SlaAlert {
    /// The ticket.
    pub ticket_id: String,
    /// Its project.
    pub project_id: String,
    /// The clock, at risk or breached.
    pub clock: Clock,
}

fn project_id(text: &str) -> Result<ProjectId, AppError> {
    Ok(ProjectId::new(text)?)
}

/// Reports over every project: not for callers scoped to some projects.
fn aggregates_allowed(caller: &application::auth::Principal) -> Result<(), AppError> {
    access::require(caller, Read::Aggregates)?;
    if access::scoped(caller) {
        return Err(AppError::Forbidden(format!(
            "{} {} is scoped to some projects: use monthlyReport and weeklyRepairReport for them",
            caller.role, caller.user
        )));
    }
    Ok(())
}

/// The project a one-project read is for: the one asked, checked against
/// the caller's scope; a scoped caller with one project may leave it out.
pub(crate) fn project_scope(
    caller: &application::auth::Principal,
    project: Option<ProjectId>,
) -> Result<Option<ProjectId>, AppError> {
    access::require(caller, Read::ProjectReports)?;
    match project {
        Some(p) => {
            access::require_project(caller, &p)?;
            Ok(Some(p))
        }
        None if access::scoped(caller) => match caller.projects.as_slice() {
            [only] => Ok(Some(only.clone())),
            _ => Err(AppError::Forbidden(
                "you work on several projects: name one with projectId".into(),
            )),
        },
        None => Ok(None),
    }
}

/// Narrows a listing to what the caller may see.
fn scope_filter(caller: &application::auth::Principal, filter: &mut TicketFilter) -> Result<(), AppError> {
    match caller.role {
        domain::actor::Role::Contractor => {
            let own = caller.contractor.clone();
            if filter.contractor.is_some() && filter.contractor != own {
                return Err(AppError::Forbidden("a contractor lists only its own tickets".into()));
            }
            filter.contractor = own;
            if filter.contractor.is_none() {
                return Err(AppError::Forbidden(
                    "the contractor user belongs to no contractor".into(),
                ));
            }
        }
        domain::actor::Role::Owner => {
            return Err(AppError::Forbidden(
                "owners read their own tickets one by one with ticket(id)".into(),
            ))
        }
        _ if access::scoped(caller) => {
            let project = project_scope(caller, filter.project.clone()).map_err(|_| {
                AppError::Forbidden(format!(
                    "{} {} works on {}: filter by one of those projects",
                    caller.role,
                    caller.user,
                    caller
                        .projects
                        .iter()
                        .map(|p| p.to_string())
                        .collect::<Vec<_>>()
                        .join(", ")
                ))
            })?;
            filter.project = project;
        }
        _ => {}
    }
    Ok(())
}

/// Queries.
#[derive(Default)]
pub struct QueryRoot;

/// Queries. A document may cost at most 250,000 points (the server's
/// `--max-cost`), select at most 1,000 fields and nest 20 deep; a field
/// costs 1 plus what it selects unless its description says otherwise.
/// Costlier documents are refused `QUERY_TOO_COSTLY` before they run.
#[Object(name = "RecordQueries")]
impl QueryRoot {
    /// One ticket, or null. Cost: 20 + the selection.
    #[graphql(complexity = "crate::cost::record(child_complexity)")]
    async fn ticket(
        &self,
        ctx: &Context<'_>,
        #[graphql(desc = "The ticket number.")] id: String,
    ) -> Result<Option<TicketOut>> {
        let caller = principal(ctx)?;
        access::require(caller, Read::Tickets)?;
        let id = ticket_id(&id)?;
        match service(ctx)?.ticket(&id)? {
            Some(record) => {
                access::require_ticket(caller, &record.ticket)?;
                Ok(Some(TicketOut(record, None)))
            }
            None => Ok(None),
        }
    }

    /// Tickets matching `filter`, newest received first, `first` (1 to
    /// 500, default 50) at a time, after the cursor of a previous page;
    /// `totalCount` says how many match over every page. Cost: 100 +
    /// `first` × (20 + the selection of each edge and `pageInfo`), + what
    /// `totalCount` costs if it is asked for.
    #[graphql(complexity = "crate::cost::page(first, child_complexity, filter.count_cost())")]
    async fn tickets(
        &self,
        ctx: &Context<'_>,
        #[graphql(
            default,
            desc = "Which tickets; every field left out matches all. A caller scoped to projects or to a contractor lists only within that scope."
        )]
        filter: TicketFilterInput,
        #[graphql(default = 50, desc = "How many tickets per page, 1 to 500.")] first: i32,
        #[graphql(desc = "The `endCursor` of the previous page; null for the first page.")] after: Option<String>,
    ) -> Result<TicketConnection> {
        let first = usize::try_from(first)
            .ok()
            .filter(|f| (1..=projections::tickets::MAX_PAGE).contains(f))
            .ok_or_else(|| bad(format!("first must be 1 to {}", projections::tickets::MAX_PAGE)))?;
        let caller = principal(ctx)?;
        access::require(caller, Read::Tickets)?;
        let mut filter = filter.to_filter()?;
        scope_filter(caller, &mut filter)?;
        let tree = service(ctx)?.view("tickets")?.tree();
        let page = projections::tickets::list(&tree, &filter, first, after.as_deref()).map_err(|e| match e {
            projections::tickets::QueryError::View(v) => AppError::internal(v),
            other => bad(other),
        })?;
        let start_cursor = page.cursors.first().cloned();
        Ok(TicketConnection {
            edges: page
                .items
                .into_iter()
                .zip(page.cursors)
                .map(|(node, cursor)| TicketEdge {
                    cursor,
                    node: TicketOut(std::sync::Arc::new(node), None),
                })
                .collect(),
            page_info: PageInfo {
                has_next_page: page.has_next_page,
                has_previous_page: after.is_some(),
                start_cursor,
                end_cursor: page.end_cursor,
            },
            filter,
        })
    }

    /// A ticket's audit history and its state as of `asOf` (the audit
    /// replay), read from the log itself. Null if the ticket does not
    /// exist. Cost: 500 + 20 × the selection.
    #[graphql(complexity = "crate::cost::history(child_complexity)")]
    async fn ticket_history(
        &self,
        ctx: &Context<'_>,
        #[graphql(desc = "The ticket number.")] id: String,
        #[graphql(
            default,
            desc = "Where to cut the history for the replayed `state`: at most one of a log position, a recorded instant or an occurred instant; none: the whole history."
        )]
        as_of: AsOfInput,
    ) -> Result<Option<TicketHistory>> {
        let caller = principal(ctx)?;
        access::require(caller, Read::History)?;
        let id = ticket_id(&id)?;
        if let Some(current) = service(ctx)?.ticket(&id)? {
            access::require_ticket(caller, &current.ticket)?;
        }
        let given = [
            as_of.position.is_some(),
            as_of.recorded_at.is_some(),
            as_of.occurred_at.is_some(),
        ];
        if given.iter().filter(|g| **g).count() > 1 {
            return Err(bad("asOf takes at most one of position, recordedAt and occurredAt").into());
        }
        let service = service(ctx)?;
        let (entries, unreadable) =
            timeline::history_marked(service.store().as_ref(), &id).map_err(AppError::internal)?;
        if entries.is_empty() && unreadable.is_empty() {
            return Ok(None);
        }
        let mut state = TicketState::default();
        let mut text_seals = Vec::new();
        let mut last: Option<(u64, DateTime<Utc>)> = None;
        // The events up to the cut, for the replayed state's clocks.
        let mut replayed: Vec<Stamped<domain::ticket::TicketEvent>> = Vec::new();
        let mut events = Vec::with_capacity(entries.len());
        for e in entries {
            let included = match (as_of.position, as_of.recorded_at, as_of.occurred_at) {
                (Some(p), _, _) => e.position <= p,
                (_, Some(t), _) => e.recorded_at <= t,
                (_, _, Some(t)) => e.occurred_at <= t,
                _ => true,
            };
            events.push(HistoryEntry {
                position: e.position,
                version: e.stream_version,
                event_type: e.event.name().to_string(),
                occurred_at: e.occurred_at,
                recorded_at: e.recorded_at,
                actor: e.actor.user.to_string(),
                role: e.actor.role.as_str().to_string(),
                contractor_id: e.actor.contractor.as_ref().map(|c| c.to_string()),
                channel: e.channel.into(),
                summary: super::types::text(ctx, &e.summary, &e.text_seals)?,
                fields: async_graphql::Json(event_fields(ctx, &e.event, &e.text_seals)?),
                included,
            });
            if included {
                last = Some((e.position, e.recorded_at));
                text_seals.extend(e.text_seals.iter().cloned());
                let stamped = Stamped {
                    occurred_at: e.occurred_at,
                    actor: e.actor,
                    channel: e.channel,
                    event: e.event,
                    text_seals: e.text_seals,
                };
                state = evolve(state, &stamped);
                replayed.push(stamped);
            }
        }
        // The clocks as they stood at the cut: from the history up to it,
        // at the cut's instant (a position's: when the log recorded it;
        // without a cut: now), never from the live view.
        let at = match (as_of.position, as_of.recorded_at, as_of.occurred_at) {
            (Some(_), _, _) => last.map_or_else(|| service.now(), |(_, recorded_at)| recorded_at),
            (_, Some(t), _) | (_, _, Some(t)) => t,
            _ => service.now(),
        };
        let clocks = domain::sla::evaluate(&replayed, service.calendars(), at).map_err(AppError::internal)?;
        events.extend(unreadable.into_iter().map(unreadable_entry));
        events.sort_by_key(|e| e.position);
        let state = match (state.0, last) {
            (Some(ticket), Some((position, updated_at))) => Some(TicketOut(
                std::sync::Arc::new(TicketRecord {
                    ticket: *ticket,
                    position,
                    updated_at,
                    text_seals,
                }),
                Some(std::sync::Arc::new(clocks)),
            )),
            _ => None,
        };
        Ok(Some(TicketHistory {
            ticket_id: id.to_string(),
            events,
            state,
        }))
    }

    /// Service-level compliance, grouped by `groupBy` (default ALL); with
    /// `key`, only that bucket. Cost: 1,000 + 50 × the selection.
    #[graphql(complexity = "crate::cost::aggregate(child_complexity)")]
    async fn sla_report(
        &self,
        ctx: &Context<'_>,
        #[graphql(
            default_with = "SlaDimension::All",
            desc = "How to group the tickets (default ALL: one bucket)."
        )]
        group_by: SlaDimension,
        #[graphql(desc = "One bucket's key, as `SlaBucket.key` gives it; null: every bucket.")] key: Option<String>,
    ) -> Result<Vec<SlaBucket>> {
        aggregates_allowed(principal(ctx)?)?;
        let tree = service(ctx)?.view("sla")?.tree();
        let dim = dimension_name(group_by);
        let rows = match (group_by, key) {
            (SlaDimension::All, _) => vec![(String::new(), sla::compliance(&tree, "all", ""))],
            (_, Some(k)) => vec![(k.clone(), sla::compliance(&tree, &dim, &k))],
            (_, None) => sla::breakdown(&tree, &dim)
                .map_err(AppError::internal)?
                .into_iter()
                .map(|(k, c)| (k, Ok(c)))
                .collect(),
        };
        rows.into_iter()
            .map(|(k, c)| Ok(sla_bucket(k, c.map_err(AppError::internal)?)))
            .collect()
    }

    /// Open tickets whose clocks are at risk (80% of a target used) or
    /// breached now, most urgent first; for one project or all. Cost:
    /// 20,000 for one project, 50,000 for all, + 100 × the selection.
    #[graphql(complexity = "crate::cost::alerts(project_id.is_some(), child_complexity)")]
    async fn sla_alerts(
        &self,
        ctx: &Context<'_>,
        #[graphql(desc = "The project; null: every project (a caller scoped to one project may leave it out).")]
        project_id: Option<String>,
    ) -> Result<Vec<SlaAlert>> {
        let project = project_id.as_deref().map(self::project_id).transpose()?;
        let project = project_scope(principal(ctx)?, project)?;
        let service = service(ctx)?;
        let tree = service.view("sla")?.tree();
        let alerts =
            sla::alerts(&tree, service.calendars(), project.as_ref(), service.now()).map_err(AppError::internal)?;
        Ok(alerts
            .into_iter()
            .map(|a| SlaAlert {
                ticket_id: a.ticket.to_string(),
                project_id: a.project.to_string(),
                clock: Clock::from(&a.clock),
            })
            .collect())
    }

    /// Owners' ratings grouped by `groupBy` (default ALL), and the service
    /// quality of `projectId` (or of everything). Cost: 1,000 + 50 × the
    /// selection.
    #[graphql(complexity = "crate::cost::aggregate(child_complexity)")]
    async fn satisfaction_report(
        &self,
        ctx: &Context<'_>,
        #[graphql(
            default_with = "RatingDimension::All",
            desc = "How to group the ratings (default ALL: one bucket)."
        )]
        group_by: RatingDimension,
        #[graphql(desc = "The project whose ratings and service quality to report; null: every project.")]
        project_id: Option<String>,
    ) -> Result<SatisfactionReport> {
        aggregates_allowed(principal(ctx)?)?;
        let project = project_id.as_deref().map(self::project_id).transpose()?;
        let tree = service(ctx)?.view("satisfaction")?.tree();
        let ratings = match group_by {
            RatingDimension::All => vec![(String::new(), satisfaction::ratings(&tree, "all", ""))],
            RatingDimension::Project if project.is_some() => {
                let p = project.as_ref().map(|p| p.to_string()).unwrap_or_default();
                vec![(p.clone(), satisfaction::ratings(&tree, "project", &p))]
            }
            other => satisfaction::ratings_by(&tree, &dimension_name(other))
                .map_err(AppError::internal)?
                .into_iter()
                .map(|(k, r)| (k, Ok(r)))
                .collect(),
        };
        let ratings = ratings
            .into_iter()
            .map(|(k, r)| Ok(rating_bucket(k, r.map_err(AppError::internal)?)))
            .collect::<Result<Vec<_>, AppError>>()?;
        let s = satisfaction::service(&tree, project.as_ref()).map_err(AppError::internal)?;
        Ok(SatisfactionReport {
            ratings,
            service: ServiceSummaryOut {
                closed_repairs: s.closed_repairs,
                revisited: s.revisited,
                revisit_coverage: s.revisit_coverage,
                accepted: s.accepted,
                accepted_first_visit: s.accepted_first_visit,
                first_visit_rate: s.first_visit_rate,
                complaints: s.complaints,
                delivered_units: s.delivered_units,
                complaints_per_1000_units: s.complaints_per_1000_units,
            },
        })
    }

    /// Every contractor's scorecard for `year`, ranked. Cost: 1,000 + 50 ×
    /// the selection.
    #[graphql(complexity = "crate::cost::aggregate(child_complexity)")]
    async fn contractor_scorecards(
        &self,
        ctx: &Context<'_>,
        #[graphql(desc = "The calendar year evaluated (2000 to 2100).")] year: i32,
    ) -> Result<Vec<ScorecardOut>> {
        aggregates_allowed(principal(ctx)?)?;
        if !(2000..=2100).contains(&year) {
            return Err(bad(format!("year {year} is out of range")).into());
        }
        let tree = service(ctx)?.view("contractors")?.tree();
        Ok(contractors::scorecards(&tree, year)
            .map_err(AppError::internal)?
            .into_iter()
            .map(|c| ScorecardOut {
                contractor_id: c.contractor,
                rank: c.rank,
                score: c.score,
                handled: c.handled,
                on_time_rate: c.on_time_rate,
                first_time_fix_rate: c.first_time_fix_rate,
                rework_rate: c.rework_rate,
                mean_rating: c.mean_rating,
                chargeable_share: c.chargeable_share,
            })
            .collect())
    }

    /// Defect counts grouped by `groupBy` (default TRADE), largest first.
    /// Cost: 1,000 + 50 × the selection.
    #[graphql(complexity = "crate::cost::aggregate(child_complexity)")]
    async fn defect_stats(
        &self,
        ctx: &Context<'_>,
        #[graphql(
            default_with = "DefectDimension::Trade",
            desc = "How to group the defects (default TRADE)."
        )]
        group_by: DefectDimension,
    ) -> Result<Vec<DefectCount>> {
        aggregates_allowed(principal(ctx)?)?;
        let tree = service(ctx)?.view("defects")?.tree();
        Ok(defects::counts(&tree, &dimension_name(group_by))
            .map_err(AppError::internal)?
            .into_iter()
            .map(|(key, count)| DefectCount { key, count })
            .collect())
    }

    /// The monthly customer-service report of a project; `month` is
    /// `YYYY-MM`. Cost: 10,000 + the selection.
    #[graphql(complexity = "crate::cost::monthly_report(child_complexity)")]
    async fn monthly_report(
        &self,
        ctx: &Context<'_>,
        #[graphql(desc = "The project.")] project_id: String,
        #[graphql(desc = "The month, `YYYY-MM` (`2026-11`).")] month: String,
    ) -> Result<MonthlyReportOut> {
        let project = self::project_id(&project_id)?;
        project_scope(principal(ctx)?, Some(project.clone()))?;
        let (year, month) = application::periods::parse_month(&month)?;
        let r = service(ctx)?.monthly_report(&project, year, month)?;
        let csv = r.to_csv();
        Ok(MonthlyReportOut {
            project_id: r.project,
            month: r.month,
            received_by_kind: r
                .received_by_kind
                .into_iter()
                .map(|(name, count)| NamedCount { name, count })
                .collect(),
            finished: r.finished,
            open: r.open,
            reopened: r.reopened,
            escalated_complaints: r.escalated_complaints,
            defects_by_trade: r
                .defects_by_trade
                .into_iter()
                .map(|(name, count)| NamedCount { name, count })
                .collect(),
            sla: sla_bucket(String::new(), r.sla),
            ratings: rating_bucket(String::new(), r.ratings),
            closed_repairs: r.closed_repairs,
            revisited: r.revisited,
            csv,
        })
    }

    /// The weekly repair report of a project; `week` is an ISO week
    /// (`2026-W07`). Cost: 20,000 + the selection.
    #[graphql(complexity = "crate::cost::weekly_report(child_complexity)")]
    async fn weekly_repair_report(
        &self,
        ctx: &Context<'_>,
        #[graphql(desc = "The project.")] project_id: String,
        #[graphql(desc = "The ISO week, `YYYY-Www` (`2026-W07`).")] week: String,
    ) -> Result<WeeklyRepairReportOut> {
        let project = self::project_id(&project_id)?;
        project_scope(principal(ctx)?, Some(project.clone()))?;
        let (year, week) = application::periods::parse_week(&week)?;
        let r = {
            let service = service(ctx)?;
            service.weekly_report(&project, year, week, service.now())?
        };
        let csv = r.to_csv();
        Ok(WeeklyRepairReportOut {
            project_id: r.project,
            week: r.week,
            from: r.from,
            to: r.to,
            received: r.received,
            repaired: r.repaired,
            accepted: r.accepted,
            open: r.open,
            reopened: r.reopened,
            on_hold: r.on_hold,
            breached_now: r.breached_now,
            at_risk_now: r.at_risk_now,
            csv,
        })
    }

    /// A project of the archive, or null. Cost: 20 + the selection.
    #[graphql(complexity = "crate::cost::record(child_complexity)")]
    async fn project(
        &self,
        ctx: &Context<'_>,
        #[graphql(desc = "The project id.")] id: String,
    ) -> Result<Option<ProjectOut>> {
        access::require(principal(ctx)?, Read::Archive)?;
        Ok(service(ctx)?.project(&project_id(&id)?)?.0.map(Into::into))
    }

    /// A unit of the archive, or null. Cost: 20 + the selection.
    #[graphql(complexity = "crate::cost::record(child_complexity)")]
    async fn unit(&self, ctx: &Context<'_>, #[graphql(desc = "The unit id.")] id: String) -> Result<Option<UnitOut>> {
        access::require(principal(ctx)?, Read::Archive)?;
        let id = UnitId::new(id).map_err(AppError::from)?;
        Ok(service(ctx)?.unit(&id)?.0.map(Into::into))
    }

    /// An owner of the archive (personal fields masked), or null.
    /// Cost: 20 + the selection.
    #[graphql(complexity = "crate::cost::record(child_complexity)")]
    async fn owner(
        &self,
        ctx: &Context<'_>,
        #[graphql(desc = "The owner's archive id.")] id: String,
    ) -> Result<Option<OwnerOut>> {
        let caller = principal(ctx)?;
        access::require(caller, Read::Owners)?;
        let id = OwnerId::new(id).map_err(AppError::from)?;
        let service = service(ctx)?;
        Ok(service
            .owner(&id)?
            .0
            .map(|o| OwnerOut::new(service.keyring(), o, access::sees_personal(caller)))
            .transpose()?)
    }

    /// A contractor company of the service directory, or null.
    #[graphql(complexity = "crate::cost::record(child_complexity)")]
    async fn contractor(
        &self,
        ctx: &Context<'_>,
        #[graphql(desc = "The contractor company id.")] id: String,
    ) -> Result<Option<super::archive::ContractorOut>> {
        access::require(principal(ctx)?, Read::Archive)?;
        let id = domain::ids::ContractorId::new(id).map_err(AppError::from)?;
        Ok(service(ctx)?.contractor(&id)?.0.map(Into::into))
    }

    /// An engineer of the service directory, or null.
    #[graphql(complexity = "crate::cost::record(child_complexity)")]
    async fn engineer(
        &self,
        ctx: &Context<'_>,
        #[graphql(desc = "The engineer's user id.")] id: String,
    ) -> Result<Option<super::archive::EngineerOut>> {
        access::require(principal(ctx)?, Read::Archive)?;
        let id = domain::ids::UserId::new(id).map_err(AppError::from)?;
        Ok(service(ctx)?.engineer(&id)?.0.map(Into::into))
    }

    /// An incident, or null.
    /// A manager or engineer scoped to projects sees only their
    /// projects' incidents (FORBIDDEN otherwise).
    #[graphql(complexity = "crate::cost::record(child_complexity)")]
    async fn incident(
        &self,
        ctx: &Context<'_>,
        #[graphql(desc = "The incident id.")] id: String,
    ) -> Result<Option<IncidentOut>> {
        let caller = principal(ctx)?;
        access::require(caller, Read::Incidents)?;
        let id = IncidentId::new(id).map_err(AppError::from)?;
        let Some(incident) = service(ctx)?.incident(&id)?.0 else {
            return Ok(None);
        };
        access::require_project(caller, &incident.project)?;
        Ok(Some(incident.into()))
    }

    /// The working days from `from` to `to` (inclusive) on the mainland
    /// calendar, at most 366 days.
    async fn workdays(
        &self,
        ctx: &Context<'_>,
        #[graphql(desc = "The first day.")] from: NaiveDate,
        #[graphql(desc = "The last day, at most 366 days after `from`.")] to: NaiveDate,
    ) -> Result<Vec<NaiveDate>> {
        if to < from || (to - from).num_days() > 366 {
            return Err(bad("the range must run forward and span at most 366 days").into());
        }
        Ok(service(ctx)?.calendar().workdays(from, to))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn dimension_names_match_the_views() {
        for d in [SlaDimension::ProjectMonth, SlaDimension::All] {
            assert!(sla::DIMENSIONS.contains(&dimension_name(d).as_str()));
        }
        for d in [DefectDimension::SinceDelivery, DefectDimension::CategoryTrade] {
            assert!(defects::DIMENSIONS.contains(&dimension_name(d).as_str()));
        }
        assert!(satisfaction::RATING_DIMENSIONS.contains(&dimension_name(RatingDimension::ProjectMonth).as_str()));
    }
}
