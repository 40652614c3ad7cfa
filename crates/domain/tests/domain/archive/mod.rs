//! The customer archive (客户档案), given / when / then: projects and their
//! buildings, units and their delivery, owners and the units they bought;
//! who may change the archive, and the time an action is said to have
//! happened.

use chrono::{DateTime, TimeDelta, Utc};
use domain::actor::{Actor, Role};
use domain::archive::*;
use domain::decider::{Context, Decider, Stamped};
use domain::ids::{BuildingId, OwnerId, ProjectId, UnitId, UserId};
use domain::personal::{IdNumber, PersonName, Personal, PhoneNumber};
use domain::testing::fixtures::*;
use domain::testing::given;
use domain::ticket::{Channel, TouchpointStage};
use domain::DomainError;

// ---- helpers ----

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

// ---- projects and buildings ----

#[test]
fn registering_a_project_records_it_stamped_with_who_when_and_how() {
    let events = given::<ProjectDecider>([])
        .when(register_project(), &admin_ctx())
        .then(vec![stamped(
            admin(),
            now(),
            ProjectEvent::ProjectRegistered {
                project: project_id(),
                name: "滨江壹号".into(),
                city: "杭州".into(),
                calendar: "cn-mainland".into(),
            },
        )]);
    let project = ProjectDecider::fold(&events).0.unwrap();
    assert_eq!(project.id, project_id());
    assert_eq!(project.name, "滨江壹号");
    assert_eq!(project.city, "杭州");
    assert_eq!(project.calendar, "cn-mainland");
    assert!(project.buildings.is_empty());
    assert_eq!(project.last_event_at, now());
}

#[test]
fn a_project_is_registered_once() {
    given::<ProjectDecider>(project_history())
        .when(register_project(), &admin_ctx())
        .then_error(DomainError::AlreadyExists {
            what: "project HZ-1".into(),
        });
}

#[test]
fn a_project_needs_a_name_a_city_and_a_calendar() {
    let blank_name = ProjectCommand::Register {
        project: project_id(),
        name: "  ".into(),
        city: "杭州".into(),
        calendar: "cn-mainland".into(),
    };
    given::<ProjectDecider>([])
        .when(blank_name, &admin_ctx())
        .then_error_containing("invalid project name");
    let blank_city = ProjectCommand::Register {
        project: project_id(),
        name: "滨江壹号".into(),
        city: String::new(),
        calendar: "cn-mainland".into(),
    };
    given::<ProjectDecider>([])
        .when(blank_city, &admin_ctx())
        .then_error_containing("invalid city");
    let control_in_calendar = ProjectCommand::Register {
        project: project_id(),
        name: "滨江壹号".into(),
        city: "杭州".into(),
        calendar: "cn-\nmainland".into(),
    };
    given::<ProjectDecider>([])
        .when(control_in_calendar, &admin_ctx())
        .then_error_containing("invalid calendar");
}

#[test]
fn registering_a_building_adds_it_to_the_project() {
    let events = given::<ProjectDecider>(project_history())
        .when(register_building("HZ-1-5"), &admin_ctx())
        .then_names(&["BuildingRegistered"]);
    let project = ProjectDecider::fold(&events).0.unwrap();
    let buildings: Vec<&str> = project.buildings.keys().map(BuildingId::as_str).collect();
    assert_eq!(buildings, ["HZ-1-3", "HZ-1-5"]);
    assert_eq!(project.buildings[&BuildingId::new("HZ-1-5").unwrap()], "3栋");
    assert_eq!(project.last_event_at, now());
}

#[test]
fn a_building_is_registered_once() {
    given::<ProjectDecider>(project_history())
        .when(register_building("HZ-1-3"), &admin_ctx())
        .then_error(DomainError::AlreadyExists {
            what: "building HZ-1-3 in project HZ-1".into(),
        });
}

#[test]
fn a_building_needs_a_registered_project() {
    let err = given::<ProjectDecider>([])
        .when(register_building("HZ-1-3"), &admin_ctx())
        .then_error_containing("does not exist");
    assert!(matches!(err, DomainError::NotFound { .. }), "{err:?}");
}

