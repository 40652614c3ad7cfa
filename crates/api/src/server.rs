//! The HTTP side: `/graphql` (POST, and GET for queries), GraphiQL at `/`,
//! `/healthz` and `/readyz`.

use std::sync::Arc;

use async_graphql::http::GraphiQLSource;
use async_graphql_axum::{GraphQLRequest, GraphQLResponse};
use axum::extract::State;
use axum::http::{HeaderMap, Method, StatusCode};
use axum::response::{Html, IntoResponse};
use axum::routing::get;
use axum::Router;
use domain::actor::{Actor, Role};
use domain::ids::UserId;

use crate::schema::{self, AppSchema};
use crate::service::Service;

#[derive(Clone)]
struct AppState {
    schema: AppSchema,
    service: Arc<Service>,
}

/// The router of the server.
pub fn router(service: Arc<Service>) -> Router {
    let state = AppState {
        schema: schema::build(service.clone()),
        service,
    };
    Router::new()
        .route("/", get(graphiql))
        .route("/graphql", get(graphql).post(graphql))
        .route("/healthz", get(|| async { "ok" }))
        .route("/readyz", get(readyz))
        .with_state(state)
}

/// The acting user. Until access control arrives (tokens), the caller
/// names itself with `x-user-id` and `x-user-role`; without them it is an
/// agent called `anonymous`. A malformed id or role is refused.
fn actor(headers: &HeaderMap) -> Result<Actor, String> {
    let user = match headers.get("x-user-id") {
        None => "anonymous",
        Some(v) => v.to_str().map_err(|_| "x-user-id is not text".to_string())?,
    };
    let user = UserId::new(user).map_err(|e| e.to_string())?;
    let role = match headers.get("x-user-role") {
        None => Role::Agent,
        Some(v) => v
            .to_str()
            .map_err(|_| "x-user-role is not text".to_string())?
            .parse::<Role>()
            .map_err(|e| e.to_string())?,
    };
    Ok(Actor::staff(user, role))
}

/// Whether a GET request asks for something other than a query, which the
/// GraphQL over HTTP specification forbids (mutations change state and GET
/// must not).
fn get_would_mutate(request: &async_graphql::Request) -> bool {
    use async_graphql::parser::types::{DocumentOperations, OperationType};
    let Ok(document) = async_graphql::parser::parse_query(&request.query) else {
        // Let the executor report the syntax error.
        return false;
    };
    let wanted = request.operation_name.as_deref();
    let kind = match &document.operations {
        DocumentOperations::Single(op) => Some(op.node.ty),
        DocumentOperations::Multiple(ops) => match wanted {
            Some(name) => ops.get(name).map(|op| op.node.ty),
            None => ops.values().next().map(|op| op.node.ty),
        },
    };
    matches!(kind, Some(OperationType::Mutation | OperationType::Subscription))
}

async fn graphql(
    State(state): State<AppState>,
    method: Method,
    headers: HeaderMap,
    request: GraphQLRequest,
) -> axum::response::Response {
    let request = request.into_inner();
    if method == Method::GET && get_would_mutate(&request) {
        return (
            StatusCode::METHOD_NOT_ALLOWED,
            [(axum::http::header::ALLOW, "POST")],
            "mutations must be sent with POST",
        )
            .into_response();
    }
    GraphQLResponse::from(execute(&state, &headers, request).await).into_response()
}

async fn execute(state: &AppState, headers: &HeaderMap, request: async_graphql::Request) -> async_graphql::Response {
    match actor(headers) {
        Ok(actor) => state.schema.execute(request.data(actor)).await,
        Err(reason) => {
            let error = async_graphql::ServerError::new(reason, None);
            let mut response = async_graphql::Response::from_errors(vec![error]);
            if let Some(e) = response.errors.first_mut() {
                let mut ext = async_graphql::ErrorExtensionValues::default();
                ext.set("code", crate::error::codes::UNAUTHENTICATED);
                e.extensions = Some(ext);
            }
            response
        }
    }
}

async fn graphiql() -> impl IntoResponse {
    Html(GraphiQLSource::build().endpoint("/graphql").finish())
}

async fn readyz(State(state): State<AppState>) -> impl IntoResponse {
    if state.service.ready() {
        (StatusCode::OK, "ready")
    } else {
        (StatusCode::SERVICE_UNAVAILABLE, "catching up")
    }
}
