//! The log generator: reproducible from its seed, valid for the domain
//! (every history folds, every stored event decodes), counted exactly, and
//! close to the shares its documentation states.
#![allow(clippy::unwrap_used, clippy::expect_used)]

use std::collections::{BTreeMap, BTreeSet};
use std::sync::LazyLock;

use chrono::{DateTime, TimeDelta, Utc};
use domain::decider::{Decider, Stamped};
use domain::ticket::{Priority, Status, TicketDecider, TicketEvent, TicketKind, Trade};
use eventformat::wire::{self, DomainEvent};
use eventlog::{EventStore, SledEventStore, SledOptions};
use simulator::{write_log, GeneratedRecord, GeneratedSummary, Generator, GeneratorConfig};

/// [`GeneratorConfig::small`] over the year that ends the day before
/// [`domain::testing::test_today`], as the demo's year ends the day before
/// today: the date sweep moves it through the calendar.
fn small() -> GeneratorConfig {
    let config = GeneratorConfig::small();
    GeneratorConfig {
        start: domain::testing::test_today() - TimeDelta::days(i64::from(config.days)),
        ..config
    }
}

fn generate(config: GeneratorConfig) -> (Vec<GeneratedRecord>, GeneratedSummary, DateTime<Utc>) {
    let mut generator = Generator::new(config).unwrap();
    let records = generator.by_ref().collect::<Result<Vec<_>, _>>().unwrap();
    (records, generator.summary(), generator.end())
}

fn is_ticket(record: &GeneratedRecord) -> bool {
    record.stream.as_str().starts_with("ticket-")
}

fn ticket_history(record: &GeneratedRecord) -> Vec<Stamped<TicketEvent>> {
    record
        .events
        .iter()
        .map(|e| eventlog::codec::decode(&e.event_type, e.schema_version, &e.payload).unwrap())
        .collect()
}

#[test]
fn the_same_seed_gives_the_same_records_and_another_seed_other_ones() {
    let (first, summary, _) = generate(small());
    let (again, _, _) = generate(small());
    assert!(summary.tickets.total() > 250, "{summary:?}");
    assert_eq!(first, again);

    // Event ids are unique within a log: a re-run is idempotent, a mistake
    // would be an id reused for another event.
    let ids: BTreeSet<_> = first.iter().flat_map(|r| r.events.iter().map(|e| e.id)).collect();
    assert_eq!(ids.len() as u64, summary.events);

    let (other, _, _) = generate(GeneratorConfig { seed: 2, ..small() });
    assert_ne!(first, other);
    // Not only the ids: the tickets themselves differ.
    let payloads = |records: &[GeneratedRecord]| -> Vec<Vec<u8>> {
        records
            .iter()
            .filter(|r| is_ticket(r))
            .flat_map(|r| r.events.iter().map(|e| e.payload.clone()))
            .collect()
    };
    assert_ne!(payloads(&first), payloads(&other));
}

#[test]
fn a_configuration_without_projects_is_refused() {
    let refused = Generator::new(GeneratorConfig { projects: 0, ..small() });
    assert!(refused.is_err());
    let refused = Generator::new(GeneratorConfig { units: 1, ..small() });
    assert!(refused.is_err());
}

