//! `ticket` and `tickets`: one ticket, and pages of tickets by filter.

use async_graphql::{Context, InputObject, Object, Result, SimpleObject};
use chrono::{DateTime, Utc};
use domain::ids::{BuildingId, ContractorId, ProjectId, UserId};
use projections::tickets::TicketFilter;

use super::scope_filter;
use crate::error::AppError;
use crate::schema::types::*;
use crate::schema::{bad, principal, service, ticket_id};
use application::access::{self, Read};

/// Which tickets `tickets` lists; every given field must match.
#[derive(InputObject, Default)]
pub struct TicketFilterInput {
    /// Project.
    pub project_id: Option<String>,
    /// Building.
    pub building_id: Option<String>,
    /// Unit (give its building too: the unit is matched among the
    /// building's tickets).
    pub unit_id: Option<String>,
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
    /// true: closed and not yet revisited (回访), scanned through the
    /// closed tickets (or the narrowest other index the filter names);
    /// false: the others.
    pub awaiting_revisit: Option<bool>,
    /// true: only tickets not finished (not closed, withdrawn or merged);
    /// false: only finished ones.
    pub open: Option<bool>,
}

/// The order of a listing.
#[derive(async_graphql::Enum, Copy, Clone, Eq, PartialEq, Default)]
pub enum TicketOrder {
    /// Newest received first; stable cursors.
    #[default]
    Received,
    /// The work queue's order: open tickets only, most urgent first, by
    /// the earliest due instant of the clocks still counting (breached
    /// ones first, as theirs has passed), then those with every clock
    /// paused or stopped. The order moves with time: a cursor is a place
    /// in the order as read when the next page is asked for.
    NearestDue,
}

impl TicketFilterInput {
    /// What `totalCount` costs on this filter (a filter that does not
    /// convert is refused when it runs; it costs as the costlier count).
    /// Under `NEAREST_DUE` each open ticket's record is read and matched:
    /// the costlier count.
    fn count_cost(&self, nearest_due: bool) -> usize {
        if nearest_due {
            return crate::cost::TOTAL_COUNT_MATCHED;
        }
        self.to_filter()
            .map_or(crate::cost::TOTAL_COUNT_MATCHED, |f| crate::cost::total_count(&f))
    }

    fn to_filter(&self) -> Result<TicketFilter, AppError> {
        Ok(TicketFilter {
            project: self.project_id.as_deref().map(ProjectId::new).transpose()?,
            building: self.building_id.as_deref().map(BuildingId::new).transpose()?,
            unit: self.unit_id.as_deref().map(domain::ids::UnitId::new).transpose()?,
            awaiting_revisit: self.awaiting_revisit,
            // Awaiting a revisit implies closed: the closed tickets' index.
            status: self.status.map(Into::into).or(match self.awaiting_revisit {
                Some(true) => Some(domain::ticket::Status::Closed),
                _ => None,
            }),
            kind: self.kind.map(Into::into),
            priority: self.priority.map(Into::into),
            assignee: self.engineer_id.as_deref().map(UserId::new).transpose()?,
            contractor: self.contractor_id.as_deref().map(ContractorId::new).transpose()?,
            category: self.category.map(Into::into),
            received_from: self.received_from,
            received_before: self.received_before,
            open: self.open,
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
    /// For `orderBy: NEAREST_DUE`, the order the page was cut from:
    /// `totalCount` counts within it (the open tickets), not the index.
    #[graphql(skip)]
    pub due_order: Option<std::sync::Arc<Vec<projections::sla::DueOrder>>>,
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
        let counted = match &self.due_order {
            Some(order) => projections::tickets::count_in_order(&tree, order, &self.filter),
            None => projections::tickets::count(&tree, &self.filter),
        };
        Ok(counted.map_err(|e| match e {
            projections::tickets::QueryError::View(v) => AppError::internal(v),
            other => bad(other),
        })?)
    }
}

/// One ticket and pages of tickets.
#[derive(Default)]
pub struct TicketQueries;

#[Object(name = "TicketQueries")]
impl TicketQueries {
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
    /// `totalCount` says how many match over every page; `orderBy:
    /// NEAREST_DUE` gives the work queue's order (open tickets only, most
    /// urgent first). Cost: 100 + `first` × (20 + the selection of each
    /// edge and `pageInfo`), + what `totalCount` costs if it is asked for,
    /// + for NEAREST_DUE what the SLA alerts cost (every open ticket's
    /// clocks are evaluated).
    #[graphql(
        complexity = "crate::cost::page(first, child_complexity, filter.count_cost(order_by == TicketOrder::NearestDue)) + crate::cost::due_order(order_by == TicketOrder::NearestDue, filter.project_id.is_some())"
    )]
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
        #[graphql(default, desc = "The order (default RECEIVED: newest first).")] order_by: TicketOrder,
    ) -> Result<TicketConnection> {
        let first = usize::try_from(first)
            .ok()
            .filter(|f| (1..=projections::tickets::MAX_PAGE).contains(f))
            .ok_or_else(|| bad(format!("first must be 1 to {}", projections::tickets::MAX_PAGE)))?;
        let caller = principal(ctx)?;
        access::require(caller, Read::Tickets)?;
        let mut filter = filter.to_filter()?;
        scope_filter(caller, &mut filter)?;
        let service = service(ctx)?;
        let tree = service.view("tickets")?.tree();
        let mut due_order = None;
        let listed = match order_by {
            TicketOrder::Received => projections::tickets::list(&tree, &filter, first, after.as_deref()),
            TicketOrder::NearestDue => {
                if filter.open == Some(false) {
                    return Err(bad("orderBy NEAREST_DUE lists open tickets: leave out open: false").into());
                }
                filter.open = Some(true);
                let projects: Vec<ProjectId> = filter.project.iter().cloned().collect();
                let order = std::sync::Arc::new(service.open_by_due(&projects)?);
                let page = projections::tickets::list_by_due(&tree, &order, &filter, first, after.as_deref());
                due_order = Some(order);
                page
            }
        };
        let page = listed.map_err(|e| match e {
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
            due_order,
        })
    }
}
