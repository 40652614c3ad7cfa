//! Who may change the archive.

use domain::actor::{Actor, Role};
use domain::archive::*;
use domain::testing::fixtures::*;
use domain::testing::given;
use domain::ticket::TouchpointStage;
use domain::DomainError;

use super::*;

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
