//! The owner aggregate: an owner (业主), their personal data, the units they
//! bought, and the erasure of their personal data.

use std::collections::BTreeMap;

use chrono::{DateTime, NaiveDate, Utc};
use serde::{Deserialize, Serialize};

use crate::actor::Role;
use crate::decider::{Context, Decider, Stamped};
use crate::error::DomainError;
use crate::ids::{OwnerId, ProjectId, UnitId};
use crate::personal::{IdNumber, PersonName, Personal, PhoneNumber};
use crate::ticket::TouchpointStage;

use super::{latest_date, owner_action, require_role, stamp, Unit};

/// Commands on an owner.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub enum OwnerCommand {
    /// `registerOwner`.
    Register {
        /// Their id.
        owner: OwnerId,
        /// Name.
        name: Personal<PersonName>,
        /// Phone.
        phone: Personal<PhoneNumber>,
        /// Identity document number, if collected.
        id_number: Option<Personal<IdNumber>>,
    },
    /// `linkOwnerToUnit`: the owner bought a unit; needs the unit's state.
    LinkUnit {
        /// The unit.
        unit: UnitId,
        /// Contract signing date (签约日期).
        contract_signed_on: NaiveDate,
        /// Current touchpoint stage.
        stage: TouchpointStage,
    },
    /// `changeOwnerContact`.
    ChangeContact {
        /// New phone.
        phone: Personal<PhoneNumber>,
    },
    /// `changeTouchpointStage`: the owner moved to another stage for a unit.
    ChangeStage {
        /// The unit.
        unit: UnitId,
        /// The new stage.
        stage: TouchpointStage,
    },
    /// `aftersales erase-owner`: the owner asked for their personal data to
    /// be deleted (PIPL art. 47). Records the erasure; the keys that seal
    /// their personal values are destroyed outside the domain.
    ErasePersonalData {
        /// Reference of the request (letter, form or ticket number).
        request: String,
    },
}

/// Events of an owner.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub enum OwnerEvent {
    /// An owner was registered.
    OwnerRegistered {
        /// Id.
        owner: OwnerId,
        /// Name.
        name: Personal<PersonName>,
        /// Phone.
        phone: Personal<PhoneNumber>,
        /// ID number.
        id_number: Option<Personal<IdNumber>>,
    },
    /// The owner bought a unit.
    OwnerLinkedToUnit {
        /// The unit.
        unit: UnitId,
        /// Its project.
        project: ProjectId,
        /// Contract signing date.
        contract_signed_on: NaiveDate,
        /// The unit's delivery date when the link was made, if delivered
        /// (the unit's own stream has the current one).
        delivered_on: Option<NaiveDate>,
        /// Touchpoint stage.
        stage: TouchpointStage,
    },
    /// New phone number.
    ContactChanged {
        /// Phone.
        phone: Personal<PhoneNumber>,
    },
    /// New touchpoint stage for a unit.
    TouchpointStageChanged {
        /// The unit.
        unit: UnitId,
        /// Old stage.
        from: TouchpointStage,
        /// New stage.
        to: TouchpointStage,
    },
    /// The owner's personal data was erased at their request; their name,
    /// phone numbers and ID number are unreadable from here on, in every
    /// event and view.
    PersonalDataErased {
        /// Reference of the request.
        request: String,
    },
}

impl OwnerEvent {
    /// Stored event name.
    pub fn name(&self) -> &'static str {
        match self {
            OwnerEvent::OwnerRegistered { .. } => "OwnerRegistered",
            OwnerEvent::OwnerLinkedToUnit { .. } => "OwnerLinkedToUnit",
            OwnerEvent::ContactChanged { .. } => "ContactChanged",
            OwnerEvent::TouchpointStageChanged { .. } => "TouchpointStageChanged",
            OwnerEvent::PersonalDataErased { .. } => "PersonalDataErased",
        }
    }

    /// The event's personal fields, for sealing before it is stored.
    pub fn personal_fields(&mut self) -> Vec<crate::personal::PersonalField<'_>> {
        use crate::personal::PersonalField;
        match self {
            OwnerEvent::OwnerRegistered {
                name, phone, id_number, ..
            } => {
                let mut fields = vec![PersonalField::Name(name), PersonalField::Phone(phone)];
                if let Some(id) = id_number {
                    fields.push(PersonalField::IdNumber(id));
                }
                fields
            }
            OwnerEvent::ContactChanged { phone } => vec![PersonalField::Phone(phone)],
            _ => Vec::new(),
        }
    }
}

/// A unit an owner bought.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct OwnedUnit {
    /// Project.
    pub project: ProjectId,
    /// Contract signing date.
    pub contract_signed_on: NaiveDate,
    /// Delivery date when linked.
    pub delivered_on: Option<NaiveDate>,
    /// Touchpoint stage.
    pub stage: TouchpointStage,
}

/// A registered owner.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Owner {
    /// Id.
    pub id: OwnerId,
    /// Name.
    pub name: Personal<PersonName>,
    /// Phone.
    pub phone: Personal<PhoneNumber>,
    /// ID number.
    pub id_number: Option<Personal<IdNumber>>,
    /// Units bought.
    pub units: BTreeMap<UnitId, OwnedUnit>,
    /// Time of the latest event.
    pub last_event_at: DateTime<Utc>,
    /// When their personal data was erased, if it was.
    #[serde(default)]
    pub erased_at: Option<DateTime<Utc>>,
}

/// State of an owner stream.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct OwnerState(pub Option<Owner>);

/// The owner decider. Reference: the unit's state for `LinkUnit`.
#[derive(Debug, Clone, Copy, Default)]
pub struct OwnerDecider;

