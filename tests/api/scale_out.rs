//! More than one instance on one database, a read replica, and a transaction-mode pooler:
//! what the scale-out issue asks, tested here without the cluster (`just cluster-test`
//! runs the real topology).

use std::time::Duration;

use chirpy::store::{Databases, PoolMode};
use reqwest::StatusCode;
use serde_json::json;

use crate::helpers::{
    TestApp, TestDatabase, error_message, eventually, json_body, spawn_app_on, spawn_app_on_databases,
};

/// Two instances serving one database.
async fn two_instances(adjust: impl Fn(&mut chirpy::config::Config)) -> (TestApp, TestApp, TestDatabase) {
    let database = TestDatabase::create().await;
    let first = spawn_app_on(database.options(), &adjust).await;
    let second = spawn_app_on(database.options(), &adjust).await;
    (first, second, database)
}

async fn visits(app: &TestApp) -> u64 {
    let page = app.get("/admin/metrics").send().await.unwrap().text().await.unwrap();
    let count = page.split("visited ").nth(1).and_then(|rest| rest.split(' ').next());
    count
        .and_then(|n| n.parse().ok())
        .unwrap_or_else(|| panic!("no count in {page}"))
}

#[tokio::test]
async fn failed_logins_count_across_instances() {
    let (first, second, _db) = two_instances(|config| config.login_throttle.max_failures_per_email = 5).await;
    let victim = first.user().await;
    let guess = json!({"email": victim.email, "password": "guess"});
    for n in 0..5 {
        let app = if n % 2 == 0 { &first } else { &second };
        let resp = app.post("/api/login").json(&guess).send().await.unwrap();
        error_message(resp, StatusCode::UNAUTHORIZED).await;
    }
    for app in [&first, &second] {
        let resp = app.post("/api/login").json(&guess).send().await.unwrap();
        error_message(resp, StatusCode::TOO_MANY_REQUESTS).await;
    }
}

#[tokio::test]
async fn visits_are_counted_across_instances_and_reset_for_all() {
    let (first, second, _db) = two_instances(|_| {}).await;
    for n in 0..10 {
        let app = if n % 2 == 0 { &first } else { &second };
        assert_eq!(app.get("/app/").send().await.unwrap().status(), StatusCode::OK);
    }
    // Each instance knows its own at once, and the other's within a second.
    assert!(visits(&first).await >= 5);
    for app in [&first, &second] {
        assert!(
            eventually(Duration::from_secs(2), async || visits(app).await == 10).await,
            "{} visits on one instance",
            visits(app).await
        );
    }

    // Visits the second instance has not handed on yet are void after a reset on the first.
    second.get("/app/").send().await.unwrap();
    first.post("/admin/reset").send().await.unwrap();
    assert_eq!(visits(&first).await, 0);
    tokio::time::sleep(Duration::from_millis(1500)).await;
    assert_eq!(visits(&first).await, 0);
    assert_eq!(visits(&second).await, 0);
    first.get("/app/").send().await.unwrap();
    assert!(eventually(Duration::from_secs(2), async || visits(&second).await == 1).await);
}

/// A "replica" that is another database: it has none of the primary's chirps, so which
/// one answered is plain to see. (No cache: the cached first pages are read from the
/// primary, so they cannot stay stale.)
async fn with_stale_replica() -> (TestApp, TestApp, TestDatabase, TestDatabase) {
    let (primary, replica) = (TestDatabase::create().await, TestDatabase::create().await);
    let replica_app = spawn_app_on(replica.options(), |_| {}).await; // migrates it
    let (primary_options, replica_options) = (primary.options(), replica.options());
    let app = spawn_app_on_databases(
        |pool| Databases {
            replica: Some(replica_options),
            ..Databases::single(primary_options, pool)
        },
        |config| config.chirp_cache_mib = 0,
    )
    .await;
    (app, replica_app, primary, replica)
}

#[tokio::test]
async fn chirp_lists_come_from_the_replica_and_a_miss_by_id_from_the_primary() {
    let (app, replica_app, _primary, _replica) = with_stale_replica().await;
    let session = app.user().await;
    let chirp = app.chirp(&session, "only on the primary").await;
    let other = replica_app.user().await;
    let replica_only = replica_app.chirp(&other, "only on the replica").await;
    // The replica is used once its first check passes (every second).
    let listed = async || json_body(app.get("/api/chirps").send().await.unwrap(), StatusCode::OK).await;
    assert!(
        eventually(Duration::from_secs(3), async || listed().await == json!([replica_only])).await,
        "lists are read from the replica"
    );
    // Read-your-writes: what the replica lacks is read from the primary.
    let url = format!("/api/chirps/{}", chirp["id"].as_str().unwrap());
    assert_eq!(
        json_body(app.get(&url).send().await.unwrap(), StatusCode::OK).await,
        chirp
    );
}

