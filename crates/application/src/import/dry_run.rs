//! The dry run: every row's commands decided with the pure deciders
//! against the archive as the log folds it plus what the file's earlier
//! rows produce, before anything is appended.

use std::collections::HashMap;

use domain::archive::{
    OwnerCommand, OwnerDecider, OwnerState, ProjectCommand, ProjectDecider, ProjectState, UnitCommand, UnitDecider,
    UnitState,
};
use domain::decider::{Context, Decider};
use domain::error::DomainError;
use domain::ids::{OwnerId, ProjectId, UnitId};

use super::parse::{Commands, Row};
use super::{reading, row_key, ImportError, ImportKind, RowError};
use crate::error::AppError;
use crate::service::Service;

/// The archive as the log folds it plus what the file's earlier rows
/// produce.
pub(super) struct DryRun<'s> {
    pub(super) service: &'s Service,
    pub(super) ctx: Context<()>,
    pub(super) projects: HashMap<ProjectId, ProjectState>,
    pub(super) units: HashMap<UnitId, UnitState>,
    pub(super) owners: HashMap<OwnerId, OwnerState>,
}

impl DryRun<'_> {
    fn load_project(&mut self, id: &ProjectId) -> Result<(), ImportError> {
        if !self.projects.contains_key(id) {
            let state = self.service.project(id).map_err(reading)?;
            self.projects.insert(id.clone(), state);
        }
        Ok(())
    }

    fn load_unit(&mut self, id: &UnitId) -> Result<(), ImportError> {
        if !self.units.contains_key(id) {
            let state = self.service.unit(id).map_err(reading)?;
            self.units.insert(id.clone(), state);
        }
        Ok(())
    }

    fn load_owner(&mut self, id: &OwnerId) -> Result<(), ImportError> {
        if !self.owners.contains_key(id) {
            let state = self.service.owner(id).map_err(reading)?;
            self.owners.insert(id.clone(), state);
        }
        Ok(())
    }

    /// The row without the commands an earlier run of the same file
    /// appended (none, when the record does not exist yet).
    pub(super) fn without_applied(&mut self, kind: ImportKind, hash: u64, mut row: Row) -> Result<Row, ImportError> {
        let service = self.service;
        let key = |i: usize| row_key(kind, hash, row.row, i);
        match &mut row.commands {
            Commands::Project(id, commands) => {
                self.load_project(id)?;
                if self.projects.get(id).is_some_and(|s| s.0.is_some()) {
                    retain_unapplied(commands, |i| service.applied(&*id, &key(i)))?;
                }
            }
            Commands::Unit(id, commands) => {
                self.load_unit(id)?;
                if self.units.get(id).is_some_and(|s| s.0.is_some()) {
                    retain_unapplied(commands, |i| service.applied(&*id, &key(i)))?;
                }
            }
            Commands::Owner(id, commands) => {
                self.load_owner(id)?;
                if self.owners.get(id).is_some_and(|s| s.0.is_some()) {
                    retain_unapplied(commands, |i| service.applied(&*id, &key(i)))?;
                }
            }
        }
        Ok(row)
    }

    /// Decides a row's commands in order, evolving the state with what
    /// they produce; a refusal becomes a row error (and the row's later
    /// commands are not decided).
    pub(super) fn decide(&mut self, row: &Row, errors: &mut Vec<RowError>) -> Result<(), ImportError> {
        let refusal = match &row.commands {
            Commands::Project(id, commands) => self.decide_project(id, commands)?,
            Commands::Unit(id, commands) => self.decide_unit(id, commands)?,
            Commands::Owner(id, commands) => self.decide_owner(id, commands)?,
        };
        if let Some((e, column)) = refusal {
            errors.push(refused(row, e, Some(column)));
        }
        Ok(())
    }

    /// A project row's commands; the first refusal and its column.
    fn decide_project(&mut self, id: &ProjectId, commands: &[(usize, ProjectCommand)]) -> Result<Refusal, ImportError> {
        self.load_project(id)?;
        for (_, command) in commands {
            let column = match command {
                ProjectCommand::Register { .. } => "project_id",
                ProjectCommand::RegisterBuilding { .. } => "building_id",
                // Not an import's command: chosen through the API.
                ProjectCommand::ChooseReferenceData { .. } => "project_id",
            };
            let state = self.projects.entry(id.clone()).or_default();
            let column = match (&command, &state.0) {
                (ProjectCommand::RegisterBuilding { .. }, None) => "project_id",
                _ => column,
            };
            match ProjectDecider::decide(state, command.clone(), &self.ctx) {
                Ok(events) => *state = events.iter().fold(std::mem::take(state), ProjectDecider::evolve),
                Err(e) => return Ok(Some((e, column))),
            }
        }
        Ok(None)
    }

    /// A unit row's commands; the first refusal and its column.
    fn decide_unit(&mut self, id: &UnitId, commands: &[(usize, UnitCommand)]) -> Result<Refusal, ImportError> {
        self.load_unit(id)?;
        for (_, command) in commands {
            let project_id = match command {
                UnitCommand::Register { project, .. } => Some(project.clone()),
                _ => self.units.get(id).and_then(|s| s.0.as_ref()).map(|u| u.project.clone()),
            };
            if let Some(p) = &project_id {
                self.load_project(p)?;
            }
            let project = project_id
                .as_ref()
                .and_then(|p| self.projects.get(p))
                .and_then(|s| s.0.as_ref());
            let column = match command {
                UnitCommand::Register { building, .. } => {
                    if self.units.get(id).is_some_and(|s| s.0.is_some()) {
                        "unit_id"
                    } else if project.is_some_and(|p| !p.buildings.contains_key(building)) {
                        "building_id"
                    } else {
                        "project_id"
                    }
                }
                _ => "delivered_on",
            };
            let ctx = self.ctx.with_reference(project);
            let state = self.units.entry(id.clone()).or_default();
            match UnitDecider::decide(state, command.clone(), &ctx) {
                Ok(events) => *state = events.iter().fold(std::mem::take(state), UnitDecider::evolve),
                Err(e) => return Ok(Some((e, column))),
            }
        }
        Ok(None)
    }

    /// An owner row's commands; the first refusal and its column.
    fn decide_owner(&mut self, id: &OwnerId, commands: &[(usize, OwnerCommand)]) -> Result<Refusal, ImportError> {
        self.load_owner(id)?;
        for (_, command) in commands {
            let unit_id = match command {
                OwnerCommand::LinkUnit { unit, .. } | OwnerCommand::ChangeStage { unit, .. } => Some(unit.clone()),
                _ => None,
            };
            if let Some(u) = &unit_id {
                self.load_unit(u)?;
            }
            let unit = unit_id
                .as_ref()
                .and_then(|u| self.units.get(u))
                .and_then(|s| s.0.as_ref());
            let state = self.owners.entry(id.clone()).or_default();
            let column = match command {
                OwnerCommand::LinkUnit { .. } if state.0.is_some() => "unit_id",
                _ => "owner_id",
            };
            let ctx = self.ctx.with_reference(unit);
            match OwnerDecider::decide(state, command.clone(), &ctx) {
                Ok(events) => *state = events.iter().fold(std::mem::take(state), OwnerDecider::evolve),
                Err(e) => return Ok(Some((e, column))),
            }
        }
        Ok(None)
    }
}

