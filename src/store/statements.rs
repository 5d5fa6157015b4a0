//! Statements that survive a transaction-mode pooler.
//!
//! sqlx prepares every query as a named statement (`sqlx_s_1`, `sqlx_s_2`, ...) on the
//! server session, even with `statement-cache-capacity=0` (which only stops it reusing
//! them). Behind PgBouncer in transaction mode, consecutive transactions of one client
//! land on different server sessions, and two clients' `sqlx_s_1` on the same one:
//! "prepared statement sqlx_s_1 already exists" (seen with PgBouncer 1.18). So in that
//! mode every query is sent unnamed, and, outside a transaction, inside one of its own:
//! sqlx sends Parse and Describe, then a Sync, and only then Bind and Execute; PgBouncer
//! may hand the server session to another client at that Sync unless a transaction is
//! open, and the Bind then meets someone else's statement ("bind message supplies 3
//! parameters, but prepared statement \"\" requires 1", seen in `just cluster-test`).
//! That costs two more round trips a query, through the pooler only.

use std::sync::Arc;

use futures_util::{FutureExt, StreamExt, TryFutureExt, TryStreamExt, future::BoxFuture, stream::BoxStream};
use sqlx::{
    Connection, Describe, Error, Execute, Executor, Postgres, SqlStr,
    pool::PoolConnection,
    postgres::{PgQueryResult, PgRow, PgStatement, PgTypeInfo},
};

use super::{
    health::{Health, down_error},
    waits::Waits,
};

/// An executor (a pool, a connection, a transaction) that runs queries as named,
/// cached statements or as unnamed ones; with a [`Health`], it fails at once while the
/// database is known to be down, and reports failures that look like an outage; with
/// [`Waits`], it counts the queries waiting for a pool's connection.
#[derive(Debug, Clone)]
pub struct Statements<X> {
    inner: X,
    named: bool,
    health: Option<Arc<Health>>,
    waits: Option<Arc<Waits>>,
}

impl<X> Statements<X> {
    pub fn new(inner: X, named: bool) -> Self {
        Self {
            inner,
            named,
            health: None,
            waits: None,
        }
    }

    pub fn watched(self, health: &Arc<Health>) -> Self {
        Self {
            health: Some(health.clone()),
            ..self
        }
    }

    pub fn counted(self, waits: &Arc<Waits>) -> Self {
        Self {
            waits: Some(waits.clone()),
            ..self
        }
    }

    fn down(&self) -> bool {
        self.health.as_ref().is_some_and(|health| health.is_down())
    }
}

impl Statements<&sqlx::PgPool> {
    /// A transaction on this pool, its wait for a connection counted and an outage known at
    /// once, as for a query; with whether its statements may be named.
    pub async fn transaction(&self) -> Result<(sqlx::Transaction<'static, Postgres>, bool), Error> {
        if self.down() {
            return Err(down_error());
        }
        let begun = match &self.waits {
            Some(waits) => waits.begin(self.inner).await,
            None => self.inner.begin().await,
        };
        if let (Err(err), Some(health)) = (&begun, &self.health) {
            health.suspect(err);
        }
        Ok((begun?, self.named))
    }
}

/// What a query can run on: a pool (each query on a connection of its own, which in
/// transaction mode must be wrapped in a transaction) or a connection already in one.
pub trait Host<'c>: Executor<'c, Database = Postgres> {
    /// The pool to take a connection from, if this is one.
    fn pool(&self) -> Option<sqlx::PgPool>;
}

impl<'c> Host<'c> for &'c sqlx::PgPool {
    fn pool(&self) -> Option<sqlx::PgPool> {
        Some((*self).clone())
    }
}

impl<'c> Host<'c> for &'c mut sqlx::PgConnection {
    fn pool(&self) -> Option<sqlx::PgPool> {
        None
    }
}

/// A connection from `pool`, counted in `waits` while it is awaited.
pub async fn acquire(pool: &sqlx::PgPool, waits: Option<&Waits>) -> Result<PoolConnection<Postgres>, Error> {
    match waits {
        Some(waits) => waits.acquire(pool).await,
        None => pool.acquire().await,
    }
}

/// A query that must not be kept on the server.
struct Unnamed<E>(E);

impl<'q, E: Execute<'q, Postgres>> Execute<'q, Postgres> for Unnamed<E> {
    fn sql(self) -> SqlStr {
        self.0.sql()
    }

    fn statement(&self) -> Option<&PgStatement> {
        self.0.statement()
    }

    fn take_arguments(&mut self) -> Result<Option<sqlx::postgres::PgArguments>, sqlx::error::BoxDynError> {
        self.0.take_arguments()
    }

    fn persistent(&self) -> bool {
        false
    }
}

impl<'c, X: Host<'c>> Executor<'c> for Statements<X> {
    type Database = Postgres;

    fn fetch_many<'e, 'q: 'e, E>(self, query: E) -> BoxStream<'e, Result<sqlx::Either<PgQueryResult, PgRow>, Error>>
    where
        'c: 'e,
        E: 'q + Execute<'q, Postgres>,
    {
        if self.down() {
            return futures_util::stream::once(async { Err(down_error()) }).boxed();
        }
        let health = self.health.clone();
        let named = self.named;
        let rows = match (named, self.inner.pool()) {
            (true, None) => self.inner.fetch_many(query),
            (false, None) => self.inner.fetch_many(Unnamed(query)),
            (_, Some(pool)) => futures_util::stream::once(async move {
                let mut conn = acquire(&pool, self.waits.as_deref()).await?;
                let rows: Vec<_> = if named {
                    conn.fetch_many(query).try_collect().await?
                } else {
                    let mut tx = conn.begin().await?;
                    let rows = tx.fetch_many(Unnamed(query)).try_collect().await?;
                    tx.commit().await?;
                    rows
                };
                Ok::<_, Error>(futures_util::stream::iter(rows.into_iter().map(Ok)))
            })
            .try_flatten()
            .boxed(),
        };
        match health {
            Some(health) => rows.inspect_err(move |err| health.suspect(err)).boxed(),
            None => rows,
        }
    }

    fn fetch_optional<'e, 'q: 'e, E>(self, query: E) -> BoxFuture<'e, Result<Option<PgRow>, Error>>
    where
        'c: 'e,
        E: 'q + Execute<'q, Postgres>,
    {
        if self.down() {
            return async { Err(down_error()) }.boxed();
        }
        let health = self.health.clone();
        let named = self.named;
        let row = match (named, self.inner.pool()) {
            (true, None) => self.inner.fetch_optional(query),
            (false, None) => self.inner.fetch_optional(Unnamed(query)),
            (_, Some(pool)) => async move {
                let mut conn = acquire(&pool, self.waits.as_deref()).await?;
                if named {
                    return conn.fetch_optional(query).await;
                }
                let mut tx = conn.begin().await?;
                let row = tx.fetch_optional(Unnamed(query)).await?;
                tx.commit().await?;
                Ok(row)
            }
            .boxed(),
        };
        match health {
            Some(health) => row.inspect_err(move |err| health.suspect(err)).boxed(),
            None => row,
        }
    }

    fn prepare_with<'e>(self, sql: SqlStr, parameters: &'e [PgTypeInfo]) -> BoxFuture<'e, Result<PgStatement, Error>>
    where
        'c: 'e,
    {
        self.inner.prepare_with(sql, parameters)
    }

    fn describe<'e>(self, sql: SqlStr) -> BoxFuture<'e, Result<Describe<Postgres>, Error>>
    where
        'c: 'e,
    {
        self.inner.describe(sql)
    }
}
