//! The HTTP side: `/graphql` (POST, and GET for queries), GraphiQL at `/graphiql`,
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

use std::sync::{Arc, OnceLock};
use std::time::{Duration, Instant};

use axum::extract::State;
use axum::http::{HeaderMap, Method, StatusCode};
use axum::response::IntoResponse;
use axum::routing::get;
use axum::Router;
use domain::actor::Role;
use domain::ids::{ContractorId, OwnerId, ProjectId, UserId};

use crate::cost::DocumentLimits;
use crate::document_cache::DocumentCache;
use crate::error::codes;
use crate::limits::{Concurrency, Gate, Rate, RateLimiter};
use crate::metrics::Metrics;
use application::auth::{AuthError, Principal, TokenStore};
use async_graphql::parser::types::ExecutableDocument;

use crate::schema::{self, AppSchema};
use application::service::Service;

/// How the server learns who is calling.
#[derive(Clone)]
pub enum Identity {
    /// `Authorization: Bearer <token>` checked against the token store;
    /// no token or an unknown one is `UNAUTHENTICATED`. The default.
    Tokens(Arc<TokenStore>),
    /// The caller's identity in headers (`x-user-id`, `x-user-role`,
    /// `x-contractor-id`, `x-owner-id`, `x-projects`), trusted as given:
    /// only behind a gateway that authenticates every request and sets
    /// them itself, and in tests.
    TrustedHeaders,
}

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
    /// Whether GraphiQL is served at `/`.
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
        schema: schema::build_limited(service.clone(), options.introspection, options.document_limits),
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
    let mut router = Router::new();
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

/// The caller named by trusted headers (see [`Identity::TrustedHeaders`]);
/// without headers, the agent `anonymous`. A malformed or incomplete
/// identity is refused.
pub fn header_principal(headers: &HeaderMap) -> Result<Principal, String> {
    let text = |name: &str| -> Result<Option<&str>, String> {
        headers
            .get(name)
            .map(|v| v.to_str().map_err(|_| format!("{name} is not text")))
            .transpose()
    };
    let user = UserId::new(text("x-user-id")?.unwrap_or("anonymous")).map_err(|e| e.to_string())?;
    let role = match text("x-user-role")? {
        None => Role::Agent,
        Some(r) => r.parse::<Role>().map_err(|e| e.to_string())?,
    };
    if role == Role::System {
        return Err("x-user-role: system is the server's own role; no request may carry it".into());
    }
    let projects = match text("x-projects")? {
        None => Vec::new(),
        Some(list) => list
            .split(',')
            .map(|p| ProjectId::new(p.trim()).map_err(|e| e.to_string()))
            .collect::<Result<_, _>>()?,
    };
    let mut principal = Principal {
        user,
        role,
        projects,
        contractor: None,
        owner: None,
    };
    match role {
        Role::Contractor => {
            let company = text("x-contractor-id")?.ok_or("a contractor must name its company in x-contractor-id")?;
            principal.contractor = Some(ContractorId::new(company).map_err(|e| e.to_string())?);
        }
        Role::Owner => {
            let owner = text("x-owner-id")?.ok_or("an owner must name their record in x-owner-id")?;
            principal.owner = Some(OwnerId::new(owner).map_err(|e| e.to_string())?);
        }
        _ => {}
    }
    Ok(principal)
}

/// The bearer token of an `Authorization` value.
fn bearer(value: &str) -> Option<&str> {
    let (scheme, token) = value.trim().split_once(' ')?;
    scheme.eq_ignore_ascii_case("bearer").then(|| token.trim())
}

/// Who is calling, by the server's [`Identity`] mode. `authorization` is
/// the `Authorization` header's value (or the WebSocket connection
/// payload's).
fn principal(identity: &Identity, headers: &HeaderMap, authorization: Option<&str>) -> Result<Principal, String> {
    match identity {
        Identity::TrustedHeaders => header_principal(headers),
        Identity::Tokens(store) => {
            let token = authorization
                .and_then(bearer)
                .ok_or("send a token: Authorization: Bearer <token> (aftersales token create)")?;
            store.authenticate(token).map_err(|e| match e {
                AuthError::Unauthenticated => "the token is unknown, expired or revoked".to_string(),
                other => {
                    tracing::error!("authenticating: {other}");
                    "the token could not be checked".to_string()
                }
            })
        }
    }
}

