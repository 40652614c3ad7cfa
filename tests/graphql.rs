//! The GraphQL server over HTTP, on an ephemeral port and a temporary data
//! folder: intake, read-your-writes, optimistic concurrency, idempotent
//! retries and clear errors.

use std::net::SocketAddr;

use serde_json::{json, Value};

use crate::support::{code, exchange, gql, request, request_bytes, start_with_fixtures, AGENT_7};

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

#[tokio::test]
async fn a_report_is_received_acknowledged_and_read_back() {
    let s = start_with_fixtures().await;
    let r = gql(s.addr, AGENT_7, RECEIVE, json!({ "key": "call-0001" })).await;
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
    let (_, text) = request(s.addr, "POST", "/graphql", ("agent-7", "analyst"), &body).await;
    assert!(
        text.contains(r#""reporterName":"王**","reporterPhone":"138****5678""#),
        "{text}"
    );
    // Read-your-writes: the next query sees it.
    let q = gql(
        s.addr,
        AGENT_7,
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
    let again = gql(s.addr, AGENT_7, RECEIVE, json!({ "key": "call-0001" })).await;
    assert_eq!(again["data"]["receiveTicket"]["ticket"]["id"], json!(id));
    assert_eq!(
        again["data"]["receiveTicket"]["position"],
        r["data"]["receiveTicket"]["position"]
    );
    assert_eq!(s.service.head(), head);

    // Optimistic concurrency: version 0 is current, then stale.
    let ack = gql(s.addr, AGENT_7, ACK, json!({ "id": id, "v": 0 })).await;
    assert_eq!(
        ack["data"]["acknowledgeTicket"]["ticket"],
        json!({ "status": "ACKNOWLEDGED", "version": 1 })
    );
    let stale = gql(s.addr, AGENT_7, ACK, json!({ "id": id, "v": 0 })).await;
    assert_eq!(code(&stale), "CONFLICT", "{stale}");
    // The process refuses a second acknowledgement, by name.
    let twice = gql(s.addr, AGENT_7, ACK, json!({ "id": id, "v": 1 })).await;
    assert_eq!(code(&twice), "INVALID_TRANSITION", "{twice}");
    let message = twice["errors"][0]["message"].as_str().unwrap_or_default();
    assert!(message.contains("cannot acknowledge the ticket"), "{message}");
    assert_eq!(s.service.head(), Some(head.unwrap_or(0) + 1), "refusals append nothing");
}

#[tokio::test]
async fn bad_requests_get_clear_errors_and_the_server_keeps_serving() {
    let s = start_with_fixtures().await;
    let before = s.service.head();
    let unknown = gql(s.addr, AGENT_7, ACK, json!({ "id": "T-404" })).await;
    assert_eq!(code(&unknown), "NOT_FOUND", "{unknown}");
    let bad_id = gql(s.addr, AGENT_7, ACK, json!({ "id": "has space" })).await;
    assert_eq!(code(&bad_id), "BAD_INPUT", "{bad_id}");
    let wrong_type = gql(s.addr, AGENT_7, ACK, json!({ "id": 42 })).await;
    assert!(wrong_type["errors"].is_array(), "{wrong_type}");
    let (status, _) = request(s.addr, "POST", "/graphql", AGENT_7, "{not json").await;
    assert_eq!(status, 400);
    assert_eq!(s.service.head(), before, "nothing appended");
    let (status, body) = request(s.addr, "GET", "/healthz", AGENT_7, "").await;
    assert_eq!((status, body.trim_end().ends_with("ok")), (200, true));
    let w = gql(
        s.addr,
        AGENT_7,
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
    let s = start_with_fixtures().await;
    let before = s.service.head();
    let body = json!({ "query": RECEIVE, "variables": { "key": "k" } }).to_string();
    let (_, text) = request(s.addr, "POST", "/graphql", ("agent-7", "wizard"), &body).await;
    let v = text
        .lines()
        .find_map(|l| serde_json::from_str::<Value>(l).ok())
        .unwrap_or_default();
    assert_eq!(code(&v), "UNAUTHENTICATED", "{text}");
    let (_, text) = request(s.addr, "POST", "/graphql", ("agent-7", "analyst"), &body).await;
    let v = text
        .lines()
        .find_map(|l| serde_json::from_str::<Value>(l).ok())
        .unwrap_or_default();
    assert_eq!(code(&v), "FORBIDDEN", "{text}");
    assert_eq!(s.service.head(), before);
}

#[tokio::test]
async fn get_runs_queries_but_never_mutations() {
    let s = start_with_fixtures().await;
    let before = s.service.head();
    let (status, body) = request(
        s.addr,
        "GET",
        "/graphql?query=%7Bworkdays(from:%222026-10-08%22,to:%222026-10-08%22)%7D",
        AGENT_7,
        "",
    )
    .await;
    assert_eq!(status, 200, "{body}");
    assert!(body.contains("2026-10-08"), "{body}");
    let mutation =
        "/graphql?query=mutation%7BcommentTicket(input:%7BticketId:%22T-1%22,text:%22x%22%7D)%7Bposition%7D%7D";
    let (status, body) = request(s.addr, "GET", mutation, AGENT_7, "").await;
    assert_eq!(status, 405, "{body}");
    assert_eq!(s.service.head(), before);
}

/// Sends `body` to /graphql with the given Accept header; returns the
/// status line's code, the content type and the body.
async fn post_accepting(addr: SocketAddr, accept: &str, body: &str) -> (u16, String, String) {
    let accept = format!("Accept: {accept}\r\n");
    let answer = exchange(
        addr,
        request_bytes(addr, &accept, "POST", "/graphql", None, body.as_bytes()),
    )
    .await;
    let content_type = answer.header("content-type").unwrap_or_default().to_string();
    (answer.status, content_type, answer.body)
}

#[tokio::test]
async fn responses_follow_graphql_over_http() {
    let s = start_with_fixtures().await;
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
