//! CSV import of the customer archive (客户档案): projects, buildings, units
//! and owners, one kind per file.
//!
//! An import is all or nothing, and safe to run again:
//!
//! 1. Every row is parsed first, and every problem of every row is
//!    collected (row number, file line, column, message) instead of
//!    stopping at the first.
//! 2. Rows whose commands a previous run of the same file already appended
//!    (recognised by their idempotency keys) are counted as skipped.
//! 3. The other rows are decided in file order with the pure deciders,
//!    against the archive as the log folds it plus what the earlier rows of
//!    the file produce, with one `now` for the whole file. The domain's
//!    refusals (already exists, unknown building, future delivery date …)
//!    are row errors too.
//! 4. Any row error: [`ImportError::Rows`], and nothing is appended.
//! 5. Otherwise every row's commands go through the [`Service`], each with
//!    the idempotency key `import:{kind}:{hash}:{row}:{i}` (`hash`: 64-bit
//!    FNV-1a of the file's bytes, `row`: the data row from 1, `i`: the
//!    command within the row). A run stopped half-way (a crash, a power cut,
//!    a concurrent change) is finished by running the same file again: what
//!    is in the log is skipped, nothing is appended twice. The key is tied
//!    to the exact bytes, so re-run the very same file, not a re-saved one.
//!
//! Formats (UTF-8, header row, columns in any order, names and values
//! trimmed, a leading byte-order mark tolerated, optional columns in
//! brackets, an empty optional value counts as absent, rows whose fields
//! are all empty are ignored):
//!
//! - `projects`: `project_id, name, city, [calendar]` (default
//!   `cn-mainland`; it must be a calendar the server knows).
//! - `buildings`: `project_id, building_id, name`.
//! - `units`: `unit_id, project_id, building_id, number, [delivered_on]`
//!   (`YYYY-MM-DD`; when present the delivery is recorded after the unit
//!   is registered).
//! - `owners`: `owner_id, family_name, [given_name], phone, [id_number],
//!   [unit_id, contract_signed_on, stage]` (the last three together or not
//!   at all). The first row of an owner registers them; with a unit the
//!   owner is then linked to it. Further rows with the same `owner_id` link
//!   the owner to further units and must carry the same name and phone.
//!   `stage` is a letter `A`–`G`, a stored name (`f_warranty_service`),
//!   the name without its letter (`warranty_service`) or the Chinese name
//!   (保修服务).

use std::collections::{HashMap, HashSet};
use std::fmt;
use std::str::FromStr;

use chrono::NaiveDate;
use domain::actor::Actor;
use domain::archive::{
    OwnerCommand, OwnerDecider, OwnerState, ProjectCommand, ProjectDecider, ProjectState, UnitCommand, UnitDecider,
    UnitState,
};
use domain::calendar::CalendarRegistry;
use domain::decider::{Context, Decider};
use domain::error::DomainError;
use domain::ids::{BuildingId, OwnerId, ProjectId, UnitId};
use domain::personal::{IdNumber, PersonName, Personal, PhoneNumber};
use domain::ticket::{Channel, TouchpointStage};
use eventlog::Position;

use crate::error::AppError;
use crate::service::{Acting, Service};

/// The most data rows one file may hold.
pub const MAX_ROWS: usize = 200_000;

/// How many row errors [`ImportError`]'s message lists.
pub const LISTED_ROW_ERRORS: usize = 50;

/// The calendar a project gets when its file has no `calendar` value.
pub const DEFAULT_CALENDAR: &str = "cn-mainland";

/// What a file holds.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum ImportKind {
    /// `project_id, name, city, [calendar]`.
    Projects,
    /// `project_id, building_id, name`.
    Buildings,
    /// `unit_id, project_id, building_id, number, [delivered_on]`.
    Units,
    /// `owner_id, family_name, [given_name], phone, [id_number], [unit_id,
    /// contract_signed_on, stage]`.
    Owners,
}

impl ImportKind {
    /// Every kind.
    pub const ALL: [ImportKind; 4] = [
        ImportKind::Projects,
        ImportKind::Buildings,
        ImportKind::Units,
        ImportKind::Owners,
    ];

    /// The kind's name (`projects`, `buildings`, `units`, `owners`).
    pub fn as_str(self) -> &'static str {
        match self {
            ImportKind::Projects => "projects",
            ImportKind::Buildings => "buildings",
            ImportKind::Units => "units",
            ImportKind::Owners => "owners",
        }
    }

    /// The columns of the kind's files, with whether each is required.
    fn columns(self) -> &'static [(&'static str, bool)] {
        match self {
            ImportKind::Projects => &[
                ("project_id", true),
                ("name", true),
                ("city", true),
                ("calendar", false),
            ],
            ImportKind::Buildings => &[("project_id", true), ("building_id", true), ("name", true)],
            ImportKind::Units => &[
                ("unit_id", true),
                ("project_id", true),
                ("building_id", true),
                ("number", true),
                ("delivered_on", false),
            ],
            ImportKind::Owners => &[
                ("owner_id", true),
                ("family_name", true),
                ("given_name", false),
                ("phone", true),
                ("id_number", false),
                ("unit_id", false),
                ("contract_signed_on", false),
                ("stage", false),
            ],
        }
    }

    /// The columns as the documentation writes them: `a, b, [c]`.
    fn columns_text(self) -> String {
        self.columns()
            .iter()
            .map(|(name, required)| {
                if *required {
                    name.to_string()
                } else {
                    format!("[{name}]")
                }
            })
            .collect::<Vec<_>>()
            .join(", ")
    }
}

impl fmt::Display for ImportKind {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.as_str())
    }
}

/// A name that is not an [`ImportKind`].
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("unknown import kind {0:?}: expected one of projects, buildings, units, owners")]
pub struct UnknownImportKind(pub String);

impl FromStr for ImportKind {
    type Err = UnknownImportKind;
    fn from_str(s: &str) -> Result<Self, Self::Err> {
        let wanted = s.trim().to_lowercase();
        ImportKind::ALL
            .into_iter()
            .find(|k| k.as_str() == wanted)
            .ok_or_else(|| UnknownImportKind(s.to_string()))
    }
}

/// What is wrong with one row.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct RowError {
    /// The data row, from 1 (the row after the header).
    pub row: usize,
    /// The line of the file the row starts on, from 1 (the header is line
    /// 1 unless a quoted value spans lines).
    pub line: u64,
    /// The column at fault, when one is.
    pub column: Option<String>,
    /// What is wrong, in the operator's words.
    pub message: String,
}

impl fmt::Display for RowError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "row {} (line {})", self.row, self.line)?;
        if let Some(c) = &self.column {
            write!(f, ", column {c}")?;
        }
        write!(f, ": {}", self.message)
    }
}

