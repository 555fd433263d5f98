//! Shared helpers for the integration tests: build the example binaries, run them as
//! real child processes in an isolated home, and read the events they print.
//!
//! Each test gets a [`Sandbox`]: a temporary directory used as `HOME`,
//! `XDG_CONFIG_HOME` and `XDG_CACHE_HOME`, and a child environment cleared of
//! everything but `PATH`, so the host's own `DO_NOT_TRACK`, CI variables or saved
//! telemetry state never leak into a test.

pub mod server;

use std::path::{Path, PathBuf};
use std::process::{Command, Stdio};
use std::sync::{Mutex, MutexGuard, OnceLock};
use std::time::{Duration, Instant};

use serde_json::Value;

/// How an example binary is built.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub enum Build {
    /// Default features: telemetry compiled in.
    Enabled,
    /// `--no-default-features`: no telemetry code at all.
    CompiledOut,
}

/// The workspace root.
pub fn workspace_root() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR"))
        .parent()
        .expect("tests/ has a parent")
        .to_path_buf()
}

/// The target directory the test binaries run from (`CARGO_TARGET_DIR` or `target/`).
pub fn target_dir() -> PathBuf {
    // current_exe = <target>/<profile>/deps/<test>-<hash>
    let exe = std::env::current_exe().expect("current_exe");
    exe.ancestors().nth(3).expect("target dir").to_path_buf()
}

/// Builds (once per test process) and returns the path of an example binary.
///
/// Examples are built with cargo into their own target directory below the one running
/// the tests, so the build never waits on the lock of the `cargo test` that started us.
pub fn example_bin(package: &str, build: Build) -> PathBuf {
    static BUILT: OnceLock<std::sync::Mutex<std::collections::HashMap<(String, Build), PathBuf>>> =
        OnceLock::new();
    let built = BUILT.get_or_init(Default::default);
    let mut built = built
        .lock()
        .unwrap_or_else(std::sync::PoisonError::into_inner);
    if let Some(path) = built.get(&(package.to_owned(), build)) {
        return path.clone();
    }
    let target = target_dir().join(match build {
        Build::Enabled => "example-bins",
        Build::CompiledOut => "example-bins-off",
    });
    let cargo = option_env!("CARGO").unwrap_or("cargo");
    let mut command = Command::new(cargo);
    command
        .current_dir(workspace_root())
        .args(["build", "--quiet", "-p", package, "--bin", package])
        .arg("--target-dir")
        .arg(&target);
    if build == Build::CompiledOut {
        command.arg("--no-default-features");
    }
    let status = command.status().expect("run cargo build");
    assert!(
        status.success(),
        "building example {package} ({build:?}) failed"
    );
    let path = target
        .join("debug")
        .join(format!("{package}{}", std::env::consts::EXE_SUFFIX));
    assert!(path.exists(), "{} was not built", path.display());
    built.insert((package.to_owned(), build), path.clone());
    path
}

/// An isolated home for one child process (or several that share state).
pub struct Sandbox {
    dir: tempfile::TempDir,
}

impl Default for Sandbox {
    fn default() -> Self {
        Self::new()
    }
}

impl Sandbox {
    /// A fresh, empty home.
    pub fn new() -> Self {
        Sandbox {
            dir: tempfile::tempdir().expect("temporary directory"),
        }
    }

    /// The sandbox directory (`HOME`).
    pub fn home(&self) -> &Path {
        self.dir.path()
    }

    /// `XDG_CONFIG_HOME`: the state file lives in `<this>/<app>-telemetry/`.
    pub fn config_dir(&self) -> PathBuf {
        self.home().join(".config")
    }

    /// `XDG_CACHE_HOME`: the spool lives below it.
    pub fn cache_dir(&self) -> PathBuf {
        self.home().join(".cache")
    }

    /// The state file of `app`.
    pub fn state_file(&self, app: &str) -> PathBuf {
        self.config_dir()
            .join(format!("{app}-telemetry"))
            .join("state.json")
    }

    /// A command for `binary` with a clean environment: only `PATH`, `HOME` and the XDG
    /// directories are set. Add variables with `.env(..)`.
    pub fn command(&self, binary: &Path) -> Command {
        let mut command = Command::new(binary);
        command
            .env_clear()
            .env("PATH", std::env::var_os("PATH").unwrap_or_default())
            .env("HOME", self.home())
            .env("XDG_CONFIG_HOME", self.config_dir())
            .env("XDG_CACHE_HOME", self.cache_dir())
            .stdin(Stdio::null());
        command
    }

    /// The delivery records below the sandbox (`delivery-<endpoint key>.json`).
    pub fn delivery_records(&self) -> Vec<PathBuf> {
        self.tree()
            .into_iter()
            .map(|path| self.home().join(path))
            .filter(|path| {
                path.file_name()
                    .and_then(|name| name.to_str())
                    .is_some_and(|name| name.starts_with("delivery") && name.ends_with(".json"))
            })
            .collect()
    }

    /// The spool of `app` for the receiver at `endpoint` (the library's key of it: the
    /// first 16 hex digits of the BLAKE3 hash of the URL).
    pub fn spool_dir(&self, app: &str, endpoint_key: &str) -> PathBuf {
        self.cache_dir()
            .join(format!("{app}-telemetry"))
            .join("spool")
            .join(endpoint_key)
    }

