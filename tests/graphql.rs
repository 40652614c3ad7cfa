//! The GraphQL server over HTTP, on an ephemeral port and a temporary data
//! folder: intake, read-your-writes, optimistic concurrency, idempotent
//! retries and clear errors.

use std::net::SocketAddr;
use std::sync::Arc;

use serde_json::{json, Value};

pub(crate) struct Server {
    pub(crate) _dir: tempfile::TempDir,
    pub(crate) addr: SocketAddr,
    pub(crate) service: Arc<application::service::Service>,
}

/// The archive records [`RECEIVE`] and its variants name: owner O-1 of
/// units HZ-1-3-1502 and SH-2-3-0801.
pub(crate) async fn seed_fixtures(service: &application::service::Service) {
    let units = ["HZ-1-3-1502", "SH-2-3-0801"];
    crate::support::seed_owner(service, "O-1", ("王", "小明"), "13812345678", &units).await;
}

/// A server whose archive holds [`seed_fixtures`].
pub(crate) async fn start() -> Server {
    let s = start_empty().await;
    seed_fixtures(&s.service).await;
    s
}

/// A server on an empty data folder.
pub(crate) async fn start_empty() -> Server {
    let dir = tempfile::tempdir().unwrap_or_else(|e| panic!("{e}"));
    let service = Arc::new(crate::support::open_service(dir.path()));
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0")
        .await
        .unwrap_or_else(|e| panic!("{e}"));
    let addr = listener.local_addr().unwrap_or_else(|e| panic!("{e}"));
    let router = api::server::router(service.clone(), api::server::Identity::TrustedHeaders);
    tokio::spawn(async move { axum::serve(listener, router).await });
    Server {
        _dir: dir,
        addr,
        service,
    }
}

/// A raw HTTP/1.1 request; returns the status and the body.
pub(crate) async fn http(addr: SocketAddr, method: &str, path: &str, body: &str) -> (u16, String) {
    http_as(addr, "agent", method, path, body).await
}

/// The same, acting in `role`.
pub(crate) async fn http_as(addr: SocketAddr, role: &str, method: &str, path: &str, body: &str) -> (u16, String) {
    let request = format!(
        "{method} {path} HTTP/1.1\r\nHost: {addr}\r\nContent-Type: application/json\r\nAccept: application/json\r\nx-user-id: agent-7\r\nx-user-role: {role}\r\nContent-Length: {}\r\nConnection: close\r\n\r\n{body}",
        body.len()
    );
    let answer = crate::support::exchange(addr, request.into_bytes()).await;
    (answer.status, answer.body)
}

pub(crate) async fn gql(addr: SocketAddr, query: &str, variables: Value) -> Value {
    let body = json!({ "query": query, "variables": variables }).to_string();
    let (status, text) = http(addr, "POST", "/graphql", &body).await;
    assert_eq!(status, 200, "{text}");
    // Chunked transfer encoding: the JSON is the first line that parses.
    text.lines()
        .find_map(|l| serde_json::from_str::<Value>(l).ok())
        .unwrap_or_else(|| panic!("no JSON in {text:?}"))
}

pub(crate) const RECEIVE: &str = r#"mutation($key: String) {
  receiveTicket(input: {
    kind: REPAIR, channel: HOTLINE, priority: URGENT, category: ENGINEERING, trade: LEAK,
    description: "卫生间天花板渗水",
    reporter: { ownerId: "O-1", familyName: "王", givenName: "小明", phone: "13812345678" },
    location: { projectId: "HZ-1", buildingId: "HZ-1-3", unitId: "HZ-1-3-1502" },
    idempotencyKey: $key
  }) { position ticket { id status version reporterName reporterPhone } }
}"#;

const ACK: &str = r#"mutation($id: String!, $v: Int) {
  acknowledgeTicket(input: { ticketId: $id, note: "called back", expectedVersion: $v }) {
    ticket { status version }
  }
}"#;

fn code(v: &Value) -> &str {
    v["errors"][0]["extensions"]["code"].as_str().unwrap_or("")
}

