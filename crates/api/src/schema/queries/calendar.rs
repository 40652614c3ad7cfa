//! `workdays`: the working-day calendar.

use async_graphql::{Context, Object, Result};
use chrono::NaiveDate;

use crate::schema::{bad, service};

/// The working-day calendar.
#[derive(Default)]
pub struct CalendarQueries;

#[Object(name = "CalendarQueries")]
impl CalendarQueries {
    /// The working days from `from` to `to` (inclusive) on the mainland
    /// calendar, at most 366 days.
    async fn workdays(
        &self,
        ctx: &Context<'_>,
        #[graphql(desc = "The first day.")] from: NaiveDate,
        #[graphql(desc = "The last day, at most 366 days after `from`.")] to: NaiveDate,
    ) -> Result<Vec<NaiveDate>> {
        if to < from || (to - from).num_days() > 366 {
            return Err(bad("the range must run forward and span at most 366 days").into());
        }
        Ok(service(ctx)?.calendar().workdays(from, to))
    }
}
