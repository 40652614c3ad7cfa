//! The HTTP side: `/graphql` (POST, and GET for queries), GraphiQL at `/`,
//! `/healthz` and `/readyz`.

use std::sync::Arc;
use std::time::Duration;

use async_graphql::http::GraphiQLSource;
use axum::extract::State;
use axum::http::{HeaderMap, Method, StatusCode};
use axum::response::{Html, IntoResponse};
use axum::routing::get;
use axum::Router;
use domain::actor::Role;
use domain::ids::{ContractorId, OwnerId, ProjectId, UserId};

use crate::auth::{AuthError, Principal, TokenStore};
use crate::documents::DocumentCache;
use crate::limits::{Rate, RateLimiter};
use async_graphql::parser::types::ExecutableDocument;

use crate::schema::{self, AppSchema};
use crate::service::Service;

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
    /// Longest a request may take before it is answered 408.
    pub request_timeout: Duration,
    /// Requests per caller, or no limit.
    pub rate: Option<Rate>,
}

impl ServerOptions {
    /// Introspection and GraphiQL on, no CORS, 30 s per request, the
    /// default rate per caller.
    pub fn new(identity: Identity) -> Self {
        Self {
            identity,
            introspection: true,
            graphiql: true,
            cors_origins: Vec::new(),
            request_timeout: Duration::from_secs(30),
            rate: Some(Rate::default()),
        }
    }
}

/// Largest request body accepted (a ticket with a 4,000-character
/// description is a few kilobytes; attachments are references, not files).
pub const MAX_BODY_BYTES: usize = 1 << 20;

/// The router of the server with [`ServerOptions::new`].
pub fn router(service: Arc<Service>, identity: Identity) -> Router {
    router_with(service, ServerOptions::new(identity))
}

