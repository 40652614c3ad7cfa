//! One error type for the server: every refusal becomes a GraphQL error
//! with a human message and a code from a small documented set; internal
//! errors show a generic message (the detail goes to the log once, here).

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

/// Why a request failed. Deliberately not `Display`: it becomes a GraphQL
/// error only through `From`, which sets the code.
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
    /// Something broke on our side; the message is for the log only.
    Internal(String),
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
            AppError::Internal(m) => format!("internal error: {m}"),
        }
    }

    /// Wraps an internal failure.
    pub fn internal(e: impl std::fmt::Display) -> Self {
        AppError::Internal(e.to_string())
    }
}

/// The extension that carries an internal error's detail from the
/// resolver to the server, which logs it with the request id and removes it
/// before the response leaves.
pub const DETAIL_EXTENSION: &str = "internalDetail";

impl From<AppError> for async_graphql::Error {
    fn from(e: AppError) -> Self {
        let code = e.code();
        if code == codes::INTERNAL {
            let detail = e.message();
            async_graphql::ErrorExtensions::extend_with(
                async_graphql::Error::new("internal error; quote the requestId to the operator"),
                |_, ext| {
                    ext.set("code", code);
                    ext.set(DETAIL_EXTENSION, detail.clone());
                },
            )
        } else {
            let problems = match &e {
                AppError::Domain(DomainError::RefusedReferenceData { problems, .. }) => Some(problems.clone()),
                _ => None,
            };
            async_graphql::ErrorExtensions::extend_with(async_graphql::Error::new(e.message()), |_, ext| {
                ext.set("code", code);
                if let Some(problems) = &problems {
                    ext.set("problems", problems.clone());
                }
            })
        }
    }
}
