//! The [`Generator`] iterator: the archive first, then the tickets of
//! each day in received-time order, with each incident after the ticket
//! that completes it.

use std::collections::VecDeque;

use chrono::{DateTime, Utc};
use domain::ticket::TicketKind;

use crate::archive::{directory_records, owner_record, project_record, unit_record};
use crate::incident::incident_record;
use crate::plan::{day_slots, Slot, TicketFlow};
use crate::sim::ticket_record;
use crate::time::{add_days, local_time};
use crate::world::World;
use crate::{GeneratedRecord, GeneratedSummary, GeneratorConfig, GeneratorError};

/// Which record a generated record is, for the summary.
#[derive(Debug, Clone, Copy)]
enum Made {
    Directory,
    Project,
    Unit,
    Owner,
    Ticket(TicketKind),
    Incident,
}

enum Phase {
    /// The archive: project `project`; `next_unit` is `None` before the
    /// project's own record.
    Archive {
        project: usize,
        next_unit: Option<u32>,
    },
    /// Tickets of `day`, from slot `next` on.
    Tickets {
        day: u32,
        slots: Vec<Slot>,
        next: usize,
    },
    Done,
}

/// The generator: an iterator of records, archive first, then tickets in
/// received-time order. After an error it yields nothing more.
///
/// It holds the archive's compact tables and one day of tickets, never the
/// log: memory does not grow with the number of events.
pub struct Generator {
    world: World,
    phase: Phase,
    pending: VecDeque<(Made, GeneratedRecord)>,
    /// The project being written, as its record folded.
    project: Option<domain::archive::Project>,
    /// Units of the current owner, as registered, until the owner's record.
    owner_units: Vec<domain::archive::Unit>,
    flow: TicketFlow,
    summary: GeneratedSummary,
}

impl Generator {
    /// Plans the archive and the number of tickets of each day; refuses a
    /// configuration that cannot describe a log.
    pub fn new(config: GeneratorConfig) -> Result<Self, GeneratorError> {
        let world = World::new(&config)?;
        // The service directory first: every dispatch names a company or
        // an engineer registered before it.
        let pending = directory_records(&world)?
            .into_iter()
            .map(|r| (Made::Directory, r))
            .collect();
        Ok(Self {
            world,
            phase: Phase::Archive {
                project: 0,
                next_unit: None,
            },
            pending,
            project: None,
            owner_units: Vec::new(),
            flow: TicketFlow::default(),
            summary: GeneratedSummary::default(),
        })
    }

    /// The counts of what was generated so far (all of it once the iterator
    /// is exhausted).
    pub fn summary(&self) -> GeneratedSummary {
        self.summary
    }

    /// The first instant after the period: every event occurred before it.
    pub fn end(&self) -> DateTime<Utc> {
        self.world.end
    }

    /// Fills `pending` with at least one record, or finishes.
    fn advance(&mut self) -> Result<(), GeneratorError> {
        while self.pending.is_empty() {
            match &mut self.phase {
                Phase::Archive { project, next_unit } => {
                    let p = *project;
                    let Some(plan) = self.world.projects.get(p) else {
                        self.phase = Phase::Tickets {
                            day: 0,
                            slots: day_slots(&self.world, 0),
                            next: 0,
                        };
                        continue;
                    };
                    match *next_unit {
                        None => {
                            let (record, folded) = project_record(&self.world, p)?;
                            self.project = Some(folded);
                            self.pending.push_back((Made::Project, record));
                            *next_unit = Some(plan.first_unit);
                        }
                        Some(unit) if unit < plan.unit_end => {
                            *next_unit = Some(unit + 1);
                            let Some(folded) = self.project.as_ref() else {
                                return Err(GeneratorError::InvalidConfig("no project before its units".into()));
                            };
                            let (record, registered) = unit_record(&self.world, folded, unit)?;
                            self.pending.push_back((Made::Unit, record));
                            self.owner_units.push(registered);
                            let owner = self.world.units[unit as usize].owner;
                            let owner_plan = self.world.owners[owner as usize];
                            if unit + 1 == owner_plan.first_unit + owner_plan.count {
                                let record = owner_record(&self.world, owner, &self.owner_units)?;
                                self.owner_units.clear();
                                self.pending.push_back((Made::Owner, record));
                            }
                        }
                        Some(_) => {
                            *project += 1;
                            *next_unit = None;
                        }
                    }
                }
                Phase::Tickets { day, slots, next } => {
                    if let Some(slot) = slots.get(*next).copied() {
                        *next += 1;
                        let number = *next as u32;
                        let d = *day;
                        if let Some((record, kind)) = ticket_record(&self.world, &mut self.flow, d, number, slot)? {
                            self.pending.push_back((Made::Ticket(kind), record));
                        }
                        self.close_incident(false)?;
                    } else if (*day as usize) + 1 < self.world.day_counts.len() {
                        *day += 1;
                        *slots = day_slots(&self.world, *day);
                        *next = 0;
                    } else {
                        self.close_incident(true)?;
                        self.phase = Phase::Done;
                        if self.pending.is_empty() {
                            return Ok(());
                        }
                    }
                }
                Phase::Done => return Ok(()),
            }
        }
        Ok(())
    }

    /// Writes the incident in progress once it has all its tickets, its
    /// time is up, or the tickets are over.
    fn close_incident(&mut self, all_done: bool) -> Result<(), GeneratorError> {
        let done = match &self.flow.incident {
            None => false,
            Some(incident) => {
                all_done
                    || incident.links.len() >= incident.target
                    || match &self.phase {
                        Phase::Tickets { day, slots, next } => slots.get(*next).is_some_and(|s| {
                            local_time(
                                &self.world.calendar,
                                add_days(self.world.start, i64::from(*day)),
                                s.seconds,
                            ) > incident.deadline
                        }),
                        _ => false,
                    }
            }
        };
        if done {
            if let Some(incident) = self.flow.incident.take() {
                if let Some(record) = incident_record(&self.world, &incident)? {
                    self.pending.push_back((Made::Incident, record));
                }
            }
        }
        Ok(())
    }
}

impl Iterator for Generator {
    type Item = Result<GeneratedRecord, GeneratorError>;

    fn next(&mut self) -> Option<Self::Item> {
        if self.pending.is_empty() {
            if let Err(e) = self.advance() {
                self.phase = Phase::Done;
                self.pending.clear();
                return Some(Err(e));
            }
        }
        let (made, record) = self.pending.pop_front()?;
        let s = &mut self.summary;
        s.records += 1;
        s.events += record.events.len() as u64;
        match made {
            Made::Directory => s.directory += 1,
            Made::Project => s.projects += 1,
            Made::Unit => s.units += 1,
            Made::Owner => s.owners += 1,
            Made::Ticket(kind) => s.tickets.add(kind),
            Made::Incident => s.incidents += 1,
        }
        Some(Ok(record))
    }
}

impl std::iter::FusedIterator for Generator {}