/// Reads the GraphQL request: from the query string for GET, from a JSON
/// body (at most [`MAX_BODY_BYTES`], however it is sent) for POST. A
/// refusal is the HTTP status and why.
async fn read_request(
    method: &Method,
    headers: &HeaderMap,
    uri: &axum::http::Uri,
    body: axum::body::Body,
) -> Result<async_graphql::Request, (StatusCode, String)> {
    if method == Method::GET {
        let request = async_graphql::http::parse_query_string(uri.query().unwrap_or_default()).map_err(|e| {
            (
                StatusCode::BAD_REQUEST,
                format!("the URL is not a GraphQL request: {e}"),
            )
        })?;
        if request.query.trim().is_empty() {
            return Err((
                StatusCode::BAD_REQUEST,
                "a GET request carries its document in the URL: /graphql?query=…".into(),
            ));
        }
        return Ok(request);
    }
    let content_type = headers
        .get(axum::http::header::CONTENT_TYPE)
        .map(|v| String::from_utf8_lossy(v.as_bytes()).into_owned());
    let essence = content_type
        .as_deref()
        .and_then(|t| t.split(';').next())
        .map(|t| t.trim().to_ascii_lowercase());
    if essence.as_deref() != Some(JSON) {
        return Err((
            StatusCode::UNSUPPORTED_MEDIA_TYPE,
            match content_type {
                Some(t) => format!("send the request as {JSON}, not {t:?}"),
                None => format!("send the request as {JSON} (Content-Type is missing)"),
            },
        ));
    }
    let too_large = || {
        (
            StatusCode::PAYLOAD_TOO_LARGE,
            format!("the request body is larger than {MAX_BODY_BYTES} bytes"),
        )
    };
    let announced = headers
        .get(axum::http::header::CONTENT_LENGTH)
        .and_then(|v| v.to_str().ok())
        .and_then(|v| v.parse::<u64>().ok());
    if announced.is_some_and(|n| n > MAX_BODY_BYTES as u64) {
        return Err(too_large());
    }
    let bytes = axum::body::to_bytes(body, MAX_BODY_BYTES)
        .await
        .map_err(|_| too_large())?;
    let request: async_graphql::Request = serde_json::from_slice(&bytes).map_err(|e| {
        let batch = bytes.iter().find(|b| !b.is_ascii_whitespace()) == Some(&b'[');
        let message = if batch {
            "batches are not supported: send one operation per request".to_string()
        } else {
            format!("the body is not a GraphQL request in JSON: {e}")
        };
        (StatusCode::BAD_REQUEST, message)
    })?;
    if request.query.trim().is_empty() {
        return Err((
            StatusCode::BAD_REQUEST,
            "the body has no query: send {\"query\": \"…\"}".into(),
        ));
    }
    Ok(request)
}

/// A GraphQL request's answer, and how the metrics record it.
struct Answer {
    http: axum::response::Response,
    /// The metric label of the operation.
    operation: String,
    /// `ok`, or the code of the first error.
    outcome: String,
}

/// The metric label of a request refused before its document was read.
const UNREAD: &str = "-";

/// A refusal: a GraphQL error with `code`, `requestId` and `more`
/// extensions, answered with `status` in `media`.
fn refusal(
    status: StatusCode,
    media: &'static str,
    code: &str,
    message: impl Into<String>,
    request_id: &str,
    more: &[(&str, async_graphql::Value)],
) -> axum::response::Response {
    let mut error = crate::guard::coded(async_graphql::ServerError::new(message, None), code, more);
    if let Some(ext) = error.extensions.as_mut() {
        ext.set("requestId", request_id.to_string());
    }
    let body = serde_json::to_vec(&async_graphql::Response::from_errors(vec![error])).unwrap_or_default();
    (status, [(axum::http::header::CONTENT_TYPE, media)], body).into_response()
}

fn refused(http: axum::response::Response, operation: &str, code: &str) -> Answer {
    Answer {
        http,
        operation: operation.to_string(),
        outcome: code.to_string(),
    }
}

