//! Erasure of an owner's personal data (PIPL art. 47) by crypto-shredding:
//! personal values are sealed before they reach the log, so no file of
//! the data folder ever holds them in clear; erasing the owner destroys
//! their keys, after which no query reveals the values, every history
//! still replays, and SLA figures and reports are what they were.

use std::net::SocketAddr;
use std::path::{Path, PathBuf};

use serde_json::{json, Value};

use crate::support::{stop, Running};

/// What the server's clock reads when the test starts: a week after the
/// reports it files (2026-10-12), which the October report counts.
const NOW: &str = "2026-10-19T10:00:00+08:00";

/// [`NOW`] and `hours` later: each time the test opens the folder again
/// is an hour after the last, as an operator's runs would be.
fn hours_on(hours: i64) -> chrono::DateTime<chrono::Utc> {
    crate::support::instant(NOW) + chrono::TimeDelta::hours(hours)
}

/// The server on `dir`, its clock at `at`, once every view has caught up.
async fn serve(dir: &Path, at: chrono::DateTime<chrono::Utc>) -> Running {
    let run = crate::support::serve_at(dir, at).await;
    api::ops::wait_ready(&run.service, |_| {})
        .await
        .unwrap_or_else(|e| panic!("{}", e.message()));
    run
}

/// A GraphQL request as `(user, role)` over HTTP/1.1; the JSON answer.
async fn gql(addr: SocketAddr, who: (&str, &str), query: &str, variables: Value) -> Value {
    let body = json!({ "query": query, "variables": variables }).to_string();
    let request = format!(
        "POST /graphql HTTP/1.1\r\nHost: {addr}\r\nContent-Type: application/json\r\nAccept: application/json\r\nx-user-id: {}\r\nx-user-role: {}\r\nContent-Length: {}\r\nConnection: close\r\n\r\n{body}",
        who.0,
        who.1,
        body.len()
    );
    let answer = crate::support::exchange(addr, request.into_bytes()).await;
    assert_eq!(answer.status, 200, "{}\n{}", answer.head, answer.body);
    serde_json::from_str(&answer.body).unwrap_or_else(|e| panic!("{e}: {}", answer.body))
}

async fn ok(addr: SocketAddr, who: (&str, &str), query: &str, variables: Value) -> Value {
    let r = gql(addr, who, query, variables).await;
    assert!(r.get("errors").is_none(), "unexpected errors: {r}");
    r["data"].clone()
}

const ADMIN: (&str, &str) = ("admin-1", "admin");
const AGENT: (&str, &str) = ("agent-7", "agent");
const MANAGER: (&str, &str) = ("mgr-2", "manager");

/// The personal values of the owner who asks to be erased.
const PHONE: &str = "13987654321";
const GIVEN: &str = "娜娜";
const ID_NUMBER: &str = "E98765432";
/// Another owner's, which must survive.
const OTHER_PHONE: &str = "13711112222";

fn files(dir: &Path) -> Vec<PathBuf> {
    let mut out = Vec::new();
    for entry in std::fs::read_dir(dir).into_iter().flatten().flatten() {
        let path = entry.path();
        if path.is_dir() {
            out.extend(files(&path));
        } else {
            out.push(path);
        }
    }
    out
}

/// The files of `dir` that contain `needle`.
fn holding(dir: &Path, needle: &[u8]) -> Vec<PathBuf> {
    files(dir)
        .into_iter()
        .filter(|f| {
            std::fs::read(f)
                .unwrap_or_default()
                .windows(needle.len())
                .any(|w| w == needle)
        })
        .collect()
}

const TICKET: &str =
    "query($id: String!) { ticket(id: $id) { id status ownerId reporterName reporterPhone reporterErased } }";
const OWNER: &str = "query($id: String!) { owner(id: $id) { id name phone idNumber erasedAt } }";
const REPORTS: &str = r#"{
  slaReport(groupBy: PROJECT) { key firstResponse { met breached cancelled } }
  monthlyReport(projectId: "P-ER", month: "2026-10") { receivedByKind { name count } finished open }
}"#;
const HISTORY: &str =
    "query($id: String!) { ticketHistory(id: $id) { events { position type summary actor } state { status reporterName } } }";

