//! `docs/schema.graphql` is the contract staff-tool authors read: it must
//! be the schema the server serves.

#[test]
fn the_committed_schema_is_current() {
    let path = std::path::Path::new(env!("CARGO_MANIFEST_DIR")).join("../docs/schema.graphql");
    let committed = std::fs::read_to_string(&path).unwrap_or_default();
    let current = api::schema::sdl();
    assert!(
        committed == current,
        "docs/schema.graphql is stale or missing; regenerate it with\n  cargo run -p api --bin aftersales -- schema > docs/schema.graphql"
    );
}

#[test]
fn the_contract_names_are_in_the_schema() {
    let sdl = api::schema::sdl();
    for name in [
        "receiveTicket",
        "acknowledgeTicket",
        "changePriority",
        "dispatchTicket",
        "scheduleVisit",
        "recordArrival",
        "diagnoseTicket",
        "confirmPlan",
        "declinePlan",
        "noteProgress",
        "completeRepair",
        "acceptRepair",
        "rejectRepair",
        "reopenTicket",
        "putOnHold",
        "resumeTicket",
        "withdrawTicket",
        "mergeTicket",
        "commentTicket",
        "closeTicket",
        "recordRevisit",
        "investigateComplaint",
        "proposeResolution",
        "recordOwnerResponse",
        "escalateComplaint",
        "answerInquiry",
        "registerProject",
        "registerBuilding",
        "registerUnit",
        "registerOwner",
        "recordDelivery",
        "openIncident",
        "linkTicketToIncident",
        "ticket(",
        "tickets(",
        "ticketHistory(",
        "slaReport",
        "satisfactionReport",
        "contractorScorecards(",
        "defectStats",
        "monthlyReport(",
        "weeklyRepairReport(",
        "project(",
        "unit(",
        "owner(",
        "workdays(",
    ] {
        assert!(sdl.contains(name), "{name} is missing from the schema");
    }
}

/// The introspection query that reads every description a staff-tool
/// author sees.
const DESCRIPTIONS: &str = r#"{ __schema { types {
  kind name description
  fields(includeDeprecated: true) { name description args { name description } }
  inputFields { name description }
  enumValues(includeDeprecated: true) { name description }
} } }"#;

/// The built-in scalars, described by the GraphQL specification itself.
const BUILT_IN: [&str; 5] = ["String", "Int", "Float", "Boolean", "ID"];

fn described(v: &serde_json::Value) -> bool {
    v["description"].as_str().is_some_and(|d| !d.trim().is_empty())
}

#[tokio::test]
async fn every_type_field_argument_and_value_is_described() {
    let schema = api::schema::builder().finish();
    let response = schema.execute(DESCRIPTIONS).await;
    let answer = serde_json::to_value(&response).unwrap_or_else(|e| panic!("{e}"));
    assert!(answer["errors"].is_null(), "{answer}");
    let types = answer["data"]["__schema"]["types"]
        .as_array()
        .unwrap_or_else(|| panic!("no types in {answer}"));
    let mut missing = Vec::new();
    let list = |v: &serde_json::Value, key: &str| v[key].as_array().cloned().unwrap_or_default();
    for ty in types {
        let name = ty["name"].as_str().unwrap_or_default();
        if name.starts_with("__") || BUILT_IN.contains(&name) {
            continue;
        }
        if !described(ty) {
            missing.push(format!("type {name}"));
        }
        for field in list(ty, "fields") {
            let field_name = field["name"].as_str().unwrap_or_default();
            if !described(&field) {
                missing.push(format!("field {name}.{field_name}"));
            }
            for arg in list(&field, "args") {
                if !described(&arg) {
                    missing.push(format!("argument {name}.{field_name}({})", arg["name"]));
                }
            }
        }
        for input in list(ty, "inputFields") {
            if !described(&input) {
                missing.push(format!("input field {name}.{}", input["name"]));
            }
        }
        for value in list(ty, "enumValues") {
            if !described(&value) {
                missing.push(format!("enum value {name}.{}", value["name"]));
            }
        }
    }
    assert!(
        missing.is_empty(),
        "{} schema elements lack a description:\n  {}",
        missing.len(),
        missing.join("\n  ")
    );
}

#[test]
fn the_date_time_scalar_says_how_instants_are_written() {
    let sdl = api::schema::sdl();
    let scalar = sdl
        .find("scalar DateTime")
        .unwrap_or_else(|| panic!("no DateTime scalar"));
    let doc = &sdl[..scalar];
    let doc = &doc[doc[..doc.len().saturating_sub(5)].rfind("\"\"\"").unwrap_or(0)..];
    for needed in ["RFC 3339", "UTC", "2026-12-01T06:00:00Z"] {
        assert!(doc.contains(needed), "the DateTime description lacks {needed:?}: {doc}");
    }
}
