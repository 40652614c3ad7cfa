//! `aftersales log` and `aftersales verify`: the event log's low-level tools.

use eventlog::{
    codec, EventId, EventMetadata, EventStore, ExpectedVersion, NewEvent, RecordedEvent, SledEventStore, SledOptions,
    StreamId, Subscription,
};
use std::sync::Arc;

use anyhow::{bail, Context, Result};
use clap::Subcommand;

#[derive(Subcommand)]
pub(crate) enum LogCommand {
    /// Print the head position, the data folder and its size.
    Stats,
    /// Append one event whose payload is a text, to a stream no view reads
    /// (a domain stream, ticket-… and the like, refuses a payload that is
    /// not a readable event of the named type).
    Append {
        /// Stream to append to, e.g. ticket-42.
        #[arg(long)]
        stream: String,
        /// Event type name.
        #[arg(long = "type")]
        event_type: String,
        /// Payload text.
        #[arg(long, default_value = "")]
        body: String,
        /// Expected version: any, none, exists, or a number.
        #[arg(long, default_value = "any")]
        expected: String,
        /// Acting user recorded in the metadata.
        #[arg(long, default_value = "cli")]
        actor: String,
        /// Event id (UUID) for an idempotent retry; random if absent.
        #[arg(long)]
        id: Option<uuid::Uuid>,
    },
    /// Print events as JSON lines: one stream, or the whole log.
    Read {
        /// Only this stream.
        #[arg(long)]
        stream: Option<String>,
        /// First position (or stream version with --stream).
        #[arg(long, default_value_t = 0)]
        from: u64,
        /// Most events to print.
        #[arg(long, default_value_t = 100)]
        limit: usize,
    },
    /// Print every event from a position on, then follow new ones.
    Tail {
        /// First position.
        #[arg(long, default_value_t = 0)]
        from: u64,
    },
    /// Check the whole store and decode every event of the domain's
    /// streams; exits non-zero at the first damaged position or naming
    /// every event that cannot be read.
    Verify,
}

pub(crate) fn parse_expected(text: &str) -> Result<ExpectedVersion> {
    Ok(match text {
        "any" => ExpectedVersion::Any,
        "none" => ExpectedVersion::NoStream,
        "exists" => ExpectedVersion::StreamExists,
        n => ExpectedVersion::Exact(
            n.parse()
                .with_context(|| format!("--expected must be any, none, exists or a version number, not {n:?}"))?,
        ),
    })
}

pub(crate) fn to_json(e: &RecordedEvent) -> serde_json::Value {
    let text: Option<String> = codec::decode(e.event_type(), e.schema_version, e.payload()).ok();
    serde_json::json!({
        "position": e.position,
        "stream": e.stream(),
        "version": e.stream_version,
        "id": e.id.to_string(),
        "type": e.event_type(),
        "schemaVersion": e.schema_version,
        "recordedAt": e.recorded_at.to_rfc3339(),
        "occurredAt": e.occurred_at().map(|t| t.to_rfc3339()),
        "actor": e.actor(),
        "role": e.role(),
        "channel": e.channel(),
        "payloadBytes": e.payload().len(),
        "text": text,
    })
}

pub(crate) fn folder_size(path: &std::path::Path) -> u64 {
    std::fs::read_dir(path)
        .map(|entries| {
            entries
                .flatten()
                .map(|e| match e.metadata() {
                    Ok(m) if m.is_dir() => folder_size(&e.path()),
                    Ok(m) => m.len(),
                    Err(_) => 0,
                })
                .sum()
        })
        .unwrap_or(0)
}

pub(crate) async fn log_command(data: &std::path::Path, command: LogCommand) -> Result<()> {
    let log = data.join("log");
    let store = Arc::new(
        SledEventStore::open(&log, SledOptions::default())
            .with_context(|| format!("opening the event log in {}", log.display()))?,
    );
    match command {
        LogCommand::Stats => {
            let head = store.head().map_or_else(|| "empty".to_owned(), |h| h.to_string());
            println!("data folder: {}", data.display());
            println!("head position: {head}");
            println!("size on disk: {} bytes", folder_size(data));
            let recovery = store.recovery();
            println!(
                "recovery at open: {} events replayed from the write-ahead file, {} records re-indexed, {} torn bytes dropped",
                recovery.replayed, recovery.reindexed, recovery.discarded_bytes
            );
        }
        LogCommand::Append {
            stream,
            event_type,
            body,
            expected,
            actor,
            id,
        } => {
            let stream = StreamId::new(stream)?;
            let event = NewEvent {
                id: id.map_or_else(EventId::new_random, EventId),
                event_type,
                schema_version: 1,
                payload: codec::encode(&body)?,
                metadata: EventMetadata {
                    actor,
                    role: "operator".into(),
                    channel: "cli".into(),
                    ..EventMetadata::default()
                },
            };
            if let Err(refusal) = application::jobs::check_append(&stream, &event) {
                store.close()?;
                bail!("{refusal}");
            }
            let outcome = store.append(&stream, parse_expected(&expected)?, vec![event]).await?;
            println!(
                "{}",
                serde_json::json!({
                    "position": outcome.last_position(),
                    "streamVersion": outcome.stream_version,
                    "deduplicated": outcome.deduplicated,
                })
            );
        }
        LogCommand::Read { stream, from, limit } => {
            let events = match stream {
                Some(s) => store.read_stream(&StreamId::new(s)?, from, limit)?,
                None => store.read_all(from).take(limit).collect::<Result<_, _>>()?,
            };
            for e in &events {
                println!("{}", to_json(e));
            }
        }
        LogCommand::Tail { from } => {
            let mut subscription = Subscription::new(store.clone(), from);
            loop {
                tokio::select! {
                    next = subscription.next() => match next {
                        Some(event) => println!("{}", to_json(&event?)),
                        None => break,
                    },
                    _ = tokio::signal::ctrl_c() => break,
                }
            }
        }
        LogCommand::Verify => {
            let report = store.verify()?;
            let unreadable = application::jobs::unreadable_events(store.as_ref())?;
            if !unreadable.is_empty() {
                for u in &unreadable {
                    println!("unreadable: {u}");
                }
                store.close()?;
                bail!(
                    "{} events of the domain's streams cannot be read (the views set them aside)",
                    unreadable.len()
                );
            }
            println!(
                "ok: {} events in {} streams, head {}{}",
                report.events,
                report.streams,
                report.head.map_or_else(|| "none".to_owned(), |h| h.to_string()),
                match report.lost {
                    0 => String::new(),
                    n => format!(
                        "; {n} of those positions were lost and hold placeholders of a repair (stream {})",
                        eventlog::LOST_STREAM
                    ),
                }
            );
        }
    }
    store.close()?;
    Ok(())
}
