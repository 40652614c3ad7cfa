//! The command side behind the API: load a record's events from the log,
//! fold them, decide with the domain, append with optimistic concurrency,
//! and wait until the tickets view shows the change (read-your-writes).

use std::path::Path;
use std::sync::Arc;
use std::time::Duration;

use chrono::{DateTime, Utc};
use domain::actor::Actor;
use domain::archive::{
    ArchiveCommand, Owner, OwnerCommand, OwnerDecider, OwnerEvent, OwnerState, Project, ProjectCommand, ProjectDecider,
    ProjectEvent, ProjectState, Unit, UnitCommand, UnitDecider, UnitEvent, UnitState,
};
use domain::calendar::{BusinessCalendar, CalendarRegistry};
use domain::decider::{Context, Decider, Stamped};
use domain::directory::{
    Contractor, ContractorCommand, ContractorDecider, ContractorEvent, ContractorState, Engineer, EngineerCommand,
    EngineerDecider, EngineerEvent, EngineerState,
};
use domain::error::DomainError;
use domain::ids::{ContractorId, IncidentId, OwnerId, ProjectId, TicketId, UnitId, UserId};
use domain::incident::{Incident, IncidentCommand, IncidentDecider, IncidentEvent, IncidentState};
use domain::reference::ReferenceSet;
use domain::sla::SlaReport;
use domain::ticket::{Channel, Location, TicketCommand, TicketDecider, TicketEvent, TicketReference};
use eventformat::sealing::Sealable;
use eventformat::wire::{self, DomainEvent, StoredName, StreamKind};
use eventlog::views::ViewDb;
use eventlog::{EventId, EventStore, ExpectedVersion, Position, SledEventStore, StoreError, StreamId};
use projections::reports::{self, MonthlyReport, ReportError, ReportViews, WeeklyRepairReport};
use projections::runner::ViewHandle;
use projections::tickets::{self, TicketRecord};

use crate::error::AppError;

mod reference;
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
    ticket_cache: tickets::RecordCache,
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

/// The namespace of idempotency-derived ids.
const IDEMPOTENCY_NAMESPACE: uuid::Uuid = uuid::Uuid::from_u128(0x6166_7465_7273_616c_6573_2d69_646d_706f);

impl Service {
    /// Opens the log in `data/log`, its key folder `data/keys` (refused if
    /// missing or replaced: see [`crate::keyfolder`]) and the views in
    /// `data/views`, and starts every view. Must run inside a tokio
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
        let views_db = ViewDb::open(&data.join("views"), 128 << 20).map_err(AppError::internal)?;
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
            ticket_cache: tickets::RecordCache::new(TICKET_CACHE_RECORDS),
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

    fn tickets_view(&self) -> Result<&ViewHandle, AppError> {
        self.views
            .iter()
            .find(|v| v.name() == "tickets")
            .ok_or_else(|| AppError::internal("the tickets view is not running"))
    }

    /// Whether every view has caught up with the log.
    pub fn ready(&self) -> bool {
        let head = self.store.head();
        self.views
            .iter()
            .all(|v| v.status() == projections::runner::ViewStatus::Live && v.applied() >= head)
    }

