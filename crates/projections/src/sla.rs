//! The SLA view: every ticket's clocks, and compliance aggregates.
//!
//! Per ticket it keeps the clock changes of its events
//! ([`domain::sla::ClockEvent`]) and the dimensions reports group by, so a
//! query evaluates any ticket's clocks at any instant with the calendar
//! version the ticket recorded. Aggregates by project, category, priority,
//! contractor, channel, received month and project-month hold, per clock,
//! the clocks that are over (met, breached, cancelled), their business
//! time (sum, and a histogram for percentiles). A clock counts once it has
//! stopped; a ticket's contribution is retracted and re-added when it
//! changes (a rejection restarting the resolution clock takes it out again).
//! The view never reads the clock: "at risk now" and "breached now" are
//! computed at query time from the open tickets.

use std::sync::Arc;

use crate::store::ViewTree;
use chrono::{DateTime, Datelike, Utc};
use domain::calendar::CalendarRegistry;
use domain::decider::Stamped;
use domain::ids::{ContractorId, ProjectId, TicketId};
use domain::policy::ClockKind;
use domain::sla::{clock_events, evaluate_changes, ClockEvent, ClockReport, ClockStatus, SlaReport};
use domain::ticket::{Assignee, Category, Channel, Priority, TicketEvent, TicketKind};
use serde::{Deserialize, Serialize};

use crate::counters::{self, Contribution, MINUTE_BUCKETS};
use crate::records;
use crate::runner::{runs, Applied, BatchProjection, ProjectionError, Run, ViewWriter};

/// What the SLA view keeps per ticket.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct SlaTicket {
    /// Ticket.
    pub id: TicketId,
    /// Kind.
    pub kind: TicketKind,
    /// Project.
    pub project: ProjectId,
    /// Category.
    pub category: Category,
    /// Current priority.
    pub priority: Priority,
    /// Reporting channel.
    pub channel: Channel,
    /// Contractor dispatched, if any.
    pub contractor: Option<ContractorId>,
    /// Received month, `YYYY-MM` in the calendar's time zone.
    pub month: String,
    /// Finished (closed, withdrawn, merged).
    pub finished: bool,
    /// The clock changes so far.
    pub changes: Vec<ClockEvent>,
    /// Occurred time of the latest event.
    pub last_event_at: DateTime<Utc>,
    /// What the ticket adds to each aggregate of its dimensions: the
    /// counters of its stopped clocks (empty while none has stopped).
    pub counters: Vec<i64>,
}

/// A ticket's record as version 1 of the view stored it, without
/// `counters`: while version 2 is being built, the version 1 tree still
/// answers the queries that read tickets' clocks.
#[derive(Deserialize)]
struct SlaTicketV1 {
    id: TicketId,
    kind: TicketKind,
    project: ProjectId,
    category: Category,
    priority: Priority,
    channel: Channel,
    contractor: Option<ContractorId>,
    month: String,
    finished: bool,
    changes: Vec<ClockEvent>,
    last_event_at: DateTime<Utc>,
}

/// The layout of a ticket's record written today ([`crate::records`]):
/// the view's version 2 record, with the ticket's counters.
const RECORD_LAYOUT: u8 = 2;

/// Decodes a ticket's record by the layout it says it is in; a record of
/// a build before layouts were tagged reads by [`decode_untagged`].
fn decode_ticket(bytes: &[u8]) -> Result<SlaTicket, eventlog::codec::CodecError> {
    match records::stored(bytes) {
        records::Stored::Tagged {
            layout: RECORD_LAYOUT,
            body,
        } => records::decode("sla record", RECORD_LAYOUT, body),
        records::Stored::Tagged { layout, .. } => Err(records::unknown_layout("sla record", layout)),
        records::Stored::Untagged(bytes) => decode_untagged(bytes),
    }
}

/// A record of a build before layouts were tagged, of either version of
/// the view, which those builds did not tell apart by a tag (bincode does
/// not record field names: a version 1 record ends where version 2 has
/// its counters, so it never decodes as version 2). Queries read them
/// while a tree of version 1 serves during the build of version 2.
fn decode_untagged(bytes: &[u8]) -> Result<SlaTicket, eventlog::codec::CodecError> {
    match eventlog::codec::decode::<SlaTicket>("view value", 2, bytes) {
        Ok(t) => Ok(t),
        Err(e) => match eventlog::codec::decode::<SlaTicketV1>("view value", 1, bytes) {
            Ok(v1) => Ok(SlaTicket {
                id: v1.id,
                kind: v1.kind,
                project: v1.project,
                category: v1.category,
                priority: v1.priority,
                channel: v1.channel,
                contractor: v1.contractor,
                month: v1.month,
                finished: v1.finished,
                changes: v1.changes,
                last_event_at: v1.last_event_at,
                counters: Vec::new(),
            }),
            Err(_) => Err(e),
        },
    }
}

