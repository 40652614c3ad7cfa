//! Bad requests are refused clearly, append nothing, and the server
//! keeps serving. Each test sends one kind of bad request to a server
//! holding the freshly received ticket T-BAD, and after each refusal
//! checks that the log has not moved and a normal query still works.

use serde_json::{json, Value};

use crate::support::tickets::{receive, refused, repair_input, start, ACKNOWLEDGE, AGENT, ANALYST, COMMENT};
use crate::support::{exchange, gql, message, ok, request, request_bytes, Server};

/// The ticket every request here is about.
const ID: &str = "T-BAD";

/// A server holding T-BAD, just received.
async fn server() -> Server {
    let s = start().await;
    receive(s.addr, repair_input(ID, "P-BAD")).await;
    s
}

/// After a refusal: the log head is still `head` and a normal query works.
async fn still_fine(s: &Server, head: Option<u64>) {
    assert_eq!(s.head(), head, "nothing appended");
    let r = ok(
        s.addr,
        AGENT,
        "query($id: String!) { ticket(id: $id) { status version } }",
        json!({ "id": ID }),
    )
    .await;
    assert_eq!(r["ticket"], json!({ "status": "RECEIVED", "version": 0 }));
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn bodies_that_are_no_graphql_request_are_refused() {
    let s = server().await;
    let (a, head) = (s.addr, s.head());
    // Malformed JSON.
    let (status, body) = request(
        a,
        "POST",
        "/graphql",
        AGENT,
        "{\"query\": \"{ ticket(id: \\\"T-BAD\\\") { id } }\"",
    )
    .await;
    assert_eq!(status, 400, "{body}");
    assert!(!body.is_empty(), "the refusal says why");
    still_fine(&s, head).await;
    // JSON that is not a GraphQL request.
    // (async-graphql reads a missing `query` as an empty document: a 200
    // with a syntax error, which the GraphQL-over-HTTP spec allows for
    // `application/json` responses; a 400 would do as well.)
    let (status, body) = request(a, "POST", "/graphql", AGENT, "{\"variables\": {}}").await;
    let v: Value = serde_json::from_str(&body).unwrap_or_default();
    assert!(
        status == 400 || (status == 200 && v["data"].is_null() && !message(&v).is_empty()),
        "{status} {body}"
    );
    still_fine(&s, head).await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn variables_of_the_wrong_type_are_refused() {
    let s = server().await;
    let (a, head) = (s.addr, s.head());
    let r = gql(a, AGENT, ACKNOWLEDGE, json!({ "input": { "ticketId": 42 } })).await;
    assert!(r["data"].is_null(), "{r}");
    assert!(message(&r).contains("ticketId"), "{r}");
    still_fine(&s, head).await;
    let r = gql(
        a,
        AGENT,
        ACKNOWLEDGE,
        json!({ "input": { "ticketId": ID, "expectedVersion": "zero" } }),
    )
    .await;
    assert!(r["data"].is_null(), "{r}");
    assert!(message(&r).contains("expectedVersion"), "{r}");
    still_fine(&s, head).await;
    let r = gql(
        a,
        AGENT,
        "mutation { acknowledgeTicket(input: { ticketId: \"T-BAD\", bogus: 1 }) { position } }",
        json!({}),
    )
    .await;
    assert!(r["data"].is_null() && !message(&r).is_empty(), "{r}");
    still_fine(&s, head).await;
}

/// Unknown tickets: queries find nothing, mutations are NOT_FOUND.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn unknown_tickets_are_not_found() {
    let s = server().await;
    let (a, head) = (s.addr, s.head());
    let r = ok(
        a,
        AGENT,
        "{ ticket(id: \"T-404\") { id } ticketHistory(id: \"T-404\") { ticketId } }",
        json!({}),
    )
    .await;
    assert_eq!(r, json!({ "ticket": null, "ticketHistory": null }));
    refused(
        a,
        AGENT,
        ACKNOWLEDGE,
        json!({ "input": { "ticketId": "T-404" } }),
        "NOT_FOUND",
    )
    .await;
    refused(
        a,
        AGENT,
        COMMENT,
        json!({ "input": { "ticketId": "T-404", "text": "x" } }),
        "NOT_FOUND",
    )
    .await;
    let merge = refused(
        a,
        AGENT,
        "mutation { mergeTicket(input: { ticketId: \"T-BAD\", into: \"T-404\" }) { position } }",
        json!({}),
        "NOT_FOUND",
    )
    .await;
    assert!(message(&merge).contains("T-404"), "{merge}");
    refused(
        a,
        AGENT,
        COMMENT,
        json!({ "input": { "ticketId": "not a valid id", "text": "x" } }),
        "BAD_INPUT",
    )
    .await;
    still_fine(&s, head).await;
}

/// Invalid transitions are named; times in the future or too far back are
/// refused.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn invalid_transitions_and_impossible_times_are_refused() {
    let s = server().await;
    let (a, head) = (s.addr, s.head());
    let accept = refused(
        a,
        AGENT,
        "mutation { acceptRepair(input: { ticketId: \"T-BAD\", confirmation: \"SIG\", ratings: { overall: 5 } }) { position } }",
        json!({}),
        "INVALID_TRANSITION",
    )
    .await;
    assert!(message(&accept).contains("cannot accept the repair"), "{accept}");
    let close = refused(
        a,
        AGENT,
        "mutation { closeTicket(input: { ticketId: \"T-BAD\" }) { position } }",
        json!({}),
        "INVALID_TRANSITION",
    )
    .await;
    assert!(message(&close).contains("cannot close the ticket"), "{close}");
    for at in ["2099-01-01T00:00:00Z", "2001-01-01T00:00:00Z"] {
        refused(
            a,
            AGENT,
            ACKNOWLEDGE,
            json!({ "input": { "ticketId": ID, "occurredAt": at } }),
            "BAD_INPUT",
        )
        .await;
    }
    still_fine(&s, head).await;
}

