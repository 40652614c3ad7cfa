//! The guard's tests: limits, deadlines and the codes of errors.

use std::time::Duration;

use domain::actor::Role;
use domain::ids::UserId;
use serde_json::json;

use super::*;
use crate::schema::AppSchema;
use application::auth::Principal;
use application::service::Service;

fn open() -> (tempfile::TempDir, Arc<Service>) {
    let dir = tempfile::tempdir().unwrap_or_else(|e| panic!("{e}"));
    let service = Service::open(dir.path()).unwrap_or_else(|e| panic!("{}", e.message()));
    (dir, Arc::new(service))
}

fn request(query: &str, variables: serde_json::Value) -> Request {
    let principal = Principal {
        user: UserId::new("agent-1").unwrap_or_else(|e| panic!("{e}")),
        role: Role::Agent,
        projects: Vec::new(),
        contractor: None,
        owner: None,
    };
    Request::new(query)
        .variables(Variables::from_json(variables))
        .data(principal.actor())
        .data(principal)
}

fn code(response: &Response) -> String {
    response
        .errors
        .first()
        .and_then(|e| e.extensions.as_ref())
        .and_then(|x| x.get("code"))
        .map(|c| c.to_string().trim_matches('"').to_string())
        .unwrap_or_default()
}

/// The estimated cost of `query`: a schema whose limit is 1 point
/// refuses every document, naming its cost, and runs none.
async fn cost_of(schema: &AppSchema, query: &str) -> usize {
    let response = schema.execute(request(query, json!({}))).await;
    assert_eq!(
        code(&response),
        codes::QUERY_TOO_COSTLY,
        "{query}: {:?}",
        response.errors
    );
    response.errors[0]
        .extensions
        .as_ref()
        .and_then(|x| x.get("cost"))
        .and_then(|c| match c {
            Value::Number(n) => n.as_u64(),
            _ => None,
        })
        .unwrap_or_else(|| panic!("{query}: no cost in {:?}", response.errors)) as usize
}

const TICKET_FIELDS: &str = "id kind status priority channel category trade description projectId buildingId
    unitId place ownerId reporterName reporterPhone assignee { engineerId contractorId } dispatchCount
    planConfirmed reopenCount rejectionCount escalation incidentId mergedInto acceptanceRating revisitCount
    lastRevisit receivedAt acknowledgedAt promisedAt firstArrivedAt repairedAt acceptedAt closedAt lastEventAt
    updatedAt version position
    clocks { clock status target startedAt dueAt stoppedAt breachedAt elapsedMinutes pausedMinutes paused provisional }";

const INTROSPECTION: &str = "query IntrospectionQuery { __schema { queryType { name } mutationType { name }
    subscriptionType { name } types { ...FullType } directives { name description locations args { ...InputValue } } } }
    fragment FullType on __Type { kind name description fields(includeDeprecated: true) { name description
    args { ...InputValue } type { ...TypeRef } isDeprecated deprecationReason } inputFields { ...InputValue }
    interfaces { ...TypeRef } enumValues(includeDeprecated: true) { name description isDeprecated deprecationReason }
    possibleTypes { ...TypeRef } }
    fragment InputValue on __InputValue { name description type { ...TypeRef } defaultValue }
    fragment TypeRef on __Type { kind name ofType { kind name ofType { kind name ofType { kind name ofType { kind name
    ofType { kind name ofType { kind name ofType { kind name } } } } } } } }";

fn readme_operations() -> Vec<String> {
    let readme = include_str!("../../../../README.md");
    readme
        .split("### Three operations to paste into GraphiQL")
        .nth(1)
        .and_then(|s| s.split("\n### ").next())
        .unwrap_or_default()
        .split("```graphql\n")
        .skip(1)
        .filter_map(|block| block.split("\n```").next())
        .map(str::to_string)
        .collect()
}

fn aliases(n: usize, field: &str) -> String {
    (0..n).map(|i| format!("a{i}: {field} ")).collect()
}

