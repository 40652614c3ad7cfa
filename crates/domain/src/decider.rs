//! The decider shape every aggregate follows, and the context a decision is
//! made in.
//!
//! `decide` holds all the rules and may refuse; `evolve` holds none and
//! cannot fail, so that any stored history always folds into a state. The
//! domain never reads the clock: `now` and the time the action happened
//! arrive in the [`Context`].

use chrono::{DateTime, Utc};
use serde::{Deserialize, Serialize};

use crate::actor::Actor;
use crate::error::DomainError;
use crate::ticket::Channel;

/// How far back an action may be entered, in days.
pub const MAX_BACK_ENTRY_DAYS: i64 = 366;

/// Everything a decision needs besides the state and the command.
#[derive(Debug, Clone)]
pub struct Context<R> {
    /// The current time, read by the caller.
    pub now: DateTime<Utc>,
    /// When the action really happened, if earlier than `now`: a phone
    /// report typed in after the call, a field app syncing after a visit to
    /// a basement without signal. Never in the future, never before the
    /// record's previous event. `None` means `now`.
    pub occurred_at: Option<DateTime<Utc>>,
    /// Who acts.
    pub actor: Actor,
    /// Through which channel the action came in.
    pub channel: Channel,
    /// Reference data the decision needs (policies, calendar, delivery
    /// date, the state of related records).
    pub reference: R,
}

impl<R> Context<R> {
    /// The context with different reference data.
    pub fn with_reference<S>(&self, reference: S) -> Context<S> {
        Context {
            now: self.now,
            occurred_at: self.occurred_at,
            actor: self.actor.clone(),
            channel: self.channel,
            reference,
        }
    }

    /// When the action happened, checked against `now` and against the
    /// time of the record's previous event.
    pub fn action_time(&self, previous: Option<DateTime<Utc>>) -> Result<DateTime<Utc>, DomainError> {
        let at = self.occurred_at.unwrap_or(self.now);
        if at > self.now {
            return Err(DomainError::InvalidOccurredAt {
                reason: format!("{at} is in the future (now is {})", self.now),
            });
        }
        let earliest = self
            .now
            .checked_sub_signed(chrono::TimeDelta::days(MAX_BACK_ENTRY_DAYS));
        if earliest.is_some_and(|e| at < e) {
            return Err(DomainError::InvalidOccurredAt {
                reason: format!(
                    "{at} is more than {MAX_BACK_ENTRY_DAYS} days before now ({}); historic records are imported with `now` set to when they happened",
                    self.now
                ),
            });
        }
        if let Some(previous) = previous {
            if at < previous {
                return Err(DomainError::InvalidOccurredAt {
                    reason: format!("{at} is before the record's previous event at {previous}"),
                });
            }
        }
        Ok(at)
    }
}

/// An aggregate's rules: what a command produces, and how events fold into
/// state.
pub trait Decider {
    /// The state folded from the aggregate's events; `Default` is "nothing
    /// happened yet".
    type State: Default + Clone + std::fmt::Debug;
    /// What staff ask for.
    type Command;
    /// What happened.
    type Event: Clone + std::fmt::Debug + PartialEq;
    /// Reference data the decisions need.
    type Reference<'r>;

    /// Decides what a command produces, or refuses it. Same inputs, same
    /// outputs.
    fn decide(
        state: &Self::State,
        command: Self::Command,
        context: &Context<Self::Reference<'_>>,
    ) -> Result<Vec<Self::Event>, DomainError>;

    /// Applies one event. Never fails: history is history.
    fn evolve(state: Self::State, event: &Self::Event) -> Self::State;

    /// Folds a whole history.
    fn fold<'e>(events: impl IntoIterator<Item = &'e Self::Event>) -> Self::State
    where
        Self::Event: 'e,
    {
        events.into_iter().fold(Self::State::default(), Self::evolve)
    }
}

/// An event with when, by whom and through which channel it happened.
/// `occurred_at` is when it really happened (clocks run on it); when it was
/// entered is the log's own recorded time.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Stamped<E> {
    /// When the action happened.
    pub occurred_at: DateTime<Utc>,
    /// Who did it, in which role.
    pub actor: Actor,
    /// Through which channel.
    pub channel: Channel,
    /// What happened.
    pub event: E,
    /// Personal data found in the event's free text (phone numbers, ID
    /// numbers) and sealed out of it: the text holds a placeholder for each
    /// ([`crate::personal::placeholder`]). Empty for events stored before
    /// free text was sealed, and for events with nothing found. Last, so
    /// that a payload stored without it is the same bytes followed by an
    /// empty list.
    #[serde(default)]
    pub text_seals: Vec<crate::personal::TextSeal>,
}