/// `TIMEOUT`: HTTP 504 (not 408, which clients may repeat on their own).
fn timed_out(media: &'static str, request_id: &str, limit: Duration) -> axum::response::Response {
    refusal(
        StatusCode::GATEWAY_TIMEOUT,
        media,
        codes::TIMEOUT,
        format!(
            "the request ran longer than the {} s limit and was stopped; nothing it computed is returned (a mutation \
             in it may have been applied: repeat it with the same idempotencyKey to find out)",
            limit.as_secs_f64()
        ),
        request_id,
        &[("timeoutSeconds", async_graphql::Value::from(limit.as_secs_f64()))],
    )
}

async fn graphql(
    State(state): State<AppState>,
    method: Method,
    headers: HeaderMap,
    uri: axum::http::Uri,
    body: axum::body::Body,
) -> axum::response::Response {
    let started = Instant::now();
    let deadline = started + state.request_timeout;
    let request_id = uuid::Uuid::new_v4().simple().to_string();
    let label = Arc::new(OnceLock::new());
    let span = tracing::info_span!("request", id = %request_id);
    let work = serve_graphql(&state, method, &headers, &uri, body, deadline, &request_id, &label);
    let answer = match tokio::time::timeout_at(
        tokio::time::Instant::from_std(deadline),
        tracing::Instrument::instrument(work, span),
    )
    .await
    {
        Ok(answer) => answer,
        Err(_) => {
            let media = response_media_type(&headers).unwrap_or(JSON);
            let operation = label.get().map_or(UNREAD, String::as_str);
            tracing::warn!(
                request_id,
                operation,
                "the request ran over the request timeout and was stopped"
            );
            refused(
                timed_out(media, &request_id, state.request_timeout),
                operation,
                codes::TIMEOUT,
            )
        }
    };
    state
        .metrics
        .request(&answer.operation, &answer.outcome, started.elapsed());
    let mut http = answer.http;
    if let Ok(value) = axum::http::HeaderValue::from_str(&request_id) {
        http.headers_mut().insert("x-request-id", value);
    }
    http
}

/// Everything a GraphQL request goes through before the timeout: the
/// checks on the async side, a turn at the gate, then [`run`] on a
/// blocking thread. `label` receives the operation's metric label once the
/// document is read.
#[allow(clippy::too_many_arguments)]
async fn serve_graphql(
    state: &AppState,
    method: Method,
    headers: &HeaderMap,
    uri: &axum::http::Uri,
    body: axum::body::Body,
    deadline: Instant,
    request_id: &str,
    label: &Arc<OnceLock<String>>,
) -> Answer {
    let Some(media) = response_media_type(headers) else {
        let message = format!("this endpoint answers {GRAPHQL_RESPONSE_JSON} or {JSON}");
        return refused(
            refusal(
                StatusCode::NOT_ACCEPTABLE,
                JSON,
                codes::BAD_REQUEST,
                message,
                request_id,
                &[],
            ),
            "invalid",
            codes::BAD_REQUEST,
        );
    };
    let request = match read_request(&method, headers, uri, body).await {
        Ok(r) => r,
        Err((status, message)) => {
            return refused(
                refusal(status, media, codes::BAD_REQUEST, message, request_id, &[]),
                "invalid",
                codes::BAD_REQUEST,
            )
        }
    };
    let authorization = headers
        .get(axum::http::header::AUTHORIZATION)
        .and_then(|v| v.to_str().ok());
    let caller = principal(&state.identity, headers, authorization);
    if let (Ok(p), Some(limiter)) = (&caller, &state.limiter) {
        let key = format!("{}\u{0}{}", p.role.as_str(), p.user);
        if let Err(wait) = limiter.check(&key, Instant::now()) {
            return refused(rate_limited(media, wait, request_id), UNREAD, codes::RATE_LIMITED);
        }
    }
    let turn = match state.gate.enter().await {
        Ok(turn) => turn,
        Err(why) => {
            tracing::warn!(request_id, ?why, "refused: the server is busy");
            let http = refusal(
                StatusCode::SERVICE_UNAVAILABLE,
                media,
                codes::BUSY,
                "the server is running as many requests as it takes; retry in 1 s",
                request_id,
                &[("retryAfterSeconds", async_graphql::Value::from(1))],
            );
            let mut http = http;
            http.headers_mut().insert(
                axum::http::header::RETRY_AFTER,
                axum::http::HeaderValue::from_static("1"),
            );
            return refused(http, UNREAD, codes::BUSY);
        }
    };
    let job = Job {
        state: state.clone(),
        request,
        get: method == Method::GET,
        caller,
        media,
        deadline,
        request_id: request_id.to_string(),
        label: label.clone(),
        runtime: tokio::runtime::Handle::current(),
    };
    let running = tokio::task::spawn_blocking(move || {
        // The turn is held until the work ends, also when the caller was
        // answered TIMEOUT before.
        let _turn = turn;
        run(job)
    });
    match running.await {
        Ok(answer) => answer,
        Err(e) => {
            tracing::error!(request_id, "a GraphQL request's work failed: {e}");
            let http = refusal(
                StatusCode::INTERNAL_SERVER_ERROR,
                media,
                codes::INTERNAL,
                "internal error; quote the requestId to the operator",
                request_id,
                &[],
            );
            refused(http, label.get().map_or(UNREAD, String::as_str), codes::INTERNAL)
        }
    }
}

