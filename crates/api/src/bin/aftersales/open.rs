//! Opening a data folder's service and waiting for its views, shared by the commands.

use std::sync::Arc;
use std::time::{Duration, Instant};

use anyhow::{Context, Result};

pub(crate) fn open_service(data: &std::path::Path) -> Result<Arc<application::service::Service>> {
    Ok(Arc::new(
        application::service::Service::open(data).with_context(|| format!("opening {}", data.display()))?,
    ))
}

pub(crate) async fn catch_up(service: &application::service::Service) -> Result<()> {
    let mut last = Instant::now() - Duration::from_secs(10);
    let took = application::jobs::wait_ready(service, |line| {
        if last.elapsed() >= Duration::from_secs(2) {
            tracing::info!("catching up: {line}");
            last = Instant::now();
        }
    })
    .await?;
    tracing::info!(seconds = took.as_secs_f64(), head = ?service.head(), "views are live");
    Ok(())
}
