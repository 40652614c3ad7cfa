//! A repair or handover defect, from receipt to closing and revisit: the
//! first response, dispatch and the visit here, the diagnosis and the
//! owner's consent in [`diagnosis`], the work, acceptance (with rework)
//! and the revisit in [`acceptance`].

mod acceptance;
mod diagnosis;

use std::ops::ControlFlow;

use domain::actor::{Actor, Role};
use domain::ticket::{Assignee, Channel, HoldReason, Priority, TicketCommand, TicketKind, Trade};

use crate::plan::TicketPlan;
use crate::rng::Rng;
use crate::sim::{merge_duplicate, receive_command, receiver, Cast, Sim, Stop};
use crate::time::{minutes, plus};
use crate::world::{user, World};
use crate::GeneratorError;

/// The ticket being repaired and who works on it.
struct Job<'a> {
    plan: &'a TicketPlan,
    cast: &'a Cast,
    /// The project of the ticket's unit (its contractors' panel).
    project: u32,
    /// A handover defect rather than a repair reported by an owner.
    handover: bool,
}

/// Who the ticket is dispatched to, and who of them does the work.
struct Crew {
    to: Assignee,
    work: Actor,
}

/// A repair or handover defect, from receipt to closing and revisit.
pub(crate) fn repair(sim: &mut Sim<'_>, plan: &TicketPlan, cast: &Cast, project: u32) -> Result<(), Stop> {
    let job = Job {
        plan,
        cast,
        project,
        handover: plan.kind == TicketKind::HandoverDefect,
    };
    sim.act(
        plan.received_at,
        &receiver(plan, cast),
        plan.channel,
        receive_command(plan),
    )?;
    if let Some(into) = &plan.duplicate_of {
        return merge_duplicate(sim, cast, into);
    }
    if !job.handover && first_response(sim, &job)?.is_break() {
        return Ok(());
    }
    let mut crew = dispatch(sim, &job)?;
    owner_unreachable(sim, &job, &crew.work)?;
    visit(sim, &job, &crew.work)?;
    let diagnosis = diagnosis::diagnose(sim, &job, &crew)?;
    let ControlFlow::Continue(needs_visit) = diagnosis::owner_decision(sim, &job, diagnosis.chargeable)? else {
        return Ok(());
    };
    acceptance::carry_out(sim, &job, &crew.work, &diagnosis, needs_visit)?;
    let rejections = acceptance::accept(sim, &job, &mut crew)?;
    acceptance::revisit(sim, &job, &mut crew, rejections)
}

/// The first response to an owner's report; `Break` when the owner
/// withdrew it, which ends the repair.
fn first_response(sim: &mut Sim<'_>, job: &Job<'_>) -> Result<ControlFlow<()>, Stop> {
    acknowledge(sim, job)?;
    if sim.rng.permille(15) {
        let (actor, channel) = job.cast.owner_or_agent(&mut sim.rng);
        let t = sim.staff(30, 900);
        let reason = sim.note(&["业主已自行处理", "问题已自行消失", "业主表示暂不需要维修"]);
        sim.act(t, &actor, channel, TicketCommand::Withdraw { reason })?;
        return Ok(ControlFlow::Break(()));
    }
    triage(sim, job)?;
    Ok(ControlFlow::Continue(()))
}

/// Acknowledged with a promised visit time: mostly within the policy's
/// target, some late.
fn acknowledge(sim: &mut Sim<'_>, job: &Job<'_>) -> Result<(), Stop> {
    let t = match (job.plan.priority, sim.rng.below(100)) {
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
        sim.world
            .calendar
            .add_business_time(t, minutes(sim.rng.between(240, 900)))
    };
    let note = sim.note(&[
        "已与业主确认问题，告知上门时间",
        "业主已确认报修内容",
        "已回电业主，约定尽快安排上门",
    ]);
    sim.act(
        t,
        &job.cast.agent,
        Channel::CallCenter400,
        TicketCommand::Acknowledge {
            promised_at: Some(promised),
            note,
        },
    )
}

/// After the first response: a priority change, an internal remark, the
/// link to the ticket's incident.
fn triage(sim: &mut Sim<'_>, job: &Job<'_>) -> Result<(), Stop> {
    let (plan, cast) = (job.plan, job.cast);
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
    Ok(())
}

