//! The real `chirpy` binary: configuration errors at startup, shutdown under load, and a
//! crash in the middle of writes.

use std::{
    path::Path,
    process::{Command, Stdio},
    sync::{Arc, Mutex},
    time::{Duration, Instant},
};

use serde_json::json;

use crate::{
    helpers::TestDatabase,
    process::{RunningServer, TempDir, chirpy, wait_for_ready_file},
};

async fn sign_up_and_log_in(client: &reqwest::Client, base: &str, email: &str) -> serde_json::Value {
    let credentials = json!({"email": email, "password": "pw"});
    let created = client
        .post(format!("{base}/api/users"))
        .json(&credentials)
        .send()
        .await
        .unwrap();
    assert_eq!(created.status(), 201);
    client
        .post(format!("{base}/api/login"))
        .json(&credentials)
        .send()
        .await
        .unwrap()
        .json()
        .await
        .unwrap()
}

/// The one launcher every harness uses: `chirpy serve --throwaway-db --ready-file F`.
#[tokio::test]
async fn the_launcher_serves_from_a_throwaway_database_and_removes_it_on_sigterm() {
    let run_dir = TempDir::new();
    let ready_file = run_dir.path.join("ready.json");
    let log = Arc::new(Mutex::new(Vec::new()));
    let mut child = chirpy()
        .args(["serve", "--throwaway-db", "--ready-file"])
        .arg(&ready_file)
        // Ignored with --throwaway-db, like any DATABASE_URL.
        .envs([("DATABASE_URL", "postgres://nobody@127.0.0.1:1/none"), ("PORT", "0")])
        .stderr(Stdio::null())
        .spawn()
        .unwrap();
    let ready = wait_for_ready_file(&ready_file, &mut child, &log);
    let url = ready["url"].as_str().unwrap();
    assert!(url.starts_with("http://127.0.0.1:"), "{ready}");
    assert_eq!(ready["pid"], child.id());
    let health = reqwest::get(format!("{url}/api/healthz")).await.unwrap();
    assert_eq!(health.text().await.unwrap(), "OK");
    let database = ready["database"].as_str().expect("the throwaway database's URL");
    let data_dir = database.split("host=").nth(1).expect("a socket directory").to_owned();
    assert!(Path::new(&data_dir).join("PG_VERSION").is_file(), "{data_dir}");
    // Dev platform by default: the reset works.
    let reset = reqwest::Client::new()
        .post(format!("{url}/admin/reset"))
        .send()
        .await
        .unwrap();
    assert_eq!(reset.status(), 200);

    let status = Command::new("kill")
        .args(["-TERM", &child.id().to_string()])
        .status()
        .unwrap();
    assert!(status.success());
    assert!(child.wait().unwrap().success());
    let deadline = Instant::now() + Duration::from_secs(15);
    while Path::new(&data_dir).exists() {
        assert!(Instant::now() < deadline, "{data_dir} outlived the server");
        std::thread::sleep(Duration::from_millis(50));
    }
}

#[test]
fn outside_dev_a_missing_secret_stops_startup_naming_it() {
    let base = [
        ("PLATFORM", "prod"),
        ("DATABASE_URL", "postgres://nobody@127.0.0.1:1/none"),
    ];
    for (extra, missing) in [(vec![], "JWT_SECRET"), (vec![("JWT_SECRET", "s")], "POLKA_KEY")] {
        let output = chirpy().envs(base).envs(extra).output().unwrap();
        assert!(!output.status.success());
        let stderr = String::from_utf8_lossy(&output.stderr);
        assert!(stderr.contains(&format!("{missing} must be set")), "{stderr}");
        assert!(!stderr.contains('\u{1b}'), "no terminal colours in a pipe: {stderr}");
    }
}

/// A database that cannot be used stops startup with a sentence saying what to fix, after
/// the library's own error.
#[tokio::test]
async fn a_database_that_cannot_be_used_is_explained() {
    let database = crate::helpers::TestDatabase::create().await;
    let missing = database.url().replacen(&database.name, "no_such_database", 1);
    let refused = "postgres://nobody@127.0.0.1:1/none".to_owned();
    for (url, advice) in [(missing, "createdb"), (refused, "Nothing accepts connections")] {
        let output = chirpy()
            .envs([("PLATFORM", "dev"), ("DATABASE_URL", url.as_str())])
            .output()
            .unwrap();
        assert!(!output.status.success());
        let stderr = String::from_utf8_lossy(&output.stderr);
        assert!(stderr.contains(advice), "{url}: {stderr}");
    }
}

/// A harness may stop the server the moment its ready file appears: the signal must
/// already be caught then, for a graceful stop and exit 0.
#[tokio::test]
async fn sigterm_as_soon_as_ready_is_a_clean_stop() {
    let database = TestDatabase::create().await;
    for _ in 0..3 {
        let mut server = RunningServer::start(&database, &[]);
        server.signal("-TERM");
        let status = server.child.wait().unwrap();
        assert!(status.success(), "exit status {status}");
    }
}

