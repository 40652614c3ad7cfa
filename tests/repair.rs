//! `aftersales repair` end to end: a data folder whose write-ahead file
//! is damaged in the middle (a copy of the log taken while the server
//! ran, with views that had folded every event) is refused by `verify`
//! and `serve`; the repair keeps every valid frame, reports the lost
//! position and rebuilds the views; the service then starts and serves
//! every ticket but the lost one.

use std::path::{Path, PathBuf};
use std::process::{Command, Output, Stdio};
use std::sync::OnceLock;
use std::time::Duration;

use serde_json::{json, Value};

use crate::graphql::RECEIVE;
use crate::support::{gql, seed_fixtures, AGENT_7};
use crate::support::{serve, stop};

/// The `aftersales` binary. This test target is not the binary's package,
/// so Cargo does not build it for the test: it is built here, as `cargo
/// build` builds it (a no-op when it is current), once per run.
fn aftersales_binary() -> &'static Path {
    static BINARY: OnceLock<PathBuf> = OnceLock::new();
    BINARY.get_or_init(|| {
        let root = Path::new(env!("CARGO_MANIFEST_DIR")).join("..");
        let mut build = Command::new(env!("CARGO"));
        build.current_dir(&root).args([
            "build",
            "--quiet",
            "--locked",
            "-p",
            "api",
            "--bin",
            "aftersales",
            "--message-format=json",
        ]);
        if !cfg!(debug_assertions) {
            build.arg("--release");
        }
        let output = build
            .output()
            .unwrap_or_else(|e| panic!("cannot run cargo to build aftersales: {e}"));
        assert!(
            output.status.success(),
            "building aftersales failed: {}",
            String::from_utf8_lossy(&output.stderr)
        );
        String::from_utf8_lossy(&output.stdout)
            .lines()
            .filter_map(|line| serde_json::from_str::<Value>(line).ok())
            .filter(|m| m["reason"] == "compiler-artifact" && m["target"]["name"] == "aftersales")
            .find_map(|m| m["executable"].as_str().map(PathBuf::from))
            .unwrap_or_else(|| panic!("cargo did not name the aftersales executable"))
    })
}

pub(crate) fn aftersales(data: &Path, args: &[&str]) -> Output {
    Command::new(aftersales_binary())
        .arg("--data")
        .arg(data)
        .args(args)
        .env("RUST_LOG", "warn")
        .output()
        .unwrap_or_else(|e| panic!("cannot run aftersales: {e}"))
}

fn text(bytes: &[u8]) -> String {
    String::from_utf8_lossy(bytes).into_owned()
}

/// Runs `aftersales serve` and waits for it to exit (it must refuse to
/// start); a server still running after 60 s fails the test.
fn serve_refuses(data: &Path) -> String {
    let child = Command::new(aftersales_binary())
        .arg("--data")
        .arg(data)
        .args(["serve", "--listen", "127.0.0.1:0", "--trust-identity-headers"])
        .env("RUST_LOG", "warn")
        .stdout(Stdio::null())
        .stderr(Stdio::piped())
        .spawn()
        .unwrap_or_else(|e| panic!("cannot run aftersales serve: {e}"));
    // A thread waits for the exit and hands over the output; the test
    // waits for that, at most a minute.
    let pid = child.id();
    let (exited, exit) = std::sync::mpsc::channel();
    std::thread::spawn(move || {
        let _ = exited.send(child.wait_with_output());
    });
    let output = match exit.recv_timeout(Duration::from_secs(60)) {
        Ok(output) => output.unwrap_or_else(|e| panic!("reading aftersales serve's output: {e}")),
        Err(e) => {
            let _ = Command::new("kill").args(["-KILL", &pid.to_string()]).status();
            panic!("aftersales serve did not refuse the damaged folder within 60 s: {e}");
        }
    };
    let status = output.status;
    assert!(!status.success(), "serve started on a damaged folder");
    text(&output.stderr)
}

fn copy_dir(from: &Path, to: &Path) -> std::io::Result<()> {
    std::fs::create_dir_all(to)?;
    for entry in std::fs::read_dir(from)? {
        let entry = entry?;
        let target = to.join(entry.file_name());
        if entry.file_type()?.is_dir() {
            copy_dir(&entry.path(), &target)?;
        } else {
            std::fs::copy(entry.path(), target)?;
        }
    }
    Ok(())
}

/// Receives a ticket; returns its id and the log position of the change.
async fn receive(addr: std::net::SocketAddr, key: &str) -> (String, u64) {
    let r = gql(addr, AGENT_7, RECEIVE, json!({ "key": key })).await;
    let id = r["data"]["receiveTicket"]["ticket"]["id"]
        .as_str()
        .unwrap_or_else(|| panic!("{r}"))
        .to_owned();
    let position = r["data"]["receiveTicket"]["position"]
        .as_u64()
        .unwrap_or_else(|| panic!("{r}"));
    (id, position)
}

