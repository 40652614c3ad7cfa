//! Incidents (批量问题): the tickets of one building they gather, and
//! their own record.

use chrono::{DateTime, NaiveDate, TimeDelta, Utc};
use domain::actor::Actor;
use domain::decider::Stamped;
use domain::ids::{IncidentId, TicketId};
use domain::incident::{IncidentCommand, IncidentDecider, IncidentEvent, IncidentState};
use domain::ticket::{Category, Channel, EscalationLevel, Location, Priority, TicketKind, Trade};
use eventformat::wire;

use crate::plan::{attachments, common_area, delivered_for, describe, reporter, unit_location, TicketFlow, TicketPlan};
use crate::rng::{Rng, SALT_INCIDENT};
use crate::sim::{context, encode, run};
use crate::time::{minutes, plus};
use crate::world::{id, World};
use crate::{GeneratedRecord, GeneratorError};

/// An incident collecting tickets of one building.
#[derive(Debug, Clone)]
pub(crate) struct IncidentPlan {
    pub(crate) id: IncidentId,
    pub(crate) number: u64,
    pub(crate) project: u32,
    /// A delivered unit of the building (to find the building's units).
    pub(crate) anchor: u32,
    pub(crate) trade: Trade,
    pub(crate) level: EscalationLevel,
    pub(crate) links: Vec<(TicketId, DateTime<Utc>)>,
    pub(crate) target: usize,
    pub(crate) deadline: DateTime<Utc>,
}

/// Maybe starts an incident with `plan`: a batch-prone defect in a
/// building. At least one incident per log once a third of the tickets
/// are out.
pub(crate) fn maybe_start_incident(
    world: &World,
    flow: &mut TicketFlow,
    rng: &mut Rng,
    plan: &mut TicketPlan,
) -> Result<(), GeneratorError> {
    let prone = matches!(plan.trade, Trade::Leak | Trade::Facade | Trade::Crack | Trade::Elevator);
    if flow.incident.is_none()
        && plan.kind == TicketKind::Repair
        && plan.duplicate_of.is_none()
        && plan.incident.is_none()
        && prone
        && (rng.permille(2) || (flow.incidents_opened == 0 && flow.tickets_done * 3 >= u64::from(world.tickets)))
    {
        flow.incidents_opened += 1;
        let number = flow.incidents_opened;
        let mut irng = Rng::derive(&[world.seed, SALT_INCIDENT, number]);
        let incident = id("incident id", IncidentId::new(format!("INC-{number:04}")))?;
        plan.incident = Some(incident.clone());
        flow.incident = Some(IncidentPlan {
            id: incident,
            number,
            project: world.units[plan.unit as usize].project,
            anchor: plan.unit,
            trade: plan.trade,
            level: if irng.percent(30) {
                EscalationLevel::City
            } else {
                EscalationLevel::Project
            },
            links: vec![(plan.id.clone(), plan.received_at)],
            target: irng.between(4, 12) as usize,
            deadline: plus(plan.received_at, TimeDelta::days(5)),
        });
    }
    Ok(())
}

/// A ticket of the building of the incident in progress (30% of the
/// tickets received before its deadline), linked to it.
pub(crate) fn join_incident(
    world: &World,
    flow: &mut TicketFlow,
    rng: &mut Rng,
    ticket: &TicketId,
    date: NaiveDate,
    received_at: DateTime<Utc>,
) -> Result<Option<TicketPlan>, GeneratorError> {
    let joining = match &flow.incident {
        Some(incident) if received_at <= incident.deadline && rng.percent(30) => Some(incident.clone()),
        _ => None,
    };
    let Some(incident) = joining else {
        return Ok(None);
    };
    let Some(plan) = plan_incident_ticket(world, rng, &incident, ticket.clone(), date, received_at)? else {
        return Ok(None);
    };
    if let Some(active) = flow.incident.as_mut() {
        active.links.push((plan.id.clone(), received_at));
    }
    Ok(Some(plan))
}

