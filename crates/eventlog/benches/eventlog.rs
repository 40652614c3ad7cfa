//! The event log's benchmark (`cargo bench -p eventlog`): durable append
//! throughput and latency with 1, 8 and 64 concurrent writers, beside the
//! ceiling of raw sled on the same machine in the same run, and `read_all`
//! replay beside raw sled iteration, twice: over a log appended 500 events
//! at a time (its records fill the log's chunks) and over one appended one
//! event at a time (every record under its own key, the layout a log
//! written by one sequential caller has).
//!
//! A bench binary rather than criterion: the figures wanted are throughput
//! and latency percentiles of concurrent writers, and ratios against a
//! baseline measured in the same process, which criterion's per-iteration
//! timing does not give.
//!
//! The ceiling and the writer levels take turns in rounds (each gets a
//! slice of its time per round), so that the slow minutes of a shared
//! machine weigh on the baseline and on the log alike; the table gives the
//! totals, the ratio of each round, and the CPU time the process used per
//! event (less sensitive to other tenants than wall-clock rates).
//!
//! Environment: `BENCH_SECONDS` (per writer level and for the ceiling,
//! default 6), `BENCH_ROUNDS` (default 3), `BENCH_REPLAY_EVENTS` (default
//! 200000), `BENCH_REPLAY_ROUNDS` (passes over the replay, default 3),
//! `BENCH_WRITERS` (comma-separated writer counts, default `1,8,64`),
//! `BENCH_VERBOSE` (print the write-path counters of every slice).

use std::fs::File;
use std::sync::Arc;
use std::time::{Duration, Instant};

use eventlog::{EventId, EventMetadata, EventStore, ExpectedVersion, NewEvent, SledEventStore, SledOptions, StreamId};

// The allocator the product's binary uses (remove these two lines to measure
// glibc malloc instead).
#[global_allocator]
static GLOBAL: mimalloc::MiMalloc = mimalloc::MiMalloc;

type BenchResult<T> = Result<T, Box<dyn std::error::Error>>;

const PAYLOAD: usize = 300;

fn env_number(name: &str, default: u64) -> u64 {
    std::env::var(name).ok().and_then(|v| v.parse().ok()).unwrap_or(default)
}