/// `{ __type(name: "Ticket") { ofType { … name … } } }` with `levels`
/// nested `ofType` selections.
fn nested(levels: usize) -> String {
    let mut deep = String::from("{ __type(name: \"Ticket\") { ");
    deep.push_str(&"ofType { ".repeat(levels - 1));
    deep.push_str("name");
    deep.push_str(&" }".repeat(levels));
    deep.push_str(" }");
    deep
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn queries_nested_too_deep_are_refused() {
    let s = server().await;
    let head = s.head();
    // 50 nested selections through introspection's ofType; then deeper
    // than the server's own limit (20) but within the parser's.
    for levels in [50, 25] {
        let r = gql(s.addr, ANALYST, &nested(levels), json!({})).await;
        assert!(r["data"].is_null(), "{r}");
        let m = message(&r).to_lowercase();
        assert!(m.contains("depth") || m.contains("too deep"), "{r}");
    }
    still_fine(&s, head).await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn bodies_of_10_mb_are_refused_with_or_without_a_length() {
    let s = server().await;
    let (a, head) = (s.addr, s.head());
    // 10 MB, announced by Content-Length.
    let padding = "x".repeat(10 << 20);
    let big = format!(
        "{{\"query\": \"mutation($t: String!) {{ commentTicket(input: {{ ticketId: \\\"T-BAD\\\", text: $t }}) {{ position }} }}\", \"variables\": {{ \"t\": \"{padding}\" }}}}"
    );
    let (status, body) = request(a, "POST", "/graphql", AGENT, &big).await;
    assert_eq!(status, 413, "{}", &body[..body.len().min(200)]);
    still_fine(&s, head).await;
    // 10 MB, streamed without a length.
    let mut chunked = Vec::new();
    for piece in big.as_bytes().chunks(64 * 1024) {
        chunked.extend_from_slice(format!("{:x}\r\n", piece.len()).as_bytes());
        chunked.extend_from_slice(piece);
        chunked.extend_from_slice(b"\r\n");
    }
    chunked.extend_from_slice(b"0\r\n\r\n");
    let framing = Some("Transfer-Encoding: chunked\r\n");
    let answer = exchange(a, request_bytes(a, AGENT, "POST", "/graphql", framing, &chunked)).await;
    assert_eq!(answer.status, 413, "{}", &answer.body[..answer.body.len().min(200)]);
    still_fine(&s, head).await;
}
