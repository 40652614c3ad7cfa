//! Service policies (响应时限): which targets apply to a ticket.
//!
//! A [`ServicePolicy`] maps a ticket's kind and priority, and optionally its
//! project and category, to targets for the three clocks: first response,
//! on-site arrival and resolution. Each target is wall-clock (24×7) or
//! business time on the ticket's calendar. The defaults are the table of
//! the domain reference, shipped as `policies/default-service-policy.toml`;
//! deployments load their own with [`ServicePolicy::from_toml`].
//!
//! When a clock starts or is re-targeted, the ticket's event records the
//! resolved targets (in minutes), the policy version and the calendar
//! version ([`ClockSetup`]), so that history replays to the same deadlines
//! after a policy or a calendar changes.
//!
//! ```
//! use domain::policy::{ServicePolicy, TimeBasis};
//! use domain::calendar::BusinessCalendar;
//! use domain::ticket::{TicketKind, Priority, Category};
//! let policy = ServicePolicy::default_policy();
//! let cal = BusinessCalendar::cn_mainland();
//! let setup = policy.clock_setup(TicketKind::Repair, Priority::Urgent, None, Category::Engineering, &cal).unwrap();
//! let first = setup.first_response.unwrap();
//! assert_eq!(first.minutes(), Some(120));
//! assert_eq!(first.basis(), Some(TimeBasis::Business));
//! ```

use std::fmt;
use std::sync::Arc;

use chrono::{DateTime, TimeDelta, Utc};
use serde::{Deserialize, Serialize};

use crate::calendar::{BusinessCalendar, CalendarRef};
use crate::error::DomainError;
use crate::ids::ProjectId;
use crate::ticket::{Category, Priority, TicketKind};

/// Which policy, in which version, produced a clock's targets.
#[derive(Debug, Clone, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize, Deserialize)]
pub struct PolicyRef {
    /// The policy's name.
    pub id: String,
    /// Its version.
    pub version: String,
}

impl fmt::Display for PolicyRef {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{} {}", self.id, self.version)
    }
}

/// The three service-level clocks of a ticket.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize, Deserialize)]
pub enum ClockKind {
    /// From Received to Acknowledged (inquiries: or Answered).
    FirstResponse,
    /// From Received to Arrived.
    OnSite,
    /// From Received to Repaired (complaints: ResolutionProposed;
    /// inquiries: Answered).
    Resolution,
}

impl ClockKind {
    /// All clocks in display order.
    pub const ALL: [ClockKind; 3] = [ClockKind::FirstResponse, ClockKind::OnSite, ClockKind::Resolution];

    /// Name as reports spell it.
    pub fn as_str(self) -> &'static str {
        match self {
            ClockKind::FirstResponse => "first_response",
            ClockKind::OnSite => "on_site",
            ClockKind::Resolution => "resolution",
        }
    }
}

/// Whether a target counts every minute or only working time.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
pub enum TimeBasis {
    /// Every minute counts (24×7).
    WallClock,
    /// Only the calendar's working time counts.
    Business,
}

/// A clock's target as recorded in a ticket's events.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
pub enum ClockTarget {
    /// A duration measured on `basis`.
    Duration {
        /// Length of the target in minutes.
        minutes: u32,
        /// How time is counted.
        basis: TimeBasis,
    },
    /// A fixed deadline, such as the rectification date promised on a
    /// handover inspection record. Deadlines are promises: holds do not
    /// move them.
    Deadline {
        /// The instant by which the clock must stop.
        due: DateTime<Utc>,
    },
}

impl ClockTarget {
    /// Minutes of a duration target.
    pub fn minutes(&self) -> Option<u32> {
        match self {
            ClockTarget::Duration { minutes, .. } => Some(*minutes),
            ClockTarget::Deadline { .. } => None,
        }
    }

    /// Basis of a duration target.
    pub fn basis(&self) -> Option<TimeBasis> {
        match self {
            ClockTarget::Duration { basis, .. } => Some(*basis),
            ClockTarget::Deadline { .. } => None,
        }
    }
}

