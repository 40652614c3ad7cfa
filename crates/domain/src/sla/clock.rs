//! The clocks' accounting: one clock running, paused, stopped or
//! re-targeted, and the report it gives at an instant; a ticket's three
//! clocks together, which calendar each counts on, and what each
//! [`ClockChange`] does to them.

use std::sync::Arc;

use chrono::{DateTime, Datelike, TimeDelta, Utc};

use crate::calendar::{BusinessCalendar, CalendarRef, CalendarRegistry};
use crate::error::DomainError;
use crate::policy::{advance, measure, ClockKind, ClockSetup, ClockTarget, PolicyRef, TimeBasis};

use super::{ClockChange, ClockEvent, ClockReport, ClockStatus};

#[derive(Debug, Clone)]
pub(super) struct Clock {
    kind: ClockKind,
    target: ClockTarget,
    policy: PolicyRef,
    calendar: Arc<BusinessCalendar>,
    started_at: DateTime<Utc>,
    running: bool,
    paused_since: Option<DateTime<Utc>>,
    /// Accounting is up to date until here.
    mark: DateTime<Utc>,
    used: TimeDelta,
    paused: TimeDelta,
    breached_at: Option<DateTime<Utc>>,
    stopped_at: Option<DateTime<Utc>>,
    cancelled: bool,
    first_cycle: Option<TimeDelta>,
    stops: u32,
    last_due: Option<DateTime<Utc>>,
    /// Running and paused stretches so far, kept so that a change of basis
    /// (24x7 to business time or back) re-measures what was used.
    runs: Vec<(DateTime<Utc>, DateTime<Utc>)>,
    pauses: Vec<(DateTime<Utc>, DateTime<Utc>)>,
}

/// Appends `[from, to)` to `spans`, merging with a stretch it continues.
fn extend_spans(spans: &mut Vec<(DateTime<Utc>, DateTime<Utc>)>, from: DateTime<Utc>, to: DateTime<Utc>) {
    match spans.last_mut() {
        Some(last) if last.1 == from => last.1 = to,
        _ => spans.push((from, to)),
    }
}

impl Clock {
    fn basis(&self) -> TimeBasis {
        self.target.basis().unwrap_or(TimeBasis::WallClock)
    }

    fn measure(&self, from: DateTime<Utc>, to: DateTime<Utc>) -> TimeDelta {
        measure(&self.calendar, self.basis(), from, to)
    }

    /// The due instant given the accounting at `mark`, if running and not
    /// paused.
    fn due(&self) -> Option<DateTime<Utc>> {
        if !self.running || self.paused_since.is_some() {
            return None;
        }
        Some(self.due_from_mark())
    }

    /// The due instant counted from `mark` on, as if running: for a
    /// paused clock, the one it would have if it resumed now.
    fn due_from_mark(&self) -> DateTime<Utc> {
        match self.target {
            ClockTarget::Deadline { due } => due,
            ClockTarget::Duration { minutes, basis } => {
                let remaining = TimeDelta::minutes(i64::from(minutes)) - self.used;
                if remaining > TimeDelta::zero() {
                    advance(&self.calendar, basis, self.mark, remaining)
                } else {
                    self.breached_at.unwrap_or(self.mark)
                }
            }
        }
    }

    /// Brings the accounting up to `t`.
    pub(super) fn advance_to(&mut self, t: DateTime<Utc>) {
        if !self.running || t <= self.mark {
            return;
        }
        if let Some(since) = self.paused_since {
            let from = since.max(self.mark);
            self.paused += self.measure(from, t);
            extend_spans(&mut self.pauses, from, t);
            self.paused_since = Some(t);
            self.mark = t;
            return;
        }
        if let Some(due) = self.due() {
            self.last_due = Some(due);
            if self.breached_at.is_none() && t > due {
                self.breached_at = Some(due);
            }
        }
        self.used += match self.target {
            ClockTarget::Deadline { .. } => (t - self.mark).max(TimeDelta::zero()),
            ClockTarget::Duration { .. } => self.measure(self.mark, t),
        };
        extend_spans(&mut self.runs, self.mark, t);
        self.mark = t;
    }

    fn pause(&mut self, t: DateTime<Utc>) {
        self.advance_to(t);
        if self.running && self.paused_since.is_none() && matches!(self.target, ClockTarget::Duration { .. }) {
            self.paused_since = Some(t);
        }
    }

    fn resume(&mut self, t: DateTime<Utc>) {
        self.advance_to(t);
        if self.paused_since.take().is_some() {
            self.mark = self.mark.max(t);
        }
    }