/// The SLA projection.
#[derive(Debug, Clone)]
pub struct SlaView {
    calendars: Arc<CalendarRegistry>,
}

impl SlaView {
    /// The view, evaluating clocks with `calendars`.
    pub fn new(calendars: Arc<CalendarRegistry>) -> Self {
        Self { calendars }
    }
}

const TICKET: u8 = b'c';
const OPEN: u8 = b'o';
const AGGREGATE: u8 = b'a';

fn ticket_key(id: &TicketId) -> Vec<u8> {
    let mut k = vec![TICKET];
    k.extend_from_slice(id.as_str().as_bytes());
    k
}

fn open_key(project: &ProjectId, id: &TicketId) -> Vec<u8> {
    let mut k = vec![OPEN];
    k.extend_from_slice(project.as_str().as_bytes());
    k.push(0);
    k.extend_from_slice(id.as_str().as_bytes());
    k
}

/// Counters per clock: met, breached, cancelled, timed (count), minutes
/// (sum), then the histogram.
const PER_CLOCK: usize = 5 + MINUTE_BUCKETS.len();

/// The dimensions aggregates are kept by.
pub const DIMENSIONS: [&str; 11] = [
    "all",
    "kind",
    "week",
    "project_week",
    "project",
    "category",
    "priority",
    "contractor",
    "channel",
    "month",
    "project_month",
];

fn dimension_values(t: &SlaTicket, calendars: &CalendarRegistry) -> Vec<(&'static str, String)> {
    let mut v = vec![
        ("all", String::new()),
        ("kind", t.kind.as_str().to_string()),
        ("project", t.project.to_string()),
        ("category", t.category.as_str().to_string()),
        ("priority", t.priority.as_str().to_string()),
        ("channel", t.channel.as_str().to_string()),
        ("month", t.month.clone()),
        ("project_month", format!("{}/{}", t.project, t.month)),
    ];
    if let Some(c) = &t.contractor {
        v.push(("contractor", c.to_string()));
    }
    if let Some(week) = received_week(t, calendars) {
        v.push(("project_week", format!("{}/{week}", t.project)));
        v.push(("week", week));
    }
    v
}

/// The ISO week (`2026-W07`) the ticket was received in, in its calendar's
/// time zone: the instant its clocks started.
fn received_week(t: &SlaTicket, calendars: &CalendarRegistry) -> Option<String> {
    t.changes.iter().find_map(|c| match &c.change {
        domain::sla::ClockChange::Start(setup) => {
            let local = match calendars.get(&setup.calendar) {
                Some(calendar) => c.at.with_timezone(&calendar.time_zone()).date_naive(),
                None => c.at.date_naive(),
            };
            let week = local.iso_week();
            Some(format!("{}-W{:02}", week.year(), week.week()))
        }
        _ => None,
    })
}

/// What a ticket adds to the aggregates: its counters under each of its
/// dimensions.
fn contribution(t: &SlaTicket, calendars: &CalendarRegistry) -> Contribution {
    let mut contribution = Contribution::default();
    if !t.counters.is_empty() {
        for (dim, value) in dimension_values(t, calendars) {
            contribution.add(counters::key(AGGREGATE, dim, &value), t.counters.clone());
        }
    }
    contribution
}

fn counters(report: &SlaReport) -> Vec<i64> {
    let mut c = vec![0i64; PER_CLOCK * 3];
    for (i, kind) in ClockKind::ALL.into_iter().enumerate() {
        let Some(clock) = report.clock(kind) else { continue };
        if clock.stopped_at.is_none() {
            continue;
        }
        let base = i * PER_CLOCK;
        match clock.status {
            ClockStatus::Met => c[base] += 1,
            ClockStatus::Breached => c[base + 1] += 1,
            ClockStatus::Cancelled => c[base + 2] += 1,
            ClockStatus::Running | ClockStatus::AtRisk => continue,
        }
        if clock.status != ClockStatus::Cancelled {
            let minutes = clock.elapsed.num_minutes();
            c[base + 3] += 1;
            c[base + 4] += minutes;
            c[base + 5 + counters::bucket(minutes)] += 1;
        }
    }
    c
}

