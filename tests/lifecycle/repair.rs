//! A repair from receipt to closure, with a rejection and rework: the
//! archive it needs, who may do each step, and what the closed repair
//! leaves behind (its record, its audit history, a replay to the
//! rejection, the listing and the satisfaction report). Each test runs the
//! whole flow on a server of its own, then checks one of these.

use chrono::{DateTime, Datelike, DurationRound, NaiveDate, TimeDelta, Utc};
use serde_json::{json, Value};

use crate::support::tickets::{
    refused, register_project, start, step, ADMIN, AGENT, ANALYST, CONTRACTOR, ENGINEER, MANAGER, OTHER_CONTRACTOR,
    OWNER,
};
use crate::support::{message, ok, rfc3339, settle, spoken, test_now, Server, Who};

/// The repair's ticket.
const ID: &str = "T-LC-1";

/// A repair run to its closure, and what the checks need to know of it.
struct Closed {
    s: Server,
    /// The log position of each of its events, by version.
    positions: Vec<u64>,
    /// The visit window the contractor scheduled.
    visit: (DateTime<Utc>, DateTime<Utc>),
    /// When the unit was delivered (a year before the tests' today).
    delivered: NaiveDate,
}

/// Input for a mutation on the repair: `ticketId` and the fields of `extra`.
fn on_ticket(extra: Value) -> Value {
    let mut input = json!({ "ticketId": ID });
    if let (Some(i), Some(e)) = (input.as_object_mut(), extra.as_object()) {
        i.extend(e.clone());
    }
    input
}

/// Runs `moves` (who, mutation, input type, input besides the ticket id,
/// the status it leads to) one after the other, each at the next version;
/// records their positions.
async fn run(s: &Server, positions: &mut Vec<u64>, moves: Vec<(Who, &str, &str, Value, &str)>) {
    for (who, name, input_type, extra, status) in moves {
        let version = positions.len() as u64;
        positions.push(step(s.addr, who, name, input_type, on_ticket(extra), status, version).await);
    }
}

/// The archive the repair needs, each record checked as it is made:
/// project P-LC, its building 3 and unit 1502 delivered a year ago, and
/// owner O-100 linked to that unit. Only admins may change the archive.
async fn archive(s: &Server, delivered: NaiveDate) {
    let a = s.addr;
    let forbidden = refused(
        a,
        AGENT,
        "mutation { registerProject(input: { projectId: \"P-LC\", name: \"x\", city: \"y\" }) { position } }",
        json!({}),
        "FORBIDDEN",
    )
    .await;
    assert!(
        message(&forbidden).contains("cannot change the customer archive"),
        "{forbidden}"
    );
    register_project(a, "P-LC").await;
    let r = ok(
        a,
        ADMIN,
        "mutation { registerBuilding(input: { projectId: \"P-LC\", buildingId: \"P-LC-3\", name: \"3号楼\" }) { project { buildings { id name } } } }",
        json!({}),
    )
    .await;
    assert_eq!(
        r["registerBuilding"]["project"]["buildings"],
        json!([{ "id": "P-LC-3", "name": "3号楼" }])
    );
    let r = ok(
        a,
        ADMIN,
        "mutation { registerUnit(input: { unitId: \"P-LC-3-1502\", projectId: \"P-LC\", buildingId: \"P-LC-3\", number: \"1502\" }) { unit { id projectId buildingId number deliveredOn } } }",
        json!({}),
    )
    .await;
    assert_eq!(
        r["registerUnit"]["unit"],
        json!({ "id": "P-LC-3-1502", "projectId": "P-LC", "buildingId": "P-LC-3", "number": "1502", "deliveredOn": null })
    );
    let r = ok(
        a,
        ADMIN,
        "mutation($d: NaiveDate!) { recordDelivery(input: { unitId: \"P-LC-3-1502\", deliveredOn: $d }) { unit { deliveredOn } } }",
        json!({ "d": delivered.to_string() }),
    )
    .await;
    assert_eq!(r["recordDelivery"]["unit"]["deliveredOn"], json!(delivered.to_string()));
    let r = ok(
        a,
        ADMIN,
        "mutation { registerOwner(input: { ownerId: \"O-100\", familyName: \"王\", givenName: \"小明\", phone: \"13812345678\" }) { owner { id name phone } } }",
        json!({}),
    )
    .await;
    // The admin sees personal fields in full; analysts and auditors masked.
    assert_eq!(
        r["registerOwner"]["owner"],
        json!({ "id": "O-100", "name": "王小明", "phone": "13812345678" })
    );
    let r = ok(a, ANALYST, "{ ticket(id: \"T-404\") { id } }", json!({})).await;
    assert_eq!(r["ticket"], Value::Null);
    let signed = (test_now().date_naive() - TimeDelta::days(700)).to_string();
    let r = ok(
        a,
        ADMIN,
        "mutation($d: NaiveDate!) { linkOwnerToUnit(input: { ownerId: \"O-100\", unitId: \"P-LC-3-1502\", contractSignedOn: $d, stage: WARRANTY_SERVICE }) { owner { units { unitId projectId contractSignedOn stage } } } }",
        json!({ "d": signed }),
    )
    .await;
    assert_eq!(
        r["linkOwnerToUnit"]["owner"]["units"],
        json!([{ "unitId": "P-LC-3-1502", "projectId": "P-LC", "contractSignedOn": signed, "stage": "WARRANTY_SERVICE" }])
    );
}