impl fmt::Display for ClockTarget {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            ClockTarget::Duration { minutes, basis } => {
                let b = match basis {
                    TimeBasis::WallClock => "24x7",
                    TimeBasis::Business => "business",
                };
                if minutes % 60 == 0 {
                    write!(f, "{}h {b}", minutes / 60)
                } else {
                    write!(f, "{minutes}m {b}")
                }
            }
            ClockTarget::Deadline { due } => write!(f, "by {due}"),
        }
    }
}

/// The clocks of a ticket as set when it was received or re-targeted:
/// recorded in `Received` and `PriorityChanged`.
#[derive(Debug, Clone, PartialEq, Eq, Hash, Serialize, Deserialize)]
pub struct ClockSetup {
    /// The policy the targets came from.
    pub policy: PolicyRef,
    /// The calendar business time is counted on.
    pub calendar: CalendarRef,
    /// First-response target, if the clock applies.
    pub first_response: Option<ClockTarget>,
    /// On-site target, if the clock applies.
    pub on_site: Option<ClockTarget>,
    /// Resolution target, if the clock applies.
    pub resolution: Option<ClockTarget>,
}

impl ClockSetup {
    /// The target of one clock.
    pub fn target(&self, kind: ClockKind) -> Option<ClockTarget> {
        match kind {
            ClockKind::FirstResponse => self.first_response,
            ClockKind::OnSite => self.on_site,
            ClockKind::Resolution => self.resolution,
        }
    }
}

/// A target as written in a policy file: amount, unit and basis.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct TargetSpec {
    amount: u32,
    unit: TargetUnit,
    basis: TimeBasis,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum TargetUnit {
    Minutes,
    Hours,
    Days,
}

/// The longest target accepted: one year of minutes.
const MAX_TARGET_MINUTES: u64 = 366 * 24 * 60;

impl TargetSpec {
    /// Parses `"30m 24x7"`, `"2h business"`, `"1d business"`.
    pub fn parse(text: &str) -> Result<Self, DomainError> {
        let bad = |why: &str| DomainError::input("service target", format!("{text:?}: {why}"));
        let mut parts = text.split_whitespace();
        let (Some(amount), Some(basis), None) = (parts.next(), parts.next(), parts.next()) else {
            return Err(bad("expected \"<number><m|h|d> <24x7|business>\""));
        };
        let (number, unit) = amount.split_at(amount.len().saturating_sub(1));
        let unit = match unit {
            "m" => TargetUnit::Minutes,
            "h" => TargetUnit::Hours,
            "d" => TargetUnit::Days,
            _ => return Err(bad("the unit must be m, h or d")),
        };
        let amount: u32 = number.parse().map_err(|_| bad("the amount must be a whole number"))?;
        if amount == 0 {
            return Err(bad("a target must be longer than zero"));
        }
        let basis = match basis {
            "24x7" => TimeBasis::WallClock,
            "business" => TimeBasis::Business,
            _ => return Err(bad("the basis must be 24x7 or business")),
        };
        Ok(Self { amount, unit, basis })
    }

