//! `aftersales serve`: the GraphQL server over a data folder, until SIGINT or SIGTERM.

use crate::open::{catch_up, open_service};
use eventlog::EventStore;
use std::time::Duration;

use anyhow::{bail, Context, Result};

/// How `serve` exposes the API (production: no introspection, no
/// GraphiQL, the CORS origins of the staff tools).
#[derive(clap::Args, Clone)]
pub(crate) struct Exposure {
    /// Refuse schema introspection.
    #[arg(long, env = "AFTERSALES_NO_INTROSPECTION")]
    no_introspection: bool,
    /// Do not serve GraphiQL at /graphiql.
    #[arg(long, env = "AFTERSALES_NO_GRAPHIQL")]
    no_graphiql: bool,
    /// An origin browsers may call the API from (repeat; none: same
    /// origin only).
    #[arg(long = "cors-origin", env = "AFTERSALES_CORS_ORIGINS", value_delimiter = ',')]
    cors_origins: Vec<String>,
    /// Seconds a request may take before it is answered 504 (TIMEOUT) and
    /// its work is stopped.
    #[arg(long, env = "AFTERSALES_REQUEST_TIMEOUT", default_value_t = 30)]
    request_timeout: u64,
    /// Most a GraphQL document may cost, in points (see the README);
    /// costlier documents are refused QUERY_TOO_COSTLY before they run.
    #[arg(long, env = "AFTERSALES_MAX_COST", default_value_t = api::cost::MAX_COST)]
    max_cost: usize,
    /// Largest GraphQL response, in bytes; a larger one is refused
    /// RESPONSE_TOO_LARGE.
    #[arg(long, env = "AFTERSALES_MAX_RESPONSE_BYTES", default_value_t = api::server::MAX_RESPONSE_BYTES)]
    max_response_bytes: usize,
    /// GraphQL requests executing at once (default: four per core, 8 to
    /// 64); more wait for a turn.
    #[arg(long, env = "AFTERSALES_MAX_RUNNING")]
    max_running: Option<usize>,
    /// GraphQL requests waiting for a turn; more are refused BUSY (503).
    #[arg(long, env = "AFTERSALES_MAX_QUEUED", default_value_t = 256)]
    max_queued: usize,
    /// Requests per second per caller, sustained (0: no limit).
    #[arg(long, env = "AFTERSALES_RATE", default_value_t = 50.0)]
    rate: f64,
    /// Requests per caller at once after a quiet spell.
    #[arg(long, env = "AFTERSALES_BURST", default_value_t = 100.0)]
    burst: f64,
}

pub(crate) async fn shutdown_signal() {
    let interrupt = tokio::signal::ctrl_c();
    #[cfg(unix)]
    {
        let mut term = match tokio::signal::unix::signal(tokio::signal::unix::SignalKind::terminate()) {
            Ok(s) => s,
            Err(_) => {
                let _ = interrupt.await;
                return;
            }
        };
        tokio::select! {
            _ = interrupt => {}
            _ = term.recv() => {}
        }
    }
    #[cfg(not(unix))]
    let _ = interrupt.await;
}

pub(crate) async fn serve(
    data: &std::path::Path,
    listen: std::net::SocketAddr,
    with_demo: bool,
    trust_identity_headers: bool,
    exposure: Exposure,
) -> Result<()> {
    if exposure.request_timeout == 0 {
        bail!("--request-timeout must be at least 1 second");
    }
    if exposure.rate < 0.0 || (exposure.rate > 0.0 && exposure.burst < 1.0) {
        bail!("--rate must be 0 (off) or positive, with --burst at least 1");
    }
    if exposure.max_cost == 0 || exposure.max_response_bytes == 0 || exposure.max_running == Some(0) {
        bail!("--max-cost, --max-response-bytes and --max-running must be at least 1");
    }
    if with_demo {
        let store = application::jobs::open_log(data)?;
        let empty = store.head().is_none();
        store.close()?;
        drop(store);
        if empty {
            crate::demo::demo(data, 15_000, 1, None).await?;
            if !trust_identity_headers {
                crate::token::demo_tokens(data)?;
            }
        } else {
            tracing::info!("the data folder already holds events; --demo adds nothing");
        }
    }
    let service = open_service(data)?;
    // A new data folder (or one from before reference data was stored)
    // records the bundled calendar, policy and warranty rules as their
    // first published versions.
    let bundled = service.publish_bundled().await?;
    if !bundled.is_empty() {
        tracing::info!(published = bundled.join(", "), "recorded the bundled reference data");
    }
    let listener = tokio::net::TcpListener::bind(listen)
        .await
        .with_context(|| format!("listening on {listen}"))?;
    tracing::info!(
        data = %data.display(),
        "serving on http://{} (GraphiQL at /graphiql, API at /graphql, subscriptions at /graphql/ws)",
        listener.local_addr()?
    );
    // Queries are served while the views catch up; /readyz says when they
    // are live.
    let watcher = {
        let service = service.clone();
        tokio::spawn(async move {
            if let Err(e) = catch_up(&service).await {
                tracing::error!("{e:#}");
            }
        })
    };
    let identity = if trust_identity_headers {
        tracing::warn!("identity is taken from request headers: serve only behind a gateway that authenticates");
        api::server::Identity::TrustedHeaders
    } else {
        api::server::Identity::Tokens(crate::token::token_store(data)?)
    };
    let options = api::server::ServerOptions {
        identity,
        introspection: !exposure.no_introspection,
        graphiql: !exposure.no_graphiql,
        cors_origins: exposure.cors_origins,
        request_timeout: Duration::from_secs(exposure.request_timeout),
        rate: (exposure.rate > 0.0).then_some(api::limits::Rate {
            per_second: exposure.rate,
            burst: exposure.burst,
        }),
        document_limits: api::cost::DocumentLimits {
            max_cost: exposure.max_cost,
            ..Default::default()
        },
        max_response_bytes: exposure.max_response_bytes,
        concurrency: {
            let default = api::limits::Concurrency::default();
            api::limits::Concurrency {
                running: exposure.max_running.unwrap_or(default.running),
                queued: exposure.max_queued,
                ..default
            }
        },
    };
    axum::serve(listener, api::server::router_with(service.clone(), options))
        .with_graceful_shutdown(shutdown_signal())
        .await?;
    watcher.abort();
    tracing::info!("stopping: in-flight requests done; flushing the log");
    service.shutdown().await?;
    tracing::info!("stopped");
    Ok(())
}