#[test]
fn a_building_needs_a_name() {
    let blank = ProjectCommand::RegisterBuilding {
        building: BuildingId::new("HZ-1-5").unwrap(),
        name: " ".into(),
    };
    given::<ProjectDecider>(project_history())
        .when(blank, &admin_ctx())
        .then_error_containing("invalid building name");
}

// ---- units ----

#[test]
fn registering_a_unit_needs_its_project_as_reference() {
    let project = project();
    let base = admin_ctx();
    let events = given::<UnitDecider>([])
        .when(register_unit("HZ-1", "HZ-1-3"), &base.with_reference(Some(&project)))
        .then(vec![stamped(
            admin(),
            now(),
            UnitEvent::UnitRegistered {
                unit: unit_id(),
                project: project_id(),
                building: building_id(),
                number: "1502".into(),
            },
        )]);
    let unit = unit_of(&events);
    assert_eq!(unit.project, project_id());
    assert_eq!(unit.building, building_id());
    assert_eq!(unit.number, "1502");
    assert_eq!(unit.delivered_on, None);

    // Without the project's state the decider cannot know its buildings.
    given::<UnitDecider>([])
        .when(register_unit("HZ-1", "HZ-1-3"), &base.with_reference(None))
        .then_error(DomainError::NotFound {
            what: "project HZ-1".into(),
        });
}

#[test]
fn a_unit_in_an_unknown_building_is_refused() {
    let project = project();
    given::<UnitDecider>([])
        .when(
            register_unit("HZ-1", "HZ-1-9"),
            &admin_ctx().with_reference(Some(&project)),
        )
        .then_error(DomainError::NotFound {
            what: "building HZ-1-9 in project HZ-1".into(),
        });
}

#[test]
fn a_unit_in_another_project_than_the_reference_is_refused() {
    // The caller passed project HZ-1's state for a unit of project HZ-2,
    // which even has a building of the same id: the reference must not be
    // trusted for another project.
    let project = project();
    given::<UnitDecider>([])
        .when(
            register_unit("HZ-2", "HZ-1-3"),
            &admin_ctx().with_reference(Some(&project)),
        )
        .then_error(DomainError::NotFound {
            what: "project HZ-2".into(),
        });
}

#[test]
fn a_unit_is_registered_once_and_needs_a_room_number() {
    let project = project();
    given::<UnitDecider>(unit_history())
        .when(
            register_unit("HZ-1", "HZ-1-3"),
            &admin_ctx().with_reference(Some(&project)),
        )
        .then_error(DomainError::AlreadyExists {
            what: "unit HZ-1-3-1502".into(),
        });
    let no_number = UnitCommand::Register {
        unit: unit_id(),
        project: project_id(),
        building: building_id(),
        number: "".into(),
    };
    given::<UnitDecider>([])
        .when(no_number, &admin_ctx().with_reference(Some(&project)))
        .then_error_containing("invalid room number");
}

#[test]
fn a_delivery_is_recorded_once() {
    let events = given::<UnitDecider>(unit_history())
        .when(
            UnitCommand::RecordDelivery {
                delivered_on: date("2025-09-28"),
            },
            &ctx(admin(), now(), None),
        )
        .then(vec![stamped(
            admin(),
            now(),
            UnitEvent::DeliveryRecorded {
                delivered_on: date("2025-09-28"),
            },
        )]);
    assert_eq!(unit_of(&events).delivered_on, Some(date("2025-09-28")));

    let err = given::<UnitDecider>(events)
        .when(
            UnitCommand::RecordDelivery {
                delivered_on: date("2025-09-29"),
            },
            &ctx(admin(), now(), None),
        )
        .then_error_containing("a delivery is recorded once");
    assert_eq!(
        err.to_string(),
        "cannot record the delivery: unit HZ-1-3-1502 is delivered on 2025-09-28 (a delivery is recorded once)"
    );
}

