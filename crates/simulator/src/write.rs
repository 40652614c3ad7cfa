//! Appending a generated log to an event store.

use eventlog::{EventStore, ExpectedVersion};
use futures_util::stream::{self, StreamExt};

use crate::{GeneratedRecord, GeneratedSummary, Generator, GeneratorConfig, GeneratorError, CONCURRENT_APPENDS};

/// Generates the log of `config` and appends it to `store`, one append per
/// record, up to [`CONCURRENT_APPENDS`] at a time. The archive is complete
/// in the log before the first ticket is appended; within each part, log
/// positions follow generation order only roughly, because appends run
/// concurrently.
///
/// Re-running it with the same configuration against the same log writes
/// nothing: every append is recognised by its event ids
/// ([`GeneratedSummary::deduplicated`] counts them).
///
/// The log's fsyncs, not the generator, set the pace: the default
/// configuration (about 220,000 appends, 1.5 million events) generates in
/// about five seconds and writes to a durable [`eventlog::SledEventStore`]
/// in a little over a minute on a development machine.
pub async fn write_log(store: &dyn EventStore, config: &GeneratorConfig) -> Result<GeneratedSummary, GeneratorError> {
    write_log_with(store, config, None).await
}

/// [`write_log`], sealing personal fields with `ring` first (as the
/// service does), when given.
pub async fn write_log_with(
    store: &dyn EventStore,
    config: &GeneratorConfig,
    ring: Option<std::sync::Arc<keyring::Keyring>>,
) -> Result<GeneratedSummary, GeneratorError> {
    let ring = ring.as_ref();
    let mut generator = Generator::new(config.clone())?;
    let mut written = GeneratedSummary::default();
    {
        let mut records = generator.by_ref().peekable();
        let is_archive = |item: &Result<GeneratedRecord, GeneratorError>| {
            item.as_ref().is_ok_and(|r| {
                let s = r.stream.as_str();
                ["project-", "unit-", "owner-", "contractor-", "engineer-"]
                    .iter()
                    .any(|p| s.starts_with(p))
            })
        };
        append_all(
            store,
            std::iter::from_fn(|| records.next_if(is_archive)),
            ring,
            &mut written,
        )
        .await?;
        append_all(store, records, ring, &mut written).await?;
    }
    Ok(GeneratedSummary {
        records: written.records,
        events: written.events,
        deduplicated: written.deduplicated,
        ..generator.summary()
    })
}

async fn append_all(
    store: &dyn EventStore,
    records: impl Iterator<Item = Result<GeneratedRecord, GeneratorError>> + Send,
    ring: Option<&std::sync::Arc<keyring::Keyring>>,
    written: &mut GeneratedSummary,
) -> Result<(), GeneratorError> {
    let mut appends = stream::iter(records)
        .map(|item| async move {
            let mut record = item?;
            if let Some(ring) = ring.cloned() {
                // Creating a key syncs files: off the runtime's threads,
                // several records at a time.
                record = tokio::task::spawn_blocking(move || {
                    for event in &mut record.events {
                        eventformat::sealing::seal_record(&ring, &record.stream, event).map_err(|error| {
                            GeneratorError::Seal {
                                stream: record.stream.to_string(),
                                reason: error.to_string(),
                            }
                        })?;
                    }
                    Ok::<_, GeneratorError>(record)
                })
                .await
                .map_err(|e| GeneratorError::Seal {
                    stream: String::new(),
                    reason: e.to_string(),
                })??;
            }
            let events = record.events.len() as u64;
            let outcome = store
                .append(&record.stream, ExpectedVersion::Any, record.events)
                .await
                .map_err(|error| GeneratorError::Append {
                    stream: record.stream.to_string(),
                    error,
                })?;
            Ok::<_, GeneratorError>((events, outcome.deduplicated))
        })
        .buffer_unordered(CONCURRENT_APPENDS);
    while let Some(result) = appends.next().await {
        let (events, deduplicated) = result?;
        written.records += 1;
        written.events += events;
        written.deduplicated += u64::from(deduplicated);
    }
    Ok(())
}