/// What an import did.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ImportReport {
    /// Data rows in the file (rows whose fields are all empty not counted).
    pub rows: usize,
    /// Rows appended by this run (wholly, or the rest of a row an earlier
    /// run appended in part).
    pub imported: usize,
    /// Rows an earlier run of the same file appended already.
    pub skipped: usize,
    /// Events this run appended.
    pub events_appended: usize,
    /// Log position of the first of them.
    pub first_position: Option<Position>,
    /// Log position of the last of them.
    pub last_position: Option<Position>,
}

/// Why an import appended nothing, or stopped.
#[derive(Debug, thiserror::Error)]
pub enum ImportError {
    /// Rows have errors; nothing was appended.
    #[error("{}", rows_message(.0))]
    Rows(Vec<RowError>),
    /// The header row is missing, names an unknown column twice, or lacks
    /// a required one; nothing was appended.
    #[error("bad header row: {0}")]
    Header(String),
    /// The file is not CSV the reader understands; nothing was appended.
    #[error("the file cannot be read as CSV: {0}")]
    Csv(String),
    /// The file has more than [`MAX_ROWS`] data rows; nothing was appended.
    #[error("the file has more than {limit} data rows; split it into files of at most {limit} rows")]
    TooManyRows {
        /// The limit.
        limit: usize,
    },
    /// The archive could not be read or written.
    #[error("{}", service_message(*.row, *.line, *.events_appended, .message))]
    Service {
        /// The row being appended, if the failure happened while appending.
        row: Option<usize>,
        /// Its line.
        line: Option<u64>,
        /// Events this run appended before the failure.
        events_appended: usize,
        /// What failed.
        message: String,
    },
}

fn rows_message(errors: &[RowError]) -> String {
    let rows = errors.iter().map(|e| e.row).collect::<HashSet<_>>().len();
    let mut text = format!(
        "{rows} row{} of the file {} errors ({} in all); nothing was imported:",
        if rows == 1 { "" } else { "s" },
        if rows == 1 { "has" } else { "have" },
        errors.len()
    );
    for e in errors.iter().take(LISTED_ROW_ERRORS) {
        text.push_str("\n  ");
        text.push_str(&e.to_string());
    }
    if errors.len() > LISTED_ROW_ERRORS {
        text.push_str(&format!("\n  … and {} more", errors.len() - LISTED_ROW_ERRORS));
    }
    text
}

fn service_message(row: Option<usize>, line: Option<u64>, events_appended: usize, message: &str) -> String {
    match row {
        None => format!("cannot read the archive: {message}; nothing was imported"),
        Some(row) => format!(
            "row {row}{} could not be appended: {message}. This run appended {events_appended} events before it; \
             once the cause is removed, run the very same file again: what is in the log already is skipped",
            line.map(|l| format!(" (line {l})")).unwrap_or_default()
        ),
    }
}

fn reading(e: AppError) -> ImportError {
    ImportError::Service {
        row: None,
        line: None,
        events_appended: 0,
        message: e.message(),
    }
}

/// Imports one CSV file of `kind` as `actor` (an archive role: admin or
/// system). See the module documentation for the formats and guarantees.
pub async fn import(
    service: &Service,
    kind: ImportKind,
    csv_text: &str,
    actor: Actor,
) -> Result<ImportReport, ImportError> {
    let hash = domain::ids::stable_hash(csv_text.as_bytes());
    let (rows, mut errors) = parse(kind, csv_text, service.calendars())?;
    let total = rows.len() + errors_rows(&errors, &rows);
    let mut dry = DryRun {
        service,
        ctx: Context {
            now: service.now(),
            occurred_at: None,
            actor: actor.clone(),
            channel: Channel::BackOffice,
            reference: (),
        },
        projects: HashMap::new(),
        units: HashMap::new(),
        owners: HashMap::new(),
    };

    // What earlier runs of this file appended.
    let mut pending = Vec::with_capacity(rows.len());
    let mut skipped = 0;
    for row in rows {
        let row = dry.without_applied(kind, hash, row)?;
        if row.commands.is_empty() {
            skipped += 1;
        } else {
            pending.push(row);
        }
    }

    // The dry run.
    for row in &pending {
        dry.decide(row, &mut errors)?;
    }
    if !errors.is_empty() {
        errors.sort_by_key(|e| e.row);
        return Err(ImportError::Rows(errors));
    }

    // The real run.
    let mut report = ImportReport {
        rows: total,
        imported: 0,
        skipped,
        events_appended: 0,
        first_position: None,
        last_position: None,
    };
    for row in pending {
        let (number, line) = (row.row, row.line);
        for (i, position) in append(service, kind, hash, row, &actor).await {
            let position = position.map_err(|e| ImportError::Service {
                row: Some(number),
                line: Some(line),
                events_appended: report.events_appended,
                message: format!("command {i}: {}", e.message()),
            })?;
            report.events_appended += 1;
            report.first_position.get_or_insert(position);
            report.last_position = Some(position);
        }
        report.imported += 1;
        if report.imported % 1000 == 0 {
            tracing::info!(kind = %kind, row = number, imported = report.imported, "import in progress");
        }
    }
    tracing::info!(
        kind = %kind,
        rows = report.rows,
        imported = report.imported,
        skipped = report.skipped,
        events = report.events_appended,
        "import done"
    );
    Ok(report)
}

/// The number of rows that have errors but no parsed row.
fn errors_rows(errors: &[RowError], rows: &[Row]) -> usize {
    let parsed: HashSet<usize> = rows.iter().map(|r| r.row).collect();
    errors
        .iter()
        .map(|e| e.row)
        .filter(|r| !parsed.contains(r))
        .collect::<HashSet<_>>()
        .len()
}

/// Appends a row's commands one by one, stopping at the first failure;
/// returns each command's index and position (or error).
async fn append(
    service: &Service,
    kind: ImportKind,
    hash: u64,
    row: Row,
    actor: &Actor,
) -> Vec<(usize, Result<Position, AppError>)> {
    let acting = |i: usize| Acting {
        projects: Vec::new(),
        actor: actor.clone(),
        channel: Channel::BackOffice,
        occurred_at: None,
        expected_version: None,
        idempotency_key: Some(row_key(kind, hash, row.row, i)),
        shared_key: true,
    };
    let mut out = Vec::new();
    match row.commands {
        Commands::Project(id, commands) => {
            for (i, c) in commands {
                let r = service.project_command(&id, c, acting(i)).await.map(|(_, p)| p);
                let failed = r.is_err();
                out.push((i, r));
                if failed {
                    break;
                }
            }
        }
        Commands::Unit(id, commands) => {
            for (i, c) in commands {
                let r = service.unit_command(&id, c, acting(i)).await.map(|(_, p)| p);
                let failed = r.is_err();
                out.push((i, r));
                if failed {
                    break;
                }
            }
        }
        Commands::Owner(id, commands) => {
            for (i, c) in commands {
                let r = service.owner_command(&id, c, acting(i)).await.map(|(_, p)| p);
                let failed = r.is_err();
                out.push((i, r));
                if failed {
                    break;
                }
            }
        }
    }
    out
}

