//! The customer archive (客户档案), given / when / then: projects and their
//! buildings, units and their delivery, owners and the units they bought;
//! who may change the archive, and the time an action is said to have
//! happened.
//!
//! The helpers and histories the modules share are here.

mod owners;
mod permissions;
mod projects;
mod timing;
mod units;

use chrono::{DateTime, Utc};
use domain::actor::{Actor, Role};
use domain::archive::*;
use domain::decider::{Context, Decider, Stamped};
use domain::ids::{BuildingId, OwnerId, ProjectId, UnitId};
use domain::personal::{IdNumber, PersonName, Personal, PhoneNumber};
use domain::testing::fixtures::*;
use domain::testing::given;
use domain::ticket::{Channel, TouchpointStage};

fn admin() -> Actor {
    staff(Role::Admin)
}

/// The time the scenarios' commands are entered: 2025-09-30 16:00 Beijing.
fn now() -> DateTime<Utc> {
    bj("2025-09-30 16:00")
}

/// A context for `actor` entering a command at `now` with `reference`.
fn ctx<R>(actor: Actor, now: DateTime<Utc>, reference: R) -> Context<R> {
    Context {
        now,
        occurred_at: None,
        actor,
        channel: Channel::BackOffice,
        reference,
    }
}

/// An administrator acting now, with no reference data.
fn admin_ctx() -> Context<()> {
    ctx(admin(), now(), ())
}

fn stamped<E>(actor: Actor, at: DateTime<Utc>, event: E) -> Stamped<E> {
    Stamped {
        occurred_at: at,
        actor,
        channel: Channel::BackOffice,
        event,
        text_seals: Vec::new(),
    }
}

fn project_id() -> ProjectId {
    ProjectId::new("HZ-1").unwrap()
}
fn building_id() -> BuildingId {
    BuildingId::new("HZ-1-3").unwrap()
}
fn unit_id() -> UnitId {
    UnitId::new("HZ-1-3-1502").unwrap()
}
fn owner_id() -> OwnerId {
    OwnerId::new("O-1").unwrap()
}

fn register_project() -> ProjectCommand {
    ProjectCommand::Register {
        project: project_id(),
        name: "滨江壹号".into(),
        city: "杭州".into(),
        calendar: "cn-mainland".into(),
    }
}

fn register_building(id: &str) -> ProjectCommand {
    ProjectCommand::RegisterBuilding {
        building: BuildingId::new(id).unwrap(),
        name: "3栋".into(),
    }
}

/// Project HZ-1 registered 2025-09-01 09:00 with building HZ-1-3 at 09:10.
fn project_history() -> Vec<Stamped<ProjectEvent>> {
    let registered = given::<ProjectDecider>([])
        .when(register_project(), &ctx(admin(), bj("2025-09-01 09:00"), ()))
        .then_names(&["ProjectRegistered"]);
    given::<ProjectDecider>(registered)
        .when(register_building("HZ-1-3"), &ctx(admin(), bj("2025-09-01 09:10"), ()))
        .then_names(&["BuildingRegistered"])
}

/// The project state a unit decision receives as reference.
fn project() -> Project {
    ProjectDecider::fold(&project_history())
        .0
        .expect("the project is registered")
}

fn register_unit(project: &str, building: &str) -> UnitCommand {
    UnitCommand::Register {
        unit: unit_id(),
        project: ProjectId::new(project).unwrap(),
        building: BuildingId::new(building).unwrap(),
        number: "1502".into(),
    }
}

/// Unit HZ-1-3-1502 registered 2025-09-02 10:00, not delivered.
fn unit_history() -> Vec<Stamped<UnitEvent>> {
    let project = project();
    given::<UnitDecider>([])
        .when(
            register_unit("HZ-1", "HZ-1-3"),
            &ctx(admin(), bj("2025-09-02 10:00"), Some(&project)),
        )
        .then_names(&["UnitRegistered"])
}

/// The unit registered and delivered on 2024-06-30 (delivery recorded
/// 2025-09-02 11:00, when the archive was migrated).
fn delivered_unit_history() -> Vec<Stamped<UnitEvent>> {
    given::<UnitDecider>(unit_history())
        .when(
            UnitCommand::RecordDelivery {
                delivered_on: date("2024-06-30"),
            },
            &ctx(admin(), bj("2025-09-02 11:00"), None),
        )
        .then_names(&["DeliveryRecorded"])
}

fn unit_of(history: &[Stamped<UnitEvent>]) -> Unit {
    UnitDecider::fold(history).0.expect("the unit is registered")
}

fn phone(text: &str) -> Personal<PhoneNumber> {
    Personal::new(PhoneNumber::new(text).unwrap())
}

fn register_owner(id: &str) -> OwnerCommand {
    OwnerCommand::Register {
        owner: OwnerId::new(id).unwrap(),
        name: Personal::new(PersonName::new("王", "小明").unwrap()),
        phone: phone("13812345678"),
        id_number: Some(Personal::new(IdNumber::new("E12345678").unwrap())),
    }
}

fn link_unit(stage: TouchpointStage) -> OwnerCommand {
    OwnerCommand::LinkUnit {
        unit: unit_id(),
        contract_signed_on: date("2023-05-20"),
        stage,
    }
}

/// Owner O-1 registered 2025-09-03 09:00.
fn owner_history() -> Vec<Stamped<OwnerEvent>> {
    given::<OwnerDecider>([])
        .when(register_owner("O-1"), &ctx(admin(), bj("2025-09-03 09:00"), None))
        .then_names(&["OwnerRegistered"])
}

/// Owner O-1 linked at 09:10 to the delivered unit, in the warranty stage.
fn linked_owner_history() -> Vec<Stamped<OwnerEvent>> {
    let unit = unit_of(&delivered_unit_history());
    given::<OwnerDecider>(owner_history())
        .when(
            link_unit(TouchpointStage::WarrantyService),
            &ctx(admin(), bj("2025-09-03 09:10"), Some(&unit)),
        )
        .then_names(&["OwnerLinkedToUnit"])
}

fn owner_of(history: &[Stamped<OwnerEvent>]) -> Owner {
    OwnerDecider::fold(history).0.expect("the owner is registered")
}
