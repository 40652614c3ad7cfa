//! Sessions and scopes: a subscription lives only as long as its token,
//! a refused `connection_init` closes with 4403, incidents are scoped like
//! tickets, and the server's own `system` role is on no token or request.

use std::net::SocketAddr;
use std::sync::Arc;
use std::time::Duration;

use application::auth::{Principal, TokenStore};
use domain::actor::Role;
use domain::ids::{ProjectId, UserId};
use futures_util::{SinkExt, StreamExt};
use serde_json::{json, Value};
use tokio_tungstenite::tungstenite::client::IntoClientRequest;
use tokio_tungstenite::tungstenite::Message;

use crate::support::{bearer, code, seed_fixtures, seed_units, start_with_tokens, Server};

type Socket = tokio_tungstenite::WebSocketStream<tokio_tungstenite::MaybeTlsStream<tokio::net::TcpStream>>;

/// A server authenticating tokens, its archive holding the fixtures'
/// owner O-1 of HZ-1-3-1502 and units in projects P01 and P02; and its
/// token store.
async fn seeded() -> (Server, Arc<TokenStore>) {
    let (s, tokens) = start_with_tokens().await;
    seed_fixtures(&s.service).await;
    seed_units(&s.service, &["P01-1-101", "P02-1-201"]).await;
    (s, tokens)
}

fn principal(user: &str, role: Role, projects: &[&str]) -> Principal {
    Principal {
        user: UserId::new(user).unwrap_or_else(|e| panic!("{e}")),
        role,
        projects: projects
            .iter()
            .map(|p| ProjectId::new(*p).unwrap_or_else(|e| panic!("{e}")))
            .collect(),
        contractor: None,
        owner: None,
    }
}

/// A token for `principal`: the bearer text and the token's id.
fn token(store: &TokenStore, principal: Principal) -> (String, String) {
    let (token, record) = store.create(principal, None).unwrap_or_else(|e| panic!("{e}"));
    (token, record.id)
}

/// A GraphQL request with bearer `token`.
async fn gql(addr: SocketAddr, token: &str, query: &str, variables: Value) -> Value {
    crate::support::gql(addr, &bearer(token), query, variables).await
}

/// A graphql-transport-ws connection whose `connection_init` carries
/// `token`; the first server message is returned with it.
async fn open(addr: SocketAddr, token: &str) -> (Socket, Message) {
    let mut request = format!("ws://{addr}/graphql/ws")
        .into_client_request()
        .unwrap_or_else(|e| panic!("{e}"));
    request.headers_mut().insert(
        "sec-websocket-protocol",
        "graphql-transport-ws".parse().unwrap_or_else(|e| panic!("{e}")),
    );
    let (mut socket, _) = tokio_tungstenite::connect_async(request)
        .await
        .unwrap_or_else(|e| panic!("{e}"));
    let init = json!({ "type": "connection_init", "payload": { "Authorization": format!("Bearer {token}") } });
    send(&mut socket, init).await;
    let first = next(&mut socket).await;
    (socket, first)
}

async fn send(socket: &mut Socket, message: Value) {
    socket
        .send(Message::text(message.to_string()))
        .await
        .unwrap_or_else(|e| panic!("{e}"));
}

/// The next message that is not a ping or pong (a close frame included).
async fn next(socket: &mut Socket) -> Message {
    loop {
        let message = tokio::time::timeout(Duration::from_secs(30), socket.next())
            .await
            .unwrap_or_else(|_| panic!("nothing within 30 s"))
            .unwrap_or_else(|| panic!("the socket ended without a close frame"))
            .unwrap_or_else(|e| panic!("{e}"));
        match &message {
            Message::Ping(_) | Message::Pong(_) => continue,
            Message::Text(text) => {
                let value: Value = serde_json::from_str(text.as_str()).unwrap_or_else(|e| panic!("{e}: {text}"));
                if value["type"] == "ping" || value["type"] == "pong" {
                    continue;
                }
                return message;
            }
            _ => return message,
        }
    }
}

