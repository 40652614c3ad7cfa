//! The tickets of a day and what each is going to be: kind, unit,
//! reporter, report.

use std::collections::VecDeque;

use chrono::{DateTime, NaiveDate, TimeDelta, Utc};
use domain::ids::{IncidentId, TicketId};
use domain::personal::Personal;
use domain::ticket::{Category, Channel, HandoverRecord, Location, Priority, Reporter, TicketKind, Trade};

use crate::handover::plan_handover;
use crate::incident::{join_incident, IncidentPlan};
use crate::rng::{Rng, SALT_DAY};
use crate::tables::{
    defect_phrases, AGED_TRADES, COMMON_PLACES, COMPLAINT_CHANNELS, COMPLAINT_TEXTS, HOUR_WEIGHTS, INQUIRIES,
    INQUIRY_CHANNELS, REPAIR_CHANNELS, ROOMS,
};
use crate::time::{add_days, local_time};
use crate::world::{age_buckets, id, owner_person, person, World};
use crate::GeneratorError;

/// One report to make on a day: local seconds after midnight, and whether
/// it is made at a handover inspection.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord)]
pub(crate) struct Slot {
    pub(crate) seconds: u32,
    pub(crate) handover: bool,
}

pub(crate) fn day_slots(world: &World, day: u32) -> Vec<Slot> {
    let (other, handover) = world.day_counts.get(day as usize).copied().unwrap_or((0, 0));
    let mut rng = Rng::derive(&[world.seed, SALT_DAY, u64::from(day)]);
    let hours: Vec<(u32, u32)> = HOUR_WEIGHTS.iter().enumerate().map(|(h, w)| (h as u32, *w)).collect();
    let mut slots = Vec::with_capacity((other + handover) as usize);
    for _ in 0..other {
        let hour = rng.weighted(&hours);
        slots.push(Slot {
            seconds: hour * 3600 + rng.below(3600) as u32,
            handover: false,
        });
    }
    for _ in 0..handover {
        slots.push(Slot {
            seconds: rng.between(9 * 3600, 17 * 3600 + 1800) as u32,
            handover: true,
        });
    }
    slots.sort_unstable();
    slots
}

/// A recently received ticket, for duplicates and incidents.
#[derive(Debug, Clone)]
pub(crate) struct Recent {
    pub(crate) id: TicketId,
    pub(crate) kind: TicketKind,
    pub(crate) received_at: DateTime<Utc>,
    pub(crate) unit: u32,
    pub(crate) location: Location,
    pub(crate) category: Category,
    pub(crate) trade: Trade,
    pub(crate) reporter: Reporter,
    pub(crate) description: String,
}

/// What a ticket is going to be, before its lifecycle is played.
pub(crate) struct TicketPlan {
    pub(crate) id: TicketId,
    pub(crate) kind: TicketKind,
    pub(crate) received_at: DateTime<Utc>,
    pub(crate) channel: Channel,
    pub(crate) unit: u32,
    pub(crate) location: Location,
    pub(crate) delivered_on: Option<NaiveDate>,
    pub(crate) category: Category,
    pub(crate) trade: Trade,
    pub(crate) priority: Priority,
    pub(crate) reporter: Reporter,
    pub(crate) description: String,
    pub(crate) attachments: Vec<String>,
    pub(crate) handover: Option<HandoverRecord>,
    pub(crate) duplicate_of: Option<TicketId>,
    pub(crate) incident: Option<IncidentId>,
    /// Index of the inquiry topic.
    pub(crate) topic: usize,
}

/// The state the ticket phase carries from one ticket to the next.
#[derive(Default)]
pub(crate) struct TicketFlow {
    pub(crate) recent: VecDeque<Recent>,
    pub(crate) incident: Option<IncidentPlan>,
    pub(crate) incidents_opened: u64,
    pub(crate) tickets_done: u64,
}

