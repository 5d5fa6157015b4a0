//! A real server on a loopback port over a real PostgreSQL: a fresh, migrated database
//! per test, on the server `DATABASE_URL` names or else on one throwaway cluster per run.

use std::time::Duration;

use chirpy::{
    config::Config,
    state::AppState,
    store::{self as db, Databases, PoolSettings},
};
use devpg::Cluster;
use reqwest::{Response, StatusCode};
use serde_json::{Value, json};
use sqlx::{Connection, PgConnection, PgPool, postgres::PgConnectOptions};
use tokio::sync::OnceCell;
use uuid::Uuid;

pub const JWT_SECRET: &str = "test-jwt-secret-0123456789abcdef";
pub const POLKA_KEY: &str = "test-polka-key";

/// Where test databases are created, and whether they are ours to drop afterwards.
struct DatabaseServer {
    options: PgConnectOptions,
    /// A URL for the server, for programs that take one; its database name is replaced.
    url: String,
    shared: bool,
    _cluster: Option<Cluster>,
}

static SERVER: OnceCell<DatabaseServer> = OnceCell::const_new();
static QUIET_SERVER: OnceCell<DatabaseServer> = OnceCell::const_new();

async fn database_server() -> &'static DatabaseServer {
    SERVER
        .get_or_init(|| async {
            match std::env::var("DATABASE_URL").ok().filter(|url| !url.is_empty()) {
                Some(url) => DatabaseServer {
                    options: url.parse().expect("DATABASE_URL is not a valid PostgreSQL URL"),
                    url,
                    shared: true,
                    _cluster: None,
                },
                None => throwaway_server(),
            }
        })
        .await
}

fn throwaway_server() -> DatabaseServer {
    let cluster = Cluster::throwaway().expect("starting a throwaway PostgreSQL");
    let url = cluster.url("postgres");
    DatabaseServer {
        options: url.parse().expect("devpg gives a valid URL"),
        url,
        shared: false,
        _cluster: Some(cluster),
    }
}

/// The live feed delivers an event once every older write transaction of its cluster has
/// ended (see `feed`), and the other tests keep migrating databases in theirs: the tests
/// that time the feed take turns, holding this, on a cluster of their own.
pub static FEED_TURN: tokio::sync::Mutex<()> = tokio::sync::Mutex::const_new(());

/// Starts the app as [`spawn_app_with`] does, on a fresh database of the feed tests' own
/// cluster (hold [`FEED_TURN`]).
pub async fn spawn_feed_app(adjust: impl FnOnce(&mut Config)) -> TestApp {
    let database = TestDatabase::create_on(QUIET_SERVER.get_or_init(|| async { throwaway_server() }).await).await;
    let mut app = spawn_app_on(database.options(), adjust).await;
    app._database = Some(database);
    app
}

pub struct TestApp {
    pub base: String,
    pub client: reqwest::Client,
    /// The test's own database, for looking behind the API.
    pub db: PgPool,
    /// The instance's own state, for looking behind the API (its cache, say).
    pub state: AppState,
    /// `http://…/metrics`, when the test set `METRICS_ADDR`.
    pub metrics_url: Option<String>,
    _database: Option<TestDatabase>,
}

/// A database of the test's own, created empty. On a shared server (`DATABASE_URL`) it is
/// dropped with this guard; a throwaway cluster is deleted whole when the run ends.
pub struct TestDatabase {
    pub name: String,
    options: PgConnectOptions,
    url: String,
    server: &'static DatabaseServer,
}

impl TestDatabase {
    pub async fn create() -> Self {
        Self::create_on(database_server().await).await
    }

    async fn create_on(server: &'static DatabaseServer) -> Self {
        let name = format!("chirpy_test_{}", Uuid::new_v4().simple());
        db::create_database_if_missing(&server.options, &name)
            .await
            .expect("creating a test database");
        let (base, query) = server
            .url
            .split_once('?')
            .map_or((server.url.as_str(), None), |(b, q)| (b, Some(q)));
        let (server_part, _) = base.rsplit_once('/').expect("a URL with a database path");
        let url = match query {
            Some(query) => format!("{server_part}/{name}?{query}"),
            None => format!("{server_part}/{name}"),
        };
        Self {
            options: server.options.clone().database(&name),
            name,
            url,
            server,
        }
    }

    pub fn options(&self) -> PgConnectOptions {
        self.options.clone()
    }

    /// For programs that take a URL, such as the real binary.
    pub fn url(&self) -> &str {
        &self.url
    }
}

