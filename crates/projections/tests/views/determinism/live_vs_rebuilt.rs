//! The property: live, rebuilt from 0 and resumed at a random position,
//! every view holds the same entries.

use domain::testing::fixtures::refs;
use eventlog::{Durability, SledEventStore, SledOptions};
use projections::runner::ViewStatus;
use projections::store::ViewDb;
use projections::tickets;
use proptest::prelude::*;
use proptest::test_runner::TestCaseError;

use super::histories::*;
use super::prefix::LogPrefix;
use super::*;
use crate::support::*;

// ------------------------------------------------------------------ tests

/// 24 cases, or `PROPTEST_CASES` to search longer.
fn cases() -> u32 {
    std::env::var("PROPTEST_CASES")
        .ok()
        .and_then(|v| v.parse().ok())
        .unwrap_or(24)
}

proptest! {
    #![proptest_config(ProptestConfig {
        cases: cases(),
        max_shrink_iters: 256,
        // A failure prints its shrunk case and the log it made; nothing is
        // written next to the sources.
        failure_persistence: None,
        ..ProptestConfig::default()
    })]

    /// Live, rebuilt from 0 in one pass, and resumed after a restart at a
    /// random position: every view holds the same entries.
    #[test]
    fn every_view_is_the_same_live_rebuilt_and_resumed_after_a_restart(
        steps in steps(1..=100),
        cut_permille in 0u64..=1000,
    ) {
        // One thread: a runner spawned by `runner::start` runs only when the
        // test awaits, so right after a start `applied()` is still the
        // checkpoint the view resumes from.
        let runtime = tokio::runtime::Builder::new_current_thread()
            .enable_all()
            .build()
            .unwrap();
        runtime.block_on(views_agree(steps, cut_permille))?;
    }
}

async fn views_agree(steps: Vec<Step>, cut_permille: u64) -> Result<(), TestCaseError> {
    let appends = decide_history(&refs(), &steps);
    let history = describe(&appends);
    let dir = tempfile::tempdir().unwrap();
    // Appends return before their sync, and readers see them after it: the
    // live views follow the log in batches of varying size, and the case
    // does not wait for an fsync per append.
    let options = SledOptions {
        durability: Durability::Buffered {
            interval: Duration::from_millis(2),
        },
        ..SledOptions::default()
    };
    let log = Arc::new(SledEventStore::open(dir.path().join("log"), options).unwrap());

    // (a) Live: started on the empty log, following the appends.
    let live_db = ViewDb::open(&dir.path().join("live")).unwrap();
    let live = start_all(log.clone(), &live_db);
    let last = append_all(&log, appends).await.unwrap();
    wait_all(&live, last).await;

    // (b) Rebuilt: started on the whole log, in one pass from 0.
    let rebuilt_db = ViewDb::open(&dir.path().join("rebuilt")).unwrap();
    let rebuilt = start_all(log.clone(), &rebuilt_db);
    wait_all(&rebuilt, last).await;

    // (c) Resumed: run on the log up to `cut` (a `LogPrefix`: the real log
    // cannot be closed under the other views), stopped there, the view
    // database closed and reopened, then resumed on the whole log from the
    // checkpoint it kept.
    let cut = last * cut_permille / 1000;
    let resumed_path = dir.path().join("resumed");
    {
        let db = ViewDb::open(&resumed_path).unwrap();
        let prefix = LogPrefix::new(log.clone(), cut);
        let first_half = start_all(prefix.clone(), &db);
        wait_all(&first_half, cut).await;
        prefix.close();
        stop_all(&first_half).await;
        for view in &first_half {
            prop_assert_eq!(view.applied(), Some(cut), "view {} went past the prefix", view.name());
        }
        // Every handle on the view database goes before it is reopened.
    }
    let resumed_db = ViewDb::open(&resumed_path).unwrap();
    let resumed = start_all(log.clone(), &resumed_db);
    for view in &resumed {
        prop_assert_eq!(
            view.applied(),
            Some(cut),
            "view {} did not resume from its checkpoint",
            view.name()
        );
    }
    wait_all(&resumed, last).await;

    // A view resumed at the head has applied everything before its task
    // first runs (`wait_for` returns at once): wait for it to go live.
    for view in live.iter().chain(&rebuilt).chain(&resumed) {
        view.wait_until_live(WAIT)
            .await
            .unwrap_or_else(|e| panic!("view {}: {e}", view.name()));
        prop_assert_eq!(view.status(), ViewStatus::Live, "view {}", view.name());
    }
    // A comparison of empty views proves nothing: the tickets view holds
    // every ticket that was received.
    let received = tickets_received(&log);
    let tickets_view = live.iter().find(|v| v.name() == "tickets").unwrap();
    for id in &received {
        prop_assert!(tickets::ticket(&tickets_view.tree(), id).unwrap().is_some());
    }
    assert_same_views(&[("live", &live), ("from 0", &rebuilt), ("resumed", &resumed)])
        .map_err(|e| TestCaseError::fail(format!("{e}\nresumed after position {cut}; the log:\n{history}")))?;

    log.close().unwrap();
    stop_all(&live).await;
    stop_all(&rebuilt).await;
    stop_all(&resumed).await;
    Ok(())
}
