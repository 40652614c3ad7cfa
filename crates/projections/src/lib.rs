//! Read models folded from the event log (tickets, audit timeline, SLA,
//! satisfaction, contractors, defects, reports).
//!
//! The views arrive with the projections issue; until then the crate only
//! holds its place in the workspace's layering.
