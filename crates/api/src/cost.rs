//! What one GraphQL document may ask of the server, decided before any of
//! it runs.
//!
//! Three limits, each refused with `QUERY_TOO_COSTLY`:
//!
//! - **fields**: at most [`MAX_FIELDS`] field selections, counted with
//!   every fragment spread expanded (aliases count one each). This bounds
//!   the work of validating the document at all: a few fragments that each
//!   spread the next twice expand to millions of fields, and the validator
//!   walks every one of them.
//! - **depth**: fields nested at most [`MAX_DEPTH`] deep.
//! - **cost**: an estimate of the work, at most [`MAX_COST`] points. A
//!   point is very roughly a microsecond on a machine like the one of
//!   `docs/benchmarks.md` (an `slaAlerts` over the demo data was measured
//!   at about 51 ms, a page of 500 tickets at about 20 ms): a field costs 1; a list costs its length
//!   times its selection (`tickets` multiplies by `first`, lists of unknown
//!   length by a nominal length); a resolver that reads a record or scans a
//!   view adds what that read costs ([`RECORD`], [`CLOCKS`], [`HISTORY`],
//!   [`AGGREGATE`], [`MONTHLY_REPORT`], [`WEEKLY_REPORT`], the alerts'
//!   scans, a page's `totalCount` ([`total_count`]), charged once and not
//!   per ticket); every mutation adds [`MUTATION`] (a durable append and a
//!   wait for the views). Many aliases of an expensive field cost that field as
//!   many times. The costs are attached to the fields with
//!   `#[graphql(complexity = ...)]`, using the functions here.
//!
//! The limits leave room for every query staff tools, the README and the
//! tests use (a page of 500 tickets with every field and their clocks
//! costs about 58,000 points; a dashboard with the alerts, four weekly
//! reports and the aggregates about 133,000; a year of monthly reports
//! about 120,000) and refuse alias abuse: five `slaAlerts` in one
//! document, or 22 pages of 500 tickets.

use std::collections::HashMap;

use async_graphql::parser::types::{ExecutableDocument, FragmentDefinition, OperationType, Selection, SelectionSet};
use async_graphql::{Name, Pos, Positioned};

/// Most points a document may cost.
pub const MAX_COST: usize = 250_000;
/// Deepest field nesting accepted.
pub const MAX_DEPTH: usize = 20;
/// Most field selections a document may hold, fragments expanded.
pub const MAX_FIELDS: usize = 1_000;

/// Reading one record (a ticket from the tickets view, a project, unit
/// or owner folded from its short stream).
pub const RECORD: usize = 20;
/// Evaluating a ticket's clocks (its SLA record and the calendar).
pub const CLOCKS: usize = 40;
/// Reading a ticket's stream from the log and replaying it.
pub const HISTORY: usize = 500;
/// Events a history is counted with (most tickets have fewer).
pub const HISTORY_EVENTS: usize = 20;
/// A ticket list's index scan before its first record.
pub const LIST_SCAN: usize = 100;
/// An aggregate report (`slaReport`, `satisfactionReport`,
/// `contractorScorecards`, `defectStats`): a scan of one dimension's
/// buckets.
pub const AGGREGATE: usize = 1_000;
/// Buckets an aggregate report is counted with.
pub const AGGREGATE_BUCKETS: usize = 50;
/// A monthly report: every ticket the project received in the month.
pub const MONTHLY_REPORT: usize = 10_000;
/// A weekly repair report: the week's tickets and every open clock of
/// the project.
pub const WEEKLY_REPORT: usize = 20_000;
/// `slaAlerts` for one project: every open clock of the project.
pub const PROJECT_ALERTS: usize = 20_000;
/// `slaAlerts` for every project: every open clock.
pub const ALL_ALERTS: usize = 50_000;
/// Alerts an alert list is counted with.
pub const ALERTS_LISTED: usize = 100;
/// A mutation: a decision, a durable append and a wait for the views.
pub const MUTATION: usize = 1_000;
/// `TicketConnection.totalCount` when the filter's index answers it
/// alone: its index entries are counted (the demo's 15,000 tickets
/// unfiltered in about 8 ms).
pub const TOTAL_COUNT_INDEXED: usize = 10_000;
/// `TicketConnection.totalCount` when each ticket in the index's range is
/// read and matched (about 10 µs a ticket: the demo's 10,500 repairs of
/// one category in about 120 ms).
pub const TOTAL_COUNT_MATCHED: usize = 120_000;
/// What `totalCount` adds to the cost of its connection's selection: a
/// mark far above what any selection costs, which [`page`] takes out of
/// the selection again and charges once (not `first` times: the count
/// does not grow with the page). Each alias of `totalCount` adds one mark.
pub const TOTAL_COUNT_MARK: usize = 1 << (usize::BITS / 2);

