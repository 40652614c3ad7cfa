//! Subscriptions over WebSocket (graphql-transport-ws): ticket events as
//! they are appended, SLA alerts for clocks at risk or breached.

use std::time::Duration;

use futures_util::{SinkExt, StreamExt};
use serde_json::{json, Value};
use tokio_tungstenite::tungstenite::client::IntoClientRequest;
use tokio_tungstenite::tungstenite::Message;

use crate::graphql::RECEIVE;
use crate::support::{gql, seed_units, start, start_with_fixtures, AGENT_7};

pub(crate) type Socket = tokio_tungstenite::WebSocketStream<tokio_tungstenite::MaybeTlsStream<tokio::net::TcpStream>>;

pub(crate) async fn connect(addr: std::net::SocketAddr) -> Socket {
    let mut request = format!("ws://{addr}/graphql/ws")
        .into_client_request()
        .unwrap_or_else(|e| panic!("{e}"));
    let headers = request.headers_mut();
    headers.insert(
        "sec-websocket-protocol",
        "graphql-transport-ws".parse().unwrap_or_else(|e| panic!("{e}")),
    );
    headers.insert("x-user-id", "agent-7".parse().unwrap_or_else(|e| panic!("{e}")));
    headers.insert("x-user-role", "manager".parse().unwrap_or_else(|e| panic!("{e}")));
    let (mut socket, response) = tokio_tungstenite::connect_async(request)
        .await
        .unwrap_or_else(|e| panic!("{e}"));
    assert_eq!(
        response
            .headers()
            .get("sec-websocket-protocol")
            .and_then(|v| v.to_str().ok()),
        Some("graphql-transport-ws")
    );
    send(&mut socket, json!({ "type": "connection_init", "payload": {} })).await;
    assert_eq!(receive(&mut socket).await["type"], "connection_ack");
    socket
}

pub(crate) async fn send(socket: &mut Socket, message: Value) {
    socket
        .send(Message::text(message.to_string()))
        .await
        .unwrap_or_else(|e| panic!("{e}"));
}

/// The next protocol message (pings are answered by the library).
pub(crate) async fn receive(socket: &mut Socket) -> Value {
    loop {
        let message = tokio::time::timeout(Duration::from_secs(20), socket.next())
            .await
            .unwrap_or_else(|_| panic!("no message within 20 s"))
            .unwrap_or_else(|| panic!("the socket closed"))
            .unwrap_or_else(|e| panic!("{e}"));
        if let Message::Text(text) = message {
            let value: Value = serde_json::from_str(text.as_str()).unwrap_or_else(|e| panic!("{e}: {text}"));
            if value["type"] != "ping" && value["type"] != "pong" {
                return value;
            }
        }
    }
}

