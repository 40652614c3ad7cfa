//! Publishing reference data: every rule a calendar, policy or warranty
//! file is checked against, each refused with its message; a published
//! version never edited; provisional clocks settled when the year they
//! ran into is published, definitive and stopped ones untouched.

use std::sync::Arc;

use chrono::{DateTime, Utc};
use domain::actor::Role;
use domain::calendar::{BusinessCalendar, CalendarRegistry, CN_MAINLAND_TOML};
use domain::decider::{Context, Decider, Stamped};
use domain::ids::ProjectId;
use domain::policy::{ClockKind, DEFAULT_POLICY_TOML};
use domain::reference::*;
use domain::sla::{evaluate, settlements, ClockStatus};
use domain::testing::fixtures::*;
use domain::testing::{calendar_with_2027, given};
use domain::ticket::{Channel, Priority, TicketCommand, TicketEvent, TicketKind};
use domain::warranty::DEFAULT_WARRANTY_TOML;
use domain::DomainError;

fn now() -> DateTime<Utc> {
    bj("2026-12-30 10:00")
}

fn exists(p: &ProjectId) -> bool {
    p.as_str() == "HZ-1"
}

fn ctx<'r>(
    calendar: &'r BusinessCalendar,
    role: Role,
    projects: &'r dyn Fn(&ProjectId) -> bool,
) -> Context<PublishReference<'r>> {
    Context {
        now: now(),
        occurred_at: None,
        actor: staff(role),
        channel: Channel::BackOffice,
        reference: PublishReference {
            project_exists: projects,
            calendar,
        },
    }
}

fn publish(kind: ReferenceKind, text: &str) -> ReferenceCommand {
    ReferenceCommand::Publish {
        kind,
        text: text.to_string(),
        source: "test.toml".into(),
    }
}

/// The bundled files, published as a new data folder does.
fn bundled() -> Vec<Stamped<ReferenceEvent>> {
    let cal = BusinessCalendar::cn_mainland();
    let mut state = ReferenceState::default();
    let mut events = Vec::new();
    for (kind, source, text) in BUNDLED {
        let command = ReferenceCommand::Publish {
            kind,
            text: text.to_string(),
            source: source.to_string(),
        };
        let new = ReferenceDecider::decide(&state, command, &ctx(&cal, Role::System, &exists))
            .unwrap_or_else(|e| panic!("{source}: {e}"));
        for e in &new {
            state = ReferenceDecider::evolve(state, e);
        }
        events.extend(new);
    }
    events
}

/// The problems a refused publication lists.
fn problems(history: Vec<Stamped<ReferenceEvent>>, kind: ReferenceKind, text: &str) -> Vec<String> {
    let cal = BusinessCalendar::cn_mainland();
    match given::<ReferenceDecider>(history)
        .when(publish(kind, text), &ctx(&cal, Role::Admin, &exists))
        .result()
    {
        Err(DomainError::RefusedReferenceData { problems, .. }) => problems,
        other => panic!("expected a refusal listing problems, got {other:?}"),
    }
}

fn assert_problem(found: &[String], fragment: &str) {
    assert!(
        found.iter().any(|p| p.contains(fragment)),
        "no problem mentions {fragment:?}: {found:#?}"
    );
}

#[test]
fn the_bundled_files_are_the_first_versions() {
    let events = bundled();
    let names: Vec<_> = events.iter().map(|e| e.event.name()).collect();
    assert_eq!(names, ["CalendarPublished", "PolicyPublished", "WarrantyPublished"]);
    let (_, calendar) = events[0].event.parts();
    assert_eq!(
        (calendar.id.as_str(), calendar.version.as_str()),
        ("cn-mainland", "2026.1")
    );
    assert_eq!(calendar.text, CN_MAINLAND_TOML);
    assert_eq!(calendar.sha256, sha256(CN_MAINLAND_TOML));
    assert_eq!(calendar.sha256.len(), 64);
}

#[test]
fn a_new_year_is_published_as_a_new_version() {
    let cal = BusinessCalendar::cn_mainland();
    let events = given::<ReferenceDecider>(bundled())
        .when(
            publish(ReferenceKind::Calendar, &calendar_with_2027("2027.1")),
            &ctx(&cal, Role::Admin, &exists),
        )
        .then_names(&["CalendarPublished"]);
    let (_, p) = events[events.len() - 1].event.parts();
    assert_eq!(p.version, "2027.1");
    let published = BusinessCalendar::from_toml(&p.text).unwrap();
    assert!(published.covers_year(2027));
    assert!(!published.is_working_day(date("2027-01-01")));
    assert!(published.is_working_day(date("2027-02-14")));
}

