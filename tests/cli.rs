//! The command line, run as a process: help, version, honest refusals, status, and a clear error for a
//! damaged project.

use std::path::Path;
use std::process::{Command, Output};

fn cutover(home: &Path, args: &[&str]) -> Output {
    Command::new(env!("CARGO_BIN_EXE_cutover")).args(args).env("CUTOVER_HOME", home).output().expect("run cutover")
}

fn text(bytes: &[u8]) -> String {
    String::from_utf8_lossy(bytes).into_owned()
}

#[test]
fn help_lists_the_subcommands_and_version_prints() {
    let home = tempfile::tempdir().expect("temp dir");
    let help = text(&cutover(home.path(), &["--help"]).stdout);
    for sub in ["new", "open", "list", "demo", "sim", "status"] {
        assert!(help.lines().any(|l| l.trim_start().starts_with(sub)), "{sub} missing from:\n{help}");
    }
    let version = cutover(home.path(), &["--version"]);
    assert!(version.status.success());
    assert_eq!(text(&version.stdout).trim(), format!("cutover {}", env!("CARGO_PKG_VERSION")));
}

#[test]
fn list_and_status_without_projects_name_the_fix() {
    let home = tempfile::tempdir().expect("temp dir");
    let out = cutover(home.path(), &["list"]);
    assert!(out.status.success());
    assert!(text(&out.stdout).contains("cutover new NAME"));
    let out = cutover(home.path(), &["status"]);
    assert!(!out.status.success());
    assert!(text(&out.stderr).contains("--project NAME"));
    let out = cutover(home.path(), &["open", "../etc"]);
    assert!(!out.status.success());
    assert!(text(&out.stderr).contains("is not allowed"));
}

fn seed_project(home: &Path) {
    let home = cutover::project::DataHome::at(home);
    let name = cutover::project::ProjectName::parse("acme").expect("name");
    let mut project = cutover::project::Project::create(&home, &name, false).expect("create");
    project
        .change(None, "set-kickoff-field", serde_json::json!({"field": "Mailboxes"}), |s| {
            cutover::plan::kickoff::Field::Mailboxes.apply(&mut s.kickoff, "120")
        })
        .expect("io")
        .expect("valid");
}

#[test]
fn status_reports_every_stage_as_text_and_json() {
    let home = tempfile::tempdir().expect("temp dir");
    seed_project(home.path());
    let out = cutover(home.path(), &["status", "--project", "acme"]);
    assert!(out.status.success(), "{}", text(&out.stderr));
    let stdout = text(&out.stdout);
    assert!(stdout.contains("1. Kickoff") && stdout.contains("9. Post-migration"), "{stdout}");
    let out = cutover(home.path(), &["status", "--json"]);
    let json: serde_json::Value = serde_json::from_slice(&out.stdout).expect("one JSON document");
    assert_eq!(json["project"], "acme");
    assert_eq!(json["stages"].as_array().map(Vec::len), Some(9));
    assert_eq!(json["stages"][1]["open"], false);
}

#[test]
fn a_corrupted_state_names_the_file_and_changes_nothing() {
    let home = tempfile::tempdir().expect("temp dir");
    seed_project(home.path());
    let state = home.path().join("projects/acme/state.json");
    let full = std::fs::read(&state).expect("read");
    std::fs::write(&state, &full[..full.len() - 20]).expect("truncate");
    for args in [&["status", "--project", "acme"][..], &["open", "acme"][..]] {
        let out = cutover(home.path(), args);
        assert!(!out.status.success());
        let err = text(&out.stderr);
        assert!(err.contains("state.json cannot be read"), "{err}");
        assert!(err.contains("set-kickoff-field done"), "{err}");
        assert!(!err.contains("panicked"), "{err}");
    }
    assert_eq!(std::fs::read(&state).expect("read").len(), full.len() - 20, "the damaged file is left for recovery");
    assert!(!home.path().join("projects/acme/cutover.lock").exists(), "a refused open releases its lock");
}

