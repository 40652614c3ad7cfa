//! A replay "as of" a point of a ticket's history, and what the clocks
//! and history entries explain of themselves.

use serde_json::{json, Value};

use crate::support::tickets::{receive, repair_input, start_at, AGENT, AUDITOR};
use crate::support::{instant, int, ok};

/// An auditor's replay "as of" a point of a ticket's history shows the
/// clocks as they stood then, evaluated from the history up to the cut,
/// never the live ones.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_replay_as_of_a_cut_shows_the_clocks_as_they_stood_then() {
    // A Monday morning in Shanghai; the report comes in at 09:30 and is
    // acknowledged at 10:15.
    let s = start_at(instant("2026-03-16T10:30:00+08:00")).await;
    let a = s.addr;
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
