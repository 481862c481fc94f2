//! Stages 1 to 4 run headless against `cutover sim`, with nothing but the command line: a project made with
//! `new --no-open`, the source reached with `source --password-stdin`, the simulated server's inventory imported,
//! a device code sign-in the simulator approves, the checks, the overrides, the settings and tasks of stages 3
//! and 4, and `status`
//! showing stage 4 done. The test plays the customer's DNS host only. Uses the real OS keyring (run through
//! scripts/with-keyring.sh).

use serde_json::Value;
use std::io::{Read, Write};
use std::path::Path;
use std::process::{Child, Command, Output, Stdio};
use std::time::{Duration, Instant};

/// A `cutover sim` child, stopped with SIGTERM when dropped (so it removes its temporary files).
struct Sim {
    child: Child,
    info: Value,
}

impl Sim {
    fn start(args: &[&str]) -> Sim {
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

    fn str(&self, pointer: &str) -> String {
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

/// Runs cutover with `stdin` (none: a closed stdin, so never a terminal), killing it after two minutes.
fn cutover(home: &Path, args: &[&str], stdin: Option<&str>) -> Output {
    let mut child = Command::new(env!("CARGO_BIN_EXE_cutover"))
        .args(args)
        .env("CUTOVER_HOME", home)
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
    let start = Instant::now();
    while child.try_wait().expect("wait").is_none() {
        if start.elapsed() > Duration::from_secs(120) {
            let _ = child.kill();
            panic!("cutover {args:?} did not finish within 120 s");
        }
        std::thread::sleep(Duration::from_millis(50));
    }
    child.wait_with_output().expect("output")
}

fn text(bytes: &[u8]) -> String {
    String::from_utf8_lossy(bytes).into_owned()
}

/// Runs cutover and wants exit code 0; returns stdout.
fn ok(home: &Path, args: &[&str], stdin: Option<&str>) -> String {
    let out = cutover(home, args, stdin);
    assert!(out.status.success(), "cutover {args:?} failed:\n{}\n{}", text(&out.stdout), text(&out.stderr));
    text(&out.stdout)
}

/// Runs cutover and wants it to fail; returns stderr.
fn refused(home: &Path, args: &[&str]) -> String {
    let out = cutover(home, args, None);
    assert!(!out.status.success(), "cutover {args:?} should fail:\n{}", text(&out.stdout));
    text(&out.stderr)
}

fn json(stdout: &str) -> Value {
    serde_json::from_str(stdout).unwrap_or_else(|e| panic!("one JSON document ({e}):\n{stdout}"))
}

/// `cutover check --stage N --json`; every failed check is overridden with a reason, and what was overridden
/// is returned, so the stage is done either way.
fn check_and_override(home: &Path, stage: u8) -> Vec<String> {
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

fn stage_status(home: &Path, stage: usize) -> String {
    let v = json(&ok(home, &["status", "--project", "acme", "--json"], None));
    v["stages"][stage - 1]["status"].as_str().expect("status").to_owned()
}

#[test]
fn stages_one_to_six_run_headless_against_the_simulator() {
    let sim = Sim::start(&["sim", "--json", "--scenario", "small", "--auto-approve", "--speed", "60"]);
    let home = tempfile::tempdir().expect("temp dir");
    let home = home.path();
    let domains: Vec<String> = sim.info["email_domains"]
        .as_array()
        .expect("domains")
        .iter()
        .map(|d| d.as_str().expect("domain").to_owned())
        .collect();
    let primary = domains[0].clone();

    // Stage 1: a bad value names its flag and creates nothing.
    let err = refused(home, &["new", "acme", "--no-open", "--customer", "Contoso Dental", "--cutover", "friday"]);
    assert!(err.contains("--cutover") && err.contains("YYYY-MM-DD HH:MM"), "{err}");
    assert!(!home.join("projects/acme").exists(), "nothing is made for a bad value");

    let cutover_at = (chrono::Utc::now() + chrono::Duration::days(7)).format("%Y-%m-%d 18:00 Etc/UTC").to_string();
    let client_email = format!("it.admin@{primary}");
    let (login, graph, exo, client_id, tenant) = (
        sim.str("/login_url"),
        sim.str("/graph_url"),
        sim.str("/exo_url"),
        sim.str("/client_id"),
        sim.str("/tenant_domain"),
    );
    let control = sim.str("/control_url");
    let mut new = vec![
        "new",
        "acme",
        "--no-open",
        "--simulator",
        &control,
        "--tenant",
        &tenant,
        "--login-url",
        &login,
        "--graph-url",
        &graph,
        "--exo-url",
        &exo,
        "--client-id",
        &client_id,
        "--customer",
        "Contoso Dental",
        "--partner-contact",
        "Pat Engineer",
        "--partner-email",
        "pat@partner.example",
        "--client-contact",
        "Ida Admin",
        "--client-email",
        &client_email,
        "--cutover",
        &cutover_at,
        // Above the cutover limit on purpose: stage 1 then needs an override.
        "--mailboxes",
        "2500",
    ];
    for d in &domains {
        new.extend(["--domain", d.as_str()]);
    }
    let out = ok(home, &new, None);
    assert!(out.contains("Created project acme") && out.contains("Contoso Dental"), "{out}");
    assert!(out.contains("Stage 1 checks: 2 run: 1 pass, 1 fail."), "{out}");

    // A task of a locked stage is refused with the wizard's reason, before any question.
    let err = refused(home, &["task", "add-domains", "--project", "acme", "--yes"]);
    assert!(err.contains("Locked: opens when stage 3 (Users / directory sync) is done."), "{err}");
    let err = refused(home, &["task", "no-such-task", "--project", "acme"]);
    assert!(err.contains("add-domains") && err.contains("create-endpoint"), "the valid ids are listed: {err}");

    let err = refused(
        home,
        &["override", "--project", "acme", "--stage", "1", "--check", "cutover-limits", "--reason", "ok"],
    );
    assert!(err.contains("at least 10 characters"), "{err}");
    assert_eq!(check_and_override(home, 1), vec!["cutover-limits"]);
    assert_eq!(stage_status(home, 1), "done (overridden)");

    // Stage 2: the source's access and password, the inventory, the checks.
    let resolver = sim.info["dns"]
        .as_array()
        .expect("resolvers")
        .iter()
        .min_by(|a, b| a["delay_seconds"].as_f64().partial_cmp(&b["delay_seconds"].as_f64()).expect("numbers"))
        .and_then(|r| r["addr"].as_str())
        .expect("a resolver")
        .to_owned();
    let port = sim.info["source"]["https_port"].as_u64().expect("port").to_string();
    let (admin, password, ca) =
        (sim.str("/source/admin_user"), sim.str("/source/admin_password"), sim.str("/source/ca_cert_path"));
    let source = [
        "source",
        "--project",
        "acme",
        "--admin-user",
        &admin,
        "--dns-server",
        &resolver,
        "--https-port",
        &port,
        "--ca-cert",
        &ca,
        "--password-stdin",
    ];
    let out = ok(home, &source, Some(&format!("{password}\n")));
    assert!(!out.contains(&password), "the password is never printed: {out}");
    let inventory = sim.str("/inventory_csv");
    let v = json(&ok(home, &["import", "inventory", &inventory, "--project", "acme", "--json"], None));
    assert_eq!(v["mailboxes"], 10, "{v}");
    let out = ok(home, &["auth", "login", "--project", "acme"], None);
    assert!(out.contains("signed in"), "{out}");
    // The small scenario's source is clean: its checks pass on their own.
    assert_eq!(check_and_override(home, 2), Vec::<String>::new());
    assert_eq!(stage_status(home, 2), "done");

    // Stage 3: the tenant's checks. The batch creates the accounts by default, and the task says so.
    let err = refused(home, &["task", "create-users", "--project", "acme", "--yes"]);
    assert!(err.contains("Cloud accounts"), "{err}");
    assert_eq!(check_and_override(home, 3), Vec::<String>::new());
    assert_eq!(stage_status(home, 3), "done");

    // Stage 4: a write to the tenant without a terminal needs --yes, and nothing happens without it.
    let err = refused(home, &["task", "add-domains", "--project", "acme"]);
    assert!(err.contains("--yes"), "{err}");
    let audit = || std::fs::read_to_string(home.join("projects/acme/audit.jsonl")).expect("audit log");
    assert!(!audit().contains("\"add-domain\""), "no write was attempted");

    let out = cutover(home, &["task", "add-domains", "--project", "acme", "--yes", "--json"], None);
    let v = json(&text(&out.stdout));
    assert!(out.status.success() && v["ok"] == true, "{v}\n{}", text(&out.stderr));
    assert_eq!(v["record"]["status"], "Done", "{v}");
    for d in &domains {
        let txt = v["verification"][d.as_str()].as_str().unwrap_or_else(|| panic!("the TXT record of {d}: {v}"));
        assert!(txt.starts_with("MS=ms"), "{txt}");
    }
    // The customer's DNS host, played by the simulator's registrar: the demo-only task of a simulator's project.
    let out = ok(home, &["task", "publish-verification", "--project", "acme", "--yes"], None);
    assert!(out.contains("published at the simulated registrar"), "{out}");

    let out = cutover(home, &["task", "verify-domains", "--project", "acme", "--yes"], None);
    assert!(out.status.success(), "{}\n{}", text(&out.stdout), text(&out.stderr));
    assert!(text(&out.stderr).contains("verifying domains"), "progress goes to stderr: {}", text(&out.stderr));
    assert!(text(&out.stdout).contains("Verify the domains (verify-domains): done."), "{}", text(&out.stdout));

    let out = ok(home, &["task", "create-endpoint", "--project", "acme", "--yes"], None);
    assert!(out.contains("(create-endpoint): done."), "{out}");
    assert!(!out.contains(&password), "the password is never printed: {out}");

    // Stage 3's pre-creation, chosen now: Graph takes accounts on verified domains only.
    let err = refused(home, &["set", "cloud-accounts", "later", "--project", "acme"]);
    assert!(err.contains("cloud-accounts") && err.contains("pre-create"), "{err}");
    ok(home, &["set", "cloud-accounts", "pre-create", "--project", "acme"], None);
    let out = ok(home, &["set", "usage-location", "us", "--project", "acme"], None);
    assert!(out.contains("Usage location (usage-location) of stage 3: US"), "{out}");
    let out = cutover(home, &["task", "create-users", "--project", "acme", "--yes", "--json"], None);
    let v = json(&text(&out.stdout));
    assert!(out.status.success() && v["ok"] == true, "{v}\n{}", text(&out.stderr));
    assert_eq!(v["record"]["status"], "Done", "{v}");

    assert_eq!(check_and_override(home, 4), Vec::<String>::new(), "stage 4 passes on its own after its tasks");
    assert_eq!(stage_status(home, 4), "done");
    let status = ok(home, &["status", "--project", "acme"], None);
    assert!(status.lines().any(|l| l.contains("4. Prepare") && l.trim_end().ends_with("done")), "{status}");
    assert!(status.contains("5. Start migration"), "{status}");
    assert!(!status.lines().any(|l| l.contains("5. Start migration") && l.contains("locked")), "{status}");

    // Stage 5: the batch is made once and started once, however often the tasks run.
    let out = ok(home, &["task", "create-batch", "--project", "acme", "--yes"], None);
    assert!(out.contains("Created the cutover batch cutover-acme"), "{out}");
    let out = ok(home, &["task", "create-batch", "--project", "acme", "--yes"], None);
    assert!(out.contains("exists already"), "a second run adopts the batch: {out}");
    let out = ok(home, &["task", "start-batch", "--project", "acme", "--yes"], None);
    assert!(out.contains("Started the batch cutover-acme"), "{out}");
    let out = ok(home, &["task", "start-batch", "--project", "acme", "--yes"], None);
    assert!(out.contains("nothing to start"), "a batch under way is left alone: {out}");
    // A day later in the simulator, every mailbox has had its initial sync.
    let advanced = tokio::runtime::Runtime::new().expect("runtime").block_on(async {
        let url = format!("{control}/clock/advance");
        reqwest::Client::new().post(url).json(&serde_json::json!({ "seconds": 86_400 })).send().await
    });
    assert!(advanced.expect("the simulator's clock").status().is_success());
    assert_eq!(check_and_override(home, 5), Vec::<String>::new(), "the batch synced");
    assert_eq!(stage_status(home, 5), "done");

    // Stage 6: the counts and failures judged, nothing failed to restart, the report written in four formats.
    let overridden = check_and_override(home, 6);
    let evidence = text(&cutover(home, &["check", "--project", "acme", "--stage", "6"], None).stdout);
    assert!(overridden.is_empty(), "small syncs cleanly: {overridden:?}\n{evidence}");
    let out = ok(home, &["task", "retry-failed", "--project", "acme", "--yes"], None);
    assert!(out.contains("nothing to restart"), "{out}");
    let out = ok(home, &["task", "export-report", "--project", "acme", "--yes"], None);
    assert!(out.contains("Wrote the migration report"), "{out}");
    for ext in ["md", "html", "csv", "json"] {
        let path = home.join(format!("projects/acme/reports/migration-report.{ext}"));
        let text = std::fs::read_to_string(&path).unwrap_or_else(|e| panic!("{}: {e}", path.display()));
        assert!(!text.contains(&password), "no secret in the report");
        if ext == "json" {
            let v: Value = serde_json::from_str(&text).expect("the JSON report");
            assert!(v.to_string().contains("mark.chen"), "a row per mailbox: {v}");
        }
    }

    // Every write went through the audit path, and no secret reached it.
    let audit = audit();
    let actions = [
        "\"add-domain\"",
        "\"verify-domains\"",
        "\"create-user\"",
        "\"set-setting\"",
        "\"record-task\"",
        "\"new-migration-batch\"",
        "\"start-migration-batch\"",
    ];
    for action in actions {
        assert!(audit.contains(action), "{action} in the audit log");
    }
    assert!(!audit.contains(&password), "the source password is not in the audit log");
}
