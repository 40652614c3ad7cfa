//! Requests that must be refused, and refused before anything is written:
//! idempotency keys sent by another principal, keys reused for another
//! request, and commands naming records the archive does not hold (or
//! holds elsewhere). Every refusal is checked against the log's head
//! before and after it.

use serde_json::{json, Value};

use crate::support::{code, gql, ok, start, Server};

const AGENT: &str = "x-user-id: agent-1\r\nx-user-role: agent\r\n";
const AGENT_2: &str = "x-user-id: agent-2\r\nx-user-role: agent\r\n";
const MANAGER_P01: &str = "x-user-id: mgr-1\r\nx-user-role: manager\r\nx-projects: P01\r\n";
const MANAGER: &str = "x-user-id: mgr-9\r\nx-user-role: manager\r\n";
const ENGINEER: &str = "x-user-id: eng-1\r\nx-user-role: engineer\r\n";
const ANALYST: &str = "x-user-id: analyst-1\r\nx-user-role: analyst\r\n";
const OWNER_2: &str = "x-user-id: owner-2\r\nx-user-role: owner\r\nx-owner-id: O-002\r\n";
const C_001: &str = "x-user-id: w-1\r\nx-user-role: contractor\r\nx-contractor-id: C-001\r\n";
const C_002: &str = "x-user-id: w-2\r\nx-user-role: contractor\r\nx-contractor-id: C-002\r\n";

/// Sends a request that must be refused with `expected`, and checks that
/// the log did not move and that no data came back.
async fn refused(s: &Server, who: &str, query: &str, variables: Value, expected: &str) -> Value {
    let before = s.service.head();
    let r = gql(s.addr, who, query, variables).await;
    assert_eq!(code(&r), expected, "{query}: {r}");
    assert!(
        r["data"].is_null() || r["data"].as_object().is_some_and(|d| d.values().all(Value::is_null)),
        "{r}"
    );
    assert_eq!(s.service.head(), before, "a refusal appends nothing: {r}");
    r
}

const ACK: &str = "mutation($id: String!) { acknowledgeTicket(input: { ticketId: $id }) { position } }";

const RECEIVE: &str = "mutation($input: ReceiveTicketInput!) { receiveTicket(input: $input) {
    position ticket { id projectId reporterName reporterPhone ownerId } } }";

fn report(project: &str, building: Option<&str>, unit: Option<&str>, owner: Option<&str>) -> Value {
    let mut reporter = json!({ "familyName": "王", "givenName": "小明", "phone": "13812345678" });
    if let Some(o) = owner {
        reporter["ownerId"] = json!(o);
    }
    let mut location = json!({ "projectId": project });
    match (building, unit) {
        (b, Some(u)) => {
            location["buildingId"] = json!(b);
            location["unitId"] = json!(u);
        }
        (Some(b), None) => {
            location["buildingId"] = json!(b);
            location["place"] = json!("大堂");
        }
        (None, None) => location["place"] = json!("地下车库"),
    }
    json!({
        "kind": "REPAIR", "channel": "HOTLINE", "priority": "NORMAL", "category": "ENGINEERING",
        "trade": "LEAK", "description": "卫生间渗水", "reporter": reporter, "location": location
    })
}

fn keyed(mut input: Value, key: &str) -> Value {
    input["idempotencyKey"] = json!(key);
    json!({ "input": input })
}

/// Two projects: P01 (building P01-1, units 101 of O-001 and 102 of
/// O-002) and P02 (building P02-1, unit 201).
async fn archive() -> Server {
    let s = start().await;
    crate::support::seed_owner(&s.service, "O-001", ("张", "三"), "13900000001", &["P01-1-101"]).await;
    crate::support::seed_owner(&s.service, "O-002", ("李", "四"), "13900000002", &["P01-1-102"]).await;
    crate::support::seed_units(&s.service, &["P02-1-201"]).await;
    crate::support::seed_directory(&s.service, &["C-001", "C-002"], &["eng-1"]).await;
    s
}

