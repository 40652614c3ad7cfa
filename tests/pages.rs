//! What the console's browser tests do on a page: wait for an element,
//! choose, click and type, sign in, read the offered actions, wait for a
//! ticket's status, and save a picture of the page.

use fantoccini::Locator;

use crate::browser::Browser;

/// The element `css` once the page shows it (and, with `ready`, once that
/// expression about it holds).
pub(crate) async fn element(browser: &Browser, css: &str, ready: Option<&str>) -> fantoccini::elements::Element {
    let shown = format!("document.querySelector({css:?})");
    let expression = match ready {
        Some(condition) => format!("{shown} && {condition}"),
        None => shown,
    };
    browser.until(&format!("{css} to be ready"), &expression).await;
    browser
        .client
        .find(Locator::Css(css))
        .await
        .unwrap_or_else(|e| panic!("{css}: {e}"))
}

pub(crate) async fn select(browser: &Browser, css: &str, value: &str) {
    let offered = format!("[...document.querySelector({css:?}).options].some(o => o.value === {value:?})");
    element(browser, css, Some(&offered))
        .await
        .select_by_value(value)
        .await
        .unwrap_or_else(|e| panic!("choosing {value} in {css}: {e}"));
}

pub(crate) async fn click(browser: &Browser, css: &str) {
    element(browser, css, None)
        .await
        .click()
        .await
        .unwrap_or_else(|e| panic!("clicking {css}: {e}"));
}

pub(crate) async fn type_into(browser: &Browser, css: &str, text: &str) {
    element(browser, css, None)
        .await
        .send_keys(text)
        .await
        .unwrap_or_else(|e| panic!("typing into {css}: {e}"));
}

pub(crate) async fn sign_in(browser: &Browser, addr: std::net::SocketAddr, token: &str, who: &str) {
    browser
        .client
        .goto(&format!("http://{addr}/"))
        .await
        .unwrap_or_else(|e| panic!("{e}"));
    type_into(browser, "#token", token).await;
    click(browser, "#sign-in").await;
    browser
        .until(
            &format!("the header to name {who}"),
            &format!("document.querySelector('#who') && document.querySelector('#who').innerText.includes({who:?})"),
        )
        .await;
}

/// The actions the ticket page offers, by mutation name.
pub(crate) async fn offered(browser: &Browser) -> Vec<String> {
    let names = browser
        .run("return [...document.querySelectorAll('#actions button')].map(b => b.dataset.action)")
        .await;
    names
        .as_array()
        .map(|a| a.iter().filter_map(|v| v.as_str().map(String::from)).collect())
        .unwrap_or_default()
}

/// With `CONSOLE_SCREENSHOTS=<folder>`, saves what the page shows as
/// `<folder>/<name>.png` (how the pictures in `docs/console/` are made).
pub(crate) async fn picture(browser: &Browser, name: &str) {
    let Ok(folder) = std::env::var("CONSOLE_SCREENSHOTS") else {
        return;
    };
    // Tall enough for the whole page, then back to the size tests use.
    let (width, height) = browser.client.get_window_size().await.unwrap_or_else(|e| panic!("{e}"));
    let tall = browser
        .run("return document.documentElement.scrollHeight")
        .await
        .as_u64()
        .unwrap_or(height);
    let size = |h: u64| u32::try_from(h).unwrap_or(4000).min(4000);
    let width = u32::try_from(width).unwrap_or(1280);
    browser
        .client
        .set_window_size(width, size(tall + 120).max(size(height)))
        .await
        .unwrap_or_else(|e| panic!("{e}"));
    let png = browser.client.screenshot().await.unwrap_or_else(|e| panic!("{e}"));
    browser
        .client
        .set_window_size(width, size(height))
        .await
        .unwrap_or_else(|e| panic!("{e}"));
    // A relative folder is taken from the workspace's root.
    let folder = std::path::Path::new(env!("CARGO_MANIFEST_DIR")).join("..").join(folder);
    std::fs::write(folder.join(format!("{name}.png")), png).unwrap_or_else(|e| panic!("{}: {e}", folder.display()));
}

pub(crate) async fn wait_status(browser: &Browser, status_zh: &str) {
    browser
        .until(
            &format!("the ticket to show status {status_zh}"),
            &format!("document.querySelector('#ticket-status') && document.querySelector('#ticket-status').innerText === {status_zh:?}"),
        )
        .await;
}
