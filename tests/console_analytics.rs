//! The console's analyst pages in the browser, after the flow of
//! `console.rs`: the dashboard drawn from that flow's figures, and the
//! project's reports on screen and as downloads, refused to a contractor.

use serde_json::json;

use crate::browser::Browser;
use crate::console::graphql;
use crate::pages::{click, element, picture, select, sign_in};

/// Signs `analyst` in and checks the dashboard and the reports; `contractor`
/// is refused the reports.
pub(crate) async fn dashboard_and_reports(
    browser: &Browser,
    addr: std::net::SocketAddr,
    analyst: &str,
    contractor: &str,
) {
    click(browser, "#sign-out").await;
    sign_in(browser, addr, analyst, "analyst-1").await;
    click(browser, "#nav-dashboard").await;
    // The first-response clock was met by the acknowledgement: the week
    // line has a point, and the bars have the project, kind and priority.
    element(
        browser,
        "#chart-sla-week",
        Some("Number(document.querySelector('#chart-sla-week').dataset.points) > 0"),
    )
    .await;
    element(browser, "#chart-sla-week canvas", None).await;
    let bars = browser
        .run(
            "return ['#chart-sla-project', '#chart-sla-kind', '#chart-sla-priority'].map(id => \
             [...document.querySelectorAll(id + ' .bar-group')].map(g => g.dataset.key + ':' + \
             [...g.querySelectorAll('.bar')].map(b => b.dataset.rate).join('/')))",
        )
        .await;
    assert_eq!(
        bars,
        json!([["HZ-1:100/100/100"], ["repair:100/100/100"], ["emergency:100/100/100"]]),
        "one ticket met all three clocks: {bars}"
    );
    let heat = browser
        .run(
            "return [...document.querySelectorAll('#defect-heat-map td')].filter(td => td.dataset.count > 0) \
             .map(td => td.dataset.count).join(',')",
        )
        .await;
    // Three engineering defects: two in building HZ-1-3, one in SH-2-3.
    assert_eq!(heat, json!("2,1"), "the heat map's non-empty cells");
    element(browser, "#scorecards tbody tr", None).await;
    let scorecard = browser
        .run("return [...document.querySelectorAll('#scorecards tbody tr')].map(r => r.cells[1].innerText)")
        .await;
    assert!(
        scorecard.as_array().is_some_and(|a| a.contains(&json!("C-001"))),
        "the contractor's scorecard: {scorecard}"
    );
    let ratings = browser
        .run("return document.querySelectorAll('#satisfaction tbody tr').length")
        .await;
    assert!(ratings.as_u64().unwrap_or(0) >= 1, "satisfaction rows: {ratings}");
    picture(browser, "dashboard").await;

    // The reports of the project, on screen and as downloads.
    let today = domain::testing::test_today();
    let month = today.format("%Y-%m").to_string();
    let week = {
        use chrono::Datelike;
        format!("{}-W{:02}", today.iso_week().year(), today.iso_week().week())
    };
    click(browser, "#nav-reports").await;
    select(browser, "#report-project", "HZ-1").await;
    browser
        .run(&format!(
            "for (const [id, v] of [['#report-month', {month:?}], ['#report-week', {week:?}]]) {{ \
               const i = document.querySelector(id); i.value = v; i.dispatchEvent(new Event('input', {{ bubbles: true }})); }} \
             return true;"
        ))
        .await;
    click(browser, "#report-show").await;
    let figure =
        |report: &str, name: &str| format!("document.querySelector('#{report} tr[data-figure={name}] td').innerText");
    // Two repairs in HZ-1 this month (the earlier call and the one worked
    // above), the worked one finished and accepted.
    browser
        .until(
            "the monthly report",
            &format!(
                "document.querySelector('#monthly-report[data-month={month:?}]') && {} === '2'",
                figure("monthly-report", "received-repair")
            ),
        )
        .await;
    let figures = browser
        .run(&format!(
            "return [{}, {}, {}, {}]",
            figure("monthly-report", "finished"),
            figure("monthly-report", "open"),
            figure("weekly-report", "received"),
            figure("weekly-report", "accepted"),
        ))
        .await;
    assert_eq!(
        figures,
        json!(["1", "1", "2", "1"]),
        "finished, open; the week's received, accepted"
    );
    // The CSV download starts with a byte-order mark; the workbook is the
    // API's, decoded to a zip archive.
    let download = browser
        .client
        .execute_async(
            "const done = arguments[arguments.length - 1]; \
             import('/console/assets/reports.js').then(async (m) => { \
               const csv = new Uint8Array(await m.csvBlob('项目,HZ-1\\n').arrayBuffer()); \
               const r = await fetch('/graphql', { method: 'POST', headers: { 'content-type': 'application/json', \
                 authorization: 'Bearer ' + sessionStorage.getItem('aftersales.token') }, \
                 body: JSON.stringify({ query: 'query($m: String!) { monthlyReport(projectId: \"HZ-1\", month: $m) { xlsx } }', \
                 variables: { m: arguments[0] } }) }).then(r => r.json()); \
               const xlsx = new Uint8Array(await m.xlsxBlob(r.data.monthlyReport.xlsx).arrayBuffer()); \
               done({ csv: [...csv.slice(0, 6)], xlsx: [...xlsx.slice(0, 4)] }); });",
            vec![json!(month)],
        )
        .await
        .unwrap_or_else(|e| panic!("{e}"));
    assert_eq!(
        download,
        json!({ "csv": [0xEF, 0xBB, 0xBF, 0xE9, 0xA1, 0xB9], "xlsx": [0x50, 0x4B, 0x03, 0x04] }),
        "a BOM then UTF-8 (项 is E9 A1 B9); an xlsx is a zip archive"
    );
    element(browser, "#monthly-downloads button[data-download=xlsx]", None).await;
    picture(browser, "reports").await;
    // A contractor may not read the project's reports, workbook or not.
    let r = graphql(
        addr,
        contractor,
        "query($m: String!) { monthlyReport(projectId: \"HZ-1\", month: $m) { xlsx } }",
        json!({ "m": month }),
    )
    .await;
    assert_eq!(r["errors"][0]["extensions"]["code"], "FORBIDDEN", "{r}");
}
