//! Tests of incident (being written).
