//! The stored format, pinned by bytes, for every stored event type and
//! every payload schema version still read.
//!
//! Payloads are positional bincode (`docs/events.md`): the order of a
//! type's fields is its stored format. Each stored event type has, per
//! schema version, a committed fixture of payload bytes in
//! `tests/fixtures/events/v<version>/<record>/<Name>.bin` (with a hex dump
//! beside it, `.txt`, for review). The tests decode every fixture the way
//! the log's readers do ([`wire::decode_new`]) into the value built below
//! in code, and re-encode that value to the same bytes for the current
//! version. Every field of every sample holds a value unlike its
//! neighbours', so that reordering two fields, changing a field's type or
//! adding one changes what the fixture decodes to.
//!
//! Fixtures are written once and never rewritten: a missing fixture fails,
//! naming the command that writes it (`UPDATE_FIXTURES=1 cargo test -p
//! eventformat --test stored_format`), which writes missing files
//! only. A stored type changes only with a new schema version and new
//! fixtures.
//!
//! How the fixtures of the older versions were made. The code no longer
//! writes them, so their bytes follow the rules the code reads them by
//! (`wire::payload`): a version 2 payload is the version 3 payload without
//! its last byte, the empty `text_seals` list (one zero byte); a version 1
//! payload is that too, with each personal value written bare, without
//! the tag (clear or sealed) that version 2 put before it
//! (read through mirrors of their version 1 layout, `src/schema1.rs`). The events with personal values
//! (`Received`, `OwnerRegistered`, `ContactChanged`) are therefore written
//! for version 1 from a tuple of their fields in stored order
//! ([`schema_1_payload`]), which also keeps that fixture independent of
//! the current declaration.
#![allow(clippy::unwrap_used, clippy::expect_used)]

use std::path::{Path, PathBuf};

use chrono::{DateTime, NaiveDate, TimeZone, Utc};
use domain::actor::{Actor, Role};
use domain::archive::{OwnerEvent, ProjectEvent, UnitEvent};
use domain::calendar::CalendarRef;
use domain::decider::Stamped;
use domain::directory::{ContractorEvent, EngineerEvent};
use domain::ids::{BuildingId, ContractorId, IncidentId, OwnerId, ProjectId, TicketId, UnitId, UserId};
use domain::incident::IncidentEvent;
use domain::personal::{IdNumber, PersonName, Personal, PhoneNumber, Sealed, TextKind, TextSeal};
use domain::policy::{ClockKind, ClockSetup, ClockTarget, PolicyRef, TimeBasis};
use domain::reference::{Publication, ReferenceEvent};
use domain::ticket::SettledClock;
use domain::ticket::{
    AppointmentWindow, Assignee, Category, Channel, EscalationLevel, HandoverRecord, HoldReason, InspectionKind,
    Location, Money, Priority, Ratings, RepairPlan, Reporter, ResponsibleParty, RevisitOutcome, TicketEvent,
    TicketKind, TouchpointStage, Trade,
};
use domain::warranty::{WarrantyFinding, WarrantyItem, WarrantyPeriod};
use eventformat::wire::{self, DomainEvent};
use eventlog::codec;
use eventlog::{EventId, EventMetadata, NewEvent};
use serde::Serialize;

/// The versions with fixtures. A new schema version adds itself here, with
/// fixtures for every event type.
const VERSIONS: [u16; 3] = [1, 2, 3];

/// The stored names of the events of one kind of record, in the order of
/// their enum's variants.
const PROJECT_NAMES: [&str; 3] = ["ProjectRegistered", "BuildingRegistered", "ReferenceDataChosen"];
const UNIT_NAMES: [&str; 3] = ["UnitRegistered", "DeliveryRecorded", "DeliveryCorrected"];
const OWNER_NAMES: [&str; 5] = [
    "OwnerRegistered",
    "OwnerLinkedToUnit",
    "ContactChanged",
    "TouchpointStageChanged",
    "PersonalDataErased",
];
const INCIDENT_NAMES: [&str; 4] = ["IncidentOpened", "TicketLinked", "StatusUpdated", "IncidentClosed"];
const CONTRACTOR_NAMES: [&str; 1] = ["ContractorRegistered"];
const ENGINEER_NAMES: [&str; 1] = ["EngineerRegistered"];
const REFERENCE_NAMES: [&str; 3] = ReferenceEvent::NAMES;

