//! A write-ahead file as read, changing nothing: its valid frames, its
//! damaged regions (bytes that fail the frame check with a valid frame
//! after them) and its torn tail; the check an open makes of every file
//! before it writes anything; the envelopes that still check inside
//! damaged bytes.

use std::fs::File;
use std::io::Read;
use std::path::{Path, PathBuf};

use super::frame::{frame_at, next_frame, positions_of};
use super::{first_position_of, wal_files};
use crate::envelope;
use crate::error::StoreError;
use crate::sled_store::keys::be_u64;
use crate::types::Position;

/// Bytes of a write-ahead file that fail the frame check while whole,
/// valid frames follow them: damage, not a write cut short by a crash
/// (a torn write is always the last thing in the file, because frames are
/// appended in order and each is synced before a later one is
/// acknowledged).
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct WalDamage {
    /// The write-ahead file.
    pub file: PathBuf,
    /// Where the unreadable bytes start in it.
    pub offset: u64,
    /// How many bytes up to the next valid frame.
    pub bytes: u64,
    /// The first position the damaged bytes may have held: the one after
    /// the last record before them.
    pub first_at_risk: Position,
    /// The position of the first record after them.
    pub next_valid: Position,
}

/// One write-ahead file, read and checked without changing anything.
pub(crate) struct WalFile {
    pub(super) path: PathBuf,
    /// Valid frames' payloads, in file order.
    pub(super) frames: Vec<Vec<u8>>,
    /// Bytes after the last valid frame, with nothing valid after them: a
    /// write cut short.
    pub(super) torn_tail: u64,
}

/// One piece of a write-ahead file, in file order.
#[derive(Clone, Debug)]
pub(crate) enum Piece {
    /// A whole, valid frame: where it starts (its header) and its
    /// payload's range.
    Frame {
        start: usize,
        payload: std::ops::Range<usize>,
    },
    /// Bytes that fail the frame check with a valid frame after them.
    Damaged(WalDamage),
}

/// A write-ahead file as read: its bytes, cut into valid frames and
/// damaged regions, and where a torn tail starts.
pub(crate) struct WalMap {
    pub path: PathBuf,
    pub data: Vec<u8>,
    pub pieces: Vec<Piece>,
    /// Where the bytes after the last valid frame start, which do not form
    /// a whole, valid frame and have nothing valid after them (the file's
    /// length when there are none).
    pub torn_from: usize,
}

impl WalMap {
    /// The file's damaged regions, in file order.
    pub fn damage(&self) -> impl Iterator<Item = &WalDamage> {
        self.pieces.iter().filter_map(|piece| match piece {
            Piece::Damaged(damage) => Some(damage),
            Piece::Frame { .. } => None,
        })
    }
}

/// Every write-ahead file of `dir`, oldest first, read and cut into
/// pieces; nothing is changed.
pub(crate) fn map_files(dir: &Path) -> Result<Vec<WalMap>, StoreError> {
    if !dir.exists() {
        return Ok(Vec::new());
    }
    wal_files(dir)?.into_iter().map(map_file).collect()
}

fn map_file(path: PathBuf) -> Result<WalMap, StoreError> {
    let mut data = Vec::new();
    File::open(&path)?.read_to_end(&mut data)?;
    let mut pieces = Vec::new();
    let mut last_position = first_position_of(&path).and_then(|p| p.checked_sub(1));
    let mut at = 0;
    let torn_from = loop {
        if at >= data.len() {
            break data.len();
        }
        if let Some(range) = frame_at(&data, at) {
            if let Some((_, last)) = positions_of(&data[range.clone()]) {
                last_position = Some(last);
            }
            pieces.push(Piece::Frame {
                start: at,
                payload: range.clone(),
            });
            at = range.end;
            continue;
        }
        // Only a frame that reads as one the writer wrote (records,
        // later than the last one before) proves that the bytes before
        // it are damage: a payload cut short may itself hold bytes
        // that look like a frame header.
        let first_at_risk = last_position.map_or(0, |p| p.saturating_add(1));
        let mut from = at + 1;
        let resumed = loop {
            match next_frame(&data, from) {
                None => break None,
                Some((start, range)) => match positions_of(&data[range]) {
                    Some((first, _)) if first >= first_at_risk => break Some((start, first)),
                    _ => from = start + 1,
                },
            }
        };
        match resumed {
            None => break at,
            Some((start, next_valid)) => {
                pieces.push(Piece::Damaged(WalDamage {
                    file: path.clone(),
                    offset: at as u64,
                    bytes: (start - at) as u64,
                    first_at_risk,
                    next_valid,
                }));
                at = start;
            }
        }
    };
    Ok(WalMap {
        path,
        data,
        pieces,
        torn_from,
    })
}

/// Every write-ahead file of `dir`, oldest first, read and checked before
/// anything is written; the first damage found is an error and nothing
/// has been changed.
pub(crate) fn scan(dir: &Path) -> Result<Vec<WalFile>, StoreError> {
    let mut out = Vec::new();
    for map in map_files(dir)? {
        if let Some(damage) = map.damage().next() {
            return Err(StoreError::WalDamaged(Box::new(damage.clone())));
        }
        let frames = map
            .pieces
            .iter()
            .filter_map(|piece| match piece {
                Piece::Frame { payload, .. } => map.data.get(payload.clone()).map(<[u8]>::to_vec),
                Piece::Damaged(_) => None,
            })
            .collect();
        out.push(WalFile {
            torn_tail: (map.data.len() - map.torn_from) as u64,
            path: map.path,
            frames,
        });
    }
    Ok(out)
}

/// The envelopes inside damaged bytes that still check, whole, with a
/// position the damage may have held (`first_at_risk` up to, not
/// including, `next_valid`), in increasing positions: each envelope
/// carries its own crc32c, so a record survives damage to the bytes
/// around it. Returns each one's position and bytes.
pub(crate) fn salvage(data: &[u8], damage: &WalDamage) -> Vec<(Position, Vec<u8>)> {
    let start = usize::try_from(damage.offset).unwrap_or(usize::MAX);
    let end = usize::try_from(damage.offset.saturating_add(damage.bytes)).unwrap_or(usize::MAX);
    let Some(region) = data.get(start..end) else {
        return Vec::new();
    };
    let mut out: Vec<(Position, Vec<u8>)> = Vec::new();
    let mut at = 0;
    while at < region.len() {
        let candidate = match envelope::envelope_len(&region[at..]) {
            Some(len) => &region[at..at + len],
            None => {
                at += 1;
                continue;
            }
        };
        let position = candidate.get(5..13).and_then(be_u64);
        let accepted = position.filter(|p| {
            (damage.first_at_risk..damage.next_valid).contains(p)
                && out.last().is_none_or(|(last, _)| p > last)
                && envelope::decode_raw(*p, sled::IVec::from(candidate), envelope::Check::Full).is_ok()
        });
        match accepted {
            Some(position) => {
                out.push((position, candidate.to_vec()));
                at += candidate.len();
            }
            None => at += 1,
        }
    }
    out
}
