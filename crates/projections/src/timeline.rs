//! A ticket's audit history: every event in order with who, which role,
//! which channel, when it happened and when it was entered, and a readable
//! summary; and the ticket's state as of any position or instant (audit
//! replay). The ticket's stream is the history, so this reads the log
//! itself rather than a copy.

use chrono::{DateTime, Utc};
use domain::actor::Actor;
use domain::decider::Stamped;
use domain::ids::TicketId;
use domain::ticket::{evolve, Channel, Ticket, TicketEvent, TicketState};
use eventlog::{EventStore, Position, StreamVersion};

use crate::runner::ProjectionError;
use eventformat::wire::{self, DomainEvent};

/// One line of a ticket's history.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct TimelineEntry {
    /// Global position.
    pub position: Position,
    /// Version within the ticket's stream.
    pub stream_version: StreamVersion,
    /// When it happened.
    pub occurred_at: DateTime<Utc>,
    /// When it was entered (stored by the log).
    pub recorded_at: DateTime<Utc>,
    /// Who, in which role.
    pub actor: Actor,
    /// Through which channel.
    pub channel: Channel,
    /// The event.
    pub event: TicketEvent,
    /// What changed, in words. Personal data sealed out of the event's
    /// free text stays a placeholder here ([`eventformat::sealing::render_text`]
    /// shows it with [`TimelineEntry::text_seals`]).
    pub summary: String,
    /// The personal data sealed out of the event's free text.
    pub text_seals: Vec<domain::personal::TextSeal>,
}

/// An event of a ticket's stream that this build cannot read (written by
/// an older build or a raw tool): what the log itself says of it, and why
/// it does not decode. It is shown in the history, never folded.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct UnreadableEntry {
    /// Global position.
    pub position: Position,
    /// Version within the ticket's stream.
    pub stream_version: StreamVersion,
    /// When it was entered (stored by the log).
    pub recorded_at: DateTime<Utc>,
    /// When it happened, as the log's metadata says, if it does.
    pub occurred_at: Option<DateTime<Utc>>,
    /// The log's type name for it.
    pub event_type: String,
    /// Who, as the log's metadata says.
    pub actor: String,
    /// In which role, as the log's metadata says.
    pub role: String,
    /// Through which channel, as the log's metadata says.
    pub channel: String,
    /// Why it cannot be read.
    pub reason: String,
}

/// Which state to replay to.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum AsOf {
    /// Everything up to and including this log position.
    Position(Position),
    /// Everything the log had stored at this instant: the record as staff
    /// could see it then (back-entered events count from when they were
    /// entered).
    Recorded(DateTime<Utc>),
    /// Everything that had happened by this instant, including what was
    /// entered later.
    Occurred(DateTime<Utc>),
}

/// The whole history of a ticket, oldest first (empty if it does not
/// exist). An event that cannot be read is an error naming its position;
/// [`history_marked`] answers with the readable ones instead.
pub fn history(store: &dyn EventStore, id: &TicketId) -> Result<Vec<TimelineEntry>, ProjectionError> {
    let (entries, unreadable) = history_marked(store, id)?;
    match unreadable.first() {
        None => Ok(entries),
        Some(u) => Err(ProjectionError::Invalid(format!(
            "ticket {id} holds an event that cannot be read at position {} ({}): {}",
            u.position, u.event_type, u.reason
        ))),
    }
}

/// The whole history of a ticket, oldest first (empty if it does not
/// exist): the events that can be read, and apart, those that cannot.
pub fn history_marked(
    store: &dyn EventStore,
    id: &TicketId,
) -> Result<(Vec<TimelineEntry>, Vec<UnreadableEntry>), ProjectionError> {
    let stream = wire::stream_of(id)?;
    let mut entries = Vec::new();
    let mut unreadable = Vec::new();
    let mut from = 0;
    loop {
        let batch = store.read_stream(&stream, from, 512)?;
        let Some(last) = batch.last() else { break };
        from = last.stream_version + 1;
        for recorded in &batch {
            let decoded = match wire::decode(recorded) {
                Ok(d) => d,
                Err(e) => {
                    unreadable.push(UnreadableEntry {
                        position: recorded.position,
                        stream_version: recorded.stream_version,
                        recorded_at: recorded.recorded_at,
                        occurred_at: recorded.occurred_at(),
                        event_type: recorded.event_type().to_string(),
                        actor: recorded.actor().to_string(),
                        role: recorded.role().to_string(),
                        channel: recorded.channel().to_string(),
                        reason: e.to_string(),
                    });
                    continue;
                }
            };
            let DomainEvent::Ticket(
                _,
                Stamped {
                    occurred_at,
                    actor,
                    channel,
                    event,
                    text_seals,
                },
            ) = decoded
            else {
                return Err(ProjectionError::Invalid(format!(
                    "position {} in a ticket stream is not a ticket event",
                    recorded.position
                )));
            };
            entries.push(TimelineEntry {
                position: recorded.position,
                stream_version: recorded.stream_version,
                occurred_at,
                recorded_at: recorded.recorded_at,
                summary: summary(&event),
                actor,
                channel,
                event,
                text_seals,
            });
        }
    }
    Ok((entries, unreadable))
}

/// The ticket as of `as_of`, replayed from its events (`None`: it did not
/// exist yet).
pub fn state_as_of(store: &dyn EventStore, id: &TicketId, as_of: AsOf) -> Result<Option<Ticket>, ProjectionError> {
    let entries = history(store, id)?;
    let mut state = TicketState::default();
    for e in entries {
        let include = match as_of {
            AsOf::Position(p) => e.position <= p,
            AsOf::Recorded(t) => e.recorded_at <= t,
            AsOf::Occurred(t) => e.occurred_at <= t,
        };
        if include {
            let stamped = Stamped {
                occurred_at: e.occurred_at,
                actor: e.actor,
                channel: e.channel,
                event: e.event,
                text_seals: e.text_seals,
            };
            state = evolve(state, &stamped);
        }
    }
    Ok(state.0.map(|t| *t))
}