/// A repair or complaint from a delivered unit of the incident's building.
fn plan_incident_ticket(
    world: &World,
    rng: &mut Rng,
    incident: &IncidentPlan,
    ticket: TicketId,
    date: NaiveDate,
    received_at: DateTime<Utc>,
) -> Result<Option<TicketPlan>, GeneratorError> {
    let building = world.building(incident.anchor);
    let span = u64::from(building.unit_end - building.first_unit);
    let mut unit = None;
    for _ in 0..8 {
        let candidate = building.first_unit + rng.below(span) as u32;
        if world.units[candidate as usize].delivered_on.is_some_and(|d| d < date) {
            unit = Some(candidate);
            break;
        }
    }
    let Some(unit) = unit else {
        return Ok(None);
    };
    let complaint = rng.percent(20);
    let location = if incident.trade == Trade::Elevator || rng.percent(25) {
        common_area(rng, world, unit)
    } else {
        unit_location(world, unit)?
    };
    let reporter = reporter(rng, world, unit)?;
    let channel = match (&reporter.owner, rng.below(3)) {
        (Some(_), 0) => Channel::WeChat,
        (_, 1) => Channel::Hotline,
        _ => Channel::CallCenter400,
    };
    let (kind, category, priority, description) = if complaint {
        (
            TicketKind::Complaint,
            Category::Engineering,
            Priority::Urgent,
            format!("同一问题多户反映仍未解决：{}", describe(rng, incident.trade, true)),
        )
    } else {
        (
            TicketKind::Repair,
            if matches!(location, Location::CommonArea { .. }) {
                Category::PublicFacilities
            } else {
                Category::Engineering
            },
            rng.weighted(&[
                (Priority::Emergency, 10),
                (Priority::Urgent, 50),
                (Priority::Normal, 40),
            ]),
            describe(rng, incident.trade, matches!(location, Location::Unit { .. })),
        )
    };
    Ok(Some(TicketPlan {
        attachments: attachments(rng, &ticket, 4),
        id: ticket,
        kind,
        received_at,
        channel,
        unit,
        delivered_on: delivered_for(world, unit, &location),
        location,
        category,
        trade: incident.trade,
        priority,
        reporter,
        description,
        handover: None,
        duplicate_of: None,
        incident: Some(incident.id.clone()),
        topic: 0,
    }))
}

/// The record of an incident: opened after its first ticket, each ticket
/// linked after its receipt, updates, and closed some days later.
pub(crate) fn incident_record(
    world: &World,
    incident: &IncidentPlan,
) -> Result<Option<GeneratedRecord>, GeneratorError> {
    let Some((_, first_at)) = incident.links.first() else {
        return Ok(None);
    };
    let project = &world.projects[incident.project as usize];
    let building = world.building(incident.anchor);
    let stream = wire::stream_of(&incident.id).map_err(GeneratorError::Stream)?;
    let mut rng = Rng::derive(&[world.seed, SALT_INCIDENT, incident.number, 1]);
    let last_instant = world.end - TimeDelta::seconds(1);
    let mut log = IncidentLog {
        stream: stream.as_str(),
        actor: &project.manager,
        state: Default::default(),
        events: Vec::new(),
        at: plus(*first_at, minutes(rng.between(60, 180))).min(last_instant),
    };
    let trade_text = match incident.trade {
        Trade::Leak => "渗漏",
        Trade::Facade => "外立面",
        Trade::Crack => "开裂",
        Trade::Elevator => "电梯故障",
        _ => "质量问题",
    };
    log.run(
        IncidentCommand::Open {
            incident: incident.id.clone(),
            project: project.id.clone(),
            title: format!("{}{}批量{}", project.name, building.name, trade_text),
            level: incident.level,
            description: format!("{}多户业主集中反映{}问题", building.name, trade_text),
        },
        "open the incident",
    )?;
    follow_up(world, &mut log, &mut rng, incident)?;
    let events = log.events;
    Ok(Some(encode(world.seed, stream, &events)?))
}

/// An incident's history as it is decided.
struct IncidentLog<'a> {
    stream: &'a str,
    actor: &'a Actor,
    state: IncidentState,
    events: Vec<Stamped<IncidentEvent>>,
    /// The time of the next action.
    at: DateTime<Utc>,
}

impl IncidentLog<'_> {
    fn run(&mut self, command: IncidentCommand, action: &'static str) -> Result<(), GeneratorError> {
        run::<IncidentDecider>(
            self.stream,
            &mut self.state,
            &mut self.events,
            command,
            action,
            &context(self.actor, Channel::BackOffice, self.at, ()),
        )
    }
}

/// After the opening: each ticket linked after its receipt, one to three
/// updates, the closing; the history stops at the end of the period.
fn follow_up(
    world: &World,
    log: &mut IncidentLog<'_>,
    rng: &mut Rng,
    incident: &IncidentPlan,
) -> Result<(), GeneratorError> {
    for (ticket, received_at) in &incident.links {
        log.at = log.at.max(plus(*received_at, minutes(rng.between(30, 180))));
        if log.at >= world.end {
            return Ok(());
        }
        log.run(
            IncidentCommand::LinkTicket { ticket: ticket.clone() },
            "link a ticket to the incident",
        )?;
    }
    for note in [
        "已成立专项小组，排查原因",
        "已制定整改方案，分批入户维修",
        "整改完成，逐户回访",
    ]
    .into_iter()
    .take(rng.between(1, 3) as usize)
    {
        log.at = plus(log.at, TimeDelta::days(rng.between(1, 4)));
        if log.at >= world.end {
            return Ok(());
        }
        log.run(
            IncidentCommand::UpdateStatus { note: note.into() },
            "update the incident",
        )?;
    }
    log.at = plus(log.at, TimeDelta::days(rng.between(5, 20)));
    if log.at < world.end {
        log.run(
            IncidentCommand::Close {
                summary: "原因已查明并整改，纳入下一项目设计与施工的预防措施".into(),
            },
            "close the incident",
        )?;
    }
    Ok(())
}