#[tokio::test]
async fn idempotency_keys_never_cross_principals() {
    let s = archive().await;
    let a = s.addr;
    // The agent files O-001's report with key submit-1.
    let agents = ok(
        a,
        AGENT,
        RECEIVE,
        keyed(
            report("P01", Some("P01-1"), Some("P01-1-101"), Some("O-001")),
            "submit-1",
        ),
    )
    .await;
    let agents_id = agents["receiveTicket"]["ticket"]["id"].clone();

    // O-002 reports their own leak with the same key: their own ticket,
    // their own data, nothing of the agent's.
    let mine = ok(
        a,
        OWNER_2,
        RECEIVE,
        keyed(
            report("P01", Some("P01-1"), Some("P01-1-102"), Some("O-002")),
            "submit-1",
        ),
    )
    .await;
    let ticket = &mine["receiveTicket"]["ticket"];
    assert_ne!(ticket["id"], agents_id, "{mine}");
    assert_eq!(ticket["ownerId"], "O-002");
    assert_ne!(mine["receiveTicket"]["position"], agents["receiveTicket"]["position"]);
    // And their retry returns their ticket.
    let again = ok(
        a,
        OWNER_2,
        RECEIVE,
        keyed(
            report("P01", Some("P01-1"), Some("P01-1-102"), Some("O-002")),
            "submit-1",
        ),
    )
    .await;
    assert_eq!(again, mine);

    // An analyst may not receive, whatever key they send.
    let agents_request = keyed(
        report("P01", Some("P01-1"), Some("P01-1-101"), Some("O-001")),
        "submit-1",
    );
    refused(&s, ANALYST, RECEIVE, agents_request.clone(), "FORBIDDEN").await;

    // A manager scoped to P01 resending the key of a P02 report.
    ok(
        a,
        AGENT,
        RECEIVE,
        keyed(report("P02", Some("P02-1"), Some("P02-1-201"), None), "p2-report"),
    )
    .await;
    refused(
        &s,
        MANAGER_P01,
        RECEIVE,
        keyed(report("P02", Some("P02-1"), Some("P02-1-201"), None), "p2-report"),
        "FORBIDDEN",
    )
    .await;

    // A contractor resending another company's remark key on its ticket.
    let tickets: Vec<String> = {
        let mut out = Vec::new();
        for (n, company) in [(1, "C-001"), (2, "C-002")] {
            let mut input = report("P01", Some("P01-1"), None, None);
            input["ticketId"] = json!(format!("T-C{n}"));
            let r = ok(a, AGENT, RECEIVE, json!({ "input": input })).await;
            let id = r["receiveTicket"]["ticket"]["id"]
                .as_str()
                .unwrap_or_default()
                .to_string();
            ok(a, AGENT, ACK, json!({ "id": id })).await;
            ok(
                a,
                MANAGER,
                "mutation($id: String!, $c: String!) { dispatchTicket(input: { ticketId: $id, contractorId: $c }) { position } }",
                json!({ "id": id, "c": company }),
            )
            .await;
            out.push(id);
        }
        out
    };
    let comment = "mutation($id: String!, $key: String!) { commentTicket(input: { ticketId: $id, text: \"已联系业主\", idempotencyKey: $key }) { position ticket { id reporterPhone } } }";
    ok(a, C_002, comment, json!({ "id": tickets[1], "key": "c-remark" })).await;
    refused(
        &s,
        C_001,
        comment,
        json!({ "id": tickets[1], "key": "c-remark" }),
        "FORBIDDEN",
    )
    .await;
}

