//! Live subscriptions over WebSocket (`/graphql/ws`, graphql-transport-ws
//! and the older graphql-ws protocol): ticket events as they are
//! appended, and SLA alerts as clocks reach 80% of a target or breach.

use std::collections::HashSet;
use std::sync::Arc;
use std::time::Duration;

use async_graphql::{Context, InputObject, Result, SimpleObject, Subscription};
use chrono::{DateTime, Utc};
use domain::ids::{ProjectId, TicketId};
use eventformat::wire::{self, DomainEvent};
use eventlog::{EventStore, Subscription as LogSubscription};
use futures_util::Stream;

use super::queries::SlaAlert;
use super::types::{Channel, Clock, TicketKind};
use super::{service, ticket_id};
use crate::error::AppError;
use application::service::Service;

/// Which ticket events `ticketEvents` pushes; every given field must
/// match.
#[derive(InputObject, Default)]
pub struct TicketEventFilter {
    /// One ticket.
    pub ticket_id: Option<String>,
    /// The tickets of one project.
    pub project_id: Option<String>,
    /// Only these event types (stored names, e.g. `Accepted`).
    pub types: Option<Vec<String>>,
    /// Start after this log position instead of at the head (to resume
    /// after a reconnect without missing events).
    pub after_position: Option<u64>,
}

/// A ticket event as it was appended.
#[derive(SimpleObject, Clone)]
#[graphql(name = "TicketEvent")]
pub struct TicketEventOut {
    /// Global log position.
    pub position: u64,
    /// The ticket.
    pub ticket_id: String,
    /// Its project.
    pub project_id: String,
    /// Its kind.
    pub kind: TicketKind,
    /// Stored event type.
    #[graphql(name = "type")]
    pub event_type: String,
    /// When it happened.
    pub occurred_at: DateTime<Utc>,
    /// When it was appended.
    pub recorded_at: DateTime<Utc>,
    /// Who.
    pub actor: String,
    /// In which role.
    pub role: String,
    /// Through which channel.
    pub channel: Channel,
    /// What changed, in words.
    pub summary: String,
}

/// Whether the connection's credentials still hold (always, for a
/// subscription served without a session); checked before each item.
fn still_valid(session: Option<&crate::server::Session>) -> bool {
    match session.map(crate::server::Session::check) {
        Some(Err(reason)) => {
            tracing::info!("a subscription ends: {reason}");
            false
        }
        _ => true,
    }
}

struct Follow {
    /// Counted in `graphql_subscriptions_following` while it lives.
    _counted: Option<crate::metrics::FollowingOne>,
    session: Option<crate::server::Session>,
    service: Arc<Service>,
    log: LogSubscription,
    ticket: Option<TicketId>,
    project: Option<ProjectId>,
    types: Option<HashSet<String>>,
    /// Whether the subscriber sees personal data in full (else masked).
    personal: bool,
}

impl Follow {
    /// The project and kind of a ticket that has an event at `position`:
    /// the tickets view knows it once it has applied that position (it
    /// may lag a moment behind the log).
    async fn known_ticket(&self, id: &TicketId, position: u64) -> Option<(ProjectId, domain::ticket::TicketKind)> {
        let view = self.service.view("tickets").ok()?;
        if view.applied().is_none_or(|a| a < position) {
            if let Err(e) = view.wait_for(position, Duration::from_secs(30)).await {
                tracing::warn!("ticketEvents: the tickets view did not reach position {position}: {e}");
            }
        }
        let record = self.service.ticket(id).ok()??;
        Some((record.ticket.location.project().clone(), record.ticket.kind))
    }

    /// The event's summary, with the personal data sealed out of its text
    /// shown as the subscriber may see it.
    fn summary(&self, stamped: &domain::decider::Stamped<domain::ticket::TicketEvent>) -> String {
        let summary = projections::timeline::summary(&stamped.event);
        eventformat::sealing::render_text(self.service.keyring(), &summary, &stamped.text_seals, self.personal)
            .unwrap_or_else(|e| {
                tracing::error!("ticketEvents: personal data in a summary could not be opened: {e}");
                summary
            })
    }

    async fn next(&mut self) -> Option<TicketEventOut> {
        loop {
            let recorded = match self.log.next().await? {
                Ok(r) => r,
                Err(e) => {
                    tracing::error!("ticketEvents: the log failed: {e}");
                    return None;
                }
            };
            if !recorded.stream().starts_with("ticket-") {
                continue;
            }
            let Ok(DomainEvent::Ticket(id, stamped)) = wire::decode(&recorded) else {
                continue;
            };
            if self.ticket.as_ref().is_some_and(|t| *t != id) {
                continue;
            }
            let name = stamped.event.name();
            if self.types.as_ref().is_some_and(|t| !t.contains(name)) {
                continue;
            }
            // The project and kind: from the event itself for a new ticket,
            // otherwise from the tickets view (the ticket was received
            // earlier, so the view knows it).
            let (project, kind) = match &stamped.event {
                domain::ticket::TicketEvent::Received { location, kind, .. } => (location.project().clone(), *kind),
                _ => match self.known_ticket(&id, recorded.position).await {
                    Some(found) => found,
                    None => continue,
                },
            };
            if self.project.as_ref().is_some_and(|p| *p != project) {
                continue;
            }
            if !still_valid(self.session.as_ref()) {
                return None;
            }
            return Some(TicketEventOut {
                position: recorded.position,
                ticket_id: id.to_string(),
                project_id: project.to_string(),
                kind: kind.into(),
                event_type: name.to_string(),
                occurred_at: stamped.occurred_at,
                recorded_at: recorded.recorded_at,
                actor: stamped.actor.user.to_string(),
                role: stamped.actor.role.as_str().to_string(),
                channel: stamped.channel.into(),
                summary: self.summary(&stamped),
            });
        }
    }
}