    /// One ticket from the tickets view.
    pub fn ticket(&self, id: &TicketId) -> Result<Option<Arc<TicketRecord>>, AppError> {
        tickets::ticket_cached(&self.tickets_view()?.tree(), id, &self.ticket_cache).map_err(AppError::internal)
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

    fn stream_events(&self, stream: &StreamId) -> Result<Vec<eventlog::RecordedEvent>, AppError> {
        let mut out = Vec::new();
        let mut from = 0;
        loop {
            let batch = self.store.read_stream(stream, from, 512).map_err(AppError::internal)?;
            let Some(last) = batch.last() else { break };
            from = last.stream_version + 1;
            out.extend(batch);
        }
        Ok(out)
    }

    /// The events of one record's stream, decoded.
    /// A record's events, personal fields opened where their keys are.
    fn history<E: Sealable>(
        &self,
        stream: &StreamId,
        unwrap: fn(DomainEvent) -> Option<Stamped<E>>,
    ) -> Result<(Vec<eventlog::RecordedEvent>, Vec<Stamped<E>>), AppError> {
        let recorded = self.stream_events(stream)?;
        let mut history = Vec::with_capacity(recorded.len());
        for r in &recorded {
            let event = wire::decode(r).map_err(|e| {
                AppError::Unreadable(format!(
                    "{stream} holds an event that cannot be read at position {} ({}): {e}; it is refused until the log is mended",
                    r.position,
                    r.event_type()
                ))
            })?;
            let name = event.name();
            match unwrap(event) {
                Some(mut e) => {
                    e.event.open(&self.keyring).map_err(AppError::internal)?;
                    history.push(e)
                }
                None => return Err(AppError::internal(format!("{name} in stream {stream}"))),
            }
        }
        Ok((recorded, history))
    }

    fn delivered_on(&self, location: &Location) -> Result<Option<chrono::NaiveDate>, AppError> {
        let Some(unit) = location.unit() else { return Ok(None) };
        Ok(self.unit(unit)?.0.and_then(|u| u.delivered_on))
    }

    /// A project as its stream folds.
    pub fn project(&self, id: &ProjectId) -> Result<ProjectState, AppError> {
        let (_, events) = self.history(&stream(id)?, project_event)?;
        Ok(ProjectDecider::fold(&events))
    }

    /// A unit as its stream folds.
    pub fn unit(&self, id: &UnitId) -> Result<UnitState, AppError> {
        let (_, events) = self.history(&stream(id)?, unit_event)?;
        Ok(UnitDecider::fold(&events))
    }

    /// An owner as their stream folds.
    pub fn owner(&self, id: &OwnerId) -> Result<OwnerState, AppError> {
        let (_, events) = self.history(&stream(id)?, owner_event)?;
        Ok(OwnerDecider::fold(&events))
    }

    /// An incident as its stream folds.
    pub fn incident(&self, id: &IncidentId) -> Result<IncidentState, AppError> {
        let (_, events) = self.history(&stream(id)?, incident_event)?;
        Ok(IncidentDecider::fold(&events))
    }

    /// Refuses an incident that does not exist or is closed.
    pub fn require_incident(&self, id: &IncidentId) -> Result<(), AppError> {
        match self.incident(id)?.0 {
            None => Err(DomainError::NotFound {
                what: format!("incident {id}"),
            }
            .into()),
            Some(i) if i.closed_at.is_some() => Err(DomainError::InvalidTransition {
                action: "link a ticket to the incident",
                subject: format!("incident {id}"),
                status: "closed".into(),
                reason: String::new(),
            }
            .into()),
            Some(_) => Ok(()),
        }
    }

    /// A ticket's service-level clocks as of `at` (`None`: no such ticket).
    pub fn clocks(&self, id: &TicketId, at: DateTime<Utc>) -> Result<Option<SlaReport>, AppError> {
        let view = self.view("sla")?;
        projections::sla::ticket_clocks(&view.tree(), &self.calendars, id, at).map_err(AppError::internal)
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

    /// Loads a record's history, checks the caller's right to act on it
    /// (`authorize`, before anything else looks at the request), lets
    /// `decide` turn it into new events and appends them with optimistic
    /// concurrency and idempotency. Returns the position of the last event
    /// (of the first attempt, for a retried idempotency key).
    ///
    /// `request` describes the request for its idempotency key: the
    /// operation and its arguments with personal values left out (so that
    /// no digest of a phone number is ever stored). A key belongs to one
    /// principal: the ids it derives include the caller's role and user, so
    /// another caller's identical key finds nothing of the first caller's.
    #[allow(clippy::too_many_arguments)]
    async fn execute<E: serde::Serialize + StoredName + Sealable>(
        &self,
        subject: &str,
        creates: bool,
        stream: &StreamId,
        acting: &Acting,
        request: &str,
        unwrap: fn(DomainEvent) -> Option<Stamped<E>>,
        authorize: impl FnOnce(&[Stamped<E>]) -> Result<(), AppError>,
        decide: impl FnOnce(&[Stamped<E>]) -> Result<Vec<Stamped<E>>, AppError>,
    ) -> Result<Position, AppError> {
        let (recorded, history) = self.history(stream, unwrap)?;
        authorize(&history)?;
        let version = recorded.last().map(|r| r.stream_version);
        let request = without_numbers(request);
        let keyed = acting
            .idempotency_key
            .as_deref()
            .map(|k| KeyedRequest::new(stream, (!acting.shared_key).then_some(&acting.actor), k, &request));
        // A retried request: its first event is already in the stream.
        if let Some(keyed) = &keyed {
            if let Some(done) = keyed.already_done(subject, &recorded)? {
                return Ok(done);
            }
        }
        if recorded.is_empty() && !creates {
            return Err(DomainError::NotFound {
                what: subject.to_string(),
            }
            .into());
        }
        if let Some(expected) = acting.expected_version {
            if version != Some(expected) {
                return Err(AppError::Conflict(format!(
                    "{subject} is at version {}, not {expected}; reload it and try again",
                    version
                        .map(|v| v.to_string())
                        .unwrap_or_else(|| "none (it does not exist)".into())
                )));
            }
        }
        let mut events = decide(&history)?;
        // Personal data goes into the log sealed, under its subject's key.
        let record = stream.as_str().split_once('-').map_or("", |(_, id)| id);
        E::seal_new(&mut events, &history, &self.keyring, record).map_err(AppError::internal)?;
        let (ids, correlation) = match &keyed {
            Some(k) => (
                (0..events.len()).map(|i| k.event_id(i)).collect::<Vec<_>>(),
                k.correlation,
            ),
            None => (
                (0..events.len()).map(|_| EventId::new_random()).collect(),
                uuid::Uuid::new_v4(),
            ),
        };
        let new = events
            .iter()
            .zip(ids)
            .map(|(e, id)| wire::to_new_event(e, id, Some(correlation)))
            .collect::<Result<Vec<_>, _>>()
            .map_err(AppError::internal)?;
        let expected = match version {
            Some(v) => ExpectedVersion::Exact(v),
            None => ExpectedVersion::NoStream,
        };
        let started = std::time::Instant::now();
        let appended = self.store.append(stream, expected, new).await;
        self.appended(started.elapsed());
        match appended {
            Ok(o) => Ok(o.last_position()),
            Err(
                StoreError::WrongExpectedVersion { .. }
                | StoreError::IdReused { .. }
                | StoreError::PartiallyWritten { .. },
            ) => {
                // Someone else wrote first; if it was this very request
                // (a retry racing its first attempt), answer as the first
                // attempt did.
                let recorded = self.stream_events(stream)?;
                let done = match &keyed {
                    Some(k) => k.already_done(subject, &recorded)?,
                    None => None,
                };
                done.ok_or_else(|| {
                    AppError::Conflict(format!(
                        "{subject} was changed by someone else at the same time; reload it and try again"
                    ))
                })
            }
            Err(e) => Err(AppError::internal(e)),
        }
    }

    /// Whether a request with this shared idempotency key (see
    /// [`Acting::shared_key`]) was already applied to the record `id` (so
    /// that a re-run of an import skips it).
    pub fn applied<I: StreamKind + std::fmt::Display>(&self, id: &I, idempotency_key: &str) -> Result<bool, AppError> {
        let stream = stream(id)?;
        let first = KeyedRequest::new(&stream, None, idempotency_key, "").event_id(0);
        Ok(self.stream_events(&stream)?.iter().any(|r| r.id == first))
    }

    /// Decides `command` on ticket `id` and appends what it produces;
    /// returns the ticket once the tickets view shows the change.
    pub async fn ticket_command(
        &self,
        id: &TicketId,
        command: TicketCommand,
        acting: Acting,
    ) -> Result<Outcome, AppError> {
        // Not while a publication of reference data settles open tickets.
        let _shared = self.publication.read().await;
        let stream = stream(id)?;
        let new_location = match &command {
            TicketCommand::Receive(r) => Some(r.location.clone()),
            _ => None,
        };
        let creates = new_location.is_some();
        let request = format!("{command:?}\u{0}{:?}\u{0}{:?}", acting.channel, acting.occurred_at);
        let position = self
            .execute(
                &format!("ticket {id}"),
                creates,
                &stream,
                &acting,
                &request,
                ticket_event,
                |history| {
                    let state = TicketDecider::fold(history);
                    let ticket = state.ticket();
                    let location = ticket.map(|t| &t.location).or(new_location.as_ref());
                    if let Some(l) = location {
                        acting.require_project(l.project())?;
                    }
                    Ok(domain::ticket::authorize(&acting.actor, &command, ticket)?)
                },
                |history| {
                    let state = TicketDecider::fold(history);
                    if let TicketCommand::Receive(r) = &command {
                        self.check_new_ticket(r)?;
                    }
                    self.check_command_references(state.ticket(), &command, &acting)?;
                    // The delivery date is read before deciding; the unit
                    // stream is not part of the ticket's consistency
                    // boundary.
                    let location = state.ticket().map(|t| t.location.clone()).or(new_location.clone());
                    let delivered_on = match &location {
                        Some(l) => self.delivered_on(l)?,
                        None => None,
                    };
                    // The versions in force on the day the ticket was
                    // received (its clocks start then).
                    let received = state
                        .ticket()
                        .map(|t| t.received_at)
                        .unwrap_or_else(|| acting.occurred_at.unwrap_or_else(|| self.now()));
                    let in_force = match &location {
                        Some(l) => self.reference_data_for(l.project(), self.calendar.local_date(received))?,
                        None => return Err(AppError::internal("a ticket command without a location")),
                    };
                    let reference = TicketReference {
                        policy: &in_force.policy,
                        calendar: &in_force.calendar,
                        warranty: &in_force.warranty,
                        delivered_on,
                    };
                    let mut events = TicketDecider::decide(&state, command.clone(), &self.context(&acting, reference))?;
                    let settled = self.catch_up_settlements(history, &events, &in_force.calendar, &acting)?;
                    events.extend(settled);
                    Ok(events)
                },
            )
            .await?;
        self.after_write(id, position).await
    }

    /// Refuses a new ticket whose references the archive does not hold:
    /// the project; the building, in that project; the unit, in that
    /// building; the reporting owner, recorded as an owner of that unit (of
    /// a unit of the project, for a common area).
    fn check_new_ticket(&self, r: &domain::ticket::Receive) -> Result<(), AppError> {
        let not_found = |what: String| AppError::Domain(DomainError::NotFound { what });
        let (project_id, building, unit) = match &r.location {
            Location::Unit {
                project,
                building,
                unit,
            } => (project, Some(building), Some(unit)),
            Location::CommonArea { project, building, .. } => (project, building.as_ref(), None),
        };
        let project = self
            .project(project_id)?
            .0
            .ok_or_else(|| not_found(format!("project {project_id}")))?;
        if let Some(b) = building {
            if !project.buildings.contains_key(b) {
                return Err(not_found(format!("building {b} in project {project_id}")));
            }
        }
        if let Some(u) = unit {
            let found = self.unit(u)?.0.ok_or_else(|| not_found(format!("unit {u}")))?;
            if &found.project != project_id || Some(&found.building) != building {
                return Err(AppError::BadInput(format!(
                    "unit {u} is in building {} of project {}, not in {} of {project_id}",
                    found.building,
                    found.project,
                    building.map(|b| b.to_string()).unwrap_or_default()
                )));
            }
        }
        if let Some(o) = &r.reporter.owner {
            let owner = self.owner(o)?.0.ok_or_else(|| not_found(format!("owner {o}")))?;
            let owns = match unit {
                Some(u) => owner.units.contains_key(u),
                None => owner.units.values().any(|owned| &owned.project == project_id),
            };
            if !owns {
                return Err(AppError::BadInput(format!(
                    "owner {o} is not recorded as an owner of {}",
                    match unit {
                        Some(u) => format!("unit {u}"),
                        None => format!("a unit of project {project_id}"),
                    }
                )));
            }
        }
        Ok(())
    }

    /// Refuses a command on an existing ticket that names a record the
    /// archive does not hold, or one outside the ticket's project or the
    /// caller's scope.
    fn check_command_references(
        &self,
        ticket: Option<&domain::ticket::Ticket>,
        command: &TicketCommand,
        acting: &Acting,
    ) -> Result<(), AppError> {
        match command {
            TicketCommand::LinkIncident { incident }
            | TicketCommand::Escalate {
                incident: Some(incident),
                ..
            } => {
                // A command on a ticket that does not exist is refused
                // before this runs.
                let Some(t) = ticket else { return Ok(()) };
                // The incident's own rules too: both records are checked
                // before either is written.
                domain::incident::authorize(&acting.actor, &IncidentCommand::LinkTicket { ticket: t.id.clone() })?;
                let found = self.incident(incident)?.0;
                // The caller's scope before anything about the incident
                // is said.
                if let Some(found) = &found {
                    acting.require_project(&found.project)?;
                }
                self.require_incident(incident)?;
                if let Some(found) = &found {
                    if t.location.project() != &found.project {
                        return Err(AppError::BadInput(format!(
                            "incident {incident} is of project {}, the ticket of project {}",
                            found.project,
                            t.location.project()
                        )));
                    }
                }
                Ok(())
            }
            TicketCommand::Dispatch { to, .. } => match to {
                domain::ticket::Assignee::Contractor(c) => match self.contractor(c)?.0 {
                    Some(_) => Ok(()),
                    None => Err(DomainError::NotFound {
                        what: format!("contractor {c} in the service directory (registerContractor)"),
                    }
                    .into()),
                },
                domain::ticket::Assignee::Engineer(e) => match self.engineer(e)?.0 {
                    Some(_) => Ok(()),
                    None => Err(DomainError::NotFound {
                        what: format!("engineer {e} in the service directory (registerEngineer)"),
                    }
                    .into()),
                },
            },
            TicketCommand::Merge { into } => {
                let Some(target) = self.ticket(into)? else {
                    return Err(DomainError::NotFound {
                        what: format!("ticket {into}"),
                    }
                    .into());
                };
                acting.require_project(target.ticket.location.project())?;
                Ok(())
            }
            _ => Ok(()),
        }
    }

    /// Registers a project or one of its buildings.
    pub async fn project_command(
        &self,
        id: &ProjectId,
        command: ProjectCommand,
        acting: Acting,
    ) -> Result<(Project, Position), AppError> {
        // The role, before anything else.
        domain::archive::authorize(&acting.actor, &ArchiveCommand::Project(&command))?;
        let creates = matches!(command, ProjectCommand::Register { .. });
        let request = format!("{command:?}\u{0}{:?}", acting.occurred_at);
        let position = self
            .execute(
                &format!("project {id}"),
                creates,
                &stream(id)?,
                &acting,
                &request,
                project_event,
                |_| Ok(()),
                |history| {
                    self.check_reference_choice(&command)?;
                    Ok(ProjectDecider::decide(
                        &ProjectDecider::fold(history),
                        command,
                        &self.context(&acting, ()),
                    )?)
                },
            )
            .await?;
        self.settle(position).await?;
        let project = self
            .project(id)?
            .0
            .ok_or_else(|| AppError::internal("project missing after its write"))?;
        Ok((project, position))
    }

    /// Registers a unit or records its delivery; the unit's project must
    /// exist (and know its building).
    pub async fn unit_command(
        &self,
        id: &UnitId,
        command: UnitCommand,
        acting: Acting,
    ) -> Result<(Unit, Position), AppError> {
        // The role, before anything else.
        domain::archive::authorize(&acting.actor, &ArchiveCommand::Unit(&command))?;
        let project_id = match &command {
            UnitCommand::Register { project, .. } => Some(project.clone()),
            _ => self.unit(id)?.0.map(|u| u.project),
        };
        let project = match project_id {
            Some(p) => self.project(&p)?.0,
            None => None,
        };
        let creates = matches!(command, UnitCommand::Register { .. });
        let request = format!("{command:?}\u{0}{:?}", acting.occurred_at);
        let position = self
            .execute(
                &format!("unit {id}"),
                creates,
                &stream(id)?,
                &acting,
                &request,
                unit_event,
                |_| Ok(()),
                |history| {
                    Ok(UnitDecider::decide(
                        &UnitDecider::fold(history),
                        command,
                        &self.context(&acting, project.as_ref()),
                    )?)
                },
            )
            .await?;
        self.settle(position).await?;
        let unit = self
            .unit(id)?
            .0
            .ok_or_else(|| AppError::internal("unit missing after its write"))?;
        Ok((unit, position))
    }

    /// Registers an owner, links them to a unit, changes their contact.
    pub async fn owner_command(
        &self,
        id: &OwnerId,
        command: OwnerCommand,
        acting: Acting,
    ) -> Result<(Owner, Position), AppError> {
        // The role and an owner's own record, before anything else.
        domain::archive::authorize(&acting.actor, &ArchiveCommand::Owner(id, &command))?;
        let unit = match &command {
            OwnerCommand::LinkUnit { unit, .. } | OwnerCommand::ChangeStage { unit, .. } => self.unit(unit)?.0,
            _ => None,
        };
        let creates = matches!(command, OwnerCommand::Register { .. });
        let request = format!("{command:?}\u{0}{:?}", acting.occurred_at);
        let position = self
            .execute(
                &format!("owner {id}"),
                creates,
                &stream(id)?,
                &acting,
                &request,
                owner_event,
                |_| Ok(()),
                |history| {
                    Ok(OwnerDecider::decide(
                        &OwnerDecider::fold(history),
                        command,
                        &self.context(&acting, unit.as_ref()),
                    )?)
                },
            )
            .await?;
        self.settle(position).await?;
        let owner = self
            .owner(id)?
            .0
            .ok_or_else(|| AppError::internal("owner missing after its write"))?;
        Ok((owner, position))
    }

    /// A contractor company as its stream folds.
    pub fn contractor(&self, id: &ContractorId) -> Result<ContractorState, AppError> {
        let (_, events) = self.history(&stream(id)?, contractor_event)?;
        Ok(ContractorDecider::fold(&events))
    }

    /// An engineer as their stream folds.
    pub fn engineer(&self, id: &UserId) -> Result<EngineerState, AppError> {
        let (_, events) = self.history(&stream(id)?, engineer_event)?;
        Ok(EngineerDecider::fold(&events))
    }

    /// Registers a contractor company in the service directory.
    pub async fn contractor_command(
        &self,
        id: &ContractorId,
        command: ContractorCommand,
        acting: Acting,
    ) -> Result<(Contractor, Position), AppError> {
        domain::directory::authorize(&acting.actor, "register the contractor")?;
        let request = format!("{command:?}\u{0}{:?}", acting.occurred_at);
        let position = self
            .execute(
                &format!("contractor {id}"),
                true,
                &stream(id)?,
                &acting,
                &request,
                contractor_event,
                |_| Ok(()),
                |history| {
                    Ok(ContractorDecider::decide(
                        &ContractorDecider::fold(history),
                        command,
                        &self.context(&acting, ()),
                    )?)
                },
            )
            .await?;
        self.settle(position).await?;
        let contractor = self
            .contractor(id)?
            .0
            .ok_or_else(|| AppError::internal("contractor missing after its write"))?;
        Ok((contractor, position))
    }

    /// Registers an engineer in the service directory.
    pub async fn engineer_command(
        &self,
        id: &UserId,
        command: EngineerCommand,
        acting: Acting,
    ) -> Result<(Engineer, Position), AppError> {
        domain::directory::authorize(&acting.actor, "register the engineer")?;
        let request = format!("{command:?}\u{0}{:?}", acting.occurred_at);
        let position = self
            .execute(
                &format!("engineer {id}"),
                true,
                &stream(id)?,
                &acting,
                &request,
                engineer_event,
                |_| Ok(()),
                |history| {
                    Ok(EngineerDecider::decide(
                        &EngineerDecider::fold(history),
                        command,
                        &self.context(&acting, ()),
                    )?)
                },
            )
            .await?;
        self.settle(position).await?;
        let engineer = self
            .engineer(id)?
            .0
            .ok_or_else(|| AppError::internal("engineer missing after its write"))?;
        Ok((engineer, position))
    }

    /// Erases owner `id`'s personal data at their request (PIPL art. 47):
    /// records the erasure on the owner's stream (who, when, which
    /// request), then destroys the keys that sealed their values: those of
    /// every phone number they had on record (which also covers what they
    /// reported from those numbers without being linked; the numbers'
    /// pseudonyms are then forgotten, so nothing left links a number to
    /// its subject) and the owner's own, last. Refused while the owner's
    /// values do not open for damage (a missing key). Histories still
    /// replay; their personal values read as erased from then on. Running
    /// it again completes an erasure that was recorded but interrupted.
    pub async fn erase_owner(&self, id: &OwnerId, request: &str, acting: Acting) -> Result<Erasure, AppError> {
        let (_, events) = self.history(&stream(id)?, owner_event)?;
        let Some(owner) = OwnerDecider::fold(&events).0 else {
            return Err(DomainError::NotFound {
                what: format!("owner {id}"),
            }
            .into());
        };
        let mut phones: Vec<String> = Vec::new();
        for e in &events {
            let phone = match &e.event {
                OwnerEvent::OwnerRegistered { phone, .. } | OwnerEvent::ContactChanged { phone } => phone,
                _ => continue,
            };
            if let Some(p) = phone.expose() {
                if !phones.iter().any(|known| known == p.as_str()) {
                    phones.push(p.as_str().to_string());
                }
                continue;
            }
            // Still sealed: erased by an earlier run, or damage, which
            // would hide the phone numbers whose keys must go too.
            let status = eventformat::sealing::open_status(&self.keyring, phone).map_err(AppError::internal)?;
            if let Some(marker) = status
                .marker()
                .filter(|_| status != eventformat::sealing::Opened::Erased)
            {
                return Err(AppError::internal(format!(
                    "cannot erase owner {id}: their phone number reads {marker} (the key folder is damaged), so the keys that seal it cannot all be found; restore data/keys from the backup taken with the log first"
                )));
            }
        }
        let mut subjects = Vec::new();
        for phone in &phones {
            for subject in eventformat::sealing::phone_subjects(&self.keyring, phone).map_err(AppError::internal)? {
                if !subjects.contains(&subject) {
                    subjects.push(subject);
                }
            }
        }
        let recorded_now = owner.erased_at.is_none();
        if recorded_now {
            self.owner_command(
                id,
                OwnerCommand::ErasePersonalData {
                    request: request.to_string(),
                },
                acting,
            )
            .await?;
        }
        // The phones' keys, then their links to the numbers (nothing named
        // after a number stays), then the owner's key, last, so that a
        // re-run still reads the phone numbers.
        let mut destroyed = 0;
        for subject in &subjects {
            if self.keyring.destroy(subject).map_err(AppError::internal)? {
                destroyed += 1;
            }
        }
        for phone in &phones {
            eventformat::sealing::forget_phone(&self.keyring, phone).map_err(AppError::internal)?;
        }
        let owner_subject = eventformat::sealing::owner_subject(id);
        if self.keyring.destroy(&owner_subject).map_err(AppError::internal)? {
            destroyed += 1;
        }
        Ok(Erasure {
            recorded_now,
            keys_destroyed: destroyed,
        })
    }

    /// Opens, updates or closes an incident.
    pub async fn incident_command(
        &self,
        id: &IncidentId,
        command: IncidentCommand,
        acting: Acting,
    ) -> Result<(Incident, Position), AppError> {
        let creates = matches!(command, IncidentCommand::Open { .. });
        let request = format!("{command:?}\u{0}{:?}", acting.occurred_at);
        domain::incident::authorize(&acting.actor, &command)?;
        match &command {
            IncidentCommand::Open { project, .. } => acting.require_project(project)?,
            _ => {
                if let Some(i) = self.incident(id)?.0 {
                    acting.require_project(&i.project)?;
                }
            }
        }
        let position = self
            .execute(
                &format!("incident {id}"),
                creates,
                &stream(id)?,
                &acting,
                &request,
                incident_event,
                |_| Ok(()),
                |history| {
                    Ok(IncidentDecider::decide(
                        &IncidentDecider::fold(history),
                        command,
                        &self.context(&acting, ()),
                    )?)
                },
            )
            .await?;
        self.settle(position).await?;
        let incident = self
            .incident(id)?
            .0
            .ok_or_else(|| AppError::internal("incident missing after its write"))?;
        Ok((incident, position))
    }

    /// Records on the incident that `ticket` belongs to it, unless it
    /// already does (so that a retry completes a half-done link).
    pub async fn link_on_incident(&self, id: &IncidentId, ticket: &TicketId, acting: &Acting) -> Result<(), AppError> {
        if self.incident(id)?.0.is_some_and(|i| i.tickets.contains(ticket)) {
            return Ok(());
        }
        // The link is idempotent by itself (a link already there is
        // skipped); the caller's key names the ticket's change, not this.
        let acting = Acting {
            expected_version: None,
            occurred_at: None,
            idempotency_key: None,
            ..acting.clone()
        };
        // The ticket's own scope was checked when it was linked.
        self.incident_command(id, IncidentCommand::LinkTicket { ticket: ticket.clone() }, acting)
            .await?;
        Ok(())
    }

    /// Waits until every view has applied `position`, so that the answer
    /// to a write, and any query sent after it, reflects the write in
    /// every field (a ticket's clocks come from the SLA view, reports and
    /// lists from theirs). A view that does not catch up within
    /// [`READ_YOUR_WRITES`] is an error that says so, never a stale answer.
    pub async fn settle(&self, position: Position) -> Result<(), AppError> {
        for view in &self.views {
            view.wait_for(position, READ_YOUR_WRITES).await.map_err(|e| match e {
                projections::runner::ProjectionError::Timeout { view, waited, .. } => AppError::ViewBehind(format!(
                    "the change is recorded at position {position}, but the {view} view has not caught up with it \
                     within {} s: read it again shortly",
                    waited.as_secs()
                )),
                other => AppError::internal(other),
            })?;
        }
        Ok(())
    }

    async fn after_write(&self, id: &TicketId, position: Position) -> Result<Outcome, AppError> {
        self.settle(position).await?;
        let ticket = self
            .ticket(id)?
            .ok_or_else(|| AppError::internal(format!("ticket {id} is not in the view after its write")))?;
        Ok(Outcome { ticket, position })
    }
}

fn stream<I: StreamKind + std::fmt::Display>(id: &I) -> Result<StreamId, AppError> {
    wire::stream_of(id).map_err(|e| AppError::BadInput(e.to_string()))
}

fn ticket_event(e: DomainEvent) -> Option<Stamped<TicketEvent>> {
    match e {
        DomainEvent::Ticket(_, e) => Some(e),
        _ => None,
    }
}

fn project_event(e: DomainEvent) -> Option<Stamped<ProjectEvent>> {
    match e {
        DomainEvent::Project(_, e) => Some(e),
        _ => None,
    }
}

fn unit_event(e: DomainEvent) -> Option<Stamped<UnitEvent>> {
    match e {
        DomainEvent::Unit(_, e) => Some(e),
        _ => None,
    }
}

fn owner_event(e: DomainEvent) -> Option<Stamped<OwnerEvent>> {
    match e {
        DomainEvent::Owner(_, e) => Some(e),
        _ => None,
    }
}

fn contractor_event(e: DomainEvent) -> Option<Stamped<ContractorEvent>> {
    match e {
        DomainEvent::Contractor(_, e) => Some(e),
        _ => None,
    }
}

fn engineer_event(e: DomainEvent) -> Option<Stamped<EngineerEvent>> {
    match e {
        DomainEvent::Engineer(_, e) => Some(e),
        _ => None,
    }
}

fn incident_event(e: DomainEvent) -> Option<Stamped<IncidentEvent>> {
    match e {
        DomainEvent::Incident(_, e) => Some(e),
        _ => None,
    }
}

impl Service {
    fn report_views<'a>(&self, trees: &'a [eventlog::views::ViewTree; 3]) -> ReportViews<'a> {
        ReportViews {
            tickets: &trees[0],
            sla: &trees[1],
            satisfaction: &trees[2],
        }
    }