#[test]
fn only_the_archive_roles_publish() {
    let cal = BusinessCalendar::cn_mainland();
    for role in [Role::Agent, Role::Manager, Role::Analyst, Role::Auditor] {
        let refused = given::<ReferenceDecider>(bundled())
            .when(
                publish(ReferenceKind::Calendar, &calendar_with_2027("2027.1")),
                &ctx(&cal, role, &exists),
            )
            .result();
        assert!(
            matches!(refused, Err(DomainError::Forbidden { .. })),
            "{role}: {refused:?}"
        );
    }
}

#[test]
fn a_published_version_is_never_edited() {
    let cal = BusinessCalendar::cn_mainland();
    let mut history = bundled();
    history.extend(
        given::<ReferenceDecider>(bundled())
            .when(
                publish(ReferenceKind::Calendar, &calendar_with_2027("2027.1")),
                &ctx(&cal, Role::Admin, &exists),
            )
            .result()
            .unwrap(),
    );
    // The same version with other content.
    let edited = calendar_with_2027("2027.1").replace("2027-10-09", "2027-10-10");
    let found = problems(history.clone(), ReferenceKind::Calendar, &edited);
    assert_problem(&found, "already published");
    assert_problem(&found, "never edited");
    // The same file again: already there, nothing to do.
    let again = given::<ReferenceDecider>(history.clone())
        .when(
            publish(ReferenceKind::Calendar, &calendar_with_2027("2027.1")),
            &ctx(&cal, Role::Admin, &exists),
        )
        .result();
    assert!(matches!(again, Err(DomainError::AlreadyExists { .. })), "{again:?}");
    // An older version number.
    let found = problems(history, ReferenceKind::Calendar, &calendar_with_2027("2026.9"));
    assert_problem(&found, "does not come after the published 2027.1");
}

#[test]
fn every_calendar_rule_is_checked_and_every_problem_listed() {
    let base = calendar_with_2027("2027.1");
    let cases: Vec<(&str, String, &str)> = vec![
        (
            "does not parse",
            base.replace("to = \"2027-01-03\"", "to = 2027-01-03x"),
            "does not parse",
        ),
        (
            "an impossible date",
            base.replace("2027-02-13", "2027-02-30"),
            "does not parse",
        ),
        (
            "overlapping holidays",
            base.replace("from = \"2027-05-01\"", "from = \"2027-02-12\"")
                .replace("to = \"2027-05-05\"", "to = \"2027-02-13\""),
            "is in two holidays",
        ),
        (
            "an adjusted day on a weekday",
            base.replace("working_days = [\"2027-02-14\"]", "working_days = [\"2027-02-15\"]"),
            "already a working day",
        ),
        (
            "an adjusted day far from its holiday",
            base.replace("working_days = [\"2027-04-25\"]", "working_days = [\"2027-03-28\"]"),
            "must be within 14 days",
        ),
        (
            "a holiday outside the listed years",
            base.replace("years = [2024, 2025, 2026, 2027]", "years = [2024, 2025, 2026]"),
            "which `years` does not list",
        ),
        (
            "a listed year without a holiday",
            base.replace(
                "years = [2024, 2025, 2026, 2027]",
                "years = [2024, 2025, 2026, 2027, 2028]",
            ),
            "2028 is listed in `years` but has no holiday",
        ),
        (
            "a dropped year",
            base.replace("years = [2024, 2025, 2026, 2027]", "years = [2025, 2026, 2027]"),
            "2024 is missing",
        ),
        (
            "a changed day of a published year without a correction",
            base.replace(
                "working_days = [\"2026-09-20\", \"2026-10-10\"]",
                "working_days = [\"2026-10-10\"]",
            ),
            "2026-09-20 was an adjusted working day in version 2026.1 and is a rest day here",
        ),
        (
            "other working hours",
            base.replace(
                "working_hours = [\"09:00-12:00\", \"13:30-18:00\"]",
                "working_hours = [\"08:30-12:00\", \"13:30-18:00\"]",
            ),
            "the working hours change",
        ),
        (
            "another time zone",
            base.replace("time_zone = \"Asia/Shanghai\"", "time_zone = \"Asia/Urumqi\""),
            "the time zone changes",
        ),
    ];
    for (name, text, fragment) in cases {
        assert_ne!(text, base, "{name}: the case changed nothing");
        let found = problems(bundled(), ReferenceKind::Calendar, &text);
        assert_problem(&found, fragment);
    }
    // Several problems at once are all listed.
    let text = base
        .replace("working_days = [\"2027-02-14\"]", "working_days = [\"2027-02-15\"]")
        .replace("years = [2024, 2025, 2026, 2027]", "years = [2025, 2026, 2027]");
    let found = problems(bundled(), ReferenceKind::Calendar, &text);
    assert_problem(&found, "already a working day");
    assert_problem(&found, "2024 is missing");
}

