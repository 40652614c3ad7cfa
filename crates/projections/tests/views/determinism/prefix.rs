//! The log cut short at a position, to stop a view exactly there.

use std::future::Future;
use std::pin::Pin;
use std::sync::Mutex;

use eventlog::{
    AppendOutcome, EventStore, ExpectedVersion, NewEvent, Position, RecordedEvent, SledEventStore, StoreError,
    StreamId, StreamVersion, VerifyReport,
};
use tokio::sync::watch;

use crate::support::*;

// ---------------------------------------------------- the log, cut short

/// The log as it was up to position `last`, with a close of its own.
///
/// A runner ends only when its store closes, and closing the real log would
/// stop every other view on it. Stopping a view after exactly the events up
/// to `last` is what a restart in the middle needs, so the view is first
/// run on this prefix of the log: it applies up to `last`, commits, sees
/// the prefix close and stops. Reopened on the same view database and
/// started on the real log, it must resume from its checkpoint.
///
/// Once closed, the prefix reads nothing more, as a process that stops
/// reads nothing more: a runner stops at the batch it has committed last,
/// even in the middle of a rebuild.
pub(super) struct LogPrefix {
    log: Arc<SledEventStore>,
    last: Position,
    head: watch::Receiver<Option<Position>>,
    /// Dropped on close: the subscriptions' wake-ups fail, which is how a
    /// closed store looks to them.
    open: Mutex<Option<watch::Sender<Option<Position>>>>,
}

impl LogPrefix {
    pub(super) fn new(log: Arc<SledEventStore>, last: Position) -> Arc<Self> {
        let (tx, head) = watch::channel(log.head().map(|h| h.min(last)));
        Arc::new(Self {
            log,
            last,
            head,
            open: Mutex::new(Some(tx)),
        })
    }

    pub(super) fn close(&self) {
        self.open.lock().unwrap().take();
    }
}

impl EventStore for LogPrefix {
    // The `#[async_trait]` method written out, as this crate does not depend
    // on `async-trait`. A prefix of the log takes no appends.
    fn append<'life0, 'life1, 'async_trait>(
        &'life0 self,
        _stream: &'life1 StreamId,
        _expected: ExpectedVersion,
        _events: Vec<NewEvent>,
    ) -> Pin<Box<dyn Future<Output = Result<AppendOutcome, StoreError>> + Send + 'async_trait>>
    where
        'life0: 'async_trait,
        'life1: 'async_trait,
        Self: 'async_trait,
    {
        Box::pin(async { Err(StoreError::Closed) })
    }

    fn read_stream(
        &self,
        stream: &StreamId,
        from_version: StreamVersion,
        limit: usize,
    ) -> Result<Vec<RecordedEvent>, StoreError> {
        let mut events = self.log.read_stream(stream, from_version, limit)?;
        events.retain(|e| e.position <= self.last);
        Ok(events)
    }

    fn stream_version(&self, stream: &StreamId) -> Result<Option<StreamVersion>, StoreError> {
        Ok(self
            .read_stream(stream, 0, usize::MAX)?
            .last()
            .map(|e| e.stream_version))
    }

    fn read_all_batch(&self, from: Position, limit: usize) -> Result<Vec<RecordedEvent>, StoreError> {
        if from > self.last || self.open.lock().unwrap().is_none() {
            return Ok(Vec::new());
        }
        let limit = limit.min(usize::try_from(self.last - from + 1).unwrap_or(usize::MAX));
        self.log.read_all_batch(from, limit)
    }

    fn head(&self) -> Option<Position> {
        self.log.head().map(|h| h.min(self.last))
    }

    fn watch_head(&self) -> watch::Receiver<Option<Position>> {
        self.head.clone()
    }

    /// Checks the whole underlying log.
    fn verify(&self) -> Result<VerifyReport, StoreError> {
        self.log.verify()
    }
}
