//! Chirpy: a microblogging API server. `main` only parses the command line, initialises
//! logging, reads the configuration and calls [`run`].

pub mod allowed_methods;
pub mod api;
pub mod auth;
pub mod cli;
pub mod config;
pub mod domain;
pub mod error;
pub mod middleware;
pub mod os;
pub mod secret;
pub mod startup;
pub mod state;
pub mod store;
pub mod telemetry;

use std::{error::Error, path::Path};

use cli::Launch;
use config::{Config, Platform};
use devpg::Cluster;
use sqlx::postgres::PgConnectOptions;

/// Where `cargo run` keeps its database when no `DATABASE_URL` is set.
pub const DEV_DATA_DIR: &str = ".data/postgres";
const DEV_DATABASE: &str = "chirpy";

/// Brings up the database (a private cluster if no `DATABASE_URL`), applies migrations,
/// serves until SIGINT/SIGTERM, then shuts everything down in order.
pub async fn run(config: Config, launch: Launch) -> Result<(), Box<dyn Error>> {
    if config.platform == Platform::Dev {
        tracing::warn!("PLATFORM=dev: /admin/reset is enabled");
    }
    let (options, cluster) = match &config.database_url {
        Some(url) => (url.expose().parse::<PgConnectOptions>()?, None),
        None => {
            let cluster = private_cluster(launch.throwaway_db)?;
            let server = cluster.url("postgres").parse::<PgConnectOptions>()?;
            store::create_database_if_missing(&server, DEV_DATABASE).await?;
            (server.database(DEV_DATABASE), Some(cluster))
        }
    };
    let database_url = cluster.as_ref().map(|cluster| cluster.url(DEV_DATABASE));
    let served = serve(&config, options, &launch, database_url).await;
    if let Some(cluster) = cluster {
        cluster.stop()?;
        tracing::info!("PostgreSQL stopped");
    }
    served
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

async fn serve(
    config: &Config,
    options: PgConnectOptions,
    launch: &Launch,
    database_url: Option<String>,
) -> Result<(), Box<dyn Error>> {
    let pool = store::connect(options, &config.limits).await?;
    store::MIGRATOR.run(&pool).await?;
    tracing::info!("database migrated");
    let state = state::AppState::new(config, store::Store::new(pool.clone())).map_err(|err| err as Box<dyn Error>)?;
    let server = startup::Server::bind(format!("{}:{}", config.host, config.port), state, config.limits).await?;
    let addr = server.local_addr().ok_or("the listener has no socket address")?;
    tracing::info!("listening on http://{addr} (API explorer at http://{addr}/docs, web app at http://{addr}/app/)");
    if let Some(path) = &launch.ready_file {
        let ready = serde_json::json!({
            "url": format!("http://{addr}"),
            "database": database_url,
            "pid": std::process::id(),
        });
        devpg::write_ready_file(path, &ready).map_err(|err| format!("writing {}: {err}", path.display()))?;
    }
    server.run_until(startup::shutdown_signal()).await?;
    pool.close().await;
    tracing::info!("stopped");
    Ok(())
}
