//! Who may issue which ticket command: the role, and a contractor or an
//! owner only on their own tickets.

use crate::actor::{Actor, Role};
use crate::error::DomainError;
use crate::ticket::{Assignee, Ticket, TicketCommand};

fn roles_for(command: &TicketCommand) -> &'static [Role] {
    use Role::*;
    use TicketCommand as C;
    match command {
        C::Receive(_) => &[Agent, Manager, Engineer, Owner, System],
        C::Acknowledge { .. } | C::AnswerInquiry { .. } => &[Agent, Manager, Engineer, System],
        C::ChangePriority { .. } => &[Agent, Manager, Engineer, System],
        C::Dispatch { .. } => &[Agent, Manager, Engineer, System],
        C::Schedule { .. } | C::PutOnHold { .. } | C::Resume { .. } => &[Agent, Manager, Engineer, Contractor, System],
        C::RecordArrival { .. } | C::NoteProgress { .. } | C::CompleteRepair { .. } => {
            &[Manager, Engineer, Contractor, System]
        }
        // Cause and responsibility decide who pays: the engineer's call
        // (工程部), never the contractor's, whose own work may be at fault.
        C::Diagnose { .. } => &[Manager, Engineer, System],
        C::LinkIncident { .. } => &[Agent, Manager, Engineer, System],
        C::ConfirmPlan { .. } | C::DeclinePlan { .. } | C::AcceptRepair { .. } | C::RejectRepair { .. } => {
            &[Owner, Agent, Manager, Engineer, System]
        }
        C::RecordOwnerResponse { .. } => &[Owner, Agent, Manager, System],
        C::Reopen { .. } => &[Agent, Manager, Engineer, System],
        C::Withdraw { .. } => &[Owner, Agent, Manager, System],
        C::Merge { .. } | C::Close { .. } | C::Escalate { .. } | C::ProposeResolution { .. } => {
            &[Agent, Manager, System]
        }
        C::RecordRevisit { .. } => &[Agent, Manager, System],
        C::Investigate { .. } => &[Agent, Manager, Engineer, System],
        C::Comment { .. } => &[Agent, Manager, Engineer, Contractor, Owner, Admin, System],
    }
}

/// Which roles may issue a command at all (the finer rules, such as a
/// contractor acting only on its own tickets, are checked in `decide`).
pub fn roles_allowed(command: &TicketCommand) -> &'static [Role] {
    roles_for(command)
}

/// Whether `actor` may issue `command` on `ticket` (`None`: a ticket not
/// yet received): the role, a contractor only on the tickets dispatched to
/// its company, an owner only on their own reports. `decide` checks it
/// first; a server checks it before anything else (a retry lookup
/// included).
pub fn authorize(actor: &Actor, command: &TicketCommand, ticket: Option<&Ticket>) -> Result<(), DomainError> {
    check_actor(actor, command, ticket)
}

pub(super) fn check_actor(actor: &Actor, command: &TicketCommand, ticket: Option<&Ticket>) -> Result<(), DomainError> {
    let action = command.action();
    let forbidden = |reason: String| DomainError::Forbidden {
        actor: actor.to_string(),
        action,
        reason,
    };
    if !roles_for(command).contains(&actor.role) {
        return Err(forbidden(format!("the {} role cannot do this", actor.role)));
    }
    match actor.role {
        Role::Contractor => {
            let Some(company) = &actor.contractor else {
                return Err(forbidden("the contractor user belongs to no contractor".into()));
            };
            let assigned = ticket.and_then(|t| t.assignee.as_ref());
            if assigned != Some(&Assignee::Contractor(company.clone())) {
                return Err(forbidden(format!(
                    "the ticket is not dispatched to contractor {company}"
                )));
            }
        }
        Role::Owner => {
            let Some(owner) = &actor.owner else {
                return Err(forbidden("the owner user is linked to no owner record".into()));
            };
            let reporter = match (ticket, command) {
                (Some(t), _) => t.reporter.owner.as_ref(),
                (None, TicketCommand::Receive(r)) => r.reporter.owner.as_ref(),
                (None, _) => None,
            };
            if reporter != Some(owner) {
                return Err(forbidden("owners act only on their own reports".into()));
            }
        }
        _ => {}
    }
    Ok(())
}
