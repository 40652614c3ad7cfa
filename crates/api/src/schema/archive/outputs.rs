//! The output objects of the archive, the service directory and the
//! incidents, and what their mutations return.

use async_graphql::{Result, SimpleObject};
use chrono::{DateTime, NaiveDate, Utc};
use domain::archive as a;
use domain::incident as inc;

use crate::error::AppError;
use crate::schema::types::{EscalationLevel, TouchpointStage};

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
#[graphql(name = "Unit", complex)]
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

#[async_graphql::ComplexObject]
impl UnitOut {
    /// The owners linked to the unit (personal fields masked as in
    /// `owner`); refused to roles that may not read owners. Cost: 20 +
    /// the selection.
    #[graphql(complexity = "crate::cost::record(child_complexity)")]
    async fn owners(&self, ctx: &async_graphql::Context<'_>) -> Result<Vec<OwnerOut>> {
        let caller = crate::schema::principal(ctx)?;
        application::access::require(caller, application::access::Read::Owners)?;
        let service = crate::schema::service(ctx)?;
        let unit = domain::ids::UnitId::new(&self.id).map_err(AppError::from)?;
        let mut out = Vec::new();
        for link in service.unit_owners(&unit)? {
            if let Some(o) = service.owner(&link.owner)?.0 {
                out.push(OwnerOut::new(
                    service.keyring(),
                    o,
                    application::access::sees_personal(caller),
                )?);
            }
        }
        Ok(out)
    }

    /// The warranty finding of every component (保修期) for a report on
    /// `on` (default: today in the project's calendar), counted from the
    /// delivery date under the rules in force that day; empty until the
    /// unit is delivered.
    async fn warranty(
        &self,
        ctx: &async_graphql::Context<'_>,
        #[graphql(desc = "The report date; default today.")] on: Option<NaiveDate>,
    ) -> Result<Vec<crate::schema::types::WarrantyOut>> {
        let service = crate::schema::service(ctx)?;
        let unit = domain::ids::UnitId::new(&self.id).map_err(AppError::from)?;
        let on = on.unwrap_or_else(|| service.calendar().local_date(service.now()));
        Ok(service
            .warranty_findings(&unit, on)?
            .unwrap_or_default()
            .into_iter()
            .map(|w| crate::schema::types::WarrantyOut {
                item: w.item.into(),
                period: w.period.to_string(),
                delivered_on: w.delivered_on,
                last_day: w.last_day,
                in_warranty: w.in_warranty,
                rules_version: w.rules_version,
            })
            .collect())
    }
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
            name: crate::schema::types::shown(ring, &o.name, personal, |n| n.full())?,
            phone: crate::schema::types::shown(ring, &o.phone, personal, |p| p.as_str().to_string())?,
            id_number: o
                .id_number
                .as_ref()
                .map(|i| crate::schema::types::shown(ring, i, personal, |i| i.as_str().to_string()))
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
    pub trades: Vec<crate::schema::types::Trade>,
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