/// Every variant of every stored event enum, by position in the lists
/// above. No wildcard: a new variant does not compile until it is listed,
/// and a listed name without a fixture fails [`every_stored_event_has_a_fixture`].
fn listed(event: &DomainEvent) -> (&'static str, usize) {
    match event {
        DomainEvent::Ticket(_, e) => ("ticket", ticket_index(&e.event)),
        DomainEvent::Project(_, e) => (
            "project",
            match e.event {
                ProjectEvent::ProjectRegistered { .. } => 0,
                ProjectEvent::BuildingRegistered { .. } => 1,
                ProjectEvent::ReferenceDataChosen { .. } => 2,
            },
        ),
        DomainEvent::Unit(_, e) => (
            "unit",
            match e.event {
                UnitEvent::UnitRegistered { .. } => 0,
                UnitEvent::DeliveryRecorded { .. } => 1,
                UnitEvent::DeliveryCorrected { .. } => 2,
            },
        ),
        DomainEvent::Owner(_, e) => (
            "owner",
            match e.event {
                OwnerEvent::OwnerRegistered { .. } => 0,
                OwnerEvent::OwnerLinkedToUnit { .. } => 1,
                OwnerEvent::ContactChanged { .. } => 2,
                OwnerEvent::TouchpointStageChanged { .. } => 3,
                OwnerEvent::PersonalDataErased { .. } => 4,
            },
        ),
        DomainEvent::Incident(_, e) => (
            "incident",
            match e.event {
                IncidentEvent::IncidentOpened { .. } => 0,
                IncidentEvent::TicketLinked { .. } => 1,
                IncidentEvent::StatusUpdated { .. } => 2,
                IncidentEvent::IncidentClosed { .. } => 3,
            },
        ),
        DomainEvent::Contractor(_, e) => (
            "contractor",
            match e.event {
                ContractorEvent::ContractorRegistered { .. } => 0,
            },
        ),
        DomainEvent::Engineer(_, e) => (
            "engineer",
            match e.event {
                EngineerEvent::EngineerRegistered { .. } => 0,
            },
        ),
        DomainEvent::Reference(e) => (
            "reference",
            match e.event {
                ReferenceEvent::CalendarPublished(_) => 0,
                ReferenceEvent::PolicyPublished(_) => 1,
                ReferenceEvent::WarrantyPublished(_) => 2,
            },
        ),
    }
}

fn ticket_index(event: &TicketEvent) -> usize {
    let name = event.name();
    TicketEvent::NAMES.iter().position(|n| *n == name).unwrap()
}

fn names_of(kind: &str) -> &'static [&'static str] {
    match kind {
        "ticket" => &TicketEvent::NAMES,
        "project" => &PROJECT_NAMES,
        "unit" => &UNIT_NAMES,
        "owner" => &OWNER_NAMES,
        "incident" => &INCIDENT_NAMES,
        "contractor" => &CONTRACTOR_NAMES,
        "engineer" => &ENGINEER_NAMES,
        "reference" => &REFERENCE_NAMES,
        other => panic!("no kind of record {other:?}"),
    }
}

const KINDS: [&str; 8] = [
    "ticket",
    "project",
    "unit",
    "owner",
    "incident",
    "contractor",
    "engineer",
    "reference",
];

/// Which stored events a schema version held: the service directory,
/// reference data and settled calendars came with version 3, the owner's
/// erasure with version 2.
fn stored_in(version: u16, kind: &str, name: &str) -> bool {
    match (kind, name) {
        ("contractor" | "engineer" | "reference", _)
        | ("ticket", "CalendarSettled")
        | ("project", "ReferenceDataChosen") => version >= 3,
        ("owner", "PersonalDataErased") => version >= 2,
        _ => true,
    }
}

// ---------------------------------------------------------------------------
// The samples: fixed values, every field unlike its neighbours.

fn at(day: u32, hour: u32, minute: u32) -> DateTime<Utc> {
    Utc.with_ymd_and_hms(2025, 3, day, hour, minute, 7).unwrap()
}

fn date(month: u32, day: u32) -> NaiveDate {
    NaiveDate::from_ymd_opt(2024, month, day).unwrap()
}

/// A sealed value with fixed bytes (the cipher is not run: the bytes only
/// have to be the same every time).
fn sealed(subject: &str, seed: u8) -> Sealed {
    Sealed {
        subject: subject.to_string(),
        nonce: (0..24).map(|i| seed.wrapping_add(i)).collect(),
        ciphertext: (0..19).map(|i| seed.wrapping_mul(3).wrapping_add(i * 7)).collect(),
    }
}