/// Dispatched by the manager or an agent to an engineer or a contractor.
fn dispatch(sim: &mut Sim<'_>, job: &Job<'_>) -> Result<Crew, Stop> {
    let to = assignee(sim.world, &mut sim.rng, job.project, job.plan.trade, None);
    let t = if job.handover {
        sim.business(30, 480)
    } else {
        sim.staff(5, 240)
    };
    let dispatcher = if sim.rng.percent(50) {
        &job.cast.manager
    } else {
        &job.cast.agent
    };
    sim.act(
        t,
        dispatcher,
        Channel::BackOffice,
        TicketCommand::Dispatch {
            to: to.clone(),
            note: if job.handover {
                "交付查验问题，请在承诺日期前整改".into()
            } else {
                "请尽快联系业主上门".into()
            },
        },
    )?;
    let work = worker(&mut sim.rng, &to)?;
    Ok(Crew { to, work })
}

/// Sometimes the owner cannot be reached before the visit: on hold, then
/// resumed days later.
fn owner_unreachable(sim: &mut Sim<'_>, job: &Job<'_>, work: &Actor) -> Result<(), Stop> {
    if !sim.emergency && sim.rng.percent(4) {
        let t = sim.business(30, 240);
        sim.act(
            t,
            work,
            Channel::App,
            TicketCommand::PutOnHold {
                reason: HoldReason::OwnerUnreachable,
                note: "多次致电业主无人接听".into(),
            },
        )?;
        let t = sim.business(450, 5 * 450);
        sim.act(
            t,
            &job.cast.agent,
            Channel::CallCenter400,
            TicketCommand::Resume {
                note: "已联系上业主".into(),
            },
        )?;
    }
    Ok(())
}

/// The first visit: at once for an emergency (made less urgent once the
/// water is stopped), otherwise in an agreed appointment window.
fn visit(sim: &mut Sim<'_>, job: &Job<'_>, work: &Actor) -> Result<(), Stop> {
    if sim.emergency {
        let t = if sim.rng.percent(88) {
            sim.wall(15, 110)
        } else {
            sim.wall(120, 240)
        };
        sim.act(
            t,
            work,
            Channel::App,
            TicketCommand::RecordArrival {
                note: "紧急上门".into(),
            },
        )?;
        if sim.rng.percent(40) {
            let t = sim.wall(20, 60);
            sim.act(
                t,
                &job.cast.engineer,
                Channel::App,
                TicketCommand::ChangePriority {
                    priority: Priority::Urgent,
                    reason: "已临时止水，剩余维修不再紧急".into(),
                },
            )?;
        }
        return Ok(());
    }
    let t = sim.business(10, 120);
    let window = match (job.plan.priority, sim.rng.below(100)) {
        (Priority::Urgent, 0..=84) => sim.window(t, 30, 380),
        (Priority::Urgent, _) => sim.window(t, 400, 900),
        (_, 0..=84) => sim.window(t, 60, 800),
        _ => sim.window(t, 800, 1500),
    };
    sim.act(t, work, Channel::App, TicketCommand::Schedule { window })?;
    let arrival = if sim.rng.percent(90) {
        plus(window.from, minutes(sim.rng.between(-15, 60)))
    } else {
        plus(window.from, minutes(sim.rng.between(120, 300)))
    };
    sim.act(
        arrival,
        work,
        Channel::App,
        TicketCommand::RecordArrival { note: String::new() },
    )
}

/// Who of `to` does the work: the engineer, or one of the contractor's
/// workers.
fn worker(rng: &mut Rng, to: &Assignee) -> Result<Actor, GeneratorError> {
    match to {
        Assignee::Engineer(user) => Ok(Actor::staff(user.clone(), Role::Engineer)),
        Assignee::Contractor(company) => Ok(Actor::contractor(
            user(format!("{company}-w{}", rng.between(1, 4)))?,
            company.clone(),
        )),
    }
}
/// An engineer or a contractor of the project's panel for the trade.
fn assignee(world: &World, rng: &mut Rng, project: u32, trade: Trade, other_than: Option<&Assignee>) -> Assignee {
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
