//! Determinism of the views: every view of [`projections::all_views`] must
//! hold exactly the same entries whether it followed the log live, was
//! built from 0 in one pass, or resumed from a checkpoint in the middle of
//! the log; and a restart, clean or a killed process, must neither apply an
//! event twice nor skip one.
//!
//! The histories are random command sequences over a few tickets, decided
//! by the real [`TicketDecider`] at increasing times, plus the project and
//! unit records some views count. Each step tries every command on its
//! ticket, skips those the domain refuses (which keeps every sequence
//! valid) and takes one of the others at random. Views are compared entry
//! by entry, without the runner's reserved keys (those starting with byte
//! `0x00`, the checkpoint), so a view added to `all_views()` is covered
//! without touching this file.
//!
//! Three tests at the end pin the runner's own rebuild bookkeeping across
//! restarts: a restart after an operator's rebuild, a new version of a
//! projection deployed while a rebuild was under way, and a build from 0
//! stopped half way.

use std::collections::BTreeMap;
use std::future::Future;
use std::pin::Pin;
use std::sync::Mutex;

use chrono::{DateTime, TimeDelta, Utc};
use domain::actor::{Actor, Role};
use domain::archive::{ProjectCommand, ProjectDecider, UnitCommand, UnitDecider};
use domain::decider::{Context, Decider, Stamped};
use domain::ids::{BuildingId, ContractorId, ProjectId, TicketId, UnitId, UserId};
use domain::testing::fixtures::{bj, contractor, date, owner_actor, ratings, refs, reporter, staff, Refs};
use domain::ticket::{
    AppointmentWindow, Assignee, Category, Channel, EscalationLevel, HoldReason, Location, Money, Priority, Ratings,
    Receive, RepairPlan, ResponsibleParty, RevisitOutcome, TicketCommand, TicketDecider, TicketKind, TouchpointStage,
    Trade,
};
use domain::warranty::WarrantyItem;
use eventformat::wire;
use eventlog::views::{ViewDb, ViewTree};
use eventlog::{
    AppendOutcome, Durability, EventId, EventStore, ExpectedVersion, NewEvent, Position, RecordedEvent, SledEventStore,
    SledOptions, StoreError, StreamId, StreamVersion, VerifyReport,
};
use projections::runner::{self, Applied, Projection, ProjectionError, ViewHandle, ViewStatus, ViewWriter};
use projections::{all_views, tickets};
use proptest::prelude::*;
use proptest::strategy::ValueTree;
use proptest::test_runner::{TestCaseError, TestRunner};
use tokio::sync::watch;

use crate::support::*;

// ------------------------------------------------------------- histories

/// How many tickets a history spreads its commands over.
const TICKETS: usize = 4;

/// The places a ticket can be reported at: four units in two projects and
/// a common area.
const PLACES: usize = 5;

/// Projects registered before any ticket, with their one building.
const PROJECTS: [(&str, &str); 2] = [("HZ-1", "HZ-1-3"), ("SZ-2", "SZ-2-1")];

/// Units registered before any ticket: (project, building, unit, number).
const UNITS: [(&str, &str, &str, &str); 4] = [
    ("HZ-1", "HZ-1-3", "HZ-1-3-1502", "1502"),
    ("HZ-1", "HZ-1-3", "HZ-1-3-0801", "0801"),
    ("SZ-2", "SZ-2-1", "SZ-2-1-0301", "0301"),
    ("SZ-2", "SZ-2-1", "SZ-2-1-1203", "1203"),
];

/// Who issues a command.
#[derive(Debug, Clone, Copy)]
enum Who {
    Manager,
    Agent,
    Engineer,
    /// A worker of contractor `C-1` or `C-2`.
    Contractor(u8),
    /// Owner O-1, the reporter of every ticket.
    Owner,
}

impl Who {
    fn actor(self) -> Actor {
        match self {
            Who::Manager => staff(Role::Manager),
            Who::Agent => staff(Role::Agent),
            Who::Engineer => staff(Role::Engineer),
            Who::Contractor(n) => contractor(&format!("C-{n}")),
            Who::Owner => owner_actor(),
        }
    }
}

/// A ticket command, in the few shapes worth varying;
/// [`Cmd::ticket_command`] fills in the rest.
#[derive(Debug)]
enum Cmd {
    Receive {
        kind: TicketKind,
        priority: Priority,
        place: usize,
        channel: Channel,
    },
    Acknowledge,
    /// To contractor `C-1` or `C-2`.
    DispatchContractor(u8),
    DispatchEngineer,
    Schedule,
    Arrive,
    DiagnoseFree,
    DiagnoseChargeable,
    ConfirmPlan,
    DeclinePlan,
    NoteProgress,
    Complete,
    Accept(u8),
    Reject,
    Reopen,
    Hold(HoldReason),
    Resume,
    ChangePriority(Priority),
    Comment {
        internal: bool,
    },
    Withdraw,
    /// Into another of the history's tickets.
    Merge(usize),
    Close,
    Revisit {
        outcome: RevisitOutcome,
        rating: Option<u8>,
        stage: TouchpointStage,
    },
    Investigate,
    Propose,
    OwnerResponse {
        agreed: bool,
    },
    Answer {
        on_the_spot: bool,
    },
    Escalate(EscalationLevel),
}

/// One step of a history, some minutes after the previous one.
#[derive(Debug, Clone)]
enum Step {
    /// A command on ticket `T-<ticket>`: of the [`candidates`] the domain
    /// accepts now, from `who` or else from a manager, the one `choice`
    /// points at (weighted), with the parameters `variant` picks.
    Ticket {
        minutes_later: i64,
        ticket: usize,
        who: Who,
        choice: u32,
        variant: u32,
    },
    /// Records the delivery of one of [`UNITS`] (refused after the first).
    Deliver { minutes_later: i64, unit: usize },
}

fn ticket_id(n: usize) -> TicketId {
    TicketId::new(format!("T-{n}")).unwrap()
}

fn location(place: usize) -> Location {
    match UNITS.get(place) {
        Some((project, building, unit, _)) => Location::Unit {
            project: ProjectId::new(*project).unwrap(),
            building: BuildingId::new(*building).unwrap(),
            unit: UnitId::new(*unit).unwrap(),
        },
        None => Location::CommonArea {
            project: ProjectId::new("SZ-2").unwrap(),
            building: None,
            place: "B2 garage, column 31".into(),
        },
    }
}

