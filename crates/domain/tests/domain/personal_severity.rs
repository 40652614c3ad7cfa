//! Tests of personal_severity (being written).
