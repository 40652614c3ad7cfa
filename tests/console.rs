//! The staff console at `/`, in a real headless Chromium against a real
//! server: sign-in with a token, the work queue with its three clocks, a
//! ticket's actions offered by role and status, its timeline and the "as
//! of" replay, and a contractor who sees only its own work and is never
//! offered, nor allowed, what it may not do.

use application::auth::Principal;
use domain::actor::Role;
use domain::ids::{ContractorId, UserId};
use serde_json::{json, Value};

use crate::browser::open;
use crate::pages::{click, offered, picture, select, sign_in, type_into, wait_status};
use crate::support::{bearer, request, seed_directory, seed_fixtures, start_with_tokens};

pub(crate) fn principal(user: &str, role: Role, contractor: Option<&str>) -> Principal {
    Principal {
        user: UserId::new(user).unwrap_or_else(|e| panic!("{e}")),
        role,
        projects: Default::default(),
        contractor: contractor.map(|c| ContractorId::new(c).unwrap_or_else(|e| panic!("{e}"))),
        owner: None,
    }
}

pub(crate) async fn graphql(addr: std::net::SocketAddr, token: &str, query: &str, variables: Value) -> Value {
    let body = json!({ "query": query, "variables": variables }).to_string();
    let (status, text) = request(addr, "POST", "/graphql", &bearer(token), &body).await;
    assert_eq!(status, 200, "{text}");
    serde_json::from_str(&text).unwrap_or_else(|e| panic!("{e}: {text}"))
}

const RECEIVE: &str = "mutation($input: ReceiveTicketInput!) { receiveTicket(input: $input) { ticket { id status } } }";

fn report(id: &str, unit: &str, description: &str) -> Value {
    json!({
        "ticketId": id, "kind": "REPAIR", "channel": "HOTLINE", "priority": "URGENT",
        "category": "ENGINEERING", "trade": "LEAK", "description": description,
        "reporter": { "ownerId": "O-1", "familyName": "王", "givenName": "小明", "phone": "13812345678" },
        "location": { "projectId": unit.split('-').take(2).collect::<Vec<_>>().join("-"),
                      "buildingId": unit.split('-').take(3).collect::<Vec<_>>().join("-"), "unitId": unit }
    })
}