#[tokio::test]
async fn ticket_events_are_pushed_as_they_are_appended() {
    let s = start_with_fixtures().await;
    let mut socket = connect(s.addr).await;
    // From the head as it is now: whenever the server sets the
    // subscription up, it starts right after what the fixtures wrote.
    let start = s.head().unwrap_or_else(|| panic!("the fixtures wrote nothing"));
    send(
        &mut socket,
        json!({ "id": "1", "type": "subscribe", "payload": {
            "query": format!("subscription {{ ticketEvents(filter: {{ projectId: \"HZ-1\", afterPosition: {start} }}) {{ position ticketId projectId kind type actor role summary }} }}")
        }}),
    )
    .await;
    let r = gql(s.addr, AGENT_7, RECEIVE, json!({ "key": "ws-1" })).await;
    let id = r["data"]["receiveTicket"]["ticket"]["id"]
        .as_str()
        .unwrap_or_default()
        .to_string();
    let position = r["data"]["receiveTicket"]["position"].as_u64();
    let ack =
        r#"mutation($id: String!) { acknowledgeTicket(input: { ticketId: $id, note: "called back" }) { position } }"#;
    gql(s.addr, AGENT_7, ack, json!({ "id": id })).await;

    let first = receive(&mut socket).await;
    assert_eq!(first["type"], "next", "{first}");
    assert_eq!(first["id"], "1");
    let event = &first["payload"]["data"]["ticketEvents"];
    assert_eq!(event["ticketId"], id.as_str());
    assert_eq!(event["type"], "Received");
    assert_eq!(event["projectId"], "HZ-1");
    assert_eq!(event["kind"], "REPAIR");
    assert_eq!(event["position"].as_u64(), position);
    assert_eq!(event["role"], "agent");
    let second = receive(&mut socket).await;
    assert_eq!(
        second["payload"]["data"]["ticketEvents"]["type"], "Acknowledged",
        "{second}"
    );

    // Another project's tickets are not pushed to this subscriber.
    let other = RECEIVE
        .replace("\"HZ-1\"", "\"SH-2\"")
        .replace("HZ-1-3\"", "SH-2-3\"")
        .replace("HZ-1-3-1502", "SH-2-3-0801");
    gql(s.addr, AGENT_7, &other, json!({ "key": "ws-2" })).await;
    let comment = r#"mutation($id: String!) { commentTicket(input: { ticketId: $id, text: "owner called again" }) { position } }"#;
    gql(s.addr, AGENT_7, comment, json!({ "id": id })).await;
    let third = receive(&mut socket).await;
    let event = &third["payload"]["data"]["ticketEvents"];
    assert_eq!(event["ticketId"], id.as_str(), "{third}");
    assert_eq!(event["type"], "Commented");
}

/// The subscriptions following the log, as `/metrics` counts them.
async fn following(addr: std::net::SocketAddr) -> u64 {
    let (status, body) = crate::support::request(addr, "GET", "/metrics", AGENT_7, "").await;
    assert_eq!(status, 200, "{body}");
    body.lines()
        .find_map(|l| l.strip_prefix("aftersales_graphql_subscriptions_following "))
        .and_then(|v| v.trim().parse().ok())
        .unwrap_or_else(|| panic!("no graphql_subscriptions_following in /metrics:\n{body}"))
}

#[tokio::test]
async fn a_subscription_from_now_on_sees_every_event_after_the_server_counts_it() {
    let s = start_with_fixtures().await;
    assert_eq!(following(s.addr).await, 0);
    let mut socket = connect(s.addr).await;
    // No afterPosition: from the head when the server sets it up, which
    // the server says by counting it.
    send(
        &mut socket,
        json!({ "id": "1", "type": "subscribe", "payload": {
            "query": "subscription { ticketEvents(filter: { projectId: \"HZ-1\" }) { position type } }"
        }}),
    )
    .await;
    crate::support::eventually(
        "the server counts the subscription",
        Duration::from_secs(20),
        || async { following(s.addr).await == 1 },
    )
    .await;
    let r = gql(s.addr, AGENT_7, RECEIVE, json!({ "key": "ws-now" })).await;
    let position = r["data"]["receiveTicket"]["position"].as_u64();
    let next = receive(&mut socket).await;
    assert_eq!(next["type"], "next", "{next}");
    assert_eq!(
        next["payload"]["data"]["ticketEvents"]["position"].as_u64(),
        position,
        "{next}"
    );
    assert_eq!(next["payload"]["data"]["ticketEvents"]["type"], "Received");
    // Completed by the client: no longer counted.
    send(&mut socket, json!({ "id": "1", "type": "complete" })).await;
    crate::support::eventually(
        "the server uncounts the subscription",
        Duration::from_secs(20),
        || async { following(s.addr).await == 0 },
    )
    .await;
}

