//! Erasure of an owner's personal data (PIPL art. 47) by crypto-shredding:
//! personal values are sealed before they reach the log, so no file of
//! the data folder ever holds them in clear; erasing the owner destroys
//! their keys, after which no query reveals the values, every history
//! still replays, and SLA figures and reports are what they were.

use std::net::SocketAddr;
use std::path::{Path, PathBuf};

use serde_json::json;

use crate::support::{gql, ok, stop, Running};

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
    crate::support::settle(&run).await;
    run
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
/// How staff type the erased owner's phone number and a resident ID
/// number into free text.
const PHONE_TYPED: &str = "139-8765-4321";
const PHONE_TYPED_86: &str = "+86 139 8765 4321";
const ID_TYPED: &str = "11010519491231002X";
const ANALYST: (&str, &str) = ("ana-1", "analyst");

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

/// The files of `dir` that contain `needle`, or whose path does.
fn holding(dir: &Path, needle: &[u8]) -> Vec<PathBuf> {
    files(dir)
        .into_iter()
        .filter(|f| {
            f.to_string_lossy()
                .as_bytes()
                .windows(needle.len())
                .any(|w| w == needle)
                || std::fs::read(f)
                    .unwrap_or_default()
                    .windows(needle.len())
                    .any(|w| w == needle)
        })
        .collect()
}

fn hex(bytes: &[u8]) -> String {
    bytes.iter().map(|b| format!("{b:02x}")).collect()
}

