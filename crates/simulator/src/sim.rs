//! Playing a ticket's lifecycle through the deciders: deciding and
//! keeping events, encoding a stream's record, the ticket driver and who
//! works on a ticket.

use chrono::{DateTime, NaiveDate, TimeDelta, Utc};
use domain::actor::Actor;
use domain::decider::{Context, Decider, Stamped};
use domain::ids::TicketId;
use domain::ticket::{
    AppointmentWindow, Channel, Priority, Ratings, Receive, TicketCommand, TicketDecider, TicketEvent, TicketKind,
    TicketReference, TicketState,
};
use eventformat::wire::{self, StoredName};
use eventlog::{EventId, StreamId};
use serde::Serialize;

use crate::complaint::complaint;
use crate::incident::maybe_start_incident;
use crate::inquiry::inquiry;
use crate::plan::{plan_ticket, Slot, TicketFlow, TicketPlan};
use crate::repair::repair;
use crate::rng::{Rng, SALT_IDS, SALT_TICKET};
use crate::time::{add_days, minutes, plus};
use crate::world::{user, World};
use crate::{GeneratedRecord, GeneratorError};

/// Decides `command` on `state`, applies the events and keeps them.
pub(crate) fn run<D: Decider>(
    stream: &str,
    state: &mut D::State,
    events: &mut Vec<D::Event>,
    command: D::Command,
    action: &'static str,
    context: &Context<D::Reference<'_>>,
) -> Result<(), GeneratorError> {
    let new = D::decide(state, command, context).map_err(|error| GeneratorError::Refused {
        stream: stream.to_string(),
        action,
        error: Box::new(error),
    })?;
    for event in new {
        *state = D::evolve(std::mem::take(state), &event);
        events.push(event);
    }
    Ok(())
}

pub(crate) fn context<R>(actor: &Actor, channel: Channel, at: DateTime<Utc>, reference: R) -> Context<R> {
    Context {
        now: at,
        occurred_at: Some(at),
        actor: actor.clone(),
        channel,
        reference,
    }
}

/// The log records of a stream's events, with ids drawn from a generator
/// seeded by the seed and the stream name: the same stream always gets the
/// same ids, so re-running the generator against the same log is
/// idempotent.
pub(crate) fn encode<E: Serialize + StoredName>(
    seed: u64,
    stream: StreamId,
    events: &[Stamped<E>],
) -> Result<GeneratedRecord, GeneratorError> {
    let mut rng = Rng::derive(&[seed, SALT_IDS, domain::ids::stable_hash(stream.as_str().as_bytes())]);
    let correlation = rng.uuid();
    let events = events
        .iter()
        .map(|e| {
            wire::to_new_event(e, EventId(rng.uuid()), Some(correlation)).map_err(|error| GeneratorError::Encode {
                stream: stream.to_string(),
                error,
            })
        })
        .collect::<Result<Vec<_>, _>>()?;
    Ok(GeneratedRecord { stream, events })
}

/// Why a ticket's history stopped: the end of the period, or a bug.
pub(crate) enum Stop {
    End,
    Failed(GeneratorError),
}

impl From<GeneratorError> for Stop {
    fn from(e: GeneratorError) -> Self {
        Stop::Failed(e)
    }
}

/// Plays a ticket's lifecycle through the ticket decider.
pub(crate) struct Sim<'w> {
    pub(crate) world: &'w World,
    /// Reference data; `delivered_on` is set per action from the next field.
    pub(crate) reference: TicketReference<'w>,
    /// The delivery date of the ticket's unit (or common area), which the
    /// archive knows from that day on: a defect found at pre-inspection is
    /// decided without one until the unit is delivered.
    pub(crate) delivered_on: Option<NaiveDate>,
    pub(crate) stream: String,
    pub(crate) state: TicketState,
    pub(crate) events: Vec<Stamped<TicketEvent>>,
    pub(crate) at: DateTime<Utc>,
    pub(crate) rng: Rng,
    pub(crate) emergency: bool,
}

impl<'w> Sim<'w> {
    /// The driver of `plan`'s lifecycle, at its receipt.
    fn new(world: &'w World, plan: &TicketPlan, stream: String, rng: Rng) -> Self {
        Sim {
            world,
            reference: TicketReference {
                policy: &world.policy,
                calendar: &world.calendar,
                warranty: &world.warranty,
                delivered_on: None,
            },
            delivered_on: plan.delivered_on,
            stream,
            state: TicketState::default(),
            events: Vec::with_capacity(24),
            at: plan.received_at,
            rng,
            emergency: plan.priority == Priority::Emergency,
        }
    }

