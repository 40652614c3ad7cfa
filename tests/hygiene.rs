//! Exposure: per-caller rate limits, security headers, introspection and
//! GraphiQL switched off, CORS for the staff tools' origins only.

use std::net::SocketAddr;
use std::time::Duration;

use api::server::{Identity, ServerOptions};
use serde_json::json;

use crate::support::{exchange, request_bytes, start_with};

/// Status, lower-cased head, body.
async fn raw(addr: SocketAddr, request: &str) -> (u16, String, String) {
    let answer = exchange(addr, request.as_bytes().to_vec()).await;
    (answer.status, answer.head, answer.body)
}

async fn post(addr: SocketAddr, user: &str, query: &str) -> (u16, String, String) {
    let body = json!({ "query": query }).to_string();
    let answer = exchange(
        addr,
        request_bytes(addr, (user, "analyst"), "POST", "/graphql", None, body.as_bytes()),
    )
    .await;
    (answer.status, answer.head, answer.body)
}

const QUERY: &str = "{ workdays(from: \"2026-10-08\", to: \"2026-10-09\") }";

#[tokio::test]
async fn a_caller_over_its_rate_waits_and_others_do_not() {
    let mut options = ServerOptions::new(Identity::TrustedHeaders);
    options.rate = Some(api::limits::Rate {
        per_second: 0.5,
        burst: 3.0,
    });
    let server = start_with(options).await;
    let addr = server.addr;
    // A token comes back every 2 s, so the fourth request is refused
    // unless the first four take that long even on a loaded machine.
    for _ in 0..3 {
        assert_eq!(post(addr, "busy", QUERY).await.0, 200);
    }
    let (status, head, body) = post(addr, "busy", QUERY).await;
    assert_eq!(status, 429, "{body}");
    let wait = head
        .lines()
        .find_map(|l| l.strip_prefix("retry-after:"))
        .map(str::trim)
        .filter(|s| matches!(*s, "1" | "2"))
        .unwrap_or_else(|| panic!("no retry-after of 1 or 2 s in {head}"));
    assert!(
        body.contains("RATE_LIMITED") && body.contains(&format!("\"retryAfterSeconds\":{wait}")),
        "{body}"
    );
    // Another caller is served meanwhile.
    assert_eq!(post(addr, "quiet", QUERY).await.0, 200);
    // After the wait it was told the busy caller is served again. The
    // limiter refills on the machine's monotonic clock, which the server
    // takes no other clock for and a test cannot move: real time has to
    // pass, as long as the answer said.
    let wait: u64 = wait.parse().unwrap_or_else(|e| panic!("retry-after {wait:?}: {e}"));
    tokio::time::sleep(Duration::from_secs(wait)).await;
    assert_eq!(post(addr, "busy", QUERY).await.0, 200);
}

#[tokio::test]
async fn responses_carry_security_headers() {
    let server = start_with(ServerOptions::new(Identity::TrustedHeaders)).await;
    let addr = server.addr;
    let (status, head, _) = post(addr, "a", QUERY).await;
    assert_eq!(status, 200);
    for header in [
        "x-content-type-options: nosniff",
        "x-frame-options: deny",
        "referrer-policy: no-referrer",
        "cache-control: no-store",
    ] {
        assert!(head.contains(header), "{header} missing in {head}");
    }
}

#[tokio::test]
async fn production_switches_introspection_graphiql_and_cors() {
    let mut options = ServerOptions::new(Identity::TrustedHeaders);
    options.introspection = false;
    options.graphiql = false;
    options.cors_origins = vec!["https://kf.example.com".into()];
    let server = start_with(options).await;
    let addr = server.addr;
    let (status, _, body) = post(addr, "a", "{ __schema { queryType { name } } }").await;
    assert_eq!(status, 200);
    // Introspection answers nothing (async-graphql returns null).
    assert!(
        body.contains(r#""__schema":null"#) && !body.contains("\"Query\""),
        "{body}"
    );
    // Ordinary queries still work.
    let (_, _, body) = post(addr, "a", QUERY).await;
    assert!(body.contains("2026-10-08"), "{body}");
    // The staff console stays (it needs no introspection), under its policy.
    let (status, head, _) = raw(
        addr,
        &format!("GET / HTTP/1.1\r\nHost: {addr}\r\nConnection: close\r\n\r\n"),
    )
    .await;
    assert_eq!(status, 200, "/");
    assert!(
        head.contains("content-security-policy: default-src 'none'; script-src 'self'"),
        "{head}"
    );
    for path in ["/graphiql", "/graphiql/assets/graphiql.min.js"] {
        let (status, _, _) = raw(
            addr,
            &format!("GET {path} HTTP/1.1\r\nHost: {addr}\r\nConnection: close\r\n\r\n"),
        )
        .await;
        assert_eq!(status, 404, "{path}");
    }
    // A preflight from the staff tool's origin is allowed, another is not.
    let preflight = |origin: &str| {
        format!(
            "OPTIONS /graphql HTTP/1.1\r\nHost: {addr}\r\nOrigin: {origin}\r\nAccess-Control-Request-Method: POST\r\nAccess-Control-Request-Headers: authorization, content-type\r\nConnection: close\r\n\r\n"
        )
    };
    let (_, head, _) = raw(addr, &preflight("https://kf.example.com")).await;
    assert!(
        head.contains("access-control-allow-origin: https://kf.example.com"),
        "{head}"
    );
    let (_, head, _) = raw(addr, &preflight("https://evil.example.net")).await;
    assert!(!head.contains("access-control-allow-origin"), "{head}");
}

#[tokio::test]
async fn queries_too_deep_or_too_complex_are_refused_unrun() {
    let server = start_with(ServerOptions::new(Identity::TrustedHeaders)).await;
    let addr = server.addr;
    // Depth: `__schema { types { fields { type { ofType … } } } }`.
    let nested = |levels: usize| {
        format!(
            "{{ __schema {{ types {{ fields {{ type {{ {} name {} }} }} }} }} }}",
            "ofType { ".repeat(levels),
            "}".repeat(levels)
        )
    };
    let (_, _, body) = post(addr, "a", &nested(14)).await;
    assert!(!body.contains("\"errors\""), "{body}");
    let (_, _, body) = post(addr, "a", &nested(api::cost::MAX_DEPTH)).await;
    assert!(
        body.contains("nested too deep") && body.contains("QUERY_TOO_COSTLY"),
        "{body}"
    );
    // Fields: more selections than the limit, by aliases.
    let wide = |n: usize| -> String {
        (0..n)
            .map(|i| format!("a{i}: workdays(from: \"2026-10-08\", to: \"2026-10-09\") "))
            .collect()
    };
    let (_, _, body) = post(addr, "a", &format!("{{ {} }}", wide(api::cost::MAX_FIELDS + 1))).await;
    assert!(
        body.contains("QUERY_TOO_COSTLY") && body.contains("fields"),
        "{}",
        &body[..body.len().min(300)]
    );
    let (_, _, body) = post(addr, "a", &format!("{{ {} }}", wide(50))).await;
    assert!(!body.contains("\"errors\""), "{}", &body[..body.len().min(300)]);
}
