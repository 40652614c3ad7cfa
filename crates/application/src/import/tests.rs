//! The import end to end: a service on a temporary data folder, files of
//! every kind, their errors, re-runs and the limits.

use chrono::NaiveDate;
use domain::actor::Role;
use domain::archive::UnitCommand;
use domain::error::DomainError;
use domain::ids::{BuildingId, OwnerId, ProjectId, UnitId, UserId};
use domain::ticket::TouchpointStage;

use super::rows::parse_stage;
use super::*;
use crate::service::Acting;

const PROJECTS: &str = "project_id,name,city,calendar\n\
                        HZ-01,滨江壹号,杭州,\n\
                        SH-02,浦江花园,上海,cn-mainland\n";

/// A BOM, padded names, columns in another order.
const BUILDINGS: &str = "\u{feff} building_id , project_id ,Name\n\
                         HZ-01-3,HZ-01,3栋\n\
                         HZ-01-5, HZ-01 ,5栋\n\
                         SH-02-1,SH-02,1号楼\n";

const UNITS: &str = "unit_id,project_id,building_id,number,delivered_on\n\
                     HZ-01-3-1502,HZ-01,HZ-01-3,1502,2024-06-30\n\
                     HZ-01-3-1503,HZ-01,HZ-01-3,1503,\n\
                     SH-02-1-0801,SH-02,SH-02-1,0801,2023-12-01\n";

const OWNERS: &str = "owner_id,family_name,given_name,phone,id_number,unit_id,contract_signed_on,stage\n\
                      O-1,王,小明,138 1234 5678,E12345678,HZ-01-3-1502,2023-05-01,F\n\
                      O-1,王,小明,13812345678,,SH-02-1-0801,2022-11-11,f_warranty_service\n\
                      O-2,李,,021-5555 6666,,HZ-01-3-1503,2024-01-15,销售签约\n\
                      O-3,Smith,John,+44 20 7946 0958,,,,\n";

fn admin() -> Actor {
    Actor::staff(UserId::new("importer").unwrap_or_else(|e| panic!("{e}")), Role::Admin)
}

fn open() -> (tempfile::TempDir, Service) {
    let dir = tempfile::tempdir().unwrap_or_else(|e| panic!("{e}"));
    let service = Service::open(dir.path()).unwrap_or_else(|e| panic!("{}", e.message()));
    (dir, service)
}

async fn close(service: Service) {
    service
        .shutdown()
        .await
        .unwrap_or_else(|e| panic!("shutdown: {}", e.message()));
}

async fn ok(service: &Service, kind: ImportKind, text: &str) -> ImportReport {
    import(service, kind, text, admin())
        .await
        .unwrap_or_else(|e| panic!("importing {kind}: {e}"))
}

async fn row_errors(service: &Service, kind: ImportKind, text: &str) -> Vec<RowError> {
    match import(service, kind, text, admin()).await {
        Err(ImportError::Rows(errors)) => errors,
        other => panic!("expected row errors, got {other:?}"),
    }
}

fn id<T>(r: Result<T, DomainError>) -> T {
    r.unwrap_or_else(|e| panic!("{e}"))
}

fn date(y: i32, m: u32, d: u32) -> NaiveDate {
    NaiveDate::from_ymd_opt(y, m, d).unwrap_or_else(|| panic!("bad date"))
}

async fn archive(service: &Service) {
    ok(service, ImportKind::Projects, PROJECTS).await;
    ok(service, ImportKind::Buildings, BUILDINGS).await;
}

