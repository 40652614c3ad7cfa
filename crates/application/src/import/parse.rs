//! Reading a file: the CSV reader, the header row, a record's fields, and
//! the ids seen so far (duplicates within a file are row errors).

use std::collections::HashMap;
use std::fmt;

use chrono::NaiveDate;
use domain::archive::{OwnerCommand, ProjectCommand, UnitCommand};
use domain::calendar::CalendarRegistry;
use domain::error::DomainError;
use domain::ids::{OwnerId, ProjectId, UnitId};
use domain::personal::{IdNumber, PersonName, PhoneNumber};

use super::{ImportError, ImportKind, RowError, MAX_ROWS};

/// A row's commands, each with its index in the row (its key's `i`).
#[derive(Debug, Clone)]
pub(super) enum Commands {
    /// A project's (or its building's) commands.
    Project(ProjectId, Vec<(usize, ProjectCommand)>),
    /// A unit's commands.
    Unit(UnitId, Vec<(usize, UnitCommand)>),
    /// An owner's commands.
    Owner(OwnerId, Vec<(usize, OwnerCommand)>),
}

impl Commands {
    pub(super) fn is_empty(&self) -> bool {
        match self {
            Commands::Project(_, c) => c.is_empty(),
            Commands::Unit(_, c) => c.is_empty(),
            Commands::Owner(_, c) => c.is_empty(),
        }
    }
}

/// A row that parsed.
#[derive(Debug, Clone)]
pub(super) struct Row {
    pub(super) row: usize,
    pub(super) line: u64,
    pub(super) commands: Commands,
}

/// The header: which column each known name is in.
struct Header {
    index: HashMap<&'static str, usize>,
    width: usize,
}

pub(super) const LINK_COLUMNS: [&str; 3] = ["unit_id", "contract_signed_on", "stage"];

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
pub(super) struct Fields<'a> {
    header: &'a Header,
    record: &'a csv::StringRecord,
    pub(super) row: usize,
    pub(super) line: u64,
    pub(super) errors: Vec<RowError>,
}

impl<'a> Fields<'a> {
    pub(super) fn error(&mut self, column: Option<&str>, message: impl Into<String>) {
        self.errors.push(RowError {
            row: self.row,
            line: self.line,
            column: column.map(str::to_string),
            message: message.into(),
        });
    }

    /// The value of a column, `None` when the column is absent or empty.
    pub(super) fn value(&self, column: &str) -> Option<&'a str> {
        let record: &'a csv::StringRecord = self.record;
        self.header
            .index
            .get(column)
            .and_then(|&i| record.get(i))
            .map(str::trim)
            .filter(|s| !s.is_empty())
    }

    pub(super) fn required(&mut self, column: &str) -> Option<&'a str> {
        let v = self.value(column);
        if v.is_none() {
            self.error(Some(column), "it is empty");
        }
        v
    }

    pub(super) fn check<T>(&mut self, column: &str, r: Result<T, String>) -> Option<T> {
        match r {
            Ok(v) => Some(v),
            Err(m) => {
                self.error(Some(column), m);
                None
            }
        }
    }

    pub(super) fn id<T>(&mut self, column: &str, make: fn(String) -> Result<T, DomainError>) -> Option<T> {
        let v = self.required(column)?;
        self.check(column, make(v.to_string()).map_err(|e| e.to_string()))
    }

    pub(super) fn date(&mut self, column: &str, value: &str) -> Option<NaiveDate> {
        let r = NaiveDate::parse_from_str(value, "%Y-%m-%d")
            .map_err(|_| format!("{value:?} is not a date (YYYY-MM-DD expected)"));
        self.check(column, r)
    }
}

/// Where an id was first seen in the file.
#[derive(Debug, Clone, Copy)]
pub(super) struct Seen {
    pub(super) row: usize,
    pub(super) line: u64,
}

impl fmt::Display for Seen {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "row {} (line {})", self.row, self.line)
    }
}

/// The first row of an owner in the file.
pub(super) struct FirstOwnerRow {
    pub(super) at: Seen,
    /// Name, phone and ID number, when they parsed.
    pub(super) person: Option<(PersonName, PhoneNumber, Option<IdNumber>)>,
    /// Whether the row parsed without errors (and so registers the owner).
    pub(super) ok: bool,
}

/// What the rows read so far hold, to find duplicates.
#[derive(Default)]
pub(super) struct Parser {
    seen: HashMap<String, Seen>,
    pub(super) owners: HashMap<OwnerId, FirstOwnerRow>,
}

impl Parser {
    /// Records `what` at `f`'s row; an error naming the earlier row if it
    /// was there already.
    pub(super) fn once(&mut self, f: &mut Fields<'_>, column: &str, what: String) {
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
}

/// Reads the whole file: the rows that parsed, and the errors of the
/// others.
pub(super) fn parse(
    kind: ImportKind,
    text: &str,
    calendars: &CalendarRegistry,
) -> Result<(Vec<Row>, Vec<RowError>), ImportError> {
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