    /// The target in minutes on `calendar` (business days use the
    /// calendar's working-day length).
    pub fn resolve(&self, calendar: &BusinessCalendar) -> Result<ClockTarget, DomainError> {
        let unit_minutes = match (self.unit, self.basis) {
            (TargetUnit::Minutes, _) => 1,
            (TargetUnit::Hours, _) => 60,
            (TargetUnit::Days, TimeBasis::WallClock) => 24 * 60,
            (TargetUnit::Days, TimeBasis::Business) => {
                u64::try_from(calendar.working_day_length().num_minutes()).unwrap_or(u64::MAX)
            }
        };
        let minutes = u64::from(self.amount).saturating_mul(unit_minutes);
        if minutes > MAX_TARGET_MINUTES {
            return Err(DomainError::input("service target", "longer than one year"));
        }
        Ok(ClockTarget::Duration {
            minutes: minutes as u32,
            basis: self.basis,
        })
    }
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
struct RuleSpec {
    kind: String,
    #[serde(default)]
    priority: Option<String>,
    #[serde(default)]
    project: Option<String>,
    #[serde(default)]
    category: Option<String>,
    #[serde(default)]
    first_response: Option<String>,
    #[serde(default)]
    on_site: Option<String>,
    #[serde(default)]
    resolution: Option<String>,
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
struct PolicySpec {
    id: String,
    version: String,
    rules: Vec<RuleSpec>,
}

/// One rule of a policy.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct PolicyRule {
    /// The ticket kind it applies to.
    pub kind: TicketKind,
    /// Only this priority, or any.
    pub priority: Option<Priority>,
    /// Only this project, or any.
    pub project: Option<ProjectId>,
    /// Only this category, or any.
    pub category: Option<Category>,
    /// Target per clock; `None` when the clock does not apply.
    pub targets: [Option<TargetSpec>; 3],
}

impl PolicyRule {
    fn specificity(&self) -> u8 {
        u8::from(self.project.is_some()) * 4 + u8::from(self.category.is_some()) * 2 + u8::from(self.priority.is_some())
    }
}

/// A versioned set of service-level rules.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ServicePolicy {
    reference: PolicyRef,
    rules: Vec<PolicyRule>,
    source: PolicySpec,
}

/// The bundled default policy file.
pub const DEFAULT_POLICY_TOML: &str = include_str!("../policies/default-service-policy.toml");

impl ServicePolicy {
    /// The defaults of the domain reference's table.
    pub fn default_policy() -> Arc<Self> {
        // The bundled file is checked by a test.
        #[allow(clippy::expect_used)]
        Arc::new(Self::from_toml(DEFAULT_POLICY_TOML).expect("bundled default-service-policy.toml is valid"))
    }

    /// Parses and validates a policy file.
    pub fn from_toml(text: &str) -> Result<Self, DomainError> {
        let spec: PolicySpec = toml::from_str(text).map_err(|e| DomainError::InvalidReferenceData {
            what: "service policy file".into(),
            reason: e.to_string(),
        })?;
        let what = format!("service policy {} {}", spec.id, spec.version);
        let bad = |reason: String| DomainError::InvalidReferenceData {
            what: what.clone(),
            reason,
        };
        if spec.id.trim().is_empty() || spec.version.trim().is_empty() {
            return Err(bad("id and version must not be empty".into()));
        }
        let mut rules = Vec::new();
        for (i, r) in spec.rules.iter().enumerate() {
            let n = i + 1;
            let kind: TicketKind = r.kind.parse().map_err(|e| bad(format!("rule {n}: {e}")))?;
            let priority = r
                .priority
                .as_deref()
                .map(str::parse::<Priority>)
                .transpose()
                .map_err(|e| bad(format!("rule {n}: {e}")))?;
            let project = r
                .project
                .as_deref()
                .map(ProjectId::new)
                .transpose()
                .map_err(|e| bad(format!("rule {n}: {e}")))?;
            let category = r
                .category
                .as_deref()
                .map(str::parse::<Category>)
                .transpose()
                .map_err(|e| bad(format!("rule {n}: {e}")))?;
            let target = |t: &Option<String>| {
                t.as_deref()
                    .map(TargetSpec::parse)
                    .transpose()
                    .map_err(|e| bad(format!("rule {n}: {e}")))
            };
            let targets = [target(&r.first_response)?, target(&r.on_site)?, target(&r.resolution)?];
            let rule = PolicyRule {
                kind,
                priority,
                project,
                category,
                targets,
            };
            if rules.iter().any(|other: &PolicyRule| {
                (&other.kind, &other.priority, &other.project, &other.category)
                    == (&rule.kind, &rule.priority, &rule.project, &rule.category)
            }) {
                return Err(bad(format!("rule {n} repeats the conditions of an earlier rule")));
            }
            rules.push(rule);
        }
        Ok(Self {
            reference: PolicyRef {
                id: spec.id.clone(),
                version: spec.version.clone(),
            },
            rules,
            source: spec,
        })
    }

    /// Which policy and version this is.
    pub fn reference(&self) -> &PolicyRef {
        &self.reference
    }

