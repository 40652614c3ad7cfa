//! Idempotency keys: the event ids and correlation a keyed request gets,
//! and finding an earlier attempt of it.

use domain::actor::Actor;
use eventformat::wire::StreamKind;
use eventlog::{EventId, Position, StreamId};

use super::{stream, Service, IDEMPOTENCY_NAMESPACE};
use crate::error::AppError;

impl Service {
    /// Whether a request with this shared idempotency key (see
    /// [`Acting::shared_key`](super::Acting::shared_key)) was already
    /// applied to the record `id` (so that a re-run of an import skips it).
    pub fn applied<I: StreamKind + std::fmt::Display>(&self, id: &I, idempotency_key: &str) -> Result<bool, AppError> {
        let stream = stream(id)?;
        let first = KeyedRequest::new(&stream, None, idempotency_key, "").event_id(0);
        Ok(self.stream_events(&stream)?.iter().any(|r| r.id == first))
    }
}

/// A request's description with every phone or ID number typed into its
/// free text replaced by its kind, so that no digest of one is stored
/// (the fields of `Personal` values are left out by their `Debug`).
pub(super) fn without_numbers(request: &str) -> String {
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
pub(super) struct KeyedRequest {
    /// `stream`, principal and key, from which event ids derive.
    scope: String,
    /// Derived from the scope and the request's description: an earlier
    /// attempt with another correlation was another request.
    pub(super) correlation: uuid::Uuid,
    /// Whether an earlier attempt's correlation is checked (not for shared
    /// keys, which name their request themselves).
    fingerprinted: bool,
}

impl KeyedRequest {
    /// `actor`: the principal the key belongs to (`None`: a shared key,
    /// whose ids are those keys have always had).
    pub(super) fn new(stream: &StreamId, actor: Option<&Actor>, key: &str, request: &str) -> Self {
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
    pub(super) fn event_id(&self, i: usize) -> EventId {
        EventId(uuid::Uuid::new_v5(
            &IDEMPOTENCY_NAMESPACE,
            format!("{}\u{0}{i}", self.scope).as_bytes(),
        ))
    }

    /// The position of the last event of an earlier attempt of this
    /// request, if there was one; refused if the key was used for a
    /// different request.
    pub(super) fn already_done(
        &self,
        subject: &str,
        recorded: &[eventlog::RecordedEvent],
    ) -> Result<Option<Position>, AppError> {
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
