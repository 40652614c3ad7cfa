//! `tickets(orderBy: NEAREST_DUE)`: the work queue's order, over every
//! open ticket in the caller's scope (not a page of the newest), most
//! urgent first by the clocks the same answer shows; finished tickets left
//! out; cursors that page through each ticket once while nothing changes.

use serde_json::{json, Value};

use crate::support::start;

const AGENT: &str = "x-user-id: a-1\r\nx-user-role: agent\r\n";
const MANAGER_P2: &str = "x-user-id: m-2\r\nx-user-role: manager\r\nx-projects: P2\r\n";
const CONTRACTOR_C1: &str = "x-user-id: w-1\r\nx-user-role: contractor\r\nx-contractor-id: C-1\r\n";

async fn ok(addr: std::net::SocketAddr, headers: &str, query: &str, variables: Value) -> Value {
    let answer = crate::support::gql(addr, headers, query, variables).await;
    assert!(answer.get("errors").is_none(), "{query}: {answer}");
    answer
}

const RECEIVE: &str = r#"mutation($id: String!, $priority: Priority!, $project: String!, $building: String!, $unit: String!) {
  receiveTicket(input: {
    ticketId: $id, kind: REPAIR, channel: HOTLINE, priority: $priority, category: ENGINEERING, trade: LEAK,
    description: "渗水", reporter: { familyName: "王", givenName: "小明", phone: "13812345678" },
    location: { projectId: $project, buildingId: $building, unitId: $unit } }) { position } }"#;

const PAGE: &str = r#"query($filter: TicketFilterInput, $after: String, $first: Int!) {
  tickets(filter: $filter, first: $first, after: $after, orderBy: NEAREST_DUE) {
    totalCount edges { cursor node { id status clocks { clock status dueAt stoppedAt paused } } }
    pageInfo { hasNextPage endCursor } } }"#;

/// The earliest due instant of the clocks still counting, as the answer
/// shows them (None: none counting).
fn nearest_due(node: &Value) -> Option<chrono::DateTime<chrono::Utc>> {
    node["clocks"]
        .as_array()
        .into_iter()
        .flatten()
        .filter(|c| c["stoppedAt"].is_null() && c["paused"] != json!(true))
        .filter(|c| c["status"] != json!("MET") && c["status"] != json!("CANCELLED"))
        .filter_map(|c| c["dueAt"].as_str())
        .filter_map(|d| chrono::DateTime::parse_from_rfc3339(d).ok())
        .map(|d| d.with_timezone(&chrono::Utc))
        .min()
}

/// Every page of the queue as `who`, `first` at a time: the nodes in order
/// and each page's totalCount.
async fn queue(addr: std::net::SocketAddr, who: &str, filter: Value, first: u32) -> (Vec<Value>, Vec<u64>) {
    let (mut nodes, mut counts) = (Vec::new(), Vec::new());
    let mut after = Value::Null;
    loop {
        let answer = ok(
            addr,
            who,
            PAGE,
            json!({ "filter": filter, "after": after, "first": first }),
        )
        .await;
        let page = &answer["data"]["tickets"];
        counts.push(page["totalCount"].as_u64().unwrap_or_else(|| panic!("{answer}")));
        for edge in page["edges"].as_array().cloned().unwrap_or_default() {
            nodes.push(edge["node"].clone());
        }
        if page["pageInfo"]["hasNextPage"] != json!(true) {
            return (nodes, counts);
        }
        after = page["pageInfo"]["endCursor"].clone();
    }
}

fn ids(nodes: &[Value]) -> Vec<&str> {
    nodes.iter().map(|n| n["id"].as_str().unwrap_or_default()).collect()
}