impl Cmd {
    /// The ticket command, decided at `at`.
    fn ticket_command(&self, ticket: &TicketId, at: DateTime<Utc>) -> TicketCommand {
        let note = |s: &str| s.to_string();
        match self {
            Cmd::Receive {
                kind, priority, place, ..
            } => TicketCommand::Receive(Box::new(Receive {
                ticket: ticket.clone(),
                kind: *kind,
                reporter: reporter(),
                location: location(*place),
                category: match kind {
                    TicketKind::Complaint => Category::Service,
                    TicketKind::Inquiry => Category::Other,
                    _ if *place >= UNITS.len() => Category::PublicFacilities,
                    _ => Category::Engineering,
                },
                trade: match kind {
                    TicketKind::Complaint | TicketKind::Inquiry => Trade::None,
                    _ => Trade::Leak,
                },
                description: "卫生间天花板渗水 water dripping from the bathroom ceiling".into(),
                attachments: vec![],
                priority: *priority,
                handover: (*kind == TicketKind::HandoverDefect).then(|| domain::ticket::HandoverRecord {
                    inspection: domain::ticket::InspectionKind::DeliveryWalkthrough,
                    promised_by: date("2025-10-20"),
                    signed_record: "INSP-2025-0912".into(),
                }),
            })),
            Cmd::Acknowledge => TicketCommand::Acknowledge {
                promised_at: Some(at + TimeDelta::hours(4)),
                note: note("called back"),
            },
            Cmd::DispatchContractor(n) => TicketCommand::Dispatch {
                to: Assignee::Contractor(ContractorId::new(format!("C-{n}")).unwrap()),
                note: String::new(),
            },
            Cmd::DispatchEngineer => TicketCommand::Dispatch {
                to: Assignee::Engineer(UserId::new("engineer-1").unwrap()),
                note: String::new(),
            },
            Cmd::Schedule => TicketCommand::Schedule {
                window: AppointmentWindow {
                    from: at + TimeDelta::hours(1),
                    to: at + TimeDelta::hours(3),
                },
            },
            Cmd::Arrive => TicketCommand::RecordArrival { note: String::new() },
            Cmd::DiagnoseFree => TicketCommand::Diagnose {
                cause: note("failed waterproofing"),
                responsible: ResponsibleParty::Developer,
                item: WarrantyItem::WaterproofedRooms,
                plan: RepairPlan {
                    content: note("redo the waterproofing"),
                    materials: vec![note("membrane")],
                    duration_minutes: 240,
                    cost: None,
                },
            },
            Cmd::DiagnoseChargeable => TicketCommand::Diagnose {
                cause: note("drilled through the pipe"),
                responsible: ResponsibleParty::OwnerMisuse,
                item: WarrantyItem::WaterSupplyAndDrainage,
                plan: RepairPlan {
                    content: note("replace the pipe section"),
                    materials: vec![],
                    duration_minutes: 90,
                    cost: Some(Money { fen: 12_350 }),
                },
            },
            Cmd::ConfirmPlan => TicketCommand::ConfirmPlan {
                confirmation: note("CONF-1"),
            },
            Cmd::DeclinePlan => TicketCommand::DeclinePlan {
                reason: note("too expensive"),
            },
            Cmd::NoteProgress => TicketCommand::NoteProgress {
                note: note("material ordered"),
            },
            Cmd::Complete => TicketCommand::CompleteRepair {
                summary: note("fixed"),
                usage_advice: String::new(),
            },
            Cmd::Accept(n) => TicketCommand::AcceptRepair {
                confirmation: note("SVC-1"),
                ratings: Ratings {
                    product_quality: None,
                    ..ratings(*n)
                },
                comment: String::new(),
            },
            Cmd::Reject => TicketCommand::RejectRepair {
                reason: note("still leaking"),
            },
            Cmd::Reopen => TicketCommand::Reopen {
                reason: note("leaking again"),
            },
            Cmd::Hold(reason) => TicketCommand::PutOnHold {
                reason: *reason,
                note: String::new(),
            },
            Cmd::Resume => TicketCommand::Resume { note: String::new() },
            Cmd::ChangePriority(priority) => TicketCommand::ChangePriority {
                priority: *priority,
                reason: note("re-assessed"),
            },
            Cmd::Comment { internal } => TicketCommand::Comment {
                text: note("called the owner"),
                internal: *internal,
            },
            Cmd::Withdraw => TicketCommand::Withdraw {
                reason: note("fixed it themselves"),
            },
            Cmd::Merge(into) => TicketCommand::Merge { into: ticket_id(*into) },
            Cmd::Close => TicketCommand::Close { note: String::new() },
            Cmd::Revisit { outcome, rating, stage } => TicketCommand::RecordRevisit {
                outcome: *outcome,
                ratings: rating.map(ratings),
                stage: *stage,
                note: String::new(),
            },
            Cmd::Investigate => TicketCommand::Investigate {
                findings: note("the agent was rude"),
            },
            Cmd::Propose => TicketCommand::ProposeResolution {
                proposal: note("apology and training"),
                basis: note("service standard 4.2"),
            },
            Cmd::OwnerResponse { agreed } => TicketCommand::RecordOwnerResponse {
                agreed: *agreed,
                note: note("not enough"),
            },
            Cmd::Answer { on_the_spot } => TicketCommand::AnswerInquiry {
                answer: note("the warranty covers it"),
                on_the_spot: *on_the_spot,
            },
            Cmd::Escalate(level) => TicketCommand::Escalate {
                level: *level,
                incident: None,
                reason: note("media attention"),
            },
        }
    }
}

fn who() -> impl Strategy<Value = Who> {
    prop_oneof![
        3 => Just(Who::Manager),
        2 => Just(Who::Agent),
        1 => Just(Who::Engineer),
        2 => Just(Who::Contractor(1)),
        1 => Just(Who::Contractor(2)),
        2 => Just(Who::Owner),
    ]
}

