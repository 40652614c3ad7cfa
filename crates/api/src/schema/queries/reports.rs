//! Reports: SLA compliance and alerts, satisfaction, contractor
//! scorecards, defect statistics, the monthly and weekly reports.

use async_graphql::{ComplexObject, Context, Enum, Object, Result, SimpleObject};
use chrono::NaiveDate;
use projections::{contractors, defects, satisfaction, sla};

use super::{aggregates_allowed, project_id, project_scope};
use crate::error::AppError;
use crate::schema::types::*;
use crate::schema::{bad, principal, service};

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
    /// By kind (repair, complaint, inquiry, handover defect).
    Kind,
    /// By ISO week received (`2026-W07`).
    Week,
    /// By project and ISO week.
    ProjectWeek,
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
    /// By category and building (`category/building`): the heat map of
    /// where each kind of defect concentrates.
    CategoryBuilding,
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
#[graphql(name = "MonthlyReport", complex)]
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
#[graphql(name = "WeeklyRepairReport", complex)]
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

/// The report's CSV as an Excel workbook, base64.
fn workbook(sheet: &str, csv: &str) -> Result<String> {
    use base64::Engine as _;
    let bytes = crate::xlsx::from_csv(sheet, csv).map_err(AppError::internal)?;
    Ok(base64::engine::general_purpose::STANDARD.encode(bytes))
}

#[ComplexObject]
impl MonthlyReportOut {
    /// The report as an Excel workbook (`.xlsx`), base64: the CSV's rows in
    /// one worksheet, numbers as numbers. Built only when asked for.
    async fn xlsx(&self) -> Result<String> {
        workbook(&format!("{} {}", self.project_id, self.month), &self.csv)
    }
}

#[ComplexObject]
impl WeeklyRepairReportOut {
    /// The report as an Excel workbook (`.xlsx`), base64: the CSV's rows in
    /// one worksheet, numbers as numbers. Built only when asked for.
    async fn xlsx(&self) -> Result<String> {
        workbook(&format!("{} {}", self.project_id, self.week), &self.csv)
    }
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

/// Reports.
#[derive(Default)]
pub struct ReportQueries;

#[Object(name = "ReportQueries")]
impl ReportQueries {
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
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn dimension_names_match_the_views() {
        for d in [
            SlaDimension::ProjectMonth,
            SlaDimension::All,
            SlaDimension::Kind,
            SlaDimension::Week,
            SlaDimension::ProjectWeek,
        ] {
            assert!(sla::DIMENSIONS.contains(&dimension_name(d).as_str()));
        }
        for d in [
            DefectDimension::SinceDelivery,
            DefectDimension::CategoryTrade,
            DefectDimension::CategoryBuilding,
        ] {
            assert!(defects::DIMENSIONS.contains(&dimension_name(d).as_str()));
        }
        assert!(satisfaction::RATING_DIMENSIONS.contains(&dimension_name(RatingDimension::ProjectMonth).as_str()));
    }
}
