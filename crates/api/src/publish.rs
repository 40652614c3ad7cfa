//! Reference data for operators: what `aftersales calendar|policy|warranty
//! publish` and `list` print.

use domain::error::DomainError;
use domain::reference::ReferenceKind;

use crate::error::AppError;
use application::service::{PublishOutcome, Service};

/// An instant as staff read it (UTC+8, the calendar zone of every project).
fn local(at: &chrono::DateTime<chrono::Utc>) -> String {
    match chrono::FixedOffset::east_opt(8 * 3600) {
        Some(zone) => at.with_timezone(&zone).format("%Y-%m-%d %H:%M").to_string(),
        None => at.to_string(),
    }
}

/// What a publication did, or with `dry_run` would do, in lines.
pub fn describe(outcome: &PublishOutcome, source: &str, dry_run: bool) -> String {
    let mut out = String::new();
    let what = format!("{} {} {}", outcome.kind.label(), outcome.id, outcome.version);
    match (dry_run, outcome.position) {
        (false, Some(position)) => out.push_str(&format!(
            "published {what} from {source} (sha256 {}) at log position {position}\n",
            outcome.sha256
        )),
        _ => out.push_str(&format!(
            "dry run: {what} from {source} (sha256 {}) passes every check; nothing was appended\n",
            outcome.sha256
        )),
    }
    if !outcome.bundled_first.is_empty() {
        out.push_str(&format!(
            "{} first the files shipped with the build, as this data folder had none: {}\n",
            if dry_run { "would record" } else { "recorded" },
            outcome.bundled_first.join(", ")
        ));
    }
    if outcome.kind == ReferenceKind::Calendar {
        if outcome.settled.is_empty() {
            out.push_str("no open ticket has a provisional deadline this version changes\n");
        } else {
            out.push_str(&format!(
                "{} {} open tickets' provisional clocks on it (times UTC+8):\n",
                if dry_run { "would settle" } else { "settled" },
                outcome.settled.len()
            ));
            for ticket in &outcome.settled {
                for clock in &ticket.clocks {
                    let due =
                        |t: &Option<chrono::DateTime<chrono::Utc>>| t.as_ref().map_or("paused".to_string(), local);
                    out.push_str(&format!(
                        "  {} {}: due {} -> {}\n",
                        ticket.ticket,
                        clock.clock.as_str(),
                        due(&clock.due_before),
                        due(&clock.due_after)
                    ));
                }
            }
        }
    }
    out
}

/// A refusal as the operator should read it: every problem on a line.
pub fn refusal(e: &AppError) -> String {
    match e {
        AppError::Domain(DomainError::RefusedReferenceData { what, problems }) => {
            let mut out = format!("cannot publish {what}; nothing was appended. Fix the file:\n");
            for p in problems {
                out.push_str(&format!("  - {p}\n"));
            }
            out
        }
        AppError::Domain(DomainError::AlreadyExists { what }) => {
            format!("{what} is already published; nothing to do\n")
        }
        other => format!("{}\n", other.message()),
    }
}

/// Every published version of `kind`, oldest first, with who published
/// it, when, from what and its hash.
pub fn list(service: &Service, kind: ReferenceKind) -> String {
    let references = service.references();
    let mut out = String::new();
    for p in references.published.iter().filter(|p| p.kind == kind) {
        let mut line = format!(
            "{} {}  published {} (UTC+8) by {} ({})  from {}  sha256 {}",
            p.publication.id,
            p.publication.version,
            local(&p.at),
            p.actor.user,
            p.actor.role,
            p.publication.source,
            p.publication.sha256
        );
        if kind == ReferenceKind::Calendar {
            if let Ok(calendar) = domain::calendar::BusinessCalendar::from_toml(&p.publication.text) {
                let years: Vec<String> = calendar.spec().years.iter().map(i32::to_string).collect();
                line.push_str(&format!("  years {}", years.join(", ")));
            }
        }
        out.push_str(&line);
        out.push('\n');
    }
    if out.is_empty() {
        out.push_str(&format!(
            "no {} is recorded in this data folder yet (the bundled one applies; `serve` records it)\n",
            kind.label()
        ));
    }
    out
}

/// The text of a published version of `id` (the newest, or `version`), or
/// the bundled file if the data folder has recorded none of that name yet.
pub fn show(service: &Service, kind: ReferenceKind, id: &str, version: Option<&str>) -> Result<String, String> {
    let references = service.references();
    let versions: Vec<_> = references
        .published
        .iter()
        .filter(|p| p.kind == kind && p.publication.id == id)
        .collect();
    let found = match version {
        Some(v) => versions.iter().find(|p| p.publication.version == v),
        None => versions
            .iter()
            .max_by(|a, b| domain::calendar::compare_versions(&a.publication.version, &b.publication.version)),
    };
    if let Some(p) = found {
        return Ok(p.publication.text.clone());
    }
    if version.is_none() {
        for (k, _, text) in domain::reference::BUNDLED {
            if k == kind && domain::reference::declared(k, text).is_ok_and(|(i, _)| i == id) {
                return Ok(text.to_string());
            }
        }
    }
    Err(format!(
        "no {} {id}{} is published in this data folder (`aftersales {} list`)",
        kind.label(),
        version.map(|v| format!(" version {v}")).unwrap_or_default(),
        kind.as_str()
    ))
}
