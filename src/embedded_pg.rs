//! A private PostgreSQL cluster, run with the machine's own server binaries, for when no
//! `DATABASE_URL` is given: `cargo run` keeps one under `.data/postgres`, and the tests
//! start a throwaway one per run.
//!
//! The cluster listens only on a unix socket inside its data directory (mode 0700), so no
//! port can clash and no other local user can connect; that is also why `trust` auth is safe.
//! `initdb` and `postgres` refuse to run as root, so as root they run as the `postgres` user.

use std::{
    fs, io,
    os::unix::{
        fs::{MetadataExt, PermissionsExt},
        process::CommandExt,
    },
    path::{Path, PathBuf},
    process::{Command, Output, Stdio},
};

use sqlx::postgres::PgConnectOptions;

const SUPERUSER: &str = "postgres";
/// Unix socket paths are limited to 107 bytes; leave room for `/.s.PGSQL.5432`.
const MAX_SOCKET_DIR_LEN: usize = 90;

#[derive(Debug, thiserror::Error)]
pub enum EmbeddedPgError {
    #[error(
        "no DATABASE_URL and no PostgreSQL server binaries (initdb, pg_ctl) on PATH or under \
         /usr/lib/postgresql/*/bin: install PostgreSQL (Debian: `apt-get install postgresql`) \
         or set DATABASE_URL"
    )]
    NoBinaries,
    #[error(
        "running as root, the embedded PostgreSQL must run as the `postgres` user, which does \
         not exist: create it (installing PostgreSQL does) or set DATABASE_URL"
    )]
    NoPostgresUser,
    #[error("{path} exists but is not a PostgreSQL data directory; remove it or set DATABASE_URL")]
    NotACluster { path: String },
    #[error("{what} failed: {detail}")]
    Command { what: String, detail: String },
    #[error("{what}: {source}")]
    Io { what: String, source: io::Error },
}

fn io_error(what: impl Into<String>) -> impl FnOnce(io::Error) -> EmbeddedPgError {
    let what = what.into();
    move |source| EmbeddedPgError::Io { what, source }
}

/// The user the cluster runs as, when that is not us.
#[derive(Debug, Clone, Copy)]
struct Owner {
    uid: u32,
    gid: u32,
}

/// How the cluster trades durability for speed.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Durability {
    /// PostgreSQL's defaults: for data someone may care about.
    Full,
    /// No fsync: for throwaway test data, several times faster.
    Throwaway,
}

#[derive(Debug)]
pub struct EmbeddedPostgres {
    data_dir: PathBuf,
    bin_dir: PathBuf,
    owner: Option<Owner>,
    durability: Durability,
    /// Whether this process started the server (and so should stop it).
    started_here: bool,
}

impl EmbeddedPostgres {
    /// The development cluster: `preferred_dir` (created and initialised on first use), or a
    /// directory under the system temp dir when the `postgres` user cannot reach
    /// `preferred_dir` (a project under root's home) or its path is too long for a socket.
    /// Reuses the server if it is already running.
    pub fn start_dev(preferred_dir: &Path) -> Result<Self, EmbeddedPgError> {
        let bin_dir = find_bin_dir().ok_or(EmbeddedPgError::NoBinaries)?;
        let owner = owner()?;
        let preferred = std::path::absolute(preferred_dir).map_err(io_error("resolving the data directory"))?;
        let data_dir = if usable_data_dir(&preferred, owner) {
            preferred
        } else {
            let fallback = std::env::temp_dir().join(format!(
                "chirpy-dev-{:016x}",
                fnv1a(preferred.as_os_str().as_encoded_bytes())
            ));
            tracing::info!(preferred = %preferred.display(), fallback = %fallback.display(),
                "the postgres user cannot use the project directory; keeping the dev database in the temp dir");
            fallback
        };
        Self::start(data_dir, bin_dir, owner, Durability::Full)
    }

    /// A cluster that lives as long as this process: it is created in a fresh temp
    /// directory, and a watchdog stops and deletes it once this process exits, however
    /// it exits.
    pub fn start_throwaway() -> Result<Self, EmbeddedPgError> {
        let bin_dir = find_bin_dir().ok_or(EmbeddedPgError::NoBinaries)?;
        let owner = owner()?;
        let nanos = std::time::SystemTime::now()
            .duration_since(std::time::UNIX_EPOCH)
            .map_or(0, |d| d.subsec_nanos());
        let data_dir = std::env::temp_dir().join(format!("chirpy-test-{}-{nanos:x}", std::process::id()));
        let cluster = Self::start(data_dir, bin_dir, owner, Durability::Throwaway)?;
        cluster.remove_when_process_exits()?;
        Ok(cluster)
    }

    fn start(
        data_dir: PathBuf,
        bin_dir: PathBuf,
        owner: Option<Owner>,
        durability: Durability,
    ) -> Result<Self, EmbeddedPgError> {
        let mut cluster = Self {
            data_dir,
            bin_dir,
            owner,
            durability,
            started_here: false,
        };
        if !cluster.data_dir.join("PG_VERSION").is_file() {
            cluster.init()?;
        }
        if cluster.is_running() {
            tracing::info!(data_dir = %cluster.data_dir.display(), "reusing the running embedded PostgreSQL");
            return Ok(cluster);
        }
        cluster.launch()?;
        tracing::info!(url = %cluster.url("chirpy"), "embedded PostgreSQL started");
        Ok(cluster)
    }

