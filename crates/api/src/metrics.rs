//! Metrics for `/metrics` in the Prometheus text format (OpenMetrics):
//! requests and errors by operation, request latency, append latency, the
//! log's group commits, each view's lag behind the log, and open tickets
//! whose clocks are at risk or breached.
//!
//! Request and append figures and the GraphQL requests running and
//! waiting are recorded as they happen; the log's counters, the views' lag
//! and the SLA gauges are read at each scrape.

use std::sync::Mutex;
use std::time::Duration;

use prometheus_client::encoding::EncodeLabelSet;
use prometheus_client::metrics::counter::Counter;
use prometheus_client::metrics::family::Family;
use prometheus_client::metrics::gauge::Gauge;
use prometheus_client::metrics::histogram::{exponential_buckets, Histogram};
use prometheus_client::registry::Registry;

use application::service::Service;

/// Labels of a request.
#[derive(Clone, Debug, Hash, PartialEq, Eq, EncodeLabelSet)]
pub struct RequestLabels {
    /// The root field (`receiveTicket`, `tickets`); `invalid` for a
    /// request that is not valid GraphQL; `-` for one refused before its
    /// document was read (rate limited, busy, timed out waiting).
    pub operation: String,
    /// `ok`, or the error code of the first error.
    pub outcome: String,
}

/// Labels of a per-operation histogram.
#[derive(Clone, Debug, Hash, PartialEq, Eq, EncodeLabelSet)]
pub struct OperationLabels {
    /// The root field.
    pub operation: String,
}

/// Labels of a per-view gauge.
#[derive(Clone, Debug, Hash, PartialEq, Eq, EncodeLabelSet)]
pub struct ViewLabels {
    /// The view.
    pub view: String,
}

/// Labels of an SLA gauge.
#[derive(Clone, Debug, Hash, PartialEq, Eq, EncodeLabelSet)]
pub struct ClockLabels {
    /// `at_risk` or `breached`.
    pub status: String,
}

/// Every metric of the server.
pub struct Metrics {
    registry: Registry,
    requests: Family<RequestLabels, Counter>,
    latency: Family<OperationLabels, Histogram>,
    appends: Histogram,
    log_groups: Gauge,
    log_events: Gauge,
    log_syncs: Gauge,
    log_apply_seconds: Gauge<f64, std::sync::atomic::AtomicU64>,
    log_sync_seconds: Gauge<f64, std::sync::atomic::AtomicU64>,
    head: Gauge,
    lag: Family<ViewLabels, Gauge>,
    dead_letters: Family<ViewLabels, Gauge>,
    clocks: Family<ClockLabels, Gauge>,
    running: Gauge,
    queued: Gauge,
    following: Gauge,
    scrape: Mutex<()>,
}

fn latency_histogram() -> Histogram {
    // 0.1 ms to about 13 s.
    Histogram::new(exponential_buckets(0.0001, 2.0, 18))
}

impl Default for Metrics {
    fn default() -> Self {
        Self::new()
    }
}

impl Metrics {
    /// A fresh registry with every metric.
    pub fn new() -> Self {
        let mut registry = Registry::with_prefix("aftersales");
        let requests = Family::<RequestLabels, Counter>::default();
        registry.register(
            "graphql_requests",
            "GraphQL requests by root field and outcome (ok or error code)",
            requests.clone(),
        );
        let latency = Family::<OperationLabels, Histogram>::new_with_constructor(latency_histogram);
        registry.register(
            "graphql_request_duration_seconds",
            "GraphQL request latency by root field",
            latency.clone(),
        );
        let appends = latency_histogram();
        registry.register(
            "append_duration_seconds",
            "Time from a command's append call to the log's acknowledgement (durable)",
            appends.clone(),
        );
        let log_groups = Gauge::default();
        registry.register(
            "log_groups",
            "Group commits since the log was opened (events / groups is the mean group size)",
            log_groups.clone(),
        );
        let log_events = Gauge::default();
        registry.register(
            "log_events_written",
            "Events written since the log was opened",
            log_events.clone(),
        );
        let log_syncs = Gauge::default();
        registry.register("log_syncs", "fdatasyncs since the log was opened", log_syncs.clone());
        let log_apply_seconds = Gauge::<f64, std::sync::atomic::AtomicU64>::default();
        registry.register(
            "log_apply_seconds",
            "Time the writer spent applying groups to sled since the log was opened",
            log_apply_seconds.clone(),
        );
        let log_sync_seconds = Gauge::<f64, std::sync::atomic::AtomicU64>::default();
        registry.register(
            "log_sync_seconds",
            "Time spent syncing since the log was opened",
            log_sync_seconds.clone(),
        );
        let head = Gauge::default();
        registry.register("log_head_position", "The log's last position (-1: empty)", head.clone());
        let lag = Family::<ViewLabels, Gauge>::default();
        registry.register(
            "view_lag_events",
            "Events the log holds that a view has not applied yet",
            lag.clone(),
        );
        let dead_letters = Family::<ViewLabels, Gauge>::default();
        registry.register(
            "view_dead_letters",
            "Events a view could not read and set aside instead of stopping (aftersales log verify names them)",
            dead_letters.clone(),
        );
        let clocks = Family::<ClockLabels, Gauge>::default();
        registry.register(
            "open_tickets_clocks",
            "Clocks of open tickets at risk (80% of a target used) or breached, now",
            clocks.clone(),
        );
        let running = Gauge::default();
        registry.register(
            "graphql_running",
            "GraphQL requests executing now (at most the server's --max-running)",
            running.clone(),
        );
        let following = Gauge::default();
        registry.register(
            "graphql_subscriptions_following",
            "ticketEvents subscriptions following the log now (counted from the moment each has chosen where it starts)",
            following.clone(),
        );
        let queued = Gauge::default();
        registry.register(
            "graphql_queued",
            "GraphQL requests waiting for a turn to execute",
            queued.clone(),
        );
        Self {
            registry,
            requests,
            latency,
            appends,
            log_groups,
            log_events,
            log_syncs,
            log_apply_seconds,
            log_sync_seconds,
            head,
            lag,
            dead_letters,
            clocks,
            running,
            queued,
            following,
            scrape: Mutex::new(()),
        }
    }