/// What counting the tickets a listing's filter matches costs:
/// [`TOTAL_COUNT_INDEXED`] if its index answers alone, also once a
/// project-scoped caller's project is added to a filter that names none,
/// else [`TOTAL_COUNT_MATCHED`]. (A contractor's own tickets, the other
/// scope, are few.)
pub fn total_count(filter: &projections::tickets::TicketFilter) -> usize {
    let mut scoped = filter.clone();
    if scoped.project.is_none() && scoped.contractor.is_none() {
        scoped.project = domain::ids::ProjectId::new("P").ok();
    }
    if filter.counts_from_index() && scoped.counts_from_index() {
        TOTAL_COUNT_INDEXED
    } else {
        TOTAL_COUNT_MATCHED
    }
}

/// `tickets(first)`: the scan, then `first` times a record and its
/// selection (a `first` out of range costs as the largest page), and
/// `count` (see [`total_count`]) for each `totalCount` selected.
pub fn page(first: i32, child: usize, count: usize) -> usize {
    let first = usize::try_from(first).unwrap_or(0).min(projections::tickets::MAX_PAGE);
    let counts = child / TOTAL_COUNT_MARK;
    let child = child % TOTAL_COUNT_MARK;
    LIST_SCAN
        .saturating_add(counts.saturating_mul(count))
        .saturating_add(first.saturating_mul(RECORD.saturating_add(child)))
}

/// `tickets(orderBy: NEAREST_DUE)`: every open ticket's clocks evaluated,
/// as the SLA alerts do ([`PROJECT_ALERTS`] for one project,
/// [`ALL_ALERTS`] for all); nothing for the received order.
pub fn due_order(nearest_due: bool, one_project: bool) -> usize {
    match (nearest_due, one_project) {
        (false, _) => 0,
        (true, true) => PROJECT_ALERTS,
        (true, false) => ALL_ALERTS,
    }
}

/// A read of one record and its selection.
pub fn record(child: usize) -> usize {
    RECORD.saturating_add(child)
}

/// A ticket's clocks.
pub fn clocks(child: usize) -> usize {
    CLOCKS.saturating_add(child)
}

/// `ticketHistory`: the stream's read and replay, and a nominal
/// [`HISTORY_EVENTS`] times the selection.
pub fn history(child: usize) -> usize {
    HISTORY.saturating_add(HISTORY_EVENTS.saturating_mul(child))
}

/// An aggregate report: the scan and a nominal [`AGGREGATE_BUCKETS`]
/// times the selection.
pub fn aggregate(child: usize) -> usize {
    AGGREGATE.saturating_add(AGGREGATE_BUCKETS.saturating_mul(child))
}

/// `monthlyReport`.
pub fn monthly_report(child: usize) -> usize {
    MONTHLY_REPORT.saturating_add(child)
}

/// `weeklyRepairReport`.
pub fn weekly_report(child: usize) -> usize {
    WEEKLY_REPORT.saturating_add(child)
}

/// `slaAlerts`: the scan of one project's open clocks or of all, and a
/// nominal [`ALERTS_LISTED`] times the selection.
pub fn alerts(one_project: bool, child: usize) -> usize {
    let scan = if one_project { PROJECT_ALERTS } else { ALL_ALERTS };
    scan.saturating_add(ALERTS_LISTED.saturating_mul(child))
}

/// The limits a document is held to.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct DocumentLimits {
    /// Most points.
    pub max_cost: usize,
    /// Deepest field nesting.
    pub max_depth: usize,
    /// Most field selections, fragments expanded.
    pub max_fields: usize,
}

