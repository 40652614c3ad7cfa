//! Incidents (重大投诉 / 批量问题), given / when / then: opening one, linking
//! the tickets it gathers, status updates and closing; nothing happens to a
//! closed incident; who may handle one; what the folded state says.

use chrono::{DateTime, TimeDelta, Utc};
use domain::actor::{Actor, Role};
use domain::decider::{Context, Decider, Stamped};
use domain::ids::{IncidentId, ProjectId, TicketId};
use domain::incident::*;
use domain::testing::fixtures::*;
use domain::testing::given;
use domain::ticket::{Channel, EscalationLevel};
use domain::DomainError;

// ---- helpers ----

fn manager() -> Actor {
    staff(Role::Manager)
}

/// A context for `actor` acting at Beijing time `time`.
fn at(actor: Actor, time: &str) -> Context<()> {
    Context {
        now: bj(time),
        occurred_at: None,
        actor,
        channel: Channel::BackOffice,
        reference: (),
    }
}

fn opened_at() -> DateTime<Utc> {
    bj("2025-09-30 09:00")
}

fn open() -> IncidentCommand {
    IncidentCommand::Open {
        incident: IncidentId::new("INC-2025-7").unwrap(),
        project: ProjectId::new("HZ-1").unwrap(),
        title: "3栋顶层渗漏 roof leak, building 3".into(),
        level: EscalationLevel::City,
        description: "12 households on floors 30–32 report water through the ceiling after the storm".into(),
    }
}

fn link(ticket: &str) -> IncidentCommand {
    IncidentCommand::LinkTicket {
        ticket: TicketId::new(ticket).unwrap(),
    }
}

fn update(note: &str) -> IncidentCommand {
    IncidentCommand::UpdateStatus { note: note.into() }
}

fn close() -> IncidentCommand {
    IncidentCommand::Close {
        summary: "roof membrane replaced; 纠正及预防措施: inspect membranes before the rainy season".into(),
    }
}

/// Runs `steps` (Beijing time, command) as the manager from an empty
/// history.
fn history(steps: Vec<(&str, IncidentCommand)>) -> Vec<Stamped<IncidentEvent>> {
    let mut events = Vec::new();
    for (time, command) in steps {
        let state = IncidentDecider::fold(&events);
        match IncidentDecider::decide(&state, command, &at(manager(), time)) {
            Ok(new) => events.extend(new),
            Err(e) => panic!("step at {time} refused: {e}"),
        }
    }
    events
}

fn opened() -> Vec<Stamped<IncidentEvent>> {
    history(vec![("2025-09-30 09:00", open())])
}

/// Opened 09:00, T-1 linked 09:10, one update 10:00, closed 2025-10-08 17:00.
fn closed() -> Vec<Stamped<IncidentEvent>> {
    history(vec![
        ("2025-09-30 09:00", open()),
        ("2025-09-30 09:10", link("T-1")),
        ("2025-09-30 10:00", update("roofer on site")),
        ("2025-10-08 17:00", close()),
    ])
}

fn incident_of(events: &[Stamped<IncidentEvent>]) -> Incident {
    IncidentDecider::fold(events).0.expect("the incident is open")
}

// ---- the lifecycle ----

#[test]
fn opening_an_incident_records_it() {
    let events = given::<IncidentDecider>([])
        .when(open(), &at(manager(), "2025-09-30 09:00"))
        .then(vec![Stamped {
            occurred_at: opened_at(),
            actor: manager(),
            channel: Channel::BackOffice,
            event: IncidentEvent::IncidentOpened {
                incident: IncidentId::new("INC-2025-7").unwrap(),
                project: ProjectId::new("HZ-1").unwrap(),
                title: "3栋顶层渗漏 roof leak, building 3".into(),
                level: EscalationLevel::City,
                description: "12 households on floors 30–32 report water through the ceiling after the storm".into(),
            },
            text_seals: Vec::new(),
        }]);
    let incident = incident_of(&events);
    assert_eq!(incident.id.as_str(), "INC-2025-7");
    assert_eq!(incident.project.as_str(), "HZ-1");
    assert_eq!(incident.level, EscalationLevel::City);
    assert!(incident.tickets.is_empty());
    assert_eq!(incident.updates, 0);
    assert_eq!(incident.opened_at, opened_at());
    assert_eq!(incident.closed_at, None);
    assert_eq!(incident.last_event_at, opened_at());
}

