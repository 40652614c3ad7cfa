//! Durability and recovery: buffered mode, corruption, the write-ahead
//! file, close.

use crate::support::*;

#[tokio::test]
async fn buffered_appends_are_durable_after_close() -> TestResult {
    let dir = tempfile::tempdir()?;
    let options = SledOptions {
        durability: Durability::Buffered {
            interval: Duration::from_secs(3600),
        },
        ..SledOptions::default()
    };
    let store = SledEventStore::open(dir.path(), options.clone())?;
    for i in 0..50 {
        store
            .append(&stream("s"), ExpectedVersion::Any, vec![event("A", &i.to_string())])
            .await?;
    }
    // Not synced yet, so not visible yet.
    assert_eq!(store.head(), None);
    store.close()?;
    drop(store);
    let store = SledEventStore::open(dir.path(), options)?;
    assert_eq!(store.head(), Some(49));
    assert_eq!(store.verify()?.events, 50);
    Ok(())
}

/// Flip bytes inside stored records (through sled, below the log's own
/// checks): reading and `verify` both report `Corrupt` at that position.
#[tokio::test]
async fn corrupted_records_are_reported_at_their_position() -> TestResult {
    let dir = tempfile::tempdir()?;
    {
        let store = open(dir.path())?;
        for i in 0..10 {
            store
                .append(
                    &stream(&format!("s{}", i % 3)),
                    ExpectedVersion::Any,
                    vec![event("A", &i.to_string())],
                )
                .await?;
        }
        store.close()?;
    }
    for (position, byte) in [(6u64, 30usize), (6, 70), (6, 0), (9, 2)] {
        let (_copy, store) = damaged_copy(dir.path(), |tree| {
            let key = chunk_key(position, 1);
            let mut bytes = tree.get(&key)?.ok_or("record missing")?.to_vec();
            bytes[byte] ^= 0x40;
            tree.insert(key, bytes)?;
            Ok(())
        })?;
        let err = store.verify();
        assert!(
            matches!(&err, Err(StoreError::Corrupt { position: p, .. }) if *p == position),
            "{err:?}"
        );
        let read: Result<Vec<_>, _> = store.read_all(0).collect();
        assert!(
            matches!(&read, Err(StoreError::Corrupt { position: p, .. }) if *p == position),
            "{read:?}"
        );
        // Events before the damage are still readable one by one.
        let before: Vec<_> = store.read_all(0).take(position as usize).collect::<Result<_, _>>()?;
        assert_eq!(before.len() as u64, position);
    }

    // A record that vanished is a gap, reported at its position too.
    let (_copy, store) = damaged_copy(dir.path(), |tree| {
        tree.remove(chunk_key(4, 1))?;
        Ok(())
    })?;
    assert!(matches!(store.verify(), Err(StoreError::Corrupt { position: 4, .. })));
    assert_eq!(
        store.read_all_batch(2, 10)?.len(),
        2,
        "the events before the gap come first"
    );
    assert!(matches!(
        store.read_all_batch(4, 10),
        Err(StoreError::Corrupt { position: 4, .. })
    ));
    Ok(())
}

/// The log key of a chunk of `count` records from `first` on (the store's
/// layout: a single record under its position, a longer chunk under its
/// first position and count).
fn chunk_key(first: u64, count: u32) -> Vec<u8> {
    let mut key = vec![b'L'];
    key.extend_from_slice(&first.to_be_bytes());
    if count != 1 {
        key.extend_from_slice(&count.to_be_bytes());
    }
    key
}

/// Opens a copy of `dir`, lets `damage` change the raw tree, and opens the
/// store on the result.
pub(crate) fn damaged_copy(
    dir: &std::path::Path,
    damage: impl FnOnce(&sled::Tree) -> TestResult,
) -> Result<(tempfile::TempDir, SledEventStore), Box<dyn std::error::Error>> {
    let copy = tempfile::tempdir()?;
    copy_dir(dir, copy.path())?;
    {
        let db = raw_sled(copy.path())?;
        let tree = db.open_tree("eventlog")?;
        damage(&tree)?;
        db.flush()?;
    }
    let store = open(copy.path())?;
    Ok((copy, store))
}

