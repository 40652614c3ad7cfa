//! Read models folded from the event log (CQRS): staff read views, never
//! the log directly, except for a ticket's audit history, which is its
//! stream.
//!
//! - [`runner`]: the [`runner::Projection`] trait and the runner that keeps
//!   each view's state and checkpoint together, rebuilds while serving and
//!   lets callers wait for their own writes.
//! - [`tickets`]: every ticket's current state, with indexes and cursor
//!   pagination.
//! - [`sla`], [`satisfaction`], [`contractors`], [`defects`]: the
//!   analytics views, counters kept by [`counters`].
//! - [`archive`]: intake's indexes (projects, a building's rooms, a
//!   unit's owners).
//! - [`records`]: the layout tag of the records views keep of their own.
//! - [`reports`]: the monthly customer-service and weekly repair reports,
//!   as data and CSV.
//! - [`timeline`]: a ticket's audit history and its state as of any
//!   position or instant.

pub mod archive;
pub mod contractors;
pub mod counters;
pub mod defects;
pub mod records;
pub mod reports;
pub mod runner;
pub mod satisfaction;
pub mod sla;
pub mod store;
pub mod tickets;
pub mod timeline;

use std::sync::Arc;

/// Every view the product keeps, in the order they are started, with the
/// bundled calendar registry.
pub fn all_views() -> Vec<Arc<dyn runner::Projection>> {
    all_views_with(Arc::new(domain::calendar::CalendarRegistry::with_cn_mainland()))
}

/// Every view, evaluating clocks with `calendars`.
pub fn all_views_with(calendars: Arc<domain::calendar::CalendarRegistry>) -> Vec<Arc<dyn runner::Projection>> {
    vec![
        Arc::new(tickets::TicketsView),
        Arc::new(sla::SlaView::new(calendars.clone())),
        Arc::new(satisfaction::SatisfactionView::new(calendars.clone())),
        Arc::new(contractors::ContractorsView::new(calendars.clone())),
        Arc::new(defects::DefectsView::new(calendars)),
        Arc::new(archive::ArchiveView),
    ]
}