#[test]
fn a_delivery_needs_a_registered_unit() {
    let err = given::<UnitDecider>([])
        .when(
            UnitCommand::RecordDelivery {
                delivered_on: date("2025-09-28"),
            },
            &ctx(admin(), now(), None),
        )
        .then_error_containing("does not exist");
    assert!(matches!(err, DomainError::NotFound { .. }), "{err:?}");
}

#[test]
fn a_delivery_date_in_the_future_is_refused() {
    let deliver = |on: &str| UnitCommand::RecordDelivery { delivered_on: date(on) };
    // Now is 2025-09-30 16:00 in Beijing.
    given::<UnitDecider>(unit_history())
        .when(deliver("2025-10-02"), &ctx(admin(), now(), None))
        .then_error_containing("2025-10-02 is in the future");
    given::<UnitDecider>(unit_history())
        .when(deliver("2026-06-30"), &ctx(admin(), now(), None))
        .then_error_containing("invalid delivery date");
    // Today is not the future.
    given::<UnitDecider>(unit_history())
        .when(deliver("2025-09-30"), &ctx(admin(), now(), None))
        .then_names(&["DeliveryRecorded"]);
    // Early in the Beijing morning the UTC date is still yesterday; a unit
    // delivered today (Beijing) is still accepted.
    given::<UnitDecider>(unit_history())
        .when(deliver("2025-10-01"), &ctx(admin(), bj("2025-10-01 07:00"), None))
        .then_names(&["DeliveryRecorded"]);
}

#[test]
fn a_delivery_date_tomorrow_is_refused_in_the_afternoon() {
    // 16:00 in Beijing: 1 October is tomorrow here and everywhere else
    // (UTC+14 is at 22:00 on 30 September).
    given::<UnitDecider>(unit_history())
        .when(
            UnitCommand::RecordDelivery {
                delivered_on: date("2025-10-01"),
            },
            &ctx(admin(), now(), None),
        )
        .then_error_containing("2025-10-01 is in the future");
    // Early in the morning in Beijing it is still the previous day in UTC;
    // today's date is accepted.
    given::<UnitDecider>(unit_history())
        .when(
            UnitCommand::RecordDelivery {
                delivered_on: date("2025-10-01"),
            },
            &ctx(admin(), bj("2025-10-01 07:00"), None),
        )
        .then_names(&["DeliveryRecorded"]);
}

// ---- owners ----

#[test]
fn registering_an_owner_keeps_their_personal_data_marked() {
    let events = given::<OwnerDecider>([])
        .when(register_owner("O-1"), &ctx(admin(), now(), None))
        .then_names(&["OwnerRegistered"]);
    let owner = owner_of(&events);
    assert_eq!(owner.id, owner_id());
    assert_eq!(owner.name.masked().unwrap(), "王**");
    assert_eq!(owner.phone.expose().unwrap().as_str(), "13812345678");
    assert_eq!(
        owner.id_number.as_ref().map(|n| n.expose().unwrap().as_str()),
        Some("E12345678")
    );
    assert!(owner.units.is_empty());
    assert_eq!(owner.last_event_at, now());
}

#[test]
fn an_owner_is_registered_once() {
    given::<OwnerDecider>(owner_history())
        .when(register_owner("O-1"), &ctx(admin(), now(), None))
        .then_error(DomainError::AlreadyExists {
            what: "owner O-1".into(),
        });
}

#[test]
fn linking_an_owner_records_the_project_and_delivery_date_of_the_unit() {
    let unit = unit_of(&delivered_unit_history());
    given::<OwnerDecider>(owner_history())
        .when(
            link_unit(TouchpointStage::WarrantyService),
            &ctx(admin(), now(), Some(&unit)),
        )
        .then(vec![stamped(
            admin(),
            now(),
            OwnerEvent::OwnerLinkedToUnit {
                unit: unit_id(),
                project: project_id(),
                contract_signed_on: date("2023-05-20"),
                delivered_on: Some(date("2024-06-30")),
                stage: TouchpointStage::WarrantyService,
            },
        )]);

    let owner = owner_of(&linked_owner_history());
    let owned = &owner.units[&unit_id()];
    assert_eq!(owned.project, project_id());
    assert_eq!(owned.contract_signed_on, date("2023-05-20"));
    assert_eq!(owned.delivered_on, Some(date("2024-06-30")));
    assert_eq!(owned.stage, TouchpointStage::WarrantyService);
}

