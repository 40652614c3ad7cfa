//! Atomic multi-stream appends (`append_streams`): every part lands at
//! consecutive positions in one write-ahead frame, or none does.

use std::path::{Path, PathBuf};

use crate::support::*;

fn part(name: &str, expected: ExpectedVersion, events: Vec<NewEvent>) -> StreamAppend {
    StreamAppend {
        stream: stream(name),
        expected,
        events,
    }
}

fn events(n: usize, body: &str) -> Vec<NewEvent> {
    (0..n).map(|i| event("A", &format!("{body} {i}"))).collect()
}

fn ids_of(parts: &[StreamAppend]) -> Vec<EventId> {
    parts.iter().flat_map(|p| p.events.iter().map(|e| e.id)).collect()
}

fn all_ids(store: &SledEventStore) -> Result<Vec<EventId>, StoreError> {
    store.read_all(0).map(|e| e.map(|e| e.id)).collect()
}

#[tokio::test]
async fn parts_land_in_order_at_consecutive_positions() -> TestResult {
    let dir = tempfile::tempdir()?;
    let store = open(dir.path())?;
    store
        .append(&stream("a"), ExpectedVersion::NoStream, vec![event("A", "first")])
        .await?;

    let parts = vec![
        part("a", ExpectedVersion::Exact(0), events(2, "a")),
        part("b", ExpectedVersion::NoStream, events(1, "b")),
        part("c", ExpectedVersion::Any, events(3, "c")),
    ];
    let sent = ids_of(&parts);
    let outcomes = store.append_streams(parts.clone()).await?;
    assert_eq!(outcomes.len(), 3);
    assert_eq!(outcomes[0].positions, vec![1, 2]);
    assert_eq!(outcomes[0].stream_version, 2);
    assert_eq!(outcomes[1].positions, vec![3]);
    assert_eq!(outcomes[1].stream_version, 0);
    assert_eq!(outcomes[2].positions, vec![4, 5, 6]);
    assert_eq!(outcomes[2].stream_version, 2);
    assert!(outcomes.iter().all(|o| !o.deduplicated));
    assert_eq!(store.head(), Some(6));

    for (part, outcome) in parts.iter().zip(&outcomes) {
        let read = store.read_stream(&part.stream, 0, 100)?;
        let tail = &read[read.len() - part.events.len()..];
        for ((recorded, sent), position) in tail.iter().zip(&part.events).zip(&outcome.positions) {
            assert_eq!(recorded.id, sent.id);
            assert_eq!(recorded.position, *position);
            assert!(recorded.same_content_as(&part.stream, sent));
        }
        assert_eq!(store.stream_version(&part.stream)?, Some(outcome.stream_version));
    }
    assert_eq!(all_ids(&store)?[1..], sent[..]);
    assert_eq!(store.verify()?.events, 7);
    Ok(())
}

#[tokio::test]
async fn a_wrong_expected_version_in_the_last_part_writes_nothing() -> TestResult {
    let dir = tempfile::tempdir()?;
    let store = open(dir.path())?;
    store.append(&stream("a"), ExpectedVersion::Any, events(2, "a")).await?;
    store.append(&stream("c"), ExpectedVersion::Any, events(1, "c")).await?;
    let head = store.head();

    let result = store
        .append_streams(vec![
            part("a", ExpectedVersion::Exact(1), events(1, "a")),
            part("b", ExpectedVersion::NoStream, events(2, "b")),
            part("c", ExpectedVersion::Exact(5), events(1, "c")),
        ])
        .await;
    match result {
        Err(StoreError::WrongExpectedVersion {
            stream: s,
            expected,
            actual,
        }) => {
            assert_eq!(s, stream("c"));
            assert_eq!(expected, ExpectedVersion::Exact(5));
            assert_eq!(actual, Some(0));
        }
        other => panic!("expected WrongExpectedVersion, got {other:?}"),
    }
    assert_eq!(store.head(), head);
    assert_eq!(store.stream_version(&stream("a"))?, Some(1));
    assert_eq!(store.stream_version(&stream("b"))?, None);
    assert_eq!(store.stream_version(&stream("c"))?, Some(0));

    // Positions stay dense: the next append takes the next one.
    let next = store
        .append(&stream("b"), ExpectedVersion::NoStream, events(1, "b"))
        .await?;
    assert_eq!(next.positions, vec![3]);
    assert_eq!(store.verify()?.events, 4);
    Ok(())
}