/// A personal value as the version stores it: bare and clear in version
/// 1, sealed since version 2.
fn personal<T>(version: u16, value: T, subject: &str, seed: u8) -> Personal<T> {
    if version == 1 {
        Personal::new(value)
    } else {
        Personal::sealed(sealed(subject, seed))
    }
}

fn text_seals(version: u16, kind: TextKind, tag: &str, seed: u8) -> Vec<TextSeal> {
    if version < 3 {
        return Vec::new();
    }
    vec![
        TextSeal {
            tag: tag.to_string(),
            kind,
            sealed: sealed("owner-O-9", seed),
        },
        TextSeal {
            tag: format!("{tag}b"),
            kind: TextKind::IdNumber,
            sealed: sealed("phone-P-4", seed.wrapping_add(1)),
        },
    ]
}

fn stamped<E>(version: u16, n: u8, event: E) -> Stamped<E> {
    Stamped {
        occurred_at: at(u32::from(n % 27) + 1, 9, u32::from(n)),
        actor: Actor {
            user: UserId::new("U-7").unwrap(),
            role: Role::Manager,
            contractor: Some(ContractorId::new("C-3").unwrap()),
            owner: Some(OwnerId::new("O-9").unwrap()),
        },
        channel: Channel::WeChat,
        event,
        text_seals: text_seals(version, TextKind::Phone, "pa", n),
    }
}

fn clocks(minutes: u32) -> ClockSetup {
    ClockSetup {
        policy: PolicyRef {
            id: "default-service-policy".into(),
            version: "2025.2".into(),
        },
        calendar: CalendarRef {
            id: "cn-mainland".into(),
            version: "2025.1".into(),
        },
        first_response: Some(ClockTarget::Duration {
            minutes,
            basis: TimeBasis::Business,
        }),
        on_site: Some(ClockTarget::Deadline { due: at(20, 17, 30) }),
        resolution: Some(ClockTarget::Duration {
            minutes: minutes * 9,
            basis: TimeBasis::WallClock,
        }),
    }
}

fn ratings(overall: u8) -> Ratings {
    Ratings {
        overall,
        product_quality: Some(4),
        service_process: Some(3),
        staff_attitude: Some(2),
    }
}

