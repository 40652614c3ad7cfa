//! `aftersales rebuild`: views rebuilt from the whole log, with progress.

use crate::open::{catch_up, open_service};
use projections::runner::ViewStatus;
use std::time::{Duration, Instant};

use anyhow::{bail, Result};

pub(crate) async fn rebuild(data: &std::path::Path, view: Option<String>) -> Result<()> {
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
        let line = application::jobs::progress_line(&chosen, head);
        let rebuilt: u64 = chosen
            .iter()
            .map(|v| match v.status() {
                ViewStatus::Rebuilding(p) => p.events_done,
                _ => head.map_or(0, |h| h + 1),
            })
            .min()
            .unwrap_or(0);
        eprint!(
            "\r{} {line}\x1b[K",
            application::jobs::bar(rebuilt, head.map_or(0, |h| h + 1))
        );
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
    service.shutdown().await?;
    Ok(())
}
