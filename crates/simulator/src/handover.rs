//! Handover defects (交付查验问题): found at a unit's delivery
//! walk-through or at its pre-inspection, with a promised rectification
//! date. Their lifecycle is a repair's ([`crate::repair`]).

use chrono::{DateTime, NaiveDate, Utc};
use domain::ids::TicketId;
use domain::personal::Personal;
use domain::ticket::{Category, Channel, HandoverRecord, InspectionKind, Priority, Reporter, TicketKind, Trade};

use crate::plan::{attachments, describe, unit_location, TicketPlan};
use crate::rng::Rng;
use crate::time::add_days;
use crate::world::{owner_person, World};
use crate::GeneratorError;

pub(crate) fn plan_handover(
    world: &World,
    rng: &mut Rng,
    ticket: &TicketId,
    date: NaiveDate,
    received_at: DateTime<Utc>,
) -> Result<Option<TicketPlan>, GeneratorError> {
    let walk = world.delivered_between(date, add_days(date, 1));
    let pre = world.delivered_between(add_days(date, 7), add_days(date, 22));
    let (walk_n, pre_n) = ((walk.1 - walk.0) as u64, (pre.1 - pre.0) as u64);
    if walk_n + pre_n == 0 {
        return Ok(None);
    }
    let at_walkthrough = rng.below(walk_n * 30 + pre_n) < walk_n * 30;
    let (range, inspection) = if at_walkthrough {
        (walk, InspectionKind::DeliveryWalkthrough)
    } else {
        (pre, InspectionKind::PreInspection)
    };
    let position = range.0 + rng.below((range.1 - range.0) as u64) as usize;
    let Some(unit) = world.by_delivery.get(position).copied() else {
        return Ok(None);
    };
    let owner = world.units[unit as usize].owner;
    let person = owner_person(world, owner)?;
    let trade = rng.weighted(&[
        (Trade::Hollow, 25),
        (Trade::Crack, 20),
        (Trade::DoorsWindows, 20),
        (Trade::Leak, 10),
        (Trade::WaterElectric, 10),
        (Trade::Decoration, 10),
        (Trade::Fixtures, 5),
    ]);
    let priority = rng.weighted(&[(Priority::Emergency, 2), (Priority::Urgent, 20), (Priority::Normal, 78)]);
    let prefix = match inspection {
        InspectionKind::PreInspection => "预验房发现",
        InspectionKind::DeliveryWalkthrough => "交付查验发现",
    };
    let unit_id = world.unit_id(unit)?;
    let location = unit_location(world, unit)?;
    Ok(Some(TicketPlan {
        attachments: attachments(rng, ticket, 3),
        id: ticket.clone(),
        kind: TicketKind::HandoverDefect,
        received_at,
        channel: Channel::ServiceDesk,
        unit,
        delivered_on: world.units[unit as usize].delivered_on,
        location,
        category: Category::Engineering,
        trade,
        priority,
        reporter: Reporter {
            owner: Some(world.owner_id(owner)?),
            name: Personal::new(person.name),
            phone: Personal::new(person.phone),
        },
        description: format!("{prefix}{}", describe(rng, trade, true)),
        handover: Some(HandoverRecord {
            inspection,
            promised_by: add_days(date, rng.between(5, 30)),
            signed_record: format!("CY-{unit_id}-{}", date.format("%Y%m%d")),
        }),
        duplicate_of: None,
        incident: None,
        topic: 0,
    }))
}
