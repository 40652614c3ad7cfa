//! The GraphQL schema. Names are a contract with staff tools: extend,
//! never rename.
//!
//! - [`types`]: enums and the `Ticket` object;
//! - [`tickets`]: one mutation per ticket command, each taking one `input`;
//! - [`queries`]: tickets, histories, reports, archive lookups;
//! - [`archive`]: the archive and incident mutations;
//! - [`subscriptions`]: live ticket events and SLA alerts.

use std::sync::Arc;

use async_graphql::{Context, Result, Schema, SchemaBuilder};
use domain::actor::Actor;
use domain::ids::TicketId;

use crate::error::AppError;
use application::service::Service;

pub mod archive;
pub mod queries;
pub mod reference;
pub mod subscriptions;
pub mod tickets;
pub mod types;

/// Every mutation.
#[derive(async_graphql::MergedObject, Default)]
#[graphql(name = "Mutation")]
pub struct Mutations(
    tickets::TicketMutations,
    archive::ArchiveMutations,
    reference::ReferenceMutations,
);

/// Queries. A document may cost at most 250,000 points (the server's
/// `--max-cost`), select at most 1,000 fields and nest 20 deep; a field
/// costs 1 plus what it selects unless its description says otherwise.
/// Costlier documents are refused `QUERY_TOO_COSTLY` before they run.
#[derive(async_graphql::MergedObject, Default)]
#[graphql(name = "Query")]
pub struct Query(queries::QueryRoot, reference::ReferenceQueries);

/// The schema type.
pub type AppSchema = Schema<Query, Mutations, subscriptions::SubscriptionRoot>;

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
    build_served(service, introspection, limits, crate::metrics::Following::default())
}

/// Builds the schema a server serves: as [`build_limited`], with the
/// count of `ticketEvents` subscriptions following the log kept in the
/// server's metrics.
pub fn build_served(
    service: Arc<Service>,
    introspection: bool,
    limits: crate::cost::DocumentLimits,
    following: crate::metrics::Following,
) -> AppSchema {
    let builder = builder()
        .data(service)
        .data(following)
        .extension(crate::guard::Guard::new(limits));
    if introspection {
        builder.finish()
    } else {
        builder.disable_introspection().finish()
    }
}

/// The schema's SDL, as committed in `docs/schema.graphql`.
pub fn sdl() -> String {
    builder().finish().sdl()
}

/// The schema's types with their descriptions, before any data or
/// extension: what [`build_limited`] serves and [`sdl`] prints. Tests
/// run introspection queries on it.
pub fn builder() -> SchemaBuilder<Query, Mutations, subscriptions::SubscriptionRoot> {
    Schema::build(Query::default(), Mutations::default(), subscriptions::SubscriptionRoot)
        .override_output_type_description::<chrono::DateTime<chrono::Utc>>(DATE_TIME)
}

/// The `DateTime` scalar's description (the library's own reads like a
/// code comment).
const DATE_TIME: &str = "An instant in time, in UTC: an RFC 3339 (ISO 8601) date and time \
such as `2026-12-01T06:00:00Z`. Answers are always in UTC, written with \
the offset `+00:00` (`2026-12-01T06:00:00+00:00`) and with fractional \
seconds only when they are not zero. Arguments and inputs may carry any \
offset (`Z`, `+08:00` for Asia/Shanghai: `2026-12-01T14:00:00+08:00` is \
the same instant) and are converted to UTC; an instant without an offset \
is refused.";

pub(crate) fn bad(e: impl std::fmt::Display) -> AppError {
    AppError::BadInput(e.to_string())
}

pub(crate) fn service<'a>(ctx: &Context<'a>) -> Result<&'a Arc<Service>> {
    ctx.data::<Arc<Service>>()
}

pub(crate) fn principal<'a>(ctx: &Context<'a>) -> Result<&'a application::auth::Principal> {
    ctx.data::<application::auth::Principal>()
}

pub(crate) fn actor(ctx: &Context<'_>) -> Result<Actor> {
    Ok(ctx.data::<Actor>()?.clone())
}

pub(crate) fn ticket_id(text: &str) -> Result<TicketId, AppError> {
    TicketId::new(text).map_err(AppError::from)
}

#[cfg(test)]
mod tests {
    use async_graphql::{ScalarType, Value};
    use chrono::{DateTime, Utc};

    fn parse(text: &str) -> Option<DateTime<Utc>> {
        <DateTime<Utc> as ScalarType>::parse(Value::String(text.into())).ok()
    }

    #[test]
    fn date_times_are_read_and_written_as_the_description_says() {
        let utc = parse("2026-12-01T06:00:00Z");
        assert!(utc.is_some());
        assert_eq!(parse("2026-12-01T14:00:00+08:00"), utc);
        assert_eq!(parse("2026-12-01T06:00:00+00:00"), utc);
        assert_eq!(parse("2026-12-01T06:00:00"), None, "no offset");
        let written = utc.map(|t| ScalarType::to_value(&t));
        assert_eq!(written, Some(Value::String("2026-12-01T06:00:00+00:00".into())));
        assert!(super::DATE_TIME.contains("2026-12-01T06:00:00+00:00"));
    }
}
