//! One error type for the application: every refusal carries a human
//! message and a code from a small documented set ([`codes`]), which the
//! API puts in `extensions.code`; an internal failure keeps its source
//! chain for the log, and callers are shown a generic message.

use domain::error::DomainError;

/// The error codes staff tools may rely on (`extensions.code`).
pub mod codes {
    /// The request carries no valid credentials.
    pub const UNAUTHENTICATED: &str = "UNAUTHENTICATED";
    /// The actor may not do this.
    pub const FORBIDDEN: &str = "FORBIDDEN";
    /// The ticket, project, unit or owner does not exist.
    pub const NOT_FOUND: &str = "NOT_FOUND";
    /// A field is missing, malformed or out of range.
    pub const BAD_INPUT: &str = "BAD_INPUT";
    /// The process does not allow this in the record's status.
    pub const INVALID_TRANSITION: &str = "INVALID_TRANSITION";
    /// A stale `expectedVersion`, or a concurrent change won the race.
    pub const CONFLICT: &str = "CONFLICT";
    /// The change was recorded, but a view the answer reads did not catch
    /// up with it within the wait: read again shortly (no stale answer is
    /// given instead).
    pub const VIEW_BEHIND: &str = "VIEW_BEHIND";
    /// The caller already used this `idempotencyKey` for a different
    /// request (another operation or other arguments); nothing was done.
    pub const IDEMPOTENCY_KEY_REUSED: &str = "IDEMPOTENCY_KEY_REUSED";
    /// The caller sent more requests than its rate allows; retry after
    /// `extensions.retryAfterSeconds`.
    pub const RATE_LIMITED: &str = "RATE_LIMITED";
    /// The record holds an event this build cannot read (the message
    /// names its position); commands on it are refused until an operator
    /// mends the log. `aftersales log verify` names every such event.
    pub const UNREADABLE_RECORD: &str = "UNREADABLE_RECORD";
    /// A calendar, policy or warranty file offered for publication has
    /// problems, every one listed in `extensions.problems`; nothing was
    /// published.
    pub const INVALID_REFERENCE_DATA: &str = "INVALID_REFERENCE_DATA";
    /// Something broke on our side.
    pub const INTERNAL: &str = "INTERNAL";
    /// The HTTP request is not a GraphQL request the server takes: a body
    /// that is not JSON, no query, a batch, a content type other than
    /// `application/json`, a mutation over GET, a body over the size
    /// limit, an `Accept` the server cannot answer.
    pub const BAD_REQUEST: &str = "BAD_REQUEST";
    /// The document is not GraphQL.
    pub const GRAPHQL_PARSE_FAILED: &str = "GRAPHQL_PARSE_FAILED";
    /// The document does not fit the schema (an unknown field, a literal
    /// of the wrong type, an undefined variable, an unknown operation).
    /// A variable's value that does not fit its type is `BAD_INPUT`.
    pub const GRAPHQL_VALIDATION_FAILED: &str = "GRAPHQL_VALIDATION_FAILED";
    /// The document asks for too much: its estimated cost, its depth or
    /// its number of fields is over the limit (`extensions.cost` and
    /// `extensions.limit` for the cost). Nothing of it ran.
    pub const QUERY_TOO_COSTLY: &str = "QUERY_TOO_COSTLY";
    /// The answer would be larger than the response limit
    /// (`extensions.limit`, bytes); nothing of it is sent.
    pub const RESPONSE_TOO_LARGE: &str = "RESPONSE_TOO_LARGE";
    /// The request ran over the request timeout and was stopped; what it
    /// computed was discarded.
    pub const TIMEOUT: &str = "TIMEOUT";
    /// The server is running as many requests as it takes and the queue
    /// is full or waited too long; retry after
    /// `extensions.retryAfterSeconds`.
    pub const BUSY: &str = "BUSY";
}

/// Why a request failed. Its `Display` is the human message; an
/// internal failure's detail is behind [`std::error::Error::source`] (and in
/// [`AppError::message`], for the log).
#[derive(Debug)]
pub enum AppError {
    /// The domain refused the command.
    Domain(DomainError),
    /// The record changed since the caller read it.
    Conflict(String),
    /// Malformed input the domain never saw.
    BadInput(String),
    /// An idempotency key the caller already used for another request.
    KeyReused(String),
    /// A view did not catch up with a recorded change in time.
    ViewBehind(String),
    /// The caller's role or scope does not allow this.
    Forbidden(String),
    /// The record holds an event that cannot be read.
    Unreadable(String),
    /// Something broke on our side: the failure, with its own sources,
    /// for the log only.
    Internal(Box<dyn std::error::Error + Send + Sync>),
}

impl From<DomainError> for AppError {
    fn from(e: DomainError) -> Self {
        AppError::Domain(e)
    }
}