#[tokio::test]
async fn a_whole_archive_round_trips() {
    let (_dir, service) = open();
    let projects = ok(&service, ImportKind::Projects, PROJECTS).await;
    assert_eq!(
        (
            projects.rows,
            projects.imported,
            projects.skipped,
            projects.events_appended
        ),
        (2, 2, 0, 2)
    );
    let buildings = ok(&service, ImportKind::Buildings, BUILDINGS).await;
    assert_eq!(
        (buildings.rows, buildings.imported, buildings.events_appended),
        (3, 3, 3)
    );
    let units = ok(&service, ImportKind::Units, UNITS).await;
    assert_eq!((units.rows, units.imported, units.events_appended), (3, 3, 5));
    let owners = ok(&service, ImportKind::Owners, OWNERS).await;
    assert_eq!((owners.rows, owners.imported, owners.events_appended), (4, 4, 6));
    let (Some(first), Some(last)) = (owners.first_position, owners.last_position) else {
        panic!("no positions in {owners:?}");
    };
    assert_eq!(last - first + 1, 6);
    assert_eq!(service.head(), Some(last));

    let project = service
        .project(&id(ProjectId::new("HZ-01")))
        .unwrap_or_else(|e| panic!("{}", e.message()));
    let project = project.0.unwrap_or_else(|| panic!("no project"));
    assert_eq!(project.calendar, DEFAULT_CALENDAR);
    assert_eq!(project.name, "滨江壹号");
    assert_eq!(project.buildings.len(), 2);

    let unit = |u: &str| {
        service
            .unit(&id(UnitId::new(u)))
            .unwrap_or_else(|e| panic!("{}", e.message()))
            .0
            .unwrap_or_else(|| panic!("no unit {u}"))
    };
    assert_eq!(unit("HZ-01-3-1502").delivered_on, Some(date(2024, 6, 30)));
    assert_eq!(unit("HZ-01-3-1503").delivered_on, None);
    assert_eq!(unit("SH-02-1-0801").number, "0801");

    let owner = |o: &str| {
        service
            .owner(&id(OwnerId::new(o)))
            .unwrap_or_else(|e| panic!("{}", e.message()))
            .0
            .unwrap_or_else(|| panic!("no owner {o}"))
    };
    let o1 = owner("O-1");
    assert_eq!(o1.units.len(), 2);
    assert_eq!(o1.phone.expose().map(|p| p.as_str()), Some("13812345678"));
    assert_eq!(
        o1.id_number.as_ref().map(|i| i.expose().map(|i| i.as_str())),
        Some(Some("E12345678"))
    );
    let hz = o1
        .units
        .get(&id(UnitId::new("HZ-01-3-1502")))
        .unwrap_or_else(|| panic!("no link"));
    assert_eq!(hz.stage, TouchpointStage::WarrantyService);
    assert_eq!(hz.delivered_on, Some(date(2024, 6, 30)));
    let o2 = owner("O-2");
    assert_eq!(o2.name.expose().map(|n| n.family()), Some("李"));
    assert_eq!(
        o2.units.values().map(|u| u.stage).collect::<Vec<_>>(),
        vec![TouchpointStage::Signing]
    );
    assert!(owner("O-3").units.is_empty());
    close(service).await;
}

#[tokio::test]
async fn bad_rows_are_all_reported_and_nothing_is_appended() {
    let (_dir, service) = open();
    archive(&service).await;
    let head = service.head();
    let text = "unit_id,project_id,building_id,number,delivered_on\n\
                U-1,HZ-01,HZ-01-3,101,2024-01-01\n\
                U-2,HZ-01,HZ-01-9,102,2024-01-01\n\
                U-3,HZ-01,HZ-01-3,103,2024-13-01\n\
                U-4,HZ-01,HZ-01-3,104,\n\
                U-5,HZ-01,HZ-01-3,105,2999-01-01\n\
                U-6,HZ-01,HZ-01-5,106,2024-02-02\n";
    let errors = row_errors(&service, ImportKind::Units, text).await;
    let found: Vec<(usize, u64, Option<&str>)> = errors.iter().map(|e| (e.row, e.line, e.column.as_deref())).collect();
    assert_eq!(
        found,
        vec![
            (2, 3, Some("building_id")),
            (3, 4, Some("delivered_on")),
            (5, 6, Some("delivered_on")),
        ],
        "{errors:#?}"
    );
    assert!(errors[0].message.contains("HZ-01-9"), "{}", errors[0].message);
    assert!(errors[2].message.contains("future"), "{}", errors[2].message);
    let shown = ImportError::Rows(errors).to_string();
    assert!(shown.starts_with("3 rows of the file have errors"), "{shown}");
    assert_eq!(service.head(), head);
    assert_eq!(
        service
            .unit(&id(UnitId::new("U-1")))
            .unwrap_or_else(|e| panic!("{}", e.message()))
            .0,
        None
    );
    close(service).await;
}