impl Default for DocumentLimits {
    /// [`MAX_COST`], [`MAX_DEPTH`], [`MAX_FIELDS`].
    fn default() -> Self {
        Self {
            max_cost: MAX_COST,
            max_depth: MAX_DEPTH,
            max_fields: MAX_FIELDS,
        }
    }
}

/// What a document holds, counted without running it.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct Shape {
    /// Field selections, every fragment spread expanded (saturating).
    pub fields: usize,
    /// Deepest field nesting.
    pub depth: usize,
    /// Root fields of the mutation that runs (0 for a query).
    pub mutations: usize,
    /// Where arguments whose value holds a variable are named: a value
    /// refused there came from the request's variables.
    pub variable_arguments: Vec<Pos>,
}

/// Why a document's shape is refused.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum ShapeError {
    /// A fragment spreads itself, directly or through others.
    #[error("fragment {0} spreads itself")]
    FragmentCycle(String),
    /// More field selections than allowed.
    #[error(
        "the query selects {fields} fields (fragments expanded); the limit is {limit}: ask for fewer fields or fewer aliases"
    )]
    TooManyFields {
        /// Field selections counted.
        fields: usize,
        /// The limit.
        limit: usize,
    },
    /// Nested deeper than allowed.
    #[error("the query is nested too deep: {depth} levels of fields; the limit is {limit}")]
    TooDeep {
        /// Depth counted.
        depth: usize,
        /// The limit.
        limit: usize,
    },
}

/// Fields and depth of a selection set.
#[derive(Debug, Clone, Copy, Default)]
struct Size {
    fields: usize,
    depth: usize,
}

enum Visit {
    InProgress,
    Done(Size),
}

struct Walker<'d> {
    fragments: &'d HashMap<Name, Positioned<FragmentDefinition>>,
    memo: HashMap<&'d str, Visit>,
    variable_arguments: Vec<Pos>,
}

impl<'d> Walker<'d> {
    fn selection_set(&mut self, set: &'d Positioned<SelectionSet>) -> Result<Size, ShapeError> {
        let mut size = Size::default();
        for item in &set.node.items {
            let (fields, depth) = match &item.node {
                Selection::Field(field) => {
                    for (name, value) in &field.node.arguments {
                        // A value that names a variable has no constant form.
                        if value.node.clone().into_const().is_none() {
                            self.variable_arguments.push(name.pos);
                        }
                    }
                    self.directives(&field.node.directives);
                    let inner = self.selection_set(&field.node.selection_set)?;
                    (inner.fields.saturating_add(1), inner.depth.saturating_add(1))
                }
                Selection::InlineFragment(fragment) => {
                    self.directives(&fragment.node.directives);
                    let inner = self.selection_set(&fragment.node.selection_set)?;
                    (inner.fields, inner.depth)
                }
                Selection::FragmentSpread(spread) => {
                    self.directives(&spread.node.directives);
                    let inner = self.fragment(&spread.node.fragment_name.node)?;
                    (inner.fields, inner.depth)
                }
            };
            size.fields = size.fields.saturating_add(fields);
            size.depth = size.depth.max(depth);
        }
        Ok(size)
    }

    fn fragment(&mut self, name: &'d Name) -> Result<Size, ShapeError> {
        match self.memo.get(name.as_str()) {
            Some(Visit::Done(size)) => return Ok(*size),
            Some(Visit::InProgress) => return Err(ShapeError::FragmentCycle(name.to_string())),
            None => {}
        }
        // An unknown fragment is the validator's to report.
        let Some(definition) = self.fragments.get(name) else {
            return Ok(Size::default());
        };
        self.memo.insert(name.as_str(), Visit::InProgress);
        let size = self.selection_set(&definition.node.selection_set)?;
        self.memo.insert(name.as_str(), Visit::Done(size));
        Ok(size)
    }

    fn directives(&mut self, directives: &'d [Positioned<async_graphql::parser::types::Directive>]) {
        for directive in directives {
            for (name, value) in &directive.node.arguments {
                if value.node.clone().into_const().is_none() {
                    self.variable_arguments.push(name.pos);
                }
            }
        }
    }
}

