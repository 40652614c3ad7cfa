//! `aftersales`: the operator's binary: the GraphQL server (`serve`) and
//! the event log's command-line tools (`log`). The data folder holds the
//! log (`<data>/log`) and the views (`<data>/views`).

use std::path::PathBuf;
use std::process::ExitCode;
use std::sync::Arc;

use anyhow::{anyhow, Context, Result};

// sled and the views allocate on every write; mimalloc rebuilt the views 1.6x
// faster than glibc malloc in the views benchmark (docs/benchmarks.md).
#[global_allocator]
static GLOBAL: mimalloc::MiMalloc = mimalloc::MiMalloc;

use clap::{Parser, Subcommand};
use eventlog::{
    codec, EventId, EventMetadata, EventStore, ExpectedVersion, NewEvent, RecordedEvent, SledEventStore, SledOptions,
    StreamId, Subscription,
};

#[derive(Parser)]
#[command(name = "aftersales", version, about = "After-sales service system: event log tools")]
struct Cli {
    /// The data folder (created if missing).
    #[arg(long, env = "AFTERSALES_DATA", default_value = "./data", global = true)]
    data: PathBuf,
    #[command(subcommand)]
    command: Command,
}

#[derive(Subcommand)]
enum Command {
    /// Run the GraphQL server (GraphiQL at /, the API at /graphql).
    Serve {
        /// Address to listen on.
        #[arg(long, env = "AFTERSALES_LISTEN", default_value = "127.0.0.1:8080")]
        listen: std::net::SocketAddr,
    },
    /// Print the GraphQL schema (SDL), as committed in docs/schema.graphql.
    Schema,
    /// Work with the event log directly.
    #[command(subcommand)]
    Log(LogCommand),
}

#[derive(Subcommand)]
enum LogCommand {
    /// Print the head position, the data folder and its size.
    Stats,
    /// Append one event whose payload is a text.
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
    /// Check the whole store; exits non-zero at the first damaged position.
    Verify,
}

fn parse_expected(text: &str) -> Result<ExpectedVersion> {
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

fn to_json(e: &RecordedEvent) -> serde_json::Value {
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

fn folder_size(path: &std::path::Path) -> u64 {
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

async fn shutdown_signal() {
    let interrupt = tokio::signal::ctrl_c();
    #[cfg(unix)]
    {
        let mut term = match tokio::signal::unix::signal(tokio::signal::unix::SignalKind::terminate()) {
            Ok(s) => s,
            Err(_) => {
                let _ = interrupt.await;
                return;
            }
        };
        tokio::select! {
            _ = interrupt => {}
            _ = term.recv() => {}
        }
    }
    #[cfg(not(unix))]
    let _ = interrupt.await;
}

async fn serve(data: &std::path::Path, listen: std::net::SocketAddr) -> Result<()> {
    let service = Arc::new(
        api::service::Service::open(data).map_err(|e| anyhow!("opening {}: {}", data.display(), e.message()))?,
    );
    let listener = tokio::net::TcpListener::bind(listen)
        .await
        .with_context(|| format!("listening on {listen}"))?;
    eprintln!(
        "aftersales: serving {} on http://{} (GraphiQL at /, API at /graphql)",
        data.display(),
        listener.local_addr()?
    );
    axum::serve(listener, api::server::router(service.clone()))
        .with_graceful_shutdown(shutdown_signal())
        .await?;
    eprintln!("aftersales: stopping; flushing the log");
    service.shutdown().await.map_err(|e| anyhow!(e.message()))?;
    Ok(())
}

async fn run(cli: Cli) -> Result<()> {
    match cli.command {
        Command::Serve { listen } => serve(&cli.data, listen).await,
        Command::Schema => {
            print!("{}", api::schema::sdl());
            Ok(())
        }
        Command::Log(command) => log_command(&cli.data, command).await,
    }
}

async fn log_command(data: &std::path::Path, command: LogCommand) -> Result<()> {
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
                "recovery at open: {} events replayed from the write-ahead file, {} torn bytes dropped",
                recovery.replayed, recovery.discarded_bytes
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
            println!(
                "ok: {} events in {} streams, head {}",
                report.events,
                report.streams,
                report.head.map_or_else(|| "none".to_owned(), |h| h.to_string())
            );
        }
    }
    store.close()?;
    Ok(())
}

#[tokio::main]
async fn main() -> ExitCode {
    let cli = Cli::parse();
    let result = if cli.data.as_os_str().is_empty() {
        Err(anyhow!("--data must not be empty"))
    } else {
        run(cli).await
    };
    match result {
        Ok(()) => ExitCode::SUCCESS,
        Err(e) => {
            // The whole chain, on one line, without a backtrace.
            eprintln!("error: {e:#}");
            ExitCode::FAILURE
        }
    }
}
