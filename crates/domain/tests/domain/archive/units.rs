//! Units and their delivery, recorded and corrected.

use domain::archive::*;
use domain::decider::Decider;
use domain::testing::fixtures::*;
use domain::testing::given;
use domain::DomainError;

use super::*;

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
