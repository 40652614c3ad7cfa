//! The README's example operations work as pasted, against a server with
//! demo data (a smaller dataset of the same shape as `serve --demo`).

use serde_json::{json, Value};

use crate::support::{request, start};

fn readme_operations() -> Vec<String> {
    let readme = std::fs::read_to_string(concat!(env!("CARGO_MANIFEST_DIR"), "/../README.md")).unwrap_or_default();
    let section = readme
        .split("### Three operations to paste into GraphiQL")
        .nth(1)
        .and_then(|s| s.split("\n### ").next())
        .unwrap_or_default();
    section
        .split("```graphql\n")
        .skip(1)
        .filter_map(|block| block.split("\n```").next())
        .map(str::to_string)
        .collect()
}

#[tokio::test]
async fn the_readme_operations_work_as_pasted_on_demo_data() {
    let operations = readme_operations();
    assert_eq!(operations.len(), 3, "the README should show three operations");
    let s = start().await;
    let config = simulator::GeneratorConfig {
        tickets: 300,
        units: 300,
        ..application::jobs::demo_config(domain::testing::test_today())
    };
    application::jobs::fill_demo(s.service.store().as_ref(), s.service.keyring(), &config)
        .await
        .unwrap_or_else(|e| panic!("{}", e.message()));
    application::jobs::wait_ready(&s.service, |_| {})
        .await
        .unwrap_or_else(|e| panic!("{}", e.message()));
    let mut answers = Vec::new();
    for op in &operations {
        let body = json!({ "query": op }).to_string();
        let (status, text) = request(s.addr, "POST", "/graphql", ("agent-7", "manager"), &body).await;
        assert_eq!(status, 200, "{text}");
        let value = text
            .lines()
            .find_map(|l| serde_json::from_str::<Value>(l).ok())
            .unwrap_or_else(|| panic!("no JSON in {text:?}"));
        assert!(value.get("errors").is_none(), "{op}\n→ {value}");
        answers.push(value);
    }
    assert_eq!(answers[0]["data"]["receiveTicket"]["ticket"]["status"], "RECEIVED");
    assert_eq!(answers[1]["data"]["accept"]["ticket"]["status"], "ACCEPTED");
    let diagnosis = &answers[1]["data"]["diagnose"]["ticket"]["diagnosis"];
    assert_eq!(diagnosis["warranty"]["inWarranty"], true, "{diagnosis}");
    let events = answers[2]["data"]["ticketHistory"]["events"]
        .as_array()
        .cloned()
        .unwrap_or_default();
    let types: Vec<&str> = events.iter().filter_map(|e| e["type"].as_str()).collect();
    assert_eq!(
        types,
        [
            "Received",
            "Acknowledged",
            "Dispatched",
            "Arrived",
            "Diagnosed",
            "PlanConfirmed",
            "Repaired",
            "Accepted"
        ]
    );
    assert!(answers[2]["data"]["slaReport"]
        .as_array()
        .is_some_and(|r| !r.is_empty()));
}
