//! Recovery at open: sled brought up to date with the write-ahead files
//! (records re-applied, index entries of every record past the last
//! checkpoint written again, torn bytes dropped and counted).

use std::path::Path;

use super::first_position_of;
use super::map::WalFile;
use crate::error::StoreError;
use crate::sled_store::decode_record;
use crate::sled_store::keys::*;
use crate::types::Position;

/// What recovery did at open.
#[derive(Clone, Copy, PartialEq, Eq, Debug, Default)]
pub struct RecoveryReport {
    /// Events re-applied to sled from the write-ahead file.
    pub replayed: u64,
    /// Bytes at the end of a write-ahead file that did not form a whole,
    /// valid frame: a write cut short by a crash, never acknowledged.
    pub discarded_bytes: u64,
    /// Records past the last checkpoint whose stream-index and id-index
    /// entries were written again (sled may have kept a record without
    /// them).
    pub reindexed: u64,
}

/// Writes the stream-index and id-index entries of one record (again).
fn index_record(tree: &sled::Tree, position: Position, bytes: &[u8]) -> Result<(), StoreError> {
    let event = decode_record(position, sled::IVec::from(bytes))?;
    let position_bytes = position.to_be_bytes();
    tree.insert(stream_key(event.stream(), event.stream_version), &position_bytes)?;
    tree.insert(id_key(&event.id), &position_bytes)?;
    Ok(())
}

/// Brings sled up to date with the write-ahead files at open and returns
/// the next position. `sled_end` is where sled's log keyspace ends.
///
/// Everything below the last checkpoint (the first WAL file's position) is
/// durable in sled, indexes included. Past it, sled holds a prefix of the
/// inserts the writer made (record, then its stream-index and id-index
/// entries, in position order; sled recovers its own log in order up to
/// the first incomplete write), so a record may have lost its index
/// entries. Recovery therefore writes the index entries of every record
/// from the checkpoint on again (same keys, same values), takes the records
/// sled lacks from the WAL, and for records sled kept beyond the WAL's
/// valid frames (written, never acknowledged) reads them from sled.
pub(crate) fn recover(
    dir: &Path,
    files: Vec<WalFile>,
    tree: &sled::Tree,
    sled_end: Position,
    opened_before: bool,
) -> Result<(Position, RecoveryReport), StoreError> {
    let mut report = RecoveryReport::default();
    let mut next_position = sled_end;
    if !dir.exists() {
        if next_position > 0 || opened_before {
            // Every open creates the folder before the first append; a store
            // with events but without it has lost what it last acknowledged.
            return Err(StoreError::Corrupt {
                position: next_position,
                reason: format!(
                    "the write-ahead folder {} is missing; events acknowledged since the last checkpoint may be lost",
                    dir.display()
                ),
            });
        }
        return Ok((next_position, report));
    }
    let checkpoint = files.first().and_then(|f| first_position_of(&f.path));
    if let Some(checkpoint) = checkpoint {
        if checkpoint > sled_end {
            return Err(StoreError::Corrupt {
                position: sled_end,
                reason: format!(
                    "the log ends at position {sled_end} but its last checkpoint was at {checkpoint}: sled lost durable records"
                ),
            });
        }
    }
    // The next record the WAL must hold, so that its records are dense.
    let mut wal_next = checkpoint;
    for file in &files {
        let path = &file.path;
        report.discarded_bytes += file.torn_tail;
        for payload in &file.frames {
            // The frame's records that sled lacks, stored as the writer
            // stores them: in chunks, before the index entries of the
            // frame's records are written again.
            let missing_from = next_position;
            let mut missing: Vec<&[u8]> = Vec::new();
            let mut records: Vec<(Position, &[u8])> = Vec::new();
            let mut at = 0;
            while at < payload.len() {
                let malformed = || StoreError::Corrupt {
                    position: next_position,
                    reason: format!("malformed frame in {}", path.display()),
                };
                let len_bytes = payload.get(at..at + 4).ok_or_else(malformed)?;
                let len = u32::from_be_bytes([len_bytes[0], len_bytes[1], len_bytes[2], len_bytes[3]]) as usize;
                let bytes = payload.get(at + 4..at + 4 + len).ok_or_else(malformed)?;
                at += 4 + len;
                // The record's own position, read through the envelope.
                let position = bytes.get(5..13).and_then(be_u64).ok_or_else(|| StoreError::Corrupt {
                    position: next_position,
                    reason: format!("malformed record in {}", path.display()),
                })?;
                if wal_next.is_some_and(|n| position < n) {
                    // Older than the checkpoint (a file left from before
                    // it): sled has it for good.
                    continue;
                }
                if position > next_position {
                    return Err(StoreError::Corrupt {
                        position: next_position,
                        reason: format!(
                            "record is missing: the write-ahead file {} continues at position {position}",
                            path.display()
                        ),
                    });
                }
                if let Some(n) = wal_next {
                    // A torn older file followed by a newer one: sled has
                    // the records in between (a checkpoint ran after them).
                    reindex_from_sled(tree, n..position, &mut report)?;
                }
                if position == next_position {
                    missing.push(bytes);
                    next_position += 1;
                    report.replayed += 1;
                }
                records.push((position, bytes));
                wal_next = Some(position + 1);
            }
            crate::sled_store::writer::insert_chunks(tree, missing_from, &missing)?;
            for (position, bytes) in records {
                index_record(tree, position, bytes)?;
                report.reindexed += 1;
            }
        }
    }
    // Records sled kept past the WAL's valid frames.
    if let Some(from) = wal_next {
        reindex_from_sled(tree, from..sled_end, &mut report)?;
    }
    Ok((next_position, report))
}

