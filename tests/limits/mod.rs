//! No query starves the server: documents that ask too much are refused
//! before they run, a request over its timeout is stopped and answered
//! `TIMEOUT`, the health endpoints answer while heavy requests run, a
//! response over the size limit is refused, the gate refuses `BUSY` when
//! full, and every refusal (over HTTP and WebSocket) carries a code and
//! appends nothing.

use std::net::SocketAddr;
use std::sync::Arc;
use std::time::Duration;

use api::server::{Identity, ServerOptions};
use serde_json::{json, Value};

use crate::support::{
    code, eventually, exchange, gql, seed_fixtures, serve_service, start_with_fixtures, Answer, AGENT_7,
};

const GRAPHQL_RESPONSE_JSON: &str = "application/graphql-response+json";
const JSON: &str = "application/json";

/// A service with a data folder, served by routers with the options each
/// test chooses.
struct Setup {
    _dir: tempfile::TempDir,
    service: Arc<application::service::Service>,
}

impl Setup {
    /// A fresh folder; with `tickets`, that many generated tickets (the
    /// demo generator's year ends the day before the tests' stated today).
    async fn new(tickets: Option<u32>) -> Self {
        let dir = tempfile::tempdir().unwrap_or_else(|e| panic!("{e}"));
        let service = Arc::new(crate::support::open_service(dir.path()));
        if let Some(tickets) = tickets {
            let config = simulator::GeneratorConfig {
                tickets,
                units: tickets,
                ..application::jobs::demo_config(domain::testing::test_today())
            };
            application::jobs::fill_demo(service.store().as_ref(), service.keyring(), &config)
                .await
                .unwrap_or_else(|e| panic!("{}", e.message()));
            application::jobs::wait_ready(&service, |_| {})
                .await
                .unwrap_or_else(|e| panic!("{}", e.message()));
        }
        // The archive the fixtures' reports name.
        seed_fixtures(&service).await;
        Self { _dir: dir, service }
    }

    /// A router over the service on an ephemeral port.
    async fn serve(&self, options: ServerOptions) -> SocketAddr {
        serve_service(self.service.clone(), options).await.addr
    }
}

fn options() -> ServerOptions {
    let mut options = ServerOptions::new(Identity::TrustedHeaders);
    options.rate = None;
    options
}

/// A raw HTTP/1.1 request as a manager.
fn raw(method: &str, path: &str, headers: &str, body: &[u8]) -> Vec<u8> {
    let mut request = format!(
        "{method} {path} HTTP/1.1\r\nHost: test\r\nx-user-id: mgr-1\r\nx-user-role: manager\r\n{headers}Content-Length: {}\r\nConnection: close\r\n\r\n",
        body.len()
    )
    .into_bytes();
    request.extend_from_slice(body);
    request
}

/// POSTs a GraphQL document, accepting `accept`.
async fn post(addr: SocketAddr, accept: &str, query: &str, variables: Value) -> Answer {
    let body = json!({ "query": query, "variables": variables }).to_string();
    let headers = format!("Content-Type: application/json\r\nAccept: {accept}\r\n");
    exchange(addr, raw("POST", "/graphql", &headers, body.as_bytes())).await
}

fn parsed(answer: &Answer) -> Value {
    serde_json::from_str(&answer.body).unwrap_or_else(|e| panic!("{e}: {:?}", answer.body))
}

fn aliases(n: usize, field: &str) -> String {
    (0..n).map(|i| format!("a{i}: {field} ")).collect()
}

/// The value of the metric `name` (a sample without labels).
async fn metric(addr: SocketAddr, name: &str) -> Option<f64> {
    let answer = exchange(addr, raw("GET", "/metrics", "", b"")).await;
    answer
        .body
        .lines()
        .find_map(|l| l.strip_prefix(name).and_then(|rest| rest.strip_prefix(' ')))
        .and_then(|v| v.trim().parse().ok())
}

/// Waits (polling /metrics, at most a minute) until `graphql_running`
/// satisfies `until`: the gauge is there to be read, not awaited.
async fn wait_running(addr: SocketAddr, until: impl Fn(f64) -> bool) {
    eventually(
        "aftersales_graphql_running reaching the state waited for",
        Duration::from_secs(60),
        || async { metric(addr, "aftersales_graphql_running").await.is_some_and(&until) },
    )
    .await;
}