impl Drop for TestDatabase {
    fn drop(&mut self) {
        if !self.server.shared {
            return; // the throwaway cluster goes whole, at the end of the run
        }
        let (name, server) = (self.name.clone(), self.server);
        // Drop runs inside the test's runtime, which cannot be blocked on: use a thread.
        let dropped = std::thread::spawn(move || {
            let runtime = tokio::runtime::Builder::new_current_thread()
                .enable_all()
                .build()
                .unwrap();
            runtime.block_on(async {
                let mut conn = PgConnection::connect_with(&server.options).await?;
                let statement = format!("drop database if exists \"{name}\" with (force)");
                sqlx::raw_sql(sqlx::AssertSqlSafe(statement))
                    .execute(&mut conn)
                    .await
                    .map(drop)
            })
        })
        .join();
        if let Ok(Err(err)) = dropped {
            eprintln!("could not drop test database {}: {err}", self.name);
        }
    }
}

pub async fn spawn_app() -> TestApp {
    spawn_app_with(|_| {}).await
}

/// The configuration every test starts from: dev platform, known secrets. A
/// `CHIRP_CACHE_MIB` in the environment is passed on, so `CHIRP_CACHE_MIB=0 cargo test`
/// proves that the cache changes no answer (tests of the cache itself set their size).
pub fn test_config() -> Config {
    Config::from_lookup(|name| {
        let value = match name {
            "PLATFORM" => "dev",
            "JWT_SECRET" => JWT_SECRET,
            "POLKA_KEY" => POLKA_KEY,
            "CHIRP_CACHE_MIB" => return std::env::var(name).ok(),
            // The tests sign up and post faster than anyone may; the limits' own tests turn
            // them on.
            "RATE_LIMITS" => "off",
            _ => return None,
        };
        Some(value.to_owned())
    })
    .expect("test configuration")
}

/// Starts the app, on a fresh database of its own, with the test configuration as
/// adjusted by `adjust`.
pub async fn spawn_app_with(adjust: impl FnOnce(&mut Config)) -> TestApp {
    let database = TestDatabase::create().await;
    let mut app = spawn_app_on(database.options(), adjust).await;
    app._database = Some(database);
    app
}

/// Starts the app on the database `options` name.
pub async fn spawn_app_on(options: PgConnectOptions, adjust: impl FnOnce(&mut Config)) -> TestApp {
    spawn_app_on_databases(|pool| Databases::single(options, pool), adjust).await
}

/// Starts the app as the binary starts it (migrations, listening for other instances'
/// changes, housekeeping), on a loopback port, with the databases `databases` gives for
/// the configured pool settings.
pub async fn spawn_app_on_databases(
    databases: impl FnOnce(PoolSettings) -> Databases,
    adjust: impl FnOnce(&mut Config),
) -> TestApp {
    let mut config = test_config();
    config.port = 0;
    adjust(&mut config);
    let databases = databases(config.database.pool);
    let instance = chirpy::start(&config, &databases).await.expect("starting the app");
    let addr = instance.server.local_addr().expect("a socket address");
    let metrics_url = instance
        .server
        .metrics_addr()
        .map(|addr| format!("http://{addr}/metrics"));
    let db = instance.state.store.pool().clone();
    let state = instance.state.clone();
    tokio::spawn(instance.server.run_until(std::future::pending()));

    let client = reqwest::Client::builder()
        .timeout(Duration::from_secs(30))
        .build()
        .unwrap();
    TestApp {
        base: format!("http://{addr}"),
        client,
        db,
        state,
        metrics_url,
        _database: None,
    }
}

/// A logged-in user.
pub struct Session {
    pub user_id: Uuid,
    pub email: String,
    pub password: String,
    pub token: String,
    pub refresh_token: String,
}

impl TestApp {
    /// Its own database, for another instance to share.
    pub fn database_options(&self) -> PgConnectOptions {
        self._database
            .as_ref()
            .expect("an app with a database of its own")
            .options()
    }

    pub fn url(&self, path: &str) -> String {
        format!("{}{path}", self.base)
    }

    pub fn get(&self, path: &str) -> reqwest::RequestBuilder {
        self.client.get(self.url(path))
    }

    pub fn post(&self, path: &str) -> reqwest::RequestBuilder {
        self.client.post(self.url(path))
    }

    /// A POST whose body is sent as JSON exactly as given, for bodies a JSON encoder would
    /// never produce (malformed, wrongly typed, oversized).
    pub fn post_raw_json(&self, path: &str, body: impl Into<reqwest::Body>) -> reqwest::RequestBuilder {
        self.post(path).header("content-type", "application/json").body(body)
    }

    /// Every chirp's id, in id order: the list's order when created_at ties.
    pub async fn chirp_ids_in_id_order(&self) -> Vec<String> {
        let ids: Vec<Uuid> = sqlx::query_scalar("select id from chirps order by id")
            .fetch_all(&self.db)
            .await
            .unwrap();
        ids.iter().map(Uuid::to_string).collect()
    }

