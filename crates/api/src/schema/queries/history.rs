//! `ticketHistory`: a ticket's audit history and its state as of a cut.

use async_graphql::{Context, InputObject, Object, Result, SimpleObject};
use chrono::{DateTime, Utc};
use domain::decider::Stamped;
use domain::ticket::{evolve, TicketState};
use projections::tickets::TicketRecord;
use projections::timeline;

use crate::error::AppError;
use crate::schema::types::*;
use crate::schema::{bad, principal, service, ticket_id};
use application::access::{self, Read};

/// Which state `ticketHistory` replays to: give at most one field; none
/// means everything.
#[derive(InputObject, Default)]
pub struct AsOfInput {
    /// Everything up to and including this log position.
    pub position: Option<u64>,
    /// What the log had stored at this instant: the record as staff could
    /// see it then (back-entered events count from when they were entered).
    pub recorded_at: Option<DateTime<Utc>>,
    /// Everything that had happened by this instant, including what was
    /// entered later.
    pub occurred_at: Option<DateTime<Utc>>,
}

/// One event of a ticket's audit history. An event this build cannot read
/// has type `Unreadable`, a summary naming its stored type and why, is
/// never `included` (the state is replayed without it), and shows who,
/// when and the channel as the log recorded them (`BACK_OFFICE` when the
/// log names no channel of the domain).
#[derive(SimpleObject)]
pub struct HistoryEntry {
    /// Global log position.
    pub position: u64,
    /// Version within the ticket's stream.
    pub version: u64,
    /// Stored event type (`Accepted`, `Reopened`).
    #[graphql(name = "type")]
    pub event_type: String,
    /// When it happened.
    pub occurred_at: DateTime<Utc>,
    /// When it was entered.
    pub recorded_at: DateTime<Utc>,
    /// Who.
    pub actor: String,
    /// In which role.
    pub role: String,
    /// The contractor company acting, if any.
    pub contractor_id: Option<String>,
    /// Through which channel.
    pub channel: Channel,
    /// What changed, in words (times in the project's calendar zone).
    pub summary: String,
    /// The event's own fields, as stored (`{"reason": …, "cycle": 2}`),
    /// personal values shown as the caller may see them (in full, masked
    /// or `[erased]`), numbers typed into free text likewise.
    pub fields: async_graphql::Json<serde_json::Value>,
    /// Whether it falls within `asOf`.
    pub included: bool,
}

/// An event's fields as JSON for `HistoryEntry.fields`: the stored
/// payload's variant body, personal values shown per the caller's role.
fn event_fields(
    ctx: &Context<'_>,
    event: &domain::ticket::TicketEvent,
    seals: &[domain::personal::TextSeal],
) -> Result<serde_json::Value> {
    let tagged = serde_json::to_value(event).map_err(AppError::internal)?;
    let mut body = match tagged {
        serde_json::Value::Object(mut outer) if outer.len() == 1 => {
            let (_, body) = outer
                .iter_mut()
                .next()
                .map(|(k, v)| (k.clone(), v.take()))
                .unwrap_or_default();
            body
        }
        other => other,
    };
    restore_text(ctx, &mut body, seals)?;
    if let (domain::ticket::TicketEvent::Received { reporter, .. }, Some(r)) = (event, body.get_mut("reporter")) {
        r["name"] = serde_json::Value::String(crate::schema::types::shown_in(ctx, &reporter.name, |n| n.full())?);
        r["phone"] = serde_json::Value::String(crate::schema::types::shown_in(ctx, &reporter.phone, |p| {
            p.as_str().to_string()
        })?);
    }
    Ok(body)
}

/// Numbers sealed out of free text, put back as the caller may see them.
fn restore_text(ctx: &Context<'_>, value: &mut serde_json::Value, seals: &[domain::personal::TextSeal]) -> Result<()> {
    match value {
        serde_json::Value::String(text) if !seals.is_empty() => {
            *text = crate::schema::types::text(ctx, text, seals)?;
        }
        serde_json::Value::Array(items) => {
            for item in items {
                restore_text(ctx, item, seals)?;
            }
        }
        serde_json::Value::Object(map) => {
            for (_, item) in map.iter_mut() {
                restore_text(ctx, item, seals)?;
            }
        }
        _ => {}
    }
    Ok(())
}

/// The history line of an event that cannot be read.
fn unreadable_entry(u: timeline::UnreadableEntry) -> HistoryEntry {
    HistoryEntry {
        position: u.position,
        version: u.stream_version,
        event_type: "Unreadable".to_string(),
        occurred_at: u.occurred_at.unwrap_or(u.recorded_at),
        recorded_at: u.recorded_at,
        actor: u.actor,
        role: u.role,
        contractor_id: None,
        channel: u
            .channel
            .parse::<domain::ticket::Channel>()
            .unwrap_or(domain::ticket::Channel::BackOffice)
            .into(),
        summary: format!("unreadable {} event: {}", u.event_type, u.reason),
        fields: async_graphql::Json(serde_json::json!({ "storedType": u.event_type, "reason": u.reason })),
        included: false,
    }
}

