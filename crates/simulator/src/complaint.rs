//! A complaint (投诉): investigation, proposals until the owner agrees,
//! escalation, revisit, closing.

use std::ops::ControlFlow;

use domain::actor::Actor;
use domain::ticket::{Channel, EscalationLevel, HoldReason, RevisitOutcome, TicketCommand, TouchpointStage};

use crate::plan::TicketPlan;
use crate::sim::{merge_duplicate, ratings, receive_command, receiver, Cast, Sim, Stop};
use crate::time::minutes;

/// A complaint: investigation, proposals until the owner agrees,
/// escalation, revisit, closing.
pub(crate) fn complaint(sim: &mut Sim<'_>, plan: &TicketPlan, cast: &Cast) -> Result<(), Stop> {
    sim.act(
        plan.received_at,
        &receiver(plan, cast),
        plan.channel,
        receive_command(plan),
    )?;
    if let Some(into) = &plan.duplicate_of {
        return merge_duplicate(sim, cast, into);
    }
    if acknowledge(sim, cast)?.is_break() {
        return Ok(());
    }
    let mut escalation = Escalation {
        plan,
        cast,
        level: EscalationLevel::Project,
    };
    if plan.incident.is_some() {
        escalation.raise(sim, EscalationLevel::City, "多户业主反映同一问题，并入批量问题处理")?;
    } else if sim.rng.permille(15) {
        escalation.raise(sim, EscalationLevel::City, "业主表示将向媒体反映")?;
        escalation.raise(sim, EscalationLevel::Group, "涉及品牌风险，升级集团处理")?;
    } else if sim.rng.percent(5) {
        escalation.raise(sim, EscalationLevel::City, "影响范围较大，升级城市公司处理")?;
    }
    let investigator = if sim.rng.percent(60) {
        &cast.engineer
    } else {
        &cast.manager
    };
    investigate(sim, cast, investigator)?;
    for round in 0..3 {
        if proposal_round(sim, &mut escalation, investigator, round)?.is_break() {
            break;
        }
    }
    revisit(sim, cast)?;
    let t = sim.business(30, 450);
    sim.act(
        t,
        &cast.manager,
        Channel::BackOffice,
        TicketCommand::Close {
            note: "投诉已处理完毕".into(),
        },
    )
}

/// Acknowledged with an answer promised within five working days;
/// `Break` when the owner then withdrew the complaint.
fn acknowledge(sim: &mut Sim<'_>, cast: &Cast) -> Result<ControlFlow<()>, Stop> {
    let t = if sim.rng.percent(90) {
        sim.business(10, 450)
    } else {
        sim.business(450, 900)
    };
    let promised = sim.world.calendar.add_business_time(t, minutes(5 * 450));
    sim.act(
        t,
        &cast.agent,
        Channel::CallCenter400,
        TicketCommand::Acknowledge {
            promised_at: Some(promised),
            note: "已记录投诉，承诺五个工作日内答复".into(),
        },
    )?;
    if sim.rng.percent(3) {
        let (actor, channel) = cast.owner_or_agent(&mut sim.rng);
        let t = sim.business(60, 900);
        sim.act(
            t,
            &actor,
            channel,
            TicketCommand::Withdraw {
                reason: "业主表示问题已协商解决".into(),
            },
        )?;
        return Ok(ControlFlow::Break(()));
    }
    Ok(ControlFlow::Continue(()))
}

/// The level a complaint has been escalated to.
struct Escalation<'a> {
    plan: &'a TicketPlan,
    cast: &'a Cast,
    level: EscalationLevel,
}

impl Escalation<'_> {
    /// Escalates to `to` unless the complaint is there already.
    fn raise(&mut self, sim: &mut Sim<'_>, to: EscalationLevel, reason: &str) -> Result<(), Stop> {
        if to <= self.level {
            return Ok(());
        }
        let t = sim.business(10, 240);
        sim.act(
            t,
            &self.cast.manager,
            Channel::BackOffice,
            TicketCommand::Escalate {
                level: to,
                incident: self.plan.incident.clone(),
                reason: reason.into(),
            },
        )?;
        self.level = to;
        Ok(())
    }
}