#[tokio::test]
async fn a_key_reused_for_another_request_is_refused() {
    let s = archive().await;
    let a = s.addr;
    let r = ok(
        a,
        AGENT,
        RECEIVE,
        keyed(report("P01", Some("P01-1"), None, None), "r-1"),
    )
    .await;
    let id = r["receiveTicket"]["ticket"]["id"]
        .as_str()
        .unwrap_or_default()
        .to_string();
    let comment = "mutation($id: String!, $t: String!, $key: String!) { commentTicket(input: { ticketId: $id, text: $t, idempotencyKey: $key }) { position } }";
    let first = ok(a, AGENT, comment, json!({ "id": id, "t": "第一次", "key": "k-1" })).await;
    // The same request again: the first answer.
    assert_eq!(
        ok(a, AGENT, comment, json!({ "id": id, "t": "第一次", "key": "k-1" })).await,
        first
    );
    // Other arguments, or another operation, with the same key.
    let r = refused(
        &s,
        AGENT,
        comment,
        json!({ "id": id, "t": "第二次", "key": "k-1" }),
        "IDEMPOTENCY_KEY_REUSED",
    )
    .await;
    assert!(
        r["errors"][0]["message"]
            .as_str()
            .unwrap_or_default()
            .contains("different request"),
        "{r}"
    );
    refused(
        &s,
        AGENT,
        "mutation($id: String!) { acknowledgeTicket(input: { ticketId: $id, idempotencyKey: \"k-1\" }) { position } }",
        json!({ "id": id }),
        "IDEMPOTENCY_KEY_REUSED",
    )
    .await;
    // Another agent's identical key is theirs alone: a remark of their own.
    let other = ok(a, AGENT_2, comment, json!({ "id": id, "t": "第二次", "key": "k-1" })).await;
    assert_ne!(other, first);
}

#[tokio::test]
async fn commands_naming_what_the_archive_does_not_hold_are_refused() {
    let s = archive().await;
    let a = s.addr;
    for (input, expected, says) in [
        (report("PZZ", None, None, None), "NOT_FOUND", "project PZZ"),
        (
            report("P01", Some("P01-77"), None, None),
            "NOT_FOUND",
            "building P01-77",
        ),
        (
            report("P01", Some("P01-1"), Some("P01-1-999"), None),
            "NOT_FOUND",
            "unit P01-1-999",
        ),
        (
            report("P01", Some("P01-1"), Some("P01-1-101"), Some("O-NOPE")),
            "NOT_FOUND",
            "owner O-NOPE",
        ),
        // P02's building and unit filed under P01.
        (
            report("P01", Some("P02-1"), Some("P02-1-201"), None),
            "NOT_FOUND",
            "building P02-1",
        ),
        (
            report("P01", Some("P01-1"), Some("P02-1-201"), None),
            "BAD_INPUT",
            "P02",
        ),
        // O-002 does not own unit 101.
        (
            report("P01", Some("P01-1"), Some("P01-1-101"), Some("O-002")),
            "BAD_INPUT",
            "O-002",
        ),
    ] {
        let r = refused(&s, AGENT, RECEIVE, json!({ "input": input }), expected).await;
        let message = r["errors"][0]["message"].as_str().unwrap_or_default();
        assert!(message.contains(says), "{message}");
    }

    // A dispatch to a company or an engineer the directory does not hold.
    let r = ok(
        a,
        AGENT,
        RECEIVE,
        json!({ "input": report("P01", Some("P01-1"), None, None) }),
    )
    .await;
    let common = r["receiveTicket"]["ticket"]["id"]
        .as_str()
        .unwrap_or_default()
        .to_string();
    ok(a, AGENT, ACK, json!({ "id": common })).await;
    for (field, who) in [("contractorId", "T-1"), ("engineerId", "eng-nobody")] {
        let q = format!("mutation($id: String!) {{ dispatchTicket(input: {{ ticketId: $id, {field}: \"{who}\" }}) {{ position }} }}");
        let r = refused(&s, MANAGER, &q, json!({ "id": common }), "NOT_FOUND").await;
        assert!(
            r["errors"][0]["message"].as_str().unwrap_or_default().contains(who),
            "{r}"
        );
    }

    // A plan of 2,147,483,647 minutes, on a ticket an engineer is at.
    let r = ok(
        a,
        AGENT,
        RECEIVE,
        json!({ "input": report("P01", Some("P01-1"), Some("P01-1-101"), Some("O-001")) }),
    )
    .await;
    let id = r["receiveTicket"]["ticket"]["id"]
        .as_str()
        .unwrap_or_default()
        .to_string();
    for (who, q) in [
        (AGENT, ACK),
        (
            MANAGER,
            "mutation($id: String!) { dispatchTicket(input: { ticketId: $id, engineerId: \"eng-1\" }) { position } }",
        ),
        (
            ENGINEER,
            "mutation($id: String!) { recordArrival(input: { ticketId: $id, note: \"到场\" }) { position } }",
        ),
    ] {
        ok(a, who, q, json!({ "id": id })).await;
    }
    let diagnose = "mutation($id: String!, $m: Int!) { diagnoseTicket(input: { ticketId: $id, cause: \"防水层破损\", responsible: DEVELOPER, item: WATERPROOFED_ROOMS, plan: \"重做防水\", durationMinutes: $m }) { position } }";
    for minutes in [2_147_483_647i64, 0, 90 * 24 * 60 + 1] {
        let r = refused(&s, ENGINEER, diagnose, json!({ "id": id, "m": minutes }), "BAD_INPUT").await;
        assert!(
            r["errors"][0]["message"]
                .as_str()
                .unwrap_or_default()
                .contains("durationMinutes"),
            "{r}"
        );
    }
    // A plan in range passes that check (and meets the next: the unit's
    // delivery date, which this archive does not have).
    let r = refused(&s, ENGINEER, diagnose, json!({ "id": id, "m": 240 }), "BAD_INPUT").await;
    assert!(
        r["errors"][0]["message"]
            .as_str()
            .unwrap_or_default()
            .contains("delivery date"),
        "{r}"
    );
}

