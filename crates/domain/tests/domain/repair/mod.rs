//! The repair lifecycle: every transition and every refusal.
//!
//! The helpers and histories the modules share are here.

mod acceptance;
mod changes;
mod diagnosis;
mod holds_and_endings;
mod lifecycle;
mod roles;
mod timing;

use domain::actor::{Actor, Role};
use domain::decider::{Context, Decider, Stamped};
use domain::ids::ContractorId;
use domain::testing::fixtures::*;
use domain::ticket::*;
use domain::warranty::WarrantyItem;

type H = Vec<Stamped<TicketEvent>>;

fn agent() -> Actor {
    staff(Role::Agent)
}
fn engineer() -> Actor {
    staff(Role::Engineer)
}
fn c1() -> Actor {
    contractor("C-1")
}
fn ack() -> TicketCommand {
    TicketCommand::Acknowledge {
        promised_at: Some(bj("2025-09-30 14:00")),
        note: "visit this afternoon".into(),
    }
}
fn dispatch(to: &str) -> TicketCommand {
    TicketCommand::Dispatch {
        to: Assignee::Contractor(ContractorId::new(to).unwrap()),
        note: String::new(),
    }
}
fn arrive() -> TicketCommand {
    TicketCommand::RecordArrival { note: String::new() }
}
fn diagnose(responsible: ResponsibleParty, cost: Option<u64>) -> TicketCommand {
    TicketCommand::Diagnose {
        cause: "failed sealant around the floor drain".into(),
        responsible,
        item: WarrantyItem::WaterproofedRooms,
        plan: RepairPlan {
            content: "re-seal the floor drain, 48 h water test".into(),
            materials: vec!["polyurethane sealant".into()],
            duration_minutes: 180,
            cost: cost.map(|fen| Money { fen }),
        },
    }
}
fn complete() -> TicketCommand {
    TicketCommand::CompleteRepair {
        summary: "drain re-sealed".into(),
        usage_advice: "no standing water for 24 h".into(),
    }
}
fn accept() -> TicketCommand {
    TicketCommand::AcceptRepair {
        confirmation: "WXQR-0001".into(),
        ratings: ratings(5),
        comment: "quick".into(),
    }
}
fn reject() -> TicketCommand {
    TicketCommand::RejectRepair {
        reason: "still dripping".into(),
    }
}
fn close() -> TicketCommand {
    TicketCommand::Close { note: String::new() }
}

/// Received 10:00, acknowledged 10:30, dispatched to C-1 at 11:00 on
/// Tuesday 30 September 2025.
fn dispatched(refs: &Refs) -> H {
    history(
        refs,
        vec![
            (
                agent(),
                "2025-09-30 10:00",
                receive(TicketKind::Repair, Priority::Urgent),
            ),
            (agent(), "2025-09-30 10:30", ack()),
            (agent(), "2025-09-30 11:00", dispatch("C-1")),
        ],
    )
}

/// … arrived 13:40 and diagnosed (developer, in warranty) 13:50.
fn diagnosed(refs: &Refs) -> H {
    let mut h = dispatched(refs);
    h.extend(history_from(
        refs,
        &h,
        vec![
            (c1(), "2025-09-30 13:40", arrive()),
            (
                engineer(),
                "2025-09-30 13:50",
                diagnose(ResponsibleParty::Developer, None),
            ),
        ],
    ));
    h
}

/// … repaired at 15:00.
fn repaired(refs: &Refs) -> H {
    let mut h = diagnosed(refs);
    h.extend(history_from(refs, &h, vec![(c1(), "2025-09-30 15:00", complete())]));
    h
}

/// Continues a history with more steps; panics on a refusal.
fn history_from(refs: &Refs, before: &H, steps: Vec<(Actor, &str, TicketCommand)>) -> H {
    let mut all = before.clone();
    let mut new = Vec::new();
    for (actor, at, command) in steps {
        let state = TicketDecider::fold(&all);
        let events = TicketDecider::decide(&state, command, &context_at(refs, actor, bj(at)))
            .unwrap_or_else(|e| panic!("step at {at} refused: {e}"));
        all.extend(events.clone());
        new.extend(events);
    }
    new
}

fn status(h: &H) -> Status {
    TicketDecider::fold(h).ticket().unwrap().status
}

fn at<'r>(refs: &'r Refs, actor: Actor, when: &str) -> Context<TicketReference<'r>> {
    context_at(refs, actor, bj(when))
}