impl TicketFlow {
    /// Keeps `plan` among the recent tickets (the last sixteen).
    pub(crate) fn remember(&mut self, plan: TicketPlan) {
        self.recent.push_back(Recent {
            id: plan.id,
            kind: plan.kind,
            received_at: plan.received_at,
            unit: plan.unit,
            location: plan.location,
            category: plan.category,
            trade: plan.trade,
            reporter: plan.reporter,
            description: plan.description,
        });
        if self.recent.len() > 16 {
            self.recent.pop_front();
        }
    }
}

fn pick_delivered(rng: &mut Rng, world: &World, date: NaiveDate) -> Option<u32> {
    let [older, second_year, first_year] = age_buckets(&world.delivery_dates, date);
    let total = older + 3 * second_year + 6 * first_year;
    if total == 0 {
        return None;
    }
    let r = rng.below(total as u64) as usize;
    let i = if r < 6 * first_year {
        older + second_year + r / 6
    } else if r < 6 * first_year + 3 * second_year {
        older + (r - 6 * first_year) / 3
    } else {
        r - 6 * first_year - 3 * second_year
    };
    world.by_delivery.get(i).copied()
}

fn repair_priority(rng: &mut Rng) -> Priority {
    rng.weighted(&[(Priority::Emergency, 7), (Priority::Urgent, 31), (Priority::Normal, 62)])
}

fn repair_trade(rng: &mut Rng, priority: Priority) -> Trade {
    if priority == Priority::Emergency {
        return rng.weighted(&[
            (Trade::Leak, 50),
            (Trade::WaterElectric, 33),
            (Trade::Elevator, 10),
            (Trade::Structure, 2),
            (Trade::Blockage, 5),
        ]);
    }
    rng.weighted(&[
        (Trade::Leak, 240),
        (Trade::Crack, 160),
        (Trade::Hollow, 80),
        (Trade::DoorsWindows, 120),
        (Trade::WaterElectric, 120),
        (Trade::Fixtures, 70),
        (Trade::Blockage, 60),
        (Trade::Hvac, 40),
        (Trade::Decoration, 50),
        (Trade::Facade, 20),
        (Trade::Elevator, 10),
        (Trade::Landscaping, 10),
        (Trade::Structure, 5),
        (Trade::Other, 15),
    ])
}

/// An owner's description of a defect of `trade`, in a room of the unit
/// or (`room` false) in a common area.
pub(crate) fn describe(rng: &mut Rng, trade: Trade, room: bool) -> String {
    let phrase = *rng.pick(defect_phrases(trade));
    let room = if room { *rng.pick(ROOMS) } else { "" };
    phrase.replace("{room}", room)
}

pub(crate) fn common_area(rng: &mut Rng, world: &World, unit: u32) -> Location {
    let u = world.units[unit as usize];
    let building = world.building(unit);
    let place = match *rng.pick(COMMON_PLACES) {
        p @ ("楼梯间" | "电梯厅") => format!("{p}{}层", rng.between(1, i64::from(building.floors))),
        p => p.to_string(),
    };
    Location::CommonArea {
        project: world.projects[u.project as usize].id.clone(),
        building: Some(building.id.clone()),
        place,
    }
}

pub(crate) fn unit_location(world: &World, unit: u32) -> Result<Location, GeneratorError> {
    let u = world.units[unit as usize];
    Ok(Location::Unit {
        project: world.projects[u.project as usize].id.clone(),
        building: world.building(unit).id.clone(),
        unit: world.unit_id(unit)?,
    })
}

/// The owner of `unit` reporting (88%), or a tenant or relative.
pub(crate) fn reporter(rng: &mut Rng, world: &World, unit: u32) -> Result<Reporter, GeneratorError> {
    if rng.percent(12) {
        let p = person(rng, false)?;
        return Ok(Reporter {
            owner: None,
            name: Personal::new(p.name),
            phone: Personal::new(p.phone),
        });
    }
    let owner = world.units[unit as usize].owner;
    let p = owner_person(world, owner)?;
    Ok(Reporter {
        owner: Some(world.owner_id(owner)?),
        name: Personal::new(p.name),
        phone: Personal::new(p.phone),
    })
}