impl Decider for OwnerDecider {
    type State = OwnerState;
    type Command = OwnerCommand;
    type Event = Stamped<OwnerEvent>;
    type Reference<'r> = Option<&'r Unit>;

    fn decide(
        state: &OwnerState,
        command: OwnerCommand,
        ctx: &Context<Option<&Unit>>,
    ) -> Result<Vec<Stamped<OwnerEvent>>, DomainError> {
        let (action, roles) = owner_action(&command);
        require_role(&ctx.actor, action, roles)?;
        let at = ctx.action_time(state.0.as_ref().map(|o| o.last_event_at))?;
        let Some(owner) = &state.0 else {
            return match command {
                OwnerCommand::Register {
                    owner,
                    name,
                    phone,
                    id_number,
                } => Ok(vec![stamp(
                    ctx,
                    at,
                    OwnerEvent::OwnerRegistered {
                        owner,
                        name,
                        phone,
                        id_number,
                    },
                )]),
                _ => Err(DomainError::NotFound {
                    what: format!("the owner to {action}"),
                }),
            };
        };
        if ctx.actor.role == Role::Owner && ctx.actor.owner.as_ref() != Some(&owner.id) {
            return Err(DomainError::Forbidden {
                actor: ctx.actor.to_string(),
                action,
                reason: "owners change only their own record".into(),
            });
        }
        if let Some(erased_at) = owner.erased_at {
            return Err(match command {
                OwnerCommand::ErasePersonalData { .. } => DomainError::AlreadyExists {
                    what: format!("the erasure of owner {}'s personal data", owner.id),
                },
                _ => DomainError::input(
                    "owner",
                    format!(
                        "the personal data of owner {} was erased at {erased_at}; register them again under a new id",
                        owner.id
                    ),
                ),
            });
        }
        let event = match command {
            OwnerCommand::Register { .. } => {
                return Err(DomainError::AlreadyExists {
                    what: format!("owner {}", owner.id),
                })
            }
            OwnerCommand::ErasePersonalData { request } => {
                let request = request.trim().to_string();
                if request.is_empty() || request.chars().count() > 200 {
                    return Err(DomainError::input(
                        "erasure request reference",
                        "1 to 200 characters expected",
                    ));
                }
                OwnerEvent::PersonalDataErased { request }
            }
            OwnerCommand::LinkUnit {
                unit,
                contract_signed_on,
                stage,
            } => {
                let Some(u) = ctx.reference.filter(|u| u.id == unit) else {
                    return Err(DomainError::NotFound {
                        what: format!("unit {unit}"),
                    });
                };
                if owner.units.contains_key(&unit) {
                    return Err(DomainError::AlreadyExists {
                        what: format!("the link of owner {} to unit {unit}", owner.id),
                    });
                }
                if contract_signed_on > latest_date(at) {
                    return Err(DomainError::input(
                        "contract date",
                        format!("{contract_signed_on} is in the future"),
                    ));
                }
                OwnerEvent::OwnerLinkedToUnit {
                    project: u.project.clone(),
                    delivered_on: u.delivered_on,
                    unit,
                    contract_signed_on,
                    stage,
                }
            }
            OwnerCommand::ChangeContact { phone } => {
                if phone == owner.phone {
                    return Err(DomainError::input("phone number", "it is the number on record already"));
                }
                OwnerEvent::ContactChanged { phone }
            }
            OwnerCommand::ChangeStage { unit, stage } => {
                let Some(owned) = owner.units.get(&unit) else {
                    return Err(DomainError::NotFound {
                        what: format!("unit {unit} among the units of owner {}", owner.id),
                    });
                };
                if owned.stage == stage {
                    return Err(DomainError::input("touchpoint stage", format!("it is already {stage}")));
                }
                OwnerEvent::TouchpointStageChanged {
                    unit,
                    from: owned.stage,
                    to: stage,
                }
            }
        };
        Ok(vec![stamp(ctx, at, event)])
    }

    fn evolve(state: OwnerState, event: &Stamped<OwnerEvent>) -> OwnerState {
        let at = event.occurred_at;
        match (state.0, &event.event) {
            (
                None,
                OwnerEvent::OwnerRegistered {
                    owner,
                    name,
                    phone,
                    id_number,
                },
            ) => OwnerState(Some(Owner {
                id: owner.clone(),
                name: name.clone(),
                phone: phone.clone(),
                id_number: id_number.clone(),
                units: BTreeMap::new(),
                last_event_at: at,
                erased_at: None,
            })),
            (Some(mut o), e) => {
                o.last_event_at = o.last_event_at.max(at);
                match e {
                    OwnerEvent::OwnerRegistered { .. } => {}
                    OwnerEvent::OwnerLinkedToUnit {
                        unit,
                        project,
                        contract_signed_on,
                        delivered_on,
                        stage,
                    } => {
                        o.units.insert(
                            unit.clone(),
                            OwnedUnit {
                                project: project.clone(),
                                contract_signed_on: *contract_signed_on,
                                delivered_on: *delivered_on,
                                stage: *stage,
                            },
                        );
                    }
                    OwnerEvent::ContactChanged { phone } => o.phone = phone.clone(),
                    OwnerEvent::TouchpointStageChanged { unit, to, .. } => {
                        if let Some(u) = o.units.get_mut(unit) {
                            u.stage = *to;
                        }
                    }
                    OwnerEvent::PersonalDataErased { .. } => o.erased_at = Some(at),
                }
                OwnerState(Some(o))
            }
            (None, _) => OwnerState(None),
        }
    }
}
