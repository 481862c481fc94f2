//! Stages 1 to 4 run headless against `cutover sim`, with nothing but the command line: a project made with
//! `new --no-open`, the source reached with `source --password-stdin`, the simulated server's inventory imported,
//! a device code sign-in the simulator approves, the checks, the overrides, the settings and tasks of stages 3
//! and 4, and `status`
//! showing stage 4 done. The test plays the customer's DNS host only. Uses the real OS keyring (run through
//! scripts/with-keyring.sh).

use serde_json::Value;
use std::io::Read;
use std::time::{Duration, Instant};

#[path = "support/headless.rs"]
mod headless;
use headless::*;

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

    // Stage 1: a bad value names its flag and creates nothing.
    let err = refused(home, &["new", "acme", "--no-open", "--customer", "Contoso Dental", "--cutover", "friday"]);
    assert!(err.contains("--cutover") && err.contains("YYYY-MM-DD HH:MM"), "{err}");
    assert!(!home.join("projects/acme").exists(), "nothing is made for a bad value");

    let control = sim.str("/control_url");
    let new = new_flags(&sim);
    let new: Vec<&str> = new.iter().map(String::as_str).collect();
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
    let (source, password) = source_flags(&sim);
    let source: Vec<&str> = source.iter().map(String::as_str).collect();
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

