//! The live checks of stages 2 to 4 against the embedded simulator over real HTTP(S) and DNS on 127.0.0.1:
//! scenario `typical` (a healthy source and tenant) and `trouble` (expired certificate, Autodiscover down,
//! directory sync on, too few licences, a hidden mailbox, a day-long MX TTL), asserting each outcome and its
//! evidence; and `cutover check --json` run as the real binary. Sign-ins and the source password are kept in
//! the real OS keyring (run through scripts/with-keyring.sh).

use cutover::m365::{Cloud, ConnectionSettings};
use cutover::plan::kickoff::Field;
use cutover::plan::{CheckResult, Outcome, StageId};
use cutover::project::{DataHome, Project, ProjectName, ProjectState};
use cutover::runner::checks::CheckError;
use cutover::runner::connect::Connections;
use cutover::secrets::{Secret, SecretKind, Secrets};
use cutover::sim::{SimInfo, SimOptions, Simulator};
use std::collections::BTreeMap;
use std::path::Path;
use std::time::Duration;
use tokio_util::sync::CancellationToken;

async fn start(scenario: &str) -> Simulator {
    Simulator::start(SimOptions { scenario: scenario.into(), ..Default::default() }).await.expect("simulator starts")
}

fn unique(prefix: &str) -> String {
    format!("{prefix}-{}-{}", std::process::id(), fastrand::u32(..))
}

/// The scenario's mailboxes (generated ones included) as Get-CutoverInventory.ps1 would export them.
fn inventory_csv(scenario: &str, domain: &str) -> String {
    const GB: f64 = 1_073_741_824.0;
    let scenario = cutover::sim::Scenario::load(scenario).expect("scenario");
    let mut csv = String::from(
        "DisplayName,PrimarySmtpAddress,EmailAddresses,RecipientTypeDetails,TotalItemSizeBytes,ItemCount,TotalDeletedItemSizeBytes,HiddenFromAddressListsEnabled\n",
    );
    for m in &scenario.mailboxes {
        let alias = &m.alias;
        csv.push_str(&format!(
            "\"{}\",{alias}@{domain},SMTP:{alias}@{domain},UserMailbox,{},{},{},{}\n",
            m.display_name,
            (m.size_gb * GB) as u64,
            m.items,
            (m.recoverable_items_gb * GB) as u64,
            if m.hidden { "True" } else { "False" },
        ));
    }
    csv
}

/// A project pointed at the simulator: kickoff, connection, source access, the inventory imported, the app
/// signed in with its client secret and the source password in the keyring.
async fn project(info: &SimInfo, scenario: &str, home: &Path) -> (Project, Secrets) {
    let home = DataHome::at(home);
    let name = ProjectName::parse(&unique("it-checks")).expect("name");
    let mut project = Project::create(&home, &name, false).expect("create");
    let csv = home.projects().join("inventory.csv");
    std::fs::write(&csv, inventory_csv(scenario, &info.email_domains[0])).expect("csv");
    let info2 = info.clone();
    project
        .change(None, "test-setup", serde_json::Value::Null, move |s: &mut ProjectState| {
            Field::Tenant.apply(&mut s.kickoff, &info2.tenant_id)?;
            Field::Domains.apply(&mut s.kickoff, &info2.email_domains.join(", "))?;
            s.m365 = ConnectionSettings {
                cloud: Cloud::custom(&info2.login_url, &info2.graph_url, &info2.exo_url).expect("loopback cloud"),
                client_id: Some(info2.app_id.clone()),
                ca_cert: None,
            };
            s.source_access.admin_user = Some(info2.source.admin_user.clone());
            s.source_access.dns_servers = vec![info2.dns[0].addr];
            s.source_access.https_port = Some(info2.source.https_port);
            s.source_access.ca_cert = Some(info2.source.ca_cert_path.clone());
            Ok::<(), cutover::plan::kickoff::ValidationError>(())
        })
        .expect("io")
        .expect("valid");
    let event = cutover::runner::execute(
        &mut project,
        cutover::runner::Command::ImportInventory { path: csv, allow_removals: false },
    );
    assert!(matches!(event, cutover::runner::Event::InventoryImported { .. }), "{event:?}");
    let secrets = Secrets::open().expect("OS keyring");
    let conn = Connections::new(name.as_str(), project.state(), secrets.clone());
    let m = conn.m365.as_ref().unwrap_or_else(|e| panic!("clients: {e}"));
    m.auth.sign_in_with_client_secret(Secret::new(info.app_secret.clone())).await.expect("client credentials");
    secrets
        .save(
            &project.state().keyring_scope(),
            &SecretKind::SourcePassword,
            &Secret::new(info.source.admin_password.clone()),
        )
        .expect("store the source password");
    (project, secrets)
}

