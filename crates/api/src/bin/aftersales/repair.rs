//! `aftersales repair`: a log with a damaged write-ahead file mended.

use eventlog::SledEventStore;

use anyhow::Result;

pub(crate) async fn repair(data: &std::path::Path) -> Result<()> {
    let log = data.join("log");
    let report = SledEventStore::repair(&log, &eventlog::RepairOptions::default())?;
    print!("{report}");
    // Views folded before the damage may hold the lost events: they are
    // built again from the repaired log.
    if !report.lost.is_empty() && data.join(application::service::VIEW_FOLDER).exists() {
        println!("rebuilding every view from the repaired log");
        crate::rebuild::rebuild(data, None).await?;
    }
    Ok(())
}
