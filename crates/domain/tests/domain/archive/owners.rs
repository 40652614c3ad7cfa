//! Owners: registration, the units they bought, their contact, their
//! touchpoint stage, and the erasure of their personal data.

use domain::actor::Role;
use domain::archive::*;
use domain::ids::UnitId;
use domain::testing::fixtures::*;
use domain::testing::given;
use domain::ticket::TouchpointStage;
use domain::DomainError;

use super::*;

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
