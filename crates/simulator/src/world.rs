//! The world fixed before the first record: projects, buildings, units,
//! owners, staff and the number of tickets of each day.

use std::sync::Arc;

use chrono::{DateTime, Datelike, NaiveDate, Utc};
use domain::actor::{Actor, Role};
use domain::calendar::{BusinessCalendar, DayKind};
use domain::error::DomainError;
use domain::ids::{BuildingId, ContractorId, OwnerId, ProjectId, UnitId, UserId};
use domain::personal::{IdNumber, PersonName, PhoneNumber};
use domain::policy::ServicePolicy;
use domain::ticket::end_of_local_day;
use domain::warranty::WarrantyRules;

use crate::rng::{Rng, SALT_OWNER, SALT_WORLD};
use crate::tables::{CITIES, GIVEN_NAMES, ID_AREAS, PHONE_PREFIXES, PROJECT_NAMES, SURNAMES};
use crate::time::{add_days, local_time};
use crate::{GeneratorConfig, GeneratorError};

/// A project of the plan, with what its records need.
#[derive(Debug, Clone)]
pub(crate) struct ProjectPlan {
    pub(crate) id: ProjectId,
    pub(crate) name: String,
    pub(crate) city: String,
    pub(crate) registered_at: DateTime<Utc>,
    pub(crate) buildings: Vec<BuildingPlan>,
    pub(crate) first_unit: u32,
    pub(crate) unit_end: u32,
    pub(crate) manager: Actor,
}

#[derive(Debug, Clone)]
pub(crate) struct BuildingPlan {
    pub(crate) id: BuildingId,
    pub(crate) name: String,
    /// The day the building was handed over (its delivery phase starts).
    pub(crate) handed_over: NaiveDate,
    pub(crate) first_unit: u32,
    pub(crate) unit_end: u32,
    pub(crate) floors: u16,
}

#[derive(Debug, Clone, Copy)]
pub(crate) struct UnitPlan {
    pub(crate) project: u32,
    pub(crate) building: u32,
    pub(crate) floor: u16,
    pub(crate) room: u16,
    /// The day the owner collected the keys, if within the period.
    pub(crate) delivered_on: Option<NaiveDate>,
    pub(crate) signed_on: NaiveDate,
    pub(crate) owner: u32,
}

#[derive(Debug, Clone, Copy)]
pub(crate) struct OwnerPlan {
    pub(crate) first_unit: u32,
    pub(crate) count: u32,
}

/// Everything fixed before the first record: the archive's tables, the
/// reference data, the staff and the number of tickets of each day.
pub(crate) struct World {
    pub(crate) seed: u64,
    pub(crate) policy: Arc<ServicePolicy>,
    pub(crate) calendar: Arc<BusinessCalendar>,
    pub(crate) warranty: Arc<WarrantyRules>,
    pub(crate) projects: Vec<ProjectPlan>,
    pub(crate) units: Vec<UnitPlan>,
    pub(crate) owners: Vec<OwnerPlan>,
    /// Delivered units sorted by delivery date, and their dates.
    pub(crate) by_delivery: Vec<u32>,
    pub(crate) delivery_dates: Vec<NaiveDate>,
    pub(crate) start: NaiveDate,
    /// The first instant after the period.
    pub(crate) end: DateTime<Utc>,
    /// Tickets of each day: (not at an inspection, handover defects).
    pub(crate) day_counts: Vec<(u32, u32)>,
    pub(crate) agents: Vec<Actor>,
    pub(crate) engineers: Vec<Actor>,
    pub(crate) contractors: Vec<ContractorId>,
    pub(crate) system: Actor,
    pub(crate) tickets: u32,
}

pub(crate) fn id<T>(what: &'static str, made: Result<T, DomainError>) -> Result<T, GeneratorError> {
    made.map_err(|error| GeneratorError::InvalidValue {
        what,
        error: Box::new(error),
    })
}

pub(crate) fn user(name: String) -> Result<UserId, GeneratorError> {
    id("user id", UserId::new(name))
}

