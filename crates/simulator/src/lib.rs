//! A realistic, reproducible after-sales log, for benchmarks, load tests
//! and the demo mode.
//!
//! The generator plays the developer's whole after-sales operation through
//! the real deciders ([`ProjectDecider`], [`UnitDecider`], [`OwnerDecider`],
//! [`TicketDecider`], [`IncidentDecider`]), so every event it produces is one
//! the domain accepts; a refusal is a bug in the generator and comes out as
//! an error item, never a panic. The same [`GeneratorConfig`] (seed
//! included) gives the same records, byte for byte and with the same event
//! ids, so writing a log twice into the same store is idempotent.
//!
//! # What it produces
//!
//! [`Generator`] is an iterator of [`GeneratedRecord`]s, one record per
//! stream, each meant for one `append`. Memory stays bounded: besides the
//! archive's compact tables (a few bytes per unit) it holds one day of
//! ticket slots and the record it is building, never the log.
//!
//! 1. **The archive (客户档案)** first: each project (registered with its
//!    buildings, 6 to 33 floors, 2 to 4 units a floor), then its units
//!    (registered, and delivered (交付) when the owner came for the keys) and
//!    their owners (registered at contract signing, linked to the unit at
//!    stage C, moved to E at delivery and to F a month later). Projects
//!    start delivering spread over the four years before the period and
//!    the period itself, in one to three phases half a year apart; most
//!    owners collect their keys in the first week, a few months later, a
//!    few not by the end. About 3% of owners bought two neighbouring units.
//! 2. **The tickets (工单)**, in received-time order, one record per ticket
//!    carrying its whole history, then, after the ticket that completes
//!    it, each incident's record. Every action is decided at the time it
//!    happened (`now` = `occurred_at`), so nothing is in the future, and
//!    times only move forward within a record. A history stops at the end
//!    of the period: tickets received in the last weeks are still open.
//!
//! # The model
//!
//! - **Volume per day** follows the delivered units (a unit reports six
//!   times as much in its first year and three times as much in its second
//!   as later, when owners turn to the property manager; the reporting unit
//!   is drawn with the same weights), weekends (45%) and holidays
//!   (30%) of the `cn-mainland` calendar, and the seasons: the plum-rain
//!   and typhoon months June–September bring 30% more, the Spring Festival
//!   months 10% less. Received times are working-hours biased in
//!   Asia/Shanghai (peaks at 09:00–12:00 and 14:00–17:00, a thin evening
//!   and night tail).
//! - **Kinds**: ≈ 70% repair (报修), 12% complaint (投诉), 10% inquiry (咨询),
//!   8% handover defect (交付查验问题). Handover defects are recorded on the
//!   day of a unit's delivery walk-through or at its pre-inspection one to
//!   three weeks before, with a promised rectification date 5–30 days out.
//! - **Priorities**: ≈ 5% emergency (mostly leaks, power and elevators),
//!   25% urgent, 70% normal.
//! - **Channels**: the 400 call center and hotline, WeChat, the app, the
//!   service desk, web form, email, forum and revisit calls; owners
//!   reporting through the app or WeChat act for themselves.
//! - **Categories and trades**: engineering defects dominate; leaks (渗漏)
//!   and cracks (开裂) are the most common trades, then doors and windows,
//!   water and electricity, hollow tiles; homes older than a year report
//!   mostly leaks, cracks, pipes and heating. About 12% of repairs are in
//!   common areas. About 12% of reporters are tenants or relatives, not
//!   the registered owner.
//! - **Repairs**: acknowledged, dispatched (70% to a contractor of the
//!   project's panel, 30% to an engineer), scheduled, visited, diagnosed
//!   by an engineer with the real warranty rules and the delivery date the
//!   archive knows at that moment (none yet for a defect found at
//!   pre-inspection). In warranty the developer is mostly responsible;
//!   owner misuse or an expired warranty makes the repair chargeable (about
//!   a quarter of diagnoses: blocked pipes, lamps and the one-year items
//!   run out quickly), and the owner
//!   confirms the costed plan (`PlanConfirmed`) or declines it
//!   (`PlanDeclined`, then closed). About a third need a second visit.
//!   About 10% of all tickets are put on hold (owner unreachable, waiting
//!   for material, waiting for the owner's decision) and resumed. About 8%
//!   of repairs are rejected once and reopened, a quarter of those twice.
//!   Ratings at acceptance are mostly 4–5, some 3, a few 1–2, lower after
//!   rework. Accepted repairs are closed; about 40% get a revisit call (回访),
//!   and a problem that persists reopens the closed ticket. Response and
//!   visit times mostly meet the default policy, some do not.
//! - **Complaints**: acknowledged, investigated, a resolution proposed;
//!   about a quarter of owners disagree and the complaint is investigated
//!   and proposed again; some are escalated to city or group level; half
//!   get a satisfaction revisit before closing.
//! - **Inquiries**: 60% answered on the spot, the rest after checking.
//! - **Also**: about 2% withdrawn, 1.5% merged into a recent duplicate,
//!   a few percent with priority changes and internal remarks, and every
//!   1,500 tickets or so (at least one per log) an incident (批量问题, e.g. a
//!   building's facade leaking after a storm) that gathers 4 to 12 tickets
//!   of one building within five days: its repairs are linked to it
//!   (`LinkedToIncident`), its complaints escalated into it.
//! - **Actors**: call-center agents, one customer-service manager per
//!   project, engineers, contractors' workers (acting only on tickets
//!   dispatched to their company) and owners.
//!
//! Identifiers: projects `P01`, buildings `P01-03`, units `P01-03-1502`,
//! owners `O000001`, tickets `T-20240312-0007` (received date and number of
//! the day), incidents `INC-0001`.
//!
//! ```
//! use simulator::{Generator, GeneratorConfig};
//! let config = GeneratorConfig { tickets: 20, ..GeneratorConfig::small() };
//! let records = Generator::new(config)?.collect::<Result<Vec<_>, _>>()?;
//! assert!(records.iter().any(|r| r.stream.as_str().starts_with("ticket-")));
//! # Ok::<(), simulator::GeneratorError>(())
//! ```
//!
//! [`ProjectDecider`]: domain::archive::ProjectDecider
//! [`UnitDecider`]: domain::archive::UnitDecider
//! [`OwnerDecider`]: domain::archive::OwnerDecider
//! [`TicketDecider`]: domain::ticket::TicketDecider
//! [`IncidentDecider`]: domain::incident::IncidentDecider

