//! The runner's rebuild bookkeeping across restarts: after an operator's
//! rebuild, a new version deployed during a rebuild, a build from 0
//! stopped half way.

use domain::testing::fixtures::refs;
use domain::ticket::{Priority, TicketCommand, TicketKind};
use eventlog::Position;
use projections::all_views;
use projections::runner::{self, Applied, Projection, ProjectionError, ViewStatus, ViewWriter};
use projections::store::ViewDb;
use proptest::prelude::*;
use proptest::strategy::ValueTree;
use proptest::test_runner::TestRunner;

use super::histories::*;
use super::prefix::LogPrefix;
use super::*;
use crate::support::*;

/// After a rebuild asked for by an operator, a restart resumes the rebuilt
/// tree from its checkpoint: it does not replay the whole log once more
/// (while it would, `wait_for` would hang on every new event until the
/// replay ends).
#[tokio::test]
async fn a_restart_after_a_rebuild_resumes_the_rebuilt_view() {
    let steps = steps(100).new_tree(&mut TestRunner::deterministic()).unwrap().current();
    let mut appends = decide_history(&refs(), &steps);
    let second_half = appends.split_off(appends.len() / 2);
    let mut f = Fixture::new();
    let views = start_all(f.dyn_store(), &f.views);
    let last = append_all(&f.store, appends).await.unwrap();
    wait_all(&views, last).await;

    let before: Vec<String> = views.iter().map(serving).collect();
    let rebuilds: Vec<_> = views.iter().map(|v| v.rebuild()).collect();
    for (rebuild, old) in rebuilds.iter().zip(&before) {
        rebuild.finished(WAIT).await.unwrap();
        assert_ne!(
            &serving(rebuild.view()),
            old,
            "view {}: the rebuilt tree serves",
            rebuild.view().name()
        );
    }
    // A rebuild holds its view's handle, and with it the view database.
    drop(rebuilds);
    wait_all(&views, last).await;
    let rebuilt: Vec<String> = views.iter().map(serving).collect();

    f.store.close().unwrap();
    stop_all(&views).await;
    drop(views);
    f = f.restart();
    let views = start_all(f.dyn_store(), &f.views);
    for view in &views {
        assert_eq!(view.applied(), Some(last), "view {}", view.name());
    }
    let last = append_all(&f.store, second_half).await.unwrap();
    wait_all(&views, last).await;
    for (view, rebuilt) in views.iter().zip(&rebuilt) {
        assert_eq!(
            serving(view),
            *rebuilt,
            "view {}: the restart built the view from 0 again instead of resuming the rebuilt tree",
            view.name()
        );
    }
    assert_tickets_match_the_log(&f.store, views.iter().find(|v| v.name() == "tickets").unwrap());
    f.store.close().unwrap();
    stop_all(&views).await;
}

/// A projection that records, for every event, the version of the fold
/// that applied it.
struct VersionStamps {
    version: u32,
}

impl Projection for VersionStamps {
    fn name(&self) -> &'static str {
        "version_stamps"
    }

    fn version(&self) -> u32 {
        self.version
    }

    fn apply(&self, view: &mut ViewWriter<'_>, event: &Applied<'_>) -> Result<(), ProjectionError> {
        view.put(
            format!("p{:08}", event.position).into_bytes(),
            format!("v{}", self.version).into_bytes(),
        );
        Ok(())
    }
}

/// Appends one ticket of `events` events (received, then the same comment
/// over and over), `chunk` events per append; returns the last position.
async fn append_long_ticket(f: &Fixture, events: usize, chunk: usize) -> Position {
    let refs = refs();
    let mut history = decide(
        &refs,
        &[],
        vec![(
            agent(),
            "2025-09-29 09:00",
            receive_as("T-1", TicketKind::Repair, Priority::Normal),
        )],
    );
    let comment = decide(
        &refs,
        &history,
        vec![(
            agent(),
            "2025-09-29 09:01",
            TicketCommand::Comment {
                text: "called again".into(),
                internal: true,
            },
        )],
    );
    history.extend(std::iter::repeat_n(comment[0].clone(), events - 1));
    let mut last = 0;
    for part in history.chunks(chunk) {
        last = f.append(&ticket_id(1), part).await;
    }
    last
}