#[tokio::test]
async fn breached_clocks_are_pushed_as_sla_alerts() {
    let s = start_with_fixtures().await;
    // An emergency reported two days ago and never answered: its first
    // response (30 min), on-site (2 h) and resolution (24 h) targets,
    // all 24x7, are long breached.
    let received = (s.service.now() - chrono::TimeDelta::days(2)).to_rfc3339();
    let query = RECEIVE
        .replace("priority: URGENT", "priority: EMERGENCY")
        .replace("idempotencyKey: $key", "idempotencyKey: $key, occurredAt: $at")
        .replace("mutation($key: String)", "mutation($key: String, $at: DateTime)");
    let r = gql(s.addr, AGENT_7, &query, json!({ "key": "sla-1", "at": received })).await;
    let id = r["data"]["receiveTicket"]["ticket"]["id"]
        .as_str()
        .unwrap_or_default()
        .to_string();
    assert!(!id.is_empty(), "{r}");

    let mut socket = connect(s.addr).await;
    send(
        &mut socket,
        json!({ "id": "a", "type": "subscribe", "payload": {
            "query": "subscription { slaAlerts(projectId: \"HZ-1\", everySeconds: 1) { ticketId projectId clock { clock status dueAt } } }"
        }}),
    )
    .await;
    let mut seen = Vec::new();
    while seen.len() < 3 {
        let message = receive(&mut socket).await;
        assert_eq!(message["type"], "next", "{message}");
        let alert = message["payload"]["data"]["slaAlerts"].clone();
        assert_eq!(alert["ticketId"], id.as_str());
        assert_eq!(alert["clock"]["status"], "BREACHED", "{alert}");
        seen.push(alert["clock"]["clock"].as_str().unwrap_or_default().to_string());
    }
    seen.sort();
    assert_eq!(seen, ["FIRST_RESPONSE", "ON_SITE", "RESOLUTION"]);
    send(&mut socket, json!({ "id": "a", "type": "complete" })).await;
}

#[tokio::test]
async fn a_subscriber_misses_nothing_appended_in_bulk() {
    let s = start().await;
    // One record of another project first, so that the subscription can
    // start right after a position, the log's head: it then misses
    // nothing written after it, however late the server sets it up.
    seed_units(&s.service, &["P-WS"]).await;
    let start = s.head().unwrap_or_else(|| panic!("the seed wrote nothing"));
    let mut socket = connect(s.addr).await;
    send(
        &mut socket,
        json!({ "id": "bulk", "type": "subscribe", "payload": {
            "query": format!("subscription {{ ticketEvents(filter: {{ projectId: \"P01\", types: [\"Received\"], afterPosition: {start} }}) {{ ticketId projectId type }} }}")
        }}),
    )
    .await;
    // Events written straight into the log (as the demo does, which
    // `application::jobs::fill_demo` would refuse on a log that is not empty), not
    // through mutations: the subscription must not outrun the tickets
    // view. One project, so that every generated ticket is one the
    // subscriber asked for: 300 of them, written in one burst.
    let config = simulator::GeneratorConfig {
        projects: 1,
        tickets: 300,
        units: 300,
        ..application::jobs::demo_config(domain::testing::test_today())
    };
    let summary = simulator::write_log_with(s.service.store().as_ref(), &config, Some(s.service.keyring().clone()))
        .await
        .unwrap_or_else(|e| panic!("{e}"));
    crate::support::settle(&s).await;
    let listed = gql(
        s.addr,
        AGENT_7,
        "{ tickets(filter: { projectId: \"P01\" }, first: 500) { edges { node { id } } pageInfo { hasNextPage } } }",
        json!({}),
    )
    .await;
    assert_eq!(listed["data"]["tickets"]["pageInfo"]["hasNextPage"], false);
    let mut expected: Vec<String> = listed["data"]["tickets"]["edges"]
        .as_array()
        .cloned()
        .unwrap_or_default()
        .iter()
        .filter_map(|e| e["node"]["id"].as_str().map(str::to_string))
        .collect();
    // The list shows every ticket generated, the bulk the test is about.
    assert_eq!(expected.len() as u64, summary.tickets.total(), "{listed}");
    let mut pushed = Vec::new();
    while pushed.len() < expected.len() {
        let message = receive(&mut socket).await;
        let event = &message["payload"]["data"]["ticketEvents"];
        assert_eq!(event["projectId"], "P01", "{message}");
        assert_eq!(event["type"], "Received");
        pushed.push(event["ticketId"].as_str().unwrap_or_default().to_string());
    }
    expected.sort();
    pushed.sort();
    assert_eq!(pushed, expected);
}
