//! Reading a record's stream: its events in order, decoded, personal
//! fields opened where their keys are.

use domain::archive::{OwnerEvent, ProjectEvent, UnitEvent};
use domain::decider::Stamped;
use domain::directory::{ContractorEvent, EngineerEvent};
use domain::incident::IncidentEvent;
use domain::ticket::TicketEvent;
use eventformat::sealing::Sealable;
use eventformat::wire::{self, DomainEvent, StreamKind};
use eventlog::{EventStore, StreamId};

use super::Service;
use crate::error::AppError;

impl Service {
    pub(super) fn stream_events(&self, stream: &StreamId) -> Result<Vec<eventlog::RecordedEvent>, AppError> {
        self.stream_events_from(stream, 0)
    }

    /// The events of `stream` from version `from` on.
    pub(super) fn stream_events_from(
        &self,
        stream: &StreamId,
        mut from: u64,
    ) -> Result<Vec<eventlog::RecordedEvent>, AppError> {
        let mut out = Vec::new();
        loop {
            let batch = self.store.read_stream(stream, from, 512).map_err(AppError::internal)?;
            let Some(last) = batch.last() else { break };
            from = last.stream_version + 1;
            out.extend(batch);
        }
        Ok(out)
    }

    /// A record's events, decoded, personal fields opened where their
    /// keys are.
    pub(super) fn history<E: Sealable>(
        &self,
        stream: &StreamId,
        unwrap: fn(DomainEvent) -> Option<Stamped<E>>,
    ) -> Result<(Vec<eventlog::RecordedEvent>, Vec<Stamped<E>>), AppError> {
        self.history_from(stream, 0, unwrap)
    }

    /// As [`Service::history`], from stream version `from` on.
    pub(super) fn history_from<E: Sealable>(
        &self,
        stream: &StreamId,
        from: u64,
        unwrap: fn(DomainEvent) -> Option<Stamped<E>>,
    ) -> Result<(Vec<eventlog::RecordedEvent>, Vec<Stamped<E>>), AppError> {
        let recorded = self.stream_events_from(stream, from)?;
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
}

pub(super) fn stream<I: StreamKind + std::fmt::Display>(id: &I) -> Result<StreamId, AppError> {
    wire::stream_of(id).map_err(|e| AppError::BadInput(e.to_string()))
}

pub(super) fn ticket_event(e: DomainEvent) -> Option<Stamped<TicketEvent>> {
    match e {
        DomainEvent::Ticket(_, e) => Some(e),
        _ => None,
    }
}

pub(super) fn project_event(e: DomainEvent) -> Option<Stamped<ProjectEvent>> {
    match e {
        DomainEvent::Project(_, e) => Some(e),
        _ => None,
    }
}

pub(super) fn unit_event(e: DomainEvent) -> Option<Stamped<UnitEvent>> {
    match e {
        DomainEvent::Unit(_, e) => Some(e),
        _ => None,
    }
}

pub(super) fn owner_event(e: DomainEvent) -> Option<Stamped<OwnerEvent>> {
    match e {
        DomainEvent::Owner(_, e) => Some(e),
        _ => None,
    }
}

pub(super) fn contractor_event(e: DomainEvent) -> Option<Stamped<ContractorEvent>> {
    match e {
        DomainEvent::Contractor(_, e) => Some(e),
        _ => None,
    }
}

pub(super) fn engineer_event(e: DomainEvent) -> Option<Stamped<EngineerEvent>> {
    match e {
        DomainEvent::Engineer(_, e) => Some(e),
        _ => None,
    }
}

pub(super) fn incident_event(e: DomainEvent) -> Option<Stamped<IncidentEvent>> {
    match e {
        DomainEvent::Incident(_, e) => Some(e),
        _ => None,
    }
}
