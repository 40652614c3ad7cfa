//! Warranty rules (保修期) and the computed warranty finding that
//! `Diagnosed` records.
//!
//! Periods are data ([`WarrantyRules`], shipped as `policies/warranty.toml`):
//! each [`WarrantyItem`] has a period in years, months, heating or cooling
//! seasons, or the design life, counted from the unit's delivery date. A
//! project may set longer periods, never shorter; a rules file that tries is
//! refused.
//!
//! **The last day in warranty** follows the Civil Code (民法典) arts.
//! 201–203: the delivery day itself is not counted, and the period ends on
//! the corresponding day of its last month, or on that month's last day if
//! it has no corresponding day. A 2-year period from delivery on 15 March
//! 2024 covers reports up to and including 15 March 2026; one year from 29
//! February 2024 ends on 28 February 2025. When a calendar is given
//! ([`WarrantyRules::finding_on`]), a last day that falls on a statutory
//! holiday moves to the first day after the holiday (art. 203). A period of
//! N seasons ends on the last day of the N-th season that starts on or
//! after the delivery date. The report date (the ticket's received date in the
//! calendar's time zone) decides, not the diagnosis date.
//!
//! The statutory minimums of 建设工程质量管理条例 第四十条 are enforced:
//! a rules file with a shorter period for one of its items is refused, as
//! is a project override shorter than the company's period.
//!
//! ```
//! use chrono::NaiveDate;
//! use domain::warranty::{WarrantyRules, WarrantyItem};
//! let rules = WarrantyRules::default_rules();
//! let d = |s: &str| s.parse::<NaiveDate>().unwrap();
//! let f = rules.finding(WarrantyItem::ElectricalLines, None, d("2024-03-15"), d("2026-03-15"));
//! assert!(f.in_warranty);
//! let f = rules.finding(WarrantyItem::ElectricalLines, None, d("2024-03-15"), d("2026-03-16"));
//! assert!(!f.in_warranty);
//! ```

use std::collections::BTreeMap;
use std::fmt;
use std::sync::Arc;

use chrono::{Datelike, Months, NaiveDate};
use serde::{Deserialize, Serialize};

use crate::calendar::{BusinessCalendar, DayKind};
use crate::error::DomainError;
use crate::ids::ProjectId;

/// What part of the building a defect is in, for warranty purposes.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub enum WarrantyItem {
    /// Foundation and main structure (地基基础和主体结构).
    FoundationAndStructure,
    /// Roof waterproofing (屋面防水).
    RoofWaterproofing,
    /// Rooms with waterproofing, bathrooms (有防水要求的卫生间、房间).
    WaterproofedRooms,
    /// Exterior-wall leakage (外墙面防渗漏).
    ExteriorWallLeakage,
    /// Heating system (供热系统), counted in heating seasons.
    HeatingSystem,
    /// Cooling system (供冷系统), counted in cooling seasons.
    CoolingSystem,
    /// Electrical lines (电气管线).
    ElectricalLines,
    /// Water supply and drainage pipes (给排水管道).
    WaterSupplyAndDrainage,
    /// Equipment installation (设备安装).
    EquipmentInstallation,
    /// Decoration works (装修工程).
    Decoration,
    /// Plaster falling from walls or ceilings (墙面、顶棚抹灰层脱落).
    PlasterFalling,
    /// Hollow or cracked floors (地面空鼓开裂).
    HollowOrCrackedFloor,
    /// Warped doors and windows, broken hardware (门窗翘裂、五金件损坏).
    DoorsAndWindows,
    /// Sanitary fixtures (卫生洁具).
    SanitaryFixtures,
    /// Lamps and switches (灯具、电器开关).
    LampsAndSwitches,
    /// Blocked pipes (管道堵塞).
    BlockedPipes,
}

impl WarrantyItem {
    /// Every item.
    pub const ALL: [WarrantyItem; 16] = [
        WarrantyItem::FoundationAndStructure,
        WarrantyItem::RoofWaterproofing,
        WarrantyItem::WaterproofedRooms,
        WarrantyItem::ExteriorWallLeakage,
        WarrantyItem::HeatingSystem,
        WarrantyItem::CoolingSystem,
        WarrantyItem::ElectricalLines,
        WarrantyItem::WaterSupplyAndDrainage,
        WarrantyItem::EquipmentInstallation,
        WarrantyItem::Decoration,
        WarrantyItem::PlasterFalling,
        WarrantyItem::HollowOrCrackedFloor,
        WarrantyItem::DoorsAndWindows,
        WarrantyItem::SanitaryFixtures,
        WarrantyItem::LampsAndSwitches,
        WarrantyItem::BlockedPipes,
    ];

