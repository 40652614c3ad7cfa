//! The tickets view: follows the log, survives restarts, lists with
//! filters and stable cursors, rebuilds while serving.

use domain::ids::{ContractorId, ProjectId, TicketId};
use domain::testing::fixtures::{bj, contractor, refs};
use domain::ticket::{Assignee, Priority, Status, TicketCommand, TicketKind};
use projections::runner::{self, ViewStatus};
use projections::tickets::{self, TicketFilter, TicketsView};

use crate::support::*;

fn id(s: &str) -> TicketId {
    TicketId::new(s).unwrap()
}

/// Appends `n` normal repairs T-0 … T-(n-1), received a minute apart from
/// 2025-09-29 09:00; every third is dispatched to contractor C-1.
async fn seed(f: &Fixture, n: usize) -> u64 {
    let refs = refs();
    let mut last = 0;
    for i in 0..n {
        let at = format!("2025-09-29 09:{:02}", i % 60);
        let ticket = format!("T-{i}");
        let mut events = decide(
            &refs,
            &[],
            vec![(agent(), &at, receive_as(&ticket, TicketKind::Repair, Priority::Normal))],
        );
        if i % 3 == 0 {
            let more = decide(
                &refs,
                &events,
                vec![
                    (
                        agent(),
                        "2025-09-29 10:30",
                        TicketCommand::Acknowledge {
                            promised_at: None,
                            note: String::new(),
                        },
                    ),
                    (
                        agent(),
                        "2025-09-29 10:40",
                        TicketCommand::Dispatch {
                            to: Assignee::Contractor(ContractorId::new("C-1").unwrap()),
                            note: String::new(),
                        },
                    ),
                ],
            );
            events.extend(more);
        }
        last = f.append(&id(&ticket), &events).await;
    }
    last
}

#[tokio::test]
async fn the_view_follows_the_log_and_answers_read_your_writes() {
    let f = Fixture::new();
    let view = runner::start(f.dyn_store(), f.views.clone(), Arc::new(TicketsView)).unwrap();
    let last = seed(&f, 7).await;
    view.wait_for(last, WAIT).await.unwrap();
    let t0 = tickets::ticket(&view.tree(), &id("T-0")).unwrap().unwrap();
    assert_eq!(t0.ticket.status, Status::Dispatched);
    assert_eq!(
        t0.ticket.assignee,
        Some(Assignee::Contractor(ContractorId::new("C-1").unwrap()))
    );
    let t1 = tickets::ticket(&view.tree(), &id("T-1")).unwrap().unwrap();
    assert_eq!(t1.ticket.status, Status::Received);
    assert!(tickets::ticket(&view.tree(), &id("T-99")).unwrap().is_none());
    assert_eq!(view.status(), ViewStatus::Live);
    assert_eq!(view.applied(), Some(last));
}

#[tokio::test]
async fn listing_filters_and_pages_newest_first() {
    let f = Fixture::new();
    let view = runner::start(f.dyn_store(), f.views.clone(), Arc::new(TicketsView)).unwrap();
    let last = seed(&f, 10).await;
    view.wait_for(last, WAIT).await.unwrap();
    let tree = view.tree();
    let ids = |page: &tickets::TicketPage| page.items.iter().map(|r| r.ticket.id.to_string()).collect::<Vec<_>>();

    let all = tickets::list(&tree, &TicketFilter::default(), 100, None).unwrap();
    assert_eq!(
        ids(&all),
        ["T-9", "T-8", "T-7", "T-6", "T-5", "T-4", "T-3", "T-2", "T-1", "T-0"]
    );
    assert!(!all.has_next_page);

    let c1 = TicketFilter {
        contractor: Some(ContractorId::new("C-1").unwrap()),
        ..TicketFilter::default()
    };
    assert_eq!(
        ids(&tickets::list(&tree, &c1, 100, None).unwrap()),
        ["T-9", "T-6", "T-3", "T-0"]
    );

    let received_in_project = TicketFilter {
        project: Some(ProjectId::new("HZ-1").unwrap()),
        status: Some(Status::Received),
        ..TicketFilter::default()
    };
    assert_eq!(
        ids(&tickets::list(&tree, &received_in_project, 100, None).unwrap()),
        ["T-8", "T-7", "T-5", "T-4", "T-2", "T-1"]
    );

    // Pages of three, following cursors, give every ticket once.
    let mut seen = Vec::new();
    let mut after = None;
    loop {
        let page = tickets::list(&tree, &TicketFilter::default(), 3, after.as_deref()).unwrap();
        seen.extend(ids(&page));
        if !page.has_next_page {
            break;
        }
        after = page.end_cursor.clone();
    }
    assert_eq!(seen, ids(&all));

    // Received-date range: [09:03, 09:06).
    let range = TicketFilter {
        received_from: Some(bj("2025-09-29 09:03")),
        received_before: Some(bj("2025-09-29 09:06")),
        ..TicketFilter::default()
    };
    assert_eq!(
        ids(&tickets::list(&tree, &range, 100, None).unwrap()),
        ["T-5", "T-4", "T-3"]
    );
    assert!(tickets::list(&tree, &TicketFilter::default(), 0, None).is_err());
    assert!(tickets::list(&tree, &TicketFilter::default(), 3, Some("zz")).is_err());
}

