//! `/graphql/ws`: subscriptions over a WebSocket, the connection's
//! [`Session`] checked again while it is open, and the cap on
//! subscriptions per connection.

use std::sync::Arc;
use std::time::Duration;

use axum::extract::State;
use axum::http::{HeaderMap, StatusCode};
use axum::response::IntoResponse;

use super::identity::{principal, Identity};
use super::AppState;
use application::auth::Principal;

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
pub(super) async fn websocket(
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
