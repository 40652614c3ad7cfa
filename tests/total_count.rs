//! `tickets { totalCount }`: how many tickets match the filter within the
//! caller's scope, over every page, counted only when asked for and
//! charged once in the query cost.

use serde_json::{json, Value};

use crate::support::start;

const AGENT: &str = "x-user-id: a-1\r\nx-user-role: agent\r\n";
const MANAGER_P1: &str = "x-user-id: m-1\r\nx-user-role: manager\r\nx-projects: P1\r\n";
const CONTRACTOR_C1: &str = "x-user-id: w-1\r\nx-user-role: contractor\r\nx-contractor-id: C-1\r\n";

async fn gql(addr: std::net::SocketAddr, headers: &str, query: &str, variables: Value) -> Value {
    let answer = crate::support::gql(addr, headers, query, variables).await;
    assert!(answer.get("errors").is_none(), "{query}: {answer}");
    answer
}

const RECEIVE: &str = r#"mutation($id: String!, $project: String!, $building: String!, $unit: String!) {
  receiveTicket(input: {
    ticketId: $id, kind: REPAIR, channel: HOTLINE, priority: NORMAL, category: ENGINEERING, trade: LEAK,
    description: "渗水", reporter: { familyName: "王", givenName: "小明", phone: "13812345678" },
    location: { projectId: $project, buildingId: $building, unitId: $unit } }) { position } }"#;

const PAGE: &str = r#"query($filter: TicketFilterInput, $after: String) {
  tickets(filter: $filter, first: 2, after: $after) {
    totalCount edges { node { id } } pageInfo { hasNextPage endCursor } } }"#;

/// Pages through `filter` two at a time as `who`: the ids listed and the
/// `totalCount` of every page.
async fn page_through(addr: std::net::SocketAddr, who: &str, filter: Value) -> (Vec<String>, Vec<u64>) {
    let (mut ids, mut counts) = (Vec::new(), Vec::new());
    let mut after = Value::Null;
    loop {
        let answer = gql(addr, who, PAGE, json!({ "filter": filter, "after": after })).await;
        let page = &answer["data"]["tickets"];
        counts.push(page["totalCount"].as_u64().unwrap_or_else(|| panic!("{answer}")));
        for edge in page["edges"].as_array().cloned().unwrap_or_default() {
            ids.push(edge["node"]["id"].as_str().unwrap_or_default().to_string());
        }
        if page["pageInfo"]["hasNextPage"] != json!(true) {
            return (ids, counts);
        }
        after = page["pageInfo"]["endCursor"].clone();
    }
}

#[tokio::test]
async fn total_count_is_every_matching_ticket_in_the_callers_scope_on_every_page() {
    let s = start().await;
    crate::support::seed_units(&s.service, &["P1-1-101", "P2-1-101"]).await;
    crate::support::seed_directory(&s.service, &["C-1", "C-2"], &[]).await;
    // T-1 … T-5 in P1, T-6 and T-7 in P2; C-1 has T-1, T-3 and T-6, C-2 has T-2.
    for n in 1..=7 {
        let project = if n <= 5 { "P1" } else { "P2" };
        let vars = json!({
            "id": format!("T-{n}"),
            "project": project,
            "building": format!("{project}-1"),
            "unit": format!("{project}-1-101"),
        });
        gql(s.addr, AGENT, RECEIVE, vars).await;
    }
    for (ticket, contractor) in [("T-1", "C-1"), ("T-3", "C-1"), ("T-6", "C-1"), ("T-2", "C-2")] {
        let q = format!(r#"mutation {{ a: acknowledgeTicket(input: {{ ticketId: "{ticket}" }}) {{ position }} }}"#);
        gql(s.addr, AGENT, &q, json!({})).await;
        let q = format!(
            r#"mutation {{ d: dispatchTicket(input: {{ ticketId: "{ticket}", contractorId: "{contractor}" }}) {{ position }} }}"#
        );
        gql(s.addr, AGENT, &q, json!({})).await;
    }

    let cases = [
        (AGENT, json!({}), 7),
        (AGENT, json!({ "projectId": "P1" }), 5),
        // More than one index says: the records are matched.
        (
            AGENT,
            json!({ "projectId": "P1", "status": "DISPATCHED", "kind": "REPAIR" }),
            3,
        ),
        (AGENT, json!({ "projectId": "P2", "status": "RECEIVED" }), 1),
        (AGENT, json!({ "projectId": "P1", "kind": "COMPLAINT" }), 0),
        // A scoped manager: their project only.
        (MANAGER_P1, json!({}), 5),
        (MANAGER_P1, json!({ "status": "DISPATCHED" }), 3),
        // A contractor: its own tickets only.
        (CONTRACTOR_C1, json!({}), 3),
        (CONTRACTOR_C1, json!({ "projectId": "P1" }), 2),
    ];
    for (who, filter, expected) in cases {
        let (ids, counts) = page_through(s.addr, who, filter.clone()).await;
        assert_eq!(ids.len() as u64, expected, "{filter}: {ids:?}");
        assert!(
            counts.iter().all(|c| *c == expected),
            "{filter}: totalCount {counts:?} on the pages of {ids:?}"
        );
    }
}

/// The estimated cost of `query` (a schema whose limit is 1 point refuses
/// every document, naming its cost).
async fn cost_of(schema: &api::schema::AppSchema, query: &str) -> u64 {
    let answer = serde_json::to_value(schema.execute(query).await).unwrap_or_else(|e| panic!("{e}"));
    answer["errors"][0]["extensions"]["cost"]
        .as_u64()
        .unwrap_or_else(|| panic!("{query}: no cost in {answer}"))
}

#[tokio::test]
async fn total_count_costs_one_count_whatever_the_page_size() {
    let s = start().await;
    let limits = api::cost::DocumentLimits {
        max_cost: 1,
        ..Default::default()
    };
    let schema = api::schema::build_limited(s.service.clone(), true, limits);
    let cases = [
        ("", api::cost::TOTAL_COUNT_INDEXED),
        (
            r#"filter: { projectId: "P1", status: RECEIVED }, "#,
            api::cost::TOTAL_COUNT_INDEXED,
        ),
        (r#"filter: { contractorId: "C-1" }, "#, api::cost::TOTAL_COUNT_INDEXED),
        // Records are read: the index does not say all the filter asks.
        (
            r#"filter: { projectId: "P1", kind: REPAIR }, "#,
            api::cost::TOTAL_COUNT_MATCHED,
        ),
    ];
    for (filter, count) in cases {
        for first in [1, 50, 500] {
            let page = format!("tickets({filter}first: {first})");
            let without = cost_of(&schema, &format!("{{ {page} {{ edges {{ cursor }} }} }}")).await;
            let with = cost_of(&schema, &format!("{{ {page} {{ totalCount edges {{ cursor }} }} }}")).await;
            assert_eq!(with - without, count as u64, "{page}");
        }
    }
    let twice = cost_of(&schema, "{ tickets { a: totalCount b: totalCount } }").await;
    let once = cost_of(&schema, "{ tickets { a: totalCount } }").await;
    assert_eq!(twice - once, api::cost::TOTAL_COUNT_INDEXED as u64);
}