fn ticket_event(version: u16, name: &str) -> TicketEvent {
    use TicketEvent as E;
    let s = |text: &str| text.to_string();
    match name {
        "Received" => E::Received {
            ticket: TicketId::new("T-41").unwrap(),
            kind: TicketKind::HandoverDefect,
            channel: Channel::CallCenter400,
            reporter: Reporter {
                owner: Some(OwnerId::new("O-9").unwrap()),
                name: personal(version, PersonName::new("欧阳", "娜娜").unwrap(), "owner-O-9", 11),
                phone: personal(version, PhoneNumber::new("13812345678").unwrap(), "owner-O-9", 12),
            },
            location: Location::Unit {
                project: ProjectId::new("HZ-1").unwrap(),
                building: BuildingId::new("B-2").unwrap(),
                unit: UnitId::new("HZ-1-2-1701").unwrap(),
            },
            category: Category::Engineering,
            trade: Trade::DoorsWindows,
            description: s("卧室窗框渗水 [[personal:pa]]"),
            attachments: vec![s("files/a1.jpg"), s("files/a2.jpg")],
            priority: Priority::Urgent,
            handover: Some(HandoverRecord {
                inspection: InspectionKind::DeliveryWalkthrough,
                promised_by: date(4, 15),
                signed_record: s("查验单 2024-118"),
            }),
            clocks: clocks(120),
        },
        "Acknowledged" => E::Acknowledged {
            promised_at: Some(at(3, 14, 0)),
            note: s("已联系业主"),
        },
        "PriorityChanged" => E::PriorityChanged {
            from: Priority::Normal,
            to: Priority::Emergency,
            reason: s("漏水扩大"),
            clocks: clocks(30),
        },
        "Dispatched" => E::Dispatched {
            to: Assignee::Contractor(ContractorId::new("C-3").unwrap()),
            previous: Some(Assignee::Engineer(UserId::new("E-5").unwrap())),
            note: s("带密封胶"),
        },
        "Scheduled" => E::Scheduled {
            window: AppointmentWindow {
                from: at(4, 9, 0),
                to: at(4, 11, 0),
            },
        },
        "Arrived" => E::Arrived { note: s("到场") },
        "Diagnosed" => E::Diagnosed {
            cause: s("窗框密封老化"),
            responsible: ResponsibleParty::ContractorWorkmanship,
            warranty: Some(WarrantyFinding {
                item: WarrantyItem::DoorsAndWindows,
                period: WarrantyPeriod::Years(2),
                delivered_on: date(1, 10),
                last_day: date(12, 31),
                report_date: date(3, 2),
                in_warranty: true,
                rules_version: s("warranty-2024.1"),
            }),
            chargeable: true,
            plan: RepairPlan {
                content: s("更换密封条"),
                materials: vec![s("密封条"), s("玻璃胶")],
                duration_minutes: 90,
                cost: Some(Money { fen: 12_345 }),
            },
        },
        "PlanConfirmed" => E::PlanConfirmed {
            confirmation: s("确认单 77"),
        },
        "PlanDeclined" => E::PlanDeclined {
            reason: s("费用过高")
        },
        "ProgressNoted" => E::ProgressNoted {
            note: s("材料已到")
        },
        "Repaired" => E::Repaired {
            summary: s("已更换"),
            usage_advice: s("24小时内勿开窗"),
        },
        "Accepted" => E::Accepted {
            confirmation: s("服务确认单 88"),
            ratings: ratings(5),
            comment: s("满意"),
        },
        "Rejected" => E::Rejected { reason: s("仍渗水") },
        "Reopened" => E::Reopened {
            reason: s("返修"),
            cycle: 2,
        },
        "PutOnHold" => E::PutOnHold {
            reason: HoldReason::WaitingForOwnerDecision,
            note: s("业主考虑中"),
        },
        "Resumed" => E::Resumed { note: s("继续") },
        "Withdrawn" => E::Withdrawn {
            reason: s("业主撤回")
        },
        "MergedInto" => E::MergedInto {
            into: TicketId::new("T-40").unwrap(),
        },
        "Commented" => E::Commented {
            text: s("内部备注"),
            internal: true,
        },
        "Closed" => E::Closed { note: s("归档") },
        "Revisited" => E::Revisited {
            outcome: RevisitOutcome::ProblemPersists,
            ratings: Some(ratings(1)),
            stage: TouchpointStage::WarrantyService,
            note: s("回访"),
        },
        "Investigated" => E::Investigated {
            findings: s("核实属实"),
        },
        "ResolutionProposed" => E::ResolutionProposed {
            proposal: s("补偿方案"),
            basis: s("合同第九条"),
        },
        "OwnerAgreed" => E::OwnerAgreed { note: s("同意") },
        "OwnerDisagreed" => E::OwnerDisagreed { reason: s("不同意") },
        "Escalated" => E::Escalated {
            level: EscalationLevel::City,
            incident: Some(IncidentId::new("I-6").unwrap()),
            reason: s("批量问题"),
        },
        "Answered" => E::Answered {
            answer: s("已答复"),
            on_the_spot: true,
        },
        "LinkedToIncident" => E::LinkedToIncident {
            incident: IncidentId::new("I-6").unwrap(),
        },
        "CalendarSettled" => E::CalendarSettled {
            calendar: CalendarRef {
                id: s("cn-mainland"),
                version: s("2027.2"),
            },
            previous: CalendarRef {
                id: s("cn-mainland-b"),
                version: s("2026.3"),
            },
            clocks: vec![
                SettledClock {
                    clock: ClockKind::OnSite,
                    due_before: Some(at(21, 9, 15)),
                    due_after: None,
                },
                SettledClock {
                    clock: ClockKind::Resolution,
                    due_before: None,
                    due_after: Some(at(24, 16, 45)),
                },
            ],
        },
        other => panic!("no ticket sample for {other:?}: add one, and its fixtures"),
    }
}

