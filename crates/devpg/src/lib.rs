//! A private PostgreSQL cluster, run with the machine's own server binaries. The one place
//! that finds those binaries and starts a cluster: `cargo run` keeps its dev database here,
//! `chirpy serve --throwaway-db` and the tests get a throwaway one, and every harness gets
//! one through the `devpg` command.
//!
//! A cluster listens on a unix socket inside its data directory (mode 0700), so no port can
//! clash and no other local user can connect; that is also why `trust` auth is safe. With
//! [`Options::port`] it also listens on 127.0.0.1 (for a pooler or a streaming replica), and
//! then any local user can connect: for throwaway clusters on a developer's machine only.
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

const SUPERUSER: &str = "postgres";
/// Unix socket paths are limited to 107 bytes; leave room for `/.s.PGSQL.65535`.
const MAX_SOCKET_DIR_LEN: usize = 90;

#[derive(Debug)]
pub enum Error {
    NoBinaries,
    NoPostgresUser,
    NotACluster { path: String },
    Command { what: String, detail: String },
    Io { what: String, source: io::Error },
}

impl std::fmt::Display for Error {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        match self {
            Self::NoBinaries => f.write_str(
                "no PostgreSQL server binaries (initdb, pg_ctl) on PATH or under /usr/lib/postgresql/*/bin: \
                 install PostgreSQL (Debian: `apt-get install postgresql`) or set DATABASE_URL",
            ),
            Self::NoPostgresUser => f.write_str(
                "running as root, PostgreSQL must run as the `postgres` user, which does not exist: \
                 create it (installing PostgreSQL does) or set DATABASE_URL",
            ),
            Self::NotACluster { path } => {
                write!(
                    f,
                    "{path} exists but is not a PostgreSQL data directory; remove it or set DATABASE_URL"
                )
            }
            Self::Command { what, detail } => write!(f, "{what} failed: {detail}"),
            Self::Io { what, source } => write!(f, "{what}: {source}"),
        }
    }
}

impl std::error::Error for Error {}

fn io_error(what: impl Into<String>) -> impl FnOnce(io::Error) -> Error {
    let what = what.into();
    move |source| Error::Io { what, source }
}

/// The user the cluster runs as, when that is not us.
#[derive(Debug, Clone, Copy)]
struct Owner {
    uid: u32,
    gid: u32,
}

/// What kind of cluster to start.
#[derive(Debug, Clone, Default)]
pub struct Options {
    /// Keep the cluster here (created on first use, reused after). `None`: a fresh directory
    /// in the temp dir, deleted with the cluster when this process exits, however it exits.
    pub data_dir: Option<PathBuf>,
    /// Also listen on 127.0.0.1 at this port (0: an unused one), for TCP clients.
    pub port: Option<u16>,
    /// Make the cluster a streaming replica of this server (a libpq connection string or
    /// URL of a primary that allows replication connections), with `pg_basebackup -R`.
    pub replica_of: Option<String>,
    /// Extra `name=value` server settings.
    pub settings: Vec<String>,
}

/// Settings for data nobody will keep: several times faster, unsafe on a crash.
const THROWAWAY_SETTINGS: &[&str] = &["fsync=off", "synchronous_commit=off", "full_page_writes=off"];
/// Harnesses open many connections (a pool per test database); a replica needs at least
/// its primary's count, so every cluster uses this one.
const MAX_CONNECTIONS: &str = "max_connections=300";

#[derive(Debug)]
pub struct Cluster {
    data_dir: PathBuf,
    bin_dir: PathBuf,
    owner: Option<Owner>,
    port: u16,
    settings: Vec<String>,
    /// Whether this process started the server (and so should stop it).
    started_here: bool,
}

