//! `aftersales erase-owner`: an owner's personal data erased (PIPL art. 47).

use crate::open::{catch_up, open_service};

use anyhow::{anyhow, Result};

pub(crate) async fn erase_owner(data: &std::path::Path, owner: &str, request: &str, user: &str) -> Result<()> {
    let id = domain::ids::OwnerId::new(owner).map_err(|e| anyhow!("{e}"))?;
    let actor = domain::actor::Actor::staff(
        domain::ids::UserId::new(user).map_err(|e| anyhow!("--user: {e}"))?,
        domain::actor::Role::Admin,
    );
    let service = open_service(data)?;
    catch_up(&service).await?;
    let acting = application::service::Acting::by(actor);
    let outcome = service.erase_owner(&id, request, acting).await;
    service.shutdown().await?;
    let erasure = outcome?;
    println!(
        "owner {id}: personal data erased ({}; {} keys destroyed)",
        if erasure.recorded_now {
            "erasure recorded now"
        } else {
            "erasure recorded by an earlier run, completed now"
        },
        erasure.keys_destroyed
    );
    Ok(())
}
