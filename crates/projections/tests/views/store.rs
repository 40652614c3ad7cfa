//! The view store: its snapshot bytes pinned by a committed fixture,
//! damage at every offset named and set aside, reads equal to a model,
//! writes that survive a reopen.

use std::collections::BTreeMap;
use std::path::Path;

use projections::store::{snapshot, ViewBatch, ViewDb};
use proptest::prelude::*;

const FIXTURE: &str = concat!(env!("CARGO_MANIFEST_DIR"), "/tests/fixtures/views/fixture.v1.view");

/// The entries the fixture holds: a checkpoint, a dead letter, keys with
/// a byte 0xFF, an empty value.
fn fixture_entries() -> Vec<(Vec<u8>, Vec<u8>)> {
    let mut out: Vec<(Vec<u8>, Vec<u8>)> = vec![
        (b"\x00checkpoint".to_vec(), 42u64.to_be_bytes().to_vec()),
        (
            b"\x00dead/\x00\x00\x00\x00\x00\x00\x00\x07".to_vec(),
            b"dead letter".to_vec(),
        ),
        (b"t/T-1".to_vec(), "王女士 报修".as_bytes().to_vec()),
        (b"t/T-2".to_vec(), Vec::new()),
        (vec![0xFF, 0x02, b'x'], vec![0xFF; 5]),
    ];
    out.sort();
    out
}

fn encoded(name: &str, entries: &[(Vec<u8>, Vec<u8>)]) -> Vec<u8> {
    let mut out = Vec::new();
    snapshot::write_to(
        &mut out,
        name,
        entries.iter().map(|(k, v)| (k.as_slice(), v.as_slice())),
    )
    .unwrap();
    out
}

#[test]
fn snapshot_bytes_are_pinned_by_the_committed_fixture() {
    let fixture = std::fs::read(FIXTURE).unwrap_or_else(|e| {
        panic!(
            "{FIXTURE}: {e}; it is written once with PIN_VIEW_FIXTURE=1 and committed, never rewritten for a format change"
        )
    });
    let (name, entries) = snapshot::read(&fixture).unwrap();
    assert_eq!(name, "fixture.v1");
    assert_eq!(entries, fixture_entries());
    // This build writes the same bytes.
    assert_eq!(encoded("fixture.v1", &fixture_entries()), fixture);
    // The version is in the bytes.
    assert_eq!(&fixture[..8], snapshot::MAGIC);
    assert_eq!(u16::from_le_bytes([fixture[8], fixture[9]]), snapshot::FORMAT);
}

/// Writes the fixture when asked (`PIN_VIEW_FIXTURE=1`); otherwise checks
/// there is nothing to write.
#[test]
fn the_fixture_is_written_only_on_request() {
    if std::env::var_os("PIN_VIEW_FIXTURE").is_some() {
        std::fs::create_dir_all(Path::new(FIXTURE).parent().unwrap()).unwrap();
        std::fs::write(FIXTURE, encoded("fixture.v1", &fixture_entries())).unwrap();
    }
    assert!(Path::new(FIXTURE).exists(), "{FIXTURE} is missing");
}

#[test]
fn a_snapshot_damaged_at_any_byte_is_refused_and_says_where() {
    let good = encoded("fixture.v1", &fixture_entries());
    for offset in 0..good.len() {
        for flip in [0x01u8, 0x80, 0xFF] {
            let mut bad = good.clone();
            bad[offset] ^= flip;
            let damage = snapshot::read(&bad).expect_err(&format!("byte {offset} ^ {flip:#x} was not noticed"));
            assert!(
                damage.offset as usize <= good.len(),
                "byte {offset}: damage named at {} ({})",
                damage.offset,
                damage.reason
            );
            assert!(!damage.reason.is_empty());
        }
    }
    // Cut short anywhere, or with bytes after its end.
    for len in 0..good.len() {
        assert!(snapshot::read(&good[..len]).is_err(), "cut at {len} was not noticed");
    }
    let mut longer = good.clone();
    longer.push(0);
    let damage = snapshot::read(&longer).unwrap_err();
    assert_eq!(damage.offset as usize, good.len(), "{}", damage.reason);
}

#[test]
fn a_damaged_snapshot_is_set_aside_named_and_never_read() {
    let dir = tempfile::tempdir().unwrap();
    {
        let db = ViewDb::open(dir.path()).unwrap();
        let tree = db.tree("tickets.v9").unwrap();
        let mut batch = ViewBatch::default();
        batch.put(b"k".to_vec(), b"v".to_vec());
        tree.apply_durable(batch).unwrap();
        db.tree("other.v1")
            .unwrap()
            .apply_durable(ViewBatch::default())
            .unwrap();
    }
    let file = dir.path().join("tickets.v9.view");
    let mut bytes = std::fs::read(&file).unwrap();
    let middle = bytes.len() / 2;
    bytes[middle] ^= 0x10;
    std::fs::write(&file, &bytes).unwrap();
    let db = ViewDb::open(dir.path()).unwrap();
    assert!(!db.has_tree("tickets.v9"), "a damaged tree was loaded");
    assert!(db.has_tree("other.v1"), "an undamaged tree was not loaded");
    let aside = db.set_aside();
    assert_eq!(aside.len(), 1);
    assert_eq!(aside[0].file, file);
    assert!(aside[0].moved_to.exists(), "the damaged file is kept for inspection");
    assert!(!file.exists());
    assert!(aside[0].damage.offset as usize <= middle, "{}", aside[0].damage);
}

