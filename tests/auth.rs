//! Bearer tokens: without one (or with an unknown, revoked one) every
//! GraphQL request is UNAUTHENTICATED while the health endpoints stay
//! open; with one, events record the token's principal, whatever the
//! request's headers claim.

use application::auth::{Principal, TokenStore};
use domain::actor::Role;
use domain::ids::{ContractorId, UserId};
use serde_json::json;

use crate::graphql::RECEIVE;
use crate::support::{code, gql, request, seed_fixtures, start_with_tokens};

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

#[tokio::test]
async fn requests_need_a_valid_token_and_events_record_its_principal() {
    let (s, tokens) = start_with_tokens().await;
    seed_fixtures(&s.service).await;
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

    let (agent, agent_id) = token(&tokens, "agent-42", Role::Agent, None);
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
    tokens.revoke(&agent_id).unwrap_or_else(|e| panic!("{e}"));
    let r = gql(s.addr, &auth, query, json!({})).await;
    assert_eq!(code(&r), "UNAUTHENTICATED", "{r}");

    // A contractor's token carries its company.
    let (worker, _) = token(&tokens, "w-7", Role::Contractor, Some("C-ACME"));
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
    let (s, _tokens) = start_with_tokens().await;
    seed_fixtures(&s.service).await;
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