impl World {
    /// Plans the archive, the staff and the number of tickets of each day;
    /// refuses a configuration that cannot describe a log.
    pub(crate) fn new(config: &GeneratorConfig) -> Result<Self, GeneratorError> {
        config.validate()?;
        let calendar = BusinessCalendar::cn_mainland();
        let mut rng = Rng::derive(&[config.seed, SALT_WORLD]);
        let period = Period::of(config, &calendar);
        let per_project = units_per_project(&mut rng, config);
        let mut planner = Planner {
            rng,
            calendar: &calendar,
            period,
            projects: config.projects as usize,
            units: Vec::with_capacity(config.units as usize),
            owners: Vec::new(),
        };
        let system = Actor::staff(user("crm-import".into())?, Role::System);
        let projects = per_project
            .iter()
            .enumerate()
            .map(|(p, count)| planner.project(p, *count))
            .collect::<Result<Vec<_>, _>>()?;
        let Planner { units, owners, .. } = planner;

        let mut delivered: Vec<(NaiveDate, u32)> = units
            .iter()
            .enumerate()
            .filter_map(|(i, u)| u.delivered_on.map(|d| (d, i as u32)))
            .collect();
        delivered.sort_unstable();
        let delivery_dates: Vec<NaiveDate> = delivered.iter().map(|(d, _)| *d).collect();
        let by_delivery: Vec<u32> = delivered.iter().map(|(_, i)| *i).collect();

        let day_counts = Self::day_counts(config, &calendar, &delivery_dates)?;
        let Staff {
            agents,
            engineers,
            contractors,
        } = staff(config)?;

        Ok(Self {
            seed: config.seed,
            policy: ServicePolicy::default_policy(),
            calendar,
            warranty: WarrantyRules::default_rules(),
            projects,
            units,
            owners,
            by_delivery,
            delivery_dates,
            start: period.start,
            end: period.end,
            day_counts,
            agents,
            engineers,
            contractors,
            system,
            tickets: config.tickets,
        })
    }

    /// How many tickets each day receives, split by cumulative rounding so
    /// that the totals are exact.
    pub(crate) fn day_counts(
        config: &GeneratorConfig,
        calendar: &BusinessCalendar,
        dates: &[NaiveDate],
    ) -> Result<Vec<(u32, u32)>, GeneratorError> {
        let before = |d: NaiveDate| dates.partition_point(|x| *x < d) as u128;
        let mut weights = Vec::with_capacity(config.days as usize);
        for day in 0..i64::from(config.days) {
            let date = add_days(config.start, day);
            let delivered = before(date);
            let [older, second_year, first_year] = age_buckets(dates, date);
            let day_factor: u128 = match calendar.day_kind(date) {
                DayKind::Workday | DayKind::AdjustedWorkday(_) => 20,
                DayKind::RestDay => 9,
                DayKind::Holiday(_) => 6,
            };
            let season: u128 = match date.month() {
                6..=9 => 13,
                1 | 2 => 9,
                _ => 10,
            };
            let reporting = (older + 3 * second_year + 6 * first_year) as u128;
            let other = day_factor * season * reporting;
            let walkthroughs = before(add_days(date, 1)) - delivered;
            let pre_inspections = before(add_days(date, 22)) - before(add_days(date, 7));
            weights.push((other, walkthroughs * 30 + pre_inspections));
        }
        let total_other: u128 = weights.iter().map(|w| w.0).sum();
        let total_handover: u128 = weights.iter().map(|w| w.1).sum();
        let tickets = u128::from(config.tickets);
        let (mut handover, mut other) = if total_handover > 0 {
            let h = tickets * 8 / 100;
            (h, tickets - h)
        } else {
            (0, tickets)
        };
        if total_other == 0 {
            if total_handover == 0 && tickets > 0 {
                return Err(GeneratorError::InvalidConfig(
                    "no unit is delivered during the period, so no ticket can be received".into(),
                ));
            }
            handover += other;
            other = 0;
        }
        let split = |n: u128, total: u128, pick: fn(&(u128, u128)) -> u128| -> Vec<u32> {
            let mut cumulative = 0u128;
            let mut given = 0u128;
            weights
                .iter()
                .map(|w| {
                    cumulative += pick(w);
                    let upto = (n * cumulative).checked_div(total).unwrap_or(0);
                    let count = upto - given;
                    given = upto;
                    count as u32
                })
                .collect()
        };
        let others = split(other, total_other, |w| w.0);
        let handovers = split(handover, total_handover, |w| w.1);
        Ok(others.into_iter().zip(handovers).collect())
    }

