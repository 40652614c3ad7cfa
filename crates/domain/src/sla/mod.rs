//! Service-level clocks: a pure function from a ticket's events, the
//! calendars they recorded, and an instant, to each clock's due instant,
//! elapsed and paused time, and status.
//!
//! # Clock semantics
//!
//! - **Start and stop.** Every clock starts at `Received` (its occurred
//!   time). First response stops at `Acknowledged` (inquiries: or
//!   `Answered`), on-site at `Arrived`, resolution at `Repaired`
//!   (complaints: `ResolutionProposed`; inquiries: `Answered`). Clocks run
//!   on when things happened, not on when they were entered.
//! - **Pause with credit.** While the ticket is on hold waiting for the
//!   owner (owner unreachable, waiting for the owner's decision) running
//!   clocks stop and the paused time is not counted. Waiting for material
//!   is our own problem: clocks keep running. A hold during non-working time
//!   adds nothing to a business clock, because no working time passes.
//!   Deadline clocks (a promised rectification date) never pause.
//! - **Re-targeting.** `PriorityChanged` gives the clocks their new
//!   targets and keeps the time already used (a stopped clock keeps the new
//!   target for when a rejection restarts it): received 10:00 with a 3 h
//!   target, raised at 11:00 to a 2 h target, due 12:00. A clock whose used
//!   time already exceeds its new target breaches at the change. A clock the
//!   new targets no longer have is cancelled; one they add starts at the
//!   change unless its stop event already happened.
//! - **Rework.** `Rejected` (complaints: `OwnerDisagreed`), and `Reopened`
//!   of a closed repair whose problem came back, set the resolution clock
//!   running again, continuing from the time already used.
//!   The report gives both the first-resolution time (to the first stop, not
//!   restarted by a reopen) and the total time over every cycle.
//! - **Breach is sticky.** A clock that passed its due instant while running
//!   stays breached, whatever happens later (a stop, a lower priority).
//! - **At risk** means running, not breached, with at least 80% of the
//!   target used.
//! - **Cancelled**: stopped by `Withdrawn`, `MergedInto` or `Closed` before
//!   its stop event; counts neither as met nor as breached.
//! - **Versioned data.** Each `Received` and `PriorityChanged` records its
//!   targets, policy and calendar version ([`ClockSetup`]); the evaluation
//!   uses exactly those, looked up in a [`CalendarRegistry`], so history
//!   replays to the same deadlines after calendars or policies change.
//!
//! The clocks' accounting is in `clock`; this module turns events into
//! clock changes and evaluates them.
//!
//! ```
//! # use domain::testing::fixtures::*;
//! use domain::sla::{evaluate, ClockStatus};
//! use domain::calendar::CalendarRegistry;
//! let events = repair_received_and_acknowledged();
//! let report = evaluate(&events, &CalendarRegistry::with_cn_mainland(), events[1].occurred_at).unwrap();
//! assert_eq!(report.first_response.unwrap().status, ClockStatus::Met);
//! ```

use chrono::{DateTime, TimeDelta, Utc};
use serde::{Deserialize, Serialize};

use crate::calendar::{BusinessCalendar, CalendarRef, CalendarRegistry};
use crate::error::DomainError;
use crate::policy::{ClockKind, ClockSetup, ClockTarget, PolicyRef};
use crate::ticket::{Stamped, TicketEvent};

mod clock;

use clock::{slot, Clock, Clocks};

/// Where a clock stands.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
pub enum ClockStatus {
    /// Running with less than 80% of the target used (or paused so).
    Running,
    /// Running (or paused) with at least 80% of the target used.
    AtRisk,
    /// Stopped within the target.
    Met,
    /// Passed its due instant while running. Sticky.
    Breached,
    /// Stopped before its goal by withdrawal, merge or closing.
    Cancelled,
}

impl ClockStatus {
    /// Name as reports spell it.
    pub fn as_str(self) -> &'static str {
        match self {
            ClockStatus::Running => "running",
            ClockStatus::AtRisk => "at_risk",
            ClockStatus::Met => "met",
            ClockStatus::Breached => "breached",
            ClockStatus::Cancelled => "cancelled",
        }
    }
}

/// One clock of one ticket at one instant.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct ClockReport {
    /// Which clock.
    pub clock: ClockKind,
    /// Its target in force.
    pub target: ClockTarget,
    /// The policy the target came from.
    pub policy: PolicyRef,
    /// The calendar business time is counted on.
    pub calendar: CalendarRef,
    /// When it started.
    pub started_at: DateTime<Utc>,
    /// When it is (or was, once stopped) due. `None` while paused: the due
    /// instant moves with the pause.
    pub due_at: Option<DateTime<Utc>>,
    /// Time counted against the target (business or wall time, after
    /// pauses), over every cycle.
    pub elapsed: TimeDelta,
    /// Time not counted because the ticket waited on the owner, measured
    /// the same way.
    pub paused: TimeDelta,
    /// Whether it is paused now.
    pub is_paused: bool,
    /// Status.
    pub status: ClockStatus,
    /// When it breached.
    pub breached_at: Option<DateTime<Utc>>,
    /// When it last stopped, if stopped.
    pub stopped_at: Option<DateTime<Utc>>,
    /// Time counted up to the first stop (first-resolution time): not
    /// restarted by a reopen.
    pub first_cycle_elapsed: Option<TimeDelta>,
    /// How many times it stopped (resolution: rework cycles + 1).
    pub stops: u32,
    /// The business-time figures reach into a year whose holidays the
    /// recorded calendar version does not contain (weekdays were assumed):
    /// the due instant may move when that year is published.
    pub provisional: bool,
}