/// The sample of one stored event, as the version stores it.
fn sample(version: u16, kind: &str, name: &str) -> DomainEvent {
    let s = |text: &str| text.to_string();
    let n = u8::try_from(names_of(kind).iter().position(|x| *x == name).unwrap()).unwrap();
    let project = || ProjectId::new("HZ-1").unwrap();
    let unit = || UnitId::new("HZ-1-2-1701").unwrap();
    match kind {
        "ticket" => DomainEvent::Ticket(
            TicketId::new("T-41").unwrap(),
            stamped(version, n, ticket_event(version, name)),
        ),
        "project" => DomainEvent::Project(
            project(),
            stamped(
                version,
                n,
                match name {
                    "ProjectRegistered" => ProjectEvent::ProjectRegistered {
                        project: project(),
                        name: s("西溪花园"),
                        city: s("杭州"),
                        calendar: s("cn-mainland"),
                    },
                    "BuildingRegistered" => ProjectEvent::BuildingRegistered {
                        building: BuildingId::new("B-2").unwrap(),
                        name: s("2号楼"),
                    },
                    "ReferenceDataChosen" => ProjectEvent::ReferenceDataChosen {
                        calendar: Some(s("cn-shenzhen")),
                        policy: None,
                        warranty: Some(s("waterproof-8")),
                        effective_from: date(11, 28),
                        reason: s("城市公司决定"),
                    },
                    other => panic!("no project sample for {other:?}"),
                },
            ),
        ),
        "unit" => DomainEvent::Unit(
            unit(),
            stamped(
                version,
                n,
                match name {
                    "UnitRegistered" => UnitEvent::UnitRegistered {
                        unit: unit(),
                        project: project(),
                        building: BuildingId::new("B-2").unwrap(),
                        number: s("1701"),
                    },
                    "DeliveryRecorded" => UnitEvent::DeliveryRecorded {
                        delivered_on: date(1, 10),
                    },
                    "DeliveryCorrected" => UnitEvent::DeliveryCorrected {
                        from: date(1, 10),
                        to: date(1, 12),
                        reason: s("交付日期录入错误"),
                    },
                    other => panic!("no unit sample for {other:?}"),
                },
            ),
        ),
        "owner" => DomainEvent::Owner(
            OwnerId::new("O-9").unwrap(),
            stamped(
                version,
                n,
                match name {
                    "OwnerRegistered" => OwnerEvent::OwnerRegistered {
                        owner: OwnerId::new("O-9").unwrap(),
                        name: personal(version, PersonName::new("欧阳", "娜娜").unwrap(), "owner-O-9", 21),
                        phone: personal(version, PhoneNumber::new("13812345678").unwrap(), "owner-O-9", 22),
                        id_number: Some(personal(
                            version,
                            IdNumber::new("11010519491231002X").unwrap(),
                            "owner-O-9",
                            23,
                        )),
                    },
                    "OwnerLinkedToUnit" => OwnerEvent::OwnerLinkedToUnit {
                        unit: unit(),
                        project: project(),
                        contract_signed_on: date(2, 3),
                        delivered_on: Some(date(1, 10)),
                        stage: TouchpointStage::Delivery,
                    },
                    "ContactChanged" => OwnerEvent::ContactChanged {
                        phone: personal(version, PhoneNumber::new("13987654321").unwrap(), "owner-O-9", 24),
                    },
                    "TouchpointStageChanged" => OwnerEvent::TouchpointStageChanged {
                        unit: unit(),
                        from: TouchpointStage::Delivery,
                        to: TouchpointStage::ResidenceRevisit,
                    },
                    "PersonalDataErased" => OwnerEvent::PersonalDataErased {
                        request: s("删除申请 2025-3"),
                    },
                    other => panic!("no owner sample for {other:?}"),
                },
            ),
        ),
        "incident" => DomainEvent::Incident(
            IncidentId::new("I-6").unwrap(),
            stamped(
                version,
                n,
                match name {
                    "IncidentOpened" => IncidentEvent::IncidentOpened {
                        incident: IncidentId::new("I-6").unwrap(),
                        project: project(),
                        title: s("2号楼外窗渗水"),
                        level: EscalationLevel::Group,
                        description: s("多户报修"),
                    },
                    "TicketLinked" => IncidentEvent::TicketLinked {
                        ticket: TicketId::new("T-41").unwrap(),
                    },
                    "StatusUpdated" => IncidentEvent::StatusUpdated { note: s("排查中") },
                    "IncidentClosed" => IncidentEvent::IncidentClosed {
                        summary: s("整改完成")
                    },
                    other => panic!("no incident sample for {other:?}"),
                },
            ),
        ),
        "contractor" => DomainEvent::Contractor(
            ContractorId::new("C-3").unwrap(),
            stamped(
                version,
                n,
                match name {
                    "ContractorRegistered" => ContractorEvent::ContractorRegistered {
                        contractor: ContractorId::new("C-3").unwrap(),
                        name: s("安居门窗工程有限公司"),
                        trades: vec![Trade::DoorsWindows, Trade::Leak],
                    },
                    other => panic!("no contractor sample for {other:?}"),
                },
            ),
        ),
        "engineer" => DomainEvent::Engineer(
            UserId::new("E-5").unwrap(),
            stamped(
                version,
                n,
                match name {
                    "EngineerRegistered" => EngineerEvent::EngineerRegistered {
                        engineer: UserId::new("E-5").unwrap(),
                        name: s("李工"),
                    },
                    other => panic!("no engineer sample for {other:?}"),
                },
            ),
        ),
        "reference" => {
            let publication = |id: &str, version: &str, text: &str| Publication {
                id: s(id),
                version: s(version),
                text: s(text),
                source: s("notices/2027.toml"),
                sha256: s("5d41402abc4b2a76b9719d911017c592aaf7a1bd0a0f2f4d6f4d1c0e5f3a2b1c"),
            };
            DomainEvent::Reference(stamped(
                version,
                n,
                match name {
                    "CalendarPublished" => {
                        ReferenceEvent::CalendarPublished(publication("cn-mainland", "2027.1", "id = \"cn-mainland\""))
                    }
                    "PolicyPublished" => {
                        ReferenceEvent::PolicyPublished(publication("strict", "2027.3", "id = \"strict\""))
                    }
                    "WarrantyPublished" => {
                        ReferenceEvent::WarrantyPublished(publication("waterproof-8", "2027.2", "version = \"2027.2\""))
                    }
                    other => panic!("no reference sample for {other:?}"),
                },
            ))
        }
        other => panic!("no kind of record {other:?}"),
    }
}

