//! Pages in a real browser: headless Chromium driven over WebDriver
//! (chromedriver), against the real server on a loopback port. The browser
//! runs with its background networking off, as on a network without
//! internet: a page that needed a public CDN would not load.
//!
//! Needs `/usr/bin/chromium` and `/usr/bin/chromedriver` (Debian's
//! `chromium` and `chromium-driver`; `.ci/run` installs them), or the
//! paths in `AFTERSALES_CHROMIUM` and `AFTERSALES_CHROMEDRIVER`.

use std::process::{Child, Command, Stdio};
use std::time::{Duration, Instant};

use application::auth::Principal;
use domain::actor::Role;
use domain::ids::UserId;
use fantoccini::{Client, ClientBuilder, Locator};
use serde_json::{json, Value};

use crate::support::{bearer, request, seed_fixtures, start_with_tokens, Server};

/// How long a page may take to show what a test waits for.
const PATIENCE: Duration = Duration::from_secs(60);

/// A headless Chromium session; the driver process ends with it.
pub(crate) struct Browser {
    pub(crate) client: Client,
    driver: Child,
    _profile: tempfile::TempDir,
}

impl Drop for Browser {
    fn drop(&mut self) {
        let _ = self.driver.kill();
        let _ = self.driver.wait();
    }
}

fn program(variable: &str, default: &str) -> String {
    let path = std::env::var(variable).unwrap_or_else(|_| default.to_string());
    assert!(
        std::path::Path::new(&path).exists(),
        "{path} is missing: install Debian's chromium and chromium-driver \
         (apt-get install chromium chromium-driver; .ci/run does), or set {variable}"
    );
    path
}

/// Starts chromedriver on a free loopback port and opens a headless
/// Chromium session with a fresh profile.
pub(crate) async fn open() -> Browser {
    let chromium = program("AFTERSALES_CHROMIUM", "/usr/bin/chromium");
    let chromedriver = program("AFTERSALES_CHROMEDRIVER", "/usr/bin/chromedriver");
    let port = {
        let probe = std::net::TcpListener::bind("127.0.0.1:0").unwrap_or_else(|e| panic!("{e}"));
        probe.local_addr().unwrap_or_else(|e| panic!("{e}")).port()
    };
    let driver = Command::new(&chromedriver)
        .arg(format!("--port={port}"))
        .stdout(Stdio::null())
        .stderr(Stdio::null())
        .spawn()
        .unwrap_or_else(|e| panic!("starting {chromedriver}: {e}"));
    let profile = tempfile::tempdir().unwrap_or_else(|e| panic!("{e}"));
    let mut capabilities = serde_json::Map::new();
    capabilities.insert(
        "goog:chromeOptions".into(),
        json!({
            "binary": chromium,
            "args": [
                "--headless", "--no-sandbox", "--disable-gpu", "--disable-dev-shm-usage",
                "--disable-quic", "--no-first-run", "--disable-background-networking",
                "--disable-component-update", "--disable-sync", "--window-size=1280,900",
                format!("--user-data-dir={}", profile.path().display()),
            ]
        }),
    );
    let url = format!("http://127.0.0.1:{port}");
    // The driver answers once it listens: try until it does.
    let deadline = Instant::now() + PATIENCE;
    let mut browser = Browser {
        client: loop {
            let attempt = ClientBuilder::new(hyper_util::client::legacy::connect::HttpConnector::new())
                .capabilities(capabilities.clone())
                .connect(&url)
                .await;
            match attempt {
                Ok(client) => break client,
                Err(e) if Instant::now() < deadline => {
                    let _ = e;
                    tokio::time::sleep(Duration::from_millis(50)).await;
                }
                Err(e) => panic!("no WebDriver session from {chromedriver} on port {port}: {e}"),
            }
        },
        driver,
        _profile: profile,
    };
    // Fail fast rather than hang if the driver died at once.
    if let Ok(Some(status)) = browser.driver.try_wait() {
        panic!("{chromedriver} exited: {status}");
    }
    browser
}

impl Browser {
    /// Waits until `expression` (JavaScript, evaluated in the page) is
    /// truthy, and returns its value; panics with `what` and the page's
    /// text after [`PATIENCE`].
    pub(crate) async fn until(&self, what: &str, expression: &str) -> Value {
        let script = format!("try {{ return ({expression}) || null; }} catch (e) {{ return null; }}");
        let deadline = Instant::now() + PATIENCE;
        loop {
            let value = self.client.execute(&script, vec![]).await.unwrap_or(Value::Null);
            if !value.is_null() && value != Value::Bool(false) {
                return value;
            }
            if Instant::now() > deadline {
                let text = self
                    .client
                    .execute("return document.body ? document.body.innerText : ''", vec![])
                    .await
                    .unwrap_or(Value::Null);
                panic!("waited {PATIENCE:?} for {what}; the page shows:\n{text}");
            }
            tokio::time::sleep(Duration::from_millis(50)).await;
        }
    }

    /// Runs `script` in the page.
    pub(crate) async fn run(&self, script: &str) -> Value {
        self.client
            .execute(script, vec![])
            .await
            .unwrap_or_else(|e| panic!("{script}: {e}"))
    }
}

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