    fn stop(&mut self, t: DateTime<Utc>) {
        self.advance_to(t);
        if self.running {
            self.last_due = self.due().or(self.last_due);
            self.running = false;
            self.paused_since = None;
            self.stopped_at = Some(t);
            self.stops += 1;
            self.first_cycle.get_or_insert(self.used);
        }
    }

    fn cancel(&mut self, t: DateTime<Utc>) {
        self.advance_to(t);
        if self.running {
            self.running = false;
            self.paused_since = None;
            self.stopped_at = Some(t);
            self.cancelled = true;
        }
    }

    fn restart(&mut self, t: DateTime<Utc>) {
        if !self.running && !self.cancelled {
            self.running = true;
            self.stopped_at = None;
            self.mark = self.mark.max(t);
        }
    }

    fn retarget(&mut self, t: DateTime<Utc>, target: ClockTarget, policy: &PolicyRef, calendar: Arc<BusinessCalendar>) {
        self.advance_to(t);
        // A finished clock keeps the target it was judged by; only the
        // resolution clock, which a rejection can restart, takes the new
        // one while stopped.
        if self.cancelled || (!self.running && self.kind != ClockKind::Resolution) {
            return;
        }
        let basis_changed = self.basis() != target.basis().unwrap_or(TimeBasis::WallClock);
        self.target = target;
        self.policy = policy.clone();
        self.calendar = calendar;
        if basis_changed {
            // Time already used is re-measured on the new basis: wall-clock
            // minutes of an emergency are not business minutes.
            let measure = |spans: &[(DateTime<Utc>, DateTime<Utc>)]| {
                spans
                    .iter()
                    .map(|(a, b)| self.measure(*a, *b))
                    .fold(TimeDelta::zero(), |x, y| x + y)
            };
            let (used, paused) = (measure(&self.runs), measure(&self.pauses));
            self.used = used;
            self.paused = paused;
        }
        if let ClockTarget::Duration { minutes, .. } = target {
            if self.running && self.breached_at.is_none() && self.used > TimeDelta::minutes(i64::from(minutes)) {
                self.breached_at = Some(t);
            }
        }
    }

    fn provisional(&self) -> bool {
        if self.basis() != TimeBasis::Business {
            return false;
        }
        // A paused clock has no due instant; the one it would have if it
        // resumed now tells whether it reaches into an uncovered year.
        let due = if self.running {
            self.due().or_else(|| Some(self.due_from_mark()))
        } else {
            self.last_due
        };
        [Some(self.started_at), due, Some(self.mark)]
            .into_iter()
            .flatten()
            .any(|t| !self.calendar.covers_year(self.calendar.local_date(t).year()))
    }

    pub(super) fn report(&self) -> ClockReport {
        let at_risk = match self.target {
            ClockTarget::Duration { minutes, .. } => self.used * 5 >= TimeDelta::minutes(i64::from(minutes)) * 4,
            ClockTarget::Deadline { due } => self.used * 5 >= (due - self.started_at) * 4,
        };
        let status = if self.breached_at.is_some() {
            ClockStatus::Breached
        } else if self.cancelled {
            ClockStatus::Cancelled
        } else if !self.running {
            ClockStatus::Met
        } else if at_risk {
            ClockStatus::AtRisk
        } else {
            ClockStatus::Running
        };
        ClockReport {
            clock: self.kind,
            target: self.target,
            policy: self.policy.clone(),
            calendar: self.calendar.reference(),
            started_at: self.started_at,
            due_at: if self.running { self.due() } else { self.last_due },
            elapsed: self.used,
            paused: self.paused,
            is_paused: self.paused_since.is_some(),
            status,
            breached_at: self.breached_at,
            stopped_at: self.stopped_at,
            first_cycle_elapsed: self.first_cycle,
            stops: self.stops,
            provisional: self.provisional(),
        }
    }
}

pub(super) struct Clocks<'r> {
    pub(super) registry: &'r CalendarRegistry,
    pub(super) clocks: [Option<Clock>; 3],
    /// Stop events seen per clock, so that a re-target does not start a
    /// clock whose goal was already reached.
    pub(super) reached: [bool; 3],
    /// Waiting on the owner: a clock a re-target adds starts paused.
    pub(super) on_hold: bool,
    /// Per clock, the settlements of publications, in order (from, to):
    /// the clock counts on the end of the chain that starts at the version
    /// the ticket's events recorded, from its start.
    pub(super) settled: [Vec<(CalendarRef, CalendarRef)>; 3],
}

pub(super) fn slot(kind: ClockKind) -> usize {
    match kind {
        ClockKind::FirstResponse => 0,
        ClockKind::OnSite => 1,
        ClockKind::Resolution => 2,
    }
}

