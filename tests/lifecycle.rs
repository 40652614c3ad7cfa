//! Whole lifecycles against the real server over HTTP, on an ephemeral
//! port and a temporary data folder: a repair from receipt through a
//! rejection and rework to closure, a complaint escalated into an incident,
//! service-level deadlines across a public holiday, racing writers,
//! idempotent retries, a restart with every view intact, and bad input.

use std::net::SocketAddr;
use std::time::{Duration, Instant};

use serde_json::{json, Value};

use crate::support::{instant, serve, serve_at, stop, Running};

// ------------------------------------------------------------------ actors

/// Who calls: the identity headers the server builds its actor from.
#[derive(Clone, Copy, Debug)]
struct Who {
    user: &'static str,
    role: &'static str,
    contractor: Option<&'static str>,
    owner: Option<&'static str>,
}

const fn staff(user: &'static str, role: &'static str) -> Who {
    Who {
        user,
        role,
        contractor: None,
        owner: None,
    }
}

const ADMIN: Who = staff("admin-1", "admin");
const AGENT: Who = staff("agent-7", "agent");
const MANAGER: Who = staff("mgr-2", "manager");
const ENGINEER: Who = staff("eng-3", "engineer");
const ANALYST: Who = staff("analyst-1", "analyst");
const AUDITOR: Who = staff("audit-1", "auditor");
/// A worker of contractor company C-ACME (`x-contractor-id`).
const CONTRACTOR: Who = Who {
    user: "worker-9",
    role: "contractor",
    contractor: Some("C-ACME"),
    owner: None,
};
/// A worker of another company.
const OTHER_CONTRACTOR: Who = Who {
    user: "worker-5",
    role: "contractor",
    contractor: Some("C-OTHER"),
    owner: None,
};
/// The owner O-100 acting for themselves (`x-owner-id`).
const OWNER: Who = Who {
    user: "owner-wang",
    role: "owner",
    contractor: None,
    owner: Some("O-100"),
};

// ------------------------------------------------------------------ server

struct Server {
    dir: tempfile::TempDir,
    run: Running,
}

impl Server {
    fn addr(&self) -> SocketAddr {
        self.run.addr
    }

    fn head(&self) -> Option<u64> {
        self.run.service.head()
    }
}

/// A server on a new data folder, its clock started at
/// [`domain::testing::test_now`].
async fn start() -> Server {
    let dir = tempfile::tempdir().unwrap_or_else(|e| panic!("{e}"));
    let run = serve(dir.path()).await;
    directory(&run.service).await;
    Server { dir, run }
}

/// The companies and engineers these tests dispatch to.
async fn directory(service: &application::service::Service) {
    crate::support::seed_directory(service, &["C-ACME", "C-OTHER"], &["eng-3"]).await;
}

/// A server on a new data folder, its clock started at `at` (RFC 3339),
/// for a test whose data has fixed dates of its own.
async fn start_at(at: &str) -> Server {
    let dir = tempfile::tempdir().unwrap_or_else(|e| panic!("{e}"));
    let run = serve_at(dir.path(), instant(at)).await;
    directory(&run.service).await;
    Server { dir, run }
}

// -------------------------------------------------------------------- HTTP

/// A raw HTTP/1.1 request as `who`; `framing` replaces the framing
/// headers (Content-Length) when given. Returns the status and the decoded
/// body.
async fn exchange(
    addr: SocketAddr,
    who: Who,
    method: &str,
    path: &str,
    framing: Option<&str>,
    body: Vec<u8>,
) -> (u16, String) {
    let mut identity = format!("x-user-id: {}\r\nx-user-role: {}\r\n", who.user, who.role);
    if let Some(c) = who.contractor {
        identity.push_str(&format!("x-contractor-id: {c}\r\n"));
    }
    if let Some(o) = who.owner {
        identity.push_str(&format!("x-owner-id: {o}\r\n"));
    }
    let framing = framing
        .map(str::to_string)
        .unwrap_or_else(|| format!("Content-Length: {}\r\n", body.len()));
    let mut request = format!(
        "{method} {path} HTTP/1.1\r\nHost: {addr}\r\nContent-Type: application/json\r\nAccept: application/json\r\n{identity}{framing}Connection: close\r\n\r\n"
    )
    .into_bytes();
    request.extend_from_slice(&body);
    let answer = crate::support::exchange(addr, request).await;
    (answer.status, answer.body)
}

async fn http(addr: SocketAddr, who: Who, method: &str, path: &str, body: &str) -> (u16, String) {
    exchange(addr, who, method, path, None, body.as_bytes().to_vec()).await
}

/// A GraphQL request; the raw JSON text of a 200 response.
async fn gql_text(addr: SocketAddr, who: Who, query: &str, variables: Value) -> String {
    let body = json!({ "query": query, "variables": variables }).to_string();
    let (status, text) = http(addr, who, "POST", "/graphql", &body).await;
    assert_eq!(status, 200, "{text}");
    text
}

async fn gql(addr: SocketAddr, who: Who, query: &str, variables: Value) -> Value {
    let text = gql_text(addr, who, query, variables).await;
    serde_json::from_str(&text).unwrap_or_else(|e| panic!("{e}: {text:?}"))
}

/// The data of a response that must have no errors.
async fn ok(addr: SocketAddr, who: Who, query: &str, variables: Value) -> Value {
    let r = gql(addr, who, query, variables).await;
    assert!(r.get("errors").is_none(), "unexpected errors: {r}");
    r["data"].clone()
}

