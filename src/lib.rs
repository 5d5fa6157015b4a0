//! Chirpy: a microblogging API server. `main` only initialises logging, reads the
//! configuration and calls [`run`].

pub mod allowed_methods;
pub mod api;
pub mod auth;
pub mod config;
pub mod db;
pub mod domain;
pub mod embedded_pg;
pub mod error;
pub mod middleware;
pub mod os;
pub mod startup;
pub mod state;
pub mod telemetry;

use std::error::Error;

use config::{Config, Platform};
use embedded_pg::EmbeddedPostgres;
use sqlx::postgres::PgConnectOptions;

/// Where `cargo run` keeps its database when no `DATABASE_URL` is set.
pub const DEV_DATA_DIR: &str = ".data/postgres";
const DEV_DATABASE: &str = "chirpy";

/// Brings up the database (the embedded one if no `DATABASE_URL`), applies migrations,
/// serves until SIGINT/SIGTERM, then shuts everything down in order.
pub async fn run(config: Config) -> Result<(), Box<dyn Error>> {
    if config.platform == Platform::Dev {
        tracing::warn!("PLATFORM=dev: /admin/reset is enabled");
    }
    let (options, embedded) = match &config.database_url {
        Some(url) => (url.expose().parse::<PgConnectOptions>()?, None),
        None => {
            let cluster = EmbeddedPostgres::start_dev(std::path::Path::new(DEV_DATA_DIR))?;
            db::create_database_if_missing(&cluster.connect_options("postgres"), DEV_DATABASE).await?;
            (cluster.connect_options(DEV_DATABASE), Some(cluster))
        }
    };
    let served = serve(&config, options).await;
    if let Some(cluster) = embedded {
        cluster.stop()?;
    }
    served
}

async fn serve(config: &Config, options: PgConnectOptions) -> Result<(), Box<dyn Error>> {
    let pool = db::connect(options, &config.limits).await?;
    db::MIGRATOR.run(&pool).await?;
    tracing::info!("database migrated");
    let state = state::AppState::new(config, pool.clone()).map_err(|err| err as Box<dyn Error>)?;
    let server = startup::Server::bind(format!("{}:{}", config.host, config.port), state, config.limits).await?;
    if let Some(addr) = server.local_addr() {
        tracing::info!(
            "listening on http://{addr} (API explorer at http://{addr}/docs, web app at http://{addr}/app/)"
        );
    }
    server.run_until(startup::shutdown_signal()).await?;
    pool.close().await;
    tracing::info!("stopped");
    Ok(())
}
