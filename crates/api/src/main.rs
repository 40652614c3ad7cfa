//! `aftersales`: the operator's binary: the GraphQL server (`serve`), demo
//! data (`demo`), view rebuilds (`rebuild`), a ticket's audit history in
//! the terminal (`history`), log integrity (`verify`), the repair of a
//! damaged write-ahead file (`repair`), report exports (`export`), the
//! schema (`schema`) and the event log's low-level tools (`log`). The data folder holds the log (`<data>/log`) and the views
//! (`<data>/views`).

use std::path::PathBuf;
use std::process::ExitCode;
use std::sync::Arc;

use std::time::{Duration, Instant};

use anyhow::{anyhow, bail, Context, Result};
use projections::generator::GeneratorConfig;
use projections::runner::ViewStatus;

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
#[command(
    name = "aftersales",
    version,
    about = "After-sales service system: server and operator tools"
)]
struct Cli {
    /// The data folder (created if missing).
    #[arg(long, env = "AFTERSALES_DATA", global = true)]
    data: Option<PathBuf>,
    /// A TOML file with `data`, `listen` and `demo` (flags and environment
    /// variables take precedence over it).
    #[arg(long, env = "AFTERSALES_CONFIG", global = true)]
    config: Option<PathBuf>,
    #[command(subcommand)]
    command: Command,
}

#[derive(Subcommand)]
enum Command {
    /// Run the GraphQL server (GraphiQL at /graphiql, the API at /graphql, live
    /// subscriptions at /graphql/ws).
    Serve {
        /// Address to listen on [default: 127.0.0.1:8080].
        #[arg(long, env = "AFTERSALES_LISTEN")]
        listen: Option<std::net::SocketAddr>,
        /// Fill an empty data folder with the demo dataset first (and print
        /// a token per role, once).
        #[arg(long, env = "AFTERSALES_DEMO")]
        demo: bool,
        /// Take the caller's identity from x-user-id / x-user-role /
        /// x-contractor-id / x-owner-id / x-projects headers instead of
        /// tokens: only behind a gateway that authenticates every request
        /// and sets those headers itself.
        #[arg(long, env = "AFTERSALES_TRUST_IDENTITY_HEADERS")]
        trust_identity_headers: bool,
        #[command(flatten)]
        exposure: Exposure,
    },
    /// Manage the bearer tokens staff tools authenticate with.
    #[command(subcommand)]
    Token(TokenCommand),
    /// Fill an empty data folder with a realistic generated dataset (four
    /// projects, 15,000 tickets over the past year).
    Demo {
        /// Tickets to generate.
        #[arg(long, default_value_t = 15_000)]
        tickets: u32,
        /// Random seed.
        #[arg(long, default_value_t = 1)]
        seed: u64,
        /// The year of data ends the day before this date (YYYY-MM-DD,
        /// Asia/Shanghai); default today. The same seed and date give the
        /// same data on any day.
        #[arg(long, value_name = "DATE")]
        until: Option<chrono::NaiveDate>,
    },
    /// Rebuild views from the whole log (all, or one), showing progress.
    /// Run it with the server stopped; the server rebuilds a view by itself
    /// when its version changes.
    Rebuild {
        /// Only this view (tickets, sla, satisfaction, contractors, defects).
        #[arg(long)]
        view: Option<String>,
    },
    /// Print a ticket's audit history.
    History {
        /// The ticket number.
        ticket: String,
    },
    /// Check the log's integrity: every event readable, positions dense,
    /// stream indexes consistent, every payload of the domain's streams
    /// decodable (each one that is not is named). Exits non-zero on damage.
    Verify,
    /// Mend a log whose write-ahead file is damaged (the open refuses it),
    /// with the server stopped: copies the log's folder to
    /// <data>/log/repair-N first, keeps every valid frame and every record
    /// that still checks, puts a placeholder (stream $lost) at each
    /// position truly lost, opens and verifies the log, prints the report
    /// (also in repair-N/report.txt) and, if events were lost, rebuilds
    /// the views without them. Without damage it changes nothing.
    Repair,
    /// Write a report as CSV to standard output.
    Export {
        /// monthly (period YYYY-MM) or weekly (period YYYY-Www).
        #[arg(value_parser = ["monthly", "weekly"])]
        report: String,
        /// The project.
        #[arg(long)]
        project: String,
        /// The month or ISO week.
        #[arg(long)]
        period: String,
    },
    /// Import projects, buildings, units or owners from a CSV file (a
    /// header row names the columns; see the README). Every row is checked
    /// first; if any is wrong, all errors are listed and nothing is
    /// imported. A re-run of the same file skips what is already in.
    Import {
        /// projects, buildings, units or owners.
        kind: String,
        /// The CSV file (UTF-8).
        file: PathBuf,
        /// Recorded as the acting user of every event.
        #[arg(long, default_value = "import")]
        user: String,
    },
    /// Erase an owner's personal data at their request (PIPL art. 47):
    /// records the erasure, then destroys the keys that seal their name,
    /// phone numbers and ID number in the log and the views. Histories,
    /// SLA figures and reports stay as they were. Run with the server
    /// stopped; a re-run completes an interrupted erasure.
    EraseOwner {
        /// The owner's archive id.
        owner: String,
        /// Reference of the request (letter, form or ticket number).
        #[arg(long)]
        request: String,
        /// Recorded as the acting user.
        #[arg(long, default_value = "admin")]
        user: String,
    },
    /// Business calendars: publish a new version (a year's holiday
    /// arrangement), list the published ones.
    #[command(subcommand)]
    Calendar(ReferenceCli),
    /// Service policies (response targets): publish a new version, list.
    #[command(subcommand)]
    Policy(ReferenceCli),
    /// Warranty rules (warranty periods): publish a new version, list.
    #[command(subcommand)]
    Warranty(ReferenceCli),
    /// Print the GraphQL schema (SDL), as committed in docs/schema.graphql.
    Schema,
    /// Work with the event log directly.
    #[command(subcommand)]
    Log(LogCommand),
}

