//! A repair or handover defect, from receipt to closing and revisit.

use domain::actor::{Actor, Role};
use domain::ticket::{
    Assignee, Channel, HoldReason, Location, Money, Priority, RepairPlan, ResponsibleParty, RevisitOutcome,
    TicketCommand, TicketKind, TouchpointStage, Trade,
};
use domain::warranty::WarrantyItem;

use crate::plan::TicketPlan;
use crate::rng::Rng;
use crate::sim::{merge_duplicate, ratings, receive_command, receiver, Cast, Sim, Stop};
use crate::tables::{causes, plan_for, MISUSE_CAUSES, THIRD_PARTY_CAUSES};
use crate::time::{minutes, plus};
use crate::world::{user, World};
use crate::GeneratorError;

pub(crate) fn worker(rng: &mut Rng, to: &Assignee) -> Result<Actor, GeneratorError> {
    match to {
        Assignee::Engineer(user) => Ok(Actor::staff(user.clone(), Role::Engineer)),
        Assignee::Contractor(company) => Ok(Actor::contractor(
            user(format!("{company}-w{}", rng.between(1, 4)))?,
            company.clone(),
        )),
    }
}

/// An engineer or a contractor of the project's panel for the trade.
pub(crate) fn assignee(
    world: &World,
    rng: &mut Rng,
    project: u32,
    trade: Trade,
    other_than: Option<&Assignee>,
) -> Assignee {
    for _ in 0..4 {
        let candidate = if rng.percent(30) {
            let n = world.engineers.len() as u64;
            let e = (u64::from(project) * 3 + rng.below(3)) % n;
            Assignee::Engineer(world.engineers[e as usize].user.clone())
        } else {
            let n = world.contractors.len() as u64;
            let trade_index = Trade::ALL.iter().position(|t| *t == trade).unwrap_or(0) as u64;
            let c = (u64::from(project) * 7 + trade_index * 3 + rng.below(2)) % n;
            Assignee::Contractor(world.contractors[c as usize].clone())
        };
        if Some(&candidate) != other_than {
            return candidate;
        }
    }
    Assignee::Contractor(world.contractors[rng.below(world.contractors.len() as u64) as usize].clone())
}