/// `HOST=0.0.0.0 cargo run` would have put the dev secrets and /admin/reset on every
/// interface: it stops instead, saying what to set, before starting anything.
#[test]
fn dev_defaults_on_a_public_interface_stop_startup() {
    let output = chirpy().env("HOST", "0.0.0.0").output().unwrap();
    assert!(!output.status.success());
    let stderr = String::from_utf8_lossy(&output.stderr);
    assert!(
        stderr.contains("refusing to serve PLATFORM=dev on HOST=0.0.0.0"),
        "{stderr}"
    );
    assert!(stderr.contains("ALLOW_DEV_ON_NETWORK=true"), "{stderr}");
    assert!(!stderr.contains("PostgreSQL"), "nothing was started: {stderr}");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn sigterm_under_load_finishes_in_flight_requests_and_exits_0() {
    let database = TestDatabase::create().await;
    // Two dozen logins of one account at once: more than the brute-force limit lets in
    // flight together, which is what this test wants.
    let mut server = RunningServer::start(&database, &[("LOGIN_MAX_FAILURES_PER_EMAIL", "100")]);
    let client = reqwest::Client::new();
    let base = server.base.clone();
    sign_up_and_log_in(&client, &base, "walt@example.com").await;

    // Logins queue for the hashing permits, so many are in flight at once.
    let logins: Vec<_> = (0..24)
        .map(|_| {
            let (client, base) = (client.clone(), base.clone());
            tokio::spawn(async move {
                let login = json!({"email": "walt@example.com", "password": "pw"});
                let resp = client.post(format!("{base}/api/login")).json(&login).send().await;
                (resp.map(|r| r.status()), Instant::now())
            })
        })
        .collect();
    tokio::time::sleep(Duration::from_millis(150)).await;
    let signalled = Instant::now();
    server.signal("-TERM");

    let mut finished_after_signal = 0;
    for login in logins {
        let (status, finished) = login.await.unwrap();
        assert_eq!(status.expect("an in-flight request was dropped"), 200);
        finished_after_signal += usize::from(finished > signalled);
    }
    assert!(finished_after_signal > 0, "the test must catch requests in flight");
    let status = server.child.wait().unwrap();
    assert!(status.success(), "exit status {status}");
    assert!(server.logged("shutdown signal received"));
    assert!(
        reqwest::get(format!("{base}/api/healthz")).await.is_err(),
        "no longer listening"
    );
}

/// A password change and the revocation of the user's refresh tokens commit together or
/// not at all, even when the process is killed outright in the middle of many of them.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn kill_9_during_password_changes_leaves_no_partial_state() {
    let database = TestDatabase::create().await;
    let server = RunningServer::start(&database, &[]);
    let client = reqwest::Client::new();
    let base = server.base.clone();
    let mut sessions = Vec::new();
    for n in 0..6 {
        let email = format!("user{n}@example.com");
        sign_up_and_log_in(&client, &base, &email).await;
        sessions.push((email.clone(), access_token(&client, &base, &email).await));
    }
    let writers: Vec<_> = sessions
        .into_iter()
        .map(|(email, token)| {
            let (client, base) = (client.clone(), base.clone());
            tokio::spawn(async move {
                for round in 0.. {
                    let body = json!({"email": email, "password": format!("pw{round}")});
                    let sent = client
                        .put(format!("{base}/api/users"))
                        .bearer_auth(&token)
                        .json(&body)
                        .send()
                        .await;
                    if sent.is_err() {
                        break;
                    }
                }
            })
        })
        .collect();
    tokio::time::sleep(Duration::from_millis(500)).await;
    server.signal("-KILL");
    for writer in writers {
        writer.await.unwrap();
    }

    let pool = sqlx::PgPool::connect_with(database.options()).await.unwrap();
    let changed: i64 = sqlx::query_scalar("select count(*) from users where updated_at > created_at")
        .fetch_one(&pool)
        .await
        .unwrap();
    assert!(changed > 0, "some password changes must have committed before the kill");
    let orphaned: i64 = sqlx::query_scalar(
        "select count(*) from refresh_tokens t join users u on u.id = t.user_id
         where t.revoked_at is null and t.created_at < u.updated_at",
    )
    .fetch_one(&pool)
    .await
    .unwrap();
    assert_eq!(
        orphaned, 0,
        "a committed password change left older refresh tokens alive"
    );
}

/// Logs in again: a second session, with its own refresh token.
async fn access_token(client: &reqwest::Client, base: &str, email: &str) -> String {
    let login = json!({"email": email, "password": "pw"});
    let session: serde_json::Value = client
        .post(format!("{base}/api/login"))
        .json(&login)
        .send()
        .await
        .unwrap()
        .json()
        .await
        .unwrap();
    session["token"].as_str().unwrap().to_owned()
}
