//! `/metrics`: requests by operation and outcome, latencies, appends, the
//! log's group commits, views' lag and open tickets' clocks, scraped as a
//! Prometheus server would; and a request id on every answer.

use serde_json::json;

use crate::graphql::RECEIVE;
use crate::support::{gql, request, start_with_fixtures, AGENT_7};

/// The value of the sample `name{labels}` (labels exactly as printed).
fn sample(text: &str, series: &str) -> Option<f64> {
    text.lines()
        .find_map(|l| l.strip_prefix(series).and_then(|rest| rest.trim().parse().ok()))
}

#[tokio::test]
async fn metrics_are_scraped_in_the_prometheus_format() {
    let s = start_with_fixtures().await;
    // The archive the fixtures seeded was appended through the service:
    // the figures below count from here.
    let seeded = s.service.head().map_or(0.0, |h| h as f64 + 1.0);
    // One ok mutation (an emergency reported two days ago: its clocks are
    // breached), one refused, one query that does not parse.
    let at = (s.service.now() - chrono::TimeDelta::days(2)).to_rfc3339();
    let query = RECEIVE
        .replace("priority: URGENT", "priority: EMERGENCY")
        .replace("idempotencyKey: $key", "idempotencyKey: $key, occurredAt: $at")
        .replace("mutation($key: String)", "mutation($key: String, $at: DateTime)");
    let r = gql(s.addr, AGENT_7, &query, json!({ "key": "m-1", "at": at })).await;
    assert!(r.get("errors").is_none(), "{r}");
    let r = gql(
        s.addr,
        AGENT_7,
        r#"mutation { acknowledgeTicket(input: { ticketId: "T-404" }) { position } }"#,
        json!({}),
    )
    .await;
    assert_eq!(r["errors"][0]["extensions"]["code"], "NOT_FOUND");
    assert!(
        r["errors"][0]["extensions"]["requestId"]
            .as_str()
            .is_some_and(|id| id.len() == 32),
        "every error carries the request id: {r}"
    );
    let (_, text) = request(
        s.addr,
        "POST",
        "/graphql",
        "x-user-role: agent\r\n",
        r#"{"query": "{ nope"}"#,
    )
    .await;
    assert!(text.contains("requestId"), "{text}");

    // The clock figures are read from the SLA view, which follows the log
    // asynchronously: scrape once every view has the ticket.
    application::jobs::wait_ready(&s.service, |_| {})
        .await
        .unwrap_or_else(|e| panic!("{}", e.message()));
    let (status, text) = request(s.addr, "GET", "/metrics", "", "").await;
    assert_eq!(status, 200);
    let count = |series: &str| sample(&text, series).unwrap_or_else(|| panic!("{series} missing in\n{text}"));
    assert_eq!(
        count(r#"aftersales_graphql_requests_total{operation="receiveTicket",outcome="ok"}"#),
        1.0
    );
    assert_eq!(
        count(r#"aftersales_graphql_requests_total{operation="acknowledgeTicket",outcome="NOT_FOUND"}"#),
        1.0
    );
    assert_eq!(
        count(r#"aftersales_graphql_requests_total{operation="invalid",outcome="GRAPHQL_PARSE_FAILED"}"#),
        1.0
    );
    assert_eq!(
        count(r#"aftersales_graphql_request_duration_seconds_count{operation="receiveTicket"}"#),
        1.0
    );
    assert_eq!(count("aftersales_append_duration_seconds_count"), seeded + 1.0);
    assert!(count("aftersales_log_groups") >= 1.0);
    assert_eq!(count("aftersales_log_events_written"), seeded + 1.0);
    assert_eq!(count("aftersales_log_head_position"), seeded);
    for view in ["tickets", "sla", "satisfaction", "contractors", "defects", "archive"] {
        let lag = count(&format!(r#"aftersales_view_lag_events{{view="{view}"}}"#));
        assert_eq!(lag, 0.0, "{view} lags {lag}");
    }
    assert_eq!(count(r#"aftersales_open_tickets_clocks{status="breached"}"#), 3.0);
    assert_eq!(count(r#"aftersales_open_tickets_clocks{status="at_risk"}"#), 0.0);
    // Nothing runs or waits between requests.
    assert_eq!(count("aftersales_graphql_running"), 0.0);
    assert_eq!(count("aftersales_graphql_queued"), 0.0);
    assert!(text.trim_end().ends_with("# EOF"), "OpenMetrics ends with # EOF");
}
