//! The key folder belongs to its data folder: a missing or replaced
//! `data/keys` on a log with sealed values is refused, naming both folders,
//! and changes nothing; a single key file lost without an erasure reads as
//! damage (`[key missing]`), never as an erasure, and no new key is minted
//! for its subject.

use std::path::{Path, PathBuf};

use serde_json::{json, Value};

use crate::support::{gql, ok, serve, stop};

const ADMIN: (&str, &str) = ("admin-1", "admin");
const AGENT: (&str, &str) = ("agent-7", "agent");

const RECEIVE: &str = "mutation($input: ReceiveTicketInput!) { receiveTicket(input: $input) { position } }";
const TICKET: &str =
    "query($id: String!) { ticket(id: $id) { reporterName reporterPhone reporterErased description } }";
const OWNER: &str = "query($id: String!) { owner(id: $id) { name phone } }";

fn report(ticket: &str, owner: &str, phone: &str) -> Value {
    json!({ "input": {
        "ticketId": ticket, "kind": "REPAIR", "channel": "HOTLINE", "priority": "NORMAL",
        "category": "ENGINEERING", "trade": "LEAK", "description": format!("卫生间渗水，回电{phone}"),
        "reporter": { "ownerId": owner, "familyName": "王", "givenName": "芳", "phone": phone },
        "location": { "projectId": "P-K", "place": "1号楼大堂" }
    } })
}

/// A data folder with an owner and a report from them, all sealed.
async fn folder_with_sealed_values(data: &Path, owner: &str, phone: &str) {
    let run = serve(data).await;
    ok(
        run.addr,
        ADMIN,
        r#"mutation { registerProject(input: { projectId: "P-K", name: "西溪里", city: "杭州" }) { position } }"#,
        json!({}),
    )
    .await;
    ok(
        run.addr,
        ADMIN,
        "mutation($input: RegisterOwnerInput!) { registerOwner(input: $input) { position } }",
        json!({ "input": { "ownerId": owner, "familyName": "王", "givenName": "芳", "phone": phone } }),
    )
    .await;
    // The owner owns a unit of the project (a report names them only then).
    let unit = format!("P-K-1-{}", &phone[phone.len() - 3..]);
    crate::support::seed_owner(&run.service, owner, ("王", "芳"), phone, &[unit.as_str()]).await;
    ok(run.addr, AGENT, RECEIVE, report(&format!("T-{owner}"), owner, phone)).await;
    stop(run).await;
}

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

/// Every file under `dir` (path and bytes), to show that nothing changed.
fn snapshot(dir: &Path) -> Vec<(PathBuf, Vec<u8>)> {
    let mut all: Vec<_> = files(dir)
        .into_iter()
        .map(|f| {
            let bytes = std::fs::read(&f).unwrap_or_else(|e| panic!("{}: {e}", f.display()));
            (f, bytes)
        })
        .collect();
    all.sort();
    all
}

/// The message with which opening `data` is refused.
fn refusal(data: &Path) -> String {
    match application::service::Service::open(data) {
        Ok(service) => {
            let _ = service.close();
            panic!("{} opened", data.display())
        }
        Err(e) => e.message(),
    }
}

