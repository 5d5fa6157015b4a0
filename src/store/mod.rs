//! Everything Chirpy keeps in PostgreSQL. Handlers speak HTTP; this module speaks SQL, one
//! file per kind of row, so "where is the SQL for chirps?" is `store/chirps.rs` (and the
//! statements it runs from `store/sql/`). It also owns the connection pool and migrations.

mod chirps;
mod statements;
mod tokens;
mod users;

use std::time::Duration;

use sqlx::{
    Connection, PgConnection, PgPool,
    migrate::Migrator,
    postgres::{PgConnectOptions, PgPoolOptions},
};

pub use chirps::{Chirp, ChirpDeletion, Cursor, Order, Page};
use statements::Statements;
pub use users::{Credentials, CredentialsUpdate, User};

use crate::config::Limits;

/// The files in `migrations/`, compiled in.
pub static MIGRATOR: Migrator = sqlx::migrate!();

/// The database: cheap to clone (the pool is shared).
#[derive(Clone, Debug)]
pub struct Store {
    primary: PgPool,
    /// Whether queries may be kept on the server as named statements: not behind a
    /// transaction-mode pooler (see [`statements`]).
    named_statements: bool,
}

impl Store {
    pub fn new(primary: PgPool) -> Self {
        Self {
            primary,
            named_statements: true,
        }
    }

    /// The pool, for the few callers that need it whole (shutdown, tests).
    pub fn pool(&self) -> &PgPool {
        &self.primary
    }

    fn primary(&self) -> Statements<&PgPool> {
        Statements::new(&self.primary, self.named_statements)
    }

    /// A connection of a transaction, as an executor.
    fn on<'c>(&self, conn: &'c mut PgConnection) -> Statements<&'c mut PgConnection> {
        Statements::new(conn, self.named_statements)
    }

    /// Whether the database answers.
    pub async fn ping(&self) -> sqlx::Result<()> {
        sqlx::query_scalar!(r#"select 1 as "one!""#)
            .fetch_one(self.primary())
            .await
            .map(drop)
    }

    /// Deletes every user; their chirps and tokens go with them. Returns how many users.
    pub async fn delete_all_users(&self) -> sqlx::Result<u64> {
        let deleted = sqlx::query!("delete from users").execute(self.primary()).await?;
        Ok(deleted.rows_affected())
    }
}

/// Whether `err` is the violation of the constraint `name`.
fn violates(err: &sqlx::Error, name: &str) -> bool {
    matches!(err, sqlx::Error::Database(db) if db.constraint() == Some(name))
}

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
/// user can connect to (`postgres` on a private cluster).
pub async fn create_database_if_missing(options: &PgConnectOptions, name: &str) -> Result<(), sqlx::Error> {
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
