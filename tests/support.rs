//! What several end-to-end modules share: the real server on an ephemeral
//! port over a data folder, and stopping it so that the folder can be
//! opened again.

use std::net::SocketAddr;
use std::path::Path;
use std::sync::Arc;
use std::time::{Duration, Instant};

/// A server running in this process.
pub struct Running {
    pub addr: SocketAddr,
    pub service: Arc<api::service::Service>,
    pub task: tokio::task::JoinHandle<()>,
}

/// Opens `dir` and serves it on 127.0.0.1, callers identified by the
/// trusted identity headers.
pub async fn serve(dir: &Path) -> Running {
    let service = Arc::new(
        api::service::Service::open(dir).unwrap_or_else(|e| panic!("opening {}: {}", dir.display(), e.message())),
    );
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0")
        .await
        .unwrap_or_else(|e| panic!("{e}"));
    let addr = listener.local_addr().unwrap_or_else(|e| panic!("{e}"));
    let router = api::server::router(service.clone(), api::server::Identity::TrustedHeaders);
    let task = tokio::spawn(async move {
        let _ = axum::serve(listener, router).await;
    });
    Running { addr, service, task }
}

/// Stops a server: closes the log and waits for the views, stops
/// accepting, and drops every handle on the service so that the data
/// folder can be opened again.
pub async fn stop(run: Running) {
    run.service
        .shutdown()
        .await
        .unwrap_or_else(|e| panic!("shutdown: {}", e.message()));
    run.task.abort();
    let _ = run.task.await;
    // Connection tasks hold router clones until their connection ends.
    let mut service = run.service;
    let deadline = Instant::now() + Duration::from_secs(10);
    loop {
        match Arc::try_unwrap(service) {
            Ok(s) => {
                drop(s);
                return;
            }
            Err(s) if Instant::now() < deadline => {
                service = s;
                tokio::time::sleep(Duration::from_millis(20)).await;
            }
            Err(s) => panic!(
                "{} handles on the service remain 10 s after the server stopped",
                Arc::strong_count(&s)
            ),
        }
    }
}