/// A ticket's audit replay.
#[derive(SimpleObject)]
pub struct TicketHistory {
    /// The ticket.
    pub ticket_id: String,
    /// Every event, oldest first (also those after `asOf`, marked).
    pub events: Vec<HistoryEntry>,
    /// The ticket as of `asOf` (null: it did not exist yet). Its `clocks`
    /// are replayed too: evaluated from the history up to the cut, at the
    /// cut's instant (for a `position`, when the log recorded that event;
    /// for `recordedAt` and `occurredAt`, that instant; without a cut,
    /// now).
    pub state: Option<TicketOut>,
}

/// Audit histories.
#[derive(Default)]
pub struct HistoryQueries;

#[Object(name = "HistoryQueries")]
impl HistoryQueries {
    /// A ticket's audit history and its state as of `asOf` (the audit
    /// replay), read from the log itself. Null if the ticket does not
    /// exist. Cost: 500 + 20 × the selection.
    #[graphql(complexity = "crate::cost::history(child_complexity)")]
    async fn ticket_history(
        &self,
        ctx: &Context<'_>,
        #[graphql(desc = "The ticket number.")] id: String,
        #[graphql(
            default,
            desc = "Where to cut the history for the replayed `state`: at most one of a log position, a recorded instant or an occurred instant; none: the whole history."
        )]
        as_of: AsOfInput,
    ) -> Result<Option<TicketHistory>> {
        let caller = principal(ctx)?;
        access::require(caller, Read::History)?;
        let id = ticket_id(&id)?;
        if let Some(current) = service(ctx)?.ticket(&id)? {
            access::require_ticket(caller, &current.ticket)?;
        }
        let given = [
            as_of.position.is_some(),
            as_of.recorded_at.is_some(),
            as_of.occurred_at.is_some(),
        ];
        if given.iter().filter(|g| **g).count() > 1 {
            return Err(bad("asOf takes at most one of position, recordedAt and occurredAt").into());
        }
        let service = service(ctx)?;
        let (entries, unreadable) =
            timeline::history_marked(service.store().as_ref(), &id).map_err(AppError::internal)?;
        if entries.is_empty() && unreadable.is_empty() {
            return Ok(None);
        }
        let mut state = TicketState::default();
        let mut text_seals = Vec::new();
        let mut last: Option<(u64, DateTime<Utc>)> = None;
        // The events up to the cut, for the replayed state's clocks.
        let mut replayed: Vec<Stamped<domain::ticket::TicketEvent>> = Vec::new();
        let mut events = Vec::with_capacity(entries.len());
        for e in entries {
            let included = match (as_of.position, as_of.recorded_at, as_of.occurred_at) {
                (Some(p), _, _) => e.position <= p,
                (_, Some(t), _) => e.recorded_at <= t,
                (_, _, Some(t)) => e.occurred_at <= t,
                _ => true,
            };
            events.push(HistoryEntry {
                position: e.position,
                version: e.stream_version,
                event_type: e.event.name().to_string(),
                occurred_at: e.occurred_at,
                recorded_at: e.recorded_at,
                actor: e.actor.user.to_string(),
                role: e.actor.role.as_str().to_string(),
                contractor_id: e.actor.contractor.as_ref().map(|c| c.to_string()),
                channel: e.channel.into(),
                summary: crate::schema::types::text(ctx, &e.summary, &e.text_seals)?,
                fields: async_graphql::Json(event_fields(ctx, &e.event, &e.text_seals)?),
                included,
            });
            if included {
                last = Some((e.position, e.recorded_at));
                text_seals.extend(e.text_seals.iter().cloned());
                let stamped = Stamped {
                    occurred_at: e.occurred_at,
                    actor: e.actor,
                    channel: e.channel,
                    event: e.event,
                    text_seals: e.text_seals,
                };
                state = evolve(state, &stamped);
                replayed.push(stamped);
            }
        }
        // The clocks as they stood at the cut: from the history up to it,
        // at the cut's instant (a position's: when the log recorded it;
        // without a cut: now), never from the live view.
        let at = match (as_of.position, as_of.recorded_at, as_of.occurred_at) {
            (Some(_), _, _) => last.map_or_else(|| service.now(), |(_, recorded_at)| recorded_at),
            (_, Some(t), _) | (_, _, Some(t)) => t,
            _ => service.now(),
        };
        let clocks = domain::sla::evaluate(&replayed, service.calendars(), at).map_err(AppError::internal)?;
        events.extend(unreadable.into_iter().map(unreadable_entry));
        events.sort_by_key(|e| e.position);
        let state = match (state.0, last) {
            (Some(ticket), Some((position, updated_at))) => Some(TicketOut(
                std::sync::Arc::new(TicketRecord {
                    ticket: *ticket,
                    position,
                    updated_at,
                    text_seals,
                }),
                Some(std::sync::Arc::new(clocks)),
            )),
            _ => None,
        };
        Ok(Some(TicketHistory {
            ticket_id: id.to_string(),
            events,
            state,
        }))
    }
}
