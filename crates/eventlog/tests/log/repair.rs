//! The explicit repair, over the damage matrix: a log written in two
//! parts (the first made durable in sled by a clean close, the second held
//! only by the write-ahead file of a copy taken while the store ran) gets
//! bits flipped at many offsets, ranges zeroed and its write-ahead file
//! cut short. Every case ends in one of three ways: the open succeeds
//! with every acknowledged event (or without a torn last frame, which
//! recovery reports); or the open refuses naming the damage, then the
//! repair succeeds, the store opens and verifies, every event not listed
//! as lost reads back byte for byte, and the report's lost positions are
//! exactly the acknowledged events missing from the log.

use std::collections::{BTreeMap, BTreeSet, HashSet};
use std::path::{Path, PathBuf};

use eventlog::{LostPosition, RecordedEvent, RepairOptions, RepairReport, LOST_EVENT_TYPE, LOST_STREAM};

use crate::support::*;

type Error = Box<dyn std::error::Error>;

/// The folders the matrix damages, and every event as the store held it
/// once closed cleanly, in position order.
struct Folders {
    /// Part one durable in sled, part two only in the write-ahead file:
    /// what a kill leaves.
    killed: tempfile::TempDir,
    /// sled's files after a clean close with the write-ahead file of the
    /// killed copy: what a crash leaves between a checkpoint's sync of
    /// sled and the start of the next write-ahead file.
    checkpointed: tempfile::TempDir,
    /// Every acknowledged event.
    reference: Vec<RecordedEvent>,
    /// Where part two starts (the write-ahead file's first position).
    part_two: u64,
}

/// Appends from six concurrent writers, so that frames hold groups of
/// several events from several streams; streams are shared between
/// writers and continue those of `earlier` appends.
async fn concurrent_appends(store: &Arc<SledEventStore>, label: &str) -> Result<(), Error> {
    let mut tasks = Vec::new();
    for writer in 0..6u32 {
        let store = store.clone();
        let label = label.to_owned();
        tasks.push(tokio::spawn(async move {
            for i in 0..20u32 {
                let events: Vec<NewEvent> = (0..1 + (i + writer) % 3)
                    .map(|n| event("B", &format!("{label}: writer {writer} append {i} event {n}")))
                    .collect();
                store
                    .append(&stream(&format!("s{}", (writer + i) % 5)), ExpectedVersion::Any, events)
                    .await?;
            }
            Ok::<_, StoreError>(())
        }));
    }
    for task in tasks {
        task.await??;
    }
    Ok(())
}

async fn folders() -> Result<Folders, Error> {
    let live = tempfile::tempdir()?;
    {
        let store = open(live.path())?;
        for i in 0..30 {
            store
                .append(
                    &stream(&format!("s{}", i % 4)),
                    ExpectedVersion::Any,
                    vec![event("A", &format!("part one {i}"))],
                )
                .await?;
        }
        store.close()?;
    }
    let store = Arc::new(open(live.path())?);
    concurrent_appends(&store, "part two").await?;
    let killed = tempfile::tempdir()?;
    copy_dir(live.path(), killed.path())?;
    store.close()?;
    drop(store);
    let store = open(live.path())?;
    let reference: Vec<RecordedEvent> = store.read_all(0).collect::<Result<_, _>>()?;
    store.close()?;
    drop(store);
    let checkpointed = tempfile::tempdir()?;
    copy_dir(live.path(), checkpointed.path())?;
    std::fs::remove_dir_all(checkpointed.path().join("wal"))?;
    copy_dir(&killed.path().join("wal"), &checkpointed.path().join("wal"))?;
    let wal = wal_file(killed.path())?;
    let name = wal.file_name().and_then(|n| n.to_str()).ok_or("no name")?;
    let part_two: u64 = name.trim_start_matches("wal-").trim_end_matches(".log").parse()?;
    assert_eq!(part_two, 30, "part two starts after part one's checkpoint");
    assert!(reference.len() > 200, "{} events", reference.len());
    Ok(Folders {
        killed,
        checkpointed,
        reference,
        part_two,
    })
}

fn wal_file(dir: &Path) -> Result<PathBuf, Error> {
    let files: Vec<PathBuf> = std::fs::read_dir(dir.join("wal"))?
        .filter_map(|e| e.ok().map(|e| e.path()))
        .collect();
    assert_eq!(files.len(), 1, "{files:?}");
    Ok(files[0].clone())
}

