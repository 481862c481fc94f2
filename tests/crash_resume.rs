//! Kill at every write point: each write-making step of stages 1 to 5, run headless against `cutover sim`, is
//! killed (SIGKILL, through the test-only `CUTOVER_CRASH_AT`) right after its "about to" is recorded, right after
//! the write returns, or right after its outcome is recorded. After each kill the project is opened again by a
//! headless command, which must find the write done or not done and record it; the step then runs again to
//! completion. At the end the simulator's request log must show each write sent once, and every file of the
//! project must parse. Every step is killed at every point: one project per point (RELIABILITY.md, section 2).
//! Uses the real OS keyring (run through scripts/with-keyring.sh).

use serde_json::Value;
use std::os::unix::process::ExitStatusExt;
use std::path::Path;
use std::process::{Command, Output, Stdio};
use std::time::{Duration, Instant};

#[path = "support/headless.rs"]
mod headless;
use cutover::crash::Point;
use headless::*;

/// Runs cutover with `env` set, killing it after two minutes.
fn cutover_env(home: &Path, args: &[&str], stdin: Option<&str>, env: &[(&str, &str)]) -> Output {
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
        std::io::Write::write_all(&mut pipe, text.as_bytes()).expect("write stdin");
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

fn audit(home: &Path) -> Vec<Value> {
    let text = std::fs::read_to_string(home.join("projects/acme/audit.jsonl")).expect("audit log");
    text.lines()
        .enumerate()
        .map(|(i, l)| {
            serde_json::from_str(l).unwrap_or_else(|e| panic!("audit.jsonl line {} is torn ({e}): {l}", i + 1))
        })
        .collect()
}

/// Every file of the project parses: state.json, each line of audit.jsonl, each live view.
fn files_whole(home: &Path) -> usize {
    let dir = home.join("projects/acme");
    let state = std::fs::read_to_string(dir.join("state.json")).expect("state.json");
    serde_json::from_str::<Value>(&state).expect("state.json parses");
    let mut files = 2;
    audit(home);
    let mut folders = vec![dir.join("live")];
    while let Some(folder) = folders.pop() {
        let Ok(entries) = std::fs::read_dir(&folder) else { continue };
        for path in entries.filter_map(Result::ok).map(|e| e.path()) {
            if path.is_dir() {
                folders.push(path);
            } else if path.extension().is_some_and(|e| e == "json") {
                let text = std::fs::read_to_string(&path).expect("live file");
                serde_json::from_str::<Value>(&text).unwrap_or_else(|err| panic!("{} ({err})", path.display()));
                files += 1;
            }
        }
    }
    files
}

/// What the run saw: write points killed, writes read back (by what was found), files checked.
#[derive(Debug, Default)]
struct Tally {
    killed: Vec<(String, Point)>,
    found_done: usize,
    found_not_done: usize,
    files_checked: usize,
}

/// Runs `args` killed at `point` of its first `action`, reopens the project with a headless command that must
/// read the write back (done after the write returned, not done before, nothing left open after its outcome),
/// then runs `args` again to completion.
fn crash_step(home: &Path, args: &[&str], stdin: Option<&str>, action: &str, point: Point, tally: &mut Tally) {
    let crash = format!("{}:{action}", point.word());
    let out = cutover_env(home, args, stdin, &[("CUTOVER_CRASH_AT", &crash)]);
    assert_eq!(
        out.status.signal(),
        Some(libc::SIGKILL),
        "cutover {args:?} with CUTOVER_CRASH_AT={crash} was not killed there: it never reached the write point\n{}\n{}",
        text(&out.stdout),
        text(&out.stderr)
    );
    tally.killed.push((action.to_owned(), point));
    let checked_before = audit(home).iter().filter(|r| r["phase"] == "checked").count();
    // `status` reads without the lock and reads nothing back: it says what is left open.
    let status = text(&cutover(home, &["status", "--project", "acme"], None).stderr);
    let open = format!("warning: {action} ");
    assert_eq!(status.contains(&open), point != Point::Done, "{crash}: status tells what is left open: {status}");
    // Reopened by a command that writes nothing outside the project: stage 1's checks read the project only.
    let reopen = cutover(home, &["check", "--project", "acme", "--stage", "1", "--json"], None);
    let said = text(&reopen.stderr);
    let records = audit(home);
    let checked: Vec<&Value> = records.iter().filter(|r| r["phase"] == "checked").skip(checked_before).collect();
    match point {
        Point::Done => {
            assert!(checked.is_empty(), "{crash}: nothing was left open, nothing read back: {checked:?}");
            assert!(!said.contains("Resumed after a crash"), "{said}");
        }
        Point::AboutTo | Point::Written => {
            let want = if point == Point::Written { "done" } else { "not-done" };
            let mine: Vec<&&Value> = checked.iter().filter(|r| r["action"] == action).collect();
            assert_eq!(mine.len(), 1, "{crash}: the write read back once, recorded: {checked:?}\n{said}");
            assert_eq!(mine[0]["detail"]["found"], want, "{crash}: {}\n{said}", mine[0]);
            assert!(said.contains(&format!("Resumed after a crash: {action}")), "{crash}: told on stderr: {said}");
            if point == Point::Written { tally.found_done += 1 } else { tally.found_not_done += 1 }
        }
    }
    tally.files_checked += files_whole(home);
    let again = cutover(home, args, stdin);
    assert!(
        again.status.success(),
        "{args:?} again after the crash:\n{}\n{}",
        text(&again.stdout),
        text(&again.stderr)
    );
    tally.files_checked += files_whole(home);
}

/// Stages 6 to 9 after [`run`]'s stage 5: the MX change at the demo registrar and its record, the batch
/// completed and removed, the endpoint removed, the X500 addresses, and stage 9's settings and DNS records. Stage
/// 7's propagation is recorded as passed (the watch waits on simulated resolvers), as the closeout test does.
fn later_stages(sim: &Sim, home: &Path, point: Point, tally: &mut Tally) {
    let control = sim.str("/control_url");
    let task = |id: &'static str| ["task", id, "--project", "acme", "--yes"];
    advance_clock(&control, 5 * 86_400);
    check_and_override(home, 5);
    check_and_override(home, 6);
    ok(home, &["task", "show-records", "--project", "acme", "--json"], None);
    let reason = "TTL lowered by the customer's DNS host yesterday, confirmed by phone";
    ok(home, &["override", "--project", "acme", "--stage", "7", "--check", "mx-preflight", "--reason", reason], None);
    crash_step(home, &task("apply-records-demo"), None, "apply-dns-records-demo", point, tally);
    let at = (chrono::Utc::now() - chrono::Duration::minutes(2)).to_rfc3339_opts(chrono::SecondsFormat::Secs, true);
    crash_step(
        home,
        &["task", "record-mx-change", "--project", "acme", "--at", &at],
        None,
        "record-mx-change",
        point,
        tally,
    );
    let state_path = home.join("projects/acme/state.json");
    let mut state: Value = serde_json::from_str(&std::fs::read_to_string(&state_path).expect("state")).expect("json");
    let now = chrono::Utc::now().to_rfc3339();
    state["stages"]["7"]["checks"]["dns-propagation"] =
        serde_json::json!({ "outcome": "Pass", "evidence": "recorded by the test", "at": now });
    std::fs::write(&state_path, serde_json::to_vec_pretty(&state).expect("json")).expect("write state");
    advance_clock(&control, 2 * 86_400);
    crash_step(home, &task("complete-batch"), None, "complete-migration-batch", point, tally);
    advance_clock(&control, 86_400);
    crash_step(home, &task("remove-batch"), None, "remove-migration-batch", point, tally);
    advance_clock(&control, 3_600);
    crash_step(home, &task("remove-endpoint"), None, "remove-migration-endpoint", point, tally);
    // x500-addresses writes nothing here: the simulated tenant lists no cloud mailbox for the small scenario's.
    check_and_override(home, 8);
    crash_step(home, &task("eop-settings"), None, "set-content-filter-policy", point, tally);
    crash_step(home, &task("publish-dkim-dmarc"), None, "publish-dns-demo", point, tally);
    let log = requests(&control);
    for cmdlet in ["Complete-MigrationBatch", "Remove-MigrationBatch", "Remove-MigrationEndpoint"] {
        assert_eq!(log["exo"][cmdlet], 1, "{cmdlet} sent once: {log}");
    }
}

/// Stages 6 to 9 too, every step at every point (RELIABILITY.md, section 2).
#[test]
#[ignore = "stages 6 to 9 double the time: cargo test --test crash_resume -- --ignored"]
fn every_write_point_of_stages_six_to_nine_too() {
    let started = Instant::now();
    for point in Point::ALL {
        let tally = run(point, true);
        eprintln!("{}: {} write points killed", point.word(), tally.killed.len());
    }
    eprintln!("{:.0} s", started.elapsed().as_secs_f64());
}

fn requests(control: &str) -> Value {
    tokio::runtime::Runtime::new().expect("runtime").block_on(async {
        let answer = reqwest::get(format!("{control}/requests")).await.expect("the request log");
        answer.json::<Value>().await.expect("json")
    })
}

fn registrar(control: &str) -> Value {
    tokio::runtime::Runtime::new().expect("runtime").block_on(async {
        let answer = reqwest::get(format!("{control}/dns/records")).await.expect("the registrar");
        answer.json::<Value>().await.expect("json")
    })
}

/// Stages 1 to 5 of project acme, every write-making step killed at `point`; returns what it saw.
fn run(point: Point, later: bool) -> Tally {
    let sim = Sim::start(&["sim", "--json", "--scenario", "small", "--auto-approve", "--speed", "60"]);
    let home = tempfile::tempdir().expect("temp dir");
    let home = home.path();
    let control = sim.str("/control_url");
    let mut tally = Tally::default();
    let crash = |args: &[&str], stdin: Option<&str>, action: &str, tally: &mut Tally| {
        crash_step(home, args, stdin, action, point, tally);
    };
    let reason = "accepted with the customer for this test run";

    // Stage 1: the project, and its override (a change of the project's state).
    let new = new_flags(&sim);
    ok(home, &new.iter().map(String::as_str).collect::<Vec<_>>(), None);
    cutover(home, &["check", "--project", "acme", "--stage", "1", "--json"], None);
    let over = ["override", "--project", "acme", "--stage", "1", "--check", "cutover-limits", "--reason", reason];
    crash(&over, None, "override-check", &mut tally);
    // Stage 2: the source's access, the inventory.
    let (source, password) = source_flags(&sim);
    let source: Vec<&str> = source.iter().map(String::as_str).collect();
    let password = format!("{password}\n");
    crash(&source, Some(&password), "set-source-access", &mut tally);
    let inventory = sim.str("/inventory_csv");
    crash(&["import", "inventory", &inventory, "--project", "acme"], None, "import-inventory", &mut tally);
    ok(home, &["auth", "login", "--project", "acme"], None);
    check_and_override(home, 2);
    check_and_override(home, 3);
    // Stage 4: the tenant's domains, their verification, the endpoint.
    let task = |id: &'static str| ["task", id, "--project", "acme", "--yes"];
    crash(&task("add-domains"), None, "add-domain", &mut tally);
    crash(&task("publish-verification"), None, "publish-verification-txt-demo", &mut tally);
    crash(&task("verify-domains"), None, "verify-domains", &mut tally);
    crash(&task("create-endpoint"), None, "new-migration-endpoint", &mut tally);
    // Stage 3's accounts, chosen now that the domains are verified.
    crash(&["set", "cloud-accounts", "pre-create", "--project", "acme"], None, "set-setting", &mut tally);
    ok(home, &["set", "usage-location", "us", "--project", "acme"], None);
    crash(&task("create-users"), None, "create-user", &mut tally);
    check_and_override(home, 4);
    // Stage 5: the batch, made and started.
    crash(&task("create-batch"), None, "new-migration-batch", &mut tally);
    crash(&task("start-batch"), None, "start-migration-batch", &mut tally);
    if later {
        later_stages(&sim, home, point, &mut tally);
    }

    // Each write sent once: the request log of the tenant, and the registrar's record sets.
    let log = requests(&control);
    for cmdlet in ["New-MigrationEndpoint", "New-MigrationBatch", "Start-MigrationBatch"] {
        assert_eq!(log["exo"][cmdlet], 1, "{cmdlet} sent once: {log}");
    }
    let domains = sim.info["email_domains"].as_array().expect("domains").len() as u64;
    assert_eq!(log["graph_writes"]["POST /v1.0/domains"], domains, "each domain added once: {log}");
    let records = audit(home);
    let upns: std::collections::BTreeSet<String> = records
        .iter()
        .filter(|r| r["action"] == "create-user" && r["phase"] == "about-to")
        .map(|r| r["detail"]["userPrincipalName"].to_string())
        .collect();
    assert!(!upns.is_empty(), "accounts were made");
    assert_eq!(log["graph_writes"]["POST /v1.0/users"], upns.len() as u64, "each account created once: {log}");
    for set in registrar(&control)["records"].as_array().expect("record sets") {
        let values = set["history"].as_array().and_then(|h| h.last()).and_then(|v| v[1].as_array()).cloned();
        let values = values.unwrap_or_default();
        let distinct: std::collections::BTreeSet<String> = values.iter().map(Value::to_string).collect();
        assert_eq!(distinct.len(), values.len(), "no value published twice: {set}");
    }
    // The tasks are done once more: stage 5's status says the batch is under way.
    assert_ne!(stage_status(home, 5), "not started");
    tally
}

/// Every step at every point, one project per point.
#[test]
fn every_write_point_of_every_step_is_found_and_nothing_is_sent_twice() {
    let started = Instant::now();
    let mut all = Tally::default();
    for point in Point::ALL {
        let tally = run(point, false);
        assert!(!tally.killed.is_empty());
        all.killed.extend(tally.killed);
        all.found_done += tally.found_done;
        all.found_not_done += tally.found_not_done;
        all.files_checked += tally.files_checked;
    }
    // Killed before the write: it is not there; after it: it is; after its outcome: nothing is left open.
    assert_eq!(all.found_not_done + all.found_done, all.killed.len() * 2 / 3, "{all:?}");
    eprintln!(
        "write points killed: {}; found done: {}; found not done: {}; file checks: {} (0 corrupt); {:.0} s",
        all.killed.len(),
        all.found_done,
        all.found_not_done,
        all.files_checked,
        started.elapsed().as_secs_f64()
    );
}