/// Every command worth trying on `ticket`, with its weight: the steps of
/// the lifecycles weigh more than remarks, holds and the commands that end
/// a ticket early, so that tickets often get far.
fn candidates(ticket: usize, variant: u32) -> Vec<(u32, Cmd)> {
    let v = variant as usize;
    let pick = |n: usize, by: usize| (v / by) % n;
    vec![
        (
            30,
            Cmd::Receive {
                kind: TicketKind::ALL[pick(TicketKind::ALL.len(), 1)],
                priority: Priority::ALL[pick(Priority::ALL.len(), 4)],
                place: pick(PLACES, 12),
                channel: Channel::ALL[pick(Channel::ALL.len(), 60)],
            },
        ),
        (30, Cmd::Acknowledge),
        (15, Cmd::DispatchContractor(1 + pick(2, 1) as u8)),
        (5, Cmd::DispatchEngineer),
        (10, Cmd::Schedule),
        (20, Cmd::Arrive),
        (20, Cmd::DiagnoseFree),
        (20, Cmd::DiagnoseChargeable),
        (30, Cmd::ConfirmPlan),
        (8, Cmd::DeclinePlan),
        (4, Cmd::NoteProgress),
        (60, Cmd::Complete),
        (60, Cmd::Accept(1 + pick(5, 1) as u8)),
        (10, Cmd::Reject),
        (20, Cmd::Reopen),
        (5, Cmd::Hold(HoldReason::ALL[pick(HoldReason::ALL.len(), 1)])),
        (30, Cmd::Resume),
        (4, Cmd::ChangePriority(Priority::ALL[pick(Priority::ALL.len(), 1)])),
        (3, Cmd::Comment { internal: v % 2 == 0 }),
        (2, Cmd::Withdraw),
        (2, Cmd::Merge((ticket + 1 + pick(TICKETS - 1, 1)) % TICKETS)),
        (40, Cmd::Close),
        (
            8,
            Cmd::Revisit {
                outcome: RevisitOutcome::ALL[pick(RevisitOutcome::ALL.len(), 1)],
                rating: match pick(6, 4) {
                    0 => None,
                    n => Some(n as u8),
                },
                stage: TouchpointStage::ALL[pick(TouchpointStage::ALL.len(), 24)],
            },
        ),
        (30, Cmd::Investigate),
        (30, Cmd::Propose),
        (30, Cmd::OwnerResponse { agreed: v % 3 != 0 }),
        (
            30,
            Cmd::Answer {
                on_the_spot: v % 2 == 0,
            },
        ),
        (
            5,
            Cmd::Escalate(EscalationLevel::ALL[pick(EscalationLevel::ALL.len(), 1)]),
        ),
    ]
}

fn steps(len: impl Into<prop::collection::SizeRange>) -> impl Strategy<Value = Vec<Step>> {
    let step = prop_oneof![
        24 => (1i64..=180, 0..TICKETS, who(), any::<u32>(), any::<u32>()).prop_map(
            |(minutes_later, ticket, who, choice, variant)| Step::Ticket {
                minutes_later,
                ticket,
                who,
                choice,
                variant,
            }
        ),
        1 => (1i64..=180, 0..UNITS.len()).prop_map(|(minutes_later, unit)| Step::Deliver { minutes_later, unit }),
    ];
    prop::collection::vec(step, len)
}

/// One append to the log: the events of one decided command.
struct Append {
    stream: StreamId,
    events: Vec<NewEvent>,
}

impl Append {
    fn of<E: serde::Serialize + wire::StoredName>(stream: StreamId, events: &[Stamped<E>]) -> Self {
        let events = events
            .iter()
            .map(|e| wire::to_new_event(e, EventId::new_random(), None).unwrap())
            .collect();
        Self { stream, events }
    }
}

fn archive_context<R>(at: DateTime<Utc>, reference: R) -> Context<R> {
    Context {
        now: at,
        occurred_at: None,
        actor: staff(Role::Admin),
        channel: Channel::BackOffice,
        reference,
    }
}

/// Decides `steps` from 2025-09-28 09:00 Beijing time on, after registering
/// the projects and units of [`UNITS`]; returns the appends, one per
/// accepted command, in order. Refused commands are skipped.
fn decide_history(refs: &Refs, steps: &[Step]) -> Vec<Append> {
    let mut appends = Vec::new();
    let registered_at = bj("2025-09-01 09:00");
    let mut projects = BTreeMap::new();
    for (project, building) in PROJECTS {
        let id = ProjectId::new(project).unwrap();
        let register = ProjectCommand::Register {
            project: id.clone(),
            name: format!("{project} 滨江壹号"),
            city: "杭州".into(),
            calendar: "cn-mainland".into(),
        };
        let mut events =
            ProjectDecider::decide(&Default::default(), register, &archive_context(registered_at, ())).unwrap();
        let add_building = ProjectCommand::RegisterBuilding {
            building: BuildingId::new(building).unwrap(),
            name: "3栋".into(),
        };
        let state = ProjectDecider::fold(events.as_slice());
        events.extend(ProjectDecider::decide(&state, add_building, &archive_context(registered_at, ())).unwrap());
        for event in &events {
            appends.push(Append::of(wire::stream_of(&id).unwrap(), std::slice::from_ref(event)));
        }
        projects.insert(project, events);
    }
    let mut units: Vec<Vec<Stamped<domain::archive::UnitEvent>>> = Vec::new();
    for (project, building, unit, number) in UNITS {
        let project_state = ProjectDecider::fold(&projects[project]);
        let events = UnitDecider::decide(
            &Default::default(),
            UnitCommand::Register {
                unit: UnitId::new(unit).unwrap(),
                project: ProjectId::new(project).unwrap(),
                building: BuildingId::new(building).unwrap(),
                number: number.into(),
            },
            &archive_context(registered_at, project_state.0.as_ref()),
        )
        .unwrap();
        appends.push(Append::of(
            wire::stream_of(&UnitId::new(unit).unwrap()).unwrap(),
            &events,
        ));
        units.push(events);
    }

    let mut tickets: BTreeMap<usize, Vec<Stamped<domain::ticket::TicketEvent>>> = BTreeMap::new();
    let mut at = bj("2025-09-28 09:00");
    for step in steps {
        match *step {
            Step::Deliver { minutes_later, unit } => {
                at += TimeDelta::minutes(minutes_later);
                let history = &mut units[unit];
                let command = UnitCommand::RecordDelivery {
                    delivered_on: date("2024-06-30"),
                };
                let state = UnitDecider::fold(history.as_slice());
                if let Ok(events) = UnitDecider::decide(&state, command, &archive_context(at, None)) {
                    let id = UnitId::new(UNITS[unit].2).unwrap();
                    appends.push(Append::of(wire::stream_of(&id).unwrap(), &events));
                    history.extend(events);
                }
            }
            Step::Ticket {
                minutes_later,
                ticket,
                who,
                choice,
                variant,
            } => {
                at += TimeDelta::minutes(minutes_later);
                let id = ticket_id(ticket);
                let history = tickets.entry(ticket).or_default();
                let state = TicketDecider::fold(history.as_slice());
                let decide = |cmd: &Cmd, who: Who| {
                    let context = Context {
                        now: at,
                        occurred_at: None,
                        actor: who.actor(),
                        channel: match cmd {
                            Cmd::Receive { channel, .. } => *channel,
                            _ => Channel::BackOffice,
                        },
                        reference: refs.reference(),
                    };
                    TicketDecider::decide(&state, cmd.ticket_command(&id, at), &context).ok()
                };
                let accepted: Vec<(u32, Vec<_>)> = candidates(ticket, variant)
                    .iter()
                    .filter_map(|(weight, cmd)| {
                        let events = decide(cmd, who).or_else(|| decide(cmd, Who::Manager))?;
                        Some((*weight, events))
                    })
                    .collect();
                let total: u32 = accepted.iter().map(|(w, _)| w).sum();
                if total == 0 {
                    continue;
                }
                let mut point = choice % total;
                for (weight, events) in accepted {
                    if point < weight {
                        appends.push(Append::of(wire::stream_of(&id).unwrap(), &events));
                        history.extend(events);
                        break;
                    }
                    point -= weight;
                }
            }
        }
    }
    appends
}

