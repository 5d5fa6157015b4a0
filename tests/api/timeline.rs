//! The home timeline: `GET /api/timelines/home` is at every moment exactly what the obvious
//! query returns, however follows, unfollows, posts and deletions interleave; and its live
//! feed, `GET /api/timelines/home/stream`.

use std::time::Duration;

use proptest::{prelude::*, test_runner::TestRunner};
use reqwest::StatusCode;
use serde_json::{Value, json};
use uuid::Uuid;

use crate::{
    helpers::{
        FEED_TURN, Session, TestApp, TestDatabase, error_message, eventually, header, json_body, spawn_app,
        spawn_app_on, spawn_app_on_databases, spawn_feed_app,
    },
    sse::Reader,
};

/// What the timeline must equal: the reader's and their followees' chirps, newest first.
async fn expected(app: &TestApp, reader: Uuid) -> Vec<String> {
    let ids: Vec<Uuid> = sqlx::query_scalar(
        "select id from chirps
          where user_id = $1 or user_id in (select followee_id from follows where follower_id = $1)
          order by created_at desc, id desc",
    )
    .bind(reader)
    .fetch_all(&app.db)
    .await
    .unwrap();
    ids.iter().map(Uuid::to_string).collect()
}

fn chirp_ids(chirps: &[Value]) -> Vec<String> {
    chirps.iter().map(|c| c["id"].as_str().unwrap().to_owned()).collect()
}

async fn delete_chirp(app: &TestApp, session: &Session, id: &str) -> StatusCode {
    app.delete(&format!("/api/chirps/{id}"))
        .bearer_auth(&session.token)
        .send()
        .await
        .unwrap()
        .status()
}

#[tokio::test]
async fn the_home_timeline_holds_my_chirps_and_my_followees_newest_first() {
    let app = spawn_app().await;
    let users = app.quick_users(3).await;
    let (me, walt, stranger) = (&users[0], &users[1], &users[2]);
    let mine = app.chirp(me, "mine").await;
    let walts = app.chirp(walt, "walt's").await;
    app.chirp(stranger, "a stranger's").await;
    assert_eq!(
        app.home(me, 20).await,
        vec![mine.clone()],
        "only my own before I follow anyone"
    );

    assert_eq!(app.follow(me, walt.user_id, true).await, StatusCode::NO_CONTENT);
    assert_eq!(
        app.home(me, 20).await,
        vec![walts.clone(), mine.clone()],
        "at once, newest first"
    );
    let later = app.chirp(walt, "later").await;
    assert_eq!(
        app.home(me, 1).await,
        vec![later.clone(), walts.clone(), mine.clone()],
        "paged one at a time"
    );
    assert_eq!(
        delete_chirp(&app, walt, walts["id"].as_str().unwrap()).await,
        StatusCode::NO_CONTENT
    );
    assert_eq!(app.home(me, 20).await, vec![later, mine.clone()]);
    assert_eq!(app.follow(me, walt.user_id, false).await, StatusCode::NO_CONTENT);
    assert_eq!(app.home(me, 20).await, vec![mine]);

    let resp = app.get("/api/timelines/home").send().await.unwrap();
    error_message(resp, StatusCode::UNAUTHORIZED).await;
    for bad in [
        "?limit=0",
        "?limit=101",
        "?cursor=nope",
        "?cursor=zzzzzzzzzzzzzzzzzzzzzzzzzzzzzzzzzzzzzzzzzzzzzzzz",
    ] {
        let resp = app
            .get(&format!("/api/timelines/home{bad}"))
            .bearer_auth(&me.token)
            .send()
            .await
            .unwrap();
        error_message(resp, StatusCode::BAD_REQUEST).await;
    }
}

#[tokio::test]
async fn a_page_is_revalidated_with_its_etag() {
    let app = spawn_app().await;
    let users = app.quick_users(2).await;
    let (me, walt) = (&users[0], &users[1]);
    app.follow(me, walt.user_id, true).await;
    app.chirp(walt, "one").await;
    let first = app
        .get("/api/timelines/home")
        .bearer_auth(&me.token)
        .send()
        .await
        .unwrap();
    let etag = header(&first, "etag");
    assert_eq!(header(&first, "cache-control"), "no-cache");
    assert!(etag.starts_with('"'), "{etag}");
    let again = app
        .get("/api/timelines/home")
        .bearer_auth(&me.token)
        .header("if-none-match", &etag)
        .send()
        .await
        .unwrap();
    assert_eq!(again.status(), StatusCode::NOT_MODIFIED);
    assert_eq!(header(&again, "etag"), etag);
    app.chirp(walt, "two").await;
    let changed = app
        .get("/api/timelines/home")
        .bearer_auth(&me.token)
        .header("if-none-match", &etag)
        .send()
        .await
        .unwrap();
    assert_eq!(changed.status(), StatusCode::OK, "a followee posted: a new page");
    assert_ne!(header(&changed, "etag"), etag);
}

/// One step of the property test.
#[derive(Debug, Clone)]
enum Step {
    Follow(usize, usize),
    Unfollow(usize, usize),
    Post(usize),
    /// Deletes the author's `n`th newest chirp, if they have one.
    Delete(usize, usize),
    /// Reads a user's whole timeline, `limit` at a time.
    Read(usize, u32),
}