    /// The rules, in file order.
    pub fn rules(&self) -> &[PolicyRule] {
        &self.rules
    }

    /// The most specific rule for a ticket.
    pub fn rule_for(
        &self,
        kind: TicketKind,
        priority: Priority,
        project: Option<&ProjectId>,
        category: Category,
    ) -> Option<&PolicyRule> {
        self.rules
            .iter()
            .filter(|r| r.kind == kind)
            .filter(|r| r.priority.is_none_or(|p| p == priority))
            .filter(|r| r.project.as_ref().is_none_or(|p| Some(p) == project))
            .filter(|r| r.category.is_none_or(|c| c == category))
            // max_by_key keeps the last of equals; rev() makes the first in
            // file order win.
            .rev()
            .max_by_key(|r| r.specificity())
    }

    /// The clock targets for a ticket, resolved on `calendar`, with the
    /// references to record.
    pub fn clock_setup(
        &self,
        kind: TicketKind,
        priority: Priority,
        project: Option<&ProjectId>,
        category: Category,
        calendar: &BusinessCalendar,
    ) -> Result<ClockSetup, DomainError> {
        let rule = self
            .rule_for(kind, priority, project, category)
            .ok_or_else(|| DomainError::MissingReference {
                what: format!(
                    "service policy {} has no rule for a {} {} ticket",
                    self.reference,
                    priority.as_str(),
                    kind.as_str()
                ),
            })?;
        let resolve = |t: Option<TargetSpec>| t.map(|t| t.resolve(calendar)).transpose();
        Ok(ClockSetup {
            policy: self.reference.clone(),
            calendar: calendar.reference(),
            first_response: resolve(rule.targets[0])?,
            on_site: resolve(rule.targets[1])?,
            resolution: resolve(rule.targets[2])?,
        })
    }

    /// The policy as TOML text, for storing a published version.
    pub fn to_toml(&self) -> String {
        toml::to_string(&self.source).unwrap_or_default()
    }
}

