//! The damage matrix: bytes flipped at many offsets of the write-ahead
//! file of a folder copied while the store ran (what a kill leaves), cut
//! short and deleted. Each case ends in one of three outcomes, never a
//! fourth: the store opens with every acknowledged event; it opens having
//! dropped only a torn last frame, and says so; or it refuses, naming the
//! file, the offset and the positions at risk, and every byte of the
//! folder is as it was.

use std::collections::BTreeMap;
use std::path::{Path, PathBuf};

use crate::support::*;

/// A folder copied while the store ran, and the ids of every event
/// acknowledged before the copy, in position order.
async fn killed_folder() -> Result<(tempfile::TempDir, Vec<EventId>), Box<dyn std::error::Error>> {
    let live = tempfile::tempdir()?;
    let store = Arc::new(open(live.path())?);
    // Concurrent appenders, so that frames hold groups of several events
    // from several streams.
    let mut tasks = Vec::new();
    for writer in 0..6 {
        let store = store.clone();
        tasks.push(tokio::spawn(async move {
            let mut acknowledged = Vec::new();
            for i in 0..25 {
                let events: Vec<NewEvent> = (0..1 + i % 3)
                    .map(|n| event("A", &format!("writer {writer} append {i} event {n}")))
                    .collect();
                let ids: Vec<EventId> = events.iter().map(|e| e.id).collect();
                let outcome = store
                    .append(&stream(&format!("s{writer}")), ExpectedVersion::Any, events)
                    .await?;
                acknowledged.extend(outcome.positions.into_iter().zip(ids));
            }
            Ok::<_, StoreError>(acknowledged)
        }));
    }
    let mut acknowledged = BTreeMap::new();
    for task in tasks {
        acknowledged.extend(task.await??);
    }
    let copy = tempfile::tempdir()?;
    copy_dir(live.path(), copy.path())?;
    store.close()?;
    let ids: Vec<EventId> = acknowledged.into_values().collect();
    Ok((copy, ids))
}

fn wal_file(dir: &Path) -> Result<PathBuf, Box<dyn std::error::Error>> {
    let files: Vec<PathBuf> = std::fs::read_dir(dir.join("wal"))?
        .filter_map(|e| e.ok().map(|e| e.path()))
        .collect();
    assert_eq!(files.len(), 1, "{files:?}");
    Ok(files[0].clone())
}

/// What opening a damaged copy did.
#[derive(Debug)]
enum Outcome {
    /// Opened with every acknowledged event.
    Whole,
    /// Opened without the events of a torn last frame, which recovery
    /// counted.
    TornTail { kept: usize },
    /// Refused, naming the damage.
    Refused,
}

/// Opens `dir` and checks that the outcome is one of the three allowed.
fn check(dir: &Path, acknowledged: &[EventId], case: &str) -> Result<Outcome, Box<dyn std::error::Error>> {
    let before = contents(dir);
    let opened = open(dir);
    let store = match opened {
        Err(StoreError::WalDamaged(damage)) => {
            let message = StoreError::WalDamaged(damage.clone()).to_string();
            assert!(
                message.contains(&damage.file.display().to_string())
                    && message.contains(&format!("at byte {}", damage.offset)),
                "{case}: {message}"
            );
            assert!(damage.first_at_risk <= damage.next_valid, "{case}: {damage:?}");
            assert!(
                message.contains("positions") || message.contains("no position"),
                "{case}: {message}"
            );
            assert!(
                message.contains("run `aftersales repair`"),
                "{case}: the refusal points to the repair: {message}"
            );
            // Nothing was changed: the WAL and sled's files are as they were.
            let after = contents(dir);
            assert_eq!(
                before.keys().collect::<Vec<_>>(),
                after.keys().collect::<Vec<_>>(),
                "{case}"
            );
            for (path, bytes) in &before {
                if path.starts_with(dir.join("wal")) {
                    assert!(after.get(path) == Some(bytes), "{case}: {} changed", path.display());
                }
            }
            return Ok(Outcome::Refused);
        }
        Err(e) => panic!("{case}: refused with an error that does not name the damage: {e}"),
        Ok(store) => store,
    };
    let ids: Vec<EventId> = store
        .read_all(0)
        .map(|e| e.map(|e| e.id))
        .collect::<Result<_, _>>()
        .unwrap_or_else(|e| panic!("{case}: opened, then failed to read: {e}"));
    store
        .verify()
        .unwrap_or_else(|e| panic!("{case}: opened, then failed to verify: {e}"));
    let recovery = store.recovery();
    store.close()?;
    assert_eq!(
        ids[..],
        acknowledged[..ids.len()],
        "{case}: the events kept are a prefix"
    );
    if ids.len() == acknowledged.len() {
        return Ok(Outcome::Whole);
    }
    // Losing events is only allowed for a torn last frame, and recovery
    // says how many bytes it dropped.
    assert!(
        recovery.discarded_bytes > 0,
        "{case}: {} acknowledged events lost in silence ({recovery:?})",
        acknowledged.len() - ids.len()
    );
    Ok(Outcome::TornTail { kept: ids.len() })
}