pub(crate) fn attachments(rng: &mut Rng, ticket: &TicketId, photos: u64) -> Vec<String> {
    let n = rng.below(photos + 1);
    (1..=n).map(|k| format!("photo/{ticket}/{k}.jpg")).collect()
}

/// Plans the ticket of `slot`, deciding its kind, unit and report.
pub(crate) fn plan_ticket(
    world: &World,
    flow: &mut TicketFlow,
    rng: &mut Rng,
    date: NaiveDate,
    number: u32,
    slot: Slot,
) -> Result<Option<TicketPlan>, GeneratorError> {
    let ticket = id(
        "ticket id",
        TicketId::new(format!("T-{}-{number:04}", date.format("%Y%m%d"))),
    )?;
    let received_at = local_time(&world.calendar, date, slot.seconds);

    if slot.handover {
        if let Some(plan) = plan_handover(world, rng, &ticket, date, received_at)? {
            return Ok(Some(plan));
        }
    }
    if let Some(plan) = join_incident(world, flow, rng, &ticket, date, received_at)? {
        return Ok(Some(plan));
    }

    let kind = rng.weighted(&[
        (TicketKind::Repair, 70),
        (TicketKind::Complaint, 12),
        (TicketKind::Inquiry, 10),
    ]);
    if matches!(kind, TicketKind::Repair | TicketKind::Complaint) && rng.permille(15) {
        if let Some(plan) = plan_duplicate(world, flow, rng, &ticket, kind, received_at) {
            return Ok(Some(plan));
        }
    }

    let Some(unit) = pick_delivered(rng, world, date) else {
        return Ok(None);
    };
    let reporter = reporter(rng, world, unit)?;
    let report = match kind {
        TicketKind::Repair => repair_report(rng, world, unit, date)?,
        TicketKind::Complaint => complaint_report(rng, world, unit)?,
        // Handover defects come from inspection slots only (above); the
        // kinds drawn here are the other three.
        TicketKind::Inquiry | TicketKind::HandoverDefect => inquiry_report(rng, world, unit)?,
    };
    // Only registered owners use the owner app and WeChat account.
    let channel = if reporter.owner.is_none() && matches!(report.channel, Channel::App | Channel::WeChat) {
        Channel::Hotline
    } else {
        report.channel
    };
    let photos = if kind == TicketKind::Inquiry { 0 } else { 4 };
    Ok(Some(TicketPlan {
        attachments: attachments(rng, &ticket, photos),
        id: ticket,
        kind,
        received_at,
        channel,
        unit,
        delivered_on: delivered_for(world, unit, &report.location),
        location: report.location,
        category: report.category,
        trade: report.trade,
        priority: report.priority,
        reporter,
        description: report.description,
        handover: None,
        duplicate_of: None,
        incident: None,
        topic: report.topic,
    }))
}

/// A duplicate of a recent report of the same kind (the owner called and
/// also wrote on WeChat), if there is one from the last three days.
fn plan_duplicate(
    world: &World,
    flow: &TicketFlow,
    rng: &mut Rng,
    ticket: &TicketId,
    kind: TicketKind,
    received_at: DateTime<Utc>,
) -> Option<TicketPlan> {
    let original = flow
        .recent
        .iter()
        .rev()
        .find(|r| r.kind == kind && received_at - r.received_at < TimeDelta::days(3))
        .cloned()?;
    let priority = if kind == TicketKind::Repair {
        repair_priority(rng)
    } else {
        Priority::Normal
    };
    let channel = if original.reporter.owner.is_some() {
        *rng.pick(&[Channel::WeChat, Channel::App, Channel::CallCenter400])
    } else {
        Channel::CallCenter400
    };
    let unit = original.unit;
    Some(TicketPlan {
        attachments: attachments(rng, ticket, 2),
        id: ticket.clone(),
        kind,
        received_at,
        channel,
        unit,
        delivered_on: delivered_for(world, unit, &original.location),
        location: original.location,
        category: original.category,
        trade: original.trade,
        priority,
        reporter: original.reporter,
        description: format!("重复反映：{}", original.description),
        handover: None,
        duplicate_of: Some(original.id),
        incident: None,
        topic: 0,
    })
}

