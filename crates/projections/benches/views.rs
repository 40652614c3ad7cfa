//! The views' benchmark (`cargo bench -p projections`).
//!
//! 1. Generates a realistic log with `simulator` (default: 20
//!    projects, 50,000 units, 120,000 tickets over three years, about a
//!    million events), or reuses the one in `BENCH_LOG_DIR`.
//! 2. Raw replay: `read_all` over the whole log, and `read_all` plus
//!    decoding every event, the ceilings a rebuild is compared with. Each
//!    pass runs in a child process that opens the log afresh, as the
//!    rebuild's child does, and `verify` the same way; the fastest of
//!    `BENCH_REPLAY_ROUNDS` passes
//!    (default 3) is the ceiling.
//! 3. Rebuild: every view from position 0 into a fresh view database, in a
//!    child process so that its peak memory (VmHWM) is the rebuild's own.
//! 4. Live lag: appends arriving at `BENCH_LAG_RATE` events per second
//!    (default 2,000) from 32 writers for `BENCH_LAG_SECONDS` (default 20)
//!    while every view runs; the delay from an append's acknowledgement to
//!    the tickets view having applied it, p50/p99/max.
//!
//! Environment: `BENCH_TICKETS`, `BENCH_UNITS`, `BENCH_PROJECTS` size the
//! log; `BENCH_LOG_DIR` keeps (and reuses) it; `BENCH_VIEWS` (names,
//! comma-separated) rebuilds only those views; `BENCH_SEPARATE=1` gives
//! each view its own reader instead of the shared feed; `BENCH_KEYS=1`
//! prints what each view tree holds after the rebuild.

use std::sync::Arc;
use std::time::{Duration, Instant};

use eventformat::wire;
use eventlog::{Durability, EventStore, ExpectedVersion, SledEventStore, SledOptions};
use projections::all_views;
use projections::store::ViewDb;
use simulator::{Generator, GeneratorConfig};

type BenchResult<T> = Result<T, Box<dyn std::error::Error>>;

// The allocator the product's binary uses (remove these two lines to measure
// glibc malloc instead).
#[global_allocator]
static GLOBAL: mimalloc::MiMalloc = mimalloc::MiMalloc;

fn env_number(name: &str, default: u64) -> u64 {
    std::env::var(name).ok().and_then(|v| v.parse().ok()).unwrap_or(default)
}

fn runtime() -> std::io::Result<tokio::runtime::Runtime> {
    tokio::runtime::Builder::new_multi_thread()
        .worker_threads(2)
        .enable_all()
        .build()
}

fn config() -> GeneratorConfig {
    GeneratorConfig {
        tickets: env_number("BENCH_TICKETS", 120_000) as u32,
        units: env_number("BENCH_UNITS", 50_000) as u32,
        projects: env_number("BENCH_PROJECTS", 20) as u32,
        ..GeneratorConfig::default()
    }
}

/// Peak resident memory of this process, from /proc (KiB).
fn peak_rss_kib() -> Option<u64> {
    let status = std::fs::read_to_string("/proc/self/status").ok()?;
    status
        .lines()
        .find(|l| l.starts_with("VmHWM:"))?
        .split_whitespace()
        .nth(1)?
        .parse()
        .ok()
}

fn buffered() -> SledOptions {
    SledOptions {
        durability: Durability::Buffered {
            interval: Duration::from_millis(100),
        },
        ..SledOptions::default()
    }
}

fn percentile(sorted: &[Duration], p: f64) -> Duration {
    if sorted.is_empty() {
        return Duration::ZERO;
    }
    let index = ((sorted.len() as f64 * p).ceil() as usize).clamp(1, sorted.len()) - 1;
    sorted[index]
}

fn ms(d: Duration) -> f64 {
    d.as_secs_f64() * 1000.0
}

