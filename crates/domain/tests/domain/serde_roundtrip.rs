//! Every event survives serde: JSON for the API and bincode for the log.

use std::collections::BTreeSet;
use std::fmt::Debug;

use domain::actor::Role;
use domain::archive::{OwnerEvent, ProjectEvent, UnitEvent};
use domain::decider::Stamped;
use domain::ids::*;
use domain::incident::IncidentEvent;
use domain::personal::{IdNumber, PersonName, Personal, PhoneNumber};
use domain::testing::fixtures::*;
use domain::ticket::*;
use domain::warranty::WarrantyItem;
use serde::{de::DeserializeOwned, Serialize};

fn round_trip<T: Serialize + DeserializeOwned + PartialEq + Debug>(value: &T) {
    let json = serde_json::to_string(value).unwrap();
    let back: T = serde_json::from_str(&json).unwrap();
    assert_eq!(&back, value, "JSON {json}");
    let config = bincode::config::standard();
    let bytes = bincode::serde::encode_to_vec(value, config).unwrap();
    let (back, used): (T, usize) = bincode::serde::decode_from_slice(&bytes, config).unwrap();
    assert_eq!(&back, value);
    assert_eq!(used, bytes.len());
}

fn every_kind_of_ticket_event() -> Vec<Stamped<TicketEvent>> {
    let refs = refs();
    let agent = || staff(Role::Agent);
    let c1 = || contractor("C-1");
    let text = |s: &str| s.to_string();
    let diagnose = |cost: u64| TicketCommand::Diagnose {
        cause: text("misuse"),
        responsible: ResponsibleParty::OwnerMisuse,
        item: WarrantyItem::DoorsAndWindows,
        plan: RepairPlan {
            content: text("replace hinge"),
            materials: vec![text("hinge")],
            duration_minutes: 60,
            cost: Some(Money { fen: cost }),
        },
    };
    let mut all = history(
        &refs,
        vec![
            (
                agent(),
                "2025-09-29 09:00",
                receive(TicketKind::Repair, Priority::Normal),
            ),
            (
                agent(),
                "2025-09-29 09:05",
                TicketCommand::Acknowledge {
                    promised_at: Some(bj("2025-09-29 14:00")),
                    note: text("ok"),
                },
            ),
            (
                agent(),
                "2025-09-29 09:06",
                TicketCommand::ChangePriority {
                    priority: Priority::Urgent,
                    reason: text("worse"),
                },
            ),
            (
                agent(),
                "2025-09-29 09:07",
                TicketCommand::Dispatch {
                    to: Assignee::Contractor(ContractorId::new("C-1").unwrap()),
                    note: text("go"),
                },
            ),
            (
                c1(),
                "2025-09-29 09:08",
                TicketCommand::Schedule {
                    window: AppointmentWindow {
                        from: bj("2025-09-29 14:00"),
                        to: bj("2025-09-29 15:00"),
                    },
                },
            ),
            (
                c1(),
                "2025-09-29 14:10",
                TicketCommand::RecordArrival { note: text("here") },
            ),
            (staff(Role::Engineer), "2025-09-29 14:20", diagnose(10_000)),
            (
                agent(),
                "2025-09-29 14:30",
                TicketCommand::DeclinePlan { reason: text("cost") },
            ),
            (staff(Role::Engineer), "2025-09-29 14:40", diagnose(8_000)),
            (
                owner_actor(),
                "2025-09-29 14:50",
                TicketCommand::ConfirmPlan {
                    confirmation: text("SIGNED"),
                },
            ),
            (
                c1(),
                "2025-09-29 15:00",
                TicketCommand::NoteProgress { note: text("half") },
            ),
            (
                c1(),
                "2025-09-29 15:10",
                TicketCommand::PutOnHold {
                    reason: HoldReason::WaitingForMaterial,
                    note: text("hinge"),
                },
            ),
            (
                c1(),
                "2025-09-29 16:00",
                TicketCommand::Resume { note: text("arrived") },
            ),
            (
                c1(),
                "2025-09-29 16:30",
                TicketCommand::CompleteRepair {
                    summary: text("done"),
                    usage_advice: text("oil yearly"),
                },
            ),
            (
                owner_actor(),
                "2025-09-29 16:40",
                TicketCommand::RejectRepair {
                    reason: text("squeaks"),
                },
            ),
            (
                agent(),
                "2025-09-29 16:45",
                TicketCommand::Reopen { reason: text("rework") },
            ),
            (
                c1(),
                "2025-09-29 17:00",
                TicketCommand::CompleteRepair {
                    summary: text("oiled"),
                    usage_advice: String::new(),
                },
            ),
            (
                owner_actor(),
                "2025-09-29 17:10",
                TicketCommand::AcceptRepair {
                    confirmation: text("QR"),
                    ratings: ratings(4),
                    comment: text("fine"),
                },
            ),
            (
                agent(),
                "2025-09-29 17:20",
                TicketCommand::Close { note: text("archived") },
            ),
            (
                agent(),
                "2025-10-09 10:00",
                TicketCommand::RecordRevisit {
                    outcome: RevisitOutcome::Satisfied,
                    ratings: Some(ratings(5)),
                    stage: TouchpointStage::WarrantyService,
                    note: text("happy"),
                },
            ),
            (
                agent(),
                "2025-10-09 10:05",
                TicketCommand::Comment {
                    text: text("revisit done"),
                    internal: true,
                },
            ),
        ],
    );
    all.extend(history(
        &refs,
        vec![
            (
                agent(),
                "2025-09-29 09:00",
                receive(TicketKind::Complaint, Priority::Normal),
            ),
            (
                agent(),
                "2025-09-29 09:05",
                TicketCommand::Acknowledge {
                    promised_at: None,
                    note: String::new(),
                },
            ),
            (
                agent(),
                "2025-09-29 10:00",
                TicketCommand::Investigate {
                    findings: text("noise"),
                },
            ),
            (
                agent(),
                "2025-09-29 11:00",
                TicketCommand::ProposeResolution {
                    proposal: text("insulate"),
                    basis: text("contract 7.2"),
                },
            ),
            (
                owner_actor(),
                "2025-09-29 11:30",
                TicketCommand::RecordOwnerResponse {
                    agreed: false,
                    note: text("not enough"),
                },
            ),
            (
                agent(),
                "2025-09-29 11:40",
                TicketCommand::Escalate {
                    level: EscalationLevel::City,
                    incident: Some(IncidentId::new("INC-1").unwrap()),
                    reason: text("many owners"),
                },
            ),
            (
                agent(),
                "2025-09-29 13:40",
                TicketCommand::Investigate { findings: text("more") },
            ),
            (
                agent(),
                "2025-09-29 14:00",
                TicketCommand::ProposeResolution {
                    proposal: text("replace"),
                    basis: text("standard"),
                },
            ),
            (
                owner_actor(),
                "2025-09-29 14:30",
                TicketCommand::RecordOwnerResponse {
                    agreed: true,
                    note: String::new(),
                },
            ),
        ],
    ));
    all.extend(history(
        &refs,
        vec![
            (
                agent(),
                "2025-09-29 09:00",
                receive(TicketKind::Inquiry, Priority::Normal),
            ),
            (
                agent(),
                "2025-09-29 09:01",
                TicketCommand::AnswerInquiry {
                    answer: text("the gym opens at 6"),
                    on_the_spot: true,
                },
            ),
        ],
    ));
    all.extend(history(
        &refs,
        vec![
            (
                agent(),
                "2025-09-29 09:00",
                receive(TicketKind::Repair, Priority::Normal),
            ),
            (
                agent(),
                "2025-09-29 09:00",
                TicketCommand::LinkIncident {
                    incident: IncidentId::new("INC-1").unwrap(),
                },
            ),
            (
                owner_actor(),
                "2025-09-29 09:01",
                TicketCommand::Withdraw { reason: text("ok now") },
            ),
        ],
    ));
    all.extend(history(
        &refs,
        vec![
            (
                agent(),
                "2025-09-29 09:00",
                receive(TicketKind::HandoverDefect, Priority::Normal),
            ),
            (
                agent(),
                "2025-09-29 09:01",
                TicketCommand::Merge {
                    into: TicketId::new("T-0").unwrap(),
                },
            ),
        ],
    ));
    // Recorded by a calendar publication, not by a ticket command.
    let calendar = |version: &str| domain::calendar::CalendarRef {
        id: "cn-mainland".into(),
        version: version.into(),
    };
    all.push(Stamped {
        occurred_at: bj("2026-12-31 09:00"),
        actor: staff(Role::Admin),
        channel: Channel::BackOffice,
        event: TicketEvent::CalendarSettled {
            calendar: calendar("2027.1"),
            previous: calendar("2026.1"),
            clocks: vec![SettledClock {
                clock: domain::policy::ClockKind::Resolution,
                due_before: Some(bj("2027-01-08 10:00")),
                due_after: Some(bj("2027-01-11 10:00")),
            }],
        },
        text_seals: Vec::new(),
    });
    all
}

