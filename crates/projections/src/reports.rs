//! Management reports built from the views: the monthly customer-service
//! report (项目客服月报) and the weekly repair report (项目维修周报) of a
//! project, each exportable as CSV.
//!
//! Volumes come from the tickets view (the tickets received in the period,
//! listed through its project index and date range); compliance and
//! ratings from the SLA and satisfaction aggregates of the project and
//! month. Periods are in the project's time zone.

use std::collections::BTreeMap;

use crate::store::ViewTree;
use chrono::{DateTime, Datelike, NaiveDate, TimeZone, Utc, Weekday};
use chrono_tz::Tz;
use domain::calendar::CalendarRegistry;
use domain::ids::ProjectId;
use domain::ticket::{Status, Ticket, TicketKind};
use serde::Serialize;

use crate::runner::ProjectionError;
use crate::satisfaction::{self, RatingSummary};
use crate::sla::{self, SlaCompliance};
use crate::tickets::{self, QueryError, TicketFilter, TicketRecord, MAX_PAGE};

/// The trees reports read.
#[derive(Debug, Clone, Copy)]
pub struct ReportViews<'a> {
    /// The tickets view.
    pub tickets: &'a ViewTree,
    /// The SLA view.
    pub sla: &'a ViewTree,
    /// The satisfaction view.
    pub satisfaction: &'a ViewTree,
}