#[test]
fn an_incident_is_opened_once() {
    given::<IncidentDecider>(opened())
        .when(open(), &at(manager(), "2025-09-30 09:30"))
        .then_error(DomainError::AlreadyExists {
            what: "incident INC-2025-7".into(),
        });
}

#[test]
fn an_incident_needs_a_title_and_a_description() {
    let blank_title = IncidentCommand::Open {
        incident: IncidentId::new("INC-1").unwrap(),
        project: ProjectId::new("HZ-1").unwrap(),
        title: " \n ".into(),
        level: EscalationLevel::Project,
        description: "what is known".into(),
    };
    given::<IncidentDecider>([])
        .when(blank_title, &at(manager(), "2025-09-30 09:00"))
        .then_error(DomainError::input("title", "it is empty"));
    let long_description = IncidentCommand::Open {
        incident: IncidentId::new("INC-1").unwrap(),
        project: ProjectId::new("HZ-1").unwrap(),
        title: "roof leak".into(),
        level: EscalationLevel::Project,
        description: "漏".repeat(4001),
    };
    given::<IncidentDecider>([])
        .when(long_description, &at(manager(), "2025-09-30 09:00"))
        .then_error_containing("invalid description: longer than 4000 characters");
}

#[test]
fn nothing_happens_to_an_incident_that_was_never_opened() {
    for (command, message) in [
        (link("T-1"), "the incident to link a ticket to does not exist"),
        (update("on site"), "the incident to update does not exist"),
        (close(), "the incident to close does not exist"),
    ] {
        let err = given::<IncidentDecider>([])
            .when(command, &at(manager(), "2025-09-30 09:00"))
            .then_error_containing("does not exist");
        assert_eq!(err.to_string(), message);
    }
}

#[test]
fn tickets_are_linked_once_each() {
    let events = given::<IncidentDecider>(opened())
        .when(link("T-1"), &at(manager(), "2025-09-30 09:10"))
        .then_names(&["TicketLinked"]);
    let events = given::<IncidentDecider>(events)
        .when(link("T-2"), &at(staff(Role::Agent), "2025-09-30 09:20"))
        .then_names(&["TicketLinked"]);
    given::<IncidentDecider>(events)
        .when(link("T-1"), &at(manager(), "2025-09-30 09:30"))
        .then_error(DomainError::AlreadyExists {
            what: "the link of ticket T-1 to incident INC-2025-7".into(),
        });
}

#[test]
fn a_status_update_is_recorded_and_needs_text() {
    given::<IncidentDecider>(opened())
        .when(
            update("roofer on site, membrane torn"),
            &at(manager(), "2025-09-30 10:00"),
        )
        .then(vec![Stamped {
            occurred_at: bj("2025-09-30 10:00"),
            actor: manager(),
            channel: Channel::BackOffice,
            event: IncidentEvent::StatusUpdated {
                note: "roofer on site, membrane torn".into(),
            },
            text_seals: Vec::new(),
        }]);
    given::<IncidentDecider>(opened())
        .when(update("   "), &at(manager(), "2025-09-30 10:00"))
        .then_error(DomainError::input("note", "it is empty"));
}

#[test]
fn closing_records_the_outcome_and_the_time() {
    let events = closed();
    assert_eq!(events.last().unwrap().event.name(), "IncidentClosed");
    let incident = incident_of(&events);
    assert_eq!(incident.closed_at, Some(bj("2025-10-08 17:00")));
    assert_eq!(incident.last_event_at, bj("2025-10-08 17:00"));
    assert_eq!(incident.opened_at, opened_at());

    given::<IncidentDecider>(opened())
        .when(
            IncidentCommand::Close { summary: String::new() },
            &at(manager(), "2025-10-08 17:00"),
        )
        .then_error(DomainError::input("summary", "it is empty"));
}

#[test]
fn nothing_happens_to_a_closed_incident() {
    for command in [link("T-2"), update("one more thing"), close()] {
        let err = given::<IncidentDecider>(closed())
            .when(command, &at(manager(), "2025-10-09 09:00"))
            .then_error_containing("closed");
        assert!(matches!(err, DomainError::InvalidTransition { .. }), "{err:?}");
        assert!(err.to_string().contains("incident INC-2025-7 is closed"), "{err}");
    }
    // Opening it again is refused as well: it exists.
    given::<IncidentDecider>(closed())
        .when(open(), &at(manager(), "2025-10-09 09:00"))
        .then_error_containing("incident INC-2025-7 already exists");
}

