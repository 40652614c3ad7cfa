//! The diagnosis, by an engineer with the real warranty rules, and the
//! owner's decision on a chargeable plan.

use std::ops::ControlFlow;

use chrono::{DateTime, Utc};
use domain::actor::{Actor, Role};
use domain::ticket::{
    Assignee, Channel, HoldReason, Location, Money, RepairPlan, ResponsibleParty, TicketCommand, Trade,
};
use domain::warranty::WarrantyItem;

use super::{Crew, Job};
use crate::rng::Rng;
use crate::sim::{Sim, Stop};
use crate::tables::{causes, plan_for, MISUSE_CAUSES, THIRD_PARTY_CAUSES};

/// What the diagnosis decided that the work needs.
pub(super) struct Diagnosis {
    /// The owner pays (owner misuse or an expired warranty).
    pub(super) chargeable: bool,
    /// What the plan does, for the completion summary.
    pub(super) content: &'static str,
    /// The planned duration, in minutes.
    pub(super) duration: i64,
}

/// Diagnosed by an engineer (a contractor may not decide who pays), with
/// the warranty finding the decider will record.
pub(super) fn diagnose(sim: &mut Sim<'_>, job: &Job<'_>, crew: &Crew) -> Result<Diagnosis, Stop> {
    let plan = job.plan;
    let t = sim.wall(15, 60);
    let (item, responsible, in_warranty) = finding(sim, job, t);
    let chargeable = !in_warranty || responsible == ResponsibleParty::OwnerMisuse;
    let cause = match responsible {
        ResponsibleParty::OwnerMisuse => sim.note(MISUSE_CAUSES),
        ResponsibleParty::ThirdParty => sim.note(THIRD_PARTY_CAUSES),
        _ => sim.note(causes(plan.trade)),
    };
    let (content, materials, (lo, hi)) = plan_for(plan.trade);
    let duration = sim.rng.between(lo, hi);
    let repair_plan = RepairPlan {
        content: if chargeable {
            format!("{content}（有偿维修）")
        } else {
            content.to_string()
        },
        materials: materials.iter().map(|m| m.to_string()).collect(),
        duration_minutes: duration as u32,
        cost: chargeable.then(|| Money {
            fen: sim.rng.between(8, 200) as u64 * 1000,
        }),
    };
    let diagnoser = match &crew.to {
        Assignee::Engineer(_) => crew.work.clone(),
        Assignee::Contractor(_) => job.cast.engineer.clone(),
    };
    sim.act(
        t,
        &diagnoser,
        Channel::App,
        TicketCommand::Diagnose {
            cause,
            responsible,
            item,
            plan: repair_plan,
        },
    )?;
    Ok(Diagnosis {
        chargeable,
        content,
        duration,
    })
}

/// The warranty item, who is responsible, and whether the item is in
/// warranty, with the delivery date the archive knows at `t` (none yet for
/// a defect found at pre-inspection).
fn finding(sim: &mut Sim<'_>, job: &Job<'_>, t: DateTime<Utc>) -> (WarrantyItem, ResponsibleParty, bool) {
    let (plan, world) = (job.plan, sim.world);
    let common = matches!(plan.location, Location::CommonArea { .. });
    let item = warranty_item(&mut sim.rng, plan.trade, common);
    let report_date = world.calendar.local_date(plan.received_at);
    let known_delivery = sim.delivered_on.filter(|d| *d <= world.calendar.local_date(t));
    let in_warranty = known_delivery.is_none_or(|delivered_on| {
        world
            .warranty
            .finding_on(
                item,
                Some(plan.location.project()),
                delivered_on,
                report_date,
                &world.calendar,
            )
            .in_warranty
    });
    let responsible = if job.handover {
        sim.rng.weighted(&[
            (ResponsibleParty::Developer, 85),
            (ResponsibleParty::ContractorWorkmanship, 15),
        ])
    } else if in_warranty {
        sim.rng.weighted(&[
            (ResponsibleParty::Developer, 76),
            (ResponsibleParty::ContractorWorkmanship, 10),
            (ResponsibleParty::OwnerMisuse, 9),
            (ResponsibleParty::ThirdParty, 5),
        ])
    } else {
        sim.rng
            .weighted(&[(ResponsibleParty::OwnerMisuse, 40), (ResponsibleParty::ThirdParty, 60)])
    };
    (item, responsible, in_warranty)
}

