//! The cast and the moves of the ticket lifecycles (`lifecycle/`): who
//! calls, a server with the companies and engineers they dispatch to, and
//! ticket mutations checked as they go.

use std::net::SocketAddr;

use chrono::{DateTime, Utc};
use serde_json::{json, Value};

use super::{code, gql, int, ok, staff, Server, Who};

pub const ADMIN: Who = staff("admin-1", "admin");
pub const AGENT: Who = staff("agent-7", "agent");
pub const MANAGER: Who = staff("mgr-2", "manager");
pub const ENGINEER: Who = staff("eng-3", "engineer");
pub const ANALYST: Who = staff("analyst-1", "analyst");
pub const AUDITOR: Who = staff("audit-1", "auditor");
/// A worker of contractor company C-ACME (`x-contractor-id`).
pub const CONTRACTOR: Who = Who {
    user: "worker-9",
    role: "contractor",
    contractor: Some("C-ACME"),
    owner: None,
};
/// A worker of another company.
pub const OTHER_CONTRACTOR: Who = Who {
    user: "worker-5",
    role: "contractor",
    contractor: Some("C-OTHER"),
    owner: None,
};
/// The owner O-100 acting for themselves (`x-owner-id`).
pub const OWNER: Who = Who {
    user: "owner-wang",
    role: "owner",
    contractor: None,
    owner: Some("O-100"),
};

/// A server on a new data folder, its clock started at
/// [`domain::testing::test_now`], that knows the companies and engineers
/// the lifecycles dispatch to.
pub async fn start() -> Server {
    start_at(domain::testing::test_now()).await
}

/// [`start`] with the clock started at `at`, for a test whose data has
/// fixed dates of its own.
pub async fn start_at(at: DateTime<Utc>) -> Server {
    let s = super::start_at(at).await;
    super::seed_directory(&s.service, &["C-ACME", "C-OTHER"], &["eng-3"]).await;
    s
}

/// What every ticket mutation below returns.
const PAYLOAD: &str = "position ticket { id status version position }";

/// Runs ticket mutation `name` (input type `input_type`) as `who` and
/// checks the status and version it leads to; returns the log position.
pub async fn step(
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
pub async fn refused(addr: SocketAddr, who: Who, query: &str, variables: Value, expected: &str) -> Value {
    let r = gql(addr, who, query, variables).await;
    assert_eq!(code(&r), expected, "{r}");
    assert!(r["data"].is_null(), "a refusal returns no data: {r}");
    r
}

pub const RECEIVE: &str = "mutation($input: ReceiveTicketInput!) { receiveTicket(input: $input) { position ticket { id status version position } } }";
pub const COMMENT: &str =
    "mutation($input: CommentTicketInput!) { commentTicket(input: $input) { position ticket { id status version position } } }";
pub const ACKNOWLEDGE: &str = "mutation($input: AcknowledgeTicketInput!) { acknowledgeTicket(input: $input) { position ticket { id status version position } } }";

/// A normal repair `id` reported by phone for a common area of `project`.
pub fn repair_input(id: &str, project: &str) -> Value {
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

/// [`repair_input`] of another kind (`COMPLAINT`, `INQUIRY`), about
/// service rather than a trade.
pub fn service_input(id: &str, project: &str, kind: &str) -> Value {
    let mut input = repair_input(id, project);
    input["kind"] = json!(kind);
    input["category"] = json!("SERVICE");
    input["trade"] = json!("NONE");
    input
}

/// Receives the report `input` as the agent, registering its project
/// first if the archive does not hold it; returns the log position.
pub async fn receive(addr: SocketAddr, input: Value) -> u64 {
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

/// Registers `project` as an admin and checks the record it makes.
pub async fn register_project(addr: SocketAddr, project: &str) {
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
