//! `verify` against indexes that do not match their records: every kind of
//! mismatch is found and named at a position, on a store that opens.

use crate::recovery::damaged_copy;
use crate::support::*;

fn stream_key(name: &str, version: u64) -> Vec<u8> {
    let mut key = vec![b'S'];
    key.extend_from_slice(&(name.len() as u16).to_be_bytes());
    key.extend_from_slice(name.as_bytes());
    key.extend_from_slice(&version.to_be_bytes());
    key
}

fn id_key(id: &EventId) -> Vec<u8> {
    let mut key = vec![b'I'];
    key.extend_from_slice(id.as_bytes());
    key
}

fn at(position: u64) -> Vec<u8> {
    position.to_be_bytes().to_vec()
}

type Damage = Box<dyn FnOnce(&sled::Tree) -> TestResult>;

#[tokio::test]
async fn verify_finds_every_index_entry_that_does_not_match_its_record() -> TestResult {
    let dir = tempfile::tempdir()?;
    let mut ids = Vec::new();
    {
        let store = open(dir.path())?;
        // Positions 0-2: stream a, versions 0-2; 3-4: stream b, 0-1.
        for (name, n) in [("a", 3), ("b", 2)] {
            for _ in 0..n {
                let e = event("A", "x");
                ids.push(e.id);
                store.append(&stream(name), ExpectedVersion::Any, vec![e]).await?;
            }
        }
        let report = store.verify()?;
        assert_eq!((report.events, report.streams, report.head), (5, 2, Some(4)));
    }
    let (id0, id3) = (ids[0], ids[3]);
    let cases: Vec<(&str, Damage)> = vec![
        (
            "a version's stream index entry removed",
            Box::new(|t: &sled::Tree| {
                t.remove(stream_key("a", 1))?;
                Ok(())
            }),
        ),
        (
            "a stream index entry pointing at another stream's record",
            Box::new(|t: &sled::Tree| {
                t.insert(stream_key("a", 0), at(3))?;
                Ok(())
            }),
        ),
        (
            "two versions' entries swapped",
            Box::new(|t: &sled::Tree| {
                t.insert(stream_key("a", 1), at(2))?;
                t.insert(stream_key("a", 2), at(1))?;
                Ok(())
            }),
        ),
        (
            "a stray stream index entry",
            Box::new(|t: &sled::Tree| {
                t.insert(stream_key("zz", 0), at(2))?;
                Ok(())
            }),
        ),
        (
            "an id index entry removed",
            Box::new(move |t: &sled::Tree| {
                t.remove(id_key(&id3))?;
                Ok(())
            }),
        ),
        (
            "an id index entry pointing at another record",
            Box::new(move |t: &sled::Tree| {
                t.insert(id_key(&id0), at(1))?;
                Ok(())
            }),
        ),
        (
            "a stray id index entry",
            Box::new(|t: &sled::Tree| {
                t.insert(id_key(&EventId::new_random()), at(4))?;
                Ok(())
            }),
        ),
    ];
    for (case, damage) in cases {
        let (_copy, store) = damaged_copy(dir.path(), damage)?;
        match store.verify() {
            Err(StoreError::Corrupt { position, reason }) => {
                assert!(position <= 4, "{case}: named position {position} ({reason})");
                assert!(!reason.is_empty(), "{case}");
            }
            other => panic!("{case}: verify answered {other:?}"),
        }
    }
    // The undamaged folder still verifies.
    let store = open(dir.path())?;
    assert_eq!(store.verify()?.events, 5);
    Ok(())
}
