//! What the repair will write, decided before anything is changed: the
//! records chosen for each position a damaged region held, the lost
//! stream versions matched to lost positions, the placeholders.

use std::collections::{BTreeMap, BTreeSet};
use std::path::PathBuf;

use super::refused;
use super::rewrite::rewrite;
use super::walk::{decode_checked, unexplained, Gap, Source, Walk};
use crate::envelope;
use crate::error::StoreError;
use crate::sled_store::chunk::Records;
use crate::sled_store::format::{log_end, READABLE_FORMATS, STORE_FORMAT};
use crate::sled_store::keys::*;
use crate::sled_store::lost::{LostPosition, LOST_EVENT_TYPE, LOST_STREAM};
use crate::sled_store::wal::{self, Piece, WalMap};
use crate::types::{EventId, EventMetadata, NewEvent, Position, StreamId, StreamVersion, MAX_PAYLOAD_LEN};

/// The ids of placeholders are name-based (UUID version 5) in this
/// namespace, from the position they fill: the same position always gets
/// the same id.
const PLACEHOLDER_IDS: uuid::Uuid = uuid::Uuid::from_u128(0x9d1c_52a0_3f4e_4b8e_a6d2_6c6f_7374_0001);

/// What the repair will write, decided before anything is changed.
pub(super) struct Plan {
    pub(super) kept: Vec<Position>,
    pub(super) salvaged: Vec<Position>,
    pub(super) from_sled: Vec<Position>,
    pub(super) lost: Vec<Position>,
    pub(super) lost_versions: Vec<(String, StreamVersion)>,
    pub(super) torn_tail_bytes: u64,
    /// Each damaged file and its new bytes.
    pub(super) rewrites: Vec<(PathBuf, Vec<u8>)>,
}

/// Checks the store format marker without writing it (the open
/// writes or raises it, see [`crate::sled_store::format::check_format`]).
fn check_format(tree: &sled::Tree) -> Result<(), StoreError> {
    match tree.get(FORMAT_KEY)? {
        Some(bytes) => {
            let found = bytes
                .as_ref()
                .try_into()
                .map(u32::from_be_bytes)
                .map_err(|_| refused("the store format marker is unreadable: sled's records are damaged"))?;
            if found != STORE_FORMAT && !READABLE_FORMATS.contains(&found) {
                return Err(StoreError::UnsupportedFormat {
                    found,
                    supported: STORE_FORMAT,
                });
            }
            Ok(())
        }
        None if tree.scan_prefix([LOG]).next().is_some() => Err(refused(
            "sled holds events but no store format marker: sled's records are damaged",
        )),
        None => Ok(()),
    }
}

