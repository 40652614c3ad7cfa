//! The after-sales server: HTTP and the GraphQL API over the application
//! layer (`application`), and the `aftersales` binary's commands.
//!
//! - [`schema`]: the GraphQL schema.
//! - [`server`]: the HTTP routes, authentication of each request.
//! - [`error`]: application errors as GraphQL errors (message, code).
//! - [`cost`]: what one document may ask for (fields, depth, estimated cost).
//! - [`guard`]: the schema extension that enforces it, codes every refusal
//!   and stops work at the request's deadline.
//! - [`limits`]: per-caller rate limiting and the execution gate.
//! - [`metrics`]: the Prometheus metrics of `/metrics`.
//! - [`document_cache`]: parsed GraphQL documents kept by query text.
//! - [`graphiql`]: GraphiQL's page and files, served offline.
//! - [`publish`]: the text the reference-data commands print.

pub mod assets;
pub mod console;
pub mod cost;
pub mod document_cache;
pub mod error;
pub mod graphiql;
pub mod guard;
pub mod limits;
pub mod metrics;
pub mod publish;
pub mod schema;
pub mod server;
pub mod xlsx;