/// The three clocks of a ticket; `None` where a clock does not apply.
#[derive(Debug, Clone, PartialEq, Eq, Default, Serialize, Deserialize)]
pub struct SlaReport {
    /// First response.
    pub first_response: Option<ClockReport>,
    /// On-site arrival.
    pub on_site: Option<ClockReport>,
    /// Resolution.
    pub resolution: Option<ClockReport>,
}

impl SlaReport {
    /// The report of one clock.
    pub fn clock(&self, kind: ClockKind) -> Option<&ClockReport> {
        match kind {
            ClockKind::FirstResponse => self.first_response.as_ref(),
            ClockKind::OnSite => self.on_site.as_ref(),
            ClockKind::Resolution => self.resolution.as_ref(),
        }
    }

    /// All clocks that apply.
    pub fn clocks(&self) -> impl Iterator<Item = &ClockReport> {
        [&self.first_response, &self.on_site, &self.resolution]
            .into_iter()
            .flatten()
    }
}

/// What an event does to the clocks: the part of a ticket's history the
/// clocks depend on, small enough for a view to keep per ticket.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub enum ClockChange {
    /// Clocks start with these targets (`Received`).
    Start(ClockSetup),
    /// New targets (`PriorityChanged`).
    Retarget(ClockSetup),
    /// One clock reaches its goal.
    Stop(ClockKind),
    /// The resolution clock runs again (`Rejected`, `OwnerDisagreed`,
    /// `Reopened`).
    RestartResolution,
    /// Waiting on the owner (`PutOnHold` with a pausing reason).
    Pause,
    /// Back from hold.
    Resume,
    /// The ticket is finished (`Withdrawn`, `MergedInto`, `Closed`).
    Cancel,
    /// A calendar publication settled these clocks on a new version
    /// (`CalendarSettled`): they count on it from their start.
    Settle {
        /// The version the ticket's events recorded.
        previous: CalendarRef,
        /// The version they count on now.
        calendar: CalendarRef,
        /// Which clocks.
        clocks: Vec<ClockKind>,
    },
}

/// A [`ClockChange`] with the instant it happened.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct ClockEvent {
    /// When it happened.
    pub at: DateTime<Utc>,
    /// What it does.
    pub change: ClockChange,
}

/// The clock changes of one ticket event (none for most).
pub fn clock_events(stamped: &Stamped<TicketEvent>) -> Vec<ClockEvent> {
    let at = stamped.occurred_at;
    let changes = match &stamped.event {
        TicketEvent::Received { clocks, .. } => vec![ClockChange::Start(clocks.clone())],
        TicketEvent::PriorityChanged { clocks, .. } => vec![ClockChange::Retarget(clocks.clone())],
        TicketEvent::Acknowledged { .. } => vec![ClockChange::Stop(ClockKind::FirstResponse)],
        TicketEvent::Arrived { .. } => vec![ClockChange::Stop(ClockKind::OnSite)],
        TicketEvent::Repaired { .. } | TicketEvent::ResolutionProposed { .. } => {
            vec![ClockChange::Stop(ClockKind::Resolution)]
        }
        TicketEvent::Answered { .. } => vec![
            ClockChange::Stop(ClockKind::FirstResponse),
            ClockChange::Stop(ClockKind::Resolution),
        ],
        TicketEvent::Rejected { .. } | TicketEvent::OwnerDisagreed { .. } | TicketEvent::Reopened { .. } => {
            vec![ClockChange::RestartResolution]
        }
        TicketEvent::PutOnHold { reason, .. } if reason.pauses_clocks() => vec![ClockChange::Pause],
        TicketEvent::Resumed { .. } => vec![ClockChange::Resume],
        TicketEvent::Withdrawn { .. } | TicketEvent::MergedInto { .. } | TicketEvent::Closed { .. } => {
            vec![ClockChange::Cancel]
        }
        TicketEvent::CalendarSettled {
            calendar,
            previous,
            clocks,
        } => vec![ClockChange::Settle {
            previous: previous.clone(),
            calendar: calendar.clone(),
            clocks: clocks.iter().map(|c| c.clock).collect(),
        }],
        _ => vec![],
    };
    changes.into_iter().map(|change| ClockEvent { at, change }).collect()
}

