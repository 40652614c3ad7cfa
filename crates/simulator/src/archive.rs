//! The archive's records: the service directory, projects with their
//! buildings, units and owners.

use chrono::TimeDelta;
use domain::archive::{
    OwnerCommand, OwnerDecider, ProjectCommand, ProjectDecider, UnitCommand, UnitDecider, UnitState,
};
use domain::personal::Personal;
use domain::ticket::{Channel, TouchpointStage};
use eventformat::wire;

use crate::rng::{Rng, SALT_ARCHIVE};
use crate::sim::{context, encode, run};
use crate::tables::CONTRACTOR_NAMES;
use crate::time::{add_days, local_time, minutes, plus};
use crate::world::{owner_person, World};
use crate::{GeneratedRecord, GeneratorError};

/// The service directory's records: every contractor company and every
/// engineer, registered when the first project was.
pub(crate) fn directory_records(world: &World) -> Result<Vec<GeneratedRecord>, GeneratorError> {
    use domain::directory::{ContractorCommand, ContractorDecider, EngineerCommand, EngineerDecider};
    let at = world
        .projects
        .iter()
        .map(|p| p.registered_at)
        .min()
        .ok_or_else(|| GeneratorError::InvalidConfig("no projects".into()))?;
    let ctx = context(&world.system, Channel::BackOffice, at, ());
    let mut out = Vec::with_capacity(world.contractors.len() + world.engineers.len());
    for (n, company) in world.contractors.iter().enumerate() {
        let stream = wire::stream_of(company).map_err(GeneratorError::Stream)?;
        let (mut state, mut events) = (Default::default(), Vec::new());
        let command = ContractorCommand::Register {
            contractor: company.clone(),
            name: match n / CONTRACTOR_NAMES.len() {
                0 => format!("{}工程有限公司", CONTRACTOR_NAMES[n]),
                round => format!(
                    "{}{}工程有限公司",
                    CONTRACTOR_NAMES[n % CONTRACTOR_NAMES.len()],
                    round + 1
                ),
            },
            trades: Vec::new(),
        };
        run::<ContractorDecider>(
            stream.as_str(),
            &mut state,
            &mut events,
            command,
            "register the contractor",
            &ctx,
        )?;
        out.push(encode(world.seed, stream, &events)?);
    }
    for (n, engineer) in world.engineers.iter().enumerate() {
        let stream = wire::stream_of(&engineer.user).map_err(GeneratorError::Stream)?;
        let (mut state, mut events) = (Default::default(), Vec::new());
        let command = EngineerCommand::Register {
            engineer: engineer.user.clone(),
            name: format!("工程师{:03}", n + 1),
        };
        run::<EngineerDecider>(
            stream.as_str(),
            &mut state,
            &mut events,
            command,
            "register the engineer",
            &ctx,
        )?;
        out.push(encode(world.seed, stream, &events)?);
    }
    Ok(out)
}

pub(crate) fn project_record(
    world: &World,
    p: usize,
) -> Result<(GeneratedRecord, domain::archive::Project), GeneratorError> {
    let plan = &world.projects[p];
    let stream = wire::stream_of(&plan.id).map_err(GeneratorError::Stream)?;
    let mut state = Default::default();
    let mut events = Vec::new();
    let at = plan.registered_at;
    run::<ProjectDecider>(
        stream.as_str(),
        &mut state,
        &mut events,
        ProjectCommand::Register {
            project: plan.id.clone(),
            name: plan.name.clone(),
            city: plan.city.clone(),
            calendar: "cn-mainland".into(),
        },
        "register the project",
        &context(&world.system, Channel::BackOffice, at, ()),
    )?;
    for (b, building) in plan.buildings.iter().enumerate() {
        run::<ProjectDecider>(
            stream.as_str(),
            &mut state,
            &mut events,
            ProjectCommand::RegisterBuilding {
                building: building.id.clone(),
                name: building.name.clone(),
            },
            "register the building",
            &context(
                &world.system,
                Channel::BackOffice,
                plus(at, TimeDelta::seconds(b as i64 + 1)),
                (),
            ),
        )?;
    }
    let domain::archive::ProjectState(Some(project)) = state else {
        return Err(GeneratorError::InvalidConfig(format!(
            "project {} was not registered",
            plan.id
        )));
    };
    Ok((encode(world.seed, stream, &events)?, project))
}

