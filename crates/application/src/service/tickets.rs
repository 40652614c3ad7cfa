//! Ticket commands and single-ticket reads.

use std::sync::Arc;

use chrono::{DateTime, Utc};
use domain::decider::{Decider, Stamped};
use domain::ids::{ProjectId, TicketId};
use domain::sla::SlaReport;
use domain::ticket::{Location, TicketCommand, TicketDecider, TicketEvent, TicketReference};
use eventlog::Position;
use projections::runner::ViewHandle;
use projections::tickets::{self, TicketRecord};

use super::{stream, ticket_event, Acting, Outcome, Service};
use crate::error::AppError;

impl Service {
    fn tickets_view(&self) -> Result<&ViewHandle, AppError> {
        self.views
            .iter()
            .find(|v| v.name() == "tickets")
            .ok_or_else(|| AppError::internal("the tickets view is not running"))
    }

    /// One ticket from the tickets view.
    pub fn ticket(&self, id: &TicketId) -> Result<Option<Arc<TicketRecord>>, AppError> {
        tickets::ticket_cached(&self.tickets_view()?.tree(), id, &self.ticket_cache).map_err(AppError::internal)
    }

    fn delivered_on(&self, location: &Location) -> Result<Option<chrono::NaiveDate>, AppError> {
        let Some(unit) = location.unit() else { return Ok(None) };
        Ok(self.unit(unit)?.0.and_then(|u| u.delivered_on))
    }

    /// A ticket's service-level clocks as of `at` (`None`: no such ticket).
    pub fn clocks(&self, id: &TicketId, at: DateTime<Utc>) -> Result<Option<SlaReport>, AppError> {
        let view = self.view("sla")?;
        projections::sla::ticket_clocks(&view.tree(), &self.calendars, id, at).map_err(AppError::internal)
    }

    /// The open tickets of `projects` (of every project when empty), most
    /// urgent first now: the work queue's order
    /// ([`projections::sla::open_by_due`]), each with its nearest due.
    pub fn open_by_due(&self, projects: &[ProjectId]) -> Result<Vec<projections::sla::DueOrder>, AppError> {
        let view = self.view("sla")?;
        projections::sla::open_by_due(&view.tree(), &self.calendars, projects, self.now()).map_err(AppError::internal)
    }

    /// The mutations `acting` may run on ticket `id` now, by name
    /// (`domain::ticket::offered`: each command tried on the ticket's
    /// state, offered unless refused for who acts or for the state).
    /// Empty for a ticket that does not exist or lies outside the caller's
    /// projects. Reads the ticket's stream; appends nothing.
    pub fn offered_actions(&self, id: &TicketId, acting: &Acting) -> Result<Vec<&'static str>, AppError> {
        let (_, history) = self.history(&stream(id)?, ticket_event)?;
        let state = TicketDecider::fold(&history);
        let Some(ticket) = state.ticket() else {
            return Ok(Vec::new());
        };
        if acting.require_project(ticket.location.project()).is_err() {
            return Ok(Vec::new());
        }
        let delivered_on = self.delivered_on(&ticket.location)?;
        let in_force =
            self.reference_data_for(ticket.location.project(), self.calendar.local_date(ticket.received_at))?;
        let reference = TicketReference {
            policy: &in_force.policy,
            calendar: &in_force.calendar,
            warranty: &in_force.warranty,
            delivered_on,
        };
        Ok(domain::ticket::offered(&state, &self.context(acting, reference)))
    }

    /// Decides `command` on ticket `id` and appends what it produces;
    /// returns the ticket once the tickets view shows the change.
    pub async fn ticket_command(
        &self,
        id: &TicketId,
        command: TicketCommand,
        acting: Acting,
    ) -> Result<Outcome, AppError> {
        // Not while a publication of reference data settles open tickets.
        let _shared = self.publication.read().await;
        let stream = stream(id)?;
        let new_location = match &command {
            TicketCommand::Receive(r) => Some(r.location.clone()),
            _ => None,
        };
        let creates = new_location.is_some();
        let request = format!("{command:?}\u{0}{:?}\u{0}{:?}", acting.channel, acting.occurred_at);
        let position = self
            .execute(
                &format!("ticket {id}"),
                creates,
                &stream,
                &acting,
                &request,
                ticket_event,
                |history| {
                    let state = TicketDecider::fold(history);
                    let ticket = state.ticket();
                    let location = ticket.map(|t| &t.location).or(new_location.as_ref());
                    if let Some(l) = location {
                        acting.require_project(l.project())?;
                    }
                    Ok(domain::ticket::authorize(&acting.actor, &command, ticket)?)
                },
                |history| self.decide_ticket(history, &command, &acting, &new_location),
            )
            .await?;
        self.after_write(id, position).await
    }

    /// Decides a ticket command: checks the records it names, reads the
    /// unit's delivery date and the reference data in force on the day the
    /// ticket was received, and settles clocks that still count on an
    /// older version of the calendar in the same append.
    fn decide_ticket(
        &self,
        history: &[Stamped<TicketEvent>],
        command: &TicketCommand,
        acting: &Acting,
        new_location: &Option<Location>,
    ) -> Result<Vec<Stamped<TicketEvent>>, AppError> {
        let state = TicketDecider::fold(history);
        if let TicketCommand::Receive(r) = command {
            self.check_new_ticket(r)?;
        }
        self.check_command_references(state.ticket(), command, acting)?;
        // The delivery date is read before deciding; the unit
        // stream is not part of the ticket's consistency
        // boundary.
        let location = state.ticket().map(|t| t.location.clone()).or(new_location.clone());
        let delivered_on = match &location {
            Some(l) => self.delivered_on(l)?,
            None => None,
        };
        // The versions in force on the day the ticket was
        // received (its clocks start then).
        let received = state
            .ticket()
            .map(|t| t.received_at)
            .unwrap_or_else(|| acting.occurred_at.unwrap_or_else(|| self.now()));
        let in_force = match &location {
            Some(l) => self.reference_data_for(l.project(), self.calendar.local_date(received))?,
            None => return Err(AppError::internal("a ticket command without a location")),
        };
        let reference = TicketReference {
            policy: &in_force.policy,
            calendar: &in_force.calendar,
            warranty: &in_force.warranty,
            delivered_on,
        };
        let mut events = TicketDecider::decide(&state, command.clone(), &self.context(acting, reference))?;
        let settled = self.catch_up_settlements(history, &events, &in_force.calendar, acting)?;
        events.extend(settled);
        Ok(events)
    }

    async fn after_write(&self, id: &TicketId, position: Position) -> Result<Outcome, AppError> {
        self.settle(position).await?;
        let ticket = self
            .ticket(id)?
            .ok_or_else(|| AppError::internal(format!("ticket {id} is not in the view after its write")))?;
        Ok(Outcome { ticket, position })
    }
}
