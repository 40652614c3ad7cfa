//! Archive records folded once and kept: a project's or a unit's state
//! with the stream version it covers. Every read still goes to the log
//! for the events after that version (usually none) and folds them on, so
//! a read sees every event the log holds, as a fold from the first event
//! would; it no longer decodes and folds a project's whole history (every
//! building and unit it ever registered) for each ticket command.
//!
//! Only for records whose events hold nothing personal (projects and
//! units): a kept state never holds what an erasure must shred.

use std::collections::HashMap;
use std::sync::Mutex;

use domain::decider::{Decider, Stamped};
use eventformat::sealing::Sealable;
use eventformat::wire::DomainEvent;
use eventlog::StreamId;

use super::Service;
use crate::error::AppError;

/// Records kept per kind; past that the kept states start over.
const KEPT: usize = 8192;

/// Folded states by stream, each with the next stream version to fold.
pub(crate) struct Folds<S> {
    kept: Mutex<HashMap<StreamId, (u64, S)>>,
}

impl<S: Clone> Folds<S> {
    pub(crate) fn new() -> Self {
        Self {
            kept: Mutex::new(HashMap::new()),
        }
    }

    fn lock(&self) -> std::sync::MutexGuard<'_, HashMap<StreamId, (u64, S)>> {
        self.kept.lock().unwrap_or_else(|p| p.into_inner())
    }

    fn get(&self, stream: &StreamId) -> Option<(u64, S)> {
        self.lock().get(stream).cloned()
    }

    /// Keeps `state` as the fold of versions below `next`, unless a fold
    /// further along is kept already.
    fn put(&self, stream: &StreamId, next: u64, state: S) {
        let mut kept = self.lock();
        if kept.get(stream).is_some_and(|(n, _)| *n >= next) {
            return;
        }
        if kept.len() >= KEPT && !kept.contains_key(stream) {
            kept.clear();
        }
        kept.insert(stream.clone(), (next, state));
    }
}

impl Service {
    /// The state of `stream` folded by `D`: the kept fold brought up to
    /// date with the events after it.
    pub(super) fn folded<D, E>(
        &self,
        folds: &Folds<D::State>,
        stream: &StreamId,
        unwrap: fn(DomainEvent) -> Option<Stamped<E>>,
    ) -> Result<D::State, AppError>
    where
        D: Decider<Event = Stamped<E>>,
        D::State: Clone + Default,
        E: Sealable,
    {
        let (next, state) = folds.get(stream).unwrap_or_default();
        let (recorded, events) = self.history_from(stream, next, unwrap)?;
        let Some(last) = recorded.last() else {
            return Ok(state);
        };
        let state = events.iter().fold(state, D::evolve);
        folds.put(stream, last.stream_version + 1, state.clone());
        Ok(state)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn stream(name: &str) -> StreamId {
        StreamId::new(name).unwrap_or_else(|e| panic!("{e}"))
    }

    #[test]
    fn a_kept_fold_only_moves_forward() {
        let folds: Folds<u32> = Folds::new();
        let s = stream("project-P01");
        assert_eq!(folds.get(&s), None);
        folds.put(&s, 3, 30);
        // A slower reader that folded less keeps nothing back.
        folds.put(&s, 2, 20);
        assert_eq!(folds.get(&s), Some((3, 30)));
        folds.put(&s, 5, 50);
        assert_eq!(folds.get(&s), Some((5, 50)));
    }

    #[test]
    fn kept_folds_start_over_when_full() {
        let folds: Folds<usize> = Folds::new();
        for i in 0..KEPT {
            folds.put(&stream(&format!("unit-U{i}")), 1, i);
        }
        assert_eq!(folds.lock().len(), KEPT);
        folds.put(&stream("unit-new"), 1, 0);
        assert_eq!(folds.lock().len(), 1);
        assert_eq!(folds.get(&stream("unit-new")), Some((1, 0)));
    }
}
