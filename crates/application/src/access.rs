//! Who may read what, and who sees personal data. Which role may issue
//! which command is the domain's rule (`domain::ticket::roles_allowed`,
//! the archive's and incidents' own role lists); this module adds what only
//! the server knows: reads, the projects a manager or engineer is scoped
//! to, a contractor seeing only the tickets dispatched to it, an owner only
//! their own reports, and the masking of personal fields. The README's
//! permission table is [`TABLE`], and a test tries every role against it.

use domain::actor::Role;
use domain::ids::ProjectId;
use domain::ticket::{Assignee, Ticket};

use crate::auth::Principal;
use crate::error::AppError;

/// What a query or subscription reads.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Read {
    /// `ticket`, `tickets`.
    Tickets,
    /// `ticketHistory`.
    History,
    /// `slaReport`, `satisfactionReport`, `contractorScorecards`,
    /// `defectStats`: aggregates over every project.
    Aggregates,
    /// `monthlyReport`, `weeklyRepairReport`, `slaAlerts`: one project's.
    ProjectReports,
    /// `project`, `unit`.
    Archive,
    /// `owner`.
    Owners,
    /// `incident`.
    Incidents,
    /// `ticketEvents`.
    Events,
}

impl Read {
    /// Every kind of read, in table order.
    pub const ALL: [Read; 8] = [
        Read::Tickets,
        Read::History,
        Read::Aggregates,
        Read::ProjectReports,
        Read::Archive,
        Read::Owners,
        Read::Incidents,
        Read::Events,
    ];

    fn name(self) -> &'static str {
        match self {
            Read::Tickets => "tickets",
            Read::History => "ticket histories",
            Read::Aggregates => "reports over every project",
            Read::ProjectReports => "project reports and SLA alerts",
            Read::Archive => "projects and units",
            Read::Owners => "owners",
            Read::Incidents => "incidents",
            Read::Events => "live ticket events",
        }
    }
}

/// The read permissions: role, then for each [`Read::ALL`] whether it may.
pub const TABLE: [(Role, [bool; 8]); 9] = {
    // tickets, history, aggregates, project reports, archive, owners,
    // incidents, events
    const T: bool = true;
    const F: bool = false;
    [
        (Role::Agent, [T, T, F, T, T, T, T, T]),
        (Role::Manager, [T, T, T, T, T, T, T, T]),
        (Role::Engineer, [T, T, F, T, T, F, T, T]),
        (Role::Contractor, [T, T, F, F, F, F, F, F]),
        (Role::Analyst, [T, F, T, T, T, F, T, F]),
        (Role::Auditor, [T, T, T, T, T, F, T, F]),
        (Role::Admin, [T, T, T, T, T, T, T, T]),
        (Role::Owner, [T, T, F, F, F, F, F, F]),
        (Role::System, [T, T, T, T, T, T, T, T]),
    ]
};

/// Whether `role` may read `what` at all (scopes come on top).
pub fn may_read(role: Role, what: Read) -> bool {
    let column = Read::ALL.iter().position(|r| *r == what).unwrap_or(0);
    TABLE
        .iter()
        .find(|(r, _)| *r == role)
        .is_some_and(|(_, row)| row[column])
}

/// Refuses a read the role may not make.
pub fn require(principal: &Principal, what: Read) -> Result<(), AppError> {
    if may_read(principal.role, what) {
        Ok(())
    } else {
        Err(AppError::Forbidden(format!(
            "the {} role cannot read {}",
            principal.role,
            what.name()
        )))
    }
}

/// Whether the role is limited to the projects of its token.
pub fn scoped(principal: &Principal) -> bool {
    matches!(principal.role, Role::Manager | Role::Engineer) && !principal.projects.is_empty()
}

/// Refuses a project outside the caller's scope.
pub fn require_project(principal: &Principal, project: &ProjectId) -> Result<(), AppError> {
    if scoped(principal) && !principal.projects.contains(project) {
        return Err(AppError::Forbidden(format!(
            "{} {} works on {}, not on project {project}",
            principal.role,
            principal.user,
            list(&principal.projects)
        )));
    }
    Ok(())
}

fn list(projects: &[ProjectId]) -> String {
    projects.iter().map(|p| p.to_string()).collect::<Vec<_>>().join(", ")
}

/// Whether the caller may see this ticket at all: in scope for a manager
/// or engineer, dispatched to the company of a contractor, reported by an
/// owner.
pub fn may_see(principal: &Principal, ticket: &Ticket) -> bool {
    match principal.role {
        Role::Contractor => {
            principal.contractor.is_some()
                && ticket.assignee.as_ref() == principal.contractor.clone().map(Assignee::Contractor).as_ref()
        }
        Role::Owner => principal.owner.is_some() && ticket.reporter.owner == principal.owner,
        _ => !scoped(principal) || principal.projects.contains(ticket.location.project()),
    }
}

/// Refuses a ticket the caller may not see.
pub fn require_ticket(principal: &Principal, ticket: &Ticket) -> Result<(), AppError> {
    if may_see(principal, ticket) {
        Ok(())
    } else {
        Err(AppError::Forbidden(format!(
            "{} {} may not see ticket {}",
            principal.role, principal.user, ticket.id
        )))
    }
}

/// Whether the caller reads personal fields (names, phones, ID numbers)
/// in full: staff who call owners back (agents, managers, engineers,
/// admins, a contractor on its own tickets, the owner on their own
/// report). Analysts and auditors get them masked.
pub fn sees_personal(principal: &Principal) -> bool {
    !matches!(principal.role, Role::Analyst | Role::Auditor)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn every_role_has_one_row() {
        for role in Role::ALL {
            assert_eq!(TABLE.iter().filter(|(r, _)| *r == role).count(), 1, "{role}");
        }
        assert!(may_read(Role::Analyst, Read::Aggregates));
        assert!(!may_read(Role::Analyst, Read::History));
        assert!(!may_read(Role::Contractor, Read::Owners));
        assert!(may_read(Role::Auditor, Read::History));
    }
}
