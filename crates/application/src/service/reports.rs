//! The monthly and weekly reports, read from their views.

use chrono::{DateTime, Utc};
use domain::ids::ProjectId;
use projections::reports::{self, MonthlyReport, ReportError, ReportViews, WeeklyRepairReport};

use super::Service;
use crate::error::AppError;

impl Service {
    fn report_views<'a>(&self, trees: &'a [projections::store::ViewTree; 3]) -> ReportViews<'a> {
        ReportViews {
            tickets: &trees[0],
            sla: &trees[1],
            satisfaction: &trees[2],
        }
    }

    fn report_trees(&self) -> Result<[projections::store::ViewTree; 3], AppError> {
        Ok([
            self.view("tickets")?.tree(),
            self.view("sla")?.tree(),
            self.view("satisfaction")?.tree(),
        ])
    }

    /// The monthly report of a project (times in the mainland time zone).
    pub fn monthly_report(&self, project: &ProjectId, year: i32, month: u32) -> Result<MonthlyReport, AppError> {
        let trees = self.report_trees()?;
        reports::monthly_report(
            self.report_views(&trees),
            self.calendar.time_zone(),
            project,
            year,
            month,
        )
        .map_err(report_error)
    }

    /// The weekly repair report of a project; "now" figures at `at`.
    pub fn weekly_report(
        &self,
        project: &ProjectId,
        iso_year: i32,
        week: u32,
        at: DateTime<Utc>,
    ) -> Result<WeeklyRepairReport, AppError> {
        let trees = self.report_trees()?;
        reports::weekly_repair_report(
            self.report_views(&trees),
            &self.calendars,
            self.calendar.time_zone(),
            project,
            iso_year,
            week,
            at,
        )
        .map_err(report_error)
    }
}

fn report_error(e: ReportError) -> AppError {
    match e {
        ReportError::BadPeriod(p) => AppError::BadInput(format!("invalid period: {p}")),
        other => AppError::internal(other),
    }
}