fn rename(from: &Path, to: &Path) {
    std::fs::rename(from, to).unwrap_or_else(|e| panic!("{} -> {}: {e}", from.display(), to.display()));
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_missing_or_replaced_key_folder_is_refused_and_changes_nothing() {
    let dir = tempfile::tempdir().unwrap_or_else(|e| panic!("{e}"));
    let data = dir.path().join("data");
    let keys = data.join("keys");
    folder_with_sealed_values(&data, "O-K1", "13811112222").await;
    let id = std::fs::read_to_string(keys.join("keyring.id")).unwrap_or_else(|e| panic!("{e}"));
    let id = id.trim();
    assert_eq!(
        std::fs::read_to_string(data.join("keys.id"))
            .unwrap_or_else(|e| panic!("{e}"))
            .trim(),
        id,
        "the data folder records its key folder"
    );

    // Deleted (moved away, as a backup): refused, naming both folders and
    // the way out; no key folder is created, no file of the data folder
    // changes.
    let backup = dir.path().join("keys-backup");
    rename(&keys, &backup);
    let before = snapshot(&data);
    let message = refusal(&data);
    for part in [
        data.display().to_string(),
        keys.display().to_string(),
        id.to_string(),
        "is missing".into(),
        "restore".into(),
    ] {
        assert!(message.contains(&part), "{part:?} not in: {message}");
    }
    assert!(!message.contains('\n'), "one line: {message}");
    assert!(!keys.exists(), "no new key folder");
    assert_eq!(snapshot(&data), before);

    // Replaced by another data folder's key folder: refused, and neither
    // folder changes.
    let other = dir.path().join("other");
    folder_with_sealed_values(&other, "O-K2", "13933334444").await;
    let other_id = std::fs::read_to_string(other.join("keys").join("keyring.id")).unwrap_or_else(|e| panic!("{e}"));
    rename(&other.join("keys"), &keys);
    let before = snapshot(&data);
    let message = refusal(&data);
    for part in [
        data.display().to_string(),
        keys.display().to_string(),
        id.to_string(),
        other_id.trim().to_string(),
        "restore".into(),
    ] {
        assert!(message.contains(&part), "{part:?} not in: {message}");
    }
    assert_eq!(snapshot(&data), before);
    rename(&keys, &other.join("keys"));

    // An empty folder in its place is refused too.
    std::fs::create_dir(&keys).unwrap_or_else(|e| panic!("{e}"));
    let before = snapshot(&data);
    let message = refusal(&data);
    assert!(message.contains("no keyring.id") && message.contains(id), "{message}");
    assert_eq!(snapshot(&data), before);
    std::fs::remove_dir(&keys).unwrap_or_else(|e| panic!("{e}"));

    // A data folder that recorded nothing (an earlier build's) without its
    // key folder: its log holds sealed values, so it is refused as well.
    rename(&data.join("keys.id"), &dir.path().join("keys.id"));
    let message = refusal(&data);
    assert!(
        message.contains("holds sealed personal values") && message.contains("restore"),
        "{message}"
    );
    assert!(!keys.exists() && !data.join("keys.id").exists());
    rename(&dir.path().join("keys.id"), &data.join("keys.id"));

    // The key folder restored from its backup: everything reads again.
    rename(&backup, &keys);
    let run = crate::support::serve_at(&data, domain::testing::test_now() + chrono::TimeDelta::hours(1)).await;
    let t = ok(run.addr, AGENT, TICKET, json!({ "id": "T-O-K1" })).await;
    assert_eq!(t["ticket"]["reporterPhone"], "13811112222", "{t}");
    assert_eq!(t["ticket"]["description"], "卫生间渗水，回电13811112222", "{t}");
    stop(run).await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_lost_key_file_reads_as_damage_and_no_new_key_is_minted() {
    let dir = tempfile::tempdir().unwrap_or_else(|e| panic!("{e}"));
    let data = dir.path().join("data");
    folder_with_sealed_values(&data, "O-K3", "13755556666").await;
    let ring = keyring::Keyring::open(data.join("keys")).unwrap_or_else(|e| panic!("{e}"));
    let key = ring.key_path(&eventformat::sealing::owner_subject(
        &"O-K3".parse().unwrap_or_else(|e| panic!("{e}")),
    ));
    drop(ring);
    std::fs::remove_file(&key).unwrap_or_else(|e| panic!("{e}"));

    // An hour later by the server's clock, as a second run would be.
    let run = crate::support::serve_at(&data, domain::testing::test_now() + chrono::TimeDelta::hours(1)).await;
    let a = run.addr;
    // Damage, not erasure.
    let t = ok(a, AGENT, TICKET, json!({ "id": "T-O-K3" })).await;
    assert_eq!(t["ticket"]["reporterName"], "[key missing]", "{t}");
    assert_eq!(t["ticket"]["reporterPhone"], "[key missing]", "{t}");
    assert_eq!(t["ticket"]["reporterErased"], false, "{t}");
    assert_eq!(t["ticket"]["description"], "卫生间渗水，回电[key missing]", "{t}");
    let o = ok(a, ADMIN, OWNER, json!({ "id": "O-K3" })).await;
    assert_eq!(o["owner"]["name"], "[key missing]", "{o}");
    // A new report for that owner would need their key: refused, and no
    // key is minted in place of the lost one.
    let refused = gql(a, AGENT, RECEIVE, report("T-O-K3-2", "O-K3", "13755556666")).await;
    assert_eq!(refused["errors"][0]["extensions"]["code"], "INTERNAL", "{refused}");
    assert!(!key.exists(), "a new key was minted for an existing subject");
    // Other work on the ticket goes on.
    ok(
        a,
        AGENT,
        r#"mutation { acknowledgeTicket(input: { ticketId: "T-O-K3", note: "已联系" }) { position } }"#,
        json!({}),
    )
    .await;
    let service = run.service.clone();
    // Erasing the owner is refused while their values cannot be read: the
    // keys of their phone numbers could not all be found.
    let acting = application::service::Acting::by(domain::actor::Actor::staff(
        "dpo-1".parse().unwrap_or_else(|e| panic!("{e}")),
        domain::actor::Role::Admin,
    ));
    let erased = service
        .erase_owner(&"O-K3".parse().unwrap_or_else(|e| panic!("{e}")), "PIPL-1", acting)
        .await;
    let message = erased.err().map(|e| e.message()).unwrap_or_default();
    assert!(message.contains("damaged") && message.contains("restore"), "{message}");
    drop(service);
    stop(run).await;
    assert!(!key.exists());
}

/// A fresh data folder, and one whose log `aftersales log append` filled
/// with events that are not the domain's (nothing sealed, no key folder),
/// both open: the key folder is created and recorded.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn fresh_folders_and_folders_with_only_appended_events_open() {
    let dir = tempfile::tempdir().unwrap_or_else(|e| panic!("{e}"));
    let fresh = dir.path().join("fresh");
    let service = application::service::Service::open(&fresh).unwrap_or_else(|e| panic!("{}", e.message()));
    service.shutdown().await.unwrap_or_else(|e| panic!("{}", e.message()));
    drop(service);
    assert!(fresh.join("keys").join("keyring.id").exists() && fresh.join("keys.id").exists());

    let appended = dir.path().join("appended");
    let store = application::jobs::open_log(&appended).unwrap_or_else(|e| panic!("{}", e.message()));
    for (stream, body) in [("t", "漏水"), ("ticket-1", "not a domain event")] {
        let event = eventlog::NewEvent {
            id: eventlog::EventId::new_random(),
            event_type: "Received".into(),
            schema_version: 1,
            payload: eventlog::codec::encode(&body.to_string()).unwrap_or_else(|e| panic!("{e}")),
            metadata: eventlog::EventMetadata::default(),
        };
        eventlog::EventStore::append(
            store.as_ref(),
            &eventlog::StreamId::new(stream).unwrap_or_else(|e| panic!("{e}")),
            eventlog::ExpectedVersion::Any,
            vec![event],
        )
        .await
        .unwrap_or_else(|e| panic!("{e}"));
    }
    store.close().unwrap_or_else(|e| panic!("{e}"));
    drop(store);
    assert!(!appended.join("keys").exists());
    let service = application::service::Service::open(&appended).unwrap_or_else(|e| panic!("{}", e.message()));
    service.shutdown().await.unwrap_or_else(|e| panic!("{}", e.message()));
    drop(service);
    let id = std::fs::read_to_string(appended.join("keys").join("keyring.id")).unwrap_or_else(|e| panic!("{e}"));
    let recorded = std::fs::read_to_string(appended.join("keys.id")).unwrap_or_else(|e| panic!("{e}"));
    assert_eq!(id.trim(), recorded.trim());
}
