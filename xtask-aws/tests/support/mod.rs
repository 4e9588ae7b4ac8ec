//! The emulator harness of the deploy tests: a moto server (with this repository's fixes: the
//! package emulator/, one module per service, which moto_server.py installs) on a free loopback
//! port, the xtask binary run against it, and a reader of what the emulator holds.

#![allow(dead_code)]

use std::net::{TcpListener, TcpStream};
use std::path::{Path, PathBuf};
use std::process::{Child, Command, Output, Stdio};
use std::time::{Duration, Instant};

use serde_json::Value;

/// The project's virtual environment: `TRADING_DR_VENV`, else `.venv` in the workspace.
pub fn venv() -> PathBuf {
    std::env::var_os("TRADING_DR_VENV")
        .map(PathBuf::from)
        .unwrap_or_else(|| xtask::workspace_root().join(".venv"))
}

fn python() -> PathBuf {
    let p = venv().join("bin/python");
    assert!(
        p.is_file(),
        "{} not found: run `cargo xtask test`, which installs the pinned tools (moto) into .venv",
        p.display()
    );
    p
}

fn support(file: &str) -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR"))
        .join("tests/support")
        .join(file)
}

/// Runs the Python fixture `script` with `args` and returns the JSON it prints; panics with its
/// standard error when it fails.
fn fixture<S: AsRef<std::ffi::OsStr>>(script: &str, args: impl IntoIterator<Item = S>) -> Value {
    let out = Command::new(python())
        .arg(support(script))
        .args(args)
        .output()
        .unwrap_or_else(|e| panic!("{script} cannot run: {e}"));
    assert!(
        out.status.success(),
        "{script} failed: {}",
        String::from_utf8_lossy(&out.stderr)
    );
    serde_json::from_slice(&out.stdout).unwrap()
}

/// The account moto answers for every request.
pub const ACCOUNT: &str = "123456789012";

/// The staging bucket `bootstrap` makes in `region` of the emulator's account.
pub fn staging_bucket(region: &str) -> String {
    cfn::naming::staging_bucket(region, ACCOUNT)
}

/// A running emulator and a scratch folder for outputs, faults and env files.
pub struct Moto {
    child: Child,
    /// The endpoint URL.
    pub url: String,
    /// Scratch folder.
    pub dir: tempfile::TempDir,
}

impl Moto {
    /// Starts moto on a free port, waits until it accepts connections, and bootstraps the
    /// account as a new user does once (`cargo xtask bootstrap`).
    pub fn start() -> Moto {
        Moto::start_with_clock(1.0)
    }

    /// Starts moto with its clock scaled: every Wait state and retry interval of an executing
    /// state machine, and the global database's failover time, take `scale` times as long.
    pub fn start_with_clock(scale: f64) -> Moto {
        let moto = Moto::start_bare(scale);
        moto.bootstrap(&[]).expect_code(0);
        moto
    }

    /// Starts moto without bootstrapping the account: no staging bucket exists.
    pub fn start_bare(scale: f64) -> Moto {
        let port = TcpListener::bind("127.0.0.1:0")
            .unwrap()
            .local_addr()
            .unwrap()
            .port();
        let dir = tempfile::tempdir().unwrap();
        let log = std::fs::File::create(dir.path().join("moto.log")).unwrap();
        let child = Command::new(python())
            .arg(support("moto_server.py"))
            .args(["-H", "127.0.0.1", "-p", &port.to_string()])
            .env("TRADING_DR_FAULTS", dir.path().join("faults.json"))
            .env("MOTO_PORT", port.to_string())
            .env("TRADING_DR_CLOCK_SCALE", scale.to_string())
            .stdout(Stdio::null())
            .stderr(log)
            .spawn()
            .expect("moto starts");
        let mut moto = Moto {
            child,
            url: format!("http://127.0.0.1:{port}"),
            dir,
        };
        let started = Instant::now();
        while TcpStream::connect(("127.0.0.1", port)).is_err() {
            let log =
                || std::fs::read_to_string(moto.dir.path().join("moto.log")).unwrap_or_default();
            if let Ok(Some(status)) = moto.child.try_wait() {
                panic!("moto exited ({status}) before listening:\n{}", log());
            }
            assert!(
                started.elapsed() < Duration::from_secs(60),
                "moto did not listen on port {port} within 60 s:\n{}",
                log()
            );
            std::thread::sleep(Duration::from_millis(100));
        }
        std::fs::create_dir_all(moto.env_dir()).unwrap();
        std::fs::write(
            moto.env_dir().join("default.toml"),
            include_str!("../../../env/default.toml"),
        )
        .unwrap();
        moto
    }