#[tokio::test]
async fn linking_to_an_incident_checks_both_records_before_writing_either() {
    let s = archive().await;
    let a = s.addr;
    let open = "mutation($p: String!, $i: String!) { openIncident(input: { incidentId: $i, projectId: $p, title: \"地库渗水\", level: PROJECT, description: \"多户反映\" }) { position } }";
    ok(a, MANAGER, open, json!({ "p": "P01", "i": "INC-P01" })).await;
    ok(a, MANAGER, open, json!({ "p": "P02", "i": "INC-P02" })).await;
    let r = ok(
        a,
        AGENT,
        RECEIVE,
        json!({ "input": report("P01", Some("P01-1"), None, None) }),
    )
    .await;
    let id = r["receiveTicket"]["ticket"]["id"]
        .as_str()
        .unwrap_or_default()
        .to_string();
    let link = "mutation($id: String!, $i: String!) { linkTicketToIncident(input: { ticketId: $id, incidentId: $i }) { ticket { incidentId } } }";
    // A P01 manager, an incident of P02.
    refused(&s, MANAGER_P01, link, json!({ "id": id, "i": "INC-P02" }), "FORBIDDEN").await;
    // An unscoped manager: the incident is of another project.
    refused(&s, MANAGER, link, json!({ "id": id, "i": "INC-P02" }), "BAD_INPUT").await;
    // An engineer may link a ticket, but not change an incident.
    refused(&s, ENGINEER, link, json!({ "id": id, "i": "INC-P01" }), "FORBIDDEN").await;
    refused(&s, AGENT, link, json!({ "id": id, "i": "INC-NOPE" }), "NOT_FOUND").await;
    // Both records say so, or neither.
    let r = ok(a, MANAGER_P01, link, json!({ "id": id, "i": "INC-P01" })).await;
    assert_eq!(r["linkTicketToIncident"]["ticket"]["incidentId"], "INC-P01");
    let i = ok(a, MANAGER, "{ incident(id: \"INC-P01\") { ticketIds } }", json!({})).await;
    assert_eq!(i["incident"]["ticketIds"], json!([id]));
    let t = ok(
        a,
        MANAGER,
        "query($id: String!) { ticket(id: $id) { incidentId } }",
        json!({ "id": id }),
    )
    .await;
    assert_eq!(t["ticket"]["incidentId"], "INC-P01");
}

