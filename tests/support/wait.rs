//! Waiting for what a test expects, never for a fixed time: the views
//! catching up with the log, or (where the product gives no signal to
//! wait on) a condition polled until a deadline.

use std::future::Future;
use std::time::{Duration, Instant};

use super::{request, Running, AGENT_7};

/// How long a test waits for the views before it fails.
pub const VIEWS_WAIT: Duration = Duration::from_secs(20);

/// Waits until every view of the server is live and has applied the log's
/// head as it is now (reports are read from views that follow the log
/// asynchronously), then checks that `/readyz` says so.
pub async fn settle(run: &Running) {
    let head = run.service.head();
    for view in run.service.views() {
        view.wait_until_live(VIEWS_WAIT)
            .await
            .unwrap_or_else(|e| panic!("view {} is not live: {e}", view.name()));
        if let Some(head) = head {
            view.wait_for(head, VIEWS_WAIT)
                .await
                .unwrap_or_else(|e| panic!("view {} did not reach the head {head}: {e}", view.name()));
        }
    }
    let (status, body) = request(run.addr, "GET", "/readyz", AGENT_7, "").await;
    assert_eq!(
        (status, body.as_str()),
        (200, "ready"),
        "every view has applied the head {head:?}, yet /readyz does not say ready"
    );
}

/// Polls `check` until it holds, failing with `what` once `within` has
/// passed; for a state the product exposes only to be read, not awaited.
pub async fn eventually<F, Fut>(what: &str, within: Duration, mut check: F)
where
    F: FnMut() -> Fut,
    Fut: Future<Output = bool>,
{
    let deadline = Instant::now() + within;
    while !check().await {
        assert!(Instant::now() < deadline, "{what}: not within {within:?}");
        tokio::time::sleep(Duration::from_millis(10)).await;
    }
}
