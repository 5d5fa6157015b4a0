//! The connection pool and the schema's migrations.

use std::time::Duration;

use sqlx::{
    PgPool,
    migrate::Migrator,
    postgres::{PgConnectOptions, PgPoolOptions},
};

/// The files in `migrations/`, compiled in.
pub static MIGRATOR: Migrator = sqlx::migrate!();

/// A pool that gives up on a connection after a few seconds rather than queueing forever.
pub async fn connect(options: PgConnectOptions) -> Result<PgPool, sqlx::Error> {
    PgPoolOptions::new()
        .max_connections(10)
        .acquire_timeout(Duration::from_secs(5))
        .connect_with(options)
        .await
}

/// Creates `name` on the server unless it exists. `options` may name any database the
/// user can connect to (`postgres` on the embedded cluster).
pub async fn create_database_if_missing(options: &PgConnectOptions, name: &str) -> Result<(), sqlx::Error> {
    use sqlx::{Connection, PgConnection};
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