#[tokio::test]
async fn a_small_log_is_written_counted_decoded_and_written_again_idempotently() {
    let dir = tempfile::tempdir().unwrap();
    let store = SledEventStore::open(dir.path().join("log"), SledOptions::default()).unwrap();
    let config = small();

    fn assert_send<T: Send>(_: &T) {}
    let writing = write_log(&store, &config);
    assert_send(&writing);
    let summary = writing.await.unwrap();

    let (_, generated, end) = generate(config.clone());
    assert_eq!(summary, generated, "what was written is what was generated");
    assert_eq!(summary.deduplicated, 0);
    assert_eq!(summary.projects, 2);
    assert_eq!(summary.units, 200);
    assert!(summary.owners > 180 && summary.owners <= 200, "{summary:?}");
    assert_eq!(summary.tickets.total(), 300);

    let mut events = 0u64;
    let mut streams = BTreeSet::new();
    let mut kinds = BTreeMap::new();
    let mut prefixes = BTreeMap::new();
    let mut archive_done = false;
    let mut archive_after_tickets = 0;
    for recorded in store.read_all(0) {
        let recorded = recorded.unwrap();
        events += 1;
        streams.insert(recorded.stream().to_string());
        assert!(recorded.occurred_at().is_some_and(|t| t < end), "{recorded:?}");
        let event = wire::decode(&recorded).unwrap_or_else(|e| panic!("{recorded:?} does not decode: {e}"));
        let prefix = recorded.stream().split('-').next().unwrap().to_string();
        *prefixes.entry(prefix.clone()).or_insert(0u64) += 1;
        match &event {
            DomainEvent::Ticket(_, e) => {
                archive_done = true;
                if let TicketEvent::Received { kind, .. } = &e.event {
                    *kinds.entry(*kind).or_insert(0u64) += 1;
                }
            }
            DomainEvent::Project(..) | DomainEvent::Unit(..) | DomainEvent::Owner(..) if archive_done => {
                archive_after_tickets += 1;
            }
            _ => {}
        }
    }
    assert_eq!(events, summary.events);
    assert_eq!(streams.len() as u64, summary.records);
    for kind in TicketKind::ALL {
        assert_eq!(
            kinds.get(kind).copied().unwrap_or(0),
            summary.tickets.of(*kind),
            "{kind}"
        );
    }
    assert_eq!(
        archive_after_tickets, 0,
        "the archive is complete before the first ticket"
    );
    assert_eq!(
        streams.iter().filter(|s| s.starts_with("incident-")).count() as u64,
        summary.incidents
    );
    assert!(summary.incidents >= 1, "{summary:?}");

    // The same configuration again: every append is recognised, nothing is
    // written.
    let head = store.head();
    let again = write_log(&store, &config).await.unwrap();
    assert_eq!(again.deduplicated, again.records);
    assert_eq!(again.records, summary.records);
    assert_eq!(store.head(), head);
}

/// A mid-size run, generated once for the tests that read it: each ticket's
/// kind, priority and folded history.
struct MidSize {
    tickets: Vec<Ticket>,
    summary: GeneratedSummary,
    end: DateTime<Utc>,
}

struct Ticket {
    kind: TicketKind,
    priority: Priority,
    received_at: DateTime<Utc>,
    events: Vec<Stamped<TicketEvent>>,
}

impl Ticket {
    fn has(&self, name: &str) -> bool {
        self.events.iter().any(|e| e.event.name() == name)
    }
}

static MID_SIZE: LazyLock<MidSize> = LazyLock::new(|| {
    // Three years, ending the day before the tests' "today".
    let days = GeneratorConfig::default().days;
    let (records, summary, end) = generate(GeneratorConfig {
        seed: 7,
        projects: 6,
        units: 3000,
        tickets: 2000,
        start: domain::testing::test_today() - TimeDelta::days(i64::from(days)),
        days,
        ..GeneratorConfig::default()
    });
    let tickets = records
        .iter()
        .filter(|r| is_ticket(r))
        .map(|r| {
            let events = ticket_history(r);
            let TicketEvent::Received { kind, priority, .. } = &events[0].event else {
                panic!("{} does not start with Received", r.stream);
            };
            Ticket {
                kind: *kind,
                priority: *priority,
                received_at: events[0].occurred_at,
                events,
            }
        })
        .collect();
    MidSize { tickets, summary, end }
});

fn share(part: usize, whole: usize) -> f64 {
    part as f64 / whole.max(1) as f64
}