/// The idempotency key of command `i` of data row `row` of a file.
fn row_key(kind: ImportKind, hash: u64, row: usize, i: usize) -> String {
    format!("import:{kind}:{hash:016x}:{row}:{i}")
}

// ------------------------------------------------------------ parsing

/// A row's commands, each with its index in the row (its key's `i`).
#[derive(Debug, Clone)]
enum Commands {
    Project(ProjectId, Vec<(usize, ProjectCommand)>),
    Unit(UnitId, Vec<(usize, UnitCommand)>),
    Owner(OwnerId, Vec<(usize, OwnerCommand)>),
}

impl Commands {
    fn is_empty(&self) -> bool {
        match self {
            Commands::Project(_, c) => c.is_empty(),
            Commands::Unit(_, c) => c.is_empty(),
            Commands::Owner(_, c) => c.is_empty(),
        }
    }
}

/// A row that parsed.
#[derive(Debug, Clone)]
struct Row {
    row: usize,
    line: u64,
    commands: Commands,
}

/// The header: which column each known name is in.
struct Header {
    index: HashMap<&'static str, usize>,
    width: usize,
}

const LINK_COLUMNS: [&str; 3] = ["unit_id", "contract_signed_on", "stage"];

fn header(kind: ImportKind, record: &csv::StringRecord) -> Result<Header, ImportError> {
    if record.iter().all(|f| f.trim().is_empty()) {
        return Err(ImportError::Header(format!(
            "the file is empty; a {kind} file starts with the header row {}",
            kind.columns_text()
        )));
    }
    let known = kind.columns();
    let mut problems = Vec::new();
    let mut index = HashMap::new();
    for (i, raw) in record.iter().enumerate() {
        let name = raw.trim().trim_start_matches('\u{feff}').trim().to_lowercase();
        if name.is_empty() {
            problems.push(format!("column {} has no name", i + 1));
            continue;
        }
        match known.iter().find(|(n, _)| *n == name) {
            None => problems.push(format!("unknown column {name:?}")),
            Some((n, _)) => {
                if index.insert(*n, i).is_some() {
                    problems.push(format!("column {n:?} appears twice"));
                }
            }
        }
    }
    for (n, required) in known {
        if *required && !index.contains_key(n) {
            problems.push(format!("missing column {n:?}"));
        }
    }
    if kind == ImportKind::Owners {
        let missing: Vec<&str> = LINK_COLUMNS.into_iter().filter(|c| !index.contains_key(c)).collect();
        if !missing.is_empty() && missing.len() < LINK_COLUMNS.len() {
            problems.push(format!(
                "columns unit_id, contract_signed_on and stage go together; missing {}",
                missing.join(", ")
            ));
        }
    }
    if problems.is_empty() {
        Ok(Header {
            index,
            width: record.len(),
        })
    } else {
        Err(ImportError::Header(format!(
            "{}; a {kind} file has the columns {}",
            problems.join("; "),
            kind.columns_text()
        )))
    }
}

/// One record being read, with the errors found in it.
struct Fields<'a> {
    header: &'a Header,
    record: &'a csv::StringRecord,
    row: usize,
    line: u64,
    errors: Vec<RowError>,
}

impl<'a> Fields<'a> {
    fn error(&mut self, column: Option<&str>, message: impl Into<String>) {
        self.errors.push(RowError {
            row: self.row,
            line: self.line,
            column: column.map(str::to_string),
            message: message.into(),
        });
    }

    /// The value of a column, `None` when the column is absent or empty.
    fn value(&self, column: &str) -> Option<&'a str> {
        let record: &'a csv::StringRecord = self.record;
        self.header
            .index
            .get(column)
            .and_then(|&i| record.get(i))
            .map(str::trim)
            .filter(|s| !s.is_empty())
    }

    fn required(&mut self, column: &str) -> Option<&'a str> {
        let v = self.value(column);
        if v.is_none() {
            self.error(Some(column), "it is empty");
        }
        v
    }

    fn check<T>(&mut self, column: &str, r: Result<T, String>) -> Option<T> {
        match r {
            Ok(v) => Some(v),
            Err(m) => {
                self.error(Some(column), m);
                None
            }
        }
    }

    fn id<T>(&mut self, column: &str, make: fn(String) -> Result<T, DomainError>) -> Option<T> {
        let v = self.required(column)?;
        self.check(column, make(v.to_string()).map_err(|e| e.to_string()))
    }

    fn date(&mut self, column: &str, value: &str) -> Option<NaiveDate> {
        let r = NaiveDate::parse_from_str(value, "%Y-%m-%d")
            .map_err(|_| format!("{value:?} is not a date (YYYY-MM-DD expected)"));
        self.check(column, r)
    }
}

/// Where an id was first seen in the file.
#[derive(Debug, Clone, Copy)]
struct Seen {
    row: usize,
    line: u64,
}

impl fmt::Display for Seen {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "row {} (line {})", self.row, self.line)
    }
}

/// The first row of an owner in the file.
struct FirstOwnerRow {
    at: Seen,
    /// Name, phone and ID number, when they parsed.
    person: Option<(PersonName, PhoneNumber, Option<IdNumber>)>,
    /// Whether the row parsed without errors (and so registers the owner).
    ok: bool,
}

/// What the rows read so far hold, to find duplicates.
#[derive(Default)]
struct Parser {
    seen: HashMap<String, Seen>,
    owners: HashMap<OwnerId, FirstOwnerRow>,
}

impl Parser {
    /// Records `what` at `f`'s row; an error naming the earlier row if it
    /// was there already.
    fn once(&mut self, f: &mut Fields<'_>, column: &str, what: String) {
        let here = Seen {
            row: f.row,
            line: f.line,
        };
        if let Some(first) = self.seen.get(&what) {
            f.error(Some(column), format!("{what} is already in {first} of this file"));
        } else {
            self.seen.insert(what, here);
        }
    }

    fn project(&mut self, f: &mut Fields<'_>, calendars: &CalendarRegistry) -> Option<Commands> {
        let id = f.id("project_id", ProjectId::new);
        let name = f.required("name");
        let city = f.required("city");
        let calendar = f.value("calendar").unwrap_or(DEFAULT_CALENDAR);
        if calendars.latest(calendar).is_none() {
            f.error(
                Some("calendar"),
                format!(
                    "no business calendar {calendar:?} is known to this server (the default is {DEFAULT_CALENDAR})"
                ),
            );
        }
        if let Some(id) = &id {
            self.once(f, "project_id", format!("project {id}"));
        }
        let command = ProjectCommand::Register {
            project: id.clone()?,
            name: name?.to_string(),
            city: city?.to_string(),
            calendar: calendar.to_string(),
        };
        Some(Commands::Project(id?, vec![(0, command)]))
    }

