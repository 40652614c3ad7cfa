//! The bytes of a view snapshot: one file per tree, `<tree>.view`, written
//! whole to a temporary file, synced and renamed over the old one, so a
//! crash leaves the old snapshot or the new one, never a mix.
//!
//! Layout (every integer little-endian), version 1:
//!
//! ```text
//! header  "AFTVIEWS" | format: u16 = 1 | name length: u16 | name | crc32c of all before: u32
//! blocks  payload length: u32 (1..=MAX_BLOCK) | crc32c of payload: u32 | payload
//!         payload = entries: key length u32 | key | value length u32 | value
//! end     0: u32 | entries: u64 | payload bytes: u64 | crc32c of the 16 bytes before: u32
//! ```
//!
//! Entries are in key order. Nothing may follow the end. A file that
//! breaks any of this is [`Damage`] at the byte offset where the reading
//! stopped: the caller sets the file aside and builds the view again from
//! the log, the write-ahead record of every view.

use std::fs::File;
use std::io::{BufWriter, Read, Write};
use std::path::Path;

/// The first bytes of every snapshot.
pub const MAGIC: &[u8; 8] = b"AFTVIEWS";
/// The layout this build writes.
pub const FORMAT: u16 = 1;
/// The largest block a reader accepts (a writer cuts blocks at
/// [`BLOCK_TARGET`]; an entry larger than that makes a block of its own).
const MAX_BLOCK: u32 = 64 << 20;
/// Where a writer ends a block.
const BLOCK_TARGET: usize = 256 << 10;

/// A snapshot as read: the tree's name and its entries in key order.
pub type Contents = (String, Vec<(Vec<u8>, Vec<u8>)>);

/// Why a snapshot cannot be read, and where.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Damage {
    /// The byte offset where reading stopped.
    pub offset: u64,
    /// What is wrong there.
    pub reason: String,
}

impl std::fmt::Display for Damage {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(f, "at byte {}: {}", self.offset, self.reason)
    }
}

/// Encodes a snapshot of `entries` (in key order) for the tree `name`.
pub fn write_to<'a, W: Write>(
    out: &mut W,
    name: &str,
    entries: impl Iterator<Item = (&'a [u8], &'a [u8])>,
) -> std::io::Result<()> {
    let mut header = Vec::with_capacity(16 + name.len());
    header.extend_from_slice(MAGIC);
    header.extend_from_slice(&FORMAT.to_le_bytes());
    let name_len = u16::try_from(name.len()).map_err(|_| std::io::Error::other("tree name too long"))?;
    header.extend_from_slice(&name_len.to_le_bytes());
    header.extend_from_slice(name.as_bytes());
    let crc = crc32c::crc32c(&header);
    header.extend_from_slice(&crc.to_le_bytes());
    out.write_all(&header)?;
    let (mut count, mut bytes) = (0u64, 0u64);
    let mut block = Vec::with_capacity(BLOCK_TARGET + 1024);
    let flush = |block: &mut Vec<u8>, out: &mut W| -> std::io::Result<()> {
        if block.is_empty() {
            return Ok(());
        }
        let len = u32::try_from(block.len())
            .ok()
            .filter(|l| *l <= MAX_BLOCK)
            .ok_or_else(|| std::io::Error::other("a view entry is larger than a snapshot block"))?;
        out.write_all(&len.to_le_bytes())?;
        out.write_all(&crc32c::crc32c(block).to_le_bytes())?;
        out.write_all(block)?;
        block.clear();
        Ok(())
    };
    for (key, value) in entries {
        for part in [key, value] {
            let len = u32::try_from(part.len()).map_err(|_| std::io::Error::other("a view entry is too large"))?;
            block.extend_from_slice(&len.to_le_bytes());
            block.extend_from_slice(part);
        }
        bytes += 8 + key.len() as u64 + value.len() as u64;
        count += 1;
        if block.len() >= BLOCK_TARGET {
            flush(&mut block, out)?;
        }
    }
    flush(&mut block, out)?;
    let mut end = Vec::with_capacity(20);
    end.extend_from_slice(&count.to_le_bytes());
    end.extend_from_slice(&bytes.to_le_bytes());
    let crc = crc32c::crc32c(&end);
    out.write_all(&0u32.to_le_bytes())?;
    out.write_all(&end)?;
    out.write_all(&crc.to_le_bytes())?;
    Ok(())
}

/// Writes the snapshot of `entries` to `path` atomically: a temporary file
/// beside it, synced, renamed over `path`, and the folder synced.
pub fn write_file<'a>(
    path: &Path,
    name: &str,
    entries: impl Iterator<Item = (&'a [u8], &'a [u8])>,
) -> std::io::Result<()> {
    let tmp = path.with_extension("view.tmp");
    let file = File::create(&tmp)?;
    let mut out = BufWriter::with_capacity(1 << 20, file);
    write_to(&mut out, name, entries)?;
    let file = out.into_inner().map_err(|e| e.into_error())?;
    file.sync_all()?;
    drop(file);
    std::fs::rename(&tmp, path)?;
    if let Some(dir) = path.parent() {
        File::open(dir)?.sync_all()?;
    }
    Ok(())
}

