//! Read-your-writes across every view: the answer to a mutation, and a
//! query sent right after it, reflect the write in every field they
//! return (a ticket's clocks come from the SLA view, not the tickets
//! view), every time.

use serde_json::{json, Value};

use crate::support::{gql, serve_service, start_with_fixtures, Server, AGENT_7};

/// The fixtures' server, and another router over the same service without
/// a rate limit (this test sends hundreds of requests a second, as a
/// gateway-fed deployment may).
async fn unlimited() -> (Server, std::net::SocketAddr) {
    let s = start_with_fixtures().await;
    let mut options = api::server::ServerOptions::new(api::server::Identity::TrustedHeaders);
    options.rate = None;
    let addr = serve_service(s.service.clone(), options).await.addr;
    (s, addr)
}

const SELECTION: &str = "id status version clocks { clock status dueAt stoppedAt }";

fn data(r: &Value) -> &Value {
    assert!(r.get("errors").is_none(), "unexpected errors: {r}");
    &r["data"]
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn every_answer_to_a_write_and_every_read_after_it_agree() {
    let (_server, addr) = unlimited().await;
    let receive = format!(
        "mutation($key: String) {{ receiveTicket(input: {{
            kind: REPAIR, channel: HOTLINE, priority: URGENT, category: ENGINEERING, trade: LEAK,
            description: \"卫生间天花板渗水\",
            reporter: {{ ownerId: \"O-1\", familyName: \"王\", givenName: \"小明\", phone: \"13812345678\" }},
            location: {{ projectId: \"HZ-1\", buildingId: \"HZ-1-3\", unitId: \"HZ-1-3-1502\" }},
            idempotencyKey: $key }}) {{ ticket {{ {SELECTION} }} }} }}"
    );
    let acknowledge = format!(
        "mutation($id: String!) {{ acknowledgeTicket(input: {{ ticketId: $id }}) {{ ticket {{ {SELECTION} }} }} }}"
    );
    let read = format!("query($id: String!) {{ ticket(id: $id) {{ {SELECTION} }} }}");
    for n in 0..120 {
        let r = gql(addr, AGENT_7, &receive, json!({ "key": format!("rw-{n}") })).await;
        let answered = data(&r)["receiveTicket"]["ticket"].clone();
        assert!(
            answered["clocks"].as_array().is_some_and(|c| !c.is_empty()),
            "the answer carries the new ticket's clocks: {answered}"
        );
        let id = answered["id"].as_str().unwrap_or_default().to_string();
        let r = gql(addr, AGENT_7, &read, json!({ "id": id })).await;
        assert_eq!(data(&r)["ticket"], answered, "a read right after receiveTicket");

        let r = gql(addr, AGENT_7, &acknowledge, json!({ "id": id })).await;
        let answered = data(&r)["acknowledgeTicket"]["ticket"].clone();
        let first = answered["clocks"]
            .as_array()
            .and_then(|c| c.iter().find(|c| c["clock"] == "FIRST_RESPONSE").cloned())
            .unwrap_or_else(|| panic!("{answered}"));
        assert_eq!(first["status"], "MET", "the acknowledgement met its clock: {answered}");
        assert!(first["stoppedAt"].is_string(), "{answered}");
        let r = gql(addr, AGENT_7, &read, json!({ "id": id })).await;
        assert_eq!(data(&r)["ticket"], answered, "a read right after acknowledgeTicket");
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn pages_carry_the_whole_relay_page_info() {
    let (_server, addr) = unlimited().await;
    for n in 0..3 {
        let r = gql(
            addr,
            AGENT_7,
            crate::graphql::RECEIVE,
            json!({ "key": format!("page-{n}") }),
        )
        .await;
        data(&r);
    }
    let page = "query($after: String) { tickets(first: 2, after: $after) { edges { cursor } pageInfo { hasNextPage hasPreviousPage startCursor endCursor } } }";
    let r = gql(addr, AGENT_7, page, json!({ "after": null })).await;
    let first = data(&r)["tickets"].clone();
    assert_eq!(first["pageInfo"]["hasNextPage"], true, "{first}");
    assert_eq!(first["pageInfo"]["hasPreviousPage"], false, "{first}");
    assert_eq!(first["pageInfo"]["startCursor"], first["edges"][0]["cursor"], "{first}");
    assert_eq!(first["pageInfo"]["endCursor"], first["edges"][1]["cursor"], "{first}");
    let r = gql(addr, AGENT_7, page, json!({ "after": first["pageInfo"]["endCursor"] })).await;
    let second = data(&r)["tickets"].clone();
    assert_eq!(second["edges"].as_array().map(Vec::len), Some(1), "{second}");
    assert_eq!(second["pageInfo"]["hasNextPage"], false, "{second}");
    assert_eq!(second["pageInfo"]["hasPreviousPage"], true, "{second}");
    assert_eq!(
        second["pageInfo"]["startCursor"], second["edges"][0]["cursor"],
        "{second}"
    );
}