    /// Decides `command` at `when` (not before the previous action);
    /// stops at the end of the period.
    pub(crate) fn act(
        &mut self,
        when: DateTime<Utc>,
        actor: &Actor,
        channel: Channel,
        command: TicketCommand,
    ) -> Result<(), Stop> {
        let when = when.max(self.at);
        if when >= self.world.end {
            return Err(Stop::End);
        }
        let action = command.action();
        let today = self.world.calendar.local_date(when);
        let reference = TicketReference {
            delivered_on: self.delivered_on.filter(|d| *d <= today),
            ..self.reference
        };
        let ctx = context(actor, channel, when, reference);
        let new = TicketDecider::decide(&self.state, command, &ctx).map_err(|error| {
            Stop::Failed(GeneratorError::Refused {
                stream: self.stream.clone(),
                action,
                error: Box::new(error),
            })
        })?;
        for event in new {
            self.state = TicketDecider::evolve(std::mem::take(&mut self.state), &event);
            self.events.push(event);
        }
        self.at = when;
        Ok(())
    }

    /// `lo..=hi` minutes of working time after the last action.
    pub(crate) fn business(&mut self, lo: i64, hi: i64) -> DateTime<Utc> {
        let m = self.rng.between(lo, hi).max(1);
        self.world.calendar.add_business_time(self.at, minutes(m))
    }

    /// `lo..=hi` minutes of wall-clock time after the last action.
    pub(crate) fn wall(&mut self, lo: i64, hi: i64) -> DateTime<Utc> {
        let m = self.rng.between(lo, hi);
        plus(self.at, minutes(m))
    }

    /// Staff time: wall-clock for emergencies, working time otherwise.
    pub(crate) fn staff(&mut self, lo: i64, hi: i64) -> DateTime<Utc> {
        if self.emergency {
            self.wall(lo.min(30), hi.min(90))
        } else {
            self.business(lo, hi)
        }
    }

    /// An appointment window of two hours, agreed at `agreed`, starting on
    /// the hour about `lo..=hi` working minutes later (at least half an
    /// hour later).
    pub(crate) fn window(&mut self, agreed: DateTime<Utc>, lo: i64, hi: i64) -> AppointmentWindow {
        let m = self.rng.between(lo, hi).max(1);
        let earliest = plus(agreed, minutes(30));
        let start = self.world.calendar.add_business_time(agreed, minutes(m)).max(earliest);
        let on_the_hour = start - TimeDelta::seconds(start.timestamp().rem_euclid(3600));
        let from = if on_the_hour >= earliest {
            on_the_hour
        } else {
            plus(on_the_hour, TimeDelta::hours(1))
        };
        AppointmentWindow {
            from,
            to: plus(from, TimeDelta::hours(2)),
        }
    }

    pub(crate) fn note(&mut self, texts: &[&str]) -> String {
        (*self.rng.pick(texts)).to_string()
    }

    fn finish(self) -> Vec<Stamped<TicketEvent>> {
        self.events
    }
}

/// Who works on a ticket.
pub(crate) struct Cast {
    pub(crate) agent: Actor,
    pub(crate) manager: Actor,
    pub(crate) engineer: Actor,
    /// The reporting owner acting for themselves, when the reporter is one.
    pub(crate) owner: Option<(Actor, Channel)>,
}

impl Cast {
    /// An agent, the project's manager, one of its engineers and the
    /// reporting owner, if the reporter is one.
    fn new(world: &World, rng: &mut Rng, plan: &TicketPlan) -> Result<Self, GeneratorError> {
        let u = world.units[plan.unit as usize];
        let project = &world.projects[u.project as usize];
        let agent = world.agents[rng.below(world.agents.len() as u64) as usize].clone();
        let engineer_index = (u64::from(u.project) * 3 + rng.below(3)) % world.engineers.len() as u64;
        Ok(Cast {
            agent,
            manager: project.manager.clone(),
            engineer: world.engineers[engineer_index as usize].clone(),
            owner: match &plan.reporter.owner {
                Some(owner) => Some((
                    Actor::owner(user(format!("u-{owner}"))?, owner.clone()),
                    if plan.channel == Channel::WeChat {
                        Channel::WeChat
                    } else {
                        Channel::App
                    },
                )),
                None => None,
            },
        })
    }