/// A GraphQL request's work, moved to a blocking thread.
struct Job {
    state: AppState,
    request: async_graphql::Request,
    get: bool,
    caller: Result<Principal, String>,
    media: &'static str,
    deadline: Instant,
    request_id: String,
    label: Arc<OnceLock<String>>,
    runtime: tokio::runtime::Handle,
}

/// Collects a response body, failing once it would pass `limit` bytes.
struct Capped {
    bytes: Vec<u8>,
    limit: usize,
    over: bool,
}

impl std::io::Write for Capped {
    fn write(&mut self, buf: &[u8]) -> std::io::Result<usize> {
        if self.bytes.len().saturating_add(buf.len()) > self.limit {
            self.over = true;
            return Err(std::io::Error::other("the response is over the limit"));
        }
        self.bytes.extend_from_slice(buf);
        Ok(buf.len())
    }

    fn flush(&mut self) -> std::io::Result<()> {
        Ok(())
    }
}

/// Parses (through the document cache), refuses a mutation over GET,
/// executes with the deadline, and serialises within the response limit.
fn run(job: Job) -> Answer {
    let Job {
        state,
        mut request,
        get,
        caller,
        media,
        deadline,
        request_id,
        label,
        runtime,
    } = job;
    let document = state.documents.get(&request.query);
    let operation = document
        .as_deref()
        .and_then(|d| crate::document_cache::root_field(d, request.operation_name.as_deref()))
        .unwrap_or_else(|| "invalid".into());
    let _ = label.set(operation.clone());
    // GET runs queries only: the GraphQL over HTTP specification forbids
    // state changes through it. (A query that does not parse is left to the
    // executor to report.)
    let get_would_mutate = get
        && document.as_deref().is_some_and(|d| {
            crate::document_cache::operation(d, request.operation_name.as_deref()).is_some_and(|op| {
                matches!(
                    op.node.ty,
                    async_graphql::parser::types::OperationType::Mutation
                        | async_graphql::parser::types::OperationType::Subscription
                )
            })
        });
    if get_would_mutate {
        let mut http = refusal(
            StatusCode::METHOD_NOT_ALLOWED,
            media,
            codes::BAD_REQUEST,
            "mutations must be sent with POST",
            &request_id,
            &[],
        );
        http.headers_mut()
            .insert(axum::http::header::ALLOW, axum::http::HeaderValue::from_static("POST"));
        return refused(http, &operation, codes::BAD_REQUEST);
    }
    if let Some(document) = document {
        request.set_parsed_query(ExecutableDocument::clone(&document));
    }
    let late = || {
        refused(
            timed_out(media, &request_id, state.request_timeout),
            &operation,
            codes::TIMEOUT,
        )
    };
    if Instant::now() >= deadline {
        return late();
    }
    let request = request.data(crate::guard::Deadline(deadline));
    let executed = runtime.block_on(tokio::time::timeout_at(
        tokio::time::Instant::from_std(deadline),
        execute(&state, caller, request, &request_id),
    ));
    // Work that ends after the deadline is discarded: its caller has been
    // answered TIMEOUT already.
    let response = match executed {
        Ok(response) if Instant::now() < deadline => response,
        _ => return late(),
    };
    let invalid = response.data == async_graphql::Value::Null && response.errors.iter().all(|e| e.path.is_empty());
    let outcome = response
        .errors
        .first()
        .and_then(|e| e.extensions.as_ref())
        .and_then(|x| x.get("code"))
        .map(|c| c.to_string().trim_matches('"').to_string())
        .unwrap_or_else(|| {
            if response.errors.is_empty() {
                "ok".into()
            } else {
                "error".into()
            }
        });
    let operation = if invalid && !response.errors.is_empty() && outcome != codes::UNAUTHENTICATED {
        "invalid".to_string()
    } else {
        operation
    };
    let mut body = Capped {
        bytes: Vec::new(),
        limit: state.max_response_bytes,
        over: false,
    };
    if let Err(e) = serde_json::to_writer(&mut body, &response) {
        if body.over {
            let limit = state.max_response_bytes;
            let http = refusal(
                request_error_status(media, false),
                media,
                codes::RESPONSE_TOO_LARGE,
                format!(
                    "the answer would be larger than {limit} bytes: ask for fewer tickets per page (first), fewer \
                     fields or fewer aliases"
                ),
                &request_id,
                &[("limit", async_graphql::Value::from(limit))],
            );
            return refused(http, &operation, codes::RESPONSE_TOO_LARGE);
        }
        tracing::error!(request_id, "serialising a response: {e}");
        let http = refusal(
            StatusCode::INTERNAL_SERVER_ERROR,
            media,
            codes::INTERNAL,
            "internal error; quote the requestId to the operator",
            &request_id,
            &[],
        );
        return refused(http, &operation, codes::INTERNAL);
    }
    Answer {
        http: respond(media, &response, body.bytes),
        operation,
        outcome,
    }
}