async fn receive(addr: SocketAddr, id: &str, owner: Option<&str>, family: &str, given: &str, phone: &str) {
    let mut reporter = json!({ "familyName": family, "givenName": given, "phone": phone });
    if let Some(o) = owner {
        reporter["ownerId"] = json!(o);
    }
    ok(
        addr,
        AGENT,
        "mutation($input: ReceiveTicketInput!) { receiveTicket(input: $input) { position } }",
        json!({ "input": {
            "ticketId": id, "kind": "REPAIR", "channel": "HOTLINE", "priority": "NORMAL",
            "category": "ENGINEERING", "trade": "LEAK", "description": "卫生间渗水",
            "reporter": reporter,
            "location": { "projectId": "P-ER", "place": "3号楼大堂" },
            "occurredAt": "2026-10-12T02:00:00Z"
        } }),
    )
    .await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn erasing_an_owner_leaves_no_trace_of_their_data_and_every_history_intact() {
    let dir = tempfile::tempdir().unwrap_or_else(|e| panic!("{e}"));
    let data = dir.path();
    let run = serve(data, hours_on(0)).await;
    let a = run.addr;

    ok(
        a,
        ADMIN,
        r#"mutation { registerProject(input: { projectId: "P-ER", name: "滨江壹号", city: "杭州" }) { position } }"#,
        json!({}),
    )
    .await;
    for (id, family, given, phone, number) in [
        ("O-ER", "欧阳", GIVEN, PHONE, Some(ID_NUMBER)),
        ("O-KEEP", "李", "四", OTHER_PHONE, None),
    ] {
        ok(
            a,
            ADMIN,
            "mutation($input: RegisterOwnerInput!) { registerOwner(input: $input) { position } }",
            json!({ "input": { "ownerId": id, "familyName": family, "givenName": given, "phone": phone, "idNumber": number } }),
        )
        .await;
    }
    // Each owns a unit of the project (a report names its owner only then).
    crate::support::seed_owner(&run.service, "O-ER", ("欧阳", GIVEN), PHONE, &["P-ER-3-101"]).await;
    crate::support::seed_owner(&run.service, "O-KEEP", ("李", "四"), OTHER_PHONE, &["P-ER-3-102"]).await;
    // A report by the owner, one from the same phone without the link, and
    // one by the other owner; the first is acknowledged (an SLA clock met).
    receive(a, "T-ER-1", Some("O-ER"), "欧阳", GIVEN, PHONE).await;
    receive(a, "T-ER-2", None, "欧阳", "女士", PHONE).await;
    receive(a, "T-KEEP", Some("O-KEEP"), "李", "四", OTHER_PHONE).await;
    ok(
        a,
        AGENT,
        r#"mutation { acknowledgeTicket(input: { ticketId: "T-ER-1", occurredAt: "2026-10-12T02:10:00Z" }) { position } }"#,
        json!({}),
    )
    .await;

    // Staff see the values in full.
    let t1 = ok(a, AGENT, TICKET, json!({ "id": "T-ER-1" })).await;
    assert_eq!(t1["ticket"]["reporterName"], "欧阳娜娜");
    assert_eq!(t1["ticket"]["reporterPhone"], PHONE);
    assert_eq!(t1["ticket"]["reporterErased"], false);
    let o = ok(a, ADMIN, OWNER, json!({ "id": "O-ER" })).await;
    assert_eq!(o["owner"]["idNumber"], ID_NUMBER);
    // Reports are read from views that follow the log asynchronously;
    // the snapshot is taken once every view has the acknowledgement.
    api::ops::wait_ready(&run.service, |_| {})
        .await
        .unwrap_or_else(|e| panic!("{}", e.message()));
    let reports_before = ok(a, MANAGER, REPORTS, json!({})).await;
    assert_eq!(
        reports_before["slaReport"][0]["firstResponse"]["met"], 1,
        "the acknowledgement met its clock: {reports_before}"
    );
    let history_before = ok(a, MANAGER, HISTORY, json!({ "id": "T-ER-1" })).await;
    stop(run).await;

    // Nothing in the data folder holds a personal value in clear, not even
    // before the erasure: the log and the views only ever got them sealed.
    for needle in [PHONE, GIVEN, ID_NUMBER, OTHER_PHONE] {
        assert_eq!(
            holding(data, needle.as_bytes()),
            Vec::<PathBuf>::new(),
            "{needle} in clear"
        );
    }
    let keys = eventlog::keys::Keyring::open(data.join("keys")).unwrap_or_else(|e| panic!("{e}"));
    let owner_key_file = keys.key_path(&projections::privacy::owner_subject(
        &"O-ER".parse().unwrap_or_else(|e| panic!("{e}")),
    ));
    let phone_key_file = keys.key_path(&projections::privacy::phone_subject(&keys, PHONE));
    let owner_key = std::fs::read(&owner_key_file).unwrap_or_else(|e| panic!("{e}"));
    let phone_key = std::fs::read(&phone_key_file).unwrap_or_else(|e| panic!("{e}"));
    drop(keys);

    // The erasure, as `aftersales erase-owner O-ER --request …` runs it.
    let erase = |at| async move {
        let service = crate::support::open_service_at(data, at);
        api::ops::wait_ready(&service, |_| {})
            .await
            .unwrap_or_else(|e| panic!("{}", e.message()));
        let acting = api::service::Acting {
            actor: domain::actor::Actor::staff(
                "dpo-1".parse().unwrap_or_else(|e| panic!("{e}")),
                domain::actor::Role::Admin,
            ),
            channel: domain::ticket::Channel::BackOffice,
            occurred_at: None,
            expected_version: None,
            idempotency_key: None,
            shared_key: false,
            projects: Vec::new(),
        };
        let outcome = service
            .erase_owner(
                &"O-ER".parse().unwrap_or_else(|e| panic!("{e}")),
                "PIPL-2026-007",
                acting,
            )
            .await
            .unwrap_or_else(|e| panic!("{}", e.message()));
        service.shutdown().await.unwrap_or_else(|e| panic!("{}", e.message()));
        outcome
    };
    let first = erase(hours_on(1)).await;
    assert!(first.recorded_now);
    assert_eq!(first.keys_destroyed, 2, "the owner's key and their phone's");
    let again = erase(hours_on(2)).await;
    assert_eq!((again.recorded_now, again.keys_destroyed), (false, 0));

    // The keys are gone: no file holds their bytes, and still no file
    // holds a value in clear.
    assert!(!owner_key_file.exists() && !phone_key_file.exists());
    for key in [&owner_key, &phone_key] {
        assert_eq!(holding(data, key), Vec::<PathBuf>::new());
    }
    for needle in [PHONE, GIVEN, ID_NUMBER] {
        assert_eq!(
            holding(data, needle.as_bytes()),
            Vec::<PathBuf>::new(),
            "{needle} in clear"
        );
    }

    let run = serve(data, hours_on(3)).await;
    let a = run.addr;
    // No query reveals them: the linked report, the unlinked one from the
    // same phone, the owner's record, the history's replayed state.
    for id in ["T-ER-1", "T-ER-2"] {
        let t = ok(a, AGENT, TICKET, json!({ "id": id })).await;
        assert_eq!(t["ticket"]["reporterName"], "[erased]", "{t}");
        assert_eq!(t["ticket"]["reporterPhone"], "[erased]", "{t}");
        assert_eq!(t["ticket"]["reporterErased"], true, "{t}");
    }
    let o = ok(a, ADMIN, OWNER, json!({ "id": "O-ER" })).await;
    assert_eq!(o["owner"]["name"], "[erased]");
    assert_eq!(o["owner"]["phone"], "[erased]");
    assert_eq!(o["owner"]["idNumber"], "[erased]");
    assert!(o["owner"]["erasedAt"].is_string(), "{o}");
    let history_after = ok(a, MANAGER, HISTORY, json!({ "id": "T-ER-1" })).await;
    assert_eq!(
        history_after["ticketHistory"]["events"], history_before["ticketHistory"]["events"],
        "the history replays event for event"
    );
    assert_eq!(history_after["ticketHistory"]["state"]["reporterName"], "[erased]");
    assert_eq!(history_after["ticketHistory"]["state"]["status"], "ACKNOWLEDGED");
    let everything = gql(
        a,
        ADMIN,
        "{ tickets(first: 50) { edges { node { reporterName reporterPhone } } } }",
        json!({}),
    )
    .await
    .to_string();
    assert!(
        !everything.contains(PHONE) && !everything.contains(GIVEN),
        "{everything}"
    );

    // SLA figures and reports are unchanged.
    assert_eq!(ok(a, MANAGER, REPORTS, json!({})).await, reports_before);

    // The other owner is untouched.
    let keep = ok(a, AGENT, TICKET, json!({ "id": "T-KEEP" })).await;
    assert_eq!(keep["ticket"]["reporterPhone"], OTHER_PHONE);
    assert_eq!(keep["ticket"]["reporterName"], "李四");

    // The erased record takes no new personal data; a new report from the
    // same number is sealed under a key of its own and readable.
    let refused = gql(
        a,
        ADMIN,
        r#"mutation { changeOwnerContact(input: { ownerId: "O-ER", phone: "13900000000" }) { position } }"#,
        json!({}),
    )
    .await;
    assert_eq!(refused["errors"][0]["extensions"]["code"], "BAD_INPUT", "{refused}");
    receive(a, "T-ER-3", None, "欧阳", "女士", PHONE).await;
    let t3 = ok(a, AGENT, TICKET, json!({ "id": "T-ER-3" })).await;
    assert_eq!(t3["ticket"]["reporterPhone"], PHONE);
    stop(run).await;
}