/// How often `slaAlerts` looks at the clocks.
pub const ALERT_POLL: Duration = Duration::from_secs(15);

struct Watch {
    session: Option<crate::server::Session>,
    service: Arc<Service>,
    project: Option<ProjectId>,
    seen: HashSet<(String, String, String)>,
    pending: std::collections::VecDeque<SlaAlert>,
    first: bool,
    every: Duration,
}

impl Watch {
    async fn next(&mut self) -> Option<SlaAlert> {
        loop {
            if let Some(a) = self.pending.pop_front() {
                return still_valid(self.session.as_ref()).then_some(a);
            }
            if !self.first {
                tokio::time::sleep(self.every).await;
            }
            self.first = false;
            let tree = self.service.view("sla").ok()?.tree();
            let alerts = match projections::sla::alerts(
                &tree,
                self.service.calendars(),
                self.project.as_ref(),
                self.service.now(),
            ) {
                Ok(a) => a,
                Err(e) => {
                    tracing::error!("slaAlerts: the SLA view failed: {e}");
                    return None;
                }
            };
            for a in alerts {
                let key = (
                    a.ticket.to_string(),
                    a.clock.clock.as_str().to_string(),
                    a.clock.status.as_str().to_string(),
                );
                if self.seen.insert(key) {
                    self.pending.push_back(SlaAlert {
                        ticket_id: a.ticket.to_string(),
                        project_id: a.project.to_string(),
                        clock: Clock::from(&a.clock),
                    });
                }
            }
        }
    }
}

/// Subscriptions.
#[derive(Default)]
pub struct SubscriptionRoot;

/// Subscriptions, over `/graphql/ws` (graphql-transport-ws, also
/// graphql-ws), with the bearer token in the `connection_init` payload.
#[Subscription(name = "Subscription")]
impl SubscriptionRoot {
    /// Every ticket event appended from now on (or after `afterPosition`)
    /// that matches `filter`, in log order.
    #[graphql(complexity = "crate::cost::history(child_complexity)")]
    async fn ticket_events(
        &self,
        ctx: &Context<'_>,
        #[graphql(
            default,
            desc = "Which events: one ticket, one project, some event types, and where in the log to start; every field left out matches all."
        )]
        filter: TicketEventFilter,
    ) -> Result<impl Stream<Item = TicketEventOut>> {
        let caller = super::principal(ctx)?;
        application::access::require(caller, application::access::Read::Events)?;
        let project = filter
            .project_id
            .as_deref()
            .map(ProjectId::new)
            .transpose()
            .map_err(AppError::from)?;
        let project = if application::access::scoped(caller) {
            super::queries::project_scope(caller, project)?
        } else {
            project
        };
        let service = service(ctx)?.clone();
        let store: Arc<dyn EventStore> = service.store().clone();
        let from = match filter.after_position {
            Some(p) => p.saturating_add(1),
            None => service.head().map_or(0, |h| h + 1),
        };
        // Counted from here: every event after `from` reaches it.
        let counted = ctx.data_opt::<crate::metrics::Following>().map(|f| f.start());
        let follow = Follow {
            _counted: counted,
            session: ctx.data_opt::<crate::server::Session>().cloned(),
            log: LogSubscription::new(store, from),
            ticket: filter.ticket_id.as_deref().map(ticket_id).transpose()?,
            project,
            types: filter.types.map(|t| t.into_iter().collect()),
            personal: application::access::sees_personal(caller),
            service,
        };
        Ok(futures_util::stream::unfold(follow, |mut f| async move {
            f.next().await.map(|e| (e, f))
        }))
    }

    /// Open tickets whose clocks reach 80% of a target (AT_RISK) or breach
    /// (BREACHED), for one project or all: first every alert standing now,
    /// then each new one as the clocks are looked at again (every 15 s, or
    /// `everySeconds`, at least 1).
    #[graphql(complexity = "crate::cost::alerts(project_id.is_some(), child_complexity)")]
    async fn sla_alerts(
        &self,
        ctx: &Context<'_>,
        #[graphql(desc = "The project; null: every project (a caller scoped to one project may leave it out).")]
        project_id: Option<String>,
        #[graphql(desc = "How often the clocks are looked at again, in seconds (default 15, at least 1).")]
        every_seconds: Option<u32>,
    ) -> Result<impl Stream<Item = SlaAlert>> {
        let project = project_id
            .as_deref()
            .map(ProjectId::new)
            .transpose()
            .map_err(AppError::from)?;
        let caller = super::principal(ctx)?;
        application::access::require(caller, application::access::Read::ProjectReports)?;
        let project = super::queries::project_scope(caller, project)?;
        let watch = Watch {
            session: ctx.data_opt::<crate::server::Session>().cloned(),
            service: service(ctx)?.clone(),
            project,
            seen: HashSet::new(),
            pending: Default::default(),
            first: true,
            every: every_seconds.map_or(ALERT_POLL, |s| Duration::from_secs(u64::from(s.max(1)))),
        };
        Ok(futures_util::stream::unfold(watch, |mut w| async move {
            w.next().await.map(|a| (a, w))
        }))
    }
}
