//! Idempotent retries: a mutation retried with its key appends nothing
//! and returns the first result.

use serde_json::json;

use crate::support::tickets::{register_project, repair_input, start, step, AGENT, AUDITOR, COMMENT, MANAGER, RECEIVE};
use crate::support::{int, ok};

/// A retried mutation with the same idempotency key appends nothing.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn retries_with_one_idempotency_key_return_the_first_result() {
    let s = start().await;
    let a = s.addr;
    register_project(a, "P-IDEM").await;

    // A report whose number comes from the key.
    let mut input = repair_input("unused", "P-IDEM");
    if let Some(o) = input.as_object_mut() {
        o.remove("ticketId");
    }
    input["idempotencyKey"] = json!("call-2026-0001");
    let first = ok(a, AGENT, RECEIVE, json!({ "input": input.clone() })).await;
    let head = s.head();
    let again = ok(a, AGENT, RECEIVE, json!({ "input": input })).await;
    assert_eq!(again, first, "the same ticket and position");
    assert_eq!(s.head(), head);
    let id = first["receiveTicket"]["ticket"]["id"]
        .as_str()
        .unwrap_or_default()
        .to_string();
    assert!(id.starts_with("T-"), "{first}");

    // A remark retried, also after the ticket moved on and with a version
    // that has gone stale meanwhile: still the first result, no conflict.
    let comment = json!({ "input": { "ticketId": id, "text": "业主要求上午上门", "expectedVersion": 0, "idempotencyKey": "remark-1" } });
    let first = ok(a, AGENT, COMMENT, comment.clone()).await;
    assert_eq!(first["commentTicket"]["ticket"]["version"], 1);
    let position = int(&first["commentTicket"]["position"]);
    assert_eq!(s.head(), Some(position));
    let again = ok(a, AGENT, COMMENT, comment.clone()).await;
    assert_eq!(int(&again["commentTicket"]["position"]), position);
    assert_eq!(again["commentTicket"]["ticket"]["version"], 1);
    assert_eq!(s.head(), Some(position), "the retry appended nothing");
    step(
        a,
        AGENT,
        "acknowledgeTicket",
        "AcknowledgeTicketInput",
        json!({ "ticketId": id, "expectedVersion": 1, "idempotencyKey": "ack-1" }),
        "ACKNOWLEDGED",
        2,
    )
    .await;
    let head = s.head();
    let late = ok(a, AGENT, COMMENT, comment).await;
    assert_eq!(int(&late["commentTicket"]["position"]), position, "{late}");
    assert_eq!(s.head(), head, "the late retry appended nothing");
    let r = ok(
        a,
        AUDITOR,
        "query($id: String!) { ticketHistory(id: $id) { events { type } } }",
        json!({ "id": id }),
    )
    .await;
    assert_eq!(
        r["ticketHistory"]["events"],
        json!([{ "type": "Received" }, { "type": "Commented" }, { "type": "Acknowledged" }])
    );
    // A different key is a different remark.
    let other = ok(
        a,
        AGENT,
        COMMENT,
        json!({ "input": { "ticketId": id, "text": "业主要求上午上门", "idempotencyKey": "remark-2" } }),
    )
    .await;
    assert_eq!(Some(int(&other["commentTicket"]["position"])), head.map(|h| h + 1));

    // An incident opened twice with one key.
    let open = "mutation { openIncident(input: { projectId: \"P-IDEM\", title: \"停电\", level: PROJECT, description: \"3号楼停电\", idempotencyKey: \"inc-key-1\" }) { position incident { id title } } }";
    let first = ok(a, MANAGER, open, json!({})).await;
    let head = s.head();
    let again = ok(a, MANAGER, open, json!({})).await;
    assert_eq!(again, first);
    assert_eq!(s.head(), head);
}
