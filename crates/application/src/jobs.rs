//! What the operator's commands do, apart from argument parsing: fill a
//! data folder with demo data, print a ticket's history, export reports,
//! watch views catch up or rebuild. `main.rs` only parses and prints.

use std::fmt::Write as _;
use std::path::Path;
use std::time::{Duration, Instant};

use chrono::{DateTime, NaiveDate, Utc};
use chrono_tz::Asia::Shanghai;
use domain::ids::{ProjectId, TicketId};
use eventlog::EventStore;
use projections::runner::{ViewHandle, ViewStatus};
use projections::timeline::{self, TimelineEntry};
use simulator::{GeneratedSummary, GeneratorConfig};

use crate::error::AppError;
use crate::periods::{parse_month, parse_week};
use crate::service::Service;

/// The demo dataset: four projects, 6,000 units and 15,000 tickets over the
/// year before `today`, so that the newest tickets are still open and
/// their clocks running.
pub fn demo_config(today: NaiveDate) -> GeneratorConfig {
    GeneratorConfig {
        seed: 1,
        projects: 4,
        units: 6_000,
        tickets: 15_000,
        start: today - chrono::TimeDelta::days(365),
        days: 365,
        contractors: 12,
        engineers: 16,
    }
}

/// Today in Asia/Shanghai by the machine's clock: where the demo's year
/// ends unless told otherwise. Tests state their date instead
/// (`domain::testing::test_today`).
pub fn today() -> NaiveDate {
    Utc::now().with_timezone(&Shanghai).date_naive()
}

/// Fills an empty log with the demo dataset. Refuses a log that already
/// holds events, so that demo data never mixes with real records.
pub async fn fill_demo(
    store: &dyn EventStore,
    keyring: &std::sync::Arc<keyring::Keyring>,
    config: &GeneratorConfig,
) -> Result<GeneratedSummary, AppError> {
    if let Some(head) = store.head() {
        return Err(AppError::BadInput(format!(
            "the log already holds {} events; demo data goes only into an empty data folder",
            head + 1
        )));
    }
    simulator::write_log_with(store, config, Some(keyring.clone()))
        .await
        .map_err(AppError::internal)
}

/// A ticket's audit history as a terminal table, times in Asia/Shanghai;
/// back-entered events (entered more than five minutes after they
/// happened) are marked with their entry time. `None`: no such ticket.
pub fn history_text(store: &dyn EventStore, id: &TicketId) -> Result<Option<String>, AppError> {
    let (entries, unreadable) = timeline::history_marked(store, id).map_err(AppError::internal)?;
    if entries.is_empty() && unreadable.is_empty() {
        return Ok(None);
    }
    let mut text = render_history(id, &entries);
    for u in &unreadable {
        let _ = writeln!(
            text,
            "{:>9}  {:>3}  unreadable {} event, set aside: {}",
            u.position, u.stream_version, u.event_type, u.reason
        );
    }
    Ok(Some(text))
}

fn local(t: DateTime<Utc>) -> String {
    t.with_timezone(&Shanghai).format("%Y-%m-%d %H:%M").to_string()
}

fn render_history(id: &TicketId, entries: &[TimelineEntry]) -> String {
    let mut out = String::new();
    let _ = writeln!(out, "ticket {id}: {} events (times Asia/Shanghai)", entries.len());
    let _ = writeln!(
        out,
        "{:>9}  {:>3}  {:<16}  {:<22}  {:<15}  summary",
        "position", "v", "occurred", "who", "channel"
    );
    for e in entries {
        let who = match &e.actor.contractor {
            Some(c) => format!("{} {}@{c}", e.actor.role, e.actor.user),
            None => format!("{} {}", e.actor.role, e.actor.user),
        };
        let late = e.recorded_at - e.occurred_at > chrono::TimeDelta::minutes(5);
        let _ = write!(
            out,
            "{:>9}  {:>3}  {:<16}  {:<22}  {:<15}  {}",
            e.position,
            e.stream_version,
            local(e.occurred_at),
            who,
            e.channel.as_str(),
            e.summary
        );
        if late {
            let _ = write!(out, "  [entered {}]", local(e.recorded_at));
        }
        out.push('\n');
    }
    out
}