/// Events appended together share a chunk (one sled key). Damage to one
/// record inside it, to the chunk's header, or the loss of the whole chunk
/// is reported at the first position it makes unreadable; what comes
/// before stays readable.
#[tokio::test]
async fn damage_inside_a_chunk_is_reported_at_its_position() -> TestResult {
    let dir = tempfile::tempdir()?;
    let mut envelopes = Vec::new();
    {
        let store = open(dir.path())?;
        store
            .append(
                &stream("a"),
                ExpectedVersion::NoStream,
                vec![event("A", "0"), event("A", "1")],
            )
            .await?;
        let batch: Vec<_> = (2..12).map(|i| event("B", &i.to_string())).collect();
        store.append(&stream("b"), ExpectedVersion::NoStream, batch).await?;
        store
            .append(&stream("c"), ExpectedVersion::NoStream, vec![event("C", "12")])
            .await?;
        for e in store.read_all(0) {
            envelopes.push(e?.envelope_bytes().to_vec());
        }
        store.close()?;
    }
    assert_eq!(envelopes.len(), 13);

    // A byte inside record 6, found by its bytes within the chunk 2..12.
    for offset in [30usize, 70, 0] {
        let record = envelopes[6].clone();
        let (_copy, store) = damaged_copy(dir.path(), |tree| {
            let key = chunk_key(2, 10);
            let mut bytes = tree
                .get(&key)?
                .ok_or("the chunk of positions 2 to 11 is missing")?
                .to_vec();
            let at = bytes
                .windows(record.len())
                .position(|w| w == record.as_slice())
                .ok_or("record 6 is not in its chunk")?;
            bytes[at + offset] ^= 0x40;
            tree.insert(key, bytes)?;
            Ok(())
        })?;
        let err = store.verify();
        assert!(matches!(&err, Err(StoreError::Corrupt { position: 6, .. })), "{err:?}");
        let read: Result<Vec<_>, _> = store.read_all(0).collect();
        assert!(
            matches!(&read, Err(StoreError::Corrupt { position: 6, .. })),
            "{read:?}"
        );
        assert_eq!(
            store.read_all_batch(0, 100)?.len(),
            6,
            "the events before the damage come first"
        );
        assert_eq!(
            store.read_all_batch(3, 100)?.len(),
            3,
            "a read starting inside the chunk"
        );
        assert!(matches!(
            store.read_all_batch(6, 100),
            Err(StoreError::Corrupt { position: 6, .. })
        ));
        assert_eq!(
            store.read_all_batch(7, 100)?.len(),
            6,
            "the records after it are intact"
        );
        assert!(matches!(
            store.read_stream(&stream("b"), 0, 100),
            Err(StoreError::Corrupt { position: 6, .. })
        ));
        assert_eq!(store.read_stream(&stream("a"), 0, 100)?.len(), 2);
    }

    // The chunk's header: its record count or an end offset.
    for at in [6usize, 14] {
        let (_copy, store) = damaged_copy(dir.path(), |tree| {
            let key = chunk_key(2, 10);
            let mut bytes = tree.get(&key)?.ok_or("chunk missing")?.to_vec();
            bytes[at] ^= 0x01;
            tree.insert(key, bytes)?;
            Ok(())
        })?;
        let err = store.verify();
        assert!(
            matches!(&err, Err(StoreError::Corrupt { position: 2, .. })),
            "byte {at}: {err:?}"
        );
        let read: Result<Vec<_>, _> = store.read_all(0).collect();
        assert!(
            matches!(&read, Err(StoreError::Corrupt { position: 2, .. })),
            "{read:?}"
        );
        assert!(matches!(
            store.read_all_batch(5, 10),
            Err(StoreError::Corrupt { position: 5, .. })
        ));
        assert_eq!(store.read_all_batch(12, 10)?.len(), 1);
    }

    // The whole chunk gone: a gap at its first position.
    let (_copy, store) = damaged_copy(dir.path(), |tree| {
        tree.remove(chunk_key(2, 10))?;
        Ok(())
    })?;
    assert!(matches!(store.verify(), Err(StoreError::Corrupt { position: 2, .. })));
    assert_eq!(store.read_all_batch(0, 10)?.len(), 2);
    assert!(matches!(
        store.read_all_batch(4, 10),
        Err(StoreError::Corrupt { position: 4, .. })
    ));

    // A second chunk overlapping the first is damage too, never read as
    // two versions of the same positions.
    let (_copy, store) = damaged_copy(dir.path(), |tree| {
        let bytes = tree.get(chunk_key(12, 1))?.ok_or("record 12 missing")?;
        tree.insert(chunk_key(11, 1), bytes)?;
        Ok(())
    })?;
    let err = store.verify();
    assert!(matches!(&err, Err(StoreError::Corrupt { position: 12, .. })), "{err:?}");

    // A stray key with the same first position as a chunk sorts before it
    // (the plain key of a single record, here a copy of record 0 beside
    // the chunk of positions 0 and 1): the walk starts at the first of
    // them, so the overlap is found where the two part.
    let first = envelopes[0].clone();
    let (_copy, store) = damaged_copy(dir.path(), |tree| {
        tree.insert(chunk_key(0, 1), first)?;
        Ok(())
    })?;
    let err = store.verify();
    assert!(matches!(&err, Err(StoreError::Corrupt { position: 1, .. })), "{err:?}");
    let read: Result<Vec<_>, _> = store.read_all(0).collect();
    assert!(
        matches!(&read, Err(StoreError::Corrupt { position: 1, .. })),
        "{read:?}"
    );
    Ok(())
}