fn damaged_copy(from: &Path, damage: impl FnOnce(&Path) -> std::io::Result<()>) -> std::io::Result<tempfile::TempDir> {
    let copy = tempfile::tempdir()?;
    copy_dir(from, copy.path())?;
    damage(copy.path())?;
    Ok(copy)
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_flipped_bit_anywhere_in_the_write_ahead_file_is_never_lost_in_silence() -> TestResult {
    let (killed, acknowledged) = killed_folder().await?;
    let wal = wal_file(killed.path())?;
    let name = wal.file_name().ok_or("no name")?.to_owned();
    let len = std::fs::metadata(&wal)?.len();
    assert!(len > 4096, "the write-ahead file holds many frames: {len} bytes");
    // Offsets spread over the file, the first bytes of it (the first
    // frame's header) and the last ones (the last frame).
    let mut offsets: Vec<u64> = (0..40).map(|i| i * len / 40 + 7).collect();
    offsets.extend([0, 3, 4, 8, 12, 20, len - 1, len - 13]);
    let mut refused = 0;
    for offset in offsets {
        let copy = damaged_copy(killed.path(), |dir| {
            let path = dir.join("wal").join(&name);
            let mut bytes = std::fs::read(&path)?;
            bytes[offset as usize] ^= 0x10;
            std::fs::write(&path, bytes)
        })?;
        let outcome = check(
            copy.path(),
            &acknowledged,
            &format!("bit flipped at byte {offset} of {len}"),
        )?;
        if matches!(outcome, Outcome::Refused) {
            refused += 1;
        }
        if offset < len / 2 {
            // Frames follow the damage: it can only be refused (or, where
            // sled already held the damaged frame's events, harmless).
            assert!(
                !matches!(outcome, Outcome::TornTail { .. }),
                "bit flipped at byte {offset} of {len}: {outcome:?}"
            );
        }
    }
    assert!(refused > 20, "damage in the middle is refused: {refused}");
    Ok(())
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn cut_and_deleted_write_ahead_files_are_a_torn_tail_or_a_refusal() -> TestResult {
    let (killed, acknowledged) = killed_folder().await?;
    let wal = wal_file(killed.path())?;
    let name = wal.file_name().ok_or("no name")?.to_owned();
    let len = std::fs::metadata(&wal)?.len();
    // Cut short anywhere: what is left is whole frames and a torn one,
    // and the more is cut, the fewer events are kept.
    let mut kept_before = acknowledged.len();
    for cut in [1, 13, len / 3, len / 2, len - 5] {
        let copy = damaged_copy(killed.path(), |dir| {
            std::fs::OpenOptions::new()
                .write(true)
                .open(dir.join("wal").join(&name))?
                .set_len(len - cut)
        })?;
        let case = format!("{cut} bytes cut from the end");
        let kept = match check(copy.path(), &acknowledged, &case)? {
            Outcome::Refused => panic!("{case}: refused"),
            Outcome::Whole => acknowledged.len(),
            Outcome::TornTail { kept } => kept,
        };
        assert!(kept <= kept_before, "{case}: kept {kept}, more than with less cut");
        kept_before = kept;
    }
    // A block of zeros in the middle, as a lost write of a page leaves.
    let copy = damaged_copy(killed.path(), |dir| {
        let path = dir.join("wal").join(&name);
        let mut bytes = std::fs::read(&path)?;
        let from = (len / 3) as usize;
        bytes[from..from + 4096.min(len as usize / 4)].fill(0);
        std::fs::write(&path, bytes)
    })?;
    let outcome = check(copy.path(), &acknowledged, "a page of zeros in the middle")?;
    assert!(matches!(outcome, Outcome::Refused), "{outcome:?}");
    // The write-ahead folder deleted.
    let copy = damaged_copy(killed.path(), |dir| std::fs::remove_dir_all(dir.join("wal")))?;
    let err = open(copy.path()).err();
    assert!(
        matches!(&err, Some(StoreError::Corrupt { reason, .. }) if reason.contains("write-ahead folder")),
        "{err:?}"
    );
    Ok(())
}

/// Bytes flipped in sled's own files (its configuration, its snapshot,
/// the written part of its data file), of a cleanly closed folder and of a
/// killed one: a refusal in words an operator can act on (log positions,
/// never sled's internal offsets or an empty backtrace), or every
/// acknowledged event back and verified.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_flipped_bit_in_sleds_files_is_refused_clearly_or_harmless() -> TestResult {
    let (killed, acknowledged) = killed_folder().await?;
    let clean = tempfile::tempdir()?;
    copy_dir(killed.path(), clean.path())?;
    open(clean.path())?.close()?;
    let (mut refused, mut whole) = (0, 0);
    for folder in [clean.path(), killed.path()] {
        for (path, bytes) in contents(folder) {
            let relative = path.strip_prefix(folder)?.to_path_buf();
            if relative.starts_with("wal") {
                continue;
            }
            // sled's data file is mostly unwritten (zeros): damage where
            // it holds something.
            let used: Vec<usize> = (0..bytes.len()).filter(|&i| bytes[i] != 0).collect();
            for n in 0..12 {
                let Some(&offset) = used.get(n * used.len() / 12) else {
                    continue;
                };
                let case = format!("bit flipped at byte {offset} of {}", relative.display());
                let copy = damaged_copy(folder, |dir| {
                    let target = dir.join(&relative);
                    let mut b = std::fs::read(&target)?;
                    b[offset] ^= 0x10;
                    std::fs::write(&target, b)
                })?;
                match open(copy.path()) {
                    Err(e) => {
                        let message = e.to_string();
                        assert!(
                            !message.contains("backtrace") && !message.contains("offset None"),
                            "{case}: {message}"
                        );
                        refused += 1;
                    }
                    Ok(store) => {
                        let ids: Vec<EventId> = store
                            .read_all(0)
                            .map(|e| e.map(|e| e.id))
                            .collect::<Result<_, _>>()
                            .unwrap_or_else(|e| panic!("{case}: opened, then failed to read: {e}"));
                        assert_eq!(ids, acknowledged, "{case}: opened without every acknowledged event");
                        store
                            .verify()
                            .unwrap_or_else(|e| panic!("{case}: opened, then failed to verify: {e}"));
                        store.close()?;
                        whole += 1;
                    }
                }
            }
        }
    }
    assert!(refused > 10 && whole > 0, "refused {refused}, harmless {whole}");
    Ok(())
}