/// The log the appends make, one line per stream, for failure messages.
fn describe(appends: &[Append]) -> String {
    let mut streams: BTreeMap<&str, Vec<&str>> = BTreeMap::new();
    for append in appends {
        let names = streams.entry(append.stream.as_str()).or_default();
        names.extend(append.events.iter().map(|e| e.event_type.as_str()));
    }
    streams
        .into_iter()
        .map(|(stream, names)| format!("  {stream}: {}\n", names.join(", ")))
        .collect()
}

/// Appends every decided command, one append each; returns the last
/// position.
async fn append_all(log: &SledEventStore, appends: Vec<Append>) -> Option<Position> {
    let mut last = None;
    for Append { stream, events } in appends {
        let outcome = log.append(&stream, ExpectedVersion::Any, events).await.unwrap();
        last = Some(outcome.last_position());
    }
    last
}

// ----------------------------------------------------------------- views

/// Starts every view of `all_views()` on `log`, with its trees in `db`.
fn start_all(log: Arc<dyn EventStore>, db: &ViewDb) -> Vec<ViewHandle> {
    all_views()
        .into_iter()
        .map(|view| runner::start(log.clone(), db.clone(), view).unwrap())
        .collect()
}

async fn wait_all(views: &[ViewHandle], position: Position) {
    for view in views {
        view.wait_for(position, WAIT)
            .await
            .unwrap_or_else(|e| panic!("view {}: {e}", view.name()));
    }
}

/// Waits until every runner has ended (its log was closed).
async fn stop_all(views: &[ViewHandle]) {
    for view in views {
        view.wait_stopped(WAIT).await.unwrap();
        assert_eq!(view.status(), ViewStatus::Stopped, "view {}", view.name());
    }
}

/// A view's entries, in key order.
type Entries = Vec<(Vec<u8>, Vec<u8>)>;

/// Every entry of a view's tree, without the runner's reserved keys.
fn entries(tree: &ViewTree) -> Entries {
    tree.scan_prefix(b"")
        .map(|entry| entry.unwrap())
        .filter(|(key, _)| key.first() != Some(&0))
        .collect()
}

/// The first difference between two views' entries, in words, or `None`.
fn difference(left: &Entries, right: &Entries) -> Option<String> {
    let show = |key: &[u8]| String::from_utf8_lossy(key).into_owned();
    let mut l = left.iter();
    let mut r = right.iter();
    loop {
        match (l.next(), r.next()) {
            (None, None) => return None,
            (Some((k, _)), None) => return Some(format!("only the first has key {:?}", show(k))),
            (None, Some((k, _))) => return Some(format!("only the second has key {:?}", show(k))),
            (Some((lk, lv)), Some((rk, rv))) => {
                if lk != rk {
                    return Some(format!("keys differ: {:?} against {:?}", show(lk), show(rk)));
                }
                if lv != rv {
                    return Some(format!("values of key {:?} differ", show(lk)));
                }
            }
        }
    }
}

/// Asserts that each view holds the same entries in every build of it.
fn assert_same_views(builds: &[(&str, &[ViewHandle])]) -> Result<(), TestCaseError> {
    let (first_name, first) = builds[0];
    for (i, view) in first.iter().enumerate() {
        let expected = entries(&view.tree());
        for (name, other) in &builds[1..] {
            let other = &other[i];
            prop_assert_eq!(other.name(), view.name());
            let found = entries(&other.tree());
            if let Some(diff) = difference(&expected, &found) {
                return Err(TestCaseError::fail(format!(
                    "view {}: built {first_name} ({} entries) and {name} ({} entries) differ: {diff}",
                    view.name(),
                    expected.len(),
                    found.len()
                )));
            }
        }
    }
    Ok(())
}

// ---------------------------------------------------- the log, cut short

/// The log as it was up to position `last`, with a close of its own.
///
/// A runner ends only when its store closes, and closing the real log would
/// stop every other view on it. Stopping a view after exactly the events up
/// to `last` is what a restart in the middle needs, so the view is first
/// run on this prefix of the log: it applies up to `last`, commits, sees
/// the prefix close and stops. Reopened on the same view database and
/// started on the real log, it must resume from its checkpoint.
///
/// Once closed, the prefix reads nothing more, as a process that stops
/// reads nothing more: a runner stops at the batch it has committed last,
/// even in the middle of a rebuild.
struct LogPrefix {
    log: Arc<SledEventStore>,
    last: Position,
    head: watch::Receiver<Option<Position>>,
    /// Dropped on close: the subscriptions' wake-ups fail, which is how a
    /// closed store looks to them.
    open: Mutex<Option<watch::Sender<Option<Position>>>>,
}

impl LogPrefix {
    fn new(log: Arc<SledEventStore>, last: Position) -> Arc<Self> {
        let (tx, head) = watch::channel(log.head().map(|h| h.min(last)));
        Arc::new(Self {
            log,
            last,
            head,
            open: Mutex::new(Some(tx)),
        })
    }

    fn close(&self) {
        self.open.lock().unwrap().take();
    }
}

