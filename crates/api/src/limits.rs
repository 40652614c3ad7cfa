//! Per-caller rate limiting: a token bucket per principal (user and role),
//! refilled continuously. A caller over its rate gets `RATE_LIMITED` with
//! the seconds to wait; others are not affected.

use std::collections::HashMap;
use std::sync::Mutex;
use std::time::{Duration, Instant};

/// A request rate: `per_second` sustained, bursts of `burst`.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct Rate {
    /// Requests per second, sustained.
    pub per_second: f64,
    /// Requests allowed at once after a quiet spell.
    pub burst: f64,
}

impl Default for Rate {
    /// 50 requests a second, bursts of 100: far above a person at a
    /// screen, low enough that one runaway script cannot starve the rest.
    fn default() -> Self {
        Self {
            per_second: 50.0,
            burst: 100.0,
        }
    }
}

struct Bucket {
    tokens: f64,
    at: Instant,
}

/// Buckets by caller key.
pub struct RateLimiter {
    rate: Rate,
    buckets: Mutex<HashMap<String, Bucket>>,
}

/// Callers remembered before idle buckets are dropped.
const MAX_CALLERS: usize = 100_000;

impl RateLimiter {
    /// A limiter at `rate`.
    pub fn new(rate: Rate) -> Self {
        Self {
            rate,
            buckets: Mutex::new(HashMap::new()),
        }
    }

    /// Takes one request from `caller`'s bucket at `now`; `Err` with the
    /// time until one is available.
    pub fn check(&self, caller: &str, now: Instant) -> Result<(), Duration> {
        let Ok(mut buckets) = self.buckets.lock() else {
            return Ok(());
        };
        if buckets.len() >= MAX_CALLERS && !buckets.contains_key(caller) {
            // Full buckets are the same as no bucket: drop them.
            let rate = self.rate;
            buckets.retain(|_, b| b.tokens + now.duration_since(b.at).as_secs_f64() * rate.per_second < rate.burst);
        }
        let bucket = buckets.entry(caller.to_string()).or_insert(Bucket {
            tokens: self.rate.burst,
            at: now,
        });
        let refill = now.saturating_duration_since(bucket.at).as_secs_f64() * self.rate.per_second;
        bucket.tokens = (bucket.tokens + refill).min(self.rate.burst);
        bucket.at = now;
        if bucket.tokens >= 1.0 {
            bucket.tokens -= 1.0;
            Ok(())
        } else {
            Err(Duration::from_secs_f64((1.0 - bucket.tokens) / self.rate.per_second))
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_burst_then_the_sustained_rate_per_caller() {
        let limiter = RateLimiter::new(Rate {
            per_second: 10.0,
            burst: 5.0,
        });
        let t0 = Instant::now();
        for _ in 0..5 {
            assert!(limiter.check("a", t0).is_ok());
        }
        let wait = limiter.check("a", t0).err().unwrap_or_default();
        assert!((wait.as_secs_f64() - 0.1).abs() < 1e-6, "{wait:?}");
        // Another caller is not affected.
        assert!(limiter.check("b", t0).is_ok());
        // 100 ms later one more request is allowed, then none.
        let t1 = t0 + Duration::from_millis(100);
        assert!(limiter.check("a", t1).is_ok());
        assert!(limiter.check("a", t1).is_err());
        // After a quiet second the burst is back, not more.
        let t2 = t1 + Duration::from_secs(10);
        for _ in 0..5 {
            assert!(limiter.check("a", t2).is_ok());
        }
        assert!(limiter.check("a", t2).is_err());
    }
}