/// The router of the server.
pub fn router_with(service: Arc<Service>, options: ServerOptions) -> Router {
    use axum::http::header::{HeaderName, HeaderValue};
    use tower_http::set_header::SetResponseHeaderLayer;
    let state = AppState {
        schema: schema::build_with(service.clone(), options.introspection),
        service,
        identity: options.identity,
        limiter: options.rate.map(|r| Arc::new(RateLimiter::new(r))),
        documents: Arc::new(DocumentCache::default()),
    };
    let mut router = Router::new();
    if options.graphiql {
        router = router.route("/", get(graphiql));
    }
    let mut router = router
        .route("/graphql", get(graphql).post(graphql))
        .route("/graphql/ws", get(websocket))
        .route("/healthz", get(|| async { "ok" }))
        .route("/readyz", get(readyz))
        .route("/metrics", get(metrics))
        .layer(tower_http::limit::RequestBodyLimitLayer::new(MAX_BODY_BYTES))
        .layer(tower_http::timeout::TimeoutLayer::with_status_code(
            StatusCode::REQUEST_TIMEOUT,
            options.request_timeout,
        ));
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

/// Reads the GraphQL request: from the query string for GET, from the body
/// (at most [`MAX_BODY_BYTES`], however it is sent) for POST.
async fn read_request(
    method: &Method,
    headers: &HeaderMap,
    uri: &axum::http::Uri,
    body: axum::body::Body,
) -> Result<async_graphql::Request, axum::response::Response> {
    let refuse = |status: StatusCode, message: String| (status, message).into_response();
    if method == Method::GET {
        return async_graphql::http::parse_query_string(uri.query().unwrap_or_default()).map_err(|e| {
            refuse(
                StatusCode::BAD_REQUEST,
                format!("invalid GraphQL request in the URL: {e}"),
            )
        });
    }
    let bytes = axum::body::to_bytes(body, MAX_BODY_BYTES).await.map_err(|_| {
        refuse(
            StatusCode::PAYLOAD_TOO_LARGE,
            format!("the request body is larger than {MAX_BODY_BYTES} bytes"),
        )
    })?;
    let content_type = headers
        .get(axum::http::header::CONTENT_TYPE)
        .and_then(|v| v.to_str().ok());
    async_graphql::http::receive_body(content_type, bytes.as_ref(), Default::default())
        .await
        .map_err(|e| refuse(StatusCode::BAD_REQUEST, format!("invalid GraphQL request: {e}")))
}

async fn graphql(
    State(state): State<AppState>,
    method: Method,
    headers: HeaderMap,
    uri: axum::http::Uri,
    body: axum::body::Body,
) -> axum::response::Response {
    let mut request = match read_request(&method, &headers, &uri, body).await {
        Ok(r) => r,
        Err(response) => return response,
    };
    // GET runs queries only: the GraphQL over HTTP specification forbids
    // state changes through it. (A query that does not parse is left to the
    // executor to report.)
    let get_document = (method == Method::GET)
        .then(|| state.documents.get(&request.query))
        .flatten();
    let get_would_mutate = get_document.as_ref().is_some_and(|d| {
        crate::documents::operation(d, request.operation_name.as_deref()).is_some_and(|op| {
            matches!(
                op.node.ty,
                async_graphql::parser::types::OperationType::Mutation
                    | async_graphql::parser::types::OperationType::Subscription
            )
        })
    });
    if get_would_mutate {
        return (
            StatusCode::METHOD_NOT_ALLOWED,
            [(axum::http::header::ALLOW, "POST")],
            "mutations must be sent with POST",
        )
            .into_response();
    }
    let media = match response_media_type(&headers) {
        Some(m) => m,
        None => {
            return (
                StatusCode::NOT_ACCEPTABLE,
                format!("this endpoint answers {GRAPHQL_RESPONSE_JSON} or {JSON}"),
            )
                .into_response()
        }
    };
    let authorization = headers
        .get(axum::http::header::AUTHORIZATION)
        .and_then(|v| v.to_str().ok());
    let caller = principal(&state.identity, &headers, authorization);
    if let (Ok(p), Some(limiter)) = (&caller, &state.limiter) {
        let key = format!("{}\u{0}{}", p.role.as_str(), p.user);
        if let Err(wait) = limiter.check(&key, std::time::Instant::now()) {
            return rate_limited(media, wait);
        }
    }
    let operation = match get_document.or_else(|| state.documents.get(&request.query)) {
        Some(document) => {
            let label = crate::documents::root_field(&document, request.operation_name.as_deref());
            request.set_parsed_query(ExecutableDocument::clone(&document));
            label.unwrap_or_else(|| "invalid".into())
        }
        None => "invalid".into(),
    };
    let started = std::time::Instant::now();
    let request_id = uuid::Uuid::new_v4().simple().to_string();
    let span = tracing::info_span!("request", id = %request_id, operation = %operation);
    let response = tracing::Instrument::instrument(execute(&state, caller, request, &request_id), span).await;
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
    let operation = if invalid && !response.errors.is_empty() && outcome != crate::error::codes::UNAUTHENTICATED {
        "invalid".to_string()
    } else {
        operation
    };
    state.service.metrics().request(&operation, &outcome, started.elapsed());
    let mut http = respond(media, response);
    if let Ok(value) = axum::http::HeaderValue::from_str(&request_id) {
        http.headers_mut().insert("x-request-id", value);
    }
    http
}

async fn metrics(State(state): State<AppState>) -> impl IntoResponse {
    (
        [(
            axum::http::header::CONTENT_TYPE,
            "application/openmetrics-text; version=1.0.0; charset=utf-8",
        )],
        state.service.metrics().render(&state.service),
    )
}

/// 429 with `Retry-After` and a GraphQL error coded `RATE_LIMITED`.
fn rate_limited(media: &'static str, wait: Duration) -> axum::response::Response {
    let seconds = wait.as_secs_f64().ceil().max(1.0) as u64;
    let mut error = async_graphql::ServerError::new(
        format!("too many requests from this caller; retry in {seconds} s"),
        None,
    );
    let mut ext = async_graphql::ErrorExtensionValues::default();
    ext.set("code", crate::error::codes::RATE_LIMITED);
    ext.set("retryAfterSeconds", seconds);
    error.extensions = Some(ext);
    let body = serde_json::to_vec(&async_graphql::Response::from_errors(vec![error])).unwrap_or_default();
    (
        StatusCode::TOO_MANY_REQUESTS,
        [
            (axum::http::header::CONTENT_TYPE, media.to_string()),
            (axum::http::header::RETRY_AFTER, seconds.to_string()),
        ],
        body,
    )
        .into_response()
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

/// Serialises a response. With `application/json` the status is always
/// 200; with `application/graphql-response+json` a request that failed
/// before execution (unparsable, invalid, unauthenticated: no data, no
/// error path) gets 400 (401 when unauthenticated).
fn respond(media: &'static str, response: async_graphql::Response) -> axum::response::Response {
    let request_error = response.data == async_graphql::Value::Null
        && !response.errors.is_empty()
        && response.errors.iter().all(|e| e.path.is_empty());
    let unauthenticated = response.errors.iter().any(|e| {
        e.extensions
            .as_ref()
            .and_then(|x| x.get("code"))
            .is_some_and(|c| *c == async_graphql::Value::from(crate::error::codes::UNAUTHENTICATED))
    });
    let status = match (media, request_error) {
        (GRAPHQL_RESPONSE_JSON, true) if unauthenticated => StatusCode::UNAUTHORIZED,
        (GRAPHQL_RESPONSE_JSON, true) => StatusCode::BAD_REQUEST,
        _ => StatusCode::OK,
    };
    match serde_json::to_vec(&response) {
        Ok(body) => (status, [(axum::http::header::CONTENT_TYPE, media)], body).into_response(),
        Err(e) => {
            tracing::error!("serialising a response: {e}");
            (StatusCode::INTERNAL_SERVER_ERROR, "internal error").into_response()
        }
    }
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

async fn graphiql() -> impl IntoResponse {
    Html(
        GraphiQLSource::build()
            .endpoint("/graphql")
            .subscription_endpoint("/graphql/ws")
            .finish(),
    )
}

/// How often an open subscription connection checks that its token is
/// still valid (it is checked again before each event as well).
const SESSION_CHECK: Duration = Duration::from_secs(1);

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
    let input = source.take_while(|m| std::future::ready(m.is_ok())).filter_map(|m| {
        std::future::ready(match m {
            Ok(m @ (Message::Text(_) | Message::Binary(_))) => Some(m.into_data()),
            _ => None,
        })
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
            async_graphql::http::WsMessage::Text(text) => Message::Text(text.into()),
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
}

async fn readyz(State(state): State<AppState>) -> impl IntoResponse {
    if state.service.ready() {
        (StatusCode::OK, "ready")
    } else {
        (StatusCode::SERVICE_UNAVAILABLE, "catching up")
    }
}
