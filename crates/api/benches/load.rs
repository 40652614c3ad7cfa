//! The load benchmark: the real router on loopback, with the demo dataset,
//! under a mixed staff workload; beside it, in the same run, a trivial axum
//! handler as the ceiling of the HTTP stack on this machine.
//!
//! 1. Ceiling: `BENCH_CLIENTS` (64) keep-alive clients loop on a trivial
//!    handler for `BENCH_PHASE_SECONDS` (10).
//! 2. Single-ticket reads: the same clients loop on `ticket(id)` queries.
//! 3. Mixed at `BENCH_RATE` (1,000) requests a second for `BENCH_SECONDS`
//!    (30), open loop (each request has a scheduled start and its latency
//!    counts from then, so a stall is not hidden): 40% single tickets, 25%
//!    list pages, 15% reports, 20% mutations walking each client's own
//!    tickets through their lifecycle (receive, acknowledge, dispatch,
//!    arrival, diagnose, confirm, complete, accept).
//! 4. Closed loops on `/healthz` of the server, then on `receiveTicket` of
//!    new tickets spread over the demo's units (each waits, as every
//!    mutation does, for the views to apply it), reported as a share of
//!    `/healthz`.
//!
//! Then it checks the log (`verify`) and that every acknowledged mutation
//! is in it. `BENCH_TICKETS` sets the demo size (15,000).

use std::net::SocketAddr;
use std::sync::Arc;
use std::time::{Duration, Instant};

use api::server::{Identity, ServerOptions};
use application::auth::{Principal, TokenStore};
use domain::actor::Role;
use domain::ids::UserId;
use eventlog::EventStore;
use tokio::io::{AsyncBufReadExt, AsyncReadExt, AsyncWriteExt, BufReader};
use tokio::net::TcpStream;

#[global_allocator]
static GLOBAL: mimalloc::MiMalloc = mimalloc::MiMalloc;

fn env<T: std::str::FromStr>(name: &str, default: T) -> T {
    std::env::var(name).ok().and_then(|v| v.parse().ok()).unwrap_or(default)
}

/// One keep-alive HTTP/1.1 connection.
struct Client {
    reader: BufReader<tokio::net::tcp::OwnedReadHalf>,
    writer: tokio::net::tcp::OwnedWriteHalf,
    addr: SocketAddr,
    token: String,
}

impl Client {
    async fn connect(addr: SocketAddr, token: String) -> Result<Self, String> {
        let stream = TcpStream::connect(addr).await.map_err(|e| e.to_string())?;
        stream.set_nodelay(true).map_err(|e| e.to_string())?;
        let (r, w) = stream.into_split();
        Ok(Self {
            reader: BufReader::new(r),
            writer: w,
            addr,
            token,
        })
    }

    /// Sends a request and reads the whole answer; returns status and body.
    async fn send(&mut self, method: &str, path: &str, body: &str) -> Result<(u16, String), String> {
        let request = format!(
            "{method} {path} HTTP/1.1\r\nHost: {}\r\nAuthorization: Bearer {}\r\nContent-Type: application/json\r\nContent-Length: {}\r\n\r\n{body}",
            self.addr,
            self.token,
            body.len()
        );
        self.writer
            .write_all(request.as_bytes())
            .await
            .map_err(|e| e.to_string())?;
        let mut status = 0u16;
        let mut length = 0usize;
        let mut line = String::new();
        loop {
            line.clear();
            if self.reader.read_line(&mut line).await.map_err(|e| e.to_string())? == 0 {
                return Err("connection closed".into());
            }
            let l = line.trim_end();
            if l.is_empty() {
                break;
            }
            if status == 0 {
                status = l.split_whitespace().nth(1).and_then(|s| s.parse().ok()).unwrap_or(0);
            } else if let Some((name, value)) = l.split_once(':') {
                if name.eq_ignore_ascii_case("content-length") {
                    length = value.trim().parse().unwrap_or(0);
                }
            }
        }
        let mut buffer = vec![0; length];
        self.reader.read_exact(&mut buffer).await.map_err(|e| e.to_string())?;
        Ok((status, String::from_utf8_lossy(&buffer).into_owned()))
    }

    async fn graphql(&mut self, query: &str) -> Result<serde_json::Value, String> {
        self.graphql_with(query, serde_json::Value::Null).await
    }

