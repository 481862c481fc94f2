//! The soak of issue 15 (RELIABILITY.md section 3): a whole cutover headless, from the kickoff to the closeout
//! report, against `cutover sim` with faults all the way: 429 with `Retry-After` as delta-seconds and as an
//! HTTP-date, 503, connections dropped mid-answer, slow answers, and the sign-in revoked in the middle. It
//! proves every mailbox is in the closeout's counts, no request came back before its `Retry-After`, and no
//! secret is kept anywhere (section 6). The short form (`small`) runs in the test command; the full form is
//! `cargo test --test soak -- --ignored` (the `large` scenario, 2,000 mailboxes). Uses the real OS keyring (run
//! through scripts/with-keyring.sh).

use serde_json::{Value, json};
use std::path::Path;
use std::time::{Duration, Instant};

#[path = "support/headless.rs"]
mod headless;
use headless::*;

#[path = "support/secret_scan.rs"]
mod secret_scan;
use secret_scan::SecretScan;

/// The soak's figures, printed at the end for RELIABILITY.md.
#[derive(Debug)]
#[allow(dead_code)] // Read through Debug, printed for RELIABILITY.md.
struct Figures {
    scenario: String,
    mailboxes: usize,
    unaccounted: usize,
    faulted_with_retry_after: u64,
    retried: u64,
    early: u64,
    min_margin_s: f64,
    faults_served: u64,
    requests: u64,
    sign_ins: u32,
    completion_refused: u32,
    peak_rss_cutover_kib: i64,
    peak_rss_sim_kib: u64,
    wall: Duration,
    places_scanned: usize,
    secrets_found: usize,
}

fn control(control: &str, method: reqwest::Method, path: &str, body: Option<Value>) -> Value {
    tokio::runtime::Runtime::new().expect("runtime").block_on(async {
        let mut req = reqwest::Client::new().request(method, format!("{control}{path}"));
        if let Some(b) = body {
            req = req.json(&b);
        }
        let answer = req.send().await.expect("the control API");
        assert!(answer.status().is_success(), "{path}: {}", answer.status());
        answer.json().await.unwrap_or(Value::Null)
    })
}

/// The weather of the whole run: each documented fault, on every service the cutover talks to. Faults that
/// may leave a write half done (503, a dropped answer) hit reads only, as a client may resend only those; 429
/// says the request was not acted on, so it hits writes too.
fn faults(scale: u32) -> Vec<Value> {
    let every = |n: u32| n * scale;
    vec![
        json!({"service": "graph", "kind": {"type": "throttle", "retry_after": 1}, "every": every(7)}),
        json!({"service": "graph", "kind": {"type": "throttle", "retry_after": 1, "retry_after_form": "http_date"}, "every": every(11)}),
        json!({"service": "exo", "kind": {"type": "throttle", "retry_after": 1, "retry_after_form": "http_date"}, "every": every(6)}),
        json!({"service": "exo", "kind": {"type": "throttle", "retry_after": 2}, "every": every(13)}),
        json!({"service": "login", "path_contains": "/token", "kind": {"type": "throttle", "retry_after": 1}, "every": 3}),
        json!({"service": "exo", "path_contains": "Get-MigrationUser", "kind": {"type": "drop"}, "every": every(5)}),
        json!({"service": "exo", "path_contains": "Get-MigrationBatch", "kind": {"type": "unavailable", "retry_after": 1}, "every": every(4)}),
        json!({"service": "exo", "path_contains": "Get-MigrationUserStatistics", "kind": {"type": "unavailable"}, "every": every(9)}),
        json!({"service": "graph", "path_contains": "/subscribedSkus", "kind": {"type": "drop"}, "every": 2}),
        json!({"service": "graph", "path_contains": "/organization", "kind": {"type": "unavailable", "retry_after": 1, "retry_after_form": "http_date"}, "every": 3}),
        json!({"service": "graph", "kind": {"type": "slow", "millis": 400}, "every": every(17)}),
        json!({"service": "exo", "kind": {"type": "slow", "millis": 400}, "every": every(19)}),
        json!({"service": "source", "kind": {"type": "slow", "millis": 300}, "every": 3}),
    ]
}

