//! `unitsByPhone`: intake finds a caller's units by the owner's phone,
//! digits compared (spaces, dashes and a +86 in front ignored), within the
//! caller's projects, masked per role, refused to roles that may not read
//! owners, and never after the owner's erasure.

use serde_json::{json, Value};

use crate::support::{seed_fixtures, start};

const AGENT: &str = "x-user-id: a-1\r\nx-user-role: agent\r\n";
const ENGINEER_SH: &str = "x-user-id: e-1\r\nx-user-role: engineer\r\nx-projects: SH-2\r\n";
const MANAGER_SH: &str = "x-user-id: m-1\r\nx-user-role: manager\r\nx-projects: SH-2\r\n";
const ANALYST: &str = "x-user-id: n-1\r\nx-user-role: analyst\r\n";

const LOOKUP: &str = "query($phone: String!) { unitsByPhone(phone: $phone) { unitId projectId buildingId number owner { id name phone } } }";

async fn lookup(addr: std::net::SocketAddr, who: &str, phone: &str) -> Value {
    crate::support::gql(addr, who, LOOKUP, json!({ "phone": phone })).await
}

fn units(answer: &Value) -> Vec<&str> {
    answer["data"]["unitsByPhone"]
        .as_array()
        .unwrap_or_else(|| panic!("{answer}"))
        .iter()
        .filter_map(|m| m["unitId"].as_str())
        .collect()
}

#[tokio::test]
async fn a_caller_is_found_by_phone_within_scope_and_never_after_erasure() {
    let s = start().await;
    // Owner O-1 (王小明, 13812345678) of HZ-1-3-1502 and SH-2-3-0801.
    seed_fixtures(&s.service).await;
    for typed in ["13812345678", "138 1234 5678", "+86 138-1234-5678", "0086 13812345678"] {
        let answer = lookup(s.addr, AGENT, typed).await;
        assert_eq!(units(&answer), ["HZ-1-3-1502", "SH-2-3-0801"], "{typed}: {answer}");
    }
    let answer = lookup(s.addr, AGENT, "13812345678").await;
    assert_eq!(
        answer["data"]["unitsByPhone"][0],
        json!({ "unitId": "HZ-1-3-1502", "projectId": "HZ-1", "buildingId": "HZ-1-3", "number": "1502",
                "owner": { "id": "O-1", "name": "王小明", "phone": "13812345678" } })
    );
    // Another number, or a number with one digit changed: nothing.
    assert_eq!(units(&lookup(s.addr, AGENT, "13812345679").await), Vec::<&str>::new());
    // A manager of SH-2 finds the SH-2 unit only.
    assert_eq!(units(&lookup(s.addr, MANAGER_SH, "13812345678").await), ["SH-2-3-0801"]);
    // Too few digits to mean a phone: a clear refusal.
    let short = lookup(s.addr, AGENT, "1381").await;
    assert_eq!(short["errors"][0]["extensions"]["code"], "BAD_INPUT", "{short}");
    // Roles that may not read owners are refused.
    for who in [ENGINEER_SH, ANALYST] {
        let refused = lookup(s.addr, who, "13812345678").await;
        assert_eq!(refused["errors"][0]["extensions"]["code"], "FORBIDDEN", "{refused}");
    }
    // Erased: the number no longer leads to the owner's units.
    let acting = application::service::Acting::by(domain::actor::Actor::staff(
        "dpo-1".parse().unwrap_or_else(|e| panic!("{e}")),
        domain::actor::Role::Admin,
    ));
    s.service
        .erase_owner(
            &"O-1".parse().unwrap_or_else(|e| panic!("{e}")),
            "PIPL-2026-011",
            acting,
        )
        .await
        .unwrap_or_else(|e| panic!("{}", e.message()));
    assert_eq!(units(&lookup(s.addr, AGENT, "13812345678").await), Vec::<&str>::new());
}