/// A store written by the one-record-per-key layout (format 1) opens as it
/// is: its records read as chunks of one, its marker is raised to 2, and
/// new appends are chunked beside the old records.
#[tokio::test]
async fn a_format_1_store_opens_and_is_upgraded() -> TestResult {
    let dir = tempfile::tempdir()?;
    {
        let store = open(dir.path())?;
        for i in 0..5 {
            store
                .append(&stream("s"), ExpectedVersion::Any, vec![event("A", &i.to_string())])
                .await?;
        }
        store.close()?;
    }
    {
        // Single appends are stored exactly as format 1 stored them; only
        // the marker says otherwise.
        let db = raw_sled(dir.path())?;
        let tree = db.open_tree("eventlog")?;
        let keys: Vec<_> = tree.scan_prefix(b"L").keys().collect::<Result<_, _>>()?;
        assert!(keys.iter().all(|k| k.len() == 9), "one key per record");
        tree.insert(b"Mformat", &1u32.to_be_bytes())?;
        db.flush()?;
    }
    {
        let store = open(dir.path())?;
        assert_eq!(store.verify()?.events, 5);
        let batch: Vec<_> = (5..9).map(|i| event("B", &i.to_string())).collect();
        store.append(&stream("s"), ExpectedVersion::Exact(4), batch).await?;
        assert_eq!(store.read_stream(&stream("s"), 3, 100)?.len(), 6);
        store.close()?;
    }
    let db = raw_sled(dir.path())?;
    let tree = db.open_tree("eventlog")?;
    assert_eq!(
        tree.get(b"Mformat")?.map(|v| v.to_vec()),
        Some(2u32.to_be_bytes().to_vec())
    );
    assert!(tree.get(chunk_key(5, 4))?.is_some(), "the new batch is one chunk");
    drop(tree);
    drop(db);
    // A marker this build does not know is refused, not guessed at.
    let (_copy, err) = {
        let copy = tempfile::tempdir()?;
        copy_dir(dir.path(), copy.path())?;
        {
            let db = raw_sled(copy.path())?;
            db.open_tree("eventlog")?.insert(b"Mformat", &3u32.to_be_bytes())?;
            db.flush()?;
        }
        let err = open(copy.path()).err();
        (copy, err)
    };
    assert!(
        matches!(err, Some(StoreError::UnsupportedFormat { found: 3, supported: 2 })),
        "{err:?}"
    );
    Ok(())
}