#[tokio::test]
async fn malformed_calls_are_refused_before_anything_is_written() -> TestResult {
    let dir = tempfile::tempdir()?;
    let store = open(dir.path())?;

    let same_stream = store
        .append_streams(vec![
            part("a", ExpectedVersion::Any, events(1, "a")),
            part("b", ExpectedVersion::Any, events(1, "b")),
            part("a", ExpectedVersion::Any, events(1, "a again")),
        ])
        .await;
    match same_stream {
        Err(StoreError::InvalidAppend(reason)) => assert!(reason.contains("more than one part"), "{reason}"),
        other => panic!("expected InvalidAppend, got {other:?}"),
    }

    let empty_part = store
        .append_streams(vec![
            part("a", ExpectedVersion::Any, events(1, "a")),
            part("b", ExpectedVersion::Any, Vec::new()),
        ])
        .await;
    assert!(
        matches!(empty_part, Err(StoreError::InvalidAppend(_))),
        "{empty_part:?}"
    );

    let no_parts = store.append_streams(Vec::new()).await;
    assert!(matches!(no_parts, Err(StoreError::InvalidAppend(_))), "{no_parts:?}");

    let lost = store
        .append_streams(vec![
            part("a", ExpectedVersion::Any, events(1, "a")),
            part(eventlog::LOST_STREAM, ExpectedVersion::Any, events(1, "lost")),
        ])
        .await;
    assert!(matches!(lost, Err(StoreError::InvalidStreamId { .. })), "{lost:?}");

    let shared = event("A", "shared");
    let same_id = store
        .append_streams(vec![
            part("a", ExpectedVersion::Any, vec![shared.clone()]),
            part("b", ExpectedVersion::Any, vec![shared.clone()]),
        ])
        .await;
    assert!(
        matches!(same_id, Err(StoreError::DuplicateIdInBatch { id }) if id == shared.id),
        "{same_id:?}"
    );

    // Each part within a single append's limit, all of them over the
    // call's.
    let parts = eventlog::MAX_EVENTS_PER_MULTI_APPEND / eventlog::MAX_EVENTS_PER_APPEND + 1;
    let too_many = store
        .append_streams(
            (0..parts)
                .map(|i| {
                    part(
                        &format!("s{i}"),
                        ExpectedVersion::Any,
                        events(eventlog::MAX_EVENTS_PER_APPEND, "x"),
                    )
                })
                .collect(),
        )
        .await;
    assert!(matches!(too_many, Err(StoreError::InvalidAppend(_))), "{too_many:?}");

    let mut too_big = event("A", "big");
    too_big.payload = vec![0; eventlog::MAX_PAYLOAD_LEN + 1];
    let too_big = store
        .append_streams(vec![
            part("a", ExpectedVersion::Any, events(1, "a")),
            part("b", ExpectedVersion::Any, vec![too_big]),
        ])
        .await;
    assert!(matches!(too_big, Err(StoreError::InvalidAppend(_))), "{too_big:?}");

    assert_eq!(store.head(), None);
    assert_eq!(store.stream_version(&stream("a"))?, None);
    Ok(())
}

#[tokio::test]
async fn a_whole_retry_returns_the_original_positions() -> TestResult {
    let dir = tempfile::tempdir()?;
    let store = open(dir.path())?;
    store.append(&stream("z"), ExpectedVersion::Any, events(1, "z")).await?;
    let mut parts = vec![
        part("a", ExpectedVersion::NoStream, events(2, "a")),
        part("b", ExpectedVersion::NoStream, events(1, "b")),
    ];
    // A retry compares equal although the envelope keeps microseconds only.
    parts[1].events[0].metadata.occurred_at = chrono::DateTime::from_timestamp(1_700_000_000, 123_456_789);
    let first = store.append_streams(parts.clone()).await?;
    let head = store.head();

    // The expected versions no longer hold, but a retry is recognised first.
    let retry = store.append_streams(parts.clone()).await?;
    assert_eq!(retry.len(), first.len());
    for (again, original) in retry.iter().zip(&first) {
        assert!(again.deduplicated);
        assert_eq!(again.positions, original.positions);
        assert_eq!(again.stream_version, original.stream_version);
    }
    assert_eq!(store.head(), head);

    // A one-part retry through `append` of one of the parts is a retry too.
    let single = store
        .append(&parts[0].stream, parts[0].expected, parts[0].events.clone())
        .await?;
    assert!(single.deduplicated);
    assert_eq!(single.positions, first[0].positions);
    assert_eq!(store.head(), head);
    Ok(())
}