    fn building(&mut self, f: &mut Fields<'_>) -> Option<Commands> {
        let project = f.id("project_id", ProjectId::new);
        let building = f.id("building_id", BuildingId::new);
        let name = f.required("name");
        if let (Some(p), Some(b)) = (&project, &building) {
            self.once(f, "building_id", format!("building {b} of project {p}"));
        }
        let command = ProjectCommand::RegisterBuilding {
            building: building?,
            name: name?.to_string(),
        };
        Some(Commands::Project(project?, vec![(0, command)]))
    }

    fn unit(&mut self, f: &mut Fields<'_>) -> Option<Commands> {
        let unit = f.id("unit_id", UnitId::new);
        let project = f.id("project_id", ProjectId::new);
        let building = f.id("building_id", BuildingId::new);
        let number = f.required("number");
        let delivered_on = f.value("delivered_on").map(|v| f.date("delivered_on", v));
        if let Some(u) = &unit {
            self.once(f, "unit_id", format!("unit {u}"));
        }
        let unit = unit?;
        let delivered_on = match delivered_on {
            Some(d) => Some(d?),
            None => None,
        };
        let mut commands = vec![(
            0,
            UnitCommand::Register {
                unit: unit.clone(),
                project: project?,
                building: building?,
                number: number?.to_string(),
            },
        )];
        if let Some(delivered_on) = delivered_on {
            commands.push((1, UnitCommand::RecordDelivery { delivered_on }));
        }
        Some(Commands::Unit(unit, commands))
    }

    fn owner(&mut self, f: &mut Fields<'_>) -> Option<Commands> {
        let id = f.id("owner_id", OwnerId::new);
        let family = f.required("family_name");
        let given = f.value("given_name").unwrap_or("");
        let name = match family {
            Some(family) => {
                let r = PersonName::new(family, given);
                let column = match &r {
                    Err(DomainError::InvalidInput {
                        field: "given name", ..
                    }) => "given_name",
                    _ => "family_name",
                };
                f.check(column, r.map_err(|e| e.to_string()))
            }
            None => None,
        };
        let phone = match f.required("phone") {
            Some(v) => f.check("phone", PhoneNumber::new(v).map_err(|e| e.to_string())),
            None => None,
        };
        let id_number = f
            .value("id_number")
            .map(|v| f.check("id_number", IdNumber::new(v).map_err(|e| e.to_string())));
        let link = self.link(f);
        let person = match (name, phone, id_number) {
            (Some(n), Some(p), None) => Some((n, p, None)),
            (Some(n), Some(p), Some(Some(i))) => Some((n, p, Some(i))),
            _ => None,
        };
        let id = id?;
        let here = Seen {
            row: f.row,
            line: f.line,
        };
        let mut commands = Vec::new();
        match self.owners.get(&id) {
            None => {
                if let Some((name, phone, id_number)) = &person {
                    commands.push((
                        0,
                        OwnerCommand::Register {
                            owner: id.clone(),
                            name: Personal::new(name.clone()),
                            phone: Personal::new(phone.clone()),
                            id_number: id_number.clone().map(Personal::new),
                        },
                    ));
                }
            }
            Some(first) => {
                if !first.ok {
                    f.error(
                        Some("owner_id"),
                        format!("the first row of owner {id}, {}, has errors", first.at),
                    );
                }
                if let (Some((n1, p1, i1)), Some((n2, p2, i2))) = (&first.person, &person) {
                    if n1 != n2 {
                        f.error(
                            Some("family_name"),
                            format!("owner {id} has another name in {} of this file", first.at),
                        );
                    }
                    if p1 != p2 {
                        f.error(
                            Some("phone"),
                            format!("owner {id} has another phone number in {} of this file", first.at),
                        );
                    }
                    if i2.is_some() && i1 != i2 {
                        f.error(
                            Some("id_number"),
                            format!("owner {id} has another ID number in {} of this file", first.at),
                        );
                    }
                }
                if matches!(link, Some(None)) {
                    f.error(
                        Some("owner_id"),
                        format!(
                            "owner {id} is already in {} of this file; a further row of an owner links them to \
                             another unit",
                            first.at
                        ),
                    );
                }
            }
        }
        if let Some(Some((unit, contract_signed_on, stage))) = link {
            self.once(f, "unit_id", format!("the link of owner {id} to unit {unit}"));
            commands.push((
                commands.len(),
                OwnerCommand::LinkUnit {
                    unit,
                    contract_signed_on,
                    stage,
                },
            ));
        }
        if !self.owners.contains_key(&id) {
            self.owners.insert(
                id.clone(),
                FirstOwnerRow {
                    at: here,
                    person,
                    ok: f.errors.is_empty(),
                },
            );
        }
        if f.errors.is_empty() {
            Some(Commands::Owner(id, commands))
        } else {
            None
        }
    }

    /// The unit link of an owner row: `Some(None)` for none, `None` when
    /// it has errors.
    fn link(&mut self, f: &mut Fields<'_>) -> Option<Option<(UnitId, NaiveDate, TouchpointStage)>> {
        let values = LINK_COLUMNS.map(|c| f.value(c));
        if values.iter().all(Option::is_none) {
            return Some(None);
        }
        let [unit, date, stage] = values;
        let mut ok = true;
        for (column, v) in LINK_COLUMNS.into_iter().zip(values) {
            if v.is_none() {
                f.error(
                    Some(column),
                    "it is empty; unit_id, contract_signed_on and stage are given together or not at all",
                );
                ok = false;
            }
        }
        let unit = unit.and_then(|v| f.check("unit_id", UnitId::new(v).map_err(|e| e.to_string())));
        let date = date.and_then(|v| f.date("contract_signed_on", v));
        let stage = stage.and_then(|v| f.check("stage", parse_stage(v)));
        match (unit, date, stage) {
            (Some(u), Some(d), Some(s)) if ok => Some(Some((u, d, s))),
            _ => None,
        }
    }
}

/// The Chinese name of a touchpoint stage (客户接触点).
fn stage_chinese(stage: TouchpointStage) -> &'static str {
    match stage {
        TouchpointStage::ProjectPreparation => "项目前期",
        TouchpointStage::SalesPreparation => "销售准备",
        TouchpointStage::Signing => "销售签约",
        TouchpointStage::WaitingForDelivery => "售后等待",
        TouchpointStage::Delivery => "房屋交付",
        TouchpointStage::WarrantyService => "保修服务",
        TouchpointStage::ResidenceRevisit => "居住回访",
    }
}

/// A stage as a letter (`F`), a stored name (`f_warranty_service`), the
/// name without its letter (`warranty_service`, any case) or in Chinese.
fn parse_stage(text: &str) -> Result<TouchpointStage, String> {
    let wanted = text.trim().to_lowercase();
    TouchpointStage::ALL
        .iter()
        .copied()
        .find(|s| {
            let stored = s.as_str();
            let (letter, rest) = stored.split_once('_').unwrap_or((stored, stored));
            wanted == stored || wanted == letter || wanted == rest || wanted == stage_chinese(*s)
        })
        .ok_or_else(|| {
            format!(
                "{text:?} is not a touchpoint stage: use a letter A to G, a stored name ({}) or the Chinese name",
                TouchpointStage::ALL
                    .iter()
                    .map(|s| s.as_str())
                    .collect::<Vec<_>>()
                    .join(", ")
            )
        })
}