#[test]
fn a_tree_written_durably_reads_back_after_a_reopen_and_a_held_one_does_not() {
    let dir = tempfile::tempdir().unwrap();
    {
        let db = ViewDb::open(dir.path()).unwrap();
        let kept = db.tree("kept.v1").unwrap();
        let mut batch = ViewBatch::default();
        batch.put(b"a".to_vec(), b"1".to_vec());
        batch.put(b"b".to_vec(), b"2".to_vec());
        kept.apply(batch).unwrap();
        let building = db.tree("building.v1").unwrap();
        building.hold();
        let mut batch = ViewBatch::default();
        batch.put(b"x".to_vec(), b"y".to_vec());
        building.apply(batch).unwrap();
        let mut batch = ViewBatch::default();
        batch.delete(b"a".to_vec());
        kept.apply(batch).unwrap();
        db.flush().unwrap();
        // The same folder cannot be opened twice at once.
        assert!(matches!(
            ViewDb::open_with(dir.path(), std::time::Duration::from_secs(30)),
            Err(eventlog::StoreError::Locked { .. })
        ));
    }
    let db = ViewDb::open(dir.path()).unwrap();
    let kept = db.tree("kept.v1").unwrap();
    assert_eq!(kept.get(b"a").unwrap(), None);
    assert_eq!(kept.get(b"b").unwrap(), Some(b"2".to_vec()));
    assert!(
        !db.has_tree("building.v1"),
        "a tree being built was written before its swap"
    );
    assert!(db.drop_tree("kept.v1").unwrap());
    drop(db);
    assert!(!ViewDb::open(dir.path()).unwrap().has_tree("kept.v1"));
}

#[derive(Debug, Clone)]
enum Op {
    Put(Vec<u8>, Vec<u8>),
    Delete(Vec<u8>),
}

fn key() -> impl Strategy<Value = Vec<u8>> {
    prop::collection::vec(prop::sample::select(vec![0u8, 1, b'a', b'b', 0xFE, 0xFF]), 0..4)
}

fn op() -> impl Strategy<Value = Op> {
    prop_oneof![
        (key(), prop::collection::vec(any::<u8>(), 0..3)).prop_map(|(k, v)| Op::Put(k, v)),
        key().prop_map(Op::Delete),
    ]
}

proptest! {
    #![proptest_config(ProptestConfig { cases: 64, ..ProptestConfig::default() })]

    /// Gets, prefix scans and ranges both ways equal a `BTreeMap` after any
    /// batches, before and after a snapshot and reopen.
    #[test]
    fn reads_equal_a_model(batches in prop::collection::vec(prop::collection::vec(op(), 0..300), 1..4),
                           prefix in key(), from in key(), to in key()) {
        let dir = tempfile::tempdir().unwrap();
        let mut model: BTreeMap<Vec<u8>, Vec<u8>> = BTreeMap::new();
        {
            let db = ViewDb::open(dir.path()).unwrap();
            let tree = db.tree("model.v1").unwrap();
            for ops in &batches {
                let mut batch = ViewBatch::default();
                for op in ops {
                    match op {
                        Op::Put(k, v) => { batch.put(k.clone(), v.clone()); model.insert(k.clone(), v.clone()); }
                        Op::Delete(k) => { batch.delete(k.clone()); model.remove(k); }
                    }
                }
                tree.apply(batch).unwrap();
            }
            check(&tree, &model, &prefix, &from, &to)?;
            db.flush().unwrap();
        }
        let db = ViewDb::open(dir.path()).unwrap();
        check(&db.tree("model.v1").unwrap(), &model, &prefix, &from, &to)?;
    }
}

fn check(
    tree: &projections::store::ViewTree,
    model: &BTreeMap<Vec<u8>, Vec<u8>>,
    prefix: &[u8],
    from: &[u8],
    to: &[u8],
) -> Result<(), TestCaseError> {
    prop_assert_eq!(tree.len(), model.len());
    for k in model.keys() {
        prop_assert_eq!(tree.get(k).unwrap(), model.get(k).cloned());
    }
    let scanned: Vec<_> = tree.scan_prefix(prefix).map(Result::unwrap).collect();
    let expected: Vec<_> = model
        .iter()
        .filter(|(k, _)| k.starts_with(prefix))
        .map(|(k, v)| (k.clone(), v.clone()))
        .collect();
    prop_assert_eq!(scanned, expected);
    for reverse in [false, true] {
        let got: Vec<_> = tree.range(from, to, reverse).map(Result::unwrap).collect();
        let mut expected: Vec<_> = model
            .iter()
            .filter(|(k, _)| k.as_slice() >= from && k.as_slice() < to)
            .map(|(k, v)| (k.clone(), v.clone()))
            .collect();
        if reverse {
            expected.reverse();
        }
        prop_assert_eq!(got, expected);
    }
    Ok(())
}