    fn report_trees(&self) -> Result<[eventlog::views::ViewTree; 3], AppError> {
        Ok([
            self.view("tickets")?.tree(),
            self.view("sla")?.tree(),
            self.view("satisfaction")?.tree(),
        ])
    }

    /// The monthly report of a project (times in the mainland time zone).
    pub fn monthly_report(&self, project: &ProjectId, year: i32, month: u32) -> Result<MonthlyReport, AppError> {
        let trees = self.report_trees()?;
        reports::monthly_report(
            self.report_views(&trees),
            self.calendar.time_zone(),
            project,
            year,
            month,
        )
        .map_err(report_error)
    }

    /// The weekly repair report of a project; "now" figures at `at`.
    pub fn weekly_report(
        &self,
        project: &ProjectId,
        iso_year: i32,
        week: u32,
        at: DateTime<Utc>,
    ) -> Result<WeeklyRepairReport, AppError> {
        let trees = self.report_trees()?;
        reports::weekly_repair_report(
            self.report_views(&trees),
            &self.calendars,
            self.calendar.time_zone(),
            project,
            iso_year,
            week,
            at,
        )
        .map_err(report_error)
    }
}

fn report_error(e: ReportError) -> AppError {
    match e {
        ReportError::BadPeriod(p) => AppError::BadInput(format!("invalid period: {p}")),
        other => AppError::internal(other),
    }
}

