//! `aftersales import`: the customer archive from a CSV file.

use crate::open::{catch_up, open_service};

use anyhow::{anyhow, bail, Context, Result};

/// Largest CSV file `import` reads.
pub(crate) const MAX_IMPORT_BYTES: u64 = 256 << 20;

pub(crate) async fn import(data: &std::path::Path, kind: &str, file: &std::path::Path, user: &str) -> Result<()> {
    let kind: application::import::ImportKind = kind.parse().map_err(|e| anyhow!("{e}"))?;
    let size = std::fs::metadata(file)
        .with_context(|| format!("reading {}", file.display()))?
        .len();
    if size > MAX_IMPORT_BYTES {
        bail!(
            "{} is {size} bytes; import takes files up to {MAX_IMPORT_BYTES} bytes",
            file.display()
        );
    }
    let bytes = std::fs::read(file).with_context(|| format!("reading {}", file.display()))?;
    let text = String::from_utf8(bytes).map_err(|e| {
        anyhow!(
            "{} is not UTF-8 (first bad byte at offset {}); save it as UTF-8 CSV",
            file.display(),
            e.utf8_error().valid_up_to()
        )
    })?;
    let actor = domain::actor::Actor::staff(
        domain::ids::UserId::new(user).map_err(|e| anyhow!("--user: {e}"))?,
        domain::actor::Role::System,
    );
    let service = open_service(data)?;
    catch_up(&service).await?;
    let outcome = application::import::import(&service, kind, &text, actor).await;
    service.shutdown().await?;
    match outcome {
        Ok(report) => {
            println!(
                "imported {} of {} rows ({} already in from an earlier run), {} events{}",
                report.imported,
                report.rows,
                report.skipped,
                report.events_appended,
                match (report.first_position, report.last_position) {
                    (Some(a), Some(b)) => format!(" at positions {a}–{b}"),
                    _ => String::new(),
                }
            );
            Ok(())
        }
        Err(e) => bail!("{e}"),
    }
}
