//! The command side behind the API: load a record's events from the log,
//! fold them, decide with the domain, append with optimistic concurrency,
//! and wait until the tickets view shows the change (read-your-writes).
//!
//! By concern: [`Service`] and who acts ([`Acting`]) here; `execute`, the
//! one path every command takes (authorize, retry lookup, decide, seal,
//! append); `idempotency`, keyed requests; `history`, reading a record's
//! stream; `tickets`, `archive` (projects, units, owners, incidents, the
//! service directory) and `erasure`, the commands; `checks`, the records a
//! ticket command names; `settle`, waiting for the views; `reports`;
//! `reference`, reference data.

use std::path::Path;
use std::sync::Arc;
use std::time::Duration;

use chrono::{DateTime, Utc};
use domain::actor::Actor;
use domain::calendar::{BusinessCalendar, CalendarRegistry};
use domain::decider::Context;
use domain::ids::ProjectId;
use domain::reference::ReferenceSet;
use domain::ticket::Channel;
use eventlog::{EventStore, Position, SledEventStore};
use projections::runner::ViewHandle;
use projections::store::ViewDb;
use projections::tickets::{RecordCache, TicketRecord};

use crate::error::AppError;

mod archive;
mod checks;
mod erasure;
mod execute;
mod folds;
mod history;
mod idempotency;
mod intake;
mod reference;
mod reports;
mod settle;
mod tickets;

use history::{
    contractor_event, engineer_event, incident_event, owner_event, project_event, stream, ticket_event, unit_event,
};
pub use reference::{InForce, PublishOutcome, SettledTicket};

/// Who acts, and how the caller wants the command handled.
#[derive(Debug, Clone)]
pub struct Acting {
    /// The acting principal.
    pub actor: Actor,
    /// The channel the action came through.
    pub channel: Channel,
    /// When it really happened, if earlier than now.
    pub occurred_at: Option<DateTime<Utc>>,
    /// The stream version the caller last saw, for optimistic concurrency.
    pub expected_version: Option<u64>,
    /// A retried mutation with the same key returns the first result and
    /// appends nothing. A key belongs to the principal that sent it.
    pub idempotency_key: Option<String>,
    /// The key names the request whoever sends it (an import's key, made
    /// from the file's digest and row); never set for a client's key.
    pub shared_key: bool,
    /// The projects a manager or engineer is scoped to (empty: all).
    pub projects: Vec<ProjectId>,
}

impl Acting {
    /// `actor` acting through the back office now, on no particular
    /// version, without an idempotency key, unscoped: how the command-line
    /// jobs act.
    pub fn by(actor: Actor) -> Self {
        Self {
            actor,
            channel: Channel::BackOffice,
            occurred_at: None,
            expected_version: None,
            idempotency_key: None,
            shared_key: false,
            projects: Vec::new(),
        }
    }

    /// Refuses a record of a project outside a scoped manager's or
    /// engineer's projects.
    fn require_project(&self, project: &ProjectId) -> Result<(), AppError> {
        let scoped = matches!(
            self.actor.role,
            domain::actor::Role::Manager | domain::actor::Role::Engineer
        ) && !self.projects.is_empty();
        if scoped && !self.projects.contains(project) {
            return Err(AppError::Forbidden(format!(
                "{} works on {}, not on project {project}",
                self.actor,
                self.projects
                    .iter()
                    .map(|p| p.to_string())
                    .collect::<Vec<_>>()
                    .join(", ")
            )));
        }
        Ok(())
    }
}

/// A ticket after a command.
#[derive(Debug, Clone)]
pub struct Outcome {
    /// The ticket as the view now shows it.
    pub ticket: Arc<TicketRecord>,
    /// Log position of the change.
    pub position: Position,
}

/// What an erasure did.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Erasure {
    /// Whether the erasure was recorded by this run (false: an earlier
    /// run recorded it and this one completed it).
    pub recorded_now: bool,
    /// Keys destroyed by this run.
    pub keys_destroyed: usize,
}

