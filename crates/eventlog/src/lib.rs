//! The event log: an append-only, ordered, durable store of immutable
//! events, the ground truth of the after-sales system. Every view is
//! derived from it.
//!
//! # Guarantees
//!
//! **Ordering.** Every event gets a global position. Positions start at 0,
//! are dense (no gaps, ever, also across crashes) and strictly increasing,
//! and commit order is position order, however many writers append at
//! once. Within a stream, versions are dense from 0, but for versions an
//! explicit repair declared lost (below). One writer thread
//! allocates positions inside the same serialized step that stores the
//! events; sled's `generate_id` is not used (it skips ids after a crash).
//! Readers (`read_all`, `read_stream`, subscriptions) only see events below
//! the *visible head*, which moves only after a whole group is stored and
//! synced, so no reader can see position N+1 before N (the race that made
//! several event stores' subscriptions skip events), nor an event that a
//! crash could take back.
//!
//! **Atomicity.** The events of one `append` land together or not at all,
//! with every index they touch (log, stream index, id index): they are one
//! frame of the write-ahead file, checksummed as a whole, which recovery
//! applies whole or not at all. sled receives the records and their index
//! entries as plain inserts (cheaper than a `sled::Batch`) and may keep
//! only some of them after a crash; recovery writes the index entries of
//! every record past the last checkpoint again, and readers never see past
//! the visible head, which moves only after the whole group is in sled and
//! synced. A stream's head is the last entry of its range in
//! the stream index, so it cannot disagree with it. A refused append
//! (`WrongExpectedVersion`, a partly written or conflicting retry, invalid
//! input) writes nothing.
//! [`EventStore::append_streams`] extends this to several streams: its
//! parts (each a [`StreamAppend`] with its own expected version, each
//! stream once) are checked together, then land in the order given at
//! consecutive positions in one frame, or none does; one unmet expected
//! version refuses the whole call and leaves the log as it was.
//!
//! **Durability.** In [`Durability::Durable`] (the default) `append`
//! returns only after its events are on stable storage: each group of
//! appends is written as one frame to an own write-ahead file and made
//! durable by one `fdatasync` of it before anyone is acknowledged.
//! Concurrent appends share that one sync (group commit), so throughput
//! grows with the number of writers. sled holds the same records and is
//! made durable at checkpoints (open, close, every 64 MiB of write-ahead
//! file) by `flush` followed by `fdatasync` of its `db` file; at open,
//! frames past what sled recovered are applied again. sled's own `flush`
//! is never trusted alone: in 0.34 it only calls `sync_file_range`, which
//! flushes neither the drive's write cache nor file metadata (sled issues
//! #1452 and #654), and its background flusher (off here) runs on a timer.
//! [`Durability::Buffered`] acknowledges at once and syncs on an interval:
//! a crash loses at most that interval's appends, and readers still see
//! only synced events. A failed write or sync poisons the store: it
//! refuses all further writes until the process reopens it.
//!
//! sled caveats, written down because the log depends on them: sled 0.34
//! is a beta whose on-disk format may change in later versions (we pin
//! 0.34.7, and its segment size, 8 MiB here, is fixed per data folder);
//! values above a quarter of a segment go to separate blob files, which
//! sled does not sync (our size limits keep events far below that, and a
//! checkpoint fsyncs any blob file it finds anyway); sled releases its
//! file lock only when its epoch-based collector frees the last internal
//! handle, so reopening a folder in the same process retries the lock for
//! a few seconds.
//!
//! **Idempotency.** Every event carries a caller-chosen [`EventId`], kept
//! in a permanent index. Re-appending a batch whose events are all already
//! written (same ids, same content) writes nothing and returns the original
//! positions with `deduplicated: true`, whatever the expected version says,
//! so a client may retry a timed-out append blindly. A batch of which only
//! some events exist is refused (`PartiallyWritten`), as is an id reused
//! for different content (`IdReused`). For `append_streams` the batch is
//! the whole call: a retry returns every part's original outcome, and a
//! call of which only some parts (or events) exist is refused.
//!
//! **Integrity.** Each record is a versioned envelope ([`envelope`]) with a
//! crc32c over its bytes. sled stores the records of one commit group in
//! chunks of up to 64 under one key (sled's cost is per key), each chunk
//! with a crc32c over its own header; the envelopes inside are the same
//! bytes a lone record has. A damaged or missing record is reported as
//! [`StoreError::Corrupt`] with its position, never skipped and never a
//! panic; [`EventStore::verify`] walks the whole store. Reads hand out
//! [`RecordedEvent`]s that view the stored bytes without copying them.
//!
//! **Repair.** Damage inside a write-ahead file (bytes that fail the frame
//! check with valid frames after them) makes every open refuse
//! ([`StoreError::WalDamaged`]), changing nothing. [`SledEventStore::repair`]
//! is the explicit way on: it copies the folder aside first, keeps every
//! valid frame, every record inside the damage whose own checksum holds
//! and every record sled already held, stores a placeholder in the
//! reserved stream [`LOST_STREAM`] at each position still lost (so
//! positions stay dense), declares in those placeholders the stream
//! versions found missing, and reports exactly which positions were lost
//! ([`RepairReport`]). `verify` and `read_stream` accept a gap in a
//! stream's versions only where a repair declared it.
//!
//! # Example
//!
//! ```
//! use eventlog::{EventStore, ExpectedVersion, NewEvent, EventId, EventMetadata,
//!                SledEventStore, SledOptions, StreamId};
//! # #[tokio::main(flavor = "current_thread")]
//! # async fn main() -> Result<(), Box<dyn std::error::Error>> {
//! let dir = tempfile::tempdir()?;
//! let store = SledEventStore::open(dir.path(), SledOptions::default())?;
//! let stream = StreamId::new("ticket-1")?;
//! let event = NewEvent {
//!     id: EventId::new_random(),
//!     event_type: "Received".into(),
//!     schema_version: 1,
//!     payload: eventlog::codec::encode(&("leak in bathroom", 3u8))?,
//!     metadata: EventMetadata::default(),
//! };
//! let outcome = store.append(&stream, ExpectedVersion::NoStream, vec![event]).await?;
//! assert_eq!(outcome.positions, vec![0]);
//! assert_eq!(store.read_stream(&stream, 0, 10)?.len(), 1);
//! # Ok(()) }
//! ```

pub mod codec;
pub mod envelope;
mod error;
mod sled_open;
mod sled_store;
mod store;
mod types;

pub use error::StoreError;
pub use sled_open::retry_while_locked;
pub use sled_store::{
    Durability, LostPosition, RecoveryReport, RepairOptions, RepairReport, SledEventStore, SledOptions, WalDamage,
    WriteStats, LOST_EVENT_TYPE, LOST_STREAM, STORE_FORMAT,
};
pub use store::{
    wait_for_position, EventIter, EventStore, EventStoreExt, ReadAll, Subscription, VerifyReport, READ_BATCH,
};
pub use types::*;
