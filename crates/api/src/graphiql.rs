//! GraphiQL, served from files compiled into the binary
//! (`crates/api/assets/graphiql/`, versions and hashes in its
//! `VERSIONS.md`): the page loads nothing from another host, so it works on
//! a network without internet.

use axum::extract::Path;
use axum::http::{header, HeaderValue};
use axum::response::{IntoResponse, Response};
use axum::routing::get;
use axum::Router;

/// The page's content security policy: scripts, styles, fonts and
/// connections from this server only (GraphiQL's editors set inline
/// styles; its icons and fonts are data URLs).
const PAGE_POLICY: &str = "default-src 'self'; script-src 'self'; style-src 'self' 'unsafe-inline'; \
     img-src 'self' data:; font-src 'self' data:; connect-src 'self'; frame-ancestors 'none'; \
     base-uri 'none'; form-action 'none'";

pub use crate::assets::Asset;

macro_rules! asset {
    ($name:literal, $type:literal) => {
        Asset {
            name: $name,
            content_type: $type,
            bytes: include_bytes!(concat!("../assets/graphiql/", $name)),
        }
    };
}

/// Every file the page loads, and the licences of the vendored ones.
pub const ASSETS: &[Asset] = &[
    asset!("graphiql.min.js", "text/javascript; charset=utf-8"),
    asset!("graphiql.min.css", "text/css; charset=utf-8"),
    asset!("react.production.min.js", "text/javascript; charset=utf-8"),
    asset!("react-dom.production.min.js", "text/javascript; charset=utf-8"),
    asset!("start.js", "text/javascript; charset=utf-8"),
    asset!("LICENSE.graphiql", "text/plain; charset=utf-8"),
    asset!("LICENSE.react", "text/plain; charset=utf-8"),
    asset!("VERSIONS.md", "text/markdown; charset=utf-8"),
];

/// The page itself.
pub const PAGE: &str = include_str!("../assets/graphiql/index.html");

/// `/graphiql` (the page) and `/graphiql/assets/{name}` (its files); the
/// console is at `/`.
pub fn routes<S: Clone + Send + Sync + 'static>() -> Router<S> {
    Router::new()
        .route("/graphiql", get(page))
        .route("/graphiql/assets/{name}", get(asset))
}

async fn page() -> Response {
    let mut response = axum::response::Html(PAGE).into_response();
    response
        .headers_mut()
        .insert(header::CONTENT_SECURITY_POLICY, HeaderValue::from_static(PAGE_POLICY));
    response
}

async fn asset(Path(name): Path<String>) -> Response {
    // The files change only with the binary; an hour's cache spares the
    // megabyte on every reload without outliving an upgrade for long.
    crate::assets::serve(ASSETS, &name, "public, max-age=3600", "GraphiQL")
}

#[cfg(test)]
mod tests {
    use super::*;

    /// The vendored files are the published ones `VERSIONS.md` names.
    #[test]
    fn graphiql_assets_match_versions() {
        let checked = crate::assets::check_versions(ASSETS);
        assert_eq!(checked, 4, "VERSIONS.md should list the four vendored files");
    }

    /// The page loads only files the server has.
    #[test]
    fn the_page_loads_only_served_files() {
        let mut loaded = 0;
        for part in PAGE.split(['"', '\'']) {
            if part.starts_with("http") || part.starts_with("//") {
                panic!("the page names another host: {part}");
            }
            if let Some(name) = part.strip_prefix("/graphiql/assets/") {
                assert!(ASSETS.iter().any(|a| a.name == name), "{name} is not served");
                loaded += 1;
            }
        }
        assert_eq!(loaded, 5, "the page loads the stylesheet and four scripts");
    }
}