/// The server's state: the log, the views and the reference data.
pub struct Service {
    store: Arc<SledEventStore>,
    views: Vec<ViewHandle>,
    /// The calendar whose time zone reports are cut in.
    calendar: Arc<BusinessCalendar>,
    calendars: Arc<CalendarRegistry>,
    /// Every published calendar, policy and warranty version, replaced
    /// whole when one is published.
    references: std::sync::RwLock<Arc<ReferenceSet>>,
    /// Held shared by ticket commands and exclusively by a publication of
    /// reference data, which settles open tickets.
    publication: tokio::sync::RwLock<()>,
    /// Told how long each append took (the server's metrics).
    append_observers: std::sync::RwLock<Vec<AppendObserver>>,
    ticket_cache: RecordCache,
    /// Projects and units folded once, brought up to date on each read.
    project_folds: folds::Folds<domain::archive::ProjectState>,
    unit_folds: folds::Folds<domain::archive::UnitState>,
    /// View snapshots found damaged at open, set aside and rebuilt.
    set_aside: Vec<projections::store::SetAside>,
    keyring: Arc<keyring::Keyring>,
    clock: crate::clock::Clock,
}

/// The number of a record created by a keyed request when the caller
/// names none: `<prefix>-` and 12 hex digits derived from the key and the
/// caller's role and user, so that a retry names the same record and
/// another caller's identical key a record of its own; without a key, a
/// random one.
pub fn new_record_number(prefix: &str, key: Option<&str>, actor: &Actor) -> String {
    let uuid = match key {
        Some(key) => uuid::Uuid::new_v5(
            &uuid::Uuid::NAMESPACE_OID,
            format!("{key}\u{0}{}\u{0}{}", actor.role.as_str(), actor.user).as_bytes(),
        ),
        None => uuid::Uuid::new_v4(),
    };
    format!("{prefix}-{}", &uuid.simple().to_string()[..12])
}

/// Something told the duration of every append.
type AppendObserver = Box<dyn Fn(Duration) + Send + Sync>;

/// Decoded ticket records kept for single-ticket reads (a few kilobytes
/// each, so a few tens of megabytes at most).
const TICKET_CACHE_RECORDS: usize = 8192;

/// How long a mutation waits for the tickets view to show its change.
const READ_YOUR_WRITES: Duration = Duration::from_secs(10);

/// The folder of a data folder that holds the views' snapshots.
pub const VIEW_FOLDER: &str = "viewstate";

/// The namespace of idempotency-derived ids.
const IDEMPOTENCY_NAMESPACE: uuid::Uuid = uuid::Uuid::from_u128(0x6166_7465_7273_616c_6573_2d69_646d_706f);

impl Service {
    /// Opens the log in `data/log`, its key folder `data/keys` (refused if
    /// missing or replaced: see [`crate::keyfolder`]) and the views in
    /// `data/viewstate` ([`VIEW_FOLDER`]), and starts every view. Must run inside a tokio
    /// runtime.
    pub fn open(data: &Path) -> Result<Self, AppError> {
        // The key folder is checked before anything else is opened.
        let (store, keyring) = crate::keyfolder::open(data)?;
        let keyring = Arc::new(keyring);
        let recovery = store.recovery();
        if recovery.discarded_bytes > 0 {
            // The one loss an open goes on with: said in the log output.
            tracing::warn!(
                bytes = recovery.discarded_bytes,
                "the write-ahead file ended in bytes that do not form a whole frame: a write cut short by a crash \
                 (never acknowledged) or damage to its last frame; they were dropped"
            );
        }
        let views_db = ViewDb::open(&data.join(VIEW_FOLDER)).map_err(AppError::internal)?;
        if data.join("views").join("conf").exists() {
            // Views of builds before the in-memory store, in sled.
            tracing::warn!(
                folder = %data.join("views").display(),
                "{} holds views kept by an earlier build; they are no longer read (the views are built again from \
                 the log into {}): delete the folder to free its space",
                data.join("views").display(),
                data.join(VIEW_FOLDER).display()
            );
        }
        let set_aside = views_db.set_aside().to_vec();
        let calendars = Arc::new(CalendarRegistry::default());
        // Every published version, before any view evaluates a clock
        // recorded against one of them.
        let references = reference::load(&store, calendars.clone())?;
        let dyn_store: Arc<dyn EventStore> = store.clone();
        let views = projections::runner::start_all(dyn_store, views_db, projections::all_views_with(calendars.clone()))
            .map_err(AppError::internal)?;
        Ok(Self {
            store,
            views,
            calendar: BusinessCalendar::cn_mainland(),
            calendars,
            references: std::sync::RwLock::new(Arc::new(references)),
            publication: tokio::sync::RwLock::new(()),
            append_observers: std::sync::RwLock::new(Vec::new()),
            ticket_cache: RecordCache::new(TICKET_CACHE_RECORDS),
            project_folds: folds::Folds::new(),
            unit_folds: folds::Folds::new(),
            set_aside,
            keyring,
            clock: crate::clock::Clock::system(),
        })
    }

