//! The satisfaction view: owners' ratings by dimension (overall, product
//! quality, service process, staff attitude) grouped by project,
//! contractor, staff member, touchpoint stage and month; revisit coverage
//! (closed repairs that got a revisit); acceptance on the first visit
//! (accepted without a rejection); and complaints per 1,000 delivered units.
//!
//! Ratings come from acceptances (stage F, warranty service) and from
//! revisits (the stage the call measured), in the month they were given.
//! Counters are integers; averages and rates are computed when read.

use std::sync::Arc;

use crate::store::ViewTree;
use chrono::{DateTime, Utc};
use domain::archive::UnitEvent;
use domain::calendar::CalendarRegistry;
use domain::ids::{ProjectId, UnitId};
use domain::ticket::{Assignee, Ratings, TicketEvent, TicketKind, TouchpointStage};
use serde::{Deserialize, Serialize};

use crate::counters::{self, Contribution};
use crate::runner::{runs, Applied, BatchProjection, ProjectionError, Run, ViewWriter};
use eventformat::wire::DomainEvent;

/// One rating given.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
struct Sample {
    stage: TouchpointStage,
    month: String,
    ratings: Ratings,
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
struct SatTicket {
    kind: TicketKind,
    project: ProjectId,
    assignee: Option<Assignee>,
    /// IANA name of the ticket calendar's time zone.
    tz: Option<String>,
    samples: Vec<Sample>,
    closed: bool,
    accepted: bool,
    rejections: u32,
    revisits: u32,
}

/// The satisfaction projection.
#[derive(Debug, Clone)]
pub struct SatisfactionView {
    calendars: Arc<CalendarRegistry>,
}

impl SatisfactionView {
    /// The view; `calendars` give each ticket's time zone for months.
    pub fn new(calendars: Arc<CalendarRegistry>) -> Self {
        Self { calendars }
    }
}

const TICKET: u8 = b's';
const UNIT: u8 = b'u';
const CONTRIBUTION: u8 = b'k';
const RATINGS: u8 = b'r';
const SERVICE: u8 = b'v';

/// Dimensions ratings are grouped by.
pub const RATING_DIMENSIONS: [&str; 7] = [
    "all",
    "project",
    "contractor",
    "staff",
    "stage",
    "month",
    "project_month",
];

fn month_in(tz: Option<&str>, at: DateTime<Utc>) -> String {
    match tz.and_then(|t| t.parse::<chrono_tz::Tz>().ok()) {
        Some(tz) => at.with_timezone(&tz).format("%Y-%m").to_string(),
        None => at.format("%Y-%m").to_string(),
    }
}

/// Counters of a ratings bucket: (count, sum) for overall, product
/// quality, service process, staff attitude.
fn rating_counters(r: &Ratings) -> Vec<i64> {
    let mut c = vec![1, i64::from(r.overall), 0, 0, 0, 0, 0, 0];
    for (i, v) in [r.product_quality, r.service_process, r.staff_attitude]
        .into_iter()
        .enumerate()
    {
        if let Some(v) = v {
            c[2 + 2 * i] = 1;
            c[3 + 2 * i] = i64::from(v);
        }
    }
    c
}

/// Service counters per project: closed repairs, of them revisited,
/// accepted repairs, of them on the first visit, complaints received,
/// delivered units.
fn service_counters(
    closed: i64,
    revisited: i64,
    accepted: i64,
    first: i64,
    complaints: i64,
    delivered: i64,
) -> Vec<i64> {
    vec![closed, revisited, accepted, first, complaints, delivered]
}

impl BatchProjection for SatisfactionView {
    fn name(&self) -> &'static str {
        "satisfaction"
    }

    fn version(&self) -> u32 {
        1
    }