/// In buffered mode a retry before the interval's sync (nothing visible
/// yet) is still recognised, a reuse still refused, and both after a
/// restart too.
#[tokio::test]
async fn retries_are_recognised_before_the_id_index_is_written() -> TestResult {
    let dir = tempfile::tempdir()?;
    let options = SledOptions {
        durability: Durability::Buffered {
            interval: Duration::from_secs(3600),
        },
        ..SledOptions::default()
    };
    let store = SledEventStore::open(dir.path(), options.clone())?;
    let batch = vec![event("A", "1"), event("B", "2")];
    let first = store
        .append(&stream("s"), ExpectedVersion::NoStream, batch.clone())
        .await?;
    assert_eq!(store.head(), None, "nothing synced yet");
    let retry = store
        .append(&stream("s"), ExpectedVersion::NoStream, batch.clone())
        .await?;
    assert!(retry.deduplicated);
    assert_eq!(retry.positions, first.positions);
    let err = store
        .append(&stream("t"), ExpectedVersion::Any, vec![batch[1].clone()])
        .await;
    assert!(matches!(err, Err(StoreError::IdReused { position: 1, .. })), "{err:?}");
    store.close()?;
    drop(store);

    let store = SledEventStore::open(dir.path(), options)?;
    assert_eq!(store.verify()?.events, 2);
    let again = store.append(&stream("s"), ExpectedVersion::Any, batch).await?;
    assert!(again.deduplicated);
    assert_eq!(again.positions, vec![0, 1]);
    store.close()?;
    Ok(())
}

/// A copy of the folder taken while the store runs is what a crash leaves:
/// sled unflushed, the events in the write-ahead file. Opening it replays
/// them; a write-ahead tail cut short loses only the cut frame, and says so.
#[tokio::test]
async fn write_ahead_file_is_replayed_and_a_torn_tail_dropped() -> TestResult {
    let dir = tempfile::tempdir()?;
    let store = open(dir.path())?;
    let mut sent = Vec::new();
    for i in 0..30 {
        let e = event("A", &format!("event {i}"));
        sent.push(e.id);
        store
            .append(&stream(&format!("s{}", i % 4)), ExpectedVersion::Any, vec![e])
            .await?;
    }
    let snapshot = tempfile::tempdir()?;
    copy_dir(dir.path(), snapshot.path())?;
    store.close()?;

    let torn = tempfile::tempdir()?;
    copy_dir(snapshot.path(), torn.path())?;

    let replayed = open(snapshot.path())?;
    assert_eq!(replayed.recovery().discarded_bytes, 0);
    let ids: Vec<_> = replayed
        .read_all(0)
        .map(|e| e.map(|e| e.id))
        .collect::<Result<_, _>>()?;
    assert_eq!(ids, sent, "every acknowledged event came back, in order");
    assert_eq!(replayed.verify()?.events, 30);
    replayed.close()?;

    // Cut the last frame short: its event was never acknowledged.
    let wal_dir = torn.path().join("wal");
    let wal = std::fs::read_dir(&wal_dir)?
        .filter_map(|e| e.ok())
        .map(|e| e.path())
        .max_by_key(|p| std::fs::metadata(p).map(|m| m.len()).unwrap_or(0))
        .ok_or("no write-ahead file")?;
    let len = std::fs::metadata(&wal)?.len();
    std::fs::OpenOptions::new().write(true).open(&wal)?.set_len(len - 20)?;
    let store = open(torn.path())?;
    let report = store.recovery();
    let head = store.head().ok_or("empty log")?;
    // sled may already hold the last event on its own; if not, the cut
    // frame is dropped and counted.
    if head == 28 {
        assert!(report.discarded_bytes > 0, "{report:?}");
    } else {
        assert_eq!(head, 29);
    }
    let ids: Vec<_> = store.read_all(0).map(|e| e.map(|e| e.id)).collect::<Result<_, _>>()?;
    assert_eq!(ids[..], sent[..=head as usize]);
    store.verify()?;
    // The store goes on from there with dense positions.
    let next = store
        .append(&stream("s0"), ExpectedVersion::Any, vec![event("B", "after")])
        .await?;
    assert_eq!(next.positions, vec![head + 1]);
    Ok(())
}

