//! The end-to-end suite: one test target whose modules exercise the whole
//! product through its public boundaries.

mod auth;
mod browser;
mod chromium;
mod consistency;
mod console;
mod console_analytics;
mod dates;
mod deadletters;
mod erasure;
mod graphql;
mod hygiene;
mod intake_lookup;
mod keyfolder;
mod layering;
mod lifecycle;
mod limits;
mod metrics;
mod pages;
mod permissions;
mod queue_order;
mod readme;
mod reference;
mod refusals;
mod repair;
mod schema;
mod sessions;
mod subscriptions;
mod support;
mod total_count;