impl SlaView {
    fn month(&self, changes: &[ClockEvent], at: DateTime<Utc>) -> String {
        let tz = changes.iter().find_map(|c| match &c.change {
            domain::sla::ClockChange::Start(setup) => self.calendars.get(&setup.calendar).map(|c| c.time_zone()),
            _ => None,
        });
        match tz {
            Some(tz) => at.with_timezone(&tz).format("%Y-%m").to_string(),
            None => at.format("%Y-%m").to_string(),
        }
    }
}

impl BatchProjection for SlaView {
    fn name(&self) -> &'static str {
        "sla"
    }

    fn version(&self) -> u32 {
        // 2: a ticket's counters live in its record, not in a record of
        // their own. 3: the kind, week and project × week dimensions.
        3
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

impl SlaView {
    /// Folds consecutive events of one ticket, evaluating its clocks once.
    fn fold_run(
        &self,
        view: &mut ViewWriter<'_>,
        id: &TicketId,
        events: &[&Stamped<TicketEvent>],
    ) -> Result<(), ProjectionError> {
        let key = ticket_key(id);
        let existing: Option<SlaTicket> = view.get(&key)?.map(|bytes| decode_ticket(&bytes)).transpose()?;
        let was_open = existing.as_ref().is_some_and(|t| !t.finished);
        let old = existing
            .as_ref()
            .map(|t| contribution(t, &self.calendars))
            .unwrap_or_default();
        let mut ticket = existing;
        let mut clocks_changed = false;
        for stamped in events {
            let t = match (ticket.take(), &stamped.event) {
                (
                    None,
                    TicketEvent::Received {
                        kind,
                        channel,
                        location,
                        category,
                        priority,
                        ..
                    },
                ) => {
                    let changes = clock_events(stamped);
                    SlaTicket {
                        id: id.clone(),
                        kind: *kind,
                        project: location.project().clone(),
                        category: *category,
                        priority: *priority,
                        channel: *channel,
                        contractor: None,
                        month: self.month(&changes, stamped.occurred_at),
                        finished: false,
                        changes: Vec::new(),
                        last_event_at: stamped.occurred_at,
                        counters: Vec::new(),
                    }
                }
                (None, _) => continue,
                (Some(t), TicketEvent::Received { .. }) => {
                    ticket = Some(t);
                    continue;
                }
                (Some(t), _) => t,
            };
            let mut t = t;
            let changes = clock_events(stamped);
            clocks_changed |= !changes.is_empty();
            t.changes.extend(changes);
            t.last_event_at = t.last_event_at.max(stamped.occurred_at);
            match &stamped.event {
                TicketEvent::PriorityChanged { to, .. } => t.priority = *to,
                TicketEvent::Dispatched { to, .. } => {
                    t.contractor = match to {
                        Assignee::Contractor(c) => Some(c.clone()),
                        Assignee::Engineer(_) => None,
                    }
                }
                TicketEvent::Withdrawn { .. } | TicketEvent::MergedInto { .. } | TicketEvent::Closed { .. } => {
                    t.finished = true
                }
                TicketEvent::Reopened { .. } => t.finished = false,
                _ => {}
            }
            ticket = Some(t);
        }
        let Some(mut t) = ticket else { return Ok(()) };
        // Counters change only with the clocks (a stopped clock's result does
        // not move with time); other events may only move the ticket between
        // buckets.
        if clocks_changed {
            let report = evaluate_changes(&t.changes, &self.calendars, t.last_event_at)
                .map_err(|e| ProjectionError::Invalid(format!("ticket {id}: {e}")))?;
            let c = counters(&report);
            t.counters = if c.iter().any(|v| *v != 0) { c } else { Vec::new() };
        }
        counters::update(view, &old, &contribution(&t, &self.calendars))?;
        match (was_open, !t.finished) {
            (true, false) => view.delete(open_key(&t.project, id)),
            (false, true) => view.put(open_key(&t.project, id), Vec::new()),
            _ => {}
        }
        view.put(key, records::encode(RECORD_LAYOUT, &t)?);
        Ok(())
    }
}

/// A ticket's clocks as of `at`.
pub fn ticket_clocks(
    tree: &ViewTree,
    calendars: &CalendarRegistry,
    id: &TicketId,
    at: DateTime<Utc>,
) -> Result<Option<SlaReport>, ProjectionError> {
    let Some(bytes) = tree.get(&ticket_key(id))? else {
        return Ok(None);
    };
    let t = decode_ticket(&bytes)?;
    evaluate_changes(&t.changes, calendars, at)
        .map(Some)
        .map_err(|e| ProjectionError::Invalid(e.to_string()))
}

/// A ticket of the work queue and its nearest due instant (none: no clock
/// counting).
pub type DueOrder = (TicketId, Option<DateTime<Utc>>);

/// Every open ticket of `projects` (of every project when empty), most
/// urgent first: by the earliest due instant among its clocks still
/// counting at `at` (a breached clock's is in the past), then the tickets
/// with no clock counting (all paused or stopped), each group in id order.
/// The work queue's default order.
pub fn open_by_due(
    tree: &ViewTree,
    calendars: &CalendarRegistry,
    projects: &[ProjectId],
    at: DateTime<Utc>,
) -> Result<Vec<DueOrder>, ProjectionError> {
    let records = if projects.is_empty() {
        open_records(tree, None)?
    } else {
        let mut all = Vec::new();
        for p in projects {
            all.extend(open_records(tree, Some(p))?);
        }
        all
    };
    let mut out = Vec::with_capacity(records.len());
    for (id, t) in records {
        let report = evaluate_changes(&t.changes, calendars, at)
            .map_err(|e| ProjectionError::Invalid(format!("ticket {id}: {e}")))?;
        let due = report
            .clocks()
            .filter(|c| c.stopped_at.is_none() && !c.is_paused)
            .filter(|c| !matches!(c.status, ClockStatus::Met | ClockStatus::Cancelled))
            .filter_map(|c| c.due_at)
            .min();
        out.push((id, due));
    }
    out.sort_by(|a, b| (a.1.is_none(), a.1, &a.0).cmp(&(b.1.is_none(), b.1, &b.0)));
    Ok(out)
}

/// Every open ticket's record (clock changes, project, …), in key order.
pub fn open_tickets(tree: &ViewTree) -> Result<Vec<SlaTicket>, ProjectionError> {
    Ok(open_records(tree, None)?.into_iter().map(|(_, t)| t).collect())
}

/// The open tickets of `project` (of every project when `None`) with their
/// records, in key order (project, then id).
fn open_records(tree: &ViewTree, project: Option<&ProjectId>) -> Result<Vec<(TicketId, SlaTicket)>, ProjectionError> {
    let mut prefix = vec![OPEN];
    if let Some(p) = project {
        prefix.extend_from_slice(p.as_str().as_bytes());
        prefix.push(0);
    }
    let mut out = Vec::new();
    for entry in tree.scan_prefix(&prefix) {
        let (k, _) = entry?;
        let Some(sep) = k.iter().position(|b| *b == 0) else {
            continue;
        };
        let Ok(id) = TicketId::new(String::from_utf8_lossy(&k[sep + 1..]).into_owned()) else {
            continue;
        };
        if let Some(bytes) = tree.get(&ticket_key(&id))? {
            out.push((id, decode_ticket(&bytes)?));
        }
    }
    Ok(out)
}

/// Compliance of one clock over the tickets of a bucket.
#[derive(Debug, Clone, Default, PartialEq, Serialize)]
pub struct ClockCompliance {
    /// Clocks stopped within target.
    pub met: i64,
    /// Clocks breached.
    pub breached: i64,
    /// Clocks cancelled (withdrawn, merged, closed before their goal).
    pub cancelled: i64,
    /// met / (met + breached), if any.
    pub compliance_rate: Option<f64>,
    /// Mean business (or 24x7) minutes to the stop.
    pub mean_minutes: Option<f64>,
    /// 90th percentile, as the upper bound of its histogram bucket.
    pub p90_minutes: Option<i64>,
}

/// Compliance of the three clocks in one bucket.
#[derive(Debug, Clone, Default, PartialEq, Serialize)]
pub struct SlaCompliance {
    /// First response.
    pub first_response: ClockCompliance,
    /// On site.
    pub on_site: ClockCompliance,
    /// Resolution.
    pub resolution: ClockCompliance,
}

fn compliance_of(counters: &[i64]) -> SlaCompliance {
    let clock = |i: usize| {
        let c = |j: usize| counters.get(i * PER_CLOCK + j).copied().unwrap_or(0);
        let (met, breached, cancelled, timed, minutes) = (c(0), c(1), c(2), c(3), c(4));
        let histogram: Vec<i64> = (0..MINUTE_BUCKETS.len()).map(|b| c(5 + b)).collect();
        ClockCompliance {
            met,
            breached,
            cancelled,
            compliance_rate: (met + breached > 0).then(|| met as f64 / (met + breached) as f64),
            mean_minutes: (timed > 0).then(|| minutes as f64 / timed as f64),
            p90_minutes: counters::quantile(&histogram, 0.9),
        }
    };
    SlaCompliance {
        first_response: clock(0),
        on_site: clock(1),
        resolution: clock(2),
    }
}

/// Compliance for one dimension value (`("all", "")` for everything).
pub fn compliance(tree: &ViewTree, dimension: &str, value: &str) -> Result<SlaCompliance, ProjectionError> {
    Ok(compliance_of(&counters::read(
        tree,
        &counters::key(AGGREGATE, dimension, value),
    )?))
}

/// Compliance for every value of a dimension, in value order.
pub fn breakdown(tree: &ViewTree, dimension: &str) -> Result<Vec<(String, SlaCompliance)>, ProjectionError> {
    Ok(counters::scan(tree, AGGREGATE, dimension)?
        .into_iter()
        .map(|(v, c)| (v, compliance_of(&c)))
        .collect())
}

/// An open ticket's clock that needs attention now.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Alert {
    /// The ticket.
    pub ticket: TicketId,
    /// Its project.
    pub project: ProjectId,
    /// The clock, at risk or breached.
    pub clock: ClockReport,
}

