//! Reference data in the log: loading every published calendar, policy and
//! warranty version when the service opens, choosing the versions a
//! ticket's decisions use, and publishing a new version, which settles the
//! open tickets' provisional clocks in the same atomic append.

use std::sync::Arc;

use chrono::NaiveDate;
use domain::calendar::{BusinessCalendar, CalendarRegistry};
use domain::decider::{Context, Decider, Stamped};
use domain::error::DomainError;
use domain::ids::{ProjectId, TicketId};
use domain::policy::ServicePolicy;
use domain::reference::{
    PublishReference, Published, ReferenceCommand, ReferenceDecider, ReferenceEvent, ReferenceKind, ReferenceSet,
    ReferenceState, BUNDLED,
};
use domain::ticket::{Channel, SettledClock, TicketEvent};
use domain::warranty::WarrantyRules;
use eventformat::wire::{self, DomainEvent};
use eventlog::{EventId, EventStore, ExpectedVersion, Position, SledEventStore, StoreError, StreamAppend, StreamId};

use super::{Acting, Service};
use crate::error::AppError;

/// The policy and warranty rules every project uses until it chooses
/// others.
pub const DEFAULT_ID: &str = domain::archive::DEFAULT_REFERENCE_ID;

/// How often a publication is tried again when a ticket changed between
/// reading its clocks and appending its settlement.
const ATTEMPTS: usize = 3;

/// What publishing a version did (or, for a dry run, would do).
#[derive(Debug, Clone)]
pub struct PublishOutcome {
    /// The kind of file.
    pub kind: ReferenceKind,
    /// Its name.
    pub id: String,
    /// Its version.
    pub version: String,
    /// SHA-256 of the file.
    pub sha256: String,
    /// The bundled files published first, because the data folder had
    /// none of their kind and name yet.
    pub bundled_first: Vec<String>,
    /// The open tickets whose provisional clocks now count on it.
    pub settled: Vec<SettledTicket>,
    /// Where the publication landed (`None` for a dry run).
    pub position: Option<Position>,
}

/// The versions a project's new decisions use.
#[derive(Debug, Clone)]
pub struct InForce {
    /// The newest version of the service policy.
    pub policy: Arc<ServicePolicy>,
    /// The newest version of the project's business calendar.
    pub calendar: Arc<BusinessCalendar>,
    /// The newest version of the warranty rules.
    pub warranty: Arc<WarrantyRules>,
}

/// The bundled files' publications a folder lacks, and the state after
/// them.
struct Bundled {
    state: ReferenceState,
    events: Vec<Stamped<ReferenceEvent>>,
    names: Vec<String>,
}

/// One ticket a calendar publication settled.
#[derive(Debug, Clone)]
pub struct SettledTicket {
    /// The ticket.
    pub ticket: TicketId,
    /// Its clocks, with their deadlines before and after.
    pub clocks: Vec<SettledClock>,
}

fn reference_stream() -> Result<StreamId, AppError> {
    wire::reference_stream().map_err(AppError::internal)
}

/// The reference record's events, with its last version.
fn read_state(store: &SledEventStore) -> Result<(ReferenceState, Option<u64>), AppError> {
    let stream = reference_stream()?;
    let recorded = store.read_stream(&stream, 0, usize::MAX).map_err(AppError::internal)?;
    let mut state = ReferenceState::default();
    for r in &recorded {
        match wire::decode(r) {
            Ok(DomainEvent::Reference(e)) => state = ReferenceDecider::evolve(state, &e),
            Ok(other) => {
                return Err(AppError::Unreadable(format!(
                    "{stream} holds a {} event at position {}",
                    other.name(),
                    r.position
                )))
            }
            Err(e) => {
                return Err(AppError::Unreadable(format!(
                    "{stream} holds an event that cannot be read at position {} ({}): {e}",
                    r.position,
                    r.event_type()
                )))
            }
        }
    }
    Ok((state, recorded.last().map(|r| r.stream_version)))
}

