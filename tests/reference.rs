//! Reference data operators own, end to end: a new year's holiday
//! arrangement published while tickets run into that year settles their
//! provisional deadlines (and only those), replay before the publication
//! shows the deadlines as they were, every refusal appends nothing, and a
//! published version is never edited.

use std::net::SocketAddr;

use serde_json::{json, Value};

use crate::support::{code, gql, instant, seed_fixtures, serve_at};

const RECEIVE: &str = r#"mutation($p: Priority!, $key: String, $at: DateTime) {
  receiveTicket(input: {
    kind: REPAIR, channel: HOTLINE, priority: $p, category: ENGINEERING, trade: LEAK,
    description: "卫生间天花板渗水",
    reporter: { ownerId: "O-1", familyName: "王", givenName: "小明", phone: "13812345678" },
    location: { projectId: "HZ-1", buildingId: "HZ-1-3", unitId: "HZ-1-3-1502" },
    idempotencyKey: $key, occurredAt: $at
  }) { position ticket { id } }
}"#;

const CLOCKS: &str = "query($id: String!) { ticket(id: $id) { clocks { clock dueAt provisional calendarVersion } } }";

const PUBLISH: &str = r#"mutation($text: String!, $dry: Boolean) {
  publishCalendar(input: { text: $text, source: "notice-2027.toml", dryRun: $dry }) {
    id version sha256 dryRun position bundledFirst
    settled { ticketId clocks { clock dueBefore dueAfter } }
  }
}"#;

async fn call(addr: SocketAddr, role: &str, query: &str, variables: Value) -> Value {
    gql(addr, ("agent-7", role), query, variables).await
}

/// Receives a repair, at 10:00 on 30 December 2026 unless `at` says
/// otherwise (the server's clock runs on from there).
async fn receive(addr: SocketAddr, priority: &str, key: &str, at: Option<&str>) -> String {
    let at = at.unwrap_or("2026-12-30T10:00:00+08:00");
    let r = call(addr, "agent", RECEIVE, json!({ "p": priority, "key": key, "at": at })).await;
    r["data"]["receiveTicket"]["ticket"]["id"]
        .as_str()
        .unwrap_or_else(|| panic!("{r}"))
        .to_string()
}

/// Each clock of a ticket: (clock, dueAt as an instant, provisional,
/// calendar version).
async fn clocks(addr: SocketAddr, id: &str) -> Vec<(String, Option<String>, bool, String)> {
    let r = call(addr, "agent", CLOCKS, json!({ "id": id })).await;
    r["data"]["ticket"]["clocks"]
        .as_array()
        .unwrap_or_else(|| panic!("{r}"))
        .iter()
        .map(|c| {
            (
                c["clock"].as_str().unwrap_or_default().to_string(),
                c["dueAt"].as_str().map(|t| instant(t).to_rfc3339()),
                c["provisional"].as_bool().unwrap_or_default(),
                c["calendarVersion"].as_str().unwrap_or_default().to_string(),
            )
        })
        .collect()
}

fn due(list: &[(String, Option<String>, bool, String)], clock: &str) -> (Option<String>, bool, String) {
    let (_, d, p, v) = list
        .iter()
        .find(|(c, ..)| c == clock)
        .unwrap_or_else(|| panic!("no {clock} clock in {list:?}"));
    (d.clone(), *p, v.clone())
}

fn at(text: &str) -> Option<String> {
    Some(instant(text).to_rfc3339())
}

