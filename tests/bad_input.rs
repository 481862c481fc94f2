//! Bad input on the command line, run as a process: every value a command takes (names, flags, times,
//! addresses, files, formats, scenarios, speeds) given a bad one fails with a message that names the input and
//! the fix, and changes nothing: the project's state.json and audit.jsonl keep their bytes, and no project is
//! made. The values of the wizard's forms go through the same runner path; `src/runner/bad_input.rs` covers them.

use std::path::{Path, PathBuf};
use std::process::{Command, Output};

fn cutover(home: &Path, args: &[&str]) -> Output {
    Command::new(env!("CARGO_BIN_EXE_cutover"))
        .args(args)
        .env("CUTOVER_HOME", home)
        .stdin(std::process::Stdio::null())
        .output()
        .expect("run cutover")
}

/// A project `acme` with a customer, as `cutover new acme --no-open --customer Acme` leaves it.
fn seed(home: &Path) -> PathBuf {
    let data = cutover::project::DataHome::at(home);
    let name = cutover::project::ProjectName::parse("acme").expect("name");
    let mut project = cutover::project::Project::create(&data, &name, false).expect("create");
    project
        .change(None, "set-kickoff-field", serde_json::json!({"field": "Customer"}), |s| {
            cutover::plan::kickoff::Field::Customer.apply(&mut s.kickoff, "Acme")
        })
        .expect("io")
        .expect("valid");
    project.dir().to_owned()
}

/// What a bad value must not change: the project's records, and which projects exist.
fn snapshot(home: &Path, project: &Path) -> (Vec<u8>, Vec<u8>, Vec<PathBuf>, bool) {
    let mut projects: Vec<PathBuf> =
        std::fs::read_dir(home.join("projects")).expect("projects").map(|e| e.expect("entry").path()).collect();
    projects.sort();
    (
        std::fs::read(project.join("state.json")).expect("state"),
        std::fs::read(project.join("audit.jsonl")).expect("audit"),
        projects,
        project.join("live").exists(),
    )
}

/// Runs each bad command line; each fails, its message holds every expected word, and nothing changed.
fn refuse_all(home: &Path, project: &Path, cases: &[(Vec<String>, Vec<&str>)]) {
    for (args, words) in cases {
        let before = snapshot(home, project);
        let args: Vec<&str> = args.iter().map(String::as_str).collect();
        let out = cutover(home, &args);
        let err = String::from_utf8_lossy(&out.stderr);
        assert!(!out.status.success(), "{args:?} succeeded:\n{}", String::from_utf8_lossy(&out.stdout));
        for word in words {
            assert!(err.contains(word), "{args:?}: the message lacks {word:?}:\n{err}");
        }
        assert!(!err.contains("panicked"), "{args:?}: {err}");
        assert!(snapshot(home, project) == before, "{args:?} changed the project or made one");
    }
}

