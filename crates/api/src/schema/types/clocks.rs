//! A ticket's service-level clocks.

use async_graphql::SimpleObject;
use chrono::{DateTime, Utc};
use domain::sla::ClockReport;

use super::*;

/// One service-level clock of a ticket, evaluated now.
#[derive(SimpleObject)]
pub struct Clock {
    /// Which clock.
    pub clock: ClockKind,
    /// Status.
    pub status: ClockStatus,
    /// The target, in words ("4 business hours", "24 hours").
    pub target: String,
    /// When it started.
    pub started_at: DateTime<Utc>,
    /// When it is (or was) due; null while paused, as the due instant
    /// moves with the pause.
    pub due_at: Option<DateTime<Utc>>,
    /// Minutes counted against the target (business or wall minutes).
    pub elapsed_minutes: i64,
    /// Minutes not counted because the ticket waited on the owner.
    pub paused_minutes: i64,
    /// Whether it is paused now.
    pub paused: bool,
    /// When it breached.
    pub breached_at: Option<DateTime<Utc>>,
    /// When it last stopped.
    pub stopped_at: Option<DateTime<Utc>>,
    /// The due instant reaches into a year whose holidays are not yet
    /// published: it may still move.
    pub provisional: bool,
    /// The service policy the target came from (recorded when the clock
    /// started), so that any deadline can be explained from the API.
    pub policy_id: String,
    /// That policy's version.
    pub policy_version: String,
    /// The business calendar time is counted on.
    pub calendar_id: String,
    /// That calendar's version.
    pub calendar_version: String,
    /// The target's length in minutes (null for a fixed deadline).
    pub target_minutes: Option<u32>,
    /// How the target's minutes are counted: working time on the calendar
    /// or every minute (null for a fixed deadline).
    pub basis: Option<TimeBasis>,
    /// A fixed deadline promised to the owner (a handover defect's
    /// rectification date), if the target is one.
    pub fixed_deadline: Option<DateTime<Utc>>,
    /// How many times it stopped (resolution: rework cycles + 1).
    pub stops: u32,
}

impl From<&ClockReport> for Clock {
    fn from(c: &ClockReport) -> Self {
        Self {
            clock: c.clock.into(),
            status: c.status.into(),
            target: c.target.to_string(),
            started_at: c.started_at,
            due_at: c.due_at,
            elapsed_minutes: c.elapsed.num_minutes(),
            paused_minutes: c.paused.num_minutes(),
            paused: c.is_paused,
            breached_at: c.breached_at,
            stopped_at: c.stopped_at,
            provisional: c.provisional,
            policy_id: c.policy.id.clone(),
            policy_version: c.policy.version.clone(),
            calendar_id: c.calendar.id.clone(),
            calendar_version: c.calendar.version.clone(),
            target_minutes: c.target.minutes(),
            basis: c.target.basis().map(Into::into),
            fixed_deadline: match c.target {
                domain::policy::ClockTarget::Deadline { due } => Some(due),
                domain::policy::ClockTarget::Duration { .. } => None,
            },
            stops: c.stops,
        }
    }
}
