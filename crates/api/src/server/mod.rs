//! The HTTP side: the staff console at `/`, `/graphql` (POST, and GET for queries), GraphiQL at `/graphiql`,
//! `/healthz`, `/readyz` and `/metrics`.
//!
//! A GraphQL request is read and checked on the async workers (media
//! types, body, caller, rate), then takes a turn at the [`Gate`] and runs
//! on a blocking thread: parsing, the guard's limits
//! ([`crate::guard`]), execution and serialisation. The request timeout
//! runs from the request's arrival: when it passes, the caller gets
//! `TIMEOUT` at once, the work stops at its next field and what it
//! computed is discarded; a response larger than the limit is refused
//! `RESPONSE_TOO_LARGE`. The health endpoints touch none of this.
//!
//! - `identity.rs`: who is calling (tokens or trusted headers);
//! - `graphql.rs`: the POST and GET request pipeline;
//! - `refusals.rs`: coded error bodies;
//! - `ws.rs`: subscriptions over WebSocket and their sessions;
//! - `health.rs`: `/readyz` and `/metrics`.

use std::sync::Arc;
use std::time::Duration;

use axum::http::{Method, StatusCode};
use axum::routing::get;
use axum::Router;

use crate::cost::DocumentLimits;
use crate::document_cache::DocumentCache;
use crate::limits::{Concurrency, Gate, Rate, RateLimiter};
use crate::metrics::Metrics;

use crate::schema::{self, AppSchema};
use application::service::Service;

mod graphql;
mod health;
mod identity;
mod refusals;
mod ws;

pub use identity::{header_principal, Identity};
pub use ws::{Session, MAX_SUBSCRIPTIONS};

use graphql::{graphql, wrong_method};
use health::{metrics, readyz};
use ws::websocket;

#[derive(Clone)]
struct AppState {
    schema: AppSchema,
    service: Arc<Service>,
    identity: Identity,
    limiter: Option<Arc<RateLimiter>>,
    documents: Arc<DocumentCache>,
    gate: Arc<Gate>,
    request_timeout: Duration,
    max_response_bytes: usize,
    /// One `/metrics` scrape at a time (it scans the SLA view).
    scrape: Arc<tokio::sync::Semaphore>,
    metrics: Arc<Metrics>,
}

/// How the server is exposed.
#[derive(Clone)]
pub struct ServerOptions {
    /// How callers are identified.
    pub identity: Identity,
    /// Whether the schema can be introspected (GraphiQL needs it).
    pub introspection: bool,
    /// Whether GraphiQL is served at `/graphiql` (the console is always at `/`).
    pub graphiql: bool,
    /// Origins browsers may call the API from (none: same origin only).
    pub cors_origins: Vec<String>,
    /// Longest a GraphQL request may take, from its arrival to its
    /// answer; past it the caller gets `TIMEOUT` (HTTP 504) and the work
    /// stops. The other endpoints are answered 504 past it too.
    pub request_timeout: Duration,
    /// Requests per caller, or no limit.
    pub rate: Option<Rate>,
    /// What one document may ask for.
    pub document_limits: DocumentLimits,
    /// Largest GraphQL response body, in bytes.
    pub max_response_bytes: usize,
    /// GraphQL requests running at once and waiting.
    pub concurrency: Concurrency,
}

impl ServerOptions {
    /// Introspection and GraphiQL on, no CORS, 30 s per request, the
    /// default rate per caller, document limits, response limit and
    /// concurrency.
    pub fn new(identity: Identity) -> Self {
        Self {
            identity,
            introspection: true,
            graphiql: true,
            cors_origins: Vec::new(),
            request_timeout: Duration::from_secs(30),
            rate: Some(Rate::default()),
            document_limits: DocumentLimits::default(),
            max_response_bytes: MAX_RESPONSE_BYTES,
            concurrency: Concurrency::default(),
        }
    }
}

/// Largest request body accepted (a ticket with a 4,000-character
/// description is a few kilobytes; attachments are references, not files).
pub const MAX_BODY_BYTES: usize = 1 << 20;

/// Largest GraphQL response sent by default: 8 MiB (a page of 500 tickets
/// with every field and their clocks is about 1 MiB).
pub const MAX_RESPONSE_BYTES: usize = 8 << 20;

/// The router of the server with [`ServerOptions::new`].
pub fn router(service: Arc<Service>, identity: Identity) -> Router {
    router_with(service, ServerOptions::new(identity))
}

/// The router of the server.
pub fn router_with(service: Arc<Service>, options: ServerOptions) -> Router {
    use axum::http::header::{HeaderName, HeaderValue};
    use tower_http::set_header::SetResponseHeaderLayer;
    let process_metrics = Arc::new(Metrics::new());
    let appends = process_metrics.clone();
    service.observe_appends(move |took| appends.append(took));
    let (running, queued) = process_metrics.gate_gauges();
    let state = AppState {
        schema: schema::build_served(
            service.clone(),
            options.introspection,
            options.document_limits,
            process_metrics.following(),
        ),
        service,
        identity: options.identity,
        limiter: options.rate.map(|r| Arc::new(RateLimiter::new(r))),
        documents: Arc::new(DocumentCache::default()),
        gate: Arc::new(Gate::new(options.concurrency, running, queued)),
        request_timeout: options.request_timeout,
        max_response_bytes: options.max_response_bytes,
        scrape: Arc::new(tokio::sync::Semaphore::new(1)),
        metrics: process_metrics,
    };
    let mut router = Router::new().merge(crate::console::routes());
    if options.graphiql {
        router = router.merge(crate::graphiql::routes());
    }
    // The health endpoints and GraphiQL: small, bodiless, under the plain
    // timeout layer. /graphql enforces its own limits (coded refusals);
    // the WebSocket route only upgrades.
    let mut router = router
        .route("/healthz", get(|| async { "ok" }))
        .route("/readyz", get(readyz))
        .route("/metrics", get(metrics))
        .layer(tower_http::limit::RequestBodyLimitLayer::new(MAX_BODY_BYTES))
        .layer(tower_http::timeout::TimeoutLayer::with_status_code(
            StatusCode::GATEWAY_TIMEOUT,
            options.request_timeout,
        ))
        .route("/graphql", get(graphql).post(graphql).fallback(wrong_method))
        .route("/graphql/ws", get(websocket));
    for (name, value) in [
        ("x-content-type-options", "nosniff"),
        ("x-frame-options", "DENY"),
        ("referrer-policy", "no-referrer"),
        // Answers carry personal data: no cache keeps them.
        ("cache-control", "no-store"),
    ] {
        router = router.layer(SetResponseHeaderLayer::if_not_present(
            HeaderName::from_static(name),
            HeaderValue::from_static(value),
        ));
    }
    if !options.cors_origins.is_empty() {
        let origins: Vec<HeaderValue> = options
            .cors_origins
            .iter()
            .filter_map(|o| HeaderValue::from_str(o).ok())
            .collect();
        router = router.layer(
            tower_http::cors::CorsLayer::new()
                .allow_origin(origins)
                .allow_methods([Method::GET, Method::POST])
                .allow_headers([axum::http::header::AUTHORIZATION, axum::http::header::CONTENT_TYPE]),
        );
    }
    router.with_state(state)
}
