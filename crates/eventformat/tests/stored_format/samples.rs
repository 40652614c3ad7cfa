//! The samples: fixed values, every field unlike its neighbours, for every
//! stored event as each version stores it.

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
use eventformat::wire::DomainEvent;

use crate::catalogue::*;

// ---------------------------------------------------------------------------
// The samples: fixed values, every field unlike its neighbours.

pub(crate) fn at(day: u32, hour: u32, minute: u32) -> DateTime<Utc> {
    Utc.with_ymd_and_hms(2025, 3, day, hour, minute, 7).unwrap()
}

pub(crate) fn date(month: u32, day: u32) -> NaiveDate {
    NaiveDate::from_ymd_opt(2024, month, day).unwrap()
}

/// A sealed value with fixed bytes (the cipher is not run: the bytes only
/// have to be the same every time).
pub(crate) fn sealed(subject: &str, seed: u8) -> Sealed {
    Sealed {
        subject: subject.to_string(),
        nonce: (0..24).map(|i| seed.wrapping_add(i)).collect(),
        ciphertext: (0..19).map(|i| seed.wrapping_mul(3).wrapping_add(i * 7)).collect(),
    }
}

/// A personal value as the version stores it: bare and clear in version
/// 1, sealed since version 2.
pub(crate) fn personal<T>(version: u16, value: T, subject: &str, seed: u8) -> Personal<T> {
    if version == 1 {
        Personal::new(value)
    } else {
        Personal::sealed(sealed(subject, seed))
    }
}

pub(crate) fn text_seals(version: u16, kind: TextKind, tag: &str, seed: u8) -> Vec<TextSeal> {
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

pub(crate) fn stamped<E>(version: u16, n: u8, event: E) -> Stamped<E> {
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

pub(crate) fn clocks(minutes: u32) -> ClockSetup {
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

pub(crate) fn ratings(overall: u8) -> Ratings {
    Ratings {
        overall,
        product_quality: Some(4),
        service_process: Some(3),
        staff_attitude: Some(2),
    }
}

pub(crate) fn ticket_event(version: u16, name: &str) -> TicketEvent {
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
pub(crate) fn sample(version: u16, kind: &str, name: &str) -> DomainEvent {
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