fn code(v: &Value) -> &str {
    v["errors"][0]["extensions"]["code"].as_str().unwrap_or("")
}

fn message(v: &Value) -> &str {
    v["errors"][0]["message"].as_str().unwrap_or("")
}

fn int(v: &Value) -> u64 {
    v.as_u64().unwrap_or_else(|| panic!("not an integer: {v}"))
}

/// Waits until `/readyz` says every view has caught up with the log
/// (reports are read from views that follow the log asynchronously).
async fn settle(addr: SocketAddr) {
    let deadline = Instant::now() + Duration::from_secs(20);
    loop {
        let (status, body) = http(addr, AGENT, "GET", "/readyz", "").await;
        if status == 200 {
            assert_eq!(body, "ready");
            return;
        }
        assert!(Instant::now() < deadline, "not ready after 20 s: {status} {body}");
        tokio::time::sleep(Duration::from_millis(25)).await;
    }
}

// -------------------------------------------------------------------- time

/// Seconds since 1970 of the instant the test servers' clocks start at
/// ([`domain::testing::test_now`]): the tests' "now", never the machine's.
fn unix_now() -> i64 {
    domain::testing::test_now().timestamp()
}

/// The civil date of a day number since 1970-01-01 (H. Hinnant's
/// algorithm).
fn civil(days: i64) -> (i64, i64, i64) {
    let z = days + 719_468;
    let era = z.div_euclid(146_097);
    let doe = z - era * 146_097;
    let yoe = (doe - doe / 1460 + doe / 36_524 - doe / 146_096) / 365;
    let doy = doe - (365 * yoe + yoe / 4 - yoe / 100);
    let mp = (5 * doy + 2) / 153;
    let d = doy - (153 * mp + 2) / 5 + 1;
    let m = if mp < 10 { mp + 3 } else { mp - 9 };
    (if m <= 2 { yoe + era * 400 + 1 } else { yoe + era * 400 }, m, d)
}

fn date(days: i64) -> String {
    let (y, m, d) = civil(days);
    format!("{y:04}-{m:02}-{d:02}")
}

/// `YYYY-MM-DDTHH:MM:SS+00:00`, as the server writes instants.
fn rfc3339(secs: i64) -> String {
    let (days, rest) = (secs.div_euclid(86_400), secs.rem_euclid(86_400));
    format!(
        "{}T{:02}:{:02}:{:02}+00:00",
        date(days),
        rest / 3600,
        rest % 3600 / 60,
        rest % 60
    )
}

/// How the event summaries print an instant (chrono's `Display`).
fn spoken(secs: i64) -> String {
    // As staff read it: in the mainland's zone, UTC+8, to the minute.
    let local = secs + 8 * 3600;
    let (days, rest) = (local.div_euclid(86_400), local.rem_euclid(86_400));
    format!("{} {:02}:{:02} (UTC+8)", date(days), rest / 3600, rest % 3600 / 60)
}

// ----------------------------------------------------------------- helpers

const PAYLOAD: &str = "position ticket { id status version position }";

/// Runs ticket mutation `name` (input type `input_type`) as `who` and
/// checks the status and version it leads to; returns the log position.
async fn step(
    addr: SocketAddr,
    who: Who,
    name: &str,
    input_type: &str,
    input: Value,
    status: &str,
    version: u64,
) -> u64 {
    let query = format!("mutation($input: {input_type}!) {{ {name}(input: $input) {{ {PAYLOAD} }} }}");
    let r = gql(addr, who, &query, json!({ "input": input })).await;
    assert!(r.get("errors").is_none(), "{name} as {who:?}: {r}");
    let payload = &r["data"][name];
    assert_eq!(payload["ticket"]["status"], status, "{name}: {r}");
    assert_eq!(payload["ticket"]["version"], version, "{name}: {r}");
    let position = int(&payload["position"]);
    assert_eq!(
        int(&payload["ticket"]["position"]),
        position,
        "{name}: the ticket shows the change"
    );
    position
}

/// A mutation expected to be refused with `expected` (an error code).
async fn refused(addr: SocketAddr, who: Who, query: &str, variables: Value, expected: &str) -> Value {
    let r = gql(addr, who, query, variables).await;
    assert_eq!(code(&r), expected, "{r}");
    assert!(r["data"].is_null(), "a refusal returns no data: {r}");
    r
}

const RECEIVE: &str = "mutation($input: ReceiveTicketInput!) { receiveTicket(input: $input) { position ticket { id status version position } } }";

fn repair_input(id: &str, project: &str) -> Value {
    json!({
        "ticketId": id,
        "kind": "REPAIR",
        "channel": "HOTLINE",
        "priority": "NORMAL",
        "category": "ENGINEERING",
        "trade": "LEAK",
        "description": "地下车库顶板渗水",
        "reporter": { "familyName": "李", "givenName": "四", "phone": "13912345678" },
        "location": { "projectId": project, "place": "地下车库B2" }
    })
}

async fn receive(addr: SocketAddr, input: Value) -> u64 {
    // The archive must hold the project a report names.
    let project = input["location"]["projectId"].as_str().unwrap_or_default().to_string();
    let known = ok(
        addr,
        ADMIN,
        "query($p: String!) { project(id: $p) { id } }",
        json!({ "p": project }),
    )
    .await;
    if known["project"].is_null() {
        register_project(addr, &project).await;
    }
    let r = ok(addr, AGENT, RECEIVE, json!({ "input": input })).await;
    assert_eq!(r["receiveTicket"]["ticket"]["status"], "RECEIVED");
    assert_eq!(r["receiveTicket"]["ticket"]["version"], 0);
    int(&r["receiveTicket"]["position"])
}