/// Every published version, parsed, its calendars added to `calendars`.
pub(super) fn load(store: &SledEventStore, calendars: Arc<CalendarRegistry>) -> Result<ReferenceSet, AppError> {
    let (state, _) = read_state(store)?;
    ReferenceSet::load(&state, calendars).map_err(|e| {
        AppError::internal(format!(
            "a published reference version no longer loads ({e}); this build cannot read the data folder's \
             reference data"
        ))
    })
}

impl Service {
    /// Every published calendar, policy and warranty version.
    pub fn references(&self) -> Arc<ReferenceSet> {
        self.references
            .read()
            .unwrap_or_else(std::sync::PoisonError::into_inner)
            .clone()
    }

    /// The versions a decision on a ticket of `project` received on
    /// `received` (a date in the calendar's zone) uses: the newest
    /// versions of the calendar, service policy and warranty rules the
    /// project had chosen for that day (`chooseProjectReferenceData`;
    /// until then the calendar it was registered with and the `default`
    /// policy and rules).
    pub fn reference_data_for(&self, project: &ProjectId, received: NaiveDate) -> Result<InForce, AppError> {
        let references = self.references();
        let record = self.project(project)?.0;
        let (calendar_id, policy_id, warranty_id) = match &record {
            Some(p) => (
                p.calendar_on(received).to_string(),
                p.policy_on(received).to_string(),
                p.warranty_on(received).to_string(),
            ),
            None => (
                "cn-mainland".to_string(),
                DEFAULT_ID.to_string(),
                DEFAULT_ID.to_string(),
            ),
        };
        let missing = |what: String| AppError::Domain(DomainError::MissingReference { what });
        let calendar = references.calendar(&calendar_id).ok_or_else(|| {
            missing(format!(
                "business calendar {calendar_id} of project {project} is not published"
            ))
        })?;
        let policy = references.policy(&policy_id).ok_or_else(|| {
            missing(format!(
                "service policy {policy_id} of project {project} is not published"
            ))
        })?;
        let warranty = references.warranty(&warranty_id).ok_or_else(|| {
            missing(format!(
                "warranty rules {warranty_id} of project {project} are not published"
            ))
        })?;
        Ok(InForce {
            policy,
            calendar,
            warranty,
        })
    }

    /// Refuses a project's registration or choice naming a calendar,
    /// policy or warranty rules that is not published.
    pub(super) fn check_reference_choice(&self, command: &domain::archive::ProjectCommand) -> Result<(), AppError> {
        let references = self.references();
        let (calendar, policy, warranty) = match command {
            domain::archive::ProjectCommand::ChooseReferenceData {
                calendar,
                policy,
                warranty,
                ..
            } => (calendar.as_ref(), policy.as_ref(), warranty.as_ref()),
            domain::archive::ProjectCommand::Register { calendar, .. } => (Some(calendar), None, None),
            domain::archive::ProjectCommand::RegisterBuilding { .. } => return Ok(()),
        };
        let not_found = |what: String| {
            AppError::Domain(DomainError::NotFound {
                what: format!("{what} (publish it first)"),
            })
        };
        if let Some(id) = calendar {
            references
                .calendar(id)
                .ok_or_else(|| not_found(format!("business calendar {id}")))?;
        }
        if let Some(id) = policy {
            references
                .policy(id)
                .ok_or_else(|| not_found(format!("service policy {id}")))?;
        }
        if let Some(id) = warranty {
            references
                .warranty(id)
                .ok_or_else(|| not_found(format!("warranty rules {id}")))?;
        }
        Ok(())
    }

    /// Records the files shipped with the build as the first versions of
    /// a data folder that has none of their kind and name yet (a new one,
    /// or one written before reference data was stored). Returns what it
    /// published.
    pub async fn publish_bundled(&self) -> Result<Vec<String>, AppError> {
        let _exclusive = self.publication.write().await;
        for _ in 0..ATTEMPTS {
            let (state, version) = read_state(&self.store)?;
            let Bundled { events, names, .. } = self.bundled_missing(state)?;
            if events.is_empty() {
                return Ok(Vec::new());
            }
            let new = self.encode_reference(&events)?;
            match self.store.append(&reference_stream()?, expected(version), new).await {
                // No view reads reference data: nothing to wait for.
                Ok(_) => {
                    self.reload_references()?;
                    return Ok(names);
                }
                Err(StoreError::WrongExpectedVersion { .. }) => continue,
                Err(e) => return Err(AppError::internal(e)),
            }
        }
        Err(AppError::Conflict(
            "reference data changed while the bundled files were being recorded; try again".into(),
        ))
    }