/// Child process: rebuild every view of the log in `log` into `views`.
fn rebuild(log: &std::path::Path, views: &std::path::Path) -> BenchResult<()> {
    let rt = runtime()?;
    rt.block_on(async {
        let store: Arc<dyn EventStore> = Arc::new(SledEventStore::open(log, buffered())?);
        let head = store.head().ok_or("empty log")?;
        let db = ViewDb::open(views)?;
        let started = Instant::now();
        let mut handles = Vec::new();
        let only = std::env::var("BENCH_VIEWS").ok();
        let views: Vec<_> = all_views()
            .into_iter()
            .filter(|v| only.as_deref().is_none_or(|o| o.split(',').any(|n| n == v.name())))
            .collect();
        // BENCH_SEPARATE=1: one reader per view, as before the shared feed.
        if std::env::var("BENCH_SEPARATE").is_ok() {
            for view in views {
                handles.push(projections::runner::start(store.clone(), db.clone(), view)?);
            }
        } else {
            handles = projections::runner::start_all(store.clone(), db.clone(), views)?;
        }
        for h in &handles {
            h.wait_for(head, Duration::from_secs(3600)).await?;
        }
        let elapsed = started.elapsed();
        let events = head + 1;
        println!(
            "rebuild_all_views events={events} seconds={:.2} events_per_second={:.0} views={} peak_rss_mib={:.0}",
            elapsed.as_secs_f64(),
            events as f64 / elapsed.as_secs_f64(),
            handles.len(),
            peak_rss_kib().unwrap_or(0) as f64 / 1024.0
        );
        // BENCH_KEYS=1: what each view tree holds (walks every tree).
        if std::env::var("BENCH_KEYS").is_ok() {
            for name in db.tree_names() {
                let tree = db.tree(&name)?;
                let (mut keys, mut key_bytes, mut value_bytes) = (0u64, 0u64, 0u64);
                for entry in tree.scan_prefix(b"") {
                    let (k, v) = entry?;
                    keys += 1;
                    key_bytes += k.len() as u64;
                    value_bytes += v.len() as u64;
                }
                println!("tree {name} keys={keys} key_bytes={key_bytes} value_bytes={value_bytes}");
            }
        }
        Ok::<(), Box<dyn std::error::Error>>(())
    })
}

/// Child process: one pass of `read_all` over the log in `log`, decoding
/// every event if `mode` is `decode`; `verify` runs the log's `verify`.
fn replay(mode: &str, log: &std::path::Path) -> BenchResult<()> {
    let store = SledEventStore::open(log, buffered())?;
    let started = Instant::now();
    let mut events = 0u64;
    if mode == "verify" {
        events = store.verify()?.events;
    } else {
        for e in store.read_all(0) {
            let e = e?;
            if mode == "decode" {
                let _ = wire::decode(&e)?;
            }
            events += 1;
        }
    }
    let rate = events as f64 / started.elapsed().as_secs_f64();
    println!("replay mode={mode} events={events} events_per_second={rate:.0}");
    store.close()?;
    Ok(())
}

fn main() -> BenchResult<()> {
    let args: Vec<String> = std::env::args().collect();
    if args.get(1).map(String::as_str) == Some("--replay-child") {
        let (mode, log) = (args.get(2).ok_or("mode")?, args.get(3).ok_or("log dir")?);
        return replay(mode, std::path::Path::new(log));
    }
    if args.get(1).map(String::as_str) == Some("--rebuild-child") {
        let (log, views) = (args.get(2).ok_or("log dir")?, args.get(3).ok_or("views dir")?);
        return rebuild(std::path::Path::new(log), std::path::Path::new(views));
    }
    let config = config();
    let temp = tempfile::tempdir()?;
    let log_dir = match std::env::var("BENCH_LOG_DIR") {
        Ok(dir) => std::path::PathBuf::from(dir),
        Err(_) => temp.path().join("log"),
    };
    let rt = runtime()?;

    // 1. The log.
    if !log_dir.join("wal").exists() {
        let started = Instant::now();
        let store = SledEventStore::open(&log_dir, buffered())?;
        let summary = rt.block_on(simulator::write_log(&store, &config))?;
        store.close()?;
        println!(
            "generate tickets={} events={} seconds={:.1}",
            config.tickets,
            summary.events,
            started.elapsed().as_secs_f64()
        );
    }

    // 2. Raw replay ceilings, each pass in a child process that opens the
    // log as the rebuild's child does (sled's cache empty, the system's
    // file cache as the passes before left it): the fastest of
    // `BENCH_REPLAY_ROUNDS` passes (default 3), the strictest ceiling.
    let exe = std::env::current_exe()?;
    let rounds = env_number("BENCH_REPLAY_ROUNDS", 3).max(1);
    let (mut raw_rates, mut decode_rates, mut verify_rates) = (Vec::new(), Vec::new(), Vec::new());
    let mut events = 0u64;
    for mode in ["raw", "decode", "verify"] {
        for _ in 0..rounds {
            let out = std::process::Command::new(&exe)
                .arg("--replay-child")
                .arg(mode)
                .arg(&log_dir)
                .output()?;
            if !out.status.success() {
                return Err(format!("replay child failed: {}", String::from_utf8_lossy(&out.stderr)).into());
            }
            let text = String::from_utf8_lossy(&out.stdout);
            let field = |name: &str| {
                text.split_whitespace()
                    .find_map(|w| w.strip_prefix(name))
                    .and_then(|v| v.parse::<f64>().ok())
            };
            events = field("events=").ok_or("replay child printed no count")? as u64;
            let rate = field("events_per_second=").ok_or("replay child printed no rate")?;
            match mode {
                "raw" => raw_rates.push(rate),
                "decode" => decode_rates.push(rate),
                _ => verify_rates.push(rate),
            }
        }
    }
    let best = |rates: &[f64]| rates.iter().copied().fold(0.0, f64::max);
    let list = |rates: &[f64]| rates.iter().map(|r| format!("{r:.0}")).collect::<Vec<_>>().join(",");
    let (raw, decoded) = (best(&raw_rates), best(&decode_rates));
    println!(
        "replay events={events} raw_events_per_second={raw:.0} decode_events_per_second={decoded:.0} (best of {rounds} fresh opens; raw {}, decode {})",
        list(&raw_rates),
        list(&decode_rates)
    );
    let verified = best(&verify_rates);
    println!(
        "verify events={events} events_per_second={verified:.0} verify_vs_raw_replay={:.1}% (best of {rounds} fresh opens: {})",
        100.0 * verified / raw,
        list(&verify_rates)
    );

    // 3. Rebuild, in a child process.
    let views_dir = temp.path().join("views");
    let out = std::process::Command::new(exe)
        .arg("--rebuild-child")
        .arg(&log_dir)
        .arg(&views_dir)
        .output()?;
    let text = String::from_utf8_lossy(&out.stdout);
    print!("{text}");
    if !out.status.success() {
        return Err(format!("rebuild child failed: {}", String::from_utf8_lossy(&out.stderr)).into());
    }
    if let Some(rate) = text
        .split_whitespace()
        .find_map(|w| w.strip_prefix("events_per_second="))
        .and_then(|v| v.parse::<f64>().ok())
    {
        println!(
            "rebuild_vs_raw_replay={:.1}% rebuild_vs_decode_replay={:.1}%",
            100.0 * rate / raw,
            100.0 * rate / decoded
        );
    }

    // 4. Live lag at a steady rate.
    let rate = env_number("BENCH_LAG_RATE", 2_000);
    let seconds = env_number("BENCH_LAG_SECONDS", 20);
    rt.block_on(live_lag(temp.path(), rate, seconds))?;
    Ok(())
}