#[test]
fn the_batch_is_watched_reported_and_its_skipped_items_approved_headless() {
    let sim = Sim::start(&["sim", "--json", "--scenario", "typical", "--auto-approve", "--speed", "60"]);
    let home = tempfile::tempdir().expect("temp dir");
    let home = home.path();
    let control = sim.str("/control_url");
    let domain = sim.info["email_domains"][0].as_str().expect("a domain").to_owned();
    let (morrison, fischer, scanner) =
        (format!("j.morrison@{domain}"), format!("a.fischer@{domain}"), format!("scanner@{domain}"));
    to_stage_five(&sim, home);

    // Read-only: with no batch, the watch says which task starts one and starts nothing.
    let err = refused(home, &["watch", "--project", "acme"]);
    assert!(err.contains("cutover task start-batch") && err.contains("never starts it"), "{err}");
    let audit = || std::fs::read_to_string(home.join("projects/acme/audit.jsonl")).expect("audit log");
    assert!(!audit().contains("\"new-migration-batch\""), "the watch made no batch");

    ok(home, &["task", "create-batch", "--project", "acme", "--yes"], None);
    let err = refused(home, &["watch", "--project", "acme"]);
    assert!(err.contains("not started") && err.contains("cutover task start-batch"), "{err}");
    ok(home, &["task", "start-batch", "--project", "acme", "--yes"], None);
    ok(home, &["set", "poll-while-syncing-s", "10", "--project", "acme"], None);

    // Ctrl-C ends a watch at once with 130, the shell's code for an interrupt, saying nothing was changed.
    let mut interrupted = spawn_cutover(home, &["watch", "--project", "acme"]);
    // The reader stays open: a closed pipe would end the watch by SIGPIPE instead.
    let mut out = std::io::BufReader::new(interrupted.stdout.take().expect("stdout"));
    let mut first_line = String::new();
    std::io::BufRead::read_line(&mut out, &mut first_line).expect("the watch's first line");
    assert!(!first_line.trim().is_empty(), "the watch prints the batch before it is interrupted");
    // SAFETY: kill(2) with our own child's pid and a valid signal number.
    unsafe { libc::kill(interrupted.id() as i32, libc::SIGINT) };
    let ended = interrupted.wait_with_output().expect("wait for the watch");
    drop(out);
    assert_eq!(ended.status.code(), Some(130), "Ctrl-C: {}", String::from_utf8_lossy(&ended.stderr));

    // The watch follows the batch while the simulator's day passes, and stops once every mailbox is through.
    let mut watch = spawn_cutover(home, &["watch", "--project", "acme", "--json", "--until", "synced"]);
    let stdout = watch.stdout.take().expect("stdout");
    let (tx, rx) = std::sync::mpsc::channel();
    std::thread::spawn(move || {
        use std::io::BufRead;
        for line in std::io::BufReader::new(stdout).lines().map_while(Result::ok) {
            let _ = tx.send(line);
        }
    });
    let first = rx.recv_timeout(Duration::from_secs(60)).expect("the watch prints the batch as it is first");
    // A day of the simulator at a time: 120 mailboxes at 20 at once take more than one.
    let mut days = 0;
    let code = loop {
        if let Some(status) = watch.try_wait().expect("wait") {
            break status;
        }
        if days == 7 {
            let _ = watch.kill();
            let seen: Vec<String> = rx.try_iter().collect();
            panic!("cutover watch --until synced did not end within 7 simulated days:\n{}", seen.join("\n"));
        }
        advance_clock(&control, 86_400);
        days += 1;
        let start = Instant::now();
        while watch.try_wait().expect("wait").is_none() && start.elapsed() < Duration::from_secs(30) {
            std::thread::sleep(Duration::from_millis(100));
        }
    };
    let mut lines = vec![first];
    lines.extend(rx.try_iter());
    let mut stderr = String::new();
    watch.stderr.take().expect("stderr").read_to_string(&mut stderr).expect("stderr");
    assert!(code.success(), "exit code 0 once synced: {code:?}\n{}\n{stderr}", lines.join("\n"));
    let events: Vec<Value> = lines.iter().map(|l| json(l)).collect();
    assert!(events.iter().any(|e| e["event"] == "batch"), "the batch's state is a line: {lines:?}");
    let synced = events.iter().any(|e| e["address"] == morrison.as_str() && e["status"] == "synced");
    assert!(synced, "j.morrison's change to synced is a line: {lines:?}");
    let end = events.last().expect("an end");
    assert_eq!(end["event"], "reached", "{end}");
    assert_eq!(end["failed"], serde_json::json!([fischer, scanner]), "the poisoned and the hidden are named: {end}");
    assert_eq!((end["mailboxes"].as_u64(), end["migrated"].as_u64()), (Some(120), Some(118)), "{end}");
    assert!(stderr.contains("Watching the batch cutover-acme"), "progress goes to stderr: {stderr}");

    // Status shows the batch and every mailbox of it from the watch's live file.
    let v = json(&ok(home, &["status", "--project", "acme", "--json"], None));
    assert_eq!(v["batch"]["identity"], "cutover-acme", "{}", v["batch"]);
    assert!(v["batch"]["polled_at"].is_string() && v["batch"]["age_secs"].is_number(), "{}", v["batch"]);
    let mailboxes = v["mailboxes"].as_array().expect("mailboxes");
    assert_eq!(mailboxes.len(), 120, "every mailbox of the batch");
    let entry = |address: &str| mailboxes.iter().find(|m| m["address"] == address).cloned();
    let hidden = entry(&scanner).expect("scanner");
    assert_eq!(hidden["cause"], "HiddenFromAddressLists", "{hidden}");
    let m = entry(&morrison).expect("j.morrison");
    assert_eq!((m["status"].as_str(), m["skipped_items"].as_u64()), (Some("synced"), Some(3)), "{m}");
    let f = entry(&fischer).expect("a.fischer");
    assert_eq!((f["status"].as_str(), f["cause"].as_str()), (Some("failed"), Some("PoisonedJob")), "{f}");
    assert!(f["fix"].as_str().is_some_and(|t| !t.is_empty()) && f["error"].is_string(), "{f}");
    let text_status = ok(home, &["status", "--project", "acme"], None);
    assert!(text_status.lines().any(|l| l.starts_with("Batch cutover-acme: ") && l.contains("120 mailboxes")));

    // The report, fresh from the batch: a row per mailbox.
    let csv = ok(home, &["report", "migration", "--project", "acme", "--format", "csv"], None);
    let rows: Vec<&str> = csv.lines().skip(1).filter(|l| !l.trim().is_empty()).collect();
    assert_eq!(rows.len(), 120, "{csv}");
    for address in [&morrison, &fischer, &scanner] {
        assert_eq!(rows.iter().filter(|r| r.contains(address.as_str())).count(), 1, "{address}: {csv}");
    }
    let file = home.join("report.md");
    ok(home, &["report", "migration", "--project", "acme", "--out", file.to_str().expect("utf-8")], None);
    assert!(std::fs::read_to_string(&file).expect("the report").contains(&morrison));

    // Picked mailboxes only: one without skipped items is left, and a task of the whole batch takes no pick.
    let out = ok(home, &["task", "approve-skipped", "--project", "acme", "--yes", "--mailbox", &fischer], None);
    assert!(out.contains("has no skipped items now"), "{out}");
    assert!(!audit().contains("\"approve-skipped-items\""), "nothing approved for a.fischer");
    let err = refused(home, &["task", "start-batch", "--project", "acme", "--yes", "--mailbox", &fischer]);
    assert!(err.contains("without --mailbox"), "{err}");

    // The skipped items are listed and approved once; a second run leaves the mailbox.
    let out = ok(home, &["task", "approve-skipped", "--project", "acme", "--yes", "--mailbox", &morrison], None);
    assert!(out.contains("Approved the skipped items of 1 mailbox(es)") && out.contains(&morrison), "{out}");
    assert!(out.contains("LargeItem \"") && out.contains(" MB"), "each item with its kind, subject and size: {out}");
    let approvals = || audit().lines().filter(|l| l.contains("\"approve-skipped-items\"")).count();
    assert_eq!(approvals(), 2, "about to and done");
    let out = ok(home, &["task", "approve-skipped", "--project", "acme", "--yes"], None);
    assert!(out.contains("Nothing to approve") && out.contains("approved already"), "{out}");
    assert_eq!(approvals(), 2, "no second write");
}