    /// The bundled files' publications `state` lacks, decided as the
    /// system, and the state after them.
    fn bundled_missing(&self, mut state: ReferenceState) -> Result<Bundled, AppError> {
        let system = system()?;
        let mut events = Vec::new();
        let mut names = Vec::new();
        for (kind, source, text) in BUNDLED {
            let (id, _) = domain::reference::declared(kind, text).map_err(|p| AppError::internal(p.join("; ")))?;
            if state.latest(kind, &id).is_some() {
                continue;
            }
            let command = ReferenceCommand::Publish {
                kind,
                text: text.to_string(),
                source: source.to_string(),
            };
            let new = self.decide_publication(&state, command, &system)?;
            for e in &new {
                state = ReferenceDecider::evolve(state, e);
            }
            names.push(format!("{} {id}", kind.label()));
            events.extend(new);
        }
        Ok(Bundled { state, events, names })
    }

    fn decide_publication(
        &self,
        state: &ReferenceState,
        command: ReferenceCommand,
        acting: &Acting,
    ) -> Result<Vec<Stamped<ReferenceEvent>>, AppError> {
        // A project record that cannot be read is damage, said as such,
        // not "no such project".
        let damage = std::cell::RefCell::new(None);
        let exists = |p: &ProjectId| match self.project(p) {
            Ok(state) => state.0.is_some(),
            Err(e) => {
                damage.borrow_mut().get_or_insert(e);
                false
            }
        };
        let calendar = self.calendar.clone();
        let ctx = Context {
            now: self.now(),
            occurred_at: None,
            actor: acting.actor.clone(),
            channel: Channel::BackOffice,
            reference: PublishReference {
                project_exists: &exists,
                calendar: &calendar,
            },
        };
        let decided = ReferenceDecider::decide(state, command, &ctx);
        if let Some(e) = damage.into_inner() {
            return Err(e);
        }
        Ok(decided?)
    }

    fn encode_reference(&self, events: &[Stamped<ReferenceEvent>]) -> Result<Vec<eventlog::NewEvent>, AppError> {
        events
            .iter()
            .map(|e| {
                let (_, p) = e.event.parts();
                let id = EventId(uuid::Uuid::new_v5(
                    &super::IDEMPOTENCY_NAMESPACE,
                    format!("publication\u{0}{}\u{0}{}\u{0}{}", e.event.name(), p.id, p.sha256).as_bytes(),
                ));
                wire::to_new_event(e, id, None).map_err(AppError::internal)
            })
            .collect()
    }

    fn reload_references(&self) -> Result<(), AppError> {
        let fresh = load(&self.store, self.calendars.clone())?;
        *self
            .references
            .write()
            .unwrap_or_else(std::sync::PoisonError::into_inner) = Arc::new(fresh);
        Ok(())
    }

