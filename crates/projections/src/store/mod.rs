//! Where views keep their state: named, ordered key-value trees held in
//! memory and persisted as snapshots, one file per tree in the view folder
//! (`<data>/viewstate`).
//!
//! **Why in memory.** Every view write used to be a sled key (5-18 us,
//! 1.3 keys per event), which made view writes the cost of every mutation
//! and of every rebuild (`docs/benchmarks.md`). A tree here is an
//! immutable-structure B-tree (`imbl::OrdSet` of entries, each key and
//! value in one allocation) behind a lock: a write is an insert, a read is a lookup, and a snapshot of the whole tree is a
//! pointer copy that a writer never waits for.
//!
//! **Durability.** The log is the write-ahead record of every view: a
//! tree's snapshot holds its checkpoint with its state, written together
//! ([`ViewTree::persist`]: a temporary file, synced, renamed), so after a
//! crash a view is at the checkpoint of its last snapshot with exactly
//! that state and follows the log from there. Snapshots are written when
//! a build is swapped in, every [`SNAPSHOT_EVERY`] for trees that changed
//! (by a thread of the database, off the write path), and on
//! [`ViewDb::flush`] at shutdown. A tree being built ([`ViewTree::hold`])
//! is never written before its swap: a crash drops it and the build starts
//! again from 0.
//!
//! **Damage.** A snapshot that fails its checks (see [`snapshot`]) is
//! named in the log output with the byte where reading stopped, renamed
//! to `<file>.damaged` (kept for inspection, never read again), listed by
//! [`ViewDb::set_aside`], and its view is built again from the log.
//!
//! **Memory.** The trees of every view live in memory: about the size of
//! their keys and values plus some 50 bytes an entry (see
//! `docs/benchmarks.md` for the figures at the bench's log sizes).

use std::collections::BTreeMap;
use std::fs::File;
use std::ops::Bound;
use std::path::{Path, PathBuf};
use std::sync::atomic::{AtomicBool, AtomicU64, Ordering};
use std::sync::{Arc, Condvar, Mutex, MutexGuard, RwLock, Weak};
use std::time::Duration;

use eventlog::StoreError;
use imbl::OrdSet;

mod entry;
mod range;
pub mod snapshot;

use entry::Stored;
use range::{prefix_end, RangeIter};

pub(crate) type Map = OrdSet<Stored>;

/// How often the database's thread writes the snapshots of trees that
/// changed (the most a crash makes a view replay from the log).
pub const SNAPSHOT_EVERY: Duration = Duration::from_secs(30);
const EXTENSION: &str = "view";

/// A key and its value, as read.
pub type Entry = (Vec<u8>, Vec<u8>);

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

/// A snapshot that could not be read and was set aside.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct SetAside {
    /// The file as it was named.
    pub file: PathBuf,
    /// Where it now is.
    pub moved_to: PathBuf,
    /// What is wrong, and where.
    pub damage: snapshot::Damage,
}

/// The database of view trees in one folder.
#[derive(Clone)]
pub struct ViewDb {
    inner: Arc<DbInner>,
}

struct DbInner {
    dir: PathBuf,
    trees: Mutex<BTreeMap<String, ViewTree>>,
    set_aside: Vec<SetAside>,
    stop: Arc<(Mutex<bool>, Condvar)>,
    _lock: File,
}

impl std::fmt::Debug for ViewDb {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("ViewDb")
            .field("dir", &self.inner.dir)
            .finish_non_exhaustive()
    }
}

/// One named tree.
#[derive(Clone)]
pub struct ViewTree {
    inner: Arc<TreeInner>,
}

struct TreeInner {
    name: String,
    path: PathBuf,
    map: RwLock<Map>,
    /// Bumped by every write, under the map's write lock.
    changes: AtomicU64,
    /// The `changes` the file on disk holds.
    saved: AtomicU64,
    /// Whether the tree has a snapshot file.
    on_disk: AtomicBool,
    /// Being built: not written before its swap.
    held: AtomicBool,
    dropped: AtomicBool,
    persisting: Mutex<()>,
}

impl std::fmt::Debug for ViewTree {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("ViewTree").field("name", &self.inner.name).finish()
    }
}

fn lock<T>(m: &Mutex<T>) -> MutexGuard<'_, T> {
    m.lock().unwrap_or_else(|p| p.into_inner())
}

fn valid_name(name: &str) -> Result<(), StoreError> {
    let ok = !name.is_empty()
        && name.len() <= 200
        && !name.starts_with('.')
        && name
            .bytes()
            .all(|b| b.is_ascii_alphanumeric() || matches!(b, b'.' | b'-' | b'_'));
    if ok {
        Ok(())
    } else {
        Err(StoreError::InvalidAppend(format!(
            "{name:?} cannot name a view tree (letters, digits, '.', '-' and '_' only)"
        )))
    }
}

