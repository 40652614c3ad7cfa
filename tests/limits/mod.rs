//! No query starves the server: documents that ask too much are refused
//! before they run, a request over its timeout is stopped and answered
//! `TIMEOUT`, the health endpoints answer while heavy requests run, a
//! response over the size limit is refused, the gate refuses `BUSY` when
//! full, and every refusal (over HTTP and WebSocket) carries a code and
//! appends nothing.
//!
//! One module a limit: the cost of a document ([`cost`]), the timeout
//! ([`timeout`]), the concurrency gate ([`gate`]), the response size
//! ([`response_size`]), hostile inputs over HTTP ([`hostile`]) and
//! refusals over WebSocket ([`websocket`]); the setup they share is here.

mod cost;
mod gate;
mod hostile;
mod response_size;
mod timeout;
mod websocket;

use std::net::SocketAddr;
use std::sync::Arc;
use std::time::Duration;

use api::server::{Identity, ServerOptions};
use serde_json::{json, Value};

use crate::support::{eventually, exchange, seed_fixtures, serve_service, Answer};

const GRAPHQL_RESPONSE_JSON: &str = "application/graphql-response+json";
const JSON: &str = "application/json";

/// A service with a data folder, served by routers with the options each
/// test chooses.
struct Setup {
    _dir: tempfile::TempDir,
    service: Arc<application::service::Service>,
}

impl Setup {
    /// A fresh folder; with `tickets`, that many generated tickets (the
    /// demo generator's year ends the day before the tests' stated today).
    async fn new(tickets: Option<u32>) -> Self {
        let dir = tempfile::tempdir().unwrap_or_else(|e| panic!("{e}"));
        let service = Arc::new(crate::support::open_service(dir.path()));
        if let Some(tickets) = tickets {
            let config = simulator::GeneratorConfig {
                tickets,
                units: tickets,
                ..application::jobs::demo_config(domain::testing::test_today())
            };
            application::jobs::fill_demo(service.store().as_ref(), service.keyring(), &config)
                .await
                .unwrap_or_else(|e| panic!("{}", e.message()));
            application::jobs::wait_ready(&service, |_| {})
                .await
                .unwrap_or_else(|e| panic!("{}", e.message()));
        }
        // The archive the fixtures' reports name.
        seed_fixtures(&service).await;
        Self { _dir: dir, service }
    }

    /// A router over the service on an ephemeral port.
    async fn serve(&self, options: ServerOptions) -> SocketAddr {
        serve_service(self.service.clone(), options).await.addr
    }
}

fn options() -> ServerOptions {
    let mut options = ServerOptions::new(Identity::TrustedHeaders);
    options.rate = None;
    options
}

/// A raw HTTP/1.1 request as a manager.
fn raw(method: &str, path: &str, headers: &str, body: &[u8]) -> Vec<u8> {
    let mut request = format!(
        "{method} {path} HTTP/1.1\r\nHost: test\r\nx-user-id: mgr-1\r\nx-user-role: manager\r\n{headers}Content-Length: {}\r\nConnection: close\r\n\r\n",
        body.len()
    )
    .into_bytes();
    request.extend_from_slice(body);
    request
}

/// POSTs a GraphQL document, accepting `accept`.
async fn post(addr: SocketAddr, accept: &str, query: &str, variables: Value) -> Answer {
    let body = json!({ "query": query, "variables": variables }).to_string();
    let headers = format!("Content-Type: application/json\r\nAccept: {accept}\r\n");
    exchange(addr, raw("POST", "/graphql", &headers, body.as_bytes())).await
}

fn parsed(answer: &Answer) -> Value {
    serde_json::from_str(&answer.body).unwrap_or_else(|e| panic!("{e}: {:?}", answer.body))
}

fn aliases(n: usize, field: &str) -> String {
    (0..n).map(|i| format!("a{i}: {field} ")).collect()
}

/// The value of the metric `name` (a sample without labels).
async fn metric(addr: SocketAddr, name: &str) -> Option<f64> {
    let answer = exchange(addr, raw("GET", "/metrics", "", b"")).await;
    answer
        .body
        .lines()
        .find_map(|l| l.strip_prefix(name).and_then(|rest| rest.strip_prefix(' ')))
        .and_then(|v| v.trim().parse().ok())
}

/// Waits (polling /metrics, at most a minute) until `graphql_running`
/// satisfies `until`: the gauge is there to be read, not awaited.
async fn wait_running(addr: SocketAddr, until: impl Fn(f64) -> bool) {
    eventually(
        "aftersales_graphql_running reaching the state waited for",
        Duration::from_secs(60),
        || async { metric(addr, "aftersales_graphql_running").await.is_some_and(&until) },
    )
    .await;
}

/// Heavy but allowed: four alert scans and a page of 500 tickets with
/// their clocks (about 235,000 of the 250,000 points).
fn heavy() -> String {
    format!(
        "{{ {} page: tickets(first: 500) {{ edges {{ node {{ id clocks {{ status }} }} }} }} }}",
        aliases(4, "slaAlerts { ticketId clock { status } }")
    )
}