async fn live_lag(dir: &std::path::Path, rate: u64, seconds: u64) -> BenchResult<()> {
    let store = Arc::new(SledEventStore::open(dir.join("live-log"), SledOptions::default())?);
    let db = ViewDb::open(&dir.join("live-views"))?;
    let handles = projections::runner::start_all(store.clone(), db.clone(), all_views())?;
    let tickets = handles.first().cloned().ok_or("no views")?;
    // Events to append: generated histories, one event per append, as
    // staff tools append them.
    let generator = Generator::new(GeneratorConfig {
        tickets: (rate * seconds / 4).max(1000) as u32,
        ..GeneratorConfig::small()
    })?;
    let mut queue = Vec::new();
    for record in generator {
        let record = record?;
        for e in record.events {
            queue.push((record.stream.clone(), e));
        }
    }
    let total = (rate * seconds) as usize;
    queue.truncate(total);
    let queue = Arc::new(std::sync::Mutex::new(queue.into_iter()));
    let writers = 32u64;
    let per_writer = Duration::from_secs_f64(writers as f64 / rate as f64);
    let started = Instant::now();
    let mut tasks = Vec::new();
    for w in 0..writers {
        let (store, tickets, queue) = (store.clone(), tickets.clone(), queue.clone());
        tasks.push(tokio::spawn(async move {
            let mut delays = Vec::new();
            let mut next = Instant::now() + per_writer.mul_f64(w as f64 / writers as f64);
            loop {
                let item = queue.lock().ok().and_then(|mut q| q.next());
                let Some((stream, event)) = item else { break };
                tokio::time::sleep_until(next.into()).await;
                next += per_writer;
                let Ok(outcome) = store.append(&stream, ExpectedVersion::Any, vec![event]).await else {
                    continue;
                };
                let acked = Instant::now();
                if tickets
                    .wait_for(outcome.last_position(), Duration::from_secs(30))
                    .await
                    .is_ok()
                {
                    delays.push(acked.elapsed());
                }
            }
            delays
        }));
    }
    let mut delays = Vec::new();
    for t in tasks {
        delays.extend(t.await?);
    }
    let elapsed = started.elapsed();
    delays.sort();
    println!(
        "live_lag appends={} seconds={:.1} rate={:.0}/s p50_ms={:.2} p99_ms={:.2} max_ms={:.2}",
        delays.len(),
        elapsed.as_secs_f64(),
        delays.len() as f64 / elapsed.as_secs_f64(),
        ms(percentile(&delays, 0.50)),
        ms(percentile(&delays, 0.99)),
        ms(percentile(&delays, 1.0))
    );
    store.close()?;
    Ok(())
}
