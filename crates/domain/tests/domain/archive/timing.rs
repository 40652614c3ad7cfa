//! The time an action is said to have happened, and who and how.

use chrono::TimeDelta;
use domain::actor::Actor;
use domain::archive::*;
use domain::decider::{Context, Decider};
use domain::ids::UserId;
use domain::testing::fixtures::*;
use domain::testing::given;
use domain::ticket::Channel;
use domain::DomainError;

use super::*;

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