    pub fn put(&self, path: &str) -> reqwest::RequestBuilder {
        self.client.put(self.url(path))
    }

    pub fn delete(&self, path: &str) -> reqwest::RequestBuilder {
        self.client.delete(self.url(path))
    }

    pub async fn signup(&self, email: &str, password: &str) -> Value {
        let resp = self
            .post("/api/users")
            .json(&json!({"email": email, "password": password}))
            .send()
            .await
            .unwrap();
        json_body(resp, StatusCode::CREATED).await
    }

    pub async fn login(&self, email: &str, password: &str) -> Session {
        let resp = self
            .post("/api/login")
            .json(&json!({"email": email, "password": password}))
            .send()
            .await
            .unwrap();
        let body = json_body(resp, StatusCode::OK).await;
        Session {
            user_id: body["id"].as_str().unwrap().parse().unwrap(),
            email: email.to_owned(),
            password: password.to_owned(),
            token: body["token"].as_str().unwrap().to_owned(),
            refresh_token: body["refresh_token"].as_str().unwrap().to_owned(),
        }
    }

    /// Signs up a fresh user and logs them in.
    pub async fn user(&self) -> Session {
        let email = format!("user-{}@example.com", Uuid::new_v4().simple());
        self.signup(&email, "correct horse battery staple").await;
        self.login(&email, "correct horse battery staple").await
    }

    /// `PUT /api/users` with this access token and body.
    pub async fn update_user(&self, access_token: &str, body: &Value) -> Response {
        self.put("/api/users")
            .bearer_auth(access_token)
            .json(body)
            .send()
            .await
            .unwrap()
    }

    pub async fn refresh(&self, refresh_token: &str) -> Response {
        self.post("/api/refresh")
            .bearer_auth(refresh_token)
            .send()
            .await
            .unwrap()
    }

    pub async fn revoke(&self, refresh_token: &str) -> Response {
        self.post("/api/revoke")
            .bearer_auth(refresh_token)
            .send()
            .await
            .unwrap()
    }

    /// A Polka call with the given `Authorization` header value.
    pub async fn webhook(&self, authorization: &str, body: &Value) -> Response {
        self.post("/api/polka/webhooks")
            .header("authorization", authorization)
            .json(body)
            .send()
            .await
            .unwrap()
    }

    /// Rows in `table` of this test's database.
    pub async fn count(&self, table: &str) -> i64 {
        let query = format!("select count(*) from {table}");
        sqlx::query_scalar(sqlx::AssertSqlSafe(query))
            .fetch_one(&self.db)
            .await
            .unwrap()
    }

    /// `n` users made behind the API (no Argon2: for tests that need many), each with an
    /// access token from the server's own key. Their password is unusable.
    pub async fn quick_users(&self, n: usize) -> Vec<Session> {
        let ids: Vec<Uuid> = sqlx::query_scalar(
            "insert into users (email, email_key, hashed_password)
             select email, email, 'unusable'
               from (select 'quick-' || gen_random_uuid() || '@example.com' as email
                       from generate_series(1, $1)) as quick
             returning id",
        )
        .bind(n as i32)
        .fetch_all(&self.db)
        .await
        .unwrap();
        ids.into_iter()
            .map(|user_id| Session {
                user_id,
                email: String::new(),
                password: String::new(),
                token: self.state.access_tokens.issue(user_id).unwrap(),
                refresh_token: String::new(),
            })
            .collect()
    }

    /// `PUT` (follow) or `DELETE` (unfollow) `/api/users/{user_id}/follow` as `session`.
    pub async fn follow(&self, session: &Session, user_id: Uuid, follow: bool) -> StatusCode {
        let path = format!("/api/users/{user_id}/follow");
        let request = if follow { self.put(&path) } else { self.delete(&path) };
        request.bearer_auth(&session.token).send().await.unwrap().status()
    }

    /// The whole home timeline of `session`, newest first, read `limit` at a time by
    /// following the `Link` headers.
    pub async fn home(&self, session: &Session, limit: u32) -> Vec<Value> {
        let mut path = format!("/api/timelines/home?limit={limit}");
        let mut chirps = Vec::new();
        loop {
            let resp = self.get(&path).bearer_auth(&session.token).send().await.unwrap();
            let link = header(&resp, "link");
            let page = json_body(resp, StatusCode::OK).await;
            let page = page.as_array().unwrap();
            assert!(
                page.len() <= limit as usize,
                "{} chirps on a page of {limit}",
                page.len()
            );
            chirps.extend(page.iter().cloned());
            if link.is_empty() {
                return chirps;
            }
            assert_eq!(page.len(), limit as usize, "a page with a next is full");
            path = link
                .strip_prefix('<')
                .and_then(|rest| rest.split_once('>'))
                .map(|(url, _)| url.to_owned())
                .unwrap_or_else(|| panic!("a Link header: {link}"));
        }
    }

