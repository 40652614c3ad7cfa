//! The archive's indexes for intake (受理): projects by id, a building's
//! units by room number, and the owners linked to each unit; and each
//! project's incidents (重大事件), listed by the incidents page. Nothing
//! personal is kept (ids, names of projects, room numbers, contract
//! dates): an owner's name and phone are read from the owner's own record,
//! masked per role, so an erasure leaves nothing here to shred.

use chrono::NaiveDate;
use domain::archive::{OwnerEvent, ProjectEvent, UnitEvent};
use domain::ids::{BuildingId, IncidentId, OwnerId, ProjectId, UnitId};
use domain::incident::IncidentEvent;
use serde::{Deserialize, Serialize};

use crate::runner::{Applied, Projection, ProjectionError, ViewWriter};
use crate::store::ViewTree;
use eventformat::wire::DomainEvent;

/// The archive index projection.
#[derive(Debug, Clone, Default)]
pub struct ArchiveView;

const PROJECT: u8 = b'p';
const ROOM: u8 = b'r';
const OWNER: u8 = b'o';
const INCIDENT: u8 = b'i';

/// A project as the index lists it.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct ProjectEntry {
    /// Id.
    pub id: ProjectId,
    /// Name.
    pub name: String,
    /// City.
    pub city: String,
}

/// An owner linked to a unit.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct UnitOwner {
    /// The owner's record.
    pub owner: OwnerId,
    /// When the purchase contract was signed.
    pub contract_signed_on: NaiveDate,
}

fn key(tag: u8, parts: &[&str]) -> Vec<u8> {
    let mut k = vec![tag];
    for (i, p) in parts.iter().enumerate() {
        if i > 0 {
            k.push(0);
        }
        k.extend_from_slice(p.as_bytes());
    }
    k
}

impl Projection for ArchiveView {
    fn name(&self) -> &'static str {
        "archive"
    }

    fn version(&self) -> u32 {
        // 2: the incidents of each project.
        2
    }

    fn apply(&self, view: &mut ViewWriter<'_>, applied: &Applied<'_>) -> Result<(), ProjectionError> {
        match applied.event {
            DomainEvent::Project(id, stamped) => {
                if let ProjectEvent::ProjectRegistered { name, city, .. } = &stamped.event {
                    let entry = ProjectEntry {
                        id: id.clone(),
                        name: name.clone(),
                        city: city.clone(),
                    };
                    view.put_value(key(PROJECT, &[id.as_str()]), &entry)?;
                }
                Ok(())
            }
            DomainEvent::Unit(id, stamped) => {
                if let UnitEvent::UnitRegistered { building, number, .. } = &stamped.event {
                    view.put_value(key(ROOM, &[building.as_str(), number]), id)?;
                }
                Ok(())
            }
            DomainEvent::Owner(id, stamped) => {
                if let OwnerEvent::OwnerLinkedToUnit {
                    unit,
                    contract_signed_on,
                    ..
                } = &stamped.event
                {
                    let entry = UnitOwner {
                        owner: id.clone(),
                        contract_signed_on: *contract_signed_on,
                    };
                    view.put_value(key(OWNER, &[unit.as_str(), id.as_str()]), &entry)?;
                }
                Ok(())
            }
            DomainEvent::Incident(id, stamped) => {
                if let IncidentEvent::IncidentOpened { project, .. } = &stamped.event {
                    view.put_value(key(INCIDENT, &[project.as_str(), id.as_str()]), id)?;
                }
                Ok(())
            }
            _ => Ok(()),
        }
    }
}

fn decode<T: serde::de::DeserializeOwned>(bytes: &[u8]) -> Result<T, ProjectionError> {
    Ok(eventlog::codec::decode("view value", 1, bytes)?)
}

/// Every project, in id order.
pub fn projects(tree: &ViewTree) -> Result<Vec<ProjectEntry>, ProjectionError> {
    let mut out = Vec::new();
    for entry in tree.scan_prefix(&[PROJECT]) {
        let (_, v) = entry?;
        out.push(decode(&v)?);
    }
    Ok(out)
}

/// The unit with room `number` in `building`, if one is registered.
pub fn unit_by_room(tree: &ViewTree, building: &BuildingId, number: &str) -> Result<Option<UnitId>, ProjectionError> {
    match tree.get(&key(ROOM, &[building.as_str(), number]))? {
        Some(v) => Ok(Some(decode(&v)?)),
        None => Ok(None),
    }
}

/// The rooms of `building` and their units, in room order.
pub fn rooms(tree: &ViewTree, building: &BuildingId) -> Result<Vec<(String, UnitId)>, ProjectionError> {
    let prefix = key(ROOM, &[building.as_str(), ""]);
    let mut out = Vec::new();
    for entry in tree.scan_prefix(&prefix) {
        let (k, v) = entry?;
        let number = String::from_utf8_lossy(&k[prefix.len()..]).into_owned();
        out.push((number, decode(&v)?));
    }
    Ok(out)
}

/// The incidents of `project` (of every project when `None`), in project
/// then id order.
pub fn incidents(tree: &ViewTree, project: Option<&ProjectId>) -> Result<Vec<IncidentId>, ProjectionError> {
    let prefix = match project {
        Some(p) => key(INCIDENT, &[p.as_str(), ""]),
        None => vec![INCIDENT],
    };
    let mut out = Vec::new();
    for entry in tree.scan_prefix(&prefix) {
        let (_, v) = entry?;
        out.push(decode(&v)?);
    }
    Ok(out)
}

/// Every link of an owner to a unit, in unit then owner order (the
/// intake's lookup by the caller's phone reads each owner once).
pub fn owner_links(tree: &ViewTree) -> Result<Vec<(UnitId, UnitOwner)>, ProjectionError> {
    let mut out = Vec::new();
    for entry in tree.scan_prefix(&[OWNER]) {
        let (k, v) = entry?;
        let Some(sep) = k.iter().skip(1).position(|b| *b == 0) else {
            continue;
        };
        let unit = String::from_utf8_lossy(&k[1..1 + sep]).into_owned();
        let Ok(unit) = UnitId::new(unit) else { continue };
        out.push((unit, decode(&v)?));
    }
    Ok(out)
}

/// The owners linked to `unit`, in owner-id order.
pub fn owners(tree: &ViewTree, unit: &UnitId) -> Result<Vec<UnitOwner>, ProjectionError> {
    let prefix = key(OWNER, &[unit.as_str(), ""]);
    let mut out = Vec::new();
    for entry in tree.scan_prefix(&prefix) {
        let (_, v) = entry?;
        out.push(decode(&v)?);
    }
    Ok(out)
}
