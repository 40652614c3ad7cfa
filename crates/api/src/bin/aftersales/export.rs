//! `aftersales export`: a monthly or weekly report as CSV on standard
//! output.

use anyhow::Result;

use crate::open::{catch_up, open_service};

/// Prints `report` (`monthly` or `weekly`) of `project` for `period`.
pub(crate) async fn export(data: &std::path::Path, report: &str, project: &str, period: &str) -> Result<()> {
    let service = open_service(data)?;
    catch_up(&service).await?;
    let kind = if report == "weekly" {
        application::jobs::Report::Weekly
    } else {
        application::jobs::Report::Monthly
    };
    let csv = application::jobs::export(&service, kind, project, period).map_err(anyhow::Error::from);
    service.shutdown().await?;
    print!("{}", csv?);
    Ok(())
}