// ---------------------------------------------------------------------------
// Encoding as each version stored it.

fn encode_current(event: &DomainEvent) -> Vec<u8> {
    let bytes = match event {
        DomainEvent::Ticket(_, e) => codec::encode(e),
        DomainEvent::Project(_, e) => codec::encode(e),
        DomainEvent::Unit(_, e) => codec::encode(e),
        DomainEvent::Owner(_, e) => codec::encode(e),
        DomainEvent::Incident(_, e) => codec::encode(e),
        DomainEvent::Contractor(_, e) => codec::encode(e),
        DomainEvent::Engineer(_, e) => codec::encode(e),
        DomainEvent::Reference(e) => codec::encode(e),
    };
    bytes.unwrap()
}

/// Version 2: the payload ended with the event (no `text_seals`).
fn schema_2_payload(event: &DomainEvent) -> Vec<u8> {
    let mut bytes = encode_current(event);
    assert_eq!(bytes.pop(), Some(0), "a version 2 sample has no sealed free text");
    bytes
}

fn encode_tuple<T: Serialize>(value: &T) -> Vec<u8> {
    codec::encode(value).unwrap()
}

/// Version 1: as version 2, with personal values bare. The events that
/// hold personal values are written field by field, in stored order.
fn schema_1_payload(event: &DomainEvent) -> Vec<u8> {
    fn bare<T>(p: &Personal<T>) -> &T {
        p.expose().expect("a version 1 sample holds personal values in clear")
    }
    match event {
        DomainEvent::Ticket(_, e) => match &e.event {
            TicketEvent::Received {
                ticket,
                kind,
                channel,
                reporter,
                location,
                category,
                trade,
                description,
                attachments,
                priority,
                handover,
                clocks,
            } => {
                let reporter = (&reporter.owner, bare(&reporter.name), bare(&reporter.phone));
                // Variant 0 of `TicketEvent`, then its fields.
                let event = (
                    0u32,
                    ticket,
                    kind,
                    channel,
                    reporter,
                    location,
                    category,
                    trade,
                    description,
                    attachments,
                    priority,
                    handover,
                    clocks,
                );
                encode_tuple(&(&e.occurred_at, &e.actor, &e.channel, event))
            }
            _ => schema_2_payload(event),
        },
        DomainEvent::Owner(_, e) => match &e.event {
            OwnerEvent::OwnerRegistered {
                owner,
                name,
                phone,
                id_number,
            } => {
                let event = (0u32, owner, bare(name), bare(phone), id_number.as_ref().map(bare));
                encode_tuple(&(&e.occurred_at, &e.actor, &e.channel, event))
            }
            OwnerEvent::ContactChanged { phone } => {
                let event = (2u32, bare(phone));
                encode_tuple(&(&e.occurred_at, &e.actor, &e.channel, event))
            }
            _ => schema_2_payload(event),
        },
        _ => schema_2_payload(event),
    }
}

fn payload_of(version: u16, event: &DomainEvent) -> Vec<u8> {
    match version {
        1 => schema_1_payload(event),
        2 => schema_2_payload(event),
        _ => encode_current(event),
    }
}

