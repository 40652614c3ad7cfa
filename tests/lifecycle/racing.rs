//! Racing writers: two changes on one version, and a retry racing its
//! first attempt.

use serde_json::{json, Value};

use crate::support::tickets::{receive, repair_input, start, ACKNOWLEDGE, AGENT, AUDITOR, COMMENT, MANAGER};
use crate::support::{code, gql, int, ok};

/// Two writers on one version: one wins, the other is told.
#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn two_changes_racing_on_one_version_exactly_one_wins() {
    let s = start().await;
    let a = s.addr;
    let id = "T-RACE";
    receive(a, repair_input(id, "P-RACE")).await;
    let mut version = 0u64;
    for round in 0..8 {
        let head = s.head().unwrap_or_else(|| panic!("empty log"));
        let first = if round == 0 {
            (
                ACKNOWLEDGE,
                json!({ "input": { "ticketId": id, "note": "回电", "expectedVersion": version } }),
            )
        } else {
            (
                COMMENT,
                json!({ "input": { "ticketId": id, "text": format!("A{round}"), "expectedVersion": version } }),
            )
        };
        let second = json!({ "input": { "ticketId": id, "text": format!("B{round}"), "expectedVersion": version } });
        let (x, y) = tokio::join!(gql(a, AGENT, first.0, first.1), gql(a, MANAGER, COMMENT, second));
        let outcomes = [&x, &y];
        let winners: Vec<&&Value> = outcomes.iter().filter(|r| r.get("errors").is_none()).collect();
        let losers: Vec<&&Value> = outcomes.iter().filter(|r| r.get("errors").is_some()).collect();
        assert_eq!(winners.len(), 1, "round {round}: {x} / {y}");
        assert_eq!(losers.len(), 1, "round {round}: {x} / {y}");
        assert_eq!(code(losers[0]), "CONFLICT", "round {round}: {}", losers[0]);
        assert!(losers[0]["data"].is_null());
        let payload = winners[0]["data"]
            .as_object()
            .and_then(|o| o.values().next())
            .cloned()
            .unwrap_or_default();
        assert_eq!(payload["ticket"]["version"], version + 1, "round {round}");
        assert_eq!(int(&payload["position"]), head + 1, "round {round}");
        assert_eq!(s.head(), Some(head + 1), "round {round}: one event appended");
        version += 1;
        let r = ok(
            a,
            AGENT,
            "query($id: String!) { ticket(id: $id) { version } }",
            json!({ "id": id }),
        )
        .await;
        assert_eq!(r["ticket"]["version"], version);
    }
    let r = ok(
        a,
        AUDITOR,
        "query($id: String!) { ticketHistory(id: $id) { events { version } } }",
        json!({ "id": id }),
    )
    .await;
    assert_eq!(
        r["ticketHistory"]["events"].as_array().map(Vec::len),
        Some(9),
        "the receipt and one change per round: {r}"
    );
}

/// The same request sent twice at once (a client retrying while its
/// first attempt is still in flight) appends once; neither answer may be
/// an internal error.
#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn a_retry_racing_its_first_attempt_appends_once() {
    let s = start().await;
    let a = s.addr;
    let id = "T-INFLIGHT";
    receive(a, repair_input(id, "P-IDEM")).await;
    for round in 0..10 {
        let head = s.head().unwrap_or_else(|| panic!("empty log"));
        let input = json!({ "input": { "ticketId": id, "text": format!("remark {round}"), "idempotencyKey": format!("inflight-{round}") } });
        let (x, y) = tokio::join!(gql(a, AGENT, COMMENT, input.clone()), gql(a, AGENT, COMMENT, input));
        assert_eq!(s.head(), Some(head + 1), "round {round}: one event appended; {x} / {y}");
        for r in [&x, &y] {
            if r.get("errors").is_some() {
                assert_eq!(code(r), "CONFLICT", "round {round}: {r}");
            } else {
                assert_eq!(
                    int(&r["data"]["commentTicket"]["position"]),
                    head + 1,
                    "round {round}: {r}"
                );
            }
        }
    }
}