/// Which report `export` writes.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Report {
    /// The monthly customer-service report; period `YYYY-MM`.
    Monthly,
    /// The weekly repair report; period `YYYY-Www`.
    Weekly,
}

/// A report as CSV.
pub fn export(service: &Service, report: Report, project: &str, period: &str) -> Result<String, AppError> {
    let project = ProjectId::new(project)?;
    match report {
        Report::Monthly => {
            let (y, m) = parse_month(period)?;
            Ok(service.monthly_report(&project, y, m)?.to_csv())
        }
        Report::Weekly => {
            let (y, w) = parse_week(period)?;
            Ok(service.weekly_report(&project, y, w, service.now())?.to_csv())
        }
    }
}

/// One line of progress over every view: events applied of the head, or
/// the rebuild's rate and time left.
pub fn progress_line(views: &[ViewHandle], head: Option<u64>) -> String {
    let total = head.map_or(0, |h| h + 1);
    let mut parts = Vec::new();
    for v in views {
        let part = match v.status() {
            ViewStatus::Rebuilding(p) => {
                let left = p
                    .estimated_left
                    .map_or_else(|| "?".to_string(), |d| format!("{}s", d.as_secs()));
                format!(
                    "{} rebuilding {}/{} ({:.0} ev/s, ~{left} left)",
                    v.name(),
                    p.events_done,
                    p.head.map_or(0, |h| h + 1),
                    p.events_per_second
                )
            }
            ViewStatus::Failed { position, reason } => format!("{} FAILED at {position}: {reason}", v.name()),
            _ => format!("{} {}/{total}", v.name(), v.applied().map_or(0, |a| a + 1)),
        };
        parts.push(part);
    }
    parts.join(" · ")
}

/// A text progress bar: `[#####.....]  50%`.
pub fn bar(done: u64, total: u64) -> String {
    let share = if total == 0 {
        1.0
    } else {
        done.min(total) as f64 / total as f64
    };
    let filled = (share * 30.0).round() as usize;
    format!(
        "[{}{}] {:>3.0}%",
        "#".repeat(filled),
        ".".repeat(30 - filled),
        share * 100.0
    )
}

/// Waits until every view has caught up with the log, woken by each view's
/// progress, calling `report` at most about once a second with the
/// progress line and bar. Returns how long it took.
pub async fn wait_ready(service: &Service, mut report: impl FnMut(&str)) -> Result<Duration, AppError> {
    let started = Instant::now();
    let mut last_report: Option<Instant> = None;
    loop {
        // Watched before looking, so that no change between the look and
        // the wait goes unnoticed.
        let mut changes: Vec<_> = service.views().iter().map(|v| v.changes()).collect();
        let head = service.head();
        if let Some(ended) = service.views().iter().find_map(|v| match v.status() {
            ViewStatus::Failed { position, reason } => {
                Some(format!("view {} failed at {position}: {reason}", v.name()))
            }
            ViewStatus::Stopped => Some(format!("view {} stopped before it caught up", v.name())),
            _ => None,
        }) {
            return Err(AppError::internal(ended));
        }
        if service.ready() {
            return Ok(started.elapsed());
        }
        if last_report.is_none_or(|at| at.elapsed() >= Duration::from_secs(1)) {
            let total = head.map_or(0, |h| h + 1);
            let slowest = service
                .views()
                .iter()
                .map(|v| match v.status() {
                    ViewStatus::Rebuilding(p) => p.events_done,
                    _ => v.applied().map_or(0, |a| a + 1),
                })
                .min()
                .unwrap_or(0);
            report(&format!(
                "{} {}",
                bar(slowest, total),
                progress_line(service.views(), head)
            ));
            last_report = Some(Instant::now());
        }
        // The next change of any view; the head may also have moved
        // without one (a new event not applied yet), so look again within
        // a second at most.
        let any = futures_util::future::select_all(changes.iter_mut().map(|c| Box::pin(c.changed())));
        let ended = match tokio::time::timeout(Duration::from_secs(1), any).await {
            Ok((false, index, _)) => Some(index),
            _ => None,
        };
        if let Some(index) = ended {
            let name = service.views().get(index).map_or("?", |v| v.name());
            return Err(AppError::internal(format!(
                "the runner of view {name} ended before it caught up"
            )));
        }
    }
}