/// A damage to the write-ahead file's bytes.
#[derive(Clone, Debug)]
enum Damage {
    Flip(usize),
    Zero(std::ops::Range<usize>),
    Cut(usize),
    Both(Box<Damage>, Box<Damage>),
}

impl Damage {
    fn apply(&self, bytes: &mut Vec<u8>) {
        match self {
            Damage::Flip(at) => bytes[*at] ^= 0x10,
            Damage::Zero(range) => bytes[range.clone()].fill(0),
            Damage::Cut(len) => bytes.truncate(*len),
            Damage::Both(a, b) => {
                a.apply(bytes);
                b.apply(bytes);
            }
        }
    }
}

/// How a case ended.
#[derive(Debug)]
enum Outcome {
    /// Opened with every acknowledged event.
    Whole,
    /// Opened without a torn last frame, which recovery counted.
    TornTail,
    /// Refused, then repaired.
    Repaired(Box<RepairReport>),
}

fn damaged_copy(from: &Path, damage: &Damage) -> Result<tempfile::TempDir, Error> {
    let copy = tempfile::tempdir()?;
    copy_dir(from, copy.path())?;
    let wal = wal_file(copy.path())?;
    let mut bytes = std::fs::read(&wal)?;
    damage.apply(&mut bytes);
    std::fs::write(&wal, bytes)?;
    Ok(copy)
}

/// The files of `dir` outside repairs' folders.
fn log_files(dir: &Path) -> BTreeMap<PathBuf, Vec<u8>> {
    contents(dir)
        .into_iter()
        .filter_map(|(path, bytes)| {
            let relative = path.strip_prefix(dir).ok()?.to_path_buf();
            let in_repair = relative
                .components()
                .next()
                .is_some_and(|c| c.as_os_str().to_string_lossy().starts_with("repair-"));
            (!in_repair).then_some((relative, bytes))
        })
        .collect()
}