impl EventStore for LogPrefix {
    // The `#[async_trait]` method written out, as this crate does not depend
    // on `async-trait`. A prefix of the log takes no appends.
    fn append<'life0, 'life1, 'async_trait>(
        &'life0 self,
        _stream: &'life1 StreamId,
        _expected: ExpectedVersion,
        _events: Vec<NewEvent>,
    ) -> Pin<Box<dyn Future<Output = Result<AppendOutcome, StoreError>> + Send + 'async_trait>>
    where
        'life0: 'async_trait,
        'life1: 'async_trait,
        Self: 'async_trait,
    {
        Box::pin(async { Err(StoreError::Closed) })
    }

    fn read_stream(
        &self,
        stream: &StreamId,
        from_version: StreamVersion,
        limit: usize,
    ) -> Result<Vec<RecordedEvent>, StoreError> {
        let mut events = self.log.read_stream(stream, from_version, limit)?;
        events.retain(|e| e.position <= self.last);
        Ok(events)
    }

    fn stream_version(&self, stream: &StreamId) -> Result<Option<StreamVersion>, StoreError> {
        Ok(self
            .read_stream(stream, 0, usize::MAX)?
            .last()
            .map(|e| e.stream_version))
    }

    fn read_all_batch(&self, from: Position, limit: usize) -> Result<Vec<RecordedEvent>, StoreError> {
        if from > self.last || self.open.lock().unwrap().is_none() {
            return Ok(Vec::new());
        }
        let limit = limit.min(usize::try_from(self.last - from + 1).unwrap_or(usize::MAX));
        self.log.read_all_batch(from, limit)
    }

    fn head(&self) -> Option<Position> {
        self.log.head().map(|h| h.min(self.last))
    }

    fn watch_head(&self) -> watch::Receiver<Option<Position>> {
        self.head.clone()
    }

    /// Checks the whole underlying log.
    fn verify(&self) -> Result<VerifyReport, StoreError> {
        self.log.verify()
    }
}

// ------------------------------------------------------------------ tests

/// 24 cases, or `PROPTEST_CASES` to search longer.
fn cases() -> u32 {
    std::env::var("PROPTEST_CASES")
        .ok()
        .and_then(|v| v.parse().ok())
        .unwrap_or(24)
}

proptest! {
    #![proptest_config(ProptestConfig {
        cases: cases(),
        max_shrink_iters: 256,
        // A failure prints its shrunk case and the log it made; nothing is
        // written next to the sources.
        failure_persistence: None,
        ..ProptestConfig::default()
    })]

    /// Live, rebuilt from 0 in one pass, and resumed after a restart at a
    /// random position: every view holds the same entries.
    #[test]
    fn every_view_is_the_same_live_rebuilt_and_resumed_after_a_restart(
        steps in steps(1..=100),
        cut_permille in 0u64..=1000,
    ) {
        // One thread: a runner spawned by `runner::start` runs only when the
        // test awaits, so right after a start `applied()` is still the
        // checkpoint the view resumes from.
        let runtime = tokio::runtime::Builder::new_current_thread()
            .enable_all()
            .build()
            .unwrap();
        runtime.block_on(views_agree(steps, cut_permille))?;
    }
}

async fn views_agree(steps: Vec<Step>, cut_permille: u64) -> Result<(), TestCaseError> {
    let appends = decide_history(&refs(), &steps);
    let history = describe(&appends);
    let dir = tempfile::tempdir().unwrap();
    // Appends return before their sync, and readers see them after it: the
    // live views follow the log in batches of varying size, and the case
    // does not wait for an fsync per append.
    let options = SledOptions {
        durability: Durability::Buffered {
            interval: Duration::from_millis(2),
        },
        ..SledOptions::default()
    };
    let log = Arc::new(SledEventStore::open(dir.path().join("log"), options).unwrap());

    // (a) Live: started on the empty log, following the appends.
    let live_db = ViewDb::open(&dir.path().join("live"), 8 << 20).unwrap();
    let live = start_all(log.clone(), &live_db);
    let last = append_all(&log, appends).await.unwrap();
    wait_all(&live, last).await;

    // (b) Rebuilt: started on the whole log, in one pass from 0.
    let rebuilt_db = ViewDb::open(&dir.path().join("rebuilt"), 8 << 20).unwrap();
    let rebuilt = start_all(log.clone(), &rebuilt_db);
    wait_all(&rebuilt, last).await;

    // (c) Resumed: run on the log up to `cut` (a `LogPrefix`: the real log
    // cannot be closed under the other views), stopped there, the view
    // database closed and reopened, then resumed on the whole log from the
    // checkpoint it kept.
    let cut = last * cut_permille / 1000;
    let resumed_path = dir.path().join("resumed");
    {
        let db = ViewDb::open(&resumed_path, 8 << 20).unwrap();
        let prefix = LogPrefix::new(log.clone(), cut);
        let first_half = start_all(prefix.clone(), &db);
        wait_all(&first_half, cut).await;
        prefix.close();
        stop_all(&first_half).await;
        for view in &first_half {
            prop_assert_eq!(view.applied(), Some(cut), "view {} went past the prefix", view.name());
        }
        // Every handle on the view database goes before it is reopened.
    }
    let resumed_db = ViewDb::open(&resumed_path, 8 << 20).unwrap();
    let resumed = start_all(log.clone(), &resumed_db);
    for view in &resumed {
        prop_assert_eq!(
            view.applied(),
            Some(cut),
            "view {} did not resume from its checkpoint",
            view.name()
        );
    }
    wait_all(&resumed, last).await;

    // A view resumed at the head has applied everything before its task
    // first runs (`wait_for` returns at once): wait for it to go live.
    for view in live.iter().chain(&rebuilt).chain(&resumed) {
        view.wait_until_live(WAIT)
            .await
            .unwrap_or_else(|e| panic!("view {}: {e}", view.name()));
        prop_assert_eq!(view.status(), ViewStatus::Live, "view {}", view.name());
    }
    // A comparison of empty views proves nothing: the tickets view holds
    // every ticket that was received.
    let received = tickets_received(&log);
    let tickets_view = live.iter().find(|v| v.name() == "tickets").unwrap();
    for id in &received {
        prop_assert!(tickets::ticket(&tickets_view.tree(), id).unwrap().is_some());
    }
    assert_same_views(&[("live", &live), ("from 0", &rebuilt), ("resumed", &resumed)])
        .map_err(|e| TestCaseError::fail(format!("{e}\nresumed after position {cut}; the log:\n{history}")))?;

    log.close().unwrap();
    stop_all(&live).await;
    stop_all(&rebuilt).await;
    stop_all(&resumed).await;
    Ok(())
}

/// The tickets that have a stream in the log.
fn tickets_received(log: &SledEventStore) -> Vec<TicketId> {
    (0..TICKETS)
        .map(ticket_id)
        .filter(|id| log.stream_version(&wire::stream_of(id).unwrap()).unwrap().is_some())
        .collect()
}