#[test]
fn linking_to_an_undelivered_unit_records_no_delivery_date() {
    let unit = unit_of(&unit_history());
    let events = given::<OwnerDecider>(owner_history())
        .when(
            link_unit(TouchpointStage::WaitingForDelivery),
            &ctx(admin(), now(), Some(&unit)),
        )
        .then_names(&["OwnerLinkedToUnit"]);
    let owner = owner_of(&events);
    assert_eq!(owner.units[&unit_id()].delivered_on, None);
    assert_eq!(owner.units[&unit_id()].stage, TouchpointStage::WaitingForDelivery);
}

#[test]
fn an_owner_is_linked_to_a_unit_once() {
    let unit = unit_of(&delivered_unit_history());
    given::<OwnerDecider>(linked_owner_history())
        .when(
            link_unit(TouchpointStage::ResidenceRevisit),
            &ctx(admin(), now(), Some(&unit)),
        )
        .then_error(DomainError::AlreadyExists {
            what: "the link of owner O-1 to unit HZ-1-3-1502".into(),
        });
}

#[test]
fn linking_needs_the_state_of_that_very_unit() {
    given::<OwnerDecider>(owner_history())
        .when(link_unit(TouchpointStage::WarrantyService), &ctx(admin(), now(), None))
        .then_error(DomainError::NotFound {
            what: "unit HZ-1-3-1502".into(),
        });
    // The reference is another unit's state.
    let mut other = unit_of(&delivered_unit_history());
    other.id = UnitId::new("HZ-1-3-1503").unwrap();
    given::<OwnerDecider>(owner_history())
        .when(
            link_unit(TouchpointStage::WarrantyService),
            &ctx(admin(), now(), Some(&other)),
        )
        .then_error(DomainError::NotFound {
            what: "unit HZ-1-3-1502".into(),
        });
}

#[test]
fn linking_an_unregistered_owner_is_refused() {
    let unit = unit_of(&delivered_unit_history());
    let err = given::<OwnerDecider>([])
        .when(
            link_unit(TouchpointStage::WarrantyService),
            &ctx(admin(), now(), Some(&unit)),
        )
        .then_error_containing("does not exist");
    assert!(matches!(err, DomainError::NotFound { .. }), "{err:?}");
}

#[test]
fn a_contract_date_in_the_future_is_refused() {
    let unit = unit_of(&delivered_unit_history());
    let command = OwnerCommand::LinkUnit {
        unit: unit_id(),
        contract_signed_on: date("2025-10-05"),
        stage: TouchpointStage::Signing,
    };
    given::<OwnerDecider>(owner_history())
        .when(command, &ctx(admin(), now(), Some(&unit)))
        .then_error_containing("invalid contract date: 2025-10-05 is in the future");
}

#[test]
fn changing_the_contact_records_the_new_number() {
    let events = given::<OwnerDecider>(owner_history())
        .when(
            OwnerCommand::ChangeContact {
                phone: phone("139 0000 1111"),
            },
            &ctx(admin(), now(), None),
        )
        .then(vec![stamped(
            admin(),
            now(),
            OwnerEvent::ContactChanged {
                phone: phone("13900001111"),
            },
        )]);
    assert_eq!(owner_of(&events).phone.expose().unwrap().as_str(), "13900001111");
}

#[test]
fn changing_the_contact_to_the_same_number_is_refused() {
    // The same number written differently is the same number.
    given::<OwnerDecider>(owner_history())
        .when(
            OwnerCommand::ChangeContact {
                phone: phone("138-1234-5678"),
            },
            &ctx(admin(), now(), None),
        )
        .then_error(DomainError::input("phone number", "it is the number on record already"));
}

