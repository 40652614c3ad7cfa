//! The after-sales business rules: commands, events and the deciders that
//! turn one into the other. Pure: no I/O, no clock, no storage.
//!
//! The rules themselves arrive with the domain issue; until then the crate
//! only holds its place in the workspace's layering.