#[tokio::test]
async fn publishing_a_new_year_settles_provisional_deadlines_only() {
    let dir = tempfile::tempdir().unwrap_or_else(|e| panic!("{e}"));
    // Wednesday 30 December 2026, 10:00 in Beijing: the bundled calendar
    // ends with 2026.
    let run = serve_at(dir.path(), instant("2026-12-30T10:00:00+08:00")).await;
    seed_fixtures(&run.service).await;
    let addr = run.addr;

    // A normal repair: first response (1 business day) due Thursday 31
    // December, definitive; on site (2 days) and resolution (7 days) run
    // into January 2027, provisional (weekdays only).
    let open = receive(addr, "NORMAL", "open", None).await;
    let before = clocks(addr, &open).await;
    assert_eq!(
        due(&before, "FIRST_RESPONSE"),
        (at("2026-12-31T10:00:00+08:00"), false, "2026.1".into())
    );
    assert_eq!(
        due(&before, "ON_SITE"),
        (at("2027-01-01T10:00:00+08:00"), true, "2026.1".into())
    );
    assert_eq!(
        due(&before, "RESOLUTION"),
        (at("2027-01-08T10:00:00+08:00"), true, "2026.1".into())
    );
    // The same, withdrawn before the publication: finished, it keeps what
    // it had.
    let withdrawn = receive(addr, "NORMAL", "withdrawn", None).await;
    let w = call(
        addr,
        "agent",
        r#"mutation($id: String!) { withdrawTicket(input: { ticketId: $id, reason: "owner fixed it" }) { ticket { status } } }"#,
        json!({ "id": withdrawn }),
    )
    .await;
    assert_eq!(w["data"]["withdrawTicket"]["ticket"]["status"], "WITHDRAWN", "{w}");
    let withdrawn_before = clocks(addr, &withdrawn).await;
    // An emergency counts every minute: nothing provisional.
    let emergency = receive(addr, "EMERGENCY", "emergency", None).await;
    let emergency_before = clocks(addr, &emergency).await;
    assert!(emergency_before.iter().all(|(_, _, p, _)| !p), "{emergency_before:?}");
    // Received in March: every deadline in a year the calendar covers.
    let march = receive(addr, "NORMAL", "march", Some("2026-03-16T10:00:00+08:00")).await;
    let march_before = clocks(addr, &march).await;
    assert!(march_before.iter().all(|(_, _, p, _)| !p), "{march_before:?}");

    let head_before = run.service.head();
    let text = domain::testing::calendar_with_2027("2027.1");

    // A dry run says what would move and appends nothing.
    let dry = call(addr, "admin", PUBLISH, json!({ "text": text, "dry": true })).await;
    let payload = &dry["data"]["publishCalendar"];
    assert_eq!(payload["dryRun"], true, "{dry}");
    assert_eq!(payload["position"], Value::Null);
    assert_eq!(payload["settled"].as_array().map(Vec::len), Some(1), "{dry}");
    assert_eq!(run.service.head(), head_before, "a dry run appended");

    // Only the archive's roles publish; a refusal appends nothing.
    for role in ["agent", "manager", "analyst", "auditor"] {
        let refused = call(addr, role, PUBLISH, json!({ "text": text })).await;
        assert_eq!(code(&refused), "FORBIDDEN", "{role}: {refused}");
    }
    assert_eq!(run.service.head(), head_before);

    // Published: the bundled files first (the folder had none), then 2027.
    let published = call(addr, "admin", PUBLISH, json!({ "text": text })).await;
    let payload = &published["data"]["publishCalendar"];
    assert_eq!(payload["version"], "2027.1", "{published}");
    assert_eq!(payload["sha256"], domain::reference::sha256(&text));
    assert_eq!(payload["bundledFirst"].as_array().map(Vec::len), Some(3), "{published}");
    let settled = payload["settled"].as_array().unwrap_or_else(|| panic!("{published}"));
    assert_eq!(settled.len(), 1, "{published}");
    assert_eq!(settled[0]["ticketId"], open.as_str());
    let moved: Vec<(&str, &str, &str)> = settled[0]["clocks"]
        .as_array()
        .unwrap_or_else(|| panic!("{published}"))
        .iter()
        .map(|c| {
            (
                c["clock"].as_str().unwrap_or_default(),
                c["dueBefore"].as_str().unwrap_or_default(),
                c["dueAfter"].as_str().unwrap_or_default(),
            )
        })
        .collect();
    assert_eq!(moved.len(), 2, "{moved:?}");
    let position = payload["position"].as_u64().unwrap_or_else(|| panic!("{published}"));

    // The open ticket's provisional clocks moved past New Year's Day; its
    // definitive first-response deadline did not.
    let after = clocks(addr, &open).await;
    assert_eq!(due(&after, "FIRST_RESPONSE"), due(&before, "FIRST_RESPONSE"));
    assert_eq!(
        due(&after, "ON_SITE"),
        (at("2027-01-04T10:00:00+08:00"), false, "2027.1".into())
    );
    assert_eq!(
        due(&after, "RESOLUTION"),
        (at("2027-01-11T10:00:00+08:00"), false, "2027.1".into())
    );
    // Nothing else moved.
    assert_eq!(clocks(addr, &withdrawn).await, withdrawn_before);
    assert_eq!(clocks(addr, &emergency).await, emergency_before);
    assert_eq!(clocks(addr, &march).await, march_before);

    // The ticket's history records the change with both deadlines, and a
    // replay before it shows the deadlines as they were then (cut by when
    // things happened: the server's clock, started at 10:00, is not the
    // machine's, which stamps when the log recorded them).
    let history = call(
        addr,
        "auditor",
        r#"query($id: String!) { ticketHistory(id: $id, asOf: { occurredAt: "2026-12-30T10:00:00.001+08:00" }) {
            events { type summary position included }
            state { clocks { clock dueAt provisional calendarVersion } } } }"#,
        json!({ "id": open }),
    )
    .await;
    let events = history["data"]["ticketHistory"]["events"]
        .as_array()
        .unwrap_or_else(|| panic!("{history}"));
    let settle = events
        .iter()
        .find(|e| e["type"] == "CalendarSettled")
        .unwrap_or_else(|| panic!("{history}"));
    assert_eq!(settle["position"].as_u64(), Some(position), "{history}");
    assert_eq!(settle["included"], false, "{history}");
    let summary = settle["summary"].as_str().unwrap_or_default();
    assert!(
        summary.contains("2027.1") && summary.contains("2027-01-08 10:00") && summary.contains("2027-01-11 10:00"),
        "{summary}"
    );
    let replayed = history["data"]["ticketHistory"]["state"]["clocks"]
        .as_array()
        .unwrap_or_else(|| panic!("{history}"));
    let resolution = replayed
        .iter()
        .find(|c| c["clock"] == "RESOLUTION")
        .unwrap_or_else(|| panic!("{history}"));
    assert_eq!(
        resolution["dueAt"].as_str().map(|t| instant(t).to_rfc3339()),
        at("2027-01-08T10:00:00+08:00")
    );
    assert_eq!(resolution["provisional"], true);
    assert_eq!(resolution["calendarVersion"], "2026.1");

    // A new ticket now counts on 2027.1 from the start.
    let fresh = receive(addr, "NORMAL", "fresh", None).await;
    let fresh_clocks = clocks(addr, &fresh).await;
    assert!(
        fresh_clocks.iter().all(|(_, _, p, v)| !p && v == "2027.1"),
        "{fresh_clocks:?}"
    );

    // Every version is listed with its publication.
    let listed = call(
        addr,
        "analyst",
        "{ referenceVersions(kind: CALENDAR) { id version source years publishedBy } }",
        json!({}),
    )
    .await;
    let versions = listed["data"]["referenceVersions"]
        .as_array()
        .unwrap_or_else(|| panic!("{listed}"));
    assert_eq!(versions.len(), 2, "{listed}");
    assert_eq!(versions[1]["version"], "2027.1");
    assert_eq!(versions[1]["source"], "notice-2027.toml");
    assert_eq!(versions[1]["years"], json!([2024, 2025, 2026, 2027]));
    let project = call(
        addr,
        "agent",
        r#"{ projectReferenceData(projectId: "HZ-1") { calendarId calendarVersion calendarYears policyVersion warrantyVersion } }"#,
        json!({}),
    )
    .await;
    assert_eq!(
        project["data"]["projectReferenceData"]["calendarVersion"], "2027.1",
        "{project}"
    );

    // A published version is never edited: the same version with other
    // content is refused; so is an older version number.
    let head = run.service.head();
    let edited = text.replace("\"2027-10-09\"", "\"2027-10-16\"");
    let refused = call(addr, "admin", PUBLISH, json!({ "text": edited })).await;
    assert_eq!(code(&refused), "INVALID_REFERENCE_DATA", "{refused}");
    let problems = refused["errors"][0]["extensions"]["problems"].to_string();
    assert!(problems.contains("never edited"), "{problems}");
    assert_eq!(run.service.head(), head, "a refusal appended");
    crate::support::stop(run).await;
}

