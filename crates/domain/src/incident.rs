//! Incidents (重大投诉 / 批量问题): one record for many tickets with one
//! cause, so that forty households reporting the same leak are handled,
//! reported on and closed as one.

use std::collections::BTreeSet;

use chrono::{DateTime, Utc};
use serde::{Deserialize, Serialize};

use crate::actor::{Actor, Role};
use crate::decider::{Context, Decider, Stamped};
use crate::error::DomainError;
use crate::ids::{IncidentId, ProjectId, TicketId};
use crate::ticket::EscalationLevel;

/// Commands on an incident.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub enum IncidentCommand {
    /// `openIncident`.
    Open {
        /// Its id.
        incident: IncidentId,
        /// The project.
        project: ProjectId,
        /// Short title.
        title: String,
        /// Level it is handled at.
        level: EscalationLevel,
        /// What is known.
        description: String,
    },
    /// `linkTicketToIncident`.
    LinkTicket {
        /// The ticket.
        ticket: TicketId,
    },
    /// `updateIncident`: what was done, what is next.
    UpdateStatus {
        /// The update.
        note: String,
    },
    /// `closeIncident`.
    Close {
        /// Outcome and corrective and preventive actions (纠正及预防措施).
        summary: String,
    },
}

/// Events of an incident.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub enum IncidentEvent {
    /// Opened.
    IncidentOpened {
        /// Id.
        incident: IncidentId,
        /// Project.
        project: ProjectId,
        /// Title.
        title: String,
        /// Level.
        level: EscalationLevel,
        /// Description.
        description: String,
    },
    /// A ticket joined the incident.
    TicketLinked {
        /// The ticket.
        ticket: TicketId,
    },
    /// A status update.
    StatusUpdated {
        /// The update.
        note: String,
    },
    /// Closed.
    IncidentClosed {
        /// Outcome.
        summary: String,
    },
}

impl IncidentEvent {
    /// Stored event name.
    pub fn name(&self) -> &'static str {
        match self {
            IncidentEvent::IncidentOpened { .. } => "IncidentOpened",
            IncidentEvent::TicketLinked { .. } => "TicketLinked",
            IncidentEvent::StatusUpdated { .. } => "StatusUpdated",
            IncidentEvent::IncidentClosed { .. } => "IncidentClosed",
        }
    }
}

/// An incident on record.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Incident {
    /// Id.
    pub id: IncidentId,
    /// Project.
    pub project: ProjectId,
    /// Title.
    pub title: String,
    /// Level.
    pub level: EscalationLevel,
    /// Linked tickets.
    pub tickets: BTreeSet<TicketId>,
    /// Status updates so far.
    pub updates: u32,
    /// What was known when it was opened.
    pub description: String,
    /// The status updates, oldest first: when, and the note.
    pub notes: Vec<(DateTime<Utc>, String)>,
    /// The outcome and the corrective and preventive actions, once closed.
    pub summary: Option<String>,
    /// When opened.
    pub opened_at: DateTime<Utc>,
    /// When closed.
    pub closed_at: Option<DateTime<Utc>>,
    /// Time of the latest event.
    pub last_event_at: DateTime<Utc>,
}

/// State of an incident stream.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct IncidentState(pub Option<Incident>);

/// The incident decider.
#[derive(Debug, Clone, Copy, Default)]
pub struct IncidentDecider;

fn text(field: &'static str, value: &str) -> Result<(), DomainError> {
    if value.trim().is_empty() {
        return Err(DomainError::input(field, "it is empty"));
    }
    if value.chars().count() > 4000 {
        return Err(DomainError::input(field, "longer than 4000 characters"));
    }
    Ok(())
}

fn action(command: &IncidentCommand) -> &'static str {
    match command {
        IncidentCommand::Open { .. } => "open the incident",
        IncidentCommand::LinkTicket { .. } => "link a ticket to the incident",
        IncidentCommand::UpdateStatus { .. } => "update the incident",
        IncidentCommand::Close { .. } => "close the incident",
    }
}