/// Reads the whole file: the rows that parsed, and the errors of the
/// others.
fn parse(kind: ImportKind, text: &str, calendars: &CalendarRegistry) -> Result<(Vec<Row>, Vec<RowError>), ImportError> {
    let body = text.strip_prefix('\u{feff}').unwrap_or(text);
    let mut reader = csv::ReaderBuilder::new()
        .has_headers(true)
        .flexible(true)
        .trim(csv::Trim::All)
        .from_reader(body.as_bytes());
    let header = header(kind, reader.headers().map_err(|e| ImportError::Csv(e.to_string()))?)?;
    let mut parser = Parser::default();
    let mut rows = Vec::new();
    let mut errors = Vec::new();
    let mut record = csv::StringRecord::new();
    let mut row = 0;
    loop {
        match reader.read_record(&mut record) {
            Ok(true) => {}
            Ok(false) => break,
            Err(e) => return Err(ImportError::Csv(e.to_string())),
        }
        row += 1;
        if row > MAX_ROWS {
            return Err(ImportError::TooManyRows { limit: MAX_ROWS });
        }
        if record.iter().all(|v| v.trim().is_empty()) {
            continue;
        }
        let line = record.position().map(|p| p.line()).unwrap_or_default();
        let mut f = Fields {
            header: &header,
            record: &record,
            row,
            line,
            errors: Vec::new(),
        };
        if record.len() != header.width {
            f.error(
                None,
                format!(
                    "it has {} fields, the header has {}: check for a missing or an extra comma, or a value with a \
                     comma that is not in double quotes",
                    record.len(),
                    header.width
                ),
            );
            errors.append(&mut f.errors);
            continue;
        }
        let commands = match kind {
            ImportKind::Projects => parser.project(&mut f, calendars),
            ImportKind::Buildings => parser.building(&mut f),
            ImportKind::Units => parser.unit(&mut f),
            ImportKind::Owners => parser.owner(&mut f),
        };
        match commands {
            Some(commands) if f.errors.is_empty() => rows.push(Row { row, line, commands }),
            _ => {
                if f.errors.is_empty() {
                    f.error(None, "the row cannot be read");
                }
                errors.append(&mut f.errors);
            }
        }
    }
    Ok((rows, errors))
}

// ------------------------------------------------------------ dry run

/// The archive as the log folds it plus what the file's earlier rows
/// produce.
struct DryRun<'s> {
    service: &'s Service,
    ctx: Context<()>,
    projects: HashMap<ProjectId, ProjectState>,
    units: HashMap<UnitId, UnitState>,
    owners: HashMap<OwnerId, OwnerState>,
}

impl DryRun<'_> {
    fn load_project(&mut self, id: &ProjectId) -> Result<(), ImportError> {
        if !self.projects.contains_key(id) {
            let state = self.service.project(id).map_err(reading)?;
            self.projects.insert(id.clone(), state);
        }
        Ok(())
    }

    fn load_unit(&mut self, id: &UnitId) -> Result<(), ImportError> {
        if !self.units.contains_key(id) {
            let state = self.service.unit(id).map_err(reading)?;
            self.units.insert(id.clone(), state);
        }
        Ok(())
    }

    fn load_owner(&mut self, id: &OwnerId) -> Result<(), ImportError> {
        if !self.owners.contains_key(id) {
            let state = self.service.owner(id).map_err(reading)?;
            self.owners.insert(id.clone(), state);
        }
        Ok(())
    }

    /// The row without the commands an earlier run of the same file
    /// appended (none, when the record does not exist yet).
    fn without_applied(&mut self, kind: ImportKind, hash: u64, mut row: Row) -> Result<Row, ImportError> {
        let service = self.service;
        let key = |i: usize| row_key(kind, hash, row.row, i);
        match &mut row.commands {
            Commands::Project(id, commands) => {
                self.load_project(id)?;
                if self.projects.get(id).is_some_and(|s| s.0.is_some()) {
                    retain_unapplied(commands, |i| service.applied(&*id, &key(i)))?;
                }
            }
            Commands::Unit(id, commands) => {
                self.load_unit(id)?;
                if self.units.get(id).is_some_and(|s| s.0.is_some()) {
                    retain_unapplied(commands, |i| service.applied(&*id, &key(i)))?;
                }
            }
            Commands::Owner(id, commands) => {
                self.load_owner(id)?;
                if self.owners.get(id).is_some_and(|s| s.0.is_some()) {
                    retain_unapplied(commands, |i| service.applied(&*id, &key(i)))?;
                }
            }
        }
        Ok(row)
    }

    /// Decides a row's commands in order, evolving the state with what
    /// they produce; a refusal becomes a row error (and the row's later
    /// commands are not decided).
    fn decide(&mut self, row: &Row, errors: &mut Vec<RowError>) -> Result<(), ImportError> {
        let refused = |e: DomainError, column: Option<&str>| RowError {
            row: row.row,
            line: row.line,
            column: match &e {
                DomainError::InvalidInput { .. } => input_column(&e).or(column),
                DomainError::NotFound { .. }
                | DomainError::AlreadyExists { .. }
                | DomainError::InvalidTransition { .. } => column,
                // Not about a field: the role, the clock, reference data.
                _ => None,
            }
            .map(str::to_string),
            message: e.to_string(),
        };
        match &row.commands {
            Commands::Project(id, commands) => {
                self.load_project(id)?;
                for (_, command) in commands {
                    let column = match command {
                        ProjectCommand::Register { .. } => "project_id",
                        ProjectCommand::RegisterBuilding { .. } => "building_id",
                        // Not an import's command: chosen through the API.
                        ProjectCommand::ChooseReferenceData { .. } => "project_id",
                    };
                    let state = self.projects.entry(id.clone()).or_default();
                    let column = match (&command, &state.0) {
                        (ProjectCommand::RegisterBuilding { .. }, None) => "project_id",
                        _ => column,
                    };
                    match ProjectDecider::decide(state, command.clone(), &self.ctx) {
                        Ok(events) => *state = events.iter().fold(std::mem::take(state), ProjectDecider::evolve),
                        Err(e) => {
                            errors.push(refused(e, Some(column)));
                            break;
                        }
                    }
                }
            }
            Commands::Unit(id, commands) => {
                self.load_unit(id)?;
                for (_, command) in commands {
                    let project_id = match command {
                        UnitCommand::Register { project, .. } => Some(project.clone()),
                        _ => self.units.get(id).and_then(|s| s.0.as_ref()).map(|u| u.project.clone()),
                    };
                    if let Some(p) = &project_id {
                        self.load_project(p)?;
                    }
                    let project = project_id
                        .as_ref()
                        .and_then(|p| self.projects.get(p))
                        .and_then(|s| s.0.as_ref());
                    let column = match command {
                        UnitCommand::Register { building, .. } => {
                            if self.units.get(id).is_some_and(|s| s.0.is_some()) {
                                "unit_id"
                            } else if project.is_some_and(|p| !p.buildings.contains_key(building)) {
                                "building_id"
                            } else {
                                "project_id"
                            }
                        }
                        _ => "delivered_on",
                    };
                    let ctx = self.ctx.with_reference(project);
                    let state = self.units.entry(id.clone()).or_default();
                    match UnitDecider::decide(state, command.clone(), &ctx) {
                        Ok(events) => *state = events.iter().fold(std::mem::take(state), UnitDecider::evolve),
                        Err(e) => {
                            errors.push(refused(e, Some(column)));
                            break;
                        }
                    }
                }
            }
            Commands::Owner(id, commands) => {
                self.load_owner(id)?;
                for (_, command) in commands {
                    let unit_id = match command {
                        OwnerCommand::LinkUnit { unit, .. } | OwnerCommand::ChangeStage { unit, .. } => {
                            Some(unit.clone())
                        }
                        _ => None,
                    };
                    if let Some(u) = &unit_id {
                        self.load_unit(u)?;
                    }
                    let unit = unit_id
                        .as_ref()
                        .and_then(|u| self.units.get(u))
                        .and_then(|s| s.0.as_ref());
                    let state = self.owners.entry(id.clone()).or_default();
                    let column = match command {
                        OwnerCommand::LinkUnit { .. } if state.0.is_some() => "unit_id",
                        _ => "owner_id",
                    };
                    let ctx = self.ctx.with_reference(unit);
                    match OwnerDecider::decide(state, command.clone(), &ctx) {
                        Ok(events) => *state = events.iter().fold(std::mem::take(state), OwnerDecider::evolve),
                        Err(e) => {
                            errors.push(refused(e, Some(column)));
                            break;
                        }
                    }
                }
            }
        }
        Ok(())
    }
}

