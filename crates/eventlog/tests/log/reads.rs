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
