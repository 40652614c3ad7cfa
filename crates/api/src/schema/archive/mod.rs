//! The customer archive (projects, buildings, units, owners) and incidents:
//! mutations, each taking one `input`, and their output objects.
//!
//! - `inputs.rs`: each mutation's `input`;
//! - `outputs.rs`: the archive's, directory's and incidents' objects and
//!   the mutations' payloads.

use async_graphql::{Context, Object, Result};
use domain::archive::{OwnerCommand, ProjectCommand, UnitCommand};
use domain::ids::{BuildingId, ContractorId, IncidentId, OwnerId, ProjectId, UnitId, UserId};
use domain::incident::{self as inc, IncidentCommand};
use domain::personal::{IdNumber, PersonName, Personal, PhoneNumber};
use domain::ticket::Channel as DomainChannel;

use super::{actor, service};
use crate::error::AppError;
use application::service::Acting;

mod inputs;
mod outputs;

pub use inputs::*;
pub use outputs::*;

fn acting(ctx: &Context<'_>, on: RecordAction) -> Result<Acting> {
    Ok(Acting {
        projects: super::principal(ctx)?.projects.clone(),
        actor: actor(ctx)?,
        channel: DomainChannel::BackOffice,
        occurred_at: on.occurred_at,
        expected_version: on.expected_version,
        idempotency_key: on.idempotency_key,
        shared_key: false,
    })
}

fn project_id(s: &str) -> Result<ProjectId, AppError> {
    Ok(ProjectId::new(s)?)
}

fn unit_id(s: &str) -> Result<UnitId, AppError> {
    Ok(UnitId::new(s)?)
}

fn owner_id(s: &str) -> Result<OwnerId, AppError> {
    Ok(OwnerId::new(s)?)
}

fn incident_id(s: &str) -> Result<IncidentId, AppError> {
    Ok(IncidentId::new(s)?)
}

/// Archive and incident mutations.
#[derive(Default)]
pub struct ArchiveMutations;

