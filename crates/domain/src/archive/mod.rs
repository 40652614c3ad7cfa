//! The customer archive (客户档案) as events: projects and their buildings,
//! units and their delivery, owners and the units they bought.
//!
//! Three aggregates, one stream each: a project (with its buildings), a
//! unit, an owner. A decision that needs another record (registering a unit
//! needs its project's buildings; linking an owner needs the unit) receives
//! that record's state as reference data in the [`Context`]. Personal
//! fields are [`Personal`].

use std::collections::BTreeMap;

use chrono::{DateTime, NaiveDate, Utc};
use serde::{Deserialize, Serialize};

use crate::actor::{Actor, Role};
use crate::decider::{Context, Decider, Stamped};
use crate::error::DomainError;
use crate::ids::{BuildingId, OwnerId, ProjectId, UnitId};
use crate::personal::{IdNumber, PersonName, Personal, PhoneNumber};
use crate::ticket::TouchpointStage;

fn name_text(field: &'static str, value: &str) -> Result<(), DomainError> {
    if value.trim().is_empty() {
        return Err(DomainError::input(field, "it is empty"));
    }
    if value.chars().count() > 200 || value.chars().any(char::is_control) {
        return Err(DomainError::input(
            field,
            "at most 200 characters, no control characters",
        ));
    }
    Ok(())
}

fn require_role(actor: &Actor, action: &'static str, roles: &[Role]) -> Result<(), DomainError> {
    if roles.contains(&actor.role) {
        Ok(())
    } else {
        Err(DomainError::Forbidden {
            actor: actor.to_string(),
            action,
            reason: format!("the {} role cannot change the customer archive", actor.role),
        })
    }
}

const ARCHIVE_ROLES: &[Role] = &[Role::Admin, Role::System];

/// A command on the customer archive, for [`authorize`].
#[derive(Debug, Clone, Copy)]
pub enum ArchiveCommand<'c> {
    /// On a project.
    Project(&'c ProjectCommand),
    /// On a unit.
    Unit(&'c UnitCommand),
    /// On owner `.0`.
    Owner(&'c OwnerId, &'c OwnerCommand),
}

impl ArchiveCommand<'_> {
    /// What the command does, in words.
    pub fn action(&self) -> &'static str {
        match self {
            ArchiveCommand::Project(ProjectCommand::Register { .. }) => "register the project",
            ArchiveCommand::Project(ProjectCommand::RegisterBuilding { .. }) => "register the building",
            ArchiveCommand::Project(ProjectCommand::ChooseReferenceData { .. }) => {
                "choose the project's calendar, policy or warranty rules"
            }
            ArchiveCommand::Unit(UnitCommand::Register { .. }) => "register the unit",
            ArchiveCommand::Unit(UnitCommand::RecordDelivery { .. }) => "record the delivery",
            ArchiveCommand::Unit(UnitCommand::CorrectDelivery { .. }) => "correct the delivery date",
            ArchiveCommand::Owner(_, c) => owner_action(c).0,
        }
    }
}

fn owner_action(command: &OwnerCommand) -> (&'static str, &'static [Role]) {
    match command {
        OwnerCommand::Register { .. } => ("register the owner", ARCHIVE_ROLES),
        OwnerCommand::LinkUnit { .. } => ("link the owner to a unit", ARCHIVE_ROLES),
        OwnerCommand::ChangeContact { .. } => (
            "change the owner's contact",
            &[Role::Admin, Role::System, Role::Agent, Role::Manager, Role::Owner],
        ),
        OwnerCommand::ChangeStage { .. } => (
            "change the touchpoint stage",
            &[Role::Admin, Role::System, Role::Manager],
        ),
        OwnerCommand::ErasePersonalData { .. } => ("erase the owner's personal data", ARCHIVE_ROLES),
    }
}

/// Whether `actor` may issue an archive command at all: the role, and an
/// owner only on their own record. The deciders check it first; a server
/// checks it before anything else (a retry lookup included).
pub fn authorize(actor: &Actor, command: &ArchiveCommand<'_>) -> Result<(), DomainError> {
    let action = command.action();
    match command {
        ArchiveCommand::Project(_) | ArchiveCommand::Unit(_) => require_role(actor, action, ARCHIVE_ROLES),
        ArchiveCommand::Owner(id, c) => {
            require_role(actor, action, owner_action(c).1)?;
            if actor.role == Role::Owner && actor.owner.as_ref() != Some(*id) {
                return Err(DomainError::Forbidden {
                    actor: actor.to_string(),
                    action,
                    reason: "owners change only their own record".into(),
                });
            }
            Ok(())
        }
    }
}

/// The latest calendar date anywhere on earth at `at` (UTC+14): a date
/// after it is in the future in every time zone, so the archive needs no
/// time zone to refuse future delivery and contract dates.
fn latest_date(at: DateTime<Utc>) -> NaiveDate {
    (at + chrono::TimeDelta::hours(14)).date_naive()
}