    /// Records one GraphQL request.
    pub fn request(&self, operation: &str, outcome: &str, took: Duration) {
        self.requests
            .get_or_create(&RequestLabels {
                operation: operation.to_string(),
                outcome: outcome.to_string(),
            })
            .inc();
        self.latency
            .get_or_create(&OperationLabels {
                operation: operation.to_string(),
            })
            .observe(took.as_secs_f64());
    }

    /// The count of subscriptions following the log, for the schema's
    /// `ticketEvents` to keep.
    pub fn following(&self) -> Following {
        Following(self.following.clone())
    }

    /// The gauges of GraphQL requests running and waiting, for the
    /// server's [`crate::limits::Gate`].
    pub fn gate_gauges(&self) -> (Gauge, Gauge) {
        (self.running.clone(), self.queued.clone())
    }

    /// Records one append's latency.
    pub fn append(&self, took: Duration) {
        self.appends.observe(took.as_secs_f64());
    }

    /// Reads the scrape-time figures from `service` and renders everything.
    pub fn render(&self, service: &Service) -> String {
        let _one_at_a_time = self.scrape.lock();
        let stats = service.store().stats();
        self.log_groups.set(stats.groups as i64);
        self.log_events.set(stats.events as i64);
        self.log_syncs.set(stats.syncs as i64);
        self.log_apply_seconds.set(stats.apply_time.as_secs_f64());
        self.log_sync_seconds.set(stats.sync_time.as_secs_f64());
        let head = service.head();
        self.head.set(head.map_or(-1, |h| h as i64));
        for view in service.views() {
            let applied = view.applied().map_or(0, |a| a + 1);
            let total = head.map_or(0, |h| h + 1);
            self.lag
                .get_or_create(&ViewLabels {
                    view: view.name().to_string(),
                })
                .set(total.saturating_sub(applied) as i64);
            // A tree whose dead letters cannot be read counts as one.
            let dead = view.dead_letters().map_or(1, |d| d.len());
            self.dead_letters
                .get_or_create(&ViewLabels {
                    view: view.name().to_string(),
                })
                .set(dead as i64);
        }
        let (mut at_risk, mut breached) = (0i64, 0i64);
        if let Ok(view) = service.view("sla") {
            if let Ok(alerts) = projections::sla::alerts(&view.tree(), service.calendars(), None, service.now()) {
                for a in alerts {
                    match a.clock.status {
                        domain::sla::ClockStatus::Breached => breached += 1,
                        _ => at_risk += 1,
                    }
                }
            }
        }
        self.clocks
            .get_or_create(&ClockLabels {
                status: "at_risk".into(),
            })
            .set(at_risk);
        self.clocks
            .get_or_create(&ClockLabels {
                status: "breached".into(),
            })
            .set(breached);
        let mut out = String::new();
        if prometheus_client::encoding::text::encode(&mut out, &self.registry).is_err() {
            out = "# the metrics could not be encoded\n".into();
        }
        out
    }
}

/// The count of `ticketEvents` subscriptions following the log
/// (`graphql_subscriptions_following`): a subscription counts from the
/// moment it has chosen its first position, so a client (or a test) that
/// sees the count knows every event appended after that reaches it.
#[derive(Clone, Debug, Default)]
pub struct Following(Gauge);

impl Following {
    /// Counts one subscription until the returned guard is dropped.
    pub fn start(&self) -> FollowingOne {
        self.0.inc();
        FollowingOne(self.0.clone())
    }
}

/// One subscription counted in [`Following`]; uncounted when dropped.
#[derive(Debug)]
pub struct FollowingOne(Gauge);

impl Drop for FollowingOne {
    fn drop(&mut self) {
        self.0.dec();
    }
}
