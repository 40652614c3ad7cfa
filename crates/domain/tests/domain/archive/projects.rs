//! Projects and their buildings, and the reference data a project chooses.

use domain::actor::Role;
use domain::archive::*;
use domain::decider::Decider;
use domain::ids::BuildingId;
use domain::testing::fixtures::*;
use domain::testing::given;
use domain::DomainError;

use super::*;

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
