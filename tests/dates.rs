//! The suite gives the same answer on every calendar day: tests build their
//! data from dates they state (`domain::testing::test_today`, or an
//! instant of their own), and the server's "now" is a clock they start,
//! never the machine's.

use std::path::{Path, PathBuf};

use serde_json::json;

use crate::graphql::RECEIVE;
use crate::support::{gql, instant, seed_fixtures, serve_at, stop, AGENT_7};

/// Reads of the machine's date or time that would make a test's data
/// depend on the day it runs (`Instant::now`, a monotonic stopwatch, is
/// fine).
const CLOCK_READS: [&str; 5] = [
    "Utc::now(",
    "Local::now(",
    "SystemTime::now(",
    "ops::today(",
    "UNIX_EPOCH",
];

fn rust_files(dir: &Path, out: &mut Vec<PathBuf>) {
    let Ok(entries) = std::fs::read_dir(dir) else {
        return;
    };
    for entry in entries.flatten() {
        let path = entry.path();
        if path.is_dir() {
            rust_files(&path, out);
        } else if path.extension().is_some_and(|e| e == "rs") {
            out.push(path);
        }
    }
}

#[test]
fn no_test_or_benchmark_reads_the_machines_clock_for_its_data() {
    let root = Path::new(env!("CARGO_MANIFEST_DIR")).join("..");
    let mut files = Vec::new();
    rust_files(&root.join("tests"), &mut files);
    for krate in ["domain", "eventlog", "projections", "api"] {
        rust_files(&root.join("crates").join(krate).join("tests"), &mut files);
        rust_files(&root.join("crates").join(krate).join("benches"), &mut files);
    }
    assert!(files.len() > 20, "the scan found the test sources: {files:?}");
    let this = Path::new(file!()).file_name().unwrap_or_default();
    let mut found = Vec::new();
    for file in files.iter().filter(|f| f.file_name() != Some(this)) {
        let text = std::fs::read_to_string(file).unwrap_or_else(|e| panic!("{}: {e}", file.display()));
        for (n, line) in text.lines().enumerate() {
            if CLOCK_READS.iter().any(|r| line.contains(r)) {
                found.push(format!("{}:{}: {}", file.display(), n + 1, line.trim()));
            }
        }
    }
    assert!(
        found.is_empty(),
        "tests take their dates from domain::testing::test_today or state them:\n{}",
        found.join("\n")
    );
}

#[tokio::test]
async fn the_servers_clock_starts_where_the_test_says() {
    // Leap day 2024, late in the evening in Shanghai: long before the day
    // any machine runs this.
    let at = instant("2024-02-29T23:30:00+08:00");
    let dir = tempfile::tempdir().unwrap_or_else(|e| panic!("{e}"));
    let run = serve_at(dir.path(), at).await;
    seed_fixtures(&run.service).await;
    let r = gql(run.addr, AGENT_7, RECEIVE, json!({ "key": "clock-1" })).await;
    let id = r["data"]["receiveTicket"]["ticket"]["id"]
        .as_str()
        .unwrap_or_default()
        .to_string();
    assert!(!id.is_empty(), "{r}");
    let t = gql(
        run.addr,
        AGENT_7,
        "query($id: String!) { ticket(id: $id) { receivedAt clocks { clock startedAt } } }",
        json!({ "id": id }),
    )
    .await;
    let received = chrono::DateTime::parse_from_rfc3339(t["data"]["ticket"]["receivedAt"].as_str().unwrap_or_default())
        .unwrap_or_else(|e| panic!("{t}: {e}"));
    let after = received.with_timezone(&chrono::Utc) - at;
    assert!(
        after >= chrono::TimeDelta::zero() && after < chrono::TimeDelta::minutes(5),
        "received {received}, the clock started at {at}"
    );
    // "In the future" is judged by the same clock: the next morning is
    // refused, although the machine's clock is years past it.
    let tomorrow = RECEIVE.replace(
        "idempotencyKey: $key",
        "idempotencyKey: $key, occurredAt: \"2024-03-01T09:00:00+08:00\"",
    );
    let refused = gql(run.addr, AGENT_7, &tomorrow, json!({ "key": "clock-2" })).await;
    assert_eq!(refused["errors"][0]["extensions"]["code"], "BAD_INPUT", "{refused}");
    stop(run).await;
}
