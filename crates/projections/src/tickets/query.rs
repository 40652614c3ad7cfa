//! Reading the tickets view: one ticket (with [`RecordCache`] for the
//! single-ticket reads), and filtered listings over the indexes with stable
//! cursor pagination ([`list`], [`count`]).

use super::*;

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
    /// Unit (scanned through the narrowest other index the filter names:
    /// give the building with it).
    pub unit: Option<UnitId>,
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
    /// `Some(true)`: closed and not yet revisited (回访); `Some(false)`:
    /// the others.
    pub awaiting_revisit: Option<bool>,
    /// `Some(true)`: not finished (closed, withdrawn, merged);
    /// `Some(false)`: finished.
    pub open: Option<bool>,
}

impl TicketFilter {
    fn matches(&self, t: &Ticket) -> bool {
        self.project.as_ref().is_none_or(|p| t.location.project() == p)
            && self.building.as_ref().is_none_or(|b| t.location.building() == Some(b))
            && self.unit.as_ref().is_none_or(|u| t.location.unit() == Some(u))
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
            && self
                .awaiting_revisit
                .is_none_or(|a| a == (t.status == Status::Closed && t.revisit_count == 0))
            && self.open.is_none_or(|open| open != t.status.is_terminal())
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
    if !text.len().is_multiple_of(2) || text.len() > 400 {
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

/// How a cursor of [`list_by_due`] starts; then the due instant it was
/// given with (RFC 3339 to the nanosecond, or `-` for none) and the
/// ticket, separated by `|`.
const DUE_CURSOR: &str = "due|";

/// The place of a ticket in the due order: no due last, then by due, then
/// by id (as [`crate::sla::open_by_due`] sorts).
fn due_key(entry: &crate::sla::DueOrder) -> (bool, Option<DateTime<Utc>>, &str) {
    (entry.1.is_none(), entry.1, entry.0.as_str())
}

fn due_cursor(entry: &crate::sla::DueOrder) -> String {
    let due = entry.1.map_or_else(
        || "-".to_string(),
        |d| d.to_rfc3339_opts(chrono::SecondsFormat::Nanos, true),
    );
    format!("{DUE_CURSOR}{due}|{}", entry.0)
}

fn parse_due_cursor(cursor: &str) -> Option<crate::sla::DueOrder> {
    let rest = cursor.strip_prefix(DUE_CURSOR).filter(|r| r.len() <= 200)?;
    let (due, id) = rest.split_once('|')?;
    let due = match due {
        "-" => None,
        text => Some(DateTime::parse_from_rfc3339(text).ok()?.with_timezone(&Utc)),
    };
    Some((TicketId::new(id).ok()?, due))
}

fn check_range(filter: &TicketFilter) -> Result<(), QueryError> {
    if let (Some(from), Some(before)) = (filter.received_from, filter.received_before) {
        if before <= from {
            return Err(QueryError::BadRange);
        }
    }
    Ok(())
}

/// Lists the tickets of `order` (ticket ids, most urgent first, as
/// [`crate::sla::open_by_due`] gives them) that match `filter`, `first` at
/// a time, after the cursor of a previous page of this listing. A cursor
/// names the place in the order of the ticket it was given with (its due
/// instant and id), so the next page starts behind that place in the order
/// as it is read then: tickets that closed or moved ahead meanwhile do not
/// shift the rest, a ticket whose due moved from behind the place to ahead
/// of it is not listed on the later pages, and one that moved from ahead of
/// it to behind it is listed again.
pub fn list_by_due(
    tree: &ViewTree,
    order: &[crate::sla::DueOrder],
    filter: &TicketFilter,
    first: usize,
    after: Option<&str>,
) -> Result<TicketPage, QueryError> {
    if !(1..=MAX_PAGE).contains(&first) {
        return Err(QueryError::BadPageSize(first));
    }
    check_range(filter)?;
    let start = match after {
        None => 0,
        Some(cursor) => {
            let place = parse_due_cursor(cursor).ok_or_else(|| QueryError::BadCursor(cursor.to_string()))?;
            order.partition_point(|entry| due_key(entry) <= due_key(&place))
        }
    };
    let mut page = TicketPage {
        items: Vec::new(),
        cursors: Vec::new(),
        end_cursor: None,
        has_next_page: false,
    };
    for entry in &order[start..] {
        let Some(record) = ticket(tree, &entry.0)? else {
            continue;
        };
        if !filter.matches(&record.ticket) {
            continue;
        }
        if page.items.len() == first {
            page.has_next_page = true;
            break;
        }
        let cursor = due_cursor(entry);
        page.end_cursor = Some(cursor.clone());
        page.cursors.push(cursor);
        page.items.push(record);
    }
    Ok(page)
}

/// How many tickets of `order` match `filter`: what [`list_by_due`] pages
/// through (each ticket's record is read and matched).
pub fn count_in_order(
    tree: &ViewTree,
    order: &[crate::sla::DueOrder],
    filter: &TicketFilter,
) -> Result<u64, QueryError> {
    check_range(filter)?;
    let mut n = 0u64;
    for entry in order {
        if ticket(tree, &entry.0)?.is_some_and(|record| filter.matches(&record.ticket)) {
            n += 1;
        }
    }
    Ok(n)
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