#[test]
fn every_ticket_event_round_trips() {
    let events = every_kind_of_ticket_event();
    let names: BTreeSet<&str> = events.iter().map(|e| e.event.name()).collect();
    let all: BTreeSet<&str> = TicketEvent::NAMES.into_iter().collect();
    assert_eq!(names, all, "the histories cover every event");
    for e in &events {
        round_trip(e);
    }
}

#[test]
fn archive_and_incident_events_round_trip() {
    fn stamp<E>(event: E) -> Stamped<E> {
        Stamped {
            occurred_at: bj("2025-09-29 09:00"),
            actor: staff(Role::Admin),
            channel: Channel::BackOffice,
            event,
            text_seals: Vec::new(),
        }
    }
    round_trip(&stamp(ProjectEvent::ProjectRegistered {
        project: ProjectId::new("HZ-1").unwrap(),
        name: "滨江壹号".into(),
        city: "杭州".into(),
        calendar: "cn-mainland".into(),
    }));
    round_trip(&stamp(UnitEvent::DeliveryRecorded {
        delivered_on: date("2024-06-30"),
    }));
    round_trip(&stamp(OwnerEvent::OwnerRegistered {
        owner: OwnerId::new("O-1").unwrap(),
        name: Personal::new(PersonName::new("欧阳", "娜娜").unwrap()),
        phone: Personal::new(PhoneNumber::new("+86 138-1234-5678").unwrap()),
        id_number: Some(Personal::new(IdNumber::new("E12345678").unwrap())),
    }));
    round_trip(&stamp(IncidentEvent::TicketLinked {
        ticket: TicketId::new("T-1").unwrap(),
    }));
}

#[test]
fn invalid_identifiers_do_not_deserialize() {
    let err = serde_json::from_str::<TicketId>("\"has space\"")
        .unwrap_err()
        .to_string();
    assert!(err.contains("not a valid ticket id"), "{err}");
    assert!(serde_json::from_str::<PhoneNumber>("\"call me\"").is_err());
}

#[test]
fn enumerations_are_stored_by_their_names() {
    assert_eq!(
        serde_json::to_string(&TicketKind::HandoverDefect).unwrap(),
        "\"handover_defect\""
    );
    assert_eq!(
        serde_json::to_string(&Channel::CallCenter400).unwrap(),
        "\"call_center_400\""
    );
    assert_eq!(
        serde_json::from_str::<Priority>("\"urgent\"").unwrap(),
        Priority::Urgent
    );
    let err = serde_json::from_str::<Priority>("\"Urgent\"").unwrap_err().to_string();
    assert!(err.contains("not one of emergency, urgent, normal"), "{err}");
    // In the log too: the name, not the variant's position.
    let bytes = bincode::serde::encode_to_vec(TouchpointStage::Delivery, bincode::config::standard()).unwrap();
    assert!(bytes.ends_with(b"e_delivery"), "{bytes:?}");
}