fn json_of(message: &Message) -> Value {
    match message {
        Message::Text(text) => serde_json::from_str(text.as_str()).unwrap_or_else(|e| panic!("{e}: {text}")),
        other => panic!("expected a text message, got {other:?}"),
    }
}

fn close_code(message: &Message) -> Option<u16> {
    match message {
        Message::Close(Some(frame)) => Some(u16::from(frame.code)),
        _ => None,
    }
}

const RECEIVE: &str = crate::graphql::RECEIVE;

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_revoked_token_ends_its_open_subscription() {
    let (s, tokens) = seeded().await;
    let (agent, agent_id) = token(&tokens, principal("agent-1", Role::Agent, &[]));
    let (writer, _) = token(&tokens, principal("agent-2", Role::Agent, &[]));
    let (mut socket, ack) = open(s.addr, &agent).await;
    assert_eq!(json_of(&ack)["type"], "connection_ack");
    // From the head as it is now, so that the event written next is the
    // first one pushed, however soon the subscription is set up.
    let start = s.head().unwrap_or_else(|| panic!("the fixtures wrote nothing"));
    let subscribe =
        format!("subscription {{ ticketEvents(filter: {{ afterPosition: {start} }}) {{ position ticketId type }} }}");
    send(
        &mut socket,
        json!({ "id": "1", "type": "subscribe", "payload": { "query": subscribe } }),
    )
    .await;
    // Events flow while the token holds.
    let r = gql(s.addr, &writer, RECEIVE, json!({ "key": "before" })).await;
    assert!(r.get("errors").is_none(), "{r}");
    let first = json_of(&next(&mut socket).await);
    assert_eq!(first["type"], "next", "{first}");
    assert_eq!(
        first["payload"]["data"]["ticketEvents"]["position"], r["data"]["receiveTicket"]["position"],
        "{first}"
    );

    // Revoked (by another handle, as `aftersales token revoke` does): the
    // connection closes with 4403, and no event written after the
    // revocation reaches it.
    let other = TokenStore::open(s.dir.path()).unwrap_or_else(|e| panic!("{e}"));
    other.revoke(&agent_id).unwrap_or_else(|e| panic!("{e}"));
    let head = s.service.head();
    let r = gql(s.addr, &writer, RECEIVE, json!({ "key": "after" })).await;
    assert!(r.get("errors").is_none(), "{r}");
    assert!(s.service.head() > head);
    loop {
        let message = next(&mut socket).await;
        if let Some(code) = close_code(&message) {
            assert_eq!(code, 4403, "{message:?}");
            break;
        }
        // Only events written before the revocation may still arrive, and
        // the subscription's completion (it checks before each event).
        let v = json_of(&message);
        if v["type"] == "complete" {
            continue;
        }
        assert_eq!(v["type"], "next", "{v}");
        let position = v["payload"]["data"]["ticketEvents"]["position"].as_u64();
        assert!(position.is_none_or(|p| Some(p) <= head), "{v}");
    }
    // HTTP refuses the token as well.
    let r = gql(
        s.addr,
        &agent,
        "{ workdays(from: \"2026-10-08\", to: \"2026-10-09\") }",
        json!({}),
    )
    .await;
    assert_eq!(code(&r), "UNAUTHENTICATED", "{r}");
}

#[tokio::test]
async fn a_subscription_refused_at_connection_init_closes_with_4403() {
    let (s, _tokens) = seeded().await;
    for bad in ["ast_0000000000_AAAA", "not-a-token", ""] {
        let (_, first) = open(s.addr, bad).await;
        assert_eq!(close_code(&first), Some(4403), "{bad:?}: {first:?}");
    }
}