#[test]
fn import_inventory_reports_rejected_rows_and_keeps_good_ones() {
    let home = tempfile::tempdir().expect("temp dir");
    seed_project(home.path());
    let sample = Path::new(env!("CARGO_MANIFEST_DIR")).join("assets/samples/inventory-typical.csv");
    let out = cutover(home.path(), &["import", "inventory", sample.to_str().expect("utf-8 path"), "--json"]);
    assert!(out.status.success(), "{}", text(&out.stderr));
    let json: serde_json::Value = serde_json::from_slice(&out.stdout).expect("one JSON document");
    assert_eq!(json["mailboxes"], 120);
    assert_eq!(json["rejected"].as_array().map(Vec::len), Some(0));

    let bad = home.path().join("semicolons.csv");
    std::fs::write(&bad, "\u{feff}PrimarySmtpAddress;TotalItemSize\r\nceo@contoso.example;\"1,5 GB (1.610.612.736 bytes)\"\r\nbroken;12\r\n")
        .expect("write");
    let out = cutover(home.path(), &["import", "inventory", bad.to_str().expect("utf-8 path"), "--project", "acme"]);
    assert!(out.status.success(), "{}", text(&out.stderr));
    let stdout = text(&out.stdout);
    assert!(stdout.contains("1 changed"), "{stdout}");
    // Line 3 could be any mailbox: none is removed on its account.
    assert!(stdout.contains("0 removed") && stdout.contains("119 kept because rows could not be read"), "{stdout}");
    assert!(text(&out.stderr).contains("semicolons.csv: line 3: PrimarySmtpAddress"), "{}", text(&out.stderr));

    let fewer = home.path().join("fewer.csv");
    std::fs::write(&fewer, "PrimarySmtpAddress,TotalItemSize\nceo@contoso.example,10\n").expect("write");
    let fewer = fewer.to_str().expect("utf-8 path");
    let out = cutover(home.path(), &["import", "inventory", fewer]);
    assert!(!out.status.success(), "removing 119 mailboxes needs the allowance");
    let err = text(&out.stderr);
    assert!(err.contains("remove 119 of 120") && err.contains("icline@contoso.example"), "{err}");
    assert!(err.contains("--allow-removals"), "{err}");
    let out = cutover(home.path(), &["import", "inventory", fewer, "--allow-removals", "--json"]);
    assert!(out.status.success(), "{}", text(&out.stderr));
    let json: serde_json::Value = serde_json::from_slice(&out.stdout).expect("one JSON document");
    assert_eq!((json["mailboxes"].as_u64(), json["removed"].as_array().map(Vec::len)), (Some(1), Some(119)));

    let out = cutover(home.path(), &["import", "inventory", "/nonexistent/inventory.csv", "--project", "acme"]);
    assert!(!out.status.success());
    assert!(text(&out.stderr).contains("cannot open /nonexistent/inventory.csv"), "{}", text(&out.stderr));
}

#[test]
fn projects_live_under_xdg_data_home_and_a_bad_tenant_creates_nothing() {
    let xdg = tempfile::tempdir().expect("temp dir");
    let out = Command::new(env!("CARGO_BIN_EXE_cutover"))
        .args(["new", "acme", "--tenant", "contoso"])
        .env_remove("CUTOVER_HOME")
        .env("XDG_DATA_HOME", xdg.path())
        .output()
        .expect("run cutover");
    assert!(!out.status.success());
    assert!(text(&out.stderr).contains("--tenant"), "{}", text(&out.stderr));
    assert!(!xdg.path().join("cutover/projects/acme").exists(), "nothing is created for a bad tenant");

    let home = cutover::project::DataHome::at(xdg.path().join("cutover"));
    let name = cutover::project::ProjectName::parse("acme").expect("name");
    drop(cutover::project::Project::create(&home, &name, false).expect("create"));
    let out = Command::new(env!("CARGO_BIN_EXE_cutover"))
        .args(["list", "--json"])
        .env_remove("CUTOVER_HOME")
        .env("XDG_DATA_HOME", xdg.path())
        .output()
        .expect("run cutover");
    let json: serde_json::Value = serde_json::from_slice(&out.stdout).expect("json");
    assert_eq!(json["projects"], serde_json::json!(["acme"]));
    assert_eq!(json["folder"], serde_json::json!(xdg.path().join("cutover/projects")));
}

