//! `aftersales history`: a ticket's audit history in the terminal.

use anyhow::{anyhow, bail, Result};

/// Prints ticket `ticket`'s history from the log in `data`.
pub(crate) fn history(data: &std::path::Path, ticket: &str) -> Result<()> {
    let id = domain::ids::TicketId::new(ticket).map_err(|e| anyhow!("{e}"))?;
    let store = application::jobs::open_log(data)?;
    let text = application::jobs::history_text(store.as_ref(), &id)?;
    store.close()?;
    match text {
        Some(t) => {
            print!("{t}");
            Ok(())
        }
        None => bail!("there is no ticket {id} in {}", data.display()),
    }
}