#[test]
fn a_correction_with_its_reason_changes_a_published_day() {
    let cal = BusinessCalendar::cn_mainland();
    let corrected = format!(
        "{}\n[[corrections]]\ndate = \"2026-09-20\"\nreason = \"test: the notice was amended\"\n",
        calendar_with_2027("2027.1").replace(
            "working_days = [\"2026-09-20\", \"2026-10-10\"]",
            "working_days = [\"2026-10-10\"]"
        )
    );
    given::<ReferenceDecider>(bundled())
        .when(
            publish(ReferenceKind::Calendar, &corrected),
            &ctx(&cal, Role::Admin, &exists),
        )
        .then_names(&["CalendarPublished"]);
    // A correction that corrects nothing, or gives no reason, is refused.
    let idle = format!(
        "{}\n[[corrections]]\ndate = \"2026-03-02\"\nreason = \" \"\n",
        calendar_with_2027("2027.1")
    );
    let found = problems(bundled(), ReferenceKind::Calendar, &idle);
    assert_problem(&found, "changes nothing");
    assert_problem(&found, "gives no reason");
}

#[test]
fn every_policy_rule_is_checked() {
    let base = DEFAULT_POLICY_TOML.replace("version = \"2026.1\"", "version = \"2027.1\"");
    let cal = BusinessCalendar::cn_mainland();
    given::<ReferenceDecider>(bundled())
        .when(publish(ReferenceKind::Policy, &base), &ctx(&cal, Role::Admin, &exists))
        .then_names(&["PolicyPublished"]);
    let cases: Vec<(String, &str)> = vec![
        (
            base.replace("first_response = \"30m 24x7\"", "first_response = \"0m 24x7\""),
            "longer than zero",
        ),
        (
            base.replace("first_response = \"30m 24x7\"", "first_response = \"3d business\""),
            "targets run emergency ≤ urgent ≤ normal",
        ),
        (
            format!("{base}\n[[rules]]\nkind = \"repair\"\nproject = \"XX-9\"\nresolution = \"1d business\"\n"),
            "project XX-9 does not exist",
        ),
        (
            format!("{base}\n[[rules]]\nkind = \"repair\"\ncategory = \"gardening\"\nresolution = \"1d business\"\n"),
            "rule",
        ),
        (
            format!("{base}\n[[rules]]\nkind = \"repair\"\npriority = \"urgent\"\nresolution = \"1d business\"\n"),
            "repeats the conditions",
        ),
    ];
    for (text, fragment) in cases {
        assert_ne!(text, base);
        let found = problems(bundled(), ReferenceKind::Policy, &text);
        assert_problem(&found, fragment);
    }
    // A rule for a project that exists is fine.
    let project = format!("{base}\n[[rules]]\nkind = \"repair\"\nproject = \"HZ-1\"\npriority = \"normal\"\nresolution = \"5d business\"\n");
    given::<ReferenceDecider>(bundled())
        .when(
            publish(ReferenceKind::Policy, &project),
            &ctx(&cal, Role::Admin, &exists),
        )
        .then_names(&["PolicyPublished"]);
}

#[test]
fn every_warranty_rule_is_checked() {
    let base = DEFAULT_WARRANTY_TOML.replace("version = \"2026.1\"", "version = \"2027.1\"");
    let cal = BusinessCalendar::cn_mainland();
    given::<ReferenceDecider>(bundled())
        .when(
            publish(ReferenceKind::Warranty, &base),
            &ctx(&cal, Role::Admin, &exists),
        )
        .then_names(&["WarrantyPublished"]);
    let cases: Vec<(String, &str)> = vec![
        (
            base.replace("roof_waterproofing = \"5 years\"", "roof_waterproofing = \"3 years\""),
            "statutory minimum",
        ),
        (
            format!("{base}\n[projects.XX-9]\nroof_waterproofing = \"8 years\"\n"),
            "project XX-9 does not exist",
        ),
    ];
    for (text, fragment) in cases {
        let found = problems(bundled(), ReferenceKind::Warranty, &text);
        assert_problem(&found, fragment);
    }
}

/// A normal repair received on 30 December 2026 at 10:00: its clocks
/// (1, 2 and 7 business days) run into January 2027, which the bundled
/// calendar does not cover.
fn late_december_repair(refs: &Refs) -> Vec<Stamped<TicketEvent>> {
    let at = bj("2026-12-30 10:00");
    given::<domain::ticket::TicketDecider>(Vec::new())
        .when(
            receive(TicketKind::Repair, Priority::Normal),
            &context_at(refs, staff(Role::Agent), at),
        )
        .result()
        .unwrap()
}

