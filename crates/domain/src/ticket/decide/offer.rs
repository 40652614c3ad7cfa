//! Which commands a caller may issue on a ticket now: each command is
//! tried against the ticket's state with sample inputs, and offered
//! unless the rules refuse it for who acts or for the ticket's state
//! (status, kind, what has happened so far). Refusals of the sample's own
//! inputs do not count: the form the caller fills in may still be
//! refused for what is typed into it, never for the action itself.
//!
//! Staff tools show only these actions, so a contractor or an owner is
//! never offered what the server would refuse them.

use chrono::Duration;

use super::*;
use crate::ids::{IncidentId, TicketId};
use crate::warranty::WarrantyItem;

/// The GraphQL mutation of each command, in the order tools show them.
fn samples(ticket: &Ticket, now: DateTime<Utc>) -> Vec<(&'static str, TicketCommand)> {
    use TicketCommand as C;
    let text = || "-".to_string();
    let ratings = Ratings {
        overall: 5,
        product_quality: Some(5),
        service_process: Some(5),
        staff_attitude: Some(5),
    };
    let other_priority = if ticket.priority == Priority::Normal {
        Priority::Urgent
    } else {
        Priority::Normal
    };
    // Ids no ticket or record uses, so that a sample never names the
    // ticket itself or the assignee it already has.
    let sample_ticket = TicketId::new("T-OFFER-SAMPLE").ok();
    let sample_incident = IncidentId::new("I-OFFER-SAMPLE").ok();
    let sample_contractor = crate::ids::ContractorId::new("C-OFFER-SAMPLE").ok();
    let mut out = vec![
        (
            "acknowledgeTicket",
            C::Acknowledge {
                promised_at: None,
                note: text(),
            },
        ),
        (
            "changePriority",
            C::ChangePriority {
                priority: other_priority,
                reason: text(),
            },
        ),
        (
            "answerInquiry",
            C::AnswerInquiry {
                answer: text(),
                on_the_spot: false,
            },
        ),
    ];
    if let Some(c) = sample_contractor {
        out.push((
            "dispatchTicket",
            C::Dispatch {
                to: Assignee::Contractor(c),
                note: text(),
            },
        ));
    }
    out.extend([
        (
            "scheduleVisit",
            C::Schedule {
                window: AppointmentWindow {
                    from: now + Duration::hours(24),
                    to: now + Duration::hours(26),
                },
            },
        ),
        ("recordArrival", C::RecordArrival { note: text() }),
        (
            "diagnoseTicket",
            C::Diagnose {
                cause: text(),
                responsible: ResponsibleParty::ContractorWorkmanship,
                item: WarrantyItem::Decoration,
                plan: RepairPlan {
                    content: text(),
                    materials: Vec::new(),
                    duration_minutes: 60,
                    cost: None,
                },
            },
        ),
        ("confirmPlan", C::ConfirmPlan { confirmation: text() }),
        ("declinePlan", C::DeclinePlan { reason: text() }),
        ("noteProgress", C::NoteProgress { note: text() }),
        (
            "completeRepair",
            C::CompleteRepair {
                summary: text(),
                usage_advice: String::new(),
            },
        ),
        (
            "acceptRepair",
            C::AcceptRepair {
                confirmation: text(),
                ratings,
                comment: String::new(),
            },
        ),
        ("rejectRepair", C::RejectRepair { reason: text() }),
        ("reopenTicket", C::Reopen { reason: text() }),
        (
            "putOnHold",
            C::PutOnHold {
                reason: HoldReason::WaitingForMaterial,
                note: text(),
            },
        ),
        ("resumeTicket", C::Resume { note: text() }),
        ("withdrawTicket", C::Withdraw { reason: text() }),
    ]);
    if let Some(t) = sample_ticket {
        out.push(("mergeTicket", C::Merge { into: t }));
    }
    out.extend([
        (
            "commentTicket",
            C::Comment {
                text: text(),
                internal: false,
            },
        ),
        ("closeTicket", C::Close { note: text() }),
        (
            "recordRevisit",
            C::RecordRevisit {
                outcome: RevisitOutcome::Satisfied,
                ratings: Some(ratings),
                stage: TouchpointStage::WarrantyService,
                note: text(),
            },
        ),
        ("investigateComplaint", C::Investigate { findings: text() }),
        (
            "proposeResolution",
            C::ProposeResolution {
                proposal: text(),
                basis: text(),
            },
        ),
        (
            "recordOwnerResponse",
            C::RecordOwnerResponse {
                agreed: true,
                note: text(),
            },
        ),
        (
            "escalateComplaint",
            C::Escalate {
                level: EscalationLevel::Group,
                incident: None,
                reason: text(),
            },
        ),
    ]);
    if let Some(i) = sample_incident {
        out.push(("linkTicketToIncident", C::LinkIncident { incident: i }));
    }
    out
}

/// The mutations `ctx.actor` may run on the ticket in `state` now, in the
/// order tools show them; empty for a ticket not yet received.
pub fn offered(state: &TicketState, ctx: &Context<TicketReference<'_>>) -> Vec<&'static str> {
    let Some(ticket) = state.ticket() else {
        return Vec::new();
    };
    samples(ticket, ctx.now)
        .into_iter()
        .filter(|(_, command)| match decide(state, command.clone(), ctx) {
            Ok(_) => true,
            Err(DomainError::Forbidden { .. } | DomainError::InvalidTransition { .. }) => false,
            Err(_) => true,
        })
        .map(|(name, _)| name)
        .collect()
}
