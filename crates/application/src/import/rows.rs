//! One row of each kind (projects, buildings, units, owners) as the
//! commands it stands for, with every problem of its fields.

use chrono::NaiveDate;
use domain::archive::{OwnerCommand, ProjectCommand, UnitCommand};
use domain::calendar::CalendarRegistry;
use domain::error::DomainError;
use domain::ids::{BuildingId, OwnerId, ProjectId, UnitId};
use domain::personal::{IdNumber, PersonName, Personal, PhoneNumber};
use domain::ticket::TouchpointStage;

use super::parse::{Commands, Fields, FirstOwnerRow, Parser, Seen, LINK_COLUMNS};
use super::DEFAULT_CALENDAR;

impl Parser {
    pub(super) fn project(&mut self, f: &mut Fields<'_>, calendars: &CalendarRegistry) -> Option<Commands> {
        let id = f.id("project_id", ProjectId::new);
        let name = f.required("name");
        let city = f.required("city");
        let calendar = f.value("calendar").unwrap_or(DEFAULT_CALENDAR);
        if calendars.latest(calendar).is_none() {
            f.error(
                Some("calendar"),
                format!(
                    "no business calendar {calendar:?} is known to this server (the default is {DEFAULT_CALENDAR})"
                ),
            );
        }
        if let Some(id) = &id {
            self.once(f, "project_id", format!("project {id}"));
        }
        let command = ProjectCommand::Register {
            project: id.clone()?,
            name: name?.to_string(),
            city: city?.to_string(),
            calendar: calendar.to_string(),
        };
        Some(Commands::Project(id?, vec![(0, command)]))
    }

    pub(super) fn building(&mut self, f: &mut Fields<'_>) -> Option<Commands> {
        let project = f.id("project_id", ProjectId::new);
        let building = f.id("building_id", BuildingId::new);
        let name = f.required("name");
        if let (Some(p), Some(b)) = (&project, &building) {
            self.once(f, "building_id", format!("building {b} of project {p}"));
        }
        let command = ProjectCommand::RegisterBuilding {
            building: building?,
            name: name?.to_string(),
        };
        Some(Commands::Project(project?, vec![(0, command)]))
    }

    pub(super) fn unit(&mut self, f: &mut Fields<'_>) -> Option<Commands> {
        let unit = f.id("unit_id", UnitId::new);
        let project = f.id("project_id", ProjectId::new);
        let building = f.id("building_id", BuildingId::new);
        let number = f.required("number");
        let delivered_on = f.value("delivered_on").map(|v| f.date("delivered_on", v));
        if let Some(u) = &unit {
            self.once(f, "unit_id", format!("unit {u}"));
        }
        let unit = unit?;
        let delivered_on = match delivered_on {
            Some(d) => Some(d?),
            None => None,
        };
        let mut commands = vec![(
            0,
            UnitCommand::Register {
                unit: unit.clone(),
                project: project?,
                building: building?,
                number: number?.to_string(),
            },
        )];
        if let Some(delivered_on) = delivered_on {
            commands.push((1, UnitCommand::RecordDelivery { delivered_on }));
        }
        Some(Commands::Unit(unit, commands))
    }

    pub(super) fn owner(&mut self, f: &mut Fields<'_>) -> Option<Commands> {
        let id = f.id("owner_id", OwnerId::new);
        let person = person(f);
        let link = self.link(f);
        let id = id?;
        let here = Seen {
            row: f.row,
            line: f.line,
        };
        let mut commands = Vec::new();
        match self.owners.get(&id) {
            None => {
                if let Some((name, phone, id_number)) = &person {
                    commands.push((
                        0,
                        OwnerCommand::Register {
                            owner: id.clone(),
                            name: Personal::new(name.clone()),
                            phone: Personal::new(phone.clone()),
                            id_number: id_number.clone().map(Personal::new),
                        },
                    ));
                }
            }
            Some(first) => further_row(f, &id, first, &person, matches!(link, Some(None))),
        }
        if let Some(Some((unit, contract_signed_on, stage))) = link {
            self.once(f, "unit_id", format!("the link of owner {id} to unit {unit}"));
            commands.push((
                commands.len(),
                OwnerCommand::LinkUnit {
                    unit,
                    contract_signed_on,
                    stage,
                },
            ));
        }
        if !self.owners.contains_key(&id) {
            self.owners.insert(
                id.clone(),
                FirstOwnerRow {
                    at: here,
                    person,
                    ok: f.errors.is_empty(),
                },
            );
        }
        if f.errors.is_empty() {
            Some(Commands::Owner(id, commands))
        } else {
            None
        }
    }