const COMMENT: &str =
    "mutation($input: CommentTicketInput!) { commentTicket(input: $input) { position ticket { id status version position } } }";
const ACKNOWLEDGE: &str = "mutation($input: AcknowledgeTicketInput!) { acknowledgeTicket(input: $input) { position ticket { id status version position } } }";

async fn register_project(addr: SocketAddr, project: &str) {
    let r = ok(
        addr,
        ADMIN,
        "mutation($p: String!) { registerProject(input: { projectId: $p, name: \"滨江壹号\", city: \"杭州\" }) { position project { id name city calendar } } }",
        json!({ "p": project }),
    )
    .await;
    assert_eq!(
        r["registerProject"]["project"],
        json!({ "id": project, "name": "滨江壹号", "city": "杭州", "calendar": "cn-mainland" })
    );
}

// ================================================================== tests

/// 1. A repair from receipt to closure, with a rejection and rework.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_repair_is_rejected_reworked_accepted_revisited_and_closed() {
    let s = start().await;
    let a = s.addr();
    let today = unix_now().div_euclid(86_400);
    let delivered = date(today - 365);

    // The archive: only admins (and the system) may change it.
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
        json!({ "d": delivered }),
    )
    .await;
    assert_eq!(r["recordDelivery"]["unit"]["deliveredOn"], json!(delivered));
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
    let signed = date(today - 700);
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

    // The repair.
    let id = "T-LC-1";
    let t = |extra: Value| {
        let mut input = json!({ "ticketId": id });
        if let (Some(i), Some(e)) = (input.as_object_mut(), extra.as_object()) {
            i.extend(e.clone());
        }
        input
    };
    let mut positions = Vec::new();
    let received = json!({
        "ticketId": id,
        "kind": "REPAIR",
        "channel": "HOTLINE",
        "priority": "URGENT",
        "category": "ENGINEERING",
        "trade": "LEAK",
        "description": "卫生间天花板渗水",
        "reporter": { "ownerId": "O-100", "familyName": "王", "givenName": "小明", "phone": "13812345678" },
        "location": { "projectId": "P-LC", "buildingId": "P-LC-3", "unitId": "P-LC-3-1502" }
    });
    positions.push(step(a, AGENT, "receiveTicket", "ReceiveTicketInput", received, "RECEIVED", 0).await);
    positions.push(
        step(
            a,
            AGENT,
            "acknowledgeTicket",
            "AcknowledgeTicketInput",
            t(json!({ "note": "已电话联系业主", "expectedVersion": 0 })),
            "ACKNOWLEDGED",
            1,
        )
        .await,
    );
    positions.push(
        step(
            a,
            MANAGER,
            "dispatchTicket",
            "DispatchTicketInput",
            t(json!({ "contractorId": "C-ACME", "note": "优先处理", "expectedVersion": 1 })),
            "DISPATCHED",
            2,
        )
        .await,
    );
    // A visit window from the next full hour, for two hours.
    let from = (unix_now() / 3600 + 1) * 3600;
    let to = from + 2 * 3600;
    // Another company's worker may not touch the ticket.
    let other = refused(
        a,
        OTHER_CONTRACTOR,
        "mutation($input: ScheduleVisitInput!) { scheduleVisit(input: $input) { position } }",
        json!({ "input": t(json!({ "from": rfc3339(from), "to": rfc3339(to) })) }),
        "FORBIDDEN",
    )
    .await;
    assert!(
        message(&other).contains("not dispatched to contractor C-OTHER"),
        "{other}"
    );
    positions.push(
        step(
            a,
            CONTRACTOR,
            "scheduleVisit",
            "ScheduleVisitInput",
            t(json!({ "from": rfc3339(from), "to": rfc3339(to), "channel": "APP", "expectedVersion": 2 })),
            "SCHEDULED",
            3,
        )
        .await,
    );
    positions.push(
        step(
            a,
            CONTRACTOR,
            "recordArrival",
            "NoteInput",
            t(json!({ "note": "已到场", "channel": "APP" })),
            "ON_SITE",
            4,
        )
        .await,
    );
    let diagnosis = t(json!({
        "cause": "卫生间防水层破损",
        "responsible": "DEVELOPER",
        "item": "WATERPROOFED_ROOMS",
        "plan": "重做防水层",
        "materials": ["聚氨酯防水涂料"],
        "durationMinutes": 240
    }));
    // Cause and responsibility are the engineer's call, never the
    // contractor's.
    let diag = "mutation($input: DiagnoseTicketInput!) { diagnoseTicket(input: $input) { position } }";
    let head = s.head();
    let no = refused(a, CONTRACTOR, diag, json!({ "input": diagnosis.clone() }), "FORBIDDEN").await;
    assert!(message(&no).contains("the contractor role cannot do this"), "{no}");
    assert_eq!(s.head(), head, "a refusal appends nothing");
    positions.push(
        step(
            a,
            ENGINEER,
            "diagnoseTicket",
            "DiagnoseTicketInput",
            diagnosis,
            "DIAGNOSED",
            5,
        )
        .await,
    );
    positions.push(
        step(
            a,
            OWNER,
            "confirmPlan",
            "ConfirmPlanInput",
            t(json!({ "confirmation": "SIG-PLAN-1", "channel": "APP" })),
            "IN_REPAIR",
            6,
        )
        .await,
    );
    positions.push(
        step(
            a,
            CONTRACTOR,
            "completeRepair",
            "CompleteRepairInput",
            t(json!({ "summary": "重做防水层", "usageAdvice": "48小时内勿用水", "channel": "APP" })),
            "REPAIRED",
            7,
        )
        .await,
    );
    positions.push(
        step(
            a,
            OWNER,
            "rejectRepair",
            "ReasonInput",
            t(json!({ "reason": "仍有渗水", "channel": "APP" })),
            "REJECTED",
            8,
        )
        .await,
    );
    positions.push(
        step(
            a,
            AGENT,
            "reopenTicket",
            "ReasonInput",
            t(json!({ "reason": "业主验收不合格" })),
            "REOPENED",
            9,
        )
        .await,
    );
    positions.push(
        step(
            a,
            CONTRACTOR,
            "completeRepair",
            "CompleteRepairInput",
            t(json!({ "summary": "重做防水并闭水试验48小时", "channel": "APP" })),
            "REPAIRED",
            10,
        )
        .await,
    );
    positions.push(
        step(
            a,
            OWNER,
            "acceptRepair",
            "AcceptRepairInput",
            t(json!({
                "confirmation": "SIG-ACCEPT-1",
                "ratings": { "overall": 4, "productQuality": 4, "serviceProcess": 5, "staffAttitude": 5 },
                "comment": "满意",
                "channel": "APP"
            })),
            "ACCEPTED",
            11,
        )
        .await,
    );
    positions.push(
        step(
            a,
            AGENT,
            "recordRevisit",
            "RecordRevisitInput",
            t(json!({ "outcome": "SATISFIED", "ratings": { "overall": 5 }, "channel": "REVISIT" })),
            "ACCEPTED",
            12,
        )
        .await,
    );
    positions.push(
        step(
            a,
            AGENT,
            "closeTicket",
            "NoteInput",
            t(json!({ "note": "归档" })),
            "CLOSED",
            13,
        )
        .await,
    );
    assert!(
        positions.windows(2).all(|w| w[0] < w[1]),
        "positions increase: {positions:?}"
    );
    assert_eq!(s.head(), positions.last().copied());

    // The ticket as it ends.
    let r = ok(
        a,
        AGENT,
        "query($id: String!) { ticket(id: $id) { status version kind priority channel projectId buildingId unitId ownerId
            reporterName reporterPhone assignee { engineerId contractorId } dispatchCount planConfirmed
            reopenCount rejectionCount acceptanceRating revisitCount lastRevisit
            diagnosis { cause responsible chargeable plan materials durationMinutes costFen
              warranty { item period deliveredOn lastDay inWarranty } } } }",
        json!({ "id": id }),
    )
    .await;
    let ticket = &r["ticket"];
    // The ratings are readable on the record, per dimension.
    let rated = ok(
        a,
        AGENT,
        "query($id: String!) { ticket(id: $id) { acceptanceRatings { overall productQuality serviceProcess staffAttitude }
            revisits { outcome ratings { overall productQuality } stage } } }",
        json!({ "id": id }),
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
    let warranty = ticket["diagnosis"]["warranty"].clone();
    assert_eq!(warranty["inWarranty"], true, "{r}");
    assert_eq!(warranty["item"], "WATERPROOFED_ROOMS");
    assert_eq!(warranty["period"], "5 years");
    assert_eq!(warranty["deliveredOn"], json!(delivered));
    let (y, m, d) = civil(today - 365);
    let five_years_on = format!("{:04}-{m:02}-{d:02}", y + 5);
    let last_day = warranty["lastDay"].as_str().unwrap_or_default();
    assert!(
        last_day >= five_years_on.as_str() && last_day.starts_with(&format!("{:04}-", y + 5)),
        "5 years from {delivered}: {last_day}"
    );
    let mut expected = json!({
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

    // The audit history: every event, in order, with who and what.
    let history = ok(
        a,
        AGENT,
        "query($id: String!) { ticketHistory(id: $id) { ticketId events { position version type actor role contractorId channel summary included } state { status version } } }",
        json!({ "id": id }),
    )
    .await;
    let events = history["ticketHistory"]["events"]
        .as_array()
        .cloned()
        .unwrap_or_default();
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
                "position": positions[i],
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
    assert_eq!(history["ticketHistory"]["ticketId"], id);
    assert_eq!(
        history["ticketHistory"]["state"],
        json!({ "status": "CLOSED", "version": 13 })
    );

    // Replayed to the rejection, the ticket is as it was then.
    let rejected_at = positions[8];
    let then = ok(
        a,
        ENGINEER,
        "query($id: String!, $p: Int!) { ticketHistory(id: $id, asOf: { position: $p }) { events { included } state { status version position rejectionCount reopenCount acceptanceRating planConfirmed } } }",
        json!({ "id": id, "p": rejected_at }),
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

    // The listing by project shows it; another project's does not.
    let list = "query($f: TicketFilterInput!) { tickets(filter: $f) { edges { cursor node { id status version } } pageInfo { hasNextPage } } }";
    let r = ok(a, AGENT, list, json!({ "f": { "projectId": "P-LC" } })).await;
    let edges = r["tickets"]["edges"].as_array().cloned().unwrap_or_default();
    assert_eq!(edges.len(), 1, "{r}");
    assert_eq!(edges[0]["node"], json!({ "id": id, "status": "CLOSED", "version": 13 }));
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

    // The satisfaction report counts the acceptance and revisit ratings.
    settle(a).await;
    let r = ok(
        a,
        MANAGER,
        "{ satisfactionReport(groupBy: PROJECT, projectId: \"P-LC\") {
            ratings { key count overall productQuality serviceProcess staffAttitude }
            service { closedRepairs revisited revisitCoverage accepted acceptedFirstVisit firstVisitRate complaints deliveredUnits } } }",
        json!({}),
    )
    .await;
    expected = json!({
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

/// 2. A complaint escalated into an incident, and a repair linked to it.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_complaint_is_escalated_into_an_incident() {
    let s = start().await;
    let a = s.addr();
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

    let complaint = "T-CMP-1";
    let mut input = repair_input(complaint, "P-INC");
    input["kind"] = json!("COMPLAINT");
    input["category"] = json!("SERVICE");
    input["trade"] = json!("NONE");
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

/// 3. Service-level deadlines across the 2026 National Day holiday.
///
/// Calendar `cn-mainland` 2026.1: working hours 09:00–12:00 and
/// 13:30–18:00 Asia/Shanghai (7 h 30 min a day), Monday–Friday; the
/// National Day holiday runs 2026-10-01 (Thu) to 2026-10-07 (Wed), with
/// Sunday 2026-09-20 and Saturday 2026-10-10 as adjusted working days.
/// The policy (`default-service-policy.toml`, 2026.1) gives a normal
/// repair 1d/2d/7d business (first response / on site / resolution) and
/// an urgent one 2h/1d/3d business, a business day being 7 h 30 min.
///
/// Both tickets are received on Wednesday 2026-09-30 at 17:00 +08:00
/// (09:00 UTC), the last working hour before the holiday: 1 h counts that
/// day (17:00–18:00), then nothing until Thursday 2026-10-08.
///
/// Normal:
/// - first response 7 h 30: 1 h on 09-30, 6 h 30 on 10-08 = 3 h in the
///   morning + 3 h 30 from 13:30 → 10-08 17:00 +08 = 09:00 UTC;
/// - on site 15 h: 1 h + 7 h 30 (10-08) = 8 h 30, 6 h 30 on Fri 10-09 →
///   10-09 17:00 +08 = 09:00 UTC;
/// - resolution 52 h 30: 1 h + 10-08, 10-09, Sat 10-10 (adjusted working
///   day), Mon 10-12, 10-13, 10-14 (6 × 7 h 30 = 45 h) = 46 h, 6 h 30 on
///   10-15 → 10-15 17:00 +08 = 09:00 UTC (Sunday 10-11 does not count).
///
/// Urgent:
/// - first response 2 h: 1 h + 1 h on 10-08 → 10-08 10:00 +08 = 02:00 UTC;
/// - on site 7 h 30: 1 h + 6 h 30 → 10-08 17:00 +08 = 09:00 UTC;
/// - resolution 22 h 30: 1 h + 7 h 30 (10-08) + 7 h 30 (10-09) = 16 h,
///   6 h 30 on the adjusted working Saturday 10-10 → 10-10 17:00 +08 =
///   09:00 UTC.
///
/// Acknowledging the normal ticket at 10-08 09:30 +08 stops its first
/// response within target after 60 + 30 = 90 business minutes; the urgent
/// one acknowledged at 10:30 +08 breached at its due instant (10:00) after
/// 60 + 90 = 150 business minutes.
///
/// The server's clock reads Monday 2026-10-19 10:00 +08:00 when the test
/// starts, so every time above is in its past (and within the 366 days a
/// back-entered time may reach), on whatever day the suite runs.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn first_response_deadlines_skip_the_national_day_holiday() {
    let s = start_at("2026-10-19T10:00:00+08:00").await;
    let a = s.addr();
    let w = ok(
        a,
        AGENT,
        "{ workdays(from: \"2026-09-28\", to: \"2026-10-12\") }",
        json!({}),
    )
    .await;
    assert_eq!(
        w["workdays"],
        json!([
            "2026-09-28",
            "2026-09-29",
            "2026-09-30",
            "2026-10-08",
            "2026-10-09",
            "2026-10-10",
            "2026-10-12"
        ])
    );
    let received = "2026-09-30T17:00:00+08:00";
    let mut normal = repair_input("T-SLA-N", "P-SLA");
    normal["occurredAt"] = json!(received);
    receive(a, normal).await;
    let mut urgent = repair_input("T-SLA-U", "P-SLA");
    urgent["occurredAt"] = json!(received);
    urgent["priority"] = json!("URGENT");
    receive(a, urgent).await;
    settle(a).await;

    let clocks = "query($id: String!) { ticket(id: $id) { receivedAt clocks { clock status startedAt dueAt stoppedAt breachedAt provisional } } }";
    let clock = |kind: &str, due: &str| {
        json!({
            "clock": kind,
            // Long past by now, never acknowledged.
            "status": "BREACHED",
            "startedAt": "2026-09-30T09:00:00+00:00",
            "dueAt": due,
            "stoppedAt": null,
            "breachedAt": due,
            "provisional": false
        })
    };
    let r = ok(a, AGENT, clocks, json!({ "id": "T-SLA-N" })).await;
    assert_eq!(r["ticket"]["receivedAt"], "2026-09-30T09:00:00+00:00");
    assert_eq!(
        r["ticket"]["clocks"],
        json!([
            clock("FIRST_RESPONSE", "2026-10-08T09:00:00+00:00"),
            clock("ON_SITE", "2026-10-09T09:00:00+00:00"),
            clock("RESOLUTION", "2026-10-15T09:00:00+00:00"),
        ]),
        "{r}"
    );
    let r = ok(a, AGENT, clocks, json!({ "id": "T-SLA-U" })).await;
    assert_eq!(
        r["ticket"]["clocks"],
        json!([
            clock("FIRST_RESPONSE", "2026-10-08T02:00:00+00:00"),
            clock("ON_SITE", "2026-10-08T09:00:00+00:00"),
            clock("RESOLUTION", "2026-10-10T09:00:00+00:00"),
        ]),
        "{r}"
    );

    // Acknowledged in time, and late.
    step(
        a,
        AGENT,
        "acknowledgeTicket",
        "AcknowledgeTicketInput",
        json!({ "ticketId": "T-SLA-N", "occurredAt": "2026-10-08T09:30:00+08:00" }),
        "ACKNOWLEDGED",
        1,
    )
    .await;
    step(
        a,
        AGENT,
        "acknowledgeTicket",
        "AcknowledgeTicketInput",
        json!({ "ticketId": "T-SLA-U", "occurredAt": "2026-10-08T10:30:00+08:00" }),
        "ACKNOWLEDGED",
        1,
    )
    .await;
    settle(a).await;
    let first = "query($id: String!) { ticket(id: $id) { clocks { clock status dueAt stoppedAt breachedAt elapsedMinutes pausedMinutes } } }";
    let r = ok(a, AGENT, first, json!({ "id": "T-SLA-N" })).await;
    assert_eq!(
        r["ticket"]["clocks"][0],
        json!({
            "clock": "FIRST_RESPONSE",
            "status": "MET",
            "dueAt": "2026-10-08T09:00:00+00:00",
            "stoppedAt": "2026-10-08T01:30:00+00:00",
            "breachedAt": null,
            "elapsedMinutes": 90,
            "pausedMinutes": 0
        }),
        "{r}"
    );
    let r = ok(a, AGENT, first, json!({ "id": "T-SLA-U" })).await;
    assert_eq!(
        r["ticket"]["clocks"][0],
        json!({
            "clock": "FIRST_RESPONSE",
            "status": "BREACHED",
            "dueAt": "2026-10-08T02:00:00+00:00",
            "stoppedAt": "2026-10-08T02:30:00+00:00",
            "breachedAt": "2026-10-08T02:00:00+00:00",
            "elapsedMinutes": 150,
            "pausedMinutes": 0
        }),
        "{r}"
    );
    let r = ok(
        a,
        ANALYST,
        "{ slaReport { key firstResponse { met breached cancelled complianceRate } } }",
        json!({}),
    )
    .await;
    assert_eq!(
        r["slaReport"],
        json!([{ "key": "", "firstResponse": { "met": 1, "breached": 1, "cancelled": 0, "complianceRate": 0.5 } }]),
        "{r}"
    );
}

/// 4. Two writers on one version: one wins, the other is told.
#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn two_changes_racing_on_one_version_exactly_one_wins() {
    let s = start().await;
    let a = s.addr();
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

/// 5. A retried mutation with the same idempotency key appends nothing.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn retries_with_one_idempotency_key_return_the_first_result() {
    let s = start().await;
    let a = s.addr();
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

/// 5b. The same request sent twice at once (a client retrying while its
/// first attempt is still in flight) appends once; neither answer may be
/// an internal error.
#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn a_retry_racing_its_first_attempt_appends_once() {
    let s = start().await;
    let a = s.addr();
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

/// 6. A restart keeps every ticket, history and view.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_restart_keeps_every_ticket_and_view() {
    // One ticket is back-entered as withdrawn on 2026-09-30: the clock of
    // both runs reads a day in the weeks after.
    const NOW: &str = "2026-10-19T10:00:00+08:00";
    let s = start_at(NOW).await;
    let dir = s.dir;
    let run = s.run;
    let a = run.addr;
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
    let mut complaint = repair_input("T-RS-3", "P-RS");
    complaint["kind"] = json!("COMPLAINT");
    complaint["category"] = json!("SERVICE");
    complaint["trade"] = json!("NONE");
    receive(a, complaint).await;
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
    let mut inquiry = repair_input("T-RS-4", "P-RS");
    inquiry["kind"] = json!("INQUIRY");
    inquiry["category"] = json!("SERVICE");
    inquiry["trade"] = json!("NONE");
    receive(a, inquiry).await;
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
    settle(a).await;

    // Nothing here depends on the time of asking.
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
    settle(a).await;
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

/// 7. Bad requests are refused clearly, append nothing, and the server
/// keeps serving.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn bad_requests_are_refused_and_change_nothing() {
    let s = start().await;
    let a = s.addr();
    let id = "T-BAD";
    receive(a, repair_input(id, "P-BAD")).await;
    let head = s.head();
    let still_fine = || still_fine(&s, head, id);

    // Malformed JSON.
    let (status, body) = http(
        a,
        AGENT,
        "POST",
        "/graphql",
        "{\"query\": \"{ ticket(id: \\\"T-BAD\\\") { id } }\"",
    )
    .await;
    assert_eq!(status, 400, "{body}");
    assert!(!body.is_empty(), "the refusal says why");
    still_fine().await;
    // JSON that is not a GraphQL request.
    // (async-graphql reads a missing `query` as an empty document: a 200
    // with a syntax error, which the GraphQL-over-HTTP spec allows for
    // `application/json` responses; a 400 would do as well.)
    let (status, body) = http(a, AGENT, "POST", "/graphql", "{\"variables\": {}}").await;
    let v: Value = serde_json::from_str(&body).unwrap_or_default();
    assert!(
        status == 400 || (status == 200 && v["data"].is_null() && !message(&v).is_empty()),
        "{status} {body}"
    );
    still_fine().await;

    // Wrong variable types.
    let r = gql(a, AGENT, ACKNOWLEDGE, json!({ "input": { "ticketId": 42 } })).await;
    assert!(r["data"].is_null(), "{r}");
    assert!(message(&r).contains("ticketId"), "{r}");
    still_fine().await;
    let r = gql(
        a,
        AGENT,
        ACKNOWLEDGE,
        json!({ "input": { "ticketId": id, "expectedVersion": "zero" } }),
    )
    .await;
    assert!(r["data"].is_null(), "{r}");
    assert!(message(&r).contains("expectedVersion"), "{r}");
    still_fine().await;
    let r = gql(
        a,
        AGENT,
        "mutation { acknowledgeTicket(input: { ticketId: \"T-BAD\", bogus: 1 }) { position } }",
        json!({}),
    )
    .await;
    assert!(r["data"].is_null() && !message(&r).is_empty(), "{r}");
    still_fine().await;

    // Unknown tickets: queries find nothing, mutations are NOT_FOUND.
    let r = ok(
        a,
        AGENT,
        "{ ticket(id: \"T-404\") { id } ticketHistory(id: \"T-404\") { ticketId } }",
        json!({}),
    )
    .await;
    assert_eq!(r, json!({ "ticket": null, "ticketHistory": null }));
    refused(
        a,
        AGENT,
        ACKNOWLEDGE,
        json!({ "input": { "ticketId": "T-404" } }),
        "NOT_FOUND",
    )
    .await;
    refused(
        a,
        AGENT,
        COMMENT,
        json!({ "input": { "ticketId": "T-404", "text": "x" } }),
        "NOT_FOUND",
    )
    .await;
    let merge = refused(
        a,
        AGENT,
        "mutation { mergeTicket(input: { ticketId: \"T-BAD\", into: \"T-404\" }) { position } }",
        json!({}),
        "NOT_FOUND",
    )
    .await;
    assert!(message(&merge).contains("T-404"), "{merge}");
    refused(
        a,
        AGENT,
        COMMENT,
        json!({ "input": { "ticketId": "not a valid id", "text": "x" } }),
        "BAD_INPUT",
    )
    .await;
    still_fine().await;

    // Invalid transitions, named.
    let accept = refused(
        a,
        AGENT,
        "mutation { acceptRepair(input: { ticketId: \"T-BAD\", confirmation: \"SIG\", ratings: { overall: 5 } }) { position } }",
        json!({}),
        "INVALID_TRANSITION",
    )
    .await;
    assert!(message(&accept).contains("cannot accept the repair"), "{accept}");
    let close = refused(
        a,
        AGENT,
        "mutation { closeTicket(input: { ticketId: \"T-BAD\" }) { position } }",
        json!({}),
        "INVALID_TRANSITION",
    )
    .await;
    assert!(message(&close).contains("cannot close the ticket"), "{close}");
    // Impossible times.
    refused(
        a,
        AGENT,
        ACKNOWLEDGE,
        json!({ "input": { "ticketId": id, "occurredAt": "2099-01-01T00:00:00Z" } }),
        "BAD_INPUT",
    )
    .await;
    refused(
        a,
        AGENT,
        ACKNOWLEDGE,
        json!({ "input": { "ticketId": id, "occurredAt": "2001-01-01T00:00:00Z" } }),
        "BAD_INPUT",
    )
    .await;
    still_fine().await;

    // Too deep: 50 nested selections through introspection's ofType.
    let mut deep = String::from("{ __type(name: \"Ticket\") { ");
    deep.push_str(&"ofType { ".repeat(49));
    deep.push_str("name");
    deep.push_str(&" }".repeat(50));
    deep.push_str(" }");
    let r = gql(a, ANALYST, &deep, json!({})).await;
    assert!(r["data"].is_null(), "{r}");
    let m = message(&r).to_lowercase();
    assert!(m.contains("depth") || m.contains("too deep"), "{r}");
    // Deeper than the server's own limit (20) but within the parser's.
    let mut deep = String::from("{ __type(name: \"Ticket\") { ");
    deep.push_str(&"ofType { ".repeat(24));
    deep.push_str("name");
    deep.push_str(&" }".repeat(25));
    deep.push_str(" }");
    let r = gql(a, ANALYST, &deep, json!({})).await;
    assert!(r["data"].is_null(), "{r}");
    let m = message(&r).to_lowercase();
    assert!(m.contains("depth") || m.contains("too deep"), "{r}");
    still_fine().await;

    // 10 MB, announced by Content-Length.
    let padding = "x".repeat(10 << 20);
    let big = format!(
        "{{\"query\": \"mutation($t: String!) {{ commentTicket(input: {{ ticketId: \\\"T-BAD\\\", text: $t }}) {{ position }} }}\", \"variables\": {{ \"t\": \"{padding}\" }}}}"
    );
    let (status, body) = http(a, AGENT, "POST", "/graphql", &big).await;
    assert_eq!(status, 413, "{}", &body[..body.len().min(200)]);
    still_fine().await;
    // 10 MB, streamed without a length.
    let mut chunked = Vec::new();
    for piece in big.as_bytes().chunks(64 * 1024) {
        chunked.extend_from_slice(format!("{:x}\r\n", piece.len()).as_bytes());
        chunked.extend_from_slice(piece);
        chunked.extend_from_slice(b"\r\n");
    }
    chunked.extend_from_slice(b"0\r\n\r\n");
    let (status, body) = exchange(
        a,
        AGENT,
        "POST",
        "/graphql",
        Some("Transfer-Encoding: chunked\r\n"),
        chunked,
    )
    .await;
    assert_eq!(status, 413, "{}", &body[..body.len().min(200)]);
    still_fine().await;
}

/// After a refusal: the log head has not moved and a normal query works.
async fn still_fine(s: &Server, head: Option<u64>, id: &str) {
    assert_eq!(s.head(), head, "nothing appended");
    let r = ok(
        s.addr(),
        AGENT,
        "query($id: String!) { ticket(id: $id) { status version } }",
        json!({ "id": id }),
    )
    .await;
    assert_eq!(r["ticket"], json!({ "status": "RECEIVED", "version": 0 }));
}

/// An auditor's replay "as of" a point of a ticket's history shows the
/// clocks as they stood then, evaluated from the history up to the cut,
/// never the live ones.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_replay_as_of_a_cut_shows_the_clocks_as_they_stood_then() {
    // A Monday morning in Shanghai; the report comes in at 09:30 and is
    // acknowledged at 10:15.
    let s = start_at("2026-03-16T10:30:00+08:00").await;
    let a = s.addr();
    let mut input = repair_input("T-ASOF", "P-ASOF");
    input["occurredAt"] = json!("2026-03-16T09:30:00+08:00");
    let received = receive(a, input).await;
    let r = ok(
        a,
        AGENT,
        "mutation { acknowledgeTicket(input: { ticketId: \"T-ASOF\", occurredAt: \"2026-03-16T10:15:00+08:00\" }) { position } }",
        json!({}),
    )
    .await;
    let acknowledged = int(&r["acknowledgeTicket"]["position"]);
    let history = "query($a: AsOfInput!) { ticketHistory(id: \"T-ASOF\", asOf: $a) { state { status clocks { clock status stoppedAt } } } }";
    let first_response = |r: &Value| -> Value {
        r["ticketHistory"]["state"]["clocks"]
            .as_array()
            .and_then(|c| c.iter().find(|c| c["clock"] == "FIRST_RESPONSE").cloned())
            .unwrap_or_else(|| panic!("no first-response clock: {r}"))
    };
    for cut in [
        json!({ "position": received }),
        json!({ "occurredAt": "2026-03-16T10:00:00+08:00" }),
    ] {
        let r = ok(a, AUDITOR, history, json!({ "a": cut })).await;
        assert_eq!(r["ticketHistory"]["state"]["status"], "RECEIVED", "{r}");
        let clock = first_response(&r);
        assert_eq!(clock["stoppedAt"], Value::Null, "{cut}: {r}");
        assert_ne!(clock["status"], "MET", "{cut}: {r}");
    }
    // At the acknowledgement and after it, the clock has stopped: met.
    for cut in [json!({ "position": acknowledged }), json!({})] {
        let r = ok(a, AUDITOR, history, json!({ "a": cut })).await;
        let clock = first_response(&r);
        assert_eq!(clock["status"], "MET", "{cut}: {r}");
        assert!(clock["stoppedAt"].is_string(), "{cut}: {r}");
    }
    // Every clock explains itself: policy and calendar with versions, the
    // target in minutes and how they are counted.
    let explained = ok(
        a,
        AUDITOR,
        "{ ticket(id: \"T-ASOF\") { clocks { clock target targetMinutes basis fixedDeadline policyId policyVersion calendarId calendarVersion stops } } }",
        json!({}),
    )
    .await;
    let clocks = explained["ticket"]["clocks"].as_array().cloned().unwrap_or_default();
    assert_eq!(clocks.len(), 3, "{explained}");
    for c in &clocks {
        assert_eq!(c["calendarId"], "cn-mainland", "{c}");
        assert!(c["policyId"].as_str().is_some_and(|p| !p.is_empty()), "{c}");
        assert!(c["policyVersion"].as_str().is_some_and(|v| !v.is_empty()), "{c}");
        assert!(c["calendarVersion"].as_str().is_some_and(|v| !v.is_empty()), "{c}");
        let minutes = c["targetMinutes"].as_u64().unwrap_or_else(|| panic!("{c}"));
        assert!(minutes > 0, "{c}");
        let basis = c["basis"].as_str().unwrap_or_default();
        assert!(basis == "BUSINESS" || basis == "WALL_CLOCK", "{c}");
        // The words say the same as the fields.
        let words = c["target"].as_str().unwrap_or_default();
        assert_eq!(words.contains("business"), basis == "BUSINESS", "{c}");
        assert_eq!(c["fixedDeadline"], Value::Null);
    }
    let first = clocks
        .iter()
        .find(|c| c["clock"] == "FIRST_RESPONSE")
        .unwrap_or_else(|| panic!("{explained}"));
    assert_eq!(first["stops"], 1, "{first}");
    // History entries carry the event's fields, personal values as the
    // caller may see them: masked for an auditor, whole for an agent.
    let fields = "{ ticketHistory(id: \"T-ASOF\") { events { type fields } } }";
    for (who, name, phone) in [(AUDITOR, "李*", "139****5678"), (AGENT, "李四", "13912345678")] {
        let r = ok(a, who, fields, json!({})).await;
        let received = &r["ticketHistory"]["events"][0];
        assert_eq!(received["type"], "Received", "{r}");
        assert_eq!(received["fields"]["reporter"]["name"], name, "{r}");
        assert_eq!(received["fields"]["reporter"]["phone"], phone, "{r}");
        assert_eq!(received["fields"]["description"], "地下车库顶板渗水", "{r}");
        assert_eq!(received["fields"]["kind"], "repair", "{r}");
    }
}