#[tokio::test]
async fn a_report_is_received_acknowledged_and_read_back() {
    let s = start().await;
    let r = gql(s.addr, RECEIVE, json!({ "key": "call-0001" })).await;
    let ticket = &r["data"]["receiveTicket"]["ticket"];
    assert_eq!(ticket["status"], "RECEIVED", "{r}");
    assert_eq!(ticket["version"], 0);
    // The agent who calls back sees the reporter in full; an analyst
    // reads the same ticket masked.
    assert_eq!(ticket["reporterName"], "王小明");
    assert_eq!(ticket["reporterPhone"], "13812345678");
    let id = ticket["id"].as_str().unwrap_or_default().to_string();
    let body = json!({
        "query": "query($id: String!) { ticket(id: $id) { reporterName reporterPhone } }",
        "variables": { "id": id }
    })
    .to_string();
    let (_, text) = http_as(s.addr, "analyst", "POST", "/graphql", &body).await;
    assert!(
        text.contains(r#""reporterName":"王**","reporterPhone":"138****5678""#),
        "{text}"
    );
    // Read-your-writes: the next query sees it.
    let q = gql(
        s.addr,
        "query($id: String!) { ticket(id: $id) { status kind priority } }",
        json!({ "id": id }),
    )
    .await;
    assert_eq!(
        q["data"]["ticket"],
        json!({ "status": "RECEIVED", "kind": "REPAIR", "priority": "URGENT" })
    );

    // A retry with the same key returns the same ticket and appends nothing.
    let head = s.service.head();
    let again = gql(s.addr, RECEIVE, json!({ "key": "call-0001" })).await;
    assert_eq!(again["data"]["receiveTicket"]["ticket"]["id"], json!(id));
    assert_eq!(
        again["data"]["receiveTicket"]["position"],
        r["data"]["receiveTicket"]["position"]
    );
    assert_eq!(s.service.head(), head);

    // Optimistic concurrency: version 0 is current, then stale.
    let ack = gql(s.addr, ACK, json!({ "id": id, "v": 0 })).await;
    assert_eq!(
        ack["data"]["acknowledgeTicket"]["ticket"],
        json!({ "status": "ACKNOWLEDGED", "version": 1 })
    );
    let stale = gql(s.addr, ACK, json!({ "id": id, "v": 0 })).await;
    assert_eq!(code(&stale), "CONFLICT", "{stale}");
    // The process refuses a second acknowledgement, by name.
    let twice = gql(s.addr, ACK, json!({ "id": id, "v": 1 })).await;
    assert_eq!(code(&twice), "INVALID_TRANSITION", "{twice}");
    let message = twice["errors"][0]["message"].as_str().unwrap_or_default();
    assert!(message.contains("cannot acknowledge the ticket"), "{message}");
    assert_eq!(s.service.head(), Some(head.unwrap_or(0) + 1), "refusals append nothing");
}

#[tokio::test]
async fn bad_requests_get_clear_errors_and_the_server_keeps_serving() {
    let s = start().await;
    let before = s.service.head();
    let unknown = gql(s.addr, ACK, json!({ "id": "T-404" })).await;
    assert_eq!(code(&unknown), "NOT_FOUND", "{unknown}");
    let bad_id = gql(s.addr, ACK, json!({ "id": "has space" })).await;
    assert_eq!(code(&bad_id), "BAD_INPUT", "{bad_id}");
    let wrong_type = gql(s.addr, ACK, json!({ "id": 42 })).await;
    assert!(wrong_type["errors"].is_array(), "{wrong_type}");
    let (status, _) = http(s.addr, "POST", "/graphql", "{not json").await;
    assert_eq!(status, 400);
    assert_eq!(s.service.head(), before, "nothing appended");
    let (status, body) = http(s.addr, "GET", "/healthz", "").await;
    assert_eq!((status, body.trim_end().ends_with("ok")), (200, true));
    let w = gql(
        s.addr,
        r#"{ workdays(from: "2025-09-26", to: "2025-10-12") }"#,
        json!({}),
    )
    .await;
    assert_eq!(
        w["data"]["workdays"],
        json!([
            "2025-09-26",
            "2025-09-28",
            "2025-09-29",
            "2025-09-30",
            "2025-10-09",
            "2025-10-10",
            "2025-10-11"
        ])
    );
}

#[tokio::test]
async fn an_unknown_role_is_unauthenticated_and_an_analyst_cannot_receive() {
    let s = start().await;
    let before = s.service.head();
    let body = json!({ "query": RECEIVE, "variables": { "key": "k" } }).to_string();
    let (_, text) = http_as(s.addr, "wizard", "POST", "/graphql", &body).await;
    let v = text
        .lines()
        .find_map(|l| serde_json::from_str::<Value>(l).ok())
        .unwrap_or_default();
    assert_eq!(code(&v), "UNAUTHENTICATED", "{text}");
    let (_, text) = http_as(s.addr, "analyst", "POST", "/graphql", &body).await;
    let v = text
        .lines()
        .find_map(|l| serde_json::from_str::<Value>(l).ok())
        .unwrap_or_default();
    assert_eq!(code(&v), "FORBIDDEN", "{text}");
    assert_eq!(s.service.head(), before);
}

#[tokio::test]
async fn get_runs_queries_but_never_mutations() {
    let s = start().await;
    let before = s.service.head();
    let (status, body) = http(
        s.addr,
        "GET",
        "/graphql?query=%7Bworkdays(from:%222026-10-08%22,to:%222026-10-08%22)%7D",
        "",
    )
    .await;
    assert_eq!(status, 200, "{body}");
    assert!(body.contains("2026-10-08"), "{body}");
    let mutation =
        "/graphql?query=mutation%7BcommentTicket(input:%7BticketId:%22T-1%22,text:%22x%22%7D)%7Bposition%7D%7D";
    let (status, body) = http(s.addr, "GET", mutation, "").await;
    assert_eq!(status, 405, "{body}");
    assert_eq!(s.service.head(), before);
}

/// Sends `body` to /graphql with the given Accept header; returns the
/// status line's code, the content type and the body.
async fn post_accepting(addr: SocketAddr, accept: &str, body: &str) -> (u16, String, String) {
    let request = format!(
        "POST /graphql HTTP/1.1\r\nHost: {addr}\r\nContent-Type: application/json\r\nAccept: {accept}\r\nContent-Length: {}\r\nConnection: close\r\n\r\n{body}",
        body.len()
    );
    let answer = crate::support::exchange(addr, request.into_bytes()).await;
    let content_type = answer.header("content-type").unwrap_or_default().to_string();
    (answer.status, content_type, answer.body)
}

#[tokio::test]
async fn responses_follow_graphql_over_http() {
    let s = start().await;
    let good = json!({ "query": "{ workdays(from: \"2026-10-01\", to: \"2026-10-09\") }" }).to_string();
    let broken = json!({ "query": "{ workdays(from: " }).to_string();
    let media = "application/graphql-response+json";

    let (status, content_type, body) = post_accepting(s.addr, media, &good).await;
    assert_eq!((status, content_type.as_str()), (200, media), "{body}");
    // National Day 2026: Oct 1–7 off, Oct 10 (Saturday) worked; only the
    // 8th and 9th are working days in the range.
    assert!(body.contains(r#"["2026-10-08","2026-10-09"]"#), "{body}");

    let (status, content_type, body) = post_accepting(s.addr, media, &broken).await;
    assert_eq!((status, content_type.as_str()), (400, media), "{body}");
    assert!(body.contains("errors"), "{body}");

    // Legacy clients get application/json and 200 whatever happened.
    let (status, content_type, _) = post_accepting(s.addr, "application/json", &broken).await;
    assert_eq!((status, content_type.as_str()), (200, "application/json"));
    let (status, content_type, _) = post_accepting(s.addr, "*/*", &good).await;
    assert_eq!((status, content_type.as_str()), (200, "application/json"));

    // A client that takes neither is told so.
    let (status, _, _) = post_accepting(s.addr, "text/html", &good).await;
    assert_eq!(status, 406);
}