/// Publishing reference data from a file, with the server stopped (while
/// it runs, the admin mutations publishCalendar, publishPolicy and
/// publishWarrantyRules do the same).
#[derive(Subcommand)]
enum ReferenceCli {
    /// Check a file and publish it as a new version. Every problem is
    /// listed and nothing is appended unless there is none; a calendar
    /// settles the open tickets' provisional deadlines it changes.
    Publish {
        /// The TOML file (the format of the bundled files under
        /// crates/domain/calendars and crates/domain/policies).
        file: PathBuf,
        /// Check and show what would change (deadlines that would move),
        /// appending nothing.
        #[arg(long)]
        dry_run: bool,
        /// Recorded as the publishing user.
        #[arg(long, default_value = "admin")]
        user: String,
    },
    /// Every published version, oldest first.
    List,
    /// Print the newest published version's file (the start of the next
    /// one), or the version given.
    Show {
        /// The calendar, policy or rules name [default: cn-mainland for
        /// calendars, default otherwise].
        id: Option<String>,
        /// A version other than the newest.
        #[arg(long)]
        version: Option<String>,
    },
}

/// How `serve` exposes the API (production: no introspection, no
/// GraphiQL, the CORS origins of the staff tools).
#[derive(clap::Args, Clone)]
struct Exposure {
    /// Refuse schema introspection.
    #[arg(long, env = "AFTERSALES_NO_INTROSPECTION")]
    no_introspection: bool,
    /// Do not serve GraphiQL at /graphiql.
    #[arg(long, env = "AFTERSALES_NO_GRAPHIQL")]
    no_graphiql: bool,
    /// An origin browsers may call the API from (repeat; none: same
    /// origin only).
    #[arg(long = "cors-origin", env = "AFTERSALES_CORS_ORIGINS", value_delimiter = ',')]
    cors_origins: Vec<String>,
    /// Seconds a request may take before it is answered 504 (TIMEOUT) and
    /// its work is stopped.
    #[arg(long, env = "AFTERSALES_REQUEST_TIMEOUT", default_value_t = 30)]
    request_timeout: u64,
    /// Most a GraphQL document may cost, in points (see the README);
    /// costlier documents are refused QUERY_TOO_COSTLY before they run.
    #[arg(long, env = "AFTERSALES_MAX_COST", default_value_t = api::cost::MAX_COST)]
    max_cost: usize,
    /// Largest GraphQL response, in bytes; a larger one is refused
    /// RESPONSE_TOO_LARGE.
    #[arg(long, env = "AFTERSALES_MAX_RESPONSE_BYTES", default_value_t = api::server::MAX_RESPONSE_BYTES)]
    max_response_bytes: usize,
    /// GraphQL requests executing at once (default: four per core, 8 to
    /// 64); more wait for a turn.
    #[arg(long, env = "AFTERSALES_MAX_RUNNING")]
    max_running: Option<usize>,
    /// GraphQL requests waiting for a turn; more are refused BUSY (503).
    #[arg(long, env = "AFTERSALES_MAX_QUEUED", default_value_t = 256)]
    max_queued: usize,
    /// Requests per second per caller, sustained (0: no limit).
    #[arg(long, env = "AFTERSALES_RATE", default_value_t = 50.0)]
    rate: f64,
    /// Requests per caller at once after a quiet spell.
    #[arg(long, env = "AFTERSALES_BURST", default_value_t = 100.0)]
    burst: f64,
}

