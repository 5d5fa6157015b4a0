//! Everything Chirpy keeps in PostgreSQL. Handlers speak HTTP; this module speaks SQL, one
//! file per kind of row, so "where is the SQL for chirps?" is `store/chirps.rs` (and the
//! statements it runs from `store/sql/`). It also owns the connection pool and migrations.

mod batch;
mod chirps;
mod counters;
mod events;
mod follows;
mod freshness;
mod health;
mod idempotency;
mod likes;
mod moderation;
mod notifications;
mod paging;
mod posting;
mod profiles;
mod rate_counts;
mod replica;
mod safety;
mod search;
mod sessions;
mod statements;
mod threads;
mod throttle;
mod timeline;
mod tokens;
mod users;
mod waits;

use std::{sync::Arc, time::Duration};

use health::Health;
use sqlx::{
    Connection, PgConnection, PgPool,
    migrate::{MigrateError, Migrator},
    postgres::{PgConnectOptions, PgPoolOptions},
};
use uuid::Uuid;

pub use batch::BatchStats;
use batch::{Batcher, Lane};
pub use chirps::{Chirp, ChirpDeletion};
use chirps::{ChirpsById, CountsById};
pub use events::{Batch, Change, Event, Position};
pub use follows::{Follow, FollowList};
pub use idempotency::KEY_LIFETIME;
use likes::Likes;
pub use likes::{LikeChange, LikeOutcome};
use moderation::Suspended;
pub use moderation::{Filed, Report};
pub use notifications::{Marker, Notification};
pub use paging::{Cursor, Order, Page};
use posting::Posts;
pub use posting::{NewPost, PostKey, PostOutcome};
pub use profiles::{Profile, ProfileChanges, ProfileUpdate, UserRef};
use rate_counts::RateCounts;
pub use rate_counts::{Counted, Hit};
use replica::Replica;
pub use safety::{Shield, ShieldList, Shielded};
pub use search::is_timeout as search_timed_out;
pub use sessions::{MOST_SESSIONS, Session};
use statements::Statements;
pub use threads::{MOST_ANCESTORS, Thread};
pub use timeline::home_start;
pub use tokens::{Refresh, Rotation};
pub use users::{Credentials, CredentialsUpdate, SignUp, User};
pub use waits::Waits;

/// The files in `migrations/`, compiled in.
pub static MIGRATOR: Migrator = sqlx::migrate!();

/// The channel every change is announced on (`pg_notify`), for the other instances.
pub const CHANNEL: &str = "chirpy";

/// How the connection pool behaves.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct PoolSettings {
    /// `DB_MAX_CONNECTIONS`: the pool's size.
    pub max_connections: u32,
    /// `DB_ACQUIRE_TIMEOUT_MS`: how long a request waits for a connection before 503.
    pub acquire_timeout: Duration,
}

/// What stands between Chirpy and PostgreSQL (`DATABASE_POOL_MODE`).
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub enum PoolMode {
    /// Direct connections, or a pooler in session mode: statements are kept and reused.
    #[default]
    Session,
    /// A pooler in transaction mode (PgBouncer): every statement is sent unnamed, and
    /// nothing that needs a session goes through it.
    Transaction,
}

/// Where the databases are.
#[derive(Debug, Clone)]
pub struct Databases {
    /// Everything by default (`DATABASE_URL`).
    pub primary: PgConnectOptions,
    /// Work that needs a session of its own: migrations' advisory lock, LISTEN
    /// (`DATABASE_DIRECT_URL`, default the primary).
    pub direct: PgConnectOptions,
    /// Chirp reads, when there is one (`DATABASE_REPLICA_URL`).
    pub replica: Option<PgConnectOptions>,
    pub mode: PoolMode,
    pub pool: PoolSettings,
    /// A replica further behind than this is not read from (`DB_REPLICA_MAX_LAG_MS`).
    pub replica_max_lag: Duration,
}

impl Databases {
    /// One server for everything, directly.
    pub fn single(options: PgConnectOptions, pool: PoolSettings) -> Self {
        Self {
            direct: options.clone(),
            primary: options,
            replica: None,
            mode: PoolMode::Session,
            pool,
            replica_max_lag: Duration::from_secs(5),
        }
    }
}

/// A connection pool, at one moment.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct PoolReading {
    /// `primary` or `replica`.
    pub name: &'static str,
    /// Connections open, in use or idle.
    pub size: u32,
    pub idle: usize,
    /// `DB_MAX_CONNECTIONS`.
    pub max: u32,
    /// Queries waiting for a connection now.
    pub waiting: usize,
    /// Waits that ran out since start.
    pub timed_out: u64,
}