    /// Batches waiting in a spool anywhere below the sandbox (`spool/<key>/*.jsonl`).
    pub fn spooled_segments(&self) -> usize {
        fn count(dir: &Path) -> usize {
            let Ok(entries) = std::fs::read_dir(dir) else {
                return 0;
            };
            entries
                .flatten()
                .map(|entry| {
                    let path = entry.path();
                    if path.is_dir() {
                        count(&path)
                    } else {
                        let in_spool = path
                            .ancestors()
                            .skip(1)
                            .any(|parent| parent.ends_with("spool"));
                        usize::from(in_spool && path.extension().is_some_and(|ext| ext == "jsonl"))
                    }
                })
                .sum()
        }
        count(self.home())
    }

    /// Every file and directory below the sandbox, relative to it, sorted.
    pub fn tree(&self) -> Vec<PathBuf> {
        fn walk(root: &Path, dir: &Path, out: &mut Vec<PathBuf>) {
            let Ok(entries) = std::fs::read_dir(dir) else {
                return;
            };
            for entry in entries.flatten() {
                let path = entry.path();
                out.push(path.strip_prefix(root).unwrap_or(&path).to_path_buf());
                if path.is_dir() {
                    walk(root, &path, out);
                }
            }
        }
        let mut out = Vec::new();
        walk(self.home(), self.home(), &mut out);
        out.sort();
        out
    }
}

/// A finished child process.
pub struct Run {
    /// Exit code (`None` if killed by a signal).
    pub code: Option<i32>,
    /// Everything written to stdout.
    pub stdout: Vec<u8>,
    /// Everything written to stderr, as text.
    pub stderr: String,
    /// Wall-clock time from spawn to exit.
    pub elapsed: Duration,
}

impl Run {
    /// The JSON objects among stderr's lines (the debug sink's events).
    pub fn events(&self) -> Vec<Value> {
        self.stderr
            .lines()
            .filter(|line| line.starts_with('{'))
            .filter_map(|line| serde_json::from_str(line).ok())
            .collect()
    }

    /// The events named `name`.
    pub fn events_named(&self, name: &str) -> Vec<Value> {
        self.events()
            .into_iter()
            .filter(|event| event["event"] == name)
            .collect()
    }
}

/// `minietl run --rows 5`, built with telemetry, in `sandbox`: sending to `endpoint`, or,
/// without one, with telemetry turned off by its variable (the reference of a timing).
pub fn minietl_run_command(sandbox: &Sandbox, endpoint: Option<&str>) -> Command {
    let mut command = sandbox.command(&example_bin("minietl", Build::Enabled));
    command.args(["run", "--rows", "5"]);
    match endpoint {
        Some(url) => command.env("MINIETL_TELEMETRY_ENDPOINT", url),
        None => command.env("MINIETL_TELEMETRY_DISABLED", "1"),
    };
    command
}

/// Asserts that `run` exited as `reference` did, with the same stdout: what telemetry
/// must never change in its host.
pub fn assert_same_output(reference: &Run, run: &Run) {
    assert_eq!(
        run.code, reference.code,
        "exit code; stderr: {}",
        run.stderr
    );
    assert_eq!(
        String::from_utf8_lossy(&run.stdout),
        String::from_utf8_lossy(&reference.stdout),
        "stdout"
    );
}

/// Runs the tests of one test binary one at a time (each binary has its own lock): for
/// tests that time exits, kill processes or start receivers on fixed schedules.
pub fn serial() -> MutexGuard<'static, ()> {
    static SERIAL: Mutex<()> = Mutex::new(());
    SERIAL
        .lock()
        .unwrap_or_else(std::sync::PoisonError::into_inner)
}

/// Runs `command` to completion, killing it if it takes longer than `limit` (a hang is a
/// test failure, not a stuck CI).
pub fn run(command: &mut Command, limit: Duration) -> Run {
    run_watching(command, limit, |_| {})
}

/// [`run`], calling `watch` with the child's process id about every millisecond while it
/// runs (to sample its memory, say).
pub fn run_watching(command: &mut Command, limit: Duration, mut watch: impl FnMut(u32)) -> Run {
    use std::io::Read as _;
    let start = Instant::now();
    let mut child = command
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .expect("spawn example");
    // Read both pipes on their own threads so a chatty child never blocks on a full pipe.
    let mut stdout_pipe = child.stdout.take().expect("stdout pipe");
    let mut stderr_pipe = child.stderr.take().expect("stderr pipe");
    let stdout_reader = std::thread::spawn(move || {
        let mut buffer = Vec::new();
        let _ = stdout_pipe.read_to_end(&mut buffer);
        buffer
    });
    let stderr_reader = std::thread::spawn(move || {
        let mut buffer = Vec::new();
        let _ = stderr_pipe.read_to_end(&mut buffer);
        buffer
    });
    let deadline = start + limit;
    let status = loop {
        watch(child.id());
        match child.try_wait().expect("wait for example") {
            Some(status) => break status,
            None if Instant::now() >= deadline => {
                let _ = child.kill();
                let _ = child.wait();
                panic!("child process did not exit within {limit:?}");
            }
            None => std::thread::sleep(Duration::from_millis(1)),
        }
    };
    let elapsed = start.elapsed();
    let stdout = stdout_reader.join().unwrap_or_default();
    let stderr = stderr_reader.join().unwrap_or_default();
    Run {
        code: status.code(),
        stdout,
        stderr: String::from_utf8_lossy(&stderr).into_owned(),
        elapsed,
    }
}

/// Runs `command` with a generous 60-second limit.
pub fn run_ok(command: &mut Command) -> Run {
    run(command, Duration::from_secs(60))
}
