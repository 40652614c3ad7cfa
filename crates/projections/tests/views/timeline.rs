//! A ticket's audit history and replay.

use domain::ids::TicketId;
use domain::testing::fixtures::{bj, refs};
use domain::ticket::{Priority, Status, TicketCommand, TicketKind};
use projections::timeline::{self, AsOf};

use crate::support::*;

#[tokio::test]
async fn the_history_lists_every_event_and_replays_any_moment() {
    let f = Fixture::new();
    let refs = refs();
    let id = TicketId::new("T-7").unwrap();
    let received = decide(
        &refs,
        &[],
        vec![(
            agent(),
            "2025-09-29 09:00",
            receive_as("T-7", TicketKind::Repair, Priority::Normal),
        )],
    );
    let first = f.append(&id, &received).await;
    let more = decide(
        &refs,
        &received,
        vec![
            (
                agent(),
                "2025-09-29 09:30",
                TicketCommand::Acknowledge {
                    promised_at: None,
                    note: "called back".into(),
                },
            ),
            (
                agent(),
                "2025-09-29 09:40",
                TicketCommand::ChangePriority {
                    priority: Priority::Urgent,
                    reason: "water on the floor".into(),
                },
            ),
        ],
    );
    let last = f.append(&id, &more).await;

    let history = timeline::history(f.store.as_ref(), &id).unwrap();
    let summaries: Vec<&str> = history.iter().map(|e| e.summary.as_str()).collect();
    assert_eq!(
        summaries,
        [
            "normal repair received via back_office: 卫生间天花板渗水 water dripping from the bathroom ceiling",
            "acknowledged: called back",
            "priority normal → urgent: water on the floor",
        ]
    );
    assert_eq!(history[1].occurred_at, bj("2025-09-29 09:30"));
    assert_eq!(history[1].actor, agent());
    assert_eq!(history.iter().map(|e| e.stream_version).collect::<Vec<_>>(), [0, 1, 2]);

    let at_first = timeline::state_as_of(f.store.as_ref(), &id, AsOf::Position(first))
        .unwrap()
        .unwrap();
    assert_eq!(
        (at_first.status, at_first.priority),
        (Status::Received, Priority::Normal)
    );
    let now = timeline::state_as_of(f.store.as_ref(), &id, AsOf::Position(last))
        .unwrap()
        .unwrap();
    assert_eq!((now.status, now.priority), (Status::Acknowledged, Priority::Urgent));
    let by_occurrence = timeline::state_as_of(f.store.as_ref(), &id, AsOf::Occurred(bj("2025-09-29 09:35")))
        .unwrap()
        .unwrap();
    assert_eq!(
        (by_occurrence.status, by_occurrence.priority),
        (Status::Acknowledged, Priority::Normal)
    );
    assert!(
        timeline::state_as_of(f.store.as_ref(), &id, AsOf::Occurred(bj("2025-09-29 08:00")))
            .unwrap()
            .is_none()
    );
    assert!(timeline::history(f.store.as_ref(), &TicketId::new("T-404").unwrap())
        .unwrap()
        .is_empty());
}