    /// The name used in rules files.
    pub fn as_str(self) -> &'static str {
        match self {
            WarrantyItem::FoundationAndStructure => "foundation_and_structure",
            WarrantyItem::RoofWaterproofing => "roof_waterproofing",
            WarrantyItem::WaterproofedRooms => "waterproofed_rooms",
            WarrantyItem::ExteriorWallLeakage => "exterior_wall_leakage",
            WarrantyItem::HeatingSystem => "heating_system",
            WarrantyItem::CoolingSystem => "cooling_system",
            WarrantyItem::ElectricalLines => "electrical_lines",
            WarrantyItem::WaterSupplyAndDrainage => "water_supply_and_drainage",
            WarrantyItem::EquipmentInstallation => "equipment_installation",
            WarrantyItem::Decoration => "decoration",
            WarrantyItem::PlasterFalling => "plaster_falling",
            WarrantyItem::HollowOrCrackedFloor => "hollow_or_cracked_floor",
            WarrantyItem::DoorsAndWindows => "doors_and_windows",
            WarrantyItem::SanitaryFixtures => "sanitary_fixtures",
            WarrantyItem::LampsAndSwitches => "lamps_and_switches",
            WarrantyItem::BlockedPipes => "blocked_pipes",
        }
    }
}

impl std::str::FromStr for WarrantyItem {
    type Err = DomainError;
    fn from_str(s: &str) -> Result<Self, Self::Err> {
        WarrantyItem::ALL
            .into_iter()
            .find(|i| i.as_str() == s)
            .ok_or_else(|| DomainError::input("warranty item", format!("{s:?} is not a warranty item")))
    }
}

/// A warranty period.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
pub enum WarrantyPeriod {
    /// Whole years.
    Years(u32),
    /// Whole months.
    Months(u32),
    /// A number of heating seasons (采暖期).
    HeatingSeasons(u32),
    /// A number of cooling seasons (供冷期).
    CoolingSeasons(u32),
    /// The structure's design service life, in years.
    DesignLife(u32),
}

impl WarrantyPeriod {
    fn parse(text: &str) -> Result<Self, DomainError> {
        let bad = || DomainError::input("warranty period", format!("{text:?} is not a period"));
        let words: Vec<&str> = text.split_whitespace().collect();
        let n = |s: &str| s.parse::<u32>().ok().filter(|n| *n > 0 && *n <= 200).ok_or_else(bad);
        match words.as_slice() {
            [count, "years" | "year"] => Ok(Self::Years(n(count)?)),
            [count, "months" | "month"] => Ok(Self::Months(n(count)?)),
            [count, "heating", "seasons" | "season"] => Ok(Self::HeatingSeasons(n(count)?)),
            [count, "cooling", "seasons" | "season"] => Ok(Self::CoolingSeasons(n(count)?)),
            ["design", "life", count, "years"] => Ok(Self::DesignLife(n(count)?)),
            _ => Err(bad()),
        }
    }

    /// Compares two periods of the same unit; periods in different units
    /// cannot be compared.
    fn at_least(&self, other: &WarrantyPeriod) -> Option<bool> {
        use WarrantyPeriod::*;
        let months = |p: &WarrantyPeriod| match p {
            Years(y) | DesignLife(y) => Some(u64::from(*y) * 12),
            Months(m) => Some(u64::from(*m)),
            _ => None,
        };
        match (self, other) {
            (HeatingSeasons(a), HeatingSeasons(b)) | (CoolingSeasons(a), CoolingSeasons(b)) => Some(a >= b),
            (a, b) => Some(months(a)? >= months(b)?),
        }
    }
}

