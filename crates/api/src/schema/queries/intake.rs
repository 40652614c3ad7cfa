//! Lookups for intake (受理): the projects, a building's rooms, and the
//! severity score's suggested priority.

use async_graphql::{Context, InputObject, Object, Result, SimpleObject};
use domain::ids::BuildingId;

use crate::error::AppError;
use crate::schema::types::Priority;
use crate::schema::{principal, service};
use application::access::{self, Read};

/// A project as lists show it.
#[derive(SimpleObject)]
pub struct ProjectSummary {
    /// Code.
    pub id: String,
    /// Name.
    pub name: String,
    /// City.
    pub city: String,
}

/// A room of a building and its unit.
#[derive(SimpleObject)]
pub struct Room {
    /// Room number.
    pub number: String,
    /// The unit's code.
    pub unit_id: String,
}

/// The five severity factors (问题严重度), each 0 (none) to 4 (extreme).
#[derive(InputObject)]
pub struct SeverityInput {
    /// How many households are affected; safety risk.
    pub impact_scope: u8,
    /// Risk to owner satisfaction.
    pub satisfaction_risk: u8,
    /// Legal risk (disputes, regulators).
    pub legal_risk: u8,
    /// Economic loss.
    pub economic_loss: u8,
    /// Damage to the brand (media, forums).
    pub brand_damage: u8,
}

/// A severity score and the priority it suggests.
#[derive(SimpleObject)]
pub struct SeverityOut {
    /// The weighted score, 0 to 100 (impact 30, satisfaction 20, legal 20,
    /// economic 15, brand 15).
    pub score: u8,
    /// 60 or more: emergency; 30 or more: urgent; any factor at 4 at least
    /// urgent, an extreme impact emergency.
    pub suggested_priority: Priority,
}

/// Intake lookups.
/// A unit found by its owner's phone.
#[derive(SimpleObject)]
pub struct PhoneMatch {
    /// The unit.
    pub unit_id: String,
    /// Its project.
    pub project_id: String,
    /// Its building.
    pub building_id: String,
    /// Its room number.
    pub number: String,
    /// The owner with that phone (masked per role).
    pub owner: crate::schema::archive::OwnerOut,
}

#[derive(Default)]
pub struct IntakeQueries;

#[Object(name = "IntakeQueries")]
impl IntakeQueries {
    /// The projects of the archive the caller works on (every project for
    /// roles not scoped to some), in id order.
    async fn projects(&self, ctx: &Context<'_>) -> Result<Vec<ProjectSummary>> {
        let caller = principal(ctx)?;
        access::require(caller, Read::Archive)?;
        let scoped = access::scoped(caller);
        Ok(service(ctx)?
            .projects()?
            .into_iter()
            .filter(|p| !scoped || caller.projects.contains(&p.id))
            .map(|p| ProjectSummary {
                id: p.id.to_string(),
                name: p.name,
                city: p.city,
            })
            .collect())
    }

    /// The incidents (重大事件) of a project, or of every project the
    /// caller works on: open ones first, then the newest opened. Cost:
    /// 5,000 + 50 × the selection.
    #[graphql(complexity = "5_000 + 50 * child_complexity")]
    async fn incidents(
        &self,
        ctx: &Context<'_>,
        #[graphql(desc = "The project; null: every project the caller works on.")] project_id: Option<String>,
    ) -> Result<Vec<crate::schema::archive::IncidentOut>> {
        let caller = principal(ctx)?;
        access::require(caller, Read::Incidents)?;
        let service = service(ctx)?;
        let incidents = match project_id {
            Some(p) => {
                let project = domain::ids::ProjectId::new(p).map_err(AppError::from)?;
                access::require_project(caller, &project)?;
                service.incidents(Some(&project))?
            }
            None if access::scoped(caller) => {
                let mut all = Vec::new();
                for project in &caller.projects {
                    all.extend(service.incidents(Some(project))?);
                }
                all
            }
            None => service.incidents(None)?,
        };
        Ok(incidents.into_iter().map(Into::into).collect())
    }

    /// The units whose owner has the caller's phone number (digits
    /// compared; 7 to 20 digits), with the owner masked per role: intake
    /// finds the unit of a caller who does not know their room. Erased
    /// owners never match. A caller scoped to projects gets their units
    /// only. Cost: 50,000 (every linked owner's record is read) + 50 × the
    /// selection.
    #[graphql(complexity = "50_000 + 50 * child_complexity")]
    async fn units_by_phone(
        &self,
        ctx: &Context<'_>,
        #[graphql(desc = "The caller's phone number.")] phone: String,
    ) -> Result<Vec<PhoneMatch>> {
        let caller = principal(ctx)?;
        access::require(caller, Read::Archive)?;
        access::require(caller, Read::Owners)?;
        let service = service(ctx)?;
        let personal = access::sees_personal(caller);
        let mut out = Vec::new();
        for (unit_id, owner) in service.units_by_phone(&phone)? {
            let Some(unit) = service.unit(&unit_id)?.0 else {
                continue;
            };
            if access::require_project(caller, &unit.project).is_err() {
                continue;
            }
            out.push(PhoneMatch {
                unit_id: unit.id.to_string(),
                project_id: unit.project.to_string(),
                building_id: unit.building.to_string(),
                number: unit.number.clone(),
                owner: crate::schema::archive::OwnerOut::new(service.keyring(), owner, personal)?,
            });
        }
        Ok(out)
    }

    /// The rooms of a building, in room-number order.
    async fn rooms(
        &self,
        ctx: &Context<'_>,
        #[graphql(desc = "The building's code.")] building_id: String,
    ) -> Result<Vec<Room>> {
        access::require(principal(ctx)?, Read::Archive)?;
        let building = BuildingId::new(building_id).map_err(AppError::from)?;
        Ok(service(ctx)?
            .rooms(&building)?
            .into_iter()
            .map(|(number, unit)| Room {
                number,
                unit_id: unit.to_string(),
            })
            .collect())
    }

    /// The severity score of a report and the priority it suggests.
    async fn severity(
        &self,
        ctx: &Context<'_>,
        #[graphql(desc = "The five factors, each 0 to 4.")] input: SeverityInput,
    ) -> Result<SeverityOut> {
        principal(ctx)?;
        let s = domain::severity::Severity {
            impact_scope: input.impact_scope,
            satisfaction_risk: input.satisfaction_risk,
            legal_risk: input.legal_risk,
            economic_loss: input.economic_loss,
            brand_damage: input.brand_damage,
        };
        let score = s.score().map_err(AppError::from)?;
        let priority = s.suggested_priority().map_err(AppError::from)?;
        Ok(SeverityOut {
            score,
            suggested_priority: priority.into(),
        })
    }
}