impl ViewDb {
    /// Opens (or creates) the view database in `path`: loads every tree's
    /// snapshot, sets aside the ones that fail their checks, and starts
    /// the thread that writes snapshots. Another process holding the
    /// folder gives [`StoreError::Locked`] (after a few seconds of
    /// retrying, as the log does).
    pub fn open(path: &Path) -> Result<Self, StoreError> {
        Self::open_with(path, SNAPSHOT_EVERY)
    }

    /// [`ViewDb::open`] with snapshots of changed trees written every
    /// `every`.
    pub fn open_with(path: &Path, every: Duration) -> Result<Self, StoreError> {
        std::fs::create_dir_all(path)?;
        let lock_path = path.join("LOCK");
        let lock_file = File::options()
            .create(true)
            .truncate(false)
            .write(true)
            .open(&lock_path)?;
        eventlog::retry_while_locked(
            path,
            || lock_file.try_lock().map_err(std::io::Error::from),
            |e| e.kind() == std::io::ErrorKind::WouldBlock,
        )?;
        let mut files = Vec::new();
        for entry in std::fs::read_dir(path)? {
            let p = entry?.path();
            match p.extension().and_then(|e| e.to_str()) {
                Some(EXTENSION) => files.push(p),
                // A snapshot a crash interrupted: the old file stands.
                Some("tmp") => std::fs::remove_file(&p)?,
                _ => {}
            }
        }
        files.sort();
        let loaded = load_all(&files)?;
        let mut trees = BTreeMap::new();
        let mut set_aside = Vec::new();
        for (file, result) in files.into_iter().zip(loaded) {
            let stem = file
                .file_stem()
                .and_then(|s| s.to_str())
                .unwrap_or_default()
                .to_string();
            let read = result.and_then(|(name, map)| {
                if name == stem {
                    Ok(map)
                } else {
                    Err(snapshot::Damage {
                        offset: 12,
                        reason: format!("the file holds tree {name:?}, not {stem:?}"),
                    })
                }
            });
            match read {
                Ok(map) => {
                    let tree = ViewTree::new(stem.clone(), file, map, true);
                    trees.insert(stem, tree);
                }
                Err(damage) => {
                    let moved_to = aside_name(&file);
                    std::fs::rename(&file, &moved_to)?;
                    tracing::error!(
                        file = %file.display(),
                        moved_to = %moved_to.display(),
                        "the view snapshot {} is damaged {damage}; it is set aside as {} and its view is built again from the log",
                        file.display(),
                        moved_to.display()
                    );
                    set_aside.push(SetAside { file, moved_to, damage });
                }
            }
        }
        let inner = Arc::new(DbInner {
            dir: path.to_path_buf(),
            trees: Mutex::new(trees),
            set_aside,
            stop: Arc::new((Mutex::new(false), Condvar::new())),
            _lock: lock_file,
        });
        spawn_snapshots(Arc::downgrade(&inner), inner.stop.clone(), every)?;
        Ok(Self { inner })
    }

    /// The tree `name`, created empty if it does not exist.
    pub fn tree(&self, name: &str) -> Result<ViewTree, StoreError> {
        valid_name(name)?;
        let mut trees = lock(&self.inner.trees);
        let tree = trees.entry(name.to_string()).or_insert_with(|| {
            let path = self.inner.dir.join(format!("{name}.{EXTENSION}"));
            ViewTree::new(name.to_string(), path, Map::new(), false)
        });
        Ok(tree.clone())
    }

    /// Whether a tree of that name exists.
    pub fn has_tree(&self, name: &str) -> bool {
        lock(&self.inner.trees).contains_key(name)
    }

    /// Removes a tree, its contents and its snapshot. Returns whether it
    /// existed.
    pub fn drop_tree(&self, name: &str) -> Result<bool, StoreError> {
        let Some(tree) = lock(&self.inner.trees).remove(name) else {
            return Ok(false);
        };
        let _writing = lock(&tree.inner.persisting);
        tree.inner.dropped.store(true, Ordering::SeqCst);
        match std::fs::remove_file(&tree.inner.path) {
            Err(e) if e.kind() != std::io::ErrorKind::NotFound => return Err(e.into()),
            _ => {}
        }
        Ok(true)
    }

    /// Names of the trees.
    pub fn tree_names(&self) -> Vec<String> {
        lock(&self.inner.trees).keys().cloned().collect()
    }