/// Writes the index entries of records sled holds but the WAL does not.
fn reindex_from_sled(
    tree: &sled::Tree,
    positions: std::ops::Range<Position>,
    report: &mut RecoveryReport,
) -> Result<(), StoreError> {
    let mut lookup = crate::sled_store::chunk::Lookup::default();
    for position in positions {
        let bytes = lookup.record(tree, position)?.ok_or_else(|| StoreError::Corrupt {
            position,
            reason: "record is missing: the log has a gap".into(),
        })?;
        index_record(tree, position, &bytes)?;
        report.reindexed += 1;
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::envelope;
    use crate::sled_store::wal::{scan, FrameBuilder, Wal};
    use crate::types::{EventId, EventMetadata, NewEvent, StreamId};

    type TestResult = Result<(), Box<dyn std::error::Error>>;
    /// A test record: position, envelope bytes, stream, version, id.
    type Record = (Position, Vec<u8>, String, u64, EventId);

    /// Records 0..n, alternating between two streams.
    fn records(n: u64) -> Result<Vec<Record>, Box<dyn std::error::Error>> {
        let mut out = Vec::new();
        for position in 0..n {
            let name = format!("s{}", position % 2);
            let stream = StreamId::new(name.clone())?;
            let version = position / 2;
            let event = NewEvent {
                id: EventId::new_random(),
                event_type: "Tested".into(),
                schema_version: 1,
                payload: vec![position as u8; 20],
                metadata: EventMetadata::default(),
            };
            let placement = envelope::Placement {
                position,
                stream: &stream,
                stream_version: version,
                recorded_at: chrono::Utc::now(),
            };
            out.push((position, envelope::encode(&placement, &event), name, version, event.id));
        }
        Ok(out)
    }

    fn wal_with(dir: &Path, records: &[Record]) -> Result<(), StoreError> {
        let mut wal = Wal::start(dir, records.first().map_or(0, |r| r.0))?;
        for chunk in records.chunks(2) {
            let mut frame = FrameBuilder::new();
            for record in chunk {
                frame.push(&record.1);
            }
            wal.write(&frame.finish())?;
        }
        Ok(())
    }

    /// A sled database in `dir` and the tree the tests recover into.
    fn sled_tree(dir: &Path) -> sled::Result<(sled::Db, sled::Tree)> {
        let db = sled::Config::new().path(dir.join("db")).open()?;
        let tree = db.open_tree("t")?;
        Ok((db, tree))
    }

    fn indexed(tree: &sled::Tree, record: &Record) -> Result<bool, StoreError> {
        let position = Some(record.0.to_be_bytes().to_vec());
        let stream = tree.get(stream_key(&record.2, record.3))?.map(|v| v.to_vec());
        let id = tree.get(id_key(&record.4))?.map(|v| v.to_vec());
        Ok(stream == position && id == position)
    }

    /// What a crash may leave: sled kept a prefix of the writer's inserts,
    /// so records 0..3 are whole, record 3 lost its index entries, and
    /// records 4 and 5 (in the WAL) are missing. A second case: sled kept
    /// records 6 and 7 past the WAL's last frame, without index entries.
    /// Recovery restores every index entry and the missing records.
    #[test]
    fn recovery_rewrites_index_entries_sled_lost() -> TestResult {
        let dir = tempfile::tempdir()?;
        let (_db, tree) = sled_tree(dir.path())?;
        let all = records(8)?;
        wal_with(&dir.path().join("wal"), &all[..6])?;
        for record in &all[..4] {
            tree.insert(log_key(record.0), record.1.as_slice())?;
        }
        for record in &all[..3] {
            tree.insert(stream_key(&record.2, record.3), &record.0.to_be_bytes())?;
            tree.insert(id_key(&record.4), &record.0.to_be_bytes())?;
        }
        assert!(
            !indexed(&tree, &all[3])?,
            "the test starts from a record without index entries"
        );
        let (next, report) = recover(&dir.path().join("wal"), scan(&dir.path().join("wal"))?, &tree, 4, true)?;
        assert_eq!(next, 6);
        assert_eq!(report.replayed, 2);
        assert_eq!(report.reindexed, 6);
        for record in &all[..6] {
            assert!(indexed(&tree, record)?, "position {}", record.0);
            assert_eq!(
                crate::sled_store::chunk::Lookup::default()
                    .record(&tree, record.0)?
                    .map(|v| v.to_vec()),
                Some(record.1.clone())
            );
        }

        // Records 6 and 7 reached sled, their WAL frame did not.
        for record in &all[6..] {
            tree.insert(log_key(record.0), record.1.as_slice())?;
        }
        let (next, report) = recover(&dir.path().join("wal"), scan(&dir.path().join("wal"))?, &tree, 8, true)?;
        assert_eq!(next, 8);
        assert_eq!(report.replayed, 0);
        assert_eq!(report.reindexed, 8);
        for record in &all {
            assert!(indexed(&tree, record)?, "position {}", record.0);
        }
        Ok(())
    }

    /// A group larger than one chunk, of which sled kept only the first
    /// chunk: recovery stores the rest from the WAL, in chunks that start
    /// where sled's end, and the log reads whole.
    #[test]
    fn recovery_completes_a_group_sled_kept_in_part() -> TestResult {
        let dir = tempfile::tempdir()?;
        let (_db, tree) = sled_tree(dir.path())?;
        let all = records(100)?;
        let mut wal = Wal::start(&dir.path().join("wal"), 0)?;
        let mut frame = FrameBuilder::new();
        for record in &all {
            frame.push(&record.1);
        }
        wal.write(&frame.finish())?;
        let envelopes: Vec<&[u8]> = all.iter().map(|r| r.1.as_slice()).collect();
        let chunks = crate::sled_store::chunk::encode(&envelopes);
        assert!(chunks.len() > 1, "the group needs more than one chunk");
        let (start, count, bytes) = &chunks[0];
        tree.insert(chunk_key(*start as u64, *count), bytes.as_slice())?;

        let (next, report) = recover(
            &dir.path().join("wal"),
            scan(&dir.path().join("wal"))?,
            &tree,
            *count as u64,
            true,
        )?;
        assert_eq!(next, 100);
        assert_eq!(report.replayed, 100 - *count as u64);
        let verified = crate::sled_store::verify::verify(&tree, next)?;
        assert_eq!(verified.events, 100);
        let mut lookup = crate::sled_store::chunk::Lookup::default();
        for record in &all {
            assert!(indexed(&tree, record)?, "position {}", record.0);
            assert_eq!(
                lookup.record(&tree, record.0)?.map(|v| v.to_vec()),
                Some(record.1.clone())
            );
        }
        // The next open finds the log's end from its last key.
        let last = tree.scan_prefix([LOG]).next_back().ok_or("no log key")??.0;
        assert_eq!(parse_log_key(&last).map(|(first, n)| first + n as u64), Some(100));
        Ok(())
    }

    /// sled ending before the last checkpoint, or a WAL record past a hole,
    /// is damage, reported as such.
    #[test]
    fn recovery_reports_what_it_cannot_restore() -> TestResult {
        let dir = tempfile::tempdir()?;
        let (_db, tree) = sled_tree(dir.path())?;
        let all = records(6)?;
        wal_with(&dir.path().join("wal"), &all[2..])?;
        let err = recover(&dir.path().join("wal"), scan(&dir.path().join("wal"))?, &tree, 0, true).err();
        assert!(
            matches!(&err, Some(StoreError::Corrupt { position: 0, reason }) if reason.contains("checkpoint")),
            "{err:?}"
        );
        // A WAL whose checkpoint sled reached but that skips a record.
        let gap = tempfile::tempdir()?;
        let mut wal = Wal::start(gap.path(), 0)?;
        let mut frame = FrameBuilder::new();
        frame.push(&all[0].1);
        frame.push(&all[2].1);
        wal.write(&frame.finish())?;
        let err = recover(gap.path(), scan(gap.path())?, &tree, 0, true).err();
        assert!(
            matches!(&err, Some(StoreError::Corrupt { position: 1, reason }) if reason.contains("missing")),
            "{err:?}"
        );
        Ok(())
    }
}
