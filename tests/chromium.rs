//! A headless Chromium over WebDriver (chromedriver), for the browser
//! tests and the console benchmark: it runs with its background
//! networking off, as on a network without internet, so a page that
//! needed a public CDN would not load.
//!
//! Needs `/usr/bin/chromium` and `/usr/bin/chromedriver` (Debian's
//! `chromium` and `chromium-driver`; `.ci/run` installs them), or the
//! paths in `AFTERSALES_CHROMIUM` and `AFTERSALES_CHROMEDRIVER`.

use std::process::{Child, Command, Stdio};
use std::time::{Duration, Instant};

use fantoccini::{Client, ClientBuilder};
use serde_json::{json, Value};

/// How long a page may take to show what a test waits for.
pub const PATIENCE: Duration = Duration::from_secs(60);

/// A headless Chromium session; the driver process ends with it.
pub struct Browser {
    pub client: Client,
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
pub async fn open() -> Browser {
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
    pub async fn until(&self, what: &str, expression: &str) -> Value {
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
    pub async fn run(&self, script: &str) -> Value {
        self.client
            .execute(script, vec![])
            .await
            .unwrap_or_else(|e| panic!("{script}: {e}"))
    }
}