/// Heavy but allowed: four alert scans and a page of 500 tickets with
/// their clocks (about 235,000 of the 250,000 points).
fn heavy() -> String {
    format!(
        "{{ {} page: tickets(first: 500) {{ edges {{ node {{ id clocks {{ status }} }} }} }} }}",
        aliases(4, "slaAlerts { ticketId clock { status } }")
    )
}

#[tokio::test]
async fn alias_abuse_is_refused_before_it_runs() {
    let setup = Setup::new(Some(300)).await;
    let addr = setup.serve(options()).await;
    let head = setup.service.head();
    let abuses = [
        format!("{{ {} }}", aliases(200, "slaAlerts { ticketId clock { status } }")),
        format!("{{ {} }}", aliases(5, "slaAlerts { ticketId }")),
        format!(
            "{{ {} }}",
            aliases(100, "tickets(first: 500) { edges { node { id status } } }")
        ),
        format!(
            "mutation {{ {} }}",
            aliases(
                300,
                "commentTicket(input: { ticketId: \"T-20260301-0001\", text: \"x\" }) { position }"
            )
        ),
    ];
    for query in &abuses {
        let answer = post(addr, GRAPHQL_RESPONSE_JSON, query, json!({})).await;
        let v = parsed(&answer);
        let shown = &query[..60];
        assert_eq!(answer.status, 400, "{shown}: {v}");
        assert_eq!(code(&v), "QUERY_TOO_COSTLY", "{shown}: {v}");
        let ext = &v["errors"][0]["extensions"];
        let cost = ext["cost"].as_u64().unwrap_or(0);
        assert_eq!(ext["limit"].as_u64(), Some(api::cost::MAX_COST as u64), "{v}");
        assert!(cost > api::cost::MAX_COST as u64, "{v}");
        let message = v["errors"][0]["message"].as_str().unwrap_or_default();
        assert!(
            message.contains(&cost.to_string()) && message.contains(&api::cost::MAX_COST.to_string()),
            "the message names the cost and the limit: {message}"
        );
        assert!(v["data"].is_null(), "nothing ran: {v}");
    }
    assert_eq!(setup.service.head(), head, "the refused mutations appended nothing");

    // What a dashboard asks runs.
    for query in [
        heavy(),
        "{ slaAlerts { ticketId clock { status } }
           p1: weeklyRepairReport(projectId: \"P01\", week: \"2026-W10\") { received open breachedNow atRiskNow }
           p2: weeklyRepairReport(projectId: \"P02\", week: \"2026-W10\") { received open breachedNow atRiskNow }
           slaReport(groupBy: PROJECT) { key resolution { complianceRate } }
           satisfactionReport(groupBy: PROJECT) { ratings { key overall } } }"
            .to_string(),
    ] {
        let answer = post(addr, GRAPHQL_RESPONSE_JSON, &query, json!({})).await;
        let v = parsed(&answer);
        assert_eq!(answer.status, 200, "{v}");
        assert!(v.get("errors").is_none(), "{v}");
    }
}

#[tokio::test]
async fn a_request_over_the_timeout_is_stopped_and_answered_timeout() {
    let setup = Setup::new(Some(300)).await;
    let plain = setup.serve(options()).await;
    let mut short = options();
    short.request_timeout = Duration::from_millis(20);
    let hurried = setup.serve(short).await;

    // Work on blocking threads (sled reads): no answer with data after
    // the limit.
    let answer = post(hurried, JSON, &heavy(), json!({})).await;
    let v = parsed(&answer);
    assert_eq!(answer.status, 504, "{v}");
    assert_eq!(code(&v), "TIMEOUT", "{v}");
    assert!(v["data"].is_null(), "nothing computed is returned: {v}");
    assert_eq!(v["errors"][0]["extensions"]["timeoutSeconds"], json!(0.02), "{v}");
    assert!(v["errors"][0]["extensions"]["requestId"].is_string(), "{v}");

    // A mutation document that takes longer than the limit stops at the
    // limit: the mutations after it never run.
    let received = gql(plain, AGENT_7, crate::graphql::RECEIVE, json!({ "key": "t-1" })).await;
    let id = received["data"]["receiveTicket"]["ticket"]["id"]
        .as_str()
        .unwrap_or_else(|| panic!("{received}"))
        .to_string();
    let head = setup.service.head().unwrap_or(0);
    let comments = format!(
        "mutation {{ {} }}",
        aliases(
            200,
            &format!("commentTicket(input: {{ ticketId: \"{id}\", text: \"again\" }}) {{ position }}")
        )
    );
    let answer = post(hurried, JSON, &comments, json!({})).await;
    let v = parsed(&answer);
    assert_eq!(answer.status, 504, "{v}");
    assert_eq!(code(&v), "TIMEOUT", "{v}");
    // Once the abandoned work has given its turn back, fewer than the 200
    // comments are in the log.
    wait_running(plain, |n| n == 0.0).await;
    let appended = setup.service.head().unwrap_or(0) - head;
    assert!(
        appended < 200,
        "the work stopped at the deadline: {appended} comments appended"
    );
    // The server is fine.
    let answer = post(plain, JSON, "{ __typename }", json!({})).await;
    assert_eq!(answer.status, 200);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn health_answers_while_heavy_requests_run() {
    let setup = Setup::new(Some(300)).await;
    let addr = setup.serve(options()).await;
    let heavy_requests = 6;
    let running: Vec<_> = (0..heavy_requests)
        .map(|_| tokio::spawn(async move { post(addr, JSON, &heavy(), json!({})).await }))
        .collect();
    // Every heavy request is executing...
    wait_running(addr, |n| n >= heavy_requests as f64).await;
    // ...and the health endpoints answer meanwhile.
    let healthz = exchange(addr, raw("GET", "/healthz", "", b"")).await;
    assert_eq!((healthz.status, healthz.body.as_str()), (200, "ok"));
    let readyz = exchange(addr, raw("GET", "/readyz", "", b"")).await;
    assert_eq!(readyz.status, 200, "{}", readyz.body);
    let finished = running.iter().filter(|r| r.is_finished()).count();
    assert_eq!(
        finished, 0,
        "the health endpoints answered while all {heavy_requests} heavy requests were still running"
    );
    for r in running {
        let answer = r.await.unwrap_or_else(|e| panic!("{e}"));
        let v = parsed(&answer);
        assert_eq!(answer.status, 200, "{v}");
        assert!(v.get("errors").is_none(), "heavy but allowed: {v}");
    }
}

#[tokio::test]
async fn a_full_gate_answers_busy_with_retry_after() {
    let setup = Setup::new(Some(300)).await;
    let mut one = options();
    one.concurrency = api::limits::Concurrency {
        running: 1,
        queued: 0,
        queue_wait: Duration::from_secs(10),
    };
    let addr = setup.serve(one).await;
    let busy = tokio::spawn(async move { post(addr, JSON, &heavy(), json!({})).await });
    wait_running(addr, |n| n >= 1.0).await;
    let answer = post(addr, GRAPHQL_RESPONSE_JSON, "{ __typename }", json!({})).await;
    let v = parsed(&answer);
    assert!(!busy.is_finished(), "the heavy request was still running");
    assert_eq!(answer.status, 503, "{v}");
    assert_eq!(code(&v), "BUSY", "{v}");
    assert_eq!(answer.header("retry-after"), Some("1"));
    assert_eq!(v["errors"][0]["extensions"]["retryAfterSeconds"], 1);
    let heavy = busy.await.unwrap_or_else(|e| panic!("{e}"));
    assert_eq!(heavy.status, 200, "{}", &heavy.body[..heavy.body.len().min(300)]);
    let answer = post(addr, JSON, "{ __typename }", json!({})).await;
    assert_eq!(answer.status, 200, "{}", answer.body);
}

#[tokio::test]
async fn a_response_over_the_size_limit_is_refused() {
    let setup = Setup::new(None).await;
    let mut small = options();
    small.max_response_bytes = 8 * 1024;
    let addr = setup.serve(small).await;
    let long = "渗".repeat(1000);
    for i in 0..4 {
        let query = crate::graphql::RECEIVE.replace("卫生间天花板渗水", &long);
        let v = parsed(&post(addr, JSON, &query, json!({ "key": format!("long-{i}") })).await);
        assert!(v.get("errors").is_none(), "{v}");
    }
    let list = "{ tickets { edges { node { id description } } } }";
    for (accept, status) in [(JSON, 200), (GRAPHQL_RESPONSE_JSON, 400)] {
        let answer = post(addr, accept, list, json!({})).await;
        let v = parsed(&answer);
        assert_eq!(answer.status, status, "{v}");
        assert_eq!(code(&v), "RESPONSE_TOO_LARGE", "{v}");
        assert_eq!(v["errors"][0]["extensions"]["limit"], 8 * 1024);
        assert!(answer.body.len() < 1024, "no megabytes: {} bytes", answer.body.len());
    }
    // A smaller answer of the same list is sent.
    let answer = post(addr, JSON, "{ tickets(first: 1) { edges { node { id } } } }", json!({})).await;
    let v = parsed(&answer);
    assert_eq!(answer.status, 200, "{v}");
    assert!(v.get("errors").is_none(), "{v}");
}

/// One hostile request: what is sent, the status and code expected.
struct Hostile {
    name: &'static str,
    request: Vec<u8>,
    status: u16,
    code: &'static str,
}

fn graphql_post(name: &'static str, accept: &str, body: &str, status: u16, code: &'static str) -> Hostile {
    let headers = format!("Content-Type: application/json\r\nAccept: {accept}\r\n");
    Hostile {
        name,
        request: raw("POST", "/graphql", &headers, body.as_bytes()),
        status,
        code,
    }
}

fn document(name: &'static str, query: &str, variables: Value, status: u16, code: &'static str) -> Hostile {
    let body = json!({ "query": query, "variables": variables }).to_string();
    graphql_post(name, GRAPHQL_RESPONSE_JSON, &body, status, code)
}

#[tokio::test]
async fn hostile_inputs_are_refused_with_a_code_and_append_nothing() {
    let setup = Setup::new(None).await;
    let addr = setup.serve(options()).await;
    let received = post(addr, JSON, crate::graphql::RECEIVE, json!({ "key": "h-1" })).await;
    assert_eq!(received.status, 200, "{}", received.body);
    let head = setup.service.head();
    assert!(head.is_some());

    let bomb = {
        let mut q = String::from("query { ...F0 } fragment F30 on Query { __typename }");
        for i in 0..30 {
            q.push_str(&format!(" fragment F{i} on Query {{ ...F{n} ...F{n} }}", n = i + 1));
        }
        q
    };
    let ticket = "query($id: String!) { ticket(id: $id) { id } }";
    let big = format!(
        "{{\"query\": \"{{ __typename }}\", \"x\": \"{}\"}}",
        "x".repeat(2 << 20)
    );
    let mut chunked = Vec::new();
    for piece in big.as_bytes().chunks(64 * 1024) {
        chunked.extend_from_slice(format!("{:x}\r\n", piece.len()).as_bytes());
        chunked.extend_from_slice(piece);
        chunked.extend_from_slice(b"\r\n");
    }
    chunked.extend_from_slice(b"0\r\n\r\n");
    let mut chunked_request = b"POST /graphql HTTP/1.1\r\nHost: test\r\nx-user-id: mgr-1\r\nx-user-role: manager\r\nContent-Type: application/json\r\nTransfer-Encoding: chunked\r\nConnection: close\r\n\r\n".to_vec();
    chunked_request.extend_from_slice(&chunked);
    let json_headers = "Content-Type: application/json\r\n";
    let cases = vec![
        // GraphQL documents.
        document(
            "does not parse",
            "{ ticket(id: ",
            json!({}),
            400,
            "GRAPHQL_PARSE_FAILED",
        ),
        graphql_post(
            "does not parse (legacy JSON: 200)",
            JSON,
            r#"{"query": "{ ticket(id: "}"#,
            200,
            "GRAPHQL_PARSE_FAILED",
        ),
        document("unknown field", "{ nope }", json!({}), 400, "GRAPHQL_VALIDATION_FAILED"),
        document(
            "literal of the wrong type",
            "{ ticket(id: 42) { id } }",
            json!({}),
            400,
            "GRAPHQL_VALIDATION_FAILED",
        ),
        document(
            "undefined variable",
            "{ ticket(id: $id) { id } }",
            json!({}),
            400,
            "GRAPHQL_VALIDATION_FAILED",
        ),
        document(
            "unknown input field",
            "mutation { acknowledgeTicket(input: { ticketId: \"T-BAD\", bogus: 1 }) { position } }",
            json!({}),
            400,
            "GRAPHQL_VALIDATION_FAILED",
        ),
        document(
            "int literal out of range",
            "{ tickets(first: 99999999999) { edges { cursor } } }",
            json!({}),
            400,
            "GRAPHQL_VALIDATION_FAILED",
        ),
        document(
            "variable of the wrong type",
            ticket,
            json!({ "id": 42 }),
            400,
            "BAD_INPUT",
        ),
        document(
            "variable object of the wrong shape",
            "mutation($input: AcknowledgeTicketInput!) { acknowledgeTicket(input: $input) { position } }",
            json!({ "input": { "ticketId": "T-1", "expectedVersion": "zero" } }),
            400,
            "BAD_INPUT",
        ),
        graphql_post(
            "unknown operation name",
            GRAPHQL_RESPONSE_JSON,
            r#"{"query": "query A { __typename }", "operationName": "B"}"#,
            400,
            "GRAPHQL_VALIDATION_FAILED",
        ),
        document(
            "several operations, none named",
            "query A { __typename } query B { __typename }",
            json!({}),
            400,
            "GRAPHQL_VALIDATION_FAILED",
        ),
        document(
            "subscription over HTTP",
            "subscription { ticketEvents { position } }",
            json!({}),
            400,
            "GRAPHQL_VALIDATION_FAILED",
        ),
        document(
            "fragment cycle",
            "query { ...A } fragment A on Query { ...B } fragment B on Query { ...A }",
            json!({}),
            400,
            "GRAPHQL_VALIDATION_FAILED",
        ),
        document("fragment bomb", &bomb, json!({}), 400, "QUERY_TOO_COSTLY"),
        document(
            "too deep",
            &format!(
                "{{ __type(name: \"Ticket\") {{ {} name {} }} }}",
                "ofType { ".repeat(30),
                "}".repeat(30)
            ),
            json!({}),
            400,
            "QUERY_TOO_COSTLY",
        ),
        document(
            "nested past the parser's limit",
            &format!(
                "{{ __type(name: \"Ticket\") {{ {} name {} }} }}",
                "ofType { ".repeat(5000),
                "}".repeat(5000)
            ),
            json!({}),
            400,
            "GRAPHQL_PARSE_FAILED",
        ),
        document(
            "too many fields",
            &format!("{{ {} }}", aliases(1001, "__typename")),
            json!({}),
            400,
            "QUERY_TOO_COSTLY",
        ),
        document(
            "alias abuse",
            &format!("{{ {} }}", aliases(200, "slaAlerts { ticketId }")),
            json!({}),
            400,
            "QUERY_TOO_COSTLY",
        ),
        // HTTP requests that are not GraphQL requests.
        graphql_post("not JSON", JSON, "{not json", 400, "BAD_REQUEST"),
        graphql_post("empty body", JSON, "", 400, "BAD_REQUEST"),
        graphql_post("a JSON string", JSON, "\"{ __typename }\"", 400, "BAD_REQUEST"),
        graphql_post("no query", JSON, r#"{"variables": {}}"#, 400, "BAD_REQUEST"),
        graphql_post(
            "a batch",
            JSON,
            r#"[{"query": "{ __typename }"}, {"query": "{ __typename }"}]"#,
            400,
            "BAD_REQUEST",
        ),
        graphql_post(
            "variables not an object",
            JSON,
            r#"{"query": "{ __typename }", "variables": [1]}"#,
            400,
            "BAD_REQUEST",
        ),
        Hostile {
            name: "not UTF-8",
            request: raw("POST", "/graphql", json_headers, b"{\"query\": \"\xff\xfe\"}"),
            status: 400,
            code: "BAD_REQUEST",
        },
        Hostile {
            name: "text/plain",
            request: raw(
                "POST",
                "/graphql",
                "Content-Type: text/plain\r\n",
                br#"{"query": "{ __typename }"}"#,
            ),
            status: 415,
            code: "BAD_REQUEST",
        },
        Hostile {
            name: "form-encoded",
            request: raw(
                "POST",
                "/graphql",
                "Content-Type: application/x-www-form-urlencoded\r\n",
                b"query=%7B__typename%7D",
            ),
            status: 415,
            code: "BAD_REQUEST",
        },
        Hostile {
            name: "multipart",
            request: raw(
                "POST",
                "/graphql",
                "Content-Type: multipart/form-data; boundary=x\r\n",
                b"--x--",
            ),
            status: 415,
            code: "BAD_REQUEST",
        },
        Hostile {
            name: "no content type",
            request: raw("POST", "/graphql", "", br#"{"query": "{ __typename }"}"#),
            status: 415,
            code: "BAD_REQUEST",
        },
        Hostile {
            name: "an Accept the server cannot answer",
            request: raw(
                "POST",
                "/graphql",
                "Content-Type: application/json\r\nAccept: text/html\r\n",
                br#"{"query": "{ __typename }"}"#,
            ),
            status: 406,
            code: "BAD_REQUEST",
        },
        Hostile {
            name: "GET without a query",
            request: raw("GET", "/graphql", "", b""),
            status: 400,
            code: "BAD_REQUEST",
        },
        Hostile {
            name: "GET with a mutation",
            request: raw(
                "GET",
                "/graphql?query=mutation%7BcommentTicket(input:%7BticketId:%22T-1%22,text:%22x%22%7D)%7Bposition%7D%7D",
                "",
                b"",
            ),
            status: 405,
            code: "BAD_REQUEST",
        },
        Hostile {
            name: "GET with a document that does not parse",
            request: raw(
                "GET",
                "/graphql?query=%7B",
                "Accept: application/graphql-response+json\r\n",
                b"",
            ),
            status: 400,
            code: "GRAPHQL_PARSE_FAILED",
        },
        Hostile {
            name: "PUT",
            request: raw("PUT", "/graphql", json_headers, br#"{"query": "{ __typename }"}"#),
            status: 405,
            code: "BAD_REQUEST",
        },
        Hostile {
            name: "a body over 1 MiB, announced",
            request: raw("POST", "/graphql", json_headers, big.as_bytes()),
            status: 413,
            code: "BAD_REQUEST",
        },
        Hostile {
            name: "a body over 1 MiB, chunked",
            request: chunked_request,
            status: 413,
            code: "BAD_REQUEST",
        },
        Hostile {
            name: "an unknown role",
            request: {
                let body = br#"{"query": "{ __typename }"}"#;
                format!(
                    "POST /graphql HTTP/1.1\r\nHost: test\r\nx-user-role: wizard\r\nContent-Type: application/json\r\nAccept: application/graphql-response+json\r\nContent-Length: {}\r\nConnection: close\r\n\r\n{}",
                    body.len(),
                    String::from_utf8_lossy(body)
                )
                .into_bytes()
            },
            status: 401,
            code: "UNAUTHENTICATED",
        },
    ];
    for case in cases {
        let answer = exchange(addr, case.request).await;
        let v: Value = serde_json::from_str(&answer.body)
            .unwrap_or_else(|e| panic!("{}: not JSON ({e}): {:?}", case.name, answer.body));
        assert_eq!(answer.status, case.status, "{}: {v}", case.name);
        assert_eq!(code(&v), case.code, "{}: {v}", case.name);
        let errors = v["errors"].as_array().cloned().unwrap_or_default();
        assert!(!errors.is_empty(), "{}: {v}", case.name);
        for error in &errors {
            assert!(error["extensions"]["code"].is_string(), "{}: {error}", case.name);
            assert!(error["extensions"]["requestId"].is_string(), "{}: {error}", case.name);
        }
        assert_eq!(setup.service.head(), head, "{}: nothing appended", case.name);
    }
    // The server keeps serving.
    let answer = post(addr, JSON, "{ __typename }", json!({})).await;
    assert_eq!(answer.status, 200);
}

#[tokio::test]
async fn subscriptions_refused_over_websocket_carry_codes() {
    use crate::subscriptions::{connect, receive, send};
    let s = start_with_fixtures().await;
    let before = s.service.head();
    let mut socket = connect(s.addr).await;
    let bomb = {
        let mut q = String::from("subscription { ...F0 } fragment F30 on Subscription { ticketEvents { position } }");
        for i in 0..30 {
            q.push_str(&format!(
                " fragment F{i} on Subscription {{ ...F{n} ...F{n} }}",
                n = i + 1
            ));
        }
        q
    };
    let cases = [
        ("subscription { ticketEvents(", json!({}), "GRAPHQL_PARSE_FAILED"),
        ("subscription { nope }", json!({}), "GRAPHQL_VALIDATION_FAILED"),
        (
            "subscription($p: String) { slaAlerts(projectId: $p) { ticketId } }",
            json!({ "p": 7 }),
            "BAD_INPUT",
        ),
        (bomb.as_str(), json!({}), "QUERY_TOO_COSTLY"),
    ];
    for (i, (query, variables, expected)) in cases.into_iter().enumerate() {
        let id = format!("s{i}");
        send(
            &mut socket,
            json!({ "id": id, "type": "subscribe", "payload": { "query": query, "variables": variables } }),
        )
        .await;
        let message = receive(&mut socket).await;
        assert_eq!(message["id"], id.as_str(), "{message}");
        assert_eq!(
            message["payload"]["errors"][0]["extensions"]["code"], expected,
            "{query}: {message}"
        );
        let done = receive(&mut socket).await;
        assert_eq!(done["type"], "complete", "{done}");
    }
    assert_eq!(s.service.head(), before);
}