    /// Writes the snapshot of every tree that changed since its last one
    /// (trees being built excepted): on shutdown.
    pub fn flush(&self) -> Result<(), StoreError> {
        persist_changed(&self.inner)
    }

    /// Bytes the snapshots occupy on disk.
    pub fn size_on_disk(&self) -> Result<u64, StoreError> {
        let mut total = 0;
        for entry in std::fs::read_dir(&self.inner.dir)? {
            let entry = entry?;
            if entry.path().extension().and_then(|e| e.to_str()) == Some(EXTENSION) {
                total += entry.metadata()?.len();
            }
        }
        Ok(total)
    }

    /// The snapshots found damaged when the database was opened.
    pub fn set_aside(&self) -> &[SetAside] {
        &self.inner.set_aside
    }
}

impl Drop for DbInner {
    fn drop(&mut self) {
        let (stopped, wake) = &*self.stop;
        *lock(stopped) = true;
        wake.notify_all();
    }
}

/// `<file>.damaged`, or `<file>.damaged.<n>` if that exists already.
fn aside_name(file: &Path) -> PathBuf {
    let base = format!("{}.damaged", file.display());
    let mut candidate = PathBuf::from(&base);
    let mut n = 1;
    while candidate.exists() {
        candidate = PathBuf::from(format!("{base}.{n}"));
        n += 1;
    }
    candidate
}

type Loaded = Result<(String, Map), snapshot::Damage>;

/// Reads a snapshot file into a tree's map.
fn load(file: &Path) -> Result<Loaded, StoreError> {
    let bytes = snapshot::read_file(file)?;
    let mut map = Map::new();
    let mut failed = None;
    let name = snapshot::visit(&bytes, |k, v| match Stored::new(k, v) {
        Ok(entry) => {
            map.insert(entry);
        }
        Err(e) => {
            failed.get_or_insert(e);
        }
    });
    if let Some(e) = failed {
        return Err(e);
    }
    Ok(name.map(|name| (name, map)))
}

/// Reads the snapshot files, on as many threads as there are cores.
fn load_all(files: &[PathBuf]) -> Result<Vec<Loaded>, StoreError> {
    let threads = std::thread::available_parallelism().map_or(1, |n| n.get()).clamp(1, 8);
    let next = AtomicU64::new(0);
    let results: Vec<Mutex<Option<Result<Loaded, StoreError>>>> = files.iter().map(|_| Mutex::new(None)).collect();
    std::thread::scope(|s| {
        for _ in 0..threads.min(files.len()) {
            s.spawn(|| loop {
                let i = next.fetch_add(1, Ordering::SeqCst) as usize;
                let Some(file) = files.get(i) else { break };
                *lock(&results[i]) = Some(load(file));
            });
        }
    });
    results
        .into_iter()
        .map(|r| {
            r.into_inner()
                .unwrap_or_else(|p| p.into_inner())
                .unwrap_or_else(|| Err(std::io::Error::other("a snapshot was not read").into()))
        })
        .collect()
}

fn persist_changed(db: &DbInner) -> Result<(), StoreError> {
    let trees: Vec<ViewTree> = lock(&db.trees).values().cloned().collect();
    let mut first_error = None;
    for tree in trees {
        if tree.inner.held.load(Ordering::SeqCst) || !tree.changed() {
            continue;
        }
        if let Err(e) = tree.persist() {
            tracing::error!(tree = tree.inner.name, "writing the view snapshot failed: {e}");
            first_error.get_or_insert(e);
        }
    }
    first_error.map_or(Ok(()), Err)
}

fn spawn_snapshots(db: Weak<DbInner>, stop: Arc<(Mutex<bool>, Condvar)>, every: Duration) -> Result<(), StoreError> {
    std::thread::Builder::new()
        .name("view-snapshots".into())
        .spawn(move || loop {
            {
                let (stopped, wake) = &*stop;
                let guard = lock(stopped);
                // A timer, not a wait for an event: snapshots are periodic.
                let (guard, _) = wake
                    .wait_timeout_while(guard, every, |stopped| !*stopped)
                    .unwrap_or_else(|p| p.into_inner());
                if *guard {
                    return;
                }
            }
            let Some(db) = db.upgrade() else { return };
            let _ = persist_changed(&db);
        })?;
    Ok(())
}

impl ViewTree {
    fn new(name: String, path: PathBuf, map: Map, on_disk: bool) -> Self {
        Self {
            inner: Arc::new(TreeInner {
                name,
                path,
                map: RwLock::new(map),
                changes: AtomicU64::new(0),
                saved: AtomicU64::new(0),
                on_disk: AtomicBool::new(on_disk),
                held: AtomicBool::new(false),
                dropped: AtomicBool::new(false),
                persisting: Mutex::new(()),
            }),
        }
    }