#[tokio::test]
async fn every_problem_of_a_file_is_listed_and_nothing_is_appended() {
    let dir = tempfile::tempdir().unwrap_or_else(|e| panic!("{e}"));
    let run = serve_at(dir.path(), instant("2026-12-30T10:00:00+08:00")).await;
    seed_fixtures(&run.service).await;
    let addr = run.addr;
    let head = run.service.head();
    let good = domain::testing::calendar_with_2027("2027.1");
    let cases: Vec<(&str, String, Vec<&str>)> = vec![
        ("not TOML", "years = [".into(), vec!["does not parse"]),
        (
            "two problems",
            good.replace("working_days = [\"2027-02-14\"]", "working_days = [\"2027-02-15\"]")
                .replace("years = [2024, 2025, 2026, 2027]", "years = [2025, 2026, 2027]"),
            vec!["already a working day", "2024 is missing"],
        ),
        (
            "a day of a published year changed",
            good.replace(
                "working_days = [\"2026-09-20\", \"2026-10-10\"]",
                "working_days = [\"2026-10-10\"]",
            ),
            vec!["2026-09-20 was an adjusted working day"],
        ),
    ];
    for (name, text, fragments) in cases {
        let r = call(addr, "admin", PUBLISH, json!({ "text": text })).await;
        assert_eq!(code(&r), "INVALID_REFERENCE_DATA", "{name}: {r}");
        let problems = r["errors"][0]["extensions"]["problems"].to_string();
        for fragment in fragments {
            assert!(problems.contains(fragment), "{name}: {problems}");
        }
        assert_eq!(run.service.head(), head, "{name}: a refusal appended");
    }
    // Policies: targets out of order, an unknown project.
    let policy = domain::policy::DEFAULT_POLICY_TOML
        .replace("version = \"2026.1\"", "version = \"2027.1\"")
        .replace("first_response = \"30m 24x7\"", "first_response = \"3d business\"");
    let policy = format!("{policy}\n[[rules]]\nkind = \"repair\"\nproject = \"XX-9\"\nresolution = \"1d business\"\n");
    let r = call(
        addr,
        "admin",
        r#"mutation($text: String!) { publishPolicy(input: { text: $text, source: "p.toml" }) { version } }"#,
        json!({ "text": policy }),
    )
    .await;
    assert_eq!(code(&r), "INVALID_REFERENCE_DATA", "{r}");
    let problems = r["errors"][0]["extensions"]["problems"].to_string();
    assert!(
        problems.contains("emergency ≤ urgent ≤ normal") && problems.contains("project XX-9 does not exist"),
        "{problems}"
    );
    assert_eq!(run.service.head(), head);
    crate::support::stop(run).await;
}