    /// Publishes `text` as a new version of a calendar, policy or warranty
    /// rules (checked first: every problem is listed, nothing appended).
    /// Publishing a calendar settles, in the same atomic append, every
    /// open ticket's provisional clocks that the new version changes.
    /// With `dry_run`, reports what it would do and appends nothing.
    pub async fn publish_reference(
        &self,
        kind: ReferenceKind,
        text: String,
        source: String,
        dry_run: bool,
        acting: Acting,
    ) -> Result<PublishOutcome, AppError> {
        // The role, before anything else.
        domain::reference::authorize(&acting.actor)?;
        // Ticket commands wait while a publication reads the open tickets
        // and appends their settlements: none can slip in between.
        let _exclusive = self.publication.write().await;
        for _ in 0..ATTEMPTS {
            // Every view up to the head, so that the open tickets and
            // their clocks are read at one point of the log.
            if let Some(head) = self.store.head() {
                self.settle(head).await?;
            }
            let (state, version) = read_state(&self.store)?;
            let Bundled {
                state,
                mut events,
                names: bundled_first,
            } = self.bundled_missing(state)?;
            let command = ReferenceCommand::Publish {
                kind,
                text: text.clone(),
                source: source.clone(),
            };
            let published = self.decide_publication(&state, command, &acting)?;
            let Some(event) = published.first().cloned() else {
                return Err(AppError::internal("a publication decided no event"));
            };
            events.extend(published);
            let (_, publication) = event.event.parts();
            let mut outcome = PublishOutcome {
                kind,
                id: publication.id.clone(),
                version: publication.version.clone(),
                sha256: publication.sha256.clone(),
                bundled_first,
                settled: Vec::new(),
                position: None,
            };
            let mut parts = Vec::new();
            let mut new_calendar = None;
            if kind == ReferenceKind::Calendar {
                let calendar = Arc::new(BusinessCalendar::from_toml(&publication.text)?);
                // The settlements are worked out on a copy of the registry.
                let trial = (*self.calendars).clone();
                trial.insert(calendar.clone())?;
                let (settled, ticket_parts) = self.settlements(&trial, &calendar, &event, &publication.sha256)?;
                outcome.settled = settled;
                parts = ticket_parts;
                new_calendar = Some(calendar);
            }
            if dry_run {
                return Ok(outcome);
            }
            // The views look the version up as soon as they read a
            // settlement naming it, so it is known before the append; it is
            // forgotten again if the append does not happen. New decisions
            // choose only versions in the log (`ReferenceSet::calendar`).
            if let Some(calendar) = &new_calendar {
                self.calendars.insert(calendar.clone())?;
            }
            let forget = || {
                if let Some(calendar) = &new_calendar {
                    self.calendars.remove(&calendar.reference());
                }
            };
            let mut all = vec![StreamAppend {
                stream: reference_stream()?,
                expected: expected(version),
                events: self.encode_reference(&events)?,
            }];
            all.extend(parts);
            let started = std::time::Instant::now();
            let appended = self.store.append_streams(all).await;
            self.appended(started.elapsed());
            match appended {
                Ok(outcomes) => {
                    let position = outcomes
                        .iter()
                        .filter_map(|o| o.positions.last().copied())
                        .max()
                        .ok_or_else(|| AppError::internal("a publication appended nothing"))?;
                    self.reload_references()?;
                    self.settle(position).await?;
                    outcome.position = Some(position);
                    return Ok(outcome);
                }
                // A ticket or the reference record moved since it was
                // read: read again and decide again.
                Err(StoreError::WrongExpectedVersion { .. }) => {
                    forget();
                    continue;
                }
                Err(e) => {
                    forget();
                    return Err(AppError::internal(e));
                }
            }
        }
        Err(AppError::Conflict(
            "tickets kept changing while the publication was being recorded; try again".into(),
        ))
    }