use chrono::{Datelike, NaiveDate};
use domain::error::DomainError;
use domain::ticket::TicketKind;
use eventlog::codec::CodecError;
use eventlog::{NewEvent, StoreError, StreamId};

mod archive;
mod complaint;
mod generator;
mod handover;
mod incident;
mod inquiry;
mod plan;
mod repair;
mod rng;
mod sim;
mod tables;
mod time;
mod world;
mod write;

pub use generator::Generator;
pub use write::{write_log, write_log_with};

/// How many appends [`write_log`] keeps in flight: each durable append
/// waits for an fsync, and concurrent appends share one (group commit).
pub const CONCURRENT_APPENDS: usize = 32;

/// What to generate. Everything follows from these values: the same
/// configuration gives the same records.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct GeneratorConfig {
    /// Seed of every random choice.
    pub seed: u64,
    /// Number of projects (项目).
    pub projects: u32,
    /// Number of units (房号) over all projects; at least one per project.
    pub units: u32,
    /// Number of tickets received during the period.
    pub tickets: u32,
    /// First day of the period (local date, Asia/Shanghai).
    pub start: NaiveDate,
    /// Length of the period in days.
    pub days: u32,
    /// Number of contractors (维修单位).
    pub contractors: u32,
    /// Number of engineers (工程部).
    pub engineers: u32,
}

impl Default for GeneratorConfig {
    /// Twenty projects, 50,000 units, 120,000 tickets over three years from
    /// 1 January 2024 (the years the bundled calendar has holidays for),
    /// forty contractors, sixty engineers.
    fn default() -> Self {
        Self {
            seed: 1,
            projects: 20,
            units: 50_000,
            tickets: 120_000,
            start: NaiveDate::from_ymd_opt(2024, 1, 1).unwrap_or_default(),
            days: 3 * 365,
            contractors: 40,
            engineers: 60,
        }
    }
}

impl GeneratorConfig {
    /// A log small enough for tests: 2 projects, 200 units, 300 tickets over
    /// one year, 6 contractors and 6 engineers.
    pub fn small() -> Self {
        Self {
            projects: 2,
            units: 200,
            tickets: 300,
            days: 365,
            contractors: 6,
            engineers: 6,
            ..Self::default()
        }
    }