#[tokio::test]
async fn counting_gives_what_listing_pages_through_for_every_filter() {
    let f = Fixture::new();
    let view = runner::start(f.dyn_store(), f.views.clone(), Arc::new(TicketsView)).unwrap();
    let last = seed(&f, 10).await;
    view.wait_for(last, WAIT).await.unwrap();
    let tree = view.tree();
    let project = || Some(ProjectId::new("HZ-1").unwrap());
    let filters = [
        (TicketFilter::default(), 10),
        (
            TicketFilter {
                contractor: Some(ContractorId::new("C-1").unwrap()),
                ..TicketFilter::default()
            },
            4,
        ),
        (
            TicketFilter {
                project: project(),
                status: Some(Status::Received),
                ..TicketFilter::default()
            },
            6,
        ),
        // More than the index says: each record is read and matched.
        (
            TicketFilter {
                project: project(),
                kind: Some(TicketKind::Repair),
                status: Some(Status::Dispatched),
                ..TicketFilter::default()
            },
            4,
        ),
        (
            TicketFilter {
                contractor: Some(ContractorId::new("C-1").unwrap()),
                status: Some(Status::Received),
                ..TicketFilter::default()
            },
            0,
        ),
        (
            TicketFilter {
                received_from: Some(bj("2025-09-29 09:03")),
                received_before: Some(bj("2025-09-29 09:06")),
                ..TicketFilter::default()
            },
            3,
        ),
        // A bound inside a millisecond: the records decide.
        (
            TicketFilter {
                received_from: Some(bj("2025-09-29 09:03") + chrono::Duration::nanoseconds(1)),
                ..TicketFilter::default()
            },
            6,
        ),
    ];
    for (filter, expected) in filters {
        let listed = tickets::list(&tree, &filter, tickets::MAX_PAGE, None).unwrap();
        assert_eq!(tickets::count(&tree, &filter).unwrap(), expected, "{filter:?}");
        assert_eq!(listed.items.len() as u64, expected, "{filter:?}");
    }
    let backwards = TicketFilter {
        received_from: Some(bj("2025-09-29 09:06")),
        received_before: Some(bj("2025-09-29 09:03")),
        ..TicketFilter::default()
    };
    assert!(tickets::count(&tree, &backwards).is_err());
}

#[tokio::test]
async fn a_status_change_moves_the_ticket_between_indexes() {
    let f = Fixture::new();
    let view = runner::start(f.dyn_store(), f.views.clone(), Arc::new(TicketsView)).unwrap();
    let refs = refs();
    let history = decide(
        &refs,
        &[],
        vec![(
            agent(),
            "2025-09-29 09:00",
            receive_as("T-1", TicketKind::Repair, Priority::Normal),
        )],
    );
    let last = f.append(&id("T-1"), &history).await;
    view.wait_for(last, WAIT).await.unwrap();
    let received = TicketFilter {
        status: Some(Status::Received),
        ..TicketFilter::default()
    };
    assert_eq!(tickets::list(&view.tree(), &received, 10, None).unwrap().items.len(), 1);
    let more = decide(
        &refs,
        &history,
        vec![(
            agent(),
            "2025-09-29 09:10",
            TicketCommand::Acknowledge {
                promised_at: None,
                note: String::new(),
            },
        )],
    );
    let last = f.append(&id("T-1"), &more).await;
    view.wait_for(last, WAIT).await.unwrap();
    assert!(tickets::list(&view.tree(), &received, 10, None)
        .unwrap()
        .items
        .is_empty());
    let acknowledged = TicketFilter {
        status: Some(Status::Acknowledged),
        ..TicketFilter::default()
    };
    assert_eq!(
        tickets::list(&view.tree(), &acknowledged, 10, None)
            .unwrap()
            .items
            .len(),
        1
    );
    let _ = contractor("C-1");
}

