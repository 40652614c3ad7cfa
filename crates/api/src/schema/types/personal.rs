//! Personal values and free text as the caller may see them: whole,
//! masked, or erased.

use async_graphql::{Context, Result};

use crate::schema::service;

/// Shown in place of a personal value that was erased.
pub const ERASED: &str = eventformat::sealing::ERASED;

/// A personal value as a role may see it: whole, masked, or, if it does
/// not open, [`ERASED`] or the marker of damage
/// ([`eventformat::sealing::KEY_MISSING`]).
pub(crate) fn shown<T: domain::personal::Mask + serde::de::DeserializeOwned + Clone>(
    ring: &keyring::Keyring,
    value: &domain::personal::Personal<T>,
    whole: bool,
    full: impl Fn(&T) -> String,
) -> Result<String, crate::error::AppError> {
    use eventformat::sealing::Opened;
    let opened = eventformat::sealing::open_status(ring, value).map_err(crate::error::AppError::internal)?;
    Ok(match opened {
        Opened::Clear(v) if whole => full(&v),
        Opened::Clear(v) => v.masked(),
        other => other.marker().unwrap_or(ERASED).to_string(),
    })
}

/// A personal value stored in a view as the caller may see it.
pub(crate) fn shown_in<T: domain::personal::Mask + serde::de::DeserializeOwned + Clone>(
    ctx: &Context<'_>,
    value: &domain::personal::Personal<T>,
    full: impl Fn(&T) -> String,
) -> Result<String> {
    let whole = application::access::sees_personal(crate::schema::principal(ctx)?);
    Ok(shown(service(ctx)?.keyring(), value, whole, full)?)
}

/// Free text with the personal data sealed out of it shown as the caller
/// may see it: in full, masked, or erased.
pub(crate) fn text(ctx: &Context<'_>, stored: &str, seals: &[domain::personal::TextSeal]) -> Result<String> {
    if seals.is_empty() {
        return Ok(stored.to_string());
    }
    let whole = application::access::sees_personal(crate::schema::principal(ctx)?);
    Ok(
        eventformat::sealing::render_text(service(ctx)?.keyring(), stored, seals, whole)
            .map_err(crate::error::AppError::internal)?,
    )
}
