//! The customer archive (projects, units, owners), incidents and the
//! service directory (contractors, engineers): reads and commands.

use domain::archive::{
    ArchiveCommand, Owner, OwnerCommand, OwnerDecider, OwnerState, Project, ProjectCommand, ProjectDecider,
    ProjectState, Unit, UnitCommand, UnitDecider, UnitState,
};
use domain::decider::Decider;
use domain::directory::{
    Contractor, ContractorCommand, ContractorDecider, ContractorState, Engineer, EngineerCommand, EngineerDecider,
    EngineerState,
};
use domain::error::DomainError;
use domain::ids::{ContractorId, IncidentId, OwnerId, ProjectId, TicketId, UnitId, UserId};
use domain::incident::{Incident, IncidentCommand, IncidentDecider, IncidentState};
use eventlog::Position;

use super::{
    contractor_event, engineer_event, incident_event, owner_event, project_event, stream, unit_event, Acting, Service,
};
use crate::error::AppError;

impl Service {
    /// A project as its stream folds.
    pub fn project(&self, id: &ProjectId) -> Result<ProjectState, AppError> {
        self.folded::<ProjectDecider, _>(&self.project_folds, &stream(id)?, project_event)
    }

    /// A unit as its stream folds.
    pub fn unit(&self, id: &UnitId) -> Result<UnitState, AppError> {
        self.folded::<UnitDecider, _>(&self.unit_folds, &stream(id)?, unit_event)
    }

    /// An owner as their stream folds.
    pub fn owner(&self, id: &OwnerId) -> Result<OwnerState, AppError> {
        let (_, events) = self.history(&stream(id)?, owner_event)?;
        Ok(OwnerDecider::fold(&events))
    }

    /// An incident as its stream folds.
    pub fn incident(&self, id: &IncidentId) -> Result<IncidentState, AppError> {
        let (_, events) = self.history(&stream(id)?, incident_event)?;
        Ok(IncidentDecider::fold(&events))
    }

    /// Refuses an incident that does not exist or is closed.
    pub fn require_incident(&self, id: &IncidentId) -> Result<(), AppError> {
        match self.incident(id)?.0 {
            None => Err(DomainError::NotFound {
                what: format!("incident {id}"),
            }
            .into()),
            Some(i) if i.closed_at.is_some() => Err(DomainError::InvalidTransition {
                action: "link a ticket to the incident",
                subject: format!("incident {id}"),
                status: "closed".into(),
                reason: String::new(),
            }
            .into()),
            Some(_) => Ok(()),
        }
    }

    /// Registers a project or one of its buildings.
    pub async fn project_command(
        &self,
        id: &ProjectId,
        command: ProjectCommand,
        acting: Acting,
    ) -> Result<(Project, Position), AppError> {
        // The role, before anything else.
        domain::archive::authorize(&acting.actor, &ArchiveCommand::Project(&command))?;
        let creates = matches!(command, ProjectCommand::Register { .. });
        let request = format!("{command:?}\u{0}{:?}", acting.occurred_at);
        let position = self
            .execute(
                &format!("project {id}"),
                creates,
                &stream(id)?,
                &acting,
                &request,
                project_event,
                |_| Ok(()),
                |history| {
                    self.check_reference_choice(&command)?;
                    Ok(ProjectDecider::decide(
                        &ProjectDecider::fold(history),
                        command,
                        &self.context(&acting, ()),
                    )?)
                },
            )
            .await?;
        self.settle(position).await?;
        let project = self
            .project(id)?
            .0
            .ok_or_else(|| AppError::internal("project missing after its write"))?;
        Ok((project, position))
    }

    /// Registers a unit or records its delivery; the unit's project must
    /// exist (and know its building).
    pub async fn unit_command(
        &self,
        id: &UnitId,
        command: UnitCommand,
        acting: Acting,
    ) -> Result<(Unit, Position), AppError> {
        // The role, before anything else.
        domain::archive::authorize(&acting.actor, &ArchiveCommand::Unit(&command))?;
        let project_id = match &command {
            UnitCommand::Register { project, .. } => Some(project.clone()),
            _ => self.unit(id)?.0.map(|u| u.project),
        };
        let project = match project_id {
            Some(p) => self.project(&p)?.0,
            None => None,
        };
        let creates = matches!(command, UnitCommand::Register { .. });
        let request = format!("{command:?}\u{0}{:?}", acting.occurred_at);
        let position = self
            .execute(
                &format!("unit {id}"),
                creates,
                &stream(id)?,
                &acting,
                &request,
                unit_event,
                |_| Ok(()),
                |history| {
                    Ok(UnitDecider::decide(
                        &UnitDecider::fold(history),
                        command,
                        &self.context(&acting, project.as_ref()),
                    )?)
                },
            )
            .await?;
        self.settle(position).await?;
        let unit = self
            .unit(id)?
            .0
            .ok_or_else(|| AppError::internal("unit missing after its write"))?;
        Ok((unit, position))
    }

