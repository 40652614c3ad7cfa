//! The real server, in this process, on 127.0.0.1 and an ephemeral port.

use std::net::SocketAddr;
use std::path::Path;
use std::sync::Arc;
use std::time::{Duration, Instant};

use api::server::{Identity, ServerOptions};
use application::auth::TokenStore;
use chrono::{DateTime, Utc};

/// A server running in this process.
pub struct Running {
    pub addr: SocketAddr,
    pub service: Arc<application::service::Service>,
    pub task: tokio::task::JoinHandle<()>,
}

impl Running {
    /// The log's head.
    pub fn head(&self) -> Option<u64> {
        self.service.head()
    }
}

/// A server on a data folder of its own, removed when it is dropped.
/// Derefs to its [`Running`] server (`s.addr`, `s.service`).
pub struct Server {
    pub dir: tempfile::TempDir,
    pub run: Running,
}

impl std::ops::Deref for Server {
    type Target = Running;

    fn deref(&self) -> &Running {
        &self.run
    }
}

/// Opens the data folder `dir` with the service's clock started at
/// [`domain::testing::test_now`], the instant the end-to-end tests build
/// their data around, never the machine's clock.
pub fn open_service(dir: &Path) -> application::service::Service {
    open_service_at(dir, domain::testing::test_now())
}

/// Opens the data folder `dir` with the service's clock started at `at`,
/// for a test whose data has fixed dates of its own.
pub fn open_service_at(dir: &Path, at: DateTime<Utc>) -> application::service::Service {
    application::service::Service::open(dir)
        .unwrap_or_else(|e| panic!("opening {}: {}", dir.display(), e.message()))
        .with_clock(application::clock::Clock::starting_at(at))
}

/// Serves `service` with `options` on 127.0.0.1 and an ephemeral port.
/// Several routers may serve one service (with different options).
pub async fn serve_service(service: Arc<application::service::Service>, options: ServerOptions) -> Running {
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0")
        .await
        .unwrap_or_else(|e| panic!("{e}"));
    let addr = listener.local_addr().unwrap_or_else(|e| panic!("{e}"));
    let router = api::server::router_with(service.clone(), options);
    let task = tokio::spawn(async move {
        let _ = axum::serve(listener, router).await;
    });
    Running { addr, service, task }
}

/// Opens `dir` and serves it, callers identified by the trusted identity
/// headers; the service's clock starts at [`domain::testing::test_now`].
pub async fn serve(dir: &Path) -> Running {
    serve_at(dir, domain::testing::test_now()).await
}

/// [`serve`] with the service's clock started at `at`.
pub async fn serve_at(dir: &Path, at: DateTime<Utc>) -> Running {
    let service = Arc::new(open_service_at(dir, at));
    serve_service(service, ServerOptions::new(Identity::TrustedHeaders)).await
}

/// A server on a new, empty data folder, callers identified by the
/// trusted identity headers, its clock started at
/// [`domain::testing::test_now`].
pub async fn start() -> Server {
    start_at(domain::testing::test_now()).await
}

/// [`start`] with the archive of [`super::seed_fixtures`] (the records
/// that [`crate::graphql::RECEIVE`] and its variants name).
pub async fn start_with_fixtures() -> Server {
    let s = start().await;
    super::seed_fixtures(&s.service).await;
    s
}

/// [`start`] with the service's clock started at `at`.
pub async fn start_at(at: DateTime<Utc>) -> Server {
    let dir = tempfile::tempdir().unwrap_or_else(|e| panic!("{e}"));
    let run = serve_at(dir.path(), at).await;
    Server { dir, run }
}

/// A server on a new, empty data folder with `options`, its clock started
/// at [`domain::testing::test_now`].
pub async fn start_with(options: ServerOptions) -> Server {
    let dir = tempfile::tempdir().unwrap_or_else(|e| panic!("{e}"));
    let service = Arc::new(open_service(dir.path()));
    let run = serve_service(service, options).await;
    Server { dir, run }
}

/// A server on a new, empty data folder that authenticates bearer tokens
/// of the returned store (kept in the data folder); its clock started at
/// [`domain::testing::test_now`].
pub async fn start_with_tokens() -> (Server, Arc<TokenStore>) {
    let dir = tempfile::tempdir().unwrap_or_else(|e| panic!("{e}"));
    let service = Arc::new(open_service(dir.path()));
    let tokens = Arc::new(TokenStore::open(dir.path()).unwrap_or_else(|e| panic!("{e}")));
    let run = serve_service(service, ServerOptions::new(Identity::Tokens(tokens.clone()))).await;
    (Server { dir, run }, tokens)
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
    // Connection tasks hold router clones until their connection ends;
    // nothing signals that, so the handles are counted until they are gone.
    // On a loaded machine (the browser tests running beside) a connection
    // task once took over 10 s to end: the wait allows 30.
    let mut service = run.service;
    let deadline = Instant::now() + Duration::from_secs(30);
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
                "{} handles on the service remain 30 s after the server stopped",
                Arc::strong_count(&s)
            ),
        }
    }
}