    /// The unit link of an owner row: `Some(None)` for none, `None` when
    /// it has errors.
    fn link(&mut self, f: &mut Fields<'_>) -> Option<Option<(UnitId, NaiveDate, TouchpointStage)>> {
        let values = LINK_COLUMNS.map(|c| f.value(c));
        if values.iter().all(Option::is_none) {
            return Some(None);
        }
        let [unit, date, stage] = values;
        let mut ok = true;
        for (column, v) in LINK_COLUMNS.into_iter().zip(values) {
            if v.is_none() {
                f.error(
                    Some(column),
                    "it is empty; unit_id, contract_signed_on and stage are given together or not at all",
                );
                ok = false;
            }
        }
        let unit = unit.and_then(|v| f.check("unit_id", UnitId::new(v).map_err(|e| e.to_string())));
        let date = date.and_then(|v| f.date("contract_signed_on", v));
        let stage = stage.and_then(|v| f.check("stage", parse_stage(v)));
        match (unit, date, stage) {
            (Some(u), Some(d), Some(s)) if ok => Some(Some((u, d, s))),
            _ => None,
        }
    }
}

/// An owner's name, phone number and ID number.
type Person = (PersonName, PhoneNumber, Option<IdNumber>);

/// An owner row's name, phone and ID number, when they all parse (the
/// errors of those that do not are recorded in `f`).
fn person(f: &mut Fields<'_>) -> Option<Person> {
    let family = f.required("family_name");
    let given = f.value("given_name").unwrap_or("");
    let name = match family {
        Some(family) => {
            let r = PersonName::new(family, given);
            let column = match &r {
                Err(DomainError::InvalidInput {
                    field: "given name", ..
                }) => "given_name",
                _ => "family_name",
            };
            f.check(column, r.map_err(|e| e.to_string()))
        }
        None => None,
    };
    let phone = match f.required("phone") {
        Some(v) => f.check("phone", PhoneNumber::new(v).map_err(|e| e.to_string())),
        None => None,
    };
    let id_number = f
        .value("id_number")
        .map(|v| f.check("id_number", IdNumber::new(v).map_err(|e| e.to_string())));
    match (name, phone, id_number) {
        (Some(n), Some(p), None) => Some((n, p, None)),
        (Some(n), Some(p), Some(Some(i))) => Some((n, p, Some(i))),
        _ => None,
    }
}

/// Checks a further row of an owner against their first row in the file:
/// the same name, phone and ID number, and a unit to link them to.
fn further_row(f: &mut Fields<'_>, id: &OwnerId, first: &FirstOwnerRow, person: &Option<Person>, no_link: bool) {
    if !first.ok {
        f.error(
            Some("owner_id"),
            format!("the first row of owner {id}, {}, has errors", first.at),
        );
    }
    if let (Some((n1, p1, i1)), Some((n2, p2, i2))) = (&first.person, person) {
        if n1 != n2 {
            f.error(
                Some("family_name"),
                format!("owner {id} has another name in {} of this file", first.at),
            );
        }
        if p1 != p2 {
            f.error(
                Some("phone"),
                format!("owner {id} has another phone number in {} of this file", first.at),
            );
        }
        if i2.is_some() && i1 != i2 {
            f.error(
                Some("id_number"),
                format!("owner {id} has another ID number in {} of this file", first.at),
            );
        }
    }
    if no_link {
        f.error(
            Some("owner_id"),
            format!(
                "owner {id} is already in {} of this file; a further row of an owner links them to \
                 another unit",
                first.at
            ),
        );
    }
}

/// The Chinese name of a touchpoint stage (客户接触点).
fn stage_chinese(stage: TouchpointStage) -> &'static str {
    match stage {
        TouchpointStage::ProjectPreparation => "项目前期",
        TouchpointStage::SalesPreparation => "销售准备",
        TouchpointStage::Signing => "销售签约",
        TouchpointStage::WaitingForDelivery => "售后等待",
        TouchpointStage::Delivery => "房屋交付",
        TouchpointStage::WarrantyService => "保修服务",
        TouchpointStage::ResidenceRevisit => "居住回访",
    }
}

/// A stage as a letter (`F`), a stored name (`f_warranty_service`), the
/// name without its letter (`warranty_service`, any case) or in Chinese.
pub(super) fn parse_stage(text: &str) -> Result<TouchpointStage, String> {
    let wanted = text.trim().to_lowercase();
    TouchpointStage::ALL
        .iter()
        .copied()
        .find(|s| {
            let stored = s.as_str();
            let (letter, rest) = stored.split_once('_').unwrap_or((stored, stored));
            wanted == stored || wanted == letter || wanted == rest || wanted == stage_chinese(*s)
        })
        .ok_or_else(|| {
            format!(
                "{text:?} is not a touchpoint stage: use a letter A to G, a stored name ({}) or the Chinese name",
                TouchpointStage::ALL
                    .iter()
                    .map(|s| s.as_str())
                    .collect::<Vec<_>>()
                    .join(", ")
            )
        })
}
