//! Given / when / then for deciders, and fixtures shared by the crate's
//! tests, examples and the crates above it.
//!
//! ```
//! use domain::testing::{given, fixtures::*};
//! use domain::ticket::{TicketCommand, TicketDecider, TicketEvent};
//! let refs = refs();
//! given::<TicketDecider>(repair_received_and_acknowledged())
//!     .when(TicketCommand::Comment { text: "called again".into(), internal: true }, &agent_context(&refs))
//!     .then_names(&["Commented"]);
//! ```
#![allow(clippy::expect_used, clippy::unwrap_used)]

use crate::decider::{Context, Decider};
use crate::error::DomainError;

/// The environment variable that moves [`test_today`]: `YYYY-MM-DD`. The
/// CI date sweep (`.ci/date-sweep`) sets it to run the date-sensitive
/// suites at other points of the year.
pub const TEST_TODAY_VAR: &str = "AFTERSALES_TEST_TODAY";

/// The date every test builds its data from in place of the machine's
/// "today": 2026-03-16, a Monday, or the date in [`TEST_TODAY_VAR`] when it
/// is set. Tests never take their data from the machine's clock, so the
/// suite gives the same answer on every calendar day; the sweep moves this
/// date to find an assertion that holds for one dataset only.
///
/// # Panics
/// When the variable is set but is not a date: a sweep that silently ran
/// on the default would prove nothing.
pub fn test_today() -> chrono::NaiveDate {
    match std::env::var(TEST_TODAY_VAR) {
        Ok(text) => chrono::NaiveDate::parse_from_str(text.trim(), "%Y-%m-%d")
            .unwrap_or_else(|e| panic!("{TEST_TODAY_VAR}={text:?} is not a YYYY-MM-DD date: {e}")),
        Err(_) => chrono::NaiveDate::from_ymd_opt(2026, 3, 16).expect("a valid date"),
    }
}

/// The instant a test's server clock starts at: 10:00 in Asia/Shanghai
/// (02:00 UTC) on [`test_today`], during working hours on a working day
/// unless the sweep chose a holiday.
pub fn test_now() -> chrono::DateTime<chrono::Utc> {
    test_today().and_hms_opt(2, 0, 0).expect("a valid time").and_utc()
}

/// Starts a scenario from a history.
pub fn given<D: Decider>(history: impl IntoIterator<Item = D::Event>) -> Scenario<D> {
    Scenario {
        history: history.into_iter().collect(),
    }
}

/// A history to decide on.
pub struct Scenario<D: Decider> {
    history: Vec<D::Event>,
}

impl<D: Decider> Scenario<D> {
    /// Decides `command` on the folded history.
    pub fn when(self, command: D::Command, context: &Context<D::Reference<'_>>) -> Outcome<D> {
        let state = D::fold(&self.history);
        Outcome {
            result: D::decide(&state, command, context),
            history: self.history,
        }
    }
}

/// What a decision produced.
pub struct Outcome<D: Decider> {
    history: Vec<D::Event>,
    result: Result<Vec<D::Event>, DomainError>,
}

impl<D: Decider> Outcome<D> {
    /// Asserts exactly these events.
    #[track_caller]
    pub fn then(self, expected: Vec<D::Event>) -> Vec<D::Event> {
        match self.result {
            Ok(events) => {
                assert_eq!(events, expected, "unexpected events");
                self.history.into_iter().chain(events).collect()
            }
            Err(e) => panic!("expected events, got the refusal: {e}"),
        }
    }

    /// Asserts events of these stored names, and returns the history with
    /// them appended, for the next step.
    #[track_caller]
    pub fn then_names(self, expected: &[&str]) -> Vec<D::Event>
    where
        D::Event: Named,
    {
        match self.result {
            Ok(events) => {
                let names: Vec<&str> = events.iter().map(Named::name).collect();
                assert_eq!(names, expected, "unexpected events: {events:#?}");
                self.history.into_iter().chain(events).collect()
            }
            Err(e) => panic!("expected {expected:?}, got the refusal: {e}"),
        }
    }

    /// Asserts a refusal equal to `expected`.
    #[track_caller]
    pub fn then_error(self, expected: DomainError) {
        match self.result {
            Ok(events) => panic!("expected the refusal {expected}, got events {events:#?}"),
            Err(e) => assert_eq!(e, expected),
        }
    }

    /// Asserts a refusal whose message contains `fragment`, and returns it.
    #[track_caller]
    pub fn then_error_containing(self, fragment: &str) -> DomainError {
        match self.result {
            Ok(events) => panic!("expected a refusal containing {fragment:?}, got events {events:#?}"),
            Err(e) => {
                let message = e.to_string();
                assert!(
                    message.contains(fragment),
                    "refusal {message:?} does not contain {fragment:?}"
                );
                e
            }
        }
    }

    /// The raw result.
    pub fn result(self) -> Result<Vec<D::Event>, DomainError> {
        self.result
    }
}

