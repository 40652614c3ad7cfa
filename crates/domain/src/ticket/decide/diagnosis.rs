//! The diagnosis: the cause, who is responsible, the warranty finding and
//! whether the repair is chargeable (computed, not typed in), and the plan.

use crate::decider::Context;
use crate::error::DomainError;
use crate::ticket::{Location, Money, RepairPlan, ResponsibleParty, Status as S, TicketEvent, TicketKind as K};
use crate::warranty::{WarrantyFinding, WarrantyItem};

use super::{text, Refusal, TicketReference, MAX_COST_FEN, MAX_PLAN_MINUTES};

/// `Diagnose`.
pub(super) fn diagnose(
    r: &Refusal<'_>,
    ctx: &Context<TicketReference<'_>>,
    cause: String,
    responsible: ResponsibleParty,
    item: WarrantyItem,
    plan: RepairPlan,
) -> Result<TicketEvent, DomainError> {
    r.only_kinds(&[K::Repair, K::HandoverDefect])?;
    r.only_in(&[S::OnSite, S::Diagnosed, S::PlanDeclined])?;
    text("cause", &cause, true)?;
    check_plan(&plan)?;
    let warranty = warranty_finding(r, ctx, item)?;
    let chargeable = chargeable(responsible, item, warranty.as_ref(), &plan)?;
    Ok(TicketEvent::Diagnosed {
        cause,
        responsible,
        warranty,
        chargeable,
        plan,
    })
}

/// The plan's text, materials, duration and cost are within bounds.
fn check_plan(plan: &RepairPlan) -> Result<(), DomainError> {
    text("plan", &plan.content, true)?;
    for m in &plan.materials {
        text("materials", m, true)?;
    }
    if !(1..=MAX_PLAN_MINUTES).contains(&plan.duration_minutes) {
        return Err(DomainError::input(
            "durationMinutes",
            format!(
                "{} minutes (from 1 to {MAX_PLAN_MINUTES}, 90 days)",
                plan.duration_minutes
            ),
        ));
    }
    if let Some(cost) = plan.cost.filter(|c| c.fen > MAX_COST_FEN) {
        return Err(DomainError::input(
            "cost",
            format!("{cost} (at most {})", Money { fen: MAX_COST_FEN }),
        ));
    }
    Ok(())
}

/// The warranty finding on the day of the report, when the delivery date is
/// known; none for a common area without one or a handover defect.
fn warranty_finding(
    r: &Refusal<'_>,
    ctx: &Context<TicketReference<'_>>,
    item: WarrantyItem,
) -> Result<Option<WarrantyFinding>, DomainError> {
    let ticket = r.ticket;
    Ok(match (ctx.reference.delivered_on, &ticket.location) {
        (Some(delivered_on), location) => {
            let report_date = ctx.reference.calendar.local_date(ticket.received_at);
            Some(ctx.reference.warranty.finding_on(
                item,
                Some(location.project()),
                delivered_on,
                report_date,
                ctx.reference.calendar,
            ))
        }
        // A defect found at pre-inspection precedes delivery: the
        // developer's, whatever the warranty.
        (None, _) if ticket.kind == K::HandoverDefect => None,
        (None, Location::Unit { unit, .. }) => {
            return Err(DomainError::MissingReference {
                what: format!("the delivery date of unit {unit}, needed to decide on warranty"),
            })
        }
        (None, Location::CommonArea { .. }) => None,
    })
}

/// Whether the owner pays: out of warranty (the developer cannot be
/// responsible then) or owner misuse. A chargeable plan needs its cost, a
/// free one none.
fn chargeable(
    responsible: ResponsibleParty,
    item: WarrantyItem,
    warranty: Option<&WarrantyFinding>,
    plan: &RepairPlan,
) -> Result<bool, DomainError> {
    let in_warranty = warranty.is_none_or(|w| w.in_warranty);
    if responsible == ResponsibleParty::Developer && !in_warranty {
        let ended = warranty.map(|w| w.last_day.to_string()).unwrap_or_default();
        return Err(DomainError::input(
            "responsible party",
            format!(
                "the developer's warranty for {} ended on {ended}; the repair is chargeable",
                item.as_str().replace('_', " ")
            ),
        ));
    }
    let chargeable = !in_warranty || responsible == ResponsibleParty::OwnerMisuse;
    match (chargeable, plan.cost) {
        (true, None) | (true, Some(Money { fen: 0 })) => Err(DomainError::input(
            "plan cost",
            "a chargeable repair needs its cost for the owner",
        )),
        (false, Some(_)) => Err(DomainError::input(
            "plan cost",
            "the repair is free for the owner; leave the cost out",
        )),
        _ => Ok(chargeable),
    }
}
