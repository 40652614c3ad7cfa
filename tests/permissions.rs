//! The permission matrix: every role against a representative set of
//! reads and writes, allowed or FORBIDDEN, and every personal field in
//! full or masked. The expectations are written out here, independently
//! of the tables in the code, so that a change to either shows up.

use serde_json::{json, Value};

use crate::support::start;

/// Roles as the trusted-header identity names them.
const ROLES: [(&str, &str); 8] = [
    ("agent", "x-user-id: a-1\r\nx-user-role: agent\r\n"),
    (
        "manager",
        "x-user-id: m-1\r\nx-user-role: manager\r\nx-projects: P1\r\n",
    ),
    ("engineer", "x-user-id: e-1\r\nx-user-role: engineer\r\n"),
    (
        "contractor",
        "x-user-id: w-1\r\nx-user-role: contractor\r\nx-contractor-id: C-1\r\n",
    ),
    ("analyst", "x-user-id: an-1\r\nx-user-role: analyst\r\n"),
    ("auditor", "x-user-id: au-1\r\nx-user-role: auditor\r\n"),
    ("admin", "x-user-id: ad-1\r\nx-user-role: admin\r\n"),
    ("owner", "x-user-id: o-1\r\nx-user-role: owner\r\nx-owner-id: O-1\r\n"),
];

async fn gql(addr: std::net::SocketAddr, headers: &str, query: &str) -> Value {
    crate::support::gql(addr, headers, query, json!({})).await
}

fn ok(v: &Value) -> bool {
    v.get("errors").is_none()
}

fn forbidden(v: &Value) -> bool {
    v["errors"][0]["extensions"]["code"] == "FORBIDDEN"
}

const RECEIVE: &str = r#"mutation { receiveTicket(input: {
    ticketId: "TICKET", kind: REPAIR, channel: HOTLINE, priority: NORMAL, category: ENGINEERING, trade: LEAK,
    description: "渗水", reporter: { OWNER familyName: "王", givenName: "小明", phone: "13812345678" },
    location: { projectId: "PROJECT", buildingId: "PROJECT-1", unitId: "PROJECT-1-101" } }) { position } }"#;