/// Runs cutover with stdout sent to `stdout`.
fn cutover_to(home: &Path, args: &[&str], stdout: std::process::Stdio) -> Output {
    Command::new(env!("CARGO_BIN_EXE_cutover"))
        .args(args)
        .env("CUTOVER_HOME", home)
        .stdout(stdout)
        .output()
        .expect("run cutover")
}

/// What every data-printing command is run with; `sim --json` last, it starts the simulator.
fn printing_commands(sample: &str) -> Vec<Vec<&str>> {
    vec![
        vec!["list"],
        vec!["list", "--json"],
        vec!["status", "--json"],
        vec!["status"],
        vec!["check", "--stage", "1"],
        vec!["check", "--stage", "1", "--json"],
        vec!["source"],
        vec!["import", "inventory", sample, "--json"],
        vec!["report", "closeout"],
        vec!["report", "closeout", "--format", "json"],
        vec!["completions", "bash"],
        vec!["sim", "--json", "--scenario", "small"],
    ]
}

#[cfg(target_os = "linux")]
#[test]
fn a_full_stdout_is_a_clear_error_naming_stdout() {
    let home = tempfile::tempdir().expect("temp dir");
    seed_project(home.path());
    let sample = Path::new(env!("CARGO_MANIFEST_DIR")).join("assets/samples/inventory-typical.csv");
    for args in printing_commands(sample.to_str().expect("utf-8 path")) {
        let full = std::fs::OpenOptions::new().write(true).open("/dev/full").expect("/dev/full");
        let out = cutover_to(home.path(), &args, full.into());
        let err = text(&out.stderr);
        assert!(!out.status.success(), "{args:?}: {err}");
        assert!(!err.contains("panicked"), "{args:?}: {err}");
        assert!(err.contains("stdout"), "{args:?}: {err}");
    }
}

#[test]
fn a_closed_stdout_ends_quietly() {
    let home = tempfile::tempdir().expect("temp dir");
    seed_project(home.path());
    let sample = Path::new(env!("CARGO_MANIFEST_DIR")).join("assets/samples/inventory-typical.csv");
    for args in printing_commands(sample.to_str().expect("utf-8 path")) {
        // The reading end is closed before cutover starts, as `| head -c 10` does once it has its bytes.
        let (reader, writer) = std::io::pipe().expect("pipe");
        drop(reader);
        let out = cutover_to(home.path(), &args, writer.into());
        let err = text(&out.stderr);
        assert!(!err.contains("panicked") && !err.contains("error"), "{args:?}: {err}");
        assert!(matches!(out.status.code(), Some(0 | 141)), "{args:?}: {:?} {err}", out.status);
    }
}

#[test]
fn a_deleted_state_is_a_damaged_project_not_a_missing_one() {
    let home = tempfile::tempdir().expect("temp dir");
    seed_project(home.path());
    let dir = home.path().join("projects/acme");
    std::fs::remove_file(dir.join("state.json")).expect("delete state.json");
    for args in [&["open", "acme"][..], &["new", "acme"][..], &["status", "--project", "acme"][..]] {
        let out = cutover(home.path(), args);
        assert!(!out.status.success(), "{args:?}");
        let err = text(&out.stderr);
        assert!(err.contains("is damaged") && err.contains("set-kickoff-field done"), "{args:?}: {err}");
    }
    assert!(!dir.join("state.json").exists(), "the name is not reused");
}

/// Runs cutover, killing it after `secs`: a command that blocks on its input fails the test instead of hanging it.
fn cutover_within(home: &Path, args: &[&str], secs: u64) -> Output {
    let mut child = Command::new(env!("CARGO_BIN_EXE_cutover"))
        .args(args)
        .env("CUTOVER_HOME", home)
        .stdin(std::process::Stdio::null())
        .stdout(std::process::Stdio::piped())
        .stderr(std::process::Stdio::piped())
        .spawn()
        .expect("run cutover");
    let start = std::time::Instant::now();
    while child.try_wait().expect("wait").is_none() {
        if start.elapsed() > std::time::Duration::from_secs(secs) {
            child.kill().expect("kill");
            panic!("cutover {args:?} did not finish within {secs} s");
        }
        std::thread::sleep(std::time::Duration::from_millis(50));
    }
    child.wait_with_output().expect("output")
}

