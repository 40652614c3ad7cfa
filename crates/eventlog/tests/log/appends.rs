//! Appends: expectations, refusals, limits, idempotent retries, contention.

use crate::support::*;

#[tokio::test]
async fn expectations_are_enforced_and_refusals_write_nothing() -> TestResult {
    let dir = tempfile::tempdir()?;
    let store = open(dir.path())?;
    let t1 = stream("ticket-1");

    let err = store
        .append(&t1, ExpectedVersion::StreamExists, vec![event("A", "x")])
        .await;
    assert!(
        matches!(err, Err(StoreError::WrongExpectedVersion { actual: None, .. })),
        "{err:?}"
    );
    let err = store
        .append(&t1, ExpectedVersion::Exact(0), vec![event("A", "x")])
        .await;
    assert!(matches!(err, Err(StoreError::WrongExpectedVersion { .. })), "{err:?}");
    assert_eq!(store.head(), None);

    let first = store
        .append(&t1, ExpectedVersion::NoStream, vec![event("A", "1"), event("B", "2")])
        .await?;
    assert_eq!(first.positions, vec![0, 1]);
    assert_eq!(first.stream_version, 1);

    let err = store
        .append(&t1, ExpectedVersion::NoStream, vec![event("A", "x")])
        .await;
    match err {
        Err(StoreError::WrongExpectedVersion {
            stream,
            expected,
            actual,
        }) => {
            assert_eq!(stream, t1);
            assert_eq!(expected, ExpectedVersion::NoStream);
            assert_eq!(actual, Some(1));
        }
        other => panic!("expected a refusal, got {other:?}"),
    }
    let err = store
        .append(&t1, ExpectedVersion::Exact(0), vec![event("A", "x")])
        .await;
    assert!(matches!(
        err,
        Err(StoreError::WrongExpectedVersion { actual: Some(1), .. })
    ));

    store
        .append(&t1, ExpectedVersion::Exact(1), vec![event("C", "3")])
        .await?;
    store
        .append(&t1, ExpectedVersion::StreamExists, vec![event("D", "4")])
        .await?;
    let last = store.append(&t1, ExpectedVersion::Any, vec![event("E", "5")]).await?;
    assert_eq!(last.positions, vec![4]);
    assert_eq!(last.stream_version, 4);

    let types: Vec<_> = store
        .read_stream(&t1, 0, 100)?
        .into_iter()
        .map(|e| e.event_type().to_owned())
        .collect();
    assert_eq!(types, ["A", "B", "C", "D", "E"]);
    assert_eq!(store.stream_version(&t1)?, Some(4));
    assert_eq!(store.stream_version(&stream("ticket-2"))?, None);
    assert_eq!(store.verify()?.events, 5);
    Ok(())
}

#[tokio::test]
async fn invalid_appends_are_refused_with_reasons() -> TestResult {
    let dir = tempfile::tempdir()?;
    let store = open(dir.path())?;
    let s = stream("s");
    assert!(matches!(
        store.append(&s, ExpectedVersion::Any, vec![]).await,
        Err(StoreError::InvalidAppend(_))
    ));
    let e = event("A", "x");
    let twice = vec![e.clone(), e.clone()];
    assert!(matches!(
        store.append(&s, ExpectedVersion::Any, twice).await,
        Err(StoreError::DuplicateIdInBatch { id }) if id == e.id
    ));
    let mut big = event("A", "x");
    big.payload = vec![0; eventlog::MAX_PAYLOAD_LEN + 1];
    let err = store.append(&s, ExpectedVersion::Any, vec![big]).await;
    assert!(
        matches!(&err, Err(StoreError::InvalidAppend(m)) if m.contains("payload")),
        "{err:?}"
    );
    let mut untyped = event("A", "x");
    untyped.event_type.clear();
    assert!(store.append(&s, ExpectedVersion::Any, vec![untyped]).await.is_err());
    let too_many: Vec<_> = (0..=eventlog::MAX_EVENTS_PER_APPEND).map(|_| event("A", "x")).collect();
    assert!(store.append(&s, ExpectedVersion::Any, too_many).await.is_err());
    assert!(StreamId::new("a\nb").is_err());
    assert!(StreamId::new("x".repeat(257)).is_err());
    assert_eq!(store.head(), None);
    Ok(())
}

#[tokio::test]
async fn idempotent_retries_return_original_positions() -> TestResult {
    let dir = tempfile::tempdir()?;
    let store = open(dir.path())?;
    let s = stream("ticket-9");
    let batch = vec![event("A", "1"), event("B", "2")];
    let first = store.append(&s, ExpectedVersion::NoStream, batch.clone()).await?;
    store
        .append(&stream("other"), ExpectedVersion::Any, vec![event("X", "x")])
        .await?;

    // A blind retry, even with an expectation that no longer holds.
    let retry = store.append(&s, ExpectedVersion::NoStream, batch.clone()).await?;
    assert_eq!(retry.positions, first.positions);
    assert_eq!(retry.stream_version, 1);
    assert!(retry.deduplicated && !first.deduplicated);
    assert_eq!(store.head(), Some(2));

    // Part of the batch written, part new: refused, nothing written.
    let partial = vec![batch[0].clone(), event("C", "3")];
    let err = store.append(&s, ExpectedVersion::Any, partial).await;
    assert!(
        matches!(
            &err,
            Err(StoreError::PartiallyWritten {
                existing: 1,
                total: 2,
                first_existing_position: 0,
                ..
            })
        ),
        "{err:?}"
    );
    // Same id, other content: refused.
    let mut reused = batch[1].clone();
    reused.payload = codec::encode(&"changed")?;
    let err = store.append(&s, ExpectedVersion::Any, vec![reused]).await;
    assert!(matches!(err, Err(StoreError::IdReused { position: 1, .. })), "{err:?}");
    // Same id, same content, other stream: a reuse, not a retry.
    let err = store
        .append(&stream("elsewhere"), ExpectedVersion::Any, vec![batch[0].clone()])
        .await;
    assert!(matches!(err, Err(StoreError::IdReused { position: 0, .. })), "{err:?}");
    assert_eq!(store.head(), Some(2));

    // The id index is permanent: it survives a restart.
    store.close()?;
    drop(store);
    let store = open(dir.path())?;
    let again = store.append(&s, ExpectedVersion::Any, batch).await?;
    assert_eq!(again.positions, vec![0, 1]);
    assert!(again.deduplicated);
    assert_eq!(store.head(), Some(2));
    store.verify()?;
    Ok(())
}

