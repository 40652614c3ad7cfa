//! The projections' tests, through the runner and each view's query
//! functions, on a real log in a temporary folder.
#![allow(clippy::unwrap_used, clippy::expect_used)]

mod analytics;
mod deadletters;
mod determinism;
mod sla;
mod store;
mod support;
mod tickets;
mod timeline;