    pub(crate) fn unit_id(&self, unit: u32) -> Result<UnitId, GeneratorError> {
        let u = &self.units[unit as usize];
        let building = &self.projects[u.project as usize].buildings[u.building as usize];
        id(
            "unit id",
            UnitId::new(format!("{}-{}{:02}", building.id, u.floor, u.room)),
        )
    }

    pub(crate) fn owner_id(&self, owner: u32) -> Result<OwnerId, GeneratorError> {
        id("owner id", OwnerId::new(format!("O{:06}", owner + 1)))
    }

    pub(crate) fn building(&self, unit: u32) -> &BuildingPlan {
        let u = &self.units[unit as usize];
        &self.projects[u.project as usize].buildings[u.building as usize]
    }

    /// Delivered units with a delivery date in `from..to` (positions in
    /// `by_delivery`).
    pub(crate) fn delivered_between(&self, from: NaiveDate, to: NaiveDate) -> (usize, usize) {
        let a = self.delivery_dates.partition_point(|d| *d < from);
        let b = self.delivery_dates.partition_point(|d| *d < to);
        (a, b.max(a))
    }
}

/// The period, and the span over which projects start delivering: the
/// four years before the period and the period itself (but at least four
/// months before its end, when the period is long enough).
#[derive(Debug, Clone, Copy)]
struct Period {
    start: NaiveDate,
    last_day: NaiveDate,
    /// The first instant after the period.
    end: DateTime<Utc>,
    before_from: NaiveDate,
    span_before: i64,
    during_to: NaiveDate,
    span_during: i64,
}

impl Period {
    fn of(config: &GeneratorConfig, calendar: &BusinessCalendar) -> Self {
        let start = config.start;
        let last_day = add_days(start, i64::from(config.days) - 1);
        let end = end_of_local_day(calendar, last_day);
        let before_from = add_days(start, -4 * 365);
        let during_to = add_days(last_day, -120).max(start);
        Period {
            start,
            last_day,
            end,
            before_from,
            span_before: (start - before_from).num_days(),
            during_to,
            span_during: (during_to - start).num_days(),
        }
    }
}

/// Units per project: one each, the rest by weight.
fn units_per_project(rng: &mut Rng, config: &GeneratorConfig) -> Vec<u64> {
    let p_count = config.projects as usize;
    let weights: Vec<u64> = (0..p_count).map(|_| 50 + rng.below(101)).collect();
    let total_weight: u64 = weights.iter().sum();
    let spare = u64::from(config.units - config.projects);
    let mut cumulative = 0u64;
    let mut allotted = 0u64;
    let mut per_project = Vec::with_capacity(p_count);
    for w in &weights {
        cumulative += w;
        let upto = (u128::from(spare) * u128::from(cumulative) / u128::from(total_weight)) as u64;
        per_project.push(1 + upto - allotted);
        allotted = upto;
    }
    per_project
}

/// The call-center agents, the engineers and the contractor companies.
struct Staff {
    agents: Vec<Actor>,
    engineers: Vec<Actor>,
    contractors: Vec<ContractorId>,
}

fn staff(config: &GeneratorConfig) -> Result<Staff, GeneratorError> {
    let agents = (1..=12)
        .map(|n| Ok(Actor::staff(user(format!("agent-{n:02}"))?, Role::Agent)))
        .collect::<Result<Vec<_>, GeneratorError>>()?;
    let engineers = (1..=config.engineers)
        .map(|n| Ok(Actor::staff(user(format!("eng-{n:03}"))?, Role::Engineer)))
        .collect::<Result<Vec<_>, GeneratorError>>()?;
    let contractors = (1..=config.contractors)
        .map(|n| id("contractor id", ContractorId::new(format!("C-{n:03}"))))
        .collect::<Result<Vec<_>, GeneratorError>>()?;
    Ok(Staff {
        agents,
        engineers,
        contractors,
    })
}

