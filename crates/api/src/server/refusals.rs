//! Coded refusals: a GraphQL error body with `code`, `requestId` and
//! further extensions, answered with an HTTP status.

use std::time::Duration;

use axum::http::StatusCode;
use axum::response::IntoResponse;

use crate::error::codes;

/// A refusal: a GraphQL error with `code`, `requestId` and `more`
/// extensions, answered with `status` in `media`.
pub(super) fn refusal(
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

/// `TIMEOUT`: HTTP 504 (not 408, which clients may repeat on their own).
pub(super) fn timed_out(media: &'static str, request_id: &str, limit: Duration) -> axum::response::Response {
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

/// 429 with `Retry-After` and a GraphQL error coded `RATE_LIMITED`.
pub(super) fn rate_limited(media: &'static str, wait: Duration, request_id: &str) -> axum::response::Response {
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