/// Another method on /graphql: refused with `Allow`.
async fn wrong_method(headers: HeaderMap) -> axum::response::Response {
    let media = response_media_type(&headers).unwrap_or(JSON);
    let request_id = uuid::Uuid::new_v4().simple().to_string();
    let mut http = refusal(
        StatusCode::METHOD_NOT_ALLOWED,
        media,
        codes::BAD_REQUEST,
        "/graphql takes GET (queries) and POST",
        &request_id,
        &[],
    );
    http.headers_mut().insert(
        axum::http::header::ALLOW,
        axum::http::HeaderValue::from_static("GET, POST"),
    );
    if let Ok(value) = axum::http::HeaderValue::from_str(&request_id) {
        http.headers_mut().insert("x-request-id", value);
    }
    http
}

/// The metrics, rendered on a blocking thread (the SLA gauges scan the
/// SLA view), one scrape at a time; scrapes waiting for their turn wait on
/// the async side.
async fn metrics(State(state): State<AppState>) -> axum::response::Response {
    let Ok(_turn) = state.scrape.clone().acquire_owned().await else {
        return (StatusCode::SERVICE_UNAVAILABLE, "stopping").into_response();
    };
    let service = state.service.clone();
    let metrics = state.metrics.clone();
    match tokio::task::spawn_blocking(move || metrics.render(&service)).await {
        Ok(text) => (
            [(
                axum::http::header::CONTENT_TYPE,
                "application/openmetrics-text; version=1.0.0; charset=utf-8",
            )],
            text,
        )
            .into_response(),
        Err(e) => {
            tracing::error!("rendering the metrics: {e}");
            (StatusCode::INTERNAL_SERVER_ERROR, "internal error").into_response()
        }
    }
}

/// 429 with `Retry-After` and a GraphQL error coded `RATE_LIMITED`.
fn rate_limited(media: &'static str, wait: Duration, request_id: &str) -> axum::response::Response {
    let seconds = wait.as_secs_f64().ceil().max(1.0) as u64;
    let mut http = refusal(
        StatusCode::TOO_MANY_REQUESTS,
        media,
        codes::RATE_LIMITED,
        format!("too many requests from this caller; retry in {seconds} s"),
        request_id,
        &[("retryAfterSeconds", async_graphql::Value::from(seconds))],
    );
    if let Ok(value) = axum::http::HeaderValue::from_str(&seconds.to_string()) {
        http.headers_mut().insert(axum::http::header::RETRY_AFTER, value);
    }
    http
}

/// The GraphQL over HTTP media type.
const GRAPHQL_RESPONSE_JSON: &str = "application/graphql-response+json";
/// The legacy media type.
const JSON: &str = "application/json";

