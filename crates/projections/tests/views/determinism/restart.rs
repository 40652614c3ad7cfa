//! Restarts between appends and on a log that lost its tail.

use domain::testing::fixtures::refs;
use eventlog::Position;
use projections::store::ViewDb;
use proptest::prelude::*;
use proptest::strategy::ValueTree;
use proptest::test_runner::TestRunner;

use super::histories::*;
use super::*;
use crate::support::*;

/// A restart after each of several chunks of the log: the log closes, the
/// runners stop, log and views reopen, the views resume from their
/// checkpoints. No event is applied twice and none is skipped, and every
/// view ends as it is when built from 0.
// One thread, as above: right after a start, `applied()` is the checkpoint.
#[tokio::test]
async fn restarts_between_appends_apply_no_event_twice_and_skip_none() {
    // A fixed history from the same generator as the property above.
    let mut generator = TestRunner::deterministic();
    let steps = steps(160).new_tree(&mut generator).unwrap().current();
    let mut appends = decide_history(&refs(), &steps);
    assert!(appends.len() > 40, "too short a history: {} appends", appends.len());

    let mut f = Fixture::new();
    let chunks = 4;
    let chunk = appends.len().div_ceil(chunks);
    let mut applied: Option<Position> = None;
    for round in 0..chunks {
        let views = start_all(f.dyn_store(), &f.views);
        // The checkpoint is the position after the last event applied before
        // the restart.
        for view in &views {
            assert_eq!(view.applied(), applied, "round {round}: view {}", view.name());
        }
        let rest = appends.split_off(chunk.min(appends.len()));
        let last = append_all(&f.store, std::mem::replace(&mut appends, rest)).await;
        if let Some(last) = last {
            wait_all(&views, last).await;
            applied = Some(last);
        }
        let tickets_view = views.iter().find(|v| v.name() == "tickets").unwrap();
        assert_tickets_match_the_log(&f.store, tickets_view);
        f.store.close().unwrap();
        stop_all(&views).await;
        drop(views);
        f = f.restart();
    }
    assert!(appends.is_empty());

    // The same views built from 0 in one pass on the reopened log.
    let views = start_all(f.dyn_store(), &f.views);
    let from_zero_dir = tempfile::tempdir().unwrap();
    let from_zero_db = ViewDb::open(from_zero_dir.path()).unwrap();
    let from_zero = start_all(f.dyn_store(), &from_zero_db);
    let last = applied.unwrap();
    wait_all(&views, last).await;
    wait_all(&from_zero, last).await;
    assert_tickets_match_the_log(&f.store, views.iter().find(|v| v.name() == "tickets").unwrap());
    assert_same_views(&[("after restarts", &views), ("from 0", &from_zero)]).unwrap();
    f.store.close().unwrap();
    stop_all(&views).await;
    stop_all(&from_zero).await;
}

/// Views whose checkpoint is past the end of the log they open with (the
/// log lost its tail, or was restored from an older copy) are detected at
/// start and built again from that log: none of them serves the events
/// the log no longer holds, and each ends equal to a build from 0.
#[tokio::test]
async fn views_ahead_of_the_log_are_rebuilt_never_served() {
    let steps = steps(100).new_tree(&mut TestRunner::deterministic()).unwrap().current();
    let mut appends = decide_history(&refs(), &steps);
    let second_half = appends.split_off(appends.len() / 2);
    // The older log: the first half only.
    let mut first_half = decide_history(&refs(), &steps);
    first_half.truncate(appends.len());
    let older = Fixture::new();
    let older_last = append_all(&older.store, first_half).await.unwrap();
    // The views of the whole history.
    let f = Fixture::new();
    append_all(&f.store, appends).await.unwrap();
    let last = append_all(&f.store, second_half).await.unwrap();
    assert!(last > older_last);
    let views = start_all(f.dyn_store(), &f.views);
    wait_all(&views, last).await;
    f.store.close().unwrap();
    stop_all(&views).await;
    drop(views);
    f.views.flush().unwrap();

    // The same view folder opened with the older log.
    let views = start_all(older.dyn_store(), &f.views);
    for view in &views {
        assert!(
            view.applied().is_none_or(|a| a <= older_last),
            "view {} serves position {:?} of a log that ends at {older_last}",
            view.name(),
            view.applied()
        );
    }
    wait_all(&views, older_last).await;
    assert_tickets_match_the_log(&older.store, views.iter().find(|v| v.name() == "tickets").unwrap());
    let from_zero_dir = tempfile::tempdir().unwrap();
    let from_zero_db = ViewDb::open(from_zero_dir.path()).unwrap();
    let from_zero = start_all(older.dyn_store(), &from_zero_db);
    wait_all(&from_zero, older_last).await;
    assert_same_views(&[("rebuilt", &views), ("from 0", &from_zero)]).unwrap();
    older.store.close().unwrap();
    stop_all(&views).await;
    stop_all(&from_zero).await;
}
