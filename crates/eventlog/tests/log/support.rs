//! Helpers shared by the log's tests.

pub use std::sync::Arc;
pub use std::time::Duration;

pub use eventlog::{
    codec, wait_for_position, Durability, EventId, EventMetadata, EventStore, EventStoreExt, ExpectedVersion, NewEvent,
    SledEventStore, SledOptions, StoreError, StreamAppend, StreamId, Subscription,
};

pub type TestResult = Result<(), Box<dyn std::error::Error>>;

/// An event of `event_type` whose payload is `body`, with audit metadata.
pub fn event(event_type: &str, body: &str) -> NewEvent {
    NewEvent {
        id: EventId::new_random(),
        event_type: event_type.into(),
        schema_version: 1,
        payload: codec::encode(&body).unwrap_or_default(),
        metadata: EventMetadata {
            actor: "agent-7".into(),
            role: "agent".into(),
            channel: "hotline".into(),
            ..EventMetadata::default()
        },
    }
}

pub fn stream(name: &str) -> StreamId {
    StreamId::new(name).unwrap_or_else(|e| panic!("{e}"))
}

pub fn open(dir: &std::path::Path) -> Result<SledEventStore, StoreError> {
    SledEventStore::open(dir, SledOptions::default())
}

/// sled itself, opened as the store opens it (the segment size is fixed
/// per data folder), to damage records below the log's own checks.
pub fn raw_sled(path: &std::path::Path) -> sled::Result<sled::Db> {
    sled::Config::new().path(path).segment_size(8 * 1024 * 1024).open()
}

pub fn copy_dir(from: &std::path::Path, to: &std::path::Path) -> std::io::Result<()> {
    std::fs::create_dir_all(to)?;
    for entry in std::fs::read_dir(from)? {
        let entry = entry?;
        let target = to.join(entry.file_name());
        if entry.file_type()?.is_dir() {
            copy_dir(&entry.path(), &target)?;
        } else {
            std::fs::copy(entry.path(), target)?;
        }
    }
    Ok(())
}

/// Every file of a folder and its bytes.
pub fn contents(dir: &std::path::Path) -> std::collections::BTreeMap<std::path::PathBuf, Vec<u8>> {
    let mut out = std::collections::BTreeMap::new();
    let mut stack = vec![dir.to_path_buf()];
    while let Some(d) = stack.pop() {
        for entry in std::fs::read_dir(&d).into_iter().flatten().flatten() {
            let path = entry.path();
            if path.is_dir() {
                stack.push(path);
            } else {
                out.insert(path.clone(), std::fs::read(&path).unwrap_or_default());
            }
        }
    }
    out
}
