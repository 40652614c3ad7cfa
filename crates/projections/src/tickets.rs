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

use chrono::{DateTime, Utc};
use domain::decider::Stamped;
use domain::ids::{BuildingId, ContractorId, ProjectId, TicketId, UserId};
use domain::ticket::{evolve, Assignee, Category, Priority, Status, Ticket, TicketEvent, TicketKind, TicketState};
use eventlog::codec;
use eventlog::views::ViewTree;
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

/// Why a query was refused.
#[derive(Debug, thiserror::Error)]
pub enum QueryError {
    /// The cursor is not one this view gave out.
    #[error("invalid cursor {0:?}")]
    BadCursor(String),
    /// The page size is out of range.
    #[error("page size {0} is out of range (1 to {MAX_PAGE})")]
    BadPageSize(usize),
    /// The date range is empty.
    #[error("the received-date range ends before it starts")]
    BadRange,
    /// The view could not be read.
    #[error(transparent)]
    View(#[from] ProjectionError),
}

impl From<eventlog::StoreError> for QueryError {
    fn from(e: eventlog::StoreError) -> Self {
        QueryError::View(e.into())
    }
}

/// Largest page.
pub const MAX_PAGE: usize = 500;

/// Which tickets to list; every given field must match.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct TicketFilter {
    /// Project.
    pub project: Option<ProjectId>,
    /// Building.
    pub building: Option<BuildingId>,
    /// Status.
    pub status: Option<Status>,
    /// Kind.
    pub kind: Option<TicketKind>,
    /// Priority.
    pub priority: Option<Priority>,
    /// Internal engineer assigned.
    pub assignee: Option<UserId>,
    /// Contractor dispatched.
    pub contractor: Option<ContractorId>,
    /// Category.
    pub category: Option<Category>,
    /// Received at or after.
    pub received_from: Option<DateTime<Utc>>,
    /// Received before.
    pub received_before: Option<DateTime<Utc>>,
}

impl TicketFilter {
    fn matches(&self, t: &Ticket) -> bool {
        self.project.as_ref().is_none_or(|p| t.location.project() == p)
            && self.building.as_ref().is_none_or(|b| t.location.building() == Some(b))
            && self.status.is_none_or(|s| t.status == s)
            && self.kind.is_none_or(|k| t.kind == k)
            && self.priority.is_none_or(|p| t.priority == p)
            && self
                .assignee
                .as_ref()
                .is_none_or(|u| t.assignee == Some(Assignee::Engineer(u.clone())))
            && self
                .contractor
                .as_ref()
                .is_none_or(|c| t.assignee == Some(Assignee::Contractor(c.clone())))
            && self.category.is_none_or(|c| t.category == c)
            && self.received_from.is_none_or(|f| t.received_at >= f)
            && self.received_before.is_none_or(|b| t.received_at < b)
    }

    /// Whether [`count`] answers from the index alone, without reading a
    /// record: the index entries in the scanned range are exactly the
    /// tickets that match, as the filter names nothing but what its index
    /// holds, and a received-from bound on a whole millisecond (index keys
    /// hold milliseconds; the received-before bound is exact either way).
    pub fn counts_from_index(&self) -> bool {
        let mut rest = self.clone();
        match self.index().0 {
            "contractor" => rest.contractor = None,
            "assignee" => rest.assignee = None,
            "project_status" => (rest.project, rest.status) = (None, None),
            "building" => rest.building = None,
            "project" => rest.project = None,
            "status" => rest.status = None,
            "priority" => rest.priority = None,
            "kind" => rest.kind = None,
            "category" => rest.category = None,
            _ => {}
        }
        let whole_millis = self
            .received_from
            .is_none_or(|f| f.timestamp_subsec_nanos() % 1_000_000 == 0);
        whole_millis
            && rest
                == TicketFilter {
                    received_from: self.received_from,
                    received_before: self.received_before,
                    ..TicketFilter::default()
                }
    }

