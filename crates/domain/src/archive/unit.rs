//! The unit aggregate: a unit (房屋) in a building of a project, and its
//! delivery.

use chrono::{DateTime, NaiveDate, Utc};
use serde::{Deserialize, Serialize};

use crate::decider::{Context, Decider, Stamped};
use crate::error::DomainError;
use crate::ids::{BuildingId, ProjectId, UnitId};

use super::{authorize, latest_date, name_text, stamp, ArchiveCommand, Project};

/// Commands on a unit.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub enum UnitCommand {
    /// `registerUnit`; needs the project's state as reference.
    Register {
        /// Its id.
        unit: UnitId,
        /// The project.
        project: ProjectId,
        /// The building.
        building: BuildingId,
        /// Room number as written on the contract (e.g. 1502).
        number: String,
    },
    /// `recordDelivery`: the unit was handed over; warranty starts.
    RecordDelivery {
        /// The delivery date (交付日期).
        delivered_on: NaiveDate,
    },
    /// `correctDelivery`: the recorded delivery date was wrong. Warranty
    /// decisions taken before keep the date they recorded.
    CorrectDelivery {
        /// The right date.
        delivered_on: NaiveDate,
        /// Why it was wrong (the signed handover record says otherwise …).
        reason: String,
    },
}

/// Events of a unit.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub enum UnitEvent {
    /// A unit was registered.
    UnitRegistered {
        /// Its id.
        unit: UnitId,
        /// Project.
        project: ProjectId,
        /// Building.
        building: BuildingId,
        /// Room number.
        number: String,
    },
    /// The unit was delivered to its owner; warranty periods start.
    DeliveryRecorded {
        /// Delivery date.
        delivered_on: NaiveDate,
    },
    /// The delivery date on record was corrected.
    DeliveryCorrected {
        /// The date recorded before.
        from: NaiveDate,
        /// The right date.
        to: NaiveDate,
        /// Why.
        reason: String,
    },
}

impl UnitEvent {
    /// Stored event name.
    pub fn name(&self) -> &'static str {
        match self {
            UnitEvent::UnitRegistered { .. } => "UnitRegistered",
            UnitEvent::DeliveryRecorded { .. } => "DeliveryRecorded",
            UnitEvent::DeliveryCorrected { .. } => "DeliveryCorrected",
        }
    }
}

/// A registered unit.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Unit {
    /// Id.
    pub id: UnitId,
    /// Project.
    pub project: ProjectId,
    /// Building.
    pub building: BuildingId,
    /// Room number.
    pub number: String,
    /// Delivery date, once delivered.
    pub delivered_on: Option<NaiveDate>,
    /// Time of the latest event.
    pub last_event_at: DateTime<Utc>,
}

/// State of a unit stream.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct UnitState(pub Option<Unit>);

/// The unit decider. Reference: the state of the unit's project (needed to
/// register it).
#[derive(Debug, Clone, Copy, Default)]
pub struct UnitDecider;

impl Decider for UnitDecider {
    type State = UnitState;
    type Command = UnitCommand;
    type Event = Stamped<UnitEvent>;
    type Reference<'r> = Option<&'r Project>;

    fn decide(
        state: &UnitState,
        command: UnitCommand,
        ctx: &Context<Option<&Project>>,
    ) -> Result<Vec<Stamped<UnitEvent>>, DomainError> {
        let action = ArchiveCommand::Unit(&command).action();
        authorize(&ctx.actor, &ArchiveCommand::Unit(&command))?;
        let at = ctx.action_time(state.0.as_ref().map(|u| u.last_event_at))?;
        let event = match (&state.0, command) {
            (Some(u), UnitCommand::Register { .. }) => {
                return Err(DomainError::AlreadyExists {
                    what: format!("unit {}", u.id),
                })
            }
            (
                None,
                UnitCommand::Register {
                    unit,
                    project,
                    building,
                    number,
                },
            ) => {
                let Some(p) = ctx.reference.filter(|p| p.id == project) else {
                    return Err(DomainError::NotFound {
                        what: format!("project {project}"),
                    });
                };
                if !p.buildings.contains_key(&building) {
                    return Err(DomainError::NotFound {
                        what: format!("building {building} in project {project}"),
                    });
                }
                name_text("room number", &number)?;
                UnitEvent::UnitRegistered {
                    unit,
                    project,
                    building,
                    number,
                }
            }
            (None, UnitCommand::RecordDelivery { .. } | UnitCommand::CorrectDelivery { .. }) => {
                return Err(DomainError::NotFound {
                    what: "the unit to record the delivery of".into(),
                })
            }
            (Some(u), UnitCommand::CorrectDelivery { delivered_on, reason }) => {
                let Some(from) = u.delivered_on else {
                    return Err(DomainError::InvalidTransition {
                        action,
                        subject: format!("unit {}", u.id),
                        status: "not delivered".into(),
                        reason: "record the delivery first".into(),
                    });
                };
                if from == delivered_on {
                    return Err(DomainError::input(
                        "delivery date",
                        format!("{delivered_on} is the date on record"),
                    ));
                }
                if delivered_on > latest_date(at) {
                    return Err(DomainError::input(
                        "delivery date",
                        format!("{delivered_on} is in the future"),
                    ));
                }
                name_text("reason", &reason)?;
                UnitEvent::DeliveryCorrected {
                    from,
                    to: delivered_on,
                    reason,
                }
            }
            (Some(u), UnitCommand::RecordDelivery { delivered_on }) => {
                if let Some(d) = u.delivered_on {
                    return Err(DomainError::InvalidTransition {
                        action,
                        subject: format!("unit {}", u.id),
                        status: format!("delivered on {d}"),
                        reason: "a delivery is recorded once".into(),
                    });
                }
                if delivered_on > latest_date(at) {
                    return Err(DomainError::input(
                        "delivery date",
                        format!("{delivered_on} is in the future"),
                    ));
                }
                UnitEvent::DeliveryRecorded { delivered_on }
            }
        };
        Ok(vec![stamp(ctx, at, event)])
    }

    fn evolve(state: UnitState, event: &Stamped<UnitEvent>) -> UnitState {
        let at = event.occurred_at;
        match (state.0, &event.event) {
            (
                None,
                UnitEvent::UnitRegistered {
                    unit,
                    project,
                    building,
                    number,
                },
            ) => UnitState(Some(Unit {
                id: unit.clone(),
                project: project.clone(),
                building: building.clone(),
                number: number.clone(),
                delivered_on: None,
                last_event_at: at,
            })),
            (
                Some(mut u),
                UnitEvent::DeliveryRecorded { delivered_on } | UnitEvent::DeliveryCorrected { to: delivered_on, .. },
            ) => {
                u.delivered_on = Some(*delivered_on);
                u.last_event_at = u.last_event_at.max(at);
                UnitState(Some(u))
            }
            (state, _) => UnitState(state),
        }
    }
}
