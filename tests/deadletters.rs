//! One event a view cannot read never stops the system. An event planted
//! straight through the store API (as an older build or a raw tool could
//! write it) is set aside by every view, which keeps going: a later ticket
//! is listed, `/readyz` answers 200 and says degraded with the position,
//! `/metrics` counts it, the ticket's history marks it, commands on that
//! ticket are refused naming it, and `aftersales log verify` names it. The
//! operator's `aftersales log append` refuses such a payload in a domain
//! stream and leaves the log as it was.

use std::time::Duration;

use eventlog::{EventId, EventMetadata, EventStore, ExpectedVersion, NewEvent, StreamId};
use serde_json::json;

use crate::graphql::RECEIVE;
use crate::repair::aftersales;
use crate::support::{code, gql, request, seed_fixtures, serve, stop, AGENT_7};

const WAIT: Duration = Duration::from_secs(30);

/// Appends to `stream`, through the store API, an `Accepted` event whose
/// payload is a text; returns its position.
async fn plant(store: &dyn EventStore, stream: &str) -> u64 {
    let event = NewEvent {
        id: EventId::new_random(),
        event_type: "Accepted".into(),
        schema_version: 1,
        payload: eventlog::codec::encode(&"hello".to_string()).unwrap_or_else(|e| panic!("{e}")),
        metadata: EventMetadata {
            actor: "old-build".into(),
            role: "operator".into(),
            channel: "cli".into(),
            ..EventMetadata::default()
        },
    };
    store
        .append(
            &StreamId::new(stream).unwrap_or_else(|e| panic!("{e}")),
            ExpectedVersion::Any,
            vec![event],
        )
        .await
        .unwrap_or_else(|e| panic!("{e}"))
        .last_position()
}

/// Receives a ticket with idempotency key `key`; returns its id.
async fn receive(addr: std::net::SocketAddr, key: &str) -> String {
    let r = gql(addr, AGENT_7, RECEIVE, json!({ "key": key })).await;
    assert!(r.get("errors").is_none(), "{r}");
    r["data"]["receiveTicket"]["ticket"]["id"]
        .as_str()
        .unwrap_or_else(|| panic!("no ticket id in {r}"))
        .to_string()
}