#[cfg(unix)]
#[test]
fn a_ca_cert_that_is_a_fifo_a_device_or_huge_is_refused_at_once() {
    let home = tempfile::tempdir().expect("temp dir");
    seed_project(home.path());
    let fifo = home.path().join("ca.fifo");
    assert!(Command::new("mkfifo").arg(&fifo).status().expect("mkfifo").success());
    let huge = home.path().join("huge.pem");
    std::fs::write(&huge, vec![b'A'; 2 * 1024 * 1024]).expect("write");
    let fifo = fifo.to_str().expect("utf-8 path");
    let huge = huge.to_str().expect("utf-8 path");
    for (args, says) in [
        (vec!["new", "beta", "--ca-cert", fifo], "not a regular file"),
        (vec!["new", "beta", "--ca-cert", "/dev/zero"], "not a regular file"),
        (vec!["new", "beta", "--ca-cert", huge], "larger than 1 MiB"),
        (vec!["source", "--project", "acme", "--ca-cert", fifo], "not a regular file"),
        (vec!["source", "--project", "acme", "--ca-cert", huge], "larger than 1 MiB"),
    ] {
        let out = cutover_within(home.path(), &args, 10);
        assert!(!out.status.success(), "{args:?}");
        let err = text(&out.stderr);
        assert!(err.contains(says) && err.contains(args[args.len() - 1]), "{args:?}: {err}");
        assert!(err.contains("PEM"), "{args:?} names the fix: {err}");
    }
    assert!(!home.path().join("projects/beta").exists());
}

#[test]
fn terminal_escapes_from_an_input_file_are_not_echoed() {
    let home = tempfile::tempdir().expect("temp dir");
    seed_project(home.path());
    let csv = home.path().join("escapes.csv");
    std::fs::write(&csv, "PrimarySmtpAddress,TotalItemSize\n\x1b]0;pwned\x07a@c.com,1\nb@c.com,1\n").expect("write");
    let out = cutover(home.path(), &["import", "inventory", csv.to_str().expect("utf-8 path")]);
    assert!(out.status.success(), "{}", text(&out.stderr));
    let all = format!("{}{}", text(&out.stdout), text(&out.stderr));
    assert!(!all.contains('\x1b') && !all.contains('\x07'), "{all:?}");
    assert!(all.contains("\\u{1b}"), "shown escaped: {all:?}");
    // An error built from a file name the user gave.
    let named = home.path().join("evil\x1b[2J.csv");
    let out = cutover(home.path(), &["import", "inventory", named.to_str().expect("utf-8 path")]);
    assert!(!out.status.success());
    let err = text(&out.stderr);
    assert!(!err.contains('\x1b') && err.contains("evil\\u{1b}[2J.csv"), "{err:?}");
}

#[test]
fn new_no_open_fills_the_kickoff_and_exits_without_a_terminal() {
    let home = tempfile::tempdir().expect("temp dir");
    let base =
        ["new", "acme", "--no-open", "--customer", "Contoso", "--domain", "contoso.com", "--domain", "contoso.co.uk"];
    let bad = [&base[..], &["--partner-email", "nobody"]].concat();
    let out = cutover(home.path(), &bad);
    assert!(!out.status.success());
    let err = text(&out.stderr);
    assert!(err.contains("--partner-email") && err.contains("name@example.com"), "names the flag and the fix: {err}");
    assert!(!home.path().join("projects/acme").exists(), "nothing is made for a bad value");

    let good = [&base[..], &["--mailboxes", "1,200", "--cutover", "2030-12-05 18:00 Europe/Berlin"]].concat();
    let out = cutover(home.path(), &good);
    assert!(out.status.success(), "{}", text(&out.stderr));
    let stdout = text(&out.stdout);
    assert!(stdout.contains("Email domains    contoso.com, contoso.co.uk"), "{stdout}");
    assert!(stdout.contains("Not set yet: Partner contact"), "{stdout}");
    let out = cutover(home.path(), &["status", "--json"]);
    let json: serde_json::Value = serde_json::from_slice(&out.stdout).expect("one JSON document");
    assert_eq!(json["stages"][0]["checks"][1]["outcome"], "Warn", "1,200 mailboxes: above 150, a warning");
    let (records, _) =
        cutover::project::AuditLog::new(home.path().join("projects/acme/audit.jsonl")).read().expect("audit");
    let set = records.iter().filter(|r| r.action == "set-kickoff-field").count();
    assert_eq!(set, 8, "each field through the runner, audited before and after");
}

