//! Bearer tokens: without one (or with an unknown, revoked one) every
//! GraphQL request is UNAUTHENTICATED while the health endpoints stay
//! open; with one, events record the token's principal, whatever the
//! request's headers claim.

use std::net::SocketAddr;
use std::sync::Arc;

use application::auth::{Principal, TokenStore};
use domain::actor::Role;
use domain::ids::{ContractorId, UserId};
use serde_json::{json, Value};

use crate::graphql::RECEIVE;

struct Server {
    _dir: tempfile::TempDir,
    addr: SocketAddr,
    tokens: Arc<TokenStore>,
}

async fn start() -> Server {
    let dir = tempfile::tempdir().unwrap_or_else(|e| panic!("{e}"));
    let service = Arc::new(crate::support::open_service(dir.path()));
    crate::graphql::seed_fixtures(&service).await;
    let tokens = Arc::new(TokenStore::open(dir.path()).unwrap_or_else(|e| panic!("{e}")));
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0")
        .await
        .unwrap_or_else(|e| panic!("{e}"));
    let addr = listener.local_addr().unwrap_or_else(|e| panic!("{e}"));
    let router = api::server::router(service, api::server::Identity::Tokens(tokens.clone()));
    tokio::spawn(async move { axum::serve(listener, router).await });
    Server {
        _dir: dir,
        addr,
        tokens,
    }
}

fn token(store: &TokenStore, user: &str, role: Role, contractor: Option<&str>) -> (String, String) {
    let principal = Principal {
        user: UserId::new(user).unwrap_or_else(|e| panic!("{e}")),
        role,
        projects: Vec::new(),
        contractor: contractor.map(|c| ContractorId::new(c).unwrap_or_else(|e| panic!("{e}"))),
        owner: None,
    };
    let (token, record) = store.create(principal, None).unwrap_or_else(|e| panic!("{e}"));
    (token, record.id)
}

/// A request with extra header lines; returns the status and the body.
pub(crate) async fn request(addr: SocketAddr, method: &str, path: &str, headers: &str, body: &str) -> (u16, String) {
    let request = format!(
        "{method} {path} HTTP/1.1\r\nHost: {addr}\r\nContent-Type: application/json\r\n{headers}Content-Length: {}\r\nConnection: close\r\n\r\n{body}",
        body.len()
    );
    let answer = crate::support::exchange(addr, request.into_bytes()).await;
    (answer.status, answer.body)
}

async fn gql(addr: SocketAddr, headers: &str, query: &str, variables: Value) -> Value {
    let body = json!({ "query": query, "variables": variables }).to_string();
    let (status, text) = request(addr, "POST", "/graphql", headers, &body).await;
    assert_eq!(status, 200, "{text}");
    serde_json::from_str(&text).unwrap_or_else(|e| panic!("{e}: {text}"))
}

fn code(v: &Value) -> &str {
    v["errors"][0]["extensions"]["code"].as_str().unwrap_or("")
}

#[tokio::test]
async fn requests_need_a_valid_token_and_events_record_its_principal() {
    let s = start().await;
    let query = "{ workdays(from: \"2026-10-08\", to: \"2026-10-09\") }";

    // No token, a malformed one, a forged one: UNAUTHENTICATED, and the
    // identity headers of the old scheme are not trusted.
    for headers in [
        "",
        "Authorization: Basic YWxhZGRpbjpvcGVu\r\n",
        "Authorization: Bearer ast_0000000000_AAAA\r\n",
        "x-user-id: boss\r\nx-user-role: admin\r\n",
    ] {
        let r = gql(s.addr, headers, query, json!({})).await;
        assert_eq!(code(&r), "UNAUTHENTICATED", "{headers:?}: {r}");
        assert!(r["data"].is_null(), "{r}");
    }
    // Health endpoints stay open.
    assert_eq!(request(s.addr, "GET", "/healthz", "", "").await.0, 200);

    let (agent, agent_id) = token(&s.tokens, "agent-42", Role::Agent, None);
    let auth = format!("Authorization: Bearer {agent}\r\n");
    let r = gql(s.addr, &auth, query, json!({})).await;
    assert_eq!(r["data"]["workdays"], json!(["2026-10-08", "2026-10-09"]), "{r}");

    // The actor is the token's, even when the request claims otherwise.
    let claims = format!("{auth}x-user-id: someone-else\r\nx-user-role: admin\r\n");
    let r = gql(s.addr, &claims, RECEIVE, json!({ "key": "auth-1" })).await;
    let id = r["data"]["receiveTicket"]["ticket"]["id"]
        .as_str()
        .unwrap_or_default()
        .to_string();
    assert!(!id.is_empty(), "{r}");
    let h = gql(
        s.addr,
        &auth,
        "query($id: String!) { ticketHistory(id: $id) { events { actor role } } }",
        json!({ "id": id }),
    )
    .await;
    assert_eq!(
        h["data"]["ticketHistory"]["events"],
        json!([{ "actor": "agent-42", "role": "agent" }])
    );

    // Revoked: refused on the very next request.
    s.tokens.revoke(&agent_id).unwrap_or_else(|e| panic!("{e}"));
    let r = gql(s.addr, &auth, query, json!({})).await;
    assert_eq!(code(&r), "UNAUTHENTICATED", "{r}");

    // A contractor's token carries its company.
    let (worker, _) = token(&s.tokens, "w-7", Role::Contractor, Some("C-ACME"));
    let r = gql(
        s.addr,
        &format!("Authorization: bearer {worker}\r\n"),
        "{ workdays(from: \"2026-10-09\", to: \"2026-10-09\") }",
        json!({}),
    )
    .await;
    assert!(r.get("errors").is_none(), "{r}");
}

#[tokio::test]
async fn graphql_response_json_clients_get_401_without_a_token() {
    let s = start().await;
    let body = json!({ "query": "{ workdays(from: \"2026-10-08\", to: \"2026-10-09\") }" }).to_string();
    let (status, text) = request(
        s.addr,
        "POST",
        "/graphql",
        "Accept: application/graphql-response+json\r\n",
        &body,
    )
    .await;
    assert_eq!(status, 401, "{text}");
    assert!(text.contains("UNAUTHENTICATED"), "{text}");
}
