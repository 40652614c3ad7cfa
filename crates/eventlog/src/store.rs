//! The `EventStore` trait every backend implements, and what is built on it
//! once for all backends: the batched `read_all` iterator and subscriptions.

use std::collections::VecDeque;
use std::sync::Arc;
use std::time::Duration;

use async_trait::async_trait;
use tokio::sync::watch;

use crate::error::StoreError;
use crate::types::{
    AppendOutcome, ExpectedVersion, NewEvent, Position, RecordedEvent, StreamAppend, StreamId, StreamVersion,
};

/// Events fetched per read when iterating or subscribing.
pub const READ_BATCH: usize = 256;

/// What `verify` found in a healthy store.
#[derive(Clone, Copy, PartialEq, Eq, Debug, Default)]
pub struct VerifyReport {
    /// Events checked.
    pub events: u64,
    /// Streams checked.
    pub streams: u64,
    /// The last position (`None` for an empty log).
    pub head: Option<Position>,
    /// Positions a repair could not restore, which hold placeholders in
    /// the stream `$lost` (counted among `events`).
    pub lost: u64,
}

/// An append-only, ordered, durable event log.
///
/// Readers only ever see a prefix of the log: every position up to the
/// visible head, none after it, with no gaps. In the durable mode the
/// visible head only covers events on stable storage.
#[async_trait]
pub trait EventStore: Send + Sync + 'static {
    /// Appends `events` to `stream` if the stream matches `expected`.
    /// All events land or none does. Returns once they are durable (in the
    /// default mode). See the crate docs for idempotency.
    async fn append(
        &self,
        stream: &StreamId,
        expected: ExpectedVersion,
        events: Vec<NewEvent>,
    ) -> Result<AppendOutcome, StoreError>;

    /// Appends to several streams at once, atomically: every part lands,
    /// in the order given, at consecutive positions (one write-ahead
    /// frame), or none does. Each part is checked against its own
    /// expected version; one that is not satisfied refuses the whole call
    /// with that part's `WrongExpectedVersion` and writes nothing. A
    /// stream may appear only once, no part may be empty, and all parts
    /// together carry at most [`crate::MAX_EVENTS_PER_MULTI_APPEND`] events.
    /// A retry is recognised as for `append`: when every event of every
    /// part is already in the log with the same content, the original
    /// outcomes come back with `deduplicated: true`; when only some are,
    /// the call is refused (`PartiallyWritten`, or `IdReused` for
    /// different content). Returns one outcome per part, in order.
    ///
    /// The default takes a single part to [`EventStore::append`] and
    /// refuses more: a store that cannot write several streams in one
    /// atomic step must not pretend to.
    async fn append_streams(&self, parts: Vec<StreamAppend>) -> Result<Vec<AppendOutcome>, StoreError> {
        let mut parts = parts.into_iter();
        match (parts.next(), parts.next()) {
            (Some(part), None) => Ok(vec![self.append(&part.stream, part.expected, part.events).await?]),
            (None, _) => Err(StoreError::InvalidAppend(
                "a multi-stream append needs at least one part".into(),
            )),
            (Some(_), Some(_)) => Err(StoreError::InvalidAppend(
                "this store cannot append to several streams atomically".into(),
            )),
        }
    }

    /// Up to `limit` events of `stream` from `from_version` on, in order.
    fn read_stream(
        &self,
        stream: &StreamId,
        from_version: StreamVersion,
        limit: usize,
    ) -> Result<Vec<RecordedEvent>, StoreError>;

    /// The version of the stream's last visible event (`None`: no events).
    fn stream_version(&self, stream: &StreamId) -> Result<Option<StreamVersion>, StoreError>;

    /// Up to `limit` events from position `from` on, in order, without gaps.
    fn read_all_batch(&self, from: Position, limit: usize) -> Result<Vec<RecordedEvent>, StoreError>;

    /// Every event from position `from` on, in order, up to the head
    /// visible when the iterator was made; memory stays bounded however
    /// long the log. It stops after the first error. The default reads in
    /// batches of [`READ_BATCH`]; a backend may stream instead.
    fn read_all(&self, from: Position) -> EventIter<'_> {
        Box::new(ReadAll {
            store: self,
            next: from,
            buffer: Vec::new().into_iter(),
            done: false,
        })
    }

    /// The last visible position (`None`: the log is empty).
    fn head(&self) -> Option<Position>;

    /// A receiver woken whenever the visible head moves. A wake-up only:
    /// readers always read the log itself.
    fn watch_head(&self) -> watch::Receiver<Option<Position>>;

    /// Walks the whole store and checks checksums, density of positions and
    /// the consistency of every index; the first problem is returned as
    /// `StoreError::Corrupt` with its position.
    fn verify(&self) -> Result<VerifyReport, StoreError>;
}