/// Closing while an append waits for its acknowledgement finishes the
/// append and returns, even when `close` blocks the only thread of a
/// single-threaded runtime (so the appending task cannot run meanwhile).
#[test]
fn close_with_an_append_in_flight_does_not_hang() -> TestResult {
    let dir = tempfile::tempdir()?;
    let path = dir.path().to_path_buf();
    let (done_tx, done_rx) = std::sync::mpsc::channel();
    // A hang must fail the test, not block it: the scenario runs on its
    // own thread and the test waits for it with a deadline.
    std::thread::spawn(move || {
        let result = (|| -> Result<Option<Result<eventlog::AppendOutcome, StoreError>>, String> {
            let runtime = tokio::runtime::Builder::new_current_thread()
                .enable_all()
                .build()
                .map_err(|e| e.to_string())?;
            runtime.block_on(async {
                let store = Arc::new(open(&path).map_err(|e| e.to_string())?);
                let mut appender = {
                    let store = store.clone();
                    tokio::spawn(async move {
                        store
                            .append(&stream("s"), ExpectedVersion::Any, vec![event("A", "1")])
                            .await
                    })
                };
                // Let the append reach the writer and start waiting.
                for _ in 0..10 {
                    tokio::task::yield_now().await;
                }
                store.close().map_err(|e| e.to_string())?;
                Ok(futures_util::FutureExt::now_or_never(&mut appender).map(|r| r.unwrap_or(Err(StoreError::Closed))))
            })
        })();
        let _ = done_tx.send(result);
    });
    let result = done_rx
        .recv_timeout(Duration::from_secs(20))
        .map_err(|_| "close() hung with an append in flight")?;
    // The append was acknowledged, refused as closed, or not yet polled to
    // its end: never lost half-way (the reopen below shows what landed).
    let outcome = result?;
    if let Some(Err(e)) = &outcome {
        assert!(matches!(e, StoreError::Closed), "{e:?}");
    }
    let store = open(dir.path())?;
    if let Some(Ok(o)) = outcome {
        assert_eq!(store.head(), Some(o.positions[0]));
    }
    store.verify()?;
    Ok(())
}

/// A store with events whose write-ahead folder vanished refuses to open
/// rather than silently forgetting what it last acknowledged.
#[tokio::test]
async fn a_missing_write_ahead_folder_is_reported() -> TestResult {
    let dir = tempfile::tempdir()?;
    {
        let store = open(dir.path())?;
        store
            .append(&stream("s"), ExpectedVersion::Any, vec![event("A", "1")])
            .await?;
        store.close()?;
    }
    std::fs::remove_dir_all(dir.path().join("wal"))?;
    let err = open(dir.path()).err();
    assert!(
        matches!(&err, Some(StoreError::Corrupt { reason, .. }) if reason.contains("write-ahead folder")),
        "{err:?}"
    );
    Ok(())
}

/// A sled page-table snapshot cut short by a kill (`snap.<lsn>.generating`,
/// never renamed into place) does not stop the store from opening: sled
/// 0.34 would take it as its newest snapshot and refuse to open with
/// `Corruption`; the store removes it first and every event is there.
#[tokio::test]
async fn a_sled_snapshot_interrupted_by_a_kill_does_not_stop_the_store_opening() -> TestResult {
    let dir = tempfile::tempdir()?;
    {
        let store = open(dir.path())?;
        store
            .append(
                &stream("a"),
                ExpectedVersion::NoStream,
                vec![event("A", "0"), event("A", "1")],
            )
            .await?;
        store
            .append(&stream("b"), ExpectedVersion::NoStream, vec![event("B", "0")])
            .await?;
    }
    let cut_short = dir.path().join("snap.FFFFFFFFFFFFFFFF.generating");
    std::fs::write(&cut_short, b"the first bytes of a snapshot, then the kill")?;
    let store = open(dir.path())?;
    assert!(!cut_short.exists(), "the unpublished snapshot file was removed");
    let report = store.verify()?;
    assert_eq!((report.events, report.streams), (3, 2));
    Ok(())
}
