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
//!
//! The module's parts: `parse` reads the CSV file (header, fields, duplicate
//! ids), `rows` turns a row of each kind into commands, `dry_run` decides
//! them against the archive before anything is appended, and `append`
//! appends a row's commands through the [`Service`].

use std::collections::{HashMap, HashSet};
use std::fmt;
use std::str::FromStr;

use domain::actor::Actor;
use domain::decider::Context;
use domain::ticket::Channel;
use eventlog::Position;

use crate::error::AppError;
use crate::service::Service;

mod append;
mod dry_run;
mod parse;
mod rows;
#[cfg(test)]
mod tests;

use append::append;
use dry_run::DryRun;
use parse::{parse, Row};

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
        if report.imported.is_multiple_of(1000) {
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

/// The idempotency key of command `i` of data row `row` of a file.
fn row_key(kind: ImportKind, hash: u64, row: usize, i: usize) -> String {
    format!("import:{kind}:{hash:016x}:{row}:{i}")
}