/// Reading helpers every store gets.
pub trait EventStoreExt: EventStore {
    /// Subscribes from position `from` (inclusive): every event from there
    /// on, then each new one as it becomes visible. See [`Subscription`].
    fn subscribe(self: Arc<Self>, from: Position) -> Subscription
    where
        Self: Sized,
    {
        Subscription::new(self, from)
    }
}

impl<S: EventStore + ?Sized> EventStoreExt for S {}

/// What [`EventStore::read_all`] returns.
pub type EventIter<'a> = Box<dyn Iterator<Item = Result<RecordedEvent, StoreError>> + Send + 'a>;

/// The batched iterator behind the default [`EventStore::read_all`]. It
/// ends at the head visible when it reaches it, and stops after the first
/// error.
pub struct ReadAll<'a, S: ?Sized> {
    store: &'a S,
    next: Position,
    buffer: std::vec::IntoIter<RecordedEvent>,
    done: bool,
}

impl<S: EventStore + ?Sized> Iterator for ReadAll<'_, S> {
    type Item = Result<RecordedEvent, StoreError>;

    fn next(&mut self) -> Option<Self::Item> {
        if let Some(event) = self.buffer.next() {
            return Some(Ok(event));
        }
        if self.done {
            return None;
        }
        match self.store.read_all_batch(self.next, READ_BATCH) {
            Ok(batch) if batch.is_empty() => {
                self.done = true;
                None
            }
            Ok(batch) => {
                self.next += batch.len() as u64;
                self.buffer = batch.into_iter();
                self.buffer.next().map(Ok)
            }
            Err(e) => {
                self.done = true;
                Some(Err(e))
            }
        }
    }
}

/// Waits until the visible head reaches `position`, or `timeout` passes.
/// Returns whether it was reached: the read-your-writes primitive.
pub async fn wait_for_position<S: EventStore + ?Sized>(store: &S, position: Position, timeout: Duration) -> bool {
    let mut rx = store.watch_head();
    let reached = tokio::time::timeout(timeout, rx.wait_for(|head| head.is_some_and(|h| h >= position))).await;
    matches!(reached, Ok(Ok(_)))
}

/// A catch-up subscription: every event from a position on, then each new
/// event as it becomes visible, in order, with no gap and no duplicate.
///
/// It reads from the log in batches and uses the head watch only as a
/// wake-up, so a slow subscriber holds one batch in memory and never slows
/// a writer.
pub struct Subscription {
    store: Arc<dyn EventStore>,
    head: watch::Receiver<Option<Position>>,
    next: Position,
    buffer: VecDeque<RecordedEvent>,
}

impl Subscription {
    /// Subscribes to `store` from position `from` (inclusive).
    pub fn new(store: Arc<dyn EventStore>, from: Position) -> Self {
        let head = store.watch_head();
        Self {
            store,
            head,
            next: from,
            buffer: VecDeque::new(),
        }
    }

    /// The position of the next event this subscription will yield.
    pub fn next_position(&self) -> Position {
        self.next
    }

    /// The next event if one is visible now, without waiting: lets a
    /// consumer gather what is available into one batch.
    pub fn try_next(&mut self) -> Option<Result<RecordedEvent, StoreError>> {
        if self.buffer.is_empty() {
            match self.store.read_all_batch(self.next, READ_BATCH) {
                Ok(batch) => self.buffer.extend(batch),
                Err(e) => return Some(Err(e)),
            }
        }
        let event = self.buffer.pop_front()?;
        self.next = event.position + 1;
        Some(Ok(event))
    }

    /// The next event; waits for one if the subscriber has caught up.
    /// Returns `None` once the store is closed and everything visible was
    /// delivered.
    pub async fn next(&mut self) -> Option<Result<RecordedEvent, StoreError>> {
        loop {
            if let Some(event) = self.buffer.pop_front() {
                self.next = event.position + 1;
                return Some(Ok(event));
            }
            // Mark the current head as seen before reading, so a head that
            // moves after the read still wakes the wait below.
            self.head.borrow_and_update();
            match self.store.read_all_batch(self.next, READ_BATCH) {
                Ok(batch) if !batch.is_empty() => self.buffer.extend(batch),
                Ok(_) => {
                    if self.head.changed().await.is_err() {
                        // The store is gone; deliver what is still readable.
                        return match self.store.read_all_batch(self.next, READ_BATCH) {
                            Ok(batch) if !batch.is_empty() => {
                                self.buffer.extend(batch);
                                continue;
                            }
                            Ok(_) => None,
                            Err(e) => Some(Err(e)),
                        };
                    }
                }
                Err(e) => return Some(Err(e)),
            }
        }
    }
}
