//! `aftersales demo`: an empty data folder filled with the demo dataset.

use simulator::GeneratorConfig;
use std::time::Instant;

use anyhow::{bail, Result};

pub(crate) async fn demo(
    data: &std::path::Path,
    tickets: u32,
    seed: u64,
    until: Option<chrono::NaiveDate>,
) -> Result<()> {
    let until = until.unwrap_or_else(application::jobs::today);
    if !(1901..=9000).contains(&chrono::Datelike::year(&until)) {
        bail!("--until {until}: the demo's year must end between the years 1901 and 9000");
    }
    let (store, keyring) = application::keyfolder::open(data)?;
    let keyring = std::sync::Arc::new(keyring);
    let config = GeneratorConfig {
        tickets,
        seed,
        ..application::jobs::demo_config(until)
    };
    tracing::info!(tickets, from = %config.start, days = config.days, "writing the demo dataset");
    let started = Instant::now();
    let summary = application::jobs::fill_demo(store.as_ref(), &keyring, &config).await?;
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