/// A domain refusal of a row's command and the column it is about.
type Refusal = Option<(DomainError, &'static str)>;

/// The row error for a refusal of one of `row`'s commands.
fn refused(row: &Row, e: DomainError, column: Option<&str>) -> RowError {
    RowError {
        row: row.row,
        line: row.line,
        column: match &e {
            DomainError::InvalidInput { .. } => input_column(&e).or(column),
            DomainError::NotFound { .. }
            | DomainError::AlreadyExists { .. }
            | DomainError::InvalidTransition { .. } => column,
            // Not about a field: the role, the clock, reference data.
            _ => None,
        }
        .map(str::to_string),
        message: e.to_string(),
    }
}

/// Keeps the commands whose key `applied` does not know.
fn retain_unapplied<C>(
    commands: &mut Vec<(usize, C)>,
    applied: impl Fn(usize) -> Result<bool, AppError>,
) -> Result<(), ImportError> {
    let mut kept = Vec::with_capacity(commands.len());
    for (i, c) in commands.drain(..) {
        if !applied(i).map_err(reading)? {
            kept.push((i, c));
        }
    }
    *commands = kept;
    Ok(())
}

/// The column a domain refusal of a field is about.
fn input_column(e: &DomainError) -> Option<&'static str> {
    let DomainError::InvalidInput { field, .. } = e else {
        return None;
    };
    Some(match *field {
        "project name" | "building name" => "name",
        "city" => "city",
        "calendar" => "calendar",
        "room number" => "number",
        "delivery date" => "delivered_on",
        "contract date" => "contract_signed_on",
        "family name" => "family_name",
        "given name" => "given_name",
        "phone number" => "phone",
        "ID number" => "id_number",
        _ => return None,
    })
}
