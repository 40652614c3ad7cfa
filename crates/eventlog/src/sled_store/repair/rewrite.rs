//! The damaged files rewritten: valid frames byte for byte, each damaged
//! region replaced by frames of the records chosen for it.

use std::collections::BTreeMap;
use std::path::PathBuf;

use super::refused;
use crate::error::StoreError;
use crate::sled_store::wal::{FrameBuilder, Piece, WalMap};
use crate::types::Position;

/// Most records in one frame written in place of a damaged region.
const FRAME_RECORDS: usize = 4096;

/// Each damaged file and its new bytes; a position's record is the one
/// salvaged, else sled's, else its placeholder.
pub(super) fn rewrite(
    maps: &[WalMap],
    salvaged: &BTreeMap<Position, Vec<u8>>,
    from_sled: &BTreeMap<Position, Vec<u8>>,
    placeholders: &BTreeMap<Position, Vec<u8>>,
) -> Result<Vec<(PathBuf, Vec<u8>)>, StoreError> {
    // Each damaged file, rewritten: valid frames byte for byte, each
    // damaged region replaced by frames of the records chosen for the
    // positions it held, the torn tail (if any) as it was.
    let mut rewrites = Vec::new();
    for map in maps.iter().filter(|m| m.damage().next().is_some()) {
        let mut out = Vec::with_capacity(map.data.len());
        for piece in &map.pieces {
            match piece {
                Piece::Frame { start, payload } => out.extend_from_slice(&map.data[*start..payload.end]),
                Piece::Damaged(damage) => {
                    let positions: Vec<Position> = (damage.first_at_risk..damage.next_valid).collect();
                    for group in positions.chunks(FRAME_RECORDS) {
                        let mut frame = FrameBuilder::new();
                        for position in group {
                            let bytes = salvaged
                                .get(position)
                                .or_else(|| from_sled.get(position))
                                .or_else(|| placeholders.get(position))
                                .ok_or_else(|| {
                                    refused(format!("internal: no record chosen for position {position}"))
                                })?;
                            frame.push(bytes);
                        }
                        out.extend_from_slice(&frame.finish());
                    }
                }
            }
        }
        out.extend_from_slice(&map.data[map.torn_from..]);
        rewrites.push((map.path.clone(), out));
    }
    Ok(rewrites)
}