/// The media type to answer in, from the Accept header (GraphQL over HTTP:
/// `application/graphql-response+json` when the client takes it,
/// `application/json` for legacy clients and when Accept is absent);
/// `None` when the client accepts neither.
fn response_media_type(headers: &HeaderMap) -> Option<&'static str> {
    let Some(accept) = headers.get(axum::http::header::ACCEPT) else {
        return Some(JSON);
    };
    let accept = accept.to_str().unwrap_or_default().to_ascii_lowercase();
    let types: Vec<&str> = accept
        .split(',')
        .map(|t| t.split(';').next().unwrap_or_default().trim())
        .collect();
    if types.contains(&GRAPHQL_RESPONSE_JSON) {
        Some(GRAPHQL_RESPONSE_JSON)
    } else if types.iter().any(|t| *t == JSON || *t == "application/*" || *t == "*/*") {
        Some(JSON)
    } else {
        None
    }
}

/// The status of a request that failed before execution (no data, no
/// error path): 400 with `application/graphql-response+json` (401 when
/// unauthenticated), 200 with `application/json`.
fn request_error_status(media: &'static str, unauthenticated: bool) -> StatusCode {
    match media {
        GRAPHQL_RESPONSE_JSON if unauthenticated => StatusCode::UNAUTHORIZED,
        GRAPHQL_RESPONSE_JSON => StatusCode::BAD_REQUEST,
        _ => StatusCode::OK,
    }
}

/// A serialised response with its status. With `application/json` the
/// status is always 200; with `application/graphql-response+json` a
/// request that failed before execution (unparsable, invalid, too costly,
/// unauthenticated: no data, no error path) gets 400 (401 when
/// unauthenticated).
fn respond(media: &'static str, response: &async_graphql::Response, body: Vec<u8>) -> axum::response::Response {
    let request_error = response.data == async_graphql::Value::Null
        && !response.errors.is_empty()
        && response.errors.iter().all(|e| e.path.is_empty());
    let unauthenticated = response.errors.iter().any(|e| {
        e.extensions
            .as_ref()
            .and_then(|x| x.get("code"))
            .is_some_and(|c| *c == async_graphql::Value::from(codes::UNAUTHENTICATED))
    });
    let status = if request_error {
        request_error_status(media, unauthenticated)
    } else {
        StatusCode::OK
    };
    (status, [(axum::http::header::CONTENT_TYPE, media)], body).into_response()
}

async fn execute(
    state: &AppState,
    caller: Result<Principal, String>,
    request: async_graphql::Request,
    request_id: &str,
) -> async_graphql::Response {
    let mut response = execute_as(state, caller, request, request_id).await;
    for error in &mut response.errors {
        let ext = error.extensions.get_or_insert_with(Default::default);
        ext.set("requestId", request_id.to_string());
    }
    response
}

async fn execute_as(
    state: &AppState,
    caller: Result<Principal, String>,
    request: async_graphql::Request,
    request_id: &str,
) -> async_graphql::Response {
    match caller {
        Ok(principal) => {
            let actor = principal.actor();
            let operation = request.operation_name.clone().unwrap_or_default();
            let user = actor.user.to_string();
            let mut response = state.schema.execute(request.data(actor).data(principal)).await;
            for error in &mut response.errors {
                let Some(ext) = error.extensions.as_mut() else { continue };
                if let Some(detail) = ext.get(crate::error::DETAIL_EXTENSION).cloned() {
                    ext.unset(crate::error::DETAIL_EXTENSION);
                    tracing::error!(request_id, operation, user, %detail, "internal error");
                }
            }
            response
        }
        Err(reason) => {
            let error = async_graphql::ServerError::new(reason, None);
            let mut response = async_graphql::Response::from_errors(vec![error]);
            if let Some(e) = response.errors.first_mut() {
                let mut ext = async_graphql::ErrorExtensionValues::default();
                ext.set("code", crate::error::codes::UNAUTHENTICATED);
                e.extensions = Some(ext);
            }
            response
        }
    }
}

/// How often an open subscription connection checks that its token is
/// still valid (it is checked again before each event as well).
const SESSION_CHECK: Duration = Duration::from_secs(1);