/// A request's description with every phone or ID number typed into its
/// free text replaced by its kind, so that no digest of one is stored
/// (the fields of `Personal` values are left out by their `Debug`).
fn without_numbers(request: &str) -> String {
    let mut out = String::with_capacity(request.len());
    let mut at = 0;
    for found in domain::personal::find_personal(request) {
        out.push_str(&request[at..found.start]);
        out.push_str(&format!("<{:?}>", found.kind));
        at = found.end;
    }
    out.push_str(&request[at..]);
    out
}

/// A request made with an idempotency key: the ids its events get and the
/// correlation id that fingerprints it.
struct KeyedRequest {
    /// `stream`, principal and key, from which event ids derive.
    scope: String,
    /// Derived from the scope and the request's description: an earlier
    /// attempt with another correlation was another request.
    correlation: uuid::Uuid,
    /// Whether an earlier attempt's correlation is checked (not for shared
    /// keys, which name their request themselves).
    fingerprinted: bool,
}

impl KeyedRequest {
    /// `actor`: the principal the key belongs to (`None`: a shared key,
    /// whose ids are those keys have always had).
    fn new(stream: &StreamId, actor: Option<&Actor>, key: &str, request: &str) -> Self {
        let scope = match actor {
            Some(a) => format!("{stream}\u{0}{key}\u{0}{}\u{0}{}", a.role.as_str(), a.user),
            None => format!("{stream}\u{0}{key}"),
        };
        let correlation = uuid::Uuid::new_v5(&IDEMPOTENCY_NAMESPACE, format!("{scope}\u{0}{request}").as_bytes());
        Self {
            scope,
            correlation,
            fingerprinted: actor.is_some(),
        }
    }

    /// The id of the `i`th event the request appends.
    fn event_id(&self, i: usize) -> EventId {
        EventId(uuid::Uuid::new_v5(
            &IDEMPOTENCY_NAMESPACE,
            format!("{}\u{0}{i}", self.scope).as_bytes(),
        ))
    }

    /// The position of the last event of an earlier attempt of this
    /// request, if there was one; refused if the key was used for a
    /// different request.
    fn already_done(&self, subject: &str, recorded: &[eventlog::RecordedEvent]) -> Result<Option<Position>, AppError> {
        let first = self.event_id(0);
        let Some(done) = recorded.iter().position(|r| r.id == first) else {
            return Ok(None);
        };
        if self.fingerprinted && recorded[done].correlation_id() != Some(self.correlation) {
            return Err(AppError::KeyReused(format!(
                "this idempotency key was already used for a different request on {subject}; \
                 nothing was done: use a new key for a new request"
            )));
        }
        Ok(recorded[done..]
            .iter()
            .enumerate()
            .take_while(|(i, r)| r.id == self.event_id(*i))
            .map(|(_, r)| r.position)
            .last())
    }
}