#[tokio::test]
async fn incidents_are_scoped_like_tickets() {
    let (s, tokens) = seeded().await;
    let (manager, _) = token(&tokens, principal("mgr-all", Role::Manager, &[]));
    let (p01, _) = token(&tokens, principal("mgr-p01", Role::Manager, &["P01"]));
    let open_incident = "mutation($p: String!, $i: String!) { openIncident(input: { incidentId: $i, projectId: $p, title: \"停水\", level: PROJECT, description: \"整栋停水\" }) { position } }";
    for (p, i) in [("P01", "INC-1"), ("P02", "INC-2")] {
        let r = gql(s.addr, &manager, open_incident, json!({ "p": p, "i": i })).await;
        assert!(r.get("errors").is_none(), "{r}");
    }
    let read = "query($i: String!) { incident(id: $i) { id projectId ticketIds } }";
    let r = gql(s.addr, &p01, read, json!({ "i": "INC-1" })).await;
    assert_eq!(r["data"]["incident"]["projectId"], "P01", "{r}");
    let r = gql(s.addr, &p01, read, json!({ "i": "INC-2" })).await;
    assert_eq!(code(&r), "FORBIDDEN", "{r}");
    assert!(r["data"].is_null() || r["data"]["incident"].is_null(), "{r}");
    let r = gql(s.addr, &manager, read, json!({ "i": "INC-2" })).await;
    assert_eq!(r["data"]["incident"]["projectId"], "P02", "{r}");
}

#[tokio::test]
async fn the_system_role_is_on_no_token_and_no_request() {
    let (s, tokens) = seeded().await;
    let refused = tokens.create(principal("robot", Role::System, &[]), None);
    assert!(refused.is_err(), "a system token was created");
    // A token file edited by hand to say `system` authenticates nobody.
    let (agent, _) = token(&tokens, principal("agent-9", Role::Agent, &[]));
    let path = s.dir.path().join("auth/tokens.json");
    let text = std::fs::read_to_string(&path).unwrap_or_else(|e| panic!("{e}"));
    assert!(text.contains("\"agent\""), "{text}");
    std::fs::write(&path, text.replace("\"agent\"", "\"system\"")).unwrap_or_else(|e| panic!("{e}"));
    let head = s.service.head();
    let r = gql(s.addr, &agent, RECEIVE, json!({ "key": "sys-1" })).await;
    assert_eq!(code(&r), "UNAUTHENTICATED", "{r}");
    assert_eq!(s.service.head(), head);
    // Behind a gateway, the header cannot name it either.
    let refused = api::server::header_principal(&{
        let mut h = axum::http::HeaderMap::new();
        h.insert("x-user-role", axum::http::HeaderValue::from_static("system"));
        h
    });
    assert!(refused.is_err(), "{refused:?}");
}

#[tokio::test]
async fn the_websocket_runs_subscriptions_only_and_a_bounded_number_of_them() {
    let (s, tokens) = seeded().await;
    let (agent, _) = token(&tokens, principal("agent-ws", Role::Agent, &[]));
    let (mut socket, ack) = open(s.addr, &agent).await;
    assert_eq!(json_of(&ack)["type"], "connection_ack");
    // A mutation sent over the socket would skip the HTTP gate, timeout
    // and rate limit: refused, nothing appended.
    let head = s.service.head();
    let mutation = RECEIVE.replace("$key: String", "$key: String = \"ws-mutation\"");
    send(
        &mut socket,
        json!({ "id": "m", "type": "subscribe", "payload": { "query": mutation } }),
    )
    .await;
    let refused = json_of(&next(&mut socket).await);
    assert_eq!(refused["id"], "m", "{refused}");
    assert_eq!(
        refused["payload"]["errors"][0]["extensions"]["code"], "BAD_REQUEST",
        "{refused}"
    );
    assert_eq!(s.service.head(), head);
    let done = json_of(&next(&mut socket).await);
    assert_eq!(done["type"], "complete", "{done}");
    // Subscriptions up to the limit are served; one more closes the
    // connection with 4429.
    for n in 0..api::server::MAX_SUBSCRIPTIONS {
        send(
            &mut socket,
            json!({ "id": format!("s{n}"), "type": "subscribe", "payload": { "query": "subscription { ticketEvents { position } }" } }),
        )
        .await;
    }
    send(
        &mut socket,
        json!({ "id": "one-too-many", "type": "subscribe", "payload": { "query": "subscription { ticketEvents { position } }" } }),
    )
    .await;
    let closed = next(&mut socket).await;
    assert_eq!(close_code(&closed), Some(4429), "{closed:?}");
}