#[tokio::test]
async fn concurrent_retries_of_one_batch_write_it_once() -> TestResult {
    let dir = tempfile::tempdir()?;
    let store = Arc::new(open(dir.path())?);
    let batch = vec![event("A", "1"), event("B", "2"), event("C", "3")];
    let tasks: Vec<_> = (0..16)
        .map(|_| {
            let store = store.clone();
            let batch = batch.clone();
            tokio::spawn(async move { store.append(&stream("s"), ExpectedVersion::Any, batch).await })
        })
        .collect();
    let mut fresh = 0;
    for t in tasks {
        let outcome = t.await??;
        assert_eq!(outcome.positions, vec![0, 1, 2]);
        fresh += usize::from(!outcome.deduplicated);
    }
    assert_eq!(fresh, 1);
    assert_eq!(store.head(), Some(2));
    Ok(())
}

/// 32 tasks race for every version of one stream with `Exact`: exactly one
/// wins each version, the rest are refused, nothing is lost or doubled.
#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn contention_on_one_stream_has_exactly_one_winner_per_version() -> TestResult {
    let dir = tempfile::tempdir()?;
    let store = Arc::new(open(dir.path())?);
    let s = stream("hot");
    const TASKS: usize = 32;
    const VERSIONS: u64 = 20;
    let tasks: Vec<_> = (0..TASKS)
        .map(|task| {
            let store = store.clone();
            let s = s.clone();
            tokio::spawn(async move {
                let mut wins = Vec::new();
                let mut refusals = 0;
                loop {
                    let current = store.stream_version(&s)?;
                    let next = current.map_or(0, |v| v + 1);
                    if next >= VERSIONS {
                        return Ok::<_, StoreError>((wins, refusals));
                    }
                    let expected = current.map_or(ExpectedVersion::NoStream, ExpectedVersion::Exact);
                    match store
                        .append(&s, expected, vec![event("Bid", &format!("{task}:{next}"))])
                        .await
                    {
                        Ok(o) => wins.push((o.stream_version, task)),
                        Err(StoreError::WrongExpectedVersion { actual, .. }) => {
                            // A refusal never names a version readers cannot see yet.
                            assert!(store.stream_version(&s)? >= actual);
                            refusals += 1
                        }
                        Err(e) => return Err(e),
                    }
                }
            })
        })
        .collect();
    let mut winners = Vec::new();
    for t in tasks {
        let (wins, _refusals) = t.await??;
        winners.extend(wins);
    }
    winners.sort();
    let versions: Vec<u64> = winners.iter().map(|(v, _)| *v).collect();
    assert_eq!(
        versions,
        (0..VERSIONS).collect::<Vec<_>>(),
        "every version won exactly once"
    );
    let events = store.read_stream(&s, 0, 1000)?;
    assert_eq!(events.len() as u64, VERSIONS);
    for (event, (version, task)) in events.iter().zip(&winners) {
        assert_eq!(event.stream_version, *version);
        assert_eq!(
            codec::decode::<String>("Bid", 1, event.payload())?,
            format!("{task}:{version}")
        );
    }
    assert_eq!(store.verify()?.events, VERSIONS);
    Ok(())
}

/// `occurred_at` is kept at microsecond precision, and a blind retry with
/// the caller's original nanosecond value is recognised as the same event.
#[tokio::test]
async fn retry_with_a_nanosecond_occurred_at_is_a_retry() -> TestResult {
    let dir = tempfile::tempdir()?;
    let store = open(dir.path())?;
    let mut e = event("A", "x");
    e.metadata.occurred_at = chrono::DateTime::from_timestamp(1_700_000_000, 123_456_789);
    let first = store
        .append(&stream("s"), ExpectedVersion::Any, vec![e.clone()])
        .await?;
    let retry = store.append(&stream("s"), ExpectedVersion::Any, vec![e]).await?;
    assert!(retry.deduplicated);
    assert_eq!(retry.positions, first.positions);
    let stored = store.read_stream(&stream("s"), 0, 10)?;
    assert_eq!(
        stored[0].occurred_at(),
        chrono::DateTime::from_timestamp(1_700_000_000, 123_456_000)
    );
    // Versions at the very end of the range read as empty, not as a panic.
    assert!(store.read_stream(&stream("s"), u64::MAX, 10)?.is_empty());
    Ok(())
}