/// Damages a copy of `folder`, opens it, and, when refused, repairs it and
/// checks everything the repair promises.
fn run_case(folder: &Path, reference: &[RecordedEvent], damage: &Damage) -> Result<Outcome, Error> {
    let case = format!("{damage:?}");
    let copy = damaged_copy(folder, damage)?;
    let dir = copy.path();
    let before = log_files(dir);
    let damage_seen = match open(dir) {
        Ok(store) => {
            let events: Vec<RecordedEvent> = store
                .read_all(0)
                .collect::<Result<_, _>>()
                .unwrap_or_else(|e| panic!("{case}: opened, then failed to read: {e}"));
            store
                .verify()
                .unwrap_or_else(|e| panic!("{case}: opened, then failed to verify: {e}"));
            let recovery = store.recovery();
            store.close()?;
            assert_eq!(
                events[..],
                reference[..events.len()],
                "{case}: the events kept are a prefix"
            );
            if events.len() == reference.len() {
                return Ok(Outcome::Whole);
            }
            assert!(
                recovery.discarded_bytes > 0,
                "{case}: {} acknowledged events lost in silence",
                reference.len() - events.len()
            );
            return Ok(Outcome::TornTail);
        }
        Err(StoreError::WalDamaged(seen)) => seen,
        Err(e) => panic!("{case}: refused with an error that does not name the damage: {e}"),
    };
    assert_eq!(log_files(dir), before, "{case}: the refused open changed nothing");

    let report = SledEventStore::repair(dir, &RepairOptions::default())
        .unwrap_or_else(|e| panic!("{case}: the repair failed: {e}"));
    let text = report.to_string();
    assert_eq!(report.number, Some(1), "{case}: {text}");
    assert!(report.damage.contains(&damage_seen), "{case}: {text}");

    // The copy holds every file as it was, byte for byte.
    let preserved = report.preserved_in.clone().ok_or("no copy")?;
    assert_eq!(preserved, dir.join("repair-1"));
    for (relative, bytes) in &before {
        let copied = std::fs::read(preserved.join(relative))?;
        assert!(&copied == bytes, "{case}: the copy of {} differs", relative.display());
    }
    let written = std::fs::read_to_string(report.report_file.clone().ok_or("no report file")?)?;
    assert_eq!(written, text, "{case}: the report file is the report");

    // The store opens, verifies, and holds every event but the lost ones,
    // byte for byte; a placeholder stands at each lost position.
    let store = open(dir)?;
    let verified = store
        .verify()
        .unwrap_or_else(|e| panic!("{case}: the repaired store does not verify: {e}\n{text}"));
    assert_eq!(report.verified, Some(verified), "{case}");
    assert_eq!(verified.lost, report.lost.len() as u64, "{case}");
    let events: Vec<RecordedEvent> = store.read_all(0).collect::<Result<_, _>>()?;
    assert_eq!(events.len(), reference.len(), "{case}: positions stay dense\n{text}");
    let lost: BTreeSet<u64> = report.lost.iter().copied().collect();
    for (event, known) in events.iter().zip(reference) {
        if lost.contains(&event.position) {
            assert_eq!(event.stream(), LOST_STREAM, "{case}");
            assert_eq!(event.event_type(), LOST_EVENT_TYPE, "{case}");
            let payload = LostPosition::of(event)?.ok_or("not a placeholder")?;
            assert_eq!(payload.repair, 1, "{case}");
            assert!(
                event.recorded_at <= known.recorded_at,
                "{case}: recorded_at never goes back"
            );
        } else {
            assert!(event == known, "{case}: position {} reads back changed", event.position);
        }
    }
    // Lost: exactly the acknowledged events missing from the log.
    let ids: HashSet<EventId> = events.iter().map(|e| e.id).collect();
    let missing: BTreeSet<u64> = reference
        .iter()
        .filter(|e| !ids.contains(&e.id))
        .map(|e| e.position)
        .collect();
    assert_eq!(lost, missing, "{case}\n{text}");
    // Each damaged region's positions are salvaged, taken from sled, or
    // lost, and nothing else.
    let at_risk: BTreeSet<u64> = report
        .damage
        .iter()
        .flat_map(|d| d.first_at_risk..d.next_valid)
        .collect();
    let mut accounted: Vec<u64> = report.salvaged.clone();
    accounted.extend(&report.from_sled);
    accounted.extend(&report.lost);
    accounted.sort_unstable();
    assert_eq!(accounted, at_risk.iter().copied().collect::<Vec<_>>(), "{case}\n{text}");
    // The stream versions declared lost: every lost event whose stream
    // shows a later version that survived, and no other.
    let mut declared = BTreeSet::new();
    for gone in reference.iter().filter(|e| lost.contains(&e.position)) {
        let later_survives = reference.iter().any(|e| {
            e.stream() == gone.stream() && e.stream_version > gone.stream_version && !lost.contains(&e.position)
        });
        if later_survives {
            declared.insert((gone.stream().to_owned(), gone.stream_version));
        }
    }
    let reported: BTreeSet<(String, u64)> = report.lost_versions.iter().cloned().collect();
    assert_eq!(reported, declared, "{case}\n{text}");
    // Streams read through their declared gaps.
    let streams: BTreeSet<&str> = reference.iter().map(|e| e.stream()).collect();
    for name in streams {
        let read = store.read_stream(&stream(name), 0, usize::MAX)?;
        let expected: Vec<&RecordedEvent> = reference
            .iter()
            .filter(|e| e.stream() == name && !lost.contains(&e.position))
            .collect();
        assert_eq!(read.iter().collect::<Vec<_>>(), expected, "{case}: stream {name}");
    }
    store.close()?;
    drop(store);

    // A second repair finds nothing to do and changes nothing.
    let files = contents(dir);
    let again = SledEventStore::repair(dir, &RepairOptions::default())?;
    assert_eq!(again.number, None, "{case}: {again}");
    assert!(again.to_string().contains("nothing to repair"), "{again}");
    assert_eq!(contents(dir), files, "{case}: the second repair changed nothing");
    Ok(Outcome::Repaired(Box::new(report)))
}

