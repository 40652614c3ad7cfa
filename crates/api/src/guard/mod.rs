//! The guard every GraphQL request passes, over HTTP and WebSocket alike
//! (an async-graphql extension on the schema):
//!
//! - it parses the document itself and checks its shape ([`cost::shape`]:
//!   fields, depth, fragment cycles) before async-graphql walks it, since
//!   async-graphql's own walks expand every fragment spread;
//! - it refuses a document whose estimated cost is over the limit, after
//!   validation and before anything runs (`QUERY_TOO_COSTLY`, with the cost
//!   and the limit);
//! - it gives every refusal a code: `GRAPHQL_PARSE_FAILED`,
//!   `GRAPHQL_VALIDATION_FAILED`, and `BAD_INPUT` for a variable whose value
//!   does not fit its type or an argument that cannot be read; resolvers'
//!   own errors carry theirs already ([`crate::error::AppError`]);
//! - with a [`Deadline`] in the request's data, no field starts after it:
//!   each fails with `TIMEOUT`, so work abandoned by the server stops at the
//!   next field instead of running to its end.

use std::sync::{Arc, OnceLock};
use std::time::Instant;

use async_graphql::extensions::{
    Extension, ExtensionContext, ExtensionFactory, NextParseQuery, NextPrepareRequest, NextRequest, NextResolve,
    NextSubscribe, NextValidation, ResolveInfo,
};
use async_graphql::futures_util::stream::BoxStream;
use async_graphql::parser::types::ExecutableDocument;
use async_graphql::{
    ErrorExtensionValues, Request, Response, ServerError, ServerResult, ValidationResult, Value, Variables,
};
use futures_util::StreamExt;

use crate::cost::{self, DocumentLimits, Shape, ShapeError};
use crate::error::codes;

/// When a request's time is up. Put in a request's data, it makes every
/// field that has not started by then fail with `TIMEOUT`.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Deadline(pub Instant);

/// The extension factory: one [`Guard`] for the schema, a fresh state per
/// request.
#[derive(Debug, Clone, Copy)]
pub struct Guard {
    limits: DocumentLimits,
}

impl Guard {
    /// A guard holding documents to `limits`.
    pub fn new(limits: DocumentLimits) -> Self {
        Self { limits }
    }
}

impl ExtensionFactory for Guard {
    fn create(&self) -> Arc<dyn Extension> {
        Arc::new(Guarding {
            limits: self.limits,
            shape: OnceLock::new(),
            deadline: OnceLock::new(),
        })
    }
}

/// The guard of one request.
struct Guarding {
    limits: DocumentLimits,
    /// Set once the document is parsed and its shape accepted.
    shape: OnceLock<Shape>,
    /// The request's deadline, looked up at its first field.
    deadline: OnceLock<Option<Instant>>,
}

/// A server error with `code` (and more extensions).
pub fn coded(mut error: ServerError, code: &str, more: &[(&str, Value)]) -> ServerError {
    let ext = error.extensions.get_or_insert_with(ErrorExtensionValues::default);
    ext.set("code", code);
    for (name, value) in more {
        ext.set(name, value.clone());
    }
    error
}

fn has_code(error: &ServerError) -> bool {
    error.extensions.as_ref().is_some_and(|x| x.get("code").is_some())
}

/// Codes the errors no step coded: request errors (an unknown operation,
/// no operation named among several) do not fit the document; field
/// errors without a code are arguments async-graphql could not read.
fn code_the_rest(errors: &mut [ServerError]) {
    // The application's own errors, returned by resolvers with `?`.
    errors.iter_mut().for_each(crate::error::code);
    for error in errors.iter_mut().filter(|e| !has_code(e)) {
        let code = if error.path.is_empty() {
            codes::GRAPHQL_VALIDATION_FAILED
        } else {
            codes::BAD_INPUT
        };
        *error = coded(std::mem::replace(error, ServerError::new("", None)), code, &[]);
    }
}

fn shape_refusal(error: ShapeError) -> ServerError {
    let message = error.to_string();
    match error {
        ShapeError::FragmentCycle(_) => coded(ServerError::new(message, None), codes::GRAPHQL_VALIDATION_FAILED, &[]),
        ShapeError::TooManyFields { fields, limit } => coded(
            ServerError::new(message, None),
            codes::QUERY_TOO_COSTLY,
            &[("fields", Value::from(fields)), ("limit", Value::from(limit))],
        ),
        ShapeError::TooDeep { depth, limit } => coded(
            ServerError::new(message, None),
            codes::QUERY_TOO_COSTLY,
            &[("depth", Value::from(depth)), ("limit", Value::from(limit))],
        ),
    }
}

/// The `QUERY_TOO_COSTLY` refusal of a document costing `cost`.
pub fn too_costly(cost: usize, limit: usize) -> ServerError {
    coded(
        ServerError::new(
            format!(
                "the query costs an estimated {cost} points; the limit is {limit}: ask for fewer tickets per page \
                 (first), fewer fields or fewer aliases, or split it into several requests"
            ),
            None,
        ),
        codes::QUERY_TOO_COSTLY,
        &[("cost", Value::from(cost)), ("limit", Value::from(limit))],
    )
}

