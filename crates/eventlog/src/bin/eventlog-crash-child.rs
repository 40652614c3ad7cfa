//! The child process of the crash test (`tests/crash.rs`); not a tool for
//! anything else.
//!
//! Usage: `eventlog-crash-child <data-dir> <writer-count>`.
//!
//! It opens the event log in `<data-dir>` in the durable mode (the
//! default options), prints `ready`, and runs `<writer-count>` concurrent
//! tasks that append forever, each to its own stream `s<task>`, in batches
//! of 1 to 3 events with a 300-byte payload derived from the event id. Once
//! an append is acknowledged it prints, for each of its events,
//!
//! ```text
//! ack <position> <event-uuid> <stream> <stream-version>
//! ```
//!
//! and flushes stdout, so every line the parent reads is a promise the log
//! made. The parent kills the process with SIGKILL at a random moment and
//! checks that every promise survived. On any error the child reports it on
//! stderr and exits with a non-zero status.

use std::io::Write;
use std::process::ExitCode;

use eventlog::{EventId, EventMetadata, EventStore, ExpectedVersion, NewEvent, SledEventStore, SledOptions, StreamId};

/// Payload length of every event.
const PAYLOAD_LEN: usize = 300;

/// The payload of the event `id`: [`PAYLOAD_LEN`] bytes of a splitmix64
/// sequence seeded from the id. `tests/crash.rs` holds the same function.
fn payload_for(id: &EventId) -> Vec<u8> {
    let mut state = id.0.as_u128() as u64 ^ (id.0.as_u128() >> 64) as u64;
    let mut out = Vec::with_capacity(PAYLOAD_LEN);
    while out.len() < PAYLOAD_LEN {
        state = state.wrapping_add(0x9E37_79B9_7F4A_7C15);
        let mut z = state;
        z = (z ^ (z >> 30)).wrapping_mul(0xBF58_476D_1CE4_E5B9);
        z = (z ^ (z >> 27)).wrapping_mul(0x94D0_49BB_1331_11EB);
        z ^= z >> 31;
        out.extend_from_slice(&z.to_le_bytes());
    }
    out.truncate(PAYLOAD_LEN);
    out
}

/// Writes one or more complete lines to stdout and flushes them.
fn emit(text: &str) -> std::io::Result<()> {
    let mut out = std::io::stdout().lock();
    out.write_all(text.as_bytes())?;
    out.flush()
}

/// One writer: appends to `s<task>` until an error stops it.
async fn write_forever(store: SledEventStore, task: usize) -> Result<(), String> {
    let stream = StreamId::new(format!("s{task}")).map_err(|e| format!("stream name: {e}"))?;
    // A tiny xorshift generator for the batch sizes, different per task.
    let mut rng: u64 = 0x2545_F491_4F6C_DD1D ^ ((task as u64 + 1) << 17);
    loop {
        rng ^= rng << 13;
        rng ^= rng >> 7;
        rng ^= rng << 17;
        // Mostly 1 to 3 events; one append in 40 is larger than a chunk
        // (64 records), so kills also land between the chunks of a group.
        let count = if rng.is_multiple_of(40) {
            100
        } else {
            1 + (rng % 3) as usize
        };
        let events: Vec<NewEvent> = (0..count)
            .map(|_| {
                let id = EventId::new_random();
                NewEvent {
                    id,
                    event_type: "CrashTest".into(),
                    schema_version: 1,
                    payload: payload_for(&id),
                    metadata: EventMetadata {
                        actor: format!("writer-{task}"),
                        ..EventMetadata::default()
                    },
                }
            })
            .collect();
        let ids: Vec<EventId> = events.iter().map(|e| e.id).collect();
        let outcome = store
            .append(&stream, ExpectedVersion::Any, events)
            .await
            .map_err(|e| format!("append to {stream} failed: {e}"))?;
        if outcome.positions.len() != ids.len() {
            return Err(format!(
                "append to {stream} returned {} positions for {} events",
                outcome.positions.len(),
                ids.len()
            ));
        }
        let first_version = (outcome.stream_version + 1)
            .checked_sub(ids.len() as u64)
            .ok_or_else(|| format!("append to {stream} returned version {}", outcome.stream_version))?;
        let mut lines = String::new();
        for (i, (id, position)) in ids.iter().zip(&outcome.positions).enumerate() {
            lines.push_str(&format!("ack {position} {id} {stream} {}\n", first_version + i as u64));
        }
        emit(&lines).map_err(|e| format!("writing to stdout failed: {e}"))?;
    }
}

fn run(dir: &str, writers: usize) -> Result<(), String> {
    let runtime = tokio::runtime::Builder::new_multi_thread()
        .enable_all()
        .build()
        .map_err(|e| format!("starting the runtime failed: {e}"))?;
    let store = SledEventStore::open(dir, SledOptions::default()).map_err(|e| format!("opening {dir} failed: {e}"))?;
    runtime.block_on(async {
        emit("ready\n").map_err(|e| format!("writing to stdout failed: {e}"))?;
        let mut tasks = tokio::task::JoinSet::new();
        for task in 0..writers {
            tasks.spawn(write_forever(store.clone(), task));
        }
        match tasks.join_next().await {
            Some(Ok(Ok(()))) | None => Err("a writer stopped".to_string()),
            Some(Ok(Err(e))) => Err(e),
            Some(Err(e)) => Err(format!("a writer task failed: {e}")),
        }
    })
}

fn main() -> ExitCode {
    let args: Vec<String> = std::env::args().collect();
    let (dir, writers) = match args.as_slice() {
        [_, dir, writers] => match writers.parse::<usize>() {
            Ok(n) if n > 0 => (dir.clone(), n),
            _ => {
                eprintln!("eventlog-crash-child: writer-count must be a positive number, got {writers:?}");
                return ExitCode::from(2);
            }
        },
        _ => {
            eprintln!("usage: eventlog-crash-child <data-dir> <writer-count>");
            return ExitCode::from(2);
        }
    };
    match run(&dir, writers) {
        Ok(()) => ExitCode::SUCCESS,
        Err(e) => {
            eprintln!("eventlog-crash-child: {e}");
            ExitCode::FAILURE
        }
    }
}
