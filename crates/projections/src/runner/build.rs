//! Builds: which tree a view serves and which it builds at start
//! ([`prepare`]), a build from 0 into a fresh tree while the old tree
//! serves, and the swap that makes it the serving one.

use std::time::{Duration, Instant};

use crate::store::{ViewBatch, ViewDb, ViewTree};
use chrono::Utc;
use eventlog::{EventStore, Position, Subscription};
use std::sync::Arc;

use super::{checkpoint, meta_get, Projection, ProjectionError, RebuildProgress, Runner, Step, ViewStatus, META_TREE};

pub(super) fn prepare(
    store: Arc<dyn EventStore>,
    db: ViewDb,
    projection: Arc<dyn Projection>,
) -> Result<Runner, ProjectionError> {
    let name = projection.name();
    let meta = db.tree(META_TREE)?;
    let target = format!("{name}.v{}", projection.version());
    let current = meta_get(&meta, &format!("current/{name}"))?;
    let building = meta_get(&meta, &format!("building/{name}"))?;
    // A tree belongs to this version if it is `<name>.v<version>` or one of
    // its explicit rebuilds, `<name>.v<version>.r<n>`.
    let of_this_version = |tree: &str| tree == target || tree.starts_with(&format!("{target}.r"));
    // A build left by a stop or a crash was written without atomic batches
    // and cannot be resumed: drop it. If it was a build of this version, it
    // starts again from 0 below.
    let interrupted = match building {
        Some(b) => {
            db.drop_tree(&b)?;
            let mut batch = ViewBatch::default();
            batch.delete(format!("building/{name}").into_bytes());
            meta.apply_durable(batch)?;
            of_this_version(&b)
        }
        None => false,
    };
    // A view whose checkpoint is past the log's end folds events the log
    // no longer holds (a log restored from an older backup, a lost tail):
    // it must never serve. It is dropped and built again from the log.
    let log_end = store.head().map_or(0, |h| h + 1);
    let ahead = match &current {
        Some(current) if db.has_tree(current) => {
            let at = checkpoint(&db.tree(current)?)?;
            (at > log_end).then_some(at)
        }
        _ => None,
    };
    if let Some(at) = ahead {
        tracing::warn!(
            view = name,
            checkpoint = at,
            log_end,
            "the view has applied events up to position {} but the log ends before position {log_end}; it is rebuilt from the log and serves nothing until then",
            at - 1
        );
    }
    // A tree named as serving whose snapshot is not there (set aside as
    // damaged when the database opened, or deleted by hand) is built again
    // from the log; it serves nothing until then.
    let missing = current.as_ref().is_some_and(|c| !db.has_tree(c));
    if missing {
        tracing::warn!(
            view = name,
            tree = current.as_deref().unwrap_or_default(),
            "the view's serving tree has no snapshot; it is rebuilt from the log and serves nothing until then"
        );
    }
    let gone = ahead.is_some() || missing;
    // Serve what served before (on a fresh view database, an empty tree);
    // build this version if nothing of it serves, or start again a build
    // of it that was interrupted.
    let needs_build = match &current {
        Some(current) => !of_this_version(current) || interrupted || gone,
        None => true,
    };
    let serving_name = match &current {
        Some(current) if !gone => current.clone(),
        _ => format!("{target}.empty"),
    };
    if gone {
        // The tree ahead of the log (or lost) stops being current before
        // it is dropped, so that a stop in between cannot serve an empty
        // tree under its name as if it were live.
        let mut batch = ViewBatch::default();
        batch.delete(format!("current/{name}").into_bytes());
        meta.apply_durable(batch)?;
        if db.has_tree(&serving_name) {
            // A placeholder left from earlier must serve nothing.
            db.drop_tree(&serving_name)?;
        }
    }
    let build_name = if !needs_build {
        None
    } else if current.as_deref().is_some_and(of_this_version) || interrupted || db.has_tree(&target) {
        Some(rebuild_name(&db, &target))
    } else {
        Some(target.clone())
    };
    // Any other tree of this view is left over: a placeholder of another
    // version, or an old tree a crash kept from being dropped after its swap.
    for tree in db.tree_names() {
        let ours = tree.starts_with(&format!("{name}.v"));
        if ours && tree != serving_name && Some(&tree) != build_name.as_ref() {
            db.drop_tree(&tree)?;
        }
    }
    let mut runner = Runner::new(store, db, meta, projection, serving_name, build_name)?;
    // On an empty log the fresh tree is the whole view: it serves at once.
    if let Some(build) = runner.build_name.clone() {
        if runner.store.head().is_none() {
            let tree = runner.fresh_tree(&build)?;
            runner.swap(&build, &tree)?;
        }
    }
    Ok(runner)
}

