//! The generator (being written).