/// Events with a stored name.
pub trait Named {
    /// The stored event name.
    fn name(&self) -> &'static str;
}

impl Named for crate::decider::Stamped<crate::ticket::TicketEvent> {
    fn name(&self) -> &'static str {
        self.event.name()
    }
}
impl Named for crate::decider::Stamped<crate::archive::ProjectEvent> {
    fn name(&self) -> &'static str {
        self.event.name()
    }
}
impl Named for crate::decider::Stamped<crate::archive::UnitEvent> {
    fn name(&self) -> &'static str {
        self.event.name()
    }
}
impl Named for crate::decider::Stamped<crate::archive::OwnerEvent> {
    fn name(&self) -> &'static str {
        self.event.name()
    }
}
impl Named for crate::decider::Stamped<crate::incident::IncidentEvent> {
    fn name(&self) -> &'static str {
        self.event.name()
    }
}
impl Named for crate::decider::Stamped<crate::reference::ReferenceEvent> {
    fn name(&self) -> &'static str {
        self.event.name()
    }
}

/// A 2027 arrangement made up for tests (not the State Council's notice,
/// which tests must not depend on): New Year's Day 1–3 January (Friday to
/// Sunday), the Spring Festival 6–13 February with Sunday 14 February
/// worked, Labour Day 1–5 May with Sunday 25 April worked, National Day
/// 1–7 October with Sunday 26 September and Saturday 9 October worked.
pub const TEST_2027_HOLIDAYS: &str = r#"
# ---- 2027 (made up for tests) ----
[[holidays]]
name = "元旦 New Year's Day"
from = "2027-01-01"
to = "2027-01-03"

[[holidays]]
name = "春节 Spring Festival"
from = "2027-02-06"
to = "2027-02-13"
working_days = ["2027-02-14"]

[[holidays]]
name = "劳动节 Labour Day"
from = "2027-05-01"
to = "2027-05-05"
working_days = ["2027-04-25"]

[[holidays]]
name = "国庆节 National Day"
from = "2027-10-01"
to = "2027-10-07"
working_days = ["2027-09-26", "2027-10-09"]
"#;

/// The bundled mainland calendar as version `version`, with 2027 added
/// from [`TEST_2027_HOLIDAYS`]: the file an operator would publish once
/// the year's notice is out.
pub fn calendar_with_2027(version: &str) -> String {
    let bundled = crate::calendar::CN_MAINLAND_TOML;
    let old_version = crate::calendar::BusinessCalendar::cn_mainland().reference().version;
    let text = bundled
        .replace(
            &format!("version = \"{old_version}\""),
            &format!("version = \"{version}\""),
        )
        .replace("years = [2024, 2025, 2026]", "years = [2024, 2025, 2026, 2027]");
    format!("{text}{TEST_2027_HOLIDAYS}")
}

/// Ready-made reference data, actors, commands and histories.
pub mod fixtures {
    use std::sync::Arc;

    use chrono::{DateTime, NaiveDate, NaiveDateTime, TimeZone, Utc};
    use chrono_tz::Asia::Shanghai;

    use crate::actor::{Actor, Role};
    use crate::calendar::BusinessCalendar;
    use crate::decider::{Context, Decider, Stamped};
    use crate::ids::*;
    use crate::personal::{PersonName, Personal, PhoneNumber};
    use crate::policy::ServicePolicy;
    use crate::ticket::*;
    use crate::warranty::WarrantyRules;

    /// A Beijing-time instant: `bj("2025-09-30 17:00")`.
    pub fn bj(local: &str) -> DateTime<Utc> {
        let naive = NaiveDateTime::parse_from_str(local, "%Y-%m-%d %H:%M")
            .or_else(|_| NaiveDateTime::parse_from_str(local, "%Y-%m-%d %H:%M:%S"))
            .expect("time as YYYY-MM-DD HH:MM");
        Shanghai
            .from_local_datetime(&naive)
            .single()
            .expect("Shanghai has no DST")
            .with_timezone(&Utc)
    }

    /// A date.
    pub fn date(text: &str) -> NaiveDate {
        text.parse().expect("date as YYYY-MM-DD")
    }

    /// Owned reference data for ticket decisions.
    #[derive(Debug, Clone)]
    pub struct Refs {
        /// Policy.
        pub policy: Arc<ServicePolicy>,
        /// Calendar.
        pub calendar: Arc<BusinessCalendar>,
        /// Warranty rules.
        pub warranty: Arc<WarrantyRules>,
        /// Delivery date of the unit.
        pub delivered_on: Option<NaiveDate>,
    }