/// Running clocks of open tickets that are at risk (80% used) or breached
/// at `at`, for one project or all, most urgent first (breached, then by
/// due instant).
pub fn alerts(
    tree: &ViewTree,
    calendars: &CalendarRegistry,
    project: Option<&ProjectId>,
    at: DateTime<Utc>,
) -> Result<Vec<Alert>, ProjectionError> {
    let mut out = Vec::new();
    for (id, t) in open_records(tree, project)? {
        let report =
            evaluate_changes(&t.changes, calendars, at).map_err(|e| ProjectionError::Invalid(e.to_string()))?;
        for clock in report.clocks() {
            let running = clock.stopped_at.is_none();
            if running && matches!(clock.status, ClockStatus::AtRisk | ClockStatus::Breached) {
                out.push(Alert {
                    ticket: id.clone(),
                    project: t.project.clone(),
                    clock: clock.clone(),
                });
            }
        }
    }
    out.sort_by(|a, b| {
        let rank = |x: &Alert| {
            (
                x.clock.status != ClockStatus::Breached,
                x.clock.due_at,
                x.ticket.clone(),
            )
        };
        rank(a).cmp(&rank(b))
    });
    Ok(out)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn record(counters: Vec<i64>) -> SlaTicket {
        SlaTicket {
            id: TicketId::new("T-1").unwrap_or_else(|e| panic!("{e}")),
            kind: TicketKind::Repair,
            project: ProjectId::new("P1").unwrap_or_else(|e| panic!("{e}")),
            category: Category::Service,
            priority: Priority::Normal,
            channel: Channel::BackOffice,
            contractor: None,
            month: "2026-11".into(),
            finished: false,
            changes: Vec::new(),
            last_event_at: DateTime::<Utc>::from_timestamp(1_795_000_000, 0)
                .unwrap_or_else(|| panic!("a valid instant")),
            counters,
        }
    }

    #[test]
    fn records_of_both_versions_decode() {
        let v2 = record(vec![1, 0, 2]);
        let bytes = eventlog::codec::encode(&v2).unwrap_or_else(|e| panic!("{e}"));
        assert_eq!(decode_ticket(&bytes).unwrap_or_else(|e| panic!("{e}")), v2);
        // Version 1 stored the same fields without the counters: the bytes
        // of a record with no counters, less the counters' length (0).
        let without = record(Vec::new());
        let mut v1 = eventlog::codec::encode(&without).unwrap_or_else(|e| panic!("{e}"));
        assert_eq!(v1.pop(), Some(0));
        assert_eq!(decode_ticket(&v1).unwrap_or_else(|e| panic!("{e}")), without);
        // Anything else is an error, not a record.
        assert!(decode_ticket(&v1[..v1.len() - 3]).is_err());
        assert!(decode_ticket(b"\xff\xff\xff").is_err());
        // Today's records say their layout, and read by it alone.
        let tagged = records::encode(RECORD_LAYOUT, &v2).unwrap_or_else(|e| panic!("{e}"));
        assert_eq!(&tagged[..2], &[records::TAG, RECORD_LAYOUT]);
        assert_eq!(decode_ticket(&tagged).unwrap_or_else(|e| panic!("{e}")), v2);
        // A layout from a newer build is refused, not guessed at.
        let mut newer = tagged.clone();
        newer[1] = RECORD_LAYOUT + 1;
        assert!(decode_ticket(&newer).is_err());
    }
}