/// Why a report could not be made.
#[derive(Debug, thiserror::Error)]
pub enum ReportError {
    /// The period does not exist.
    #[error("invalid period: {0}")]
    BadPeriod(String),
    /// A view could not be read.
    #[error(transparent)]
    Query(#[from] QueryError),
    /// A view could not be read.
    #[error(transparent)]
    View(#[from] ProjectionError),
}

fn start_of(tz: Tz, date: NaiveDate) -> DateTime<Utc> {
    tz.from_local_datetime(&date.and_time(chrono::NaiveTime::MIN))
        .earliest()
        .map(|t| t.with_timezone(&Utc))
        .unwrap_or_else(|| Utc.from_utc_datetime(&date.and_time(chrono::NaiveTime::MIN)))
}

fn received_between(
    tree: &ViewTree,
    project: &ProjectId,
    from: DateTime<Utc>,
    before: DateTime<Utc>,
) -> Result<Vec<TicketRecord>, ReportError> {
    let filter = TicketFilter {
        project: Some(project.clone()),
        received_from: Some(from),
        received_before: Some(before),
        ..TicketFilter::default()
    };
    let mut out = Vec::new();
    let mut after = None;
    loop {
        let page = tickets::list(tree, &filter, MAX_PAGE, after.as_deref())?;
        out.extend(page.items);
        if !page.has_next_page {
            return Ok(out);
        }
        after = page.end_cursor;
    }
}

fn finished(t: &Ticket) -> bool {
    t.status.is_terminal()
}

/// The monthly customer-service report of a project.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct MonthlyReport {
    /// Project.
    pub project: String,
    /// Month, `YYYY-MM`.
    pub month: String,
    /// Tickets received in the month, by kind (stored names).
    pub received_by_kind: BTreeMap<String, usize>,
    /// Of them, finished (closed, withdrawn, merged) by now.
    pub finished: usize,
    /// Of them, still open.
    pub open: usize,
    /// Repairs reopened at least once.
    pub reopened: usize,
    /// Escalated complaints.
    pub escalated_complaints: usize,
    /// Repairs and handover defects by trade, most frequent first.
    pub defects_by_trade: Vec<(String, usize)>,
    /// Compliance of the clocks of tickets received in the month.
    pub sla: SlaCompliance,
    /// Ratings given in the month.
    pub ratings: RatingSummary,
    /// Closed repairs received in the month, and how many were revisited.
    pub closed_repairs: usize,
    /// Revisited among them.
    pub revisited: usize,
}

/// Builds the monthly report of `project` for `year`-`month`.
pub fn monthly_report(
    views: ReportViews<'_>,
    tz: Tz,
    project: &ProjectId,
    year: i32,
    month: u32,
) -> Result<MonthlyReport, ReportError> {
    let first =
        NaiveDate::from_ymd_opt(year, month, 1).ok_or_else(|| ReportError::BadPeriod(format!("{year}-{month}")))?;
    let next = first
        .checked_add_months(chrono::Months::new(1))
        .ok_or_else(|| ReportError::BadPeriod(format!("{year}-{month}")))?;
    let label = first.format("%Y-%m").to_string();
    let records = received_between(views.tickets, project, start_of(tz, first), start_of(tz, next))?;
    let mut received_by_kind = BTreeMap::new();
    let mut trades: BTreeMap<String, usize> = BTreeMap::new();
    let (mut done, mut reopened, mut escalated, mut closed_repairs, mut revisited) = (0, 0, 0, 0, 0);
    for r in &records {
        let t = &r.ticket;
        *received_by_kind.entry(t.kind.as_str().to_string()).or_insert(0) += 1;
        if finished(t) {
            done += 1;
        }
        let repair = matches!(t.kind, TicketKind::Repair | TicketKind::HandoverDefect);
        if repair {
            *trades.entry(t.trade.as_str().to_string()).or_insert(0) += 1;
            if t.reopen_count > 0 {
                reopened += 1;
            }
            if t.status == Status::Closed && t.accepted_at.is_some() {
                closed_repairs += 1;
                if t.revisit_count > 0 {
                    revisited += 1;
                }
            }
        }
        if t.kind == TicketKind::Complaint && t.escalation.is_some() {
            escalated += 1;
        }
    }
    let mut defects_by_trade: Vec<(String, usize)> = trades.into_iter().collect();
    defects_by_trade.sort_by(|a, b| b.1.cmp(&a.1).then(a.0.cmp(&b.0)));
    let key = format!("{project}/{label}");
    Ok(MonthlyReport {
        project: project.to_string(),
        month: label,
        received_by_kind,
        finished: done,
        open: records.len() - done,
        reopened,
        escalated_complaints: escalated,
        defects_by_trade,
        sla: sla::compliance(views.sla, "project_month", &key)?,
        ratings: satisfaction::ratings(views.satisfaction, "project_month", &key)?,
        closed_repairs,
        revisited,
    })
}

fn pct(rate: Option<f64>) -> String {
    rate.map(|r| format!("{:.1}", r * 100.0)).unwrap_or_default()
}

fn num(v: Option<f64>) -> String {
    v.map(|v| format!("{v:.2}")).unwrap_or_default()
}

fn csv_field(text: &str) -> String {
    if text.contains([',', '"', '\n', '\r']) {
        format!("\"{}\"", text.replace('"', "\"\""))
    } else {
        text.to_string()
    }
}

impl MonthlyReport {
    /// The report as CSV: one `section,item,value` row per figure.
    pub fn to_csv(&self) -> String {
        let mut rows: Vec<(String, String, String)> = Vec::new();
        let mut row = |s: &str, i: &str, v: String| rows.push((s.into(), i.into(), v));
        row("report", "project", self.project.clone());
        row("report", "month", self.month.clone());
        for (kind, n) in &self.received_by_kind {
            row("received", kind, n.to_string());
        }
        row("tickets", "finished", self.finished.to_string());
        row("tickets", "open", self.open.to_string());
        row("tickets", "reopened_repairs", self.reopened.to_string());
        row("tickets", "escalated_complaints", self.escalated_complaints.to_string());
        for (name, c) in [
            ("first_response", &self.sla.first_response),
            ("on_site", &self.sla.on_site),
            ("resolution", &self.sla.resolution),
        ] {
            row("sla", &format!("{name}_compliance_pct"), pct(c.compliance_rate));
            row("sla", &format!("{name}_met"), c.met.to_string());
            row("sla", &format!("{name}_breached"), c.breached.to_string());
            row("sla", &format!("{name}_mean_minutes"), num(c.mean_minutes));
            row(
                "sla",
                &format!("{name}_p90_minutes"),
                c.p90_minutes.map(|m| m.to_string()).unwrap_or_default(),
            );
        }
        row("satisfaction", "ratings", self.ratings.count.to_string());
        row("satisfaction", "overall", num(self.ratings.overall));
        row("satisfaction", "product_quality", num(self.ratings.product_quality));
        row("satisfaction", "service_process", num(self.ratings.service_process));
        row("satisfaction", "staff_attitude", num(self.ratings.staff_attitude));
        row("revisits", "closed_repairs", self.closed_repairs.to_string());
        row("revisits", "revisited", self.revisited.to_string());
        for (trade, n) in &self.defects_by_trade {
            row("defects_by_trade", trade, n.to_string());
        }
        let mut out = String::from("section,item,value\n");
        for (s, i, v) in rows {
            out.push_str(&format!("{},{},{}\n", csv_field(&s), csv_field(&i), csv_field(&v)));
        }
        out
    }
}

/// The weekly repair report of a project.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct WeeklyRepairReport {
    /// Project.
    pub project: String,
    /// ISO week, `YYYY-Www`.
    pub week: String,
    /// First day (Monday).
    pub from: NaiveDate,
    /// Last day (Sunday).
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
    /// The project's open tickets with a breached clock at `at`.
    pub breached_now: usize,
    /// The project's open tickets with a clock at risk at `at`.
    pub at_risk_now: usize,
}