    /// Registers an owner, links them to a unit, changes their contact.
    pub async fn owner_command(
        &self,
        id: &OwnerId,
        command: OwnerCommand,
        acting: Acting,
    ) -> Result<(Owner, Position), AppError> {
        // The role and an owner's own record, before anything else.
        domain::archive::authorize(&acting.actor, &ArchiveCommand::Owner(id, &command))?;
        let unit = match &command {
            OwnerCommand::LinkUnit { unit, .. } | OwnerCommand::ChangeStage { unit, .. } => self.unit(unit)?.0,
            _ => None,
        };
        let creates = matches!(command, OwnerCommand::Register { .. });
        let request = format!("{command:?}\u{0}{:?}", acting.occurred_at);
        let position = self
            .execute(
                &format!("owner {id}"),
                creates,
                &stream(id)?,
                &acting,
                &request,
                owner_event,
                |_| Ok(()),
                |history| {
                    Ok(OwnerDecider::decide(
                        &OwnerDecider::fold(history),
                        command,
                        &self.context(&acting, unit.as_ref()),
                    )?)
                },
            )
            .await?;
        self.settle(position).await?;
        let owner = self
            .owner(id)?
            .0
            .ok_or_else(|| AppError::internal("owner missing after its write"))?;
        Ok((owner, position))
    }

    /// A contractor company as its stream folds.
    pub fn contractor(&self, id: &ContractorId) -> Result<ContractorState, AppError> {
        let (_, events) = self.history(&stream(id)?, contractor_event)?;
        Ok(ContractorDecider::fold(&events))
    }

    /// An engineer as their stream folds.
    pub fn engineer(&self, id: &UserId) -> Result<EngineerState, AppError> {
        let (_, events) = self.history(&stream(id)?, engineer_event)?;
        Ok(EngineerDecider::fold(&events))
    }

    /// Registers a contractor company in the service directory.
    pub async fn contractor_command(
        &self,
        id: &ContractorId,
        command: ContractorCommand,
        acting: Acting,
    ) -> Result<(Contractor, Position), AppError> {
        domain::directory::authorize(&acting.actor, "register the contractor")?;
        let request = format!("{command:?}\u{0}{:?}", acting.occurred_at);
        let position = self
            .execute(
                &format!("contractor {id}"),
                true,
                &stream(id)?,
                &acting,
                &request,
                contractor_event,
                |_| Ok(()),
                |history| {
                    Ok(ContractorDecider::decide(
                        &ContractorDecider::fold(history),
                        command,
                        &self.context(&acting, ()),
                    )?)
                },
            )
            .await?;
        self.settle(position).await?;
        let contractor = self
            .contractor(id)?
            .0
            .ok_or_else(|| AppError::internal("contractor missing after its write"))?;
        Ok((contractor, position))
    }

    /// Registers an engineer in the service directory.
    pub async fn engineer_command(
        &self,
        id: &UserId,
        command: EngineerCommand,
        acting: Acting,
    ) -> Result<(Engineer, Position), AppError> {
        domain::directory::authorize(&acting.actor, "register the engineer")?;
        let request = format!("{command:?}\u{0}{:?}", acting.occurred_at);
        let position = self
            .execute(
                &format!("engineer {id}"),
                true,
                &stream(id)?,
                &acting,
                &request,
                engineer_event,
                |_| Ok(()),
                |history| {
                    Ok(EngineerDecider::decide(
                        &EngineerDecider::fold(history),
                        command,
                        &self.context(&acting, ()),
                    )?)
                },
            )
            .await?;
        self.settle(position).await?;
        let engineer = self
            .engineer(id)?
            .0
            .ok_or_else(|| AppError::internal("engineer missing after its write"))?;
        Ok((engineer, position))
    }

    /// Opens, updates or closes an incident.
    pub async fn incident_command(
        &self,
        id: &IncidentId,
        command: IncidentCommand,
        acting: Acting,
    ) -> Result<(Incident, Position), AppError> {
        let creates = matches!(command, IncidentCommand::Open { .. });
        let request = format!("{command:?}\u{0}{:?}", acting.occurred_at);
        domain::incident::authorize(&acting.actor, &command)?;
        match &command {
            IncidentCommand::Open { project, .. } => acting.require_project(project)?,
            _ => {
                if let Some(i) = self.incident(id)?.0 {
                    acting.require_project(&i.project)?;
                }
            }
        }
        let position = self
            .execute(
                &format!("incident {id}"),
                creates,
                &stream(id)?,
                &acting,
                &request,
                incident_event,
                |_| Ok(()),
                |history| {
                    Ok(IncidentDecider::decide(
                        &IncidentDecider::fold(history),
                        command,
                        &self.context(&acting, ()),
                    )?)
                },
            )
            .await?;
        self.settle(position).await?;
        let incident = self
            .incident(id)?
            .0
            .ok_or_else(|| AppError::internal("incident missing after its write"))?;
        Ok((incident, position))
    }

    /// Records on the incident that `ticket` belongs to it, unless it
    /// already does (so that a retry completes a half-done link).
    pub async fn link_on_incident(&self, id: &IncidentId, ticket: &TicketId, acting: &Acting) -> Result<(), AppError> {
        if self.incident(id)?.0.is_some_and(|i| i.tickets.contains(ticket)) {
            return Ok(());
        }
        // The link is idempotent by itself (a link already there is
        // skipped); the caller's key names the ticket's change, not this.
        let acting = Acting {
            expected_version: None,
            occurred_at: None,
            idempotency_key: None,
            ..acting.clone()
        };
        // The ticket's own scope was checked when it was linked.
        self.incident_command(id, IncidentCommand::LinkTicket { ticket: ticket.clone() }, acting)
            .await?;
        Ok(())
    }
}