fn stream_of(event: &DomainEvent) -> eventlog::StreamId {
    match event {
        DomainEvent::Ticket(id, _) => wire::stream_of(id),
        DomainEvent::Project(id, _) => wire::stream_of(id),
        DomainEvent::Unit(id, _) => wire::stream_of(id),
        DomainEvent::Owner(id, _) => wire::stream_of(id),
        DomainEvent::Incident(id, _) => wire::stream_of(id),
        DomainEvent::Contractor(id, _) => wire::stream_of(id),
        DomainEvent::Engineer(id, _) => wire::stream_of(id),
        DomainEvent::Reference(_) => wire::reference_stream(),
    }
    .unwrap()
}

/// Reads stored bytes back as the log's readers do.
fn read_back(version: u16, name: &str, stream: &eventlog::StreamId, payload: &[u8]) -> Result<DomainEvent, String> {
    let stored = NewEvent {
        id: EventId(uuid::Uuid::nil()),
        event_type: name.to_string(),
        schema_version: version,
        payload: payload.to_vec(),
        metadata: EventMetadata::default(),
    };
    wire::decode_new(stream, &stored).map_err(|e| e.to_string())
}

// ---------------------------------------------------------------------------
// The fixture files.

fn fixtures_dir() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join("tests/fixtures/events")
}

fn fixture_path(version: u16, kind: &str, name: &str) -> PathBuf {
    fixtures_dir().join(format!("v{version}/{kind}/{name}.bin"))
}

const WRITE_COMMAND: &str = "UPDATE_FIXTURES=1 cargo test -p eventformat --test stored_format";

fn hex_dump(version: u16, kind: &str, name: &str, bytes: &[u8]) -> String {
    let mut out = format!(
        "# {kind}/{name}, payload schema version {version}, {} bytes.\n\
         # Written once by the stored_format tests; never rewritten.\n",
        bytes.len()
    );
    for (i, line) in bytes.chunks(16).enumerate() {
        let hex: Vec<String> = line.iter().map(|b| format!("{b:02x}")).collect();
        out.push_str(&format!("{:06x}  {}\n", i * 16, hex.join(" ")));
    }
    out
}

/// The committed bytes of a fixture. A missing one is written only when
/// `UPDATE_FIXTURES=1` is set, and never over an existing file.
fn fixture(version: u16, kind: &str, name: &str, expected: &DomainEvent) -> Result<Vec<u8>, String> {
    let path = fixture_path(version, kind, name);
    if path.exists() {
        return std::fs::read(&path).map_err(|e| format!("{}: {e}", path.display()));
    }
    if std::env::var("UPDATE_FIXTURES").as_deref() != Ok("1") {
        return Err(format!(
            "{} is missing: a stored event type (or schema version) needs its fixture; write the missing ones with `{WRITE_COMMAND}` and commit them",
            path.display()
        ));
    }
    let bytes = payload_of(version, expected);
    let dir = path.parent().unwrap();
    std::fs::create_dir_all(dir).unwrap();
    // `create_new`: an existing fixture is never overwritten.
    let mut file = match std::fs::OpenOptions::new().write(true).create_new(true).open(&path) {
        Ok(file) => file,
        // Another test of this run wrote it first.
        Err(e) if e.kind() == std::io::ErrorKind::AlreadyExists => {
            return std::fs::read(&path).map_err(|e| format!("{}: {e}", path.display()))
        }
        Err(e) => return Err(format!("{}: {e}", path.display())),
    };
    std::io::Write::write_all(&mut file, &bytes).unwrap();
    file.sync_all().unwrap();
    let txt = path.with_extension("txt");
    if !txt.exists() {
        std::fs::write(&txt, hex_dump(version, kind, name, &bytes)).unwrap();
    }
    Ok(bytes)
}

/// Checks every fixture of `version`; returns the failures, one line each.
fn check_version(version: u16) -> Vec<String> {
    let mut failures = Vec::new();
    for kind in KINDS {
        for name in names_of(kind) {
            if !stored_in(version, kind, name) {
                continue;
            }
            let expected = sample(version, kind, name);
            let what = format!("v{version}/{kind}/{name}");
            let bytes = match fixture(version, kind, name, &expected) {
                Ok(b) => b,
                Err(e) => {
                    failures.push(e);
                    continue;
                }
            };
            // The hex dump beside the fixture shows the same bytes.
            let txt = fixture_path(version, kind, name).with_extension("txt");
            if std::fs::read_to_string(&txt).ok() != Some(hex_dump(version, kind, name, &bytes)) {
                failures.push(format!(
                    "{what}: {} is missing or does not show the fixture's bytes",
                    txt.display()
                ));
            }
            match read_back(version, name, &stream_of(&expected), &bytes) {
                Ok(decoded) if decoded == expected => {}
                Ok(decoded) => failures.push(format!(
                    "{what}: the stored bytes now read as\n  {decoded:?}\nnot\n  {expected:?}\n(a stored type changed: add a schema version and fixtures instead)"
                )),
                Err(e) => failures.push(format!(
                    "{what}: the stored bytes no longer read: {e} (a stored type changed: add a schema version and fixtures instead)"
                )),
            }
            if version == wire::SCHEMA_VERSION {
                let now = encode_current(&expected);
                if now != bytes {
                    failures.push(format!(
                        "{what}: the event now encodes to other bytes than the fixture's:\n  now     {now:02x?}\n  fixture {bytes:02x?}"
                    ));
                }
            }
        }
    }
    failures
}