#[tokio::test]
async fn the_queue_lists_every_open_ticket_most_urgent_first() {
    let s = start().await;
    crate::support::seed_units(&s.service, &["P1-1-101", "P2-1-101"]).await;
    crate::support::seed_directory(&s.service, &["C-1"], &[]).await;
    // Received in this order: the emergencies first, the normal tickets
    // last, in two projects, so that the newest-first order is the
    // opposite of the most-urgent-first one.
    let tickets = [
        ("T-E1", "EMERGENCY", "P1"),
        ("T-E2", "EMERGENCY", "P2"),
        ("T-U1", "URGENT", "P1"),
        ("T-U2", "URGENT", "P2"),
        ("T-N1", "NORMAL", "P1"),
        ("T-N2", "NORMAL", "P2"),
        ("T-DONE", "EMERGENCY", "P1"),
    ];
    for (id, priority, project) in tickets {
        let vars = json!({
            "id": id, "priority": priority, "project": project,
            "building": format!("{project}-1"), "unit": format!("{project}-1-101"),
        });
        ok(s.addr, AGENT, RECEIVE, vars).await;
    }
    // T-DONE is withdrawn: finished, not in the queue. T-U1 is
    // acknowledged and dispatched to C-1: its first response has stopped.
    ok(
        s.addr,
        AGENT,
        r#"mutation { withdrawTicket(input: { ticketId: "T-DONE", reason: "业主撤回" }) { position } }"#,
        json!({}),
    )
    .await;
    for q in [
        r#"mutation { acknowledgeTicket(input: { ticketId: "T-U1" }) { position } }"#,
        r#"mutation { dispatchTicket(input: { ticketId: "T-U1", contractorId: "C-1" }) { position } }"#,
    ] {
        ok(s.addr, AGENT, q, json!({})).await;
    }

    for first in [1, 2, 50] {
        let (nodes, counts) = queue(s.addr, AGENT, json!({}), first).await;
        let listed = ids(&nodes);
        let mut sorted = listed.clone();
        sorted.sort_unstable();
        assert_eq!(
            sorted,
            ["T-E1", "T-E2", "T-N1", "T-N2", "T-U1", "T-U2"],
            "each open ticket once, the withdrawn one left out (pages of {first})"
        );
        assert!(counts.iter().all(|c| *c == 6), "totalCount {counts:?}");
        // The order is the clocks' the answer shows: nearest due first.
        let dues: Vec<_> = nodes.iter().map(nearest_due).collect();
        assert!(
            dues.iter().all(Option::is_some),
            "every ticket has a running clock: {nodes:?}"
        );
        assert!(dues.windows(2).all(|w| w[0] <= w[1]), "{listed:?} by {dues:?}");
        // An emergency is due before any normal ticket received after it.
        let at = |id: &str| listed.iter().position(|x| *x == id).unwrap_or(usize::MAX);
        assert!(at("T-E1") < at("T-N1") && at("T-E2") < at("T-N1"), "{listed:?}");
    }

    // The received order is still the default, and lists finished ones.
    let newest = ok(
        s.addr,
        AGENT,
        "{ tickets(first: 1) { edges { node { id } } } }",
        json!({}),
    )
    .await;
    assert_eq!(newest["data"]["tickets"]["edges"][0]["node"]["id"], "T-DONE");

    // Scopes hold: a manager of P2 and a contractor see only theirs.
    let (nodes, _) = queue(s.addr, MANAGER_P2, json!({}), 50).await;
    let mut p2 = ids(&nodes);
    p2.sort_unstable();
    assert_eq!(p2, ["T-E2", "T-N2", "T-U2"]);
    let (nodes, _) = queue(s.addr, CONTRACTOR_C1, json!({}), 50).await;
    assert_eq!(ids(&nodes), ["T-U1"]);
    // Filters apply on top of the order.
    let (nodes, counts) = queue(s.addr, AGENT, json!({ "priority": "NORMAL" }), 1).await;
    let mut normal = ids(&nodes);
    normal.sort_unstable();
    assert_eq!((normal, counts[0]), (vec!["T-N1", "T-N2"], 2));
}

