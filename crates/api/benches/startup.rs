//! Start-up to ready (`cargo bench -p api --bench startup`): the demo
//! dataset (`BENCH_TICKETS`, 15,000 tickets) is written into a fresh data
//! folder and the service shut down; then, `BENCH_ROUNDS` (3) times each,
//! the service is opened on the folder and timed until every view is live
//! at the log's head (what `/readyz` answers 200 on), first with the views'
//! snapshots present, then with the view folder deleted before the open.

use std::time::{Duration, Instant};

use application::service::{Service, VIEW_FOLDER};

#[global_allocator]
static GLOBAL: mimalloc::MiMalloc = mimalloc::MiMalloc;

fn env<T: std::str::FromStr>(name: &str, default: T) -> T {
    std::env::var(name).ok().and_then(|v| v.parse().ok()).unwrap_or(default)
}

#[tokio::main(flavor = "multi_thread", worker_threads = 2)]
async fn main() {
    if let Err(e) = run().await {
        eprintln!("startup benchmark failed: {e}");
        std::process::exit(1);
    }
}

/// Opens the service on `data` and waits until its views are live at the
/// head; returns the time taken and the head.
async fn open_until_ready(data: &std::path::Path) -> Result<(Duration, Option<u64>), String> {
    let started = Instant::now();
    let service = Service::open(data).map_err(|e| e.message())?;
    application::jobs::wait_ready(&service, |_| {})
        .await
        .map_err(|e| e.message())?;
    let took = started.elapsed();
    let head = service.head();
    service.shutdown().await.map_err(|e| e.message())?;
    Ok((took, head))
}

async fn run() -> Result<(), String> {
    let tickets: u32 = env("BENCH_TICKETS", 15_000);
    let rounds: u32 = env("BENCH_ROUNDS", 3);
    let dir = tempfile::tempdir().map_err(|e| e.to_string())?;
    let data = dir.path().join("data");
    {
        let service = Service::open(&data).map_err(|e| e.message())?;
        let config = simulator::GeneratorConfig {
            tickets,
            ..application::jobs::demo_config(domain::testing::test_today())
        };
        application::jobs::fill_demo(service.store().as_ref(), service.keyring(), &config)
            .await
            .map_err(|e| e.message())?;
        application::jobs::wait_ready(&service, |_| {})
            .await
            .map_err(|e| e.message())?;
        println!(
            "startup benchmark: demo dataset of {tickets} tickets, {} events",
            service.head().map_or(0, |h| h + 1)
        );
        service.shutdown().await.map_err(|e| e.message())?;
    }
    for round in 1..=rounds {
        let (took, head) = open_until_ready(&data).await?;
        println!(
            "round {round}: views present: ready in {:.3} s (head {head:?})",
            took.as_secs_f64()
        );
    }
    for round in 1..=rounds {
        std::fs::remove_dir_all(data.join(VIEW_FOLDER)).map_err(|e| e.to_string())?;
        let (took, head) = open_until_ready(&data).await?;
        println!(
            "round {round}: views deleted: ready in {:.3} s (head {head:?})",
            took.as_secs_f64()
        );
    }
    Ok(())
}