#[test]
fn a_closed_incident_refuses_even_a_ticket_already_linked() {
    // The closed status is what the refusal names, not the duplicate link.
    let err = given::<IncidentDecider>(closed())
        .when(link("T-1"), &at(manager(), "2025-10-09 09:00"))
        .then_error_containing("closed");
    assert_eq!(
        err.to_string(),
        "cannot link a ticket to the incident: incident INC-2025-7 is closed"
    );
}

// ---- who may handle an incident ----

#[test]
fn an_engineer_or_an_analyst_cannot_open_an_incident() {
    for role in [Role::Engineer, Role::Analyst] {
        let err = given::<IncidentDecider>([])
            .when(open(), &at(staff(role), "2025-09-30 09:00"))
            .then_error_containing("cannot handle incidents");
        assert!(matches!(err, DomainError::Forbidden { .. }), "{role}: {err:?}");
    }
}

#[test]
fn only_agents_managers_and_the_system_handle_incidents() {
    for role in Role::ALL {
        let allowed = matches!(role, Role::Agent | Role::Manager | Role::System);
        let actor = match role {
            Role::Owner => owner_actor(),
            Role::Contractor => contractor("C-1"),
            _ => staff(role),
        };
        for (history, command) in [(vec![], open()), (opened(), link("T-1")), (opened(), close())] {
            let result = given::<IncidentDecider>(history)
                .when(command, &at(actor.clone(), "2025-09-30 11:00"))
                .result();
            if allowed {
                assert!(result.is_ok(), "{role}: {result:?}");
            } else {
                assert!(
                    matches!(result, Err(DomainError::Forbidden { .. })),
                    "{role}: {result:?}"
                );
            }
        }
    }
}

// ---- the folded state ----

#[test]
fn the_fold_gives_the_linked_tickets_and_the_number_of_updates() {
    let events = history(vec![
        ("2025-09-30 09:00", open()),
        ("2025-09-30 09:10", link("T-3")),
        ("2025-09-30 09:11", link("T-1")),
        ("2025-09-30 10:00", update("roofer on site")),
        ("2025-09-30 11:00", link("T-2")),
        ("2025-09-30 15:00", update("membrane ordered")),
        ("2025-10-02 10:00", update("membrane laid, water test tomorrow")),
    ]);
    let names: Vec<&str> = events.iter().map(|e| e.event.name()).collect();
    assert_eq!(
        names,
        [
            "IncidentOpened",
            "TicketLinked",
            "TicketLinked",
            "StatusUpdated",
            "TicketLinked",
            "StatusUpdated",
            "StatusUpdated"
        ]
    );
    let incident = incident_of(&events);
    let tickets: Vec<&str> = incident.tickets.iter().map(TicketId::as_str).collect();
    assert_eq!(tickets, ["T-1", "T-2", "T-3"]);
    assert_eq!(incident.updates, 3);
    assert_eq!(incident.closed_at, None);
    assert_eq!(incident.last_event_at, bj("2025-10-02 10:00"));
}

#[test]
fn the_fold_of_nothing_is_no_incident() {
    assert_eq!(IncidentDecider::fold(&[]), IncidentState(None));
}

// ---- when the action happened ----

#[test]
fn an_update_before_the_previous_event_is_refused() {
    let events = history(vec![("2025-09-30 09:00", open()), ("2025-09-30 10:00", link("T-1"))]);
    let context = Context {
        occurred_at: Some(bj("2025-09-30 09:59")),
        ..at(manager(), "2025-09-30 12:00")
    };
    let err = given::<IncidentDecider>(events.clone())
        .when(update("called from the basement"), &context)
        .then_error_containing("before the record's previous event");
    assert!(matches!(err, DomainError::InvalidOccurredAt { .. }), "{err:?}");

    // Typed in at noon, it happened at 11:00: the event carries 11:00.
    let context = Context {
        occurred_at: Some(bj("2025-09-30 11:00")),
        ..at(manager(), "2025-09-30 12:00")
    };
    let events = given::<IncidentDecider>(events)
        .when(update("called from the basement"), &context)
        .then_names(&["StatusUpdated"]);
    assert_eq!(events.last().unwrap().occurred_at, bj("2025-09-30 11:00"));
}

#[test]
fn an_incident_opened_in_the_future_is_refused() {
    let context = Context {
        occurred_at: Some(opened_at() + TimeDelta::seconds(1)),
        ..at(manager(), "2025-09-30 09:00")
    };
    given::<IncidentDecider>([])
        .when(open(), &context)
        .then_error_containing("is in the future");
}
