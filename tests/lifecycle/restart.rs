//! A restart keeps every ticket, history and view.

use std::net::SocketAddr;

use serde_json::{json, Value};

use crate::support::tickets::{
    receive, register_project, repair_input, service_input, start_at, step, ACKNOWLEDGE, AGENT, AUDITOR, MANAGER,
};
use crate::support::{gql_text, instant, int, ok, serve_at, settle, stop};

/// One ticket is back-entered as withdrawn on 2026-09-30: the clock of
/// both runs reads a day in the weeks after.
const NOW: &str = "2026-10-19T10:00:00+08:00";

/// Tickets of project P-RS in different states: received, dispatched,
/// under investigation, answered and closed, withdrawn.
async fn tickets_in_every_state(a: SocketAddr) {
    register_project(a, "P-RS").await;
    // Tickets in different states.
    receive(a, repair_input("T-RS-1", "P-RS")).await;
    let mut urgent = repair_input("T-RS-2", "P-RS");
    urgent["priority"] = json!("URGENT");
    receive(a, urgent).await;
    step(
        a,
        AGENT,
        "acknowledgeTicket",
        "AcknowledgeTicketInput",
        json!({ "ticketId": "T-RS-2" }),
        "ACKNOWLEDGED",
        1,
    )
    .await;
    step(
        a,
        MANAGER,
        "dispatchTicket",
        "DispatchTicketInput",
        json!({ "ticketId": "T-RS-2", "engineerId": "eng-3" }),
        "DISPATCHED",
        2,
    )
    .await;
    receive(a, service_input("T-RS-3", "P-RS", "COMPLAINT")).await;
    step(
        a,
        AGENT,
        "acknowledgeTicket",
        "AcknowledgeTicketInput",
        json!({ "ticketId": "T-RS-3" }),
        "ACKNOWLEDGED",
        1,
    )
    .await;
    step(
        a,
        AGENT,
        "investigateComplaint",
        "InvestigateComplaintInput",
        json!({ "ticketId": "T-RS-3", "findings": "属实" }),
        "INVESTIGATING",
        2,
    )
    .await;
    receive(a, service_input("T-RS-4", "P-RS", "INQUIRY")).await;
    step(
        a,
        AGENT,
        "answerInquiry",
        "AnswerInquiryInput",
        json!({ "ticketId": "T-RS-4", "answer": "产权证预计下月办理", "onTheSpot": true }),
        "ANSWERED",
        1,
    )
    .await;
    step(
        a,
        AGENT,
        "closeTicket",
        "NoteInput",
        json!({ "ticketId": "T-RS-4" }),
        "CLOSED",
        2,
    )
    .await;
    let mut withdrawn = repair_input("T-RS-5", "P-RS");
    withdrawn["occurredAt"] = json!("2026-09-30T17:00:00+08:00");
    receive(a, withdrawn).await;
    step(
        a,
        AGENT,
        "withdrawTicket",
        "ReasonInput",
        json!({ "ticketId": "T-RS-5", "reason": "业主自行处理" }),
        "WITHDRAWN",
        1,
    )
    .await;
}

/// Queries whose answers do not depend on the time of asking: listings,
/// reports, and each ticket with its history.
fn queries() -> Vec<(String, Value)> {
    let ticket_fields = "id kind status priority channel category trade description projectId buildingId unitId place ownerId
        reporterName reporterPhone assignee { engineerId contractorId } dispatchCount planConfirmed reopenCount rejectionCount
        escalation incidentId mergedInto acceptanceRating revisitCount lastRevisit receivedAt acknowledgedAt promisedAt
        firstArrivedAt repairedAt acceptedAt closedAt lastEventAt updatedAt version position
        clocks { clock target startedAt dueAt stoppedAt breachedAt pausedMinutes paused provisional }";
    let mut queries: Vec<(String, Value)> = vec![
        (
            format!("query {{ tickets(filter: {{ projectId: \"P-RS\" }}) {{ edges {{ cursor node {{ {ticket_fields} }} }} pageInfo {{ hasNextPage endCursor }} }} }}"),
            json!({}),
        ),
        (
            "query { tickets(first: 2) { edges { cursor node { id } } pageInfo { hasNextPage endCursor } } }".to_string(),
            json!({}),
        ),
        (
            "query { all: slaReport { key firstResponse { met breached cancelled complianceRate meanMinutes p90Minutes } onSite { met breached cancelled } resolution { met breached cancelled } }
                     byPriority: slaReport(groupBy: PRIORITY) { key firstResponse { met breached cancelled } resolution { met breached cancelled } } }"
                .to_string(),
            json!({}),
        ),
        (
            "query { satisfactionReport { ratings { key count overall } service { closedRepairs complaints accepted } } defectStats { key count } project(id: \"P-RS\") { id name buildings { id } } }"
                .to_string(),
            json!({}),
        ),
    ];
    for id in ["T-RS-1", "T-RS-2", "T-RS-3", "T-RS-4", "T-RS-5"] {
        queries.push((
            format!("query($id: String!) {{ ticket(id: $id) {{ {ticket_fields} }} }}"),
            json!({ "id": id }),
        ));
        queries.push((
            "query($id: String!) { ticketHistory(id: $id) { ticketId events { position version type occurredAt recordedAt actor role contractorId channel summary included } state { id status version position updatedAt } } }"
                .to_string(),
            json!({ "id": id }),
        ));
    }
    queries
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_restart_keeps_every_ticket_and_view() {
    let s = start_at(instant(NOW)).await;
    let dir = s.dir;
    let run = s.run;
    let a = run.addr;
    tickets_in_every_state(a).await;
    settle(&run).await;
    let queries = queries();
    let mut before = Vec::new();
    for (q, v) in &queries {
        let text = gql_text(a, AUDITOR, q, v.clone()).await;
        assert!(!text.contains("\"errors\""), "{q}: {text}");
        before.push(text);
    }
    // The listing holds all five, newest first.
    let listing: Value = serde_json::from_str(&before[0]).unwrap_or_default();
    let ids: Vec<&str> = listing["data"]["tickets"]["edges"]
        .as_array()
        .map(|es| es.iter().filter_map(|e| e["node"]["id"].as_str()).collect())
        .unwrap_or_default();
    assert_eq!(ids.len(), 5, "{listing}");
    let head = run.service.head();

    stop(run).await;
    // Restarted an hour later by its clock.
    let run = serve_at(dir.path(), instant(NOW) + chrono::TimeDelta::hours(1)).await;
    let a = run.addr;
    settle(&run).await;
    assert_eq!(run.service.head(), head, "the log is as it was");
    for ((q, v), was) in queries.iter().zip(&before) {
        let now = gql_text(a, AUDITOR, q, v.clone()).await;
        assert_eq!(&now, was, "after the restart: {q}");
    }
    // And it goes on where it stopped.
    let r = ok(
        a,
        AGENT,
        ACKNOWLEDGE,
        json!({ "input": { "ticketId": "T-RS-1", "expectedVersion": 0 } }),
    )
    .await;
    assert_eq!(r["acknowledgeTicket"]["ticket"]["version"], 1);
    assert_eq!(Some(int(&r["acknowledgeTicket"]["position"])), head.map(|h| h + 1));
    stop(run).await;
    drop(dir);
}