    fn apply_batch(&self, view: &mut ViewWriter<'_>, events: &[Applied<'_>]) -> Result<(), ProjectionError> {
        for run in runs(events) {
            match run {
                Run::Ticket { id, events, .. } => self.fold_run(view, id, &events)?,
                Run::Other(Applied {
                    event: DomainEvent::Unit(unit, stamped),
                    ..
                }) => self.apply_unit(view, unit, &stamped.event)?,
                Run::Other(_) => {}
            }
        }
        Ok(())
    }
}

impl SatisfactionView {
    /// Folds consecutive events of one ticket; one contribution update.
    fn fold_run(
        &self,
        view: &mut ViewWriter<'_>,
        id: &domain::ids::TicketId,
        events: &[&domain::decider::Stamped<TicketEvent>],
    ) -> Result<(), ProjectionError> {
        let key = {
            let mut k = vec![TICKET];
            k.extend_from_slice(id.as_str().as_bytes());
            k
        };
        let mut ticket: Option<SatTicket> = view.get_value(&key)?;
        for stamped in events {
            let mut t = match (ticket.take(), &stamped.event) {
                (
                    None,
                    TicketEvent::Received {
                        kind, location, clocks, ..
                    },
                ) => SatTicket {
                    kind: *kind,
                    project: location.project().clone(),
                    assignee: None,
                    tz: self
                        .calendars
                        .get(&clocks.calendar)
                        .map(|c| c.time_zone().name().to_string()),
                    samples: Vec::new(),
                    closed: false,
                    accepted: false,
                    rejections: 0,
                    revisits: 0,
                },
                (None, _) => continue,
                (Some(t), TicketEvent::Received { .. }) => {
                    ticket = Some(t);
                    continue;
                }
                (Some(t), _) => t,
            };
            let month = month_in(t.tz.as_deref(), stamped.occurred_at);
            match &stamped.event {
                TicketEvent::Dispatched { to, .. } => t.assignee = Some(to.clone()),
                TicketEvent::Accepted { ratings, .. } => {
                    t.accepted = true;
                    t.samples.push(Sample {
                        stage: TouchpointStage::WarrantyService,
                        month,
                        ratings: *ratings,
                    });
                }
                TicketEvent::Rejected { .. } => t.rejections += 1,
                TicketEvent::Reopened { .. } => {
                    t.accepted = false;
                    t.closed = false;
                }
                TicketEvent::Closed { .. } => t.closed = true,
                TicketEvent::Revisited { ratings, stage, .. } => {
                    t.revisits += 1;
                    if let Some(r) = ratings {
                        t.samples.push(Sample {
                            stage: *stage,
                            month,
                            ratings: *r,
                        });
                    }
                }
                _ => {}
            }
            ticket = Some(t);
        }
        let Some(t) = ticket else { return Ok(()) };
        let mut contribution = Contribution::default();
        for s in &t.samples {
            let c = rating_counters(&s.ratings);
            let mut dims = vec![
                ("all", String::new()),
                ("project", t.project.to_string()),
                ("stage", s.stage.as_str().to_string()),
                ("month", s.month.clone()),
                ("project_month", format!("{}/{}", t.project, s.month)),
            ];
            match &t.assignee {
                Some(Assignee::Contractor(c)) => dims.push(("contractor", c.to_string())),
                Some(Assignee::Engineer(u)) => dims.push(("staff", u.to_string())),
                None => {}
            }
            for (dim, value) in dims {
                contribution.add(counters::key(RATINGS, dim, &value), c.clone());
            }
        }
        let repair = matches!(t.kind, TicketKind::Repair | TicketKind::HandoverDefect);
        let service = service_counters(
            i64::from(repair && t.closed),
            i64::from(repair && t.closed && t.revisits > 0),
            i64::from(repair && t.accepted),
            i64::from(repair && t.accepted && t.rejections == 0),
            i64::from(t.kind == TicketKind::Complaint),
            0,
        );
        for (dim, value) in [("all", String::new()), ("project", t.project.to_string())] {
            contribution.add(counters::key(SERVICE, dim, &value), service.clone());
        }
        let mut ck = vec![CONTRIBUTION];
        ck.extend_from_slice(id.as_str().as_bytes());
        counters::replace(view, ck, contribution)?;
        view.put_value(key, &t)
    }
}

