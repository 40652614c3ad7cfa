//! Pages in a real browser: headless Chromium driven over WebDriver
//! (chromedriver, see [`crate::chromium`]), against the real server on a
//! loopback port.

use application::auth::Principal;
use domain::actor::Role;
use domain::ids::UserId;
use fantoccini::Locator;
use serde_json::{json, Value};

pub(crate) use crate::chromium::{open, Browser};
use crate::support::{bearer, request, seed_fixtures, start_with_tokens, Server};

/// A server authenticating tokens, with one ticket received.
async fn token_server() -> (Server, String) {
    let (s, tokens) = start_with_tokens().await;
    seed_fixtures(&s.service).await;
    let principal = Principal {
        user: UserId::new("agent-7").unwrap_or_else(|e| panic!("{e}")),
        role: Role::Agent,
        projects: Default::default(),
        contractor: None,
        owner: None,
    };
    let (token, _) = tokens.create(principal, None).unwrap_or_else(|e| panic!("{e}"));
    let body = json!({ "query": crate::graphql::RECEIVE, "variables": { "key": "browser-1" } }).to_string();
    let (status, text) = request(s.addr, "POST", "/graphql", &bearer(&token), &body).await;
    assert!(status == 200 && text.contains("\"RECEIVED\""), "{status} {text}");
    (s, token)
}

/// GraphiQL loads from the binary alone (the browser has no internet),
/// fetches the schema once a token is in its Headers tab, and runs a query.
#[tokio::test]
async fn graphiql_works_offline_once_a_token_is_set() {
    let (server, token) = token_server().await;
    let addr = server.addr;
    let browser = open().await;
    browser
        .client
        .goto(&format!("http://{addr}/graphiql"))
        .await
        .unwrap_or_else(|e| panic!("{e}"));
    // GraphiQL renders from local files.
    browser
        .until("GraphiQL to render", "document.querySelector('.graphiql-container')")
        .await;
    let url = browser.client.current_url().await.unwrap_or_else(|e| panic!("{e}"));
    assert_eq!(url.path(), "/graphiql");
    // Every script and stylesheet came from this server.
    let sources = browser
        .run(
            "return performance.getEntriesByType('resource').map(e => e.name)\
             .concat([...document.scripts].map(s => s.src), [...document.styleSheets].map(s => s.href || ''))",
        )
        .await;
    let sources: Vec<&str> = sources
        .as_array()
        .unwrap_or_else(|| panic!("{sources}"))
        .iter()
        .filter_map(Value::as_str)
        .filter(|s| !s.is_empty())
        .collect();
    assert!(sources.len() >= 4, "{sources:?}");
    let origin = format!("http://{addr}/");
    for source in &sources {
        assert!(source.starts_with(&origin), "loaded from elsewhere: {source}");
    }

    // The token goes in the Headers tab, which GraphiQL keeps in local
    // storage across reloads.
    let headers = json!({ "Authorization": format!("Bearer {token}") }).to_string();
    browser
        .client
        .execute(
            "localStorage.setItem('graphiql:headers', arguments[0]);",
            vec![json!(headers)],
        )
        .await
        .unwrap_or_else(|e| panic!("{e}"));
    browser.client.refresh().await.unwrap_or_else(|e| panic!("{e}"));
    browser
        .until(
            "GraphiQL to render again",
            "document.querySelector('.graphiql-execute-button')",
        )
        .await;
    // With the token, the schema loads: the documentation explorer shows
    // the root types.
    browser
        .client
        .find(Locator::Css("button[aria-label='Show Documentation Explorer']"))
        .await
        .unwrap_or_else(|e| panic!("{e}"))
        .click()
        .await
        .unwrap_or_else(|e| panic!("{e}"));
    browser
        .until(
            "the documentation explorer to show the schema's root types",
            "document.querySelector('.graphiql-doc-explorer') && \
             document.querySelector('.graphiql-doc-explorer').innerText.includes('Mutation')",
        )
        .await;
    // And a query typed in the editor runs with it.
    let query = "{ tickets(first: 5) { edges { node { id status } } } }";
    browser
        .client
        .execute(
            "document.querySelector('.graphiql-query-editor .CodeMirror').CodeMirror.setValue(arguments[0]);",
            vec![json!(query)],
        )
        .await
        .unwrap_or_else(|e| panic!("{e}"));
    browser
        .client
        .find(Locator::Css(".graphiql-execute-button"))
        .await
        .unwrap_or_else(|e| panic!("{e}"))
        .click()
        .await
        .unwrap_or_else(|e| panic!("{e}"));
    let result = browser
        .until(
            "the result of the query",
            "(() => { const r = document.querySelector('.result-window'); \
              return r && r.innerText.includes('RECEIVED') ? r.innerText : null; })()",
        )
        .await;
    let text = result.as_str().unwrap_or_default();
    assert!(!text.contains("\"errors\""), "{text}");
}
