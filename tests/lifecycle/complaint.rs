//! A complaint escalated into an incident, and a repair linked to it.

use serde_json::json;

use crate::support::tickets::{
    receive, refused, register_project, repair_input, service_input, start, step, AGENT, AUDITOR, ENGINEER, MANAGER,
};
use crate::support::{int, message, ok, Server};

/// The complaint.
const COMPLAINT: &str = "T-CMP-1";

/// The complaint T-CMP-1 escalated to city level into incident INC-1,
/// opened by a manager on project P-INC: each step checked as it is taken.
async fn escalated_complaint() -> Server {
    let s = start().await;
    let a = s.addr;
    register_project(a, "P-INC").await;
    let r = ok(
        a,
        MANAGER,
        "mutation { openIncident(input: { incidentId: \"INC-1\", projectId: \"P-INC\", title: \"地库集体渗水\", level: CITY, description: \"多户反映地库渗水\" }) { position incident { id projectId title level ticketIds updates closedAt } } }",
        json!({}),
    )
    .await;
    assert_eq!(
        r["openIncident"]["incident"],
        json!({ "id": "INC-1", "projectId": "P-INC", "title": "地库集体渗水", "level": "CITY", "ticketIds": [], "updates": 0, "closedAt": null })
    );
    // Engineers do not handle incidents.
    refused(
        a,
        ENGINEER,
        "mutation { openIncident(input: { incidentId: \"INC-2\", projectId: \"P-INC\", title: \"t\", level: CITY, description: \"d\" }) { position } }",
        json!({}),
        "FORBIDDEN",
    )
    .await;

    let complaint = COMPLAINT;
    let mut input = service_input(complaint, "P-INC", "COMPLAINT");
    input["description"] = json!("物业对地库渗水长期不处理");
    step(a, AGENT, "receiveTicket", "ReceiveTicketInput", input, "RECEIVED", 0).await;
    step(
        a,
        AGENT,
        "acknowledgeTicket",
        "AcknowledgeTicketInput",
        json!({ "ticketId": complaint, "note": "已致电" }),
        "ACKNOWLEDGED",
        1,
    )
    .await;
    step(
        a,
        MANAGER,
        "investigateComplaint",
        "InvestigateComplaintInput",
        json!({ "ticketId": complaint, "findings": "顶板防水失效，涉及多户" }),
        "INVESTIGATING",
        2,
    )
    .await;

    // An unknown incident is refused before anything is written.
    let escalate = "mutation($input: EscalateComplaintInput!) { escalateComplaint(input: $input) { position ticket { status version escalation incidentId } } }";
    let head = s.head();
    let unknown = refused(
        a,
        MANAGER,
        escalate,
        json!({ "input": { "ticketId": complaint, "level": "CITY", "incidentId": "INC-404", "reason": "影响多户" } }),
        "NOT_FOUND",
    )
    .await;
    assert!(message(&unknown).contains("INC-404"), "{unknown}");
    assert_eq!(s.head(), head, "nothing appended for an unknown incident");

    let r = ok(
        a,
        MANAGER,
        escalate,
        json!({ "input": { "ticketId": complaint, "level": "CITY", "incidentId": "INC-1", "reason": "影响多户", "expectedVersion": 2 } }),
    )
    .await;
    assert_eq!(
        r["escalateComplaint"]["ticket"],
        json!({ "status": "INVESTIGATING", "version": 3, "escalation": "CITY", "incidentId": "INC-1" })
    );
    // The ticket event, then the incident's link.
    let escalated_at = int(&r["escalateComplaint"]["position"]);
    assert_eq!(s.head(), Some(escalated_at + 1), "{r}");
    s
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_complaint_is_escalated_into_an_incident() {
    let s = escalated_complaint().await;
    let a = s.addr;
    let complaint = COMPLAINT;
    let incident = "query { incident(id: \"INC-1\") { ticketIds } }";
    let r = ok(a, AGENT, incident, json!({})).await;
    assert_eq!(r["incident"]["ticketIds"], json!([complaint]));
    let r = ok(
        a,
        AUDITOR,
        "query($id: String!) { ticket(id: $id) { escalation incidentId status } ticketHistory(id: $id) { events { type summary } } }",
        json!({ "id": complaint }),
    )
    .await;
    assert_eq!(
        r["ticket"],
        json!({ "escalation": "CITY", "incidentId": "INC-1", "status": "INVESTIGATING" })
    );
    assert_eq!(
        r["ticketHistory"]["events"][3],
        json!({ "type": "Escalated", "summary": "escalated to city level, incident INC-1" })
    );
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_repair_with_the_same_cause_joins_the_incident_until_it_closes() {
    let s = escalated_complaint().await;
    let a = s.addr;
    let complaint = COMPLAINT;
    let incident = "query { incident(id: \"INC-1\") { ticketIds } }";
    // A repair with the same cause joins the incident.
    let repair = "T-REP-1";
    receive(a, repair_input(repair, "P-INC")).await;
    let link = "mutation($input: LinkTicketToIncidentInput!) { linkTicketToIncident(input: $input) { position ticket { status version incidentId } } }";
    let head = s.head();
    let unknown = refused(
        a,
        AGENT,
        link,
        json!({ "input": { "ticketId": repair, "incidentId": "INC-404" } }),
        "NOT_FOUND",
    )
    .await;
    assert!(message(&unknown).contains("INC-404"), "{unknown}");
    assert_eq!(s.head(), head, "nothing appended for an unknown incident");
    let r = ok(
        a,
        AGENT,
        link,
        json!({ "input": { "ticketId": repair, "incidentId": "INC-1", "expectedVersion": 0 } }),
    )
    .await;
    assert_eq!(
        r["linkTicketToIncident"]["ticket"],
        json!({ "status": "RECEIVED", "version": 1, "incidentId": "INC-1" })
    );
    assert_eq!(s.head(), Some(int(&r["linkTicketToIncident"]["position"]) + 1));
    let r = ok(a, AGENT, incident, json!({})).await;
    assert_eq!(r["incident"]["ticketIds"], json!([complaint, repair]));
    // Linking it again is refused by name.
    let again = refused(
        a,
        AGENT,
        link,
        json!({ "input": { "ticketId": repair, "incidentId": "INC-1" } }),
        "INVALID_TRANSITION",
    )
    .await;
    assert!(message(&again).contains("already part of incident INC-1"), "{again}");

    // Status updates keep the links.
    let r = ok(
        a,
        MANAGER,
        "mutation { updateIncident(input: { incidentId: \"INC-1\", note: \"已安排统一维修\" }) { incident { updates ticketIds } } }",
        json!({}),
    )
    .await;
    assert_eq!(
        r["updateIncident"]["incident"],
        json!({ "updates": 1, "ticketIds": [complaint, repair] })
    );
    // Its texts are readable on the record: the description, each update
    // and, once closed, the summary.
    ok(
        a,
        MANAGER,
        "mutation { closeIncident(input: { incidentId: \"INC-1\", summary: \"顶板重做防水，增加月度巡检\" }) { position } }",
        json!({}),
    )
    .await;
    let r = ok(
        a,
        AGENT,
        "{ incident(id: \"INC-1\") { description statusUpdates { note } closingSummary } }",
        json!({}),
    )
    .await;
    assert_eq!(
        r["incident"],
        json!({
            "description": "多户反映地库渗水",
            "statusUpdates": [{ "note": "已安排统一维修" }],
            "closingSummary": "顶板重做防水，增加月度巡检"
        })
    );
}
