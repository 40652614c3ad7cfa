//! `aftersales token`: the bearer tokens staff tools authenticate with.

use std::sync::Arc;

use anyhow::{anyhow, Result};
use clap::Subcommand;

#[derive(Subcommand)]
pub(crate) enum TokenCommand {
    /// Create a token and print it once (only its hash is stored).
    Create {
        /// agent, manager, engineer, contractor, analyst, auditor, admin,
        /// owner or system.
        #[arg(long)]
        role: String,
        /// The user recorded as the actor of every event (default: the
        /// token's id).
        #[arg(long)]
        user: Option<String>,
        /// A project a manager or engineer may work on (repeat; none: all).
        #[arg(long = "project")]
        projects: Vec<String>,
        /// The company of a contractor's worker.
        #[arg(long)]
        contractor: Option<String>,
        /// The archive record of an owner.
        #[arg(long)]
        owner: Option<String>,
        /// Days until it expires (none: until revoked).
        #[arg(long)]
        expires: Option<u32>,
    },
    /// List the tokens (never their secrets).
    List,
    /// Revoke a token by its id; it stops working on the next request.
    Revoke {
        /// The id `token list` shows.
        id: String,
    },
}

pub(crate) fn token_store(data: &std::path::Path) -> Result<Arc<application::auth::TokenStore>> {
    Ok(Arc::new(application::auth::TokenStore::open(data)?))
}

pub(crate) fn create_token(
    store: &application::auth::TokenStore,
    role: &str,
    user: Option<String>,
    projects: Vec<String>,
    contractor: Option<String>,
    owner: Option<String>,
    expires: Option<u32>,
) -> Result<(String, application::auth::TokenRecord)> {
    let role: domain::actor::Role = role.parse().map_err(|e| anyhow!("--role: {e}"))?;
    let user = match user {
        Some(u) => domain::ids::UserId::new(u).map_err(|e| anyhow!("--user: {e}"))?,
        None => domain::ids::UserId::new(format!(
            "{}-{}",
            role.as_str(),
            application::jobs::today().format("%Y%m%d")
        ))
        .map_err(|e| anyhow!("{e}"))?,
    };
    let principal = application::auth::Principal {
        user,
        role,
        projects: projects
            .iter()
            .map(|p| domain::ids::ProjectId::new(p.as_str()).map_err(|e| anyhow!("--project: {e}")))
            .collect::<Result<_>>()?,
        contractor: contractor
            .map(|c| domain::ids::ContractorId::new(c).map_err(|e| anyhow!("--contractor: {e}")))
            .transpose()?,
        owner: owner
            .map(|o| domain::ids::OwnerId::new(o).map_err(|e| anyhow!("--owner: {e}")))
            .transpose()?,
    };
    Ok(store.create(principal, expires.map(|d| chrono::TimeDelta::days(i64::from(d))))?)
}

pub(crate) fn token_command(data: &std::path::Path, command: TokenCommand) -> Result<()> {
    let store = token_store(data)?;
    match command {
        TokenCommand::Create {
            role,
            user,
            projects,
            contractor,
            owner,
            expires,
        } => {
            let (token, record) = create_token(&store, &role, user, projects, contractor, owner, expires)?;
            eprintln!(
                "token {} for {} {}{}; shown once, only its hash is kept:",
                record.id,
                record.principal.role,
                record.principal.user,
                record
                    .expires_at
                    .map(|e| format!(", expires {}", e.format("%Y-%m-%d %H:%M UTC")))
                    .unwrap_or_default()
            );
            println!("{token}");
        }
        TokenCommand::List => {
            let now = chrono::Utc::now();
            println!(
                "{:<10}  {:<10}  {:<20}  {:<16}  {:<10}  scope",
                "id", "role", "user", "created", "state"
            );
            for t in store.list()? {
                let state = match (t.revoked_at, t.expires_at) {
                    (Some(_), _) => "revoked".to_string(),
                    (None, Some(e)) if e <= now => "expired".to_string(),
                    (None, Some(e)) => format!("until {}", e.format("%Y-%m-%d")),
                    (None, None) => "active".to_string(),
                };
                let p = &t.principal;
                let scope = match (&p.contractor, &p.owner) {
                    (Some(c), _) => format!("contractor {c}"),
                    (_, Some(o)) => format!("owner {o}"),
                    _ if p.projects.is_empty() => "all projects".to_string(),
                    _ => p.projects.iter().map(|x| x.to_string()).collect::<Vec<_>>().join(","),
                };
                println!(
                    "{:<10}  {:<10}  {:<20}  {:<16}  {:<10}  {scope}",
                    t.id,
                    p.role.as_str(),
                    p.user.to_string(),
                    t.created_at.format("%Y-%m-%d %H:%M"),
                    state
                );
            }
        }
        TokenCommand::Revoke { id } => {
            let record = store.revoke(&id)?;
            println!(
                "revoked {} ({} {})",
                record.id, record.principal.role, record.principal.user
            );
        }
    }
    Ok(())
}

/// One token per role for a newcomer on demo data, printed once.
pub(crate) fn demo_tokens(data: &std::path::Path) -> Result<()> {
    let store = token_store(data)?;
    // On standard output, not in the log stream: secrets never go to logs.
    println!("demo tokens (shown once; GraphiQL Headers tab: {{\"Authorization\": \"Bearer <token>\"}}):");
    for (role, contractor) in [
        ("agent", None),
        ("manager", None),
        ("engineer", None),
        ("contractor", Some("C-001".to_string())),
        ("analyst", None),
        ("auditor", None),
        ("admin", None),
    ] {
        let user = Some(format!("demo-{role}"));
        let (token, _) = create_token(&store, role, user, Vec::new(), contractor, None, Some(30))?;
        println!("  {role:<10} {token}");
    }
    Ok(())
}