impl fmt::Display for WarrantyPeriod {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            WarrantyPeriod::Years(n) => write!(f, "{n} years"),
            WarrantyPeriod::Months(n) => write!(f, "{n} months"),
            WarrantyPeriod::HeatingSeasons(n) => write!(f, "{n} heating seasons"),
            WarrantyPeriod::CoolingSeasons(n) => write!(f, "{n} cooling seasons"),
            WarrantyPeriod::DesignLife(n) => write!(f, "design life {n} years"),
        }
    }
}

/// What the diagnosis records about warranty: computed, never typed in.
#[derive(Debug, Clone, PartialEq, Eq, Hash, Serialize, Deserialize)]
pub struct WarrantyFinding {
    /// The item the defect is in.
    pub item: WarrantyItem,
    /// The period that applied.
    pub period: WarrantyPeriod,
    /// The delivery date it was counted from.
    pub delivered_on: NaiveDate,
    /// The last day in warranty.
    pub last_day: NaiveDate,
    /// The report date that was checked.
    pub report_date: NaiveDate,
    /// Whether the report date was in warranty.
    pub in_warranty: bool,
    /// The rules version used.
    pub rules_version: String,
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
struct RulesSpec {
    /// The rules' name (one deployment may keep several, chosen per
    /// project); `default` when the file gives none.
    #[serde(default = "default_rules_id")]
    id: String,
    version: String,
    heating_season: [String; 2],
    cooling_season: [String; 2],
    periods: BTreeMap<String, String>,
    #[serde(default)]
    projects: BTreeMap<String, BTreeMap<String, String>>,
}

/// A season as (month, day) of its first and last day; it may wrap the
/// year end.
type Season = ((u32, u32), (u32, u32));

fn default_rules_id() -> String {
    "default".into()
}

/// Versioned warranty periods, with project overrides.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct WarrantyRules {
    id: String,
    version: String,
    heating: Season,
    cooling: Season,
    periods: BTreeMap<WarrantyItem, WarrantyPeriod>,
    projects: BTreeMap<ProjectId, BTreeMap<WarrantyItem, WarrantyPeriod>>,
}

/// The minimums of 建设工程质量管理条例 第四十条 (the structure's design
/// life is the project's own figure and is not checked here).
const STATUTORY_MINIMUMS: [(WarrantyItem, WarrantyPeriod); 9] = [
    (WarrantyItem::RoofWaterproofing, WarrantyPeriod::Years(5)),
    (WarrantyItem::WaterproofedRooms, WarrantyPeriod::Years(5)),
    (WarrantyItem::ExteriorWallLeakage, WarrantyPeriod::Years(5)),
    (WarrantyItem::HeatingSystem, WarrantyPeriod::HeatingSeasons(2)),
    (WarrantyItem::CoolingSystem, WarrantyPeriod::CoolingSeasons(2)),
    (WarrantyItem::ElectricalLines, WarrantyPeriod::Years(2)),
    (WarrantyItem::WaterSupplyAndDrainage, WarrantyPeriod::Years(2)),
    (WarrantyItem::EquipmentInstallation, WarrantyPeriod::Years(2)),
    (WarrantyItem::Decoration, WarrantyPeriod::Years(2)),
];

/// The bundled warranty rules.
pub const DEFAULT_WARRANTY_TOML: &str = include_str!("../policies/warranty.toml");

fn parse_month_day(text: &str) -> Option<(u32, u32)> {
    let (m, d) = text.split_once('-')?;
    let (m, d) = (m.parse().ok()?, d.parse().ok()?);
    // 2024 is a leap year, so 02-29 is accepted.
    NaiveDate::from_ymd_opt(2024, m, d).map(|_| (m, d))
}

impl WarrantyRules {
    /// The periods of the domain reference.
    pub fn default_rules() -> Arc<Self> {
        // The bundled file is checked by a test.
        #[allow(clippy::expect_used)]
        Arc::new(Self::from_toml(DEFAULT_WARRANTY_TOML).expect("bundled warranty.toml is valid"))
    }

