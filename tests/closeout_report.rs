//! `cutover report closeout` on a project built headless against `cutover sim` (stages 1 to 6 with cutover
//! commands only, as tests/headless.rs does): the report's counts, budget, criteria, overrides and timeline
//! against the project, the HTML well-formed and self-contained, and a torn audit line skipped. Uses the real OS
//! keyring (run through scripts/with-keyring.sh). The helpers are those of tests/headless.rs.

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

/// `new acme --no-open` with every kickoff field, connected to `sim`; the mailbox estimate is above the cutover
/// limit on purpose, so stage 1 needs an override.
fn new_flags(sim: &Sim) -> Vec<String> {
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
fn source_flags(sim: &Sim) -> (Vec<String>, String) {
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
fn advance_clock(control: &str, seconds: u64) {
    let advanced = tokio::runtime::Runtime::new().expect("runtime").block_on(async {
        let url = format!("{control}/clock/advance");
        reqwest::Client::new().post(url).json(&serde_json::json!({ "seconds": seconds })).send().await
    });
    assert!(advanced.expect("the simulator's clock").status().is_success());
}

/// Stages 1 to 4 of project acme on `sim`, every failed check overridden: stage 5 is open.
fn to_stage_five(sim: &Sim, home: &Path) {
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

/// A strict check of the page's markup: every element closed in order (void elements aside), every attribute
/// quoted, every `&` an entity, no bare `<` or `>` in text. Returns the sections' ids in order.
fn well_formed(page: &str) -> Result<Vec<String>, String> {
    let mut open: Vec<String> = Vec::new();
    let mut ids = Vec::new();
    let mut rest = page;
    while let Some(lt) = rest.find('<') {
        text_ok(&rest[..lt])?;
        let gt = rest[lt..].find('>').ok_or("a tag is never closed")? + lt;
        let tag = rest[lt + 1..gt].to_owned();
        rest = &rest[gt + 1..];
        if tag.starts_with('!') {
            continue;
        }
        if let Some(name) = tag.strip_prefix('/') {
            match open.pop() {
                Some(top) if top == name => continue,
                top => return Err(format!("</{name}> closes {top:?}")),
            }
        }
        let (name, attrs) = tag.split_once(' ').unwrap_or((&tag, ""));
        if name.is_empty() || !name.chars().all(|c| c.is_ascii_alphanumeric()) {
            return Err(format!("bad tag <{tag}>"));
        }
        let mut attrs = attrs.trim();
        while !attrs.is_empty() {
            let (key, value) = attrs.split_once("=\"").ok_or_else(|| format!("unquoted attribute in <{tag}>"))?;
            let end = value.find('"').ok_or("attribute never closed")?;
            text_ok(&value[..end])?;
            if name == "section" && key.trim() == "id" {
                ids.push(value[..end].to_owned());
            }
            attrs = value[end + 1..].trim_start();
        }
        if name == "style" {
            let end = rest.find("</style>").ok_or("<style> never closed")?;
            rest = &rest[end + "</style>".len()..];
            continue;
        }
        if name != "meta" && name != "br" {
            open.push(name.to_owned());
        }
    }
    text_ok(rest)?;
    if open.is_empty() { Ok(ids) } else { Err(format!("never closed: {open:?}")) }
}

fn text_ok(text: &str) -> Result<(), String> {
    if text.contains('>') {
        return Err(format!("a bare > in {text:?}"));
    }
    for (i, _) in text.match_indices('&') {
        let entity = text[i + 1..].split(';').next().unwrap_or_default();
        let numeric = entity.strip_prefix('#').is_some_and(|d| !d.is_empty() && d.chars().all(|c| c.is_ascii_digit()));
        if !["amp", "lt", "gt", "quot"].contains(&entity) && !numeric {
            return Err(format!("a bare & in {text:?}"));
        }
    }
    Ok(())
}

#[test]
fn the_closeout_report_of_a_project_built_headless_proves_what_ran_and_no_more() {
    let sim = Sim::start(&["sim", "--json", "--scenario", "small", "--auto-approve", "--speed", "60"]);
    let home = tempfile::tempdir().expect("temp dir");
    let home = home.path();
    to_stage_five(&sim, home);
    ok(home, &["task", "create-batch", "--project", "acme", "--yes"], None);
    ok(home, &["task", "start-batch", "--project", "acme", "--yes"], None);
    advance_clock(&sim.str("/control_url"), 86_400);
    check_and_override(home, 5);
    check_and_override(home, 6);
    ok(home, &["task", "export-report", "--project", "acme", "--yes"], None);
    let migration: Value = serde_json::from_str(
        &std::fs::read_to_string(home.join("projects/acme/reports/migration-report.json")).expect("stage 6's report"),
    )
    .expect("json");
    let migrated = migration["totals"]["migrated"].as_u64().expect("migrated");
    assert!(migrated > 0, "{migration}");

    // Stage 9 is locked, so its task says so; the command reads the project whatever its stage.
    let err = refused(home, &["task", "closeout-report", "--project", "acme", "--yes"]);
    assert!(err.contains("Locked"), "{err}");

    let v = json(&ok(home, &["report", "closeout", "--project", "acme", "--format", "json"], None));
    assert_eq!(v["project"], "acme");
    assert_eq!(v["customer"], "Contoso Dental");
    assert_eq!(v["status"]["complete"], false, "stages 7 to 9 are not done");
    let statuses: Vec<&str> =
        v["status"]["stages"].as_array().expect("stages").iter().map(|s| s["status"].as_str().unwrap_or("")).collect();
    assert!(statuses[..6].iter().all(|s| s.starts_with("done")), "{statuses:?}");
    assert_eq!(statuses[7], "locked", "{statuses:?}");
    // The budget: the kickoff's estimate of 2,500 against $300 + $25 for each mailbox the batch migrated.
    assert_eq!(v["budget"]["estimate_usd"], 300 + 25 * 2500);
    assert_eq!(v["budget"]["migrated_mailboxes"], migrated);
    assert_eq!(v["budget"]["final_usd"], 300 + 25 * migrated);
    assert_eq!(v["migration"]["totals"]["migrated"], migrated);
    // No criterion is met before stages 7 to 9 have run their checks; stage 6's passing checks are shown.
    let verdicts: Vec<&str> =
        v["criteria"].as_array().expect("criteria").iter().map(|c| c["verdict"].as_str().unwrap_or("")).collect();
    assert_eq!(verdicts, ["not-shown"; 5], "{v}");
    let item_counts = v["criteria"][1]["checks"]
        .as_array()
        .expect("checks")
        .iter()
        .find(|c| c["check"] == "item-counts")
        .expect("item-counts")
        .clone();
    assert!(item_counts["outcome"] == "Pass" && item_counts["at"].is_string(), "{item_counts}");
    // Stage 1's override, with who and why.
    let overrides = v["overrides"].as_array().expect("overrides");
    let limits = overrides.iter().find(|o| o["check"] == "cutover-limits").expect("the stage 1 override");
    assert_eq!(limits["reason"], "accepted with the customer for this test run");
    assert!(limits["by"].as_str().is_some_and(|b| !b.is_empty()));
    // The timeline: a span per stage that wrote, and the tenant writes with their outcome.
    let spans: Vec<u64> =
        v["timeline"]["stages"].as_array().expect("spans").iter().filter_map(|s| s["stage"].as_u64()).collect();
    assert_eq!(spans, [1, 2, 3, 4, 5, 6], "{v}");
    let writes = v["timeline"]["writes"].as_array().expect("writes");
    for action in ["add-domain", "new-migration-batch", "start-migration-batch"] {
        assert!(writes.iter().any(|w| w["action"] == action && w["outcome"] == "done"), "{action} done in {writes:?}");
    }
    assert!(!v.to_string().contains(&sim.str("/source/admin_password")), "no secret in the report");

    // HTML to a file: well-formed, every section, nothing fetched from outside.
    let file = home.join("closeout.html");
    let path = file.to_str().expect("path");
    ok(home, &["report", "closeout", "--project", "acme", "--format", "html", "--out", path], None);
    let page = std::fs::read_to_string(&file).expect("the page");
    let ids = well_formed(&page).unwrap_or_else(|e| panic!("{e}"));
    assert_eq!(ids, ["status", "criteria", "outstanding", "budget", "migration", "timeline", "overrides"]);
    // Addresses may appear as text (an audit detail names the simulator's URL); none is a resource.
    for external in ["<script", "<link", "<img", "<iframe", "src=", "href=", "url(", "@import"] {
        assert!(!page.contains(external), "{external} in the page");
    }
    for (at, _) in page.match_indices("://") {
        let before = &page[..at];
        let tag_open = before.rfind('<') > before.rfind('>');
        assert!(!tag_open, "an address inside a tag: {}", &page[at.saturating_sub(80)..at + 20]);
    }
    assert!(page.contains(&format!("${}", 300 + 25 * migrated)), "the final budget is shown");

    // A line torn by a crash is skipped and named, never fatal.
    let audit = home.join("projects/acme/audit.jsonl");
    let mut log = std::fs::OpenOptions::new().append(true).open(&audit).expect("audit");
    log.write_all(b"{\"time\":\"2026-").expect("tear");
    drop(log);
    let out = cutover(home, &["report", "closeout", "--project", "acme", "--format", "md"], None);
    assert!(out.status.success(), "{}", text(&out.stderr));
    assert!(text(&out.stderr).contains("cannot be read"), "{}", text(&out.stderr));
    let md = text(&out.stdout);
    assert!(md.contains("## Timeline") && md.contains("could not be read"), "{md}");

    // Stages 7 and 8 recorded as done (played by the test: their checks need the MX change and the batch's
    // completion), stage 9 opens and its task writes the three files, the same report as the command's.
    let state_path = home.join("projects/acme/state.json");
    let mut state: Value = serde_json::from_str(&std::fs::read_to_string(&state_path).expect("state")).expect("json");
    let now = chrono::Utc::now().to_rfc3339();
    for (stage, checks) in [
        ("7", &["dns-propagation"][..]),
        ("8", &["last-sync-after-mx", "batch-completed", "batch-removed", "x500-present"][..]),
    ] {
        let results: serde_json::Map<String, Value> = checks
            .iter()
            .map(|c| {
                (c.to_string(), serde_json::json!({ "outcome": "Pass", "evidence": "recorded by the test", "at": now }))
            })
            .collect();
        state["stages"][stage] = serde_json::json!({ "checks": results });
    }
    std::fs::write(&state_path, serde_json::to_vec_pretty(&state).expect("json")).expect("write state");
    let out = ok(home, &["task", "closeout-report", "--project", "acme", "--yes"], None);
    assert!(out.contains("Wrote the closeout report") && out.contains("success criteria met"), "{out}");
    let reports = home.join("projects/acme/reports");
    for ext in ["md", "html", "json"] {
        assert!(reports.join(format!("closeout-report.{ext}")).exists(), "closeout-report.{ext}");
    }
    let written: Value =
        serde_json::from_str(&std::fs::read_to_string(reports.join("closeout-report.json")).expect("json"))
            .expect("json");
    assert_eq!(written["budget"], v["budget"], "the task and the command make the same report");
    let criterion_2 = written["criteria"][1]["checks"].as_array().expect("checks");
    assert!(criterion_2.iter().any(|c| c["check"] == "batch-completed" && c["outcome"] == "Pass"), "{criterion_2:?}");
    assert_eq!(written["criteria"][1]["verdict"], "met", "stages 5, 6 and 8 passed: {}", written["criteria"][1]);
    assert_eq!(written["criteria"][2]["verdict"], "not-shown", "no transport-rule check ran");
    let page = std::fs::read_to_string(reports.join("closeout-report.html")).expect("html");
    well_formed(&page).unwrap_or_else(|e| panic!("{e}"));
}