/// Whether `aftersales log append` may append `event` to `stream`: a
/// stream no view reads takes anything; a domain stream (`ticket-…`,
/// `project-…`, `unit-…`, `owner-…`, `incident-…`, `contractor-…`,
/// `engineer-…`) only a payload that decodes as the named event type.
/// `Err` is the one-line refusal.
pub fn check_append(stream: &eventlog::StreamId, event: &eventlog::NewEvent) -> Result<(), String> {
    match eventformat::wire::decode_new(stream, event) {
        Ok(_) | Err(eventformat::wire::WireError::UnknownStream(_)) => Ok(()),
        Err(e) => Err(format!(
            "refused: stream {stream} is read by the views and the payload is not a readable {} event ({e}); nothing was appended",
            event.event_type
        )),
    }
}

/// One event of a domain stream that does not decode, as `verify` names
/// it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct UnreadableEvent {
    /// Its position.
    pub position: u64,
    /// Its stream.
    pub stream: String,
    /// The log's type name for it.
    pub event_type: String,
    /// Why it does not decode.
    pub reason: String,
}

impl std::fmt::Display for UnreadableEvent {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(
            f,
            "position {} in stream {} ({}) cannot be read: {}",
            self.position, self.stream, self.event_type, self.reason
        )
    }
}

/// Decodes the payload of every event of the domain's streams and lists
/// those that do not decode (streams no view reads are skipped).
pub fn unreadable_events(store: &dyn EventStore) -> Result<Vec<UnreadableEvent>, AppError> {
    let mut out = Vec::new();
    for recorded in store.read_all(0) {
        let recorded = recorded.map_err(AppError::internal)?;
        match eventformat::wire::decode(&recorded) {
            Ok(_) | Err(eventformat::wire::WireError::UnknownStream(_)) => {}
            Err(e) => out.push(UnreadableEvent {
                position: recorded.position,
                stream: recorded.stream().to_string(),
                event_type: recorded.event_type().to_string(),
                reason: e.to_string(),
            }),
        }
    }
    Ok(out)
}

