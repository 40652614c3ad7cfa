//! The tickets view: the current state of every ticket, with indexes to
//! list them by project, building, status, kind, priority, assignee,
//! contractor, category and received date, newest first, with stable
//! cursor pagination.
//!
//! Keys: `t<ticket id>` → [`TicketRecord`]; index entries
//! `x<field>\0<value>\0<inverted received millis><ticket id>` → empty, so
//! that key order is newest first within every index and a cursor is the
//! tail of the last key returned. Project and status together have their
//! own index (`project_status`), the manager's everyday list.

use crate::store::ViewTree;
use chrono::{DateTime, Utc};
use domain::decider::Stamped;
use domain::ids::{BuildingId, ContractorId, ProjectId, TicketId, UnitId, UserId};
use domain::ticket::{evolve, Assignee, Category, Priority, Status, Ticket, TicketEvent, TicketKind, TicketState};
use eventlog::codec;
use eventlog::Position;
use serde::{Deserialize, Serialize};

use crate::records;
use crate::runner::{runs, Applied, BatchProjection, ProjectionError, Run, ViewWriter};

/// One ticket as the view holds it.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct TicketRecord {
    /// The ticket's state after its latest event.
    pub ticket: Ticket,
    /// Log position of its latest event.
    pub position: Position,
    /// When the log stored its latest event.
    pub updated_at: DateTime<Utc>,
    /// The personal data sealed out of the free text of its events
    /// (description, diagnosis, notes), for showing that text. Last, so
    /// that a record stored before it existed is the same bytes followed
    /// by an empty list.
    pub text_seals: Vec<domain::personal::TextSeal>,
}

/// The layout of a ticket's record written today ([`crate::records`]).
const RECORD_LAYOUT: u8 = 1;

/// Decodes a stored record by the layout it says it is in; a record of a
/// build before layouts were tagged reads by [`decode_untagged`].
pub fn decode_record(bytes: &[u8]) -> Result<TicketRecord, codec::CodecError> {
    match records::stored(bytes) {
        records::Stored::Tagged {
            layout: RECORD_LAYOUT,
            body,
        } => records::decode("tickets record", RECORD_LAYOUT, body),
        records::Stored::Tagged { layout, .. } => Err(records::unknown_layout("tickets record", layout)),
        records::Stored::Untagged(bytes) => decode_untagged(bytes),
    }
}

/// A record of a build before layouts were tagged: written with
/// `text_seals`, or before it existed (its bytes and an empty list, one
/// zero byte), which those builds did not tell apart; no event before
/// then had sealed free text.
fn decode_untagged(bytes: &[u8]) -> Result<TicketRecord, codec::CodecError> {
    match codec::decode::<TicketRecord>("view value", 1, bytes) {
        Ok(record) => Ok(record),
        Err(e) => {
            let mut extended = Vec::with_capacity(bytes.len() + 1);
            extended.extend_from_slice(bytes);
            extended.push(0);
            codec::decode("view value", 1, &extended).map_err(|_| e)
        }
    }
}

/// The tickets projection.
#[derive(Debug, Clone, Copy, Default)]
pub struct TicketsView;

const RECORD: u8 = b't';
const INDEX: u8 = b'x';

fn record_key(id: &TicketId) -> Vec<u8> {
    let mut k = vec![RECORD];
    k.extend_from_slice(id.as_str().as_bytes());
    k
}

/// The sort part of an index key: newest first, then by id.
fn sort_tail(received_at: DateTime<Utc>, id: &TicketId) -> Vec<u8> {
    let inverted = i64::MAX - received_at.timestamp_millis();
    let mut k = (inverted as u64).to_be_bytes().to_vec();
    k.extend_from_slice(id.as_str().as_bytes());
    k
}

fn index_prefix(field: &str, value: &str) -> Vec<u8> {
    let mut k = vec![INDEX];
    k.extend_from_slice(field.as_bytes());
    k.push(0);
    k.extend_from_slice(value.as_bytes());
    k.push(0);
    k
}

/// The (field, value) pairs a ticket is listed under.
fn index_values(t: &Ticket) -> Vec<(&'static str, String)> {
    let mut v = vec![
        ("all", String::new()),
        ("project", t.location.project().to_string()),
        ("status", t.status.as_str().to_string()),
        ("kind", t.kind.as_str().to_string()),
        ("priority", t.priority.as_str().to_string()),
        ("category", t.category.as_str().to_string()),
        (
            "project_status",
            format!("{}\u{1}{}", t.location.project(), t.status.as_str()),
        ),
    ];
    if let Some(b) = t.location.building() {
        v.push(("building", b.to_string()));
    }
    match &t.assignee {
        Some(Assignee::Engineer(u)) => v.push(("assignee", u.to_string())),
        Some(Assignee::Contractor(c)) => v.push(("contractor", c.to_string())),
        None => {}
    }
    v
}

fn index_keys(t: &Ticket) -> Vec<Vec<u8>> {
    let tail = sort_tail(t.received_at, &t.id);
    index_values(t)
        .into_iter()
        .map(|(f, v)| {
            let mut k = index_prefix(f, &v);
            k.extend_from_slice(&tail);
            k
        })
        .collect()
}

