//! Chirpy: a microblogging API server. `main` only parses the command line, initialises
//! logging, reads the configuration and calls [`run`].

pub mod api;
pub mod auth;
pub mod background;
pub mod cache;
pub mod changes;
pub mod cli;
pub mod client_address;
pub mod config;
pub mod diagnosis;
pub mod domain;
pub mod error;
pub mod feed;
pub mod metrics;
pub mod middleware;
pub mod observe;
pub mod os;
pub mod rate_limits;
pub mod secret;
pub mod server;
pub mod spec_rules;
pub mod startup;
pub mod state;
pub mod store;
pub mod telemetry;
pub mod visits;
pub mod web_app;

use std::{error::Error, path::Path};

use changes::Subscribers;
use cli::Launch;
use config::{Config, Platform};
use devpg::Cluster;
use sqlx::postgres::PgConnectOptions;
use state::AppState;
use store::{Change, Databases, Store};

/// Where `cargo run` keeps its database when no `DATABASE_URL` is set.
pub const DEV_DATA_DIR: &str = ".data/postgres";
const DEV_DATABASE: &str = "chirpy";

/// Brings up the database (a private cluster if no `DATABASE_URL`), applies migrations,
/// serves until SIGINT/SIGTERM, then shuts everything down in order.
pub async fn run(config: Config, launch: Launch) -> Result<(), Box<dyn Error>> {
    if config.platform == Platform::Dev {
        tracing::warn!("PLATFORM=dev: /admin/reset is enabled");
    }
    let (databases, cluster) = match &config.database.url {
        Some(_) => (databases(&config)?, None),
        None => {
            let cluster = private_cluster(launch.throwaway_db)?;
            let server = cluster.url("postgres").parse::<PgConnectOptions>()?;
            store::create_database_if_missing(&server, DEV_DATABASE).await?;
            let databases = Databases::single(server.database(DEV_DATABASE), config.database.pool);
            (databases, Some(cluster))
        }
    };
    let database_url = cluster.as_ref().map(|cluster| cluster.url(DEV_DATABASE));
    let served = serve(&config, &databases, &launch, database_url).await;
    if let Some(cluster) = cluster {
        cluster.stop()?;
        tracing::info!("PostgreSQL stopped");
    }
    served
}

/// The databases `DATABASE_URL`, `DATABASE_DIRECT_URL` and `DATABASE_REPLICA_URL` name.
fn databases(config: &Config) -> Result<Databases, sqlx::Error> {
    let database = &config.database;
    let parse = |url: &config::Secret| url.expose().parse::<PgConnectOptions>();
    let primary = parse(database.url.as_ref().expect("only called with DATABASE_URL"))?;
    Ok(Databases {
        direct: database
            .direct_url
            .as_ref()
            .map(parse)
            .transpose()?
            .unwrap_or_else(|| primary.clone()),
        replica: database.replica_url.as_ref().map(parse).transpose()?,
        primary,
        mode: database.mode,
        pool: database.pool,
        replica_max_lag: database.replica_max_lag,
    })
}

/// The dev cluster under [`DEV_DATA_DIR`], or a throwaway one.
fn private_cluster(throwaway: bool) -> Result<Cluster, devpg::Error> {
    let cluster = if throwaway {
        Cluster::throwaway()?
    } else {
        Cluster::dev(Path::new(DEV_DATA_DIR))?
    };
    if !cluster.data_dir().ends_with(DEV_DATA_DIR) && !throwaway {
        tracing::info!(data_dir = %cluster.data_dir().display(),
            "the postgres user cannot use the project directory; keeping the dev database in the temp dir");
    }
    let state = if cluster.started_here() {
        "started"
    } else {
        "already running"
    };
    tracing::info!(url = %cluster.url(DEV_DATABASE), "PostgreSQL {state}");
    Ok(cluster)
}

/// An instance ready to serve: its listener bound, its background work started.
pub struct Instance {
    pub server: startup::Server,
    pub state: AppState,
}

/// Everything an instance does before serving, the same for the binary and every test:
/// migrate, check the database answers, start listening for other instances' changes
/// and the housekeeping, and bind `config`'s address.
pub async fn start(config: &Config, databases: &Databases) -> Result<Instance, Box<dyn Error>> {
    let store = Store::open(databases);
    store.migrate().await?;
    // Fail now on a DATABASE_URL that cannot work, not on the first request.
    store.ping().await?;
    // Tokens of suspended users are refused from the first request on.
    store.load_suspended().await?;
    let state = AppState::new(config, store.clone()).map_err(|err| err as Box<dyn Error>)?;
    let subscribers = Subscribers {
        store: store.clone(),
        visits: state.visits.clone(),
        cache: state.cache.clone(),
        feed: state.feed.clone(),
    };
    changes::spawn(store, subscribers);
    // The log is the backstop for announcements that never arrived (a sender that died).
    let (cache, deletions) = (state.cache.clone(), state.store.clone());
    state.feed.spawn_tail(move |event| match event.change {
        Change::Posted(ref chirp) => cache.logged(chirp.id, false, chirp.reply_to),
        Change::Deleted { chirp_id, reply_to } => {
            cache.logged(chirp_id, true, reply_to);
            deletions.chirp_deleted(chirp_id);
        }
        Change::Followed { .. } | Change::Unfollowed { .. } | Change::Notified { .. } => {}
    });
    background::spawn_housekeeping(&state);
    let server = startup::Server::bind(format!("{}:{}", config.host, config.port), state.clone(), config).await?;
    Ok(Instance { server, state })
}

async fn serve(
    config: &Config,
    databases: &Databases,
    launch: &Launch,
    database_url: Option<String>,
) -> Result<(), Box<dyn Error>> {
    let Instance { server, state } = start(config, databases).await?;
    let signalled = startup::shutdown_signal()?;
    let addr = server.local_addr().ok_or("the listener has no socket address")?;
    tracing::info!("listening on http://{addr} (API explorer at http://{addr}/docs, web app at http://{addr}/app/)");
    if let Some(metrics) = server.metrics_addr() {
        tracing::info!("metrics at http://{metrics}/metrics");
    }
    if let Some(path) = &launch.ready_file {
        let ready = serde_json::json!({
            "url": format!("http://{addr}"),
            "metrics_url": server.metrics_addr().map(|addr| format!("http://{addr}/metrics")),
            "database": database_url,
            "pid": std::process::id(),
        });
        devpg::write_ready_file(path, &ready).map_err(|err| format!("writing {}: {err}", path.display()))?;
    }
    let feed = state.feed.clone();
    let shutdown = async move {
        signalled.await;
        // Live feeds would otherwise hold the graceful shutdown open to its end.
        feed.close();
    };
    server.run_until(shutdown).await?;
    if let Err(err) = state.visits.flush().await {
        tracing::warn!(error = %err, "could not add the last visits to the shared count");
    }
    state.store.close().await;
    tracing::info!("stopped");
    Ok(())
}
