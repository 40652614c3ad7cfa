//! The GraphQL schema. Names are a contract with staff tools: extend,
//! never rename.
//!
//! - [`types`]: enums and the `Ticket` object;
//! - [`tickets`]: one mutation per ticket command, each taking one `input`;
//! - [`queries`]: tickets, histories, reports, archive lookups;
//! - [`archive`]: the archive and incident mutations;
//! - [`subscriptions`]: live ticket events and SLA alerts.

use std::sync::Arc;

use async_graphql::{Context, Result, Schema};
use domain::actor::Actor;
use domain::ids::TicketId;

use crate::error::AppError;
use crate::service::Service;

pub mod archive;
pub mod queries;
pub mod subscriptions;
pub mod tickets;
pub mod types;

/// Every mutation.
#[derive(async_graphql::MergedObject, Default)]
#[graphql(name = "Mutation")]
pub struct Mutations(tickets::TicketMutations, archive::ArchiveMutations);

/// The schema type.
pub type AppSchema = Schema<queries::QueryRoot, Mutations, subscriptions::SubscriptionRoot>;

/// Builds the schema around a service.
pub fn build(service: Arc<Service>) -> AppSchema {
    build_with(service, true)
}

/// Builds the schema, with introspection on or off (off in production
/// when no GraphiQL or schema-reading tool should see it), documents held
/// to the default limits.
pub fn build_with(service: Arc<Service>, introspection: bool) -> AppSchema {
    build_limited(service, introspection, crate::cost::DocumentLimits::default())
}

/// Builds the schema with documents held to `limits` by the
/// [`crate::guard::Guard`].
pub fn build_limited(service: Arc<Service>, introspection: bool, limits: crate::cost::DocumentLimits) -> AppSchema {
    let builder = Schema::build(
        queries::QueryRoot,
        Mutations::default(),
        subscriptions::SubscriptionRoot,
    )
    .data(service)
    .extension(crate::guard::Guard::new(limits));
    if introspection {
        builder.finish()
    } else {
        builder.disable_introspection().finish()
    }
}

/// The schema's SDL, as committed in `docs/schema.graphql`.
pub fn sdl() -> String {
    Schema::build(
        queries::QueryRoot,
        Mutations::default(),
        subscriptions::SubscriptionRoot,
    )
    .finish()
    .sdl()
}

pub(crate) fn bad(e: impl std::fmt::Display) -> AppError {
    AppError::BadInput(e.to_string())
}

pub(crate) fn service<'a>(ctx: &Context<'a>) -> Result<&'a Arc<Service>> {
    ctx.data::<Arc<Service>>()
}

pub(crate) fn principal<'a>(ctx: &Context<'a>) -> Result<&'a crate::auth::Principal> {
    ctx.data::<crate::auth::Principal>()
}

pub(crate) fn actor(ctx: &Context<'_>) -> Result<Actor> {
    Ok(ctx.data::<Actor>()?.clone())
}

pub(crate) fn ticket_id(text: &str) -> Result<TicketId, AppError> {
    TicketId::new(text).map_err(AppError::from)
}