/// Checks the tickets view against the log: every ticket's `event_count` is
/// the number of events in its stream (an event applied twice makes it
/// larger, one skipped makes it smaller), and its `position` is the
/// position of the stream's last event.
fn assert_tickets_match_the_log(log: &SledEventStore, tickets_view: &ViewHandle) {
    let tree = tickets_view.tree();
    let received = tickets_received(log);
    assert!(!received.is_empty(), "the history received no ticket");
    for id in &received {
        let stream = log.read_stream(&wire::stream_of(id).unwrap(), 0, usize::MAX).unwrap();
        let record = tickets::ticket(&tree, id).unwrap().unwrap();
        assert_eq!(record.ticket.event_count, stream.len() as u64, "ticket {id}");
        assert_eq!(record.position, stream.last().unwrap().position, "ticket {id}");
    }
    let listed = tickets::list(&tree, &tickets::TicketFilter::default(), 100, None).unwrap();
    assert_eq!(listed.items.len(), received.len());
}

/// A restart after each of several chunks of the log: the log closes, the
/// runners stop, log and views reopen, the views resume from their
/// checkpoints. No event is applied twice and none is skipped, and every
/// view ends as it is when built from 0.
// One thread, as above: right after a start, `applied()` is the checkpoint.
#[tokio::test]
async fn restarts_between_appends_apply_no_event_twice_and_skip_none() {
    // A fixed history from the same generator as the property above.
    let mut generator = TestRunner::deterministic();
    let steps = steps(160).new_tree(&mut generator).unwrap().current();
    let mut appends = decide_history(&refs(), &steps);
    assert!(appends.len() > 40, "too short a history: {} appends", appends.len());

    let mut f = Fixture::new();
    let chunks = 4;
    let chunk = appends.len().div_ceil(chunks);
    let mut applied: Option<Position> = None;
    for round in 0..chunks {
        let views = start_all(f.dyn_store(), &f.views);
        // The checkpoint is the position after the last event applied before
        // the restart.
        for view in &views {
            assert_eq!(view.applied(), applied, "round {round}: view {}", view.name());
        }
        let rest = appends.split_off(chunk.min(appends.len()));
        let last = append_all(&f.store, std::mem::replace(&mut appends, rest)).await;
        if let Some(last) = last {
            wait_all(&views, last).await;
            applied = Some(last);
        }
        let tickets_view = views.iter().find(|v| v.name() == "tickets").unwrap();
        assert_tickets_match_the_log(&f.store, tickets_view);
        f.store.close().unwrap();
        stop_all(&views).await;
        drop(views);
        f = f.restart();
    }
    assert!(appends.is_empty());

    // The same views built from 0 in one pass on the reopened log.
    let views = start_all(f.dyn_store(), &f.views);
    let from_zero_dir = tempfile::tempdir().unwrap();
    let from_zero_db = ViewDb::open(from_zero_dir.path(), 8 << 20).unwrap();
    let from_zero = start_all(f.dyn_store(), &from_zero_db);
    let last = applied.unwrap();
    wait_all(&views, last).await;
    wait_all(&from_zero, last).await;
    assert_tickets_match_the_log(&f.store, views.iter().find(|v| v.name() == "tickets").unwrap());
    assert_same_views(&[("after restarts", &views), ("from 0", &from_zero)]).unwrap();
    f.store.close().unwrap();
    stop_all(&views).await;
    stop_all(&from_zero).await;
}

/// After a rebuild asked for by an operator, a restart resumes the rebuilt
/// tree from its checkpoint: it does not replay the whole log once more
/// (while it would, `wait_for` would hang on every new event until the
/// replay ends).
#[tokio::test]
async fn a_restart_after_a_rebuild_resumes_the_rebuilt_view() {
    let steps = steps(100).new_tree(&mut TestRunner::deterministic()).unwrap().current();
    let mut appends = decide_history(&refs(), &steps);
    let second_half = appends.split_off(appends.len() / 2);
    let mut f = Fixture::new();
    let views = start_all(f.dyn_store(), &f.views);
    let last = append_all(&f.store, appends).await.unwrap();
    wait_all(&views, last).await;

    let before: Vec<String> = views.iter().map(serving).collect();
    let rebuilds: Vec<_> = views.iter().map(|v| v.rebuild()).collect();
    for (rebuild, old) in rebuilds.iter().zip(&before) {
        rebuild.finished(WAIT).await.unwrap();
        assert_ne!(
            &serving(rebuild.view()),
            old,
            "view {}: the rebuilt tree serves",
            rebuild.view().name()
        );
    }
    // A rebuild holds its view's handle, and with it the view database.
    drop(rebuilds);
    wait_all(&views, last).await;
    let rebuilt: Vec<String> = views.iter().map(serving).collect();

    f.store.close().unwrap();
    stop_all(&views).await;
    drop(views);
    f = f.restart();
    let views = start_all(f.dyn_store(), &f.views);
    for view in &views {
        assert_eq!(view.applied(), Some(last), "view {}", view.name());
    }
    let last = append_all(&f.store, second_half).await.unwrap();
    wait_all(&views, last).await;
    for (view, rebuilt) in views.iter().zip(&rebuilt) {
        assert_eq!(
            serving(view),
            *rebuilt,
            "view {}: the restart built the view from 0 again instead of resuming the rebuilt tree",
            view.name()
        );
    }
    assert_tickets_match_the_log(&f.store, views.iter().find(|v| v.name() == "tickets").unwrap());
    f.store.close().unwrap();
    stop_all(&views).await;
}

/// A projection that records, for every event, the version of the fold
/// that applied it.
struct VersionStamps {
    version: u32,
}

impl Projection for VersionStamps {
    fn name(&self) -> &'static str {
        "version_stamps"
    }

    fn version(&self) -> u32 {
        self.version
    }

    fn apply(&self, view: &mut ViewWriter<'_>, event: &Applied<'_>) -> Result<(), ProjectionError> {
        view.put(
            format!("p{:08}", event.position).into_bytes(),
            format!("v{}", self.version).into_bytes(),
        );
        Ok(())
    }
}

/// Appends one ticket of `events` events (received, then the same comment
/// over and over), `chunk` events per append; returns the last position.
async fn append_long_ticket(f: &Fixture, events: usize, chunk: usize) -> Position {
    let refs = refs();
    let mut history = decide(
        &refs,
        &[],
        vec![(
            agent(),
            "2025-09-29 09:00",
            receive_as("T-1", TicketKind::Repair, Priority::Normal),
        )],
    );
    let comment = decide(
        &refs,
        &history,
        vec![(
            agent(),
            "2025-09-29 09:01",
            TicketCommand::Comment {
                text: "called again".into(),
                internal: true,
            },
        )],
    );
    history.extend(std::iter::repeat_n(comment[0].clone(), events - 1));
    let mut last = 0;
    for part in history.chunks(chunk) {
        last = f.append(&ticket_id(1), part).await;
    }
    last
}