/// A unit's record, and its state right after registration (what linking
/// its owner at contract signing refers to).
pub(crate) fn unit_record(
    world: &World,
    project: &domain::archive::Project,
    unit: u32,
) -> Result<(GeneratedRecord, domain::archive::Unit), GeneratorError> {
    let plan = world.units[unit as usize];
    let project_plan = &world.projects[plan.project as usize];
    let unit_id = world.unit_id(unit)?;
    let stream = wire::stream_of(&unit_id).map_err(GeneratorError::Stream)?;
    let mut state = UnitState::default();
    let mut events = Vec::new();
    run::<UnitDecider>(
        stream.as_str(),
        &mut state,
        &mut events,
        UnitCommand::Register {
            unit: unit_id.clone(),
            project: project_plan.id.clone(),
            building: world.building(unit).id.clone(),
            number: format!("{}{:02}", plan.floor, plan.room),
        },
        "register the unit",
        &context(
            &world.system,
            Channel::BackOffice,
            plus(project_plan.registered_at, TimeDelta::hours(1)),
            Some(project),
        ),
    )?;
    let registered = state.0.clone();
    if let Some(delivered_on) = plan.delivered_on {
        run::<UnitDecider>(
            stream.as_str(),
            &mut state,
            &mut events,
            UnitCommand::RecordDelivery { delivered_on },
            "record the delivery",
            &context(
                &world.system,
                Channel::BackOffice,
                local_time(&world.calendar, delivered_on, 16 * 3600),
                Some(project),
            ),
        )?;
    }
    let Some(registered) = registered else {
        return Err(GeneratorError::InvalidConfig(format!(
            "unit {unit_id} was not registered"
        )));
    };
    Ok((encode(world.seed, stream, &events)?, registered))
}

pub(crate) fn owner_record(
    world: &World,
    owner: u32,
    units: &[domain::archive::Unit],
) -> Result<GeneratedRecord, GeneratorError> {
    let plan = world.owners[owner as usize];
    let owner_id = world.owner_id(owner)?;
    let stream = wire::stream_of(&owner_id).map_err(GeneratorError::Stream)?;
    let person = owner_person(world, owner)?;
    let mut rng = Rng::derive(&[world.seed, SALT_ARCHIVE, u64::from(owner)]);
    let first = world.units[plan.first_unit as usize];
    let signed_at = local_time(
        &world.calendar,
        first.signed_on,
        rng.between(10 * 3600, 17 * 3600) as u32,
    );
    let mut state = Default::default();
    let mut events = Vec::new();
    run::<OwnerDecider>(
        stream.as_str(),
        &mut state,
        &mut events,
        OwnerCommand::Register {
            owner: owner_id.clone(),
            name: Personal::new(person.name),
            phone: Personal::new(person.phone),
            id_number: person.id_number.map(Personal::new),
        },
        "register the owner",
        &context(&world.system, Channel::BackOffice, signed_at, None),
    )?;
    let mut stages = Vec::new();
    for (k, unit) in units.iter().enumerate() {
        let plan_u = world.units[(plan.first_unit as usize) + k];
        run::<OwnerDecider>(
            stream.as_str(),
            &mut state,
            &mut events,
            OwnerCommand::LinkUnit {
                unit: unit.id.clone(),
                contract_signed_on: plan_u.signed_on,
                stage: TouchpointStage::Signing,
            },
            "link the owner to a unit",
            &context(
                &world.system,
                Channel::BackOffice,
                plus(signed_at, minutes(10 + k as i64)),
                Some(unit),
            ),
        )?;
        if let Some(delivered_on) = plan_u.delivered_on {
            let handed = local_time(&world.calendar, delivered_on, 16 * 3600 + 1800 + k as u32);
            stages.push((handed, unit.id.clone(), TouchpointStage::Delivery));
            let settled = local_time(&world.calendar, add_days(delivered_on, 30), 10 * 3600 + k as u32);
            if settled < world.end {
                stages.push((settled, unit.id.clone(), TouchpointStage::WarrantyService));
            }
        }
    }
    stages.sort_by_key(|s| s.0);
    for (at, unit, stage) in stages {
        run::<OwnerDecider>(
            stream.as_str(),
            &mut state,
            &mut events,
            OwnerCommand::ChangeStage { unit, stage },
            "change the touchpoint stage",
            &context(&world.system, Channel::BackOffice, at, None),
        )?;
    }
    encode(world.seed, stream, &events)
}