    /// Starts the server again after [`EmbeddedPostgres::stop`] (tests use this to simulate
    /// an outage and the recovery after it).
    pub fn start_again(&mut self) -> Result<(), EmbeddedPgError> {
        self.launch()
    }

    fn launch(&mut self) -> Result<(), EmbeddedPgError> {
        let dir = self.data_dir.to_str().filter(|d| !d.contains(['\'', '\\']));
        let dir = dir.ok_or_else(|| EmbeddedPgError::Command {
            what: "starting PostgreSQL".into(),
            detail: format!("unsupported characters in {}", self.data_dir.display()),
        })?;
        let mut options = format!("-c listen_addresses='' -c unix_socket_directories='{dir}'");
        if self.durability == Durability::Throwaway {
            options.push_str(" -c fsync=off -c synchronous_commit=off -c full_page_writes=off -c max_connections=300");
        }
        let log = self.data_dir.join("server.log");
        let mut pg_ctl = self.command("pg_ctl");
        pg_ctl
            .arg("start")
            .arg("--wait")
            .arg("--timeout=60")
            .arg("-D")
            .arg(&self.data_dir)
            .arg("-l")
            .arg(&log);
        pg_ctl.arg("-o").arg(options);
        run(pg_ctl, "starting PostgreSQL", Some(&log))?;
        self.started_here = true;
        Ok(())
    }

    fn init(&self) -> Result<(), EmbeddedPgError> {
        let dir = &self.data_dir;
        if dir.exists()
            && fs::read_dir(dir)
                .map_err(io_error(format!("reading {}", dir.display())))?
                .next()
                .is_some()
        {
            return Err(EmbeddedPgError::NotACluster {
                path: dir.display().to_string(),
            });
        }
        prepare_dir(dir, self.owner)?;
        tracing::info!(data_dir = %dir.display(), "creating the embedded PostgreSQL cluster");
        let mut initdb = self.command("initdb");
        initdb.arg("-D").arg(dir).args([
            &format!("--username={SUPERUSER}"),
            "--auth=trust",
            "--encoding=UTF8",
            "--locale=C.UTF-8",
            "--no-instructions",
        ]);
        run(initdb, "initdb", None).map(drop)
    }

    fn is_running(&self) -> bool {
        let mut status = self.command("pg_ctl");
        status
            .arg("status")
            .arg("-D")
            .arg(&self.data_dir)
            .stdout(Stdio::null())
            .stderr(Stdio::null());
        status.status().is_ok_and(|s| s.success())
    }

    /// Stops the server if this process started it.
    pub fn stop(&self) -> Result<(), EmbeddedPgError> {
        if !self.started_here {
            return Ok(());
        }
        let mut pg_ctl = self.command("pg_ctl");
        pg_ctl
            .arg("stop")
            .arg("--wait")
            .arg("-m")
            .arg("fast")
            .arg("-D")
            .arg(&self.data_dir);
        run(pg_ctl, "stopping PostgreSQL", None)?;
        tracing::info!("embedded PostgreSQL stopped");
        Ok(())
    }

    /// Connection options for `database` as the superuser, over the unix socket.
    pub fn connect_options(&self, database: &str) -> PgConnectOptions {
        PgConnectOptions::new()
            .socket(&self.data_dir)
            .username(SUPERUSER)
            .database(database)
    }

    /// The same, as a URL for `psql` or `DATABASE_URL`.
    pub fn url(&self, database: &str) -> String {
        format!(
            "postgres://{SUPERUSER}@localhost/{database}?host={}",
            self.data_dir.display()
        )
    }

    pub fn data_dir(&self) -> &Path {
        &self.data_dir
    }

    fn command(&self, program: &str) -> Command {
        let mut command = Command::new(self.bin_dir.join(program));
        if let Some(owner) = self.owner {
            // std also drops root's supplementary groups when it changes uid.
            command.uid(owner.uid).gid(owner.gid);
        }
        command
    }

