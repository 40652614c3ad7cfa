//! `aftersales`: the operator's binary: the GraphQL server (`serve`), demo
//! data (`demo`), view rebuilds (`rebuild`), a ticket's audit history in
//! the terminal (`history`), log integrity (`verify`), the repair of a
//! damaged write-ahead file (`repair`), report exports (`export`), the
//! schema (`schema`) and the event log's low-level tools (`log`). The data
//! folder holds the log (`<data>/log`), its keys (`<data>/keys`) and the
//! views (`<data>/views`).
//!
//! This file parses the command line and dispatches; each command lives in
//! a module of its own, named after it.

mod demo;
mod erase;
mod export;
mod history;
mod import;
mod log;
mod open;
mod rebuild;
mod reference;
mod repair;
mod serve;
mod token;

use std::path::PathBuf;
use std::process::ExitCode;

use anyhow::{bail, Context, Result};
use clap::{Parser, Subcommand};

// sled and the views allocate on every write; mimalloc rebuilt the views 1.6x
// faster than glibc malloc in the views benchmark (docs/benchmarks.md).
#[global_allocator]
static GLOBAL: mimalloc::MiMalloc = mimalloc::MiMalloc;

#[derive(Parser)]
#[command(
    name = "aftersales",
    version,
    about = "After-sales service system: server and operator tools"
)]
struct Cli {
    /// The data folder (created if missing).
    #[arg(long, env = "AFTERSALES_DATA", global = true)]
    data: Option<PathBuf>,
    /// A TOML file with `data`, `listen` and `demo` (flags and environment
    /// variables take precedence over it).
    #[arg(long, env = "AFTERSALES_CONFIG", global = true)]
    config: Option<PathBuf>,
    #[command(subcommand)]
    command: Command,
}

#[derive(Subcommand)]
enum Command {
    /// Run the GraphQL server (GraphiQL at /graphiql, the API at /graphql, live
    /// subscriptions at /graphql/ws).
    Serve {
        /// Address to listen on [default: 127.0.0.1:8080].
        #[arg(long, env = "AFTERSALES_LISTEN")]
        listen: Option<std::net::SocketAddr>,
        /// Fill an empty data folder with the demo dataset first (and print
        /// a token per role, once).
        #[arg(long, env = "AFTERSALES_DEMO")]
        demo: bool,
        /// Take the caller's identity from x-user-id / x-user-role /
        /// x-contractor-id / x-owner-id / x-projects headers instead of
        /// tokens: only behind a gateway that authenticates every request
        /// and sets those headers itself.
        #[arg(long, env = "AFTERSALES_TRUST_IDENTITY_HEADERS")]
        trust_identity_headers: bool,
        #[command(flatten)]
        exposure: serve::Exposure,
    },
    /// Manage the bearer tokens staff tools authenticate with.
    #[command(subcommand)]
    Token(token::TokenCommand),
    /// Fill an empty data folder with a realistic generated dataset (four
    /// projects, 15,000 tickets over the past year).
    Demo {
        /// Tickets to generate.
        #[arg(long, default_value_t = 15_000)]
        tickets: u32,
        /// Random seed.
        #[arg(long, default_value_t = 1)]
        seed: u64,
        /// The year of data ends the day before this date (YYYY-MM-DD,
        /// Asia/Shanghai); default today. The same seed and date give the
        /// same data on any day.
        #[arg(long, value_name = "DATE")]
        until: Option<chrono::NaiveDate>,
    },
    /// Rebuild views from the whole log (all, or one), showing progress.
    /// Run it with the server stopped; the server rebuilds a view by itself
    /// when its version changes.
    Rebuild {
        /// Only this view (tickets, sla, satisfaction, contractors, defects).
        #[arg(long)]
        view: Option<String>,
    },
    /// Print a ticket's audit history.
    History {
        /// The ticket number.
        ticket: String,
    },
    /// Check the log's integrity: every event readable, positions dense,
    /// stream indexes consistent, every payload of the domain's streams
    /// decodable (each one that is not is named). Exits non-zero on damage.
    Verify,
    /// Mend a log whose write-ahead file is damaged (the open refuses it),
    /// with the server stopped: copies the log's folder to
    /// <data>/log/repair-N first, keeps every valid frame and every record
    /// that still checks, puts a placeholder (stream $lost) at each
    /// position truly lost, opens and verifies the log, prints the report
    /// (also in repair-N/report.txt) and, if events were lost, rebuilds
    /// the views without them. Without damage it changes nothing.
    Repair,
    /// Write a report as CSV to standard output.
    Export {
        /// monthly (period YYYY-MM) or weekly (period YYYY-Www).
        #[arg(value_parser = ["monthly", "weekly"])]
        report: String,
        /// The project.
        #[arg(long)]
        project: String,
        /// The month or ISO week.
        #[arg(long)]
        period: String,
    },
    /// Import projects, buildings, units or owners from a CSV file (a
    /// header row names the columns; see the README). Every row is checked
    /// first; if any is wrong, all errors are listed and nothing is
    /// imported. A re-run of the same file skips what is already in.
    Import {
        /// projects, buildings, units or owners.
        kind: String,
        /// The CSV file (UTF-8).
        file: PathBuf,
        /// Recorded as the acting user of every event.
        #[arg(long, default_value = "import")]
        user: String,
    },
    /// Erase an owner's personal data at their request (PIPL art. 47):
    /// records the erasure, then destroys the keys that seal their name,
    /// phone numbers and ID number in the log and the views. Histories,
    /// SLA figures and reports stay as they were. Run with the server
    /// stopped; a re-run completes an interrupted erasure.
    EraseOwner {
        /// The owner's archive id.
        owner: String,
        /// Reference of the request (letter, form or ticket number).
        #[arg(long)]
        request: String,
        /// Recorded as the acting user.
        #[arg(long, default_value = "admin")]
        user: String,
    },
    /// Business calendars: publish a new version (a year's holiday
    /// arrangement), list the published ones.
    #[command(subcommand)]
    Calendar(reference::ReferenceCli),
    /// Service policies (response targets): publish a new version, list.
    #[command(subcommand)]
    Policy(reference::ReferenceCli),
    /// Warranty rules (warranty periods): publish a new version, list.
    #[command(subcommand)]
    Warranty(reference::ReferenceCli),
    /// Print the GraphQL schema (SDL), as committed in docs/schema.graphql.
    Schema,
    /// Work with the event log directly.
    #[command(subcommand)]
    Log(log::LogCommand),
}