#[test]
fn changing_the_contact_of_an_unregistered_owner_is_refused() {
    given::<OwnerDecider>([])
        .when(
            OwnerCommand::ChangeContact {
                phone: phone("13900001111"),
            },
            &ctx(admin(), now(), None),
        )
        .then_error_containing("does not exist");
}

#[test]
fn changing_the_stage_records_from_and_to() {
    let events = given::<OwnerDecider>(linked_owner_history())
        .when(
            OwnerCommand::ChangeStage {
                unit: unit_id(),
                stage: TouchpointStage::ResidenceRevisit,
            },
            &ctx(staff(Role::Manager), now(), None),
        )
        .then(vec![stamped(
            staff(Role::Manager),
            now(),
            OwnerEvent::TouchpointStageChanged {
                unit: unit_id(),
                from: TouchpointStage::WarrantyService,
                to: TouchpointStage::ResidenceRevisit,
            },
        )]);
    assert_eq!(
        owner_of(&events).units[&unit_id()].stage,
        TouchpointStage::ResidenceRevisit
    );
}

#[test]
fn changing_the_stage_of_a_unit_the_owner_did_not_buy_is_refused() {
    given::<OwnerDecider>(linked_owner_history())
        .when(
            OwnerCommand::ChangeStage {
                unit: UnitId::new("HZ-1-3-1503").unwrap(),
                stage: TouchpointStage::ResidenceRevisit,
            },
            &ctx(admin(), now(), None),
        )
        .then_error(DomainError::NotFound {
            what: "unit HZ-1-3-1503 among the units of owner O-1".into(),
        });
}

#[test]
fn changing_to_the_current_stage_is_refused() {
    given::<OwnerDecider>(linked_owner_history())
        .when(
            OwnerCommand::ChangeStage {
                unit: unit_id(),
                stage: TouchpointStage::WarrantyService,
            },
            &ctx(admin(), now(), None),
        )
        .then_error_containing("invalid touchpoint stage: it is already f_warranty_service");
}

// ---- who may change the archive ----

fn is_forbidden(result: Result<Vec<impl std::fmt::Debug>, DomainError>) -> bool {
    matches!(result, Err(DomainError::Forbidden { .. }))
}

#[test]
fn only_admins_and_the_system_register_projects_buildings_and_units() {
    let project = project();
    for role in Role::ALL {
        let allowed = matches!(role, Role::Admin | Role::System);
        let actor = staff(role);

        let result = given::<ProjectDecider>([])
            .when(register_project(), &ctx(actor.clone(), now(), ()))
            .result();
        assert_eq!(result.is_ok(), allowed, "{role} registers a project: {result:?}");
        assert_eq!(is_forbidden(result), !allowed, "{role}");

        let result = given::<ProjectDecider>(project_history())
            .when(register_building("HZ-1-5"), &ctx(actor.clone(), now(), ()))
            .result();
        assert_eq!(is_forbidden(result), !allowed, "{role} registers a building");

        let result = given::<UnitDecider>([])
            .when(
                register_unit("HZ-1", "HZ-1-3"),
                &ctx(actor.clone(), now(), Some(&project)),
            )
            .result();
        assert_eq!(is_forbidden(result), !allowed, "{role} registers a unit");

        let result = given::<UnitDecider>(unit_history())
            .when(
                UnitCommand::RecordDelivery {
                    delivered_on: date("2025-09-28"),
                },
                &ctx(actor.clone(), now(), None),
            )
            .result();
        assert_eq!(is_forbidden(result), !allowed, "{role} records a delivery");

        let result = given::<OwnerDecider>([])
            .when(register_owner("O-9"), &ctx(actor, now(), None))
            .result();
        assert_eq!(is_forbidden(result), !allowed, "{role} registers an owner");
    }
}

#[test]
fn an_agent_cannot_register_a_project() {
    let err = given::<ProjectDecider>([])
        .when(register_project(), &ctx(staff(Role::Agent), now(), ()))
        .then_error_containing("may not register the project");
    assert_eq!(
        err,
        DomainError::Forbidden {
            actor: "agent agent-1".into(),
            action: "register the project",
            reason: "the agent role cannot change the customer archive".into(),
        }
    );
}

