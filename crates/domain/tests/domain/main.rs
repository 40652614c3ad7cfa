//! The domain crate's tests, through its public interface: given / when /
//! then on the deciders, the calendar and clock functions, warranty and
//! reference-data loading.
#![allow(clippy::unwrap_used, clippy::expect_used)]

mod archive;
mod calendar;
mod complaint_inquiry_handover;
mod incident;
mod personal_severity;
mod publication;
mod reference_data;
mod repair;
mod serde_roundtrip;
mod sla;
mod warranty;