/// The optional configuration file.
#[derive(serde::Deserialize, Default)]
#[serde(deny_unknown_fields)]
struct ConfigFile {
    data: Option<PathBuf>,
    listen: Option<std::net::SocketAddr>,
    demo: Option<bool>,
}

fn read_config(path: Option<&std::path::Path>) -> Result<ConfigFile> {
    let Some(path) = path else {
        return Ok(ConfigFile::default());
    };
    let text = std::fs::read_to_string(path).with_context(|| format!("reading {}", path.display()))?;
    toml::from_str(&text).with_context(|| format!("{} is not a valid configuration file", path.display()))
}

async fn run(cli: Cli) -> Result<()> {
    let config = read_config(cli.config.as_deref())?;
    let data = cli
        .data
        .or(config.data.clone())
        .unwrap_or_else(|| PathBuf::from("./data"));
    if data.as_os_str().is_empty() {
        bail!("--data must not be empty");
    }
    let data = data.as_path();
    // Commands that read a log refuse a folder that holds none (a mistyped
    // --data must not create an empty store and report it as fine).
    let reads_a_log = match &cli.command {
        Command::Rebuild { .. }
        | Command::History { .. }
        | Command::Verify
        | Command::Repair
        | Command::Export { .. }
        | Command::EraseOwner { .. } => true,
        Command::Calendar(_) | Command::Policy(_) | Command::Warranty(_) => true,
        Command::Log(c) => !matches!(c, log::LogCommand::Append { .. }),
        _ => false,
    };
    if reads_a_log && !data.join("log").join("db").is_file() {
        bail!(
            "{} holds no event log (there is no {}): check --data; `aftersales serve` and `aftersales demo` start a new one",
            data.display(),
            data.join("log").join("db").display()
        );
    }
    let hint = match &cli.command {
        Command::History { ticket } => Some(format!(
            "ask the running server instead: POST /graphql {{ ticketHistory(id: \"{ticket}\") {{ events {{ occurredAt actor type summary }} }} }} with a token (aftersales token create)"
        )),
        Command::Export { report, .. } => Some(format!(
            "ask the running server instead: POST /graphql {{ {} }} with a token (aftersales token create)",
            if report == "weekly" {
                "weeklyRepairReport(projectId: …, week: …) { … }"
            } else {
                "monthlyReport(projectId: …, month: …) { … }"
            }
        )),
        Command::Verify | Command::Log(log::LogCommand::Verify) => Some(
            "stop the server first (verify reads every byte while nothing writes); while it runs, /readyz and /metrics show its state"
                .to_string(),
        ),
        _ => None,
    };
    let outcome = dispatch(cli.command, config, data).await;
    match (outcome, hint) {
        (Err(e), Some(hint)) if format!("{e:#}").contains("in use by another process") => bail!(
            "the data folder {} is in use by a running `aftersales serve` (or another command): {hint}",
            data.display()
        ),
        (outcome, _) => outcome,
    }
}