/// A name for a rebuild of `target` that no tree has.
pub(super) fn rebuild_name(db: &ViewDb, target: &str) -> String {
    let mut n = Utc::now().timestamp_millis();
    loop {
        let name = format!("{target}.r{n}");
        if !db.has_tree(&name) {
            return name;
        }
        n += 1;
    }
}

impl Runner {
    /// Records that `build` is being built and returns its tree, which
    /// must be new: a build writes it with plain inserts, from 0.
    pub(super) fn fresh_tree(&self, build: &str) -> Result<ViewTree, ProjectionError> {
        if build == self.serving_name || self.db.has_tree(build) {
            return Err(ProjectionError::Invalid(format!(
                "view {}: tree {build} exists already and cannot be built from 0",
                self.projection.name()
            )));
        }
        let mut b = ViewBatch::default();
        b.put(
            format!("building/{}", self.projection.name()).into_bytes(),
            build.as_bytes().to_vec(),
        );
        self.meta.apply_durable(b)?;
        let tree = self.db.tree(build)?;
        // Nothing of it is written to disk before its swap.
        tree.hold();
        Ok(tree)
    }

    /// Plans a rebuild into a fresh tree of this version.
    pub(super) fn plan_rebuild(&mut self) {
        let target = format!("{}.v{}", self.projection.name(), self.projection.version());
        self.build_name = Some(rebuild_name(&self.db, &target));
    }

    /// Builds `build` from 0 on a reader of its own, then swaps it in.
    pub(super) async fn build(&mut self, build: &str) -> Result<Step, (Position, ProjectionError)> {
        let tree = self.fresh_tree(build).map_err(|e| (0, e))?;
        let mut sub = Subscription::new(self.store.clone(), 0);
        let mut progress = BuildProgress::new(self.store.head());
        self.status.send_replace(ViewStatus::Rebuilding(progress.report()));
        loop {
            progress.head = self.store.head();
            let caught_up = match progress.head {
                None => true,
                Some(h) => sub.next_position() > h,
            };
            if caught_up {
                self.swap(build, &tree).map_err(|e| (sub.next_position(), e))?;
                return Ok(Step::Continue);
            }
            let Some(batch) = self.next_batch(&mut sub).await? else {
                return Ok(Step::StoreClosed);
            };
            if batch.is_empty() {
                // Already rebuilding; a second request changes nothing.
                continue;
            }
            self.apply_batch(&tree, &batch)?;
            progress.done += batch.len() as u64;
            self.status.send_replace(ViewStatus::Rebuilding(progress.report()));
            tokio::task::yield_now().await;
        }
    }

    /// Makes the built tree the serving one: its snapshot is written, then
    /// one durable meta batch records the swap, then the pointer moves, the
    /// old tree goes, and waiters learn the position the view has applied.
    pub(super) fn swap(&mut self, build: &str, tree: &ViewTree) -> Result<(), ProjectionError> {
        let name = self.projection.name();
        // The built tree is on disk before the swap that publishes it is.
        tree.persist()?;
        let mut b = ViewBatch::default();
        b.put(format!("current/{name}").into_bytes(), build.as_bytes().to_vec());
        b.delete(format!("building/{name}").into_bytes());
        self.meta.apply_durable(b)?;
        let applied = checkpoint(tree)?.checked_sub(1);
        match self.handle.serving.write() {
            Ok(mut t) => *t = tree.clone(),
            Err(poisoned) => *poisoned.into_inner() = tree.clone(),
        }
        let old = std::mem::replace(&mut self.serving_name, build.to_string());
        if old != build {
            self.db.drop_tree(&old)?;
        }
        self.build_name = None;
        // Last: a caller waiting for a position finds the swap complete.
        self.applied.send_replace(applied);
        // Every request made until now is answered by this tree: it was
        // built from 0 up to the head, as a new build would be.
        let requested = self.handle.requested.load(std::sync::atomic::Ordering::SeqCst);
        self.covered.send_replace(requested);
        Ok(())
    }
}

/// Counts a build's progress.
pub(super) struct BuildProgress {
    pub(super) started: Instant,
    pub(super) done: u64,
    pub(super) head: Option<Position>,
}

impl BuildProgress {
    pub(super) fn new(head: Option<Position>) -> Self {
        Self {
            started: Instant::now(),
            done: 0,
            head,
        }
    }

    pub(super) fn report(&self) -> RebuildProgress {
        let rate = self.done as f64 / self.started.elapsed().as_secs_f64().max(1e-6);
        let left = self.head.map(|h| (h + 1).saturating_sub(self.done));
        RebuildProgress {
            events_done: self.done,
            head: self.head,
            events_per_second: rate,
            estimated_left: left
                .filter(|_| rate > 0.0)
                .map(|l| Duration::from_secs_f64(l as f64 / rate)),
        }
    }
}
