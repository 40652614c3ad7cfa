//! Read-your-writes: waiting until every view has applied a change.

use eventlog::Position;

use super::{Service, READ_YOUR_WRITES};
use crate::error::AppError;

impl Service {
    /// Waits until every view has applied `position`, so that the answer
    /// to a write, and any query sent after it, reflects the write in
    /// every field (a ticket's clocks come from the SLA view, reports and
    /// lists from theirs). A view that does not catch up within
    /// [`READ_YOUR_WRITES`] is an error that says so, never a stale answer.
    pub async fn settle(&self, position: Position) -> Result<(), AppError> {
        for view in &self.views {
            view.wait_for(position, READ_YOUR_WRITES).await.map_err(|e| match e {
                projections::runner::ProjectionError::Timeout { view, waited, .. } => AppError::ViewBehind(format!(
                    "the change is recorded at position {position}, but the {view} view has not caught up with it \
                     within {} s: read it again shortly",
                    waited.as_secs()
                )),
                other => AppError::internal(other),
            })?;
        }
        Ok(())
    }
}