fn assert_none(failures: Vec<String>) {
    assert!(
        failures.is_empty(),
        "{} fixture(s) failed:\n{}",
        failures.len(),
        failures.join("\n")
    );
}

#[test]
fn schema_version_3_fixtures_decode_and_reencode() {
    assert_none(check_version(3));
}

#[test]
fn schema_version_2_fixtures_decode() {
    assert_none(check_version(2));
}

#[test]
fn schema_version_1_fixtures_decode() {
    assert_none(check_version(1));
}

/// A new schema version, a new stored event or a fixture of an unknown
/// event all fail here.
#[test]
fn every_stored_event_has_a_fixture() {
    assert_eq!(
        VERSIONS.last().copied(),
        Some(wire::SCHEMA_VERSION),
        "the current schema version needs fixtures: add it to VERSIONS and write them with `{WRITE_COMMAND}`"
    );
    // The lists agree with the enums' own names, variant by variant.
    for kind in KINDS {
        for (i, name) in names_of(kind).iter().enumerate() {
            let event = sample(wire::SCHEMA_VERSION, kind, name);
            assert_eq!(event.name(), *name, "{kind}/{name}");
            assert_eq!(listed(&event), (kind, i), "{kind}/{name}");
        }
    }
    // Every stored name of today has a fixture for the current version
    // (checked in full by the version's test); no fixture names an event
    // the code does not know.
    let mut missing = Vec::new();
    for kind in KINDS {
        for name in names_of(kind) {
            let expected = sample(wire::SCHEMA_VERSION, kind, name);
            if let Err(e) = fixture(wire::SCHEMA_VERSION, kind, name, &expected) {
                missing.push(e);
            }
        }
    }
    assert!(missing.is_empty(), "{}", missing.join("\n"));
    for entry in walk(&fixtures_dir()) {
        let rel = entry.strip_prefix(fixtures_dir()).unwrap();
        let parts: Vec<String> = rel.iter().map(|p| p.to_string_lossy().into_owned()).collect();
        let [version, kind, file] = parts.as_slice() else {
            panic!("unexpected fixture path {}", rel.display());
        };
        let version: u16 = version.strip_prefix('v').and_then(|v| v.parse().ok()).unwrap();
        let name = file.strip_suffix(".bin").or_else(|| file.strip_suffix(".txt")).unwrap();
        assert!(VERSIONS.contains(&version), "{}: unknown version", rel.display());
        assert!(
            KINDS.contains(&kind.as_str()) && names_of(kind).contains(&name) && stored_in(version, kind, name),
            "{}: no such stored event in that version",
            rel.display()
        );
    }
}

fn walk(dir: &Path) -> Vec<PathBuf> {
    let mut files = Vec::new();
    let Ok(entries) = std::fs::read_dir(dir) else {
        return files;
    };
    for entry in entries {
        let path = entry.unwrap().path();
        if path.is_dir() {
            files.extend(walk(&path));
        } else {
            files.push(path);
        }
    }
    files
}

/// The fixtures' samples are what the version's rules say: the older
/// payloads read with the current code only through the version's own
/// path (a version 1 payload with personal values does not read as
/// version 2, and the reverse).
#[test]
fn older_payloads_need_their_own_version() {
    for (kind, name) in [("ticket", "Received"), ("owner", "OwnerRegistered")] {
        let v1 = sample(1, kind, name);
        let bytes = fixture(1, kind, name, &v1).unwrap();
        assert!(!matches!(read_back(2, name, &stream_of(&v1), &bytes), Ok(d) if d == v1));
        let v2 = sample(2, kind, name);
        let bytes = fixture(2, kind, name, &v2).unwrap();
        assert!(!matches!(read_back(1, name, &stream_of(&v2), &bytes), Ok(d) if d == v2));
    }
}