/// A server whose archive holds the owner's unit, and on it the repair
/// received, dispatched, diagnosed, repaired, rejected, reworked,
/// accepted, revisited and closed; each step checked as it is taken, and
/// those the wrong people try refused.
async fn closed_repair() -> Closed {
    let s = start().await;
    let delivered = test_now().date_naive() - TimeDelta::days(365);
    archive(&s, delivered).await;
    let received = json!({
        "ticketId": ID,
        "kind": "REPAIR",
        "channel": "HOTLINE",
        "priority": "URGENT",
        "category": "ENGINEERING",
        "trade": "LEAK",
        "description": "卫生间天花板渗水",
        "reporter": { "ownerId": "O-100", "familyName": "王", "givenName": "小明", "phone": "13812345678" },
        "location": { "projectId": "P-LC", "buildingId": "P-LC-3", "unitId": "P-LC-3-1502" }
    });
    let mut positions = vec![
        step(
            s.addr,
            AGENT,
            "receiveTicket",
            "ReceiveTicketInput",
            received,
            "RECEIVED",
            0,
        )
        .await,
    ];
    run(
        &s,
        &mut positions,
        vec![
            (
                AGENT,
                "acknowledgeTicket",
                "AcknowledgeTicketInput",
                json!({ "note": "已电话联系业主", "expectedVersion": 0 }),
                "ACKNOWLEDGED",
            ),
            (
                MANAGER,
                "dispatchTicket",
                "DispatchTicketInput",
                json!({ "contractorId": "C-ACME", "note": "优先处理", "expectedVersion": 1 }),
                "DISPATCHED",
            ),
        ],
    )
    .await;

    // A visit window from the next full hour, for two hours.
    let from = test_now()
        .duration_trunc(TimeDelta::hours(1))
        .unwrap_or_else(|e| panic!("{e}"))
        + TimeDelta::hours(1);
    let to = from + TimeDelta::hours(2);
    // Another company's worker may not touch the ticket.
    let other = refused(
        s.addr,
        OTHER_CONTRACTOR,
        "mutation($input: ScheduleVisitInput!) { scheduleVisit(input: $input) { position } }",
        json!({ "input": on_ticket(json!({ "from": rfc3339(from), "to": rfc3339(to) })) }),
        "FORBIDDEN",
    )
    .await;
    assert!(
        message(&other).contains("not dispatched to contractor C-OTHER"),
        "{other}"
    );
    run(
        &s,
        &mut positions,
        vec![
            (
                CONTRACTOR,
                "scheduleVisit",
                "ScheduleVisitInput",
                json!({ "from": rfc3339(from), "to": rfc3339(to), "channel": "APP", "expectedVersion": 2 }),
                "SCHEDULED",
            ),
            (
                CONTRACTOR,
                "recordArrival",
                "NoteInput",
                json!({ "note": "已到场", "channel": "APP" }),
                "ON_SITE",
            ),
        ],
    )
    .await;

    let diagnosis = json!({
        "cause": "卫生间防水层破损",
        "responsible": "DEVELOPER",
        "item": "WATERPROOFED_ROOMS",
        "plan": "重做防水层",
        "materials": ["聚氨酯防水涂料"],
        "durationMinutes": 240
    });
    // Cause and responsibility are the engineer's call, never the
    // contractor's.
    let diagnose = "mutation($input: DiagnoseTicketInput!) { diagnoseTicket(input: $input) { position } }";
    let head = s.head();
    let no = refused(
        s.addr,
        CONTRACTOR,
        diagnose,
        json!({ "input": on_ticket(diagnosis.clone()) }),
        "FORBIDDEN",
    )
    .await;
    assert!(message(&no).contains("the contractor role cannot do this"), "{no}");
    assert_eq!(s.head(), head, "a refusal appends nothing");
    let accepted = json!({
        "confirmation": "SIG-ACCEPT-1",
        "ratings": { "overall": 4, "productQuality": 4, "serviceProcess": 5, "staffAttitude": 5 },
        "comment": "满意",
        "channel": "APP"
    });
    run(
        &s,
        &mut positions,
        vec![
            (
                ENGINEER,
                "diagnoseTicket",
                "DiagnoseTicketInput",
                diagnosis,
                "DIAGNOSED",
            ),
            (
                OWNER,
                "confirmPlan",
                "ConfirmPlanInput",
                json!({ "confirmation": "SIG-PLAN-1", "channel": "APP" }),
                "IN_REPAIR",
            ),
            (
                CONTRACTOR,
                "completeRepair",
                "CompleteRepairInput",
                json!({ "summary": "重做防水层", "usageAdvice": "48小时内勿用水", "channel": "APP" }),
                "REPAIRED",
            ),
            (
                OWNER,
                "rejectRepair",
                "ReasonInput",
                json!({ "reason": "仍有渗水", "channel": "APP" }),
                "REJECTED",
            ),
            (
                AGENT,
                "reopenTicket",
                "ReasonInput",
                json!({ "reason": "业主验收不合格" }),
                "REOPENED",
            ),
            (
                CONTRACTOR,
                "completeRepair",
                "CompleteRepairInput",
                json!({ "summary": "重做防水并闭水试验48小时", "channel": "APP" }),
                "REPAIRED",
            ),
            (OWNER, "acceptRepair", "AcceptRepairInput", accepted, "ACCEPTED"),
            (
                AGENT,
                "recordRevisit",
                "RecordRevisitInput",
                json!({ "outcome": "SATISFIED", "ratings": { "overall": 5 }, "channel": "REVISIT" }),
                "ACCEPTED",
            ),
            (AGENT, "closeTicket", "NoteInput", json!({ "note": "归档" }), "CLOSED"),
        ],
    )
    .await;
    assert_eq!(positions.len(), 14, "the receipt and 13 steps");
    assert!(
        positions.windows(2).all(|w| w[0] < w[1]),
        "positions increase: {positions:?}"
    );
    assert_eq!(s.head(), positions.last().copied());
    Closed {
        s,
        positions,
        visit: (from, to),
        delivered,
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_repair_is_rejected_reworked_accepted_revisited_and_closed() {
    let c = closed_repair().await;
    let r = ok(
        c.s.addr,
        AGENT,
        "query($id: String!) { ticket(id: $id) { status version kind priority channel projectId buildingId unitId ownerId
            reporterName reporterPhone assignee { engineerId contractorId } dispatchCount planConfirmed
            reopenCount rejectionCount acceptanceRating revisitCount lastRevisit
            diagnosis { cause responsible chargeable plan materials durationMinutes costFen
              warranty { item period deliveredOn lastDay inWarranty } } } }",
        json!({ "id": ID }),
    )
    .await;
    let ticket = &r["ticket"];
    let warranty = ticket["diagnosis"]["warranty"].clone();
    assert_eq!(warranty["inWarranty"], true, "{r}");
    assert_eq!(warranty["item"], "WATERPROOFED_ROOMS");
    assert_eq!(warranty["period"], "5 years");
    assert_eq!(warranty["deliveredOn"], json!(c.delivered.to_string()));
    let d = c.delivered;
    let five_years_on = format!("{:04}-{:02}-{:02}", d.year() + 5, d.month(), d.day());
    let last_day = warranty["lastDay"].as_str().unwrap_or_default();
    assert!(
        last_day >= five_years_on.as_str() && last_day.starts_with(&format!("{:04}-", d.year() + 5)),
        "5 years from {d}: {last_day}"
    );
    let expected = json!({
        "status": "CLOSED",
        "version": 13,
        "kind": "REPAIR",
        "priority": "URGENT",
        "channel": "HOTLINE",
        "projectId": "P-LC",
        "buildingId": "P-LC-3",
        "unitId": "P-LC-3-1502",
        "ownerId": "O-100",
        "reporterName": "王小明",
        "reporterPhone": "13812345678",
        "assignee": { "engineerId": null, "contractorId": "C-ACME" },
        "dispatchCount": 1,
        "planConfirmed": true,
        "reopenCount": 1,
        "rejectionCount": 1,
        "acceptanceRating": 4,
        "revisitCount": 1,
        "lastRevisit": "SATISFIED",
        "diagnosis": {
            "cause": "卫生间防水层破损",
            "responsible": "DEVELOPER",
            "chargeable": false,
            "plan": "重做防水层",
            "materials": ["聚氨酯防水涂料"],
            "durationMinutes": 240,
            "costFen": null,
            "warranty": warranty
        }
    });
    assert_eq!(ticket, &expected, "{r}");
}

