//! Determinism of the views (being written).
