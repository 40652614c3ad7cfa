//! What several end-to-end modules share: the real server on an ephemeral
//! port over a data folder, and stopping it so that the folder can be
//! opened again.

use std::net::SocketAddr;
use std::path::Path;
use std::sync::Arc;
use std::time::{Duration, Instant};

use chrono::{DateTime, Utc};

/// A server running in this process.
pub struct Running {
    pub addr: SocketAddr,
    pub service: Arc<application::service::Service>,
    pub task: tokio::task::JoinHandle<()>,
}

/// Opens the data folder `dir` with the service's clock started at
/// [`domain::testing::test_now`], the instant the end-to-end tests build
/// their data around, never the machine's clock.
pub fn open_service(dir: &Path) -> application::service::Service {
    open_service_at(dir, domain::testing::test_now())
}

/// Opens the data folder `dir` with the service's clock started at `at`,
/// for a test whose data has fixed dates of its own.
pub fn open_service_at(dir: &Path, at: DateTime<Utc>) -> application::service::Service {
    application::service::Service::open(dir)
        .unwrap_or_else(|e| panic!("opening {}: {}", dir.display(), e.message()))
        .with_clock(application::clock::Clock::starting_at(at))
}

/// An instant written as RFC 3339 (`2026-10-20T10:00:00+08:00`).
pub fn instant(text: &str) -> DateTime<Utc> {
    DateTime::parse_from_rfc3339(text)
        .unwrap_or_else(|e| panic!("{text}: {e}"))
        .with_timezone(&Utc)
}

/// Opens `dir` and serves it on 127.0.0.1, callers identified by the
/// trusted identity headers; the service's clock starts at
/// [`domain::testing::test_now`].
pub async fn serve(dir: &Path) -> Running {
    serve_at(dir, domain::testing::test_now()).await
}

/// [`serve`] with the service's clock started at `at`.
pub async fn serve_at(dir: &Path, at: DateTime<Utc>) -> Running {
    let service = Arc::new(open_service_at(dir, at));
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0")
        .await
        .unwrap_or_else(|e| panic!("{e}"));
    let addr = listener.local_addr().unwrap_or_else(|e| panic!("{e}"));
    let router = api::server::router(service.clone(), api::server::Identity::TrustedHeaders);
    let task = tokio::spawn(async move {
        let _ = axum::serve(listener, router).await;
    });
    Running { addr, service, task }
}

/// Stops a server: closes the log and waits for the views, stops
/// accepting, and drops every handle on the service so that the data
/// folder can be opened again.
pub async fn stop(run: Running) {
    run.service
        .shutdown()
        .await
        .unwrap_or_else(|e| panic!("shutdown: {}", e.message()));
    run.task.abort();
    let _ = run.task.await;
    // Connection tasks hold router clones until their connection ends.
    let mut service = run.service;
    let deadline = Instant::now() + Duration::from_secs(10);
    loop {
        match Arc::try_unwrap(service) {
            Ok(s) => {
                drop(s);
                return;
            }
            Err(s) if Instant::now() < deadline => {
                service = s;
                tokio::time::sleep(Duration::from_millis(20)).await;
            }
            Err(s) => panic!(
                "{} handles on the service remain 10 s after the server stopped",
                Arc::strong_count(&s)
            ),
        }
    }
}

/// An HTTP/1.1 answer: the status, the head lower-cased (status line and
/// headers), and the body with chunked transfer encoding undone.
pub struct Answer {
    pub status: u16,
    pub head: String,
    pub body: String,
}

impl Answer {
    /// The value of header `name` (lower-case), if the answer has it.
    pub fn header(&self, name: &str) -> Option<&str> {
        self.head.lines().find_map(|l| {
            l.split_once(':')
                .filter(|(n, _)| n.trim() == name)
                .map(|(_, v)| v.trim())
        })
    }
}

/// One raw HTTP/1.1 exchange over a fresh connection: writes `request`
/// (head and body as given) while reading the answer until the server
/// closes, so that a server that answers before reading everything (413)
/// is seen.
pub async fn exchange(addr: SocketAddr, request: Vec<u8>) -> Answer {
    use tokio::io::{AsyncReadExt, AsyncWriteExt};
    let stream = tokio::net::TcpStream::connect(addr)
        .await
        .unwrap_or_else(|e| panic!("{e}"));
    let (mut reader, mut writer) = stream.into_split();
    let writing = tokio::spawn(async move {
        // The server may close early (a refused body); that is its answer.
        if writer.write_all(&request).await.is_ok() {
            let _ = writer.flush().await;
        }
        writer
    });
    let mut response = Vec::new();
    let mut buf = vec![0u8; 64 * 1024];
    loop {
        match reader.read(&mut buf).await {
            Ok(0) | Err(_) => break,
            Ok(n) => response.extend_from_slice(&buf[..n]),
        }
    }
    drop(writing.await);
    let split = find(&response, b"\r\n\r\n")
        .unwrap_or_else(|| panic!("no complete response head in {:?}", String::from_utf8_lossy(&response)));
    let head = String::from_utf8_lossy(&response[..split]).to_ascii_lowercase();
    let status = head
        .split_whitespace()
        .nth(1)
        .and_then(|s| s.parse().ok())
        .unwrap_or_else(|| panic!("no status in {head:?}"));
    let raw = &response[split + 4..];
    let body = if head.contains("transfer-encoding: chunked") {
        decode_chunked(raw)
    } else {
        raw.to_vec()
    };
    Answer {
        status,
        head,
        body: String::from_utf8_lossy(&body).into_owned(),
    }
}

fn find(haystack: &[u8], needle: &[u8]) -> Option<usize> {
    haystack.windows(needle.len()).position(|w| w == needle)
}

fn decode_chunked(mut body: &[u8]) -> Vec<u8> {
    let mut out = Vec::new();
    while let Some(end) = find(body, b"\r\n") {
        let line = String::from_utf8_lossy(&body[..end]);
        let Ok(size) = usize::from_str_radix(line.split(';').next().unwrap_or("").trim(), 16) else {
            break;
        };
        body = &body[end + 2..];
        if size == 0 {
            break;
        }
        out.extend_from_slice(&body[..size.min(body.len())]);
        body = &body[(size + 2).min(body.len())..];
    }
    out
}

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