#[test]
fn the_mix_of_a_mid_size_run_is_close_to_the_stated_shares() {
    let run = &*MID_SIZE;
    let n = run.tickets.len();
    assert_eq!(n, 2000);
    assert_eq!(run.summary.tickets.total(), 2000);
    let of_kind = |k: TicketKind| run.tickets.iter().filter(|t| t.kind == k).count();
    let within = |what: &str, value: f64, lo: f64, hi: f64| {
        assert!(value >= lo && value <= hi, "{what}: {value:.3} is outside {lo}..{hi}");
    };
    within("repairs", share(of_kind(TicketKind::Repair), n), 0.64, 0.76);
    within("complaints", share(of_kind(TicketKind::Complaint), n), 0.08, 0.16);
    within("inquiries", share(of_kind(TicketKind::Inquiry), n), 0.065, 0.135);
    within(
        "handover defects",
        share(of_kind(TicketKind::HandoverDefect), n),
        0.06,
        0.10,
    );

    let of_priority = |p: Priority| run.tickets.iter().filter(|t| t.priority == p).count();
    within("emergencies", share(of_priority(Priority::Emergency), n), 0.03, 0.08);
    within("urgent", share(of_priority(Priority::Urgent), n), 0.20, 0.31);
    within("normal", share(of_priority(Priority::Normal), n), 0.63, 0.76);

    // Channels and trades vary; leaks are the most common trade of repairs.
    let mut channels = BTreeMap::new();
    let mut trades = BTreeMap::new();
    for t in &run.tickets {
        if let TicketEvent::Received { channel, trade, .. } = &t.events[0].event {
            *channels.entry(*channel).or_insert(0) += 1;
            if t.kind == TicketKind::Repair {
                *trades.entry(*trade).or_insert(0) += 1;
            }
        }
    }
    assert!(channels.len() >= 7, "{channels:?}");
    let (top, _) = trades.iter().max_by_key(|(_, n)| **n).unwrap();
    assert_eq!(*top, Trade::Leak, "{trades:?}");
    assert!(trades.len() >= 10, "{trades:?}");

    let with = |name: &str| run.tickets.iter().filter(|t| t.has(name)).count();
    within("put on hold", share(with("PutOnHold"), n), 0.05, 0.16);
    let repairs = run
        .tickets
        .iter()
        .filter(|t| matches!(t.kind, TicketKind::Repair | TicketKind::HandoverDefect));
    let rejected = repairs.clone().filter(|t| t.has("Rejected")).count();
    within("rejected repairs", share(rejected, repairs.clone().count()), 0.04, 0.13);
    assert!(
        repairs
            .clone()
            .any(|t| t.events.iter().filter(|e| e.event.name() == "Rejected").count() == 2),
        "some repairs are rejected twice"
    );
    for name in [
        "PlanConfirmed",
        "PlanDeclined",
        "Reopened",
        "Revisited",
        "Investigated",
        "OwnerDisagreed",
        "Escalated",
        "Answered",
        "Withdrawn",
        "MergedInto",
        "PriorityChanged",
        "LinkedToIncident",
    ] {
        assert!(with(name) > 0, "no ticket has {name}");
    }
    let chargeable = run
        .tickets
        .iter()
        .flat_map(|t| &t.events)
        .filter(|e| matches!(&e.event, TicketEvent::Diagnosed { chargeable: true, .. }))
        .count();
    assert!(chargeable > 10, "{chargeable} chargeable diagnoses");
    assert!(run.summary.incidents >= 1, "{:?}", run.summary);
}