    /// The index to scan: the narrowest the filter names.
    fn index(&self) -> (&'static str, String) {
        if let Some(c) = &self.contractor {
            ("contractor", c.to_string())
        } else if let Some(u) = &self.assignee {
            ("assignee", u.to_string())
        } else if let (Some(p), Some(s)) = (&self.project, self.status) {
            ("project_status", format!("{p}\u{1}{}", s.as_str()))
        } else if let Some(b) = &self.building {
            ("building", b.to_string())
        } else if let Some(p) = &self.project {
            ("project", p.to_string())
        } else if let Some(s) = self.status {
            ("status", s.as_str().to_string())
        } else if let Some(p) = self.priority {
            ("priority", p.as_str().to_string())
        } else if let Some(k) = self.kind {
            ("kind", k.as_str().to_string())
        } else if let Some(c) = self.category {
            ("category", c.as_str().to_string())
        } else {
            ("all", String::new())
        }
    }
}

/// One page of a listing.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct TicketPage {
    /// The tickets, newest received first.
    pub items: Vec<TicketRecord>,
    /// Each item's cursor: listing `after` it continues behind it.
    pub cursors: Vec<String>,
    /// Cursor of the last item, for the next page.
    pub end_cursor: Option<String>,
    /// Whether more tickets match after this page.
    pub has_next_page: bool,
}

fn hex(bytes: &[u8]) -> String {
    bytes.iter().map(|b| format!("{b:02x}")).collect()
}

fn unhex(text: &str) -> Option<Vec<u8>> {
    if text.len() % 2 != 0 || text.len() > 400 {
        return None;
    }
    (0..text.len())
        .step_by(2)
        .map(|i| u8::from_str_radix(text.get(i..i + 2)?, 16).ok())
        .collect()
}

/// One ticket.
pub fn ticket(tree: &ViewTree, id: &TicketId) -> Result<Option<TicketRecord>, QueryError> {
    match tree.get(&record_key(id))? {
        Some(bytes) => Ok(Some(decode_record(&bytes).map_err(ProjectionError::from)?)),
        None => Ok(None),
    }
}

/// Decoded ticket records kept by id, for the hot path of single-ticket
/// reads (staff tools poll the tickets they work on). Every read still
/// fetches the stored bytes and reuses the decoded record only if they are
/// the very bytes it was decoded from, so an update, a rebuild or a swap of
/// the view is seen at once. Holds at most `capacity` records and starts
/// over when full.
pub struct RecordCache {
    capacity: usize,
    entries: std::sync::RwLock<std::collections::HashMap<TicketId, Held>>,
}

/// The stored bytes of a record and the record decoded from them.
type Held = (Vec<u8>, std::sync::Arc<TicketRecord>);

impl RecordCache {
    /// A cache of at most `capacity` records (0: nothing is kept).
    pub fn new(capacity: usize) -> Self {
        Self {
            capacity,
            entries: Default::default(),
        }
    }

    /// Records held now.
    pub fn len(&self) -> usize {
        self.entries.read().map(|e| e.len()).unwrap_or(0)
    }

    /// Whether no record is held.
    pub fn is_empty(&self) -> bool {
        self.len() == 0
    }

    fn decode(&self, id: &TicketId, bytes: Vec<u8>) -> Result<std::sync::Arc<TicketRecord>, QueryError> {
        if let Some((held, record)) = self.entries.read().ok().as_ref().and_then(|e| e.get(id)) {
            if *held == bytes {
                return Ok(record.clone());
            }
        }
        let record: std::sync::Arc<TicketRecord> =
            std::sync::Arc::new(decode_record(&bytes).map_err(ProjectionError::from)?);
        if self.capacity > 0 {
            if let Ok(mut entries) = self.entries.write() {
                if entries.len() >= self.capacity && !entries.contains_key(id) {
                    entries.clear();
                }
                entries.insert(id.clone(), (bytes, record.clone()));
            }
        }
        Ok(record)
    }
}

/// One ticket, through `cache`: the same answer as [`ticket`].
pub fn ticket_cached(
    tree: &ViewTree,
    id: &TicketId,
    cache: &RecordCache,
) -> Result<Option<std::sync::Arc<TicketRecord>>, QueryError> {
    match tree.get(&record_key(id))? {
        Some(bytes) => Ok(Some(cache.decode(id, bytes)?)),
        None => Ok(None),
    }
}

/// The key range of a listing: the index the filter scans, from
/// `received_before` (exclusive) down to `received_from` (inclusive),
/// behind `after` if given. What [`list`] pages through and [`count`]
/// counts.
struct Scan {
    prefix: Vec<u8>,
    start: Vec<u8>,
    end: Vec<u8>,
}

