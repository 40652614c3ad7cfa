//! Contractor scorecards (维修单位年度评估): per year and contractor, the
//! tickets handled, on-time rate (resolution clock met), first-time-fix
//! rate (accepted without a rejection), rework rate (reopened at least
//! once), mean owner rating, chargeable share, and the ranking within the
//! year.
//!
//! A ticket counts for the contractor it is dispatched to now, in the year
//! it was received (in its calendar's time zone). The ranking score, 0 to
//! 100, weighs on-time rate 40%, first-time fix 30%, mean rating (out of
//! 5) 20% and the absence of rework 10%; ties rank by tickets handled,
//! then by name.

use std::sync::Arc;

use crate::store::ViewTree;
use domain::calendar::CalendarRegistry;
use domain::ids::ContractorId;
use domain::sla::{clock_events, evaluate_changes, ClockEvent, ClockStatus};
use domain::ticket::{Assignee, TicketEvent};
use serde::{Deserialize, Serialize};

use crate::counters::{self, Contribution};
use crate::runner::{runs, Applied, BatchProjection, ProjectionError, Run, ViewWriter};

#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
struct WorkTicket {
    year: String,
    contractor: Option<ContractorId>,
    changes: Vec<ClockEvent>,
    accepted: bool,
    rejections: u32,
    reopens: u32,
    rating: Option<u8>,
    chargeable: Option<bool>,
    last_event_at: chrono::DateTime<chrono::Utc>,
}

/// The contractor scorecard projection.
#[derive(Debug, Clone)]
pub struct ContractorsView {
    calendars: Arc<CalendarRegistry>,
}

impl ContractorsView {
    /// The view; `calendars` evaluate the resolution clocks.
    pub fn new(calendars: Arc<CalendarRegistry>) -> Self {
        Self { calendars }
    }
}

const TICKET: u8 = b'w';
const CONTRIBUTION: u8 = b'k';
const SCORE: u8 = b'a';

impl BatchProjection for ContractorsView {
    fn name(&self) -> &'static str {
        "contractors"
    }

    fn version(&self) -> u32 {
        1
    }

    fn apply_batch(&self, view: &mut ViewWriter<'_>, events: &[Applied<'_>]) -> Result<(), ProjectionError> {
        for run in runs(events) {
            if let Run::Ticket { id, events, .. } = run {
                self.fold_run(view, id, &events)?;
            }
        }
        Ok(())
    }
}

impl ContractorsView {
    /// Folds consecutive events of one ticket; one evaluation, one write.
    fn fold_run(
        &self,
        view: &mut ViewWriter<'_>,
        id: &domain::ids::TicketId,
        events: &[&domain::decider::Stamped<TicketEvent>],
    ) -> Result<(), ProjectionError> {
        let mut key = vec![TICKET];
        key.extend_from_slice(id.as_str().as_bytes());
        let mut ticket: Option<WorkTicket> = view.get_value(&key)?;
        for stamped in events {
            let mut t = match (ticket.take(), &stamped.event) {
                (None, TicketEvent::Received { clocks, .. }) => {
                    let year = match self.calendars.get(&clocks.calendar) {
                        Some(c) => stamped
                            .occurred_at
                            .with_timezone(&c.time_zone())
                            .format("%Y")
                            .to_string(),
                        None => stamped.occurred_at.format("%Y").to_string(),
                    };
                    WorkTicket {
                        year,
                        contractor: None,
                        changes: Vec::new(),
                        accepted: false,
                        rejections: 0,
                        reopens: 0,
                        rating: None,
                        chargeable: None,
                        last_event_at: stamped.occurred_at,
                    }
                }
                (None, _) => continue,
                (Some(t), TicketEvent::Received { .. }) => {
                    ticket = Some(t);
                    continue;
                }
                (Some(t), _) => t,
            };
            t.changes.extend(clock_events(stamped));
            t.last_event_at = t.last_event_at.max(stamped.occurred_at);
            match &stamped.event {
                TicketEvent::Dispatched { to, .. } => {
                    t.contractor = match to {
                        Assignee::Contractor(c) => Some(c.clone()),
                        Assignee::Engineer(_) => None,
                    }
                }
                TicketEvent::Diagnosed { chargeable, .. } => t.chargeable = Some(*chargeable),
                TicketEvent::Accepted { ratings, .. } => {
                    t.accepted = true;
                    t.rating = Some(ratings.overall);
                }
                TicketEvent::Rejected { .. } => t.rejections += 1,
                TicketEvent::Reopened { .. } => {
                    t.reopens += 1;
                    t.accepted = false;
                }
                _ => {}
            }
            ticket = Some(t);
        }
        let Some(t) = ticket else { return Ok(()) };
        let mut contribution = Contribution::default();
        if let Some(contractor) = &t.contractor {
            let report = evaluate_changes(&t.changes, &self.calendars, t.last_event_at)
                .map_err(|e| ProjectionError::Invalid(format!("ticket {id}: {e}")))?;
            let (timed, on_time) = match report.resolution.as_ref() {
                Some(r) if r.status == ClockStatus::Breached => (1, 0),
                Some(r) if r.status == ClockStatus::Met => (1, 1),
                _ => (0, 0),
            };
            let counters = vec![
                1,
                timed,
                on_time,
                i64::from(t.accepted),
                i64::from(t.accepted && t.rejections == 0),
                i64::from(t.reopens > 0),
                i64::from(t.rating.is_some()),
                t.rating.map(i64::from).unwrap_or(0),
                i64::from(t.chargeable.is_some()),
                i64::from(t.chargeable == Some(true)),
            ];
            contribution.add(counters::key(SCORE, &t.year, contractor.as_str()), counters);
        }
        let mut ck = vec![CONTRIBUTION];
        ck.extend_from_slice(id.as_str().as_bytes());
        counters::replace(view, ck, contribution)?;
        view.put_value(key, &t)
    }
}

/// One contractor's year.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct Scorecard {
    /// The contractor.
    pub contractor: String,
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

/// Every contractor's scorecard for `year`, ranked.
pub fn scorecards(tree: &ViewTree, year: i32) -> Result<Vec<Scorecard>, ProjectionError> {
    let rate = |a: i64, b: i64| (b > 0).then(|| a as f64 / b as f64);
    let mut cards: Vec<Scorecard> = counters::scan(tree, SCORE, &year.to_string())?
        .into_iter()
        .map(|(contractor, c)| {
            let at = |i: usize| c.get(i).copied().unwrap_or(0);
            let on_time_rate = rate(at(2), at(1));
            let first_time_fix_rate = rate(at(4), at(3));
            let rework_rate = rate(at(5), at(0));
            let mean_rating = rate(at(7), at(6));
            let score = 40.0 * on_time_rate.unwrap_or(0.0)
                + 30.0 * first_time_fix_rate.unwrap_or(0.0)
                + 20.0 * mean_rating.unwrap_or(0.0) / 5.0
                + 10.0 * (1.0 - rework_rate.unwrap_or(0.0));
            Scorecard {
                contractor,
                rank: 0,
                score: (score * 10.0).round() / 10.0,
                handled: at(0),
                on_time_rate,
                first_time_fix_rate,
                rework_rate,
                mean_rating,
                chargeable_share: rate(at(9), at(8)),
            }
        })
        .collect();
    cards.sort_by(|a, b| {
        b.score
            .total_cmp(&a.score)
            .then(b.handled.cmp(&a.handled))
            .then(a.contractor.cmp(&b.contractor))
    });
    for (i, c) in cards.iter_mut().enumerate() {
        c.rank = i + 1;
    }
    Ok(cards)
}
