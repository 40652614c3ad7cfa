//! A realistic, reproducible after-sales log (being written).