    pub(crate) fn validate(&self) -> Result<(), GeneratorError> {
        let problem = if self.projects == 0 || self.projects > 999 {
            Some("projects must be between 1 and 999".to_string())
        } else if self.units < self.projects || self.units > 10_000_000 {
            Some(format!(
                "units must be between the number of projects ({}) and 10,000,000",
                self.projects
            ))
        } else if self.days == 0 || self.days > 20 * 366 {
            Some("days must be between 1 and 7320".to_string())
        } else if !(1900..=9000).contains(&self.start.year()) {
            Some("the start must be between the years 1900 and 9000".to_string())
        } else if self.contractors == 0 || self.contractors > 9999 || self.engineers == 0 || self.engineers > 9999 {
            Some("contractors and engineers must be between 1 and 9999".to_string())
        } else {
            None
        };
        match problem {
            Some(reason) => Err(GeneratorError::InvalidConfig(reason)),
            None => Ok(()),
        }
    }
}

/// The events of one stream, for one `append`.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct GeneratedRecord {
    /// The stream (`project-P01`, `unit-…`, `owner-…`, `ticket-…`,
    /// `incident-…`).
    pub stream: StreamId,
    /// Its whole history, in order, with deterministic ids.
    pub events: Vec<NewEvent>,
}

/// Tickets by kind.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct TicketCounts {
    /// Repairs (报修).
    pub repair: u64,
    /// Complaints (投诉).
    pub complaint: u64,
    /// Inquiries (咨询).
    pub inquiry: u64,
    /// Handover defects (交付查验问题).
    pub handover_defect: u64,
}

impl TicketCounts {
    /// All tickets.
    pub fn total(&self) -> u64 {
        self.repair + self.complaint + self.inquiry + self.handover_defect
    }

    /// The tickets of one kind.
    pub fn of(&self, kind: TicketKind) -> u64 {
        match kind {
            TicketKind::Repair => self.repair,
            TicketKind::Complaint => self.complaint,
            TicketKind::Inquiry => self.inquiry,
            TicketKind::HandoverDefect => self.handover_defect,
        }
    }

    /// Counts one ticket of `kind`.
    pub fn add(&mut self, kind: TicketKind) {
        match kind {
            TicketKind::Repair => self.repair += 1,
            TicketKind::Complaint => self.complaint += 1,
            TicketKind::Inquiry => self.inquiry += 1,
            TicketKind::HandoverDefect => self.handover_defect += 1,
        }
    }
}

/// What was generated (and, from [`write_log`], appended).
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct GeneratedSummary {
    /// Records (streams), one append each.
    pub records: u64,
    /// Events over all records.
    pub events: u64,
    /// Appends the log recognised as already written (a re-run against the
    /// same log): nothing was written for them. Always 0 from
    /// [`Generator::summary`].
    pub deduplicated: u64,
    /// Contractor and engineer records (the service directory).
    pub directory: u64,
    /// Project records.
    pub projects: u64,
    /// Unit records.
    pub units: u64,
    /// Owner records.
    pub owners: u64,
    /// Incident records.
    pub incidents: u64,
    /// Ticket records by kind.
    pub tickets: TicketCounts,
}

/// Why generating or writing the log failed.
#[derive(Debug, thiserror::Error)]
pub enum GeneratorError {
    /// The configuration cannot describe a log (no projects, fewer units
    /// than projects, an empty period, …).
    #[error("invalid generator configuration: {0}")]
    InvalidConfig(String),
    /// A decider refused a command the generator issued. This is a bug in
    /// the generator (or a rule changed under it), never the caller's fault.
    #[error("generator bug: {stream}: the domain refused to {action}: {error}")]
    Refused {
        /// The stream being generated.
        stream: String,
        /// What was attempted.
        action: &'static str,
        /// The refusal.
        error: Box<DomainError>,
    },
    /// A generated identifier, name or phone number was not valid: a bug in
    /// the generator.
    #[error("generator bug: generated {what} is invalid: {error}")]
    InvalidValue {
        /// What was generated.
        what: &'static str,
        /// Why it is invalid.
        error: Box<DomainError>,
    },
    /// A stream name was refused by the log: a bug in the generator.
    #[error("generator bug: invalid stream name: {0}")]
    Stream(StoreError),
    /// Personal fields could not be sealed (the key folder failed).
    #[error("cannot seal the personal data of {stream}: {reason}")]
    Seal {
        /// The stream.
        stream: String,
        /// Why.
        reason: String,
    },
    /// An event could not be encoded.
    #[error("cannot encode an event of {stream}: {error}")]
    Encode {
        /// The stream.
        stream: String,
        /// Why.
        error: CodecError,
    },
    /// The log refused or failed an append.
    #[error("cannot append to {stream}: {error}")]
    Append {
        /// The stream.
        stream: String,
        /// Why.
        error: StoreError,
    },
}
