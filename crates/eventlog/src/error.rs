//! The ways the log can refuse or fail.

use crate::types::{EventId, ExpectedVersion, Position, StreamId, StreamVersion};

/// Every error the log returns. Refusals (`WrongExpectedVersion`,
/// `PartiallyWritten`, `IdReused`, invalid input) write nothing.
#[derive(Debug, thiserror::Error)]
pub enum StoreError {
    /// The stream's current version does not match what the caller
    /// expected: someone else appended first. Nothing was written; reload
    /// the stream and decide again.
    #[error("wrong expected version on stream {stream}: expected {expected}, the stream is at {}", describe_version(*.actual))]
    WrongExpectedVersion {
        /// The stream appended to.
        stream: StreamId,
        /// What the caller expected.
        expected: ExpectedVersion,
        /// The stream's last version (`None`: the stream does not exist).
        actual: Option<StreamVersion>,
    },

    /// Some events of the batch are already in the log and others are not:
    /// the batch is neither new nor a retry of an earlier append. Nothing
    /// was written.
    #[error("append to {stream} is partly written already: {} of {total} event ids exist (first: {first_existing} at position {first_existing_position}); a retry must resend exactly the original batch", .existing)]
    PartiallyWritten {
        /// The stream appended to.
        stream: StreamId,
        /// How many of the batch's ids exist.
        existing: usize,
        /// Batch size.
        total: usize,
        /// The first id that exists.
        first_existing: EventId,
        /// Where it is.
        first_existing_position: Position,
    },

    /// An event id is already in the log with different content (or in a
    /// different stream): the id was reused by mistake. Nothing was written.
    #[error("event id {id} is already used by a different event at position {position}")]
    IdReused {
        /// The reused id.
        id: EventId,
        /// The position of the event that owns it.
        position: Position,
    },

    /// The same event id appears twice in one batch.
    #[error("event id {id} appears more than once in the batch")]
    DuplicateIdInBatch {
        /// The repeated id.
        id: EventId,
    },

    /// A stream name was refused.
    #[error("invalid stream id {stream:?}: {reason}")]
    InvalidStreamId {
        /// The refused name (cut to 64 characters).
        stream: String,
        /// Why.
        reason: &'static str,
    },

    /// An event or batch breaks a size limit or is otherwise malformed.
    #[error("invalid append: {0}")]
    InvalidAppend(String),

    /// A stored record or index entry is damaged or missing. Reading stops
    /// there: nothing is ever silently skipped.
    #[error("corrupt log at position {position}: {reason}")]
    Corrupt {
        /// The first bad position.
        position: Position,
        /// What is wrong.
        reason: String,
    },

    /// A write-ahead file holds bytes that fail the frame check with
    /// valid frames after them. A crash only ever cuts the last frame
    /// short, so this is damage, and events acknowledged at the positions
    /// named may be lost. The store refused to open and changed nothing;
    /// the explicit repair (`SledEventStore::repair`, `aftersales repair`)
    /// is the way on.
    #[error("the write-ahead file {} is damaged at byte {} ({} bytes unreadable) and valid frames follow: {}; the store changed nothing and refuses to open. Stop every process using the folder and run `aftersales repair`: it copies the folder aside, keeps every valid frame and every record that still checks, and reports exactly which positions were lost", .0.file.display(), .0.offset, .0.bytes, describe_at_risk(.0))]
    WalDamaged(Box<crate::sled_store::WalDamage>),

    /// A repair stopped: damage it does not mend (sled's own records
    /// damaged or missing, a gap in a stream's versions that no damaged
    /// write-ahead bytes explain), files that changed while it ran, or a
    /// failure after it rewrote the damaged files. The reason says what,
    /// whether anything was changed, and where the copy of the files as
    /// they were is.
    #[error("the repair stopped: {reason}")]
    Repair {
        /// What stopped it.
        reason: String,
    },

    /// A payload could not be encoded or decoded.
    #[error("payload codec: {0}")]
    Codec(#[from] crate::codec::CodecError),

    /// sled reported an error. Damage sled finds in its own files (a
    /// record that fails its checksum) reads "sled's files are damaged",
    /// without sled's internal offsets.
    #[error("storage: {}", describe_sled(.0))]
    Storage(#[from] sled::Error),

    /// A file operation (fsync, open) failed.
    #[error("i/o: {0}")]
    Io(#[from] std::io::Error),

    /// A write, sync or store thread failed, so the store can no longer
    /// tell what is durable; it refuses writes until it is reopened. The
    /// outcome of the appends in flight at that moment is unknown: they
    /// may be in the log after the reopen. Retry them with the same event
    /// ids, which the log recognises.
    #[error("the log stopped accepting writes ({reason}); reopen it and retry with the same event ids")]
    Poisoned {
        /// The failure that poisoned the store.
        reason: String,
    },

    /// Another process (or a handle of this one that was not closed)
    /// holds the data folder.
    #[error("the data folder {} is in use by another process", .path.display())]
    Locked {
        /// The data folder.
        path: std::path::PathBuf,
    },

    /// The store was closed.
    #[error("the log is closed")]
    Closed,

    /// The data folder was written by an incompatible version.
    #[error("unsupported store format {found} (this build reads format {supported})")]
    UnsupportedFormat {
        /// Format found on disk.
        found: u32,
        /// Format this build writes and reads.
        supported: u32,
    },
}

fn describe_sled(error: &sled::Error) -> String {
    match error {
        sled::Error::Corruption { .. } => "sled's files are damaged: data read back fails sled's own checks; \
             the log cannot prove its bytes are whole (restore the folder from a backup)"
            .to_string(),
        sled::Error::Io(e) => format!("i/o: {e}"),
        sled::Error::Unsupported(what) => format!("unsupported: {what}"),
        sled::Error::ReportableBug(what) => format!("sled failed: {what}"),
        sled::Error::CollectionNotFound(_) => "a tree of the store is missing".to_string(),
    }
}

fn describe_at_risk(damage: &crate::sled_store::WalDamage) -> String {
    match damage.next_valid.checked_sub(1) {
        Some(last) if last >= damage.first_at_risk => format!(
            "events acknowledged at positions {}-{} may be lost",
            damage.first_at_risk, last
        ),
        _ => format!(
            "no position is missing around it (the next record is at {})",
            damage.next_valid
        ),
    }
}

fn describe_version(v: Option<StreamVersion>) -> String {
    match v {
        Some(v) => format!("version {v}"),
        None => "absent".to_owned(),
    }
}
