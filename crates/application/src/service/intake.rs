//! What intake (受理) looks up before a report is taken: the projects,
//! a building's rooms, a unit's owners, and the warranty finding of every
//! component of a unit on a day. Reads only; nothing is appended.

use chrono::NaiveDate;
use domain::ids::{BuildingId, UnitId};
use domain::warranty::{WarrantyFinding, WarrantyItem};
use projections::archive::{self, ProjectEntry, UnitOwner};

use super::Service;
use crate::error::AppError;

impl Service {
    fn archive_tree(&self) -> Result<projections::store::ViewTree, AppError> {
        Ok(self.view("archive")?.tree())
    }

    /// Every project of the archive, in id order.
    pub fn projects(&self) -> Result<Vec<ProjectEntry>, AppError> {
        archive::projects(&self.archive_tree()?).map_err(AppError::internal)
    }

    /// The incidents of `project` (of every project when `None`), each as
    /// its stream folds: open ones first, then newest opened first.
    pub fn incidents(
        &self,
        project: Option<&domain::ids::ProjectId>,
    ) -> Result<Vec<domain::incident::Incident>, AppError> {
        let ids = archive::incidents(&self.archive_tree()?, project).map_err(AppError::internal)?;
        let mut out = Vec::with_capacity(ids.len());
        for id in ids {
            if let Some(incident) = self.incident(&id)?.0 {
                out.push(incident);
            }
        }
        out.sort_by(|a, b| {
            (a.closed_at.is_some(), std::cmp::Reverse(a.opened_at), &a.id).cmp(&(
                b.closed_at.is_some(),
                std::cmp::Reverse(b.opened_at),
                &b.id,
            ))
        });
        Ok(out)
    }

    /// The units whose linked owner has `phone` (digits compared, anything
    /// else ignored, a leading 86 country code too; at least 7 digits),
    /// with the owner; erased owners never match (their phone cannot be
    /// opened any more). Reads every linked owner's record: a lookup at the
    /// phone, not a report.
    pub fn units_by_phone(&self, phone: &str) -> Result<Vec<(UnitId, domain::archive::Owner)>, AppError> {
        let wanted = phone_digits(phone);
        if wanted.len() < 7 || wanted.len() > 20 {
            return Err(AppError::BadInput(format!(
                "a phone number to look up has 7 to 20 digits, not {}",
                wanted.len()
            )));
        }
        let links = archive::owner_links(&self.archive_tree()?).map_err(AppError::internal)?;
        let mut owners: std::collections::BTreeMap<domain::ids::OwnerId, Option<domain::archive::Owner>> =
            Default::default();
        let mut out = Vec::new();
        for (unit, link) in links {
            if !owners.contains_key(&link.owner) {
                let owner = self.owner(&link.owner)?.0.filter(|o| o.erased_at.is_none());
                let matches = match &owner {
                    Some(o) => {
                        match eventformat::sealing::open_status(self.keyring(), &o.phone).map_err(AppError::internal)? {
                            eventformat::sealing::Opened::Clear(p) => phone_digits(p.as_str()) == wanted,
                            _ => false,
                        }
                    }
                    None => false,
                };
                owners.insert(link.owner.clone(), owner.filter(|_| matches));
            }
            if let Some(Some(owner)) = owners.get(&link.owner) {
                out.push((unit, owner.clone()));
            }
        }
        Ok(out)
    }

    /// The rooms of `building` and their units, in room order.
    pub fn rooms(&self, building: &BuildingId) -> Result<Vec<(String, UnitId)>, AppError> {
        archive::rooms(&self.archive_tree()?, building).map_err(AppError::internal)
    }

    /// The owners linked to `unit`.
    pub fn unit_owners(&self, unit: &UnitId) -> Result<Vec<UnitOwner>, AppError> {
        archive::owners(&self.archive_tree()?, unit).map_err(AppError::internal)
    }

    /// The warranty finding of every component of `unit` for a report on
    /// `on`, under the rules and calendar the unit's project has in force
    /// that day (the statutory holiday rule included); empty while the
    /// unit is not delivered, `None` for a unit that does not exist.
    pub fn warranty_findings(&self, unit: &UnitId, on: NaiveDate) -> Result<Option<Vec<WarrantyFinding>>, AppError> {
        let Some(u) = self.unit(unit)?.0 else {
            return Ok(None);
        };
        let Some(delivered_on) = u.delivered_on else {
            return Ok(Some(Vec::new()));
        };
        let in_force = self.reference_data_for(&u.project, on)?;
        Ok(Some(
            WarrantyItem::ALL
                .iter()
                .map(|item| {
                    in_force
                        .warranty
                        .finding_on(*item, Some(&u.project), delivered_on, on, &in_force.calendar)
                })
                .collect(),
        ))
    }
}

/// A phone number's digits, without a mainland country code in front of a
/// mobile number (`+86 138…`, `0086 138…`).
fn phone_digits(phone: &str) -> String {
    let digits: String = phone.chars().filter(char::is_ascii_digit).collect();
    for prefix in ["0086", "86"] {
        if let Some(rest) = digits.strip_prefix(prefix) {
            if rest.len() == 11 && rest.starts_with('1') {
                return rest.to_string();
            }
        }
    }
    digits
}