#[tokio::test]
async fn a_partial_overlap_is_refused_and_writes_nothing() -> TestResult {
    let dir = tempfile::tempdir()?;
    let store = open(dir.path())?;
    let a = events(2, "a");
    let b = events(1, "b");
    store
        .append_streams(vec![
            part("a", ExpectedVersion::Any, a.clone()),
            part("b", ExpectedVersion::Any, b.clone()),
        ])
        .await?;
    let head = store.head();

    // One part a retry, the other new.
    let result = store
        .append_streams(vec![
            part("a", ExpectedVersion::Any, a.clone()),
            part("c", ExpectedVersion::Any, events(2, "c")),
        ])
        .await;
    match result {
        Err(StoreError::PartiallyWritten {
            stream: s,
            existing,
            total,
            first_existing,
            first_existing_position,
        }) => {
            assert_eq!(s, stream("a"));
            assert_eq!((existing, total), (2, 4));
            assert_eq!(first_existing, a[0].id);
            assert_eq!(first_existing_position, 0);
        }
        other => panic!("expected PartiallyWritten, got {other:?}"),
    }

    // One part itself partly written.
    let mut grown = b.clone();
    grown.push(event("A", "b more"));
    let result = store
        .append_streams(vec![
            part("a", ExpectedVersion::Any, a.clone()),
            part("b", ExpectedVersion::Any, grown),
        ])
        .await;
    assert!(matches!(result, Err(StoreError::PartiallyWritten { .. })), "{result:?}");

    // An id reused with different content.
    let mut changed = b.clone();
    changed[0].payload = codec::encode(&"something else")?;
    let result = store
        .append_streams(vec![
            part("a", ExpectedVersion::Any, a.clone()),
            part("b", ExpectedVersion::Any, changed),
        ])
        .await;
    assert!(
        matches!(result, Err(StoreError::IdReused { id, position: 2 }) if id == b[0].id),
        "{result:?}"
    );

    assert_eq!(store.head(), head);
    assert_eq!(store.stream_version(&stream("c"))?, None);
    assert_eq!(store.stream_version(&stream("b"))?, Some(0));
    assert_eq!(store.verify()?.events, 3);
    Ok(())
}

#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn concurrent_appends_never_split_a_multi_stream_append() -> TestResult {
    let dir = tempfile::tempdir()?;
    let store = open(dir.path())?;
    let mut singles = Vec::new();
    for writer in 0..4 {
        let store = store.clone();
        singles.push(tokio::spawn(async move {
            for i in 0..40 {
                store
                    .append(
                        &stream(&format!("single-{writer}")),
                        ExpectedVersion::Any,
                        events(1 + i % 2, "single"),
                    )
                    .await?;
            }
            Ok::<_, StoreError>(())
        }));
    }
    let mut multis = Vec::new();
    for writer in 0..4 {
        let store = store.clone();
        multis.push(tokio::spawn(async move {
            let mut calls = Vec::new();
            for i in 0..25 {
                let parts: Vec<StreamAppend> = (0..3)
                    .map(|p| {
                        part(
                            &format!("multi-{writer}-{p}"),
                            ExpectedVersion::Any,
                            events(1 + (i + p) % 3, "m"),
                        )
                    })
                    .collect();
                let ids = ids_of(&parts);
                let outcomes = store.append_streams(parts).await?;
                calls.push((ids, outcomes));
            }
            Ok::<_, StoreError>(calls)
        }));
    }
    for task in singles {
        task.await??;
    }
    let mut calls = Vec::new();
    for task in multis {
        calls.extend(task.await??);
    }
    let log = all_ids(&store)?;
    for (ids, outcomes) in &calls {
        let positions: Vec<u64> = outcomes.iter().flat_map(|o| o.positions.iter().copied()).collect();
        let first = positions[0];
        let expected: Vec<u64> = (first..first + positions.len() as u64).collect();
        assert_eq!(positions, expected, "one call's positions are consecutive");
        assert_eq!(&log[first as usize..first as usize + ids.len()], &ids[..]);
    }
    assert_eq!(store.verify()?.events, log.len() as u64);
    Ok(())
}

fn only_wal_file(dir: &Path) -> Result<PathBuf, Box<dyn std::error::Error>> {
    let files: Vec<PathBuf> = std::fs::read_dir(dir.join("wal"))?
        .filter_map(|e| e.ok().map(|e| e.path()))
        .collect();
    assert_eq!(files.len(), 1, "{files:?}");
    Ok(files[0].clone())
}

