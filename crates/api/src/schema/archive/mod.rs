//! The customer archive (projects, buildings, units, owners) and incidents:
//! mutations, each taking one `input`, and their output objects.

use async_graphql::{Context, InputObject, Object, Result, SimpleObject};
use chrono::{DateTime, NaiveDate, Utc};
use domain::archive::{self as a, OwnerCommand, ProjectCommand, UnitCommand};
use domain::ids::{BuildingId, ContractorId, IncidentId, OwnerId, ProjectId, UnitId, UserId};
use domain::incident::{self as inc, IncidentCommand};
use domain::personal::{IdNumber, PersonName, Personal, PhoneNumber};
use domain::ticket::Channel as DomainChannel;

use super::types::{EscalationLevel, TouchpointStage};
use super::{actor, service};
use crate::error::AppError;
use application::service::Acting;

/// How an archive or incident change is recorded.
#[derive(InputObject, Default)]
pub struct RecordAction {
    /// When it really happened; never in the future.
    pub occurred_at: Option<DateTime<Utc>>,
    /// The record's version last seen: a stale one gets `CONFLICT`.
    pub expected_version: Option<u64>,
    /// Makes a retry safe: the same key returns the first result.
    pub idempotency_key: Option<String>,
}

macro_rules! record_input {
    ($(#[$m:meta])* $name:ident { $($(#[$fm:meta])* $f:ident : $ty:ty),* $(,)? }) => {
        $(#[$m])*
        #[derive(InputObject)]
        pub struct $name {
            $($(#[$fm])* pub $f: $ty,)*
            /// When, on which version, with which idempotency key.
            #[graphql(flatten)]
            pub on: RecordAction,
        }
    };
}

record_input!(
    /// `registerProject`.
    RegisterProjectInput {
        /// Project code.
        project_id: String,
        /// Name.
        name: String,
        /// City.
        city: String,
        /// Business calendar its clocks run on.
        #[graphql(default_with = "\"cn-mainland\".to_string()")]
        calendar: String,
    }
);
record_input!(
    /// `registerContractor`.
    RegisterContractorInput {
        /// Company code (what dispatches and contractor tokens name).
        contractor_id: String,
        /// Company name.
        name: String,
        /// The trades it works in (empty: any).
        #[graphql(default)]
        trades: Vec<super::types::Trade>,
    }
);
record_input!(
    /// `registerEngineer`.
    RegisterEngineerInput {
        /// The engineer's user id (what their token names).
        engineer_id: String,
        /// Their work name.
        name: String,
    }
);
record_input!(
    /// `registerBuilding`.
    RegisterBuildingInput {
        /// The project.
        project_id: String,
        /// Building code.
        building_id: String,
        /// Name ("3号楼").
        name: String,
    }
);
record_input!(
    /// `chooseProjectReferenceData`.
    ChooseProjectReferenceDataInput {
        /// The project.
        project_id: String,
        /// A business calendar id (a city's local arrangements); left out:
        /// unchanged.
        calendar_id: Option<String>,
        /// A service policy id; left out: unchanged.
        policy_id: Option<String>,
        /// A warranty rules id; left out: unchanged.
        warranty_id: Option<String>,
        /// The first day (in the calendar's zone) a ticket received uses
        /// it.
        effective_from: NaiveDate,
        /// Why (the city company's decision, a contract).
        reason: String,
    }
);
record_input!(
    /// `registerUnit`.
    RegisterUnitInput {
        /// Unit code.
        unit_id: String,
        /// The project.
        project_id: String,
        /// The building (registered in the project).
        building_id: String,
        /// Room number ("1502").
        number: String,
    }
);
record_input!(
    /// `recordDelivery`.
    RecordDeliveryInput {
        /// The unit.
        unit_id: String,
        /// Delivery date (交付日期): warranty periods count from it.
        delivered_on: NaiveDate,
    }
);
record_input!(
    /// `correctDelivery`.
    CorrectDeliveryInput {
        /// The unit.
        unit_id: String,
        /// The right delivery date.
        delivered_on: NaiveDate,
        /// Why the recorded one was wrong.
        reason: String,
    }
);
record_input!(
    /// `registerOwner`.
    RegisterOwnerInput {
        /// Owner code.
        owner_id: String,
        /// Family name (姓).
        family_name: String,
        /// Given name (名).
        #[graphql(default)]
        given_name: String,
        /// Phone.
        phone: String,
        /// Resident identity card number.
        id_number: Option<String>,
    }
);
record_input!(
    /// `linkOwnerToUnit`.
    LinkOwnerToUnitInput {
        /// The owner.
        owner_id: String,
        /// The unit.
        unit_id: String,
        /// Contract signing date.
        contract_signed_on: NaiveDate,
        /// Touchpoint stage.
        stage: TouchpointStage,
    }
);
record_input!(
    /// `changeOwnerContact`.
    ChangeOwnerContactInput {
        /// The owner.
        owner_id: String,
        /// The new phone.
        phone: String,
    }
);
record_input!(
    /// `changeTouchpointStage`.
    ChangeTouchpointStageInput {
        /// The owner.
        owner_id: String,
        /// The unit.
        unit_id: String,
        /// The new stage.
        stage: TouchpointStage,
    }
);
record_input!(
    /// `openIncident`.
    OpenIncidentInput {
        /// Incident code; generated when absent.
        incident_id: Option<String>,
        /// The project.
        project_id: String,
        /// Short title.
        title: String,
        /// Level it is handled at.
        level: EscalationLevel,
        /// What is known.
        description: String,
    }
);
record_input!(
    /// `updateIncident`.
    UpdateIncidentInput {
        /// The incident.
        incident_id: String,
        /// What was done, what is next.
        note: String,
    }
);
record_input!(
    /// `closeIncident`.
    CloseIncidentInput {
        /// The incident.
        incident_id: String,
        /// Outcome and corrective and preventive actions.
        summary: String,
    }
);

/// A building of a project.
#[derive(SimpleObject)]
#[graphql(name = "Building")]
pub struct BuildingOut {
    /// Code.
    pub id: String,
    /// Name.
    pub name: String,
}

/// A project.
#[derive(SimpleObject)]
#[graphql(name = "Project")]
pub struct ProjectOut {
    /// Code.
    pub id: String,
    /// Name.
    pub name: String,
    /// City.
    pub city: String,
    /// Business calendar chosen at registration.
    pub calendar: String,
    /// Buildings.
    pub buildings: Vec<BuildingOut>,
    /// The calendar, policy and warranty rules chosen since, in the order
    /// recorded (`projectReferenceData` says what is in force on a day).
    pub reference_choices: Vec<ReferenceChoiceOut>,
}

/// A project's choice of calendar, policy or warranty rules, from a day on.
#[derive(SimpleObject)]
pub struct ReferenceChoiceOut {
    /// The business calendar chosen, if any.
    pub calendar_id: Option<String>,
    /// The service policy chosen, if any.
    pub policy_id: Option<String>,
    /// The warranty rules chosen, if any.
    pub warranty_id: Option<String>,
    /// The first day it applies to.
    pub effective_from: NaiveDate,
    /// Why.
    pub reason: String,
    /// When it was recorded.
    pub recorded_at: DateTime<Utc>,
}

impl From<a::Project> for ProjectOut {
    fn from(p: a::Project) -> Self {
        Self {
            id: p.id.to_string(),
            name: p.name,
            city: p.city,
            calendar: p.calendar,
            reference_choices: p
                .choices
                .into_iter()
                .map(|c| ReferenceChoiceOut {
                    calendar_id: c.calendar,
                    policy_id: c.policy,
                    warranty_id: c.warranty,
                    effective_from: c.effective_from,
                    reason: c.reason,
                    recorded_at: c.recorded_at,
                })
                .collect(),
            buildings: p
                .buildings
                .into_iter()
                .map(|(id, name)| BuildingOut {
                    id: id.to_string(),
                    name,
                })
                .collect(),
        }
    }
}

/// A unit (房号).
#[derive(SimpleObject)]
#[graphql(name = "Unit")]
pub struct UnitOut {
    /// Code.
    pub id: String,
    /// Project.
    pub project_id: String,
    /// Building.
    pub building_id: String,
    /// Room number.
    pub number: String,
    /// Delivery date, once delivered.
    pub delivered_on: Option<NaiveDate>,
}

impl From<a::Unit> for UnitOut {
    fn from(u: a::Unit) -> Self {
        Self {
            id: u.id.to_string(),
            project_id: u.project.to_string(),
            building_id: u.building.to_string(),
            number: u.number,
            delivered_on: u.delivered_on,
        }
    }
}

/// One of an owner's units.
#[derive(SimpleObject)]
#[graphql(name = "OwnedUnit")]
pub struct OwnedUnitOut {
    /// The unit.
    pub unit_id: String,
    /// Its project.
    pub project_id: String,
    /// Contract signing date.
    pub contract_signed_on: NaiveDate,
    /// Touchpoint stage.
    pub stage: TouchpointStage,
}

/// An owner. Personal fields are masked for analysts and auditors.
#[derive(SimpleObject)]
#[graphql(name = "Owner")]
pub struct OwnerOut {
    /// Code.
    pub id: String,
    /// Name (masked as 王** for analysts and auditors).
    pub name: String,
    /// Phone (masked as 138****5678 for analysts and auditors).
    pub phone: String,
    /// Identity card number (masked for analysts and auditors).
    pub id_number: Option<String>,
    /// Units owned.
    pub units: Vec<OwnedUnitOut>,
    /// When the owner's personal data was erased at their request (name,
    /// phone and ID number then read `[erased]`), if it was.
    pub erased_at: Option<DateTime<Utc>>,
}

impl OwnerOut {
    /// The owner, with personal fields in full or masked (opened with
    /// `ring`; erased or damaged ones as their markers).
    pub fn new(ring: &keyring::Keyring, o: a::Owner, personal: bool) -> Result<Self, AppError> {
        Ok(Self {
            id: o.id.to_string(),
            name: super::types::shown(ring, &o.name, personal, |n| n.full())?,
            phone: super::types::shown(ring, &o.phone, personal, |p| p.as_str().to_string())?,
            id_number: o
                .id_number
                .as_ref()
                .map(|i| super::types::shown(ring, i, personal, |i| i.as_str().to_string()))
                .transpose()?,
            erased_at: o.erased_at,
            units: o
                .units
                .into_iter()
                .map(|(id, u)| OwnedUnitOut {
                    unit_id: id.to_string(),
                    project_id: u.project.to_string(),
                    contract_signed_on: u.contract_signed_on,
                    stage: u.stage.into(),
                })
                .collect(),
        })
    }
}

/// A major complaint or batch defect handled as one (重大投诉 / 批量缺陷).
#[derive(SimpleObject)]
#[graphql(name = "Incident")]
pub struct IncidentOut {
    /// Code.
    pub id: String,
    /// Project.
    pub project_id: String,
    /// Title.
    pub title: String,
    /// Level.
    pub level: EscalationLevel,
    /// Linked tickets.
    pub ticket_ids: Vec<String>,
    /// Status updates so far.
    pub updates: u32,
    /// What was known when it was opened.
    pub description: String,
    /// The status updates, oldest first.
    pub status_updates: Vec<IncidentUpdate>,
    /// The outcome and the corrective and preventive actions (纠正及预防措施),
    /// once closed.
    pub closing_summary: Option<String>,
    /// When opened.
    pub opened_at: DateTime<Utc>,
    /// When closed.
    pub closed_at: Option<DateTime<Utc>>,
}

/// A status update of an incident: what was done and what is next.
#[derive(SimpleObject)]
pub struct IncidentUpdate {
    /// When.
    pub at: DateTime<Utc>,
    /// The update.
    pub note: String,
}

impl From<inc::Incident> for IncidentOut {
    fn from(i: inc::Incident) -> Self {
        Self {
            id: i.id.to_string(),
            project_id: i.project.to_string(),
            title: i.title,
            level: i.level.into(),
            ticket_ids: i.tickets.iter().map(|t| t.to_string()).collect(),
            updates: i.updates,
            description: i.description,
            status_updates: i
                .notes
                .into_iter()
                .map(|(at, note)| IncidentUpdate { at, note })
                .collect(),
            closing_summary: i.summary,
            opened_at: i.opened_at,
            closed_at: i.closed_at,
        }
    }
}

/// What `registerProject` and `registerBuilding` return.
#[derive(SimpleObject)]
pub struct ProjectPayload {
    /// The project as it now is.
    pub project: ProjectOut,
    /// Log position of the change.
    pub position: u64,
}

/// A contractor company of the service directory.
#[derive(SimpleObject)]
#[graphql(name = "Contractor")]
pub struct ContractorOut {
    /// Company code.
    pub id: String,
    /// Company name.
    pub name: String,
    /// Its trades (empty: any).
    pub trades: Vec<super::types::Trade>,
}

impl From<domain::directory::Contractor> for ContractorOut {
    fn from(c: domain::directory::Contractor) -> Self {
        Self {
            id: c.id.to_string(),
            name: c.name,
            trades: c.trades.into_iter().map(Into::into).collect(),
        }
    }
}

/// An engineer of the service directory.
#[derive(SimpleObject)]
#[graphql(name = "Engineer")]
pub struct EngineerOut {
    /// User id.
    pub id: String,
    /// Work name.
    pub name: String,
}

impl From<domain::directory::Engineer> for EngineerOut {
    fn from(e: domain::directory::Engineer) -> Self {
        Self {
            id: e.id.to_string(),
            name: e.name,
        }
    }
}

/// What `registerContractor` returns.
#[derive(SimpleObject)]
pub struct ContractorPayload {
    /// The company.
    pub contractor: ContractorOut,
    /// Log position of the change.
    pub position: u64,
}

/// What `registerEngineer` returns.
#[derive(SimpleObject)]
pub struct EngineerPayload {
    /// The engineer.
    pub engineer: EngineerOut,
    /// Log position of the change.
    pub position: u64,
}

/// What the unit mutations return.
#[derive(SimpleObject)]
pub struct UnitPayload {
    /// The unit as it now is.
    pub unit: UnitOut,
    /// Log position of the change.
    pub position: u64,
}

/// What the owner mutations return.
#[derive(SimpleObject)]
pub struct OwnerPayload {
    /// The owner as they now are.
    pub owner: OwnerOut,
    /// Log position of the change.
    pub position: u64,
}

/// What the incident mutations return.
#[derive(SimpleObject)]
pub struct IncidentPayload {
    /// The incident as it now is.
    pub incident: IncidentOut,
    /// Log position of the change.
    pub position: u64,
}

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
