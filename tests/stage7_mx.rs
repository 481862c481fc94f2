//! Stage 7 headless against `cutover sim` on the typical scenario, its slowest resolver 1,800 s behind the
//! registrar: the records read from the tenant (the zone snippet written), the pre-flight refusing the change
//! until it is overridden with a reason, the records applied at the simulated registrar, the change recorded at
//! a given time, the propagation watch killed part way and resumed from `live/dns.json`, ending once every
//! resolver returns the new records, with each resolver's first switch in `state.json` and the table in
//! `status --json`. The simulator runs at real speed; its clock is moved on by hand. Uses the real OS keyring
//! (run through scripts/with-keyring.sh).

use serde_json::Value;
use std::path::Path;
use std::process::Child;
use std::time::{Duration, Instant};

#[path = "support/headless.rs"]
mod headless;
use headless::*;

/// `cutover watch --json` as a child; its stdout lines come through the channel.
fn spawn_watch(home: &Path) -> (Child, std::sync::mpsc::Receiver<String>) {
    let mut watch = spawn_cutover(home, &["watch", "--project", "acme", "--json"]);
    let stdout = watch.stdout.take().expect("stdout");
    let (tx, rx) = std::sync::mpsc::channel();
    std::thread::spawn(move || {
        use std::io::BufRead;
        for line in std::io::BufReader::new(stdout).lines().map_while(Result::ok) {
            let _ = tx.send(line);
        }
    });
    (watch, rx)
}

/// Lines from the watch until one satisfies `done`, within `secs`.
fn lines_until(rx: &std::sync::mpsc::Receiver<String>, secs: u64, done: impl Fn(&Value) -> bool) -> Vec<Value> {
    let start = Instant::now();
    let mut seen = Vec::new();
    while start.elapsed() < Duration::from_secs(secs) {
        if let Ok(line) = rx.recv_timeout(Duration::from_millis(200)) {
            let v = json(&line);
            let end = done(&v);
            seen.push(v);
            if end {
                return seen;
            }
        }
    }
    panic!("the watch did not get there within {secs} s: {seen:?}");
}

fn state(home: &Path) -> Value {
    json(&std::fs::read_to_string(home.join("projects/acme/state.json")).expect("state.json"))
}

