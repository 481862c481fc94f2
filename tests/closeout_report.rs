//! `cutover report closeout` on a project built headless against `cutover sim` (stages 1 to 6 with cutover
//! commands only, as tests/headless.rs does): the report's counts, budget, criteria, overrides and timeline
//! against the project, the HTML well-formed and self-contained, and a torn audit line skipped. Uses the real OS
//! keyring (run through scripts/with-keyring.sh). The helpers are those of tests/headless.rs.

use serde_json::Value;
use std::io::Write;

#[path = "support/headless.rs"]
mod headless;
use headless::*;

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