/// Opens a copy of `snapshot` whose write-ahead file `wal_name` is cut to
/// `cut` bytes and checks that the multi-stream append `multi` (after the
/// events `before`) is wholly there or wholly absent. Returns whether it
/// is there.
async fn reopen_cut(
    snapshot: &Path,
    wal_name: &std::ffi::OsStr,
    cut: u64,
    before: &[EventId],
    multi: &[EventId],
) -> Result<bool, String> {
    let fail = |e: &dyn std::fmt::Display| format!("cut at {cut}: {e}");
    let copy = tempfile::tempdir().map_err(|e| fail(&e))?;
    copy_dir(snapshot, copy.path()).map_err(|e| fail(&e))?;
    std::fs::OpenOptions::new()
        .write(true)
        .open(copy.path().join("wal").join(wal_name))
        .and_then(|f| f.set_len(cut))
        .map_err(|e| fail(&e))?;
    let reopened = open(copy.path()).map_err(|e| fail(&e))?;
    let ids = all_ids(&reopened).map_err(|e| fail(&e))?;
    let version = |name: &str| reopened.stream_version(&stream(name)).map_err(|e| fail(&e));
    assert_eq!(ids[..before.len()], before[..], "cut at {cut}");
    let kept = ids.len() > before.len();
    if kept {
        assert_eq!(ids[before.len()..], multi[..], "cut at {cut}: all or nothing");
        assert_eq!(version("a")?, Some(6), "cut at {cut}");
        assert_eq!(version("b")?, Some(0), "cut at {cut}");
        assert_eq!(version("c")?, Some(1), "cut at {cut}");
    } else {
        assert_eq!(version("a")?, Some(4), "cut at {cut}");
        assert_eq!(version("b")?, None, "cut at {cut}");
        assert_eq!(version("c")?, None, "cut at {cut}");
    }
    reopened.verify().map_err(|e| fail(&e))?;
    // Dense positions from there on.
    let next = reopened
        .append(&stream("d"), ExpectedVersion::NoStream, vec![event("A", "after")])
        .await
        .map_err(|e| fail(&e))?;
    assert_eq!(next.positions, vec![ids.len() as u64], "cut at {cut}");
    reopened.close().map_err(|e| fail(&e))?;
    Ok(kept)
}

/// A folder copied while the store ran (what a kill leaves) with its
/// write-ahead file cut at every offset inside the frame of a
/// multi-stream append: reopened, the append is wholly there or wholly
/// absent, and the store goes on with dense positions.
#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn a_cut_frame_keeps_or_drops_a_multi_stream_append_whole() -> TestResult {
    let live = tempfile::tempdir()?;
    let store = open(live.path())?;
    let mut before = Vec::new();
    for i in 0..5 {
        let e = event("A", &format!("before {i}"));
        before.push(e.id);
        store.append(&stream("a"), ExpectedVersion::Any, vec![e]).await?;
    }
    let wal = only_wal_file(live.path())?;
    let frame_start = std::fs::metadata(&wal)?.len();
    let parts = vec![
        part("a", ExpectedVersion::Exact(4), events(2, "a")),
        part("b", ExpectedVersion::NoStream, events(1, "b")),
        part("c", ExpectedVersion::NoStream, events(2, "c")),
    ];
    let multi = ids_of(&parts);
    store.append_streams(parts).await?;
    let frame_end = std::fs::metadata(&wal)?.len();
    assert!(frame_end > frame_start);
    let snapshot = tempfile::tempdir()?;
    copy_dir(live.path(), snapshot.path())?;
    store.close()?;
    let wal_name = wal.file_name().ok_or("no file name")?.to_owned();

    // Every offset from the frame's first byte to its end, shared out
    // among a few tasks.
    const TASKS: u64 = 4;
    let snapshot = Arc::new(snapshot);
    let (before, multi) = (Arc::new(before), Arc::new(multi));
    let mut tasks = Vec::new();
    for task in 0..TASKS {
        let (snapshot, wal_name, before, multi) = (snapshot.clone(), wal_name.clone(), before.clone(), multi.clone());
        tasks.push(tokio::spawn(async move {
            let mut kept = 0u64;
            let mut dropped = 0u64;
            for cut in (frame_start + task..=frame_end).step_by(TASKS as usize) {
                if reopen_cut(snapshot.path(), &wal_name, cut, &before, &multi).await? {
                    kept += 1;
                } else {
                    dropped += 1;
                }
            }
            Ok::<_, String>((kept, dropped))
        }));
    }
    let (mut kept, mut dropped) = (0, 0);
    for task in tasks {
        let (k, d) = task.await??;
        kept += k;
        dropped += d;
    }
    assert_eq!(kept + dropped, frame_end - frame_start + 1);
    // The whole frame is always kept; a cut one is dropped unless sled
    // kept the group on its own.
    assert!(kept >= 1, "kept {kept}, dropped {dropped}");
    Ok(())
}
