//! Priority changes, progress notes and links to an incident.

use domain::actor::Role;
use domain::decider::Decider;
use domain::policy::{ClockTarget, TimeBasis};
use domain::testing::fixtures::*;
use domain::testing::given;
use domain::ticket::*;

use super::*;

#[test]
fn priority_changes_re_target_and_must_change_something() {
    let refs = refs();
    let h = dispatched(&refs);
    given::<TicketDecider>(h.clone())
        .when(
            TicketCommand::ChangePriority {
                priority: Priority::Urgent,
                reason: "x".into(),
            },
            &at(&refs, agent(), "2025-09-30 11:30"),
        )
        .then_error_containing("the priority is already urgent");
    given::<TicketDecider>(h.clone())
        .when(
            TicketCommand::ChangePriority {
                priority: Priority::Emergency,
                reason: String::new(),
            },
            &at(&refs, agent(), "2025-09-30 11:30"),
        )
        .then_error_containing("invalid reason: it is empty");
    let h = given::<TicketDecider>(h)
        .when(
            TicketCommand::ChangePriority {
                priority: Priority::Emergency,
                reason: "water now reaching the flat below".into(),
            },
            &at(&refs, agent(), "2025-09-30 11:30"),
        )
        .then_names(&["PriorityChanged"]);
    let TicketEvent::PriorityChanged { from, to, clocks, .. } = &h.last().unwrap().event else {
        panic!()
    };
    assert_eq!((*from, *to), (Priority::Urgent, Priority::Emergency));
    assert_eq!(
        clocks.resolution,
        Some(ClockTarget::Duration {
            minutes: 24 * 60,
            basis: TimeBasis::WallClock
        })
    );
    assert_eq!(TicketDecider::fold(&h).ticket().unwrap().priority, Priority::Emergency);
}

#[test]
fn progress_is_noted_on_work_under_way() {
    let refs = refs();
    let note = || TicketCommand::NoteProgress {
        note: "material ordered".into(),
    };
    given::<TicketDecider>(repair_received_and_acknowledged())
        .when(note(), &at(&refs, staff(Role::Manager), "2025-09-30 12:00"))
        .then_error_containing("there is no work in progress");
    given::<TicketDecider>(dispatched(&refs))
        .when(note(), &at(&refs, c1(), "2025-09-30 12:00"))
        .then_names(&["ProgressNoted"]);
}

#[test]
fn tickets_join_an_incident_once() {
    let refs = refs();
    let link = || TicketCommand::LinkIncident {
        incident: domain::ids::IncidentId::new("INC-7").unwrap(),
    };
    let h = given::<TicketDecider>(dispatched(&refs))
        .when(link(), &at(&refs, staff(Role::Manager), "2025-09-30 12:00"))
        .then_names(&["LinkedToIncident"]);
    assert_eq!(
        TicketDecider::fold(&h).ticket().unwrap().incident,
        Some(domain::ids::IncidentId::new("INC-7").unwrap())
    );
    given::<TicketDecider>(h)
        .when(link(), &at(&refs, staff(Role::Manager), "2025-09-30 12:10"))
        .then_error_containing("already part of incident INC-7");
}