/// The database: cheap to clone (the pools are shared).
#[derive(Clone, Debug)]
pub struct Store {
    primary: PgPool,
    /// Whether the primary is up, checked in the background.
    health: Arc<Health>,
    replica: Option<Replica>,
    /// Queries waiting for a connection of the primary's pool, and of the replica's.
    waits: Arc<Waits>,
    replica_waits: Arc<Waits>,
    direct: PgConnectOptions,
    /// Whether queries may be kept on the server as named statements: not behind a
    /// transaction-mode pooler (see [`statements`]).
    named_statements: bool,
    /// Chirps read by id, and posted, in batches (see [`batch`]), on connections of their
    /// own; on the replica too when there is one.
    chirps_by_id: Batcher<ChirpsById>,
    replica_chirps_by_id: Option<Batcher<ChirpsById>>,
    counts_by_id: Batcher<CountsById>,
    posts: Batcher<Posts>,
    likes: Batcher<Likes>,
    rate_counts: Batcher<RateCounts>,
    /// Who is suspended (see `moderation`).
    suspended: Arc<Suspended>,
}

/// Workers per batched kind of work, each with a connection of its own (on top of
/// `DB_MAX_CONNECTIONS`): two, so that one batch can form while the other is at the
/// database.
const BATCH_WORKERS: usize = 2;
/// Requests in one batch at most.
const BATCH_MOST: usize = 64;

impl Store {
    /// Pools that connect when first used: the server starts, and recovers, whether or not
    /// the databases are up. With a replica, a task checks it every second.
    pub fn open(databases: &Databases) -> Self {
        let options = |options: &PgConnectOptions| match databases.mode {
            PoolMode::Session => options.clone(),
            // PgBouncer refuses startup parameters it does not know, extra_float_digits
            // among them (sqlx sends it by default).
            PoolMode::Transaction => options.clone().statement_cache_capacity(0).extra_float_digits(None),
        };
        let named_statements = databases.mode == PoolMode::Session;
        let primary = pool(options(&databases.primary), &databases.pool);
        let replica = databases.replica.as_ref().map(|replica| {
            let replica = pool(options(replica), &databases.pool);
            Replica::watch(replica, primary.clone(), databases.replica_max_lag, named_statements)
        });
        let health = Health::watch(options(&databases.primary));
        let lane = |options: PgConnectOptions, health: Option<&Arc<Health>>| Lane {
            options,
            named: named_statements,
            timeout: databases.pool.acquire_timeout,
            health: health.cloned(),
        };
        let primary_lane = lane(options(&databases.primary), Some(&health));
        Self {
            chirps_by_id: Batcher::spawn(ChirpsById, primary_lane.clone(), BATCH_WORKERS, BATCH_MOST),
            replica_chirps_by_id: databases
                .replica
                .as_ref()
                .map(|replica| Batcher::spawn(ChirpsById, lane(options(replica), None), BATCH_WORKERS, BATCH_MOST)),
            counts_by_id: Batcher::spawn(CountsById, primary_lane.clone(), BATCH_WORKERS, BATCH_MOST),
            posts: Batcher::spawn(Posts, primary_lane.clone(), BATCH_WORKERS, BATCH_MOST),
            likes: Batcher::spawn(Likes, primary_lane.clone(), BATCH_WORKERS, BATCH_MOST),
            rate_counts: Batcher::spawn(RateCounts, primary_lane, BATCH_WORKERS, BATCH_MOST),
            suspended: Store::new_suspended(),
            health,
            primary,
            replica,
            waits: Arc::default(),
            replica_waits: Arc::default(),
            direct: databases.direct.clone(),
            named_statements,
        }
    }

    /// Applies the migrations on a session of its own (the direct URL): sqlx holds an
    /// advisory lock for the whole run, so concurrent instances migrate one at a time. Then
    /// computes what SQL cannot, the keys of emails stored without one
    /// ([`Store::key_emails`], which serialises instances with a lock of its own).
    pub async fn migrate(&self) -> Result<(), MigrateError> {
        let mut conn = PgConnection::connect_with(&self.direct).await?;
        MIGRATOR.run(&mut conn).await?;
        conn.close().await?;
        let keyed = self.key_emails().await.map_err(MigrateError::Execute)?;
        if keyed > 0 {
            tracing::info!(users = keyed, "computed the email keys of existing users");
        }
        Ok(())
    }

    /// Stops checking the primary and closes its pool (shutdown: the database may stop next).
    pub async fn close(&self) {
        self.health.stop();
        self.primary.close().await;
    }

    /// Where LISTEN connects.
    pub fn direct_options(&self) -> &PgConnectOptions {
        &self.direct
    }

    /// The primary's pool, for the few callers that need it whole (shutdown, tests).
    pub fn pool(&self) -> &PgPool {
        &self.primary
    }

    fn primary(&self) -> Statements<&PgPool> {
        Statements::new(&self.primary, self.named_statements)
            .watched(&self.health)
            .counted(&self.waits)
    }