/// A new version of a projection is deployed while a rebuild of the old
/// one was under way: the view it serves must be folded by the new version
/// from 0, never an old-version tree finished by the new fold.
#[tokio::test]
async fn a_new_version_does_not_finish_a_rebuild_of_the_old_one() {
    // More events than the runner applies in one batch, so that a rebuild
    // can be stopped between two batches.
    let f = Fixture::new();
    let last = append_long_ticket(&f, 3000, 500).await;

    // Version 1 runs on the whole log, as a `LogPrefix` to be stopped on its
    // own in the middle of its rebuild.
    let prefix = LogPrefix::new(f.store.clone(), last);
    let old = runner::start(prefix.clone(), f.views.clone(), Arc::new(VersionStamps { version: 1 })).unwrap();
    old.wait_for(last, WAIT).await.unwrap();
    let _rebuild = old.rebuild();
    // Stop it once the rebuild has committed a batch but not caught up.
    let interrupted = tokio::time::timeout(WAIT, async {
        loop {
            if let ViewStatus::Rebuilding(progress) = old.status() {
                return progress.events_done;
            }
            tokio::task::yield_now().await;
        }
    })
    .await
    .unwrap();
    prefix.close();
    old.wait_stopped(WAIT).await.unwrap();
    assert!(
        interrupted <= last,
        "the rebuild was not interrupted: it applied every event"
    );
    drop(old);

    let new = runner::start(f.dyn_store(), f.views.clone(), Arc::new(VersionStamps { version: 2 })).unwrap();
    new.wait_until_live(WAIT).await.unwrap();
    new.wait_for(last, WAIT).await.unwrap();
    let stamps = entries(&new.tree());
    assert_eq!(stamps.len() as u64, last + 1);
    let old_stamps = stamps.iter().filter(|(_, v)| v.as_slice() != b"v2").count();
    assert_eq!(
        old_stamps, 0,
        "the view serves {old_stamps} entries folded by version 1 of the projection"
    );
    f.store.close().unwrap();
    new.wait_stopped(WAIT).await.unwrap();
}

/// A build from 0 stopped half way is not resumed, since its tree was
/// written without atomic batches: the next start drops it and builds the
/// view again from 0, which ends as the view built in one pass, with no
/// tree of the interrupted build left behind.
#[tokio::test]
async fn an_interrupted_build_starts_again_from_zero() {
    // Many more events than the shared reader hands out in one batch, so
    // that every view is stopped in the middle of its build.
    let f = Fixture::new();
    let last = append_long_ticket(&f, 16_000, 1000).await;

    // A fresh view database builds every view; stop them once each has
    // written part of its tree.
    let prefix = LogPrefix::new(f.store.clone(), last);
    let first = runner::start_all(prefix.clone(), f.views.clone(), all_views()).unwrap();
    tokio::time::timeout(WAIT, async {
        while !first
            .iter()
            .all(|v| matches!(v.status(), ViewStatus::Rebuilding(p) if p.events_done > 0))
        {
            tokio::task::yield_now().await;
        }
    })
    .await
    .expect("the views never reported a build in progress");
    for view in &first {
        // While the build runs, queries read an empty tree, not a half
        // written one.
        assert_eq!(view.applied(), None, "view {}", view.name());
        assert!(entries(&view.tree()).is_empty(), "view {}", view.name());
    }
    prefix.close();
    stop_all(&first).await;
    let meta = f.views.tree("meta").unwrap();
    let mut interrupted = Vec::new();
    for view in &first {
        let building = meta.get(format!("building/{}", view.name()).as_bytes()).unwrap();
        let building = building.unwrap_or_else(|| panic!("view {}: the build was not interrupted", view.name()));
        let building = String::from_utf8(building).unwrap();
        // A key no event makes: a build resumed from this tree would keep it.
        let mut junk = eventlog::views::ViewBatch::default();
        junk.put(b"~left by the interrupted build".to_vec(), b"x".to_vec());
        f.views.tree(&building).unwrap().apply(junk).unwrap();
        interrupted.push(building);
    }
    drop((first, meta, prefix));

    let f = f.restart();
    let views = runner::start_all(f.dyn_store(), f.views.clone(), all_views()).unwrap();
    for view in &views {
        // The empty tree serves again until the new build is swapped in.
        assert_eq!(view.applied(), None, "view {}", view.name());
    }
    wait_all(&views, last).await;
    for (view, old) in views.iter().zip(&interrupted) {
        assert!(!f.views.has_tree(old), "view {}: tree {old} was kept", view.name());
        assert_ne!(
            serving(view),
            format!("ViewTree {{ name: {old:?} }}"),
            "view {}: the interrupted tree serves",
            view.name()
        );
    }
    let from_zero_db = ViewDb::open(&f.dir.path().join("from-zero"), 8 << 20).unwrap();
    let from_zero = start_all(f.dyn_store(), &from_zero_db);
    wait_all(&from_zero, last).await;
    assert_same_views(&[("built again", &views), ("from 0", &from_zero)]).unwrap();
    assert_tickets_match_the_log(&f.store, views.iter().find(|v| v.name() == "tickets").unwrap());
    let names = f.views.tree_names();
    assert_eq!(names.len(), 1 + views.len(), "trees left behind: {names:?}");
    f.store.close().unwrap();
    stop_all(&views).await;
    stop_all(&from_zero).await;
}

// ------------------------------------------------------- a real crash

/// Writes `appends` to `path` as `views-crash-child` reads them: one event
/// a line, tab-separated, with its append's number (see the binary's
/// documentation).
fn write_history(path: &std::path::Path, appends: &[Append]) {
    fn text(field: &str) -> &str {
        assert!(
            !field.contains(['\t', '\n']),
            "{field:?} cannot be written to the history file"
        );
        field
    }
    let mut out = String::new();
    for (number, append) in appends.iter().enumerate() {
        for event in &append.events {
            let m = &event.metadata;
            let payload: String = event.payload.iter().map(|b| format!("{b:02x}")).collect();
            let fields = [
                number.to_string(),
                text(append.stream.as_str()).to_string(),
                event.id.0.to_string(),
                text(&event.event_type).to_string(),
                event.schema_version.to_string(),
                text(&m.actor).to_string(),
                text(&m.role).to_string(),
                text(&m.channel).to_string(),
                m.occurred_at.map_or("-".to_string(), |t| t.to_rfc3339()),
                m.correlation_id.map_or("-".to_string(), |u| u.to_string()),
                m.causation_id.map_or("-".to_string(), |u| u.to_string()),
                payload,
            ];
            out.push_str(&fields.join("\t"));
            out.push('\n');
        }
    }
    std::fs::write(path, out).unwrap();
}