/// How many subscriptions one WebSocket connection may hold open.
pub const MAX_SUBSCRIPTIONS: usize = 16;

/// The close code for one subscription too many.
const CLOSE_TOO_MANY: u16 = 4429;

/// The close code of a connection whose caller is not (or no longer)
/// authorized: graphql-transport-ws's `4403: Forbidden`.
const CLOSE_FORBIDDEN: u16 = 4403;

/// The credentials a subscription connection was opened with, checked
/// again while it is open: a token revoked or expired meanwhile ends it.
#[derive(Clone)]
pub struct Session {
    identity: Identity,
    headers: HeaderMap,
    authorization: Option<String>,
}

impl Session {
    /// The caller, if the credentials are still valid.
    pub fn check(&self) -> Result<Principal, String> {
        principal(&self.identity, &self.headers, self.authorization.as_deref())
    }
}

/// Subscriptions. The caller is identified by the upgrade request's
/// headers, or (browsers cannot set headers on a WebSocket) by
/// `{"Authorization": "Bearer <token>"}` in the `connection_init` payload.
/// A caller refused at `connection_init`, or whose token is revoked or
/// expires while the connection is open, is closed with 4403.
async fn websocket(
    State(state): State<AppState>,
    headers: HeaderMap,
    upgrade: axum::extract::ws::WebSocketUpgrade,
) -> axum::response::Response {
    // The first subprotocol offered that we speak (graphql-transport-ws
    // or the older graphql-ws).
    let protocol = headers
        .get(axum::http::header::SEC_WEBSOCKET_PROTOCOL)
        .and_then(|v| v.to_str().ok())
        .and_then(|offered| {
            offered
                .split(',')
                .find_map(|p| p.trim().parse::<async_graphql::http::WebSocketProtocols>().ok())
        });
    let Some(protocol) = protocol else {
        return (
            StatusCode::BAD_REQUEST,
            "offer the subprotocol graphql-transport-ws (or graphql-ws)",
        )
            .into_response();
    };
    upgrade
        .protocols(async_graphql::http::ALL_WEBSOCKET_PROTOCOLS)
        .on_upgrade(move |socket| serve_socket(socket, state, headers, protocol))
}