/// Stage 8 headless on `small`: the writes need `--yes` without a terminal; last-sync-after-mx fails until the
/// incremental sync after the MX change, then complete-batch follows the batch to Completed (`status --json`
/// carries it), the batch and then the endpoint are removed, the X500 addresses added once, and every stage-8
/// check passes. Stage 7 runs before it through its own commands.
#[test]
fn stage_eight_completes_and_removes_the_batch_headless() {
    let sim = Sim::start(&["sim", "--json", "--scenario", "small", "--auto-approve", "--speed", "60"]);
    let home_dir = tempfile::tempdir().expect("temp dir");
    let home = home_dir.path();
    let control = sim.str("/control_url");
    to_stage_five(&sim, home);
    ok(home, &["task", "create-batch", "--project", "acme", "--yes"], None);
    ok(home, &["task", "start-batch", "--project", "acme", "--yes"], None);
    let stage_checks = |stage: &str| {
        let out = cutover(home, &["check", "--project", "acme", "--stage", stage, "--json"], None);
        let v = json(&text(&out.stdout));
        v["stages"][0]["checks"].as_array().expect("checks").clone()
    };
    let outcome = |checks: &[Value], id: &str| {
        checks
            .iter()
            .find(|c| c["id"] == id)
            .map(|c| (c["outcome"].as_str().unwrap_or("").to_owned(), c["evidence"].to_string()))
    };
    for _ in 0..5 {
        advance_clock(&control, 86_400);
        if outcome(&stage_checks("5"), "batch-state").is_some_and(|(o, _)| o == "Pass") {
            break;
        }
    }
    check_and_override(home, 5);
    check_and_override(home, 6);

    // Stage 7 through its commands: the records read, the pre-flight overridden (the scenario's MX TTL was never
    // lowered), the registrar set as the customer would, the change recorded, and its watch followed until every
    // resolver has switched.
    ok(home, &["task", "show-records", "--project", "acme"], None);
    let reason = "TTL lowered at the customer's DNS host, confirmed by phone";
    ok(home, &["override", "--project", "acme", "--stage", "7", "--check", "mx-preflight", "--reason", reason], None);
    ok(home, &["task", "apply-records-demo", "--project", "acme", "--yes"], None);
    ok(home, &["task", "record-mx-change", "--project", "acme"], None);
    let slowest = sim.info["dns"].as_array().expect("resolvers").iter().filter_map(|r| r["delay_seconds"].as_f64());
    advance_clock(&control, slowest.fold(0.0, f64::max) as u64 + 60);
    let mut watch = spawn_cutover(home, &["watch", "--project", "acme"]);
    let code = wait_exit(&mut watch, Duration::from_secs(60), "the DNS watch, every resolver switched,");
    assert!(code.success(), "{code:?}");
    assert_eq!(stage_status(home, 7), "done (overridden)");
    let mx = json(&std::fs::read_to_string(home.join("projects/acme/state.json")).expect("state"))["mx"].clone();
    assert!(mx["change_ahead_ms"].is_i64() && mx["switch_ahead_ms"].is_i64(), "the service clock kept: {mx}");
    assert_eq!(stage_status(home, 8), "not started", "stage 8 is open");

    // Without a terminal, each write needs --yes.
    for task in ["complete-batch", "remove-batch", "remove-endpoint", "x500-addresses"] {
        let err = refused(home, &["task", task, "--project", "acme"]);
        assert!(err.contains("add --yes"), "{task}: {err}");
    }
    let audit = || std::fs::read_to_string(home.join("projects/acme/audit.jsonl")).expect("audit log");
    assert!(!audit().contains("\"complete-migration-batch\""), "nothing was completed");

    // Before the next incremental sync the mail sent to the old MX has not arrived; two days on it has.
    let (o, evidence) = outcome(&stage_checks("8"), "last-sync-after-mx").expect("the check");
    assert_eq!(o, "Fail", "{evidence}");
    assert!(evidence.contains("next incremental sync due"), "{evidence}");
    advance_clock(&control, 2 * 86_400);
    let (o, evidence) = outcome(&stage_checks("8"), "last-sync-after-mx").expect("the check");
    assert_eq!(o, "Pass", "{evidence}");

    let out = ok(home, &["task", "complete-batch", "--project", "acme", "--yes"], None);
    assert!(out.contains("It is Completed"), "{out}");
    let v = json(&ok(home, &["status", "--project", "acme", "--json"], None));
    assert_eq!(v["batch"]["completion"]["state"], "completed", "{}", v["batch"]);
    let out = ok(home, &["task", "complete-batch", "--project", "acme", "--yes"], None);
    assert!(out.contains("Completed already: left alone") || out.contains("was Completed already"), "{out}");

    let out = ok(home, &["task", "remove-batch", "--project", "acme", "--yes"], None);
    assert!(out.contains("Removed the batch cutover-acme"), "{out}");
    advance_clock(&control, 120);
    let out = ok(home, &["task", "remove-endpoint", "--project", "acme", "--yes"], None);
    assert!(out.contains("Removed the migration endpoint"), "{out}");
    let out = ok(home, &["task", "x500-addresses", "--project", "acme", "--yes"], None);
    assert!(out.contains("Added the X500 address of 10 mailbox(es)"), "{out}");
    let out = ok(home, &["task", "x500-addresses", "--project", "acme", "--yes"], None);
    assert!(out.contains("Nothing to add"), "{out}");

    let checks = stage_checks("8");
    for id in ["last-sync-after-mx", "batch-completed", "batch-removed", "x500-present"] {
        let (o, evidence) = outcome(&checks, id).expect("ran");
        assert_eq!(o, "Pass", "{id}: {evidence}");
    }
    assert_eq!(audit().lines().filter(|l| l.contains("\"add-x500-address\"")).count(), 20, "10 writes, each twice");

    // Stage 9: the transport rules from the export `cutover sim --json` names, and the licences the batch left
    // out; each write needs --yes, and a second run writes nothing.
    assert_eq!(stage_status(home, 9), "not started", "stage 9 is open");
    for task in ["transport-rules", "licences-final"] {
        let err = refused(home, &["task", task, "--project", "acme"]);
        assert!(err.contains("add --yes"), "{task}: {err}");
    }
    let rules_file = sim.str("/transport_rules_json");
    ok(home, &["set", "transport-rules-file", &rules_file, "--project", "acme"], None);
    let out = ok(home, &["task", "transport-rules", "--project", "acme", "--yes"], None);
    assert!(out.contains("1 transport rule(s) created, 0 in place already, of 1"), "{out}");
    let out = ok(home, &["task", "transport-rules", "--project", "acme", "--yes"], None);
    assert!(out.contains("0 transport rule(s) created, 1 in place already"), "{out}");
    let (o, evidence) = outcome(&stage_checks("9"), "licences-assigned").expect("the check");
    assert_eq!(o, "Fail", "the batch assigns no licence: {evidence}");
    ok(home, &["set", "usage-location", "US", "--project", "acme"], None);
    let out = ok(home, &["task", "licences-final", "--project", "acme", "--yes"], None);
    assert!(out.contains("Assigned EXCHANGESTANDARD to 7 user(s); 0 had a licence already"), "{out}");
    let out = ok(home, &["task", "licences-final", "--project", "acme", "--yes"], None);
    assert!(out.contains("Nothing to assign"), "{out}");
    let checks = stage_checks("9");
    for id in ["transport-rules-enabled", "licences-assigned", "service-health"] {
        let (o, evidence) = outcome(&checks, id).expect("ran");
        assert_eq!(o, "Pass", "{id}: {evidence}");
    }
    let (o, evidence) = outcome(&checks, "mail-flow").expect("ran");
    assert_eq!(o, "Fail", "no test mail yet: {evidence}");
    let out = cutover(home, &["task", "send-test-mail", "--project", "acme", "--yes"], None);
    let said = format!("{}{}", text(&out.stdout), text(&out.stderr));
    assert!(!out.status.success() && said.contains("test-mail-address"), "{:?} {said}", out.status);
    ok(home, &["set", "test-mail-address", "engineer@partner.example", "--project", "acme"], None);
    // Mail.Send is asked for only now, by a device code of its own (the simulator approves it), and only once.
    let consents = || {
        let audit = std::fs::read_to_string(home.join("projects/acme/audit.jsonl")).expect("audit");
        let records = audit.lines().filter_map(|l| serde_json::from_str::<serde_json::Value>(l).ok());
        records.filter(|r| r["action"] == "consent" && r["phase"] == "done").count()
    };
    assert_eq!(consents(), 0, "no consent before the test mail");
    let out = cutover(home, &["task", "send-test-mail", "--project", "acme", "--yes"], None);
    let (said, asked) = (text(&out.stdout), text(&out.stderr));
    assert!(out.status.success() && said.contains("Sent 2 test mails"), "{said}{asked}");
    assert!(
        asked.contains("needs the Microsoft Graph permission Mail.Send") && asked.contains("enter the code"),
        "{asked}"
    );
    assert_eq!(consents(), 1, "the consent is audited");
    // Sending as the migrated mailbox takes Send As for the signed-in admin, given for the sends and taken back.
    let log = std::fs::read_to_string(home.join("projects/acme/audit.jsonl")).expect("audit");
    let done =
        |action: &str| log.lines().filter(|l| l.contains(&format!("\"{action}\"")) && l.contains("\"done\"")).count();
    assert_eq!((done("add-send-as"), done("remove-send-as")), (1, 1), "{log}");
    let out = cutover(home, &["task", "send-test-mail", "--project", "acme", "--yes"], None);
    assert!(out.status.success() && !text(&out.stderr).contains("Mail.Send"), "consented once: {}", text(&out.stderr));
    assert_eq!(consents(), 1);
    advance_clock(&control, 120);
    let (_, evidence) = outcome(&stage_checks("9"), "mail-flow").expect("ran");
    assert!(evidence.contains("→ engineer@partner.example: Delivered."), "{evidence}");
    let (o, evidence) = outcome(&checks, "eop-policies").expect("ran");
    assert_eq!(o, "Fail", "the Default policies are off the baseline: {evidence}");
    let out = ok(home, &["task", "eop-settings", "--project", "acme", "--yes"], None);
    assert!(out.contains("DKIM signing stays off until the customer publishes"), "{out}");
    let (_, evidence) = outcome(&stage_checks("9"), "eop-policies").expect("ran");
    assert!(evidence.contains("anti-spam (Default) policy matches the baseline"), "{evidence}");
    assert_eq!(audit().lines().filter(|l| l.contains("\"new-transport-rule\"")).count(), 2, "one write");
}