    /// A query with variables, as staff tools send them: the same text
    /// every time, the values apart.
    async fn graphql_with(&mut self, query: &str, variables: serde_json::Value) -> Result<serde_json::Value, String> {
        let body = serde_json::json!({ "query": query, "variables": variables }).to_string();
        let (status, text) = self.send("POST", "/graphql", &body).await?;
        let value: serde_json::Value = serde_json::from_str(&text).map_err(|e| format!("{status}: {e}: {text}"))?;
        if status != 200 || value.get("errors").is_some() {
            return Err(format!("{status}: {text}"));
        }
        Ok(value)
    }
}

/// Latencies of one kind of operation, in microseconds.
#[derive(Default, Clone)]
struct Samples(Vec<u64>);

impl Samples {
    fn quantile(&self, q: f64) -> f64 {
        let mut v = self.0.clone();
        v.sort_unstable();
        match v.len() {
            0 => f64::NAN,
            n => v[((n as f64 * q).ceil() as usize).clamp(1, n) - 1] as f64 / 1000.0,
        }
    }
}

/// What a closed-loop phase sends.
#[derive(Clone, Copy)]
enum Closed {
    /// `GET /` on the trivial handler.
    Trivial,
    /// `GET /healthz` on the server.
    Healthz,
    /// A single-ticket read.
    Read,
    /// A `receiveTicket` of a new ticket.
    Receive,
    /// The same `receiveTicket` with its input as a variable (one query
    /// text for every request, as a client with a prepared query sends).
    ReceiveVariables,
    /// `{ __typename }`: authentication and GraphQL with nothing to do,
    /// the ceiling of any GraphQL request on this server.
    Typename,
}

const KINDS: [&str; 4] = ["single ticket", "list page", "report", "mutation"];

/// A unit of the demo: project, building, unit.
type Unit = (String, String, String);

/// The next mutation of a client's ticket walk; a new ticket is for one
/// of the demo's units, spread by client and round (a unit holding every
/// new ticket would measure one unit's open-ticket check, not the server).
fn mutation(client: usize, round: usize, step: usize, units: &[Unit]) -> (String, bool) {
    let id = format!("T-LOAD-{client}-{round}");
    let (project, building, unit) = &units[(client * 7919 + round * 104_729) % units.len()];
    let q = match step {
        0 => format!(
            r#"mutation {{ receiveTicket(input: {{ ticketId: "{id}", kind: REPAIR, channel: HOTLINE, priority: NORMAL,
            category: ENGINEERING, trade: LEAK, description: "load test",
            reporter: {{ familyName: "王", phone: "13812345678" }},
            location: {{ projectId: "{project}", buildingId: "{building}", unitId: "{unit}" }} }}) {{ position }} }}"#
        ),
        1 => format!(r#"mutation {{ acknowledgeTicket(input: {{ ticketId: "{id}" }}) {{ position }} }}"#),
        2 => format!(
            r#"mutation {{ dispatchTicket(input: {{ ticketId: "{id}", contractorId: "C-001" }}) {{ position }} }}"#
        ),
        3 => format!(r#"mutation {{ recordArrival(input: {{ ticketId: "{id}" }}) {{ position }} }}"#),
        4 => format!(
            r#"mutation {{ diagnoseTicket(input: {{ ticketId: "{id}", cause: "seal", responsible: DEVELOPER,
            item: EXTERIOR_WALL_LEAKAGE, plan: "reseal", durationMinutes: 60 }}) {{ position }} }}"#
        ),
        5 => format!(
            r#"mutation {{ confirmPlan(input: {{ ticketId: "{id}", confirmation: "phone" }}) {{ position }} }}"#
        ),
        6 => format!(
            r#"mutation {{ completeRepair(input: {{ ticketId: "{id}", summary: "resealed" }}) {{ position }} }}"#
        ),
        _ => format!(
            r#"mutation {{ acceptRepair(input: {{ ticketId: "{id}", confirmation: "signed", ratings: {{ overall: 5 }} }}) {{ position }} }}"#
        ),
    };
    (q, step == 7)
}

fn position_of(value: &serde_json::Value) -> Option<u64> {
    value["data"].as_object()?.values().next()?["position"].as_u64()
}

#[tokio::main(flavor = "multi_thread", worker_threads = 2)]
async fn main() {
    if let Err(e) = run().await {
        eprintln!("load benchmark failed: {e}");
        std::process::exit(1);
    }
}

