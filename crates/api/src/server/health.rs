//! `/readyz` and `/metrics` (`/healthz` is a constant answer in the
//! router).

use axum::extract::State;
use axum::http::StatusCode;
use axum::response::IntoResponse;

use super::AppState;

/// The metrics, rendered on a blocking thread (the SLA gauges scan the
/// SLA view), one scrape at a time; scrapes waiting for their turn wait on
/// the async side.
pub(super) async fn metrics(State(state): State<AppState>) -> axum::response::Response {
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

/// 200 once every view has caught up with the log, 503 before; the body
/// also names the events views set aside as unreadable
/// ([`application::jobs::readiness`]): such a view keeps serving, degraded.
pub(super) async fn readyz(State(state): State<AppState>) -> impl IntoResponse {
    let (ready, body) = application::jobs::readiness(&state.service);
    if ready {
        (StatusCode::OK, body)
    } else {
        (StatusCode::SERVICE_UNAVAILABLE, body)
    }
}