/// The investigation: findings, maybe a wait for an unreachable owner,
/// maybe a supplementary investigation.
fn investigate(sim: &mut Sim<'_>, cast: &Cast, investigator: &Actor) -> Result<(), Stop> {
    let t = sim.business(120, 2 * 450);
    let findings = sim.note(&[
        "已现场核实，情况属实",
        "调取维修记录，确认多次上门未解决",
        "与相关人员核实经过",
    ]);
    sim.act(t, investigator, Channel::App, TicketCommand::Investigate { findings })?;
    if sim.rng.percent(4) {
        let t = sim.business(30, 240);
        sim.act(
            t,
            &cast.agent,
            Channel::BackOffice,
            TicketCommand::PutOnHold {
                reason: HoldReason::OwnerUnreachable,
                note: "业主电话无人接听".into(),
            },
        )?;
        let t = sim.business(450, 4 * 450);
        sim.act(
            t,
            &cast.agent,
            Channel::CallCenter400,
            TicketCommand::Resume {
                note: "已联系上业主".into(),
            },
        )?;
    }
    if sim.rng.percent(25) {
        let t = sim.business(60, 450);
        sim.act(
            t,
            investigator,
            Channel::App,
            TicketCommand::Investigate {
                findings: "补充调查：查阅合同及交付标准".into(),
            },
        )?;
    }
    Ok(())
}

/// A resolution proposed and the owner's response (always agreed in the
/// third round): `Break` once the owner agrees; otherwise maybe an
/// escalation and a new investigation.
fn proposal_round(
    sim: &mut Sim<'_>,
    escalation: &mut Escalation<'_>,
    investigator: &Actor,
    round: u32,
) -> Result<ControlFlow<()>, Stop> {
    let cast = escalation.cast;
    let t = if sim.rng.percent(85) {
        sim.business(60, 2 * 450)
    } else {
        sim.business(2 * 450, 5 * 450)
    };
    let (proposal, basis) = *sim.rng.pick(&[
        ("安排专项维修并给予物业费减免", "住宅质量保证书及公司客户补偿办法"),
        ("对相关人员进行培训考核并致歉", "客户服务规范"),
        ("按合同约定标准整改", "商品房买卖合同附件"),
        ("加强巡检并公示整改计划", "物业服务合同"),
    ]);
    sim.act(
        t,
        &cast.manager,
        Channel::BackOffice,
        TicketCommand::ProposeResolution {
            proposal: proposal.into(),
            basis: basis.into(),
        },
    )?;
    let agreed = round == 2 || sim.rng.percent(if round == 0 { 75 } else { 85 });
    let (actor, channel) = cast.owner_or_agent(&mut sim.rng);
    let t = sim.business(30, 3 * 450);
    let note = if agreed {
        "业主同意处理方案"
    } else {
        "业主不接受方案，要求更高补偿"
    };
    sim.act(
        t,
        &actor,
        channel,
        TicketCommand::RecordOwnerResponse {
            agreed,
            note: note.into(),
        },
    )?;
    if agreed {
        return Ok(ControlFlow::Break(()));
    }
    if sim.rng.percent(30) {
        escalation.raise(sim, EscalationLevel::City, "业主不接受处理方案")?;
    }
    let t = sim.business(60, 2 * 450);
    sim.act(
        t,
        investigator,
        Channel::App,
        TicketCommand::Investigate {
            findings: "重新调查业主诉求".into(),
        },
    )?;
    Ok(ControlFlow::Continue(()))
}

/// Half of the complaints get a satisfaction revisit before closing.
fn revisit(sim: &mut Sim<'_>, cast: &Cast) -> Result<(), Stop> {
    if sim.rng.percent(50) {
        let satisfied = sim.rng.percent(80);
        let r = ratings(&mut sim.rng, u32::from(!satisfied));
        let t = sim.business(450, 3 * 450);
        sim.act(
            t,
            &cast.agent,
            Channel::Revisit,
            TicketCommand::RecordRevisit {
                outcome: if satisfied {
                    RevisitOutcome::Satisfied
                } else {
                    RevisitOutcome::Dissatisfied
                },
                ratings: Some(r),
                stage: TouchpointStage::WarrantyService,
                note: "投诉处理回访".into(),
            },
        )?;
    }
    Ok(())
}