impl Scan {
    fn new(filter: &TicketFilter, after: Option<&str>) -> Result<Self, QueryError> {
        if let (Some(f), Some(b)) = (filter.received_from, filter.received_before) {
            if b <= f {
                return Err(QueryError::BadRange);
            }
        }
        let (field, value) = filter.index();
        let prefix = index_prefix(field, &value);
        // Newest first: the key range runs from `received_before` (exclusive)
        // down to `received_from` (inclusive).
        let mut start = prefix.clone();
        if let Some(b) = filter.received_before {
            start.extend_from_slice(&((i64::MAX - b.timestamp_millis() + 1) as u64).to_be_bytes());
        }
        let mut end = prefix.clone();
        match filter.received_from {
            Some(f) => end.extend_from_slice(&((i64::MAX - f.timestamp_millis() + 1) as u64).to_be_bytes()),
            None => end.push(0xff),
        }
        if let Some(cursor) = after {
            let tail = unhex(cursor)
                .filter(|t| t.len() > 8)
                .ok_or_else(|| QueryError::BadCursor(cursor.to_string()))?;
            let mut after_key = prefix.clone();
            after_key.extend_from_slice(&tail);
            after_key.push(0);
            start = start.max(after_key);
        }
        Ok(Self { prefix, start, end })
    }

    /// The sort tails of the index entries in range, newest first.
    fn tails<'t>(&'t self, tree: &'t ViewTree) -> impl Iterator<Item = Result<Vec<u8>, QueryError>> + 't {
        tree.range(&self.start, &self.end, false).map(move |entry| {
            let (key, _) = entry?;
            Ok(key[self.prefix.len()..].to_vec())
        })
    }

    /// The tickets in range that match `filter`, newest first, each with
    /// its sort tail (its cursor, hex-encoded).
    fn matching<'t>(
        &'t self,
        tree: &'t ViewTree,
        filter: &'t TicketFilter,
    ) -> impl Iterator<Item = Result<(Vec<u8>, TicketRecord), QueryError>> + 't {
        self.tails(tree).filter_map(move |tail| {
            let found = tail.and_then(|tail| {
                let id = tail
                    .get(8..)
                    .and_then(|id| std::str::from_utf8(id).ok())
                    .and_then(|s| TicketId::new(s).ok())
                    .ok_or_else(|| QueryError::View(ProjectionError::Invalid("malformed index key".into())))?;
                Ok(ticket(tree, &id)?
                    .filter(|record| filter.matches(&record.ticket))
                    .map(|record| (tail, record)))
            });
            found.transpose()
        })
    }
}

/// Lists tickets matching `filter`, newest received first, `first` at a
/// time, after the cursor of a previous page.
pub fn list(
    tree: &ViewTree,
    filter: &TicketFilter,
    first: usize,
    after: Option<&str>,
) -> Result<TicketPage, QueryError> {
    if !(1..=MAX_PAGE).contains(&first) {
        return Err(QueryError::BadPageSize(first));
    }
    let scan = Scan::new(filter, after)?;
    let mut items = Vec::new();
    let mut cursors = Vec::new();
    let mut has_next_page = false;
    let mut end_cursor = None;
    for found in scan.matching(tree, filter) {
        let (tail, record) = found?;
        if items.len() == first {
            has_next_page = true;
            break;
        }
        end_cursor = Some(hex(&tail));
        cursors.push(hex(&tail));
        items.push(record);
    }
    Ok(TicketPage {
        items,
        cursors,
        end_cursor,
        has_next_page,
    })
}

/// How many tickets match `filter`: as many as [`list`] pages through,
/// over every page. When the index the filter scans says all the filter
/// asks (its received-date range on whole milliseconds), the index entries
/// are counted without reading a record; otherwise each record in the
/// index's range is read and matched as [`list`] does.
pub fn count(tree: &ViewTree, filter: &TicketFilter) -> Result<u64, QueryError> {
    let scan = Scan::new(filter, None)?;
    let mut n = 0u64;
    if filter.counts_from_index() {
        for tail in scan.tails(tree) {
            tail?;
            n += 1;
        }
    } else {
        for found in scan.matching(tree, filter) {
            found?;
            n += 1;
        }
    }
    Ok(n)
}

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