impl Cluster {
    /// The development cluster: `preferred_dir` (created and initialised on first use), or a
    /// directory under the system temp dir when the `postgres` user cannot reach
    /// `preferred_dir` (a project under root's home) or its path is too long for a socket.
    /// Reuses the server if it is already running. Data is kept, with PostgreSQL's own
    /// durability.
    pub fn dev(preferred_dir: &Path) -> Result<Self, Error> {
        let owner = owner()?;
        let preferred = std::path::absolute(preferred_dir).map_err(io_error("resolving the data directory"))?;
        let data_dir = if usable_data_dir(&preferred, owner) {
            preferred
        } else {
            std::env::temp_dir().join(format!(
                "chirpy-dev-{:016x}",
                fnv1a(preferred.as_os_str().as_encoded_bytes())
            ))
        };
        Self::start(&Options {
            data_dir: Some(data_dir),
            ..Options::default()
        })
    }

    /// A throwaway cluster on a unix socket only: what the tests use.
    pub fn throwaway() -> Result<Self, Error> {
        Self::start(&Options::default())
    }

    /// Starts (or reuses) a cluster as `options` say.
    pub fn start(options: &Options) -> Result<Self, Error> {
        let bin_dir = bin_dir().ok_or(Error::NoBinaries)?;
        let owner = owner()?;
        let throwaway = options.data_dir.is_none();
        let data_dir = match &options.data_dir {
            Some(dir) => std::path::absolute(dir).map_err(io_error("resolving the data directory"))?,
            None => fresh_temp_dir(),
        };
        let mut settings: Vec<String> = vec![MAX_CONNECTIONS.to_owned()];
        if throwaway {
            settings.extend(THROWAWAY_SETTINGS.iter().map(|s| (*s).to_owned()));
        }
        settings.extend(options.settings.iter().cloned());
        let port = match options.port {
            Some(0) => unused_port()?,
            Some(port) => port,
            None => 5432,
        };
        if options.port.is_some() {
            settings.push("listen_addresses='127.0.0.1'".to_owned());
        } else {
            settings.push("listen_addresses=''".to_owned());
        }
        settings.push(format!("port={port}"));
        let mut cluster = Self {
            data_dir,
            bin_dir,
            owner,
            port,
            settings,
            started_here: false,
        };
        if !cluster.data_dir.join("PG_VERSION").is_file() {
            match &options.replica_of {
                Some(primary) => cluster.base_backup(primary)?,
                None => cluster.init()?,
            }
        }
        if throwaway {
            cluster.remove_when_process_exits()?;
        }
        if cluster.is_running() {
            cluster.port = cluster.running_port().unwrap_or(cluster.port);
            return Ok(cluster);
        }
        cluster.launch()?;
        Ok(cluster)
    }

    /// Whether this process started the server rather than finding it running.
    pub fn started_here(&self) -> bool {
        self.started_here
    }

    /// Starts the server again after [`Cluster::stop`] (tests use this to simulate an
    /// outage and the recovery after it).
    pub fn start_again(&mut self) -> Result<(), Error> {
        self.launch()
    }

    fn launch(&mut self) -> Result<(), Error> {
        let dir = self.data_dir.to_str().filter(|d| !d.contains(['\'', '\\', ' ']));
        let dir = dir.ok_or_else(|| Error::Command {
            what: "starting PostgreSQL".into(),
            detail: format!("unsupported characters in {}", self.data_dir.display()),
        })?;
        let mut options = format!("-c unix_socket_directories='{dir}'");
        for setting in &self.settings {
            options.push_str(" -c ");
            options.push_str(setting);
        }
        let log = self.data_dir.join("server.log");
        let mut pg_ctl = self.command("pg_ctl");
        pg_ctl
            .args(["start", "--wait", "--timeout=60", "-D"])
            .arg(&self.data_dir)
            .arg("-l")
            .arg(&log)
            .arg("-o")
            .arg(options);
        run(pg_ctl, "starting PostgreSQL", Some(&log))?;
        self.started_here = true;
        Ok(())
    }

    fn init(&self) -> Result<(), Error> {
        self.prepare_empty_dir()?;
        let mut initdb = self.command("initdb");
        initdb.arg("-D").arg(&self.data_dir).args([
            &format!("--username={SUPERUSER}"),
            "--auth=trust",
            "--encoding=UTF8",
            "--locale=C.UTF-8",
            "--no-instructions",
        ]);
        run(initdb, "initdb", None).map(drop)
    }

