//! Lookups in the customer archive, the service directory and the
//! incidents: one record by id, or null.

use async_graphql::{Context, Object, Result};
use domain::ids::{IncidentId, OwnerId, UnitId};

use super::project_id;
use crate::error::AppError;
use crate::schema::archive::{IncidentOut, OwnerOut, ProjectOut, UnitOut};
use crate::schema::{principal, service};
use application::access::{self, Read};

/// Archive, directory and incident lookups.
#[derive(Default)]
pub struct ArchiveQueries;

#[Object(name = "ArchiveQueries")]
impl ArchiveQueries {
    /// A project of the archive, or null. Cost: 20 + the selection.
    #[graphql(complexity = "crate::cost::record(child_complexity)")]
    async fn project(
        &self,
        ctx: &Context<'_>,
        #[graphql(desc = "The project id.")] id: String,
    ) -> Result<Option<ProjectOut>> {
        access::require(principal(ctx)?, Read::Archive)?;
        Ok(service(ctx)?.project(&project_id(&id)?)?.0.map(Into::into))
    }

    /// A unit of the archive, or null. Cost: 20 + the selection.
    #[graphql(complexity = "crate::cost::record(child_complexity)")]
    async fn unit(&self, ctx: &Context<'_>, #[graphql(desc = "The unit id.")] id: String) -> Result<Option<UnitOut>> {
        access::require(principal(ctx)?, Read::Archive)?;
        let id = UnitId::new(id).map_err(AppError::from)?;
        Ok(service(ctx)?.unit(&id)?.0.map(Into::into))
    }

    /// An owner of the archive (personal fields masked), or null.
    /// Cost: 20 + the selection.
    #[graphql(complexity = "crate::cost::record(child_complexity)")]
    async fn owner(
        &self,
        ctx: &Context<'_>,
        #[graphql(desc = "The owner's archive id.")] id: String,
    ) -> Result<Option<OwnerOut>> {
        let caller = principal(ctx)?;
        access::require(caller, Read::Owners)?;
        let id = OwnerId::new(id).map_err(AppError::from)?;
        let service = service(ctx)?;
        Ok(service
            .owner(&id)?
            .0
            .map(|o| OwnerOut::new(service.keyring(), o, access::sees_personal(caller)))
            .transpose()?)
    }

    /// A contractor company of the service directory, or null.
    #[graphql(complexity = "crate::cost::record(child_complexity)")]
    async fn contractor(
        &self,
        ctx: &Context<'_>,
        #[graphql(desc = "The contractor company id.")] id: String,
    ) -> Result<Option<crate::schema::archive::ContractorOut>> {
        access::require(principal(ctx)?, Read::Archive)?;
        let id = domain::ids::ContractorId::new(id).map_err(AppError::from)?;
        Ok(service(ctx)?.contractor(&id)?.0.map(Into::into))
    }

    /// An engineer of the service directory, or null.
    #[graphql(complexity = "crate::cost::record(child_complexity)")]
    async fn engineer(
        &self,
        ctx: &Context<'_>,
        #[graphql(desc = "The engineer's user id.")] id: String,
    ) -> Result<Option<crate::schema::archive::EngineerOut>> {
        access::require(principal(ctx)?, Read::Archive)?;
        let id = domain::ids::UserId::new(id).map_err(AppError::from)?;
        Ok(service(ctx)?.engineer(&id)?.0.map(Into::into))
    }

    /// An incident, or null.
    /// A manager or engineer scoped to projects sees only their
    /// projects' incidents (FORBIDDEN otherwise).
    #[graphql(complexity = "crate::cost::record(child_complexity)")]
    async fn incident(
        &self,
        ctx: &Context<'_>,
        #[graphql(desc = "The incident id.")] id: String,
    ) -> Result<Option<IncidentOut>> {
        let caller = principal(ctx)?;
        access::require(caller, Read::Incidents)?;
        let id = IncidentId::new(id).map_err(AppError::from)?;
        let Some(incident) = service(ctx)?.incident(&id)?.0 else {
            return Ok(None);
        };
        access::require_project(caller, &incident.project)?;
        Ok(Some(incident.into()))
    }
}