/// The ratings are readable on the record, per dimension.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn the_closed_repair_shows_its_ratings_per_dimension() {
    let c = closed_repair().await;
    let rated = ok(
        c.s.addr,
        AGENT,
        "query($id: String!) { ticket(id: $id) { acceptanceRatings { overall productQuality serviceProcess staffAttitude }
            revisits { outcome ratings { overall productQuality } stage } } }",
        json!({ "id": ID }),
    )
    .await;
    assert_eq!(
        rated["ticket"]["acceptanceRatings"],
        json!({ "overall": 4, "productQuality": 4, "serviceProcess": 5, "staffAttitude": 5 })
    );
    assert_eq!(rated["ticket"]["revisits"].as_array().map(Vec::len), Some(1), "{rated}");
    assert_eq!(rated["ticket"]["revisits"][0]["outcome"], "SATISFIED", "{rated}");
    assert_eq!(
        rated["ticket"]["revisits"][0]["ratings"],
        json!({ "overall": 5, "productQuality": null })
    );
}

/// The audit history: every event, in order, with who and what.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn the_closed_repairs_history_says_who_did_what_through_which_channel() {
    let c = closed_repair().await;
    let history = ok(
        c.s.addr,
        AGENT,
        "query($id: String!) { ticketHistory(id: $id) { ticketId events { position version type actor role contractorId channel summary included } state { status version } } }",
        json!({ "id": ID }),
    )
    .await;
    let events = history["ticketHistory"]["events"]
        .as_array()
        .cloned()
        .unwrap_or_default();
    let (from, to) = c.visit;
    let expected_events = [
        (
            "Received",
            AGENT,
            "HOTLINE",
            "urgent repair received via hotline: 卫生间天花板渗水".to_string(),
        ),
        (
            "Acknowledged",
            AGENT,
            "BACK_OFFICE",
            "acknowledged: 已电话联系业主".to_string(),
        ),
        (
            "Dispatched",
            MANAGER,
            "BACK_OFFICE",
            "dispatched to contractor C-ACME".to_string(),
        ),
        (
            "Scheduled",
            CONTRACTOR,
            "APP",
            format!("visit scheduled {} – {}", spoken(from), spoken(to)),
        ),
        ("Arrived", CONTRACTOR, "APP", "arrived on site: 已到场".to_string()),
        (
            "Diagnosed",
            ENGINEER,
            "BACK_OFFICE",
            "diagnosed: 卫生间防水层破损 (responsible: developer; free)".to_string(),
        ),
        (
            "PlanConfirmed",
            OWNER,
            "APP",
            "plan confirmed by the owner (SIG-PLAN-1)".to_string(),
        ),
        ("Repaired", CONTRACTOR, "APP", "repaired: 重做防水层".to_string()),
        ("Rejected", OWNER, "APP", "rejected by the owner: 仍有渗水".to_string()),
        (
            "Reopened",
            AGENT,
            "BACK_OFFICE",
            "reopened (rework cycle 1): 业主验收不合格".to_string(),
        ),
        (
            "Repaired",
            CONTRACTOR,
            "APP",
            "repaired: 重做防水并闭水试验48小时".to_string(),
        ),
        ("Accepted", OWNER, "APP", "accepted by the owner, rated 4/5".to_string()),
        (
            "Revisited",
            AGENT,
            "REVISIT",
            "revisit: satisfied, rated 5/5".to_string(),
        ),
        ("Closed", AGENT, "BACK_OFFICE", "closed: 归档".to_string()),
    ];
    assert_eq!(events.len(), expected_events.len(), "{history}");
    for (i, ((kind, who, channel, summary), e)) in expected_events.iter().zip(&events).enumerate() {
        assert_eq!(
            e,
            &json!({
                "position": c.positions[i],
                "version": i,
                "type": kind,
                "actor": who.user,
                "role": who.role,
                "contractorId": who.contractor,
                "channel": channel,
                "summary": summary,
                "included": true
            }),
            "event {i}"
        );
    }
    assert_eq!(history["ticketHistory"]["ticketId"], ID);
    assert_eq!(
        history["ticketHistory"]["state"],
        json!({ "status": "CLOSED", "version": 13 })
    );
}

