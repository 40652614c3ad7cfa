//! Reading a range of a view tree: a snapshot of the tree taken when the
//! iterator is made, read a chunk at a time.

use std::collections::VecDeque;
use std::ops::Bound;

use eventlog::StoreError;

use super::{Entry, Map, Stored};

/// Entries read from a tree per step of an iterator.
const CHUNK: usize = 128;

/// The first key after every key that starts with `prefix` (`None`: no
/// such key, the prefix is all 0xFF).
pub(crate) fn prefix_end(prefix: &[u8]) -> Option<Vec<u8>> {
    let mut end = prefix.to_vec();
    while let Some(last) = end.pop() {
        if last < 0xFF {
            end.push(last + 1);
            return Some(end);
        }
    }
    None
}

/// Iterates a snapshot of a tree (taken when the iterator was made, so a
/// page is read from one state of the view) a chunk at a time.
pub(crate) struct RangeIter {
    map: Map,
    lo: Bound<Stored>,
    hi: Bound<Stored>,
    reverse: bool,
    buf: VecDeque<Stored>,
    done: bool,
}

impl RangeIter {
    pub(crate) fn new(map: Map, lo: Bound<Stored>, hi: Bound<Stored>, reverse: bool) -> Self {
        Self {
            map,
            lo,
            hi,
            reverse,
            buf: VecDeque::new(),
            done: false,
        }
    }

    fn refill(&mut self) {
        let lo = self.lo.as_ref().map(Stored::key);
        let hi = self.hi.as_ref().map(Stored::key);
        if let (Bound::Included(l) | Bound::Excluded(l), Bound::Included(h) | Bound::Excluded(h)) = (lo, hi) {
            if l > h || (l == h && !matches!((lo, hi), (Bound::Included(_), Bound::Included(_)))) {
                self.done = true;
                return;
            }
        }
        let range = self.map.range::<_, [u8]>((lo, hi));
        let chunk: Vec<Stored> = if self.reverse {
            range.rev().take(CHUNK).cloned().collect()
        } else {
            range.take(CHUNK).cloned().collect()
        };
        if chunk.len() < CHUNK {
            self.done = true;
        }
        if let Some(last) = chunk.last() {
            if self.reverse {
                self.hi = Bound::Excluded(last.clone());
            } else {
                self.lo = Bound::Excluded(last.clone());
            }
        }
        self.buf.extend(chunk);
    }
}

impl Iterator for RangeIter {
    type Item = Result<Entry, StoreError>;

    fn next(&mut self) -> Option<Self::Item> {
        if self.buf.is_empty() && !self.done {
            self.refill();
        }
        self.buf.pop_front().map(|e| Ok((e.key().to_vec(), e.value().to_vec())))
    }
}