    /// `tail --pid` waits for this process even though, as another user, it may not signal
    /// it; its own process group keeps a terminal's Ctrl-C from killing it before cleanup.
    fn remove_when_process_exits(&self) -> Result<(), EmbeddedPgError> {
        let mut watchdog = Command::new("sh");
        if let Some(owner) = self.owner {
            watchdog.uid(owner.uid).gid(owner.gid);
        }
        watchdog
            .arg("-c")
            .arg(r#"tail --pid="$1" -f /dev/null; "$2" stop -m immediate -D "$3" >/dev/null 2>&1; rm -rf "$3""#)
            .arg("chirpy-pg-watchdog")
            .arg(std::process::id().to_string())
            .arg(self.bin_dir.join("pg_ctl"))
            .arg(&self.data_dir)
            .stdin(Stdio::null())
            .stdout(Stdio::null())
            .stderr(Stdio::null())
            .process_group(0)
            .spawn()
            .map_err(io_error("starting the cleanup watchdog"))?;
        Ok(())
    }
}

/// Runs a PostgreSQL tool; on failure reports its output (and the server log, if given).
fn run(mut command: Command, what: &str, log: Option<&Path>) -> Result<Output, EmbeddedPgError> {
    let output = command.stdin(Stdio::null()).output().map_err(io_error(what))?;
    if output.status.success() {
        return Ok(output);
    }
    let mut detail = String::from_utf8_lossy(&output.stderr).trim().to_owned();
    if let Some(tail) = log.and_then(|log| fs::read_to_string(log).ok()) {
        let last: Vec<&str> = tail.lines().rev().take(5).collect();
        detail.push_str("\nserver log:\n");
        detail.push_str(&last.into_iter().rev().collect::<Vec<_>>().join("\n"));
    }
    Err(EmbeddedPgError::Command {
        what: what.to_owned(),
        detail,
    })
}

/// Creates `dir` (mode 0700), owned by whoever will run the server.
fn prepare_dir(dir: &Path, owner: Option<Owner>) -> Result<(), EmbeddedPgError> {
    fs::create_dir_all(dir).map_err(io_error(format!("creating {}", dir.display())))?;
    fs::set_permissions(dir, fs::Permissions::from_mode(0o700))
        .map_err(io_error(format!("securing {}", dir.display())))?;
    if let Some(owner) = owner {
        std::os::unix::fs::chown(dir, Some(owner.uid), Some(owner.gid))
            .map_err(io_error(format!("handing {} to the postgres user", dir.display())))?;
    }
    Ok(())
}

/// Whether the cluster can live in `dir`: its socket path fits, and the user running the
/// server can reach it (every ancestor must be searchable by them).
fn usable_data_dir(dir: &Path, owner: Option<Owner>) -> bool {
    if dir.as_os_str().len() > MAX_SOCKET_DIR_LEN {
        return false;
    }
    let Some(owner) = owner else { return true };
    dir.ancestors().skip(1).all(|ancestor| match fs::metadata(ancestor) {
        Ok(meta) => {
            let mode = meta.mode();
            mode & 0o001 != 0
                || (meta.uid() == owner.uid && mode & 0o100 != 0)
                || (meta.gid() == owner.gid && mode & 0o010 != 0)
        }
        // Not there yet: it will be created by us, searchable by all.
        Err(_) => true,
    })
}

/// `Some(postgres)` when running as root, since PostgreSQL refuses to run as root.
fn owner() -> Result<Option<Owner>, EmbeddedPgError> {
    // The owner of /proc/self is this process's effective uid: no unsafe libc call needed.
    let euid = fs::metadata("/proc/self")
        .map(|m| m.uid())
        .map_err(io_error("reading /proc/self"))?;
    if euid != 0 {
        return Ok(None);
    }
    let passwd = fs::read_to_string("/etc/passwd").map_err(io_error("reading /etc/passwd"))?;
    passwd
        .lines()
        .find_map(|line| {
            let fields: Vec<&str> = line.split(':').collect();
            match fields.as_slice() {
                [name, _, uid, gid, ..] if *name == SUPERUSER => Some(Owner {
                    uid: uid.parse().ok()?,
                    gid: gid.parse().ok()?,
                }),
                _ => None,
            }
        })
        .map(Some)
        .ok_or(EmbeddedPgError::NoPostgresUser)
}

/// The directory holding `initdb` and `pg_ctl`: from PATH, else Debian's versioned
/// directories, newest first.
fn find_bin_dir() -> Option<PathBuf> {
    let has_tools = |dir: &Path| dir.join("initdb").is_file() && dir.join("pg_ctl").is_file();
    let on_path = std::env::var_os("PATH").and_then(|path| {
        std::env::split_paths(&path)
            .filter(|dir| has_tools(dir))
            // Follow links such as /usr/local/bin/initdb to the real install, where `postgres` lives too.
            .find_map(|dir| {
                fs::canonicalize(dir.join("initdb"))
                    .ok()?
                    .parent()
                    .map(Path::to_path_buf)
            })
    });
    on_path.filter(|dir| has_tools(dir)).or_else(|| {
        let mut versions: Vec<(u32, PathBuf)> = fs::read_dir("/usr/lib/postgresql")
            .ok()?
            .filter_map(|entry| {
                let entry = entry.ok()?;
                let version = entry.file_name().to_str()?.parse().ok()?;
                Some((version, entry.path().join("bin")))
            })
            .filter(|(_, bin)| has_tools(bin))
            .collect();
        versions.sort();
        versions.pop().map(|(_, bin)| bin)
    })
}

/// A stable name for a fallback directory (std's hasher may change between releases).
fn fnv1a(bytes: &[u8]) -> u64 {
    bytes.iter().fold(0xcbf2_9ce4_8422_2325, |hash, &byte| {
        (hash ^ u64::from(byte)).wrapping_mul(0x0100_0000_01b3)
    })
}