    /// A transaction on the primary (at once an error while it is known to be down).
    async fn begin(&self) -> sqlx::Result<sqlx::Transaction<'static, sqlx::Postgres>> {
        if self.health.is_down() {
            return Err(health::down_error());
        }
        self.waits
            .begin(&self.primary)
            .await
            .inspect_err(|err| self.health.suspect(err))
    }

    /// The replica, while it is reachable and close enough behind.
    fn replica(&self) -> Option<Statements<&PgPool>> {
        let replica = self.replica.as_ref().filter(|replica| replica.usable())?;
        Some(Statements::new(replica.pool(), self.named_statements).counted(&self.replica_waits))
    }

    /// `id` was deleted, here or by another instance: until the replica has surely replayed
    /// that, reads of it go to the primary.
    pub fn chirp_deleted(&self, id: Uuid) {
        if let Some(replica) = &self.replica {
            replica.deleted(id);
        }
    }

    /// Every chirp was deleted (`/admin/reset`, here or elsewhere): reads by id go to the
    /// primary until the replica has surely replayed that.
    pub fn everything_deleted(&self) {
        if let Some(replica) = &self.replica {
            replica.everything_deleted();
        }
    }

    fn replica_may_be_stale_for(&self, id: Uuid) -> bool {
        self.replica
            .as_ref()
            .is_some_and(|replica| replica.may_be_stale_for(id))
    }

    /// Notes that the replica failed a read (which the caller then makes on the primary).
    fn replica_failed(&self, err: &sqlx::Error) {
        if let Some(replica) = &self.replica {
            replica.failed(err);
        }
    }

    /// A connection of a transaction, as an executor.
    fn on<'c>(&self, conn: &'c mut PgConnection) -> Statements<&'c mut PgConnection> {
        Statements::new(conn, self.named_statements).watched(&self.health)
    }

    /// The pools as the metrics show them: the primary's, and the replica's if there is one.
    pub fn pools(&self) -> Vec<PoolReading> {
        let reading = |name, pool: &PgPool, waits: &Waits| PoolReading {
            name,
            size: pool.size(),
            idle: pool.num_idle(),
            max: pool.options().get_max_connections(),
            waiting: waits.waiting(),
            timed_out: waits.timed_out(),
        };
        let mut pools = vec![reading("primary", &self.primary, &self.waits)];
        if let Some(replica) = &self.replica {
            pools.push(reading("replica", replica.pool(), &self.replica_waits));
        }
        pools
    }

    /// The batches of reads by id and of posts so far, for the metrics.
    pub fn batches(&self) -> [(&'static str, &BatchStats); 5] {
        [
            ("chirp_by_id", &self.chirps_by_id.stats),
            ("post", &self.posts.stats),
            ("counts_by_id", &self.counts_by_id.stats),
            ("like", &self.likes.stats),
            ("rate_count", &self.rate_counts.stats),
        ]
    }

    /// Whether the background check last found the primary answering.
    pub fn is_up(&self) -> bool {
        !self.health.is_down()
    }

    /// Whether chirp reads go to the replica now; `None` without one.
    pub fn replica_usable(&self) -> Option<bool> {
        self.replica.as_ref().map(Replica::usable)
    }

    /// Whether the primary answers.
    pub async fn ping(&self) -> sqlx::Result<()> {
        sqlx::query_scalar!(r#"select 1 as "one!""#)
            .fetch_one(self.primary())
            .await
            .map(drop)
    }

    /// Whether the server process `pid` (a backend of this database's server) still runs.
    pub async fn backend_alive(&self, pid: i32) -> sqlx::Result<bool> {
        sqlx::query_scalar!(
            r#"select exists(select 1 from pg_stat_activity where pid = $1) as "alive!""#,
            pid
        )
        .fetch_one(self.primary())
        .await
    }

    /// Deletes every user (their chirps and tokens go with them) and zeroes the visit count,
    /// and tells every instance. Returns how many users.
    pub async fn reset(&self) -> sqlx::Result<u64> {
        let mut tx = self.begin().await?;
        let deleted = sqlx::query!("delete from users").execute(self.on(&mut tx)).await?;
        sqlx::query!("update counters set value = 0, updated_at = now()")
            .execute(self.on(&mut tx))
            .await?;
        sqlx::query!("select pg_notify($1, $2)", CHANNEL, r#"{"reset":true}"#)
            .execute(self.on(&mut tx))
            .await?;
        tx.commit().await?;
        Ok(deleted.rows_affected())
    }
}

/// A `Duration` as PostgreSQL's interval (whole microseconds; anything longer than that
/// holds is no setting anyone makes).
fn interval(duration: Duration) -> sqlx::postgres::types::PgInterval {
    sqlx::postgres::types::PgInterval {
        months: 0,
        days: 0,
        microseconds: i64::try_from(duration.as_micros()).unwrap_or(i64::MAX),
    }
}

/// Whether `err` is the violation of the constraint `name`.
fn violates(err: &sqlx::Error, name: &str) -> bool {
    matches!(err, sqlx::Error::Database(db) if db.constraint() == Some(name))
}

/// A pool of `max_connections` that gives up on a connection after `acquire_timeout`
/// rather than queueing forever (the request then gets 503).
fn pool(options: PgConnectOptions, settings: &PoolSettings) -> PgPool {
    PgPoolOptions::new()
        .max_connections(settings.max_connections)
        .acquire_timeout(settings.acquire_timeout)
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
