//! The project aggregate: a project (小区/项目), its buildings, and the
//! calendar, policy and warranty rules it chose.

use std::collections::BTreeMap;

use chrono::{DateTime, NaiveDate, Utc};
use serde::{Deserialize, Serialize};

use crate::decider::{Context, Decider, Stamped};
use crate::error::DomainError;
use crate::ids::{BuildingId, ProjectId};

use super::{authorize, name_text, stamp, ArchiveCommand};

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