#[tokio::test]
async fn duplicates_within_a_file_are_row_errors() {
    let (_dir, service) = open();
    let text = "project_id,name,city\nP-1,一期,杭州\nP-2,二期,杭州\nP-1,一期重复,杭州\n";
    let errors = row_errors(&service, ImportKind::Projects, text).await;
    assert_eq!(errors.len(), 1, "{errors:#?}");
    assert_eq!((errors[0].row, errors[0].line), (3, 4));
    assert_eq!(errors[0].column.as_deref(), Some("project_id"));
    assert!(errors[0].message.contains("row 1 (line 2)"), "{}", errors[0].message);
    assert_eq!(service.head(), None);

    archive(&service).await;
    ok(&service, ImportKind::Units, UNITS).await;
    let head = service.head();
    let owners = "owner_id,family_name,phone,unit_id,contract_signed_on,stage\n\
                  O-1,王,13812345678,HZ-01-3-1502,2023-05-01,F\n\
                  O-1,张,13812345678,HZ-01-3-1503,2023-05-01,F\n\
                  O-2,李,13900000000,HZ-01-3-1502,2023-05-01,x\n\
                  O-2,李,13900000000,HZ-01-3-1502,2023-05-01,C\n\
                  O-2,李,13900000000,HZ-01-3-1502,2023-05-01,C\n";
    let errors = row_errors(&service, ImportKind::Owners, owners).await;
    let found: Vec<(usize, Option<&str>)> = errors.iter().map(|e| (e.row, e.column.as_deref())).collect();
    assert_eq!(
        found,
        vec![
            (2, Some("family_name")),
            (3, Some("stage")),
            (4, Some("owner_id")),
            (5, Some("owner_id")),
            (5, Some("unit_id")),
        ],
        "{errors:#?}"
    );
    assert_eq!(service.head(), head);

    // An id already in the log is the domain's refusal.
    let errors = row_errors(
        &service,
        ImportKind::Projects,
        "project_id,name,city\nHZ-01,又一期,杭州\n",
    )
    .await;
    assert_eq!(errors.len(), 1);
    assert!(errors[0].message.contains("already exists"), "{}", errors[0].message);
    close(service).await;
}

#[tokio::test]
async fn header_problems_are_named() {
    let (_dir, service) = open();
    let header = |r: Result<ImportReport, ImportError>| match r {
        Err(ImportError::Header(m)) => m,
        other => panic!("expected a header error, got {other:?}"),
    };
    let m = header(
        import(
            &service,
            ImportKind::Projects,
            "project_id,name,city,colour\nP,n,c,red\n",
            admin(),
        )
        .await,
    );
    assert!(m.contains("unknown column \"colour\""), "{m}");
    let m = header(import(&service, ImportKind::Projects, "project_id,name\nP,n\n", admin()).await);
    assert!(m.contains("missing column \"city\""), "{m}");
    let m = header(
        import(
            &service,
            ImportKind::Owners,
            "owner_id,family_name,phone,unit_id\nO,王,13812345678,U\n",
            admin(),
        )
        .await,
    );
    assert!(m.contains("contract_signed_on, stage"), "{m}");
    let m = header(import(&service, ImportKind::Units, "", admin()).await);
    assert!(m.contains("empty"), "{m}");
    assert_eq!(service.head(), None);
    close(service).await;
}

#[tokio::test]
async fn a_second_run_of_the_same_file_skips_everything() {
    let (_dir, service) = open();
    archive(&service).await;
    let first = ok(&service, ImportKind::Units, UNITS).await;
    assert_eq!(first.imported, 3);
    let head = service.head();
    let again = ok(&service, ImportKind::Units, UNITS).await;
    assert_eq!(
        again,
        ImportReport {
            rows: 3,
            imported: 0,
            skipped: 3,
            events_appended: 0,
            first_position: None,
            last_position: None,
        }
    );
    assert_eq!(service.head(), head);
    close(service).await;
}