/// An instant as staff read it: in the mainland calendar's zone (UTC+8,
/// no daylight saving), where every project's clocks run.
fn local(at: &chrono::DateTime<chrono::Utc>) -> String {
    match chrono::FixedOffset::east_opt(8 * 3600) {
        Some(zone) => at.with_timezone(&zone).format("%Y-%m-%d %H:%M (UTC+8)").to_string(),
        None => at.to_string(),
    }
}

/// A readable summary of an event, in staff words.
pub fn summary(event: &TicketEvent) -> String {
    use TicketEvent as E;
    match event {
        E::Received {
            kind,
            priority,
            channel,
            description,
            ..
        } => format!(
            "{priority} {} received via {channel}: {}",
            kind.as_str().replace('_', " "),
            clip(description)
        ),
        E::Acknowledged { promised_at, note } => match promised_at {
            Some(p) => format!("acknowledged, promised by {}{}", local(p), remark(note)),
            None => format!("acknowledged{}", remark(note)),
        },
        E::PriorityChanged { from, to, reason, .. } => format!("priority {from} → {to}: {}", clip(reason)),
        E::Dispatched { to, previous, .. } => match previous {
            Some(p) => format!("re-dispatched from {p} to {to}"),
            None => format!("dispatched to {to}"),
        },
        E::Scheduled { window } => format!("visit scheduled {} – {}", local(&window.from), local(&window.to)),
        E::Arrived { note } => format!("arrived on site{}", remark(note)),
        E::Diagnosed {
            cause,
            responsible,
            chargeable,
            plan,
            ..
        } => format!(
            "diagnosed: {} (responsible: {responsible}; {}{})",
            clip(cause),
            if *chargeable { "chargeable" } else { "free" },
            plan.cost.map(|c| format!(", {c}")).unwrap_or_default()
        ),
        E::PlanConfirmed { confirmation } => format!("plan confirmed by the owner ({confirmation})"),
        E::PlanDeclined { reason } => format!("plan declined: {}", clip(reason)),
        E::ProgressNoted { note } => format!("progress: {}", clip(note)),
        E::Repaired { summary, .. } => format!("repaired: {}", clip(summary)),
        E::Accepted { ratings, .. } => format!("accepted by the owner, rated {}/5", ratings.overall),
        E::Rejected { reason } => format!("rejected by the owner: {}", clip(reason)),
        E::Reopened { reason, cycle } => format!("reopened (rework cycle {cycle}): {}", clip(reason)),
        E::PutOnHold { reason, note } => format!("on hold: {reason}{}", remark(note)),
        E::Resumed { note } => format!("resumed{}", remark(note)),
        E::Withdrawn { reason } => format!("withdrawn: {}", clip(reason)),
        E::MergedInto { into } => format!("merged into {into} as a duplicate"),
        E::Commented { text, internal } => {
            format!(
                "{}: {}",
                if *internal { "internal remark" } else { "remark" },
                clip(text)
            )
        }
        E::Closed { note } => format!("closed{}", remark(note)),
        E::Revisited { outcome, ratings, .. } => match ratings {
            Some(r) => format!("revisit: {outcome}, rated {}/5", r.overall),
            None => format!("revisit: {outcome}"),
        },
        E::Investigated { findings } => format!("investigated: {}", clip(findings)),
        E::ResolutionProposed { proposal, .. } => format!("resolution proposed: {}", clip(proposal)),
        E::OwnerAgreed { .. } => "the owner agreed to the resolution".to_string(),
        E::OwnerDisagreed { reason } => format!("the owner disagreed: {}", clip(reason)),
        E::Escalated { level, incident, .. } => match incident {
            Some(i) => format!("escalated to {level} level, incident {i}"),
            None => format!("escalated to {level} level"),
        },
        E::LinkedToIncident { incident } => format!("linked to incident {incident}"),
        E::Answered { on_the_spot, answer } => {
            format!(
                "answered{}: {}",
                if *on_the_spot { " on the spot" } else { "" },
                clip(answer)
            )
        }
        E::CalendarSettled {
            calendar,
            previous,
            clocks,
        } => {
            let due =
                |t: &Option<chrono::DateTime<chrono::Utc>>| t.as_ref().map_or_else(|| "paused".to_string(), local);
            let moved: Vec<String> = clocks
                .iter()
                .map(|c| {
                    format!(
                        "{} due {} → {}",
                        c.clock.as_str(),
                        due(&c.due_before),
                        due(&c.due_after)
                    )
                })
                .collect();
            format!(
                "calendar {} {} published: clocks counted provisionally on {} now count on it ({})",
                calendar.id,
                calendar.version,
                previous.version,
                moved.join("; ")
            )
        }
    }
}

/// The first 80 characters of `text`, a placeholder of sealed personal
/// data counting as one character and never cut.
fn clip(text: &str) -> String {
    const MAX: usize = 80;
    let mut shown = 0;
    let mut at = 0;
    while at < text.len() {
        if shown == MAX {
            return format!("{}…", &text[..at]);
        }
        at += domain::personal::placeholder_at(text, at)
            .or_else(|| text[at..].chars().next().map(char::len_utf8))
            .unwrap_or(1);
        shown += 1;
    }
    text.to_string()
}

fn remark(note: &str) -> String {
    if note.trim().is_empty() {
        String::new()
    } else {
        format!(": {}", clip(note))
    }
}