#[tokio::test]
async fn an_unreachable_replica_never_costs_a_5xx() {
    let database = TestDatabase::create().await;
    let options = database.options();
    let nowhere = "postgres://postgres@127.0.0.1:1/nowhere".parse().unwrap();
    let app = spawn_app_on_databases(
        |pool| Databases {
            replica: Some(nowhere),
            ..Databases::single(options, pool)
        },
        |_| {},
    )
    .await;
    let session = app.user().await;
    let chirp = app.chirp(&session, "hello").await;
    for _ in 0..3 {
        assert_eq!(
            json_body(app.get("/api/chirps").send().await.unwrap(), StatusCode::OK).await,
            json!([chirp])
        );
        let url = format!("/api/chirps/{}", chirp["id"].as_str().unwrap());
        json_body(app.get(&url).send().await.unwrap(), StatusCode::OK).await;
        tokio::time::sleep(Duration::from_millis(600)).await;
    }
    assert_eq!(app.get("/api/readyz").send().await.unwrap().status(), StatusCode::OK);
}

/// Behind PgBouncer in transaction mode, a statement kept on one server session is
/// unknown on the next (or clashes with another client's): in that mode nothing is kept.
#[tokio::test]
async fn in_transaction_mode_no_statement_is_kept_on_the_server() {
    for (mode, kept) in [(PoolMode::Session, true), (PoolMode::Transaction, false)] {
        let database = TestDatabase::create().await;
        let options = database.options();
        let app = spawn_app_on_databases(
            |pool| Databases {
                mode,
                ..Databases::single(options, pool)
            },
            |config| config.database.pool.max_connections = 1,
        )
        .await;
        let session = app.user().await;
        app.chirp(&session, "hello").await;
        json_body(app.get("/api/chirps").send().await.unwrap(), StatusCode::OK).await;
        // The app's only connection, now idle: what did it leave behind?
        let prepared: i64 = sqlx::query_scalar("select count(*) from pg_prepared_statements")
            .persistent(false)
            .fetch_one(&app.db)
            .await
            .unwrap();
        assert_eq!(prepared > 0, kept, "{mode:?}: {prepared} statements kept");
    }
}

/// Copies `id`'s row of `table` from one database to another, as a replica would have it.
async fn copy_row(table: &str, id: &str, from: &sqlx::PgPool, to: &sqlx::PgPool) {
    let row: String = sqlx::query_scalar(sqlx::AssertSqlSafe(format!(
        "select row_to_json(t)::text from {table} t where id = $1::uuid"
    )))
    .bind(id)
    .fetch_one(from)
    .await
    .unwrap();
    // Generated columns (a chirp's search words) are the database's to fill.
    let columns: String = sqlx::query_scalar(
        "select string_agg(column_name, ', ' order by ordinal_position) from information_schema.columns
          where table_name = $1 and is_generated = 'NEVER'",
    )
    .bind(table)
    .fetch_one(to)
    .await
    .unwrap();
    sqlx::query(sqlx::AssertSqlSafe(format!(
        "insert into {table} ({columns}) select {columns} from json_populate_record(null::{table}, $1::json)"
    )))
    .bind(row)
    .execute(to)
    .await
    .unwrap();
}

/// With the cache off, only the replica routing stands between a reader and a deleted
/// chirp the replica has not let go of yet (here: never will).
#[tokio::test]
async fn a_deleted_chirp_is_not_read_back_from_a_replica_that_still_has_it() {
    let (app, replica_app, primary, replica) = with_stale_replica().await;
    let second = spawn_app_on_databases(
        |pool| Databases {
            replica: Some(replica.options()),
            ..Databases::single(primary.options(), pool)
        },
        |config| config.chirp_cache_mib = 0,
    )
    .await;
    let session = app.user().await;
    let chirp = app.chirp(&session, "deleted, but not on the replica").await;
    let id = chirp["id"].as_str().unwrap();
    copy_row("users", &session.user_id.to_string(), &app.db, &replica_app.db).await;
    copy_row("chirps", id, &app.db, &replica_app.db).await;
    let other = replica_app.user().await;
    let replica_only = replica_app.chirp(&other, "only on the replica").await;
    let url = format!("/api/chirps/{id}");
    for instance in [&app, &second] {
        let replica_used = async || {
            let listed = json_body(instance.get("/api/chirps").send().await.unwrap(), StatusCode::OK).await;
            listed == json!([chirp, replica_only])
        };
        assert!(
            eventually(Duration::from_secs(3), replica_used).await,
            "the replica is in use"
        );
    }

    let resp = app.delete(&url).bearer_auth(&session.token).send().await.unwrap();
    assert_eq!(resp.status(), StatusCode::NO_CONTENT);
    assert_eq!(
        app.get(&url).send().await.unwrap().status(),
        StatusCode::NOT_FOUND,
        "the deleting instance at once"
    );
    let gone = async || second.get(&url).send().await.unwrap().status() == StatusCode::NOT_FOUND;
    assert!(
        eventually(Duration::from_secs(2), gone).await,
        "another instance once it hears of it"
    );
    // The control: the replica still has it, and lists (allowed to lag) still show it.
    let listed = json_body(second.get("/api/chirps").send().await.unwrap(), StatusCode::OK).await;
    assert_eq!(listed, json!([chirp, replica_only]));
}