/// A new version of a projection is deployed while a rebuild of the old
/// one was under way: the view it serves must be folded by the new version
/// from 0, never an old-version tree finished by the new fold.
#[tokio::test]
async fn a_new_version_does_not_finish_a_rebuild_of_the_old_one() {
    // More events than the runner applies in one batch, so that a rebuild
    // can be stopped between two batches.
    let f = Fixture::new();
    let last = append_long_ticket(&f, 3000, 500).await;

    // Version 1 runs on the whole log, as a `LogPrefix` to be stopped on its
    // own in the middle of its rebuild.
    let prefix = LogPrefix::new(f.store.clone(), last);
    let old = runner::start(prefix.clone(), f.views.clone(), Arc::new(VersionStamps { version: 1 })).unwrap();
    old.wait_for(last, WAIT).await.unwrap();
    let _rebuild = old.rebuild();
    // Stop it once the rebuild has committed a batch but not caught up.
    let interrupted = tokio::time::timeout(WAIT, async {
        loop {
            if let ViewStatus::Rebuilding(progress) = old.status() {
                return progress.events_done;
            }
            tokio::task::yield_now().await;
        }
    })
    .await
    .unwrap();
    prefix.close();
    old.wait_stopped(WAIT).await.unwrap();
    assert!(
        interrupted <= last,
        "the rebuild was not interrupted: it applied every event"
    );
    drop(old);

    let new = runner::start(f.dyn_store(), f.views.clone(), Arc::new(VersionStamps { version: 2 })).unwrap();
    new.wait_until_live(WAIT).await.unwrap();
    new.wait_for(last, WAIT).await.unwrap();
    let stamps = entries(&new.tree());
    assert_eq!(stamps.len() as u64, last + 1);
    let old_stamps = stamps.iter().filter(|(_, v)| v.as_slice() != b"v2").count();
    assert_eq!(
        old_stamps, 0,
        "the view serves {old_stamps} entries folded by version 1 of the projection"
    );
    f.store.close().unwrap();
    new.wait_stopped(WAIT).await.unwrap();
}

/// A build from 0 stopped half way is not resumed, since its tree was
/// written without atomic batches: the next start drops it and builds the
/// view again from 0, which ends as the view built in one pass, with no
/// tree of the interrupted build left behind.
#[tokio::test]
async fn an_interrupted_build_starts_again_from_zero() {
    // Many more events than the shared reader hands out in one batch, so
    // that every view is stopped in the middle of its build.
    let f = Fixture::new();
    let last = append_long_ticket(&f, 16_000, 1000).await;

    // A fresh view database builds every view; stop them once each has
    // written part of its tree.
    let prefix = LogPrefix::new(f.store.clone(), last);
    let first = runner::start_all(prefix.clone(), f.views.clone(), all_views()).unwrap();
    tokio::time::timeout(WAIT, async {
        while !first
            .iter()
            .all(|v| matches!(v.status(), ViewStatus::Rebuilding(p) if p.events_done > 0))
        {
            tokio::task::yield_now().await;
        }
    })
    .await
    .expect("the views never reported a build in progress");
    for view in &first {
        // While the build runs, queries read an empty tree, not a half
        // written one.
        assert_eq!(view.applied(), None, "view {}", view.name());
        assert!(entries(&view.tree()).is_empty(), "view {}", view.name());
    }
    prefix.close();
    stop_all(&first).await;
    let meta = f.views.tree("meta").unwrap();
    let mut interrupted = Vec::new();
    for view in &first {
        let building = meta.get(format!("building/{}", view.name()).as_bytes()).unwrap();
        let building = building.unwrap_or_else(|| panic!("view {}: the build was not interrupted", view.name()));
        let building = String::from_utf8(building).unwrap();
        // A key no event makes: a build resumed from this tree would keep it.
        let mut junk = projections::store::ViewBatch::default();
        junk.put(b"~left by the interrupted build".to_vec(), b"x".to_vec());
        f.views.tree(&building).unwrap().apply(junk).unwrap();
        interrupted.push(building);
    }
    drop((first, meta, prefix));

    let f = f.restart();
    let views = runner::start_all(f.dyn_store(), f.views.clone(), all_views()).unwrap();
    for view in &views {
        // The empty tree serves again until the new build is swapped in.
        assert_eq!(view.applied(), None, "view {}", view.name());
    }
    wait_all(&views, last).await;
    for (view, old) in views.iter().zip(&interrupted) {
        assert!(!f.views.has_tree(old), "view {}: tree {old} was kept", view.name());
        assert_ne!(
            serving(view),
            format!("ViewTree {{ name: {old:?} }}"),
            "view {}: the interrupted tree serves",
            view.name()
        );
    }
    let from_zero_db = ViewDb::open(&f.dir.path().join("from-zero")).unwrap();
    let from_zero = start_all(f.dyn_store(), &from_zero_db);
    wait_all(&from_zero, last).await;
    assert_same_views(&[("built again", &views), ("from 0", &from_zero)]).unwrap();
    assert_tickets_match_the_log(&f.store, views.iter().find(|v| v.name() == "tickets").unwrap());
    let names = f.views.tree_names();
    assert_eq!(names.len(), 1 + views.len(), "trees left behind: {names:?}");
    f.store.close().unwrap();
    stop_all(&views).await;
    stop_all(&from_zero).await;
}
