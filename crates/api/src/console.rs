//! The staff console at `/`: a GraphQL client of the public API in the
//! browser, served from files compiled into the binary
//! (`crates/api/assets/console/`; vendored files, versions and hashes in
//! its `VERSIONS.md`). No file is fetched from another host and no script
//! runs inline: the page's content security policy allows scripts, styles
//! and connections from this server only.

use axum::extract::Path;
use axum::http::{header, HeaderValue};
use axum::response::{IntoResponse, Response};
use axum::routing::get;
use axum::Router;

/// The console's content security policy: nothing inline, nothing from
/// another origin; connections (the API and its WebSocket) to this server.
pub const PAGE_POLICY: &str = "default-src 'none'; script-src 'self'; style-src 'self'; img-src 'self' data:; \
     connect-src 'self'; font-src 'self'; frame-ancestors 'none'; base-uri 'none'; form-action 'none'";

pub use crate::assets::Asset;

macro_rules! asset {
    ($name:literal, $type:literal) => {
        Asset {
            name: $name,
            content_type: $type,
            bytes: include_bytes!(concat!("../assets/console/", $name)),
        }
    };
}

/// The type of the scripts (checked by the tests for their imports).
#[cfg(test)]
const JS: &str = "text/javascript; charset=utf-8";

/// Every file the page loads, and the licences of the vendored ones.
pub const ASSETS: &[Asset] = &[
    asset!("app.js", "text/javascript; charset=utf-8"),
    asset!("api.js", "text/javascript; charset=utf-8"),
    asset!("i18n.js", "text/javascript; charset=utf-8"),
    asset!("forms.js", "text/javascript; charset=utf-8"),
    asset!("ui.js", "text/javascript; charset=utf-8"),
    asset!("intake.js", "text/javascript; charset=utf-8"),
    asset!("dashboard.js", "text/javascript; charset=utf-8"),
    asset!("reports.js", "text/javascript; charset=utf-8"),
    asset!("incidents.js", "text/javascript; charset=utf-8"),
    asset!("uPlot.esm.js", "text/javascript; charset=utf-8"),
    asset!("uPlot.min.css", "text/css; charset=utf-8"),
    asset!("htm-preact-standalone.js", "text/javascript; charset=utf-8"),
    asset!("console.css", "text/css; charset=utf-8"),
    asset!("LICENSE.htm", "text/plain; charset=utf-8"),
    asset!("LICENSE.preact", "text/plain; charset=utf-8"),
    asset!("LICENSE.uplot", "text/plain; charset=utf-8"),
    asset!("VERSIONS.md", "text/markdown; charset=utf-8"),
];

/// The page itself.
pub const PAGE: &str = include_str!("../assets/console/index.html");

/// `/` (the page) and `/console/assets/{name}` (its files).
pub fn routes<S: Clone + Send + Sync + 'static>() -> Router<S> {
    Router::new()
        .route("/", get(page))
        .route("/console/assets/{name}", get(asset))
}

fn secured(mut response: Response) -> Response {
    let headers = response.headers_mut();
    headers.insert(header::CONTENT_SECURITY_POLICY, HeaderValue::from_static(PAGE_POLICY));
    headers.insert(header::X_CONTENT_TYPE_OPTIONS, HeaderValue::from_static("nosniff"));
    headers.insert(header::REFERRER_POLICY, HeaderValue::from_static("no-referrer"));
    response
}

async fn page() -> Response {
    let mut response = secured(axum::response::Html(PAGE).into_response());
    // The page is small and names the assets: always the binary's own.
    response
        .headers_mut()
        .insert(header::CACHE_CONTROL, HeaderValue::from_static("no-cache"));
    response
}

async fn asset(Path(name): Path<String>) -> Response {
    // The files change with the binary: revalidated on every load, so an
    // upgrade never runs old scripts against a new API.
    secured(crate::assets::serve(ASSETS, &name, "no-cache", "console"))
}

#[cfg(test)]
mod tests {
    use super::*;

    /// The vendored files are the published ones `VERSIONS.md` names.
    #[test]
    fn console_assets_match_versions() {
        let checked = crate::assets::check_versions(ASSETS);
        assert_eq!(checked, 3, "VERSIONS.md should list the vendored files");
    }

    /// What a browser downloads for the console (the page and every file
    /// it loads, not the licences), gzipped as a server or proxy would:
    /// (bytes, gzipped bytes).
    pub(crate) fn console_weight() -> (usize, usize) {
        use std::io::Write as _;
        let mut raw = PAGE.len();
        let mut gzipped = {
            let mut gz = flate2::write::GzEncoder::new(Vec::new(), flate2::Compression::default());
            gz.write_all(PAGE.as_bytes()).unwrap_or_else(|e| panic!("{e}"));
            gz.finish().unwrap_or_else(|e| panic!("{e}")).len()
        };
        for asset in ASSETS
            .iter()
            .filter(|a| !a.name.starts_with("LICENSE") && a.name != "VERSIONS.md")
        {
            let mut gz = flate2::write::GzEncoder::new(Vec::new(), flate2::Compression::default());
            gz.write_all(asset.bytes).unwrap_or_else(|e| panic!("{e}"));
            raw += asset.bytes.len();
            gzipped += gz.finish().unwrap_or_else(|e| panic!("{e}")).len();
        }
        (raw, gzipped)
    }

    /// The budget of issue 18: the whole console under 300 KB gzipped (a
    /// size, not a timing: it holds on any machine).
    #[test]
    fn the_console_is_under_300_kb_gzipped() {
        let (raw, gzipped) = console_weight();
        println!("console: {raw} bytes, {gzipped} bytes gzipped");
        assert!(raw > gzipped && gzipped > 10_000, "{raw} / {gzipped}");
        assert!(gzipped < 300 * 1024, "the console is {gzipped} bytes gzipped");
    }

    /// Every module the scripts import, and every file the page names, is
    /// served; nothing names another host; no script is inline.
    #[test]
    fn the_page_and_its_modules_load_only_served_files() {
        assert!(
            !PAGE.contains("<script>") && !PAGE.contains("onload="),
            "inline script in the page"
        );
        let mut named = 0;
        for part in PAGE.split('"') {
            assert!(
                !part.starts_with("http") && !part.starts_with("//"),
                "another host: {part}"
            );
            if let Some(name) = part.strip_prefix("/console/assets/") {
                assert!(
                    ASSETS.iter().any(|a| a.name == name),
                    "the page loads {name}, not served"
                );
                named += 1;
            }
        }
        assert_eq!(named, 3, "the page should load its two stylesheets and app.js");
        for asset in ASSETS
            .iter()
            .filter(|a| a.content_type == JS && !a.name.starts_with("htm-") && !a.name.starts_with("uPlot"))
        {
            let text = std::str::from_utf8(asset.bytes).unwrap_or_default();
            for line in text.lines().filter(|l| l.starts_with("import ")) {
                let from = line.rsplit("from").next().unwrap_or_default();
                let file = from
                    .trim()
                    .trim_end_matches(';')
                    .trim_matches('\'')
                    .trim_start_matches("./");
                assert!(
                    ASSETS.iter().any(|a| a.name == file),
                    "{} imports {file}, which is not served",
                    asset.name
                );
            }
        }
    }
}