#[test]
fn provisional_clocks_settle_when_their_year_is_published() {
    let refs = refs();
    let events = late_december_repair(&refs);
    let registry = CalendarRegistry::with_cn_mainland();
    let at = bj("2026-12-31 09:00");
    let before = evaluate(&events, &registry, at).unwrap();
    let resolution = before.resolution.clone().unwrap();
    assert!(resolution.provisional, "{resolution:?}");
    let new = Arc::new(BusinessCalendar::from_toml(&calendar_with_2027("2027.1")).unwrap());
    registry.insert(new.clone()).unwrap();
    let settled = settlements(&events, &registry, &new, at).unwrap();
    assert_eq!(settled.len(), 1, "{settled:?}");
    let TicketEvent::CalendarSettled {
        calendar,
        previous,
        clocks,
    } = &settled[0]
    else {
        panic!("{settled:?}")
    };
    assert_eq!(
        (calendar.version.as_str(), previous.version.as_str()),
        ("2027.1", "2026.1")
    );
    // 7 business days from Wed 30 Dec 10:00: on weekdays alone, Fri 8 Jan
    // 10:00; with New Year's Day off (Fri 1 Jan), Mon 11 Jan 10:00.
    let resolution = clocks.iter().find(|c| c.clock == ClockKind::Resolution).unwrap();
    assert_eq!(resolution.due_before, Some(bj("2027-01-08 10:00")));
    assert_eq!(resolution.due_after, Some(bj("2027-01-11 10:00")));
    // Replayed with the settlement, the clock counts on the new version;
    // replayed before it, as it was.
    let mut with = events.clone();
    with.push(Stamped {
        occurred_at: at,
        actor: staff(Role::System),
        channel: Channel::BackOffice,
        event: settled[0].clone(),
        text_seals: Vec::new(),
    });
    let after = evaluate(&with, &registry, at).unwrap();
    let r = after.resolution.unwrap();
    assert_eq!((r.due_at, r.provisional), (Some(bj("2027-01-11 10:00")), false));
    assert_eq!(r.calendar.version, "2027.1");
    let earlier = evaluate(&with, &registry, bj("2026-12-30 12:00")).unwrap();
    assert_eq!(earlier.resolution.unwrap().due_at, Some(bj("2027-01-08 10:00")));
}

#[test]
fn definitive_and_stopped_clocks_are_not_settled() {
    let refs = refs();
    let registry = CalendarRegistry::with_cn_mainland();
    let new = Arc::new(BusinessCalendar::from_toml(&calendar_with_2027("2027.1")).unwrap());
    registry.insert(new.clone()).unwrap();
    // Received in March 2026: every deadline in a covered year.
    let early = given::<domain::ticket::TicketDecider>(Vec::new())
        .when(
            receive(TicketKind::Repair, Priority::Normal),
            &context_at(&refs, staff(Role::Agent), bj("2026-03-16 10:00")),
        )
        .result()
        .unwrap();
    assert!(settlements(&early, &registry, &new, bj("2026-12-31 09:00"))
        .unwrap()
        .is_empty());
    // Received late in December and acknowledged at once: the first
    // response clock is met and keeps its deadline; the others settle.
    let mut events = late_december_repair(&refs);
    let ack = given::<domain::ticket::TicketDecider>(events.clone())
        .when(
            TicketCommand::Acknowledge {
                promised_at: None,
                note: "called back".into(),
            },
            &context_at(&refs, staff(Role::Agent), bj("2026-12-30 10:30")),
        )
        .result()
        .unwrap();
    events.extend(ack);
    let settled = settlements(&events, &registry, &new, bj("2026-12-31 09:00")).unwrap();
    let TicketEvent::CalendarSettled { clocks, .. } = &settled[0] else {
        panic!("{settled:?}")
    };
    assert!(clocks.iter().all(|c| c.clock != ClockKind::FirstResponse), "{clocks:?}");
    let report = evaluate(&events, &registry, bj("2026-12-31 09:00")).unwrap();
    assert_eq!(report.first_response.unwrap().status, ClockStatus::Met);
}