/// Each clock of a ticket as of `at`: only events that occurred at or
/// before `at` count, so the same call answers "where did this ticket stand
/// last Tuesday at noon". Fails only when a recorded calendar version is not
/// in `calendars`.
pub fn evaluate(
    events: &[Stamped<TicketEvent>],
    calendars: &CalendarRegistry,
    at: DateTime<Utc>,
) -> Result<SlaReport, DomainError> {
    let changes: Vec<ClockEvent> = events.iter().flat_map(clock_events).collect();
    evaluate_changes(&changes, calendars, at)
}

/// [`evaluate`] on the clock changes alone (see [`clock_events`]), for
/// views that keep only those.
pub fn evaluate_changes(
    changes: &[ClockEvent],
    calendars: &CalendarRegistry,
    at: DateTime<Utc>,
) -> Result<SlaReport, DomainError> {
    let mut settled: [Vec<(CalendarRef, CalendarRef)>; 3] = [Vec::new(), Vec::new(), Vec::new()];
    for change in changes.iter().filter(|e| e.at <= at) {
        if let ClockChange::Settle {
            previous,
            calendar,
            clocks,
        } = &change.change
        {
            for kind in clocks {
                settled[slot(*kind)].push((previous.clone(), calendar.clone()));
            }
        }
    }
    let mut clocks = Clocks {
        registry: calendars,
        clocks: [None, None, None],
        reached: [false; 3],
        on_hold: false,
        settled,
    };
    for change in changes.iter().filter(|e| e.at <= at) {
        clocks.apply(change)?;
    }
    clocks.each(at, Clock::advance_to);
    let [first_response, on_site, resolution] = clocks.clocks.map(|c| c.map(|c| c.report()));
    Ok(SlaReport {
        first_response,
        on_site,
        resolution,
    })
}

/// What publishing `published` (a new version of a calendar, already in
/// `calendars`) does to one ticket at `at`: its open clocks (running or
/// paused) that count provisionally on an older version of the same
/// calendar, and whose deadline or provisional mark the new version
/// changes, are settled on it; one `CalendarSettled` per older version
/// they counted on. Stopped, cancelled and breached clocks keep what they
/// had, and clocks not provisional are never touched: their deadlines are
/// definitive. A clock settled before settles again from where the last
/// settlement put it (settlements chain).
pub fn settlements(
    events: &[Stamped<TicketEvent>],
    calendars: &CalendarRegistry,
    published: &BusinessCalendar,
    at: DateTime<Utc>,
) -> Result<Vec<TicketEvent>, DomainError> {
    let changes: Vec<ClockEvent> = events.iter().flat_map(clock_events).collect();
    settlements_of_changes(&changes, calendars, published, at)
}

/// [`settlements`] on the clock changes alone (see [`clock_events`]), for
/// views that keep only those.
pub fn settlements_of_changes(
    changes: &[ClockEvent],
    calendars: &CalendarRegistry,
    published: &BusinessCalendar,
    at: DateTime<Utc>,
) -> Result<Vec<TicketEvent>, DomainError> {
    let new = published.reference();
    let before = evaluate_changes(changes, calendars, at)?;
    let mut by_previous: Vec<(CalendarRef, Vec<ClockKind>)> = Vec::new();
    for report in before.clocks() {
        // Running or paused, not breached: a breach is sticky, and a clock
        // that stopped keeps the deadline it was judged by.
        let open = matches!(report.status, ClockStatus::Running | ClockStatus::AtRisk);
        let older = report.calendar.id == new.id
            && crate::calendar::compare_versions(&report.calendar.version, &new.version).is_lt();
        if report.provisional && open && older {
            match by_previous.iter_mut().find(|(p, _)| *p == report.calendar) {
                Some((_, kinds)) => kinds.push(report.clock),
                None => by_previous.push((report.calendar.clone(), vec![report.clock])),
            }
        }
    }
    let mut out = Vec::new();
    for (previous, kinds) in by_previous {
        let mut trial = changes.to_vec();
        trial.push(ClockEvent {
            at,
            change: ClockChange::Settle {
                previous: previous.clone(),
                calendar: new.clone(),
                clocks: kinds.clone(),
            },
        });
        let after = evaluate_changes(&trial, calendars, at)?;
        let clocks: Vec<crate::ticket::SettledClock> = kinds
            .iter()
            .filter_map(|kind| {
                let (b, a) = (before.clock(*kind)?, after.clock(*kind)?);
                (b.due_at != a.due_at || b.provisional != a.provisional).then_some(crate::ticket::SettledClock {
                    clock: *kind,
                    due_before: b.due_at,
                    due_after: a.due_at,
                })
            })
            .collect();
        if !clocks.is_empty() {
            out.push(TicketEvent::CalendarSettled {
                calendar: new.clone(),
                previous,
                clocks,
            });
        }
    }
    Ok(out)
}
