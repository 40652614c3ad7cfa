//! What one sled key costs (`cargo bench -p eventlog --bench sled_keys`):
//! the floor under every store built on sled's trees, the log's indexes and
//! the views alike.
//!
//! Inserts `BENCH_KEYS` (default 300,000) keys of 29 bytes into a fresh
//! tree (128 MiB page cache, flushed on sled's 500 ms timer as the view
//! database is), with values of 0, 100 and 600 bytes, in key order and in
//! scattered order, one plain insert at a time and in batches of 100, and
//! prints the wall time per key.

use std::time::Instant;

type BenchResult<T> = Result<T, Box<dyn std::error::Error>>;

// The allocator the product's binary uses.
#[global_allocator]
static GLOBAL: mimalloc::MiMalloc = mimalloc::MiMalloc;

fn run(keys: u64, value_len: usize, sorted: bool, batched: bool) -> BenchResult<f64> {
    let dir = tempfile::tempdir()?;
    let db = sled::Config::new()
        .path(dir.path())
        .cache_capacity(128 << 20)
        .flush_every_ms(Some(500))
        .open()?;
    let tree = db.open_tree("keys")?;
    let value = vec![7u8; value_len];
    let started = Instant::now();
    let mut batch = sled::Batch::default();
    for i in 0..keys {
        // A multiplicative hash scatters the keys over the whole range.
        let n = if sorted {
            i
        } else {
            i.wrapping_mul(0x9E37_79B9_7F4A_7C15)
        };
        let mut key = b"tkt/".to_vec();
        key.extend_from_slice(&n.to_be_bytes());
        key.extend_from_slice(b"-ticket-suffix-ab");
        if batched {
            batch.insert(key, value.clone());
            if i % 100 == 99 {
                tree.apply_batch(std::mem::take(&mut batch))?;
            }
        } else {
            tree.insert(key, value.clone())?;
        }
    }
    tree.apply_batch(batch)?;
    Ok(started.elapsed().as_secs_f64() * 1e6 / keys as f64)
}

fn main() -> BenchResult<()> {
    let keys = std::env::var("BENCH_KEYS")
        .ok()
        .and_then(|v| v.parse().ok())
        .unwrap_or(300_000u64);
    println!("| order | writes | value bytes | us per key |");
    println!("|---|---|---|---|");
    for sorted in [true, false] {
        for batched in [false, true] {
            for value_len in [0, 100, 600] {
                let us = run(keys, value_len, sorted, batched)?;
                println!(
                    "| {} | {} | {value_len} | {us:.2} |",
                    if sorted { "key order" } else { "scattered" },
                    if batched { "batches of 100" } else { "plain inserts" },
                );
            }
        }
    }
    Ok(())
}
