//! The end-to-end suite: one test target whose modules exercise the whole
//! product through its public boundaries.

mod auth;
mod dates;
mod erasure;
mod graphql;
mod hygiene;
mod keyfolder;
mod layering;
mod lifecycle;
mod metrics;
mod permissions;
mod readme;
mod schema;
mod subscriptions;
mod support;