impl AppError {
    /// The code for `extensions.code`.
    pub fn code(&self) -> &'static str {
        match self {
            AppError::Domain(e) => match e {
                DomainError::InvalidTransition { .. } => codes::INVALID_TRANSITION,
                DomainError::Forbidden { .. } => codes::FORBIDDEN,
                DomainError::InvalidInput { .. }
                | DomainError::InvalidOccurredAt { .. }
                | DomainError::MissingReference { .. } => codes::BAD_INPUT,
                DomainError::NotFound { .. } => codes::NOT_FOUND,
                DomainError::AlreadyExists { .. } => codes::CONFLICT,
                DomainError::InvalidReferenceData { .. } => codes::INTERNAL,
                DomainError::RefusedReferenceData { .. } => codes::INVALID_REFERENCE_DATA,
            },
            AppError::Conflict(_) => codes::CONFLICT,
            AppError::BadInput(_) => codes::BAD_INPUT,
            AppError::KeyReused(_) => codes::IDEMPOTENCY_KEY_REUSED,
            AppError::ViewBehind(_) => codes::VIEW_BEHIND,
            AppError::Forbidden(_) => codes::FORBIDDEN,
            AppError::Unreadable(_) => codes::UNREADABLE_RECORD,
            AppError::Internal(_) => codes::INTERNAL,
        }
    }

    /// The human message.
    pub fn message(&self) -> String {
        match self {
            AppError::Domain(e) => e.to_string(),
            AppError::Conflict(m)
            | AppError::BadInput(m)
            | AppError::Forbidden(m)
            | AppError::KeyReused(m)
            | AppError::ViewBehind(m)
            | AppError::Unreadable(m) => m.clone(),
            AppError::Internal(e) => format!("internal error: {}", chain_text(e.as_ref())),
        }
    }

    /// Wraps an internal failure (an error, kept with its sources, or a
    /// description of what went wrong).
    pub fn internal(e: impl Into<Box<dyn std::error::Error + Send + Sync>>) -> Self {
        AppError::Internal(e.into())
    }
}

/// An error and its causes on one line, `outer: cause: cause`, each
/// cause said once: one whose text the line already holds (an error that
/// prints its source in its own message) is not repeated.
pub fn chain_text(error: &(dyn std::error::Error + 'static)) -> String {
    let mut text = error.to_string();
    let mut next = error.source();
    while let Some(cause) = next {
        let said = cause.to_string();
        if !text.contains(&said) {
            text.push_str(": ");
            text.push_str(&said);
        }
        next = cause.source();
    }
    text
}

impl std::fmt::Display for AppError {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        match self {
            // The failure itself is the source: `{:#}` in anyhow, or
            // `message`, prints the whole chain once.
            AppError::Internal(_) => f.write_str("internal error"),
            other => f.write_str(&other.message()),
        }
    }
}

impl std::error::Error for AppError {
    fn source(&self) -> Option<&(dyn std::error::Error + 'static)> {
        match self {
            AppError::Internal(e) => Some(e.as_ref()),
            _ => None,
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    /// An error with a cause, as a store's error wraps an I/O error.
    #[derive(Debug)]
    struct Outer(std::io::Error);

    impl std::fmt::Display for Outer {
        fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
            f.write_str("opening the log")
        }
    }

    impl std::error::Error for Outer {
        fn source(&self) -> Option<&(dyn std::error::Error + 'static)> {
            Some(&self.0)
        }
    }

    #[test]
    fn an_internal_failure_keeps_its_source_chain() {
        let e = AppError::internal(Outer(std::io::Error::other("disk full")));
        assert_eq!(e.code(), codes::INTERNAL);
        assert_eq!(e.to_string(), "internal error");
        assert_eq!(e.message(), "internal error: opening the log: disk full");
        let first = std::error::Error::source(&e).map(|s| s.to_string());
        assert_eq!(first.as_deref(), Some("opening the log"));
        let second = std::error::Error::source(&e)
            .and_then(|s| s.source())
            .map(|s| s.to_string());
        assert_eq!(second.as_deref(), Some("disk full"));
    }

    /// An error that prints its source in its own message, as many do.
    #[derive(Debug)]
    struct Repeats(std::io::Error);

    impl std::fmt::Display for Repeats {
        fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
            write!(f, "key store keys/owner-O-1: {}", self.0)
        }
    }

    impl std::error::Error for Repeats {
        fn source(&self) -> Option<&(dyn std::error::Error + 'static)> {
            Some(&self.0)
        }
    }

    #[test]
    fn each_cause_is_said_once() {
        let e = AppError::internal(Repeats(std::io::Error::other("permission denied")));
        assert_eq!(
            e.message(),
            "internal error: key store keys/owner-O-1: permission denied"
        );
        assert_eq!(
            chain_text(&e),
            "internal error: key store keys/owner-O-1: permission denied"
        );
    }

    #[test]
    fn a_refusal_displays_its_message() {
        let e = AppError::Forbidden("agent a-1 may not erase owners".into());
        assert_eq!(e.to_string(), "agent a-1 may not erase owners");
        assert_eq!(e.code(), codes::FORBIDDEN);
        assert!(std::error::Error::source(&e).is_none());
    }
}
