//! Reads: records as stored, subscriptions, read-your-writes, upcasting.

use crate::support::*;

#[tokio::test]
async fn records_round_trip_with_metadata_and_monotonic_recorded_at() -> TestResult {
    let dir = tempfile::tempdir()?;
    let store = open(dir.path())?;
    let mut e = event("Received", "漏水 in the bathroom");
    e.metadata.occurred_at = chrono::DateTime::from_timestamp(1_700_000_000, 0);
    e.metadata.correlation_id = Some(uuid::Uuid::new_v4());
    e.metadata.causation_id = Some(uuid::Uuid::new_v4());
    let sent = e.clone();
    store.append(&stream("t"), ExpectedVersion::Any, vec![e]).await?;
    for i in 0..20 {
        store
            .append(&stream("t"), ExpectedVersion::Any, vec![event("N", &i.to_string())])
            .await?;
    }
    let all: Vec<_> = store.read_all(0).collect::<Result<_, _>>()?;
    assert_eq!(all.len(), 21);
    assert!(all[0].same_content_as(&stream("t"), &sent));
    assert_eq!(
        codec::decode::<String>("Received", 1, all[0].payload())?,
        "漏水 in the bathroom"
    );
    assert!(all.windows(2).all(|w| w[0].recorded_at <= w[1].recorded_at));
    assert!(all
        .iter()
        .enumerate()
        .all(|(i, e)| e.position == i as u64 && e.stream_version == i as u64));
    Ok(())
}

/// A subscriber that starts while 8 writers append sees every position
/// exactly once, in order, across its catch-up and its live tail.
#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn subscription_has_no_gap_and_no_duplicate_under_load() -> TestResult {
    let dir = tempfile::tempdir()?;
    let store = Arc::new(open(dir.path())?);
    for i in 0..300 {
        store
            .append(&stream("warm"), ExpectedVersion::Any, vec![event("W", &i.to_string())])
            .await?;
    }
    let mut sub = store.clone().subscribe(100);
    let writers: Vec<_> = (0..8)
        .map(|w| {
            let store = store.clone();
            tokio::spawn(async move {
                for i in 0..100 {
                    let batch = vec![event("L", &format!("{w}-{i}")), event("L2", "x")];
                    store
                        .append(&stream(&format!("w{w}")), ExpectedVersion::Any, batch)
                        .await?;
                }
                Ok::<_, StoreError>(())
            })
        })
        .collect();
    let total = 300 + 8 * 100 * 2;
    let mut seen = 100;
    while seen < total {
        let e = tokio::time::timeout(Duration::from_secs(30), sub.next())
            .await?
            .ok_or("subscription ended early")??;
        assert_eq!(e.position, seen, "positions arrive in order without gaps");
        seen += 1;
    }
    for w in writers {
        w.await??;
    }
    // Nothing more arrives: no duplicates after the end.
    assert!(tokio::time::timeout(Duration::from_millis(200), sub.next())
        .await
        .is_err());
    // Per stream, each writer's pairs are adjacent (one append is atomic).
    for w in 0..8 {
        let events = store.read_stream(&stream(&format!("w{w}")), 0, 1000)?;
        assert_eq!(events.len(), 200);
        for pair in events.chunks(2) {
            assert_eq!(pair[1].position, pair[0].position + 1);
        }
    }
    Ok(())
}

#[tokio::test]
async fn read_your_writes_wait_and_subscription_end_on_close() -> TestResult {
    let dir = tempfile::tempdir()?;
    let store = Arc::new(SledEventStore::open(
        dir.path(),
        SledOptions {
            durability: Durability::Buffered {
                interval: Duration::from_millis(50),
            },
            ..SledOptions::default()
        },
    )?);
    let outcome = store
        .append(&stream("s"), ExpectedVersion::Any, vec![event("A", "1")])
        .await?;
    assert!(wait_for_position(store.as_ref(), outcome.last_position(), Duration::from_secs(5)).await);
    assert_eq!(store.read_stream(&stream("s"), 0, 10)?.len(), 1);
    assert!(!wait_for_position(store.as_ref(), 99, Duration::from_millis(100)).await);

    let mut sub = Subscription::new(store.clone(), 0);
    assert_eq!(sub.next().await.ok_or("no event")??.position, 0);
    store.close()?;
    assert!(sub.next().await.is_none(), "a closed store ends its subscriptions");
    assert!(matches!(
        store
            .append(&stream("s"), ExpectedVersion::Any, vec![event("A", "2")])
            .await,
        Err(StoreError::Closed)
    ));
    Ok(())
}

