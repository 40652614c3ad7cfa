//! The explicit repair of damaged write-ahead files (`aftersales repair`).
//!
//! An open refuses a folder whose write-ahead file holds bytes that fail
//! the frame check with valid frames after them ([`StoreError::WalDamaged`]):
//! events acknowledged there may be lost, and only an operator may decide
//! to go on without them. The repair is that decision, made explicit:
//!
//! 1. With the lock an open takes (sled's, on its `db` file), it reads
//!    every write-ahead file. Without damage it stops there: nothing is
//!    changed and the report says so.
//! 2. It copies every file of the log's folder, byte for byte, into the
//!    next free `repair-<n>` folder inside it and syncs the copy, before
//!    anything is changed. The number comes from the folders already
//!    there, never from the clock.
//! 3. It opens sled (whose lock it then holds to the end), checks that the
//!    write-ahead files still hold the bytes copied, and reads the whole
//!    log once: sled's records, then the write-ahead records past them.
//!    For each damaged region it takes, position by position, a record
//!    whose envelope still checks inside the damaged bytes (each carries
//!    its own crc32c), else the record sled holds (a checkpoint made it
//!    durable before the damage), else the position is lost and gets a
//!    placeholder in [`LOST_STREAM`](super::LOST_STREAM) ([`super::lost`]). Versions missing
//!    in a stream that shows a later version are declared lost in the
//!    placeholders; a gap in a stream's versions that no lost position
//!    explains, damaged records in sled, or sled ending before the last
//!    checkpoint are damage it does not mend: [`StoreError::Repair`], with
//!    the write-ahead files unchanged.
//! 4. It writes its report into the copy's folder, then rewrites each
//!    damaged file: every valid frame byte for byte, each damaged region
//!    replaced by frames of the records just chosen (temporary file, sync,
//!    rename, sync of the folder).
//! 5. It opens the store as every open does (recovery applies the new
//!    frames, a checkpoint follows), verifies it, and adds the outcome to
//!    the report.
//!
//! A repair interrupted before step 4 leaves the log as it was (and a
//! copy); one interrupted in step 4 or 5 left files that read as valid,
//! which the next open recovers as usual. A second repair finds no damage
//! and changes nothing.
//!
//! Here the steps in order ([`repair`]); the report in `report.rs`, the
//! lock, the copy and atomic writes in `copy.rs`, the walk of the log in
//! `walk.rs`, what to write in `plan.rs` and the rewritten files in
//! `rewrite.rs`.

mod copy;
mod plan;
mod report;
mod rewrite;
mod walk;

use std::path::Path;

use super::wal;
use super::{open_db, SledEventStore, SledOptions};
use crate::error::StoreError;
use crate::store::EventStore;

pub use report::RepairReport;

use copy::{lock_folder, preserve, write_atomically};
use plan::plan;

/// The name of the report in a repair's folder.
const REPORT_FILE: &str = "report.txt";

/// How to repair.
#[derive(Clone, Debug, Default)]
pub struct RepairOptions {
    /// How to open the store once repaired (and sled while repairing).
    pub open: SledOptions,
}

fn refused(reason: impl Into<String>) -> StoreError {
    StoreError::Repair { reason: reason.into() }
}

/// A refusal after the copy was made: nothing was changed, and where the
/// copy is.
fn unchanged(error: StoreError, preserved: &Path) -> StoreError {
    let reason = match error {
        StoreError::Repair { reason } => reason,
        other => other.to_string(),
    };
    refused(format!(
        "{reason}; the repair changed nothing (a copy of the files as they were is in {})",
        preserved.display()
    ))
}

pub(super) fn repair(dir: &Path, options: &RepairOptions) -> Result<RepairReport, StoreError> {
    let mut report = RepairReport::new(dir);
    let wal_dir = dir.join("wal");
    if !dir.join("db").exists() && !wal_dir.exists() {
        return Err(refused(format!("{} holds no event log", dir.display())));
    }
    let lock = lock_folder(dir)?;
    let maps = wal::map_files(&wal_dir)?;
    report.damage = maps.iter().flat_map(|m| m.damage().cloned()).collect();
    if report.damage.is_empty() {
        return Ok(report);
    }
    if lock.is_none() {
        return Err(refused(format!(
            "the write-ahead files are damaged and sled's file {} is missing; the repair changed nothing",
            dir.join("db").display()
        )));
    }
    let (number, preserved) = preserve(dir, &maps)?;
    report.number = Some(number);
    report.preserved_in = Some(preserved.clone());
    drop(lock);

    let db = open_db(dir, &options.open).map_err(|e| unchanged(e, &preserved))?;
    // sled's lock is held from here on: the files must still be the ones
    // copied (another process may have held the folder in between).
    let now = wal::map_files(&wal_dir)?;
    let same = now.len() == maps.len() && now.iter().zip(&maps).all(|(a, b)| a.path == b.path && a.data == b.data);
    if !same {
        return Err(unchanged(
            refused("the write-ahead files changed while they were being copied; run the repair again"),
            &preserved,
        ));
    }
    let tree = db.open_tree("eventlog")?;
    let plan = plan(&tree, &now, number).map_err(|e| unchanged(e, &preserved))?;
    drop(tree);
    report.kept = plan.kept;
    report.salvaged = plan.salvaged;
    report.from_sled = plan.from_sled;
    report.lost = plan.lost;
    report.lost_versions = plan.lost_versions;
    report.torn_tail_bytes = plan.torn_tail_bytes;
    let report_file = preserved.join(REPORT_FILE);
    report.report_file = Some(report_file.clone());
    write_atomically(&report_file, report.to_string().as_bytes())?;

    for (path, bytes) in &plan.rewrites {
        write_atomically(path, bytes)?;
    }
    let failed = |e: StoreError| {
        refused(format!(
            "the damaged write-ahead files were rewritten, then the log failed: {e}; the files as they were are in {}",
            preserved.display()
        ))
    };
    let store = SledEventStore::start(dir.to_path_buf(), db, options.open.clone()).map_err(failed)?;
    let verified = store.verify();
    let closed = store.close();
    report.verified = Some(verified.map_err(failed)?);
    closed.map_err(failed)?;
    write_atomically(&report_file, report.to_string().as_bytes())?;
    Ok(report)
}
