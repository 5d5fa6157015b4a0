//! The connection pool and the schema's migrations.

use std::time::Duration;

use sqlx::{
    Connection, PgPool,
    migrate::Migrator,
    postgres::{PgConnectOptions, PgPoolOptions},
};

use crate::config::Limits;

/// The files in `migrations/`, compiled in.
pub static MIGRATOR: Migrator = sqlx::migrate!();

/// A pool of `DB_MAX_CONNECTIONS` that gives up on a connection after
/// `DB_ACQUIRE_TIMEOUT_MS` rather than queueing forever (the request then gets 503).
/// Created lazily: the server starts, and recovers, whether or not the database is up.
pub fn pool(options: PgConnectOptions, limits: &Limits) -> PgPool {
    PgPoolOptions::new()
        .max_connections(limits.db_max_connections)
        .acquire_timeout(limits.db_acquire_timeout)
        // sqlx pings every connection it hands out: a round trip per request. Only one that
        // sat idle long enough to have gone stale (a database restart) is checked; a dead one
        // is dropped and another taken.
        .test_before_acquire(false)
        .before_acquire(|conn, meta| {
            Box::pin(async move { Ok(meta.idle_for < STALE_AFTER || conn.ping().await.is_ok()) })
        })
        .connect_lazy_with(options)
}

/// A connection idle this long is pinged before use.
const STALE_AFTER: Duration = Duration::from_millis(500);

/// A pool whose first connection has been made: startup fails fast on a wrong URL.
pub async fn connect(options: PgConnectOptions, limits: &Limits) -> Result<PgPool, sqlx::Error> {
    let pool = pool(options, limits);
    pool.acquire().await?;
    Ok(pool)
}

/// Creates `name` on the server unless it exists. `options` may name any database the
/// user can connect to (`postgres` on the embedded cluster).
pub async fn create_database_if_missing(options: &PgConnectOptions, name: &str) -> Result<(), sqlx::Error> {
    use sqlx::PgConnection;
    let mut conn = PgConnection::connect_with(options).await?;
    let exists: bool = sqlx::query_scalar("select exists(select 1 from pg_database where datname = $1)")
        .bind(name)
        .fetch_one(&mut conn)
        .await?;
    if !exists {
        // Identifiers cannot be bound as parameters; it is quoted instead.
        let statement = format!("create database \"{}\"", name.replace('"', "\"\""));
        let created = sqlx::query(sqlx::AssertSqlSafe(statement)).execute(&mut conn).await;
        match created {
            // Another instance created it between our check and our create: fine.
            Err(sqlx::Error::Database(err)) if err.code().as_deref() == Some("42P04") => {}
            other => {
                other?;
            }
        }
    }
    conn.close().await
}
