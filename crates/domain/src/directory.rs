//! The service directory (服务商与工程师名录): the contractor companies and
//! the in-house engineers tickets are dispatched to. A dispatch names one
//! of them, so each is registered first, by the archive's roles, as a
//! record with a stream of its own: a contractor (`contractor-C-001`) and
//! an engineer (`engineer-eng-7`, the engineer's user id).

use chrono::{DateTime, Utc};
use serde::{Deserialize, Serialize};

use crate::actor::{Actor, Role};
use crate::decider::{Context, Decider, Stamped};
use crate::error::DomainError;
use crate::ids::{ContractorId, UserId};
use crate::ticket::Trade;

/// Who may register companies and engineers: the archive's roles.
const DIRECTORY_ROLES: &[Role] = &[Role::Admin, Role::System];

fn name_text(field: &'static str, value: &str) -> Result<(), DomainError> {
    if value.trim().is_empty() {
        return Err(DomainError::input(field, "it is empty"));
    }
    if value.chars().count() > 200 || value.chars().any(char::is_control) {
        return Err(DomainError::input(
            field,
            "at most 200 characters, no control characters",
        ));
    }
    Ok(())
}

/// Whether `actor` may change the directory (the role).
pub fn authorize(actor: &Actor, action: &'static str) -> Result<(), DomainError> {
    if DIRECTORY_ROLES.contains(&actor.role) {
        Ok(())
    } else {
        Err(DomainError::Forbidden {
            actor: actor.to_string(),
            action,
            reason: format!("the {} role cannot change the service directory", actor.role),
        })
    }
}

fn stamp<R, E>(ctx: &Context<R>, at: DateTime<Utc>, event: E) -> Stamped<E> {
    Stamped {
        occurred_at: at,
        actor: ctx.actor.clone(),
        channel: ctx.channel,
        event,
        text_seals: Vec::new(),
    }
}

// ------------------------------------------------------------- contractor

/// Commands on a contractor company.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub enum ContractorCommand {
    /// `registerContractor`.
    Register {
        /// Its id.
        contractor: ContractorId,
        /// Company name.
        name: String,
        /// The trades it works in (empty: any).
        trades: Vec<Trade>,
    },
}

/// Events of a contractor company.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub enum ContractorEvent {
    /// A company was registered.
    ContractorRegistered {
        /// Its id.
        contractor: ContractorId,
        /// Company name.
        name: String,
        /// Its trades.
        trades: Vec<Trade>,
    },
}

impl ContractorEvent {
    /// Stored event name.
    pub fn name(&self) -> &'static str {
        match self {
            ContractorEvent::ContractorRegistered { .. } => "ContractorRegistered",
        }
    }
}

/// A registered contractor company.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Contractor {
    /// Id.
    pub id: ContractorId,
    /// Company name.
    pub name: String,
    /// Its trades (empty: any).
    pub trades: Vec<Trade>,
    /// Time of the latest event.
    pub last_event_at: DateTime<Utc>,
}

/// State of a contractor stream.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct ContractorState(pub Option<Contractor>);

/// The contractor decider.
#[derive(Debug, Clone, Copy, Default)]
pub struct ContractorDecider;

impl Decider for ContractorDecider {
    type State = ContractorState;
    type Command = ContractorCommand;
    type Event = Stamped<ContractorEvent>;
    type Reference<'r> = ();

    fn decide(
        state: &ContractorState,
        command: ContractorCommand,
        ctx: &Context<()>,
    ) -> Result<Vec<Stamped<ContractorEvent>>, DomainError> {
        authorize(&ctx.actor, "register the contractor")?;
        let ContractorCommand::Register {
            contractor,
            name,
            trades,
        } = command;
        if let Some(c) = &state.0 {
            return Err(DomainError::AlreadyExists {
                what: format!("contractor {}", c.id),
            });
        }
        name_text("contractor name", &name)?;
        let at = ctx.action_time(None)?;
        Ok(vec![stamp(
            ctx,
            at,
            ContractorEvent::ContractorRegistered {
                contractor,
                name,
                trades,
            },
        )])
    }

    fn evolve(state: ContractorState, event: &Stamped<ContractorEvent>) -> ContractorState {
        match (state.0, &event.event) {
            (
                None,
                ContractorEvent::ContractorRegistered {
                    contractor,
                    name,
                    trades,
                },
            ) => ContractorState(Some(Contractor {
                id: contractor.clone(),
                name: name.clone(),
                trades: trades.clone(),
                last_event_at: event.occurred_at,
            })),
            (state, _) => ContractorState(state),
        }
    }
}

