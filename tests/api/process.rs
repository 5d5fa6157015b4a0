//! The real `chirpy` binary as a child process, started the way every harness starts it:
//! `chirpy serve --ready-file`, its address read from that file.

use std::{
    io::{BufRead, BufReader},
    path::{Path, PathBuf},
    process::{Child, Command, Stdio},
    sync::{Arc, Mutex},
    time::{Duration, Instant},
};

use crate::helpers::TestDatabase;

/// The binary with a clean environment: no `.env` (it runs in a temp dir) and none of
/// the developer's own settings.
pub fn chirpy() -> Command {
    let mut command = Command::new(env!("CARGO_BIN_EXE_chirpy"));
    command
        .current_dir(std::env::temp_dir())
        .env_clear()
        .env("PATH", std::env::var_os("PATH").unwrap());
    command
}

/// A running server process, its address, and everything it has logged so far.
pub struct RunningServer {
    pub child: Child,
    pub base: String,
    /// From the ready file: where `/metrics` is served, if `METRICS_ADDR` was set.
    pub metrics_url: Option<String>,
    log: Arc<Mutex<Vec<String>>>,
    _run_dir: TempDir,
}

impl RunningServer {
    /// `chirpy serve --ready-file`: the address comes from the file the server writes once
    /// it serves, never from its log.
    pub fn start(database: &TestDatabase, extra_env: &[(&str, &str)]) -> Self {
        let mut command = chirpy();
        command.arg("serve").envs([
            ("DATABASE_URL", database.url()),
            ("PLATFORM", "dev"),
            ("PORT", "0"),
            ("RUST_LOG", "info"),
        ]);
        command.envs(extra_env.iter().copied());
        Self::launch(command)
    }

    /// Runs `command` (chirpy's `serve`, maybe under a wrapper such as `prlimit`) with
    /// `--ready-file`, and waits until it is ready.
    pub fn launch(mut command: Command) -> Self {
        let run_dir = TempDir::new();
        let ready_file = run_dir.path.join("ready.json");
        let mut child = command
            .arg("--ready-file")
            .arg(&ready_file)
            .stderr(Stdio::piped())
            .spawn()
            .unwrap();
        let log = Arc::new(Mutex::new(Vec::new()));
        let lines = BufReader::new(child.stderr.take().unwrap()).lines();
        let sink = log.clone();
        std::thread::spawn(move || {
            for line in lines.map_while(Result::ok) {
                sink.lock().unwrap().push(line);
            }
        });
        let ready = wait_for_ready_file(&ready_file, &mut child, &log);
        Self {
            child,
            base: ready["url"].as_str().expect("a url in the ready file").to_owned(),
            metrics_url: ready["metrics_url"].as_str().map(str::to_owned),
            log,
            _run_dir: run_dir,
        }
    }

    pub fn signal(&self, signal: &str) {
        let status = Command::new("kill")
            .args([signal, &self.child.id().to_string()])
            .status()
            .unwrap();
        assert!(status.success());
    }

    pub fn logged(&self, text: &str) -> bool {
        self.log.lock().unwrap().iter().any(|line| line.contains(text))
    }

    /// Every line logged so far.
    pub fn log_lines(&self) -> Vec<String> {
        self.log.lock().unwrap().clone()
    }
}

/// The ready file's JSON, once the server has written it.
pub fn wait_for_ready_file(path: &Path, child: &mut Child, log: &Mutex<Vec<String>>) -> serde_json::Value {
    let deadline = Instant::now() + Duration::from_secs(30);
    loop {
        if let Ok(text) = std::fs::read_to_string(path) {
            return serde_json::from_str(&text).unwrap_or_else(|err| panic!("ready file {text:?}: {err}"));
        }
        if let Some(status) = child.try_wait().unwrap() {
            panic!(
                "the server exited ({status}) before it was ready:\n{}",
                log.lock().unwrap().join("\n")
            );
        }
        assert!(Instant::now() < deadline, "the server was not ready within 30 s");
        std::thread::sleep(Duration::from_millis(20));
    }
}

/// A directory of the test's own, deleted with it.
pub struct TempDir {
    pub path: PathBuf,
}

impl TempDir {
    pub fn new() -> Self {
        let path = std::env::temp_dir().join(format!("chirpy-binary-test-{}", uuid::Uuid::new_v4().simple()));
        std::fs::create_dir(&path).unwrap();
        Self { path }
    }
}

impl Drop for TempDir {
    fn drop(&mut self) {
        let _ = std::fs::remove_dir_all(&self.path);
    }
}

impl Drop for RunningServer {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}