    impl Refs {
        /// The borrowed form a context carries.
        pub fn reference(&self) -> TicketReference<'_> {
            TicketReference {
                policy: &self.policy,
                calendar: &self.calendar,
                warranty: &self.warranty,
                delivered_on: self.delivered_on,
            }
        }
    }

    /// Default policy, mainland calendar, default warranty, unit delivered
    /// on 2024-06-30.
    pub fn refs() -> Refs {
        Refs {
            policy: ServicePolicy::default_policy(),
            calendar: BusinessCalendar::cn_mainland(),
            warranty: WarrantyRules::default_rules(),
            delivered_on: Some(date("2024-06-30")),
        }
    }

    /// A staff actor.
    pub fn staff(role: Role) -> Actor {
        Actor::staff(UserId::new(format!("{}-1", role.as_str())).unwrap(), role)
    }

    /// A worker of contractor `company`.
    pub fn contractor(company: &str) -> Actor {
        Actor::contractor(UserId::new("worker-1").unwrap(), ContractorId::new(company).unwrap())
    }

    /// The reporting owner O-1 acting for themselves.
    pub fn owner_actor() -> Actor {
        Actor::owner(UserId::new("owner-user-1").unwrap(), OwnerId::new("O-1").unwrap())
    }

    /// A context for `actor` acting at `at` (which is also `now`).
    pub fn context_at<'r>(refs: &'r Refs, actor: Actor, at: DateTime<Utc>) -> Context<TicketReference<'r>> {
        Context {
            now: at,
            occurred_at: None,
            actor,
            channel: Channel::BackOffice,
            reference: refs.reference(),
        }
    }

    /// An agent acting at 2025-09-30 16:00 Beijing time.
    pub fn agent_context(refs: &Refs) -> Context<TicketReference<'_>> {
        context_at(refs, staff(Role::Agent), bj("2025-09-30 16:00"))
    }

    /// Ratings all `n`.
    pub fn ratings(n: u8) -> Ratings {
        Ratings {
            overall: n,
            product_quality: Some(n),
            service_process: Some(n),
            staff_attitude: Some(n),
        }
    }

    /// Owner O-1 reporting.
    pub fn reporter() -> Reporter {
        Reporter {
            owner: Some(OwnerId::new("O-1").unwrap()),
            name: Personal::new(PersonName::new("王", "小明").unwrap()),
            phone: Personal::new(PhoneNumber::new("13812345678").unwrap()),
        }
    }

    /// Unit HZ-1-3-1502 of project HZ-1.
    pub fn unit_location() -> Location {
        Location::Unit {
            project: ProjectId::new("HZ-1").unwrap(),
            building: BuildingId::new("HZ-1-3").unwrap(),
            unit: UnitId::new("HZ-1-3-1502").unwrap(),
        }
    }

    /// A report of `kind` with `priority`, ticket `T-1`, leak in the unit.
    pub fn receive(kind: TicketKind, priority: Priority) -> TicketCommand {
        TicketCommand::Receive(Box::new(Receive {
            ticket: TicketId::new("T-1").unwrap(),
            kind,
            reporter: reporter(),
            location: unit_location(),
            category: if kind == TicketKind::Complaint {
                Category::Service
            } else {
                Category::Engineering
            },
            trade: Trade::Leak,
            description: "卫生间天花板渗水 water dripping from the bathroom ceiling".into(),
            attachments: vec!["photo/T-1/1.jpg".into()],
            priority,
            handover: if kind == TicketKind::HandoverDefect {
                Some(HandoverRecord {
                    inspection: InspectionKind::DeliveryWalkthrough,
                    promised_by: date("2025-10-15"),
                    signed_record: "INSP-2025-0912".into(),
                })
            } else {
                None
            },
        }))
    }

    /// Runs `steps` (actor, Beijing time, command) from an empty history
    /// and returns the events; panics on a refusal.
    pub fn history(refs: &Refs, steps: Vec<(Actor, &str, TicketCommand)>) -> Vec<Stamped<TicketEvent>> {
        continue_history(refs, &[], steps)
    }

    /// Runs `steps` (actor, Beijing time, command) on top of `history` and
    /// returns only the new events; panics on a refusal.
    pub fn continue_history(
        refs: &Refs,
        history: &[Stamped<TicketEvent>],
        steps: Vec<(Actor, &str, TicketCommand)>,
    ) -> Vec<Stamped<TicketEvent>> {
        let mut all = history.to_vec();
        let mut new = Vec::new();
        for (actor, at, command) in steps {
            let state = TicketDecider::fold(&all);
            let ctx = context_at(refs, actor, bj(at));
            match TicketDecider::decide(&state, command, &ctx) {
                Ok(events) => {
                    all.extend(events.clone());
                    new.extend(events);
                }
                Err(e) => panic!("step at {at} refused: {e}"),
            }
        }
        new
    }

    /// A normal repair received 2025-09-30 10:00 and acknowledged 10:30.
    pub fn repair_received_and_acknowledged() -> Vec<Stamped<TicketEvent>> {
        let refs = refs();
        history(
            &refs,
            vec![
                (
                    staff(Role::Agent),
                    "2025-09-30 10:00",
                    receive(TicketKind::Repair, Priority::Normal),
                ),
                (
                    staff(Role::Agent),
                    "2025-09-30 10:30",
                    TicketCommand::Acknowledge {
                        promised_at: None,
                        note: "called back".into(),
                    },
                ),
            ],
        )
    }
}