    /// The env folder the tests deploy from (a copy of the shipped default.toml).
    pub fn env_dir(&self) -> PathBuf {
        self.dir.path().join("env")
    }

    /// Makes CreateChangeSet for `stack` fail with `message` (None clears every fault).
    pub fn reject_change_set(&self, stack: Option<(&str, &str)>) {
        self.faults(match stack {
            Some((name, message)) => serde_json::json!({"reject_change_set": {name: message}}),
            None => serde_json::json!({}),
        });
    }

    /// Replaces the injected faults (see the emulator's items 16 and 20,
    /// `emulator/cloudformation.py` and `emulator/faults.py`).
    pub fn faults(&self, faults: Value) {
        std::fs::write(self.dir.path().join("faults.json"), faults.to_string()).unwrap();
    }

    /// Runs runbook_fixture.py `command` for `suffix` and returns its JSON answer.
    pub fn runbook(&self, suffix: &str, command: &str, args: &[&str]) -> Value {
        let all = [self.url.as_str(), suffix, command]
            .into_iter()
            .chain(args.iter().copied());
        fixture("runbook_fixture.py", all)
    }

    /// Starts `cargo xtask <command>` like [`Moto::xtask`] without waiting for it.
    pub fn spawn_xtask(&self, command: &str, suffix: &str, extra: &[&str]) -> Child {
        self.xtask_command(command, suffix, extra)
            .stdout(Stdio::piped())
            .stderr(Stdio::piped())
            .spawn()
            .expect("xtask starts")
    }

    /// The command line of [`Moto::xtask`], to change before running it.
    pub fn xtask_command(&self, command: &str, suffix: &str, extra: &[&str]) -> Command {
        let mut c = self.aws_command();
        c.arg(command)
            .args(["--suffix", suffix, "--endpoint-url", &self.url])
            .arg("--env-dir")
            .arg(self.env_dir())
            .arg("--out")
            .arg(self.dir.path().join("out"))
            .args(extra);
        c
    }

    /// The xtask-aws binary with test credentials and nothing of the caller's AWS settings.
    fn aws_command(&self) -> Command {
        let mut c = Command::new(env!("CARGO_BIN_EXE_xtask-aws"));
        c.env("AWS_ACCESS_KEY_ID", "testing")
            .env("AWS_SECRET_ACCESS_KEY", "testing")
            .env("AWS_EC2_METADATA_DISABLED", "true")
            .env_remove("AWS_PROFILE")
            .env_remove("AWS_ENDPOINT_URL")
            .env_remove("TRADING_DR_STAGING_BUCKET")
            .stdin(Stdio::null());
        c
    }

    /// Runs `cargo xtask bootstrap <extra>` against the emulator, for the tests' env folder.
    pub fn bootstrap(&self, extra: &[&str]) -> Run {
        let started = Instant::now();
        let output = self
            .aws_command()
            .args(["bootstrap", "--endpoint-url", &self.url])
            .arg("--env-dir")
            .arg(self.env_dir())
            .args(extra)
            .output()
            .expect("xtask runs");
        Run::new(output, started.elapsed())
    }

    /// Runs `cargo xtask <args> --suffix <suffix>` against the emulator with test credentials.
    pub fn xtask(&self, command: &str, suffix: &str, extra: &[&str]) -> Run {
        let started = Instant::now();
        let output = self
            .xtask_command(command, suffix, extra)
            .output()
            .expect("xtask runs");
        Run::new(output, started.elapsed())
    }

    /// Runs dr_fixture.py `command` with `args` (recovery points, vault locks, records, a
    /// promoted global database, a DeleteStack from outside) and returns its answer.
    pub fn dr(&self, command: &str, args: &[&str]) -> Value {
        let all = [self.url.as_str(), command]
            .into_iter()
            .chain(args.iter().copied());
        fixture("dr_fixture.py", all)
    }

    /// Runs emulator_selftest.py (items 45-48) against this emulator, with its clock `scale`
    /// and fault file; its JSON answer, or a panic with what failed.
    pub fn selftest(&self, scale: f64) -> Value {
        let out = Command::new(python())
            .arg(support("emulator_selftest.py"))
            .arg(&self.url)
            .env("TRADING_DR_CLOCK_SCALE", scale.to_string())
            .env("TRADING_DR_FAULTS", self.dir.path().join("faults.json"))
            .output()
            .expect("the self-test runs");
        assert!(
            out.status.success(),
            "emulator_selftest.py failed:\n{}\n{}",
            String::from_utf8_lossy(&out.stdout),
            String::from_utf8_lossy(&out.stderr)
        );
        serde_json::from_slice(&out.stdout).unwrap()
    }