/// Counts a document's fields, depth and mutations, refusing fragment
/// cycles and a document over `limits`' field or depth limit. Linear in
/// the document's size: each fragment is counted once, however often it is
/// spread. `operation_name` picks the operation whose mutations count (as
/// the executor picks it).
pub fn shape(
    document: &ExecutableDocument,
    operation_name: Option<&str>,
    limits: &DocumentLimits,
) -> Result<Shape, ShapeError> {
    let mut walker = Walker {
        fragments: &document.fragments,
        memo: HashMap::new(),
        variable_arguments: Vec::new(),
    };
    let mut shape = Shape::default();
    for (_, operation) in document.operations.iter() {
        let size = walker.selection_set(&operation.node.selection_set)?;
        shape.fields = shape.fields.saturating_add(size.fields);
        shape.depth = shape.depth.max(size.depth);
    }
    // A cycle among fragments no operation spreads is refused too.
    let names: Vec<&Name> = document.fragments.keys().collect();
    for name in names {
        walker.fragment(name)?;
    }
    if shape.fields > limits.max_fields {
        return Err(ShapeError::TooManyFields {
            fields: shape.fields,
            limit: limits.max_fields,
        });
    }
    if shape.depth > limits.max_depth {
        return Err(ShapeError::TooDeep {
            depth: shape.depth,
            limit: limits.max_depth,
        });
    }
    if let Some(operation) = crate::document_cache::operation(document, operation_name) {
        if operation.node.ty == OperationType::Mutation {
            // Fragments on the root count like the fields they hold.
            shape.mutations = root_fields(document, &operation.node.selection_set.node, &mut Vec::new());
        }
    }
    shape.variable_arguments = walker.variable_arguments;
    Ok(shape)
}