#[Object]
impl ArchiveMutations {
    /// Registers a project.
    async fn register_project(
        &self,
        ctx: &Context<'_>,
        #[graphql(
            desc = "The record, the command's own fields, and the optional `occurredAt`, `expectedVersion` and `idempotencyKey`."
        )]
        input: RegisterProjectInput,
    ) -> Result<ProjectPayload> {
        let id = project_id(&input.project_id)?;
        let command = ProjectCommand::Register {
            project: id.clone(),
            name: input.name,
            city: input.city,
            calendar: input.calendar,
        };
        let (project, position) = service(ctx)?
            .project_command(&id, command, acting(ctx, input.on)?)
            .await?;
        Ok(ProjectPayload {
            project: project.into(),
            position,
        })
    }

    /// Registers a contractor company, so that tickets may be dispatched
    /// to it.
    async fn register_contractor(
        &self,
        ctx: &Context<'_>,
        #[graphql(
            desc = "The record, the command's own fields, and the optional `occurredAt`, `expectedVersion` and `idempotencyKey`."
        )]
        input: RegisterContractorInput,
    ) -> Result<ContractorPayload> {
        let id = ContractorId::new(input.contractor_id).map_err(AppError::from)?;
        let command = domain::directory::ContractorCommand::Register {
            contractor: id.clone(),
            name: input.name,
            trades: input.trades.into_iter().map(Into::into).collect(),
        };
        let (contractor, position) = service(ctx)?
            .contractor_command(&id, command, acting(ctx, input.on)?)
            .await?;
        Ok(ContractorPayload {
            contractor: contractor.into(),
            position,
        })
    }

    /// Registers an in-house engineer, so that tickets may be dispatched
    /// to them.
    async fn register_engineer(
        &self,
        ctx: &Context<'_>,
        #[graphql(
            desc = "The record, the command's own fields, and the optional `occurredAt`, `expectedVersion` and `idempotencyKey`."
        )]
        input: RegisterEngineerInput,
    ) -> Result<EngineerPayload> {
        let id = UserId::new(input.engineer_id).map_err(AppError::from)?;
        let command = domain::directory::EngineerCommand::Register {
            engineer: id.clone(),
            name: input.name,
        };
        let (engineer, position) = service(ctx)?
            .engineer_command(&id, command, acting(ctx, input.on)?)
            .await?;
        Ok(EngineerPayload {
            engineer: engineer.into(),
            position,
        })
    }

    /// Chooses a project's business calendar, service policy or warranty
    /// rules (admin), from a day on: tickets received on or after it use
    /// the newest published version of each; tickets received before keep
    /// theirs. The ids must be published.
    async fn choose_project_reference_data(
        &self,
        ctx: &Context<'_>,
        #[graphql(
            desc = "The project, what it chooses from which day and why, and the optional `occurredAt`, `expectedVersion` and `idempotencyKey`."
        )]
        input: ChooseProjectReferenceDataInput,
    ) -> Result<ProjectPayload> {
        let id = project_id(&input.project_id)?;
        let command = ProjectCommand::ChooseReferenceData {
            calendar: input.calendar_id,
            policy: input.policy_id,
            warranty: input.warranty_id,
            effective_from: input.effective_from,
            reason: input.reason,
        };
        let (project, position) = service(ctx)?
            .project_command(&id, command, acting(ctx, input.on)?)
            .await?;
        Ok(ProjectPayload {
            project: project.into(),
            position,
        })
    }

    /// Registers a building of a project.
    async fn register_building(
        &self,
        ctx: &Context<'_>,
        #[graphql(
            desc = "The record, the command's own fields, and the optional `occurredAt`, `expectedVersion` and `idempotencyKey`."
        )]
        input: RegisterBuildingInput,
    ) -> Result<ProjectPayload> {
        let id = project_id(&input.project_id)?;
        let command = ProjectCommand::RegisterBuilding {
            building: BuildingId::new(input.building_id).map_err(AppError::from)?,
            name: input.name,
        };
        let (project, position) = service(ctx)?
            .project_command(&id, command, acting(ctx, input.on)?)
            .await?;
        Ok(ProjectPayload {
            project: project.into(),
            position,
        })
    }

    /// Registers a unit in a building of a project.
    async fn register_unit(
        &self,
        ctx: &Context<'_>,
        #[graphql(
            desc = "The record, the command's own fields, and the optional `occurredAt`, `expectedVersion` and `idempotencyKey`."
        )]
        input: RegisterUnitInput,
    ) -> Result<UnitPayload> {
        let id = unit_id(&input.unit_id)?;
        let command = UnitCommand::Register {
            unit: id.clone(),
            project: project_id(&input.project_id)?,
            building: BuildingId::new(input.building_id).map_err(AppError::from)?,
            number: input.number,
        };
        unit_payload(ctx, &id, command, input.on).await
    }

    /// Records the delivery date of a unit (交付).
    async fn record_delivery(
        &self,
        ctx: &Context<'_>,
        #[graphql(
            desc = "The record, the command's own fields, and the optional `occurredAt`, `expectedVersion` and `idempotencyKey`."
        )]
        input: RecordDeliveryInput,
    ) -> Result<UnitPayload> {
        let id = unit_id(&input.unit_id)?;
        let command = UnitCommand::RecordDelivery {
            delivered_on: input.delivered_on,
        };
        unit_payload(ctx, &id, command, input.on).await
    }

    /// Corrects a wrongly recorded delivery date.
    async fn correct_delivery(
        &self,
        ctx: &Context<'_>,
        #[graphql(
            desc = "The record, the command's own fields, and the optional `occurredAt`, `expectedVersion` and `idempotencyKey`."
        )]
        input: CorrectDeliveryInput,
    ) -> Result<UnitPayload> {
        let id = unit_id(&input.unit_id)?;
        let command = UnitCommand::CorrectDelivery {
            delivered_on: input.delivered_on,
            reason: input.reason,
        };
        unit_payload(ctx, &id, command, input.on).await
    }

    /// Registers an owner.
    async fn register_owner(
        &self,
        ctx: &Context<'_>,
        #[graphql(
            desc = "The record, the command's own fields, and the optional `occurredAt`, `expectedVersion` and `idempotencyKey`."
        )]
        input: RegisterOwnerInput,
    ) -> Result<OwnerPayload> {
        let id = owner_id(&input.owner_id)?;
        let command = OwnerCommand::Register {
            owner: id.clone(),
            name: Personal::new(
                PersonName::new(input.family_name.as_str(), input.given_name.as_str()).map_err(AppError::from)?,
            ),
            phone: Personal::new(PhoneNumber::new(&input.phone).map_err(AppError::from)?),
            id_number: input
                .id_number
                .as_deref()
                .map(|n| IdNumber::new(n).map(Personal::new))
                .transpose()
                .map_err(AppError::from)?,
        };
        owner_payload(ctx, &id, command, input.on).await
    }

    /// Links an owner to a unit they bought.
    async fn link_owner_to_unit(
        &self,
        ctx: &Context<'_>,
        #[graphql(
            desc = "The record, the command's own fields, and the optional `occurredAt`, `expectedVersion` and `idempotencyKey`."
        )]
        input: LinkOwnerToUnitInput,
    ) -> Result<OwnerPayload> {
        let id = owner_id(&input.owner_id)?;
        let command = OwnerCommand::LinkUnit {
            unit: unit_id(&input.unit_id)?,
            contract_signed_on: input.contract_signed_on,
            stage: input.stage.into(),
        };
        owner_payload(ctx, &id, command, input.on).await
    }

    /// Changes an owner's phone.
    async fn change_owner_contact(
        &self,
        ctx: &Context<'_>,
        #[graphql(
            desc = "The record, the command's own fields, and the optional `occurredAt`, `expectedVersion` and `idempotencyKey`."
        )]
        input: ChangeOwnerContactInput,
    ) -> Result<OwnerPayload> {
        let id = owner_id(&input.owner_id)?;
        let command = OwnerCommand::ChangeContact {
            phone: Personal::new(PhoneNumber::new(&input.phone).map_err(AppError::from)?),
        };
        owner_payload(ctx, &id, command, input.on).await
    }

    /// Moves an owner's unit to another touchpoint stage.
    async fn change_touchpoint_stage(
        &self,
        ctx: &Context<'_>,
        #[graphql(
            desc = "The record, the command's own fields, and the optional `occurredAt`, `expectedVersion` and `idempotencyKey`."
        )]
        input: ChangeTouchpointStageInput,
    ) -> Result<OwnerPayload> {
        let id = owner_id(&input.owner_id)?;
        let command = OwnerCommand::ChangeStage {
            unit: unit_id(&input.unit_id)?,
            stage: input.stage.into(),
        };
        owner_payload(ctx, &id, command, input.on).await
    }

    /// Opens an incident (a major complaint or a batch defect).
    async fn open_incident(
        &self,
        ctx: &Context<'_>,
        #[graphql(
            desc = "The record, the command's own fields, and the optional `occurredAt`, `expectedVersion` and `idempotencyKey`."
        )]
        input: OpenIncidentInput,
    ) -> Result<IncidentPayload> {
        let caller = actor(ctx)?;
        let id = match &input.incident_id {
            Some(id) => incident_id(id)?,
            // From the key and the caller: another caller's identical key
            // opens an incident of its own.
            None => incident_id(&application::service::new_record_number(
                "I",
                input.on.idempotency_key.as_deref(),
                &caller,
            ))?,
        };
        let project = project_id(&input.project_id)?;
        let command = IncidentCommand::Open {
            incident: id.clone(),
            project: project.clone(),
            title: input.title,
            level: input.level.into(),
            description: input.description,
        };
        // The caller's right first: nothing about the project is looked at
        // before it.
        inc::authorize(&caller, &command).map_err(AppError::from)?;
        application::access::require_project(super::principal(ctx)?, &project)?;
        if service(ctx)?.project(&project)?.0.is_none() {
            return Err(AppError::Domain(domain::error::DomainError::NotFound {
                what: format!("project {project}"),
            })
            .into());
        }
        incident_payload(ctx, &id, command, input.on).await
    }

    /// A status update on an incident.
    async fn update_incident(
        &self,
        ctx: &Context<'_>,
        #[graphql(
            desc = "The record, the command's own fields, and the optional `occurredAt`, `expectedVersion` and `idempotencyKey`."
        )]
        input: UpdateIncidentInput,
    ) -> Result<IncidentPayload> {
        let id = incident_id(&input.incident_id)?;
        incident_payload(ctx, &id, IncidentCommand::UpdateStatus { note: input.note }, input.on).await
    }

    /// Closes an incident with its outcome.
    async fn close_incident(
        &self,
        ctx: &Context<'_>,
        #[graphql(
            desc = "The record, the command's own fields, and the optional `occurredAt`, `expectedVersion` and `idempotencyKey`."
        )]
        input: CloseIncidentInput,
    ) -> Result<IncidentPayload> {
        let id = incident_id(&input.incident_id)?;
        let command = IncidentCommand::Close { summary: input.summary };
        incident_payload(ctx, &id, command, input.on).await
    }
}

async fn unit_payload(ctx: &Context<'_>, id: &UnitId, command: UnitCommand, on: RecordAction) -> Result<UnitPayload> {
    let (unit, position) = service(ctx)?.unit_command(id, command, acting(ctx, on)?).await?;
    Ok(UnitPayload {
        unit: unit.into(),
        position,
    })
}

async fn owner_payload(
    ctx: &Context<'_>,
    id: &OwnerId,
    command: OwnerCommand,
    on: RecordAction,
) -> Result<OwnerPayload> {
    let (owner, position) = service(ctx)?.owner_command(id, command, acting(ctx, on)?).await?;
    let personal = application::access::sees_personal(super::principal(ctx)?);
    Ok(OwnerPayload {
        owner: OwnerOut::new(service(ctx)?.keyring(), owner, personal)?,
        position,
    })
}

async fn incident_payload(
    ctx: &Context<'_>,
    id: &IncidentId,
    command: IncidentCommand,
    on: RecordAction,
) -> Result<IncidentPayload> {
    let (incident, position) = service(ctx)?.incident_command(id, command, acting(ctx, on)?).await?;
    Ok(IncidentPayload {
        incident: incident.into(),
        position,
    })
}
