//! The catalogue: the stored event names of every kind of record, and
//! which schema version held which.

use domain::archive::{OwnerEvent, ProjectEvent, UnitEvent};
use domain::directory::{ContractorEvent, EngineerEvent};
use domain::incident::IncidentEvent;
use domain::reference::ReferenceEvent;
use domain::ticket::TicketEvent;
use eventformat::wire::DomainEvent;

/// The versions with fixtures. A new schema version adds itself here, with
/// fixtures for every event type.
pub(crate) const VERSIONS: [u16; 3] = [1, 2, 3];

/// The stored names of the events of one kind of record, in the order of
/// their enum's variants.
pub(crate) const PROJECT_NAMES: [&str; 3] = ["ProjectRegistered", "BuildingRegistered", "ReferenceDataChosen"];
pub(crate) const UNIT_NAMES: [&str; 3] = ["UnitRegistered", "DeliveryRecorded", "DeliveryCorrected"];
pub(crate) const OWNER_NAMES: [&str; 5] = [
    "OwnerRegistered",
    "OwnerLinkedToUnit",
    "ContactChanged",
    "TouchpointStageChanged",
    "PersonalDataErased",
];
pub(crate) const INCIDENT_NAMES: [&str; 4] = ["IncidentOpened", "TicketLinked", "StatusUpdated", "IncidentClosed"];
pub(crate) const CONTRACTOR_NAMES: [&str; 1] = ["ContractorRegistered"];
pub(crate) const ENGINEER_NAMES: [&str; 1] = ["EngineerRegistered"];
pub(crate) const REFERENCE_NAMES: [&str; 3] = ReferenceEvent::NAMES;

/// Every variant of every stored event enum, by position in the lists
/// above. No wildcard: a new variant does not compile until it is listed,
/// and a listed name without a fixture fails [`crate::every_stored_event_has_a_fixture`].
pub(crate) fn listed(event: &DomainEvent) -> (&'static str, usize) {
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

pub(crate) fn ticket_index(event: &TicketEvent) -> usize {
    let name = event.name();
    TicketEvent::NAMES.iter().position(|n| *n == name).unwrap()
}

pub(crate) fn names_of(kind: &str) -> &'static [&'static str] {
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

pub(crate) const KINDS: [&str; 8] = [
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
pub(crate) fn stored_in(version: u16, kind: &str, name: &str) -> bool {
    match (kind, name) {
        ("contractor" | "engineer" | "reference", _)
        | ("ticket", "CalendarSettled")
        | ("project", "ReferenceDataChosen") => version >= 3,
        ("owner", "PersonalDataErased") => version >= 2,
        _ => true,
    }
}