/// Offsets spread over a file of `len` bytes, and its first and last bytes.
fn offsets(len: usize, spread: usize) -> Vec<usize> {
    let mut out: Vec<usize> = (0..spread).map(|i| i * len / spread + 7).collect();
    out.extend([0, 3, 4, 8, 12, 20, len - 1, len - 13]);
    out.retain(|&o| o < len);
    out
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn damage_the_open_refuses_is_repaired_and_the_report_lists_exactly_what_was_lost() -> TestResult {
    let folders = folders().await?;
    let len = std::fs::metadata(wal_file(folders.killed.path())?)?.len() as usize;
    assert!(len > 4096, "the write-ahead file holds many frames: {len} bytes");
    let mut damages: Vec<Damage> = offsets(len, 32).into_iter().map(Damage::Flip).collect();
    damages.extend([
        // A lost write of a page, a few bytes, a whole stretch of frames.
        Damage::Zero(len / 3..len / 3 + 4096.min(len / 4)),
        Damage::Zero(len / 2..len / 2 + 16),
        Damage::Zero(len / 5..len / 5 + 600),
        // Two damaged regions in one file.
        Damage::Both(Box::new(Damage::Flip(len / 4)), Box::new(Damage::Flip(len / 2 + 3))),
        Damage::Both(
            Box::new(Damage::Zero(len / 6..len / 6 + 100)),
            Box::new(Damage::Zero(2 * len / 3..2 * len / 3 + 300)),
        ),
        // Cut short: a torn tail, which the open drops.
        Damage::Cut(len - 5),
        Damage::Cut(len / 2),
        // Zeros to the end: a torn tail too.
        Damage::Zero(len - 200..len),
    ]);
    let (mut repaired, mut lost, mut salvaged, mut named) = (0, 0, 0, 0);
    for damage in &damages {
        let outcome = run_case(folders.killed.path(), &folders.reference, damage)?;
        if let Damage::Flip(at) | Damage::Zero(std::ops::Range { start: at, .. }) = damage {
            if *at < len / 2 {
                assert!(
                    !matches!(outcome, Outcome::TornTail),
                    "{damage:?}: frames follow the damage, yet it opened: {outcome:?}"
                );
            }
        }
        if let Outcome::Repaired(report) = outcome {
            repaired += 1;
            lost += report.lost.len();
            salvaged += report.salvaged.len();
            named += report.lost_versions.len();
            assert!(
                report.lost.iter().all(|p| *p >= folders.part_two),
                "part one is durable in sled"
            );
            assert!(report.from_sled.is_empty(), "sled holds nothing of part two: {report}");
        }
    }
    assert!(
        repaired > 25,
        "damage in the middle is refused, then repaired: {repaired}"
    );
    assert!(
        lost > 0 && salvaged > 0 && named > 0,
        "lost {lost}, salvaged {salvaged}, named {named}"
    );
    Ok(())
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn records_sled_already_holds_are_not_lost() -> TestResult {
    let folders = folders().await?;
    let dir = folders.checkpointed.path();
    let len = std::fs::metadata(wal_file(dir)?)?.len() as usize;
    let mut damages: Vec<Damage> = offsets(len, 12).into_iter().map(Damage::Flip).collect();
    damages.push(Damage::Zero(len / 3..len / 3 + 4096.min(len / 4)));
    let mut from_sled = 0;
    for damage in &damages {
        match run_case(dir, &folders.reference, damage)? {
            Outcome::Repaired(report) => {
                assert!(report.lost.is_empty(), "{damage:?}: sled held every event: {report}");
                assert!(report.to_string().contains("lost: none"), "{report}");
                from_sled += report.from_sled.len();
            }
            // sled holds every event: even a torn last frame loses none.
            Outcome::Whole => {}
            Outcome::TornTail => panic!("{damage:?}: sled held every event, yet some were dropped"),
        }
    }
    assert!(from_sled > 0, "positions of damaged regions came from sled");
    Ok(())
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn an_undamaged_folder_is_left_as_it_is() -> TestResult {
    let folders = folders().await?;
    let dir = folders.killed.path();
    let before = contents(dir);
    let report = SledEventStore::repair(dir, &RepairOptions::default())?;
    assert_eq!(report.number, None);
    assert!(report.damage.is_empty() && report.preserved_in.is_none());
    assert!(report.to_string().contains("nothing to repair"), "{report}");
    assert_eq!(contents(dir), before, "nothing changed, no copy made");
    // A folder that holds no log at all is refused.
    let empty = tempfile::tempdir()?;
    let err = SledEventStore::repair(empty.path().join("nowhere"), &RepairOptions::default()).err();
    assert!(
        matches!(&err, Some(StoreError::Repair { reason }) if reason.contains("no event log")),
        "{err:?}"
    );
    Ok(())
}

/// Damage in sled's own records as well as in the write-ahead file: the
/// repair refuses clearly and leaves the write-ahead file as it was; the
/// copy it made holds the files as they were.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn damage_in_sleds_records_is_refused_and_nothing_is_changed() -> TestResult {
    let folders = folders().await?;
    let len = std::fs::metadata(wal_file(folders.killed.path())?)?.len() as usize;
    let copy = damaged_copy(folders.killed.path(), &Damage::Flip(len / 2))?;
    let dir = copy.path();
    {
        // A record of part one (in sled), damaged below the log's checks.
        let db = raw_sled(dir)?;
        let tree = db.open_tree("eventlog")?;
        let (key, value) = tree.scan_prefix(b"L").nth(5).ok_or("no sixth log key")??;
        let mut bytes = value.to_vec();
        let at = bytes.len() / 2;
        bytes[at] ^= 0x40;
        tree.insert(key, bytes)?;
        db.flush()?;
    }
    let before = log_files(dir);
    let wal = wal_file(dir)?;
    let wal_before = std::fs::read(&wal)?;
    let err = SledEventStore::repair(dir, &RepairOptions::default()).err();
    let message = err.as_ref().map(ToString::to_string).unwrap_or_default();
    assert!(
        matches!(&err, Some(StoreError::Repair { .. }))
            && message.contains("sled's records are damaged")
            && message.contains("changed nothing")
            && message.contains("repair-1"),
        "{message}"
    );
    assert_eq!(std::fs::read(&wal)?, wal_before, "the write-ahead file is as it was");
    for (relative, bytes) in &before {
        let copied = std::fs::read(dir.join("repair-1").join(relative))?;
        assert!(&copied == bytes, "the copy of {} differs", relative.display());
    }
    assert!(
        !dir.join("repair-1").join("report.txt").exists(),
        "no report: nothing was repaired"
    );
    assert!(
        matches!(open(dir).err(), Some(StoreError::WalDamaged(_))),
        "still refused"
    );
    Ok(())
}

/// A repaired log goes on: appends continue each stream after its last
/// surviving version, and a second repair, later, adds its own
/// placeholders and declarations to the first one's.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_repaired_log_goes_on_and_is_repaired_again() -> TestResult {
    let folders = folders().await?;
    let len = std::fs::metadata(wal_file(folders.killed.path())?)?.len() as usize;
    let copy = damaged_copy(folders.killed.path(), &Damage::Zero(len / 3..len / 3 + 1500))?;
    let dir = copy.path();
    let first = SledEventStore::repair(dir, &RepairOptions::default())?;
    assert!(!first.lost.is_empty() && !first.lost_versions.is_empty(), "{first}");
    // The placeholders' stream is the repair's alone.
    let store = Arc::new(open(dir)?);
    let refused = store
        .append(&stream(LOST_STREAM), ExpectedVersion::Any, vec![event("A", "x")])
        .await
        .err();
    assert!(
        matches!(refused, Some(StoreError::InvalidStreamId { .. })),
        "{refused:?}"
    );
    concurrent_appends(&store, "part three").await?;
    let killed = tempfile::tempdir()?;
    copy_dir(dir, killed.path())?;
    store.close()?;
    drop(store);
    let store = open(dir)?;
    let reference: Vec<RecordedEvent> = store.read_all(0).collect::<Result<_, _>>()?;
    store.verify()?;
    store.close()?;
    drop(store);

    let wal = wal_file(killed.path())?;
    let len = std::fs::metadata(&wal)?.len() as usize;
    let mut bytes = std::fs::read(&wal)?;
    bytes[len / 2..len / 2 + 1500].fill(0);
    std::fs::write(&wal, bytes)?;
    assert!(matches!(open(killed.path()).err(), Some(StoreError::WalDamaged(_))));
    let second = SledEventStore::repair(killed.path(), &RepairOptions::default())?;
    assert_eq!(
        second.number,
        Some(2),
        "the first repair's folder came along with the copy"
    );
    assert!(killed.path().join("repair-1").exists() && killed.path().join("repair-2").exists());
    assert!(!second.lost.is_empty(), "{second}");
    let store = open(killed.path())?;
    let verified = store.verify()?;
    assert_eq!(verified.lost, (first.lost.len() + second.lost.len()) as u64);
    let events: Vec<RecordedEvent> = store.read_all(0).collect::<Result<_, _>>()?;
    assert_eq!(events.len(), reference.len());
    for (event, known) in events.iter().zip(&reference) {
        if second.lost.contains(&event.position) {
            assert_eq!(LostPosition::of(event)?.map(|p| p.repair), Some(2));
        } else {
            assert!(event == known, "position {} changed", event.position);
        }
    }
    for name in ["s0", "s1", "s2", "s3", "s4"] {
        let read = store.read_stream(&stream(name), 0, usize::MAX)?;
        assert!(
            read.windows(2).all(|w| w[0].stream_version < w[1].stream_version),
            "{name} reads in order across the gaps"
        );
    }
    store.close()?;
    Ok(())
}
