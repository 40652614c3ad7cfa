//! Defect statistics for product feedback (产品缺陷反馈): repairs and
//! handover defects counted by category, trade, project, building,
//! location (inside a unit or a common area), months since delivery, and
//! the combinations product teams ask for (category × trade, category ×
//! building for the heat map, project × trade, project × month). Withdrawn and merged tickets do not count: a
//! duplicate is not a second defect.

use std::sync::Arc;

use crate::store::ViewTree;
use chrono::{Datelike, NaiveDate};
use domain::archive::UnitEvent;
use domain::calendar::CalendarRegistry;
use domain::ids::{ProjectId, UnitId};
use domain::ticket::{Location, TicketEvent, TicketKind};
use serde::{Deserialize, Serialize};

use crate::counters::{self, Contribution};
use crate::runner::{Applied, Projection, ProjectionError, ViewWriter};
use eventformat::wire::DomainEvent;

/// The defects projection.
#[derive(Debug, Clone)]
pub struct DefectsView {
    calendars: Arc<CalendarRegistry>,
}

impl DefectsView {
    /// The view; `calendars` give local dates.
    pub fn new(calendars: Arc<CalendarRegistry>) -> Self {
        Self { calendars }
    }
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
struct UnitFacts {
    project: ProjectId,
    delivered_on: Option<NaiveDate>,
}

const UNIT: u8 = b'u';
const CONTRIBUTION: u8 = b'k';
const COUNT: u8 = b'a';

/// The dimensions defects are counted by.
pub const DIMENSIONS: [&str; 11] = [
    "all",
    "category",
    "trade",
    "project",
    "building",
    "location",
    "since_delivery",
    "category_trade",
    "category_building",
    "project_trade",
    "project_month",
];

/// Months since delivery, bucketed as product teams read them.
fn since_delivery(delivered: Option<NaiveDate>, reported: NaiveDate) -> &'static str {
    let Some(d) = delivered else { return "unknown" };
    if reported < d {
        return "before_delivery";
    }
    let months = (reported.year() - d.year()) * 12 + reported.month() as i32 - d.month() as i32;
    match months {
        ..=2 => "0-3m",
        3..=5 => "3-6m",
        6..=11 => "6-12m",
        12..=23 => "1-2y",
        24..=59 => "2-5y",
        _ => "5y+",
    }
}

fn unit_key(unit: &UnitId) -> Vec<u8> {
    let mut k = vec![UNIT];
    k.extend_from_slice(unit.as_str().as_bytes());
    k
}

impl Projection for DefectsView {
    fn name(&self) -> &'static str {
        "defects"
    }

    fn version(&self) -> u32 {
        // 2: the category × building dimension.
        2
    }

    fn apply(&self, view: &mut ViewWriter<'_>, applied: &Applied<'_>) -> Result<(), ProjectionError> {
        match applied.event {
            DomainEvent::Unit(unit, stamped) => {
                let key = unit_key(unit);
                match &stamped.event {
                    UnitEvent::UnitRegistered { project, .. } => view.put_value(
                        key,
                        &UnitFacts {
                            project: project.clone(),
                            delivered_on: None,
                        },
                    ),
                    UnitEvent::DeliveryRecorded { delivered_on }
                    | UnitEvent::DeliveryCorrected { to: delivered_on, .. } => {
                        let Some(mut facts) = view.get_value::<UnitFacts>(&key)? else {
                            return Ok(());
                        };
                        facts.delivered_on = Some(*delivered_on);
                        view.put_value(key, &facts)
                    }
                }
            }
            DomainEvent::Ticket(id, stamped) => {
                let mut ck = vec![CONTRIBUTION];
                ck.extend_from_slice(id.as_str().as_bytes());
                match &stamped.event {
                    TicketEvent::Received {
                        kind: TicketKind::Repair | TicketKind::HandoverDefect,
                        location,
                        category,
                        trade,
                        clocks,
                        ..
                    } => {
                        let tz = self.calendars.get(&clocks.calendar).map(|c| c.time_zone());
                        let local = match tz {
                            Some(tz) => stamped.occurred_at.with_timezone(&tz).date_naive(),
                            None => stamped.occurred_at.date_naive(),
                        };
                        let project = location.project().to_string();
                        let (place, delivered) = match location {
                            Location::Unit { unit, .. } => {
                                let facts: Option<UnitFacts> = view.get_value(&unit_key(unit))?;
                                ("unit", facts.and_then(|f| f.delivered_on))
                            }
                            Location::CommonArea { .. } => ("common_area", None),
                        };
                        let month = local.format("%Y-%m").to_string();
                        let mut dims = vec![
                            ("all", String::new()),
                            ("category", category.as_str().to_string()),
                            ("trade", trade.as_str().to_string()),
                            ("project", project.clone()),
                            ("location", place.to_string()),
                            ("since_delivery", since_delivery(delivered, local).to_string()),
                            ("category_trade", format!("{}/{}", category.as_str(), trade.as_str())),
                            ("project_trade", format!("{project}/{}", trade.as_str())),
                            ("project_month", format!("{project}/{month}")),
                        ];
                        if let Some(b) = location.building() {
                            dims.push(("building", b.to_string()));
                            dims.push(("category_building", format!("{}/{b}", category.as_str())));
                        }
                        let mut contribution = Contribution::default();
                        for (dim, value) in dims {
                            contribution.add(counters::key(COUNT, dim, &value), vec![1]);
                        }
                        counters::replace(view, ck, contribution)
                    }
                    // A duplicate or a withdrawn report is not a defect.
                    TicketEvent::Withdrawn { .. } | TicketEvent::MergedInto { .. } => {
                        counters::replace(view, ck, Contribution::default())
                    }
                    _ => Ok(()),
                }
            }
            _ => Ok(()),
        }
    }
}

/// Defect counts for every value of a dimension, largest first.
pub fn counts(tree: &ViewTree, dimension: &str) -> Result<Vec<(String, i64)>, ProjectionError> {
    let mut out: Vec<(String, i64)> = counters::scan(tree, COUNT, dimension)?
        .into_iter()
        .map(|(v, c)| (v, c.first().copied().unwrap_or(0)))
        .filter(|(_, n)| *n != 0)
        .collect();
    out.sort_by(|a, b| b.1.cmp(&a.1).then(a.0.cmp(&b.0)));
    Ok(out)
}

/// The defect count of one dimension value.
pub fn count(tree: &ViewTree, dimension: &str, value: &str) -> Result<i64, ProjectionError> {
    Ok(counters::read(tree, &counters::key(COUNT, dimension, value))?
        .first()
        .copied()
        .unwrap_or(0))
}