    pub async fn chirp(&self, session: &Session, body: &str) -> Value {
        let resp = self
            .post("/api/chirps")
            .bearer_auth(&session.token)
            .json(&json!({"body": body}))
            .send()
            .await
            .unwrap();
        json_body(resp, StatusCode::CREATED).await
    }
}

/// Asserts the status and a JSON body, and returns the body.
pub async fn json_body(resp: Response, status: StatusCode) -> Value {
    let actual = resp.status();
    let content_type = header(&resp, "content-type");
    let text = resp.text().await.unwrap();
    assert_eq!(actual, status, "body: {text}");
    assert_eq!(content_type, "application/json; charset=utf-8", "body: {text}");
    serde_json::from_str(&text).unwrap_or_else(|err| panic!("not JSON ({err}): {text}"))
}

/// Asserts a contract error: the status, a JSON content type, and a body that is exactly
/// `{"error": "<non-empty message>"}`. Returns the message.
pub async fn error_message(resp: Response, status: StatusCode) -> String {
    let body = json_body(resp, status).await;
    let object = body.as_object().unwrap_or_else(|| panic!("not an object: {body}"));
    assert_eq!(object.len(), 1, "only `error` expected: {body}");
    let message = object["error"]
        .as_str()
        .unwrap_or_else(|| panic!("`error` is not a string: {body}"));
    assert!(!message.is_empty());
    message.to_owned()
}

pub fn header(resp: &Response, name: &str) -> String {
    resp.headers()
        .get(name)
        .map(|v| v.to_str().unwrap().to_owned())
        .unwrap_or_default()
}

/// `2026-11-24T06:47:53.382250Z`: UTC, microseconds, `Z`.
pub fn assert_timestamp(value: &Value) {
    let text = value
        .as_str()
        .unwrap_or_else(|| panic!("timestamp is not a string: {value}"));
    let shape: String = text.chars().map(|c| if c.is_ascii_digit() { '9' } else { c }).collect();
    assert_eq!(shape, "9999-99-99T99:99:99.999999Z", "{text}");
    assert!(chrono::DateTime::parse_from_rfc3339(text).is_ok(), "{text}");
}

/// Signs `claims` as a JWT the way an attacker might: any algorithm, any key.
pub fn sign(claims: &Value, algorithm: jsonwebtoken::Algorithm, secret: &str) -> String {
    let header = jsonwebtoken::Header::new(algorithm);
    jsonwebtoken::encode(
        &header,
        claims,
        &jsonwebtoken::EncodingKey::from_secret(secret.as_bytes()),
    )
    .unwrap()
}

/// An unsigned token (`alg: none`), which must never be accepted.
pub fn unsigned(claims: &Value) -> String {
    format!(
        "{}.{}.",
        base64url(br#"{"alg":"none","typ":"JWT"}"#),
        base64url(claims.to_string().as_bytes())
    )
}

fn base64url(bytes: &[u8]) -> String {
    const ALPHABET: &[u8; 64] = b"ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789-_";
    let mut out = String::new();
    for chunk in bytes.chunks(3) {
        let n = chunk
            .iter()
            .enumerate()
            .fold(0u32, |n, (i, &b)| n | u32::from(b) << (16 - 8 * i));
        for i in 0..=chunk.len() {
            out.push(ALPHABET[(n >> (18 - 6 * i) & 63) as usize] as char);
        }
    }
    out
}

/// Polls until `check` holds, for at most `within`.
pub async fn eventually(within: Duration, mut check: impl AsyncFnMut() -> bool) -> bool {
    let deadline = std::time::Instant::now() + within;
    while !check().await {
        if std::time::Instant::now() > deadline {
            return false;
        }
        tokio::time::sleep(Duration::from_millis(20)).await;
    }
    true
}

/// Sends raw bytes over TCP, for requests an HTTP client will not make. Returns the status.
pub async fn raw_request(app: &TestApp, request: &[u8]) -> (u16, String) {
    use tokio::io::{AsyncReadExt, AsyncWriteExt};
    let addr = app.base.trim_start_matches("http://");
    let mut stream = tokio::net::TcpStream::connect(addr).await.unwrap();
    stream.write_all(request).await.unwrap();
    let mut response = Vec::new();
    let _ = tokio::time::timeout(Duration::from_secs(10), stream.read_to_end(&mut response)).await;
    let text = String::from_utf8_lossy(&response).into_owned();
    let status = text.split(' ').nth(1).and_then(|s| s.parse().ok()).unwrap_or(0);
    (status, text)
}