/// The fields a root selection set runs, fragments (spread or inline)
/// expanded; a fragment already being expanded counts nothing again
/// (cycles are refused before this runs).
fn root_fields<'d>(
    document: &'d ExecutableDocument,
    set: &'d async_graphql::parser::types::SelectionSet,
    expanding: &mut Vec<&'d Name>,
) -> usize {
    set.items
        .iter()
        .map(|s| match &s.node {
            Selection::Field(f) => usize::from(!f.node.name.node.starts_with("__")),
            Selection::InlineFragment(i) => root_fields(document, &i.node.selection_set.node, expanding),
            Selection::FragmentSpread(spread) => {
                let name = &spread.node.fragment_name.node;
                match document.fragments.get(name) {
                    Some(fragment) if !expanding.contains(&name) => {
                        expanding.push(name);
                        let n = root_fields(document, &fragment.node.selection_set.node, expanding);
                        expanding.pop();
                        n
                    }
                    _ => 0,
                }
            }
        })
        .sum()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn mutations_in_fragments_count_like_mutations_at_the_root() {
        let doc = parsed(
            "mutation { ...M ... on Mutation { c: commentTicket(input: {ticketId: \"1\", text: \"x\"}) { position } } }
             fragment M on Mutation { a: commentTicket(input: {ticketId: \"1\", text: \"x\"}) { position }
                                          b: commentTicket(input: {ticketId: \"1\", text: \"x\"}) { position } }",
        );
        let s = shape(&doc, None, &DocumentLimits::default()).unwrap_or_else(|e| panic!("{e}"));
        assert_eq!(s.mutations, 3);
    }

    fn parsed(query: &str) -> ExecutableDocument {
        async_graphql::parser::parse_query(query).unwrap_or_else(|e| panic!("{e}"))
    }

    #[test]
    fn fields_and_depth_count_fragments_once_per_spread() {
        let doc = parsed(
            "query { a: ticket(id: \"1\") { ...T } b: ticket(id: \"2\") { ...T clocks { status } } }
             fragment T on Ticket { id status ... on Ticket { kind } }",
        );
        let s = shape(&doc, None, &DocumentLimits::default()).unwrap_or_else(|e| panic!("{e}"));
        // a: 1 + 3; b: 1 + 3 + clocks 2; deepest: ticket, clocks, status.
        assert_eq!(s.fields, 10);
        assert_eq!(s.depth, 3);
        assert_eq!(s.mutations, 0);
    }

    #[test]
    fn a_fragment_bomb_is_counted_in_linear_time_and_refused() {
        let mut q = String::from("query { ...F0 } fragment F40 on Query { __typename }");
        for i in 0..40 {
            q.push_str(&format!(" fragment F{i} on Query {{ ...F{n} ...F{n} }}", n = i + 1));
        }
        let refused = shape(&parsed(&q), None, &DocumentLimits::default());
        assert_eq!(
            refused,
            Err(ShapeError::TooManyFields {
                fields: 1 << 40,
                limit: MAX_FIELDS
            })
        );
    }

    #[test]
    fn cycles_and_depth_are_refused() {
        let cycle = parsed("query { ...A } fragment A on Query { ...B } fragment B on Query { ...A }");
        assert!(matches!(
            shape(&cycle, None, &DocumentLimits::default()),
            Err(ShapeError::FragmentCycle(_))
        ));
        let unused_cycle = parsed("query { __typename } fragment A on Query { ...A }");
        assert!(matches!(
            shape(&unused_cycle, None, &DocumentLimits::default()),
            Err(ShapeError::FragmentCycle(_))
        ));
        let deep = format!(
            "{{ __type(name: \"Ticket\") {{ {} name {} }} }}",
            "ofType { ".repeat(MAX_DEPTH),
            "}".repeat(MAX_DEPTH)
        );
        assert_eq!(
            shape(&parsed(&deep), None, &DocumentLimits::default()),
            Err(ShapeError::TooDeep {
                depth: MAX_DEPTH + 2,
                limit: MAX_DEPTH
            })
        );
    }

    #[test]
    fn mutations_of_the_operation_that_runs_and_variable_arguments_are_counted() {
        let doc = parsed(
            "mutation M($id: String!) { a: commentTicket(input: { ticketId: $id, text: \"x\" }) { position }
                                        b: commentTicket(input: { ticketId: \"T-1\", text: \"y\" }) { position } }
             query Q { __typename }",
        );
        let limits = DocumentLimits::default();
        let m = shape(&doc, Some("M"), &limits).unwrap_or_else(|e| panic!("{e}"));
        assert_eq!(m.mutations, 2);
        assert_eq!(m.variable_arguments, vec![Pos { line: 1, column: 45 }]);
        assert_eq!(shape(&doc, Some("Q"), &limits).map(|s| s.mutations), Ok(0));
    }

    #[test]
    fn a_count_costs_little_only_when_the_index_answers_it_alone_for_every_scope() {
        use projections::tickets::TicketFilter;
        let project = domain::ids::ProjectId::new("P01").ok();
        let contractor = domain::ids::ContractorId::new("C-001").ok();
        let status = Some(domain::ticket::Status::Received);
        let kind = Some(domain::ticket::TicketKind::Repair);
        let cheap = [
            TicketFilter::default(),
            TicketFilter {
                project: project.clone(),
                status,
                ..TicketFilter::default()
            },
            TicketFilter {
                contractor: contractor.clone(),
                ..TicketFilter::default()
            },
        ];
        for filter in cheap {
            assert_eq!(total_count(&filter), TOTAL_COUNT_INDEXED, "{filter:?}");
        }
        let costly = [
            TicketFilter {
                project,
                kind,
                ..TicketFilter::default()
            },
            // A project-scoped caller's list of one kind reads records.
            TicketFilter {
                kind,
                ..TicketFilter::default()
            },
            TicketFilter {
                contractor,
                status,
                ..TicketFilter::default()
            },
        ];
        for filter in costly {
            assert_eq!(total_count(&filter), TOTAL_COUNT_MATCHED, "{filter:?}");
        }
    }

    #[test]
    fn pages_cost_their_length_and_out_of_range_pages_the_largest() {
        let n = TOTAL_COUNT_INDEXED;
        assert_eq!(page(50, 3, n), LIST_SCAN + 50 * (RECORD + 3));
        assert_eq!(page(-1, 3, n), LIST_SCAN);
        assert_eq!(page(i32::MAX, 3, n), page(500, 3, n));
        assert_eq!(page(50, TOTAL_COUNT_MARK + 3, n), page(50, 3, n) + n);
        assert_eq!(page(500, 2 * TOTAL_COUNT_MARK + 3, n), page(500, 3, n) + 2 * n);
        assert_eq!(alerts(false, usize::MAX), usize::MAX);
    }
}