async fn run() -> Result<(), String> {
    let clients: usize = env("BENCH_CLIENTS", 64);
    let phase = Duration::from_secs(env("BENCH_PHASE_SECONDS", 10));
    let seconds: u64 = env("BENCH_SECONDS", 30);
    let rate: f64 = env("BENCH_RATE", 1000.0);
    let tickets: u32 = env("BENCH_TICKETS", 15_000);
    let cpus = std::thread::available_parallelism().map(|n| n.get()).unwrap_or(0);
    println!("load benchmark: {cpus} CPUs, {clients} clients, demo dataset of {tickets} tickets");

    // The service with demo data, caught up.
    let dir = tempfile::tempdir().map_err(|e| e.to_string())?;
    let service = Arc::new(application::service::Service::open(dir.path()).map_err(|e| e.message())?);
    let config = simulator::GeneratorConfig {
        tickets,
        ..application::jobs::demo_config(domain::testing::test_today())
    };
    let started = Instant::now();
    application::jobs::fill_demo(service.store().as_ref(), service.keyring(), &config)
        .await
        .map_err(|e| e.message())?;
    application::jobs::wait_ready(&service, |_| {})
        .await
        .map_err(|e| e.message())?;
    println!(
        "dataset: {} events, written and caught up in {:.1} s",
        service.head().map_or(0, |h| h + 1),
        started.elapsed().as_secs_f64()
    );

    // Tokens, one per client (managers: every read and every step).
    let store = Arc::new(TokenStore::open(dir.path()).map_err(|e| e.to_string())?);
    let mut tokens = Vec::new();
    for i in 0..clients {
        let principal = Principal {
            user: UserId::new(format!("load-{i}")).map_err(|e| e.to_string())?,
            role: Role::Manager,
            projects: Vec::new(),
            contractor: None,
            owner: None,
        };
        tokens.push(store.create(principal, None).map_err(|e| e.to_string())?.0);
    }

    // The server under test and the ceiling, both on loopback.
    let mut options = ServerOptions::new(Identity::Tokens(store));
    options.rate = None;
    let app = api::server::router_with(service.clone(), options);
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0")
        .await
        .map_err(|e| e.to_string())?;
    let addr = listener.local_addr().map_err(|e| e.to_string())?;
    tokio::spawn(async move { axum::serve(listener, app).await });
    let trivial = axum::Router::new().route("/", axum::routing::get(|| async { "ok" }));
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0")
        .await
        .map_err(|e| e.to_string())?;
    let trivial_addr = listener.local_addr().map_err(|e| e.to_string())?;
    tokio::spawn(async move { axum::serve(listener, trivial).await });

    // Ticket ids to read.
    let mut probe = Client::connect(addr, tokens[0].clone()).await?;
    let page = probe
        .graphql(r#"{ tickets(filter: { projectId: "P01" }, first: 500) { edges { node { id projectId buildingId unitId } } } }"#)
        .await?;
    let ids: Arc<Vec<String>> = Arc::new(
        page["data"]["tickets"]["edges"]
            .as_array()
            .map(|a| {
                a.iter()
                    .filter_map(|e| e["node"]["id"].as_str().map(str::to_string))
                    .collect()
            })
            .unwrap_or_default(),
    );
    let mut unit_list: Vec<Unit> = page["data"]["tickets"]["edges"]
        .as_array()
        .map(|a| {
            a.iter()
                .filter_map(|e| {
                    let n = &e["node"];
                    Some((
                        n["projectId"].as_str()?.to_string(),
                        n["buildingId"].as_str()?.to_string(),
                        n["unitId"].as_str()?.to_string(),
                    ))
                })
                .collect()
        })
        .unwrap_or_default();
    unit_list.sort();
    unit_list.dedup();
    let units: Arc<Vec<Unit>> = Arc::new(unit_list);
    if units.is_empty() {
        return Err("no units to report tickets for".into());
    }
    if ids.is_empty() {
        return Err("no tickets to read".into());
    }

    // 1 and 2: closed loops.
    let closed = |target: SocketAddr, loop_kind: Closed| {
        let tokens = tokens.clone();
        let ids = ids.clone();
        let units = units.clone();
        async move {
            let deadline = Instant::now() + phase;
            let mut tasks = Vec::new();
            for (i, token) in tokens.into_iter().enumerate() {
                let ids = ids.clone();
                let units = units.clone();
                tasks.push(tokio::spawn(async move {
                    let mut client = Client::connect(target, token).await?;
                    let mut done = 0u64;
                    let mut n = i;
                    while Instant::now() < deadline {
                        match loop_kind {
                            Closed::Read => {
                                n = (n + 7919) % ids.len();
                                client
                                    .graphql_with(
                                        "query($id: String!) { ticket(id: $id) { id status priority receivedAt } }",
                                        serde_json::json!({ "id": ids[n] }),
                                    )
                                    .await?;
                            }
                            Closed::Receive => {
                                // Tickets of their own, apart from the mixed phase's.
                                let (q, _) = mutation(10_000 + i, done as usize, 0, &units);
                                let v = client.graphql(&q).await?;
                                position_of(&v).ok_or_else(|| format!("no position in {v}"))?;
                            }
                            Closed::ReceiveVariables => {
                                let id = format!("T-LOADV-{i}-{done}");
                                let (project, building, unit) = &units[(i * 7919 + done as usize * 104_729) % units.len()];
                                let v = client
                                    .graphql_with(
                                        "mutation($input: ReceiveTicketInput!) { receiveTicket(input: $input) { position } }",
                                        serde_json::json!({ "input": {
                                            "ticketId": id, "kind": "REPAIR", "channel": "HOTLINE", "priority": "NORMAL",
                                            "category": "ENGINEERING", "trade": "LEAK", "description": "load test",
                                            "reporter": { "familyName": "王", "phone": "13812345678" },
                                            "location": { "projectId": project, "buildingId": building, "unitId": unit }
                                        } }),
                                    )
                                    .await?;
                                position_of(&v).ok_or_else(|| format!("no position in {v}"))?;
                            }
                            Closed::Typename => {
                                let v = client.graphql("{ __typename }").await?;
                                if v["data"]["__typename"] != "Query" {
                                    return Err(format!("unexpected answer {v}"));
                                }
                            }
                            Closed::Trivial | Closed::Healthz => {
                                let path = if matches!(loop_kind, Closed::Trivial) {
                                    "/"
                                } else {
                                    "/healthz"
                                };
                                let (status, _) = client.send("GET", path, "").await?;
                                if status != 200 {
                                    return Err(format!("{path} answered {status}"));
                                }
                            }
                        }
                        done += 1;
                    }
                    Ok::<u64, String>(done)
                }));
            }
            let mut total = 0;
            for t in tasks {
                total += t.await.map_err(|e| e.to_string())??;
            }
            Ok::<f64, String>(total as f64 / phase.as_secs_f64())
        }
    };
    let ceiling = closed(trivial_addr, Closed::Trivial).await?;
    println!("ceiling: trivial axum handler, {clients} keep-alive clients: {ceiling:.0} requests/s");
    let single = closed(addr, Closed::Read).await?;
    println!(
        "single-ticket reads, closed loop: {single:.0} requests/s = {:.1}% of the ceiling",
        100.0 * single / ceiling
    );
    // 3: mixed, open loop at `rate`.
    let head_before = service.head();
    let interval = Duration::from_secs_f64(clients as f64 / rate);
    let start = Instant::now() + Duration::from_millis(100);
    let end = start + Duration::from_secs(seconds);
    let mut tasks = Vec::new();
    for (i, token) in tokens.iter().cloned().enumerate() {
        let ids = ids.clone();
        let units = units.clone();
        tasks.push(tokio::spawn(async move {
            let mut client = Client::connect(addr, token).await?;
            let mut samples: Vec<Samples> = vec![Samples::default(); KINDS.len()];
            let mut positions = Vec::new();
            let (mut round, mut step, mut k) = (0usize, 0usize, 0u64);
            // Stagger the clients over one interval.
            let mut next = start + interval.mul_f64(i as f64 / clients as f64);
            while next < end {
                tokio::time::sleep_until(next.into()).await;
                // 40/25/15/20 over a cycle of 20 requests.
                let slot = ((k * 7 + i as u64) % 20) as usize;
                let kind = match slot {
                    0..=7 => 0,
                    8..=12 => 1,
                    13..=15 => 2,
                    _ => 3,
                };
                let result = match kind {
                    0 => {
                        let id = &ids[(i * 131 + k as usize * 17) % ids.len()];
                        client
                            .graphql_with(
                                "query($id: String!) { ticket(id: $id) { id status priority reporterName clocks { clock status dueAt } } }",
                                serde_json::json!({ "id": id }),
                            )
                            .await
                    }
                    1 => {
                        let status = ["DISPATCHED", "RECEIVED", "ACKNOWLEDGED", "CLOSED"][(k % 4) as usize];
                        client
                            .graphql(&format!(
                                r#"{{ tickets(filter: {{ projectId: "P0{}", status: {status} }}, first: 20) {{ edges {{ node {{ id status receivedAt }} }} pageInfo {{ hasNextPage }} }} }}"#,
                                1 + k % 4
                            ))
                            .await
                    }
                    2 => {
                        let q = match k % 3 {
                            0 => r#"{ slaReport(groupBy: PROJECT) { key firstResponse { complianceRate } } }"#.to_string(),
                            1 => format!(
                                r#"{{ weeklyRepairReport(projectId: "P0{}", week: "2026-W40") {{ received open }} }}"#,
                                1 + k % 4
                            ),
                            _ => r#"{ satisfactionReport(groupBy: PROJECT) { ratings { key overall } } }"#.to_string(),
                        };
                        client.graphql(&q).await
                    }
                    _ => {
                        let (q, last) = mutation(i, round, step, &units);
                        let r = client.graphql(&q).await;
                        if let Ok(v) = &r {
                            positions.push(position_of(v).ok_or_else(|| format!("no position in {v}"))?);
                        }
                        step += 1;
                        if last {
                            step = 0;
                            round += 1;
                        }
                        r
                    }
                };
                result.map_err(|e| format!("{}: {e}", KINDS[kind]))?;
                samples[kind].0.push(next.elapsed().as_micros() as u64);
                next += interval;
                k += 1;
            }
            Ok::<_, String>((samples, positions))
        }));
    }
    let mut all: Vec<Samples> = vec![Samples::default(); KINDS.len()];
    let mut positions = Vec::new();
    for t in tasks {
        let (samples, p) = t.await.map_err(|e| e.to_string())??;
        for (a, s) in all.iter_mut().zip(samples) {
            a.0.extend(s.0);
        }
        positions.extend(p);
    }
    let total: usize = all.iter().map(|s| s.0.len()).sum();
    let mut everything = Samples::default();
    for s in &all {
        everything.0.extend(&s.0);
    }
    println!(
        "mixed, open loop at {rate:.0}/s for {seconds} s: {total} requests, {:.0} requests/s; latency from the scheduled start",
        total as f64 / seconds as f64
    );
    println!("| operation | requests | p50 ms | p99 ms | p999 ms |");
    println!("|---|---:|---:|---:|---:|");
    for (kind, s) in KINDS.iter().zip(&all) {
        println!(
            "| {kind} | {} | {:.2} | {:.2} | {:.2} |",
            s.0.len(),
            s.quantile(0.5),
            s.quantile(0.99),
            s.quantile(0.999)
        );
    }
    println!(
        "| all | {} | {:.2} | {:.2} | {:.2} |",
        everything.0.len(),
        everything.quantile(0.5),
        everything.quantile(0.99),
        everything.quantile(0.999)
    );

    // 4: after the mixed phase (whose figures stay comparable with runs
    // before it), `/healthz` and `receiveTicket` in closed loops.
    let health = closed(addr, Closed::Healthz).await?;
    println!("healthz on the server, closed loop: {health:.0} requests/s");
    let typename = closed(addr, Closed::Typename).await?;
    println!(
        "{{ __typename }} on the server, closed loop: {typename:.0} requests/s = {:.1}% of healthz",
        100.0 * typename / health
    );
    let receive_before = service.head();
    let receives = closed(addr, Closed::Receive).await?;
    println!(
        "receiveTicket, closed loop: {receives:.0} mutations/s = {:.1}% of healthz (head {:?} -> {:?})",
        100.0 * receives / health,
        receive_before,
        service.head()
    );
    let variables_before = service.head();
    let receives_variables = closed(addr, Closed::ReceiveVariables).await?;
    println!(
        "receiveTicket with variables, closed loop: {receives_variables:.0} mutations/s = {:.1}% of healthz, {:.1}% of {{ __typename }} (head {:?} -> {:?})",
        100.0 * receives_variables / health,
        100.0 * receives_variables / typename,
        variables_before,
        service.head()
    );

    // Every acknowledged mutation is in the log, and the log verifies.
    positions.sort_unstable();
    positions.dedup();
    let store: &dyn EventStore = service.store().as_ref();
    for p in &positions {
        let event = store
            .read_all(*p)
            .next()
            .ok_or_else(|| format!("acknowledged position {p} is not in the log"))?
            .map_err(|e| e.to_string())?;
        if event.position != *p || !event.stream().starts_with("ticket-T-LOAD-") {
            return Err(format!("position {p} holds {} of {}", event.position, event.stream()));
        }
    }
    let report = service.store().verify().map_err(|e| e.to_string())?;
    println!(
        "after the run: {} acknowledged mutations all in the log (head {:?} -> {:?}); verify ok: {} events in {} streams",
        positions.len(),
        head_before,
        service.head(),
        report.events,
        report.streams
    );
    service.shutdown().await.map_err(|e| e.message())?;
    Ok(())
}