#[async_graphql::async_trait::async_trait]
impl Extension for Guarding {
    async fn request(&self, ctx: &ExtensionContext<'_>, next: NextRequest<'_>) -> Response {
        let mut response = next.run(ctx).await;
        code_the_rest(&mut response.errors);
        response
    }

    fn subscribe<'s>(
        &self,
        ctx: &ExtensionContext<'_>,
        stream: BoxStream<'s, Response>,
        next: NextSubscribe<'_>,
    ) -> BoxStream<'s, Response> {
        next.run(ctx, stream)
            .map(|mut response| {
                code_the_rest(&mut response.errors);
                // Over WebSocket nothing else sees the response before it
                // leaves: an internal error's detail is logged here and
                // never sent (HTTP does the same with the request id).
                for error in &mut response.errors {
                    let Some(ext) = error.extensions.as_mut() else { continue };
                    if let Some(detail) = ext.get(crate::error::DETAIL_EXTENSION).cloned() {
                        ext.unset(crate::error::DETAIL_EXTENSION);
                        tracing::error!(%detail, "internal error in a subscription");
                    }
                }
                response
            })
            .boxed()
    }

    async fn prepare_request(
        &self,
        ctx: &ExtensionContext<'_>,
        mut request: Request,
        next: NextPrepareRequest<'_>,
    ) -> ServerResult<Request> {
        let operation = request.operation_name.clone();
        let limits = self.limits;
        let document = request
            .parsed_query()
            .map_err(|e| coded(e, codes::GRAPHQL_PARSE_FAILED, &[]))?;
        // A WebSocket connection (the one place a `Session` is in the
        // data) carries subscriptions only: queries and mutations go
        // through /graphql, its gate, its timeout and its rate limit.
        if ctx.data_opt::<crate::server::Session>().is_some() {
            let other = document
                .operations
                .iter()
                .any(|(_, op)| op.node.ty != async_graphql::parser::types::OperationType::Subscription);
            if other {
                return Err(coded(
                    ServerError::new(
                        "the WebSocket endpoint runs subscriptions only; send queries and mutations to /graphql",
                        None,
                    ),
                    codes::BAD_REQUEST,
                    &[],
                ));
            }
        }
        let shape = cost::shape(document, operation.as_deref(), &limits).map_err(shape_refusal)?;
        let _ = self.shape.set(shape);
        next.run(ctx, request).await
    }

    async fn parse_query(
        &self,
        ctx: &ExtensionContext<'_>,
        query: &str,
        variables: &Variables,
        next: NextParseQuery<'_>,
    ) -> ServerResult<ExecutableDocument> {
        // The document was parsed and its shape accepted already: what
        // fails here is async-graphql's own nesting limit.
        next.run(ctx, query, variables)
            .await
            .map_err(|e| coded(e, codes::QUERY_TOO_COSTLY, &[]))
    }

    async fn validation(
        &self,
        ctx: &ExtensionContext<'_>,
        next: NextValidation<'_>,
    ) -> Result<ValidationResult, Vec<ServerError>> {
        let shape = self.shape.get().cloned().unwrap_or_default();
        match next.run(ctx).await {
            Err(errors) => {
                // An argument the cost estimate could not read ("Failed to
                // parse ...") is reported by the argument's own check too.
                let alone = errors.len() == 1;
                Err(errors
                    .into_iter()
                    .filter(|e| alone || !e.message.starts_with("Failed to parse"))
                    .map(|e| {
                        let from_variables = e.message.starts_with("Invalid value for argument")
                            && e.locations
                                .first()
                                .is_some_and(|p| shape.variable_arguments.contains(p));
                        let code = if from_variables {
                            codes::BAD_INPUT
                        } else {
                            codes::GRAPHQL_VALIDATION_FAILED
                        };
                        coded(e, code, &[])
                    })
                    .collect())
            }
            Ok(result) => {
                let cost = result
                    .complexity
                    .saturating_add(shape.mutations.saturating_mul(cost::MUTATION));
                if cost > self.limits.max_cost {
                    Err(vec![too_costly(cost, self.limits.max_cost)])
                } else {
                    Ok(result)
                }
            }
        }
    }

    async fn resolve(
        &self,
        ctx: &ExtensionContext<'_>,
        info: ResolveInfo<'_>,
        next: NextResolve<'_>,
    ) -> ServerResult<Option<Value>> {
        let deadline = self.deadline.get_or_init(|| ctx.data_opt::<Deadline>().map(|d| d.0));
        if deadline.is_some_and(|at| Instant::now() >= at) {
            return Err(coded(
                ServerError::new("the request ran out of time before this field", None),
                codes::TIMEOUT,
                &[],
            ));
        }
        next.run(ctx, info).await
    }
}

#[cfg(test)]
mod tests;