#[tokio::test]
async fn a_run_stopped_half_way_is_finished_by_running_the_file_again() {
    let (_dir, service) = open();
    archive(&service).await;
    let text = "unit_id,project_id,building_id,number,delivered_on\n\
                U-1,HZ-01,HZ-01-3,101,2024-01-01\n\
                U-2,HZ-01,HZ-01-3,102,2024-01-02\n\
                U-3,HZ-01,HZ-01-3,103,2024-01-03\n\
                U-4,HZ-01,HZ-01-5,104,\n";
    // What a run that died after row 1 and the first command of row 2
    // left in the log: the same commands under the same keys.
    let hash = domain::ids::stable_hash(text.as_bytes());
    let acting = |row: usize, i: usize| Acting {
        projects: Vec::new(),
        actor: admin(),
        channel: Channel::BackOffice,
        occurred_at: None,
        expected_version: None,
        idempotency_key: Some(row_key(ImportKind::Units, hash, row, i)),
        shared_key: true,
    };
    let register = |u: &str, n: &str| UnitCommand::Register {
        unit: id(UnitId::new(u)),
        project: id(ProjectId::new("HZ-01")),
        building: id(BuildingId::new("HZ-01-3")),
        number: n.into(),
    };
    let done = [
        ("U-1", 1, 0, register("U-1", "101")),
        (
            "U-1",
            1,
            1,
            UnitCommand::RecordDelivery {
                delivered_on: date(2024, 1, 1),
            },
        ),
        ("U-2", 2, 0, register("U-2", "102")),
    ];
    for (unit, row, i, command) in done {
        service
            .unit_command(&id(UnitId::new(unit)), command, acting(row, i))
            .await
            .unwrap_or_else(|e| panic!("{}", e.message()));
    }
    let before = service.head().unwrap_or_else(|| panic!("empty log"));

    let report = ok(&service, ImportKind::Units, text).await;
    assert_eq!(
        (report.rows, report.imported, report.skipped, report.events_appended),
        (4, 3, 1, 4)
    );
    assert_eq!(report.first_position, Some(before + 1));
    assert_eq!(report.last_position, Some(before + 4));
    assert_eq!(service.head(), Some(before + 4));
    let delivered = |u: &str| {
        service
            .unit(&id(UnitId::new(u)))
            .unwrap_or_else(|e| panic!("{}", e.message()))
            .0
            .and_then(|u| u.delivered_on)
    };
    assert_eq!(delivered("U-1"), Some(date(2024, 1, 1)));
    assert_eq!(delivered("U-2"), Some(date(2024, 1, 2)));
    assert_eq!(delivered("U-3"), Some(date(2024, 1, 3)));
    assert_eq!(delivered("U-4"), None);

    let again = ok(&service, ImportKind::Units, text).await;
    assert_eq!((again.skipped, again.events_appended), (4, 0));
    assert_eq!(service.head(), Some(before + 4));
    close(service).await;
}

#[tokio::test]
async fn files_over_the_limit_are_refused_before_anything() {
    let (_dir, service) = open();
    let mut text = String::from("project_id,name,city\n");
    for i in 0..=MAX_ROWS {
        text.push_str(&format!("P-{i},n,c\n"));
    }
    match import(&service, ImportKind::Projects, &text, admin()).await {
        Err(ImportError::TooManyRows { limit }) => assert_eq!(limit, MAX_ROWS),
        other => panic!("expected too many rows, got {other:?}"),
    }
    assert_eq!(service.head(), None);
    close(service).await;
}

#[tokio::test]
async fn a_role_outside_the_archive_is_refused_on_every_row() {
    let (_dir, service) = open();
    let agent = Actor::staff(id(UserId::new("agent-1")), Role::Agent);
    match import(&service, ImportKind::Projects, PROJECTS, agent).await {
        Err(ImportError::Rows(errors)) => {
            assert_eq!(errors.len(), 2);
            assert!(errors[0].message.contains("may not"), "{}", errors[0].message);
            assert_eq!(errors[0].column, None);
        }
        other => panic!("expected row errors, got {other:?}"),
    }
    assert_eq!(service.head(), None);
    close(service).await;
}

#[test]
fn kinds_and_stages_parse() {
    for kind in ImportKind::ALL {
        assert_eq!(kind.as_str().parse::<ImportKind>(), Ok(kind));
    }
    assert_eq!(" Units ".parse::<ImportKind>(), Ok(ImportKind::Units));
    let e = "tickets"
        .parse::<ImportKind>()
        .err()
        .map(|e| e.to_string())
        .unwrap_or_default();
    assert!(e.contains("projects, buildings, units, owners"), "{e}");
    for (text, stage) in [
        ("a", TouchpointStage::ProjectPreparation),
        ("G", TouchpointStage::ResidenceRevisit),
        ("d_waiting_for_delivery", TouchpointStage::WaitingForDelivery),
        ("DELIVERY", TouchpointStage::Delivery),
        ("房屋交付", TouchpointStage::Delivery),
    ] {
        assert_eq!(parse_stage(text), Ok(stage), "{text}");
    }
    assert!(parse_stage("H").is_err());
}

#[test]
fn the_message_lists_fifty_errors_and_counts_the_rest() {
    let errors = (1..=60)
        .map(|row| RowError {
            row,
            line: row as u64 + 1,
            column: Some("phone".into()),
            message: "it is empty".into(),
        })
        .collect();
    let text = ImportError::Rows(errors).to_string();
    assert!(text.starts_with("60 rows of the file have errors"), "{text}");
    assert!(text.contains("row 50 (line 51), column phone: it is empty"), "{text}");
    assert!(!text.contains("row 51 (line 52)"), "{text}");
    assert!(text.ends_with("… and 10 more"), "{text}");
}