    /// The owner themselves through the app, or an agent on the phone.
    pub(crate) fn owner_or_agent(&self, rng: &mut Rng) -> (Actor, Channel) {
        match &self.owner {
            Some((actor, channel)) if rng.percent(60) => (actor.clone(), *channel),
            _ => (self.agent.clone(), Channel::CallCenter400),
        }
    }
}

pub(crate) fn ratings(rng: &mut Rng, reworked: u32) -> Ratings {
    let mut overall: u8 = rng.weighted(&[(5, 55), (4, 28), (3, 11), (2, 3), (1, 3)]);
    if reworked > 0 && rng.percent(50) {
        overall = overall.saturating_sub(1).max(1);
    }
    let near = |rng: &mut Rng| (i64::from(overall) + rng.between(-1, 1)).clamp(1, 5) as u8;
    if rng.percent(30) {
        Ratings {
            overall,
            product_quality: None,
            service_process: None,
            staff_attitude: None,
        }
    } else {
        Ratings {
            overall,
            product_quality: Some(near(rng)),
            service_process: Some(near(rng)),
            staff_attitude: Some(near(rng)),
        }
    }
}

/// Generates one ticket record (and updates the incident in progress).
pub(crate) fn ticket_record(
    world: &World,
    flow: &mut TicketFlow,
    day: u32,
    number: u32,
    slot: Slot,
) -> Result<Option<(GeneratedRecord, TicketKind)>, GeneratorError> {
    let date = add_days(world.start, i64::from(day));
    let mut rng = Rng::derive(&[world.seed, SALT_TICKET, u64::from(day), u64::from(number)]);
    let Some(mut plan) = plan_ticket(world, flow, &mut rng, date, number, slot)? else {
        return Ok(None);
    };
    flow.tickets_done += 1;
    maybe_start_incident(world, flow, &mut rng, &mut plan)?;

    let stream = wire::stream_of(&plan.id).map_err(GeneratorError::Stream)?;
    let kind = plan.kind;
    let project = world.units[plan.unit as usize].project;
    let cast = Cast::new(world, &mut rng, &plan)?;
    let mut sim = Sim::new(world, &plan, stream.to_string(), rng);
    let outcome = match kind {
        TicketKind::Repair | TicketKind::HandoverDefect => repair(&mut sim, &plan, &cast, project),
        TicketKind::Complaint => complaint(&mut sim, &plan, &cast),
        TicketKind::Inquiry => inquiry(&mut sim, &plan, &cast),
    };
    match outcome {
        Ok(()) | Err(Stop::End) => {}
        Err(Stop::Failed(e)) => return Err(e),
    }
    let events = sim.finish();
    if plan.handover.is_none() {
        flow.remember(plan);
    }
    Ok(Some((encode(world.seed, stream, &events)?, kind)))
}

pub(crate) fn receive_command(plan: &TicketPlan) -> TicketCommand {
    TicketCommand::Receive(Box::new(Receive {
        ticket: plan.id.clone(),
        kind: plan.kind,
        reporter: plan.reporter.clone(),
        location: plan.location.clone(),
        category: plan.category,
        trade: plan.trade,
        description: plan.description.clone(),
        attachments: plan.attachments.clone(),
        priority: plan.priority,
        handover: plan.handover.clone(),
    }))
}

/// Who records a report coming in through `channel`.
pub(crate) fn receiver(plan: &TicketPlan, cast: &Cast) -> Actor {
    match (&cast.owner, plan.channel) {
        (Some((owner, _)), Channel::App | Channel::WeChat) => owner.clone(),
        _ if plan.kind == TicketKind::HandoverDefect => cast.engineer.clone(),
        _ => cast.agent.clone(),
    }
}

pub(crate) fn merge_duplicate(sim: &mut Sim<'_>, cast: &Cast, into: &TicketId) -> Result<(), Stop> {
    let t = sim.staff(5, 180);
    sim.act(
        t,
        &cast.agent,
        Channel::BackOffice,
        TicketCommand::Merge { into: into.clone() },
    )
}
