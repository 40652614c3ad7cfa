//! Service-level clocks: hand-checked cases across the 2025 National Day
//! holiday and its adjusted working days, and each clock rule.
//!
//! The helpers and histories the modules share are here.

mod holiday;
mod pauses;
mod priority;
mod status;

use std::sync::Arc;

use chrono::TimeDelta;
use domain::actor::{Actor, Role};
use domain::calendar::CalendarRegistry;
use domain::decider::Stamped;
use domain::ids::ContractorId;
use domain::policy::{ClockKind, ServicePolicy};
use domain::sla::{evaluate, ClockReport, SlaReport};
use domain::testing::fixtures::*;
use domain::ticket::*;
use domain::warranty::WarrantyItem;

type H = Vec<Stamped<TicketEvent>>;

fn agent() -> Actor {
    staff(Role::Agent)
}

fn registry() -> CalendarRegistry {
    CalendarRegistry::with_cn_mainland()
}

fn report(events: &H, at: &str) -> SlaReport {
    evaluate(events, &registry(), bj(at)).unwrap()
}

fn clock(events: &H, kind: ClockKind, at: &str) -> ClockReport {
    report(events, at).clock(kind).cloned().unwrap()
}

fn received(refs: &Refs, kind: TicketKind, priority: Priority, when: &str) -> H {
    history(refs, vec![(agent(), when, receive(kind, priority))])
}

fn then(refs: &Refs, mut h: H, steps: Vec<(Actor, &str, TicketCommand)>) -> H {
    use domain::decider::Decider;
    for (actor, at, command) in steps {
        let state = TicketDecider::fold(&h);
        let events = TicketDecider::decide(&state, command, &context_at(refs, actor, bj(at)))
            .unwrap_or_else(|e| panic!("step at {at} refused: {e}"));
        h.extend(events);
    }
    h
}

fn ack() -> TicketCommand {
    TicketCommand::Acknowledge {
        promised_at: None,
        note: String::new(),
    }
}

fn hold(reason: HoldReason) -> TicketCommand {
    TicketCommand::PutOnHold {
        reason,
        note: String::new(),
    }
}

fn resume() -> TicketCommand {
    TicketCommand::Resume { note: String::new() }
}

fn minutes(m: i64) -> TimeDelta {
    TimeDelta::minutes(m)
}

/// A policy with round numbers for the rule examples: normal 3 business
/// hours to first response, urgent 2.
fn simple_refs() -> Refs {
    let policy = r#"
        id = "simple"
        version = "1"
        [[rules]]
        kind = "repair"
        priority = "normal"
        first_response = "3h business"
        resolution = "5h business"
        [[rules]]
        kind = "repair"
        priority = "urgent"
        first_response = "2h business"
        resolution = "4h business"
        [[rules]]
        kind = "repair"
        priority = "emergency"
        first_response = "30m 24x7"
        resolution = "24h 24x7"
    "#;
    Refs {
        policy: Arc::new(ServicePolicy::from_toml(policy).unwrap()),
        ..refs()
    }
}

/// Received Monday 29 September 09:00 (simple policy, resolution 5 business
/// hours), dispatched, repaired at 11:00, rejected at 14:00, repaired again
/// at 15:30.
fn rework_history(refs: &Refs) -> H {
    let c1 = || contractor("C-1");
    let h = received(refs, TicketKind::Repair, Priority::Normal, "2025-09-29 09:00");
    then(
        refs,
        h,
        vec![
            (agent(), "2025-09-29 09:10", ack()),
            (
                agent(),
                "2025-09-29 09:20",
                TicketCommand::Dispatch {
                    to: Assignee::Contractor(ContractorId::new("C-1").unwrap()),
                    note: String::new(),
                },
            ),
            (
                c1(),
                "2025-09-29 09:40",
                TicketCommand::RecordArrival { note: String::new() },
            ),
            (
                staff(Role::Engineer),
                "2025-09-29 09:50",
                TicketCommand::Diagnose {
                    cause: "loose trap".into(),
                    responsible: ResponsibleParty::Developer,
                    item: WarrantyItem::WaterSupplyAndDrainage,
                    plan: RepairPlan {
                        content: "tighten".into(),
                        materials: vec![],
                        duration_minutes: 30,
                        cost: None,
                    },
                },
            ),
            (
                c1(),
                "2025-09-29 11:00",
                TicketCommand::CompleteRepair {
                    summary: "tightened".into(),
                    usage_advice: String::new(),
                },
            ),
            (
                agent(),
                "2025-09-29 14:00",
                TicketCommand::RejectRepair {
                    reason: "still drips".into(),
                },
            ),
            (
                agent(),
                "2025-09-29 14:05",
                TicketCommand::Reopen {
                    reason: "rework".into(),
                },
            ),
            (
                c1(),
                "2025-09-29 15:30",
                TicketCommand::CompleteRepair {
                    summary: "trap replaced".into(),
                    usage_advice: String::new(),
                },
            ),
        ],
    )
}