impl SatisfactionView {
    fn apply_unit(&self, view: &mut ViewWriter<'_>, unit: &UnitId, event: &UnitEvent) -> Result<(), ProjectionError> {
        let mut key = vec![UNIT];
        key.extend_from_slice(unit.as_str().as_bytes());
        match event {
            UnitEvent::UnitRegistered { project, .. } => view.put_value(key, project),
            // A corrected date changes no count.
            UnitEvent::DeliveryCorrected { .. } => Ok(()),
            UnitEvent::DeliveryRecorded { .. } => {
                let Some(project) = view.get_value::<ProjectId>(&key)? else {
                    return Ok(());
                };
                let mut contribution = Contribution::default();
                for (dim, value) in [("all", String::new()), ("project", project.to_string())] {
                    contribution.add(counters::key(SERVICE, dim, &value), service_counters(0, 0, 0, 0, 0, 1));
                }
                let mut ck = vec![CONTRIBUTION, b'u'];
                ck.extend_from_slice(unit.as_str().as_bytes());
                counters::replace(view, ck, contribution)
            }
        }
    }
}

/// Average ratings of a bucket.
#[derive(Debug, Clone, Default, PartialEq, Serialize)]
pub struct RatingSummary {
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

fn summary_of(c: &[i64]) -> RatingSummary {
    let at = |i: usize| c.get(i).copied().unwrap_or(0);
    let mean = |n: i64, s: i64| (n > 0).then(|| s as f64 / n as f64);
    RatingSummary {
        count: at(0),
        overall: mean(at(0), at(1)),
        product_quality: mean(at(2), at(3)),
        service_process: mean(at(4), at(5)),
        staff_attitude: mean(at(6), at(7)),
    }
}

/// Ratings for one dimension value (`("all", "")` for everything).
pub fn ratings(tree: &ViewTree, dimension: &str, value: &str) -> Result<RatingSummary, ProjectionError> {
    Ok(summary_of(&counters::read(
        tree,
        &counters::key(RATINGS, dimension, value),
    )?))
}

/// Ratings for every value of a dimension.
pub fn ratings_by(tree: &ViewTree, dimension: &str) -> Result<Vec<(String, RatingSummary)>, ProjectionError> {
    Ok(counters::scan(tree, RATINGS, dimension)?
        .into_iter()
        .map(|(v, c)| (v, summary_of(&c)))
        .collect())
}

/// Service quality of a project (or all, with `None`).
#[derive(Debug, Clone, Default, PartialEq, Serialize)]
pub struct ServiceSummary {
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

/// Service quality for a project, or for everything.
pub fn service(tree: &ViewTree, project: Option<&ProjectId>) -> Result<ServiceSummary, ProjectionError> {
    let key = match project {
        Some(p) => counters::key(SERVICE, "project", p.as_str()),
        None => counters::key(SERVICE, "all", ""),
    };
    let c = counters::read(tree, &key)?;
    let at = |i: usize| c.get(i).copied().unwrap_or(0);
    let rate = |a: i64, b: i64| (b > 0).then(|| a as f64 / b as f64);
    Ok(ServiceSummary {
        closed_repairs: at(0),
        revisited: at(1),
        revisit_coverage: rate(at(1), at(0)),
        accepted: at(2),
        accepted_first_visit: at(3),
        first_visit_rate: rate(at(3), at(2)),
        complaints: at(4),
        delivered_units: at(5),
        complaints_per_1000_units: rate(at(4) * 1000, at(5)),
    })
}

/// The ticket ids a view keeps (for tests and tools).
pub fn ticket_count(tree: &ViewTree) -> Result<usize, ProjectionError> {
    let mut n = 0;
    for entry in tree.scan_prefix(&[TICKET]) {
        entry?;
        n += 1;
    }
    Ok(n)
}