impl BatchProjection for TicketsView {
    fn name(&self) -> &'static str {
        "tickets"
    }

    fn version(&self) -> u32 {
        // 2: personal values are stored tagged, clear or sealed. (Records
        // gained `text_seals`, then a layout tag, without a new version:
        // see `decode_record`.)
        2
    }

    fn apply_batch(&self, view: &mut ViewWriter<'_>, events: &[Applied<'_>]) -> Result<(), ProjectionError> {
        for run in runs(events) {
            if let Run::Ticket { id, events, last } = run {
                fold_run(view, id, &events, last)?;
            }
        }
        Ok(())
    }
}

/// Folds consecutive events of one ticket: one read, one write, one index
/// update, the same result as one event at a time.
fn fold_run(
    view: &mut ViewWriter<'_>,
    id: &TicketId,
    events: &[&Stamped<TicketEvent>],
    last: &Applied<'_>,
) -> Result<(), ProjectionError> {
    let key = record_key(id);
    let old = match view.get(&key)? {
        Some(bytes) => Some(decode_record(&bytes)?),
        None => None,
    };
    let old_keys = old.as_ref().map(|r| index_keys(&r.ticket)).unwrap_or_default();
    let (mut state, mut text_seals) = match old {
        Some(r) => (TicketState(Some(Box::new(r.ticket))), r.text_seals),
        None => (TicketState(None), Vec::new()),
    };
    for stamped in events {
        state = evolve(state, stamped);
        text_seals.extend(stamped.text_seals.iter().cloned());
    }
    let TicketState(Some(new)) = state else {
        // Events before the ticket's Received fold to nothing.
        return Ok(());
    };
    let new_keys = index_keys(&new);
    for k in old_keys.iter().filter(|k| !new_keys.contains(k)) {
        view.delete(k.clone());
    }
    for k in new_keys.iter().filter(|k| !old_keys.contains(k)) {
        view.put(k.clone(), Vec::new());
    }
    let record = TicketRecord {
        ticket: *new,
        position: last.position,
        updated_at: last.recorded_at,
        text_seals,
    };
    view.put(key, records::encode(RECORD_LAYOUT, &record)?);
    Ok(())
}

mod query;

pub use query::*;

#[cfg(test)]
mod record_tests {
    use super::*;

    #[test]
    fn the_index_alone_answers_a_count_only_when_it_says_all_the_filter_asks() {
        let project = || Some(ProjectId::new("HZ-1").unwrap_or_else(|e| panic!("{e}")));
        let at = |ms: i64| DateTime::<Utc>::from_timestamp_millis(ms).unwrap_or_default();
        let says_all = |f: TicketFilter| f.counts_from_index();
        assert!(says_all(TicketFilter::default()));
        assert!(says_all(TicketFilter {
            project: project(),
            status: Some(Status::Received),
            received_from: Some(at(1_700_000_000_123)),
            received_before: Some(at(1_700_000_100_000) + chrono::Duration::nanoseconds(5)),
            ..TicketFilter::default()
        }));
        assert!(!says_all(TicketFilter {
            project: project(),
            kind: Some(TicketKind::Repair),
            ..TicketFilter::default()
        }));
        assert!(!says_all(TicketFilter {
            received_from: Some(at(1_700_000_000_123) + chrono::Duration::nanoseconds(5)),
            ..TicketFilter::default()
        }));
    }

    /// A record as the view stored it before `text_seals`.
    #[derive(Serialize)]
    struct RecordBeforeTextSeals<'a> {
        ticket: &'a Ticket,
        position: Position,
        updated_at: DateTime<Utc>,
    }

    #[test]
    fn records_stored_before_sealed_free_text_still_decode() {
        let history = domain::testing::fixtures::repair_received_and_acknowledged();
        let TicketState(Some(ticket)) = <domain::ticket::TicketDecider as domain::decider::Decider>::fold(&history)
        else {
            panic!("no ticket")
        };
        let at = history[0].occurred_at;
        let old = codec::encode(&RecordBeforeTextSeals {
            ticket: &ticket,
            position: 7,
            updated_at: at,
        })
        .unwrap_or_else(|e| panic!("{e}"));
        let record = decode_record(&old).unwrap_or_else(|e| panic!("{e}"));
        assert_eq!(
            record,
            TicketRecord {
                ticket: *ticket,
                position: 7,
                updated_at: at,
                text_seals: Vec::new(),
            }
        );
        let mut now = old.clone();
        now.push(0);
        assert_eq!(codec::encode(&record).unwrap_or_else(|e| panic!("{e}")), now);
        assert!(decode_record(&old[..old.len() - 1]).is_err());
        // Today's records say their layout, and read by it alone.
        let tagged = records::encode(RECORD_LAYOUT, &record).unwrap_or_else(|e| panic!("{e}"));
        assert_eq!(&tagged[..2], &[records::TAG, RECORD_LAYOUT]);
        assert_eq!(decode_record(&tagged).unwrap_or_else(|e| panic!("{e}")), record);
        let mut newer = tagged.clone();
        newer[1] = RECORD_LAYOUT + 1;
        assert!(decode_record(&newer).is_err());
    }
}