/// Keeps the commands whose key `applied` does not know.
fn retain_unapplied<C>(
    commands: &mut Vec<(usize, C)>,
    applied: impl Fn(usize) -> Result<bool, AppError>,
) -> Result<(), ImportError> {
    let mut kept = Vec::with_capacity(commands.len());
    for (i, c) in commands.drain(..) {
        if !applied(i).map_err(reading)? {
            kept.push((i, c));
        }
    }
    *commands = kept;
    Ok(())
}

/// The column a domain refusal of a field is about.
fn input_column(e: &DomainError) -> Option<&'static str> {
    let DomainError::InvalidInput { field, .. } = e else {
        return None;
    };
    Some(match *field {
        "project name" | "building name" => "name",
        "city" => "city",
        "calendar" => "calendar",
        "room number" => "number",
        "delivery date" => "delivered_on",
        "contract date" => "contract_signed_on",
        "family name" => "family_name",
        "given name" => "given_name",
        "phone number" => "phone",
        "ID number" => "id_number",
        _ => return None,
    })
}

#[cfg(test)]
mod tests {
    use super::*;
    use domain::actor::Role;
    use domain::ids::UserId;

    const PROJECTS: &str = "project_id,name,city,calendar\n\
                            HZ-01,滨江壹号,杭州,\n\
                            SH-02,浦江花园,上海,cn-mainland\n";

    /// A BOM, padded names, columns in another order.
    const BUILDINGS: &str = "\u{feff} building_id , project_id ,Name\n\
                             HZ-01-3,HZ-01,3栋\n\
                             HZ-01-5, HZ-01 ,5栋\n\
                             SH-02-1,SH-02,1号楼\n";

    const UNITS: &str = "unit_id,project_id,building_id,number,delivered_on\n\
                         HZ-01-3-1502,HZ-01,HZ-01-3,1502,2024-06-30\n\
                         HZ-01-3-1503,HZ-01,HZ-01-3,1503,\n\
                         SH-02-1-0801,SH-02,SH-02-1,0801,2023-12-01\n";

    const OWNERS: &str = "owner_id,family_name,given_name,phone,id_number,unit_id,contract_signed_on,stage\n\
                          O-1,王,小明,138 1234 5678,E12345678,HZ-01-3-1502,2023-05-01,F\n\
                          O-1,王,小明,13812345678,,SH-02-1-0801,2022-11-11,f_warranty_service\n\
                          O-2,李,,021-5555 6666,,HZ-01-3-1503,2024-01-15,销售签约\n\
                          O-3,Smith,John,+44 20 7946 0958,,,,\n";

    fn admin() -> Actor {
        Actor::staff(UserId::new("importer").unwrap_or_else(|e| panic!("{e}")), Role::Admin)
    }

    fn open() -> (tempfile::TempDir, Service) {
        let dir = tempfile::tempdir().unwrap_or_else(|e| panic!("{e}"));
        let service = Service::open(dir.path()).unwrap_or_else(|e| panic!("{}", e.message()));
        (dir, service)
    }

    async fn close(service: Service) {
        service
            .shutdown()
            .await
            .unwrap_or_else(|e| panic!("shutdown: {}", e.message()));
    }

    async fn ok(service: &Service, kind: ImportKind, text: &str) -> ImportReport {
        import(service, kind, text, admin())
            .await
            .unwrap_or_else(|e| panic!("importing {kind}: {e}"))
    }

    async fn row_errors(service: &Service, kind: ImportKind, text: &str) -> Vec<RowError> {
        match import(service, kind, text, admin()).await {
            Err(ImportError::Rows(errors)) => errors,
            other => panic!("expected row errors, got {other:?}"),
        }
    }

    fn id<T>(r: Result<T, DomainError>) -> T {
        r.unwrap_or_else(|e| panic!("{e}"))
    }

    fn date(y: i32, m: u32, d: u32) -> NaiveDate {
        NaiveDate::from_ymd_opt(y, m, d).unwrap_or_else(|| panic!("bad date"))
    }

    async fn archive(service: &Service) {
        ok(service, ImportKind::Projects, PROJECTS).await;
        ok(service, ImportKind::Buildings, BUILDINGS).await;
    }

