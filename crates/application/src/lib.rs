//! The application layer: what a command does around the domain's
//! decision, and the jobs an operator runs, for every caller alike (the
//! GraphQL server, the `aftersales` binary, a batch job). It depends on no
//! web crate: HTTP and GraphQL live in `api`.
//!
//! - [`service`]: the command side: open a data folder, load a record,
//!   decide, seal personal data, append (idempotency by key, all or nothing
//!   for several records), wait for the views (read-your-writes);
//!   reference data (calendars, policies, warranty rules) published and in
//!   force.
//! - [`access`]: who may read what, project scopes, masking.
//! - [`auth`]: principals and bearer tokens (create, list, revoke,
//!   authenticate).
//! - [`error`]: [`error::AppError`] and the error codes staff tools rely on.
//! - [`clock`]: the service's "now" (the system clock; a stated start in
//!   tests).
//! - [`keyfolder`]: the key folder, bound to its data folder.
//! - [`import`]: CSV import of the customer archive (all or nothing, safe
//!   to re-run).
//! - [`jobs`]: the operator's jobs: demo data, a ticket's history, report
//!   exports, readiness and waiting for the views, the log's checks.
//! - [`periods`]: report months and ISO weeks.

pub mod access;
pub mod auth;
pub mod clock;
pub mod error;
pub mod import;
pub mod jobs;
pub mod keyfolder;
pub mod periods;
pub mod service;

pub use error::AppError;
pub use service::Service;
