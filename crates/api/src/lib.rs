//! The after-sales server: the GraphQL API over the domain, the log and the
//! views, and the `aftersales` binary's commands.
//!
//! - [`clock`]: the service's "now" (the system clock; a stated start in tests).
//! - [`service`]: the command side (load, decide, append, wait for the view).
//! - [`schema`]: the GraphQL schema.
//! - [`server`]: the HTTP routes.
//! - [`access`]: who may read what, project scopes, masking.
//! - [`auth`]: bearer tokens (create, list, revoke, authenticate).
//! - [`error`]: error codes.
//! - [`cost`]: what one document may ask for (fields, depth, estimated cost).
//! - [`guard`]: the schema extension that enforces it, codes every refusal
//!   and stops work at the request's deadline.
//! - [`limits`]: per-caller rate limiting and the execution gate.
//! - [`metrics`]: the Prometheus metrics of `/metrics`.
//! - [`import`]: CSV import of the customer archive (all or nothing, safe to re-run).
//! - [`keyfolder`]: the key folder, bound to its data folder.
//! - [`ops`]: what the operator commands do (demo, history, export, progress).

pub mod access;
pub mod auth;
pub mod clock;
pub mod cost;
pub mod documents;
pub mod error;
pub mod graphiql;
pub mod guard;
pub mod import;
pub mod keyfolder;
pub mod limits;
pub mod metrics;
pub mod ops;
pub mod publish;
pub mod schema;
pub mod server;
pub mod service;