fn case(args: &str, words: &[&'static str]) -> (Vec<String>, Vec<&'static str>) {
    (shell_words(args), words.to_vec())
}

/// Splits on spaces, keeping '…' quoted parts whole: enough for the table below.
fn shell_words(text: &str) -> Vec<String> {
    let mut words = Vec::new();
    let mut current = String::new();
    let mut quoted = false;
    for c in text.chars() {
        match c {
            '\'' => quoted = !quoted,
            ' ' if !quoted => {
                if !current.is_empty() {
                    words.push(std::mem::take(&mut current));
                }
            }
            c => current.push(c),
        }
    }
    if !current.is_empty() {
        words.push(current);
    }
    words
}

#[test]
fn every_command_line_value_refuses_a_bad_one_and_changes_nothing() {
    let home = tempfile::tempdir().expect("temp dir");
    let home = home.path();
    let project = seed(home);
    let files = tempfile::tempdir().expect("files");
    let f = |name: &str, body: &[u8]| {
        let path = files.path().join(name);
        std::fs::write(&path, body).expect("write");
        path.display().to_string()
    };
    let garbage = f("garbage.csv", b"\x00\x01garbage\n");
    let header_only = f("header.csv", b"PrimarySmtpAddress,TotalItemSize\n");
    let cut_short = f("cut.csv", b"PrimarySmtpAddress,TotalItemSize,ItemCount\na@contoso.com,1");
    let scenario = f("scenario.json", b"{\"name\": ");
    let folder = files.path().display().to_string();
    let state = project.join("state.json").display().to_string();
    let cases = vec![
        case("new ../x --no-open", &["project name '../x' is not allowed", "letters, digits"]),
        case("new acme --no-open", &["already exists", "cutover open acme"]),
        case("new b --no-open --tenant bad_tenant", &["--tenant", "bad_tenant", "contoso.onmicrosoft.com"]),
        case("new b --no-open --partner-email nope", &["--partner-email", "nope", "name@example.com"]),
        case("new b --no-open --client-phone 'call me'", &["--client-phone", "call me"]),
        case("new b --no-open --customer 'Acme\u{7}'", &["--customer", "plain text"]),
        case("new b --no-open --cutover friday", &["--cutover", "friday", "YYYY-MM-DD HH:MM"]),
        case("new b --no-open --mailboxes -3", &["--mailboxes", "-3", "e.g. 120"]),
        case("new b --no-open --domain a..b", &["--domain", "a..b"]),
        case("new b --no-open --cloud mars", &["mars", "global, gcc-high"]),
        case("new b --no-open --login-url ftp://x", &["--graph-url", "--exo-url"]),
        case("new b --no-open --ca-cert /nonexistent.pem", &["--ca-cert /nonexistent.pem", "PEM file"]),
        case("new b --no-open --client-id notaguid", &["--client-id 'notaguid'", "GUID"]),
        case("new b --no-open --simulator notaurl", &["--simulator", "notaurl", "cutover sim --json"]),
        case("open 'bad name'", &["'bad name' is not allowed"]),
        case("open nosuch", &["no project 'nosuch'", "cutover list"]),
        case("status --project nosuch", &["no project 'nosuch'"]),
        case("task record-mx-change --project acme --at yesterday", &["--at \"yesterday\"", "2026-12-01T21:30:00Z"]),
        case("task retry-failed --project acme --mailbox not-an-address", &["--mailbox", "not-an-address", "name@"]),
        case("task no-such-task --project acme", &["no task 'no-such-task'", "The tasks are"]),
        case("task add-domains --project acme --at 2026-12-01T21:30:00Z", &["records no time", "--at"]),
        case("task record-customer --project acme --mailbox a@contoso.com", &["without --mailbox"]),
        case("set no-such-setting 1 --project acme", &["no setting 'no-such-setting'", "The settings are"]),
        case("set concurrency 0 --project acme", &["concurrency is refused", "stage 1"]),
        case(
            "override --stage 12 --check x --reason 'the customer accepts it' --project acme",
            &["--stage 12", "1 to 9"],
        ),
        case(
            "override --stage 1 --check nosuch --reason 'the customer accepts it' --project acme",
            &["--check nosuch", "kickoff-fields"],
        ),
        case("override --stage 1 --check kickoff-fields --reason x --project acme", &["at least 10 characters"]),
        case("check --stage 0 --project acme", &["--stage 0", "1 to 9"]),
        case("import inventory /nonexistent.csv --project acme", &["/nonexistent.csv", "Get-CutoverInventory.ps1"]),
        case(
            &format!("import inventory {garbage} --project acme"),
            &["PrimarySmtpAddress column", "Get-CutoverInventory.ps1"],
        ),
        case(
            &format!("import inventory {header_only} --project acme"),
            &["header.csv", "no mailbox", "nothing was changed"],
        ),
        case(&format!("import inventory {cut_short} --project acme"), &["cut.csv", "nothing was changed"]),
        case(&format!("import inventory {folder} --project acme"), &["not a regular file (a folder)"]),
        case("report migration --project acme --format pdf", &["'pdf'", "md, html, csv, json"]),
        case("report closeout --project acme --format csv", &["'csv'", "md, html, json"]),
        case(
            "report closeout --project acme --out /nonexistent/dir/x.md",
            &["--out", "/nonexistent/dir", "does not exist"],
        ),
        case(&format!("report closeout --project acme --out {folder}"), &["is a folder", "report.md"]),
        case(&format!("report closeout --project acme --out {state}"), &["project's own files"]),
        case("watch --project acme --until never", &["'never'", "synced, completed"]),
        case("source --project acme --admin-user 'john smith'", &["Migration account", "CONTOSO\\migadmin"]),
        case("source --project acme --exchange-server 'exch 01'", &["Exchange server", "fully qualified host name"]),
        case("source --project acme --autodiscover-email nobody", &["Autodiscover address", "name@example.com"]),
        case("source --project acme --auth kerberos", &["kerberos", "Basic or NTLM"]),
        case("source --project acme --permission owner", &["owner", "Admin or FullAccess"]),
        case("source --project acme --dns-server notanip", &["--dns-server", "10.0.0.10:53"]),
        case("source --project acme --https-port 0", &["--https-port", "0"]),
        case("source --project acme --ca-cert /nonexistent.pem", &["--ca-cert", "PEM"]),
        case("auth status --project acme --client-id zz", &["--client-id 'zz'", "GUID"]),
        case("sim --scenario nosuch", &["nosuch", "small, typical, large, trouble"]),
        case(&format!("sim --scenario {scenario}"), &["scenario.json", "docs/simulator.md"]),
        case("sim --speed -1", &["speed -1", "above 0"]),
        case("sim --speed 0", &["speed 0", "above 0"]),
        case("sim --speed NaN", &["speed NaN", "above 0"]),
        case("sim --port 99999", &["--port", "99999", "0..=65535"]),
        case("sim --bandwidth 0", &["--bandwidth", "0"]),
        case("sim --token-lifetime 0", &["--token-lifetime", "0"]),
        case("sim --inventory /nonexistent.csv", &["--inventory /nonexistent.csv", "Get-CutoverInventory.ps1"]),
        case(&format!("sim --inventory {garbage}"), &["--inventory", "PrimarySmtpAddress column"]),
        case("demo --scenario nosuch", &["nosuch", "small, typical, large, trouble"]),
        case("demo --speed inf", &["speed inf", "above 0"]),
        case("completions fish2", &["'fish2'", "bash"]),
    ];
    refuse_all(home, &project, &cases);
}

#[test]
fn a_state_of_a_newer_cutover_and_a_damaged_live_file_are_named_with_the_fix() {
    let home = tempfile::tempdir().expect("temp dir");
    let home = home.path();
    let project = seed(home);
    let state = project.join("state.json");
    let good = std::fs::read(&state).expect("state");
    let mut newer: serde_json::Value = serde_json::from_slice(&good).expect("json");
    newer["schema"] = serde_json::json!(99);
    std::fs::write(&state, serde_json::to_vec(&newer).expect("json")).expect("write");
    refuse_all(home, &project, &[case("status --project acme", &["state schema 99", "upgrade cutover"])]);
    std::fs::write(&state, &good).expect("restore");

    // A live file is polled data: a damaged one is named with what rewrites it, and the command goes on.
    std::fs::create_dir_all(project.join("live")).expect("live");
    std::fs::write(project.join("live/batch.json"), b"{\"polled_at\": 12").expect("write");
    std::fs::write(project.join("live/dns.json"), b"\xef\xbb\xbfnot json").expect("write");
    let audit = std::fs::read(project.join("audit.jsonl")).expect("audit");
    let out = cutover(home, &["status", "--project", "acme"]);
    assert!(out.status.success());
    let err = String::from_utf8_lossy(&out.stderr);
    for word in ["live/batch.json", "the watch's next poll writes it again", "live/dns.json", "next round writes it"] {
        assert!(err.contains(word), "{word:?} missing from:\n{err}");
    }
    assert_eq!(std::fs::read(&state).expect("state"), good);
    assert_eq!(std::fs::read(project.join("audit.jsonl")).expect("audit"), audit);
}
