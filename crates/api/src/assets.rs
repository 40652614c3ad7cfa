//! Files compiled into the binary and served as they are (GraphiQL's and
//! the console's), and the check that vendored ones are the release files
//! their `VERSIONS.md` names.

use axum::http::{header, HeaderValue, StatusCode};
use axum::response::{IntoResponse, Response};

/// One served file.
pub struct Asset {
    /// Its name in the URL.
    pub name: &'static str,
    /// Its `Content-Type`.
    pub content_type: &'static str,
    /// Its bytes.
    pub bytes: &'static [u8],
}

/// `name` from `assets`, with its type and `cache` as `Cache-Control`, or
/// 404 naming `what`.
pub fn serve(assets: &[Asset], name: &str, cache: &'static str, what: &str) -> Response {
    let Some(asset) = assets.iter().find(|a| a.name == name) else {
        return (StatusCode::NOT_FOUND, format!("no such {what} file\n")).into_response();
    };
    let mut response = asset.bytes.into_response();
    let headers = response.headers_mut();
    headers.insert(header::CONTENT_TYPE, HeaderValue::from_static(asset.content_type));
    headers.insert(header::CACHE_CONTROL, HeaderValue::from_static(cache));
    response
}

/// How many files the `VERSIONS.md` among `assets` lists, each checked to
/// be served with the sha256 the table gives (panics on the first that is
/// not).
#[cfg(test)]
pub fn check_versions(assets: &[Asset]) -> usize {
    use sha2::{Digest, Sha256};
    let versions = std::str::from_utf8(
        assets
            .iter()
            .find(|a| a.name == "VERSIONS.md")
            .map_or(&[][..], |a| a.bytes),
    )
    .unwrap_or_default();
    let mut checked = 0;
    for line in versions.lines().filter(|l| l.starts_with("| `")) {
        let cells: Vec<&str> = line.split('|').map(str::trim).collect();
        let name = cells[1].trim_matches('`');
        let hash = cells[5];
        let asset = assets
            .iter()
            .find(|a| a.name == name)
            .unwrap_or_else(|| panic!("VERSIONS.md names {name}, which is not served"));
        let actual: String = Sha256::digest(asset.bytes).iter().map(|b| format!("{b:02x}")).collect();
        assert_eq!(actual, hash, "{name} differs from the release file VERSIONS.md names");
        checked += 1;
    }
    checked
}
