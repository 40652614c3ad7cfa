//! The one path every command takes: read the record, authorize, look for
//! an earlier attempt, decide, seal, append.

use domain::decider::Stamped;
use domain::error::DomainError;
use eventformat::sealing::Sealable;
use eventformat::wire::{self, DomainEvent, StoredName};
use eventlog::{EventId, EventStore, ExpectedVersion, NewEvent, Position, StoreError, StreamId};

use super::idempotency::{without_numbers, KeyedRequest};
use super::{Acting, Service};
use crate::error::AppError;

impl Service {
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
    pub(super) async fn execute<E: serde::Serialize + StoredName + Sealable>(
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
        let new = new_events(&events, keyed.as_ref())?;
        self.append_new(subject, stream, version, new, keyed.as_ref()).await
    }

    /// Appends `new` to `stream`, expecting it at `version`. When someone
    /// else wrote first, a keyed request looks for its own earlier attempt
    /// (a retry racing it) and answers as that attempt did.
    async fn append_new(
        &self,
        subject: &str,
        stream: &StreamId,
        version: Option<u64>,
        new: Vec<NewEvent>,
        keyed: Option<&KeyedRequest>,
    ) -> Result<Position, AppError> {
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
                let done = match keyed {
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
}

/// The events to append: ids and correlation derived from the request's
/// key, or random ones without a key.
fn new_events<E: serde::Serialize + StoredName>(
    events: &[Stamped<E>],
    keyed: Option<&KeyedRequest>,
) -> Result<Vec<NewEvent>, AppError> {
    let (ids, correlation) = match keyed {
        Some(k) => (
            (0..events.len()).map(|i| k.event_id(i)).collect::<Vec<_>>(),
            k.correlation,
        ),
        None => (
            (0..events.len()).map(|_| EventId::new_random()).collect(),
            uuid::Uuid::new_v4(),
        ),
    };
    events
        .iter()
        .zip(ids)
        .map(|(e, id)| wire::to_new_event(e, id, Some(correlation)))
        .collect::<Result<Vec<_>, _>>()
        .map_err(AppError::internal)
}