/// Runs cutover; a command refused because the sign-in was revoked is told so, signed in again once, and run
/// again. Any other failure fails the soak. Returns stdout.
fn step(home: &Path, args: &[&str], sign_ins: &mut u32) -> String {
    let out = cutover(home, args, None);
    if out.status.success() {
        return text(&out.stdout);
    }
    let err = text(&out.stderr);
    assert!(err.contains("auth login"), "cutover {args:?} failed under faults:\n{}\n{err}", text(&out.stdout));
    ok(home, &["auth", "login", "--project", "acme"], None);
    *sign_ins += 1;
    ok(home, args, None)
}

/// Checks of `stage` run with the sign-in handled as [`step`] does; failed ones overridden.
fn checks(home: &Path, stage: u8, sign_ins: &mut u32) -> Vec<String> {
    let n = stage.to_string();
    let run = || cutover(home, &["check", "--project", "acme", "--stage", &n, "--json"], None);
    let mut out = run();
    let not_signed_in = |out: &std::process::Output| {
        text(&out.stderr).contains("auth login")
            || json(&text(&out.stdout))["stages"][0]["checks"].as_array().is_some_and(|checks| {
                checks.iter().any(|c| c["outcome"] == "NotRun" && c["evidence"].to_string().contains("auth login"))
            })
    };
    if not_signed_in(&out) {
        ok(home, &["auth", "login", "--project", "acme"], None);
        *sign_ins += 1;
        out = run();
    }
    assert!(!out.stdout.is_empty(), "check --stage {stage}: {}", text(&out.stderr));
    let v = json(&text(&out.stdout));
    let failed: Vec<String> = v["stages"][0]["checks"]
        .as_array()
        .unwrap_or_else(|| panic!("stage {stage} checks: {v}\n{}", text(&out.stderr)))
        .iter()
        .filter(|c| c["outcome"] == "Fail")
        .map(|c| c["id"].as_str().expect("id").to_owned())
        .collect();
    for id in &failed {
        let reason = "accepted with the customer for this soak";
        ok(home, &["override", "--project", "acme", "--stage", &n, "--check", id, "--reason", reason], None);
    }
    failed
}

/// Moves the simulator's clock on, two hours at a time (two days at most), until the batch is Synced: the
/// daily incremental sync of 2,000 mailboxes takes hours of the simulator.
fn wait_synced(control_url: &str) {
    for _ in 0..24 {
        let state = control(control_url, reqwest::Method::GET, "/state", None);
        if state["exchange"]["batch_status"].as_str().is_some_and(|s| s.starts_with("Synced")) {
            return;
        }
        advance_clock(control_url, 2 * 3600);
    }
}

fn check_outcome(home: &Path, stage: &str, id: &str) -> String {
    let out = cutover(home, &["check", "--project", "acme", "--stage", stage, "--json"], None);
    if text(&out.stderr).contains("auth login") {
        return String::new();
    }
    assert!(!out.stdout.is_empty(), "check --stage {stage}: {}", text(&out.stderr));
    let v = json(&text(&out.stdout));
    let checks = v["stages"][0]["checks"].as_array().cloned().unwrap_or_default();
    let found = checks.iter().find(|c| c["id"] == id).unwrap_or_else(|| panic!("{id} ran: {v}"));
    // Not run for want of a sign-in: the caller signs in again.
    if found["outcome"] == "NotRun" && found["evidence"].as_str().is_some_and(|e| e.contains("auth login")) {
        return String::new();
    }
    found["outcome"].as_str().unwrap_or("").to_owned()
}

/// Peak resident memory (KiB) of the waited-for children so far: every cutover command run by this test.
fn children_peak_rss_kib() -> i64 {
    // SAFETY: getrusage(2) fills the struct it is given.
    let mut usage: libc::rusage = unsafe { std::mem::zeroed() };
    // SAFETY: a valid `who` and a pointer to a live struct.
    assert_eq!(unsafe { libc::getrusage(libc::RUSAGE_CHILDREN, &mut usage) }, 0);
    usage.ru_maxrss
}