/// An event written with payload schema v1 reads back as the current v2
/// type through an upcaster, after a restart.
#[tokio::test]
async fn upcasting_round_trip_through_the_store() -> TestResult {
    #[derive(serde::Serialize, serde::Deserialize)]
    struct OwnerRegisteredV1 {
        name: String,
    }
    #[derive(serde::Serialize, serde::Deserialize, PartialEq, Debug)]
    struct OwnerRegisteredV2 {
        name: String,
        phone: Option<String>,
    }
    let dir = tempfile::tempdir()?;
    {
        let store = open(dir.path())?;
        let mut old = event("OwnerRegistered", "");
        old.payload = codec::encode(&OwnerRegisteredV1 { name: "李".into() })?;
        let mut new = event("OwnerRegistered", "");
        new.schema_version = 2;
        new.payload = codec::encode(&OwnerRegisteredV2 {
            name: "王".into(),
            phone: Some("13800000000".into()),
        })?;
        store
            .append(&stream("owner-1"), ExpectedVersion::NoStream, vec![old, new])
            .await?;
        store.close()?;
    }
    let store = open(dir.path())?;
    let mut upcasters = codec::Upcasters::default();
    upcasters.register("OwnerRegistered", 1, |bytes| {
        let v1: OwnerRegisteredV1 = codec::decode("OwnerRegistered", 1, bytes)?;
        codec::encode(&OwnerRegisteredV2 {
            name: v1.name,
            phone: None,
        })
    });
    let decoded: Vec<OwnerRegisteredV2> = store
        .read_stream(&stream("owner-1"), 0, 10)?
        .iter()
        .map(|e| upcasters.decode(e.event_type(), e.schema_version, e.payload(), 2))
        .collect::<Result<_, _>>()?;
    assert_eq!(
        decoded,
        vec![
            OwnerRegisteredV2 {
                name: "李".into(),
                phone: None
            },
            OwnerRegisteredV2 {
                name: "王".into(),
                phone: Some("13800000000".into())
            },
        ]
    );
    Ok(())
}

/// One append larger than a chunk (64 records) is stored in several; reads
/// starting at, before and after every chunk boundary, with any limit,
/// return exactly the positions asked for, after a reopen too.
#[tokio::test]
async fn reads_cross_chunk_boundaries() -> TestResult {
    let dir = tempfile::tempdir()?;
    {
        let store = open(dir.path())?;
        store
            .append(&stream("a"), ExpectedVersion::NoStream, vec![event("A", "0")])
            .await?;
        let batch: Vec<_> = (0..300).map(|i| event("B", &i.to_string())).collect();
        store.append(&stream("b"), ExpectedVersion::NoStream, batch).await?;
        store
            .append(
                &stream("c"),
                ExpectedVersion::NoStream,
                vec![event("C", "x"), event("C", "y")],
            )
            .await?;
        store.close()?;
    }
    let store = open(dir.path())?;
    assert_eq!(store.verify()?.events, 303);
    for from in [0u64, 1, 2, 63, 64, 65, 66, 127, 128, 129, 300, 301, 302, 303, 304] {
        let all: Vec<_> = store.read_all(from).collect::<Result<_, _>>()?;
        let positions: Vec<u64> = all.iter().map(|e| e.position).collect();
        assert_eq!(positions, (from..303).collect::<Vec<_>>(), "read_all from {from}");
        for limit in [1usize, 2, 63, 64, 65, 500] {
            let batch = store.read_all_batch(from, limit)?;
            let positions: Vec<u64> = batch.iter().map(|e| e.position).collect();
            let expected: Vec<u64> = (from..303).take(limit).collect();
            assert_eq!(positions, expected, "read_all_batch from {from}, limit {limit}");
        }
    }
    let b = store.read_stream(&stream("b"), 100, 1000)?;
    let versions: Vec<u64> = b.iter().map(|e| e.stream_version).collect();
    assert_eq!(versions, (100..300).collect::<Vec<_>>());
    assert_eq!(b.first().map(|e| e.position), Some(101));
    Ok(())
}

/// The streams of one kind of record are listed by their name's prefix,
/// each once, whatever their length and number of events.
#[tokio::test]
async fn streams_are_listed_by_prefix() -> TestResult {
    let dir = tempfile::tempdir()?;
    let store = open(dir.path())?;
    for (name, n) in [
        ("project-HZ-1", 3),
        ("project-SH-20", 1),
        ("projects-x", 1),
        ("ticket-T-1", 2),
        ("project-A", 2),
    ] {
        for i in 0..n {
            store
                .append(
                    &stream(name),
                    ExpectedVersion::Any,
                    vec![event("A", &format!("{name} {i}"))],
                )
                .await?;
        }
    }
    let names: Vec<String> = store
        .streams_with_prefix("project-")?
        .iter()
        .map(|s| s.as_str().to_string())
        .collect();
    assert_eq!(names, ["project-A", "project-HZ-1", "project-SH-20"]);
    assert!(store.streams_with_prefix("nothing-")?.is_empty());
    Ok(())
}