async fn get(addr: std::net::SocketAddr, path: &str) -> (u16, String) {
    request(addr, "GET", path, "", "").await
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn an_unreadable_event_is_set_aside_reported_and_never_stops_the_views() {
    let dir = tempfile::tempdir().unwrap_or_else(|e| panic!("{e}"));
    let data = dir.path().join("data");
    let run = serve(&data).await;
    seed_fixtures(&run.service).await;
    let first = receive(run.addr, "dl-1").await;
    let bad = plant(run.service.store().as_ref(), &format!("ticket-{first}")).await;
    let later = receive(run.addr, "dl-2").await;
    let head = run.service.head().unwrap_or_else(|| panic!("the log is empty"));
    assert!(head > bad);
    // Every view gets past the event (today's views stop at it).
    for view in run.service.views() {
        view.wait_for(head, WAIT)
            .await
            .unwrap_or_else(|e| panic!("view {}: {e}", view.name()));
        let letters = view.dead_letters().unwrap_or_else(|e| panic!("{e}"));
        assert_eq!(
            letters.iter().map(|l| l.position).collect::<Vec<_>>(),
            vec![bad],
            "{}",
            view.name()
        );
    }
    // The later ticket is listed.
    let list = gql(
        run.addr,
        AGENT_7,
        "{ tickets(first: 50) { edges { node { id } } } }",
        json!({}),
    )
    .await;
    let ids: Vec<&str> = list["data"]["tickets"]["edges"]
        .as_array()
        .unwrap_or_else(|| panic!("no list in {list}"))
        .iter()
        .filter_map(|e| e["node"]["id"].as_str())
        .collect();
    assert!(ids.contains(&later.as_str()) && ids.contains(&first.as_str()), "{list}");

    // Ready, degraded, naming the position.
    let (status, body) = get(run.addr, "/readyz").await;
    assert_eq!(status, 200, "{body}");
    assert!(body.starts_with("ready (degraded: "), "{body}");
    assert!(
        body.contains(&format!("set aside the unreadable Accepted event at position {bad}")),
        "{body}"
    );
    assert!(body.contains("tickets"), "{body}");

    // The gauge, per view.
    let (status, metrics) = get(run.addr, "/metrics").await;
    assert_eq!(status, 200);
    for view in ["tickets", "sla", "satisfaction", "contractors", "defects", "archive"] {
        let series = format!("aftersales_view_dead_letters{{view=\"{view}\"}} 1");
        assert!(metrics.lines().any(|l| l == series), "{series} missing in\n{metrics}");
    }

    // The history answers with the readable events and marks the other.
    let history = gql(
        run.addr, AGENT_7,
        "query($id: String!) { ticketHistory(id: $id) { events { position type summary included actor } state { status } } }",
        json!({ "id": first }),
    )
    .await;
    assert!(history.get("errors").is_none(), "{history}");
    let events = history["data"]["ticketHistory"]["events"]
        .as_array()
        .unwrap_or_else(|| panic!("no events in {history}"));
    assert_eq!(events.len(), 2, "{history}");
    assert_eq!(events[0]["type"], "Received", "{history}");
    let marked = &events[1];
    assert_eq!(marked["type"], "Unreadable", "{history}");
    assert_eq!(marked["position"], json!(bad), "{history}");
    assert_eq!(marked["included"], json!(false), "{history}");
    assert_eq!(marked["actor"], "old-build", "{history}");
    assert!(
        marked["summary"]
            .as_str()
            .is_some_and(|s| s.starts_with("unreadable Accepted event: ")),
        "{history}"
    );
    assert_eq!(history["data"]["ticketHistory"]["state"]["status"], "RECEIVED");

    // A command on that ticket is refused, naming the position.
    let r = gql(
        run.addr,
        AGENT_7,
        "mutation($id: String!) { acknowledgeTicket(input: { ticketId: $id }) { position } }",
        json!({ "id": first }),
    )
    .await;
    assert_eq!(code(&r), "UNREADABLE_RECORD", "{r}");
    let message = r["errors"][0]["message"].as_str().unwrap_or_default();
    assert!(message.contains(&format!("position {bad}")), "{r}");
    // The other ticket takes commands.
    let r = gql(
        run.addr,
        AGENT_7,
        "mutation($id: String!) { acknowledgeTicket(input: { ticketId: $id }) { position } }",
        json!({ "id": later }),
    )
    .await;
    assert!(r.get("errors").is_none(), "{r}");
    stop(run).await;

    // `verify` names it and exits non-zero.
    let verify = aftersales(&data, &["log", "verify"]);
    let out = String::from_utf8_lossy(&verify.stdout).into_owned();
    let err = String::from_utf8_lossy(&verify.stderr).into_owned();
    assert!(!verify.status.success(), "{out}\n{err}");
    assert!(
        out.contains(&format!(
            "position {bad} in stream ticket-{first} (Accepted) cannot be read"
        )),
        "{out}\n{err}"
    );
    assert!(err.contains("1 events of the domain's streams cannot be read"), "{err}");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn log_append_refuses_an_unreadable_payload_in_a_domain_stream() {
    let dir = tempfile::tempdir().unwrap_or_else(|e| panic!("{e}"));
    let data = dir.path().join("data");
    let append = |stream: &str| {
        aftersales(
            &data,
            &[
                "log", "append", "--stream", stream, "--type", "Accepted", "--body", "hello",
            ],
        )
    };
    // A stream no view reads takes a raw event.
    let ok = append("tool-1");
    assert!(ok.status.success(), "{}", String::from_utf8_lossy(&ok.stderr));
    let head_before = String::from_utf8_lossy(&aftersales(&data, &["log", "stats"]).stdout).into_owned();
    assert!(head_before.contains("head position: 0"), "{head_before}");
    for stream in [
        "ticket-T-1",
        "project-HZ-1",
        "unit-HZ-1-3-1502",
        "owner-O-1",
        "incident-I-1",
        "contractor-C-1",
        "engineer-E-1",
    ] {
        let refused = append(stream);
        let err = String::from_utf8_lossy(&refused.stderr).into_owned();
        assert!(!refused.status.success(), "{stream}: {err}");
        let line = err
            .lines()
            .find(|l| l.starts_with("error: "))
            .unwrap_or_else(|| panic!("{stream}: no error line in {err}"));
        assert!(
            line.contains(&format!("refused: stream {stream} is read by the views"))
                && line.contains("nothing was appended"),
            "{line}"
        );
    }
    let head_after = String::from_utf8_lossy(&aftersales(&data, &["log", "stats"]).stdout).into_owned();
    assert_eq!(head_before, head_after);
    // The log holds nothing the views cannot read.
    let verify = aftersales(&data, &["log", "verify"]);
    assert!(verify.status.success(), "{}", String::from_utf8_lossy(&verify.stderr));
}