const USERS: usize = 7;

fn step() -> impl Strategy<Value = Step> {
    let user = 0..USERS;
    prop_oneof![
        3 => (user.clone(), user.clone()).prop_map(|(a, b)| Step::Follow(a, b)),
        1 => (user.clone(), user.clone()).prop_map(|(a, b)| Step::Unfollow(a, b)),
        4 => user.clone().prop_map(Step::Post),
        1 => (user.clone(), 0..4usize).prop_map(|(a, n)| Step::Delete(a, n)),
        2 => (user, 1..6u32).prop_map(|(a, limit)| Step::Read(a, limit)),
    ]
}

/// Random interleavings of follows, unfollows, posts, deletions and reads by several users:
/// every page of every read equals the obvious query's answer at that moment.
#[test]
fn every_page_equals_the_obvious_query_whatever_happened_before() {
    let runtime = tokio::runtime::Runtime::new().unwrap();
    let mut runner = TestRunner::new(proptest::test_runner::Config {
        cases: 8,
        failure_persistence: None,
        ..Default::default()
    });
    runner
        .run(&proptest::collection::vec(step(), 20..80), |steps| {
            runtime.block_on(async {
                let app = spawn_app().await;
                let users = app.quick_users(USERS).await;
                for step in &steps {
                    apply(&app, &users, step).await;
                }
                // And a last look at everyone, one at a time and all at once.
                for user in &users {
                    assert_eq!(chirp_ids(&app.home(user, 1).await), expected(&app, user.user_id).await);
                    assert_eq!(
                        chirp_ids(&app.home(user, 100).await),
                        expected(&app, user.user_id).await
                    );
                }
            });
            Ok(())
        })
        .unwrap();
}

async fn apply(app: &TestApp, users: &[Session], step: &Step) {
    match *step {
        Step::Follow(a, b) | Step::Unfollow(a, b) => {
            let follow = matches!(step, Step::Follow(..));
            let status = app.follow(&users[a], users[b].user_id, follow).await;
            let expected = if a == b && follow {
                StatusCode::BAD_REQUEST
            } else {
                StatusCode::NO_CONTENT
            };
            assert_eq!(status, expected, "{step:?}");
        }
        Step::Post(a) => {
            app.chirp(&users[a], &format!("by {a}")).await;
        }
        Step::Delete(a, n) => {
            let newest: Vec<Uuid> =
                sqlx::query_scalar("select id from chirps where user_id = $1 order by created_at desc, id desc")
                    .bind(users[a].user_id)
                    .fetch_all(&app.db)
                    .await
                    .unwrap();
            if let Some(id) = newest.get(n) {
                assert_eq!(
                    delete_chirp(app, &users[a], &id.to_string()).await,
                    StatusCode::NO_CONTENT
                );
            }
        }
        Step::Read(a, limit) => {
            let read = chirp_ids(&app.home(&users[a], limit).await);
            assert_eq!(read, expected(app, users[a].user_id).await, "{step:?}");
        }
    }
}

/// A "replica" that is another database and never replays anything: whatever a reader
/// sees of the primary's rows, they saw on the primary. Two instances share both.
async fn two_instances_with_a_stale_replica() -> (TestApp, TestApp, TestDatabase, TestDatabase) {
    let (primary, replica) = (TestDatabase::create().await, TestDatabase::create().await);
    spawn_app_on(replica.options(), |_| {}).await; // migrates it
    let start = || {
        let (primary, replica) = (primary.options(), replica.options());
        spawn_app_on_databases(
            move |pool| chirpy::store::Databases {
                replica: Some(replica),
                replica_max_lag: Duration::from_millis(100),
                ..chirpy::store::Databases::single(primary, pool)
            },
            |_| {},
        )
    };
    let (first, second) = (start().await, start().await);
    (first, second, primary, replica)
}

/// The caller's own follow, unfollow, post and deletion show at once on the other instance,
/// though it reads from a replica that has none of them; once they have written nothing for
/// longer than the replica may lag, their reads go to the replica again.
#[tokio::test]
async fn my_own_writes_show_at_once_on_every_instance_whatever_the_replica_says() {
    let (first, second, _primary, _replica) = two_instances_with_a_stale_replica().await;
    let users = first.quick_users(2).await;
    let (me, walt) = (&users[0], &users[1]);
    let walts = first.chirp(walt, "walt's").await;
    let replica_in_use = async || second.state.store.replica_usable() == Some(true);
    assert!(eventually(Duration::from_secs(5), replica_in_use).await);

    assert_eq!(first.follow(me, walt.user_id, true).await, StatusCode::NO_CONTENT);
    assert_eq!(
        second.home(me, 20).await,
        vec![walts.clone()],
        "my follow, on the other instance"
    );
    let mine = first.chirp(me, "mine").await;
    assert_eq!(second.home(me, 20).await, vec![mine.clone(), walts.clone()], "my post");
    assert_eq!(
        delete_chirp(&first, me, mine["id"].as_str().unwrap()).await,
        StatusCode::NO_CONTENT
    );
    assert_eq!(second.home(me, 20).await, vec![walts.clone()], "my deletion");
    let profile = second
        .get(&format!("/api/users/{}", walt.user_id))
        .bearer_auth(&me.token)
        .send()
        .await
        .unwrap();
    assert_eq!(json_body(profile, StatusCode::OK).await["followed_by_me"], true);
    assert_eq!(first.follow(me, walt.user_id, false).await, StatusCode::NO_CONTENT);
    assert_eq!(second.home(me, 20).await, Vec::<Value>::new(), "my unfollow");

    // The control: quiet for longer than the replica may lag (100 ms and two checks), my
    // reads go to the replica, which (never replaying) lacks even my follow of walt.
    first.follow(me, walt.user_id, true).await;
    let from_replica = async || second.home(me, 20).await.is_empty();
    assert!(
        eventually(Duration::from_secs(6), from_replica).await,
        "reads go back to the replica"
    );
}