    /// A copy of `primary`, set up to follow it (`standby.signal` and `primary_conninfo`).
    fn base_backup(&self, primary: &str) -> Result<(), Error> {
        self.prepare_empty_dir()?;
        let mut backup = self.command("pg_basebackup");
        backup
            .arg("-D")
            .arg(&self.data_dir)
            .args(["-R", "-X", "stream", "--checkpoint=fast", "-d", primary]);
        run(backup, "pg_basebackup", None)?;
        // The copy brings the primary's log; start this one's afresh.
        let _ = fs::remove_file(self.data_dir.join("server.log"));
        Ok(())
    }

    fn prepare_empty_dir(&self) -> Result<(), Error> {
        let dir = &self.data_dir;
        if dir.exists()
            && fs::read_dir(dir)
                .map_err(io_error(format!("reading {}", dir.display())))?
                .next()
                .is_some()
        {
            return Err(Error::NotACluster {
                path: dir.display().to_string(),
            });
        }
        fs::create_dir_all(dir).map_err(io_error(format!("creating {}", dir.display())))?;
        fs::set_permissions(dir, fs::Permissions::from_mode(0o700))
            .map_err(io_error(format!("securing {}", dir.display())))?;
        if let Some(owner) = self.owner {
            std::os::unix::fs::chown(dir, Some(owner.uid), Some(owner.gid))
                .map_err(io_error(format!("handing {} to the postgres user", dir.display())))?;
        }
        Ok(())
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

    /// The port of a server found running (line 4 of `postmaster.pid`).
    fn running_port(&self) -> Option<u16> {
        let pid_file = fs::read_to_string(self.data_dir.join("postmaster.pid")).ok()?;
        pid_file.lines().nth(3)?.trim().parse().ok()
    }

    /// Stops the server if this process started it.
    pub fn stop(&self) -> Result<(), Error> {
        if !self.started_here {
            return Ok(());
        }
        stop(&self.bin_dir, self.owner, &self.data_dir)
    }

    /// A URL for `database` as the superuser over the unix socket, for `psql`, sqlx or
    /// `DATABASE_URL`.
    pub fn url(&self, database: &str) -> String {
        format!(
            "postgres://{SUPERUSER}@localhost:{}/{database}?host={}",
            self.port,
            self.data_dir.display()
        )
    }

    /// The same over TCP, when the cluster listens on 127.0.0.1.
    pub fn tcp_url(&self, database: &str) -> String {
        format!("postgres://{SUPERUSER}@127.0.0.1:{}/{database}", self.port)
    }

    pub fn port(&self) -> u16 {
        self.port
    }

    pub fn data_dir(&self) -> &Path {
        &self.data_dir
    }

    /// Where `pg_ctl`, `psql`, `pgbench` and the rest of this PostgreSQL live.
    pub fn bin_dir(&self) -> &Path {
        &self.bin_dir
    }

    /// The server's process id, while it runs.
    pub fn postmaster_pid(&self) -> Option<u32> {
        let pid_file = fs::read_to_string(self.data_dir.join("postmaster.pid")).ok()?;
        pid_file.lines().next()?.trim().parse().ok()
    }

    fn command(&self, program: &str) -> Command {
        as_owner(Command::new(self.bin_dir.join(program)), self.owner)
    }

    /// `tail --pid` waits for this process even though, as another user, it may not signal
    /// it; its own process group keeps a terminal's Ctrl-C from killing it before cleanup.
    fn remove_when_process_exits(&self) -> Result<(), Error> {
        as_owner(Command::new("sh"), self.owner)
            .arg("-c")
            .arg(r#"tail --pid="$1" -f /dev/null; "$2" stop -m immediate -D "$3" >/dev/null 2>&1; rm -rf "$3""#)
            .arg("devpg-watchdog")
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

/// Stops whatever cluster runs in `data_dir` (`devpg stop`, `just clean-db`); a cluster
/// that is not running is left as it is.
pub fn stop_data_dir(data_dir: &Path) -> Result<(), Error> {
    let bin_dir = bin_dir().ok_or(Error::NoBinaries)?;
    let owner = owner()?;
    if !data_dir.join("postmaster.pid").exists() {
        return Ok(());
    }
    stop(&bin_dir, owner, data_dir)
}

fn stop(bin_dir: &Path, owner: Option<Owner>, data_dir: &Path) -> Result<(), Error> {
    let mut pg_ctl = as_owner(Command::new(bin_dir.join("pg_ctl")), owner);
    pg_ctl.args(["stop", "--wait", "-m", "fast", "-D"]).arg(data_dir);
    run(pg_ctl, "stopping PostgreSQL", None).map(drop)
}

fn as_owner(mut command: Command, owner: Option<Owner>) -> Command {
    if let Some(owner) = owner {
        // std also drops root's supplementary groups when it changes uid.
        command.uid(owner.uid).gid(owner.gid);
    }
    command
}

/// Runs a PostgreSQL tool; on failure reports its output (and the server log, if given).
fn run(mut command: Command, what: &str, log: Option<&Path>) -> Result<Output, Error> {
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
    Err(Error::Command {
        what: what.to_owned(),
        detail,
    })
}

fn fresh_temp_dir() -> PathBuf {
    let nanos = std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .map_or(0, |d| d.subsec_nanos());
    std::env::temp_dir().join(format!("devpg-{}-{nanos:x}", std::process::id()))
}

/// A loopback port nobody listens on now (PostgreSQL binds it a moment later).
fn unused_port() -> Result<u16, Error> {
    let listener = std::net::TcpListener::bind("127.0.0.1:0").map_err(io_error("finding an unused port"))?;
    let port = listener
        .local_addr()
        .map_err(io_error("finding an unused port"))?
        .port();
    Ok(port)
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
fn owner() -> Result<Option<Owner>, Error> {
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
        .ok_or(Error::NoPostgresUser)
}

/// The directory holding `initdb` and `pg_ctl`: from PATH, else Debian's versioned
/// directories, newest first.
pub fn bin_dir() -> Option<PathBuf> {
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

/// Writes `value` to `path` as one JSON line, atomically (a reader never sees half of it):
/// how the launchers say they are ready.
pub fn write_ready_file(path: &Path, value: &serde_json::Value) -> io::Result<()> {
    let partial = path.with_extension("partial");
    fs::write(&partial, format!("{value}\n"))?;
    fs::rename(&partial, path)
}

/// Blocks until SIGINT or SIGTERM arrives, which then do nothing else: for a foreground
/// command that must clean up before it exits.
#[allow(unsafe_code)]
pub fn wait_for_termination() -> i32 {
    // SAFETY: plain libc calls on a sigset_t this function owns and initialises first.
    unsafe {
        let mut set: libc::sigset_t = std::mem::zeroed();
        libc::sigemptyset(&mut set);
        libc::sigaddset(&mut set, libc::SIGINT);
        libc::sigaddset(&mut set, libc::SIGTERM);
        libc::pthread_sigmask(libc::SIG_BLOCK, &set, std::ptr::null_mut());
        let mut signal = 0;
        libc::sigwait(&set, &mut signal);
        signal
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_throwaway_cluster_serves_and_is_gone_after_stop() {
        let cluster = Cluster::throwaway().expect("a throwaway cluster");
        assert!(cluster.postmaster_pid().is_some());
        let psql = cluster.bin_dir().join("psql");
        let out = Command::new(psql)
            .args(["-X", "-At", "-c", "select 40 + 2", &cluster.url("postgres")])
            .output()
            .unwrap();
        assert_eq!(String::from_utf8_lossy(&out.stdout).trim(), "42", "{out:?}");
        cluster.stop().unwrap();
        assert!(!cluster.is_running());
    }
}
