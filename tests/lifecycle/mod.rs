//! Whole lifecycles against the real server over HTTP, on an ephemeral
//! port and a temporary data folder, one flow a module: a repair from
//! receipt through a rejection and rework to closure ([`repair`]), a
//! complaint escalated into an incident ([`complaint`]), service-level
//! deadlines across a public holiday ([`deadlines`]), racing writers
//! ([`racing`]), idempotent retries ([`retries`]), a restart with every
//! view intact ([`restart`]), bad input ([`bad_requests`]), and a replay
//! as of a point of a history ([`replay`]). The cast and the moves they
//! share are in [`crate::support::tickets`].

mod bad_requests;
mod complaint;
mod deadlines;
mod racing;
mod repair;
mod replay;
mod restart;
mod retries;
