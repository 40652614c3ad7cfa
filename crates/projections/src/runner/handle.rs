//! What callers hold of a running view: [`ViewHandle`] (the serving tree,
//! the position it has applied, its [`ViewStatus`]), the waits on them
//! (read-your-writes, live, stopped) and [`Rebuild`], a requested rebuild
//! to await.

use std::sync::{Arc, RwLock};
use std::time::Duration;

use crate::store::ViewTree;
use eventlog::Position;
use tokio::sync::watch;

use super::{dead_letters, DeadLetter, ProjectionError};

/// What a view is doing.
#[derive(Debug, Clone, PartialEq)]
pub enum ViewStatus {
    /// Starting.
    Starting,
    /// Following the log live.
    Live,
    /// Replaying the log into a fresh tree while the old one serves.
    Rebuilding(RebuildProgress),
    /// Stopped on an error; queries still read the last good state.
    Failed {
        /// The event it could not apply.
        position: Position,
        /// Why.
        reason: String,
    },
    /// The runner ended (store closed).
    Stopped,
}

/// Progress of a rebuild.
#[derive(Debug, Clone, PartialEq)]
pub struct RebuildProgress {
    /// Events applied to the new tree.
    pub events_done: u64,
    /// The head when last measured.
    pub head: Option<Position>,
    /// Events per second since the rebuild (re)started.
    pub events_per_second: f64,
    /// Estimated time left.
    pub estimated_left: Option<Duration>,
}

/// A running view: queries read [`ViewHandle::tree`]; callers wait for
/// their writes with [`ViewHandle::wait_for`].
#[derive(Clone)]
pub struct ViewHandle {
    pub(super) name: &'static str,
    pub(super) serving: Arc<RwLock<ViewTree>>,
    pub(super) applied: watch::Receiver<Option<Position>>,
    pub(super) status: watch::Receiver<ViewStatus>,
    pub(super) rebuild: Arc<tokio::sync::Notify>,
    /// Rebuild requests made so far (the `n`th request is number `n`).
    pub(super) requested: Arc<std::sync::atomic::AtomicU64>,
    /// The requests the serving tree covers: those made before its build
    /// was swapped in (a build from 0 swapped in after a request gives the
    /// view the request asked for).
    pub(super) covered: watch::Receiver<u64>,
    /// Whether the view started with a build from 0 (request number 1).
    pub(super) built_at_start: bool,
}

impl std::fmt::Debug for ViewHandle {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("ViewHandle")
            .field("name", &self.name)
            .finish_non_exhaustive()
    }
}

