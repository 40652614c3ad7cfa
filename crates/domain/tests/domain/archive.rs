//! Tests of archive (being written).
