//! The headless tests' common part: a `cutover sim` child and the `cutover` command run against it, and the
//! steps that bring project acme to stage 5 with cutover commands only. Included by path (`#[path]`) in each test
//! file that drives the binary headless, so they share one copy.
// Each including test file uses some of these, none all of them.
#![allow(dead_code)]

use serde_json::Value;
use std::io::{Read, Write};
use std::path::Path;
use std::process::{Child, Command, Output, Stdio};
use std::time::{Duration, Instant};

/// A `cutover sim` child, stopped with SIGTERM when dropped (so it removes its temporary files).
pub struct Sim {
    child: Child,
    pub info: Value,
}

impl Sim {
    pub fn start(args: &[&str]) -> Sim {
        let mut child = Command::new(env!("CARGO_BIN_EXE_cutover"))
            .args(args)
            .stdout(Stdio::piped())
            .stderr(Stdio::null())
            .spawn()
            .expect("start cutover sim");
        let mut stdout = child.stdout.take().expect("stdout");
        let (tx, rx) = std::sync::mpsc::channel();
        std::thread::spawn(move || {
            let mut text = String::new();
            let mut buf = [0u8; 4096];
            while let Ok(n) = stdout.read(&mut buf) {
                if n == 0 {
                    break;
                }
                text.push_str(&String::from_utf8_lossy(&buf[..n]));
                if let Ok(v) = serde_json::from_str::<Value>(&text) {
                    let _ = tx.send(v);
                }
            }
        });
        let info = rx.recv_timeout(Duration::from_secs(30)).expect("cutover sim prints its JSON within 30 s");
        Sim { child, info }
    }

    /// The simulator's process id (for its memory figures).
    pub fn pid(&self) -> u32 {
        self.child.id()
    }

    pub fn str(&self, pointer: &str) -> String {
        self.info
            .pointer(pointer)
            .and_then(Value::as_str)
            .unwrap_or_else(|| panic!("{pointer} in {}", self.info))
            .to_owned()
    }
}