    /// The tree's name.
    pub fn name(&self) -> &str {
        &self.inner.name
    }

    fn read(&self) -> std::sync::RwLockReadGuard<'_, Map> {
        self.inner.map.read().unwrap_or_else(|p| p.into_inner())
    }

    fn changed(&self) -> bool {
        self.inner.saved.load(Ordering::SeqCst) != self.inner.changes.load(Ordering::SeqCst)
    }

    /// The value of `key`.
    pub fn get(&self, key: &[u8]) -> Result<Option<Vec<u8>>, StoreError> {
        Ok(self.read().get(key).map(|e| e.value().to_vec()))
    }

    /// Applies a batch atomically: a reader sees all of it or none.
    pub fn apply(&self, batch: ViewBatch) -> Result<(), StoreError> {
        // Built before the lock is taken: readers wait for the inserts only.
        let mut ops = Vec::with_capacity(batch.ops.len());
        for (k, v) in batch.ops {
            ops.push(match v {
                Some(v) => Ok(Stored::new(&k, &v)?),
                None => Err(k),
            });
        }
        let mut map = self.inner.map.write().unwrap_or_else(|p| p.into_inner());
        for op in ops {
            match op {
                Ok(entry) => {
                    map.insert(entry);
                }
                Err(key) => {
                    map.remove(key.as_slice());
                }
            }
        }
        self.inner.changes.fetch_add(1, Ordering::SeqCst);
        Ok(())
    }

    /// Applies a batch and writes the tree's snapshot before returning:
    /// for the `meta` tree, whose every change must survive a crash.
    pub fn apply_durable(&self, batch: ViewBatch) -> Result<(), StoreError> {
        self.apply(batch)?;
        self.persist()
    }

    /// Marks the tree as being built: no snapshot of it is written until
    /// [`ViewTree::persist`] is called for its swap.
    pub fn hold(&self) {
        self.inner.held.store(true, Ordering::SeqCst);
    }

    /// Writes the tree's snapshot now, if it changed since the last one
    /// or has none, and releases a [`ViewTree::hold`].
    pub fn persist(&self) -> Result<(), StoreError> {
        let _writing = lock(&self.inner.persisting);
        if self.inner.dropped.load(Ordering::SeqCst) {
            return Ok(());
        }
        let (map, changes) = {
            let map = self.read();
            (map.clone(), self.inner.changes.load(Ordering::SeqCst))
        };
        if self.inner.saved.load(Ordering::SeqCst) != changes || !self.inner.on_disk.load(Ordering::SeqCst) {
            snapshot::write_file(
                &self.inner.path,
                &self.inner.name,
                map.iter().map(|e| (e.key(), e.value())),
            )?;
            self.inner.saved.store(changes, Ordering::SeqCst);
            self.inner.on_disk.store(true, Ordering::SeqCst);
        }
        self.inner.held.store(false, Ordering::SeqCst);
        Ok(())
    }

    /// Entries whose key starts with `prefix`, in key order.
    pub fn scan_prefix(&self, prefix: &[u8]) -> impl Iterator<Item = Result<Entry, StoreError>> + Send + '_ {
        let hi = match prefix_end(prefix) {
            Some(end) => Bound::Excluded(Stored::key_only(&end)),
            None => Bound::Unbounded,
        };
        RangeIter::new(
            self.read().clone(),
            Bound::Included(Stored::key_only(prefix)),
            hi,
            false,
        )
    }

    /// Entries with `from <= key < to`, in key order (or reversed).
    pub fn range(
        &self,
        from: &[u8],
        to: &[u8],
        reverse: bool,
    ) -> Box<dyn Iterator<Item = Result<Entry, StoreError>> + Send + '_> {
        Box::new(RangeIter::new(
            self.read().clone(),
            Bound::Included(Stored::key_only(from)),
            Bound::Excluded(Stored::key_only(to)),
            reverse,
        ))
    }

    /// Number of entries.
    pub fn len(&self) -> usize {
        self.read().len()
    }

    /// Whether the tree is empty.
    pub fn is_empty(&self) -> bool {
        self.read().is_empty()
    }

    /// Removes every entry.
    pub fn clear(&self) -> Result<(), StoreError> {
        let mut map = self.inner.map.write().unwrap_or_else(|p| p.into_inner());
        *map = Map::new();
        self.inner.changes.fetch_add(1, Ordering::SeqCst);
        Ok(())
    }
}