async fn serve_socket(
    socket: axum::extract::ws::WebSocket,
    state: AppState,
    headers: HeaderMap,
    protocol: async_graphql::http::WebSocketProtocols,
) {
    use axum::extract::ws::{CloseFrame, Message};
    use futures_util::{SinkExt as _, StreamExt as _};

    let header_authorization = headers
        .get(axum::http::header::AUTHORIZATION)
        .and_then(|v| v.to_str().ok())
        .map(str::to_string);
    let (mut sink, source) = socket.split();
    // The subscriptions open on this connection, by id: at most
    // MAX_SUBSCRIPTIONS; one more closes the connection (4429).
    let active = Arc::new(std::sync::Mutex::new(std::collections::HashSet::<String>::new()));
    let overflow = Arc::new(tokio::sync::Notify::new());
    let (track_in, track_overflow) = (active.clone(), overflow.clone());
    let input = source
        .take_while(|m| std::future::ready(m.is_ok()))
        .filter_map(move |m| {
            let data = match m {
                Ok(m @ (Message::Text(_) | Message::Binary(_))) => Some(m.into_data()),
                _ => None,
            };
            let data = data.filter(|d| match client_message(d) {
                Some(("subscribe" | "start", id)) => {
                    let mut open = track_in.lock().unwrap_or_else(|p| p.into_inner());
                    if !open.contains(&id) && open.len() >= MAX_SUBSCRIPTIONS {
                        track_overflow.notify_one();
                        false
                    } else {
                        open.insert(id);
                        true
                    }
                }
                Some(("complete" | "stop", id)) => {
                    track_in.lock().unwrap_or_else(|p| p.into_inner()).remove(&id);
                    true
                }
                _ => true,
            });
            std::future::ready(data)
        });
    // The session, once `connection_init` accepted it; whether it refused.
    let session: Arc<std::sync::Mutex<Option<Session>>> = Arc::default();
    let refused = Arc::new(std::sync::atomic::AtomicBool::new(false));
    let (init_session, init_refused) = (session.clone(), refused.clone());
    let identity = state.identity.clone();
    let messages = async_graphql::http::WebSocket::new(state.schema.clone(), input, protocol)
        .on_connection_init(move |payload: serde_json::Value| async move {
            let from_payload = payload
                .get("Authorization")
                .or_else(|| payload.get("authorization"))
                .and_then(|v| v.as_str())
                .map(str::to_string);
            let opened = Session {
                identity,
                headers,
                authorization: from_payload.or(header_authorization),
            };
            let principal = opened.check().map_err(|e| {
                init_refused.store(true, std::sync::atomic::Ordering::SeqCst);
                async_graphql::Error::new(e)
            })?;
            let mut data = async_graphql::Data::default();
            data.insert(principal.actor());
            data.insert(principal);
            data.insert(opened.clone());
            if let Ok(mut slot) = init_session.lock() {
                *slot = Some(opened);
            }
            Ok(data)
        })
        .map(|message| match message {
            async_graphql::http::WsMessage::Text(text) => {
                // A subscription the server ended frees its place.
                if text.contains("\"complete\"") || text.contains("\"error\"") {
                    if let Some((_, id)) = client_message(text.as_bytes()) {
                        active.lock().unwrap_or_else(|p| p.into_inner()).remove(&id);
                    }
                }
                Message::Text(text.into())
            }
            async_graphql::http::WsMessage::Close(code, reason) => {
                // The library closes a refused `connection_init` with 1002;
                // the protocol's code for it is 4403.
                let code = if refused.load(std::sync::atomic::Ordering::SeqCst) {
                    CLOSE_FORBIDDEN
                } else {
                    code
                };
                Message::Close(Some(CloseFrame {
                    code,
                    reason: reason.into(),
                }))
            }
        });
    futures_util::pin_mut!(messages);
    let mut checks = tokio::time::interval(SESSION_CHECK);
    checks.set_missed_tick_behavior(tokio::time::MissedTickBehavior::Delay);
    loop {
        tokio::select! {
            message = messages.next() => {
                let Some(message) = message else { break };
                if sink.send(message).await.is_err() {
                    break;
                }
            }
            _ = overflow.notified() => {
                let close = Message::Close(Some(CloseFrame {
                    code: CLOSE_TOO_MANY,
                    reason: format!("at most {MAX_SUBSCRIPTIONS} subscriptions on one connection").into(),
                }));
                let _ = sink.send(close).await;
                break;
            }
            _ = checks.tick() => {
                let open = session.lock().ok().and_then(|s| s.clone());
                let Some(open) = open else { continue };
                let still = tokio::task::spawn_blocking(move || open.check()).await;
                if let Ok(Err(reason)) | Err(reason) = still.map_err(|e| e.to_string()) {
                    let close = Message::Close(Some(CloseFrame {
                        code: CLOSE_FORBIDDEN,
                        reason: format!("Forbidden: {reason}").into(),
                    }));
                    let _ = sink.send(close).await;
                    break;
                }
            }
        }
    }
    // The older graphql-ws protocol answers a refused `connection_init`
    // with a `connection_error` message and ends: close with 4403 as well.
    if refused.load(std::sync::atomic::Ordering::SeqCst) {
        let close = Message::Close(Some(CloseFrame {
            code: CLOSE_FORBIDDEN,
            reason: "Forbidden".into(),
        }));
        let _ = sink.send(close).await;
    }
}

/// A protocol message's type and id, if it has both.
fn client_message(bytes: &[u8]) -> Option<(&'static str, String)> {
    let value: serde_json::Value = serde_json::from_slice(bytes).ok()?;
    let kind = match value.get("type")?.as_str()? {
        "subscribe" => "subscribe",
        "start" => "start",
        "complete" => "complete",
        "stop" => "stop",
        "error" => "error",
        _ => return None,
    };
    Some((kind, value.get("id")?.as_str()?.to_string()))
}

/// 200 once every view has caught up with the log, 503 before; the body
/// also names the events views set aside as unreadable
/// ([`application::jobs::readiness`]): such a view keeps serving, degraded.
async fn readyz(State(state): State<AppState>) -> impl IntoResponse {
    let (ready, body) = application::jobs::readiness(&state.service);
    if ready {
        (StatusCode::OK, body)
    } else {
        (StatusCode::SERVICE_UNAVAILABLE, body)
    }
}