fn vm_hwm_kib(pid: u32) -> u64 {
    let status = std::fs::read_to_string(format!("/proc/{pid}/status")).unwrap_or_default();
    status
        .lines()
        .find_map(|l| l.strip_prefix("VmHWM:"))
        .and_then(|v| v.trim().trim_end_matches("kB").trim().parse().ok())
        .unwrap_or(0)
}

/// Soaks `scenario` at `speed`, the faults `scale` times sparser, the clock moved `step_days` at a time while
/// the batch syncs (each check of the batch reads every mailbox).
fn soak(scenario: &str, speed: &str, scale: u32, step_days: u64) -> Figures {
    let started = Instant::now();
    let sim = Sim::start(&["sim", "--json", "--scenario", scenario, "--auto-approve", "--speed", speed]);
    let control_url = sim.str("/control_url");
    let home_dir = tempfile::tempdir().expect("temp dir");
    let home = home_dir.path();
    for rule in faults(scale) {
        control(&control_url, reqwest::Method::POST, "/faults", Some(rule));
    }
    let mut sign_ins = 0;
    // Stages 1 to 4: the kickoff, the source, the inventory, the sign-in, the tenant, the domains, the endpoint.
    to_stage_five(&sim, home);
    let inventory = std::fs::read_to_string(sim.str("/inventory_csv")).expect("inventory");
    let mailboxes = inventory.lines().skip(1).filter(|l| !l.trim().is_empty()).count();

    // Stage 5: the batch, followed day by day of the simulator; the tokens expire and then are revoked midway.
    step(home, &["task", "create-batch", "--project", "acme", "--yes"], &mut sign_ins);
    step(home, &["task", "start-batch", "--project", "acme", "--yes"], &mut sign_ins);
    control(&control_url, reqwest::Method::POST, "/tokens/expire", None);
    // A running cutover process: its arguments and environment are scanned while it follows the batch.
    let mut watch = spawn_cutover(home, &["watch", "--project", "acme", "--json"]);
    let mut first = String::new();
    let mut watch_out = std::io::BufReader::new(watch.stdout.take().expect("stdout"));
    std::io::BufRead::read_line(&mut watch_out, &mut first).expect("the watch's first line");
    assert!(first.contains("\"event\""), "the watch follows the batch: {first}");
    let mut scan = SecretScan::from_simulator(&control_url);
    scan.process(watch.id());
    scan.process(sim.pid());
    // SAFETY: kill(2) with our own child's pid and a valid signal number.
    unsafe { libc::kill(watch.id() as i32, libc::SIGTERM) };
    wait_exit(&mut watch, Duration::from_secs(30), "the watch, sent SIGTERM,");
    drop(watch_out);
    let mut synced = false;
    for day in (0..30).step_by(step_days as usize) {
        if day == 0 {
            // The admin revokes every session in the middle of the run.
            control(&control_url, reqwest::Method::POST, "/tokens/revoke", None);
        }
        advance_clock(&control_url, 86_400 * step_days);
        wait_synced(&control_url);
        let outcome = check_outcome(home, "5", "batch-state");
        if outcome.is_empty() {
            // The check could not run: the sign-in was revoked; the engineer signs in again.
            ok(home, &["auth", "login", "--project", "acme"], None);
            sign_ins += 1;
            continue;
        }
        if outcome == "Pass" {
            synced = true;
            break;
        }
    }
    assert!(synced, "the batch synced within 30 simulated days");
    checks(home, 5, &mut sign_ins);
    checks(home, 6, &mut sign_ins);
    step(home, &["task", "export-report", "--project", "acme", "--yes"], &mut sign_ins);

    // Stage 7: the records, the registrar, the change, the propagation watched to its end.
    step(home, &["task", "show-records", "--project", "acme"], &mut sign_ins);
    let reason = "TTL lowered at the customer's DNS host, confirmed by phone";
    ok(home, &["override", "--project", "acme", "--stage", "7", "--check", "mx-preflight", "--reason", reason], None);
    step(home, &["task", "apply-records-demo", "--project", "acme", "--yes"], &mut sign_ins);
    step(home, &["task", "record-mx-change", "--project", "acme"], &mut sign_ins);
    let slowest = sim.info["dns"].as_array().expect("resolvers").iter().filter_map(|r| r["delay_seconds"].as_f64());
    advance_clock(&control_url, slowest.fold(0.0, f64::max) as u64 + 60);
    let mut dns_watch = spawn_cutover(home, &["watch", "--project", "acme"]);
    let code = wait_exit(&mut dns_watch, Duration::from_secs(120), "the DNS watch");
    assert!(code.success(), "{code:?}");

    // Stage 8: the last incremental sync, the completion, the batch and endpoint removed, the X500 addresses.
    advance_clock(&control_url, 2 * 86_400);
    // Completion needs the batch Synced: an incremental sync of every mailbox may still run (2,000 of them take
    // hours of the simulator), so the clock moves on until the service says Synced.
    wait_synced(&control_url);
    // An incremental sync may start between the task's read and its completion (see RELIABILITY.md section 3):
    // Exchange refuses it, nothing changes, and the task runs again once the batch is Synced.
    let mut completion_refused = 0;
    loop {
        let out = cutover(home, &["task", "complete-batch", "--project", "acme", "--yes"], None);
        if out.status.success() {
            break;
        }
        let said = format!("{}{}", text(&out.stdout), text(&out.stderr));
        assert!(said.contains("IncrementalSyncing") && completion_refused < 3, "complete-batch failed: {said}");
        completion_refused += 1;
        advance_clock(&control_url, 2 * 3600);
        wait_synced(&control_url);
    }
    step(home, &["task", "remove-batch", "--project", "acme", "--yes"], &mut sign_ins);
    advance_clock(&control_url, 120);
    step(home, &["task", "remove-endpoint", "--project", "acme", "--yes"], &mut sign_ins);
    step(home, &["task", "x500-addresses", "--project", "acme", "--yes"], &mut sign_ins);
    checks(home, 8, &mut sign_ins);

    // Stage 9: transport rules, licences, test mail, EOP settings, and the closeout report.
    ok(home, &["set", "transport-rules-file", &sim.str("/transport_rules_json"), "--project", "acme"], None);
    step(home, &["task", "transport-rules", "--project", "acme", "--yes"], &mut sign_ins);
    ok(home, &["set", "usage-location", "US", "--project", "acme"], None);
    step(home, &["task", "licences-final", "--project", "acme", "--yes"], &mut sign_ins);
    ok(home, &["set", "test-mail-address", "engineer@partner.example", "--project", "acme"], None);
    step(home, &["task", "send-test-mail", "--project", "acme", "--yes"], &mut sign_ins);
    advance_clock(&control_url, 120);
    step(home, &["task", "eop-settings", "--project", "acme", "--yes"], &mut sign_ins);
    checks(home, 9, &mut sign_ins);
    let out = step(home, &["task", "closeout-report", "--project", "acme", "--yes"], &mut sign_ins);
    assert!(out.contains("Wrote the closeout report"), "{out}");

    // Every mailbox is in the closeout's counts, and each outcome adds up to them.
    let closeout: Value = serde_json::from_str(
        &std::fs::read_to_string(home.join("projects/acme/reports/closeout-report.json")).expect("closeout"),
    )
    .expect("closeout JSON");
    let totals = &closeout["migration"]["totals"];
    let count = |k: &str| totals[k].as_u64().unwrap_or_else(|| panic!("{k} in {totals}")) as usize;
    let outcomes = ["migrated", "in_progress", "failed", "stalled", "not_in_batch"].map(count).iter().sum::<usize>();
    assert_eq!(outcomes, count("mailboxes"), "the outcomes add up: {totals}");
    let unaccounted = mailboxes.saturating_sub(count("mailboxes")) + outcomes.abs_diff(count("mailboxes"));
    // Each inventory address is a row of the migration report.
    let report = std::fs::read_to_string(home.join("projects/acme/reports/migration-report.csv")).expect("report");
    let missing: Vec<&str> = inventory
        .lines()
        .skip(1)
        .filter_map(|l| l.split(',').find(|f| f.contains('@')).map(|f| f.trim_matches('"')))
        .filter(|address| !report.contains(address))
        .collect();
    assert!(missing.is_empty(), "{} mailbox(es) not in the migration report: {missing:?}", missing.len());
    assert_eq!(unaccounted, 0, "mailboxes unaccounted: {totals}");

    // No request came back before its Retry-After.
    let retries = control(&control_url, reqwest::Method::GET, "/retry-after", None);
    let early = retries["early"].as_u64().expect("early");
    assert_eq!(early, 0, "requests sent before their Retry-After: {retries}");
    let retried = retries["retried"].as_u64().expect("retried");
    assert!(retried > 10, "faults with Retry-After were served and retried: {retries}");
    let rules = control(&control_url, reqwest::Method::GET, "/faults", None);
    let faults_served: u64 =
        rules["faults"].as_array().expect("rules").iter().filter_map(|r| r["served"].as_u64()).sum();
    let requests = control(&control_url, reqwest::Method::GET, "/requests", None)["total"].as_u64().expect("total");

    // No secret in the data home (projects, reports, log, live files) or the test snapshots.
    let mut scan_all = SecretScan::from_simulator(&control_url);
    scan_all.places.append(&mut scan.places);
    scan_all.found.append(&mut scan.found);
    scan_all.tree(home);
    secret_scan::scan_snapshots(&mut scan_all);
    scan_all.assert_clean();

    let figures = Figures {
        scenario: scenario.to_owned(),
        mailboxes,
        unaccounted,
        faulted_with_retry_after: retries["faulted"].as_u64().unwrap_or(0),
        retried,
        early,
        min_margin_s: retries["min_margin_s"].as_f64().unwrap_or(f64::NAN),
        faults_served,
        requests,
        sign_ins,
        completion_refused,
        peak_rss_cutover_kib: children_peak_rss_kib(),
        peak_rss_sim_kib: vm_hwm_kib(sim.pid()),
        wall: started.elapsed(),
        places_scanned: scan_all.places.len(),
        secrets_found: scan_all.found.len(),
    };
    eprintln!("soak figures: {figures:#?}");
    figures
}