fn event(i: u64) -> NewEvent {
    let mut payload = vec![0u8; PAYLOAD];
    payload[..8].copy_from_slice(&i.to_be_bytes());
    NewEvent {
        id: EventId::new_random(),
        event_type: "RepairReceived".into(),
        schema_version: 1,
        payload,
        metadata: EventMetadata {
            actor: "agent-0042".into(),
            role: "agent".into(),
            channel: "hotline".into(),
            ..EventMetadata::default()
        },
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

/// The runtime the writers run on: two workers, one per core.
fn runtime() -> std::io::Result<tokio::runtime::Runtime> {
    tokio::runtime::Builder::new_multi_thread()
        .worker_threads(2)
        .enable_all()
        .build()
}

/// Durable appends of one 300-byte event each, from `writers` tasks, each
/// on its own stream, for `seconds`.
fn durable_appends(writers: usize, seconds: f64) -> BenchResult<Measured> {
    let dir = tempfile::tempdir()?;
    let store = Arc::new(SledEventStore::open(dir.path(), SledOptions::default())?);
    let runtime = runtime()?;
    let cpu = cpu_seconds();
    let (count, latencies, elapsed) = runtime.block_on(async {
        let deadline = Instant::now() + Duration::from_secs_f64(seconds);
        let start = Instant::now();
        let tasks: Vec<_> = (0..writers)
            .map(|w| {
                let store = store.clone();
                tokio::spawn(async move {
                    let stream = StreamId::new(format!("ticket-{w}"))?;
                    let mut latencies = Vec::new();
                    let mut i = 0;
                    while Instant::now() < deadline {
                        let t = Instant::now();
                        store.append(&stream, ExpectedVersion::Any, vec![event(i)]).await?;
                        latencies.push(t.elapsed());
                        i += 1;
                    }
                    Ok::<_, eventlog::StoreError>(latencies)
                })
            })
            .collect();
        let mut all = Vec::new();
        for task in tasks {
            all.extend(task.await??);
        }
        Ok::<_, Box<dyn std::error::Error>>((all.len(), all, start.elapsed()))
    })?;
    let cpu = cpu_seconds() - cpu;
    store.close()?;
    let stats = store.stats();
    if std::env::var_os("BENCH_VERBOSE").is_some() {
        println!(
            "  {writers} writers: {stats:?}, mean group {:.1} events",
            stats.events as f64 / stats.groups.max(1) as f64
        );
    }
    Ok(Measured {
        count: count as u64,
        seconds: elapsed.as_secs_f64(),
        cpu,
        latencies,
    })
}

/// What one measurement counted.
#[derive(Default)]
struct Measured {
    count: u64,
    seconds: f64,
    /// CPU time the whole process used meanwhile (user + system).
    cpu: f64,
    latencies: Vec<Duration>,
}

impl Measured {
    fn add(&mut self, other: Measured) {
        self.count += other.count;
        self.seconds += other.seconds;
        self.cpu += other.cpu;
        self.latencies.extend(other.latencies);
    }

    fn rate(&self) -> f64 {
        self.count as f64 / self.seconds.max(f64::MIN_POSITIVE)
    }

    /// CPU microseconds per record or event.
    fn cpu_micros(&self) -> f64 {
        self.cpu * 1e6 / self.count.max(1) as f64
    }
}

/// CPU time of this process so far, user + system, in seconds, from
/// `/proc/self/stat` (in clock ticks, which Linux fixes at 100 a second
/// for user space); 0 where that file does not exist.
fn cpu_seconds() -> f64 {
    let Ok(stat) = std::fs::read_to_string("/proc/self/stat") else {
        return 0.0;
    };
    // The command name (field 2) may hold spaces; count from after it.
    let Some(after) = stat.rfind(')').map(|i| &stat[i + 1..]) else {
        return 0.0;
    };
    let fields: Vec<&str> = after.split_whitespace().collect();
    // utime and stime are fields 14 and 15; `after` starts at field 3.
    let ticks = |i: usize| fields.get(i - 3).and_then(|f| f.parse::<f64>().ok()).unwrap_or(0.0);
    (ticks(14) + ticks(15)) / 100.0
}

/// The ceiling: raw sled inserting records of the same size as the log's
/// envelopes, one batch of 64, then `flush` and `fdatasync`, repeated.
fn raw_sled_ceiling(record_len: usize, seconds: f64) -> BenchResult<Measured> {
    let dir = tempfile::tempdir()?;
    let db = sled::Config::new().path(dir.path()).flush_every_ms(None).open()?;
    let tree = db.open_tree("raw")?;
    let file = File::open(dir.path().join("db"))?;
    let value = vec![7u8; record_len];
    let cpu = cpu_seconds();
    let deadline = Instant::now() + Duration::from_secs_f64(seconds);
    let start = Instant::now();
    let mut n: u64 = 0;
    while Instant::now() < deadline {
        let mut batch = sled::Batch::default();
        for _ in 0..64 {
            batch.insert(&n.to_be_bytes(), value.as_slice());
            n += 1;
        }
        tree.apply_batch(batch)?;
        db.flush()?;
        file.sync_data()?;
    }
    Ok(Measured {
        count: n,
        seconds: start.elapsed().as_secs_f64(),
        cpu: cpu_seconds() - cpu,
        latencies: Vec::new(),
    })
}

/// Opens the raw baseline's sled again; sled frees its file lock only when
/// its epoch collector drops the last handle, so a conflict is retried.
fn reopen_raw(path: &std::path::Path) -> sled::Result<sled::Db> {
    let mut attempts = 0;
    loop {
        match sled::Config::new().path(path).flush_every_ms(None).open() {
            Err(sled::Error::Io(_)) if attempts < 250 => {
                attempts += 1;
                std::thread::sleep(Duration::from_millis(20));
            }
            other => return other,
        }
    }
}

/// `read_all` over `events` stored events, and raw sled iteration over as
/// many records of the same size, both after reopening, best of three
/// passes each. The events are appended `per_append` at a time by one
/// writer: 500 fill the log's chunks, 1 leaves every record under its own
/// key (the layout of a log written one event per group), appended in
/// buffered mode so that the setup does not wait for a sync per event.
fn replay(events: u64, per_append: u64) -> BenchResult<(f64, f64, usize)> {
    let dir = tempfile::tempdir()?;
    let options = if per_append == 1 {
        SledOptions {
            durability: eventlog::Durability::Buffered {
                interval: Duration::from_millis(100),
            },
            ..SledOptions::default()
        }
    } else {
        SledOptions::default()
    };
    let store = Arc::new(SledEventStore::open(dir.path(), options.clone())?);
    let runtime = runtime()?;
    runtime.block_on(async {
        let mut i = 0;
        while i < events {
            let batch: Vec<_> = (i..(i + per_append).min(events)).map(event).collect();
            i += batch.len() as u64;
            let stream = StreamId::new(format!("ticket-{}", i % 1000))?;
            store.append(&stream, ExpectedVersion::Any, batch).await?;
        }
        Ok::<_, Box<dyn std::error::Error>>(())
    })?;
    // Both are read after a restart, as a projection rebuild reads a log
    // that has been running: sled then holds whole pages rather than the
    // chains of small updates that fresh writes leave in memory. (In
    // buffered mode nothing is visible before that either.)
    store.close()?;
    drop(store);
    let store = SledEventStore::open(dir.path(), options)?;
    let sample = store.read_all_batch(0, 1)?;
    let record_len = sample.first().map_or(0, |e| e.envelope_bytes().len());

    let raw_dir = tempfile::tempdir()?;
    let raw_db = sled::Config::new().path(raw_dir.path()).flush_every_ms(None).open()?;
    let raw = raw_db.open_tree("raw")?;
    let value = vec![7u8; record_len];
    for chunk in (0..events).collect::<Vec<_>>().chunks(10_000) {
        let mut batch = sled::Batch::default();
        for n in chunk {
            batch.insert(&n.to_be_bytes(), value.as_slice());
        }
        raw.apply_batch(batch)?;
    }

    raw_db.flush()?;
    drop(raw);
    drop(raw_db);
    let raw_db = reopen_raw(raw_dir.path())?;
    let raw = raw_db.open_tree("raw")?;

    let mut ours = f64::MAX;
    let mut theirs = f64::MAX;
    for _ in 0..env_number("BENCH_REPLAY_ROUNDS", 3) {
        let t = Instant::now();
        let mut count = 0u64;
        let mut bytes = 0usize;
        for e in store.read_all(0) {
            bytes += e?.payload().len();
            count += 1;
        }
        assert_eq!(count, events, "replay read every event");
        std::hint::black_box(bytes);
        ours = ours.min(t.elapsed().as_secs_f64());

        let t = Instant::now();
        let mut count = 0u64;
        let mut bytes = 0usize;
        for entry in raw.iter() {
            let (_, v) = entry?;
            bytes += v.len();
            count += 1;
        }
        assert_eq!(count, events);
        std::hint::black_box(bytes);
        theirs = theirs.min(t.elapsed().as_secs_f64());
    }
    store.close()?;
    Ok((events as f64 / ours, events as f64 / theirs, record_len))
}

fn main() -> BenchResult<()> {
    // `cargo bench` passes `--bench`; a name filter is not supported.
    let seconds = env_number("BENCH_SECONDS", 6);
    let rounds = env_number("BENCH_ROUNDS", 3).max(1);
    let replay_events = env_number("BENCH_REPLAY_EVENTS", 200_000);
    let cpus = std::thread::available_parallelism().map_or(0, |n| n.get());
    println!(
        "eventlog benchmark: {cpus} CPUs, {seconds} s per level in {rounds} rounds, {PAYLOAD}-byte payloads, durable mode"
    );

    let record_len = {
        let (_, _, len) = replay(1, 1)?;
        len
    };
    let levels: Vec<usize> = std::env::var("BENCH_WRITERS")
        .ok()
        .map(|v| v.split(',').filter_map(|n| n.trim().parse().ok()).collect())
        .unwrap_or_else(|| vec![1, 8, 64]);
    // The ceiling and every level take turns, a slice each per round, so
    // that a slow minute of a shared machine weighs on all of them alike.
    let slice = seconds as f64 / rounds as f64;
    let mut ceiling = Measured::default();
    let mut measured: Vec<Measured> = levels.iter().map(|_| Measured::default()).collect();
    let mut round_ratios: Vec<Vec<f64>> = levels.iter().map(|_| Vec::new()).collect();
    for _ in 0..rounds {
        let c = raw_sled_ceiling(record_len, slice)?;
        let c_rate = c.rate();
        ceiling.add(c);
        for (i, writers) in levels.iter().enumerate() {
            let m = durable_appends(*writers, slice)?;
            round_ratios[i].push(100.0 * m.rate() / c_rate);
            measured[i].add(m);
        }
    }
    println!(
        "ceiling: raw sled, batches of 64 {record_len}-byte records, flush + fdatasync each: {:.0} records/s, {:.1} us CPU per record",
        ceiling.rate(),
        ceiling.cpu_micros()
    );
    println!("| writers | events/s | p50 ms | p99 ms | vs ceiling | per round | CPU us/event |");
    println!("|---:|---:|---:|---:|---:|---|---:|");
    for (i, writers) in levels.iter().enumerate() {
        let m = &mut measured[i];
        m.latencies.sort_unstable();
        let rounds: Vec<String> = round_ratios[i].iter().map(|r| format!("{r:.0}%")).collect();
        println!(
            "| {writers} | {:.0} | {:.2} | {:.2} | {:.0}% | {} | {:.1} |",
            m.rate(),
            ms(percentile(&m.latencies, 0.50)),
            ms(percentile(&m.latencies, 0.99)),
            100.0 * m.rate() / ceiling.rate(),
            rounds.join(" "),
            m.cpu_micros()
        );
    }

    for (per_append, how) in [(500, "appended 500 at a time"), (1, "appended one at a time")] {
        let (ours, raw, _) = replay(replay_events, per_append)?;
        println!(
            "replay of {replay_events} events {how}: read_all {ours:.0} events/s, raw sled iteration {raw:.0} records/s, ratio {:.0}%",
            100.0 * ours / raw
        );
    }
    Ok(())
}
