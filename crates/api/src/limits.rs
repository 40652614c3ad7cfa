//! Per-caller rate limiting and the execution gate.
//!
//! [`RateLimiter`]: a token bucket per principal (user and role), refilled
//! continuously. A caller over its rate gets `RATE_LIMITED` with the
//! seconds to wait; others are not affected.
//!
//! [`Gate`]: GraphQL work runs on blocking threads (resolvers read sled
//! synchronously), at most [`Concurrency::running`] requests at once, so
//! that neither the async workers nor the blocking pool are ever all taken
//! by GraphQL: the health endpoints, accepting connections and reading
//! bodies always have threads. Requests beyond that wait in a queue of at
//! most [`Concurrency::queued`], each for at most
//! [`Concurrency::queue_wait`]; past either they are refused `BUSY`.

use std::collections::HashMap;
use std::sync::atomic::{AtomicUsize, Ordering};
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

use prometheus_client::metrics::gauge::Gauge;
use tokio::sync::{OwnedSemaphorePermit, Semaphore};

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

/// How many GraphQL requests run at once and how many wait.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Concurrency {
    /// Requests executing at once, each on a blocking thread.
    pub running: usize,
    /// Requests waiting for a turn; one more is refused `BUSY` at once.
    pub queued: usize,
    /// Longest a request waits for its turn before it is refused `BUSY`.
    pub queue_wait: Duration,
}

impl Default for Concurrency {
    /// Four requests per core (at least 8, at most 64) running, 256
    /// waiting, for at most 10 s each.
    fn default() -> Self {
        let cores = std::thread::available_parallelism().map_or(2, |n| n.get());
        Self {
            running: (4 * cores).clamp(8, 64),
            queued: 256,
            queue_wait: Duration::from_secs(10),
        }
    }
}

/// Why the gate refused a request (both are `BUSY`).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Refused {
    /// As many requests as allowed are waiting already.
    QueueFull,
    /// No turn came within [`Concurrency::queue_wait`].
    Waited,
}

/// Turns to run GraphQL work.
pub struct Gate {
    permits: Arc<Semaphore>,
    waiting: AtomicUsize,
    config: Concurrency,
    running: Gauge,
    queued: Gauge,
}

/// A turn: GraphQL work may run while it is held (it is moved into the
/// blocking task, so abandoned work keeps its turn until it stops).
pub struct Turn {
    _permit: OwnedSemaphorePermit,
    running: Gauge,
}

impl Drop for Turn {
    fn drop(&mut self) {
        self.running.dec();
    }
}

/// Counts a waiting request out of the queue however its wait ends.
struct Waiting<'g>(&'g Gate);

impl Drop for Waiting<'_> {
    fn drop(&mut self) {
        self.0.waiting.fetch_sub(1, Ordering::SeqCst);
        self.0.queued.dec();
    }
}

impl Gate {
    /// A gate by `config`, keeping the number of requests running and
    /// waiting in the two gauges.
    pub fn new(config: Concurrency, running: Gauge, queued: Gauge) -> Self {
        Self {
            permits: Arc::new(Semaphore::new(config.running.max(1))),
            waiting: AtomicUsize::new(0),
            config,
            running,
            queued,
        }
    }

    /// A turn now, or after waiting in the queue.
    pub async fn enter(&self) -> Result<Turn, Refused> {
        let turn = |permit| {
            self.running.inc();
            Turn {
                _permit: permit,
                running: self.running.clone(),
            }
        };
        if let Ok(permit) = self.permits.clone().try_acquire_owned() {
            return Ok(turn(permit));
        }
        if self.waiting.fetch_add(1, Ordering::SeqCst) >= self.config.queued {
            self.waiting.fetch_sub(1, Ordering::SeqCst);
            return Err(Refused::QueueFull);
        }
        self.queued.inc();
        let _waiting = Waiting(self);
        match tokio::time::timeout(self.config.queue_wait, self.permits.clone().acquire_owned()).await {
            Ok(Ok(permit)) => Ok(turn(permit)),
            _ => Err(Refused::Waited),
        }
    }

    /// Requests running now.
    pub fn running(&self) -> usize {
        self.config.running.max(1) - self.permits.available_permits()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[tokio::test]
    async fn the_gate_runs_so_many_queues_so_many_and_refuses_the_rest() {
        let gate = Arc::new(Gate::new(
            Concurrency {
                running: 2,
                queued: 1,
                queue_wait: Duration::from_secs(60),
            },
            Gauge::default(),
            Gauge::default(),
        ));
        let first = gate.enter().await;
        let second = gate.enter().await;
        assert!(first.is_ok() && second.is_ok());
        assert_eq!(gate.running(), 2);
        // The third waits; the fourth finds the queue full.
        let waiting = tokio::spawn({
            let gate = gate.clone();
            async move { gate.enter().await.map(|_| ()) }
        });
        while gate.queued.get() == 0 {
            tokio::task::yield_now().await;
        }
        assert_eq!(gate.enter().await.err(), Some(Refused::QueueFull));
        // A turn given back goes to the one waiting.
        drop(first);
        assert_eq!(waiting.await.ok(), Some(Ok(())));
        assert_eq!(gate.queued.get(), 0);
        assert_eq!(gate.running.get(), 1, "the waiting request ran and gave its turn back");
    }

    #[tokio::test]
    async fn a_request_waits_no_longer_than_the_queue_wait() {
        let gate = Gate::new(
            Concurrency {
                running: 1,
                queued: 8,
                queue_wait: Duration::from_millis(10),
            },
            Gauge::default(),
            Gauge::default(),
        );
        let _held = gate.enter().await;
        assert_eq!(gate.enter().await.err(), Some(Refused::Waited));
        assert_eq!(gate.queued.get(), 0);
    }

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