#[tokio::test]
async fn escalating_into_an_incident_checks_it_before_writing_the_complaint() {
    let s = archive().await;
    let a = s.addr;
    let open = "mutation($p: String!, $i: String!) { openIncident(input: { incidentId: $i, projectId: $p, title: \"集体投诉\", level: CITY, description: \"多户投诉\" }) { position } }";
    ok(a, MANAGER, open, json!({ "p": "P01", "i": "INC-E1" })).await;
    ok(a, MANAGER, open, json!({ "p": "P02", "i": "INC-E2" })).await;
    let mut complaint = report("P01", Some("P01-1"), None, None);
    complaint["kind"] = json!("COMPLAINT");
    complaint["category"] = json!("SERVICE");
    complaint["trade"] = json!("NONE");
    let r = ok(a, AGENT, RECEIVE, json!({ "input": complaint })).await;
    let id = r["receiveTicket"]["ticket"]["id"]
        .as_str()
        .unwrap_or_default()
        .to_string();
    let escalate = "mutation($id: String!, $i: String) { escalateComplaint(input: { ticketId: $id, level: CITY, incidentId: $i, reason: \"多户同类投诉\" }) { ticket { escalation incidentId } } }";
    // A P01 manager, an incident of P02: refused, the complaint unchanged.
    refused(
        &s,
        MANAGER_P01,
        escalate,
        json!({ "id": id, "i": "INC-E2" }),
        "FORBIDDEN",
    )
    .await;
    // An unscoped agent: the incident is of another project.
    refused(&s, AGENT, escalate, json!({ "id": id, "i": "INC-E2" }), "BAD_INPUT").await;
    // An engineer may not touch incidents: told so, not whether one exists.
    let r = refused(
        &s,
        ENGINEER,
        escalate,
        json!({ "id": id, "i": "INC-NOPE" }),
        "FORBIDDEN",
    )
    .await;
    assert!(
        !r["errors"][0]["message"]
            .as_str()
            .unwrap_or_default()
            .contains("INC-NOPE does not exist"),
        "{r}"
    );
    // Both records, or neither.
    let r = ok(a, MANAGER_P01, escalate, json!({ "id": id, "i": "INC-E1" })).await;
    assert_eq!(r["escalateComplaint"]["ticket"]["incidentId"], "INC-E1");
    let i = ok(a, MANAGER, "{ incident(id: \"INC-E1\") { ticketIds } }", json!({})).await;
    assert_eq!(i["incident"]["ticketIds"], json!([id]));
}

#[tokio::test]
async fn a_link_cut_short_after_the_tickets_half_is_completed_by_a_retry() {
    let s = archive().await;
    let a = s.addr;
    let open = "mutation { openIncident(input: { incidentId: \"INC-C\", projectId: \"P01\", title: \"停水\", level: PROJECT, description: \"整栋停水\" }) { position } }";
    ok(a, MANAGER, open, json!({})).await;
    let r = ok(
        a,
        AGENT,
        RECEIVE,
        json!({ "input": report("P01", Some("P01-1"), None, None) }),
    )
    .await;
    let id = r["receiveTicket"]["ticket"]["id"]
        .as_str()
        .unwrap_or_default()
        .to_string();
    // The ticket's half alone, as a crash between the two writes leaves it.
    let ticket: domain::ids::TicketId = id.parse().unwrap_or_else(|e| panic!("{e}"));
    let acting = application::service::Acting::by(domain::actor::Actor::staff(
        "mgr-9".parse().unwrap_or_else(|e| panic!("{e}")),
        domain::actor::Role::Manager,
    ));
    let incident: domain::ids::IncidentId = "INC-C".parse().unwrap_or_else(|e| panic!("{e}"));
    s.service
        .ticket_command(
            &ticket,
            domain::ticket::TicketCommand::LinkIncident { incident },
            acting,
        )
        .await
        .unwrap_or_else(|e| panic!("{}", e.message()));
    let i = ok(a, MANAGER, "{ incident(id: \"INC-C\") { ticketIds } }", json!({})).await;
    assert_eq!(i["incident"]["ticketIds"], json!([]));
    // The retry completes the incident's half.
    let link = "mutation($id: String!) { linkTicketToIncident(input: { ticketId: $id, incidentId: \"INC-C\" }) { ticket { incidentId } } }";
    let r = ok(a, MANAGER, link, json!({ "id": id })).await;
    assert_eq!(r["linkTicketToIncident"]["ticket"]["incidentId"], "INC-C");
    let i = ok(a, MANAGER, "{ incident(id: \"INC-C\") { ticketIds } }", json!({})).await;
    assert_eq!(i["incident"]["ticketIds"], json!([id]));
    // Another caller without the right learns nothing from a retry.
    refused(&s, ANALYST, link, json!({ "id": id }), "FORBIDDEN").await;
}