    /// Parses and validates a rules file: every item needs a period, and no
    /// project may shorten one.
    pub fn from_toml(text: &str) -> Result<Self, DomainError> {
        let spec: RulesSpec = toml::from_str(text).map_err(|e| DomainError::InvalidReferenceData {
            what: "warranty rules file".into(),
            reason: e.to_string(),
        })?;
        let what = format!("warranty rules {}", spec.version);
        let bad = |reason: String| DomainError::InvalidReferenceData {
            what: what.clone(),
            reason,
        };
        let season = |s: &[String; 2]| -> Result<Season, DomainError> {
            match (parse_month_day(&s[0]), parse_month_day(&s[1])) {
                (Some(a), Some(b)) => Ok((a, b)),
                _ => Err(bad(format!("season {s:?} is not two MM-DD dates"))),
            }
        };
        let heating = season(&spec.heating_season)?;
        let cooling = season(&spec.cooling_season)?;
        let parse_table =
            |table: &BTreeMap<String, String>| -> Result<BTreeMap<WarrantyItem, WarrantyPeriod>, DomainError> {
                table
                    .iter()
                    .map(|(item, period)| {
                        let item: WarrantyItem = item.parse().map_err(|e: DomainError| bad(e.to_string()))?;
                        let period = WarrantyPeriod::parse(period).map_err(|e| bad(e.to_string()))?;
                        Ok((item, period))
                    })
                    .collect()
            };
        let periods = parse_table(&spec.periods)?;
        if let Some(missing) = WarrantyItem::ALL.iter().find(|i| !periods.contains_key(i)) {
            return Err(bad(format!("no period for {}", missing.as_str())));
        }
        for (item, minimum) in STATUTORY_MINIMUMS {
            if periods[&item].at_least(&minimum) != Some(true) {
                return Err(bad(format!(
                    "{} is {}, below the statutory minimum of {minimum} (建设工程质量管理条例 第四十条)",
                    item.as_str(),
                    periods[&item]
                )));
            }
        }
        let mut projects = BTreeMap::new();
        for (project, table) in &spec.projects {
            let project = ProjectId::new(project.clone()).map_err(|e| bad(e.to_string()))?;
            let table = parse_table(table)?;
            for (item, period) in &table {
                let base = &periods[item];
                match period.at_least(base) {
                    Some(true) => {}
                    Some(false) => {
                        return Err(bad(format!(
                            "project {project} sets {} to {period}, shorter than the company's {base}",
                            item.as_str()
                        )))
                    }
                    None => {
                        return Err(bad(format!(
                            "project {project} sets {} to {period}, which cannot be compared with {base}",
                            item.as_str()
                        )))
                    }
                }
            }
            projects.insert(project, table);
        }
        if spec.id.trim().is_empty() || spec.version.trim().is_empty() {
            return Err(bad("id and version must not be empty".into()));
        }
        Ok(Self {
            id: spec.id,
            version: spec.version,
            heating,
            cooling,
            periods,
            projects,
        })
    }

    /// The rules version.
    pub fn version(&self) -> &str {
        &self.version
    }

    /// The rules' name (`default` unless the file gives one).
    pub fn id(&self) -> &str {
        &self.id
    }

    /// The projects with periods of their own.
    pub fn projects(&self) -> impl Iterator<Item = &ProjectId> {
        self.projects.keys()
    }

    /// The period of an item, with a project's override if it has one.
    pub fn period(&self, item: WarrantyItem, project: Option<&ProjectId>) -> WarrantyPeriod {
        project
            .and_then(|p| self.projects.get(p))
            .and_then(|t| t.get(&item))
            .or_else(|| self.periods.get(&item))
            .copied()
            // Validation guarantees every item has a period.
            .unwrap_or(WarrantyPeriod::Years(0))
    }

    /// The last day in warranty of `item` for a unit delivered on
    /// `delivered_on`.
    pub fn last_day(&self, item: WarrantyItem, project: Option<&ProjectId>, delivered_on: NaiveDate) -> NaiveDate {
        // Civil Code art. 202: the corresponding day of the last month, or
        // its last day; chrono's month arithmetic clamps the same way.
        let add_months = |m: u32| {
            delivered_on
                .checked_add_months(Months::new(m))
                .unwrap_or(NaiveDate::MAX)
        };
        match self.period(item, project) {
            WarrantyPeriod::Years(y) | WarrantyPeriod::DesignLife(y) => add_months(y.saturating_mul(12)),
            WarrantyPeriod::Months(m) => add_months(m),
            WarrantyPeriod::HeatingSeasons(n) => season_end(self.heating, delivered_on, n),
            WarrantyPeriod::CoolingSeasons(n) => season_end(self.cooling, delivered_on, n),
        }
    }