pub(crate) fn warranty_item(rng: &mut Rng, trade: Trade, common: bool) -> WarrantyItem {
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

/// A repair or handover defect, from receipt to closing and revisit.
pub(crate) fn repair(sim: &mut Sim<'_>, plan: &TicketPlan, cast: &Cast, project: u32) -> Result<(), Stop> {
    let handover = plan.kind == TicketKind::HandoverDefect;
    sim.act(
        plan.received_at,
        &receiver(plan, cast),
        plan.channel,
        receive_command(plan),
    )?;
    if let Some(into) = &plan.duplicate_of {
        return merge_duplicate(sim, cast, into);
    }
    let world = sim.world;

    if !handover {
        // First response: mostly within the policy's target, some late.
        let t = match (plan.priority, sim.rng.below(100)) {
            (Priority::Emergency, 0..=89) => sim.wall(3, 25),
            (Priority::Emergency, _) => sim.wall(30, 75),
            (Priority::Urgent, 0..=84) => sim.business(5, 90),
            (Priority::Urgent, 85..=94) => sim.business(90, 120),
            (Priority::Urgent, _) => sim.business(120, 300),
            (_, 0..=79) => sim.business(5, 240),
            (_, 80..=91) => sim.business(240, 450),
            _ => sim.business(450, 1000),
        };
        let promised = if sim.emergency {
            plus(t, minutes(sim.rng.between(40, 110)))
        } else {
            world.calendar.add_business_time(t, minutes(sim.rng.between(240, 900)))
        };
        let note = sim.note(&[
            "已与业主确认问题，告知上门时间",
            "业主已确认报修内容",
            "已回电业主，约定尽快安排上门",
        ]);
        sim.act(
            t,
            &cast.agent,
            Channel::CallCenter400,
            TicketCommand::Acknowledge {
                promised_at: Some(promised),
                note,
            },
        )?;
        if sim.rng.permille(15) {
            let (actor, channel) = cast.owner_or_agent(&mut sim.rng);
            let t = sim.staff(30, 900);
            let reason = sim.note(&["业主已自行处理", "问题已自行消失", "业主表示暂不需要维修"]);
            return sim.act(t, &actor, channel, TicketCommand::Withdraw { reason });
        }
        if plan.priority != Priority::Emergency && sim.rng.percent(4) {
            let (priority, reason) = if plan.priority == Priority::Normal {
                (Priority::Urgent, "业主再次来电，问题已影响正常使用")
            } else {
                (Priority::Normal, "经电话核实，问题不影响正常使用")
            };
            let t = sim.business(10, 300);
            sim.act(
                t,
                &cast.agent,
                Channel::CallCenter400,
                TicketCommand::ChangePriority {
                    priority,
                    reason: reason.into(),
                },
            )?;
        }
        if sim.rng.percent(4) {
            let t = sim.staff(5, 120);
            let text = sim.note(&["业主要求下午上门", "业主白天上班，需提前电话联系", "楼上住户需配合检查"]);
            sim.act(
                t,
                &cast.agent,
                Channel::BackOffice,
                TicketCommand::Comment { text, internal: true },
            )?;
        }
        if let Some(incident) = &plan.incident {
            let t = sim.staff(30, 180);
            sim.act(
                t,
                &cast.manager,
                Channel::BackOffice,
                TicketCommand::LinkIncident {
                    incident: incident.clone(),
                },
            )?;
        }
    }

    // Dispatch.
    let mut to = assignee(world, &mut sim.rng, project, plan.trade, None);
    let t = if handover {
        sim.business(30, 480)
    } else {
        sim.staff(5, 240)
    };
    let dispatcher = if sim.rng.percent(50) {
        &cast.manager
    } else {
        &cast.agent
    };
    sim.act(
        t,
        dispatcher,
        Channel::BackOffice,
        TicketCommand::Dispatch {
            to: to.clone(),
            note: if handover {
                "交付查验问题，请在承诺日期前整改".into()
            } else {
                "请尽快联系业主上门".into()
            },
        },
    )?;
    let mut work = worker(&mut sim.rng, &to)?;

    if !sim.emergency && sim.rng.percent(4) {
        let t = sim.business(30, 240);
        sim.act(
            t,
            &work,
            Channel::App,
            TicketCommand::PutOnHold {
                reason: HoldReason::OwnerUnreachable,
                note: "多次致电业主无人接听".into(),
            },
        )?;
        let t = sim.business(450, 5 * 450);
        sim.act(
            t,
            &cast.agent,
            Channel::CallCenter400,
            TicketCommand::Resume {
                note: "已联系上业主".into(),
            },
        )?;
    }

    // The visit.
    if sim.emergency {
        let t = if sim.rng.percent(88) {
            sim.wall(15, 110)
        } else {
            sim.wall(120, 240)
        };
        sim.act(
            t,
            &work,
            Channel::App,
            TicketCommand::RecordArrival {
                note: "紧急上门".into(),
            },
        )?;
        if sim.rng.percent(40) {
            let t = sim.wall(20, 60);
            sim.act(
                t,
                &cast.engineer,
                Channel::App,
                TicketCommand::ChangePriority {
                    priority: Priority::Urgent,
                    reason: "已临时止水，剩余维修不再紧急".into(),
                },
            )?;
        }
    } else {
        let t = sim.business(10, 120);
        let window = match (plan.priority, sim.rng.below(100)) {
            (Priority::Urgent, 0..=84) => sim.window(t, 30, 380),
            (Priority::Urgent, _) => sim.window(t, 400, 900),
            (_, 0..=84) => sim.window(t, 60, 800),
            _ => sim.window(t, 800, 1500),
        };
        sim.act(t, &work, Channel::App, TicketCommand::Schedule { window })?;
        let arrival = if sim.rng.percent(90) {
            plus(window.from, minutes(sim.rng.between(-15, 60)))
        } else {
            plus(window.from, minutes(sim.rng.between(120, 300)))
        };
        sim.act(
            arrival,
            &work,
            Channel::App,
            TicketCommand::RecordArrival { note: String::new() },
        )?;
    }

    // Diagnosis, by an engineer (a contractor may not decide who pays),
    // with the warranty finding the decider will record.
    let t = sim.wall(15, 60);
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
    let responsible = if handover {
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
    let diagnoser = match &to {
        Assignee::Engineer(_) => work.clone(),
        Assignee::Contractor(_) => cast.engineer.clone(),
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

    // The owner's decision on a chargeable plan.
    let mut needs_visit = false;
    if chargeable {
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
        let (actor, channel) = match cast.owner_or_agent(&mut sim.rng) {
            (a, c) if a.role == Role::Owner => (a, c),
            _ => (cast.engineer.clone(), Channel::App),
        };
        if sim.rng.percent(20) {
            let t = sim.wall(5, 120);
            let reason = sim.note(&["业主认为费用过高", "业主认为应由开发商承担", "业主决定自行找人维修"]);
            sim.act(t, &actor, channel, TicketCommand::DeclinePlan { reason })?;
            if sim.rng.percent(80) {
                let t = sim.business(60, 900);
                return sim.act(
                    t,
                    &cast.manager,
                    Channel::BackOffice,
                    TicketCommand::Close {
                        note: "业主不同意有偿维修方案，工单关闭".into(),
                    },
                );
            }
            needs_visit = true;
        }
        let t = sim.wall(5, 120);
        sim.act(
            t,
            &actor,
            channel,
            TicketCommand::ConfirmPlan {
                confirmation: format!("FA-{}", plan.id),
            },
        )?;
    } else if sim.rng.percent(50) {
        let (actor, channel) = match cast.owner_or_agent(&mut sim.rng) {
            (a, c) if a.role == Role::Owner => (a, c),
            _ => (cast.engineer.clone(), Channel::App),
        };
        let t = sim.wall(5, 30);
        sim.act(
            t,
            &actor,
            channel,
            TicketCommand::ConfirmPlan {
                confirmation: format!("FA-{}", plan.id),
            },
        )?;
    }

    if sim.rng.percent(5) {
        let t = sim.wall(30, 240);
        sim.act(
            t,
            &work,
            Channel::App,
            TicketCommand::PutOnHold {
                reason: HoldReason::WaitingForMaterial,
                note: "需订购材料".into(),
            },
        )?;
        let t = sim.business(2 * 450, 10 * 450);
        sim.act(
            t,
            &work,
            Channel::App,
            TicketCommand::Resume {
                note: "材料已到货".into(),
            },
        )?;
        needs_visit = true;
    }
    let big = matches!(
        plan.trade,
        Trade::Leak | Trade::Crack | Trade::Hollow | Trade::Facade | Trade::Structure
    );
    if needs_visit || sim.rng.percent(if big { 45 } else { 15 }) {
        let t = sim.wall(5, 30);
        let window = sim.window(t, 450, 5 * 450);
        sim.act(t, &work, Channel::App, TicketCommand::Schedule { window })?;
        let arrival = plus(window.from, minutes(sim.rng.between(-10, 45)));
        sim.act(
            arrival,
            &work,
            Channel::App,
            TicketCommand::RecordArrival {
                note: "施工上门".into(),
            },
        )?;
    }
    if sim.rng.percent(30) {
        let t = sim.wall(30, 120);
        let note = sim.note(&["已告知业主施工进度", "施工中，预计今天完成", "等待材料干燥后继续施工"]);
        sim.act(t, &work, Channel::App, TicketCommand::NoteProgress { note })?;
    }
    let t = sim.wall(duration / 2, duration + 30);
    sim.act(
        t,
        &work,
        Channel::App,
        TicketCommand::CompleteRepair {
            summary: format!("{content}，已完成"),
            usage_advice: "已告知业主使用注意事项".into(),
        },
    )?;

    // Acceptance, after rework if the owner rejects the work.
    let rejections = if sim.rng.percent(if handover { 10 } else { 8 }) {
        if sim.rng.percent(25) {
            2
        } else {
            1
        }
    } else {
        0
    };
    let acceptor = |sim: &mut Sim<'_>| match cast.owner_or_agent(&mut sim.rng) {
        (a, c) if a.role == Role::Owner => (a, c),
        _ if sim.rng.percent(50) => (cast.engineer.clone(), Channel::App),
        other => other,
    };
    for round in 0..rejections {
        let (actor, channel) = acceptor(sim);
        let t = sim.wall(10, 600);
        let reason = sim.note(&["维修后仍有渗水", "修补痕迹明显，不满意", "问题未彻底解决"]);
        sim.act(t, &actor, channel, TicketCommand::RejectRepair { reason })?;
        let t = sim.business(30, 300);
        sim.act(
            t,
            &cast.agent,
            Channel::BackOffice,
            TicketCommand::Reopen {
                reason: "业主验收不合格，安排返修".into(),
            },
        )?;
        let redispatch = round > 0 || sim.rng.percent(35);
        rework(sim, cast, plan, project, &mut to, &mut work, redispatch)?;
    }
    let (actor, channel) = acceptor(sim);
    let t = sim.wall(10, 600);
    let r = ratings(&mut sim.rng, rejections);
    let comment = match r.overall {
        5 => "维修及时，很满意",
        4 => "基本满意",
        3 => "一般",
        _ => "等待时间太长，不满意",
    };
    sim.act(
        t,
        &actor,
        channel,
        TicketCommand::AcceptRepair {
            confirmation: format!("QR-{}", plan.id),
            ratings: r,
            comment: comment.into(),
        },
    )?;
    let closer = if sim.rng.percent(50) {
        &cast.manager
    } else {
        &cast.agent
    };
    let t = sim.business(10, 600);
    sim.act(
        t,
        closer,
        Channel::BackOffice,
        TicketCommand::Close {
            note: "已验收，归档".into(),
        },
    )?;

    // Revisit calls: more often for emergencies and urgent repairs.
    let revisit_share = match plan.priority {
        Priority::Emergency | Priority::Urgent => 55,
        Priority::Normal => 33,
    };
    if !handover && sim.rng.percent(revisit_share) {
        let outcome = sim.rng.weighted(&[
            (RevisitOutcome::Satisfied, 84),
            (RevisitOutcome::Dissatisfied, 6),
            (RevisitOutcome::ProblemPersists, 4),
            (RevisitOutcome::Unreachable, 6),
        ]);
        let revisit_ratings = match outcome {
            RevisitOutcome::Satisfied | RevisitOutcome::Dissatisfied => Some(ratings(&mut sim.rng, rejections)),
            _ => None,
        };
        let stage = if sim.rng.percent(85) {
            TouchpointStage::WarrantyService
        } else {
            TouchpointStage::ResidenceRevisit
        };
        let t = sim.business(2 * 450, 10 * 450);
        sim.act(
            t,
            &cast.agent,
            Channel::Revisit,
            TicketCommand::RecordRevisit {
                outcome,
                ratings: revisit_ratings,
                stage,
                note: "维修回访".into(),
            },
        )?;
        if outcome == RevisitOutcome::ProblemPersists && sim.rng.percent(60) {
            let t = sim.business(30, 300);
            sim.act(
                t,
                &cast.agent,
                Channel::BackOffice,
                TicketCommand::Reopen {
                    reason: "回访发现问题复发".into(),
                },
            )?;
            rework(sim, cast, plan, project, &mut to, &mut work, false)?;
            let (actor, channel) = acceptor(sim);
            let t = sim.wall(10, 600);
            let r = ratings(&mut sim.rng, 1);
            sim.act(
                t,
                &actor,
                channel,
                TicketCommand::AcceptRepair {
                    confirmation: format!("QR-{}-R", plan.id),
                    ratings: r,
                    comment: "返修后已解决".into(),
                },
            )?;
            let t = sim.business(10, 600);
            sim.act(
                t,
                &cast.manager,
                Channel::BackOffice,
                TicketCommand::Close {
                    note: "返修完成，归档".into(),
                },
            )?;
        }
    }
    Ok(())
}

/// Rework after a reopen: maybe to another assignee, a visit, completion.
pub(crate) fn rework(
    sim: &mut Sim<'_>,
    cast: &Cast,
    plan: &TicketPlan,
    project: u32,
    to: &mut Assignee,
    work: &mut Actor,
    redispatch: bool,
) -> Result<(), Stop> {
    let world = sim.world;
    if redispatch {
        let next = assignee(world, &mut sim.rng, project, plan.trade, Some(to));
        let t = sim.business(10, 240);
        sim.act(
            t,
            &cast.manager,
            Channel::BackOffice,
            TicketCommand::Dispatch {
                to: next.clone(),
                note: "返修，改派维修单位".into(),
            },
        )?;
        *work = worker(&mut sim.rng, &next)?;
        *to = next;
    }
    let t = sim.business(10, 240);
    let window = sim.window(t, 120, 3 * 450);
    sim.act(t, work, Channel::App, TicketCommand::Schedule { window })?;
    let arrival = plus(window.from, minutes(sim.rng.between(-10, 60)));
    sim.act(
        arrival,
        work,
        Channel::App,
        TicketCommand::RecordArrival {
            note: "返修上门".into(),
        },
    )?;
    let t = sim.wall(60, 300);
    sim.act(
        t,
        work,
        Channel::App,
        TicketCommand::CompleteRepair {
            summary: "返修完成".into(),
            usage_advice: "已再次告知业主使用注意事项".into(),
        },
    )
}
