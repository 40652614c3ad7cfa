//! Writing a view: [`ViewWriter`] stages a batch's changes over the tree,
//! and the runner commits them with the checkpoint (and the batch's dead
//! letters) in one atomic batch.

use std::collections::BTreeMap;

use crate::store::{ViewBatch, ViewTree};
use chrono::{DateTime, Utc};
use eventformat::wire::DomainEvent;
use eventlog::codec;
use eventlog::Position;
use serde::{de::DeserializeOwned, Serialize};

use super::{dead_letter_key, read_event, Applied, DeadLetter, ProjectionError, Runner, Unreadable, CHECKPOINT_KEY};

/// Reads a view's tree through the writes staged in the current batch, and
/// stages new ones.
pub struct ViewWriter<'t> {
    tree: &'t ViewTree,
    staged: BTreeMap<Vec<u8>, Option<Vec<u8>>>,
}

impl<'t> ViewWriter<'t> {
    pub(super) fn new(tree: &'t ViewTree) -> Self {
        Self {
            tree,
            staged: BTreeMap::new(),
        }
    }

    /// The current value of `key`, staged writes included.
    pub fn get(&self, key: &[u8]) -> Result<Option<Vec<u8>>, ProjectionError> {
        match self.staged.get(key) {
            Some(v) => Ok(v.clone()),
            None => Ok(self.tree.get(key)?),
        }
    }

    /// Decodes the value of `key`.
    pub fn get_value<T: DeserializeOwned>(&self, key: &[u8]) -> Result<Option<T>, ProjectionError> {
        match self.get(key)? {
            Some(bytes) => Ok(Some(codec::decode("view value", 1, &bytes)?)),
            None => Ok(None),
        }
    }

    /// Stages `key = value`.
    pub fn put(&mut self, key: Vec<u8>, value: Vec<u8>) {
        debug_assert!(key.first() != Some(&0), "keys starting with 0x00 are reserved");
        self.staged.insert(key, Some(value));
    }

    /// Stages `key = encode(value)`.
    pub fn put_value<T: Serialize>(&mut self, key: Vec<u8>, value: &T) -> Result<(), ProjectionError> {
        let bytes = codec::encode(value)?;
        self.put(key, bytes);
        Ok(())
    }

    /// Stages the removal of `key`.
    pub fn delete(&mut self, key: Vec<u8>) {
        self.staged.insert(key, None);
    }

    pub(super) fn into_batch(self, next: Position, dead: Vec<(Vec<u8>, Vec<u8>)>) -> ViewBatch {
        let mut batch = ViewBatch::default();
        for (k, v) in dead {
            batch.put(k, v);
        }
        for (k, v) in self.staged {
            match v {
                Some(v) => batch.put(k, v),
                None => batch.delete(k),
            }
        }
        batch.put(CHECKPOINT_KEY.to_vec(), next.to_be_bytes().to_vec());
        batch
    }
}

impl Runner {
    /// Applies one batch of events to `tree` and commits it with the
    /// checkpoint. Returns the last position applied.
    pub(super) fn apply_batch(
        &self,
        tree: &ViewTree,
        batch: &[eventlog::RecordedEvent],
    ) -> Result<Position, (Position, ProjectionError)> {
        let Some(last) = batch.last().map(|r| r.position) else {
            return Ok(0);
        };
        let mut decoded = Vec::with_capacity(batch.len());
        let mut dead = Vec::new();
        for recorded in batch {
            match read_event(recorded) {
                Ok(Some(e)) => decoded.push((recorded.position, recorded.recorded_at, e)),
                Ok(None) => {}
                Err(unreadable) => dead.push((recorded.position, unreadable)),
            }
        }
        let decoded: Vec<(Position, DateTime<Utc>, &DomainEvent)> =
            decoded.iter().map(|(p, t, e)| (*p, *t, e)).collect();
        let dead: Vec<(Position, &Unreadable)> = dead.iter().map(|(p, u)| (*p, u)).collect();
        self.apply_decoded(tree, &decoded, &dead, last)
    }

    /// Applies decoded events and commits them with the checkpoint after
    /// `last` (the last position read, decoded or not), and with a dead
    /// letter for each event of `dead`, which could not be read.
    pub(super) fn apply_decoded(
        &self,
        tree: &ViewTree,
        decoded: &[(Position, DateTime<Utc>, &DomainEvent)],
        dead: &[(Position, &Unreadable)],
        last: Position,
    ) -> Result<Position, (Position, ProjectionError)> {
        let applied: Vec<Applied<'_>> = decoded
            .iter()
            .map(|(position, recorded_at, event)| Applied {
                position: *position,
                recorded_at: *recorded_at,
                event,
            })
            .collect();
        let mut writer = ViewWriter::new(tree);
        if let Err(e) = self.projection.apply_all(&mut writer, &applied) {
            // Find the event that fails, one by one, to report its position.
            let mut probe = ViewWriter::new(tree);
            for a in &applied {
                if let Err(e) = self.projection.apply(&mut probe, a) {
                    return Err((a.position, e));
                }
            }
            return Err((applied.first().map(|a| a.position).unwrap_or(last), e));
        }
        let mut letters = Vec::with_capacity(dead.len());
        for (position, unreadable) in dead {
            let letter = DeadLetter {
                position: *position,
                view: self.projection.name().to_string(),
                event_type: unreadable.event_type.clone(),
                reason: unreadable.reason.clone(),
            };
            tracing::warn!(
                view = letter.view,
                position = letter.position,
                event_type = letter.event_type,
                reason = letter.reason,
                "the view cannot read the event at position {position}; it sets it aside and keeps going"
            );
            let value = codec::encode(&letter).map_err(|e| (*position, e.into()))?;
            letters.push((dead_letter_key(*position), value));
        }
        let batch = writer.into_batch(last + 1, letters);
        tree.apply(batch).map_err(|e| (last, e.into()))?;
        Ok(last)
    }
}