/// Places the projects' buildings, units and owners, drawing from the
/// world's random stream in a fixed order.
struct Planner<'c> {
    rng: Rng,
    calendar: &'c BusinessCalendar,
    period: Period,
    /// How many projects there are.
    projects: usize,
    units: Vec<UnitPlan>,
    owners: Vec<OwnerPlan>,
}

impl Planner<'_> {
    /// Project `p` with its `count` units, delivered in one to three
    /// phases half a year apart.
    fn project(&mut self, p: usize, count: u64) -> Result<ProjectPlan, GeneratorError> {
        let project_id = id("project id", ProjectId::new(format!("P{:02}", p + 1)))?;
        let first_phase = self.first_phase(p);
        let phases = 1 + self.rng.below(3) as i64;
        let phase_gap = 150 + self.rng.between(0, 90);
        let registered_at = local_time(self.calendar, add_days(first_phase, -930), 9 * 3600);
        let name = if p < PROJECT_NAMES.len() {
            PROJECT_NAMES[p].to_string()
        } else {
            format!(
                "{}{}期",
                PROJECT_NAMES[p % PROJECT_NAMES.len()],
                p / PROJECT_NAMES.len() + 1
            )
        };
        let city = CITIES[p % CITIES.len()].to_string();
        let manager = Actor::staff(user(format!("mgr-{project_id}"))?, Role::Manager);

        // Buildings until the project's units are placed.
        let first_unit = self.units.len() as u32;
        let shapes = self.building_shapes(count);
        let building_count = shapes.len() as i64;
        let mut buildings = Vec::with_capacity(shapes.len());
        for (b, shape) in shapes.into_iter().enumerate() {
            let phase = b as i64 * phases / building_count;
            let handed_over = add_days(first_phase, phase * phase_gap).min(self.period.during_to);
            buildings.push(self.building(&project_id, p, b, shape, handed_over)?);
        }
        Ok(ProjectPlan {
            id: project_id,
            name,
            city,
            registered_at,
            buildings,
            first_unit,
            unit_end: self.units.len() as u32,
            manager,
        })
    }

    /// Where in the delivery spread project `p` falls: the first half of
    /// the projects before the period, the second during.
    fn first_phase(&mut self, p: usize) -> NaiveDate {
        let period = self.period;
        let den = 2000 * self.projects as i64;
        let x = ((2 * p as i64 + 1) * 1000 + self.rng.between(-400, 400)).clamp(0, den - 1);
        if 2 * x < den {
            add_days(period.before_from, 2 * x * period.span_before / den)
        } else {
            add_days(period.start, (2 * x - den) * period.span_during / den)
        }
    }

    /// Floors, units a floor and units of each building holding `count`
    /// units.
    fn building_shapes(&mut self, count: u64) -> Vec<(u16, u16, u64)> {
        let mut remaining = count;
        let mut shapes = Vec::new();
        while remaining > 0 {
            let floors: u16 = self.rng.weighted(&[(6, 10), (11, 25), (18, 30), (26, 20), (33, 15)]);
            let per_floor = 2 + self.rng.below(3) as u16;
            let capacity = u64::from(floors) * u64::from(per_floor);
            let n = capacity.min(remaining);
            shapes.push((floors, per_floor, n));
            remaining -= n;
        }
        shapes
    }

    /// Building `b` of project `p`: its units, delivered from the day it
    /// was handed over (most in the first week, a few months later, a few
    /// not by the end), and their owners.
    fn building(
        &mut self,
        project_id: &ProjectId,
        p: usize,
        b: usize,
        (floors, per_floor, n): (u16, u16, u64),
        handed_over: NaiveDate,
    ) -> Result<BuildingPlan, GeneratorError> {
        let building_first = self.units.len() as u32;
        for k in 0..n {
            let rng = &mut self.rng;
            let offset = match rng.below(100) {
                0..=54 => rng.between(0, 6),
                55..=84 => rng.between(7, 30),
                85..=96 => rng.between(31, 90),
                _ => rng.between(91, 365),
            };
            let delivered = add_days(handed_over, offset);
            self.units.push(UnitPlan {
                project: p as u32,
                building: b as u32,
                floor: (k / u64::from(per_floor)) as u16 + 1,
                room: (k % u64::from(per_floor)) as u16 + 1,
                delivered_on: (delivered <= self.period.last_day).then_some(delivered),
                signed_on: add_days(handed_over, -rng.between(120, 900)),
                owner: 0,
            });
        }
        let building_end = self.units.len() as u32;
        self.owners(building_first, building_end);
        Ok(BuildingPlan {
            id: id("building id", BuildingId::new(format!("{project_id}-{:02}", b + 1)))?,
            name: format!("{}栋", b + 1),
            handed_over,
            first_unit: building_first,
            unit_end: building_end,
            floors,
        })
    }

    /// The owners of the units `first..end` of a building: mostly one unit
    /// each; about 3% bought the next unit of the building as well, signed
    /// the same day.
    fn owners(&mut self, first: u32, end: u32) {
        let mut u = first;
        while u < end {
            let both = u + 1 < end && self.rng.percent(3);
            let owner = self.owners.len() as u32;
            let count = if both { 2 } else { 1 };
            let signed_on = self.units[u as usize].signed_on;
            for v in u..u + count {
                self.units[v as usize].owner = owner;
                self.units[v as usize].signed_on = signed_on;
            }
            self.owners.push(OwnerPlan { first_unit: u, count });
            u += count;
        }
    }
}