#[test]
fn an_owner_changes_their_own_contact() {
    let events = given::<OwnerDecider>(owner_history())
        .when(
            OwnerCommand::ChangeContact {
                phone: phone("13900001111"),
            },
            &ctx(owner_actor(), now(), None),
        )
        .then_names(&["ContactChanged"]);
    let last = events.last().unwrap();
    assert_eq!(last.actor, owner_actor());
    assert_eq!(last.actor.role, Role::Owner);
}

#[test]
fn an_owner_cannot_change_another_owners_contact() {
    let history = given::<OwnerDecider>([])
        .when(register_owner("O-2"), &ctx(admin(), bj("2025-09-03 09:00"), None))
        .then_names(&["OwnerRegistered"]);
    let err = given::<OwnerDecider>(history)
        .when(
            OwnerCommand::ChangeContact {
                phone: phone("13900001111"),
            },
            &ctx(owner_actor(), now(), None),
        )
        .then_error_containing("owners change only their own record");
    assert!(matches!(err, DomainError::Forbidden { .. }), "{err:?}");

    // An owner actor without an archive record is nobody's owner.
    let history = owner_history();
    let anonymous = Actor {
        owner: None,
        ..owner_actor()
    };
    let result = given::<OwnerDecider>(history)
        .when(
            OwnerCommand::ChangeContact {
                phone: phone("13900001111"),
            },
            &ctx(anonymous, now(), None),
        )
        .result();
    assert!(is_forbidden(result));
}

#[test]
fn agents_and_managers_change_contacts_but_not_links_or_stages_by_role() {
    for role in [Role::Agent, Role::Manager] {
        given::<OwnerDecider>(owner_history())
            .when(
                OwnerCommand::ChangeContact {
                    phone: phone("13900001111"),
                },
                &ctx(staff(role), now(), None),
            )
            .then_names(&["ContactChanged"]);
    }
    let unit = unit_of(&delivered_unit_history());
    for role in [Role::Agent, Role::Manager, Role::Owner, Role::Engineer] {
        let actor = if role == Role::Owner {
            owner_actor()
        } else {
            staff(role)
        };
        let result = given::<OwnerDecider>(owner_history())
            .when(
                link_unit(TouchpointStage::WarrantyService),
                &ctx(actor, now(), Some(&unit)),
            )
            .result();
        assert!(is_forbidden(result), "{role} links an owner to a unit");
    }
    for role in [Role::Agent, Role::Owner, Role::Engineer, Role::Contractor] {
        let actor = if role == Role::Owner {
            owner_actor()
        } else {
            staff(role)
        };
        let result = given::<OwnerDecider>(linked_owner_history())
            .when(
                OwnerCommand::ChangeStage {
                    unit: unit_id(),
                    stage: TouchpointStage::ResidenceRevisit,
                },
                &ctx(actor, now(), None),
            )
            .result();
        assert!(is_forbidden(result), "{role} changes the touchpoint stage");
    }
    for role in [Role::Engineer, Role::Contractor, Role::Analyst, Role::Auditor] {
        let result = given::<OwnerDecider>(owner_history())
            .when(
                OwnerCommand::ChangeContact {
                    phone: phone("13900001111"),
                },
                &ctx(staff(role), now(), None),
            )
            .result();
        assert!(is_forbidden(result), "{role} changes a contact");
    }
}

// ---- when the action happened ----

#[test]
fn a_back_dated_action_is_stamped_with_when_it_happened() {
    let happened = bj("2025-09-30 11:00");
    let context = Context {
        occurred_at: Some(happened),
        ..ctx(admin(), now(), ())
    };
    let events = given::<ProjectDecider>(project_history())
        .when(register_building("HZ-1-5"), &context)
        .then_names(&["BuildingRegistered"]);
    assert_eq!(events.last().unwrap().occurred_at, happened);
    assert_eq!(ProjectDecider::fold(&events).0.unwrap().last_event_at, happened);
}