/// Replayed to the rejection, the ticket is as it was then.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn replayed_to_the_rejection_the_repair_is_as_it_was_then() {
    let c = closed_repair().await;
    let rejected_at = c.positions[8];
    let then = ok(
        c.s.addr,
        ENGINEER,
        "query($id: String!, $p: Int!) { ticketHistory(id: $id, asOf: { position: $p }) { events { included } state { status version position rejectionCount reopenCount acceptanceRating planConfirmed } } }",
        json!({ "id": ID, "p": rejected_at }),
    )
    .await;
    assert_eq!(
        then["ticketHistory"]["state"],
        json!({
            "status": "REJECTED",
            "version": 8,
            "position": rejected_at,
            "rejectionCount": 1,
            "reopenCount": 0,
            "acceptanceRating": null,
            "planConfirmed": true
        }),
        "{then}"
    );
    let included: Vec<bool> = then["ticketHistory"]["events"]
        .as_array()
        .map(|es| es.iter().map(|e| e["included"] == true).collect())
        .unwrap_or_default();
    assert_eq!(included, (0..14).map(|i| i <= 8).collect::<Vec<_>>());
}

/// The listing by project shows it, another project's does not; the
/// satisfaction report counts the acceptance and revisit ratings.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn the_listing_and_the_satisfaction_report_count_the_closed_repair() {
    let c = closed_repair().await;
    let a = c.s.addr;
    let list = "query($f: TicketFilterInput!) { tickets(filter: $f) { edges { cursor node { id status version } } pageInfo { hasNextPage } } }";
    let r = ok(a, AGENT, list, json!({ "f": { "projectId": "P-LC" } })).await;
    let edges = r["tickets"]["edges"].as_array().cloned().unwrap_or_default();
    assert_eq!(edges.len(), 1, "{r}");
    assert_eq!(edges[0]["node"], json!({ "id": ID, "status": "CLOSED", "version": 13 }));
    assert_eq!(r["tickets"]["pageInfo"]["hasNextPage"], false);
    let r = ok(
        a,
        AGENT,
        list,
        json!({ "f": { "projectId": "P-LC", "status": "CLOSED", "contractorId": "C-ACME" } }),
    )
    .await;
    assert_eq!(r["tickets"]["edges"].as_array().map(Vec::len), Some(1), "{r}");
    let r = ok(a, AGENT, list, json!({ "f": { "projectId": "P-ELSEWHERE" } })).await;
    assert_eq!(r["tickets"]["edges"], json!([]), "{r}");

    // Reports are read from views that follow the log asynchronously.
    settle(&c.s).await;
    let r = ok(
        a,
        MANAGER,
        "{ satisfactionReport(groupBy: PROJECT, projectId: \"P-LC\") {
            ratings { key count overall productQuality serviceProcess staffAttitude }
            service { closedRepairs revisited revisitCoverage accepted acceptedFirstVisit firstVisitRate complaints deliveredUnits } } }",
        json!({}),
    )
    .await;
    let expected = json!({
        "ratings": [{
            "key": "P-LC",
            "count": 2,
            "overall": 4.5,
            "productQuality": 4.0,
            "serviceProcess": 5.0,
            "staffAttitude": 5.0
        }],
        "service": {
            "closedRepairs": 1,
            "revisited": 1,
            "revisitCoverage": 1.0,
            "accepted": 1,
            "acceptedFirstVisit": 0,
            "firstVisitRate": 0.0,
            "complaints": 0,
            "deliveredUnits": 1
        }
    });
    assert_eq!(r["satisfactionReport"], expected, "{r}");
}