#[test]
fn a_small_cutover_survives_faults_all_the_way() {
    let f = soak("small", "600", 3, 1);
    assert_eq!(f.mailboxes, 10);
    assert!(f.sign_ins >= 1, "the revoked sign-in was noticed and renewed: {f:?}");
}

/// The full form: `sh scripts/with-keyring.sh cargo test --release --test soak -- --ignored --nocapture`.
#[test]
#[ignore = "the full soak of 2,000 mailboxes takes minutes; see RELIABILITY.md section 3"]
fn the_largest_cutover_survives_faults_all_the_way() {
    COMMAND_LIMIT_SECS.store(1800, std::sync::atomic::Ordering::Relaxed);
    // The clock jumps days at a time through the control API; running free at 60x, a minute-long read of
    // 2,000 mailboxes is a simulated hour, inside the batch's Synced time between its daily incremental syncs.
    let f = soak("large", "60", 10, 6);
    assert_eq!(f.mailboxes, 2000);
}

/// The scan itself finds what it looks for: a planted secret and a JWT-shaped string, and not ordinary text.
#[test]
fn the_secret_scan_finds_a_planted_secret() {
    let dir = tempfile::tempdir().expect("temp dir");
    std::fs::write(dir.path().join("clean.txt"), "Batch cutover-acme is Syncing. eyJ alone is no token.")
        .expect("write");
    std::fs::write(dir.path().join("leak.json"), r#"{"password":"Sim-Only-Passw0rd!"}"#).expect("write");
    std::fs::write(dir.path().join("jwt.log"), "Bearer eyJhbGciOiJub25lIn0.eyJhdWQiOiJ4In0.").expect("write");
    let mut scan = SecretScan::with(vec!["Sim-Only-Passw0rd!".into()]);
    scan.tree(dir.path());
    assert_eq!(scan.places.len(), 3);
    assert_eq!(scan.found.len(), 2, "{:?}", scan.found);
    assert!(scan.found.iter().any(|f| f.contains("leak.json")) && scan.found.iter().any(|f| f.contains("jwt.log")));
}
