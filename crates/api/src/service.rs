//! The command side behind the API: load a record's events from the log,
//! fold them, decide with the domain, append with optimistic concurrency,
//! and wait until the tickets view shows the change (read-your-writes).

use std::path::Path;
use std::sync::Arc;
use std::time::Duration;

use chrono::{DateTime, Utc};
use domain::actor::Actor;
use domain::archive::{UnitDecider, UnitState};
use domain::calendar::{BusinessCalendar, CalendarRegistry};
use domain::decider::{Context, Decider, Stamped};
use domain::ids::{TicketId, UnitId};
use domain::policy::ServicePolicy;
use domain::ticket::{Channel, Location, TicketCommand, TicketDecider, TicketEvent, TicketReference};
use domain::warranty::WarrantyRules;
use eventlog::views::ViewDb;
use eventlog::{EventId, EventStore, ExpectedVersion, Position, SledEventStore, SledOptions, StoreError, StreamId};
use projections::runner::ViewHandle;
use projections::tickets::{self, TicketRecord};
use projections::wire::{self, DomainEvent};

use crate::error::AppError;

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
    /// appends nothing.
    pub idempotency_key: Option<String>,
}

/// A ticket after a command.
#[derive(Debug, Clone)]
pub struct Outcome {
    /// The ticket as the view now shows it.
    pub ticket: TicketRecord,
    /// Log position of the change.
    pub position: Position,
}

/// The server's state: the log, the views and the reference data.
pub struct Service {
    store: Arc<SledEventStore>,
    views: Vec<ViewHandle>,
    policy: Arc<ServicePolicy>,
    calendar: Arc<BusinessCalendar>,
    calendars: Arc<CalendarRegistry>,
    warranty: Arc<WarrantyRules>,
}

/// How long a mutation waits for the tickets view to show its change.
const READ_YOUR_WRITES: Duration = Duration::from_secs(10);

/// The namespace of idempotency-derived ids.
const IDEMPOTENCY_NAMESPACE: uuid::Uuid = uuid::Uuid::from_u128(0x6166_7465_7273_616c_6573_2d69_646d_706f);

