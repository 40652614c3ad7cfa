//! Hostile inputs over HTTP: each refused with its status and code, and
//! none appends anything.

use serde_json::{json, Value};

use crate::support::{code, exchange};

use super::*;

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