fn stamp<R, E>(ctx: &Context<R>, at: DateTime<Utc>, event: E) -> Stamped<E> {
    Stamped {
        occurred_at: at,
        actor: ctx.actor.clone(),
        channel: ctx.channel,
        event,
        text_seals: Vec::new(),
    }
}

// ---------------------------------------------------------------- project

/// Commands on a project.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub enum ProjectCommand {
    /// `registerProject`.
    Register {
        /// Its id.
        project: ProjectId,
        /// Its name (e.g. 滨江壹号).
        name: String,
        /// City.
        city: String,
        /// Business calendar id its clocks run on (e.g. `cn-mainland`).
        calendar: String,
    },
    /// `registerBuilding`.
    RegisterBuilding {
        /// Its id.
        building: BuildingId,
        /// Its name (e.g. 3栋).
        name: String,
    },
    /// `chooseProjectReferenceData`: from `effective_from` on, the
    /// project's tickets use these (the newest version of each); a field
    /// left out keeps what was in force.
    ChooseReferenceData {
        /// A business calendar id (a city's local arrangements).
        calendar: Option<String>,
        /// A service policy id.
        policy: Option<String>,
        /// A warranty rules id.
        warranty: Option<String>,
        /// The first day (in the calendar's zone) tickets received use it.
        effective_from: NaiveDate,
        /// Why (the city company's decision, a contract).
        reason: String,
    },
}

/// Events of a project.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub enum ProjectEvent {
    /// A project was registered.
    ProjectRegistered {
        /// Its id.
        project: ProjectId,
        /// Name.
        name: String,
        /// City.
        city: String,
        /// Calendar id.
        calendar: String,
    },
    /// A building was registered in the project.
    BuildingRegistered {
        /// Its id.
        building: BuildingId,
        /// Name.
        name: String,
    },
    /// The project chose a calendar, policy or warranty rules, from a
    /// date on.
    ReferenceDataChosen {
        /// A business calendar id, if chosen.
        calendar: Option<String>,
        /// A service policy id, if chosen.
        policy: Option<String>,
        /// A warranty rules id, if chosen.
        warranty: Option<String>,
        /// The first day it applies to (the ticket's received date).
        effective_from: NaiveDate,
        /// Why.
        reason: String,
    },
}

impl ProjectEvent {
    /// Stored event name.
    pub fn name(&self) -> &'static str {
        match self {
            ProjectEvent::ProjectRegistered { .. } => "ProjectRegistered",
            ProjectEvent::BuildingRegistered { .. } => "BuildingRegistered",
            ProjectEvent::ReferenceDataChosen { .. } => "ReferenceDataChosen",
        }
    }
}

/// A registered project.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Project {
    /// Id.
    pub id: ProjectId,
    /// Name.
    pub name: String,
    /// City.
    pub city: String,
    /// Calendar id chosen at registration.
    pub calendar: String,
    /// Buildings by id, with their names.
    pub buildings: BTreeMap<BuildingId, String>,
    /// Time of the latest event.
    pub last_event_at: DateTime<Utc>,
    /// The calendar, policy and warranty choices made since, in the
    /// order they were recorded.
    pub choices: Vec<ReferenceChoice>,
}

/// One choice of a project's reference data.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct ReferenceChoice {
    /// A business calendar id, if chosen.
    pub calendar: Option<String>,
    /// A service policy id, if chosen.
    pub policy: Option<String>,
    /// A warranty rules id, if chosen.
    pub warranty: Option<String>,
    /// The first day it applies to.
    pub effective_from: NaiveDate,
    /// Why.
    pub reason: String,
    /// When it was recorded.
    pub recorded_at: DateTime<Utc>,
}

/// The policy and warranty rules every project uses until it chooses
/// others.
pub const DEFAULT_REFERENCE_ID: &str = "default";

impl Project {
    /// The newest choice of one field in force on `date`: of the choices
    /// effective by then, the latest effective date wins (of two on the
    /// same date, the one recorded later).
    fn chosen_on(&self, date: NaiveDate, field: impl Fn(&ReferenceChoice) -> Option<&String>) -> Option<&str> {
        self.choices
            .iter()
            .enumerate()
            .filter(|(_, c)| c.effective_from <= date)
            .filter_map(|(i, c)| field(c).map(|v| (c.effective_from, i, v)))
            .max_by_key(|(d, i, _)| (*d, *i))
            .map(|(_, _, v)| v.as_str())
    }

    /// The business calendar tickets received on `date` use.
    pub fn calendar_on(&self, date: NaiveDate) -> &str {
        self.chosen_on(date, |c| c.calendar.as_ref()).unwrap_or(&self.calendar)
    }

    /// The service policy tickets received on `date` use.
    pub fn policy_on(&self, date: NaiveDate) -> &str {
        self.chosen_on(date, |c| c.policy.as_ref())
            .unwrap_or(DEFAULT_REFERENCE_ID)
    }

