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