    /// Runs emulator_fixture.py `command` (apply, delete, put, publish) and returns its answer.
    pub fn emulator(&self, command: &str, args: &[&str]) -> Value {
        let all = [self.url.as_str(), command]
            .into_iter()
            .chain(args.iter().copied());
        fixture("emulator_fixture.py", all)
    }

    /// Runs readiness_fixture.py `command` (backups, break CHECK, repair CHECK) for `suffix`
    /// and returns its answer.
    pub fn readiness(&self, suffix: &str, command: &str, args: &[&str]) -> Value {
        let all = [self.url.as_str(), suffix, command]
            .into_iter()
            .chain(args.iter().copied());
        fixture("readiness_fixture.py", all)
    }

    /// Runs s3_fixture.py `command` on `bucket` and returns its listing.
    pub fn s3_fixture(&self, command: &str, bucket: &str) -> Value {
        fixture("s3_fixture.py", [self.url.as_str(), command, bucket])
    }

    /// Runs ssm_fixture.py: `command` (put, delete, get) on parameter `name` in `region`;
    /// returns the parameter's value afterwards, if it exists.
    pub fn ssm(
        &self,
        region: &str,
        command: &str,
        name: &str,
        value: Option<&str>,
    ) -> Option<String> {
        let all = [self.url.as_str(), region, command, name]
            .into_iter()
            .chain(value);
        fixture("ssm_fixture.py", all)["value"]
            .as_str()
            .map(String::from)
    }

    /// Polls `name` in `region` until its value is `expected` (None: absent), for up to 30 s.
    pub fn wait_for_parameter(&self, region: &str, name: &str, expected: Option<&str>) -> Duration {
        let started = Instant::now();
        loop {
            let value = self.ssm(region, "get", name, None);
            if value.as_deref() == expected {
                return started.elapsed();
            }
            assert!(
                started.elapsed() < Duration::from_secs(30),
                "{name} in {region} is {value:?} after 30 s, expected {expected:?}: replication is broken"
            );
            std::thread::sleep(Duration::from_millis(250));
        }
    }

    /// Panics when the emulator failed a request with an internal error: the SDK retries those,
    /// so a retried success could hide a half-applied change.
    pub fn assert_no_server_errors(&self) {
        let log = std::fs::read_to_string(self.dir.path().join("moto.log")).unwrap_or_default();
        assert!(
            !log.contains("Error on request"),
            "the emulator failed a request:\n{log}"
        );
    }

    /// What the emulator holds in `region`.
    pub fn inspect(&self, region: &str) -> Value {
        fixture("inspect_aws.py", [self.url.as_str(), region])
    }
}

impl Drop for Moto {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

/// One xtask run.
pub struct Run {
    /// Exit code.
    pub code: i32,
    /// Standard output.
    pub stdout: String,
    /// Standard error.
    pub stderr: String,
    /// Wall time.
    pub elapsed: Duration,
}

impl Run {
    /// The result of a process started with [`Moto::spawn_xtask`].
    pub fn wait(child: Child, started: Instant) -> Run {
        Run::new(
            child.wait_with_output().expect("xtask ends"),
            started.elapsed(),
        )
    }

    fn new(o: Output, elapsed: Duration) -> Run {
        Run {
            code: o.status.code().unwrap_or(-1),
            stdout: String::from_utf8_lossy(&o.stdout).into_owned(),
            stderr: String::from_utf8_lossy(&o.stderr).into_owned(),
            elapsed,
        }
    }

    /// Panics with the whole output unless standard output contains `needle`.
    #[track_caller]
    pub fn expect_stdout(&self, needle: &str) -> &Self {
        assert!(
            self.stdout.contains(needle),
            "{needle:?} not in the output\nstdout:\n{}\nstderr:\n{}",
            self.stdout,
            self.stderr
        );
        self
    }

    /// Panics with the whole output unless standard error contains `needle`.
    #[track_caller]
    pub fn expect_stderr(&self, needle: &str) -> &Self {
        assert!(
            self.stderr.contains(needle),
            "{needle:?} not in the errors\nstdout:\n{}\nstderr:\n{}",
            self.stdout,
            self.stderr
        );
        self
    }

    /// Panics with the whole output unless the exit code is `code`.
    #[track_caller]
    pub fn expect_code(&self, code: i32) -> &Self {
        assert_eq!(
            self.code, code,
            "exit code {} (expected {code})\nstdout:\n{}\nstderr:\n{}",
            self.code, self.stdout, self.stderr
        );
        self
    }
}