/// Builds the weekly repair report of `project` for ISO week `week` of
/// `iso_year`; "now" figures are evaluated at `at`.
pub fn weekly_repair_report(
    views: ReportViews<'_>,
    calendars: &CalendarRegistry,
    tz: Tz,
    project: &ProjectId,
    iso_year: i32,
    week: u32,
    at: DateTime<Utc>,
) -> Result<WeeklyRepairReport, ReportError> {
    let monday = NaiveDate::from_isoywd_opt(iso_year, week, Weekday::Mon)
        .ok_or_else(|| ReportError::BadPeriod(format!("{iso_year}-W{week:02}")))?;
    let next = monday + chrono::TimeDelta::days(7);
    let records = received_between(views.tickets, project, start_of(tz, monday), start_of(tz, next))?;
    let repairs: Vec<&Ticket> = records
        .iter()
        .map(|r| &r.ticket)
        .filter(|t| matches!(t.kind, TicketKind::Repair | TicketKind::HandoverDefect))
        .collect();
    let count = |f: &dyn Fn(&Ticket) -> bool| repairs.iter().filter(|t| f(t)).count();
    let alerts = sla::alerts(views.sla, calendars, Some(project), at)?;
    let mut breached: Vec<&str> = alerts
        .iter()
        .filter(|a| a.clock.status == domain::sla::ClockStatus::Breached)
        .map(|a| a.ticket.as_str())
        .collect();
    breached.dedup();
    let mut at_risk: Vec<&str> = alerts
        .iter()
        .filter(|a| a.clock.status == domain::sla::ClockStatus::AtRisk)
        .map(|a| a.ticket.as_str())
        .collect();
    at_risk.sort_unstable();
    at_risk.dedup();
    breached.sort_unstable();
    breached.dedup();
    Ok(WeeklyRepairReport {
        project: project.to_string(),
        week: format!("{}-W{:02}", monday.iso_week().year(), monday.iso_week().week()),
        from: monday,
        to: next - chrono::TimeDelta::days(1),
        received: repairs.len(),
        repaired: count(&|t| t.first_repaired_at.is_some()),
        accepted: count(&|t| t.accepted_at.is_some()),
        open: count(&|t| !finished(t)),
        reopened: count(&|t| t.reopen_count > 0),
        on_hold: count(&|t| t.status == Status::OnHold),
        breached_now: breached.len(),
        at_risk_now: at_risk.len(),
    })
}

impl WeeklyRepairReport {
    /// The report as CSV: a header row and one row of figures.
    pub fn to_csv(&self) -> String {
        format!(
            "project,week,from,to,received,repaired,accepted,open,reopened,on_hold,breached_now,at_risk_now\n{},{},{},{},{},{},{},{},{},{},{},{}\n",
            csv_field(&self.project),
            self.week,
            self.from,
            self.to,
            self.received,
            self.repaired,
            self.accepted,
            self.open,
            self.reopened,
            self.on_hold,
            self.breached_now,
            self.at_risk_now
        )
    }
}