async fn ticket_ids(addr: std::net::SocketAddr) -> Vec<String> {
    let r = gql(
        addr,
        AGENT_7,
        "{ tickets(first: 50) { edges { node { id } } } }",
        json!({}),
    )
    .await;
    let mut ids: Vec<String> = r["data"]["tickets"]["edges"]
        .as_array()
        .unwrap_or_else(|| panic!("{r}"))
        .iter()
        .filter_map(|e| e["node"]["id"].as_str().map(str::to_owned))
        .collect();
    ids.sort();
    ids
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_damaged_write_ahead_file_is_refused_then_repaired_and_served_without_the_lost_event() {
    let dir = tempfile::tempdir().unwrap_or_else(|e| panic!("{e}"));
    let data = dir.path().join("data");
    let run = serve(&data).await;
    seed_fixtures(&run.service).await;
    let mut tickets = Vec::new();
    for key in ["repair-e2e-1", "repair-e2e-2", "repair-e2e-3", "repair-e2e-4"] {
        tickets.push(receive(run.addr, key).await);
    }
    let mut all: Vec<String> = tickets.iter().map(|(id, _)| id.clone()).collect();
    all.sort();
    assert_eq!(ticket_ids(run.addr).await, all, "the views hold every ticket");
    // The log as a kill would leave it: every change only in its
    // write-ahead file. The views, stopped cleanly, hold every ticket.
    let killed_log = dir.path().join("killed-log");
    copy_dir(&data.join("log"), &killed_log).unwrap_or_else(|e| panic!("{e}"));
    stop(run).await;
    std::fs::remove_dir_all(data.join("log")).unwrap_or_else(|e| panic!("{e}"));
    std::fs::rename(&killed_log, data.join("log")).unwrap_or_else(|e| panic!("{e}"));

    // The second ticket's event, damaged in the middle of the file.
    let (lost_id, lost_position) = tickets[1].clone();
    let wal_dir = data.join("log").join("wal");
    let wal = std::fs::read_dir(&wal_dir)
        .unwrap_or_else(|e| panic!("{e}"))
        .flatten()
        .map(|e| e.path())
        .find(|p| p.extension().is_some_and(|x| x == "log"))
        .unwrap_or_else(|| panic!("no write-ahead file"));
    let mut bytes = std::fs::read(&wal).unwrap_or_else(|e| panic!("{e}"));
    let name = format!("ticket-{lost_id}");
    let at = bytes
        .windows(name.len())
        .position(|w| w == name.as_bytes())
        .unwrap_or_else(|| panic!("{name} is not in the write-ahead file"));
    bytes[at..at + name.len()].fill(0);
    std::fs::write(&wal, &bytes).unwrap_or_else(|e| panic!("{e}"));

    // Refused, naming the damage and the way on.
    let verify = aftersales(&data, &["verify"]);
    let refusal = text(&verify.stderr);
    assert!(!verify.status.success(), "{refusal}");
    assert!(
        refusal.contains("is damaged at byte") && refusal.contains("aftersales repair"),
        "{refusal}"
    );
    assert_eq!(refusal.trim().lines().count(), 1, "one line: {refusal}");
    let refusal = serve_refuses(&data);
    assert!(refusal.contains("aftersales repair"), "{refusal}");

    // The repair: exactly the damaged event is lost, the views are rebuilt.
    let repair = aftersales(&data, &["repair"]);
    let report = text(&repair.stdout);
    assert!(repair.status.success(), "{report}{}", text(&repair.stderr));
    assert!(
        report.contains(&format!("lost: positions {lost_position} (1 event)")),
        "{report}"
    );
    assert!(report.contains("opened and verified"), "{report}");
    assert!(report.contains("rebuilt"), "the views were rebuilt: {report}");
    let preserved = data.join("log").join("repair-1");
    assert_eq!(
        std::fs::read(preserved.join("wal").join(wal.file_name().unwrap_or_default()))
            .unwrap_or_else(|e| panic!("{e}")),
        bytes,
        "the damaged file is preserved as it was"
    );
    let written = std::fs::read_to_string(preserved.join("report.txt")).unwrap_or_else(|e| panic!("{e}"));
    assert!(report.starts_with(&written), "the printed report is the written one");
    let verify = aftersales(&data, &["verify"]);
    let verified = text(&verify.stdout);
    assert!(verify.status.success(), "{verified}{}", text(&verify.stderr));
    assert!(verified.contains("1 of those positions were lost"), "{verified}");
    let again = aftersales(&data, &["repair"]);
    assert!(again.status.success());
    assert!(
        text(&again.stdout).contains("nothing to repair"),
        "{}",
        text(&again.stdout)
    );

    // The service starts and serves every ticket but the lost one.
    let run = serve(&data).await;
    application::jobs::wait_ready(&run.service, |_| {})
        .await
        .unwrap_or_else(|e| panic!("the views do not catch up: {}", e.message()));
    let kept: Vec<String> = all.iter().filter(|id| **id != lost_id).cloned().collect();
    assert_eq!(ticket_ids(run.addr).await, kept);
    let gone = gql(
        run.addr,
        AGENT_7,
        "query($id: String!) { ticket(id: $id) { id } }",
        json!({ "id": lost_id }),
    )
    .await;
    assert!(gone["data"]["ticket"].is_null(), "{gone}");
    // New work goes on after the repair.
    let (_, position) = receive(run.addr, "repair-e2e-5").await;
    assert_eq!(position, tickets[3].1 + 1, "positions stay dense");
    stop(run).await;
}