impl Drop for Sim {
    fn drop(&mut self) {
        // SAFETY: kill(2) with our own child's pid and a valid signal number.
        unsafe { libc::kill(self.child.id() as i32, libc::SIGTERM) };
        let started = Instant::now();
        while matches!(self.child.try_wait(), Ok(None)) && started.elapsed() < Duration::from_secs(10) {
            std::thread::sleep(Duration::from_millis(50));
        }
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

/// How long one cutover command may take before the test kills it and fails: two minutes, unless a long test
/// (the full soak) sets more.
pub static COMMAND_LIMIT_SECS: std::sync::atomic::AtomicU64 = std::sync::atomic::AtomicU64::new(120);

/// Runs cutover with `stdin` (none: a closed stdin, so never a terminal), killing it after
/// [`COMMAND_LIMIT_SECS`].
pub fn cutover(home: &Path, args: &[&str], stdin: Option<&str>) -> Output {
    cutover_with_env(home, args, stdin, &[])
}

/// [`cutover`] with `env` set too (a crash point, `CUTOVER_CRASH_AT`).
pub fn cutover_with_env(home: &Path, args: &[&str], stdin: Option<&str>, env: &[(&str, &str)]) -> Output {
    let mut child = Command::new(env!("CARGO_BIN_EXE_cutover"))
        .args(args)
        .env("CUTOVER_HOME", home)
        .envs(env.iter().copied())
        .stdin(Stdio::piped())
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .expect("run cutover");
    let mut pipe = child.stdin.take().expect("stdin");
    if let Some(text) = stdin {
        pipe.write_all(text.as_bytes()).expect("write stdin");
    }
    drop(pipe);
    // Read both pipes while waiting: a command that writes more than a pipe holds (a task's line per mailbox of
    // 2,000) would otherwise block on its write and never exit.
    let drain = |mut from: Box<dyn std::io::Read + Send>| {
        std::thread::spawn(move || {
            let mut bytes = Vec::new();
            let _ = from.read_to_end(&mut bytes);
            bytes
        })
    };
    let stdout = drain(Box::new(child.stdout.take().expect("stdout")));
    let stderr = drain(Box::new(child.stderr.take().expect("stderr")));
    let start = Instant::now();
    let limit = COMMAND_LIMIT_SECS.load(std::sync::atomic::Ordering::Relaxed);
    let status = loop {
        if let Some(status) = child.try_wait().expect("wait") {
            break status;
        }
        if start.elapsed() > Duration::from_secs(limit) {
            let _ = child.kill();
            panic!("cutover {args:?} did not finish within {limit} s");
        }
        std::thread::sleep(Duration::from_millis(50));
    };
    Output { status, stdout: stdout.join().expect("stdout reader"), stderr: stderr.join().expect("stderr reader") }
}

pub fn text(bytes: &[u8]) -> String {
    String::from_utf8_lossy(bytes).into_owned()
}

/// Runs cutover and wants exit code 0; returns stdout.
pub fn ok(home: &Path, args: &[&str], stdin: Option<&str>) -> String {
    let out = cutover(home, args, stdin);
    assert!(out.status.success(), "cutover {args:?} failed:\n{}\n{}", text(&out.stdout), text(&out.stderr));
    text(&out.stdout)
}

/// Runs cutover and wants it to fail; returns stderr.
pub fn refused(home: &Path, args: &[&str]) -> String {
    let out = cutover(home, args, None);
    assert!(!out.status.success(), "cutover {args:?} should fail:\n{}", text(&out.stdout));
    text(&out.stderr)
}

pub fn json(stdout: &str) -> Value {
    serde_json::from_str(stdout).unwrap_or_else(|e| panic!("one JSON document ({e}):\n{stdout}"))
}

/// `cutover check --stage N --json`; every failed check is overridden with a reason, and what was overridden
/// is returned, so the stage is done either way.
pub fn check_and_override(home: &Path, stage: u8) -> Vec<String> {
    let n = stage.to_string();
    let out = cutover(home, &["check", "--project", "acme", "--stage", &n, "--json"], None);
    let v = json(&text(&out.stdout));
    let checks = v["stages"][0]["checks"].as_array().expect("checks").clone();
    assert!(!checks.is_empty(), "stage {stage} ran checks: {v}");
    let mut overridden = Vec::new();
    for c in checks.iter().filter(|c| c["outcome"] == "Fail") {
        let id = c["id"].as_str().expect("id");
        let reason = "accepted with the customer for this test run";
        ok(home, &["override", "--project", "acme", "--stage", &n, "--check", id, "--reason", reason], None);
        overridden.push(id.to_owned());
    }
    assert_eq!(out.status.success(), overridden.is_empty(), "exit code 0 only when none failed: {v}");
    overridden
}

pub fn stage_status(home: &Path, stage: usize) -> String {
    let v = json(&ok(home, &["status", "--project", "acme", "--json"], None));
    v["stages"][stage - 1]["status"].as_str().expect("status").to_owned()
}

/// `new acme --no-open` with every kickoff field, connected to `sim`; the mailbox estimate is above the cutover
/// limit on purpose, so stage 1 needs an override.
pub fn new_flags(sim: &Sim) -> Vec<String> {
    let domains: Vec<String> = sim.info["email_domains"]
        .as_array()
        .expect("domains")
        .iter()
        .map(|d| d.as_str().expect("domain").to_owned())
        .collect();
    let cutover_at = (chrono::Utc::now() + chrono::Duration::days(7)).format("%Y-%m-%d 18:00 Etc/UTC").to_string();
    let mut new: Vec<String> = [
        "new",
        "acme",
        "--no-open",
        "--simulator",
        &sim.str("/control_url"),
        "--tenant",
        &sim.str("/tenant_domain"),
        "--login-url",
        &sim.str("/login_url"),
        "--graph-url",
        &sim.str("/graph_url"),
        "--exo-url",
        &sim.str("/exo_url"),
        "--client-id",
        &sim.str("/client_id"),
        "--customer",
        "Contoso Dental",
        "--partner-contact",
        "Pat Engineer",
        "--partner-email",
        "pat@partner.example",
        "--client-contact",
        "Ida Admin",
        "--client-email",
        &format!("it.admin@{}", domains[0]),
        "--cutover",
        &cutover_at,
        "--mailboxes",
        "2500",
    ]
    .iter()
    .map(|s| s.to_string())
    .collect();
    for d in &domains {
        new.extend(["--domain".to_owned(), d.clone()]);
    }
    new
}

/// `source --password-stdin` reaching the simulated server through its fastest resolver, and the password.
pub fn source_flags(sim: &Sim) -> (Vec<String>, String) {
    let resolver = sim.info["dns"]
        .as_array()
        .expect("resolvers")
        .iter()
        .min_by(|a, b| a["delay_seconds"].as_f64().partial_cmp(&b["delay_seconds"].as_f64()).expect("numbers"))
        .and_then(|r| r["addr"].as_str())
        .expect("a resolver")
        .to_owned();
    let port = sim.info["source"]["https_port"].as_u64().expect("port").to_string();
    let flags = [
        "source",
        "--project",
        "acme",
        "--admin-user",
        &sim.str("/source/admin_user"),
        "--dns-server",
        &resolver,
        "--https-port",
        &port,
        "--ca-cert",
        &sim.str("/source/ca_cert_path"),
        "--password-stdin",
    ];
    (flags.iter().map(|s| s.to_string()).collect(), sim.str("/source/admin_password"))
}

/// Moves the simulator's clock on by `seconds`.
pub fn advance_clock(control: &str, seconds: u64) {
    let advanced = tokio::runtime::Runtime::new().expect("runtime").block_on(async {
        let url = format!("{control}/clock/advance");
        reqwest::Client::new().post(url).json(&serde_json::json!({ "seconds": seconds })).send().await
    });
    assert!(advanced.expect("the simulator's clock").status().is_success());
}

/// Stages 1 to 4 of project acme on `sim`, every failed check overridden: stage 5 is open.
pub fn to_stage_five(sim: &Sim, home: &Path) {
    let new = new_flags(sim);
    ok(home, &new.iter().map(String::as_str).collect::<Vec<_>>(), None);
    check_and_override(home, 1);
    let (source, password) = source_flags(sim);
    ok(home, &source.iter().map(String::as_str).collect::<Vec<_>>(), Some(&format!("{password}\n")));
    ok(home, &["import", "inventory", &sim.str("/inventory_csv"), "--project", "acme"], None);
    ok(home, &["auth", "login", "--project", "acme"], None);
    check_and_override(home, 2);
    check_and_override(home, 3);
    for task in ["add-domains", "publish-verification", "verify-domains", "create-endpoint"] {
        ok(home, &["task", task, "--project", "acme", "--yes"], None);
    }
    check_and_override(home, 4);
    assert_eq!(stage_status(home, 5), "not started", "stage 5 is open");
}

/// `cutover ARGS` as a child on `home`, without a terminal; its output is piped for the caller to read.
pub fn spawn_cutover(home: &Path, args: &[&str]) -> Child {
    Command::new(env!("CARGO_BIN_EXE_cutover"))
        .args(args)
        .env("CUTOVER_HOME", home)
        .stdin(Stdio::null())
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .expect("run cutover")
}

/// Waits for `child` to end, at most `within`; past it the child is killed and the test fails, naming `what`.
pub fn wait_exit(child: &mut Child, within: Duration, what: &str) -> std::process::ExitStatus {
    let start = Instant::now();
    loop {
        if let Some(code) = child.try_wait().expect("wait") {
            return code;
        }
        if start.elapsed() > within {
            let _ = child.kill();
            panic!("{what} did not end within {} s", within.as_secs());
        }
        std::thread::sleep(Duration::from_millis(100));
    }
}