#[tokio::test]
async fn a_restart_resumes_from_the_checkpoint() {
    let f = Fixture::new();
    let view = runner::start(f.dyn_store(), f.views.clone(), Arc::new(TicketsView)).unwrap();
    let first = seed(&f, 4).await;
    view.wait_for(first, WAIT).await.unwrap();
    f.store.close().unwrap();
    view.wait_stopped(WAIT).await.unwrap();
    assert_eq!(view.status(), ViewStatus::Stopped);
    // The handle's tree keeps the view database open.
    drop(view);
    let f = f.restart();
    // Events appended while no view runs are picked up at the next start.
    let refs = refs();
    let extra = decide(
        &refs,
        &[],
        vec![(
            agent(),
            "2025-09-29 11:00",
            receive_as("T-50", TicketKind::Complaint, Priority::Normal),
        )],
    );
    let last = f.append(&id("T-50"), &extra).await;
    let view = runner::start(f.dyn_store(), f.views.clone(), Arc::new(TicketsView)).unwrap();
    assert!(
        view.applied().is_some_and(|a| a >= first),
        "resumes from its checkpoint, not from 0"
    );
    view.wait_for(last, WAIT).await.unwrap();
    let all = tickets::list(&view.tree(), &TicketFilter::default(), 100, None).unwrap();
    assert_eq!(all.items.len(), 5);
    assert_eq!(
        tickets::ticket(&view.tree(), &id("T-50")).unwrap().unwrap().ticket.kind,
        TicketKind::Complaint
    );
}

/// The same fold under a new version number.
struct TicketsV2;
impl runner::Projection for TicketsV2 {
    fn name(&self) -> &'static str {
        "tickets"
    }
    fn version(&self) -> u32 {
        2
    }
    fn apply(
        &self,
        view: &mut runner::ViewWriter<'_>,
        event: &runner::Applied<'_>,
    ) -> Result<(), runner::ProjectionError> {
        TicketsView.apply(view, event)
    }
}

#[tokio::test]
async fn a_new_version_rebuilds_from_zero_and_replaces_the_old_tree() {
    let f = Fixture::new();
    let view = runner::start(f.dyn_store(), f.views.clone(), Arc::new(TicketsView)).unwrap();
    let last = seed(&f, 6).await;
    view.wait_for(last, WAIT).await.unwrap();
    let before = tickets::list(&view.tree(), &TicketFilter::default(), 100, None).unwrap();
    drop(view);
    let v2 = runner::start(f.dyn_store(), f.views.clone(), Arc::new(TicketsV2)).unwrap();
    v2.wait_until_live(WAIT).await.unwrap();
    let after = tickets::list(&v2.tree(), &TicketFilter::default(), 100, None).unwrap();
    assert_eq!(after, before, "rebuilt from 0, the same view");
    assert!(f.views.has_tree("tickets.v2"));
    assert!(
        !f.views.has_tree("tickets.v1"),
        "the old tree is dropped after the swap"
    );
    // An explicit rebuild gives the same view again.
    rebuild(&v2).await;
    assert_eq!(
        tickets::list(&v2.tree(), &TicketFilter::default(), 100, None).unwrap(),
        before
    );
    assert_eq!(
        f.views.tree_names().iter().filter(|n| n.starts_with("tickets")).count(),
        1
    );
}

fn dump(tree: &projections::store::ViewTree) -> Vec<(Vec<u8>, Vec<u8>)> {
    tree.scan_prefix(b"")
        .map(|e| e.unwrap())
        .filter(|(k, _)| k.first() != Some(&0))
        .collect()
}