/// Reads a snapshot: the tree's name and its entries in key order.
pub fn read(bytes: &[u8]) -> Result<Contents, Damage> {
    let mut entries = Vec::new();
    let name = visit(bytes, |k, v| entries.push((k.to_vec(), v.to_vec())))?;
    Ok((name, entries))
}

/// Reads a snapshot, handing each entry to `f` in key order once its
/// block has passed its checks, and returns the tree's name. On damage,
/// `f` may have seen the entries of the blocks before it: the caller
/// drops them.
pub fn visit(bytes: &[u8], mut f: impl FnMut(&[u8], &[u8])) -> Result<String, Damage> {
    let mut r = Reader { bytes, at: 0 };
    let magic = r.take(8, "the file is shorter than a snapshot header")?;
    if magic != MAGIC {
        return Err(r.damage_at(0, "the file does not begin as a view snapshot does"));
    }
    let format = u16::from_le_bytes(r.array("the header ends early")?);
    if format != FORMAT {
        return Err(r.damage_at(
            8,
            &format!("snapshot format {format}; this build reads format {FORMAT} only"),
        ));
    }
    let name_len = u16::from_le_bytes(r.array("the header ends early")?) as usize;
    let name = r.take(name_len, "the header ends inside the tree's name")?;
    let name = String::from_utf8(name.to_vec()).map_err(|_| r.damage_at(12, "the tree's name is not UTF-8"))?;
    let header_end = r.at;
    let crc = u32::from_le_bytes(r.array("the header ends early")?);
    if crc != crc32c::crc32c(&bytes[..header_end]) {
        return Err(r.damage_at(0, "the header fails its checksum"));
    }
    let mut count_seen = 0u64;
    let mut last_key: Option<&[u8]> = None;
    let mut payload_bytes = 0u64;
    loop {
        let block_at = r.at;
        let len = u32::from_le_bytes(r.array("the file ends before the snapshot's end marker")?);
        if len == 0 {
            break;
        }
        if len > MAX_BLOCK {
            return Err(r.damage_at(
                block_at,
                &format!("a block claims {len} bytes, more than any writer makes"),
            ));
        }
        let crc = u32::from_le_bytes(r.array("the file ends inside a block's header")?);
        let payload = r.take(len as usize, "the file ends inside a block")?;
        if crc != crc32c::crc32c(payload) {
            return Err(r.damage_at(block_at, "a block fails its checksum"));
        }
        let mut p = Reader { bytes: payload, at: 0 };
        while p.at < payload.len() {
            let key = p
                .part()
                .map_err(|_| r.damage_at(block_at, "a block's entries are cut short"))?;
            let value = p
                .part()
                .map_err(|_| r.damage_at(block_at, "a block's entries are cut short"))?;
            if last_key.is_some_and(|last| last >= key) {
                return Err(r.damage_at(block_at, "the entries are not in key order"));
            }
            last_key = Some(key);
            count_seen += 1;
            f(key, value);
        }
        payload_bytes += len as u64;
    }
    let end_at = r.at;
    let end = r.take(16, "the file ends inside the end marker")?;
    let crc = u32::from_le_bytes(r.array("the file ends inside the end marker")?);
    if crc != crc32c::crc32c(end) {
        return Err(r.damage_at(end_at, "the end marker fails its checksum"));
    }
    let count = u64::from_le_bytes(end[..8].try_into().unwrap_or_default());
    let total = u64::from_le_bytes(end[8..].try_into().unwrap_or_default());
    if count != count_seen || total != payload_bytes {
        return Err(r.damage_at(
            end_at,
            &format!(
                "the end marker counts {count} entries in {total} bytes, the blocks hold {count_seen} in {payload_bytes}"
            ),
        ));
    }
    if r.at != bytes.len() {
        return Err(r.damage_at(r.at as u64, "bytes follow the end marker"));
    }
    Ok(name)
}

/// The bytes of the snapshot file at `path`.
pub fn read_file(path: &Path) -> std::io::Result<Vec<u8>> {
    let mut bytes = Vec::new();
    File::open(path)?.read_to_end(&mut bytes)?;
    Ok(bytes)
}

struct Reader<'a> {
    bytes: &'a [u8],
    at: usize,
}

impl<'a> Reader<'a> {
    fn take(&mut self, n: usize, short: &str) -> Result<&'a [u8], Damage> {
        match self.bytes.get(self.at..self.at.saturating_add(n)) {
            Some(s) if self.at.checked_add(n).is_some() => {
                self.at += n;
                Ok(s)
            }
            _ => Err(self.damage_at(self.at as u64, short)),
        }
    }

    fn array<const N: usize>(&mut self, short: &str) -> Result<[u8; N], Damage> {
        let s = self.take(N, short)?;
        let mut a = [0u8; N];
        a.copy_from_slice(s);
        Ok(a)
    }

    /// A length-prefixed part of an entry.
    fn part(&mut self) -> Result<&'a [u8], Damage> {
        let len = u32::from_le_bytes(self.array("")?) as usize;
        self.take(len, "")
    }

    fn damage_at(&self, offset: impl TryInto<u64>, reason: &str) -> Damage {
        Damage {
            offset: offset.try_into().unwrap_or(u64::MAX),
            reason: reason.to_string(),
        }
    }
}
