//! Who the caller is: what a staff tool needs to show its pages and
//! offer only the actions the caller's role allows.

use async_graphql::{Context, Object, Result, SimpleObject};

use super::super::principal;

/// The caller, as the server knows it from the token (or the gateway's
/// headers).
#[derive(SimpleObject)]
pub struct Viewer {
    /// The user recorded as the actor of the caller's events.
    pub user: String,
    /// The role, as tokens spell it: `agent`, `manager`, `engineer`,
    /// `contractor`, `analyst`, `auditor`, `admin` or `owner`.
    pub role: String,
    /// The projects the caller is scoped to (empty: every project, for the
    /// roles that are not scoped).
    pub projects: Vec<String>,
    /// A contractor's company.
    pub contractor_id: Option<String>,
    /// An owner's archive record.
    pub owner_id: Option<String>,
}

/// The caller.
#[derive(Default)]
pub struct ViewerQueries;

#[Object(name = "ViewerQueries")]
impl ViewerQueries {
    /// The caller: user, role and scope. Every authenticated caller may
    /// read its own.
    async fn me(&self, ctx: &Context<'_>) -> Result<Viewer> {
        let caller = principal(ctx)?;
        Ok(Viewer {
            user: caller.user.to_string(),
            role: caller.role.as_str().to_string(),
            projects: caller.projects.iter().map(|p| p.to_string()).collect(),
            contractor_id: caller.contractor.as_ref().map(|c| c.to_string()),
            owner_id: caller.owner.as_ref().map(|o| o.to_string()),
        })
    }
}
