//! `/graphql` over HTTP: the POST and GET request pipeline, from reading
//! and checking the request on the async side, through a turn at the gate,
//! to execution and serialisation on a blocking thread.

use std::sync::{Arc, OnceLock};
use std::time::Instant;

use axum::extract::State;
use axum::http::{HeaderMap, Method, StatusCode};
use axum::response::IntoResponse;

use super::identity::principal;
use super::refusals::{rate_limited, refusal, timed_out};
use super::{AppState, MAX_BODY_BYTES};
use crate::error::codes;
use application::auth::Principal;
use async_graphql::parser::types::ExecutableDocument;

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

fn refused(http: axum::response::Response, operation: &str, code: &str) -> Answer {
    Answer {
        http,
        operation: operation.to_string(),
        outcome: code.to_string(),
    }
}

pub(super) async fn graphql(
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
pub(super) async fn wrong_method(headers: HeaderMap) -> axum::response::Response {
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