    /// The same service reading "now" from `clock` (tests start it at an
    /// instant they state).
    pub fn with_clock(mut self, clock: crate::clock::Clock) -> Self {
        self.clock = clock;
        self
    }

    /// Now, by the service's clock: when commands happen and the instant
    /// clocks and alerts are read at.
    pub fn now(&self) -> DateTime<Utc> {
        self.clock.now()
    }

    /// The keys that seal personal data (`data/keys`).
    pub fn keyring(&self) -> &Arc<keyring::Keyring> {
        &self.keyring
    }

    /// Has `observer` told the time from each command's append call to the
    /// log's acknowledgement (durable), e.g. by the server's metrics.
    pub fn observe_appends(&self, observer: impl Fn(Duration) + Send + Sync + 'static) {
        if let Ok(mut observers) = self.append_observers.write() {
            observers.push(Box::new(observer));
        }
    }

    /// Tells the observers an append took `took`.
    fn appended(&self, took: Duration) {
        if let Ok(observers) = self.append_observers.read() {
            for observer in observers.iter() {
                observer(took);
            }
        }
    }

    /// The log.
    pub fn store(&self) -> &Arc<SledEventStore> {
        &self.store
    }

    /// The log's last position (`None`: empty).
    pub fn head(&self) -> Option<Position> {
        self.store.head()
    }

    /// The view snapshots found damaged when the service opened: each set
    /// aside (renamed `.damaged`) and its view built again from the log.
    pub fn set_aside_snapshots(&self) -> &[projections::store::SetAside] {
        &self.set_aside
    }

    /// Every running view.
    pub fn views(&self) -> &[ViewHandle] {
        &self.views
    }

    /// The calendars clocks are evaluated with.
    pub fn calendars(&self) -> &CalendarRegistry {
        &self.calendars
    }

    /// The calendar new tickets use.
    pub fn calendar(&self) -> &BusinessCalendar {
        &self.calendar
    }

    /// Whether every view has caught up with the log.
    pub fn ready(&self) -> bool {
        let head = self.store.head();
        self.views
            .iter()
            .all(|v| v.status() == projections::runner::ViewStatus::Live && v.applied() >= head)
    }

    /// Closes the log (flushing it) at shutdown. Views stop once they
    /// have applied what the log holds; see [`Service::shutdown`].
    pub fn close(&self) -> Result<(), AppError> {
        self.store.close().map_err(AppError::internal)
    }

    /// Closes the log and waits until every view has stopped, so that the
    /// data folder can be opened again once this service is dropped.
    pub async fn shutdown(&self) -> Result<(), AppError> {
        self.close()?;
        for view in &self.views {
            view.wait_stopped(Duration::from_secs(60))
                .await
                .map_err(AppError::internal)?;
        }
        Ok(())
    }

    /// A running view by name.
    pub fn view(&self, name: &str) -> Result<&ViewHandle, AppError> {
        self.views
            .iter()
            .find(|v| v.name() == name)
            .ok_or_else(|| AppError::internal(format!("the {name} view is not running")))
    }

    fn context<R>(&self, acting: &Acting, reference: R) -> Context<R> {
        Context {
            now: self.now(),
            occurred_at: acting.occurred_at,
            actor: acting.actor.clone(),
            channel: acting.channel,
            reference,
        }
    }
}