#[tokio::test]
async fn a_project_chooses_its_policy_from_a_day_on() {
    let dir = tempfile::tempdir().unwrap_or_else(|e| panic!("{e}"));
    // Monday 4 January 2027, 10:00 in Beijing.
    let run = serve_at(dir.path(), instant("2027-01-04T10:00:00+08:00")).await;
    seed_fixtures(&run.service).await;
    let addr = run.addr;
    // A stricter policy: normal repairs resolved in 5 business days, not 7.
    let strict = domain::policy::DEFAULT_POLICY_TOML
        .replace("id = \"default\"", "id = \"strict\"")
        .replace("version = \"2026.1\"", "version = \"2027.1\"")
        .replace("resolution = \"7d business\"", "resolution = \"5d business\"");
    assert!(strict.contains("5d business") && strict.contains("\"strict\""));
    let r = call(
        addr,
        "admin",
        r#"mutation($text: String!) { publishPolicy(input: { text: $text, source: "strict.toml" }) { id version } }"#,
        json!({ "text": strict }),
    )
    .await;
    assert_eq!(r["data"]["publishPolicy"]["id"], "strict", "{r}");

    const CHOOSE: &str = r#"mutation($policy: String, $from: NaiveDate! = "2027-01-04") {
      chooseProjectReferenceData(input: { projectId: "HZ-1", policyId: $policy, effectiveFrom: $from, reason: "城市公司决定" }) {
        project { referenceChoices { policyId effectiveFrom reason } }
      }
    }"#;
    // Refusals append nothing: a policy never published, another role, a
    // day in the past (tickets received then keep what they had).
    let head = run.service.head();
    let past = call(
        addr,
        "admin",
        CHOOSE,
        json!({ "policy": "strict", "from": "2027-01-02" }),
    )
    .await;
    assert_eq!(code(&past), "BAD_INPUT", "{past}");
    let missing = call(addr, "admin", CHOOSE, json!({ "policy": "unheard-of" })).await;
    assert_eq!(code(&missing), "NOT_FOUND", "{missing}");
    let forbidden = call(addr, "agent", CHOOSE, json!({ "policy": "strict" })).await;
    assert_eq!(code(&forbidden), "FORBIDDEN", "{forbidden}");
    assert_eq!(run.service.head(), head);

    let chosen = call(addr, "admin", CHOOSE, json!({ "policy": "strict" })).await;
    assert_eq!(
        chosen["data"]["chooseProjectReferenceData"]["project"]["referenceChoices"],
        json!([{ "policyId": "strict", "effectiveFrom": "2027-01-04", "reason": "城市公司决定" }]),
        "{chosen}"
    );

    // A report of yesterday entered now keeps the default policy; one of
    // this morning gets the project's new one.
    let resolution_policy = |clocks: &Value| {
        clocks
            .as_array()
            .and_then(|c| c.iter().find(|c| c["clock"] == "RESOLUTION"))
            .map(|c| (c["policyId"].clone(), c["targetMinutes"].clone()))
            .unwrap_or_else(|| panic!("{clocks}"))
    };
    const POLICY_CLOCKS: &str =
        "query($id: String!) { ticket(id: $id) { clocks { clock policyId policyVersion targetMinutes } } }";
    let old = receive(addr, "NORMAL", "old", Some("2027-01-03T10:00:00+08:00")).await;
    let r = call(addr, "agent", POLICY_CLOCKS, json!({ "id": old })).await;
    assert_eq!(
        resolution_policy(&r["data"]["ticket"]["clocks"]),
        (json!("default"), json!(3150))
    );
    let new = receive(addr, "NORMAL", "new", Some("2027-01-04T09:30:00+08:00")).await;
    let r = call(addr, "agent", POLICY_CLOCKS, json!({ "id": new })).await;
    assert_eq!(
        resolution_policy(&r["data"]["ticket"]["clocks"]),
        (json!("strict"), json!(2250))
    );

    // What a project uses on a given day.
    const IN_FORCE: &str = r#"query($on: NaiveDate) { projectReferenceData(projectId: "HZ-1", on: $on) { policyId policyVersion calendarId } }"#;
    let before = call(addr, "analyst", IN_FORCE, json!({ "on": "2027-01-03" })).await;
    assert_eq!(
        before["data"]["projectReferenceData"]["policyId"], "default",
        "{before}"
    );
    let after = call(addr, "analyst", IN_FORCE, json!({ "on": "2027-01-05" })).await;
    assert_eq!(after["data"]["projectReferenceData"]["policyId"], "strict", "{after}");
    assert_eq!(after["data"]["projectReferenceData"]["policyVersion"], "2027.1");
    // Which projects use which policy.
    let usage = call(
        addr,
        "analyst",
        r#"{ referenceUsage(on: "2027-01-05") { projectId policyId calendarId warrantyId } }"#,
        json!({}),
    )
    .await;
    assert_eq!(
        usage["data"]["referenceUsage"],
        json!([
            { "projectId": "HZ-1", "policyId": "strict", "calendarId": "cn-mainland", "warrantyId": "default" },
            { "projectId": "SH-2", "policyId": "default", "calendarId": "cn-mainland", "warrantyId": "default" }
        ]),
        "{usage}"
    );
    crate::support::stop(run).await;
}