    /// The warranty rules tickets received on `date` use.
    pub fn warranty_on(&self, date: NaiveDate) -> &str {
        self.chosen_on(date, |c| c.warranty.as_ref())
            .unwrap_or(DEFAULT_REFERENCE_ID)
    }
}

/// State of a project stream.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct ProjectState(pub Option<Project>);

/// The project decider.
#[derive(Debug, Clone, Copy, Default)]
pub struct ProjectDecider;

impl Decider for ProjectDecider {
    type State = ProjectState;
    type Command = ProjectCommand;
    type Event = Stamped<ProjectEvent>;
    type Reference<'r> = ();

    fn decide(
        state: &ProjectState,
        command: ProjectCommand,
        ctx: &Context<()>,
    ) -> Result<Vec<Stamped<ProjectEvent>>, DomainError> {
        authorize(&ctx.actor, &ArchiveCommand::Project(&command))?;
        let event = match (&state.0, command) {
            (Some(p), ProjectCommand::Register { .. }) => {
                return Err(DomainError::AlreadyExists {
                    what: format!("project {}", p.id),
                })
            }
            (
                None,
                ProjectCommand::Register {
                    project,
                    name,
                    city,
                    calendar,
                },
            ) => {
                name_text("project name", &name)?;
                name_text("city", &city)?;
                name_text("calendar", &calendar)?;
                ProjectEvent::ProjectRegistered {
                    project,
                    name,
                    city,
                    calendar,
                }
            }
            (None, ProjectCommand::RegisterBuilding { .. }) => {
                return Err(DomainError::NotFound {
                    what: "the project to register the building in".into(),
                })
            }
            (None, ProjectCommand::ChooseReferenceData { .. }) => {
                return Err(DomainError::NotFound {
                    what: "the project to choose reference data for".into(),
                })
            }
            (
                Some(_),
                ProjectCommand::ChooseReferenceData {
                    calendar,
                    policy,
                    warranty,
                    effective_from,
                    reason,
                },
            ) => {
                if calendar.is_none() && policy.is_none() && warranty.is_none() {
                    return Err(DomainError::input(
                        "reference data",
                        "choose a calendar, a policy or warranty rules",
                    ));
                }
                for (field, value) in [
                    ("calendar", &calendar),
                    ("policy", &policy),
                    ("warranty rules", &warranty),
                ] {
                    if let Some(v) = value {
                        name_text(field, v)?;
                    }
                }
                name_text("reason", &reason)?;
                // Tickets already received keep what they had: a choice
                // starts today at the earliest (the earliest "today"
                // anywhere, so that no time zone is needed).
                let today = (ctx.now - chrono::TimeDelta::hours(12)).date_naive();
                if effective_from < today {
                    return Err(DomainError::input(
                        "effective date",
                        format!(
                            "{effective_from} is in the past: tickets already received keep what they had; choose \
                             today or later"
                        ),
                    ));
                }
                ProjectEvent::ReferenceDataChosen {
                    calendar,
                    policy,
                    warranty,
                    effective_from,
                    reason,
                }
            }
            (Some(p), ProjectCommand::RegisterBuilding { building, name }) => {
                if p.buildings.contains_key(&building) {
                    return Err(DomainError::AlreadyExists {
                        what: format!("building {building} in project {}", p.id),
                    });
                }
                name_text("building name", &name)?;
                ProjectEvent::BuildingRegistered { building, name }
            }
        };
        let at = ctx.action_time(state.0.as_ref().map(|p| p.last_event_at))?;
        Ok(vec![stamp(ctx, at, event)])
    }

    fn evolve(state: ProjectState, event: &Stamped<ProjectEvent>) -> ProjectState {
        let at = event.occurred_at;
        match (state.0, &event.event) {
            (
                None,
                ProjectEvent::ProjectRegistered {
                    project,
                    name,
                    city,
                    calendar,
                },
            ) => ProjectState(Some(Project {
                id: project.clone(),
                name: name.clone(),
                city: city.clone(),
                calendar: calendar.clone(),
                buildings: BTreeMap::new(),
                last_event_at: at,
                choices: Vec::new(),
            })),
            (Some(mut p), ProjectEvent::BuildingRegistered { building, name }) => {
                p.buildings.insert(building.clone(), name.clone());
                p.last_event_at = p.last_event_at.max(at);
                ProjectState(Some(p))
            }
            (
                Some(mut p),
                ProjectEvent::ReferenceDataChosen {
                    calendar,
                    policy,
                    warranty,
                    effective_from,
                    reason,
                },
            ) => {
                p.choices.push(ReferenceChoice {
                    calendar: calendar.clone(),
                    policy: policy.clone(),
                    warranty: warranty.clone(),
                    effective_from: *effective_from,
                    reason: reason.clone(),
                    recorded_at: at,
                });
                p.last_event_at = p.last_event_at.max(at);
                ProjectState(Some(p))
            }
            (state, _) => ProjectState(state),
        }
    }
}

// ------------------------------------------------------------------- unit

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

// ------------------------------------------------------------------ owner

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
