//! Additive aggregates kept by retracting and re-adding each record's
//! contribution.
//!
//! A view that counts (compliance, ratings, scorecards, defect counts)
//! stores, per ticket, the counters the ticket currently adds to each
//! aggregate key. When the ticket changes, the old contribution is
//! subtracted and the new one added, so a reopen, a re-dispatch to another
//! contractor or a priority change moves the ticket between buckets
//! instead of counting it twice. Everything is integer arithmetic: the
//! same events give the same bytes, live or rebuilt.

use serde::{Deserialize, Serialize};

use crate::runner::{ProjectionError, ViewWriter};

/// What one record adds to which aggregate keys.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct Contribution {
    /// (aggregate key, counters) pairs.
    pub entries: Vec<(Vec<u8>, Vec<i64>)>,
}

impl Contribution {
    /// Adds `counters` to `key` (merging with an entry already there).
    pub fn add(&mut self, key: Vec<u8>, counters: Vec<i64>) {
        if let Some((_, c)) = self.entries.iter_mut().find(|(k, _)| *k == key) {
            add_into(c, &counters, 1);
        } else {
            self.entries.push((key, counters));
        }
    }
}

fn add_into(target: &mut Vec<i64>, delta: &[i64], sign: i64) {
    if target.len() < delta.len() {
        target.resize(delta.len(), 0);
    }
    for (t, d) in target.iter_mut().zip(delta) {
        *t += sign * d;
    }
}

/// Replaces the contribution stored at `record_key` by `new`, updating
/// every aggregate it touches. Unchanged contributions write nothing.
pub fn replace(view: &mut ViewWriter<'_>, record_key: Vec<u8>, new: Contribution) -> Result<(), ProjectionError> {
    let old: Contribution = view.get_value(&record_key)?.unwrap_or_default();
    if old == new {
        return Ok(());
    }
    update(view, &old, &new)?;
    if new.entries.is_empty() {
        view.delete(record_key);
    } else {
        view.put_value(record_key, &new)?;
    }
    Ok(())
}

/// Moves a record's contribution from `old` to `new`, updating every
/// aggregate either touches, for a view that keeps what a record
/// contributes inside the record itself (one key written per record
/// instead of two).
pub fn update(view: &mut ViewWriter<'_>, old: &Contribution, new: &Contribution) -> Result<(), ProjectionError> {
    if old == new {
        return Ok(());
    }
    let mut touched: Vec<(Vec<u8>, Vec<i64>)> = Vec::new();
    let mut bump = |key: &Vec<u8>, delta: &[i64], sign: i64, view: &ViewWriter<'_>| -> Result<(), ProjectionError> {
        if let Some((_, c)) = touched.iter_mut().find(|(k, _)| k == key) {
            add_into(c, delta, sign);
        } else {
            let mut c: Vec<i64> = view.get_value(key)?.unwrap_or_default();
            add_into(&mut c, delta, sign);
            touched.push((key.clone(), c));
        }
        Ok(())
    };
    for (k, c) in &old.entries {
        bump(k, c, -1, view)?;
    }
    for (k, c) in &new.entries {
        bump(k, c, 1, view)?;
    }
    for (k, c) in touched {
        if c.iter().all(|v| *v == 0) {
            view.delete(k);
        } else {
            view.put_value(k, &c)?;
        }
    }
    Ok(())
}

/// An aggregate key: `<tag><dimension>\0<value>`.
pub fn key(tag: u8, dimension: &str, value: &str) -> Vec<u8> {
    let mut k = vec![tag];
    k.extend_from_slice(dimension.as_bytes());
    k.push(0);
    k.extend_from_slice(value.as_bytes());
    k
}

/// Every (value, counters) of one dimension, in value order.
pub fn scan(
    tree: &crate::store::ViewTree,
    tag: u8,
    dimension: &str,
) -> Result<Vec<(String, Vec<i64>)>, ProjectionError> {
    let prefix = key(tag, dimension, "");
    let mut out = Vec::new();
    for entry in tree.scan_prefix(&prefix) {
        let (k, v) = entry?;
        let value = String::from_utf8_lossy(&k[prefix.len()..]).into_owned();
        let counters: Vec<i64> = eventlog::codec::decode("view value", 1, &v)?;
        out.push((value, counters));
    }
    Ok(out)
}

/// The counters of one key (zeros if absent).
pub fn read(tree: &crate::store::ViewTree, k: &[u8]) -> Result<Vec<i64>, ProjectionError> {
    match tree.get(k)? {
        Some(v) => Ok(eventlog::codec::decode("view value", 1, &v)?),
        None => Ok(Vec::new()),
    }
}

/// Upper bounds of the time histogram buckets, in minutes; the last bucket
/// is open-ended. Percentiles are reported as the upper bound of the bucket
/// they fall in.
pub const MINUTE_BUCKETS: [i64; 30] = [
    5,
    10,
    15,
    20,
    30,
    45,
    60,
    90,
    120,
    180,
    240,
    300,
    360,
    450,
    600,
    750,
    900,
    1200,
    1350,
    1800,
    2250,
    2700,
    3150,
    3600,
    4500,
    6000,
    9000,
    13500,
    18000,
    i64::MAX,
];

/// The bucket of a duration in minutes.
pub fn bucket(minutes: i64) -> usize {
    MINUTE_BUCKETS
        .iter()
        .position(|b| minutes <= *b)
        .unwrap_or(MINUTE_BUCKETS.len() - 1)
}

/// The `q` quantile (0–1) of a histogram, as a bucket's upper bound.
pub fn quantile(histogram: &[i64], q: f64) -> Option<i64> {
    let total: i64 = histogram.iter().sum();
    if total <= 0 {
        return None;
    }
    let rank = (q * total as f64).ceil().max(1.0) as i64;
    let mut seen = 0;
    for (i, n) in histogram.iter().enumerate() {
        seen += n;
        if seen >= rank {
            return MINUTE_BUCKETS.get(i).copied();
        }
    }
    MINUTE_BUCKETS.last().copied()
}