#[test]
fn an_action_before_the_records_previous_event_is_refused() {
    // The building was registered at 2025-09-01 09:10.
    let before = bj("2025-09-01 09:05");
    let err = given::<ProjectDecider>(project_history())
        .when(
            register_building("HZ-1-5"),
            &Context {
                occurred_at: Some(before),
                ..admin_ctx()
            },
        )
        .then_error_containing("before the record's previous event");
    assert!(matches!(err, DomainError::InvalidOccurredAt { .. }), "{err:?}");

    // The unit was registered at 2025-09-02 10:00.
    let err = given::<UnitDecider>(unit_history())
        .when(
            UnitCommand::RecordDelivery {
                delivered_on: date("2024-06-30"),
            },
            &Context {
                occurred_at: Some(bj("2025-09-02 09:59")),
                ..ctx(admin(), now(), None)
            },
        )
        .then_error_containing("before the record's previous event");
    assert!(matches!(err, DomainError::InvalidOccurredAt { .. }), "{err:?}");

    // The owner was linked at 2025-09-03 09:10.
    let err = given::<OwnerDecider>(linked_owner_history())
        .when(
            OwnerCommand::ChangeContact {
                phone: phone("13900001111"),
            },
            &Context {
                occurred_at: Some(bj("2025-09-03 09:09")),
                ..ctx(admin(), now(), None)
            },
        )
        .then_error_containing("before the record's previous event");
    assert!(matches!(err, DomainError::InvalidOccurredAt { .. }), "{err:?}");

    // At the very instant of the previous event is not before it.
    given::<OwnerDecider>(linked_owner_history())
        .when(
            OwnerCommand::ChangeContact {
                phone: phone("13900001111"),
            },
            &Context {
                occurred_at: Some(bj("2025-09-03 09:10")),
                ..ctx(admin(), now(), None)
            },
        )
        .then_names(&["ContactChanged"]);
}

#[test]
fn an_action_in_the_future_is_refused() {
    let err = given::<ProjectDecider>([])
        .when(
            register_project(),
            &Context {
                occurred_at: Some(now() + TimeDelta::minutes(1)),
                ..admin_ctx()
            },
        )
        .then_error_containing("is in the future");
    assert!(matches!(err, DomainError::InvalidOccurredAt { .. }), "{err:?}");
}

#[test]
fn the_actor_and_channel_of_the_context_are_recorded() {
    let owner = Actor::owner(UserId::new("wx-user-7").unwrap(), owner_id());
    let context = Context {
        channel: Channel::WeChat,
        ..ctx(owner.clone(), now(), None)
    };
    let events = given::<OwnerDecider>(owner_history())
        .when(
            OwnerCommand::ChangeContact {
                phone: phone("13900001111"),
            },
            &context,
        )
        .then_names(&["ContactChanged"]);
    let last = events.last().unwrap();
    assert_eq!(last.actor, owner);
    assert_eq!(last.channel, Channel::WeChat);
    assert_eq!(last.occurred_at, now());
}

#[test]
fn a_wrong_delivery_date_is_corrected_with_a_reason() {
    let correct = |d: &str, reason: &str| UnitCommand::CorrectDelivery {
        delivered_on: date(d),
        reason: reason.into(),
    };
    given::<UnitDecider>(unit_history())
        .when(
            correct("2024-06-28", "signed handover record"),
            &ctx(admin(), now(), None),
        )
        .then_error_containing("record the delivery first");
    let delivered = given::<UnitDecider>(unit_history())
        .when(
            UnitCommand::RecordDelivery {
                delivered_on: date("2024-06-30"),
            },
            &ctx(admin(), now(), None),
        )
        .then_names(&["DeliveryRecorded"]);
    given::<UnitDecider>(delivered.clone())
        .when(correct("2024-06-30", "typo"), &ctx(admin(), now(), None))
        .then_error_containing("is the date on record");
    let corrected = given::<UnitDecider>(delivered)
        .when(
            correct("2024-06-28", "signed handover record says 28 June"),
            &ctx(admin(), now(), None),
        )
        .then_names(&["DeliveryCorrected"]);
    assert_eq!(
        UnitDecider::fold(&corrected).0.unwrap().delivered_on,
        Some(date("2024-06-28"))
    );
}