    #[tokio::test]
    async fn a_whole_archive_round_trips() {
        let (_dir, service) = open();
        let projects = ok(&service, ImportKind::Projects, PROJECTS).await;
        assert_eq!(
            (
                projects.rows,
                projects.imported,
                projects.skipped,
                projects.events_appended
            ),
            (2, 2, 0, 2)
        );
        let buildings = ok(&service, ImportKind::Buildings, BUILDINGS).await;
        assert_eq!(
            (buildings.rows, buildings.imported, buildings.events_appended),
            (3, 3, 3)
        );
        let units = ok(&service, ImportKind::Units, UNITS).await;
        assert_eq!((units.rows, units.imported, units.events_appended), (3, 3, 5));
        let owners = ok(&service, ImportKind::Owners, OWNERS).await;
        assert_eq!((owners.rows, owners.imported, owners.events_appended), (4, 4, 6));
        let (Some(first), Some(last)) = (owners.first_position, owners.last_position) else {
            panic!("no positions in {owners:?}");
        };
        assert_eq!(last - first + 1, 6);
        assert_eq!(service.head(), Some(last));

        let project = service
            .project(&id(ProjectId::new("HZ-01")))
            .unwrap_or_else(|e| panic!("{}", e.message()));
        let project = project.0.unwrap_or_else(|| panic!("no project"));
        assert_eq!(project.calendar, DEFAULT_CALENDAR);
        assert_eq!(project.name, "滨江壹号");
        assert_eq!(project.buildings.len(), 2);

        let unit = |u: &str| {
            service
                .unit(&id(UnitId::new(u)))
                .unwrap_or_else(|e| panic!("{}", e.message()))
                .0
                .unwrap_or_else(|| panic!("no unit {u}"))
        };
        assert_eq!(unit("HZ-01-3-1502").delivered_on, Some(date(2024, 6, 30)));
        assert_eq!(unit("HZ-01-3-1503").delivered_on, None);
        assert_eq!(unit("SH-02-1-0801").number, "0801");

        let owner = |o: &str| {
            service
                .owner(&id(OwnerId::new(o)))
                .unwrap_or_else(|e| panic!("{}", e.message()))
                .0
                .unwrap_or_else(|| panic!("no owner {o}"))
        };
        let o1 = owner("O-1");
        assert_eq!(o1.units.len(), 2);
        assert_eq!(o1.phone.expose().map(|p| p.as_str()), Some("13812345678"));
        assert_eq!(
            o1.id_number.as_ref().map(|i| i.expose().map(|i| i.as_str())),
            Some(Some("E12345678"))
        );
        let hz = o1
            .units
            .get(&id(UnitId::new("HZ-01-3-1502")))
            .unwrap_or_else(|| panic!("no link"));
        assert_eq!(hz.stage, TouchpointStage::WarrantyService);
        assert_eq!(hz.delivered_on, Some(date(2024, 6, 30)));
        let o2 = owner("O-2");
        assert_eq!(o2.name.expose().map(|n| n.family()), Some("李"));
        assert_eq!(
            o2.units.values().map(|u| u.stage).collect::<Vec<_>>(),
            vec![TouchpointStage::Signing]
        );
        assert!(owner("O-3").units.is_empty());
        close(service).await;
    }

    #[tokio::test]
    async fn bad_rows_are_all_reported_and_nothing_is_appended() {
        let (_dir, service) = open();
        archive(&service).await;
        let head = service.head();
        let text = "unit_id,project_id,building_id,number,delivered_on\n\
                    U-1,HZ-01,HZ-01-3,101,2024-01-01\n\
                    U-2,HZ-01,HZ-01-9,102,2024-01-01\n\
                    U-3,HZ-01,HZ-01-3,103,2024-13-01\n\
                    U-4,HZ-01,HZ-01-3,104,\n\
                    U-5,HZ-01,HZ-01-3,105,2999-01-01\n\
                    U-6,HZ-01,HZ-01-5,106,2024-02-02\n";
        let errors = row_errors(&service, ImportKind::Units, text).await;
        let found: Vec<(usize, u64, Option<&str>)> =
            errors.iter().map(|e| (e.row, e.line, e.column.as_deref())).collect();
        assert_eq!(
            found,
            vec![
                (2, 3, Some("building_id")),
                (3, 4, Some("delivered_on")),
                (5, 6, Some("delivered_on")),
            ],
            "{errors:#?}"
        );
        assert!(errors[0].message.contains("HZ-01-9"), "{}", errors[0].message);
        assert!(errors[2].message.contains("future"), "{}", errors[2].message);
        let shown = ImportError::Rows(errors).to_string();
        assert!(shown.starts_with("3 rows of the file have errors"), "{shown}");
        assert_eq!(service.head(), head);
        assert_eq!(
            service
                .unit(&id(UnitId::new("U-1")))
                .unwrap_or_else(|e| panic!("{}", e.message()))
                .0,
            None
        );
        close(service).await;
    }

    #[tokio::test]
    async fn duplicates_within_a_file_are_row_errors() {
        let (_dir, service) = open();
        let text = "project_id,name,city\nP-1,一期,杭州\nP-2,二期,杭州\nP-1,一期重复,杭州\n";
        let errors = row_errors(&service, ImportKind::Projects, text).await;
        assert_eq!(errors.len(), 1, "{errors:#?}");
        assert_eq!((errors[0].row, errors[0].line), (3, 4));
        assert_eq!(errors[0].column.as_deref(), Some("project_id"));
        assert!(errors[0].message.contains("row 1 (line 2)"), "{}", errors[0].message);
        assert_eq!(service.head(), None);

        archive(&service).await;
        ok(&service, ImportKind::Units, UNITS).await;
        let head = service.head();
        let owners = "owner_id,family_name,phone,unit_id,contract_signed_on,stage\n\
                      O-1,王,13812345678,HZ-01-3-1502,2023-05-01,F\n\
                      O-1,张,13812345678,HZ-01-3-1503,2023-05-01,F\n\
                      O-2,李,13900000000,HZ-01-3-1502,2023-05-01,x\n\
                      O-2,李,13900000000,HZ-01-3-1502,2023-05-01,C\n\
                      O-2,李,13900000000,HZ-01-3-1502,2023-05-01,C\n";
        let errors = row_errors(&service, ImportKind::Owners, owners).await;
        let found: Vec<(usize, Option<&str>)> = errors.iter().map(|e| (e.row, e.column.as_deref())).collect();
        assert_eq!(
            found,
            vec![
                (2, Some("family_name")),
                (3, Some("stage")),
                (4, Some("owner_id")),
                (5, Some("owner_id")),
                (5, Some("unit_id")),
            ],
            "{errors:#?}"
        );
        assert_eq!(service.head(), head);

        // An id already in the log is the domain's refusal.
        let errors = row_errors(
            &service,
            ImportKind::Projects,
            "project_id,name,city\nHZ-01,又一期,杭州\n",
        )
        .await;
        assert_eq!(errors.len(), 1);
        assert!(errors[0].message.contains("already exists"), "{}", errors[0].message);
        close(service).await;
    }

    #[tokio::test]
    async fn header_problems_are_named() {
        let (_dir, service) = open();
        let header = |r: Result<ImportReport, ImportError>| match r {
            Err(ImportError::Header(m)) => m,
            other => panic!("expected a header error, got {other:?}"),
        };
        let m = header(
            import(
                &service,
                ImportKind::Projects,
                "project_id,name,city,colour\nP,n,c,red\n",
                admin(),
            )
            .await,
        );
        assert!(m.contains("unknown column \"colour\""), "{m}");
        let m = header(import(&service, ImportKind::Projects, "project_id,name\nP,n\n", admin()).await);
        assert!(m.contains("missing column \"city\""), "{m}");
        let m = header(
            import(
                &service,
                ImportKind::Owners,
                "owner_id,family_name,phone,unit_id\nO,王,13812345678,U\n",
                admin(),
            )
            .await,
        );
        assert!(m.contains("contract_signed_on, stage"), "{m}");
        let m = header(import(&service, ImportKind::Units, "", admin()).await);
        assert!(m.contains("empty"), "{m}");
        assert_eq!(service.head(), None);
        close(service).await;
    }

