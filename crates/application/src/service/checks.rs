//! The records a ticket command names, checked against the archive and
//! the caller's scope before deciding.

use domain::error::DomainError;
use domain::incident::IncidentCommand;
use domain::ticket::{Location, TicketCommand};

use super::{Acting, Service};
use crate::error::AppError;

impl Service {
    /// Refuses a new ticket whose references the archive does not hold:
    /// the project; the building, in that project; the unit, in that
    /// building; the reporting owner, recorded as an owner of that unit (of
    /// a unit of the project, for a common area).
    pub(super) fn check_new_ticket(&self, r: &domain::ticket::Receive) -> Result<(), AppError> {
        let not_found = |what: String| AppError::Domain(DomainError::NotFound { what });
        let (project_id, building, unit) = match &r.location {
            Location::Unit {
                project,
                building,
                unit,
            } => (project, Some(building), Some(unit)),
            Location::CommonArea { project, building, .. } => (project, building.as_ref(), None),
        };
        let project = self
            .project(project_id)?
            .0
            .ok_or_else(|| not_found(format!("project {project_id}")))?;
        if let Some(b) = building {
            if !project.buildings.contains_key(b) {
                return Err(not_found(format!("building {b} in project {project_id}")));
            }
        }
        if let Some(u) = unit {
            let found = self.unit(u)?.0.ok_or_else(|| not_found(format!("unit {u}")))?;
            if &found.project != project_id || Some(&found.building) != building {
                return Err(AppError::BadInput(format!(
                    "unit {u} is in building {} of project {}, not in {} of {project_id}",
                    found.building,
                    found.project,
                    building.map(|b| b.to_string()).unwrap_or_default()
                )));
            }
        }
        if let Some(o) = &r.reporter.owner {
            let owner = self.owner(o)?.0.ok_or_else(|| not_found(format!("owner {o}")))?;
            let owns = match unit {
                Some(u) => owner.units.contains_key(u),
                None => owner.units.values().any(|owned| &owned.project == project_id),
            };
            if !owns {
                return Err(AppError::BadInput(format!(
                    "owner {o} is not recorded as an owner of {}",
                    match unit {
                        Some(u) => format!("unit {u}"),
                        None => format!("a unit of project {project_id}"),
                    }
                )));
            }
        }
        Ok(())
    }

    /// Refuses a command on an existing ticket that names a record the
    /// archive does not hold, or one outside the ticket's project or the
    /// caller's scope.
    pub(super) fn check_command_references(
        &self,
        ticket: Option<&domain::ticket::Ticket>,
        command: &TicketCommand,
        acting: &Acting,
    ) -> Result<(), AppError> {
        match command {
            TicketCommand::LinkIncident { incident }
            | TicketCommand::Escalate {
                incident: Some(incident),
                ..
            } => {
                // A command on a ticket that does not exist is refused
                // before this runs.
                let Some(t) = ticket else { return Ok(()) };
                // The incident's own rules too: both records are checked
                // before either is written.
                domain::incident::authorize(&acting.actor, &IncidentCommand::LinkTicket { ticket: t.id.clone() })?;
                let found = self.incident(incident)?.0;
                // The caller's scope before anything about the incident
                // is said.
                if let Some(found) = &found {
                    acting.require_project(&found.project)?;
                }
                self.require_incident(incident)?;
                if let Some(found) = &found {
                    if t.location.project() != &found.project {
                        return Err(AppError::BadInput(format!(
                            "incident {incident} is of project {}, the ticket of project {}",
                            found.project,
                            t.location.project()
                        )));
                    }
                }
                Ok(())
            }
            TicketCommand::Dispatch { to, .. } => match to {
                domain::ticket::Assignee::Contractor(c) => match self.contractor(c)?.0 {
                    Some(_) => Ok(()),
                    None => Err(DomainError::NotFound {
                        what: format!("contractor {c} in the service directory (registerContractor)"),
                    }
                    .into()),
                },
                domain::ticket::Assignee::Engineer(e) => match self.engineer(e)?.0 {
                    Some(_) => Ok(()),
                    None => Err(DomainError::NotFound {
                        what: format!("engineer {e} in the service directory (registerEngineer)"),
                    }
                    .into()),
                },
            },
            TicketCommand::Merge { into } => {
                let Some(target) = self.ticket(into)? else {
                    return Err(DomainError::NotFound {
                        what: format!("ticket {into}"),
                    }
                    .into());
                };
                acting.require_project(target.ticket.location.project())?;
                Ok(())
            }
            _ => Ok(()),
        }
    }
}