impl ViewHandle {
    /// The view's name.
    pub fn name(&self) -> &'static str {
        self.name
    }

    /// The tree that answers queries now.
    pub fn tree(&self) -> ViewTree {
        match self.serving.read() {
            Ok(t) => t.clone(),
            Err(poisoned) => poisoned.into_inner().clone(),
        }
    }

    /// The last position the serving tree has applied.
    pub fn applied(&self) -> Option<Position> {
        *self.applied.borrow()
    }

    /// The events the serving tree has set aside, by position.
    pub fn dead_letters(&self) -> Result<Vec<DeadLetter>, ProjectionError> {
        dead_letters(&self.tree())
    }

    /// What the view is doing.
    pub fn status(&self) -> ViewStatus {
        self.status.borrow().clone()
    }

    /// Waits until the serving tree has applied `position`.
    pub async fn wait_for(&self, position: Position, timeout: Duration) -> Result<(), ProjectionError> {
        let mut applied = self.applied.clone();
        let outcome = tokio::time::timeout(timeout, async {
            applied.wait_for(|a| a.is_some_and(|a| a >= position)).await.map(|_| ())
        })
        .await;
        match outcome {
            Ok(Ok(())) => Ok(()),
            Ok(Err(_)) => match self.status() {
                ViewStatus::Failed { position, reason } => Err(ProjectionError::Failed {
                    view: self.name.to_string(),
                    position,
                    reason,
                }),
                _ => Err(ProjectionError::Stopped(self.name.to_string())),
            },
            Err(_) => Err(ProjectionError::Timeout {
                view: self.name.to_string(),
                position,
                waited: timeout,
                applied: self.applied(),
            }),
        }
    }

    /// Waits until the view has stopped rebuilding and is live (or
    /// failed).
    pub async fn wait_until_live(&self, timeout: Duration) -> Result<(), ProjectionError> {
        let mut status = self.status.clone();
        let outcome = tokio::time::timeout(timeout, async {
            status
                .wait_for(|s| !matches!(s, ViewStatus::Starting | ViewStatus::Rebuilding(_)))
                .await
                .map(|s| s.clone())
        })
        .await;
        match outcome {
            Ok(Ok(ViewStatus::Live)) => Ok(()),
            Ok(Ok(s)) => Err(ProjectionError::Invalid(format!("view {} is {s:?}", self.name))),
            Ok(Err(_)) => Err(ProjectionError::Stopped(self.name.to_string())),
            Err(_) => Err(ProjectionError::Timeout {
                view: self.name.to_string(),
                position: 0,
                waited: timeout,
                applied: self.applied(),
            }),
        }
    }

    /// Waits until the runner has ended (after the store was closed), so
    /// that it no longer holds the store or the view database.
    pub async fn wait_stopped(&self, timeout: Duration) -> Result<(), ProjectionError> {
        let mut status = self.status.clone();
        let outcome = tokio::time::timeout(timeout, async {
            status
                .wait_for(|s| matches!(s, ViewStatus::Stopped | ViewStatus::Failed { .. }))
                .await
                .map(|_| ())
        })
        .await;
        match outcome {
            Ok(_) => Ok(()),
            Err(_) => Err(ProjectionError::Timeout {
                view: self.name.to_string(),
                position: 0,
                waited: timeout,
                applied: self.applied(),
            }),
        }
    }

    /// The build from 0 the view started with (a fresh view database, a
    /// new version, a tree lost or ahead of the log), if it did: its
    /// [`Rebuild::finished`] resolves when that build serves. A caller
    /// that wants every view built from the whole log asks for this first
    /// and calls [`ViewHandle::rebuild`] only for views that started from
    /// a tree they had, so that no view is built twice.
    pub fn built_at_start(&self) -> Option<Rebuild> {
        self.built_at_start.then(|| Rebuild {
            handle: self.clone(),
            request: 1,
        })
    }

    /// Asks for a rebuild from position 0 into a fresh tree; the current
    /// tree keeps serving until the new one has caught up. The rebuild
    /// runs whether or not the answer is awaited; [`Rebuild::finished`]
    /// resolves once a tree built from 0 after the request serves (a
    /// build already under way when it was asked counts: it started from
    /// 0 too).
    pub fn rebuild(&self) -> Rebuild {
        let request = self.requested.fetch_add(1, std::sync::atomic::Ordering::SeqCst) + 1;
        self.rebuild.notify_one();
        Rebuild {
            handle: self.clone(),
            request,
        }
    }

    /// A watch on the view: [`ViewChanges::changed`] resolves at its next
    /// applied position or change of status, whatever happened before the
    /// watch was taken; take it before looking, then wait.
    pub fn changes(&self) -> ViewChanges {
        let mut applied = self.applied.clone();
        let mut status = self.status.clone();
        applied.borrow_and_update();
        status.borrow_and_update();
        ViewChanges { applied, status }
    }
}

/// A rebuild asked of a view ([`ViewHandle::rebuild`]).
#[derive(Debug)]
pub struct Rebuild {
    handle: ViewHandle,
    /// This request's number.
    request: u64,
}

impl Rebuild {
    /// The view rebuilt.
    pub fn view(&self) -> &ViewHandle {
        &self.handle
    }

    /// Waits until the rebuilt tree serves and the view is live again, at
    /// most `timeout`; a view that fails or stops meanwhile is an error.
    pub async fn finished(&self, timeout: Duration) -> Result<(), ProjectionError> {
        let view = &self.handle;
        let mut covered = view.covered.clone();
        let mut status = view.status.clone();
        let swapped = tokio::time::timeout(timeout, async {
            loop {
                if *covered.borrow_and_update() >= self.request {
                    return Ok(());
                }
                match status.borrow_and_update().clone() {
                    ViewStatus::Failed { position, reason } => {
                        return Err(ProjectionError::Failed {
                            view: view.name.to_string(),
                            position,
                            reason,
                        })
                    }
                    ViewStatus::Stopped => return Err(ProjectionError::Stopped(view.name.to_string())),
                    _ => {}
                }
                tokio::select! {
                    r = covered.changed() => r.map_err(|_| ProjectionError::Stopped(view.name.to_string()))?,
                    r = status.changed() => r.map_err(|_| ProjectionError::Stopped(view.name.to_string()))?,
                }
            }
        })
        .await;
        match swapped {
            Ok(result) => result?,
            Err(_) => {
                return Err(ProjectionError::Timeout {
                    view: view.name.to_string(),
                    position: 0,
                    waited: timeout,
                    applied: view.applied(),
                })
            }
        }
        view.wait_until_live(timeout).await
    }
}

/// The next change of a view ([`ViewHandle::changes`]).
#[derive(Debug)]
pub struct ViewChanges {
    applied: watch::Receiver<Option<Position>>,
    status: watch::Receiver<ViewStatus>,
}

impl ViewChanges {
    /// Resolves when the view applies a position or its status changes,
    /// then watches for the next one. `false`: the view's runner has ended
    /// (nothing will change any more).
    pub async fn changed(&mut self) -> bool {
        let open = tokio::select! {
            r = self.applied.changed() => r.is_ok(),
            r = self.status.changed() => r.is_ok(),
        };
        self.applied.borrow_and_update();
        self.status.borrow_and_update();
        open
    }
}
