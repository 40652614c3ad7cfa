//! `aftersales calendar|policy|warranty`: reference data listed, shown and published.

use crate::open::{catch_up, open_service};
use std::path::PathBuf;

use anyhow::{anyhow, bail, Context, Result};
use clap::Subcommand;

/// Publishing reference data from a file, with the server stopped (while
/// it runs, the admin mutations publishCalendar, publishPolicy and
/// publishWarrantyRules do the same).
#[derive(Subcommand)]
pub(crate) enum ReferenceCli {
    /// Check a file and publish it as a new version. Every problem is
    /// listed and nothing is appended unless there is none; a calendar
    /// settles the open tickets' provisional deadlines it changes.
    Publish {
        /// The TOML file (the format of the bundled files under
        /// crates/domain/calendars and crates/domain/policies).
        file: PathBuf,
        /// Check and show what would change (deadlines that would move),
        /// appending nothing.
        #[arg(long)]
        dry_run: bool,
        /// Recorded as the publishing user.
        #[arg(long, default_value = "admin")]
        user: String,
    },
    /// Every published version, oldest first.
    List,
    /// Print the newest published version's file (the start of the next
    /// one), or the version given.
    Show {
        /// The calendar, policy or rules name [default: cn-mainland for
        /// calendars, default otherwise].
        id: Option<String>,
        /// A version other than the newest.
        #[arg(long)]
        version: Option<String>,
    },
}

pub(crate) async fn reference_command(
    data: &std::path::Path,
    kind: domain::reference::ReferenceKind,
    command: ReferenceCli,
) -> Result<()> {
    match command {
        ReferenceCli::List => {
            let service = open_service(data)?;
            let text = api::publish::list(&service, kind);
            service.shutdown().await?;
            print!("{text}");
            Ok(())
        }
        ReferenceCli::Show { id, version } => {
            let id = id.unwrap_or_else(|| match kind {
                domain::reference::ReferenceKind::Calendar => "cn-mainland".to_string(),
                _ => "default".to_string(),
            });
            let service = open_service(data)?;
            let text = api::publish::show(&service, kind, &id, version.as_deref());
            service.shutdown().await?;
            print!("{}", text.map_err(|e| anyhow!(e))?);
            Ok(())
        }
        ReferenceCli::Publish { file, dry_run, user } => {
            let size = std::fs::metadata(&file)
                .with_context(|| format!("reading {}", file.display()))?
                .len();
            if size > domain::reference::MAX_FILE_BYTES as u64 {
                bail!(
                    "{} is {size} bytes; a {} file is at most {} bytes",
                    file.display(),
                    kind.label(),
                    domain::reference::MAX_FILE_BYTES
                );
            }
            let text =
                std::fs::read_to_string(&file).with_context(|| format!("reading {} as UTF-8", file.display()))?;
            let actor = domain::actor::Actor::staff(
                domain::ids::UserId::new(user).map_err(|e| anyhow!("--user: {e}"))?,
                domain::actor::Role::Admin,
            );
            let source = file.display().to_string();
            let service = open_service(data)?;
            catch_up(&service).await?;
            let outcome = service
                .publish_reference(
                    kind,
                    text,
                    source.clone(),
                    dry_run,
                    application::service::Acting::by(actor),
                )
                .await;
            service.shutdown().await?;
            match outcome {
                Ok(outcome) => {
                    print!("{}", api::publish::describe(&outcome, &source, dry_run));
                    Ok(())
                }
                // The same file again: already there, which is what was asked.
                Err(api::error::AppError::Domain(domain::error::DomainError::AlreadyExists { what })) => {
                    println!("{what} is already published; nothing to do");
                    Ok(())
                }
                Err(e) => bail!("{}", api::publish::refusal(&e).trim_end()),
            }
        }
    }
}