/// Every form in which a pseudonym or hash of `phone` could be stored
/// with the secrets the key folder `keys` still holds: for each
/// `*.secret` file, HMAC-SHA256 of the number under it (whole and cut to
/// 16 bytes, raw and in hexadecimal), as a subject name (`phone-…`) and as
/// the SHA-256 of that name (a key file's name); plus every name the key
/// folder itself derives from the number.
fn derived_forms(keys: &Path, phone: &str) -> Vec<Vec<u8>> {
    use hmac::Mac as _;
    use sha2::Digest as _;
    let mut forms: Vec<Vec<u8>> = Vec::new();
    for secret in files(keys)
        .into_iter()
        .filter(|f| f.extension().is_some_and(|e| e == "secret"))
    {
        let bytes = std::fs::read(&secret).unwrap_or_else(|e| panic!("{e}"));
        let mut mac = <hmac::Hmac<sha2::Sha256> as hmac::Mac>::new_from_slice(&bytes).unwrap_or_else(|e| panic!("{e}"));
        mac.update(phone.as_bytes());
        let mac = mac.finalize().into_bytes().to_vec();
        for cut in [&mac[..], &mac[..16]] {
            let name = hex(cut);
            forms.push(cut.to_vec());
            forms.push(name.clone().into_bytes());
            let subject = format!("phone-{name}");
            forms.push(hex(&sha2::Sha256::digest(subject.as_bytes())).into_bytes());
            forms.push(subject.into_bytes());
        }
    }
    assert!(!forms.is_empty(), "the key folder keeps a secret");
    let ring = keyring::Keyring::open(keys).unwrap_or_else(|e| panic!("{e}"));
    forms.extend(ring.derived_names(phone).into_iter().map(String::into_bytes));
    forms
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

/// The erasure of `owner`, as `aftersales erase-owner … --request …` runs
/// it, the service's clock at `at`.
async fn erase_owner(data: &Path, at: chrono::DateTime<chrono::Utc>, owner: &str) -> application::service::Erasure {
    let service = crate::support::open_service_at(data, at);
    application::jobs::wait_ready(&service, |_| {})
        .await
        .unwrap_or_else(|e| panic!("{}", e.message()));
    let acting = application::service::Acting::by(domain::actor::Actor::staff(
        "dpo-1".parse().unwrap_or_else(|e| panic!("{e}")),
        domain::actor::Role::Admin,
    ));
    let outcome = service
        .erase_owner(
            &owner.parse().unwrap_or_else(|e| panic!("{e}")),
            "PIPL-2026-007",
            acting,
        )
        .await
        .unwrap_or_else(|e| panic!("{}", e.message()));
    service.shutdown().await.unwrap_or_else(|e| panic!("{}", e.message()));
    outcome
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
    // Staff type the owner's number and an ID number into free text: a
    // report's description and a comment on the unlinked report.
    ok(
        a,
        AGENT,
        "mutation($input: ReceiveTicketInput!) { receiveTicket(input: $input) { position } }",
        json!({ "input": {
            "ticketId": "T-ER-4", "kind": "REPAIR", "channel": "HOTLINE", "priority": "NORMAL",
            "category": "ENGINEERING", "trade": "LEAK",
            "description": format!("业主回电{PHONE_TYPED}，身份证{ID_TYPED}，问维修进度"),
            "reporter": { "ownerId": "O-ER", "familyName": "欧阳", "givenName": GIVEN, "phone": PHONE },
            "location": { "projectId": "P-ER", "place": "3号楼大堂" },
            "occurredAt": "2026-10-12T02:05:00Z"
        } }),
    )
    .await;
    ok(
        a,
        AGENT,
        "mutation($input: CommentTicketInput!) { commentTicket(input: $input) { position } }",
        json!({ "input": { "ticketId": "T-ER-2", "text": format!("请拨{PHONE_TYPED_86}联系") } }),
    )
    .await;
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
    // Free text: as typed for staff, masked for analysts.
    const DESCRIPTION: &str = "query($id: String!) { ticket(id: $id) { description } }";
    let t4 = ok(a, AGENT, DESCRIPTION, json!({ "id": "T-ER-4" })).await;
    assert_eq!(
        t4["ticket"]["description"],
        format!("业主回电{PHONE_TYPED}，身份证{ID_TYPED}，问维修进度")
    );
    let t4 = ok(a, ANALYST, DESCRIPTION, json!({ "id": "T-ER-4" })).await;
    assert_eq!(
        t4["ticket"]["description"],
        "业主回电139****4321，身份证1***************2X，问维修进度"
    );
    let comments = ok(a, MANAGER, HISTORY, json!({ "id": "T-ER-2" })).await.to_string();
    assert!(comments.contains(&format!("请拨{PHONE_TYPED_86}联系")), "{comments}");
    // Reports are read from views that follow the log asynchronously;
    // the snapshot is taken once every view has the acknowledgement.
    application::jobs::wait_ready(&run.service, |_| {})
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
    for needle in [
        PHONE,
        GIVEN,
        ID_NUMBER,
        OTHER_PHONE,
        PHONE_TYPED,
        PHONE_TYPED_86,
        ID_TYPED,
    ] {
        assert_eq!(
            holding(data, needle.as_bytes()),
            Vec::<PathBuf>::new(),
            "{needle} in clear"
        );
    }
    let keys = keyring::Keyring::open(data.join("keys")).unwrap_or_else(|e| panic!("{e}"));
    let owner_key_file = keys.key_path(&eventformat::sealing::owner_subject(
        &"O-ER".parse().unwrap_or_else(|e| panic!("{e}")),
    ));
    let phone_subjects = eventformat::sealing::phone_subjects(&keys, PHONE).unwrap_or_else(|e| panic!("{e}"));
    assert_eq!(phone_subjects.len(), 1, "{phone_subjects:?}");
    let phone_key_file = keys.key_path(&phone_subjects[0]);
    let owner_key = std::fs::read(&owner_key_file).unwrap_or_else(|e| panic!("{e}"));
    let phone_key = std::fs::read(&phone_key_file).unwrap_or_else(|e| panic!("{e}"));
    drop(keys);

    // The erasure, as `aftersales erase-owner O-ER --request …` runs it.
    let erase = |at| erase_owner(data, at, "O-ER");
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
    for needle in [PHONE, GIVEN, ID_NUMBER, PHONE_TYPED, PHONE_TYPED_86, ID_TYPED] {
        assert_eq!(
            holding(data, needle.as_bytes()),
            Vec::<PathBuf>::new(),
            "{needle} in clear"
        );
    }
    // Nothing left lets anyone confirm a guessed phone number: no
    // pseudonym or hash of it that the surviving key folder can compute
    // occurs in any file of the data folder, or in any file's name.
    for form in derived_forms(&data.join("keys"), PHONE) {
        assert_eq!(
            holding(data, &form),
            Vec::<PathBuf>::new(),
            "{} is derived from the erased number",
            String::from_utf8_lossy(&form)
        );
    }
    let keys = keyring::Keyring::open(data.join("keys")).unwrap_or_else(|e| panic!("{e}"));
    assert_eq!(
        eventformat::sealing::phone_subjects(&keys, PHONE).unwrap_or_else(|e| panic!("{e}")),
        Vec::<String>::new()
    );
    drop(keys);

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
    let t4 = ok(a, AGENT, DESCRIPTION, json!({ "id": "T-ER-4" })).await;
    assert_eq!(
        t4["ticket"]["description"],
        "业主回电[erased]，身份证[erased]，问维修进度"
    );
    let comments = ok(a, MANAGER, HISTORY, json!({ "id": "T-ER-2" })).await.to_string();
    assert!(comments.contains("请拨[erased]联系"), "{comments}");
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
    let described = gql(
        a,
        ADMIN,
        "{ tickets(first: 50) { edges { node { description } } } }",
        json!({}),
    )
    .await
    .to_string();
    assert!(
        !described.contains(PHONE_TYPED) && !described.contains(ID_TYPED) && described.contains("[erased]"),
        "{described}"
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
    // ... under a new subject, unrelated to the erased one.
    let keys = keyring::Keyring::open(data.join("keys")).unwrap_or_else(|e| panic!("{e}"));
    let now = eventformat::sealing::phone_subjects(&keys, PHONE).unwrap_or_else(|e| panic!("{e}"));
    assert_eq!(now.len(), 1);
    assert_ne!(now, phone_subjects);
}

/// A data folder of an earlier build named a caller's subject after the
/// HMAC of their number under `keys/pseudonym.secret`. The first open by
/// this build links those subjects to their numbers in the pseudonym index
/// and destroys that secret: the old reports still read, an erasure
/// reaches them, and afterwards nothing left computes the old pseudonym
/// from the number (only a copy of the old secret would: backups of the key
/// folder must expire).
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn an_earlier_builds_phone_pseudonyms_are_adopted_then_unlinkable_once_erased() {
    let dir = tempfile::tempdir().unwrap_or_else(|e| panic!("{e}"));
    let data = dir.path().join("data");
    let keys = data.join("keys");
    // The earlier build's key folder: its secret, and (below) its subject
    // name for the caller's number, which this build is made to use.
    std::fs::create_dir_all(&keys).unwrap_or_else(|e| panic!("{e}"));
    let old_secret = [0x5au8; 32];
    std::fs::write(keys.join("pseudonym.secret"), old_secret).unwrap_or_else(|e| panic!("{e}"));
    let legacy = {
        let ring = keyring::Keyring::open(&keys).unwrap_or_else(|e| panic!("{e}"));
        let legacy = ring
            .legacy_pseudonym(PHONE)
            .unwrap_or_else(|| panic!("no legacy secret"));
        ring.adopt_pseudonym(PHONE, &legacy).unwrap_or_else(|e| panic!("{e}"));
        legacy
    };
    let run = serve(&data, hours_on(0)).await;
    let a = run.addr;
    ok(
        a,
        ADMIN,
        r#"mutation { registerProject(input: { projectId: "P-ER", name: "滨江壹号", city: "杭州" }) { position } }"#,
        json!({}),
    )
    .await;
    receive(a, "T-OLD", None, "欧阳", "女士", PHONE).await;
    stop(run).await;
    // Make the folder what the earlier build left: its secret (which this
    // build's first open destroyed, as it found nothing to adopt), no id,
    // no index, no list of subjects, nothing recorded in the data folder.
    assert!(!keys.join("pseudonym.secret").exists());
    std::fs::write(keys.join("pseudonym.secret"), old_secret).unwrap_or_else(|e| panic!("{e}"));
    for gone in ["keyring.id", "phones.secret", "subjects"] {
        std::fs::remove_file(keys.join(gone)).unwrap_or_else(|e| panic!("{gone}: {e}"));
    }
    std::fs::remove_dir_all(keys.join("phones")).unwrap_or_else(|e| panic!("{e}"));
    std::fs::remove_file(data.join("keys.id")).unwrap_or_else(|e| panic!("{e}"));
    let subject = format!("phone-{legacy}");
    assert!(
        !holding(&data.join("log"), subject.as_bytes()).is_empty(),
        "the log names the old subject"
    );

    // Opened by this build: adopted, the old secret destroyed, the report
    // readable; the owner registers with that number.
    let run = serve(&data, hours_on(1)).await;
    let a = run.addr;
    assert!(!keys.join("pseudonym.secret").exists(), "the old secret is destroyed");
    let t = ok(a, AGENT, TICKET, json!({ "id": "T-OLD" })).await;
    assert_eq!(t["ticket"]["reporterPhone"], PHONE, "{t}");
    ok(
        a,
        ADMIN,
        "mutation($input: RegisterOwnerInput!) { registerOwner(input: $input) { position } }",
        json!({ "input": { "ownerId": "O-OLD", "familyName": "欧阳", "givenName": GIVEN, "phone": PHONE } }),
    )
    .await;
    stop(run).await;

    let erasure = erase_owner(&data, hours_on(2), "O-OLD").await;
    assert_eq!(erasure.keys_destroyed, 2, "the owner's key and the old subject's");
    let run = serve(&data, hours_on(3)).await;
    let t = ok(run.addr, AGENT, TICKET, json!({ "id": "T-OLD" })).await;
    assert_eq!(t["ticket"]["reporterPhone"], "[erased]", "{t}");
    stop(run).await;
    for form in derived_forms(&keys, PHONE) {
        assert_eq!(
            holding(&data, &form),
            Vec::<PathBuf>::new(),
            "{} is derived from the erased number",
            String::from_utf8_lossy(&form)
        );
    }
    // Only the old secret, which no longer exists, links the number to the
    // name the log keeps.
    use hmac::Mac as _;
    let mut mac =
        <hmac::Hmac<sha2::Sha256> as hmac::Mac>::new_from_slice(&old_secret).unwrap_or_else(|e| panic!("{e}"));
    mac.update(PHONE.as_bytes());
    assert_eq!(hex(&mac.finalize().into_bytes()[..16]), legacy);
    assert!(!holding(&data.join("log"), subject.as_bytes()).is_empty());
    assert!(holding(&keys, &old_secret).is_empty());
}