async fn dispatch(command: Command, config: ConfigFile, data: &std::path::Path) -> Result<()> {
    match command {
        Command::Serve {
            listen,
            demo: with_demo,
            trust_identity_headers,
            exposure,
        } => {
            let listen = listen
                .or(config.listen)
                .unwrap_or_else(|| std::net::SocketAddr::from(([127, 0, 0, 1], 8080)));
            serve::serve(
                data,
                listen,
                with_demo || config.demo.unwrap_or(false),
                trust_identity_headers,
                exposure,
            )
            .await
        }
        Command::Token(command) => token::token_command(data, command),
        Command::Demo { tickets, seed, until } => demo::demo(data, tickets, seed, until).await,
        Command::Rebuild { view } => rebuild::rebuild(data, view).await,
        Command::History { ticket } => history::history(data, &ticket),
        Command::Verify => log::log_command(data, log::LogCommand::Verify).await,
        Command::Repair => repair::repair(data).await,
        Command::Export {
            report,
            project,
            period,
        } => export::export(data, &report, &project, &period).await,
        Command::Import { kind, file, user } => import::import(data, &kind, &file, &user).await,
        Command::EraseOwner { owner, request, user } => erase::erase_owner(data, &owner, &request, &user).await,
        Command::Calendar(c) => reference::reference_command(data, domain::reference::ReferenceKind::Calendar, c).await,
        Command::Policy(c) => reference::reference_command(data, domain::reference::ReferenceKind::Policy, c).await,
        Command::Warranty(c) => reference::reference_command(data, domain::reference::ReferenceKind::Warranty, c).await,
        Command::Schema => {
            print!("{}", api::schema::sdl());
            Ok(())
        }
        Command::Log(command) => log::log_command(data, command).await,
    }
}

#[tokio::main]
async fn main() -> ExitCode {
    let cli = Cli::parse();
    // Structured logs on standard error; RUST_LOG filters (default info).
    tracing_subscriber::fmt()
        .with_env_filter(
            tracing_subscriber::EnvFilter::try_from_default_env()
                .unwrap_or_else(|_| tracing_subscriber::EnvFilter::new("info")),
        )
        .with_writer(std::io::stderr)
        .init();
    let result = run(cli).await;
    match result {
        Ok(()) => ExitCode::SUCCESS,
        Err(e) => {
            // The whole chain, on one line, each cause once, without a
            // backtrace.
            eprintln!("error: {}", application::error::chain_text(e.as_ref()));
            ExitCode::FAILURE
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_config_file_is_read_strictly() {
        let dir = tempfile::tempdir().unwrap_or_else(|e| panic!("{e}"));
        let good = dir.path().join("good.toml");
        std::fs::write(
            &good,
            "data = \"/srv/aftersales\"\nlisten = \"0.0.0.0:9000\"\ndemo = true\n",
        )
        .unwrap_or_else(|e| panic!("{e}"));
        let c = read_config(Some(&good)).unwrap_or_else(|e| panic!("{e:#}"));
        assert_eq!(c.data, Some(PathBuf::from("/srv/aftersales")));
        assert_eq!(c.listen, Some(std::net::SocketAddr::from(([0, 0, 0, 0], 9000))));
        assert_eq!(c.demo, Some(true));
        let typo = dir.path().join("typo.toml");
        std::fs::write(&typo, "listn = \"0.0.0.0:9000\"\n").unwrap_or_else(|e| panic!("{e}"));
        let e = read_config(Some(&typo))
            .err()
            .map(|e| format!("{e:#}"))
            .unwrap_or_default();
        assert!(e.contains("listn"), "{e}");
        assert!(read_config(Some(&dir.path().join("missing.toml"))).is_err());
        assert!(read_config(None).is_ok_and(|c| c.data.is_none()));
    }
}