    /// Like [`last_day`](Self::last_day), then moved past a statutory
    /// holiday it falls on (Civil Code art. 203).
    pub fn last_day_on(
        &self,
        item: WarrantyItem,
        project: Option<&ProjectId>,
        delivered_on: NaiveDate,
        calendar: &BusinessCalendar,
    ) -> NaiveDate {
        let mut day = self.last_day(item, project, delivered_on);
        for _ in 0..366 {
            if !matches!(calendar.day_kind(day), DayKind::Holiday(_)) {
                break;
            }
            day = day.succ_opt().unwrap_or(day);
        }
        day
    }

    /// [`finding`](Self::finding) with the holiday rule of art. 203 on
    /// `calendar`.
    pub fn finding_on(
        &self,
        item: WarrantyItem,
        project: Option<&ProjectId>,
        delivered_on: NaiveDate,
        report_date: NaiveDate,
        calendar: &BusinessCalendar,
    ) -> WarrantyFinding {
        let last_day = self.last_day_on(item, project, delivered_on, calendar);
        self.finding_with_last_day(item, project, delivered_on, report_date, last_day)
    }

    /// Whether `item` was in warranty on `report_date`, with the dates that
    /// decided it.
    pub fn finding(
        &self,
        item: WarrantyItem,
        project: Option<&ProjectId>,
        delivered_on: NaiveDate,
        report_date: NaiveDate,
    ) -> WarrantyFinding {
        let last_day = self.last_day(item, project, delivered_on);
        self.finding_with_last_day(item, project, delivered_on, report_date, last_day)
    }

    fn finding_with_last_day(
        &self,
        item: WarrantyItem,
        project: Option<&ProjectId>,
        delivered_on: NaiveDate,
        report_date: NaiveDate,
        last_day: NaiveDate,
    ) -> WarrantyFinding {
        WarrantyFinding {
            item,
            period: self.period(item, project),
            delivered_on,
            last_day,
            report_date,
            // A report before delivery (a pre-inspection defect) is the
            // developer's in any case.
            in_warranty: report_date <= last_day,
            rules_version: self.version.clone(),
        }
    }
}

/// The last day of the `n`-th season starting on or after `delivered`
/// (a season that starts on the delivery day counts: the owner lives
/// through all of it).
fn season_end(season: Season, delivered: NaiveDate, n: u32) -> NaiveDate {
    let ((sm, sd), (em, ed)) = season;
    let start_in = |year: i32| NaiveDate::from_ymd_opt(year, sm, sd).or_else(|| NaiveDate::from_ymd_opt(year, sm, 28));
    let mut year = delivered.year();
    if start_in(year).is_some_and(|s| s < delivered) {
        year += 1;
    }
    let start_year = year + n.saturating_sub(1) as i32;
    let wraps = (em, ed) < (sm, sd);
    let end_year = if wraps { start_year + 1 } else { start_year };
    NaiveDate::from_ymd_opt(end_year, em, ed)
        .or_else(|| NaiveDate::from_ymd_opt(end_year, em, 28))
        .unwrap_or(NaiveDate::MAX)
}

crate::serde_by_name!(WarrantyItem);

/// Checks a warranty rules file before it is published and lists every
/// problem found: the rules themselves (see [`WarrantyRules::from_toml`]:
/// every item has a period, none below the statutory minimum, no project
/// shortens one) and that every project the file names exists.
pub fn check_publication(
    text: &str,
    project_exists: &dyn Fn(&ProjectId) -> bool,
) -> Result<WarrantyRules, Vec<String>> {
    let mut problems = Vec::new();
    let rules = match WarrantyRules::from_toml(text) {
        Ok(rules) => Some(rules),
        Err(DomainError::InvalidReferenceData { reason, .. }) => {
            problems.push(reason);
            None
        }
        Err(other) => {
            problems.push(other.to_string());
            None
        }
    };
    if let Ok(spec) = toml::from_str::<RulesSpec>(text) {
        for project in spec.projects.keys() {
            match ProjectId::new(project.clone()) {
                Ok(id) if !project_exists(&id) => problems.push(format!("project {id} does not exist")),
                _ => {}
            }
        }
    }
    match rules {
        Some(rules) if problems.is_empty() => Ok(rules),
        _ => Err(problems),
    }
}