#[tokio::test]
async fn every_role_against_every_kind_of_operation() {
    let s = start().await;
    crate::support::seed_units(&s.service, &["P1-1-101", "P2-1-101"]).await;
    crate::support::seed_directory(&s.service, &["C-1"], &[]).await;
    let (admin, agent) = (ROLES[6].1, ROLES[0].1);
    let setup = [
        (admin, r#"mutation { registerOwner(input: { ownerId: "O-1", familyName: "王", givenName: "小明", phone: "13812345678", idNumber: "11010519491231002X" }) { position } }"#.to_string()),
        (admin, r#"mutation { linkOwnerToUnit(input: { ownerId: "O-1", unitId: "P1-1-101", contractSignedOn: "2020-01-01", stage: WARRANTY_SERVICE }) { position } }"#.to_string()),
        (agent, RECEIVE.replace("TICKET", "T-1").replace("PROJECT", "P1").replace("OWNER", "ownerId: \"O-1\",")),
        (agent, r#"mutation { acknowledgeTicket(input: { ticketId: "T-1" }) { position } }"#.to_string()),
        (agent, r#"mutation { dispatchTicket(input: { ticketId: "T-1", contractorId: "C-1" }) { position } }"#.to_string()),
        (agent, RECEIVE.replace("TICKET", "T-2").replace("PROJECT", "P2").replace("OWNER", "")),
    ];
    for (who, q) in &setup {
        let r = gql(s.addr, who, q).await;
        assert!(ok(&r), "{q}: {r}");
    }

    // (operation, query, who may: agent, manager of P1, engineer,
    // contractor C-1, analyst, auditor, admin, owner O-1)
    let matrix: [(&str, &str, [bool; 8]); 11] = [
        (
            "ticket in scope",
            r#"{ ticket(id: "T-1") { id } }"#,
            [true, true, true, true, true, true, true, true],
        ),
        (
            "ticket out of scope",
            r#"{ ticket(id: "T-2") { id } }"#,
            [true, false, true, false, true, true, true, false],
        ),
        (
            "ticket list",
            r#"{ tickets(filter: { projectId: "P1" }) { edges { node { id } } } }"#,
            [true, true, true, true, true, true, true, false],
        ),
        (
            "history",
            r#"{ ticketHistory(id: "T-1") { events { type } } }"#,
            [true, true, true, true, false, true, true, true],
        ),
        (
            "all-project report",
            "{ slaReport { key } }",
            [false, false, false, false, true, true, true, false],
        ),
        (
            "project report",
            r#"{ monthlyReport(projectId: "P1", month: "2026-10") { open } }"#,
            [true, true, true, false, true, true, true, false],
        ),
        (
            "archive",
            r#"{ project(id: "P1") { id } }"#,
            [true, true, true, false, true, true, true, false],
        ),
        (
            "owner",
            r#"{ owner(id: "O-1") { id } }"#,
            [true, true, false, false, false, false, true, false],
        ),
        (
            "comment in scope",
            r#"mutation { commentTicket(input: { ticketId: "T-1", text: "called" }) { position } }"#,
            [true, true, true, true, false, false, true, true],
        ),
        (
            "comment out of scope",
            r#"mutation { commentTicket(input: { ticketId: "T-2", text: "called" }) { position } }"#,
            [true, false, true, false, false, false, true, false],
        ),
        (
            "archive write",
            r#"mutation { registerProject(input: { projectId: "PX", name: "X", city: "杭州" }) { position } }"#,
            [false, false, false, false, false, false, true, false],
        ),
    ];
    let mut wrong = Vec::new();
    for (operation, query, allowed) in &matrix {
        for ((role, headers), may) in ROLES.iter().zip(allowed) {
            let head_before = s.service.head();
            // The archive write succeeds once; later admins would get
            // "already exists", so give each role its own project id.
            let query = query.replace("\"PX\"", &format!("\"PX-{role}\""));
            let r = gql(s.addr, headers, &query).await;
            let outcome = if ok(&r) {
                true
            } else if forbidden(&r) {
                false
            } else {
                panic!("{operation} as {role}: neither allowed nor FORBIDDEN: {r}");
            };
            if outcome != *may {
                wrong.push(format!(
                    "{operation} as {role}: expected {}, got {r}",
                    if *may { "allowed" } else { "FORBIDDEN" }
                ));
            }
            if !outcome {
                assert_eq!(
                    s.service.head(),
                    head_before,
                    "{operation} as {role} appended despite FORBIDDEN"
                );
            }
        }
    }
    assert!(wrong.is_empty(), "{}", wrong.join("\n"));

    // Personal fields: in full for staff who call owners back, masked for
    // analysts and auditors.
    for (role, headers) in ROLES {
        let r = gql(
            s.addr,
            headers,
            r#"{ ticket(id: "T-1") { reporterName reporterPhone } }"#,
        )
        .await;
        let masked = matches!(role, "analyst" | "auditor");
        let expected = if masked {
            json!({ "reporterName": "王**", "reporterPhone": "138****5678" })
        } else {
            json!({ "reporterName": "王小明", "reporterPhone": "13812345678" })
        };
        assert_eq!(r["data"]["ticket"], expected, "{role}");
    }
    for (role, headers) in [ROLES[0], ROLES[1], ROLES[6]] {
        let r = gql(s.addr, headers, r#"{ owner(id: "O-1") { name phone idNumber } }"#).await;
        assert_eq!(
            r["data"]["owner"],
            json!({ "name": "王小明", "phone": "13812345678", "idNumber": "11010519491231002X" }),
            "{role}"
        );
    }
}