/// What a report is about and how it came in, decided by its kind.
struct Report {
    channel: Channel,
    category: Category,
    trade: Trade,
    priority: Priority,
    location: Location,
    description: String,
    /// Index of the inquiry topic.
    topic: usize,
}

/// A repair reported by an owner, in the unit or a common area.
fn repair_report(rng: &mut Rng, world: &World, unit: u32, date: NaiveDate) -> Result<Report, GeneratorError> {
    let priority = repair_priority(rng);
    let mut trade = repair_trade(rng, priority);
    // Fittings show their defects in the first year; what older homes
    // report to the developer is mostly water getting in.
    let aged = world.units[unit as usize]
        .delivered_on
        .is_some_and(|d| d < add_days(date, -365));
    if aged && priority != Priority::Emergency && rng.percent(70) {
        trade = rng.weighted(AGED_TRADES);
    }
    let common = matches!(trade, Trade::Elevator | Trade::Landscaping | Trade::Facade) || rng.percent(8);
    let (location, category) = if common {
        if !matches!(
            trade,
            Trade::Elevator | Trade::Landscaping | Trade::Facade | Trade::Leak
        ) {
            trade = *rng.pick(&[Trade::Leak, Trade::Crack, Trade::WaterElectric, Trade::DoorsWindows]);
        }
        (common_area(rng, world, unit), Category::PublicFacilities)
    } else {
        let category = rng.weighted(&[
            (Category::Engineering, 90),
            (Category::ModelUnit, 3),
            (Category::Planning, 2),
            (Category::Other, 5),
        ]);
        (unit_location(world, unit)?, category)
    };
    let channel = rng.weighted(REPAIR_CHANNELS);
    let description = match &location {
        Location::CommonArea { place, .. } => format!("{place}：{}", describe(rng, trade, false)),
        Location::Unit { .. } => describe(rng, trade, true),
    };
    Ok(Report {
        channel,
        category,
        trade,
        priority,
        location,
        description,
        topic: 0,
    })
}

/// A complaint: its text, and the trade and place it is about.
fn complaint_report(rng: &mut Rng, world: &World, unit: u32) -> Result<Report, GeneratorError> {
    let (category, text) = *rng.pick(COMPLAINT_TEXTS);
    let trade = match category {
        Category::Engineering => *rng.pick(&[Trade::Leak, Trade::Crack, Trade::Hollow]),
        Category::PublicFacilities => *rng.pick(&[Trade::Elevator, Trade::WaterElectric, Trade::Other]),
        Category::ModelUnit => *rng.pick(&[Trade::Decoration, Trade::DoorsWindows]),
        _ => Trade::None,
    };
    let location = if matches!(category, Category::PublicFacilities | Category::Planning) {
        common_area(rng, world, unit)
    } else {
        unit_location(world, unit)?
    };
    let channel = rng.weighted(COMPLAINT_CHANNELS);
    let priority = if rng.percent(15) {
        Priority::Urgent
    } else {
        Priority::Normal
    };
    Ok(Report {
        channel,
        category,
        trade,
        priority,
        location,
        description: text.to_string(),
        topic: 0,
    })
}

/// An inquiry on one of the topics.
fn inquiry_report(rng: &mut Rng, world: &World, unit: u32) -> Result<Report, GeneratorError> {
    let topic = rng.below(INQUIRIES.len() as u64) as usize;
    let channel = rng.weighted(INQUIRY_CHANNELS);
    let location = unit_location(world, unit)?;
    Ok(Report {
        channel,
        category: Category::Other,
        trade: Trade::None,
        priority: Priority::Normal,
        location,
        description: INQUIRIES[topic].0.to_string(),
        topic,
    })
}

/// The delivery date a decision on `location` refers to: the unit's, or
/// for a common area the day its building was handed over.
pub(crate) fn delivered_for(world: &World, unit: u32, location: &Location) -> Option<NaiveDate> {
    match location {
        Location::Unit { .. } => world.units[unit as usize].delivered_on,
        Location::CommonArea { .. } => Some(world.building(unit).handed_over),
    }
}