/// A caller in trusted headers: user, role, and the company or owner
/// record it acts for.
async fn call_as(addr: SocketAddr, user: &str, role: &str, extra: &str, query: &str, variables: Value) -> Value {
    let headers = format!("x-user-id: {user}\r\nx-user-role: {role}\r\n{extra}");
    let v = gql(addr, &headers, query, variables).await;
    assert!(v.get("errors").is_none(), "{query}: {v}");
    v
}

#[tokio::test]
async fn a_clock_restarted_after_the_publication_is_settled_by_that_command() {
    let dir = tempfile::tempdir().unwrap_or_else(|e| panic!("{e}"));
    let run = serve_at(dir.path(), instant("2026-12-30T10:00:00+08:00")).await;
    seed_fixtures(&run.service).await;
    crate::support::seed_directory(&run.service, &["C-ACME"], &[]).await;
    // Delivered in June 2025: the diagnosis decides on warranty from it.
    let system = domain::actor::Actor::staff(
        domain::ids::UserId::new("system").unwrap_or_else(|e| panic!("{e}")),
        domain::actor::Role::System,
    );
    run.service
        .unit_command(
            &domain::ids::UnitId::new("HZ-1-3-1502").unwrap_or_else(|e| panic!("{e}")),
            domain::archive::UnitCommand::RecordDelivery {
                delivered_on: chrono::NaiveDate::from_ymd_opt(2025, 6, 30).unwrap_or_default(),
            },
            application::service::Acting::by(system),
        )
        .await
        .unwrap_or_else(|e| panic!("{}", e.message()));
    let addr = run.addr;
    let id = receive(addr, "URGENT", "restart", None).await;
    let t = |extra: Value| {
        let mut input = json!({ "ticketId": id });
        if let (Some(i), Some(e)) = (input.as_object_mut(), extra.as_object()) {
            i.extend(e.clone());
        }
        json!({ "input": input })
    };
    let worker = "x-contractor-id: C-ACME\r\n";
    let owner = "x-owner-id: O-1\r\n";
    let steps: [(&str, &str, &str, &str, &str, Value); 7] = [
        (
            "agent-7",
            "agent",
            "",
            "acknowledgeTicket",
            "AcknowledgeTicketInput",
            json!({ "note": "called" }),
        ),
        (
            "mgr-2",
            "manager",
            "",
            "dispatchTicket",
            "DispatchTicketInput",
            json!({ "contractorId": "C-ACME" }),
        ),
        (
            "worker-9",
            "contractor",
            worker,
            "scheduleVisit",
            "ScheduleVisitInput",
            json!({ "from": "2026-12-30T11:00:00+08:00", "to": "2026-12-30T13:00:00+08:00" }),
        ),
        (
            "worker-9",
            "contractor",
            worker,
            "recordArrival",
            "NoteInput",
            json!({ "note": "on site" }),
        ),
        (
            "eng-3",
            "engineer",
            "",
            "diagnoseTicket",
            "DiagnoseTicketInput",
            json!({ "cause": "防水层破损", "responsible": "DEVELOPER", "item": "WATERPROOFED_ROOMS",
                    "plan": "重做防水层", "materials": [], "durationMinutes": 120 }),
        ),
        (
            "owner-wang",
            "owner",
            owner,
            "confirmPlan",
            "ConfirmPlanInput",
            json!({ "confirmation": "SIG-1" }),
        ),
        (
            "worker-9",
            "contractor",
            worker,
            "completeRepair",
            "CompleteRepairInput",
            json!({ "summary": "重做防水层", "usageAdvice": "48小时内勿用水" }),
        ),
    ];
    for (user, role, extra, name, input, fields) in steps {
        let query = format!("mutation($input: {input}!) {{ {name}(input: $input) {{ position }} }}");
        call_as(addr, user, role, extra, &query, t(fields)).await;
    }
    // Repaired: the resolution clock stopped (on 2026.1), so the
    // publication leaves it alone.
    let text = domain::testing::calendar_with_2027("2027.1");
    let published = call(addr, "admin", PUBLISH, json!({ "text": text })).await;
    assert_eq!(published["data"]["publishCalendar"]["version"], "2027.1", "{published}");
    let settled = published["data"]["publishCalendar"]["settled"].to_string();
    assert!(!settled.contains(&id), "{settled}");
    assert_eq!(due(&clocks(addr, &id).await, "RESOLUTION").2, "2026.1");
    // The owner rejects the repair: the resolution clock runs again, and
    // the same command settles it on 2027.1.
    call_as(
        addr,
        "owner-wang",
        "owner",
        owner,
        "mutation($input: ReasonInput!) { rejectRepair(input: $input) { position } }",
        t(json!({ "reason": "仍有渗水" })),
    )
    .await;
    let (_, provisional, version) = due(&clocks(addr, &id).await, "RESOLUTION");
    assert_eq!((provisional, version.as_str()), (false, "2027.1"));
    let history = call(
        addr,
        "auditor",
        "query($id: String!) { ticketHistory(id: $id) { events { type } } }",
        json!({ "id": id }),
    )
    .await;
    let types: Vec<&str> = history["data"]["ticketHistory"]["events"]
        .as_array()
        .unwrap_or_else(|| panic!("{history}"))
        .iter()
        .filter_map(|e| e["type"].as_str())
        .collect();
    assert_eq!(types[types.len() - 2..], ["Rejected", "CalendarSettled"], "{types:?}");
    crate::support::stop(run).await;
}