#[derive(Subcommand)]
enum TokenCommand {
    /// Create a token and print it once (only its hash is stored).
    Create {
        /// agent, manager, engineer, contractor, analyst, auditor, admin,
        /// owner or system.
        #[arg(long)]
        role: String,
        /// The user recorded as the actor of every event (default: the
        /// token's id).
        #[arg(long)]
        user: Option<String>,
        /// A project a manager or engineer may work on (repeat; none: all).
        #[arg(long = "project")]
        projects: Vec<String>,
        /// The company of a contractor's worker.
        #[arg(long)]
        contractor: Option<String>,
        /// The archive record of an owner.
        #[arg(long)]
        owner: Option<String>,
        /// Days until it expires (none: until revoked).
        #[arg(long)]
        expires: Option<u32>,
    },
    /// List the tokens (never their secrets).
    List,
    /// Revoke a token by its id; it stops working on the next request.
    Revoke {
        /// The id `token list` shows.
        id: String,
    },
}

#[derive(Subcommand)]
enum LogCommand {
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

fn open_service(data: &std::path::Path) -> Result<Arc<api::service::Service>> {
    Ok(Arc::new(
        api::service::Service::open(data).map_err(|e| anyhow!("opening {}: {}", data.display(), e.message()))?,
    ))
}

async fn catch_up(service: &api::service::Service) -> Result<()> {
    let mut last = Instant::now() - Duration::from_secs(10);
    let took = api::ops::wait_ready(service, |line| {
        if last.elapsed() >= Duration::from_secs(2) {
            tracing::info!("catching up: {line}");
            last = Instant::now();
        }
    })
    .await
    .map_err(|e| anyhow!(e.message()))?;
    tracing::info!(seconds = took.as_secs_f64(), head = ?service.head(), "views are live");
    Ok(())
}

async fn demo(data: &std::path::Path, tickets: u32, seed: u64, until: Option<chrono::NaiveDate>) -> Result<()> {
    let until = until.unwrap_or_else(api::ops::today);
    if !(1901..=9000).contains(&chrono::Datelike::year(&until)) {
        bail!("--until {until}: the demo's year must end between the years 1901 and 9000");
    }
    let (store, keyring) = api::keyfolder::open(data).map_err(|e| anyhow!(e.message()))?;
    let keyring = std::sync::Arc::new(keyring);
    let config = GeneratorConfig {
        tickets,
        seed,
        ..api::ops::demo_config(until)
    };
    tracing::info!(tickets, from = %config.start, days = config.days, "writing the demo dataset");
    let started = Instant::now();
    let summary = api::ops::fill_demo(store.as_ref(), &keyring, &config)
        .await
        .map_err(|e| anyhow!(e.message()))?;
    store.close()?;
    tracing::info!(
        events = summary.events,
        tickets = summary.tickets.total(),
        projects = summary.projects,
        units = summary.units,
        owners = summary.owners,
        seconds = started.elapsed().as_secs_f64(),
        "demo dataset written"
    );
    Ok(())
}

fn token_store(data: &std::path::Path) -> Result<Arc<api::auth::TokenStore>> {
    Ok(Arc::new(api::auth::TokenStore::open(data)?))
}

fn create_token(
    store: &api::auth::TokenStore,
    role: &str,
    user: Option<String>,
    projects: Vec<String>,
    contractor: Option<String>,
    owner: Option<String>,
    expires: Option<u32>,
) -> Result<(String, api::auth::TokenRecord)> {
    let role: domain::actor::Role = role.parse().map_err(|e| anyhow!("--role: {e}"))?;
    let user = match user {
        Some(u) => domain::ids::UserId::new(u).map_err(|e| anyhow!("--user: {e}"))?,
        None => domain::ids::UserId::new(format!("{}-{}", role.as_str(), api::ops::today().format("%Y%m%d")))
            .map_err(|e| anyhow!("{e}"))?,
    };
    let principal = api::auth::Principal {
        user,
        role,
        projects: projects
            .iter()
            .map(|p| domain::ids::ProjectId::new(p.as_str()).map_err(|e| anyhow!("--project: {e}")))
            .collect::<Result<_>>()?,
        contractor: contractor
            .map(|c| domain::ids::ContractorId::new(c).map_err(|e| anyhow!("--contractor: {e}")))
            .transpose()?,
        owner: owner
            .map(|o| domain::ids::OwnerId::new(o).map_err(|e| anyhow!("--owner: {e}")))
            .transpose()?,
    };
    Ok(store.create(principal, expires.map(|d| chrono::TimeDelta::days(i64::from(d))))?)
}

fn token_command(data: &std::path::Path, command: TokenCommand) -> Result<()> {
    let store = token_store(data)?;
    match command {
        TokenCommand::Create {
            role,
            user,
            projects,
            contractor,
            owner,
            expires,
        } => {
            let (token, record) = create_token(&store, &role, user, projects, contractor, owner, expires)?;
            eprintln!(
                "token {} for {} {}{}; shown once, only its hash is kept:",
                record.id,
                record.principal.role,
                record.principal.user,
                record
                    .expires_at
                    .map(|e| format!(", expires {}", e.format("%Y-%m-%d %H:%M UTC")))
                    .unwrap_or_default()
            );
            println!("{token}");
        }
        TokenCommand::List => {
            let now = chrono::Utc::now();
            println!(
                "{:<10}  {:<10}  {:<20}  {:<16}  {:<10}  scope",
                "id", "role", "user", "created", "state"
            );
            for t in store.list()? {
                let state = match (t.revoked_at, t.expires_at) {
                    (Some(_), _) => "revoked".to_string(),
                    (None, Some(e)) if e <= now => "expired".to_string(),
                    (None, Some(e)) => format!("until {}", e.format("%Y-%m-%d")),
                    (None, None) => "active".to_string(),
                };
                let p = &t.principal;
                let scope = match (&p.contractor, &p.owner) {
                    (Some(c), _) => format!("contractor {c}"),
                    (_, Some(o)) => format!("owner {o}"),
                    _ if p.projects.is_empty() => "all projects".to_string(),
                    _ => p.projects.iter().map(|x| x.to_string()).collect::<Vec<_>>().join(","),
                };
                println!(
                    "{:<10}  {:<10}  {:<20}  {:<16}  {:<10}  {scope}",
                    t.id,
                    p.role.as_str(),
                    p.user.to_string(),
                    t.created_at.format("%Y-%m-%d %H:%M"),
                    state
                );
            }
        }
        TokenCommand::Revoke { id } => {
            let record = store.revoke(&id)?;
            println!(
                "revoked {} ({} {})",
                record.id, record.principal.role, record.principal.user
            );
        }
    }
    Ok(())
}

/// One token per role for a newcomer on demo data, printed once.
fn demo_tokens(data: &std::path::Path) -> Result<()> {
    let store = token_store(data)?;
    // On standard output, not in the log stream: secrets never go to logs.
    println!("demo tokens (shown once; GraphiQL Headers tab: {{\"Authorization\": \"Bearer <token>\"}}):");
    for (role, contractor) in [
        ("agent", None),
        ("manager", None),
        ("engineer", None),
        ("contractor", Some("C-001".to_string())),
        ("analyst", None),
        ("auditor", None),
        ("admin", None),
    ] {
        let user = Some(format!("demo-{role}"));
        let (token, _) = create_token(&store, role, user, Vec::new(), contractor, None, Some(30))?;
        println!("  {role:<10} {token}");
    }
    Ok(())
}

async fn serve(
    data: &std::path::Path,
    listen: std::net::SocketAddr,
    with_demo: bool,
    trust_identity_headers: bool,
    exposure: Exposure,
) -> Result<()> {
    if exposure.request_timeout == 0 {
        bail!("--request-timeout must be at least 1 second");
    }
    if exposure.rate < 0.0 || (exposure.rate > 0.0 && exposure.burst < 1.0) {
        bail!("--rate must be 0 (off) or positive, with --burst at least 1");
    }
    if exposure.max_cost == 0 || exposure.max_response_bytes == 0 || exposure.max_running == Some(0) {
        bail!("--max-cost, --max-response-bytes and --max-running must be at least 1");
    }
    if with_demo {
        let store = api::ops::open_log(data).map_err(|e| anyhow!(e.message()))?;
        let empty = store.head().is_none();
        store.close()?;
        drop(store);
        if empty {
            demo(data, 15_000, 1, None).await?;
            if !trust_identity_headers {
                demo_tokens(data)?;
            }
        } else {
            tracing::info!("the data folder already holds events; --demo adds nothing");
        }
    }
    let service = open_service(data)?;
    // A new data folder (or one from before reference data was stored)
    // records the bundled calendar, policy and warranty rules as their
    // first published versions.
    let bundled = service.publish_bundled().await.map_err(|e| anyhow!(e.message()))?;
    if !bundled.is_empty() {
        tracing::info!(published = bundled.join(", "), "recorded the bundled reference data");
    }
    let listener = tokio::net::TcpListener::bind(listen)
        .await
        .with_context(|| format!("listening on {listen}"))?;
    tracing::info!(
        data = %data.display(),
        "serving on http://{} (GraphiQL at /graphiql, API at /graphql, subscriptions at /graphql/ws)",
        listener.local_addr()?
    );
    // Queries are served while the views catch up; /readyz says when they
    // are live.
    let watcher = {
        let service = service.clone();
        tokio::spawn(async move {
            if let Err(e) = catch_up(&service).await {
                tracing::error!("{e:#}");
            }
        })
    };
    let identity = if trust_identity_headers {
        tracing::warn!("identity is taken from request headers: serve only behind a gateway that authenticates");
        api::server::Identity::TrustedHeaders
    } else {
        api::server::Identity::Tokens(token_store(data)?)
    };
    let options = api::server::ServerOptions {
        identity,
        introspection: !exposure.no_introspection,
        graphiql: !exposure.no_graphiql,
        cors_origins: exposure.cors_origins,
        request_timeout: Duration::from_secs(exposure.request_timeout),
        rate: (exposure.rate > 0.0).then_some(api::limits::Rate {
            per_second: exposure.rate,
            burst: exposure.burst,
        }),
        document_limits: api::cost::DocumentLimits {
            max_cost: exposure.max_cost,
            ..Default::default()
        },
        max_response_bytes: exposure.max_response_bytes,
        concurrency: {
            let default = api::limits::Concurrency::default();
            api::limits::Concurrency {
                running: exposure.max_running.unwrap_or(default.running),
                queued: exposure.max_queued,
                ..default
            }
        },
    };
    axum::serve(listener, api::server::router_with(service.clone(), options))
        .with_graceful_shutdown(shutdown_signal())
        .await?;
    watcher.abort();
    tracing::info!("stopping: in-flight requests done; flushing the log");
    service.shutdown().await.map_err(|e| anyhow!(e.message()))?;
    tracing::info!("stopped");
    Ok(())
}

async fn rebuild(data: &std::path::Path, view: Option<String>) -> Result<()> {
    let service = open_service(data)?;
    catch_up(&service).await?;
    let chosen: Vec<_> = service
        .views()
        .iter()
        .filter(|v| view.as_deref().is_none_or(|n| n == v.name()))
        .cloned()
        .collect();
    if chosen.is_empty() {
        let names: Vec<_> = service.views().iter().map(|v| v.name()).collect();
        bail!(
            "no view is called {:?}; the views are {}",
            view.unwrap_or_default(),
            names.join(", ")
        );
    }
    let started = Instant::now();
    for v in &chosen {
        v.rebuild();
    }
    // Wait until each has left Live for Rebuilding and come back.
    tokio::time::sleep(Duration::from_millis(200)).await;
    loop {
        let head = service.head();
        let done = chosen
            .iter()
            .all(|v| matches!(v.status(), ViewStatus::Live) && v.applied() >= head);
        let line = api::ops::progress_line(&chosen, head);
        let rebuilt: u64 = chosen
            .iter()
            .map(|v| match v.status() {
                ViewStatus::Rebuilding(p) => p.events_done,
                _ => head.map_or(0, |h| h + 1),
            })
            .min()
            .unwrap_or(0);
        eprint!("\r{} {line}\x1b[K", api::ops::bar(rebuilt, head.map_or(0, |h| h + 1)));
        if let Some(failed) = chosen.iter().find(|v| matches!(v.status(), ViewStatus::Failed { .. })) {
            eprintln!();
            bail!("view {} failed: {:?}", failed.name(), failed.status());
        }
        if done {
            break;
        }
        tokio::time::sleep(Duration::from_millis(500)).await;
    }
    eprintln!();
    let events = service.head().map_or(0, |h| h + 1);
    let secs = started.elapsed().as_secs_f64();
    println!(
        "rebuilt {} from {events} events in {secs:.1} s ({:.0} events/s)",
        chosen.iter().map(|v| v.name()).collect::<Vec<_>>().join(", "),
        events as f64 / secs.max(0.001)
    );
    service.shutdown().await.map_err(|e| anyhow!(e.message()))?;
    Ok(())
}

/// The optional configuration file.
#[derive(serde::Deserialize, Default)]
#[serde(deny_unknown_fields)]
struct ConfigFile {
    data: Option<PathBuf>,
    listen: Option<std::net::SocketAddr>,
    demo: Option<bool>,
}

fn read_config(path: Option<&std::path::Path>) -> Result<ConfigFile> {
    let Some(path) = path else {
        return Ok(ConfigFile::default());
    };
    let text = std::fs::read_to_string(path).with_context(|| format!("reading {}", path.display()))?;
    toml::from_str(&text).with_context(|| format!("{} is not a valid configuration file", path.display()))
}

/// Largest CSV file `import` reads.
const MAX_IMPORT_BYTES: u64 = 256 << 20;

async fn import(data: &std::path::Path, kind: &str, file: &std::path::Path, user: &str) -> Result<()> {
    let kind: api::import::ImportKind = kind.parse().map_err(|e| anyhow!("{e}"))?;
    let size = std::fs::metadata(file)
        .with_context(|| format!("reading {}", file.display()))?
        .len();
    if size > MAX_IMPORT_BYTES {
        bail!(
            "{} is {size} bytes; import takes files up to {MAX_IMPORT_BYTES} bytes",
            file.display()
        );
    }
    let bytes = std::fs::read(file).with_context(|| format!("reading {}", file.display()))?;
    let text = String::from_utf8(bytes).map_err(|e| {
        anyhow!(
            "{} is not UTF-8 (first bad byte at offset {}); save it as UTF-8 CSV",
            file.display(),
            e.utf8_error().valid_up_to()
        )
    })?;
    let actor = domain::actor::Actor::staff(
        domain::ids::UserId::new(user).map_err(|e| anyhow!("--user: {e}"))?,
        domain::actor::Role::System,
    );
    let service = open_service(data)?;
    catch_up(&service).await?;
    let outcome = api::import::import(&service, kind, &text, actor).await;
    service.shutdown().await.map_err(|e| anyhow!(e.message()))?;
    match outcome {
        Ok(report) => {
            println!(
                "imported {} of {} rows ({} already in from an earlier run), {} events{}",
                report.imported,
                report.rows,
                report.skipped,
                report.events_appended,
                match (report.first_position, report.last_position) {
                    (Some(a), Some(b)) => format!(" at positions {a}–{b}"),
                    _ => String::new(),
                }
            );
            Ok(())
        }
        Err(e) => bail!("{e}"),
    }
}

async fn erase_owner(data: &std::path::Path, owner: &str, request: &str, user: &str) -> Result<()> {
    let id = domain::ids::OwnerId::new(owner).map_err(|e| anyhow!("{e}"))?;
    let actor = domain::actor::Actor::staff(
        domain::ids::UserId::new(user).map_err(|e| anyhow!("--user: {e}"))?,
        domain::actor::Role::Admin,
    );
    let service = open_service(data)?;
    catch_up(&service).await?;
    let acting = api::service::Acting::by(actor);
    let outcome = service.erase_owner(&id, request, acting).await;
    service.shutdown().await.map_err(|e| anyhow!(e.message()))?;
    let erasure = outcome.map_err(|e| anyhow!(e.message()))?;
    println!(
        "owner {id}: personal data erased ({}; {} keys destroyed)",
        if erasure.recorded_now {
            "erasure recorded now"
        } else {
            "erasure recorded by an earlier run, completed now"
        },
        erasure.keys_destroyed
    );
    Ok(())
}

async fn reference_command(
    data: &std::path::Path,
    kind: domain::reference::ReferenceKind,
    command: ReferenceCli,
) -> Result<()> {
    match command {
        ReferenceCli::List => {
            let service = open_service(data)?;
            let text = api::publish::list(&service, kind);
            service.shutdown().await.map_err(|e| anyhow!(e.message()))?;
            print!("{text}");
            Ok(())
        }
        ReferenceCli::Show { id, version } => {
            let id = id.unwrap_or_else(|| match kind {
                domain::reference::ReferenceKind::Calendar => "cn-mainland".to_string(),
                _ => "default".to_string(),
            });
            let service = open_service(data)?;
            let text = api::publish::show(&service, kind, &id, version.as_deref());
            service.shutdown().await.map_err(|e| anyhow!(e.message()))?;
            print!("{}", text.map_err(|e| anyhow!(e))?);
            Ok(())
        }
        ReferenceCli::Publish { file, dry_run, user } => {
            let size = std::fs::metadata(&file)
                .with_context(|| format!("reading {}", file.display()))?
                .len();
            if size > domain::reference::MAX_FILE_BYTES as u64 {
                bail!(
                    "{} is {size} bytes; a {} file is at most {} bytes",
                    file.display(),
                    kind.label(),
                    domain::reference::MAX_FILE_BYTES
                );
            }
            let text =
                std::fs::read_to_string(&file).with_context(|| format!("reading {} as UTF-8", file.display()))?;
            let actor = domain::actor::Actor::staff(
                domain::ids::UserId::new(user).map_err(|e| anyhow!("--user: {e}"))?,
                domain::actor::Role::Admin,
            );
            let source = file.display().to_string();
            let service = open_service(data)?;
            catch_up(&service).await?;
            let outcome = service
                .publish_reference(kind, text, source.clone(), dry_run, api::service::Acting::by(actor))
                .await;
            service.shutdown().await.map_err(|e| anyhow!(e.message()))?;
            match outcome {
                Ok(outcome) => {
                    print!("{}", api::publish::describe(&outcome, &source, dry_run));
                    Ok(())
                }
                // The same file again: already there, which is what was asked.
                Err(api::error::AppError::Domain(domain::error::DomainError::AlreadyExists { what })) => {
                    println!("{what} is already published; nothing to do");
                    Ok(())
                }
                Err(e) => bail!("{}", api::publish::refusal(&e).trim_end()),
            }
        }
    }
}

async fn run(cli: Cli) -> Result<()> {
    let config = read_config(cli.config.as_deref())?;
    let data = cli
        .data
        .or(config.data.clone())
        .unwrap_or_else(|| PathBuf::from("./data"));
    if data.as_os_str().is_empty() {
        bail!("--data must not be empty");
    }
    let data = data.as_path();
    // Commands that read a log refuse a folder that holds none (a mistyped
    // --data must not create an empty store and report it as fine).
    let reads_a_log = match &cli.command {
        Command::Rebuild { .. }
        | Command::History { .. }
        | Command::Verify
        | Command::Repair
        | Command::Export { .. }
        | Command::EraseOwner { .. } => true,
        Command::Calendar(_) | Command::Policy(_) | Command::Warranty(_) => true,
        Command::Log(c) => !matches!(c, LogCommand::Append { .. }),
        _ => false,
    };
    if reads_a_log && !data.join("log").join("db").is_file() {
        bail!(
            "{} holds no event log (there is no {}): check --data; `aftersales serve` and `aftersales demo` start a new one",
            data.display(),
            data.join("log").join("db").display()
        );
    }
    let hint = match &cli.command {
        Command::History { ticket } => Some(format!(
            "ask the running server instead: POST /graphql {{ ticketHistory(id: \"{ticket}\") {{ events {{ occurredAt actor type summary }} }} }} with a token (aftersales token create)"
        )),
        Command::Export { report, .. } => Some(format!(
            "ask the running server instead: POST /graphql {{ {} }} with a token (aftersales token create)",
            if report == "weekly" {
                "weeklyRepairReport(projectId: …, week: …) { … }"
            } else {
                "monthlyReport(projectId: …, month: …) { … }"
            }
        )),
        Command::Verify | Command::Log(LogCommand::Verify) => Some(
            "stop the server first (verify reads every byte while nothing writes); while it runs, /readyz and /metrics show its state"
                .to_string(),
        ),
        _ => None,
    };
    let outcome = dispatch(cli.command, config, data).await;
    match (outcome, hint) {
        (Err(e), Some(hint)) if format!("{e:#}").contains("in use by another process") => bail!(
            "the data folder {} is in use by a running `aftersales serve` (or another command): {hint}",
            data.display()
        ),
        (outcome, _) => outcome,
    }
}

async fn dispatch(command: Command, config: ConfigFile, data: &std::path::Path) -> Result<()> {
    match command {
        Command::Serve {
            listen,
            demo: with_demo,
            trust_identity_headers,
            exposure,
        } => {
            let listen = listen
                .or(config.listen)
                .unwrap_or_else(|| std::net::SocketAddr::from(([127, 0, 0, 1], 8080)));
            serve(
                data,
                listen,
                with_demo || config.demo.unwrap_or(false),
                trust_identity_headers,
                exposure,
            )
            .await
        }
        Command::Token(command) => token_command(data, command),
        Command::Demo { tickets, seed, until } => demo(data, tickets, seed, until).await,
        Command::Rebuild { view } => rebuild(data, view).await,
        Command::History { ticket } => {
            let id = domain::ids::TicketId::new(ticket.as_str()).map_err(|e| anyhow!("{e}"))?;
            let store = api::ops::open_log(data).map_err(|e| anyhow!(e.message()))?;
            let text = api::ops::history_text(store.as_ref(), &id).map_err(|e| anyhow!(e.message()))?;
            store.close()?;
            match text {
                Some(t) => {
                    print!("{t}");
                    Ok(())
                }
                None => bail!("there is no ticket {id} in {}", data.display()),
            }
        }
        Command::Verify => log_command(data, LogCommand::Verify).await,
        Command::Repair => repair(data).await,
        Command::Export {
            report,
            project,
            period,
        } => {
            let service = open_service(data)?;
            catch_up(&service).await?;
            let kind = if report == "weekly" {
                api::ops::Report::Weekly
            } else {
                api::ops::Report::Monthly
            };
            let csv = api::ops::export(&service, kind, &project, &period).map_err(|e| anyhow!(e.message()));
            service.shutdown().await.map_err(|e| anyhow!(e.message()))?;
            print!("{}", csv?);
            Ok(())
        }
        Command::Import { kind, file, user } => import(data, &kind, &file, &user).await,
        Command::EraseOwner { owner, request, user } => erase_owner(data, &owner, &request, &user).await,
        Command::Calendar(c) => reference_command(data, domain::reference::ReferenceKind::Calendar, c).await,
        Command::Policy(c) => reference_command(data, domain::reference::ReferenceKind::Policy, c).await,
        Command::Warranty(c) => reference_command(data, domain::reference::ReferenceKind::Warranty, c).await,
        Command::Schema => {
            print!("{}", api::schema::sdl());
            Ok(())
        }
        Command::Log(command) => log_command(data, command).await,
    }
}

async fn repair(data: &std::path::Path) -> Result<()> {
    let log = data.join("log");
    let report = SledEventStore::repair(&log, &eventlog::RepairOptions::default())?;
    print!("{report}");
    // Views folded before the damage may hold the lost events: they are
    // built again from the repaired log.
    if !report.lost.is_empty() && data.join("views").exists() {
        println!("rebuilding every view from the repaired log");
        rebuild(data, None).await?;
    }
    Ok(())
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
            if let Err(refusal) = api::ops::check_append(&stream, &event) {
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
            let unreadable = api::ops::unreadable_events(store.as_ref()).map_err(|e| anyhow!(e.message()))?;
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

#[tokio::main]
async fn main() -> ExitCode {
    let cli = Cli::parse();
    // Structured logs on standard error; RUST_LOG filters (default info).
    tracing_subscriber::fmt()
        .with_env_filter(
            tracing_subscriber::EnvFilter::try_from_default_env()
                .unwrap_or_else(|_| tracing_subscriber::EnvFilter::new("info")),
        )
        .with_writer(std::io::stderr)
        .init();
    let result = run(cli).await;
    match result {
        Ok(()) => ExitCode::SUCCESS,
        Err(e) => {
            // The whole chain, on one line, without a backtrace.
            eprintln!("error: {e:#}");
            ExitCode::FAILURE
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_config_file_is_read_strictly() {
        let dir = tempfile::tempdir().unwrap_or_else(|e| panic!("{e}"));
        let good = dir.path().join("good.toml");
        std::fs::write(
            &good,
            "data = \"/srv/aftersales\"\nlisten = \"0.0.0.0:9000\"\ndemo = true\n",
        )
        .unwrap_or_else(|e| panic!("{e}"));
        let c = read_config(Some(&good)).unwrap_or_else(|e| panic!("{e:#}"));
        assert_eq!(c.data, Some(PathBuf::from("/srv/aftersales")));
        assert_eq!(c.listen, Some(std::net::SocketAddr::from(([0, 0, 0, 0], 9000))));
        assert_eq!(c.demo, Some(true));
        let typo = dir.path().join("typo.toml");
        std::fs::write(&typo, "listn = \"0.0.0.0:9000\"\n").unwrap_or_else(|e| panic!("{e}"));
        let e = read_config(Some(&typo))
            .err()
            .map(|e| format!("{e:#}"))
            .unwrap_or_default();
        assert!(e.contains("listn"), "{e}");
        assert!(read_config(Some(&dir.path().join("missing.toml"))).is_err());
        assert!(read_config(None).is_ok_and(|c| c.data.is_none()));
    }
}