// --------------------------------------------------------------- engineer

/// Commands on an in-house engineer.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub enum EngineerCommand {
    /// `registerEngineer`.
    Register {
        /// The engineer's user id (what their token names).
        engineer: UserId,
        /// Their name as colleagues know it (a work name, not personal
        /// data kept about a customer).
        name: String,
    },
}

/// Events of an engineer.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub enum EngineerEvent {
    /// An engineer was registered.
    EngineerRegistered {
        /// Their user id.
        engineer: UserId,
        /// Their work name.
        name: String,
    },
}

impl EngineerEvent {
    /// Stored event name.
    pub fn name(&self) -> &'static str {
        match self {
            EngineerEvent::EngineerRegistered { .. } => "EngineerRegistered",
        }
    }
}

/// A registered engineer.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Engineer {
    /// User id.
    pub id: UserId,
    /// Work name.
    pub name: String,
    /// Time of the latest event.
    pub last_event_at: DateTime<Utc>,
}

/// State of an engineer stream.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct EngineerState(pub Option<Engineer>);

/// The engineer decider.
#[derive(Debug, Clone, Copy, Default)]
pub struct EngineerDecider;

impl Decider for EngineerDecider {
    type State = EngineerState;
    type Command = EngineerCommand;
    type Event = Stamped<EngineerEvent>;
    type Reference<'r> = ();

    fn decide(
        state: &EngineerState,
        command: EngineerCommand,
        ctx: &Context<()>,
    ) -> Result<Vec<Stamped<EngineerEvent>>, DomainError> {
        authorize(&ctx.actor, "register the engineer")?;
        let EngineerCommand::Register { engineer, name } = command;
        if let Some(e) = &state.0 {
            return Err(DomainError::AlreadyExists {
                what: format!("engineer {}", e.id),
            });
        }
        name_text("engineer name", &name)?;
        let at = ctx.action_time(None)?;
        Ok(vec![stamp(
            ctx,
            at,
            EngineerEvent::EngineerRegistered { engineer, name },
        )])
    }

    fn evolve(state: EngineerState, event: &Stamped<EngineerEvent>) -> EngineerState {
        match (state.0, &event.event) {
            (None, EngineerEvent::EngineerRegistered { engineer, name }) => EngineerState(Some(Engineer {
                id: engineer.clone(),
                name: name.clone(),
                last_event_at: event.occurred_at,
            })),
            (state, _) => EngineerState(state),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::testing::test_now;

    fn admin() -> Actor {
        Actor::staff(UserId::new("admin-1").unwrap_or_else(|e| panic!("{e}")), Role::Admin)
    }

    fn context(actor: Actor) -> Context<()> {
        Context {
            now: test_now(),
            occurred_at: None,
            actor,
            channel: crate::ticket::Channel::BackOffice,
            reference: (),
        }
    }

    #[test]
    fn a_contractor_is_registered_once_by_the_archive_roles() {
        let id = ContractorId::new("C-001").unwrap_or_else(|e| panic!("{e}"));
        let register = ContractorCommand::Register {
            contractor: id.clone(),
            name: "杭州安居防水工程有限公司".into(),
            trades: vec![Trade::Leak],
        };
        let events = ContractorDecider::decide(&ContractorState::default(), register.clone(), &context(admin()))
            .unwrap_or_else(|e| panic!("{e}"));
        assert_eq!(events.len(), 1);
        let state = ContractorDecider::fold(&events);
        assert_eq!(
            state.0.as_ref().map(|c| c.name.as_str()),
            Some("杭州安居防水工程有限公司")
        );
        let again = ContractorDecider::decide(&state, register.clone(), &context(admin()));
        assert!(matches!(again, Err(DomainError::AlreadyExists { .. })), "{again:?}");
        let agent = Actor::staff(UserId::new("agent-1").unwrap_or_else(|e| panic!("{e}")), Role::Agent);
        let refused = ContractorDecider::decide(&ContractorState::default(), register, &context(agent));
        assert!(matches!(refused, Err(DomainError::Forbidden { .. })), "{refused:?}");
    }

    #[test]
    fn an_engineer_needs_a_name() {
        let register = EngineerCommand::Register {
            engineer: UserId::new("eng-7").unwrap_or_else(|e| panic!("{e}")),
            name: " ".into(),
        };
        let refused = EngineerDecider::decide(&EngineerState::default(), register, &context(admin()));
        assert!(matches!(refused, Err(DomainError::InvalidInput { .. })), "{refused:?}");
    }
}