/// Whether `actor` may issue `command` on an incident at all (the role).
/// The decider checks it first; a server checks it before anything else.
pub fn authorize(actor: &Actor, command: &IncidentCommand) -> Result<(), DomainError> {
    let action = action(command);
    if !matches!(actor.role, Role::Manager | Role::Agent | Role::System) {
        return Err(DomainError::Forbidden {
            actor: actor.to_string(),
            action,
            reason: format!("the {} role cannot handle incidents", actor.role),
        });
    }
    Ok(())
}

impl Decider for IncidentDecider {
    type State = IncidentState;
    type Command = IncidentCommand;
    type Event = Stamped<IncidentEvent>;
    type Reference<'r> = ();

    fn decide(
        state: &IncidentState,
        command: IncidentCommand,
        ctx: &Context<()>,
    ) -> Result<Vec<Stamped<IncidentEvent>>, DomainError> {
        let action = action(&command);
        authorize(&ctx.actor, &command)?;
        let at = ctx.action_time(state.0.as_ref().map(|i| i.last_event_at))?;
        let event = match (&state.0, command) {
            (
                None,
                IncidentCommand::Open {
                    incident,
                    project,
                    title,
                    level,
                    description,
                },
            ) => {
                text("title", &title)?;
                text("description", &description)?;
                IncidentEvent::IncidentOpened {
                    incident,
                    project,
                    title,
                    level,
                    description,
                }
            }
            (Some(i), IncidentCommand::Open { .. }) => {
                return Err(DomainError::AlreadyExists {
                    what: format!("incident {}", i.id),
                })
            }
            (None, _) => {
                return Err(DomainError::NotFound {
                    what: format!("the incident to {}", action.trim_end_matches(" the incident")),
                })
            }
            (Some(i), _) if i.closed_at.is_some() => {
                return Err(DomainError::InvalidTransition {
                    action,
                    subject: format!("incident {}", i.id),
                    status: "closed".into(),
                    reason: String::new(),
                })
            }
            (Some(i), IncidentCommand::LinkTicket { ticket }) => {
                if i.tickets.contains(&ticket) {
                    return Err(DomainError::AlreadyExists {
                        what: format!("the link of ticket {ticket} to incident {}", i.id),
                    });
                }
                IncidentEvent::TicketLinked { ticket }
            }
            (Some(_), IncidentCommand::UpdateStatus { note }) => {
                text("note", &note)?;
                IncidentEvent::StatusUpdated { note }
            }
            (Some(_), IncidentCommand::Close { summary }) => {
                text("summary", &summary)?;
                IncidentEvent::IncidentClosed { summary }
            }
        };
        Ok(vec![Stamped {
            occurred_at: at,
            actor: ctx.actor.clone(),
            channel: ctx.channel,
            event,
            text_seals: Vec::new(),
        }])
    }

    fn evolve(state: IncidentState, event: &Stamped<IncidentEvent>) -> IncidentState {
        let at = event.occurred_at;
        match (state.0, &event.event) {
            (
                None,
                IncidentEvent::IncidentOpened {
                    incident,
                    project,
                    title,
                    level,
                    description,
                },
            ) => IncidentState(Some(Incident {
                id: incident.clone(),
                project: project.clone(),
                title: title.clone(),
                level: *level,
                tickets: BTreeSet::new(),
                updates: 0,
                description: description.clone(),
                notes: Vec::new(),
                summary: None,
                opened_at: at,
                closed_at: None,
                last_event_at: at,
            })),
            (Some(mut i), e) => {
                i.last_event_at = i.last_event_at.max(at);
                match e {
                    IncidentEvent::IncidentOpened { .. } => {}
                    IncidentEvent::TicketLinked { ticket } => {
                        i.tickets.insert(ticket.clone());
                    }
                    IncidentEvent::StatusUpdated { note } => {
                        i.updates += 1;
                        i.notes.push((at, note.clone()));
                    }
                    IncidentEvent::IncidentClosed { summary } => {
                        i.closed_at = Some(at);
                        i.summary = Some(summary.clone());
                    }
                }
                IncidentState(Some(i))
            }
            (None, _) => IncidentState(None),
        }
    }
}
