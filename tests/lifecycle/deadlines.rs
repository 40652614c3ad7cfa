//! Service-level deadlines across the 2026 National Day holiday.

use serde_json::json;

use crate::support::tickets::{receive, repair_input, start_at, step, AGENT, ANALYST};
use crate::support::{instant, ok, settle};

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
    let s = start_at(instant("2026-10-19T10:00:00+08:00")).await;
    let a = s.addr;
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
    settle(&s).await;

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
    settle(&s).await;
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