async fn run(project: &Project, secrets: &Secrets, stage: StageId) -> BTreeMap<&'static str, CheckResult> {
    let conn = Connections::new(&project.state().name, project.state(), secrets.clone());
    let results = tokio::time::timeout(
        Duration::from_secs(120),
        cutover::runner::stages::run_checks(stage, project.state(), &conn, &CancellationToken::new()),
    )
    .await
    .expect("within 2 minutes")
    .unwrap_or_else(|e| panic!("stage {stage}: {e}"));
    let ids: Vec<&str> = results.iter().map(|(id, _)| id.as_str()).collect();
    let planned: Vec<&str> = stage.def().checks.iter().map(|c| c.id.as_str()).collect();
    assert_eq!(ids, planned, "every check of stage {stage}, in the plan's order");
    results.into_iter().map(|(id, r)| (id.as_str(), r)).collect()
}

fn expect(results: &BTreeMap<&str, CheckResult>, id: &str, outcome: Outcome, texts: &[&str]) {
    let r = &results[id];
    assert_eq!(r.outcome, outcome, "{id}: {}", r.evidence);
    for t in texts {
        assert!(r.evidence.contains(t), "{id} evidence lacks {t:?}:\n{}", r.evidence);
    }
}

fn forget(secrets: &Secrets, project: &Project) {
    for kind in [SecretKind::ClientSecret, SecretKind::SourcePassword] {
        let _ = secrets.delete(&project.state().keyring_scope(), &kind);
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn typical_scenario_stages_2_to_4() {
    let sim = start("typical").await;
    let info = sim.info().clone();
    let home = tempfile::tempdir().expect("temp dir");
    let (project, secrets) = project(&info, "typical", home.path()).await;
    let domain = &info.email_domains[0];

    let s2 = run(&project, &secrets, cutover::plan::source::STAGE).await;
    expect(&s2, "autodiscover", Outcome::Pass, &["Autodiscover answered at step 2", &format!("ceo@{domain}")]);
    expect(&s2, "certificate", Outcome::Pass, &[&format!("autodiscover.{domain}"), &info.source.host]);
    expect(&s2, "outlook-anywhere", Outcome::Pass, &[&info.source.host, "Basic"]);
    expect(&s2, "ews", Outcome::Pass, &["Exchange Server 2016 (15.1.2507.6"]);
    expect(&s2, "mailbox-count", Outcome::Pass, &["119 mailboxes will migrate (1 hidden"]);
    expect(&s2, "high-risk", Outcome::Fail, &["hidden from address lists"]);
    expect(&s2, "totals", Outcome::Warn, &["Enter the upload bandwidth"]);

    let s3 = run(&project, &secrets, cutover::plan::users::STAGE).await;
    expect(&s3, "dirsync-off", Outcome::Pass, &["GET /organization (Fabrikam Engineering)", "never been on"]);
    expect(&s3, "licences-available", Outcome::Pass, &["O365_BUSINESS_PREMIUM 123 of 125 free", "119 needed"]);
    expect(
        &s3,
        "no-collisions",
        Outcome::Pass,
        &["No address of the 119 mailboxes", "groups (0, GET /groups) and contacts (0, GET /contacts)"],
    );

    let s4 = run(&project, &secrets, cutover::plan::prepare::STAGE).await;
    expect(&s4, "mx-ttl", Outcome::Pass, &[&format!("{domain}: MX TTL 3,600 s"), "per DNS server 127.0.0.1"]);
    expect(&s4, "endpoint-test", Outcome::Fail, &["no Outlook Anywhere endpoint", "Create the migration endpoint"]);
    expect(&s4, "domains-verified", Outcome::Fail, &["Not added to the tenant: fabrikam-eng.com, fabrikam-eng.co.uk"]);

    // Stage 4's tasks by hand: both domains added, the first verified through its TXT record, the endpoint made.
    let conn = Connections::new(&project.state().name, project.state(), secrets.clone());
    let m = conn.m365.as_ref().unwrap_or_else(|e| panic!("clients: {e}"));
    let mut txts = Vec::new();
    for d in &info.email_domains {
        m.graph.add_domain(d).await.expect("add domain");
        let records = m.graph.verification_records(d).await.expect("records");
        let txt = records
            .into_iter()
            .find_map(|r| match r.data {
                cutover::m365::graph::DnsRecordData::Txt { text } => Some(text),
                _ => None,
            })
            .expect("an MS= TXT record");
        txts.push(txt);
    }
    let published = reqwest::Client::new()
        .post(format!("{}/dns/records", info.control_url))
        .json(&serde_json::json!({ "name": domain, "type": "TXT", "ttl": 3600, "values": [txts[0]] }))
        .send()
        .await
        .expect("registrar");
    assert!(published.status().is_success());
    assert!(m.graph.verify_domain(domain).await.expect("verify").is_verified);
    let endpoint = cutover::m365::exo::OutlookAnywhere {
        exchange_server: info.source.host.clone(),
        rpc_proxy_server: info.source.host.clone(),
        authentication: "Basic".into(),
        email_address: format!("ceo@{domain}"),
        user_name: info.source.admin_user.clone(),
        password: Secret::new(info.source.admin_password.clone()),
        mailbox_permission: Some("Admin".into()),
    };
    m.exo.new_migration_endpoint("Fabrikam source", &endpoint, Some(20)).await.expect("endpoint");

    let s4 = run(&project, &secrets, cutover::plan::prepare::STAGE).await;
    let second = &info.email_domains[1];
    expect(
        &s4,
        "domains-verified",
        Outcome::Fail,
        &[&format!("Not verified: {second} (publish TXT \"{}\", then verify)", txts[1])],
    );
    expect(
        &s4,
        "endpoint-test",
        Outcome::Pass,
        &[
            "Get-MigrationEndpoint: 'Fabrikam source' (Outlook Anywhere, RPC proxy",
            &format!("Test-MigrationServerAvailability against {} as {}", info.source.host, info.source.admin_user),
            "Success",
        ],
    );
    // A wrong password in the keyring: the availability test fails and says what to fix.
    secrets
        .save(&project.state().keyring_scope(), &SecretKind::SourcePassword, &Secret::new("wrong-password".to_owned()))
        .expect("store");
    let s4 = run(&project, &secrets, cutover::plan::prepare::STAGE).await;
    expect(&s4, "endpoint-test", Outcome::Fail, &["Failed", "the migration account's password"]);
    assert!(!s4["endpoint-test"].evidence.contains("wrong-password"), "no secret in evidence");
    // No password at all: Autodiscover and EWS meet 401s, and their evidence says how to store it.
    secrets.delete(&project.state().keyring_scope(), &SecretKind::SourcePassword).expect("delete");
    let s2 = run(&project, &secrets, cutover::plan::source::STAGE).await;
    for id in ["autodiscover", "ews"] {
        let r = &s2[id];
        assert_ne!(r.outcome, Outcome::Pass, "{id}: {}", r.evidence);
        assert!(r.evidence.contains("`cutover source --password-stdin`"), "{id}: {}", r.evidence);
    }
    forget(&secrets, &project);
    sim.shutdown().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn trouble_scenario_stages_2_to_4() {
    let sim = start("trouble").await;
    let info = sim.info().clone();
    let home = tempfile::tempdir().expect("temp dir");
    let (mut project, secrets) = project(&info, "trouble", home.path()).await;
    let domain = info.email_domains[0].clone();
    let host = info.source.host.clone();
    // Autodiscover is down, so the engineer gives the RPC proxy by hand.
    project
        .change(None, "test-manual-host", serde_json::Value::Null, move |s: &mut ProjectState| {
            s.source_access.rpc_proxy_server = Some(host);
            Ok::<(), std::convert::Infallible>(())
        })
        .expect("io")
        .expect("valid");

    let s2 = run(&project, &secrets, cutover::plan::source::STAGE).await;
    // The first mailbox the batch will move is asked for; every lookup meets the expired certificate.
    expect(
        &s2,
        "autodiscover",
        Outcome::Fail,
        &[&format!("for owner@{domain}"), "certificate has expired", "SRV _autodiscover._tcp.litware.com"],
    );
    expect(&s2, "certificate", Outcome::Fail, &["Fix: renew the certificate", "expired on"]);
    expect(&s2, "outlook-anywhere", Outcome::Fail, &["Outlook Anywhere at mail.litware.com cannot be reached"]);
    expect(&s2, "ews", Outcome::Fail, &["TLS handshake failed: the server's certificate has expired"]);
    expect(&s2, "high-risk", Outcome::Fail, &[&format!("printer@{domain}: hidden from address lists")]);
    expect(&s2, "mailbox-count", Outcome::Pass, &["7 mailboxes will migrate (1 hidden"]);

    let s3 = run(&project, &secrets, cutover::plan::users::STAGE).await;
    expect(
        &s3,
        "dirsync-off",
        Outcome::Fail,
        &["GET /organization (Litware Inc)", "onPremisesSyncEnabled is true", "72 hours"],
    );
    expect(&s3, "licences-available", Outcome::Fail, &["EXCHANGESTANDARD 2 of 5 free", "7 needed", "Buy 5 more"]);
    // A distribution group holds a mailbox's address as an alias, a contact made for coexistence another's.
    expect(
        &s3,
        "no-collisions",
        Outcome::Fail,
        &[
            "2 addresses that move are already used in the tenant",
            "accounts@litware.com (of accounts@litware.com) is held by distribution group 'Accounts Payable'",
            "r.diaz@litware.com (of r.diaz@litware.com) is held by contact 'Rosa Diaz (on-premises)'",
            "the batch fails for those 2 mailboxes (accounts@litware.com, r.diaz@litware.com)",
            "Set-DistributionGroup -Identity <group> -EmailAddresses @{remove='smtp:<address>'}",
            "Remove-MailContact",
            "groups (3, GET /groups) and contacts (2, GET /contacts)",
        ],
    );
    let evidence = &s3["no-collisions"].evidence;
    for quiet in ["Litware Leadership", "VPN Users", "Fabrikam Support", "Set-UnifiedGroup"] {
        assert!(!evidence.contains(quiet), "{quiet} holds no moving address: {evidence}");
    }

    let s4 = run(&project, &secrets, cutover::plan::prepare::STAGE).await;
    expect(&s4, "domains-verified", Outcome::Fail, &["Not added to the tenant: litware.com"]);
    expect(
        &s4,
        "endpoint-test",
        Outcome::Fail,
        &[
            "no Outlook Anywhere endpoint",
            "Before creating it, with the manual settings: Test-MigrationServerAvailability against mail.litware.com as LITWARE\\administrator for owner@litware.com: Failed",
            "Fix on the source: a certificate",
        ],
    );
    expect(
        &s4,
        "mx-ttl",
        Outcome::Warn,
        &["litware.com: MX TTL is 86,400 s", "lower it to 3,600 s or less at least 24 h before the cutover"],
    );

    // Signed out: the Microsoft 365 stages stop with the sign-in to run, rather than failing each check.
    forget(&secrets, &project);
    let conn = Connections::new(&project.state().name, project.state(), secrets.clone());
    let err = cutover::runner::stages::run_checks(
        cutover::plan::users::STAGE,
        project.state(),
        &conn,
        &CancellationToken::new(),
    )
    .await
    .expect_err("not signed in");
    assert!(matches!(err, CheckError::NotSignedIn(_)), "{err}");
    assert!(err.to_string().contains("cutover auth login"), "{err}");
    sim.shutdown().await;
}

/// Runs the real binary with `CUTOVER_HOME` at `home`; the simulator keeps serving on the test's runtime.
async fn cutover(home: &Path, args: &[&str]) -> std::process::Output {
    let home = home.to_owned();
    let args: Vec<String> = args.iter().map(|a| (*a).to_owned()).collect();
    let child = tokio::task::spawn_blocking(move || {
        std::process::Command::new(env!("CARGO_BIN_EXE_cutover"))
            .args(&args)
            .env("CUTOVER_HOME", &home)
            .env("NO_COLOR", "1")
            .output()
            .expect("cutover runs")
    });
    tokio::time::timeout(Duration::from_secs(120), child).await.expect("within 2 minutes").expect("joined")
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn cutover_check_prints_one_json_document_records_the_results_and_fails_on_a_failed_check() {
    let sim = start("typical").await;
    let info = sim.info().clone();
    let home = tempfile::tempdir().expect("temp dir");
    let (project, secrets) = project(&info, "typical", home.path()).await;
    let name = project.state().name.clone();
    drop(project);

    let out = cutover(home.path(), &["check", "--project", &name, "--json"]).await;
    let stderr = String::from_utf8_lossy(&out.stderr);
    assert_eq!(out.status.code(), Some(1), "a failed check gives exit code 1; stderr: {stderr}");
    let doc: serde_json::Value = serde_json::from_slice(&out.stdout).expect("stdout is one JSON document");
    assert_eq!(doc["project"], name.as_str());
    assert_eq!(doc["ok"], false);
    let stages = doc["stages"].as_array().expect("stages");
    // Every stage with checks of its own runs.
    assert_eq!(
        stages.iter().map(|s| s["stage"].as_u64().expect("number")).collect::<Vec<_>>(),
        [1, 2, 3, 4, 5, 6, 7, 8, 9]
    );
    let check = |stage: usize, id: &str| -> (String, String) {
        let c = stages[stage - 1]["checks"]
            .as_array()
            .expect("checks")
            .iter()
            .find(|c| c["id"] == id)
            .unwrap_or_else(|| panic!("{id} in stage {stage}"));
        (c["outcome"].as_str().expect("outcome").to_owned(), c["evidence"].as_str().expect("evidence").to_owned())
    };
    assert_eq!(check(1, "kickoff-fields").0, "Fail", "the kickoff has no customer");
    let (outcome, evidence) = check(2, "autodiscover");
    assert_eq!(outcome, "Pass", "{evidence}");
    assert!(evidence.contains("Autodiscover answered at step 2"), "{evidence}");
    assert_eq!(check(2, "high-risk").0, "Fail");
    for id in ["dirsync-off", "licences-available", "no-collisions"] {
        let (outcome, evidence) = check(3, id);
        assert_eq!(outcome, "Pass", "{id}: {evidence}");
    }
    assert!(check(3, "licences-available").1.contains("119 needed"));
    assert_eq!(stages[2]["checks"][0]["title"], "Directory sync is off");
    let (outcome, evidence) = check(4, "mx-ttl");
    assert_eq!(outcome, "Pass", "{evidence}");

    // The results are the project's now, each run audited.
    let data = DataHome::at(home.path());
    let (project, _) = Project::open(&data, &ProjectName::parse(&name).expect("name")).expect("reopen");
    assert_eq!(project.state().stage(cutover::plan::users::STAGE).expect("stage 3 recorded").checks.len(), 3);
    assert_eq!(project.state().stage(cutover::plan::prepare::STAGE).expect("stage 4 recorded").checks.len(), 3);
    let (records, _) = project.audit().read().expect("audit");
    let runs = records.iter().filter(|r| r.action == "run-checks").count();
    assert_eq!(runs, 18, "about-to and done for each of the nine stages with checks");
    drop(project);

    // Text, one stage; then stage 7 before any MX change, which has nothing to pass yet.
    let out = cutover(home.path(), &["check", "--project", &name, "--stage", "3"]).await;
    let text = String::from_utf8_lossy(&out.stdout);
    assert_eq!(out.status.code(), Some(0), "{text}");
    assert!(text.contains("Stage 3. Users / directory sync"), "{text}");
    assert!(text.contains("PASS    dirsync-off: Directory sync is off"), "{text}");
    let out = cutover(home.path(), &["check", "--project", &name, "--stage", "7", "--json"]).await;
    assert_eq!(out.status.code(), Some(1), "{}", String::from_utf8_lossy(&out.stdout));
    let doc: serde_json::Value = serde_json::from_slice(&out.stdout).expect("JSON");
    let ids: Vec<&str> =
        doc["stages"][0]["checks"].as_array().expect("checks").iter().filter_map(|c| c["id"].as_str()).collect();
    assert!(ids.contains(&"dns-propagation"), "{ids:?}");

    // Signed out: a clear error naming the sign-in command.
    forget(&secrets, &Project::open(&data, &ProjectName::parse(&name).expect("name")).expect("open").0);
    let out = cutover(home.path(), &["check", "--project", &name, "--stage", "3"]).await;
    let stderr = String::from_utf8_lossy(&out.stderr);
    assert_eq!(out.status.code(), Some(1), "{stderr}");
    assert!(stderr.contains(&format!("cutover auth login --project {name}")), "{stderr}");
    sim.shutdown().await;
}

#[test]
fn cutover_new_refuses_bad_connection_flags_before_creating_anything() {
    let home = tempfile::tempdir().expect("temp dir");
    let cases: [(&[&str], &str); 4] = [
        (&["--cloud", "mars"], "unknown cloud 'mars'"),
        (&["--login-url", "http://127.0.0.1:1"], "missing: --graph-url, --exo-url"),
        (&["--client-id", "my-app"], "is not an application id"),
        (&["--ca-cert", "/nonexistent/ca.pem"], "--ca-cert /nonexistent/ca.pem"),
    ];
    for (flags, message) in cases {
        let out = std::process::Command::new(env!("CARGO_BIN_EXE_cutover"))
            .args(["new", "acme"])
            .args(flags)
            .env("CUTOVER_HOME", home.path())
            .output()
            .expect("cutover runs");
        let stderr = String::from_utf8_lossy(&out.stderr);
        assert_eq!(out.status.code(), Some(1), "{flags:?}: {stderr}");
        assert!(stderr.contains(message), "{flags:?}: {stderr}");
        assert!(!home.path().join("projects/acme").exists(), "{flags:?} created the project");
    }
}

#[test]
fn cutover_source_sets_the_access_and_keeps_the_password_in_the_keyring_only() {
    use std::io::Write;
    let home = tempfile::tempdir().expect("temp dir");
    let name = unique("it-source");
    let data = DataHome::at(home.path());
    let created = Project::create(&data, &ProjectName::parse(&name).expect("name"), false).expect("create");
    // The keyring accounts are named by the project's id.
    let scope = created.state().keyring_scope();
    drop(created);
    let ca = Path::new(env!("CARGO_MANIFEST_DIR")).join("tests/no-such-ca.pem");
    let source = |args: &[&str], stdin: Option<&str>| {
        let mut child = std::process::Command::new(env!("CARGO_BIN_EXE_cutover"))
            .args(["source", "--project", &name])
            .args(args)
            .env("CUTOVER_HOME", home.path())
            .stdin(std::process::Stdio::piped())
            .stdout(std::process::Stdio::piped())
            .stderr(std::process::Stdio::piped())
            .spawn()
            .expect("cutover runs");
        if let Some(text) = stdin {
            child.stdin.take().expect("stdin").write_all(text.as_bytes()).expect("write");
        }
        drop(child.stdin.take());
        child.wait_with_output().expect("output")
    };
    let password = format!("Src-{}-Passw0rd!", fastrand::u32(..));
    let out = source(
        &[
            "--admin-user",
            "fabrikam\\svc-migration",
            "--rpc-proxy-server",
            "mail.fabrikam-eng.com",
            "--auth",
            "ntlm",
            "--dns-server",
            "127.0.0.1:5353",
            "--https-port",
            "8443",
            "--password-stdin",
            "--json",
        ],
        Some(&format!("{password}\n")),
    );
    assert!(out.status.success(), "{}", String::from_utf8_lossy(&out.stderr));
    let doc: serde_json::Value = serde_json::from_slice(&out.stdout).expect("JSON");
    assert_eq!(doc["password_stored"], true);
    assert_eq!(doc["source_access"]["admin_user"], "FABRIKAM\\svc-migration");
    assert_eq!(doc["source_access"]["auth"], "Ntlm");
    assert_eq!(doc["source_access"]["dns_servers"][0], "127.0.0.1:5353");
    let secrets = Secrets::open().expect("OS keyring");
    let stored = secrets.load(&scope, &SecretKind::SourcePassword).expect("keyring").expect("stored");
    assert_eq!(stored.expose(), password);
    for file in ["state.json", "audit.jsonl"] {
        let text =
            std::fs::read_to_string(data.project(&ProjectName::parse(&name).expect("name")).join(file)).expect("read");
        assert!(!text.contains(&password), "the password leaked into {file}");
    }
    // Bad input is refused whole: nothing changes.
    for (args, message) in [
        (&["--admin-user", "migadmin", "--auth", "basic"][..], "names no domain"),
        (&["--auth", "Negotiate"][..], "Basic or NTLM"),
        (&["--ca-cert", ca.to_str().expect("path")][..], "no-such-ca.pem"),
    ] {
        let out = source(args, None);
        let stderr = String::from_utf8_lossy(&out.stderr);
        assert_eq!(out.status.code(), Some(1), "{args:?}: {stderr}");
        assert!(stderr.contains(message), "{args:?}: {stderr}");
    }
    let out = source(&["--json"], None);
    let doc: serde_json::Value = serde_json::from_slice(&out.stdout).expect("JSON");
    assert_eq!(doc["source_access"]["admin_user"], "FABRIKAM\\svc-migration");
    assert_eq!(doc["source_access"]["auth"], "Ntlm");
    let _ = secrets.delete(&scope, &SecretKind::SourcePassword);
}
