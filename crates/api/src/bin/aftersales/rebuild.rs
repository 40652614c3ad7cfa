//! `aftersales rebuild`: views rebuilt from the whole log, with progress.

use crate::open::open_service;
use projections::runner::ViewStatus;
use std::time::{Duration, Instant};

use anyhow::{bail, Context, Result};

/// The longest a rebuild may take before the command gives up waiting
/// (a rebuild cut short is dropped at the next start, and the old tree
/// goes on serving).
const REBUILD_LIMIT: Duration = Duration::from_secs(24 * 3600);

pub(crate) async fn rebuild(data: &std::path::Path, view: Option<String>) -> Result<()> {
    let service = open_service(data)?;
    // No catching up first: a view that the open found without a tree (a
    // fresh folder, a new version) is already building from 0, and that
    // build is the one waited for below, so no view is built twice.
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
    let rebuilds: Vec<_> = chosen
        .iter()
        .map(|v| v.built_at_start().unwrap_or_else(|| v.rebuild()))
        .collect();
    // Every rebuild's end, together; a view that fails ends the wait.
    let finished = futures_util::future::try_join_all(rebuilds.iter().map(|r| r.finished(REBUILD_LIMIT)));
    tokio::pin!(finished);
    // Progress on the terminal twice a second until then.
    let mut tick = tokio::time::interval(Duration::from_millis(500));
    loop {
        tokio::select! {
            done = &mut finished => {
                if done.is_ok() {
                    // The last line says where the rebuild ended.
                    let head = service.head();
                    let total = head.map_or(0, |h| h + 1);
                    let line = application::jobs::progress_line(&chosen, head);
                    eprint!("\r{} {line}\x1b[K", application::jobs::bar(total, total));
                }
                eprintln!();
                done.with_context(|| "rebuilding".to_string())?;
                break;
            }
            _ = tick.tick() => {
                let head = service.head();
                let line = application::jobs::progress_line(&chosen, head);
                let rebuilt: u64 = chosen
                    .iter()
                    .map(|v| match v.status() {
                        ViewStatus::Rebuilding(p) => p.events_done,
                        _ => head.map_or(0, |h| h + 1),
                    })
                    .min()
                    .unwrap_or(0);
                eprint!("\r{} {line}\x1b[K", application::jobs::bar(rebuilt, head.map_or(0, |h| h + 1)));
            }
        }
    }
    let events = service.head().map_or(0, |h| h + 1);
    let secs = started.elapsed().as_secs_f64();
    println!(
        "rebuilt {} from {events} events in {secs:.1} s ({:.0} events/s)",
        chosen.iter().map(|v| v.name()).collect::<Vec<_>>().join(", "),
        events as f64 / secs.max(0.001)
    );
    service.shutdown().await?;
    Ok(())
}
