//! Every calendar version a deployment knows, and how versions order.

use std::collections::BTreeMap;
use std::sync::Arc;

use crate::error::DomainError;

use super::{BusinessCalendar, CalendarRef};

/// Compares two version texts part by part, numbers as numbers: `2026.2`
/// before `2026.10`, `2026.1` before `2027.1`. Parts that are not numbers
/// compare as text.
pub fn compare_versions(a: &str, b: &str) -> std::cmp::Ordering {
    let mut left = a.split(['.', '-']);
    let mut right = b.split(['.', '-']);
    loop {
        match (left.next(), right.next()) {
            (None, None) => return a.cmp(b),
            (None, Some(_)) => return std::cmp::Ordering::Less,
            (Some(_), None) => return std::cmp::Ordering::Greater,
            (Some(x), Some(y)) => {
                let order = match (x.parse::<u64>(), y.parse::<u64>()) {
                    (Ok(x), Ok(y)) => x.cmp(&y),
                    _ => x.cmp(y),
                };
                if order != std::cmp::Ordering::Equal {
                    return order;
                }
            }
        }
    }
}

/// Every calendar version known to a deployment, so that each ticket's
/// clocks are computed with the version recorded in its events. Shared
/// between the service and the views: publishing a version adds it while
/// they read.
#[derive(Debug, Default)]
pub struct CalendarRegistry {
    calendars: std::sync::RwLock<BTreeMap<CalendarRef, Arc<BusinessCalendar>>>,
}

impl Clone for CalendarRegistry {
    fn clone(&self) -> Self {
        Self {
            calendars: std::sync::RwLock::new(self.read().clone()),
        }
    }
}

impl CalendarRegistry {
    fn read(&self) -> std::sync::RwLockReadGuard<'_, BTreeMap<CalendarRef, Arc<BusinessCalendar>>> {
        // A panic while holding the lock cannot leave the map half-changed
        // (inserts are single operations): read on.
        self.calendars.read().unwrap_or_else(std::sync::PoisonError::into_inner)
    }

    /// A registry holding the bundled mainland China calendar.
    pub fn with_cn_mainland() -> Self {
        let registry = Self::default();
        let cal = BusinessCalendar::cn_mainland();
        registry
            .calendars
            .write()
            .unwrap_or_else(std::sync::PoisonError::into_inner)
            .insert(cal.reference(), cal);
        registry
    }

    /// Forgets a version that was added for a publication that then did
    /// not happen (nothing in the log names it).
    pub fn remove(&self, reference: &CalendarRef) {
        self.calendars
            .write()
            .unwrap_or_else(std::sync::PoisonError::into_inner)
            .remove(reference);
    }

    /// Adds a calendar version. Adding the same version again with the same
    /// content is a no-op; with different content it is refused, because a
    /// published version must never change.
    pub fn insert(&self, calendar: Arc<BusinessCalendar>) -> Result<(), DomainError> {
        let key = calendar.reference();
        let mut map = self
            .calendars
            .write()
            .unwrap_or_else(std::sync::PoisonError::into_inner);
        match map.get(&key) {
            Some(existing) if existing.spec() != calendar.spec() => Err(DomainError::InvalidReferenceData {
                what: format!("business calendar {key}"),
                reason: "this version is already published with different content; publish a new version".into(),
            }),
            Some(_) => Ok(()),
            None => {
                map.insert(key, calendar);
                Ok(())
            }
        }
    }

    /// The calendar of a recorded reference.
    pub fn get(&self, reference: &CalendarRef) -> Option<Arc<BusinessCalendar>> {
        self.read().get(reference).cloned()
    }

    /// The newest version of calendar `id` (see [`compare_versions`]).
    pub fn latest(&self, id: &str) -> Option<Arc<BusinessCalendar>> {
        self.read()
            .iter()
            .filter(|(k, _)| k.id == id)
            .max_by(|(a, _), (b, _)| compare_versions(&a.version, &b.version))
            .map(|(_, v)| v.clone())
    }

    /// Every version, by id and then version.
    pub fn all(&self) -> Vec<Arc<BusinessCalendar>> {
        let mut all: Vec<_> = self.read().values().cloned().collect();
        all.sort_by(|a, b| {
            let (a, b) = (a.reference(), b.reference());
            a.id.cmp(&b.id).then_with(|| compare_versions(&a.version, &b.version))
        });
        all
    }
}
