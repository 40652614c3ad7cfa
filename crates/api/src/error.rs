//! How the application's errors ([`AppError`]) become GraphQL errors: the
//! human message and `extensions.code` (plus `extensions.problems` for
//! refused reference data); an internal failure shows a generic message,
//! and its detail travels in [`DETAIL_EXTENSION`] to the server, which logs
//! it with the request id and removes it before the response leaves.
//!
//! A resolver returns an `AppError` with `?`: async-graphql keeps it as the
//! error's source, and the [`crate::guard::Guard`] codes every such error
//! of a response ([`code`]), over HTTP and WebSocket alike.

use async_graphql::{ErrorExtensionValues, ServerError};
use domain::error::DomainError;

pub use application::error::{codes, AppError};

/// The extension that carries an internal error's detail from the
/// resolver to the server, which logs it with the request id and removes it
/// before the response leaves.
pub const DETAIL_EXTENSION: &str = "internalDetail";

/// Gives a response's error its code, when it came from an [`AppError`]:
/// the message becomes the application's, and the code (with the detail
/// of an internal failure, or the problems of refused reference data) is
/// added to the extensions it has.
pub fn code(error: &mut ServerError) {
    let Some(source) = error.source.clone() else {
        return;
    };
    let Some(app) = source.downcast_ref::<AppError>() else {
        return;
    };
    let mut message = app.message();
    let mut extensions = error.extensions.take();
    apply(app, &mut message, &mut extensions);
    error.message = message;
    error.extensions = extensions;
}

fn apply(e: &AppError, message: &mut String, extensions: &mut Option<ErrorExtensionValues>) {
    let code = e.code();
    let ext = extensions.get_or_insert_with(ErrorExtensionValues::default);
    ext.set("code", code);
    if code == codes::INTERNAL {
        ext.set(DETAIL_EXTENSION, e.message());
        *message = "internal error; quote the requestId to the operator".to_owned();
    } else if let AppError::Domain(DomainError::RefusedReferenceData { problems, .. }) = e {
        ext.set("problems", problems.clone());
    }
}
