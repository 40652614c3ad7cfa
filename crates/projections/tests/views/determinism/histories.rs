//! The histories: random command sequences over a few tickets, decided by
//! the real `TicketDecider`, and their appends to the log.

use std::collections::BTreeMap;

use chrono::{DateTime, TimeDelta, Utc};
use domain::actor::{Actor, Role};
use domain::archive::{ProjectCommand, ProjectDecider, UnitCommand, UnitDecider};
use domain::decider::{Context, Decider, Stamped};
use domain::ids::{BuildingId, ContractorId, ProjectId, TicketId, UnitId, UserId};
use domain::testing::fixtures::{bj, contractor, date, owner_actor, ratings, reporter, staff, Refs};
use domain::ticket::{
    AppointmentWindow, Assignee, Category, Channel, EscalationLevel, HoldReason, Location, Money, Priority, Ratings,
    Receive, RepairPlan, ResponsibleParty, RevisitOutcome, TicketCommand, TicketDecider, TicketKind, TouchpointStage,
    Trade,
};
use domain::warranty::WarrantyItem;
use eventformat::wire;
use eventlog::{EventId, EventStore, ExpectedVersion, NewEvent, Position, SledEventStore, StreamId};
use proptest::prelude::*;

// ------------------------------------------------------------- histories

/// How many tickets a history spreads its commands over.
pub(super) const TICKETS: usize = 4;

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
pub(super) enum Who {
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
pub(super) enum Step {
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

pub(super) fn ticket_id(n: usize) -> TicketId {
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
        (
            3,
            Cmd::Comment {
                internal: v.is_multiple_of(2),
            },
        ),
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
        (
            30,
            Cmd::OwnerResponse {
                agreed: !v.is_multiple_of(3),
            },
        ),
        (
            30,
            Cmd::Answer {
                on_the_spot: v.is_multiple_of(2),
            },
        ),
        (
            5,
            Cmd::Escalate(EscalationLevel::ALL[pick(EscalationLevel::ALL.len(), 1)]),
        ),
    ]
}

pub(super) fn steps(len: impl Into<prop::collection::SizeRange>) -> impl Strategy<Value = Vec<Step>> {
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
pub(super) struct Append {
    pub(super) stream: StreamId,
    pub(super) events: Vec<NewEvent>,
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
pub(super) fn decide_history(refs: &Refs, steps: &[Step]) -> Vec<Append> {
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
pub(super) fn describe(appends: &[Append]) -> String {
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
pub(super) async fn append_all(log: &SledEventStore, appends: Vec<Append>) -> Option<Position> {
    let mut last = None;
    for Append { stream, events } in appends {
        let outcome = log.append(&stream, ExpectedVersion::Any, events).await.unwrap();
        last = Some(outcome.last_position());
    }
    last
}