#[tokio::test]
async fn an_agent_and_a_contractor_work_a_ticket_in_the_console() {
    let (server, tokens) = start_with_tokens().await;
    seed_fixtures(&server.service).await;
    seed_directory(&server.service, &["C-001", "C-002"], &[]).await;
    let addr = server.addr;
    let token = |p: Principal| tokens.create(p, None).unwrap_or_else(|e| panic!("{e}")).0;
    let agent = token(principal("agent-7", Role::Agent, None));
    let contractor = token(principal("worker-1", Role::Contractor, Some("C-001")));

    let admin = token(principal("admin-1", Role::Admin, None));
    // The unit was delivered 260 days before the tests' today; it already
    // has an open engineering ticket, and another unit has one too.
    let delivered = (domain::testing::test_today() - chrono::TimeDelta::days(260)).to_string();
    let r = graphql(
        addr,
        &admin,
        "mutation($on: NaiveDate!) { recordDelivery(input: { unitId: \"HZ-1-3-1502\", deliveredOn: $on }) { position } }",
        json!({ "on": delivered }),
    )
    .await;
    assert!(r["errors"].is_null(), "{r}");
    for (id, unit, text) in [
        ("T-CONSOLE-0", "HZ-1-3-1502", "卫生间天花板渗水"),
        ("T-CONSOLE-2", "SH-2-3-0801", "客厅墙面开裂"),
    ] {
        let r = graphql(addr, &agent, RECEIVE, json!({ "input": report(id, unit, text) })).await;
        assert_eq!(r["data"]["receiveTicket"]["ticket"]["status"], "RECEIVED", "{r}");
    }

    // The page is served with a strict policy: no inline script, nothing
    // from elsewhere.
    let (status, page) = request(addr, "GET", "/", "", "").await;
    assert_eq!(status, 200);
    assert!(page.contains("/console/assets/app.js"), "{page}");

    let browser = open().await;
    sign_in(&browser, addr, &agent, "agent-7").await;

    // The agent takes a call: finds the unit, sees its owner, delivery
    // and warranty, the open ticket of the same category, scores the
    // severity, and records the report.
    click(&browser, "#nav-intake").await;
    // The caller does not know the room: the unit is found by the phone
    // (digits compared, spaces ignored); a number no owner has finds none.
    type_into(&browser, "#caller-phone", "139 0000 0000").await;
    click(&browser, "#caller-lookup").await;
    browser
        .until(
            "no unit for an unknown number",
            "document.querySelector('#phone-matches') && document.querySelector('#phone-matches').innerText.includes('没有业主')",
        )
        .await;
    browser
        .run("const i = document.querySelector('#caller-phone'); i.value = ''; i.dispatchEvent(new Event('input', { bubbles: true })); return true;")
        .await;
    type_into(&browser, "#caller-phone", "138 1234 5678").await;
    click(&browser, "#caller-lookup").await;
    let found = browser
        .until(
            "the owner's units",
            "document.querySelectorAll('#phone-matches button[data-unit]').length === 2 && \
             [...document.querySelectorAll('#phone-matches button[data-unit]')].map(b => b.dataset.unit)",
        )
        .await;
    assert_eq!(found, json!(["HZ-1-3-1502", "SH-2-3-0801"]), "the units of O-1");
    click(&browser, "#phone-matches button[data-unit=HZ-1-3-1502]").await;
    // Choosing one fills project, building and room.
    browser
        .until(
            "the chosen unit in the three selects",
            "document.querySelector('#intake-room') && document.querySelector('#intake-room').value === 'HZ-1-3-1502' && \
             document.querySelector('#intake-building').value === 'HZ-1-3' && document.querySelector('#intake-project').value === 'HZ-1'",
        )
        .await;
    browser
        .until(
            "the unit's delivery date",
            &format!("document.querySelector('#delivered-on') && document.querySelector('#delivered-on').innerText === {delivered:?}"),
        )
        .await;
    let facts = browser
        .run("return document.querySelector('#unit-facts').innerText")
        .await;
    let facts = facts.as_str().unwrap_or_default();
    assert!(
        facts.contains("王小明") && facts.contains("13812345678"),
        "the owner for an agent: {facts}"
    );
    let warranty = browser
        .run(
            "return [...document.querySelectorAll('#warranty tbody tr')]\
             .map(r => r.dataset.item + ':' + r.className)",
        )
        .await;
    let warranty: Vec<&str> = warranty
        .as_array()
        .map(|a| a.iter().filter_map(Value::as_str).collect())
        .unwrap_or_default();
    assert_eq!(warranty.len(), 16, "{warranty:?}");
    // Delivered 260 days before the report: in the two years for pipes,
    // the five for the roof, the decoration's two years too.
    assert!(warranty.contains(&"ROOF_WATERPROOFING:in"), "{warranty:?}");
    browser
        .until(
            "the warning of the open ticket of the same category",
            "document.querySelector('#duplicate-warning') && document.querySelector('#duplicate-warning').innerText.includes('T-CONSOLE-0')",
        )
        .await;
    select(&browser, "select[data-factor=impactScope]", "4").await;
    browser
        .until(
            "the severity to suggest an emergency",
            "document.querySelector('#severity') && document.querySelector('#severity').innerText.includes('紧急')",
        )
        .await;
    type_into(&browser, "#intake-description", "厨房水管爆裂，水已漫到客厅").await;
    picture(&browser, "intake").await;
    click(&browser, "#intake-submit").await;
    let created = browser
        .until(
            "the new ticket's id",
            "document.querySelector('#created a') && document.querySelector('#created a').innerText",
        )
        .await;
    let created = created.as_str().unwrap_or_default().to_string();
    assert!(!created.is_empty());
    let r = graphql(
        addr,
        &agent,
        "query($id: String!) { ticket(id: $id) { priority unitId reporterName status } }",
        json!({ "id": created }),
    )
    .await;
    assert_eq!(
        r["data"]["ticket"],
        json!({ "priority": "EMERGENCY", "unitId": "HZ-1-3-1502", "reporterName": "王小明", "status": "RECEIVED" }),
        "{r}"
    );

    // The queue has it at the top, its three clocks running.
    click(&browser, "header nav a[href='#/queue']").await;
    browser
        .until(
            "the queue to list the new ticket first",
            &format!("document.querySelector('tr[data-ticket]') && document.querySelector('tr[data-ticket]').dataset.ticket === {created:?}"),
        )
        .await;
    let clocks = browser
        .run(&format!(
            "return [...document.querySelectorAll('tr[data-ticket={created:?}] .clock')]\
             .map(c => c.dataset.clock + ':' + c.dataset.status)"
        ))
        .await;
    assert_eq!(
        clocks,
        json!(["FIRST_RESPONSE:RUNNING", "ON_SITE:RUNNING", "RESOLUTION:RUNNING"]),
        "the queue's clocks"
    );
    picture(&browser, "queue").await;
    let policy = browser.run("return document.querySelector('script[src]').src").await;
    assert!(policy.as_str().unwrap_or_default().ends_with("/console/assets/app.js"));

    // The ticket: acknowledge, then dispatch to C-001 through the forms.
    click(&browser, &format!("tr[data-ticket={created:?}] a")).await;
    wait_status(&browser, "已受理").await;
    let actions = offered(&browser).await;
    assert!(actions.contains(&"acknowledgeTicket".to_string()), "{actions:?}");
    assert!(!actions.contains(&"recordArrival".to_string()), "{actions:?}");
    click(&browser, "#actions button[data-action=acknowledgeTicket]").await;
    type_into(
        &browser,
        "form[data-action=acknowledgeTicket] input[name=note]",
        "已回电确认",
    )
    .await;
    click(&browser, "form[data-action=acknowledgeTicket] button[type=submit]").await;
    wait_status(&browser, "已确认").await;
    click(&browser, "#actions button[data-action=dispatchTicket]").await;
    type_into(
        &browser,
        "form[data-action=dispatchTicket] input[name=contractorId]",
        "C-001",
    )
    .await;
    click(&browser, "form[data-action=dispatchTicket] button[type=submit]").await;
    wait_status(&browser, "已派工").await;

    // The contractor signs in: only its ticket, only its actions.
    click(&browser, "#sign-out").await;
    sign_in(&browser, addr, &contractor, "worker-1").await;
    browser
        .until(
            "the contractor's queue to list its ticket",
            &format!("document.querySelector('tr[data-ticket={created:?}]')"),
        )
        .await;
    let rows = browser
        .run("return [...document.querySelectorAll('tr[data-ticket]')].map(r => r.dataset.ticket)")
        .await;
    assert_eq!(rows, json!([created]), "a contractor sees only work dispatched to it");
    // On a phone-sized screen: the ticket fits the width, its actions too.
    browser
        .client
        .set_window_size(390, 844)
        .await
        .unwrap_or_else(|e| panic!("{e}"));
    click(&browser, &format!("tr[data-ticket={created:?}] a")).await;
    wait_status(&browser, "已派工").await;
    let fits = browser
        .run(
            "return [document.documentElement.scrollWidth, window.innerWidth, \
             document.querySelector('#actions button[data-action=recordArrival]').getBoundingClientRect().right]",
        )
        .await;
    let width = |i: usize| fits[i].as_f64().unwrap_or(f64::MAX);
    assert!(
        width(1) < 500.0 && width(0) <= width(1) && width(2) <= width(1),
        "page width, screen width, the arrival button's right edge: {fits}"
    );
    let actions = offered(&browser).await;
    picture(&browser, "contractor-ticket").await;
    browser
        .client
        .set_window_size(1280, 900)
        .await
        .unwrap_or_else(|e| panic!("{e}"));
    assert!(actions.contains(&"recordArrival".to_string()), "{actions:?}");
    for never in [
        "acknowledgeTicket",
        "dispatchTicket",
        "diagnoseTicket",
        "closeTicket",
        "recordRevisit",
    ] {
        assert!(
            !actions.contains(&never.to_string()),
            "a contractor is offered {never}: {actions:?}"
        );
    }
    // Nor may a contractor look owners up by phone.
    let r = graphql(
        addr,
        &contractor,
        "{ unitsByPhone(phone: \"13812345678\") { unitId } }",
        json!({}),
    )
    .await;
    assert_eq!(r["errors"][0]["extensions"]["code"], "FORBIDDEN", "{r}");
    // A forged request from the page is refused and appends nothing.
    let head = server.service.head();
    let forged = browser
        .client
        .execute_async(
            "const done = arguments[arguments.length - 1]; \
             fetch('/graphql', { method: 'POST', headers: { 'content-type': 'application/json', \
               authorization: 'Bearer ' + sessionStorage.getItem('aftersales.token') }, \
               body: JSON.stringify({ query: 'mutation($id: String!) { dispatchTicket(input: { ticketId: $id, contractorId: \"C-002\" }) { position } }', \
               variables: { id: arguments[0] } }) }).then(r => r.json()).then(done);",
            vec![json!(created)],
        )
        .await
        .unwrap_or_else(|e| panic!("{e}"));
    assert_eq!(forged["errors"][0]["extensions"]["code"], "FORBIDDEN", "{forged}");
    assert_eq!(server.service.head(), head, "a refused command appended");
    // The token is in session storage, never in the address.
    let url = browser.client.current_url().await.unwrap_or_else(|e| panic!("{e}"));
    assert!(!url.as_str().contains(&contractor), "the token is in the URL");

    click(&browser, "#actions button[data-action=recordArrival]").await;
    type_into(&browser, "form[data-action=recordArrival] input[name=note]", "已到场").await;
    click(&browser, "form[data-action=recordArrival] button[type=submit]").await;
    wait_status(&browser, "已到场").await;

    // The engineer's diagnosis (cause and responsibility are never the
    // contractor's call), then the contractor completes the repair.
    let manager = token(principal("manager-1", Role::Manager, None));
    let r = graphql(
        addr,
        &manager,
        "mutation($id: String!) { diagnoseTicket(input: { ticketId: $id, cause: \"接头老化\", responsible: DEVELOPER, \
         item: WATER_SUPPLY_AND_DRAINAGE, plan: \"更换接头\", durationMinutes: 120 }) { position } }",
        json!({ "id": created }),
    )
    .await;
    assert!(r["errors"].is_null(), "{r}");
    browser.client.refresh().await.unwrap_or_else(|e| panic!("{e}"));
    wait_status(&browser, "已诊断").await;
    click(&browser, "#actions button[data-action=completeRepair]").await;
    type_into(
        &browser,
        "form[data-action=completeRepair] input[name=summary]",
        "已更换接头，试水无渗漏",
    )
    .await;
    click(&browser, "form[data-action=completeRepair] button[type=submit]").await;
    wait_status(&browser, "已完工").await;

    // The agent records the owner's acceptance, closes, and the revisit.
    click(&browser, "#sign-out").await;
    sign_in(&browser, addr, &agent, "agent-7").await;
    browser
        .client
        .goto(&format!("http://{addr}/#/ticket/{created}"))
        .await
        .unwrap_or_else(|e| panic!("{e}"));
    wait_status(&browser, "已完工").await;
    // The ticket shows the finding, the responsibility and the plan, every
    // clock in full, and takes a comment.
    let handling = browser
        .run("return ['#responsible', '#warranty-finding', '#plan-confirmed'].map(s => document.querySelector(s).innerText)")
        .await;
    assert_eq!(handling[0], "开发商（施工质量）", "{handling}");
    let finding = handling[1].as_str().unwrap_or_default();
    assert!(finding.contains("给排水管道") && finding.contains("在保"), "{finding}");
    let clock_rows = browser
        .run("return [...document.querySelectorAll('#clock-table tbody tr')].map(r => r.dataset.clock)")
        .await;
    assert_eq!(clock_rows, json!(["FIRST_RESPONSE", "ON_SITE", "RESOLUTION"]));
    click(&browser, "#actions button[data-action=commentTicket]").await;
    type_into(
        &browser,
        "form[data-action=commentTicket] input[name=text]",
        "业主要求下午验收",
    )
    .await;
    click(&browser, "form[data-action=commentTicket] button[type=submit]").await;
    browser
        .until(
            "the comment on the ticket",
            "document.querySelector('#comments li') && document.querySelector('#comments li').innerText.includes('业主要求下午验收')",
        )
        .await;
    click(&browser, "#actions button[data-action=acceptRepair]").await;
    type_into(
        &browser,
        "form[data-action=acceptRepair] input[name=confirmation]",
        "业主签字",
    )
    .await;
    type_into(&browser, "form[data-action=acceptRepair] input[name=overall]", "5").await;
    click(&browser, "form[data-action=acceptRepair] button[type=submit]").await;
    wait_status(&browser, "已验收").await;
    click(&browser, "#actions button[data-action=closeTicket]").await;
    click(&browser, "form[data-action=closeTicket] button[type=submit]").await;
    wait_status(&browser, "已关闭").await;
    // The revisit (回访) from the revisit queue: the closed ticket waits
    // there until its revisit is recorded.
    click(&browser, "#nav-revisits").await;
    click(&browser, &format!("button[data-revisit={created:?}]")).await;
    select(
        &browser,
        "form[data-action=recordRevisit] select[name=outcome]",
        "SATISFIED",
    )
    .await;
    for (field, value) in [
        ("overall", "5"),
        ("productQuality", "4"),
        ("serviceProcess", "5"),
        ("staffAttitude", "5"),
    ] {
        type_into(
            &browser,
            &format!("form[data-action=recordRevisit] input[name={field}]"),
            value,
        )
        .await;
    }
    picture(&browser, "revisits").await;
    click(&browser, "form[data-action=recordRevisit] button[type=submit]").await;
    browser
        .until(
            "the revisited ticket to leave the revisit queue",
            &format!(
                "document.querySelector('.meta') && !document.querySelector('form[data-action=recordRevisit]') \
                 && !document.querySelector('tr[data-ticket={created:?}]')"
            ),
        )
        .await;
    let r = graphql(
        addr,
        &agent,
        "query($id: String!) { ticket(id: $id) { revisitCount lastRevisit acceptanceRatings { overall } } }",
        json!({ "id": created }),
    )
    .await;
    assert_eq!(
        r["data"]["ticket"],
        json!({ "revisitCount": 1, "lastRevisit": "SATISFIED", "acceptanceRatings": { "overall": 5 } }),
        "{r}"
    );

    // The timeline lists every step, and the slider replays the first.
    browser
        .client
        .goto(&format!("http://{addr}/#/ticket/{created}"))
        .await
        .unwrap_or_else(|e| panic!("{e}"));
    browser
        .until(
            "the timeline to list every event",
            "document.querySelectorAll('#timeline tbody tr').length === 10",
        )
        .await;
    let types = browser
        .run("return [...document.querySelectorAll('#timeline tbody tr')].map(r => r.dataset.type)")
        .await;
    assert_eq!(
        types,
        json!([
            "Received",
            "Acknowledged",
            "Dispatched",
            "Arrived",
            "Diagnosed",
            "Repaired",
            "Commented",
            "Accepted",
            "Closed",
            "Revisited"
        ])
    );
    browser
        .run(
            "const s = document.querySelector('#as-of'); s.value = 0; \
             s.dispatchEvent(new Event('input', { bubbles: true })); return true;",
        )
        .await;
    browser
        .until(
            "the replayed state to show the ticket as received",
            "document.querySelector('#state-then') && document.querySelector('#state-then').innerText.includes('已受理')",
        )
        .await;
    picture(&browser, "ticket-as-of").await;

    // An incident with the earlier call linked: the agent finds it in the
    // incidents page, sees the linked ticket's status, and posts an update.
    for (query, vars) in [
        (
            "mutation { openIncident(input: { incidentId: \"INC-1\", projectId: \"HZ-1\", level: PROJECT, \
             title: \"3号楼多户渗水\", description: \"雨后多户报渗水\" }) { position } }",
            json!({}),
        ),
        (
            "mutation { linkTicketToIncident(input: { ticketId: \"T-CONSOLE-0\", incidentId: \"INC-1\" }) { position } }",
            json!({}),
        ),
    ] {
        let r = graphql(addr, &manager, query, vars).await;
        assert!(r["errors"].is_null(), "{r}");
    }
    click(&browser, "#nav-incidents").await;
    click(&browser, "tr[data-incident=INC-1] a").await;
    browser
        .until(
            "the incident's linked ticket and its status",
            "document.querySelector('#incident-tickets tr[data-ticket=T-CONSOLE-0]') && \
             document.querySelector('#incident-tickets tr[data-ticket=T-CONSOLE-0]').innerText.includes('已受理')",
        )
        .await;
    type_into(&browser, "#incident-update input[name=note]", "已安排屋面排查").await;
    click(&browser, "#incident-update button[type=submit]").await;
    browser
        .until(
            "the incident's update",
            "document.querySelector('#incident-updates li') && document.querySelector('#incident-updates li').innerText.includes('已安排屋面排查')",
        )
        .await;
    picture(&browser, "incident").await;

    // An analyst's dashboard and the project's reports.
    let analyst = token(principal("analyst-1", Role::Analyst, None));
    crate::console_analytics::dashboard_and_reports(&browser, addr, &analyst, &contractor).await;
}

/// Behind a gateway that names the caller in its own headers, the console
/// asks for no token: it shows whom the server says the caller is (here,
/// with no gateway in front, the server's stand-in for a request without
/// those headers).
#[tokio::test]
async fn behind_a_gateway_the_console_asks_for_no_token() {
    let server = crate::support::start().await;
    let browser = open().await;
    browser
        .client
        .goto(&format!("http://{}/", server.addr))
        .await
        .unwrap_or_else(|e| panic!("{e}"));
    let who = browser
        .until(
            "the header to name the caller",
            "document.querySelector('#who') && document.querySelector('#who').innerText",
        )
        .await;
    assert!(who.as_str().unwrap_or_default().contains("anonymous"), "{who}");
    let form = browser.run("return !!document.querySelector('#token')").await;
    assert_eq!(form, json!(false), "a token was asked for");
}
