//! Who acts: the user, their role, and for contractors and owners the
//! organisation or archive record they act for.

use std::fmt;

use serde::{Deserialize, Serialize};

use crate::ids::{ContractorId, OwnerId, UserId};

/// The roles of the people who use the product (see `../shared/domain.md`).
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub enum Role {
    /// 400 call-center agent (呼叫中心坐席): receives reports, calls back.
    Agent,
    /// Customer-service manager (客服经理): owns the tickets of their projects.
    Manager,
    /// Engineer (工程部 / 物业工程): surveys, diagnoses, supervises repairs.
    Engineer,
    /// Contractor (维修单位): repairs tickets dispatched to it.
    Contractor,
    /// Group analyst (集团客户关系中心): reads aggregates only.
    Analyst,
    /// Auditor (审计 / 法务): reads histories only.
    Auditor,
    /// Administrator: manages the archive and access.
    Admin,
    /// The owner (业主) acting through the app or WeChat.
    Owner,
    /// The system itself: imports and automatic actions.
    System,
}

impl Role {
    /// The role's name as staff tools and tokens spell it.
    pub fn as_str(self) -> &'static str {
        match self {
            Role::Agent => "agent",
            Role::Manager => "manager",
            Role::Engineer => "engineer",
            Role::Contractor => "contractor",
            Role::Analyst => "analyst",
            Role::Auditor => "auditor",
            Role::Admin => "admin",
            Role::Owner => "owner",
            Role::System => "system",
        }
    }

    /// Every role, for permission tables.
    pub const ALL: [Role; 9] = [
        Role::Agent,
        Role::Manager,
        Role::Engineer,
        Role::Contractor,
        Role::Analyst,
        Role::Auditor,
        Role::Admin,
        Role::Owner,
        Role::System,
    ];
}

impl fmt::Display for Role {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.as_str())
    }
}

impl std::str::FromStr for Role {
    type Err = crate::error::DomainError;
    fn from_str(s: &str) -> Result<Self, Self::Err> {
        Role::ALL
            .into_iter()
            .find(|r| r.as_str() == s)
            .ok_or_else(|| crate::error::DomainError::input("role", format!("{s:?} is not a role")))
    }
}

/// The acting principal of a command, recorded with every event.
#[derive(Debug, Clone, PartialEq, Eq, Hash, Serialize, Deserialize)]
pub struct Actor {
    /// The user.
    pub user: UserId,
    /// The role they act in.
    pub role: Role,
    /// For [`Role::Contractor`]: the company they work for.
    pub contractor: Option<ContractorId>,
    /// For [`Role::Owner`]: their archive record.
    pub owner: Option<OwnerId>,
}

impl Actor {
    /// A staff member (or the system) acting in `role`.
    pub fn staff(user: UserId, role: Role) -> Self {
        Self {
            user,
            role,
            contractor: None,
            owner: None,
        }
    }

    /// A worker of a contractor.
    pub fn contractor(user: UserId, contractor: ContractorId) -> Self {
        Self {
            user,
            role: Role::Contractor,
            contractor: Some(contractor),
            owner: None,
        }
    }

    /// An owner acting for themselves.
    pub fn owner(user: UserId, owner: OwnerId) -> Self {
        Self {
            user,
            role: Role::Owner,
            contractor: None,
            owner: Some(owner),
        }
    }
}

impl fmt::Display for Actor {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{} {}", self.role, self.user)?;
        if let Some(c) = &self.contractor {
            write!(f, " of contractor {c}")?;
        }
        Ok(())
    }
}

crate::serde_by_name!(Role);