#[tokio::test]
async fn what_staff_tools_ask_is_within_the_cost_limit_and_alias_abuse_is_not() {
    let (_dir, service) = open();
    let schema = crate::schema::build_limited(
        service,
        true,
        DocumentLimits {
            max_cost: 1,
            ..DocumentLimits::default()
        },
    );
    let mut legitimate: Vec<String> = readme_operations();
    assert_eq!(legitimate.len(), 3, "the README's three operations");
    legitimate.extend([
        format!("{{ tickets(filter: {{ projectId: \"P-RS\" }}) {{ edges {{ cursor node {{ {TICKET_FIELDS} }} }} pageInfo {{ hasNextPage endCursor }} }} }}"),
        // The largest page with every field and the clocks.
        format!("{{ tickets(first: 500) {{ edges {{ cursor node {{ {TICKET_FIELDS} }} }} pageInfo {{ hasNextPage endCursor }} }} }}"),
        "{ tickets(filter: { projectId: \"P01\" }, first: 500) { edges { node { id } } pageInfo { hasNextPage } } }".into(),
        format!("query($id: String!) {{ ticket(id: $id) {{ {TICKET_FIELDS} }} }}"),
        "query($id: String!) { ticketHistory(id: $id) { ticketId events { position version type occurredAt recordedAt actor role contractorId channel summary included } state { id status version position updatedAt } } }".into(),
        "query { all: slaReport { key firstResponse { met breached cancelled complianceRate meanMinutes p90Minutes } onSite { met breached cancelled } resolution { met breached cancelled } }
                 byPriority: slaReport(groupBy: PRIORITY) { key firstResponse { met breached cancelled } resolution { met breached cancelled } } }".into(),
        "query { satisfactionReport { ratings { key count overall } service { closedRepairs complaints accepted } } defectStats { key count } project(id: \"P-RS\") { id name buildings { id } } }".into(),
        "{ slaReport(groupBy: PROJECT) { key firstResponse { met breached cancelled } }
           monthlyReport(projectId: \"P-ER\", month: \"2026-10\") { receivedByKind { name count } finished open } }".into(),
        "{ tickets(filter: { projectId: \"P01\", status: DISPATCHED }, first: 20) { edges { node { id status receivedAt } } pageInfo { hasNextPage } } }".into(),
        // A manager's dashboard.
        "{ slaAlerts { ticketId projectId clock { clock status dueAt } }
           p1: weeklyRepairReport(projectId: \"P01\", week: \"2026-W10\") { received repaired accepted open reopened onHold breachedNow atRiskNow }
           p2: weeklyRepairReport(projectId: \"P02\", week: \"2026-W10\") { received open breachedNow atRiskNow }
           p3: weeklyRepairReport(projectId: \"P03\", week: \"2026-W10\") { received open breachedNow atRiskNow }
           p4: weeklyRepairReport(projectId: \"P04\", week: \"2026-W10\") { received open breachedNow atRiskNow }
           slaReport(groupBy: PROJECT) { key resolution { complianceRate p90Minutes } }
           satisfactionReport(groupBy: PROJECT) { ratings { key overall } service { revisitCoverage } } }".into(),
        format!("{{ {} }}", aliases(4, "slaAlerts { ticketId clock { status } }")),
        // A year of monthly reports.
        format!(
            "{{ {} }}",
            (1..=12)
                .map(|m| format!("m{m}: monthlyReport(projectId: \"P01\", month: \"2026-{m:02}\") {{ finished open csv }} "))
                .collect::<String>()
        ),
        INTROSPECTION.into(),
    ]);
    for query in &legitimate {
        let cost = cost_of(&schema, query).await;
        assert!(cost <= cost::MAX_COST, "{cost} points: {query}");
    }
    let abusive = [
        format!("{{ {} }}", aliases(200, "slaAlerts { ticketId }")),
        format!("{{ {} }}", aliases(5, "slaAlerts { ticketId }")),
        format!(
            "{{ {} }}",
            aliases(100, "tickets(first: 500) { edges { node { id } } }")
        ),
        format!("{{ {} }}", aliases(22, "tickets(first: 500) { edges { node { id } } }")),
        format!(
            "{{ {} }}",
            aliases(
                5,
                &format!("tickets(first: 500) {{ edges {{ node {{ {TICKET_FIELDS} }} }} }}")
            )
        ),
        format!(
            "{{ {} }}",
            aliases(30, "monthlyReport(projectId: \"P01\", month: \"2026-02\") { open csv }")
        ),
        format!(
            "mutation {{ {} }}",
            aliases(
                300,
                "commentTicket(input: { ticketId: \"T-1\", text: \"x\" }) { position }"
            )
        ),
    ];
    // The README's example.
    assert_eq!(
        cost_of(&schema, &format!("{{ {} }}", aliases(200, "slaAlerts { ticketId }"))).await,
        10_020_000
    );
    for query in &abusive {
        let cost = cost_of(&schema, query).await;
        assert!(
            cost > cost::MAX_COST,
            "{cost} points: {}",
            &query[..query.len().min(120)]
        );
    }
}

#[tokio::test]
async fn a_costly_document_is_refused_with_its_cost_and_nothing_runs() {
    let (_dir, service) = open();
    let schema = crate::schema::build(service.clone());
    let query = format!(
        "mutation {{ {} }}",
        aliases(
            300,
            "receiveTicket(input: { kind: INQUIRY, channel: HOTLINE, priority: NORMAL, category: SERVICE, trade: NONE,
               description: \"x\", reporter: { familyName: \"王\", phone: \"13812345678\" },
               location: { projectId: \"HZ-1\" } }) { position }"
        )
    );
    let response = schema.execute(request(&query, json!({}))).await;
    assert_eq!(code(&response), codes::QUERY_TOO_COSTLY, "{:?}", response.errors);
    let error = &response.errors[0];
    let ext = error.extensions.as_ref();
    assert_eq!(
        ext.and_then(|x| x.get("limit")).cloned(),
        Some(Value::from(cost::MAX_COST))
    );
    assert!(
        error.message.contains("points") && error.message.contains(&cost::MAX_COST.to_string()),
        "{}",
        error.message
    );
    assert_eq!(response.data, Value::Null);
    assert_eq!(service.head(), None, "nothing was appended");
}

#[tokio::test]
async fn no_field_starts_after_the_deadline() {
    let (_dir, service) = open();
    // The project the report names.
    let system = application::service::Acting::by(domain::actor::Actor::staff(
        domain::ids::UserId::new("setup").unwrap_or_else(|e| panic!("{e}")),
        domain::actor::Role::System,
    ));
    let project = domain::ids::ProjectId::new("HZ-1").unwrap_or_else(|e| panic!("{e}"));
    let register = domain::archive::ProjectCommand::Register {
        project: project.clone(),
        name: "滨江壹号".into(),
        city: "杭州".into(),
        calendar: "cn-mainland".into(),
    };
    service
        .project_command(&project, register, system)
        .await
        .unwrap_or_else(|e| panic!("{}", e.message()));
    let seeded = service.head();
    let schema = crate::schema::build(service.clone());
    let receive = "mutation { receiveTicket(input: { kind: INQUIRY, channel: HOTLINE, priority: NORMAL,
        category: SERVICE, trade: NONE, description: \"x\", reporter: { familyName: \"王\", phone: \"13812345678\" },
        location: { projectId: \"HZ-1\", place: \"大堂\" } }) { position } }";
    let past = Instant::now()
        .checked_sub(Duration::from_millis(1))
        .unwrap_or_else(Instant::now);
    let response = schema.execute(request(receive, json!({})).data(Deadline(past))).await;
    assert_eq!(code(&response), codes::TIMEOUT, "{:?}", response.errors);
    assert_eq!(service.head(), seeded, "the mutation did not run");
    // The same with time left runs.
    let later = Instant::now() + Duration::from_secs(60);
    let response = schema.execute(request(receive, json!({})).data(Deadline(later))).await;
    assert!(response.errors.is_empty(), "{:?}", response.errors);
    assert_eq!(service.head(), seeded.map(|h| h + 1));
}

#[tokio::test]
async fn every_refusal_carries_a_code() {
    let (_dir, service) = open();
    let schema = crate::schema::build(service.clone());
    let bomb = {
        let mut q = String::from("query { ...F0 } fragment F30 on Query { __typename }");
        for i in 0..30 {
            q.push_str(&format!(" fragment F{i} on Query {{ ...F{n} ...F{n} }}", n = i + 1));
        }
        q
    };
    let ticket = "query($id: String!) { ticket(id: $id) { id } }";
    let cases: Vec<(&str, String, serde_json::Value, Option<&str>, &str)> = vec![
        (
            "does not parse",
            "{ ticket(id: ".into(),
            json!({}),
            None,
            codes::GRAPHQL_PARSE_FAILED,
        ),
        ("empty", "".into(), json!({}), None, codes::GRAPHQL_PARSE_FAILED),
        (
            "unknown field",
            "{ nope }".into(),
            json!({}),
            None,
            codes::GRAPHQL_VALIDATION_FAILED,
        ),
        (
            "literal of the wrong type",
            "{ ticket(id: 42) { id } }".into(),
            json!({}),
            None,
            codes::GRAPHQL_VALIDATION_FAILED,
        ),
        (
            "undefined variable",
            "{ ticket(id: $id) { id } }".into(),
            json!({}),
            None,
            codes::GRAPHQL_VALIDATION_FAILED,
        ),
        (
            "variable of the wrong type",
            ticket.into(),
            json!({ "id": 42 }),
            None,
            codes::BAD_INPUT,
        ),
        ("missing variable", ticket.into(), json!({}), None, codes::BAD_INPUT),
        (
            "variable out of Int",
            "query($n: Int!) { tickets(first: $n) { edges { cursor } } }".into(),
            json!({ "n": 1e12 }),
            None,
            codes::BAD_INPUT,
        ),
        (
            "input field of the wrong type",
            "mutation($v: Int) { acknowledgeTicket(input: { ticketId: \"T-1\", expectedVersion: $v }) { position } }"
                .into(),
            json!({ "v": "zero" }),
            None,
            codes::BAD_INPUT,
        ),
        (
            "unknown operation",
            "query A { __typename }".into(),
            json!({}),
            Some("B"),
            codes::GRAPHQL_VALIDATION_FAILED,
        ),
        (
            "several operations, none named",
            "query A { __typename } query B { __typename }".into(),
            json!({}),
            None,
            codes::GRAPHQL_VALIDATION_FAILED,
        ),
        (
            "fragment cycle",
            "query { ...A } fragment A on Query { ...A }".into(),
            json!({}),
            None,
            codes::GRAPHQL_VALIDATION_FAILED,
        ),
        ("fragment bomb", bomb, json!({}), None, codes::QUERY_TOO_COSTLY),
        (
            "nested inline fragments",
            format!("{{ {} __typename {} }}", "... on Query { ".repeat(40), "}".repeat(40)),
            json!({}),
            None,
            codes::QUERY_TOO_COSTLY,
        ),
        (
            "bad argument value",
            "{ ticket(id: \"has space\") { id } }".into(),
            json!({}),
            None,
            codes::BAD_INPUT,
        ),
    ];
    for (name, query, variables, operation, expected) in cases {
        let mut r = request(&query, variables);
        if let Some(op) = operation {
            r = r.operation_name(op);
        }
        let response = schema.execute(r).await;
        assert!(!response.errors.is_empty(), "{name}: refused");
        for error in &response.errors {
            assert!(has_code(error), "{name}: {error:?}");
        }
        assert_eq!(code(&response), expected, "{name}: {:?}", response.errors);
        assert_eq!(response.errors.len(), 1, "{name}: one error: {:?}", response.errors);
    }
    assert_eq!(service.head(), None);
}

/// A schema whose resolvers fail with application errors, to see what
/// the guard makes of them.
mod failing {
    use application::error::AppError;
    use async_graphql::futures_util::stream::{self, Stream};

    pub struct Query;

    #[async_graphql::Object]
    impl Query {
        /// Fails with an internal error.
        async fn broken(&self) -> async_graphql::Result<i32> {
            Err(AppError::internal(std::io::Error::other("disk on fire")))?
        }

        /// Fails with a refusal.
        async fn refused(&self) -> async_graphql::Result<i32> {
            Err(AppError::Forbidden("not yours".into()))?
        }
    }

    pub struct Subscription;

    #[async_graphql::Subscription]
    impl Subscription {
        /// One item, which fails with an internal error.
        async fn broken(&self) -> impl Stream<Item = async_graphql::Result<i32>> {
            stream::iter([Err(AppError::internal(std::io::Error::other("disk on fire")).into())])
        }
    }
}

#[tokio::test]
async fn application_errors_are_coded_and_internal_details_never_leave() {
    let schema = async_graphql::Schema::build(failing::Query, async_graphql::EmptyMutation, failing::Subscription)
        .extension(Guard::new(DocumentLimits::default()))
        .finish();
    let refused = schema.execute("{ refused }").await;
    let e = &refused.errors[0];
    assert_eq!(e.message, "not yours");
    assert_eq!(
        e.extensions.as_ref().and_then(|x| x.get("code")),
        Some(&Value::from("FORBIDDEN"))
    );
    // Over HTTP the server logs and removes the detail; the guard
    // gives the error its generic message and code.
    let broken = schema.execute("{ broken }").await;
    let e = &broken.errors[0];
    assert_eq!(e.message, "internal error; quote the requestId to the operator");
    assert_eq!(
        e.extensions.as_ref().and_then(|x| x.get("code")),
        Some(&Value::from("INTERNAL"))
    );
    // Over a subscription nothing else sees the response: the detail
    // never leaves the guard.
    let mut items = schema.execute_stream("subscription { broken }");
    let item = items.next().await.unwrap_or_else(|| panic!("no item"));
    let e = &item.errors[0];
    assert_eq!(e.message, "internal error; quote the requestId to the operator");
    let ext = e.extensions.as_ref();
    assert_eq!(ext.and_then(|x| x.get("code")), Some(&Value::from("INTERNAL")));
    assert!(ext.and_then(|x| x.get(crate::error::DETAIL_EXTENSION)).is_none());
    assert!(!format!("{item:?}").contains("disk on fire"), "{item:?}");
}
