//! The concurrency gate: the health endpoints answer while heavy requests
//! run, and a full gate refuses `BUSY` with `Retry-After`.

use std::time::Duration;

use serde_json::json;

use crate::support::{code, exchange};

use super::*;

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn health_answers_while_heavy_requests_run() {
    let setup = Setup::new(Some(300)).await;
    let addr = setup.serve(options()).await;
    let heavy_requests = 6;
    let running: Vec<_> = (0..heavy_requests)
        .map(|_| tokio::spawn(async move { post(addr, JSON, &heavy(), json!({})).await }))
        .collect();
    // Every heavy request is executing...
    wait_running(addr, |n| n >= heavy_requests as f64).await;
    // ...and the health endpoints answer meanwhile.
    let healthz = exchange(addr, raw("GET", "/healthz", "", b"")).await;
    assert_eq!((healthz.status, healthz.body.as_str()), (200, "ok"));
    let readyz = exchange(addr, raw("GET", "/readyz", "", b"")).await;
    assert_eq!(readyz.status, 200, "{}", readyz.body);
    let finished = running.iter().filter(|r| r.is_finished()).count();
    assert_eq!(
        finished, 0,
        "the health endpoints answered while all {heavy_requests} heavy requests were still running"
    );
    for r in running {
        let answer = r.await.unwrap_or_else(|e| panic!("{e}"));
        let v = parsed(&answer);
        assert_eq!(answer.status, 200, "{v}");
        assert!(v.get("errors").is_none(), "heavy but allowed: {v}");
    }
}

#[tokio::test]
async fn a_full_gate_answers_busy_with_retry_after() {
    let setup = Setup::new(Some(300)).await;
    let mut one = options();
    one.concurrency = api::limits::Concurrency {
        running: 1,
        queued: 0,
        queue_wait: Duration::from_secs(10),
    };
    let addr = setup.serve(one).await;
    let busy = tokio::spawn(async move { post(addr, JSON, &heavy(), json!({})).await });
    wait_running(addr, |n| n >= 1.0).await;
    let answer = post(addr, GRAPHQL_RESPONSE_JSON, "{ __typename }", json!({})).await;
    let v = parsed(&answer);
    assert!(!busy.is_finished(), "the heavy request was still running");
    assert_eq!(answer.status, 503, "{v}");
    assert_eq!(code(&v), "BUSY", "{v}");
    assert_eq!(answer.header("retry-after"), Some("1"));
    assert_eq!(v["errors"][0]["extensions"]["retryAfterSeconds"], 1);
    let heavy = busy.await.unwrap_or_else(|e| panic!("{e}"));
    assert_eq!(heavy.status, 200, "{}", &heavy.body[..heavy.body.len().min(300)]);
    let answer = post(addr, JSON, "{ __typename }", json!({})).await;
    assert_eq!(answer.status, 200, "{}", answer.body);
}
