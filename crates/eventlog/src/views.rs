//! Storage for read models: named key-value trees in a sled database of
//! their own (`<data>/views`), with atomic batches.
//!
//! Projections keep their state and their checkpoint in one tree and write
//! both in one [`ViewBatch`], which sled applies atomically and recovers
//! whole or not at all; after a crash a view is at some earlier checkpoint
//! with exactly the state of that checkpoint, and resumes from there.
//! Views are derived data: they are flushed on sled's own timer (every
//! 500 ms by default), never synced per write, because anything lost is
//! rebuilt from the log.
//!
//! A tree that nothing reads yet (a view being built from position 0) may
//! be written with [`ViewTree::write_in_order`] instead: plain inserts,
//! about 1.4x faster than sled's atomic batches, but a crash can leave any
//! prefix of them, so such a tree is thrown away if a crash interrupts it.
//!
//! This module keeps sled inside this crate, as everything else that
//! touches storage.

use std::path::Path;

use crate::error::StoreError;

/// A database of view trees.
#[derive(Clone)]
pub struct ViewDb {
    db: sled::Db,
}

impl std::fmt::Debug for ViewDb {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("ViewDb").finish_non_exhaustive()
    }
}

/// One named tree.
#[derive(Clone)]
pub struct ViewTree {
    tree: sled::Tree,
}

impl std::fmt::Debug for ViewTree {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("ViewTree")
            .field("name", &String::from_utf8_lossy(&self.tree.name()))
            .finish()
    }
}

/// Writes to one tree, applied together or not at all.
#[derive(Debug, Default, Clone)]
pub struct ViewBatch {
    ops: Vec<(Vec<u8>, Option<Vec<u8>>)>,
}

impl ViewBatch {
    /// Sets `key` to `value`.
    pub fn put(&mut self, key: impl Into<Vec<u8>>, value: impl Into<Vec<u8>>) {
        self.ops.push((key.into(), Some(value.into())));
    }

    /// Removes `key`.
    pub fn delete(&mut self, key: impl Into<Vec<u8>>) {
        self.ops.push((key.into(), None));
    }

    /// Number of writes.
    pub fn len(&self) -> usize {
        self.ops.len()
    }

    /// Whether there is nothing to write.
    pub fn is_empty(&self) -> bool {
        self.ops.is_empty()
    }
}

/// A key and its value, as read.
pub type Entry = (Vec<u8>, Vec<u8>);

impl ViewDb {
    /// Opens (or creates) the view database in `path`, with a page cache of
    /// `cache_capacity_bytes`, which bounds its memory. Another process
    /// holding it gives [`StoreError::Locked`].
    pub fn open(path: &Path, cache_capacity_bytes: u64) -> Result<Self, StoreError> {
        std::fs::create_dir_all(path)?;
        // Like the log, retry the lock for a few seconds: sled releases it
        // only when its collector frees the last handle. Views are derived
        // data: flushed on sled's own timer, never synced per write.
        let db = crate::sled_open::open_sled(path, cache_capacity_bytes, Some(500), None)?;
        Ok(Self { db })
    }

    /// The tree `name`, created empty if it does not exist.
    pub fn tree(&self, name: &str) -> Result<ViewTree, StoreError> {
        Ok(ViewTree {
            tree: self.db.open_tree(name)?,
        })
    }

    /// Whether a tree of that name exists.
    pub fn has_tree(&self, name: &str) -> bool {
        self.db.tree_names().iter().any(|n| n.as_ref() == name.as_bytes())
    }

    /// Removes a tree and its contents. Returns whether it existed.
    pub fn drop_tree(&self, name: &str) -> Result<bool, StoreError> {
        Ok(self.db.drop_tree(name)?)
    }

    /// Names of the trees (without sled's own default tree).
    pub fn tree_names(&self) -> Vec<String> {
        self.db
            .tree_names()
            .into_iter()
            .map(|n| String::from_utf8_lossy(&n).into_owned())
            .filter(|n| n != "__sled__default")
            .collect()
    }

    /// Writes everything to disk now (on shutdown).
    pub fn flush(&self) -> Result<(), StoreError> {
        self.db.flush()?;
        Ok(())
    }

    /// Bytes the database occupies on disk.
    pub fn size_on_disk(&self) -> Result<u64, StoreError> {
        Ok(self.db.size_on_disk()?)
    }
}

impl ViewTree {
    /// The value of `key`.
    pub fn get(&self, key: &[u8]) -> Result<Option<Vec<u8>>, StoreError> {
        Ok(self.tree.get(key)?.map(|v| v.to_vec()))
    }

    /// Applies a batch atomically.
    pub fn apply(&self, batch: ViewBatch) -> Result<(), StoreError> {
        let mut b = sled::Batch::default();
        for (k, v) in batch.ops {
            match v {
                Some(v) => b.insert(k, v),
                None => b.remove(k),
            }
        }
        self.tree.apply_batch(b)?;
        Ok(())
    }

    /// Writes a batch as plain inserts and removals, one after the other,
    /// without sled's atomic batch: sled recovers its log in order, so a
    /// crash leaves the tree with some prefix of these writes, which may
    /// end in the middle of the batch. Only for a tree that nobody reads
    /// and that is thrown away if a crash interrupts its writing (a view
    /// being built from position 0); [`ViewDb::flush`] before publishing
    /// it.
    pub fn write_in_order(&self, batch: ViewBatch) -> Result<(), StoreError> {
        for (k, v) in batch.ops {
            match v {
                Some(v) => {
                    self.tree.insert(k, v)?;
                }
                None => {
                    self.tree.remove(k)?;
                }
            }
        }
        Ok(())
    }

    /// Entries whose key starts with `prefix`, in key order.
    pub fn scan_prefix(&self, prefix: &[u8]) -> impl Iterator<Item = Result<Entry, StoreError>> + '_ {
        self.tree
            .scan_prefix(prefix)
            .map(|r| r.map(|(k, v)| (k.to_vec(), v.to_vec())).map_err(StoreError::from))
    }

    /// Entries with `from <= key < to`, in key order (or reversed).
    pub fn range(
        &self,
        from: &[u8],
        to: &[u8],
        reverse: bool,
    ) -> Box<dyn Iterator<Item = Result<Entry, StoreError>> + Send + '_> {
        let iter = self
            .tree
            .range(from.to_vec()..to.to_vec())
            .map(|r| r.map(|(k, v)| (k.to_vec(), v.to_vec())).map_err(StoreError::from));
        if reverse {
            Box::new(iter.rev())
        } else {
            Box::new(iter)
        }
    }

    /// Number of entries (walks the tree).
    pub fn len(&self) -> usize {
        self.tree.len()
    }

    /// Whether the tree is empty.
    pub fn is_empty(&self) -> bool {
        self.tree.is_empty()
    }

    /// Removes every entry.
    pub fn clear(&self) -> Result<(), StoreError> {
        self.tree.clear()?;
        Ok(())
    }
}
