//! Appending a checked row's commands through the service, each under its
//! shared idempotency key.

use domain::actor::Actor;
use domain::ticket::Channel;
use eventlog::Position;

use super::parse::{Commands, Row};
use super::{row_key, ImportKind};
use crate::error::AppError;
use crate::service::{Acting, Service};

/// Appends a row's commands one by one, stopping at the first failure;
/// returns each command's index and position (or error).
pub(super) async fn append(
    service: &Service,
    kind: ImportKind,
    hash: u64,
    row: Row,
    actor: &Actor,
) -> Vec<(usize, Result<Position, AppError>)> {
    let acting = |i: usize| Acting {
        projects: Vec::new(),
        actor: actor.clone(),
        channel: Channel::BackOffice,
        occurred_at: None,
        expected_version: None,
        idempotency_key: Some(row_key(kind, hash, row.row, i)),
        shared_key: true,
    };
    let mut out = Vec::new();
    match row.commands {
        Commands::Project(id, commands) => {
            for (i, c) in commands {
                let r = service.project_command(&id, c, acting(i)).await.map(|(_, p)| p);
                let failed = r.is_err();
                out.push((i, r));
                if failed {
                    break;
                }
            }
        }
        Commands::Unit(id, commands) => {
            for (i, c) in commands {
                let r = service.unit_command(&id, c, acting(i)).await.map(|(_, p)| p);
                let failed = r.is_err();
                out.push((i, r));
                if failed {
                    break;
                }
            }
        }
        Commands::Owner(id, commands) => {
            for (i, c) in commands {
                let r = service.owner_command(&id, c, acting(i)).await.map(|(_, p)| p);
                let failed = r.is_err();
                out.push((i, r));
                if failed {
                    break;
                }
            }
        }
    }
    out
}