#[test]
fn histories_fold_into_plausible_states_and_stay_in_the_period() {
    let run = &*MID_SIZE;
    let mut states = Vec::new();
    for t in &run.tickets {
        for pair in t.events.windows(2) {
            assert!(
                pair[0].occurred_at <= pair[1].occurred_at,
                "time goes back in {:?}",
                t.events[0]
            );
        }
        assert!(t.events.iter().all(|e| e.occurred_at < run.end));
        let state = TicketDecider::fold(&t.events);
        let ticket = state.ticket().unwrap().clone();
        assert_eq!(ticket.event_count, t.events.len() as u64);
        states.push((t, ticket));
    }

    // Repairs received more than two months before the end are mostly
    // closed; a few were withdrawn or merged.
    let settled = run.end - TimeDelta::days(60);
    let old_repairs: Vec<_> = states
        .iter()
        .filter(|(t, _)| t.kind == TicketKind::Repair && t.received_at < settled)
        .collect();
    let closed = old_repairs.iter().filter(|(_, s)| s.status == Status::Closed).count();
    let finished = old_repairs.iter().filter(|(_, s)| s.status.is_terminal()).count();
    assert!(
        share(closed, old_repairs.len()) >= 0.85,
        "{closed} of {}",
        old_repairs.len()
    );
    assert!(
        share(finished, old_repairs.len()) >= 0.95,
        "{finished} of {}",
        old_repairs.len()
    );

    // Some tickets are still open at the end, all received in the last
    // weeks or waiting on a long hold.
    let open: Vec<_> = states.iter().filter(|(_, s)| !s.status.is_terminal()).collect();
    assert!(open.len() >= 5, "{} open tickets", open.len());
    let recent = run.end - TimeDelta::days(45);
    let recently_received = open.iter().filter(|(t, _)| t.received_at >= recent).count();
    assert!(
        share(recently_received, open.len()) >= 0.9,
        "{recently_received} of {}",
        open.len()
    );

    // Accepted repairs are mostly rated 3 to 5, a few 1 or 2.
    let overall: Vec<u8> = states
        .iter()
        .filter_map(|(_, s)| s.acceptance_ratings.map(|r| r.overall))
        .collect();
    let good = overall.iter().filter(|r| **r >= 3).count();
    assert!(share(good, overall.len()) >= 0.85, "{good} of {}", overall.len());
    assert!(overall.iter().any(|r| *r <= 2));

    // About 40% of closed repairs get a revisit.
    let closed_repairs: Vec<_> = states
        .iter()
        .filter(|(t, s)| t.kind == TicketKind::Repair && s.status == Status::Closed && s.accepted_at.is_some())
        .collect();
    let revisited = closed_repairs.iter().filter(|(_, s)| s.revisit_count > 0).count();
    let revisit_share = share(revisited, closed_repairs.len());
    assert!((0.3..=0.5).contains(&revisit_share), "{revisit_share:.3}");
}

/// Every byte of `records` that the log would store, in order, as one
/// [`domain::ids::stable_hash`]: streams, event ids, types, schema
/// versions, payloads and metadata, each field length-prefixed.
fn digest(records: &[GeneratedRecord]) -> u64 {
    fn field(bytes: &mut Vec<u8>, value: &[u8]) {
        bytes.extend_from_slice(&(value.len() as u64).to_le_bytes());
        bytes.extend_from_slice(value);
    }
    let mut bytes = Vec::new();
    for record in records {
        field(&mut bytes, record.stream.as_str().as_bytes());
        for event in &record.events {
            let m = &event.metadata;
            field(&mut bytes, event.id.as_bytes());
            field(&mut bytes, event.event_type.as_bytes());
            field(&mut bytes, &event.schema_version.to_le_bytes());
            field(&mut bytes, &event.payload);
            field(&mut bytes, m.actor.as_bytes());
            field(&mut bytes, m.role.as_bytes());
            field(&mut bytes, m.channel.as_bytes());
            field(
                &mut bytes,
                m.occurred_at.map(|t| t.to_rfc3339()).unwrap_or_default().as_bytes(),
            );
            field(
                &mut bytes,
                m.correlation_id.map(|u| u.to_string()).unwrap_or_default().as_bytes(),
            );
            field(
                &mut bytes,
                m.causation_id.map(|u| u.to_string()).unwrap_or_default().as_bytes(),
            );
        }
    }
    domain::ids::stable_hash(&bytes)
}

/// Pins the exact output of a small configuration, so that a refactoring
/// of the generator is proven not to change a single byte or event id.
///
/// The expected value was printed by this test (run with a placeholder and
/// `--nocapture`) against the single-file generator of commit 0208eda,
/// before it was split into modules. A deliberate change of the model
/// changes it: print the new value the same way and update it here.
#[test]
fn a_small_configuration_gives_exactly_the_pinned_records() {
    let config = GeneratorConfig {
        tickets: 300,
        ..GeneratorConfig::small()
    };
    let (records, summary, _) = generate(config);
    let digest = digest(&records);
    println!(
        "records {} events {} digest {digest:#018x}",
        summary.records, summary.events
    );
    assert_eq!((summary.records, summary.events), (705, 4176));
    assert_eq!(digest, 0x19e3_f57e_c15a_007d);
}