    /// The settlements of every open ticket under `calendar` (already in
    /// `registry`), and the appends that record them.
    fn settlements(
        &self,
        registry: &CalendarRegistry,
        calendar: &BusinessCalendar,
        publication: &Stamped<ReferenceEvent>,
        sha256: &str,
    ) -> Result<(Vec<SettledTicket>, Vec<StreamAppend>), AppError> {
        let sla = self.view("sla")?.tree();
        let open = projections::sla::open_tickets(&sla).map_err(AppError::internal)?;
        let at = publication.occurred_at;
        let mut settled = Vec::new();
        let mut parts = Vec::new();
        for ticket in open {
            // The view's clocks find the candidates; the ticket's own
            // stream decides, at the version the append will expect.
            if domain::sla::settlements_of_changes(&ticket.changes, registry, calendar, at)?.is_empty() {
                continue;
            }
            let stream = super::stream(&ticket.id)?;
            let (recorded, history) = self.history(&stream, super::ticket_event)?;
            let Some(version) = recorded.last().map(|r| r.stream_version) else {
                continue;
            };
            let events = domain::sla::settlements(&history, registry, calendar, at)?;
            if events.is_empty() {
                continue;
            }
            let mut clocks = Vec::new();
            let mut new = Vec::new();
            for (i, event) in events.into_iter().enumerate() {
                if let TicketEvent::CalendarSettled { clocks: c, .. } = &event {
                    clocks.extend(c.iter().cloned());
                }
                let stamped = Stamped {
                    occurred_at: at,
                    actor: publication.actor.clone(),
                    channel: Channel::BackOffice,
                    event,
                    text_seals: Vec::new(),
                };
                let id = EventId(uuid::Uuid::new_v5(
                    &super::IDEMPOTENCY_NAMESPACE,
                    format!("settlement\u{0}{sha256}\u{0}{}\u{0}{i}", ticket.id).as_bytes(),
                ));
                new.push(wire::to_new_event(&stamped, id, None).map_err(AppError::internal)?);
            }
            parts.push(StreamAppend {
                stream,
                expected: ExpectedVersion::Exact(version),
                events: new,
            });
            settled.push(SettledTicket {
                ticket: ticket.id.clone(),
                clocks,
            });
        }
        Ok((settled, parts))
    }

    /// The `CalendarSettled` events a ticket command brings with it: when
    /// the ticket's clocks still count provisionally on an older version
    /// of `calendar` (the newest published one) that they were never
    /// settled from, because they were stopped or paused when it came out
    /// and now run again, or the ticket changed while it was published.
    pub(super) fn catch_up_settlements(
        &self,
        history: &[Stamped<TicketEvent>],
        new: &[Stamped<TicketEvent>],
        calendar: &BusinessCalendar,
        acting: &Acting,
    ) -> Result<Vec<Stamped<TicketEvent>>, AppError> {
        let newest = calendar.reference();
        let older = history.iter().chain(new).any(|e| match &e.event {
            TicketEvent::Received { clocks, .. } | TicketEvent::PriorityChanged { clocks, .. } => {
                clocks.calendar.id == newest.id
                    && domain::calendar::compare_versions(&clocks.calendar.version, &newest.version).is_lt()
            }
            _ => false,
        });
        let Some(at) = new.iter().map(|e| e.occurred_at).max() else {
            return Ok(Vec::new());
        };
        if !older {
            return Ok(Vec::new());
        }
        let all: Vec<Stamped<TicketEvent>> = history.iter().chain(new).cloned().collect();
        Ok(domain::sla::settlements(&all, &self.calendars, calendar, at)?
            .into_iter()
            .map(|event| Stamped {
                occurred_at: at,
                actor: acting.actor.clone(),
                channel: Channel::BackOffice,
                event,
                text_seals: Vec::new(),
            })
            .collect())
    }

    /// Every registered project, by id.
    pub fn project_ids(&self) -> Result<Vec<ProjectId>, AppError> {
        let mut ids: Vec<ProjectId> = self
            .store
            .streams_with_prefix("project-")
            .map_err(AppError::internal)?
            .iter()
            .filter_map(|s| {
                s.as_str()
                    .strip_prefix("project-")
                    .and_then(|id| ProjectId::new(id).ok())
            })
            .collect();
        ids.sort();
        Ok(ids)
    }

    /// Every published version of every kind, in publication order.
    pub fn publications(&self) -> Vec<Published> {
        self.references().published.clone()
    }
}

/// The system, acting from the back office.
fn system() -> Result<Acting, AppError> {
    Ok(Acting::by(domain::actor::Actor::staff(
        domain::ids::UserId::new("system").map_err(AppError::internal)?,
        domain::actor::Role::System,
    )))
}

fn expected(version: Option<u64>) -> ExpectedVersion {
    match version {
        Some(v) => ExpectedVersion::Exact(v),
        None => ExpectedVersion::NoStream,
    }
}