pub(super) fn plan(tree: &sled::Tree, maps: &[WalMap], number: u32) -> Result<Plan, StoreError> {
    check_format(tree)?;
    let sled_end = log_end(tree).map_err(|e| refused(format!("sled's records are damaged: {e}")))?;
    let checkpoint = maps.first().and_then(|m| wal::first_position_of(&m.path));
    if let Some(checkpoint) = checkpoint {
        if checkpoint > sled_end {
            return Err(refused(format!(
                "sled's records end at position {sled_end} but the last checkpoint was at {checkpoint}: \
                 sled's own files lost records that were durable (restore the folder from a backup)"
            )));
        }
    }

    // The write-ahead records: valid frames', and those that still check
    // inside damaged bytes; the positions each damaged region may have held.
    let mut framed: BTreeMap<Position, &[u8]> = BTreeMap::new();
    let mut salvaged: BTreeMap<Position, Vec<u8>> = BTreeMap::new();
    let mut at_risk: BTreeMap<Position, (usize, usize)> = BTreeMap::new();
    let mut kept = Vec::new();
    let mut torn_tail_bytes = 0;
    for (f, map) in maps.iter().enumerate() {
        let damaged_file = map.damage().next().is_some();
        torn_tail_bytes += (map.data.len() - map.torn_from) as u64;
        for (r, piece) in map.pieces.iter().enumerate() {
            match piece {
                Piece::Frame { payload, .. } => {
                    let records = map
                        .data
                        .get(payload.clone())
                        .and_then(wal::records_of)
                        .ok_or_else(|| refused(format!("a frame of {} is malformed", map.path.display())))?;
                    for bytes in records {
                        let position = bytes
                            .get(5..13)
                            .and_then(be_u64)
                            .ok_or_else(|| refused(format!("a record of {} is malformed", map.path.display())))?;
                        if checkpoint.is_some_and(|c| position < c) {
                            // Older than the last checkpoint: sled has it.
                            continue;
                        }
                        framed.entry(position).or_insert(bytes);
                        if damaged_file {
                            kept.push(position);
                        }
                    }
                }
                Piece::Damaged(damage) => {
                    let count = damage.next_valid.saturating_sub(damage.first_at_risk);
                    // A record takes more than 64 bytes of a frame.
                    if count > damage.bytes / 32 + 1 {
                        return Err(refused(format!(
                            "{} bytes from byte {} of {} cannot have held positions {}-{}",
                            damage.bytes,
                            damage.offset,
                            map.path.display(),
                            damage.first_at_risk,
                            damage.next_valid.saturating_sub(1)
                        )));
                    }
                    for (position, bytes) in wal::salvage(&map.data, damage) {
                        salvaged.entry(position).or_insert(bytes);
                    }
                    for position in damage.first_at_risk..damage.next_valid {
                        at_risk.entry(position).or_insert((f, r));
                    }
                }
            }
        }
    }
    if let Some(position) = at_risk.keys().find(|p| framed.contains_key(p)) {
        return Err(refused(format!(
            "position {position} is both in a valid frame and among the positions damaged bytes held"
        )));
    }
    let end = [
        Some(sled_end),
        framed.keys().next_back().map(|p| p + 1),
        salvaged.keys().next_back().map(|p| p + 1),
    ]
    .into_iter()
    .flatten()
    .max()
    .unwrap_or(sled_end);

    // The whole log, in position order.
    let mut walk = Walk::default();
    let mut from_sled: BTreeMap<Position, Vec<u8>> = BTreeMap::new();
    for item in Records::new(tree, 0, sled_end) {
        let (position, bytes) = item.map_err(|e| {
            refused(format!(
                "sled's records are damaged ({e}): this is not damage of the write-ahead files (restore the folder from a backup)"
            ))
        })?;
        let event = decode_checked(position, &bytes, Source::Sled)?;
        walk.record(&event)?;
        if at_risk.contains_key(&position) && !salvaged.contains_key(&position) {
            from_sled.insert(position, bytes.to_vec());
        }
    }
    for position in sled_end..end {
        if let Some(bytes) = framed.get(&position) {
            walk.record(&decode_checked(position, bytes, Source::Frame)?)?;
        } else if let Some(bytes) = salvaged.get(&position) {
            walk.record(&decode_checked(position, bytes, Source::Salvaged)?)?;
        } else if let Some(damage) = at_risk.get(&position) {
            walk.lost(position, *damage);
        } else {
            return Err(refused(format!(
                "position {position} is missing: no write-ahead frame holds it, no damaged bytes could have held it \
                 and sled's records end at {sled_end}"
            )));
        }
    }

    // Each gap in a stream's versions not declared by an earlier repair
    // must be a lost event: one lost position between the versions around
    // the gap stands for it (earliest deadline first, so every gap that
    // can get a position gets one).
    let lost: Vec<Position> = walk.placeholders.keys().copied().collect();
    let mut missing: Vec<(String, StreamVersion, Option<Position>, Position)> = Vec::new();
    for gap in &walk.gaps {
        let declared = walk.declared.get(&gap.stream);
        let undeclared = (gap.from..gap.to).filter(|v| !declared.is_some_and(|d| d.contains(v)));
        for version in undeclared {
            if missing.len() >= lost.len() {
                return Err(unexplained(gap, version));
            }
            missing.push((gap.stream.clone(), version, gap.after, gap.before));
        }
    }
    missing.sort_by(|a, b| (a.3, &a.0, a.1).cmp(&(b.3, &b.0, b.1)));
    let mut available: BTreeSet<Position> = lost.iter().copied().collect();
    let mut lost_versions = Vec::new();
    for (stream, version, after, before) in missing {
        let from = after.map_or(0, |a| a + 1);
        let Some(&position) = available.range(from..before).next() else {
            return Err(unexplained(
                &Gap {
                    stream,
                    from: version,
                    to: version + 1,
                    after,
                    before,
                },
                version,
            ));
        };
        available.remove(&position);
        if let Some(placeholder) = walk.placeholders.get_mut(&position) {
            placeholder.declares.push((stream.clone(), version));
        }
        lost_versions.push((stream, version));
    }
    lost_versions.sort();

    // The placeholders' records.
    let lost_stream = StreamId::new(LOST_STREAM)?;
    let mut placeholders: BTreeMap<Position, Vec<u8>> = BTreeMap::new();
    for (&position, placeholder) in &walk.placeholders {
        let (f, r) = placeholder.damage;
        let Some(Piece::Damaged(damage)) = maps.get(f).and_then(|m| m.pieces.get(r)) else {
            return Err(refused("internal: a lost position without its damaged region"));
        };
        let payload = crate::codec::encode(&LostPosition {
            repair: number,
            file: damage
                .file
                .file_name()
                .map(|n| n.to_string_lossy().into_owned())
                .unwrap_or_default(),
            damaged_from: damage.offset,
            damaged_bytes: damage.bytes,
            declares: placeholder.declares.clone(),
        })?;
        if payload.len() > MAX_PAYLOAD_LEN {
            return Err(refused(format!(
                "the placeholder at position {position} would be too large"
            )));
        }
        let id = EventId(uuid::Uuid::new_v5(
            &PLACEHOLDER_IDS,
            format!("{LOST_STREAM} position {position}").as_bytes(),
        ));
        if tree.get(id_key(&id))?.is_some() {
            return Err(refused(format!(
                "the id {id} of the placeholder for position {position} is already in use"
            )));
        }
        let event = NewEvent {
            id,
            event_type: LOST_EVENT_TYPE.to_owned(),
            schema_version: 1,
            payload,
            metadata: EventMetadata {
                actor: "repair".to_owned(),
                role: "system".to_owned(),
                channel: "repair".to_owned(),
                ..EventMetadata::default()
            },
        };
        let placement = envelope::Placement {
            position,
            stream: &lost_stream,
            stream_version: placeholder.version,
            // No record before it: the epoch, which no later record precedes.
            recorded_at: placeholder.recorded_at.unwrap_or_default(),
        };
        placeholders.insert(position, envelope::encode(&placement, &event));
    }

    let rewrites = rewrite(maps, &salvaged, &from_sled, &placeholders)?;

    let in_range = |p: &&Position| at_risk.contains_key(p);
    Ok(Plan {
        kept,
        salvaged: salvaged.keys().filter(in_range).copied().collect(),
        from_sled: from_sled.keys().copied().collect(),
        lost,
        lost_versions,
        torn_tail_bytes,
        rewrites,
    })
}