#[tokio::test]
async fn views_sharing_one_reader_equal_views_reading_alone() {
    let f = Fixture::new();
    let last = seed(&f, 12).await;
    // Every view on its own reader, in one database ...
    let alone_db = projections::store::ViewDb::open(&f.dir.path().join("alone")).unwrap();
    let mut alone = Vec::new();
    for view in projections::all_views() {
        alone.push(runner::start(f.dyn_store(), alone_db.clone(), view).unwrap());
    }
    // ... and all of them on one shared reader, in another.
    let shared = runner::start_all(f.dyn_store(), f.views.clone(), projections::all_views()).unwrap();
    assert_eq!(shared.len(), alone.len());
    for (a, s) in alone.iter().zip(&shared) {
        a.wait_for(last, WAIT).await.unwrap();
        s.wait_for(last, WAIT).await.unwrap();
        assert_eq!(s.status(), ViewStatus::Live, "{}", s.name());
        assert_eq!(dump(&s.tree()), dump(&a.tree()), "view {}", s.name());
    }
    // Live appends reach every member.
    let refs = refs();
    let extra = decide(
        &refs,
        &[],
        vec![(
            agent(),
            "2025-09-29 12:00",
            receive_as("T-77", TicketKind::Inquiry, Priority::Normal),
        )],
    );
    let last = f.append(&id("T-77"), &extra).await;
    for s in &shared {
        s.wait_for(last, WAIT).await.unwrap();
    }
    assert!(tickets::ticket(&shared[0].tree(), &id("T-77")).unwrap().is_some());
    // A member asked to rebuild leaves the feed, rebuilds alone and comes
    // back with the same view; the others keep following.
    let before = dump(&shared[0].tree());
    rebuild(&shared[0]).await;
    assert_eq!(dump(&shared[0].tree()), before);
    let more = decide(
        &refs,
        &[],
        vec![(
            agent(),
            "2025-09-29 12:10",
            receive_as("T-78", TicketKind::Inquiry, Priority::Normal),
        )],
    );
    let last = f.append(&id("T-78"), &more).await;
    for s in &shared {
        s.wait_for(last, WAIT).await.unwrap();
    }
    assert!(tickets::ticket(&shared[0].tree(), &id("T-78")).unwrap().is_some());
}

#[tokio::test]
async fn the_record_cache_answers_as_the_view_does_and_sees_updates() {
    let f = Fixture::new();
    let view = runner::start(f.dyn_store(), f.views.clone(), Arc::new(TicketsView)).unwrap();
    let last = seed(&f, 4).await;
    view.wait_for(last, WAIT).await.unwrap();
    let cache = tickets::RecordCache::new(2);
    let tree = view.tree();
    for name in ["T-0", "T-1", "T-0"] {
        let cached = tickets::ticket_cached(&tree, &id(name), &cache).unwrap().unwrap();
        assert_eq!(*cached, tickets::ticket(&tree, &id(name)).unwrap().unwrap());
    }
    assert_eq!(cache.len(), 2);
    // A third ticket in a full cache: it starts over rather than grow.
    tickets::ticket_cached(&tree, &id("T-2"), &cache).unwrap().unwrap();
    assert_eq!(cache.len(), 1);
    assert!(tickets::ticket_cached(&tree, &id("T-99"), &cache).unwrap().is_none());

    // T-1 is acknowledged: the cached record of it must not be served.
    let before = tickets::ticket_cached(&tree, &id("T-1"), &cache).unwrap().unwrap();
    assert_eq!(before.ticket.status, Status::Received);
    // The same receipt `seed` decided for T-1, to decide the next step on.
    let history = decide(
        &refs(),
        &[],
        vec![(
            agent(),
            "2025-09-29 09:01",
            receive_as("T-1", TicketKind::Repair, Priority::Normal),
        )],
    );
    let more = decide(
        &refs(),
        &history,
        vec![(
            agent(),
            "2025-09-29 11:00",
            TicketCommand::Acknowledge {
                promised_at: None,
                note: String::new(),
            },
        )],
    );
    let position = f.append(&id("T-1"), &more).await;
    view.wait_for(position, WAIT).await.unwrap();
    let after = tickets::ticket_cached(&view.tree(), &id("T-1"), &cache)
        .unwrap()
        .unwrap();
    assert_eq!(after.ticket.status, Status::Acknowledged);
    assert_eq!(after.position, position);
}
