//! The work, the owner's acceptance (after rework when the owner rejects
//! it), closing, and the revisit call that may reopen the ticket.

use domain::actor::{Actor, Role};
use domain::ticket::{Channel, HoldReason, Priority, RevisitOutcome, TicketCommand, TouchpointStage, Trade};

use super::diagnosis::Diagnosis;
use super::{assignee, worker, Crew, Job};
use crate::sim::{ratings, Sim, Stop};
use crate::time::{minutes, plus};

/// The work: maybe a wait for material, a second visit (always after a
/// wait), progress notes, completion.
pub(super) fn carry_out(
    sim: &mut Sim<'_>,
    job: &Job<'_>,
    work: &Actor,
    diagnosis: &Diagnosis,
    needs_visit: bool,
) -> Result<(), Stop> {
    let mut needs_visit = needs_visit;
    if sim.rng.percent(5) {
        let t = sim.wall(30, 240);
        sim.act(
            t,
            work,
            Channel::App,
            TicketCommand::PutOnHold {
                reason: HoldReason::WaitingForMaterial,
                note: "需订购材料".into(),
            },
        )?;
        let t = sim.business(2 * 450, 10 * 450);
        sim.act(
            t,
            work,
            Channel::App,
            TicketCommand::Resume {
                note: "材料已到货".into(),
            },
        )?;
        needs_visit = true;
    }
    let big = matches!(
        job.plan.trade,
        Trade::Leak | Trade::Crack | Trade::Hollow | Trade::Facade | Trade::Structure
    );
    if needs_visit || sim.rng.percent(if big { 45 } else { 15 }) {
        let t = sim.wall(5, 30);
        let window = sim.window(t, 450, 5 * 450);
        sim.act(t, work, Channel::App, TicketCommand::Schedule { window })?;
        let arrival = plus(window.from, minutes(sim.rng.between(-10, 45)));
        sim.act(
            arrival,
            work,
            Channel::App,
            TicketCommand::RecordArrival {
                note: "施工上门".into(),
            },
        )?;
    }
    if sim.rng.percent(30) {
        let t = sim.wall(30, 120);
        let note = sim.note(&["已告知业主施工进度", "施工中，预计今天完成", "等待材料干燥后继续施工"]);
        sim.act(t, work, Channel::App, TicketCommand::NoteProgress { note })?;
    }
    let t = sim.wall(diagnosis.duration / 2, diagnosis.duration + 30);
    sim.act(
        t,
        work,
        Channel::App,
        TicketCommand::CompleteRepair {
            summary: format!("{}，已完成", diagnosis.content),
            usage_advice: "已告知业主使用注意事项".into(),
        },
    )
}

/// Acceptance, after rework if the owner rejects the work (once or
/// twice), then closing. Returns how many times the work was rejected.
pub(super) fn accept(sim: &mut Sim<'_>, job: &Job<'_>, crew: &mut Crew) -> Result<u32, Stop> {
    let cast = job.cast;
    let rejections = if sim.rng.percent(if job.handover { 10 } else { 8 }) {
        if sim.rng.percent(25) {
            2
        } else {
            1
        }
    } else {
        0
    };
    for round in 0..rejections {
        reject(sim, job, crew, round)?;
    }
    let (actor, channel) = acceptor(sim, job);
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
            confirmation: format!("QR-{}", job.plan.id),
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
    Ok(rejections)
}

/// Rejected by the owner, reopened and reworked (by another assignee in
/// the second round, sometimes in the first).
fn reject(sim: &mut Sim<'_>, job: &Job<'_>, crew: &mut Crew, round: u32) -> Result<(), Stop> {
    let (actor, channel) = acceptor(sim, job);
    let t = sim.wall(10, 600);
    let reason = sim.note(&["维修后仍有渗水", "修补痕迹明显，不满意", "问题未彻底解决"]);
    sim.act(t, &actor, channel, TicketCommand::RejectRepair { reason })?;
    let t = sim.business(30, 300);
    sim.act(
        t,
        &job.cast.agent,
        Channel::BackOffice,
        TicketCommand::Reopen {
            reason: "业主验收不合格，安排返修".into(),
        },
    )?;
    let redispatch = round > 0 || sim.rng.percent(35);
    rework(sim, job, crew, redispatch)
}

/// Who accepts or rejects the work: the owner, the engineer or an agent.
fn acceptor(sim: &mut Sim<'_>, job: &Job<'_>) -> (Actor, Channel) {
    match job.cast.owner_or_agent(&mut sim.rng) {
        (a, c) if a.role == Role::Owner => (a, c),
        _ if sim.rng.percent(50) => (job.cast.engineer.clone(), Channel::App),
        other => other,
    }
}

/// Revisit calls: more often for emergencies and urgent repairs; a
/// problem that persists may reopen the closed ticket.
pub(super) fn revisit(sim: &mut Sim<'_>, job: &Job<'_>, crew: &mut Crew, rejections: u32) -> Result<(), Stop> {
    let revisit_share = match job.plan.priority {
        Priority::Emergency | Priority::Urgent => 55,
        Priority::Normal => 33,
    };
    if job.handover || !sim.rng.percent(revisit_share) {
        return Ok(());
    }
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
        &job.cast.agent,
        Channel::Revisit,
        TicketCommand::RecordRevisit {
            outcome,
            ratings: revisit_ratings,
            stage,
            note: "维修回访".into(),
        },
    )?;
    if outcome == RevisitOutcome::ProblemPersists && sim.rng.percent(60) {
        repair_again(sim, job, crew)?;
    }
    Ok(())
}

/// The problem came back: reopened, reworked, accepted and closed again.
fn repair_again(sim: &mut Sim<'_>, job: &Job<'_>, crew: &mut Crew) -> Result<(), Stop> {
    let cast = job.cast;
    let t = sim.business(30, 300);
    sim.act(
        t,
        &cast.agent,
        Channel::BackOffice,
        TicketCommand::Reopen {
            reason: "回访发现问题复发".into(),
        },
    )?;
    rework(sim, job, crew, false)?;
    let (actor, channel) = acceptor(sim, job);
    let t = sim.wall(10, 600);
    let r = ratings(&mut sim.rng, 1);
    sim.act(
        t,
        &actor,
        channel,
        TicketCommand::AcceptRepair {
            confirmation: format!("QR-{}-R", job.plan.id),
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
    )
}

/// Rework after a reopen: maybe to another assignee, a visit, completion.
fn rework(sim: &mut Sim<'_>, job: &Job<'_>, crew: &mut Crew, redispatch: bool) -> Result<(), Stop> {
    if redispatch {
        let next = assignee(sim.world, &mut sim.rng, job.project, job.plan.trade, Some(&crew.to));
        let t = sim.business(10, 240);
        sim.act(
            t,
            &job.cast.manager,
            Channel::BackOffice,
            TicketCommand::Dispatch {
                to: next.clone(),
                note: "返修，改派维修单位".into(),
            },
        )?;
        crew.work = worker(&mut sim.rng, &next)?;
        crew.to = next;
    }
    let work = &crew.work;
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