#[test]
fn erasing_an_owners_personal_data_is_recorded_once_and_closes_the_record() {
    let erase = || OwnerCommand::ErasePersonalData {
        request: " PIPL-2026-007 ".into(),
    };
    let events = given::<OwnerDecider>(owner_history())
        .when(erase(), &ctx(admin(), now(), None))
        .then(vec![stamped(
            admin(),
            now(),
            OwnerEvent::PersonalDataErased {
                request: "PIPL-2026-007".into(),
            },
        )]);
    assert_eq!(owner_of(&events).erased_at, Some(now()));

    // Only the archive's roles erase.
    given::<OwnerDecider>(owner_history())
        .when(erase(), &ctx(staff(Role::Agent), now(), None))
        .then_error_containing("erase the owner's personal data");
    // A request needs its reference.
    given::<OwnerDecider>(owner_history())
        .when(
            OwnerCommand::ErasePersonalData { request: "  ".into() },
            &ctx(admin(), now(), None),
        )
        .then_error_containing("erasure request reference");
    // Once erased: not again, and no new personal data on the old record.
    given::<OwnerDecider>(events.clone())
        .when(erase(), &ctx(admin(), now(), None))
        .then_error_containing("already exists");
    given::<OwnerDecider>(events)
        .when(
            OwnerCommand::ChangeContact {
                phone: phone("13900001111"),
            },
            &ctx(admin(), now(), None),
        )
        .then_error_containing("was erased");
}

#[test]
fn a_project_chooses_reference_data_from_a_day_on() {
    let choose = |calendar: Option<&str>, policy: Option<&str>, from: &str| ProjectCommand::ChooseReferenceData {
        calendar: calendar.map(str::to_string),
        policy: policy.map(str::to_string),
        warranty: None,
        effective_from: date(from),
        reason: "城市公司决定".into(),
    };
    let history = given::<ProjectDecider>(project_history())
        .when(choose(None, Some("strict"), "2027-01-01"), &admin_ctx())
        .then_names(&["ReferenceDataChosen"]);
    let history = given::<ProjectDecider>(history)
        .when(choose(Some("cn-shenzhen"), None, "2027-03-01"), &admin_ctx())
        .then_names(&["ReferenceDataChosen"]);
    // Recorded later, effective earlier: a correction of the first.
    let history = given::<ProjectDecider>(history)
        .when(choose(None, Some("stricter"), "2027-01-01"), &admin_ctx())
        .then_names(&["ReferenceDataChosen"]);
    let project = ProjectDecider::fold(&history).0.unwrap();
    assert_eq!(project.policy_on(date("2026-12-31")), "default");
    assert_eq!(project.policy_on(date("2027-01-01")), "stricter");
    assert_eq!(project.calendar_on(date("2027-02-28")), "cn-mainland");
    assert_eq!(project.calendar_on(date("2027-03-01")), "cn-shenzhen");
    assert_eq!(project.warranty_on(date("2027-03-01")), "default");
    // Nothing chosen, no reason, a role outside the archive's: refused.
    given::<ProjectDecider>(project_history())
        .when(choose(None, None, "2027-01-01"), &admin_ctx())
        .then_error_containing("choose a calendar, a policy or warranty rules");
    let mut no_reason = choose(None, Some("strict"), "2027-01-01");
    if let ProjectCommand::ChooseReferenceData { reason, .. } = &mut no_reason {
        reason.clear();
    }
    given::<ProjectDecider>(project_history())
        .when(no_reason, &admin_ctx())
        .then_error_containing("reason");
    let refused = given::<ProjectDecider>(project_history())
        .when(
            choose(None, Some("strict"), "2027-01-01"),
            &ctx(staff(Role::Agent), now(), ()),
        )
        .result();
    assert!(matches!(refused, Err(DomainError::Forbidden { .. })), "{refused:?}");
}