#[test]
fn stage_seven_shows_the_records_records_the_change_and_watches_it_spread_across_a_restart() {
    let sim = Sim::start(&["sim", "--json", "--scenario", "typical", "--auto-approve", "--speed", "1"]);
    let delays: Vec<f64> =
        sim.info["dns"].as_array().expect("resolvers").iter().filter_map(|r| r["delay_seconds"].as_f64()).collect();
    assert_eq!(delays, [0.0, 120.0, 900.0, 1800.0], "typical has one resolver half an hour behind");
    let home = tempfile::tempdir().expect("temp dir");
    let home = home.path();
    let control = sim.str("/control_url");
    let domain = sim.info["email_domains"][0].as_str().expect("a domain").to_owned();
    to_stage_five(&sim, home);
    ok(home, &["task", "create-batch", "--project", "acme", "--yes"], None);
    ok(home, &["task", "start-batch", "--project", "acme", "--yes"], None);
    advance_clock(&control, 5 * 86_400);
    check_and_override(home, 5);
    check_and_override(home, 6);
    assert!(stage_status(home, 6).starts_with("done"), "stage 7 is open");

    // Before the records are read, there is nothing to record a change against.
    let err = refused(home, &["task", "record-mx-change", "--project", "acme"]);
    assert!(err.contains("cutover task show-records"), "{err}");

    // The records come from the tenant; the live SPF is merged; the old MX and Autodiscover A are to go.
    let v = json(&ok(home, &["task", "show-records", "--project", "acme", "--json"], None));
    assert_eq!(v["ok"], true, "{v}");
    let s = state(home);
    let records = &s["mx"]["records"][0];
    assert_eq!(records["domain"], domain.as_str(), "{records}");
    let mx_host = format!("{}.mail.protection.outlook.com", domain.replace('.', "-"));
    assert!(records["set"].to_string().contains(&mx_host), "{records}");
    assert!(records["set"].to_string().contains("autodiscover.outlook.com"), "{records}");
    assert!(records["set"].to_string().contains("include:spf.protection.outlook.com"), "{records}");
    assert!(records["remove"].to_string().contains(&format!("mail.{domain}")), "the old MX: {records}");
    assert_eq!(s["mx"]["ttl_seen"][0]["ttl"], 3600, "the MX TTL seen: {}", s["mx"]);
    let zone = std::fs::read_to_string(home.join("projects/acme/reports/dns-records.zone")).expect("the zone snippet");
    assert!(zone.contains(&format!("{mx_host}.")) && zone.contains("; remove") || zone.contains(": remove"), "{zone}");

    // The batch's initial sync cannot be told from a live view no watch wrote: the change is refused until the
    // pre-flight is overridden with a reason.
    let err = refused(home, &["task", "record-mx-change", "--project", "acme"]);
    assert!(err.contains("pre-flight") && err.contains("--check mx-preflight"), "{err}");
    let reason = "TTL lowered by the customer's DNS host yesterday, confirmed by phone";
    ok(home, &["override", "--project", "acme", "--stage", "7", "--check", "mx-preflight", "--reason", reason], None);
    // Show-records judged the batch on stage 5's live view, which no watch wrote here; checking the stage judges
    // the pre-flight again on the batch as the tenant shows it now: synced, so only the TTL's history warns.
    let judged = |home: &Path| state(home)["stages"]["7"]["checks"]["mx-preflight"].clone();
    let before = judged(home);
    assert_eq!(before["outcome"], "Fail", "{before}");
    let out = cutover(home, &["check", "--project", "acme", "--stage", "7", "--json"], None);
    let v = json(&String::from_utf8_lossy(&out.stdout));
    let preflight = v["stages"][0]["checks"].as_array().expect("checks").iter().find(|c| c["id"] == "mx-preflight");
    assert!(preflight.is_some_and(|c| c["outcome"] == "Warn"), "judged again on the tenant's batch: {v}");
    let after = judged(home);
    assert_ne!(after["at"], before["at"], "the pre-flight was judged anew: {before} then {after}");
    assert!(after["evidence"].as_str().is_some_and(|e| e.contains("initial sync finished")), "{after}");

    // The customer's DNS host, played by the registrar; a second run changes nothing.
    let out = ok(home, &["task", "apply-records-demo", "--project", "acme", "--yes"], None);
    assert!(out.contains("6 record set(s) set"), "{out}");
    let out = ok(home, &["task", "apply-records-demo", "--project", "acme", "--yes"], None);
    assert!(out.contains("0 record set(s) set") && out.contains("6 already so"), "{out}");

    let at = (chrono::Utc::now() - chrono::Duration::minutes(2)).to_rfc3339_opts(chrono::SecondsFormat::Secs, true);
    let err = refused(home, &["task", "show-records", "--project", "acme", "--at", &at]);
    assert!(err.contains("records no time"), "{err}");
    let out = ok(home, &["task", "record-mx-change", "--project", "acme", "--at", &at], None);
    assert!(out.contains("recorded at"), "{out}");
    assert_eq!(state(home)["mx"]["changed_at"], at.as_str());
    let audit = std::fs::read_to_string(home.join("projects/acme/audit.jsonl")).expect("audit");
    assert!(audit.contains("\"record-mx-change\"") && audit.contains("\"apply-dns-records-demo\""), "audited");

    // The watch: the registrar's change is seen at once by the first resolver, not by the others yet.
    let (mut watch, rx) = spawn_watch(home);
    let slow = |v: &Value| v["resolver"].as_str().is_some_and(|r| r.contains("(+1800 s)"));
    let seen = lines_until(&rx, 60, |v| v["event"] == "dns" && v["record"] == "SPF" && slow(v));
    let fast = |v: &Value| v["resolver"].as_str().is_some_and(|r| r.contains("(+0 s)"));
    assert!(seen.iter().any(|v| fast(v) && v["status"] == "new"), "the fast resolver follows at once: {seen:?}");
    assert!(seen.iter().filter(|v| slow(v)).all(|v| v["status"] == "old"), "the slow one not yet: {seen:?}");
    // A crash: the watch is killed part way.
    watch.kill().expect("kill the watch");
    let _ = watch.wait();
    let live: Value =
        json(&std::fs::read_to_string(home.join("projects/acme/live/dns.json")).expect("the watch's live view"));
    assert_eq!(live["rows"].as_array().map(Vec::len), Some(8), "a row per resolver and domain: {live}");
    let first_fast = state(home)["mx"]["switched"].as_object().map(|m| m.len());
    assert_eq!(first_fast, Some(1), "only the fast resolver switched: {}", state(home)["mx"]);
    let v = json(&ok(home, &["status", "--project", "acme", "--json"], None));
    assert_eq!(v["dns"]["all_new"], false, "{}", v["dns"]);
    assert_eq!(v["dns"]["resolvers"].as_array().map(Vec::len), Some(8), "{}", v["dns"]);

    // Half an hour on, the resumed watch starts from what was kept and ends once every resolver has switched.
    advance_clock(&control, 1_900);
    let (mut watch, rx) = spawn_watch(home);
    let seen = lines_until(&rx, 60, |v| v["event"] == "propagated");
    let code = wait_exit(&mut watch, Duration::from_secs(30), "the watch, propagated,");
    assert!(code.success(), "{code:?}");
    assert!(
        !seen.iter().any(|v| v["event"] == "dns" && v["resolver"].as_str().is_some_and(|r| r.contains("(+0 s)"))),
        "the fast resolver's cells were kept, not seen again as changes: {seen:?}"
    );
    let mx = &state(home)["mx"];
    let switched = mx["switched"].as_object().expect("switched");
    assert_eq!(switched.len(), 4, "{mx}");
    let time = |label: &str| {
        let (_, t) = switched.iter().find(|(k, _)| k.contains(label)).expect("a resolver");
        chrono::DateTime::parse_from_rfc3339(t.as_str().expect("time")).expect("rfc3339")
    };
    assert!(time("(+1800 s)") > time("(+0 s)"), "the slow resolver switched later: {mx}");
    assert_eq!(stage_status(home, 7), "done", "the pre-flight warned once judged again, DNS propagated");
    let v = json(&ok(home, &["status", "--project", "acme", "--json"], None));
    assert_eq!(v["dns"]["all_new"], true, "{}", v["dns"]);
    assert!(v["dns"]["slowest_switch"].is_string(), "{}", v["dns"]);
}
