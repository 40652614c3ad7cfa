//! The cost limit: a document that asks too much is refused before it
//! runs.

use serde_json::json;

use crate::support::code;

use super::*;

#[tokio::test]
async fn alias_abuse_is_refused_before_it_runs() {
    let setup = Setup::new(Some(300)).await;
    let addr = setup.serve(options()).await;
    let head = setup.service.head();
    let abuses = [
        format!("{{ {} }}", aliases(200, "slaAlerts { ticketId clock { status } }")),
        format!("{{ {} }}", aliases(5, "slaAlerts { ticketId }")),
        format!(
            "{{ {} }}",
            aliases(100, "tickets(first: 500) { edges { node { id status } } }")
        ),
        format!(
            "mutation {{ {} }}",
            aliases(
                300,
                "commentTicket(input: { ticketId: \"T-20260301-0001\", text: \"x\" }) { position }"
            )
        ),
    ];
    for query in &abuses {
        let answer = post(addr, GRAPHQL_RESPONSE_JSON, query, json!({})).await;
        let v = parsed(&answer);
        let shown = &query[..60];
        assert_eq!(answer.status, 400, "{shown}: {v}");
        assert_eq!(code(&v), "QUERY_TOO_COSTLY", "{shown}: {v}");
        let ext = &v["errors"][0]["extensions"];
        let cost = ext["cost"].as_u64().unwrap_or(0);
        assert_eq!(ext["limit"].as_u64(), Some(api::cost::MAX_COST as u64), "{v}");
        assert!(cost > api::cost::MAX_COST as u64, "{v}");
        let message = v["errors"][0]["message"].as_str().unwrap_or_default();
        assert!(
            message.contains(&cost.to_string()) && message.contains(&api::cost::MAX_COST.to_string()),
            "the message names the cost and the limit: {message}"
        );
        assert!(v["data"].is_null(), "nothing ran: {v}");
    }
    assert_eq!(setup.service.head(), head, "the refused mutations appended nothing");

    // What a dashboard asks runs.
    for query in [
        heavy(),
        "{ slaAlerts { ticketId clock { status } }
           p1: weeklyRepairReport(projectId: \"P01\", week: \"2026-W10\") { received open breachedNow atRiskNow }
           p2: weeklyRepairReport(projectId: \"P02\", week: \"2026-W10\") { received open breachedNow atRiskNow }
           slaReport(groupBy: PROJECT) { key resolution { complianceRate } }
           satisfactionReport(groupBy: PROJECT) { ratings { key overall } } }"
            .to_string(),
    ] {
        let answer = post(addr, GRAPHQL_RESPONSE_JSON, &query, json!({})).await;
        let v = parsed(&answer);
        assert_eq!(answer.status, 200, "{v}");
        assert!(v.get("errors").is_none(), "{v}");
    }
}