#[tokio::test]
async fn the_queue_refuses_what_it_cannot_answer() {
    let s = start().await;
    for (query, says) in [
        (
            "{ tickets(orderBy: NEAREST_DUE, filter: { open: false }) { edges { cursor } } }",
            "open tickets",
        ),
        (
            r#"{ tickets(orderBy: NEAREST_DUE, after: "due:x") { edges { cursor } } }"#,
            "cursor",
        ),
        (
            r#"{ tickets(orderBy: NEAREST_DUE, after: "due|yesterday|T-1") { edges { cursor } } }"#,
            "cursor",
        ),
        (
            r#"{ tickets(orderBy: NEAREST_DUE, after: "0000") { edges { cursor } } }"#,
            "cursor",
        ),
        (
            r#"{ tickets(orderBy: NEAREST_DUE, filter: { receivedFrom: "2026-03-16T00:00:00Z", receivedBefore: "2026-03-16T00:00:00Z" }) { totalCount } }"#,
            "range",
        ),
        (
            "{ tickets(orderBy: NEAREST_DUE, first: 0) { edges { cursor } } }",
            "first",
        ),
    ] {
        let answer = crate::support::gql(s.addr, AGENT, query, json!({})).await;
        assert_eq!(
            answer["errors"][0]["extensions"]["code"], "BAD_INPUT",
            "{query}: {answer}"
        );
        let message = answer["errors"][0]["message"].as_str().unwrap_or_default();
        assert!(message.contains(says), "{query}: {message}");
    }
    // Past the end: an empty page, not an error.
    let answer = ok(
        s.addr,
        AGENT,
        r#"{ tickets(orderBy: NEAREST_DUE, after: "due|2999-01-01T00:00:00Z|T-ZZZ") { edges { cursor } pageInfo { hasNextPage } } }"#,
        json!({}),
    )
    .await;
    assert_eq!(
        answer["data"]["tickets"],
        json!({ "edges": [], "pageInfo": { "hasNextPage": false } })
    );
}

/// A ticket ahead of the cursor that closes between two pages does not
/// make the next page skip one: the cursor is a place in the order (due
/// instant and ticket), not a count of the tickets before it.
#[tokio::test]
async fn a_ticket_closing_between_pages_skips_no_other() {
    let s = start().await;
    crate::support::seed_units(&s.service, &["P1-1-101"]).await;
    for (id, priority) in [
        ("T-1", "EMERGENCY"),
        ("T-2", "URGENT"),
        ("T-3", "NORMAL"),
        ("T-4", "NORMAL"),
    ] {
        let vars = json!({
            "id": id, "priority": priority, "project": "P1", "building": "P1-1", "unit": "P1-1-101",
        });
        ok(s.addr, AGENT, RECEIVE, vars).await;
    }
    let first = ok(s.addr, AGENT, PAGE, json!({ "filter": {}, "after": null, "first": 2 })).await;
    let page = &first["data"]["tickets"];
    let one: Vec<String> = page["edges"]
        .as_array()
        .into_iter()
        .flatten()
        .filter_map(|e| e["node"]["id"].as_str().map(String::from))
        .collect();
    assert_eq!(one, ["T-1", "T-2"], "the emergency, then the urgent ticket");
    // The first ticket of the page is withdrawn before the next page.
    ok(
        s.addr,
        AGENT,
        r#"mutation { withdrawTicket(input: { ticketId: "T-1", reason: "业主撤回" }) { position } }"#,
        json!({}),
    )
    .await;
    let after = page["pageInfo"]["endCursor"].clone();
    let second = ok(s.addr, AGENT, PAGE, json!({ "filter": {}, "after": after, "first": 2 })).await;
    let mut two: Vec<&str> = second["data"]["tickets"]["edges"]
        .as_array()
        .into_iter()
        .flatten()
        .filter_map(|e| e["node"]["id"].as_str())
        .collect();
    two.sort_unstable();
    assert_eq!(two, ["T-3", "T-4"], "{second}");
    assert_eq!(second["data"]["tickets"]["totalCount"], 3, "open tickets now");
}