#[test]
fn completions_are_printed_for_each_shell() {
    let home = tempfile::tempdir().expect("temp dir");
    for shell in ["bash", "zsh", "fish"] {
        let out = cutover(home.path(), &["completions", shell]);
        assert!(out.status.success(), "{shell}: {}", text(&out.stderr));
        let script = text(&out.stdout);
        assert!(script.contains("override") && script.contains("no-open"), "{shell}: {script}");
    }
    assert!(!cutover(home.path(), &["completions", "tcsh"]).status.success());
}

#[test]
fn a_url_or_host_with_a_password_in_it_is_refused_and_never_echoed() {
    let home = tempfile::tempdir().expect("temp dir");
    let out = cutover(
        home.path(),
        &[
            "new",
            "acme",
            "--login-url",
            "https://admin:Hunter2-secret@login.example.com/",
            "--graph-url",
            "https://graph.example.com",
            "--exo-url",
            "https://exo.example.com",
        ],
    );
    let stderr = text(&out.stderr);
    assert!(!out.status.success(), "{stderr}");
    assert!(stderr.contains("--login-url") && stderr.contains("user:password@"), "{stderr}");
    assert!(stderr.contains("https://login.example.com/"), "shows the URL without the credentials: {stderr}");
    assert!(!stderr.contains("Hunter2") && !stderr.contains("admin:"), "{stderr}");
    assert!(!home.path().join("projects/acme").exists(), "nothing is created");

    seed_project(home.path());
    for (flag, value) in [
        ("--exchange-server", "https://migadmin:Hunter2-secret@exch01.contoso.local"),
        ("--rpc-proxy-server", "migadmin:Hunter2-secret@mail.contoso.com"),
        ("--autodiscover-email", "https://migadmin:Hunter2-secret@mail.contoso.com/"),
        ("--admin-user", "migadmin:Hunter2-secret@contoso.com"),
    ] {
        let out = cutover(home.path(), &["source", "--project", "acme", flag, value]);
        let stderr = text(&out.stderr);
        assert!(!out.status.success(), "{flag}: {stderr}");
        assert!(stderr.contains("user:password@") && stderr.contains("keyring"), "{flag}: {stderr}");
        assert!(!stderr.contains("Hunter2"), "{flag}: {stderr}");
    }
    let state = std::fs::read_to_string(home.path().join("projects/acme/state.json")).expect("state");
    assert!(!state.contains("Hunter2"), "{state}");
}

#[test]
fn an_inventory_of_another_domain_is_imported_with_a_warning() {
    let home = tempfile::tempdir().expect("temp dir");
    let out = cutover(home.path(), &["new", "acme", "--no-open", "--domain", "fabrikam.example"]);
    assert!(out.status.success(), "{}", text(&out.stderr));
    let sample = Path::new(env!("CARGO_MANIFEST_DIR")).join("assets/samples/inventory-typical.csv");
    let out = cutover(home.path(), &["import", "inventory", sample.to_str().expect("utf-8"), "--project", "acme"]);
    assert!(out.status.success(), "{}", text(&out.stderr));
    let stderr = text(&out.stderr);
    assert!(
        stderr.contains("120 of 120 mailboxes are in domains the kickoff does not name (contoso.example)"),
        "{stderr}"
    );
}

#[test]
fn only_a_simulators_project_publishes_dns_records() {
    let home = tempfile::tempdir().expect("temp dir");
    let out = cutover(home.path(), &["new", "real", "--no-open", "--simulator", "https://dns.registrar.example/"]);
    assert!(!out.status.success());
    assert!(text(&out.stderr).contains("not a simulator on this machine"), "{}", text(&out.stderr));
    assert!(!home.path().join("projects/real").exists());
    assert!(cutover(home.path(), &["new", "real", "--no-open"]).status.success());
    let out = cutover(home.path(), &["task", "publish-verification", "--project", "real", "--yes"]);
    assert!(!out.status.success());
    assert!(text(&out.stderr).contains("runs only in a demo project"), "{}", text(&out.stderr));
}