/// What `/readyz` answers: whether the service is ready, and the body:
/// `ready`, or `catching up`, followed by ` (degraded: …)` naming each
/// position some view set aside as unreadable and which views did, e.g.
/// `ready (degraded: views tickets, sla set aside the unreadable Accepted event at position 12)`.
pub fn readiness(service: &Service) -> (bool, String) {
    let ready = service.ready();
    let mut by_position: std::collections::BTreeMap<u64, (String, Vec<&'static str>)> = Default::default();
    let mut unknown = Vec::new();
    for view in service.views() {
        match view.dead_letters() {
            Ok(letters) => {
                for l in letters {
                    by_position
                        .entry(l.position)
                        .or_insert_with(|| (l.event_type.clone(), Vec::new()))
                        .1
                        .push(view.name());
                }
            }
            Err(_) => unknown.push(view.name()),
        }
    }
    let mut parts: Vec<String> = by_position
        .iter()
        .map(|(position, (event_type, views))| {
            format!(
                "{} {} set aside the unreadable {event_type} event at position {position}",
                if views.len() == 1 { "view" } else { "views" },
                views.join(", ")
            )
        })
        .collect();
    if !unknown.is_empty() {
        parts.push(format!("the dead letters of {} cannot be read", unknown.join(", ")));
    }
    for aside in service.set_aside_snapshots() {
        parts.push(format!(
            "the view snapshot {} was damaged {}; it was set aside as {} and its view built again from the log",
            aside.file.display(),
            aside.damage,
            aside.moved_to.display()
        ));
    }
    let mut body = if ready { "ready" } else { "catching up" }.to_string();
    if !parts.is_empty() {
        let _ = write!(body, " (degraded: {})", parts.join("; "));
    }
    (ready, body)
}

/// Opens a data folder's log read-only-in-spirit for a one-shot command.
pub fn open_log(data: &Path) -> Result<std::sync::Arc<eventlog::SledEventStore>, AppError> {
    eventlog::SledEventStore::open(data.join("log"), eventlog::SledOptions::default())
        .map(std::sync::Arc::new)
        .map_err(|e| AppError::internal(format!("opening the event log in {}: {e}", data.join("log").display())))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_bar_fills_with_progress() {
        assert_eq!(bar(0, 10), format!("[{}]   0%", ".".repeat(30)));
        assert_eq!(bar(5, 10), format!("[{}{}]  50%", "#".repeat(15), ".".repeat(15)));
        assert_eq!(bar(12, 10), format!("[{}] 100%", "#".repeat(30)));
        assert_eq!(bar(0, 0), format!("[{}] 100%", "#".repeat(30)));
    }

    /// A view snapshot damaged between two runs: the service opens, the
    /// view is built again, and readiness names the file and the byte.
    #[tokio::test]
    async fn a_damaged_view_snapshot_is_named_in_readiness() {
        let dir = tempfile::tempdir().unwrap_or_else(|e| panic!("{e}"));
        {
            let service = Service::open(dir.path()).unwrap_or_else(|e| panic!("{e}"));
            wait_ready(&service, |_| {}).await.unwrap_or_else(|e| panic!("{e}"));
            let (_, body) = readiness(&service);
            assert!(!body.contains("degraded"), "{body}");
            service.shutdown().await.unwrap_or_else(|e| panic!("{e}"));
        }
        let folder = dir.path().join(crate::service::VIEW_FOLDER);
        let file = std::fs::read_dir(&folder)
            .unwrap_or_else(|e| panic!("{e}"))
            .filter_map(|e| e.ok().map(|e| e.path()))
            .find(|p| {
                let name = p.file_name().and_then(|n| n.to_str()).unwrap_or_default();
                name.starts_with("tickets.") && name.ends_with(".view")
            })
            .unwrap_or_else(|| panic!("no snapshot of the tickets view in {}", folder.display()));
        let mut bytes = std::fs::read(&file).unwrap_or_else(|e| panic!("{e}"));
        let middle = bytes.len() / 2;
        bytes[middle] ^= 0x20;
        std::fs::write(&file, &bytes).unwrap_or_else(|e| panic!("{e}"));

        let service = Service::open(dir.path()).unwrap_or_else(|e| panic!("{e}"));
        wait_ready(&service, |_| {}).await.unwrap_or_else(|e| panic!("{e}"));
        let (ready, body) = readiness(&service);
        assert!(ready, "{body}");
        assert!(body.contains("degraded"), "{body}");
        assert!(body.contains(&file.display().to_string()), "{body}");
        assert!(body.contains("at byte"), "{body}");
        let rebuilt = std::fs::read_dir(&folder)
            .unwrap_or_else(|e| panic!("{e}"))
            .filter_map(|e| e.ok()?.file_name().into_string().ok())
            .any(|n| n.starts_with("tickets.") && n.ends_with(".view"));
        assert!(rebuilt, "the view was built again and its snapshot written");
        service.shutdown().await.unwrap_or_else(|e| panic!("{e}"));
    }

    #[test]
    fn the_demo_ends_today_and_fits_the_calendar() {
        let today = NaiveDate::from_ymd_opt(2026, 11, 24).unwrap_or_default();
        let c = demo_config(today);
        assert_eq!(c.start + chrono::TimeDelta::days(i64::from(c.days)), today);
        assert!(simulator::Generator::new(c).is_ok());
    }
}