/// The 2027 calendar as `version` with a 2028 New Year's Day (Saturday 1
/// to Monday 3 January, made up for tests) added.
fn calendar_with_2028(version: &str) -> Arc<BusinessCalendar> {
    let text = calendar_with_2027(version).replace(
        "years = [2024, 2025, 2026, 2027]",
        "years = [2024, 2025, 2026, 2027, 2028]",
    ) + "\n[[holidays]]\nname = \"元旦 New Year's Day\"\nfrom = \"2028-01-01\"\nto = \"2028-01-03\"\n";
    Arc::new(BusinessCalendar::from_toml(&text).unwrap())
}

fn settled(events: &mut Vec<Stamped<TicketEvent>>, event: TicketEvent, at: DateTime<Utc>) {
    events.push(Stamped {
        occurred_at: at,
        actor: staff(Role::System),
        channel: Channel::BackOffice,
        event,
        text_seals: Vec::new(),
    });
}

#[test]
fn settlements_chain_from_version_to_version() {
    let refs = refs();
    let registry = CalendarRegistry::with_cn_mainland();
    let v2027 = Arc::new(BusinessCalendar::from_toml(&calendar_with_2027("2027.1")).unwrap());
    let v2028 = calendar_with_2028("2028.1");
    registry.insert(v2027.clone()).unwrap();
    registry.insert(v2028.clone()).unwrap();
    let mut events = late_december_repair(&refs);
    let first = settlements(&events, &registry, &v2027, bj("2026-12-31 09:00")).unwrap();
    assert_eq!(first.len(), 1);
    for e in first {
        settled(&mut events, e, bj("2026-12-31 09:00"));
    }
    // A later version of the same calendar settles from 2027.1, where the
    // first settlement put the clocks, and the clocks follow the chain.
    let chained = TicketEvent::CalendarSettled {
        calendar: v2028.reference(),
        previous: v2027.reference(),
        clocks: vec![domain::ticket::SettledClock {
            clock: ClockKind::Resolution,
            due_before: Some(bj("2027-01-11 10:00")),
            due_after: Some(bj("2027-01-11 10:00")),
        }],
    };
    settled(&mut events, chained, bj("2026-12-31 10:00"));
    let report = evaluate(&events, &registry, bj("2026-12-31 11:00")).unwrap();
    let resolution = report.resolution.unwrap();
    assert_eq!(resolution.calendar.version, "2028.1");
    assert_eq!(resolution.due_at, Some(bj("2027-01-11 10:00")));
    // The on-site clock, settled once, stays on 2027.1.
    assert_eq!(report.on_site.unwrap().calendar.version, "2027.1");
}

#[test]
fn a_paused_provisional_clock_is_settled_too() {
    let refs = refs();
    let mut events = late_december_repair(&refs);
    let hold = given::<domain::ticket::TicketDecider>(events.clone())
        .when(
            TicketCommand::PutOnHold {
                reason: domain::ticket::HoldReason::OwnerUnreachable,
                note: "no answer".into(),
            },
            &context_at(&refs, staff(Role::Agent), bj("2026-12-30 11:00")),
        )
        .result()
        .unwrap();
    events.extend(hold);
    let registry = CalendarRegistry::with_cn_mainland();
    let at = bj("2026-12-31 09:00");
    let before = evaluate(&events, &registry, at).unwrap();
    let resolution = before.resolution.unwrap();
    assert!(resolution.is_paused && resolution.provisional, "{resolution:?}");
    let new = Arc::new(BusinessCalendar::from_toml(&calendar_with_2027("2027.1")).unwrap());
    registry.insert(new.clone()).unwrap();
    let settled = settlements(&events, &registry, &new, at).unwrap();
    assert_eq!(settled.len(), 1, "{settled:?}");
}

#[test]
fn a_new_year_holiday_may_begin_in_the_year_before() {
    // As the 2023 notice had it: 31 December 2022 to 2 January 2023.
    let text = r#"
id = "test"
version = "2023.1"
time_zone = "Asia/Shanghai"
working_hours = ["09:00-12:00", "13:30-18:00"]
working_weekdays = ["Mon", "Tue", "Wed", "Thu", "Fri"]
years = [2023]

[[holidays]]
name = "元旦 New Year's Day"
from = "2022-12-31"
to = "2023-01-02"
"#;
    let calendar = domain::calendar::check_publication(text, None).unwrap_or_else(|p| panic!("{p:?}"));
    assert!(!calendar.is_working_day(date("2023-01-02")));
    // Reaching two years back is still refused.
    let far = text
        .replace("from = \"2022-12-31\"", "from = \"2021-12-30\"")
        .replace("to = \"2023-01-02\"", "to = \"2021-12-31\"");
    let problems = domain::calendar::check_publication(&far, None)
        .err()
        .unwrap_or_default();
    assert!(problems.iter().any(|p| p.contains("2021")), "{problems:?}");
}
