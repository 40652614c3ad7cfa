//! Queries: tickets, audit histories, reports, archive lookups.
//!
//! The root is merged from one object per concern, in this order (the
//! order of the `Query` fields in the schema):
//!
//! - `tickets.rs`: one ticket and pages of tickets;
//! - `history.rs`: a ticket's audit history;
//! - `reports.rs`: SLA, satisfaction, scorecards, defects, monthly and
//!   weekly reports;
//! - `archive.rs`: archive, directory and incident lookups;
//! - `calendar.rs`: working days;
//! - `viewer.rs`: the caller (`me`);
//! - `intake.rs`: projects, a building's rooms, severity.

use domain::ids::ProjectId;
use projections::tickets::TicketFilter;

use crate::error::AppError;
use application::access::{self, Read};

mod archive;
mod calendar;
mod history;
mod intake;
mod reports;
mod tickets;
mod viewer;

pub use history::{AsOfInput, HistoryEntry, TicketHistory};
pub use reports::{
    ClockComplianceOut, DefectCount, DefectDimension, MonthlyReportOut, NamedCount, RatingBucket, RatingDimension,
    SatisfactionReport, ScorecardOut, ServiceSummaryOut, SlaAlert, SlaBucket, SlaDimension, WeeklyRepairReportOut,
};
pub use tickets::{PageInfo, TicketConnection, TicketEdge, TicketFilterInput};

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

/// Queries. A document may cost at most 250,000 points (the server's
/// `--max-cost`), select at most 1,000 fields and nest 20 deep; a field
/// costs 1 plus what it selects unless its description says otherwise.
/// Costlier documents are refused `QUERY_TOO_COSTLY` before they run.
#[derive(async_graphql::MergedObject, Default)]
#[graphql(name = "RecordQueries")]
pub struct QueryRoot(
    tickets::TicketQueries,
    history::HistoryQueries,
    reports::ReportQueries,
    archive::ArchiveQueries,
    calendar::CalendarQueries,
    viewer::ViewerQueries,
    intake::IntakeQueries,
);