impl Service {
    /// Opens the log in `data/log` and the views in `data/views`, and
    /// starts every view. Must run inside a tokio runtime.
    pub fn open(data: &Path) -> Result<Self, AppError> {
        let store =
            Arc::new(SledEventStore::open(data.join("log"), SledOptions::default()).map_err(AppError::internal)?);
        let views_db = ViewDb::open(&data.join("views"), 128 << 20).map_err(AppError::internal)?;
        let calendars = Arc::new(CalendarRegistry::with_cn_mainland());
        let dyn_store: Arc<dyn EventStore> = store.clone();
        let views = projections::runner::start_all(dyn_store, views_db, projections::all_views_with(calendars.clone()))
            .map_err(AppError::internal)?;
        Ok(Self {
            store,
            views,
            policy: ServicePolicy::default_policy(),
            calendar: BusinessCalendar::cn_mainland(),
            calendars,
            warranty: WarrantyRules::default_rules(),
        })
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
    pub fn ticket(&self, id: &TicketId) -> Result<Option<TicketRecord>, AppError> {
        tickets::ticket(&self.tickets_view()?.tree(), id).map_err(AppError::internal)
    }

    /// Closes the log (flushing it) at shutdown.
    pub fn close(&self) -> Result<(), AppError> {
        self.store.close().map_err(AppError::internal)
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

    fn delivered_on(&self, location: &Location) -> Result<Option<chrono::NaiveDate>, AppError> {
        let Some(unit) = location.unit() else { return Ok(None) };
        Ok(self.unit(unit)?.0.and_then(|u| u.delivered_on))
    }

    fn unit(&self, unit: &UnitId) -> Result<UnitState, AppError> {
        let stream = wire::stream_of(unit).map_err(AppError::internal)?;
        let mut events = Vec::new();
        for recorded in self.stream_events(&stream)? {
            if let DomainEvent::Unit(_, e) = wire::decode(&recorded).map_err(AppError::internal)? {
                events.push(e);
            }
        }
        Ok(UnitDecider::fold(&events))
    }

    /// Decides `command` on ticket `id` and appends what it produces;
    /// returns the ticket once the tickets view shows the change.
    pub async fn ticket_command(
        &self,
        id: &TicketId,
        command: TicketCommand,
        acting: Acting,
    ) -> Result<Outcome, AppError> {
        let stream = wire::stream_of(id).map_err(|e| AppError::BadInput(e.to_string()))?;
        let recorded = self.stream_events(&stream)?;
        let version = recorded.last().map(|r| r.stream_version);
        let key_ids = |n: usize| -> Vec<EventId> {
            (0..n)
                .map(|i| match &acting.idempotency_key {
                    Some(k) => EventId(uuid::Uuid::new_v5(
                        &IDEMPOTENCY_NAMESPACE,
                        format!("{id}\u{0}{k}\u{0}{i}").as_bytes(),
                    )),
                    None => EventId::new_random(),
                })
                .collect()
        };
        // A retried request: its first event is already in the stream.
        if acting.idempotency_key.is_some() {
            let first = key_ids(1)[0];
            if let Some(done) = recorded.iter().rev().find(|r| r.id == first) {
                let position = recorded
                    .iter()
                    .filter(|r| r.position >= done.position)
                    .map(|r| r.position)
                    .max()
                    .unwrap_or(done.position);
                return self.after_write(id, position).await;
            }
        }
        if let Some(expected) = acting.expected_version {
            if version != Some(expected) {
                return Err(AppError::Conflict(format!(
                    "ticket {id} is at version {}, not {expected}; reload it and try again",
                    version.map(|v| v.to_string()).unwrap_or_else(|| "none".into())
                )));
            }
        }
        let mut history: Vec<Stamped<TicketEvent>> = Vec::with_capacity(recorded.len());
        for r in &recorded {
            match wire::decode(r).map_err(AppError::internal)? {
                DomainEvent::Ticket(_, e) => history.push(e),
                other => return Err(AppError::internal(format!("{} in a ticket stream", other.name()))),
            }
        }
        let state = TicketDecider::fold(&history);
        let location = match (&command, state.ticket()) {
            (_, Some(t)) => Some(t.location.clone()),
            (TicketCommand::Receive(r), None) => Some(r.location.clone()),
            _ => None,
        };
        let delivered_on = match &location {
            Some(l) => self.delivered_on(l)?,
            None => None,
        };
        let context = Context {
            now: Utc::now(),
            occurred_at: acting.occurred_at,
            actor: acting.actor.clone(),
            channel: acting.channel,
            reference: TicketReference {
                policy: &self.policy,
                calendar: &self.calendar,
                warranty: &self.warranty,
                delivered_on,
            },
        };
        let events = TicketDecider::decide(&state, command, &context)?;
        let ids = key_ids(events.len());
        let correlation = Some(uuid::Uuid::new_v4());
        let new = events
            .iter()
            .zip(ids)
            .map(|(e, id)| wire::to_new_event(e, id, correlation))
            .collect::<Result<Vec<_>, _>>()
            .map_err(AppError::internal)?;
        let expected = match version {
            Some(v) => ExpectedVersion::Exact(v),
            None => ExpectedVersion::NoStream,
        };
        let outcome = match self.store.append(&stream, expected, new).await {
            Ok(o) => o,
            Err(StoreError::WrongExpectedVersion { .. }) => {
                return Err(AppError::Conflict(format!(
                    "ticket {id} was changed by someone else at the same time; reload it and try again"
                )))
            }
            Err(e) => return Err(AppError::internal(e)),
        };
        self.after_write(id, outcome.last_position()).await
    }

    async fn after_write(&self, id: &TicketId, position: Position) -> Result<Outcome, AppError> {
        self.tickets_view()?
            .wait_for(position, READ_YOUR_WRITES)
            .await
            .map_err(AppError::internal)?;
        let ticket = self
            .ticket(id)?
            .ok_or_else(|| AppError::internal(format!("ticket {id} is not in the view after its write")))?;
        Ok(Outcome { ticket, position })
    }
}