/// The owner's decision on the plan: `Continue` with whether the work
/// needs another visit, or `Break` when the owner declined a chargeable
/// plan and the ticket was closed.
pub(super) fn owner_decision(
    sim: &mut Sim<'_>,
    job: &Job<'_>,
    chargeable: bool,
) -> Result<ControlFlow<(), bool>, Stop> {
    if chargeable {
        return chargeable_decision(sim, job);
    }
    if sim.rng.percent(50) {
        let (actor, channel) = consenting(sim, job);
        let t = sim.wall(5, 30);
        confirm(sim, job, t, &actor, channel)?;
    }
    Ok(ControlFlow::Continue(false))
}

/// A costed plan: maybe a wait for the owner's decision, maybe declined
/// (mostly closed then), otherwise confirmed.
fn chargeable_decision(sim: &mut Sim<'_>, job: &Job<'_>) -> Result<ControlFlow<(), bool>, Stop> {
    let cast = job.cast;
    let mut needs_visit = false;
    if sim.rng.percent(15) {
        let t = sim.wall(10, 60);
        sim.act(
            t,
            &cast.agent,
            Channel::BackOffice,
            TicketCommand::PutOnHold {
                reason: HoldReason::WaitingForOwnerDecision,
                note: "业主考虑是否接受维修费用".into(),
            },
        )?;
        let t = sim.business(450, 5 * 450);
        sim.act(
            t,
            &cast.agent,
            Channel::CallCenter400,
            TicketCommand::Resume {
                note: "业主已答复".into(),
            },
        )?;
        needs_visit = true;
    }
    let (actor, channel) = consenting(sim, job);
    if sim.rng.percent(20) {
        let t = sim.wall(5, 120);
        let reason = sim.note(&["业主认为费用过高", "业主认为应由开发商承担", "业主决定自行找人维修"]);
        sim.act(t, &actor, channel, TicketCommand::DeclinePlan { reason })?;
        if sim.rng.percent(80) {
            let t = sim.business(60, 900);
            sim.act(
                t,
                &cast.manager,
                Channel::BackOffice,
                TicketCommand::Close {
                    note: "业主不同意有偿维修方案，工单关闭".into(),
                },
            )?;
            return Ok(ControlFlow::Break(()));
        }
        needs_visit = true;
    }
    let t = sim.wall(5, 120);
    confirm(sim, job, t, &actor, channel)?;
    Ok(ControlFlow::Continue(needs_visit))
}

/// The owner themselves, or the engineer recording their consent.
fn consenting(sim: &mut Sim<'_>, job: &Job<'_>) -> (Actor, Channel) {
    match job.cast.owner_or_agent(&mut sim.rng) {
        (a, c) if a.role == Role::Owner => (a, c),
        _ => (job.cast.engineer.clone(), Channel::App),
    }
}

fn confirm(sim: &mut Sim<'_>, job: &Job<'_>, t: DateTime<Utc>, actor: &Actor, channel: Channel) -> Result<(), Stop> {
    sim.act(
        t,
        actor,
        channel,
        TicketCommand::ConfirmPlan {
            confirmation: format!("FA-{}", job.plan.id),
        },
    )
}

/// The warranty item a defect of `trade` falls under.
fn warranty_item(rng: &mut Rng, trade: Trade, common: bool) -> WarrantyItem {
    use WarrantyItem as W;
    match trade {
        Trade::Leak if common => *rng.pick(&[W::RoofWaterproofing, W::ExteriorWallLeakage]),
        Trade::Leak => rng.weighted(&[
            (W::WaterproofedRooms, 6),
            (W::ExteriorWallLeakage, 3),
            (W::RoofWaterproofing, 1),
        ]),
        Trade::Crack => rng.weighted(&[
            (W::PlasterFalling, 5),
            (W::HollowOrCrackedFloor, 4),
            (W::FoundationAndStructure, 1),
        ]),
        Trade::Hollow => *rng.pick(&[W::HollowOrCrackedFloor, W::PlasterFalling]),
        Trade::DoorsWindows => W::DoorsAndWindows,
        Trade::WaterElectric => *rng.pick(&[W::ElectricalLines, W::WaterSupplyAndDrainage, W::LampsAndSwitches]),
        Trade::Hvac => *rng.pick(&[W::HeatingSystem, W::CoolingSystem]),
        Trade::Fixtures => W::SanitaryFixtures,
        Trade::Blockage => W::BlockedPipes,
        Trade::Structure => W::FoundationAndStructure,
        Trade::Facade => W::ExteriorWallLeakage,
        Trade::Elevator => W::EquipmentInstallation,
        Trade::Landscaping | Trade::Decoration | Trade::None | Trade::Other => W::Decoration,
    }
}
