//! The child process of the views' crash test
//! (`tests/views/determinism/crash.rs`,
//! `killed_while_following_the_log_the_views_resume_from_a_consistent_checkpoint`);
//! a test helper, not a tool for anything else.
//!
//! Usage: `views-crash-child <dir>`.
//!
//! It opens the event log in `<dir>/log` and the view database in
//! `<dir>/views` (writing snapshots of changed trees every 20 ms), starts
//! every view of [`projections::all_views`] on them,
//! prints `ready`, then appends the history in `<dir>/history` (written by
//! the parent) one append at a time, printing `appended <position>` after
//! each, and waits until it is killed. The parent kills it with SIGKILL
//! at some moment and checks that the views come back at a consistent
//! checkpoint.
//!
//! `<dir>/history` holds one event a line, tab-separated:
//!
//! ```text
//! <append> <stream> <event-uuid> <type> <schema-version> <actor> <role> <channel> <occurred-at> <correlation> <causation> <payload>
//! ```
//!
//! Consecutive lines with the same `<append>` number are one append;
//! `<occurred-at>` is RFC 3339, `<correlation>` and `<causation>` are
//! UUIDs, each `-` when absent; `<payload>` is lower-case hex. On any
//! error the child reports it on stderr and exits with a non-zero status.

use std::io::Write;
use std::path::{Path, PathBuf};
use std::process::ExitCode;
use std::sync::Arc;

use chrono::{DateTime, Utc};
use eventlog::{EventId, EventMetadata, EventStore, ExpectedVersion, NewEvent, SledEventStore, SledOptions, StreamId};
use projections::store::ViewDb;
use projections::{all_views, runner};

/// One append of the history: a stream and its events.
struct Append {
    stream: StreamId,
    events: Vec<NewEvent>,
}

/// Writes a line to stdout and flushes it. Errors are ignored: the
/// parent may stop reading once it has what it waits for.
fn say(line: &str) {
    let mut out = std::io::stdout().lock();
    let _ = writeln!(out, "{line}");
    let _ = out.flush();
}

fn hex(text: &str) -> Result<Vec<u8>, String> {
    if !text.len().is_multiple_of(2) {
        return Err(format!("odd hex length {}", text.len()));
    }
    (0..text.len())
        .step_by(2)
        .map(|i| u8::from_str_radix(&text[i..i + 2], 16).map_err(|e| format!("hex {:?}: {e}", &text[i..i + 2])))
        .collect()
}

fn optional<T>(text: &str, parse: impl FnOnce(&str) -> Result<T, String>) -> Result<Option<T>, String> {
    if text == "-" {
        Ok(None)
    } else {
        parse(text).map(Some)
    }
}

fn uuid(text: &str) -> Result<uuid::Uuid, String> {
    uuid::Uuid::parse_str(text).map_err(|e| format!("uuid {text:?}: {e}"))
}

/// One line of the history file: its append number and the event.
fn event(line: &str) -> Result<(u64, StreamId, NewEvent), String> {
    let fields: Vec<&str> = line.split('\t').collect();
    let [append, stream, id, event_type, schema, actor, role, channel, occurred_at, correlation, causation, payload] =
        fields.as_slice()
    else {
        return Err(format!("{} fields instead of 12", fields.len()));
    };
    let append = append.parse().map_err(|e| format!("append number {append:?}: {e}"))?;
    let stream = StreamId::new(*stream).map_err(|e| format!("stream {stream:?}: {e}"))?;
    let occurred_at = optional(occurred_at, |t| {
        DateTime::parse_from_rfc3339(t)
            .map(|t| t.with_timezone(&Utc))
            .map_err(|e| format!("occurred-at {t:?}: {e}"))
    })?;
    let event = NewEvent {
        id: EventId(uuid(id)?),
        event_type: event_type.to_string(),
        schema_version: schema.parse().map_err(|e| format!("schema version {schema:?}: {e}"))?,
        payload: hex(payload)?,
        metadata: EventMetadata {
            actor: actor.to_string(),
            role: role.to_string(),
            channel: channel.to_string(),
            occurred_at,
            correlation_id: optional(correlation, uuid)?,
            causation_id: optional(causation, uuid)?,
        },
    };
    Ok((append, stream, event))
}

/// The appends of the history file, in order.
fn history(path: &Path) -> Result<Vec<Append>, String> {
    let text = std::fs::read_to_string(path).map_err(|e| format!("reading {}: {e}", path.display()))?;
    let mut appends: Vec<(u64, Append)> = Vec::new();
    for (n, line) in text.lines().enumerate() {
        let (number, stream, event) = event(line).map_err(|e| format!("{} line {}: {e}", path.display(), n + 1))?;
        match appends.last_mut() {
            Some((last, append)) if *last == number => append.events.push(event),
            _ => appends.push((
                number,
                Append {
                    stream,
                    events: vec![event],
                },
            )),
        }
    }
    Ok(appends.into_iter().map(|(_, append)| append).collect())
}

fn run(dir: &Path) -> Result<(), String> {
    let appends = history(&dir.join("history"))?;
    let runtime = tokio::runtime::Builder::new_current_thread()
        .enable_all()
        .build()
        .map_err(|e| format!("starting the runtime failed: {e}"))?;
    runtime.block_on(async {
        let log = Arc::new(
            SledEventStore::open(dir.join("log"), SledOptions::default())
                .map_err(|e| format!("opening the log failed: {e}"))?,
        );
        // Snapshots every 20 ms instead of every 30 s: the kill lands
        // between them and in the middle of writing one.
        let db = ViewDb::open_with(&dir.join("views"), std::time::Duration::from_millis(20))
            .map_err(|e| format!("opening the views failed: {e}"))?;
        let store: Arc<dyn EventStore> = log.clone();
        let mut views = Vec::new();
        for view in all_views() {
            let name = view.name();
            views.push(
                runner::start(store.clone(), db.clone(), view).map_err(|e| format!("starting view {name}: {e}"))?,
            );
        }
        say("ready");
        for Append { stream, events } in appends {
            let outcome = log
                .append(&stream, ExpectedVersion::Any, events)
                .await
                .map_err(|e| format!("append to {stream} failed: {e}"))?;
            say(&format!("appended {}", outcome.last_position()));
        }
        // Following on until the parent kills the process.
        std::future::pending::<()>().await;
        drop(views);
        Ok(())
    })
}

fn main() -> ExitCode {
    let args: Vec<String> = std::env::args().collect();
    let [_, dir] = args.as_slice() else {
        eprintln!("usage: views-crash-child <dir>");
        return ExitCode::from(2);
    };
    match run(&PathBuf::from(dir)) {
        Ok(()) => ExitCode::SUCCESS,
        Err(e) => {
            eprintln!("views-crash-child: {e}");
            ExitCode::FAILURE
        }
    }
}
