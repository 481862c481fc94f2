//! Crashes around the first and the sign-in commands, run as processes against `cutover sim`: `cutover new` killed
//! (SIGKILL, through the test-only `CUTOVER_CRASH_AT`) at each point of its `create-project`, then the project
//! opened and created again; and `cutover auth login` reading back what a crash cut short before it signs in and,
//! for a write to the tenant, once signed in (RELIABILITY.md, sections 1 and 2). Uses the real OS keyring (run
//! through scripts/with-keyring.sh).

use cutover::crash::Point;
use cutover::project::{AuditLog, AuditRecord, Phase};
use std::os::unix::process::ExitStatusExt;
use std::path::Path;

#[path = "support/headless.rs"]
mod headless;
use headless::*;

fn records(home: &Path) -> Vec<AuditRecord> {
    let (records, torn) = AuditLog::new(home.join("projects/acme/audit.jsonl")).read().expect("audit log");
    assert!(torn.is_empty(), "torn audit lines: {torn:?}");
    records
}

/// What the `checked` records of `action` found, in order.
fn found(home: &Path, action: &str) -> Vec<String> {
    records(home)
        .iter()
        .filter(|r| r.action == action && r.phase == Phase::Checked)
        .map(|r| r.detail["found"].as_str().unwrap_or_default().to_owned())
        .collect()
}

/// Runs `args` with the crash point armed; it must die there.
fn killed(home: &Path, args: &[&str], stdin: Option<&str>, crash: &str) {
    let out = cutover_with_env(home, args, stdin, &[("CUTOVER_CRASH_AT", crash)]);
    assert_eq!(
        out.status.signal(),
        Some(libc::SIGKILL),
        "{args:?} was not killed at {crash}:\n{}\n{}",
        text(&out.stdout),
        text(&out.stderr)
    );
}

#[test]
fn a_creation_killed_at_each_point_is_made_again_or_read_back() {
    let sim = Sim::start(&["sim", "--json", "--scenario", "small", "--auto-approve"]);
    let new = new_flags(&sim);
    let new: Vec<&str> = new.iter().map(String::as_str).collect();
    for point in Point::ALL {
        let home = tempfile::tempdir().expect("temp dir");
        let home = home.path();
        let dir = home.join("projects/acme");
        killed(home, &new, None, &format!("{}:create-project", point.word()));
        let check = ["check", "--project", "acme", "--stage", "1", "--json"];
        match point {
            Point::AboutTo => {
                assert!(!dir.join("state.json").exists(), "killed before the save");
                let audit = std::fs::read(dir.join("audit.jsonl")).expect("the about-to");
                // Opened by the wizard, read or changed headless: a creation cut short, named with its fix.
                for args in [&["open", "acme"][..], &["status", "--project", "acme"], &check] {
                    let err = refused(home, args);
                    assert!(err.contains("cut short") && err.contains("`cutover new acme` again"), "{args:?}: {err}");
                    assert!(!err.contains("damaged"), "{args:?}: {err}");
                }
                assert_eq!(std::fs::read(dir.join("audit.jsonl")).expect("audit"), audit, "nothing was changed");
                // The same command again makes the project, the cut creation recorded as not done.
                ok(home, &new, None);
                assert_eq!(found(home, "create-project"), ["not-done"]);
                let status = json(&ok(home, &["status", "--project", "acme", "--json"], None));
                let kickoff = &status["stages"][0]["checks"][0];
                assert_eq!(
                    (&kickoff["id"], &kickoff["outcome"]),
                    (&"kickoff-fields".into(), &"Pass".into()),
                    "{status}"
                );
                assert_eq!(status["demo"], true, "connected to the simulator: {status}");
            }
            Point::Written | Point::Done => {
                // The save is in, nothing else: the same command again reads back a creation saved but not
                // recorded done, and sets the rest up.
                let out = cutover(home, &new, None);
                let said = text(&out.stderr);
                assert!(out.status.success(), "{said}");
                assert!(said.contains("setting it up with these flags now"), "{said}");
                if point == Point::Written {
                    assert!(said.contains("Resumed after a crash: create-project"), "{said}");
                    assert_eq!(found(home, "create-project"), ["done"]);
                } else {
                    assert!(!said.contains("Resumed after a crash"), "{said}");
                    assert!(found(home, "create-project").is_empty());
                }
                let status = json(&ok(home, &["status", "--project", "acme", "--json"], None));
                let kickoff = &status["stages"][0]["checks"][0];
                assert_eq!((&kickoff["id"], &kickoff["outcome"]), (&"kickoff-fields".into(), &"Pass".into()));
                // Once the project holds more than its creation, it is never set up again over.
                assert!(refused(home, &new).contains("already exists"));
                let reopen = cutover(home, &check, None);
                assert!(!text(&reopen.stderr).contains("Resumed after a crash"), "read back once");
            }
        }
        assert!(records(home).iter().all(|r| r.phase != Phase::Failed), "no creation failed");
    }
}

#[test]
fn auth_login_reads_back_a_crash_before_and_after_it_signs_in() {
    let sim = Sim::start(&["sim", "--json", "--scenario", "small", "--auto-approve", "--speed", "60"]);
    let home = tempfile::tempdir().expect("temp dir");
    let home = home.path();
    let new = new_flags(&sim);
    ok(home, &new.iter().map(String::as_str).collect::<Vec<_>>(), None);
    cutover(home, &["check", "--project", "acme", "--stage", "1", "--json"], None);

    // A change of the project cut short: the sign-in reads it back before anything else.
    let reason = "accepted with the customer for this test run";
    let over = ["override", "--project", "acme", "--stage", "1", "--check", "cutover-limits", "--reason", reason];
    killed(home, &over, None, "about-to:override-check");
    let out = cutover(home, &["auth", "login", "--project", "acme"], None);
    let said = text(&out.stderr);
    assert!(out.status.success(), "{said}");
    assert!(said.contains("Resumed after a crash: override-check"), "{said}");
    assert_eq!(found(home, "override-check"), ["not-done"]);
    ok(home, &over, None);

    // A write to the tenant cut short, and the sign-in revoked: read back only once signed in again.
    let (source, password) = source_flags(&sim);
    ok(home, &source.iter().map(String::as_str).collect::<Vec<_>>(), Some(&format!("{password}\n")));
    ok(home, &["import", "inventory", &sim.str("/inventory_csv"), "--project", "acme"], None);
    check_and_override(home, 2);
    check_and_override(home, 3);
    killed(home, &["task", "add-domains", "--project", "acme", "--yes"], None, "written:add-domain");
    let revoked = tokio::runtime::Runtime::new().expect("runtime").block_on(async {
        reqwest::Client::new().post(format!("{}/tokens/revoke", sim.str("/control_url"))).send().await
    });
    assert!(revoked.expect("the simulator").status().is_success());
    let out = cutover(home, &["auth", "login", "--project", "acme"], None);
    let said = text(&out.stderr);
    assert!(out.status.success(), "{said}");
    let told: Vec<&str> = said.lines().filter(|l| l.starts_with("Resumed after a crash: add-domain")).collect();
    assert_eq!(told.len(), 2, "told before the sign-in (not readable) and after it: {said}");
    assert!(told[0].contains("could not be checked") && told[1].contains(": done;"), "{said}");
    assert_eq!(found(home, "add-domain"), ["done"], "recorded once, when read");
    let status = text(&cutover(home, &["auth", "status", "--project", "acme"], None).stderr);
    assert!(!status.contains("cut short by a crash"), "nothing is left open: {status}");
}