/// An owner's personal data, derived from the seed and their number.
pub(crate) struct Person {
    pub(crate) name: PersonName,
    pub(crate) phone: PhoneNumber,
    pub(crate) id_number: Option<IdNumber>,
}

pub(crate) fn person(rng: &mut Rng, with_id: bool) -> Result<Person, GeneratorError> {
    let name = id("name", PersonName::new(*rng.pick(SURNAMES), *rng.pick(GIVEN_NAMES)))?;
    let phone = id(
        "phone number",
        PhoneNumber::new(&format!("{}{:08}", rng.pick(PHONE_PREFIXES), rng.below(100_000_000))),
    )?;
    let id_number = if with_id && rng.percent(70) {
        let body = format!(
            "{}{:04}{:02}{:02}{:03}",
            rng.pick(ID_AREAS),
            rng.between(1950, 2000),
            rng.between(1, 12),
            rng.between(1, 28),
            rng.below(1000)
        );
        let weights = [7, 9, 10, 5, 8, 4, 2, 1, 6, 3, 7, 9, 10, 5, 8, 4, 2];
        let sum: u32 = body
            .chars()
            .zip(weights)
            .map(|(c, w)| c.to_digit(10).unwrap_or(0) * w)
            .sum();
        let check = ['1', '0', 'X', '9', '8', '7', '6', '5', '4', '3', '2'][(sum % 11) as usize];
        Some(id("ID number", IdNumber::new(&format!("{body}{check}")))?)
    } else {
        None
    };
    Ok(Person { name, phone, id_number })
}

pub(crate) fn owner_person(world: &World, owner: u32) -> Result<Person, GeneratorError> {
    person(&mut Rng::derive(&[world.seed, SALT_OWNER, u64::from(owner)]), true)
}

/// The units delivered before `date` (in `dates`, sorted), by age: more
/// than two years, the second year, the first year. A unit reports six
/// times as much in its first year and three times as much in its second
/// as later, when owners turn to the property manager rather than the
/// developer.
pub(crate) fn age_buckets(dates: &[NaiveDate], date: NaiveDate) -> [usize; 3] {
    let before = |d: NaiveDate| dates.partition_point(|x| *x < d);
    let delivered = before(date);
    let one_year = before(add_days(date, -365)).min(delivered);
    let two_years = before(add_days(date, -730)).min(one_year);
    [two_years, one_year - two_years, delivered - one_year]
}
