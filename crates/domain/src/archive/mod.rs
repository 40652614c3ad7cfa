//! The customer archive (客户档案) as events: projects and their buildings,
//! units and their delivery, owners and the units they bought.
//!
//! Three aggregates, one stream each: a project (with its buildings), a
//! unit, an owner. A decision that needs another record (registering a unit
//! needs its project's buildings; linking an owner needs the unit) receives
//! that record's state as reference data in the [`Context`]. Personal
//! fields are [`Personal`](crate::personal::Personal).
//!
//! One file per aggregate (`project`, `unit`, `owner`); this module keeps
//! what they share: [`authorize`] and the checks and helpers behind it.

use chrono::{DateTime, NaiveDate, Utc};

use crate::actor::{Actor, Role};
use crate::decider::{Context, Stamped};
use crate::error::DomainError;
use crate::ids::OwnerId;

mod owner;
mod project;
mod unit;

pub use owner::*;
pub use project::*;
pub use unit::*;

fn name_text(field: &'static str, value: &str) -> Result<(), DomainError> {
    if value.trim().is_empty() {
        return Err(DomainError::input(field, "it is empty"));
    }
    if value.chars().count() > 200 || value.chars().any(char::is_control) {
        return Err(DomainError::input(
            field,
            "at most 200 characters, no control characters",
        ));
    }
    Ok(())
}

fn require_role(actor: &Actor, action: &'static str, roles: &[Role]) -> Result<(), DomainError> {
    if roles.contains(&actor.role) {
        Ok(())
    } else {
        Err(DomainError::Forbidden {
            actor: actor.to_string(),
            action,
            reason: format!("the {} role cannot change the customer archive", actor.role),
        })
    }
}

const ARCHIVE_ROLES: &[Role] = &[Role::Admin, Role::System];

/// A command on the customer archive, for [`authorize`].
#[derive(Debug, Clone, Copy)]
pub enum ArchiveCommand<'c> {
    /// On a project.
    Project(&'c ProjectCommand),
    /// On a unit.
    Unit(&'c UnitCommand),
    /// On owner `.0`.
    Owner(&'c OwnerId, &'c OwnerCommand),
}

impl ArchiveCommand<'_> {
    /// What the command does, in words.
    pub fn action(&self) -> &'static str {
        match self {
            ArchiveCommand::Project(ProjectCommand::Register { .. }) => "register the project",
            ArchiveCommand::Project(ProjectCommand::RegisterBuilding { .. }) => "register the building",
            ArchiveCommand::Project(ProjectCommand::ChooseReferenceData { .. }) => {
                "choose the project's calendar, policy or warranty rules"
            }
            ArchiveCommand::Unit(UnitCommand::Register { .. }) => "register the unit",
            ArchiveCommand::Unit(UnitCommand::RecordDelivery { .. }) => "record the delivery",
            ArchiveCommand::Unit(UnitCommand::CorrectDelivery { .. }) => "correct the delivery date",
            ArchiveCommand::Owner(_, c) => owner_action(c).0,
        }
    }
}

fn owner_action(command: &OwnerCommand) -> (&'static str, &'static [Role]) {
    match command {
        OwnerCommand::Register { .. } => ("register the owner", ARCHIVE_ROLES),
        OwnerCommand::LinkUnit { .. } => ("link the owner to a unit", ARCHIVE_ROLES),
        OwnerCommand::ChangeContact { .. } => (
            "change the owner's contact",
            &[Role::Admin, Role::System, Role::Agent, Role::Manager, Role::Owner],
        ),
        OwnerCommand::ChangeStage { .. } => (
            "change the touchpoint stage",
            &[Role::Admin, Role::System, Role::Manager],
        ),
        OwnerCommand::ErasePersonalData { .. } => ("erase the owner's personal data", ARCHIVE_ROLES),
    }
}

/// Whether `actor` may issue an archive command at all: the role, and an
/// owner only on their own record. The deciders check it first; a server
/// checks it before anything else (a retry lookup included).
pub fn authorize(actor: &Actor, command: &ArchiveCommand<'_>) -> Result<(), DomainError> {
    let action = command.action();
    match command {
        ArchiveCommand::Project(_) | ArchiveCommand::Unit(_) => require_role(actor, action, ARCHIVE_ROLES),
        ArchiveCommand::Owner(id, c) => {
            require_role(actor, action, owner_action(c).1)?;
            if actor.role == Role::Owner && actor.owner.as_ref() != Some(*id) {
                return Err(DomainError::Forbidden {
                    actor: actor.to_string(),
                    action,
                    reason: "owners change only their own record".into(),
                });
            }
            Ok(())
        }
    }
}

/// The latest calendar date anywhere on earth at `at` (UTC+14): a date
/// after it is in the future in every time zone, so the archive needs no
/// time zone to refuse future delivery and contract dates.
fn latest_date(at: DateTime<Utc>) -> NaiveDate {
    (at + chrono::TimeDelta::hours(14)).date_naive()
}

fn stamp<R, E>(ctx: &Context<R>, at: DateTime<Utc>, event: E) -> Stamped<E> {
    Stamped {
        occurred_at: at,
        actor: ctx.actor.clone(),
        channel: ctx.channel,
        event,
        text_seals: Vec::new(),
    }
}