    #[tokio::test]
    async fn a_second_run_of_the_same_file_skips_everything() {
        let (_dir, service) = open();
        archive(&service).await;
        let first = ok(&service, ImportKind::Units, UNITS).await;
        assert_eq!(first.imported, 3);
        let head = service.head();
        let again = ok(&service, ImportKind::Units, UNITS).await;
        assert_eq!(
            again,
            ImportReport {
                rows: 3,
                imported: 0,
                skipped: 3,
                events_appended: 0,
                first_position: None,
                last_position: None,
            }
        );
        assert_eq!(service.head(), head);
        close(service).await;
    }

    #[tokio::test]
    async fn a_run_stopped_half_way_is_finished_by_running_the_file_again() {
        let (_dir, service) = open();
        archive(&service).await;
        let text = "unit_id,project_id,building_id,number,delivered_on\n\
                    U-1,HZ-01,HZ-01-3,101,2024-01-01\n\
                    U-2,HZ-01,HZ-01-3,102,2024-01-02\n\
                    U-3,HZ-01,HZ-01-3,103,2024-01-03\n\
                    U-4,HZ-01,HZ-01-5,104,\n";
        // What a run that died after row 1 and the first command of row 2
        // left in the log: the same commands under the same keys.
        let hash = domain::ids::stable_hash(text.as_bytes());
        let acting = |row: usize, i: usize| Acting {
            projects: Vec::new(),
            actor: admin(),
            channel: Channel::BackOffice,
            occurred_at: None,
            expected_version: None,
            idempotency_key: Some(row_key(ImportKind::Units, hash, row, i)),
            shared_key: true,
        };
        let register = |u: &str, n: &str| UnitCommand::Register {
            unit: id(UnitId::new(u)),
            project: id(ProjectId::new("HZ-01")),
            building: id(BuildingId::new("HZ-01-3")),
            number: n.into(),
        };
        let done = [
            ("U-1", 1, 0, register("U-1", "101")),
            (
                "U-1",
                1,
                1,
                UnitCommand::RecordDelivery {
                    delivered_on: date(2024, 1, 1),
                },
            ),
            ("U-2", 2, 0, register("U-2", "102")),
        ];
        for (unit, row, i, command) in done {
            service
                .unit_command(&id(UnitId::new(unit)), command, acting(row, i))
                .await
                .unwrap_or_else(|e| panic!("{}", e.message()));
        }
        let before = service.head().unwrap_or_else(|| panic!("empty log"));

        let report = ok(&service, ImportKind::Units, text).await;
        assert_eq!(
            (report.rows, report.imported, report.skipped, report.events_appended),
            (4, 3, 1, 4)
        );
        assert_eq!(report.first_position, Some(before + 1));
        assert_eq!(report.last_position, Some(before + 4));
        assert_eq!(service.head(), Some(before + 4));
        let delivered = |u: &str| {
            service
                .unit(&id(UnitId::new(u)))
                .unwrap_or_else(|e| panic!("{}", e.message()))
                .0
                .and_then(|u| u.delivered_on)
        };
        assert_eq!(delivered("U-1"), Some(date(2024, 1, 1)));
        assert_eq!(delivered("U-2"), Some(date(2024, 1, 2)));
        assert_eq!(delivered("U-3"), Some(date(2024, 1, 3)));
        assert_eq!(delivered("U-4"), None);

        let again = ok(&service, ImportKind::Units, text).await;
        assert_eq!((again.skipped, again.events_appended), (4, 0));
        assert_eq!(service.head(), Some(before + 4));
        close(service).await;
    }

    #[tokio::test]
    async fn files_over_the_limit_are_refused_before_anything() {
        let (_dir, service) = open();
        let mut text = String::from("project_id,name,city\n");
        for i in 0..=MAX_ROWS {
            text.push_str(&format!("P-{i},n,c\n"));
        }
        match import(&service, ImportKind::Projects, &text, admin()).await {
            Err(ImportError::TooManyRows { limit }) => assert_eq!(limit, MAX_ROWS),
            other => panic!("expected too many rows, got {other:?}"),
        }
        assert_eq!(service.head(), None);
        close(service).await;
    }

    #[tokio::test]
    async fn a_role_outside_the_archive_is_refused_on_every_row() {
        let (_dir, service) = open();
        let agent = Actor::staff(id(UserId::new("agent-1")), Role::Agent);
        match import(&service, ImportKind::Projects, PROJECTS, agent).await {
            Err(ImportError::Rows(errors)) => {
                assert_eq!(errors.len(), 2);
                assert!(errors[0].message.contains("may not"), "{}", errors[0].message);
                assert_eq!(errors[0].column, None);
            }
            other => panic!("expected row errors, got {other:?}"),
        }
        assert_eq!(service.head(), None);
        close(service).await;
    }

    #[test]
    fn kinds_and_stages_parse() {
        for kind in ImportKind::ALL {
            assert_eq!(kind.as_str().parse::<ImportKind>(), Ok(kind));
        }
        assert_eq!(" Units ".parse::<ImportKind>(), Ok(ImportKind::Units));
        let e = "tickets"
            .parse::<ImportKind>()
            .err()
            .map(|e| e.to_string())
            .unwrap_or_default();
        assert!(e.contains("projects, buildings, units, owners"), "{e}");
        for (text, stage) in [
            ("a", TouchpointStage::ProjectPreparation),
            ("G", TouchpointStage::ResidenceRevisit),
            ("d_waiting_for_delivery", TouchpointStage::WaitingForDelivery),
            ("DELIVERY", TouchpointStage::Delivery),
            ("房屋交付", TouchpointStage::Delivery),
        ] {
            assert_eq!(parse_stage(text), Ok(stage), "{text}");
        }
        assert!(parse_stage("H").is_err());
    }

    #[test]
    fn the_message_lists_fifty_errors_and_counts_the_rest() {
        let errors = (1..=60)
            .map(|row| RowError {
                row,
                line: row as u64 + 1,
                column: Some("phone".into()),
                message: "it is empty".into(),
            })
            .collect();
        let text = ImportError::Rows(errors).to_string();
        assert!(text.starts_with("60 rows of the file have errors"), "{text}");
        assert!(text.contains("row 50 (line 51), column phone: it is empty"), "{text}");
        assert!(!text.contains("row 51 (line 52)"), "{text}");
        assert!(text.ends_with("… and 10 more"), "{text}");
    }
}