/// A process following the log with every view is killed (SIGKILL) at
/// some moment; views are flushed on sled's timer, so they come back at
/// some earlier checkpoint. Reopened, each view's state must be exactly
/// the view built from 0 up to its checkpoint, and once it has caught up,
/// the view built from 0 on the whole log; the tickets view must count
/// every event once.
#[tokio::test]
async fn killed_while_following_the_log_the_views_resume_from_a_consistent_checkpoint() {
    // The child appends a long history while every view follows it.
    let steps = steps(600).new_tree(&mut TestRunner::deterministic()).unwrap().current();
    let appends = decide_history(&refs(), &steps);
    for kill_after in [Duration::from_millis(200), Duration::from_millis(700)] {
        let dir = tempfile::tempdir().unwrap();
        write_history(&dir.path().join("history"), &appends);
        let mut child = std::process::Command::new(env!("CARGO_BIN_EXE_views-crash-child"))
            .arg(dir.path())
            .stdout(std::process::Stdio::piped())
            .spawn()
            .unwrap();
        // Every line the child prints, read until it dies.
        let stdout = std::io::BufReader::new(child.stdout.take().unwrap());
        let (line_tx, lines) = std::sync::mpsc::channel();
        std::thread::spawn(move || {
            for line in std::io::BufRead::lines(stdout).map_while(Result::ok) {
                let _ = line_tx.send(line);
            }
        });
        // Started, with its first append acknowledged.
        let mut said = Vec::new();
        while !said.iter().any(|l: &String| l.starts_with("appended ")) {
            match lines.recv_timeout(Duration::from_secs(60)) {
                Ok(line) => said.push(line),
                Err(e) => {
                    child.kill().unwrap();
                    panic!("the child did not start appending ({e}); it said {said:?}");
                }
            }
        }
        assert_eq!(said.first().map(String::as_str), Some("ready"), "{said:?}");
        // The moment of the kill against sled's flush timer, which the
        // views' checkpoints follow: real time has to pass for it, so this
        // one sleep stays.
        std::thread::sleep(kill_after);
        child.kill().unwrap();
        child.wait().unwrap();

        let log = Arc::new(SledEventStore::open(dir.path().join("log"), SledOptions::default()).unwrap());
        let head = log.head().expect("the child appended nothing before it was killed");
        let db = ViewDb::open(&dir.path().join("views"), 8 << 20).unwrap();
        let views = start_all(log.clone(), &db);
        // Nothing has run yet on this thread: each view is as the crash
        // left it.
        let at_crash: Vec<(Option<Position>, Entries)> =
            views.iter().map(|v| (v.applied(), entries(&v.tree()))).collect();

        // Each view built from 0 up to its own checkpoint.
        let prefix_db = ViewDb::open(&dir.path().join("prefix-views"), 8 << 20).unwrap();
        let mut prefixes = Vec::new();
        for (view, (applied, state)) in all_views().into_iter().zip(&at_crash) {
            let Some(applied) = *applied else {
                assert!(state.is_empty(), "view {} has entries but no checkpoint", view.name());
                continue;
            };
            assert!(
                applied <= head,
                "view {} applied {applied}, past the log's head {head}",
                view.name()
            );
            let prefix = LogPrefix::new(log.clone(), applied);
            let handle = runner::start(prefix.clone(), prefix_db.clone(), view).unwrap();
            handle.wait_for(applied, WAIT).await.unwrap();
            if let Some(diff) = difference(&entries(&handle.tree()), state) {
                panic!(
                    "killed after {kill_after:?}: view {} at checkpoint {applied} differs from the view built up to it: {diff}",
                    handle.name()
                );
            }
            prefix.close();
            prefixes.push(handle);
        }
        for handle in &prefixes {
            handle.wait_stopped(WAIT).await.unwrap();
        }

        // Caught up, every view is the view built from 0.
        let from_zero_db = ViewDb::open(&dir.path().join("from-zero"), 8 << 20).unwrap();
        let from_zero = start_all(log.clone(), &from_zero_db);
        wait_all(&views, head).await;
        wait_all(&from_zero, head).await;
        assert_same_views(&[("after the crash", &views), ("from 0", &from_zero)]).unwrap();
        assert_tickets_match_the_log(&log, views.iter().find(|v| v.name() == "tickets").unwrap());
        println!(
            "killed after {kill_after:?}: log head {head}, checkpoints {:?}",
            at_crash.iter().map(|(a, _)| *a).collect::<Vec<_>>()
        );
        log.close().unwrap();
        stop_all(&views).await;
        stop_all(&from_zero).await;
    }
}

/// Views whose checkpoint is past the end of the log they open with (the
/// log lost its tail, or was restored from an older copy) are detected at
/// start and built again from that log: none of them serves the events
/// the log no longer holds, and each ends equal to a build from 0.
#[tokio::test]
async fn views_ahead_of_the_log_are_rebuilt_never_served() {
    let steps = steps(100).new_tree(&mut TestRunner::deterministic()).unwrap().current();
    let mut appends = decide_history(&refs(), &steps);
    let second_half = appends.split_off(appends.len() / 2);
    // The older log: the first half only.
    let mut first_half = decide_history(&refs(), &steps);
    first_half.truncate(appends.len());
    let older = Fixture::new();
    let older_last = append_all(&older.store, first_half).await.unwrap();
    // The views of the whole history.
    let f = Fixture::new();
    append_all(&f.store, appends).await.unwrap();
    let last = append_all(&f.store, second_half).await.unwrap();
    assert!(last > older_last);
    let views = start_all(f.dyn_store(), &f.views);
    wait_all(&views, last).await;
    f.store.close().unwrap();
    stop_all(&views).await;
    drop(views);
    f.views.flush().unwrap();

    // The same view folder opened with the older log.
    let views = start_all(older.dyn_store(), &f.views);
    for view in &views {
        assert!(
            view.applied().is_none_or(|a| a <= older_last),
            "view {} serves position {:?} of a log that ends at {older_last}",
            view.name(),
            view.applied()
        );
    }
    wait_all(&views, older_last).await;
    assert_tickets_match_the_log(&older.store, views.iter().find(|v| v.name() == "tickets").unwrap());
    let from_zero_dir = tempfile::tempdir().unwrap();
    let from_zero_db = ViewDb::open(from_zero_dir.path(), 8 << 20).unwrap();
    let from_zero = start_all(older.dyn_store(), &from_zero_db);
    wait_all(&from_zero, older_last).await;
    assert_same_views(&[("rebuilt", &views), ("from 0", &from_zero)]).unwrap();
    older.store.close().unwrap();
    stop_all(&views).await;
    stop_all(&from_zero).await;
}