/// Checks a service policy file before it is published and lists every
/// problem found: the file parses; each rule's kind, priority, category and
/// targets are valid and positive; no two rules share their conditions;
/// every project a rule names exists (`project_exists`); and within rules
/// that differ only in priority, each clock's target is ordered emergency
/// ≤ urgent ≤ normal (a 24×7 target and a business-time one compare as
/// calendar time, one working day of `calendar` counting as one day: 24 h
/// 24×7 comes before 3 business days).
pub fn check_publication(
    text: &str,
    calendar: &BusinessCalendar,
    project_exists: &dyn Fn(&ProjectId) -> bool,
) -> Result<ServicePolicy, Vec<String>> {
    let spec: PolicySpec = toml::from_str(text).map_err(|e| vec![format!("the file does not parse: {e}")])?;
    let mut problems = Vec::new();
    if spec.id.trim().is_empty() || spec.version.trim().is_empty() {
        problems.push("id and version must not be empty".to_string());
    }
    if spec.rules.is_empty() {
        problems.push("the policy has no rules".to_string());
    }
    // A rule's conditions, and the number of the rule that first had them.
    type Conditions = (TicketKind, Option<Priority>, Option<ProjectId>, Option<Category>);
    type Key = (TicketKind, Option<ProjectId>, Option<Category>);
    let mut ordered: Vec<(Key, Priority, usize, [Option<ClockTarget>; 3])> = Vec::new();
    let mut seen: Vec<(Conditions, usize)> = Vec::new();
    for (i, r) in spec.rules.iter().enumerate() {
        let n = i + 1;
        let mut fail = |what: String| problems.push(format!("rule {n}: {what}"));
        let kind = r.kind.parse::<TicketKind>().map_err(|e| fail(e.to_string())).ok();
        let priority = match r.priority.as_deref().map(str::parse::<Priority>) {
            Some(Err(e)) => {
                fail(e.to_string());
                None
            }
            Some(Ok(p)) => Some(Some(p)),
            None => Some(None),
        };
        let project = match r.project.as_deref().map(ProjectId::new) {
            Some(Err(e)) => {
                fail(e.to_string());
                None
            }
            Some(Ok(p)) => {
                if !project_exists(&p) {
                    fail(format!("project {p} does not exist"));
                }
                Some(Some(p))
            }
            None => Some(None),
        };
        let category = match r.category.as_deref().map(str::parse::<Category>) {
            Some(Err(e)) => {
                fail(e.to_string());
                None
            }
            Some(Ok(c)) => Some(Some(c)),
            None => Some(None),
        };
        let mut targets = [None; 3];
        for (slot, (name, text)) in [
            ("first_response", &r.first_response),
            ("on_site", &r.on_site),
            ("resolution", &r.resolution),
        ]
        .into_iter()
        .enumerate()
        {
            if let Some(text) = text {
                match TargetSpec::parse(text).and_then(|t| t.resolve(calendar)) {
                    Ok(t) => targets[slot] = Some(t),
                    Err(e) => fail(format!("{name}: {e}")),
                }
            }
        }
        if let (Some(kind), Some(priority), Some(project), Some(category)) = (kind, priority, project, category) {
            let conditions = (kind, priority, project.clone(), category);
            if let Some((_, first)) = seen.iter().find(|(c, _)| *c == conditions) {
                problems.push(format!("rule {n} repeats the conditions of rule {first}"));
            }
            seen.push((conditions, n));
            if let Some(priority) = priority {
                ordered.push(((kind, project, category), priority, n, targets));
            }
        }
    }
    // Emergency ≤ urgent ≤ normal, clock by clock, in calendar minutes.
    let day = calendar.working_day_length().num_minutes().max(1) as f64;
    let nominal = |t: ClockTarget| match t {
        ClockTarget::Duration {
            minutes,
            basis: TimeBasis::WallClock,
        } => f64::from(minutes),
        ClockTarget::Duration {
            minutes,
            basis: TimeBasis::Business,
        } => f64::from(minutes) / day * 1440.0,
        ClockTarget::Deadline { .. } => 0.0,
    };
    let rank = |p: Priority| match p {
        Priority::Emergency => 0,
        Priority::Urgent => 1,
        Priority::Normal => 2,
    };
    for (a_key, a_priority, a_rule, a_targets) in &ordered {
        for (b_key, b_priority, b_rule, b_targets) in &ordered {
            if a_key != b_key || rank(*a_priority) >= rank(*b_priority) {
                continue;
            }
            for (slot, clock) in ClockKind::ALL.iter().enumerate() {
                if let (Some(a), Some(b)) = (a_targets[slot], b_targets[slot]) {
                    if nominal(a) > nominal(b) {
                        problems.push(format!(
                            "rule {a_rule} ({}) gives {} {a}, longer than rule {b_rule} ({}) with {b}: \
                             targets run emergency ≤ urgent ≤ normal",
                            a_priority.as_str(),
                            clock.as_str(),
                            b_priority.as_str()
                        ));
                    }
                }
            }
        }
    }
    if !problems.is_empty() {
        return Err(problems);
    }
    ServicePolicy::from_toml(text).map_err(|e| vec![e.to_string()])
}

/// How a target is measured, for callers that hold a [`ClockTarget`] and a
/// calendar.
pub(crate) fn measure(
    calendar: &BusinessCalendar,
    basis: TimeBasis,
    from: DateTime<Utc>,
    to: DateTime<Utc>,
) -> TimeDelta {
    match basis {
        TimeBasis::WallClock => (to - from).max(TimeDelta::zero()),
        TimeBasis::Business => calendar.business_time_between(from, to),
    }
}

/// The instant `amount` after `from` on `basis`.
pub(crate) fn advance(
    calendar: &BusinessCalendar,
    basis: TimeBasis,
    from: DateTime<Utc>,
    amount: TimeDelta,
) -> DateTime<Utc> {
    match basis {
        TimeBasis::WallClock => from.checked_add_signed(amount).unwrap_or(DateTime::<Utc>::MAX_UTC),
        TimeBasis::Business => calendar.add_business_time(from, amount),
    }
}
