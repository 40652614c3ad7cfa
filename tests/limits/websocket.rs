//! Subscriptions refused over WebSocket carry their codes.

use serde_json::json;

use crate::support::start_with_fixtures;

#[tokio::test]
async fn subscriptions_refused_over_websocket_carry_codes() {
    use crate::subscriptions::{connect, receive, send};
    let s = start_with_fixtures().await;
    let before = s.service.head();
    let mut socket = connect(s.addr).await;
    let bomb = {
        let mut q = String::from("subscription { ...F0 } fragment F30 on Subscription { ticketEvents { position } }");
        for i in 0..30 {
            q.push_str(&format!(
                " fragment F{i} on Subscription {{ ...F{n} ...F{n} }}",
                n = i + 1
            ));
        }
        q
    };
    let cases = [
        ("subscription { ticketEvents(", json!({}), "GRAPHQL_PARSE_FAILED"),
        ("subscription { nope }", json!({}), "GRAPHQL_VALIDATION_FAILED"),
        (
            "subscription($p: String) { slaAlerts(projectId: $p) { ticketId } }",
            json!({ "p": 7 }),
            "BAD_INPUT",
        ),
        (bomb.as_str(), json!({}), "QUERY_TOO_COSTLY"),
    ];
    for (i, (query, variables, expected)) in cases.into_iter().enumerate() {
        let id = format!("s{i}");
        send(
            &mut socket,
            json!({ "id": id, "type": "subscribe", "payload": { "query": query, "variables": variables } }),
        )
        .await;
        let message = receive(&mut socket).await;
        assert_eq!(message["id"], id.as_str(), "{message}");
        assert_eq!(
            message["payload"]["errors"][0]["extensions"]["code"], expected,
            "{query}: {message}"
        );
        let done = receive(&mut socket).await;
        assert_eq!(done["type"], "complete", "{done}");
    }
    assert_eq!(s.service.head(), before);
}