/// The live home feed carries my chirps and my followees', and my own follows and
/// unfollows (from any instance), each chirp judged by whom I followed at its moment.
#[tokio::test]
async fn the_live_home_feed_follows_whom_i_follow() {
    let _turn = FEED_TURN.lock().await;
    let first = spawn_feed_app(|_| {}).await;
    let second = spawn_app_on(first.database_options(), |_| {}).await;
    let users = first.quick_users(3).await;
    let (me, walt, stranger) = (&users[0], &users[1], &users[2]);
    let mut feed = Reader::home(&second, &me.token, None).await;
    let wait = Duration::from_secs(3);

    first.chirp(stranger, "not followed").await;
    first.chirp(walt, "not followed yet").await;
    let mine = first.chirp(me, "mine").await;
    let event = feed.next(wait).await.expect("my own chirp");
    assert_eq!((event.kind.as_str(), &event.data), ("chirp.created", &mine));

    assert_eq!(first.follow(me, walt.user_id, true).await, StatusCode::NO_CONTENT);
    let event = feed.next(wait).await.expect("my follow");
    assert_eq!(event.kind, "follow.created");
    assert_eq!(
        event.data,
        json!({"follower_id": me.user_id, "followee_id": walt.user_id})
    );
    let walts = first.chirp(walt, "now followed").await;
    let event = feed.next(wait).await.expect("walt's chirp");
    assert_eq!((event.kind.as_str(), &event.data), ("chirp.created", &walts));
    let resume_from = event.id.clone();

    assert_eq!(first.follow(me, walt.user_id, false).await, StatusCode::NO_CONTENT);
    assert_eq!(feed.next(wait).await.expect("my unfollow").kind, "follow.deleted");
    first.chirp(walt, "unfollowed again").await;
    let last = first.chirp(me, "mine again").await;
    let event = feed.next(wait).await.expect("my next chirp");
    assert_eq!(event.data, last, "walt's chirp after the unfollow never came");

    // Resumed from walt's chirp: the unfollow, then only my chirp, exactly as live.
    drop(feed);
    let mut resumed = Reader::home(&first, &me.token, Some(&resume_from)).await;
    let replayed: Vec<(String, Value)> = [resumed.next(wait).await, resumed.next(wait).await]
        .into_iter()
        .map(|event| event.expect("a replayed event"))
        .map(|event| (event.kind, event.data))
        .collect();
    assert_eq!(
        replayed,
        vec![
            (
                "follow.deleted".to_owned(),
                json!({"follower_id": me.user_id, "followee_id": walt.user_id})
            ),
            ("chirp.created".to_owned(), last)
        ]
    );
    assert!(
        resumed.next(Duration::from_millis(300)).await.is_none(),
        "nothing twice"
    );
}

#[tokio::test]
async fn the_live_home_feed_ends_when_its_access_token_expires() {
    let _turn = FEED_TURN.lock().await;
    let app = spawn_feed_app(|config| config.access_token_ttl = Duration::from_secs(2)).await;
    let me = app.quick_users(1).await.remove(0);
    let mut feed = Reader::home(&app, &me.token, None).await;
    let opened = std::time::Instant::now();
    while feed.next(Duration::from_secs(6)).await.is_some() {}
    let lasted = opened.elapsed();
    assert!(lasted < Duration::from_millis(4500), "ended after {lasted:?}");
    let resp = app.get("/api/timelines/home/stream").send().await.unwrap();
    error_message(resp, StatusCode::UNAUTHORIZED).await;
    let expired = app
        .get("/api/timelines/home/stream")
        .bearer_auth(&me.token)
        .send()
        .await
        .unwrap();
    error_message(expired, StatusCode::UNAUTHORIZED).await;
    let fresh = app.state.access_tokens.issue(me.user_id).unwrap();
    let resp = app
        .get("/api/timelines/home/stream")
        .bearer_auth(&fresh)
        .header("last-event-id", "x")
        .send()
        .await
        .unwrap();
    let message = error_message(resp, StatusCode::BAD_REQUEST).await;
    assert!(message.starts_with("Invalid Last-Event-ID"), "{message}");
}
