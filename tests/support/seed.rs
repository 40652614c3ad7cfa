//! Archive and directory records, written as the system straight through
//! the service, that the tests' reports and dispatches name.

fn fail<T>(e: api::error::AppError) -> T {
    panic!("seeding the archive: {}", e.message())
}

fn id_error<T>(e: domain::error::DomainError) -> T {
    panic!("{e}")
}

fn system() -> application::service::Acting {
    application::service::Acting::by(domain::actor::Actor::staff(
        domain::ids::UserId::new("test-setup").unwrap_or_else(|e| panic!("{e}")),
        domain::actor::Role::System,
    ))
}

/// Registers, as the system, the projects, buildings and units that
/// `units` name (`<project>-<n>-<number>`: building `<project>-<n>`), each
/// once, so that tickets may be received for them. A bare project id
/// (without a building and number) registers just the project.
pub async fn seed_units(service: &application::service::Service, units: &[&str]) {
    use domain::archive::{ProjectCommand, UnitCommand};
    use domain::ids::{BuildingId, ProjectId, UnitId};
    for unit in units {
        let (project, building, number) = match unit
            .rsplit_once('-')
            .and_then(|(b, n)| Some((b.rsplit_once('-')?.0, b, n)))
        {
            Some((p, b, n)) if n.chars().all(|c| c.is_ascii_digit()) && !p.is_empty() && b.len() > p.len() => {
                (p.to_string(), Some(b.to_string()), Some(n.to_string()))
            }
            _ => (unit.to_string(), None, None),
        };
        let project = ProjectId::new(project.as_str()).unwrap_or_else(id_error);
        if service.project(&project).unwrap_or_else(fail).0.is_none() {
            let register = ProjectCommand::Register {
                project: project.clone(),
                name: format!("项目{project}"),
                city: "杭州".into(),
                calendar: "cn-mainland".into(),
            };
            service
                .project_command(&project, register, system())
                .await
                .unwrap_or_else(fail);
        }
        let (Some(building), Some(number)) = (building, number) else {
            continue;
        };
        let building = BuildingId::new(building.as_str()).unwrap_or_else(id_error);
        let known = service
            .project(&project)
            .unwrap_or_else(fail)
            .0
            .is_some_and(|p| p.buildings.contains_key(&building));
        if !known {
            let register = ProjectCommand::RegisterBuilding {
                building: building.clone(),
                name: format!("{building}号楼"),
            };
            service
                .project_command(&project, register, system())
                .await
                .unwrap_or_else(fail);
        }
        let unit = UnitId::new(*unit).unwrap_or_else(id_error);
        if service.unit(&unit).unwrap_or_else(fail).0.is_none() {
            let register = UnitCommand::Register {
                unit: unit.clone(),
                project: project.clone(),
                building,
                number,
            };
            service
                .unit_command(&unit, register, system())
                .await
                .unwrap_or_else(fail);
        }
    }
}

/// Registers owner `id` with `phone` (unless they are registered) and
/// links them to `units` (seeded first), contracts signed on 2020-01-01.
pub async fn seed_owner(
    service: &application::service::Service,
    id: &str,
    name: (&str, &str),
    phone: &str,
    units: &[&str],
) {
    use domain::archive::OwnerCommand;
    use domain::ids::{OwnerId, UnitId};
    use domain::personal::{PersonName, Personal, PhoneNumber};
    use domain::ticket::TouchpointStage;
    seed_units(service, units).await;
    let owner = OwnerId::new(id).unwrap_or_else(id_error);
    let state = service.owner(&owner).unwrap_or_else(fail).0;
    if state.is_none() {
        let register = OwnerCommand::Register {
            owner: owner.clone(),
            name: Personal::new(PersonName::new(name.0, name.1).unwrap_or_else(id_error)),
            phone: Personal::new(PhoneNumber::new(phone).unwrap_or_else(id_error)),
            id_number: None,
        };
        service
            .owner_command(&owner, register, system())
            .await
            .unwrap_or_else(fail);
    }
    for unit in units {
        let unit = UnitId::new(*unit).unwrap_or_else(id_error);
        if service
            .owner(&owner)
            .unwrap_or_else(fail)
            .0
            .is_some_and(|o| o.units.contains_key(&unit))
        {
            continue;
        }
        let link = OwnerCommand::LinkUnit {
            unit,
            contract_signed_on: chrono::NaiveDate::from_ymd_opt(2020, 1, 1).unwrap_or_default(),
            stage: TouchpointStage::WarrantyService,
        };
        service.owner_command(&owner, link, system()).await.unwrap_or_else(fail);
    }
}

/// Registers, as the system, the contractor companies and engineers that
/// tickets are dispatched to (each once).
pub async fn seed_directory(service: &application::service::Service, contractors: &[&str], engineers: &[&str]) {
    use domain::directory::{ContractorCommand, EngineerCommand};
    use domain::ids::{ContractorId, UserId};
    for c in contractors {
        let id = ContractorId::new(*c).unwrap_or_else(id_error);
        if service.contractor(&id).unwrap_or_else(fail).0.is_none() {
            let register = ContractorCommand::Register {
                contractor: id.clone(),
                name: format!("{c}工程有限公司"),
                trades: Vec::new(),
            };
            service
                .contractor_command(&id, register, system())
                .await
                .unwrap_or_else(fail);
        }
    }
    for e in engineers {
        let id = UserId::new(*e).unwrap_or_else(id_error);
        if service.engineer(&id).unwrap_or_else(fail).0.is_none() {
            let register = EngineerCommand::Register {
                engineer: id.clone(),
                name: format!("工程师{e}"),
            };
            service
                .engineer_command(&id, register, system())
                .await
                .unwrap_or_else(fail);
        }
    }
}

/// The archive records the fixtures' reports (such as
/// [`crate::graphql::RECEIVE`]) name: owner O-1 of units HZ-1-3-1502 and
/// SH-2-3-0801.
pub async fn seed_fixtures(service: &application::service::Service) {
    let units = ["HZ-1-3-1502", "SH-2-3-0801"];
    seed_owner(service, "O-1", ("王", "小明"), "13812345678", &units).await;
}