impl Clocks<'_> {
    /// The calendar clock `kind` counts on, given the version `setup`
    /// recorded.
    fn calendar(&self, kind: ClockKind, setup: &ClockSetup) -> Result<Arc<BusinessCalendar>, DomainError> {
        let mut reference = &setup.calendar;
        for (previous, settled) in &self.settled[slot(kind)] {
            if previous == reference {
                reference = settled;
            }
        }
        self.registry
            .get(reference)
            .ok_or_else(|| DomainError::MissingReference {
                what: format!("business calendar {reference} recorded in the ticket's events"),
            })
    }

    fn start(&mut self, t: DateTime<Utc>, setup: &ClockSetup) -> Result<(), DomainError> {
        for kind in ClockKind::ALL {
            let Some(target) = setup.target(kind) else {
                self.clocks[slot(kind)] = None;
                continue;
            };
            let calendar = self.calendar(kind, setup)?;
            self.clocks[slot(kind)] = Some(Clock {
                kind,
                target,
                policy: setup.policy.clone(),
                calendar,
                started_at: t,
                running: true,
                paused_since: None,
                mark: t,
                used: TimeDelta::zero(),
                paused: TimeDelta::zero(),
                breached_at: None,
                stopped_at: None,
                cancelled: false,
                first_cycle: None,
                stops: 0,
                last_due: None,
                runs: Vec::new(),
                pauses: Vec::new(),
            });
        }
        Ok(())
    }

    fn retarget(&mut self, t: DateTime<Utc>, setup: &ClockSetup) -> Result<(), DomainError> {
        for kind in ClockKind::ALL {
            let i = slot(kind);
            let calendar = match setup.target(kind) {
                Some(_) => Some(self.calendar(kind, setup)?),
                None => None,
            };
            match (&mut self.clocks[i], setup.target(kind)) {
                (Some(clock), Some(target)) => {
                    if let Some(calendar) = calendar {
                        clock.retarget(t, target, &setup.policy, calendar)
                    }
                }
                (Some(clock), None) => clock.cancel(t),
                (None, Some(target)) if !self.reached[i] => {
                    let mut fresh = Clocks {
                        registry: self.registry,
                        clocks: [None, None, None],
                        reached: [false; 3],
                        on_hold: false,
                        settled: self.settled.clone(),
                    };
                    let mut one = setup.clone();
                    one.first_response = None;
                    one.on_site = None;
                    one.resolution = None;
                    match kind {
                        ClockKind::FirstResponse => one.first_response = Some(target),
                        ClockKind::OnSite => one.on_site = Some(target),
                        ClockKind::Resolution => one.resolution = Some(target),
                    }
                    fresh.start(t, &one)?;
                    self.clocks[i] = fresh.clocks[i].take();
                    if self.on_hold {
                        if let Some(clock) = &mut self.clocks[i] {
                            clock.pause(t);
                        }
                    }
                }
                (None, _) => {}
            }
        }
        Ok(())
    }

    pub(super) fn each(&mut self, t: DateTime<Utc>, f: impl Fn(&mut Clock, DateTime<Utc>)) {
        for clock in self.clocks.iter_mut().flatten() {
            f(clock, t);
        }
    }

    fn one(&mut self, kind: ClockKind, t: DateTime<Utc>, f: impl Fn(&mut Clock, DateTime<Utc>)) {
        if let Some(clock) = &mut self.clocks[slot(kind)] {
            f(clock, t);
        }
    }

    fn reach(&mut self, kind: ClockKind, t: DateTime<Utc>) {
        self.reached[slot(kind)] = true;
        self.one(kind, t, Clock::stop);
    }

    pub(super) fn apply(&mut self, e: &ClockEvent) -> Result<(), DomainError> {
        let t = e.at;
        match &e.change {
            ClockChange::Start(setup) => self.start(t, setup)?,
            ClockChange::Retarget(setup) => self.retarget(t, setup)?,
            ClockChange::Stop(kind) => self.reach(*kind, t),
            ClockChange::RestartResolution => {
                self.reached[slot(ClockKind::Resolution)] = false;
                self.one(ClockKind::Resolution, t, Clock::restart);
            }
            ClockChange::Pause => {
                self.on_hold = true;
                self.each(t, Clock::pause)
            }
            ClockChange::Resume => {
                self.on_hold = false;
                self.each(t, Clock::resume)
            }
            ClockChange::Cancel => {
                self.on_hold = false;
                self.each(t, Clock::cancel)
            }
            // Applied before the first change (see `evaluate_changes`).
            ClockChange::Settle { .. } => {}
        }
        Ok(())
    }
}
