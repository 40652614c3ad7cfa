//! An inquiry (咨询): answered on the spot or after checking, then closed.

use domain::ticket::{Channel, RevisitOutcome, TicketCommand, TouchpointStage};

use crate::plan::TicketPlan;
use crate::sim::{ratings, receive_command, receiver, Cast, Sim, Stop};
use crate::tables::INQUIRIES;
use crate::time::minutes;

/// An inquiry: answered on the spot or after checking, then closed.
pub(crate) fn inquiry(sim: &mut Sim<'_>, plan: &TicketPlan, cast: &Cast) -> Result<(), Stop> {
    sim.act(
        plan.received_at,
        &receiver(plan, cast),
        plan.channel,
        receive_command(plan),
    )?;
    let answer = INQUIRIES[plan.topic % INQUIRIES.len()].1.to_string();
    if sim.rng.permille(10) {
        let (actor, channel) = cast.owner_or_agent(&mut sim.rng);
        let t = sim.wall(10, 120);
        return sim.act(
            t,
            &actor,
            channel,
            TicketCommand::Withdraw {
                reason: "业主已自行查到".into(),
            },
        );
    }
    if sim.rng.percent(60) {
        answer_on_the_spot(sim, plan, cast, answer)?;
    } else {
        answer_after_checking(sim, cast, answer)?;
    }
    let t = sim.wall(1, 30);
    sim.act(
        t,
        &cast.agent,
        Channel::BackOffice,
        TicketCommand::Close { note: String::new() },
    )?;
    if sim.rng.percent(5) {
        let t = sim.business(450, 5 * 450);
        let r = ratings(&mut sim.rng, 0);
        sim.act(
            t,
            &cast.agent,
            Channel::Revisit,
            TicketCommand::RecordRevisit {
                outcome: RevisitOutcome::Satisfied,
                ratings: Some(r),
                stage: TouchpointStage::ResidenceRevisit,
                note: "咨询回访".into(),
            },
        )?;
    }
    Ok(())
}

/// Answered within minutes, at the desk or on the phone.
fn answer_on_the_spot(sim: &mut Sim<'_>, plan: &TicketPlan, cast: &Cast, answer: String) -> Result<(), Stop> {
    let t = sim.wall(2, 8);
    let channel = if plan.channel == Channel::ServiceDesk {
        Channel::ServiceDesk
    } else {
        Channel::CallCenter400
    };
    sim.act(
        t,
        &cast.agent,
        channel,
        TicketCommand::AnswerInquiry {
            answer,
            on_the_spot: true,
        },
    )
}

/// Acknowledged with an answer promised within two working days, answered
/// after checking.
fn answer_after_checking(sim: &mut Sim<'_>, cast: &Cast, answer: String) -> Result<(), Stop> {
    let t = sim.business(5, 240);
    let promised = sim.world.calendar.add_business_time(t, minutes(2 * 450));
    sim.act(
        t,
        &cast.agent,
        Channel::CallCenter400,
        TicketCommand::Acknowledge {
            promised_at: Some(promised),
            note: "需核实后答复".into(),
        },
    )?;
    let t = if sim.rng.percent(85) {
        sim.business(60, 2 * 450)
    } else {
        sim.business(2 * 450, 4 * 450)
    };
    sim.act(
        t,
        &cast.agent,
        Channel::CallCenter400,
        TicketCommand::AnswerInquiry {
            answer,
            on_the_spot: false,
        },
    )
}
