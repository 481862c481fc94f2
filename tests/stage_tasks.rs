//! The stage 3 and 4 write tasks against the embedded simulator, over real HTTP on 127.0.0.1: domains added once
//! and verified after the demo registrar publishes their TXT records, the migration endpoint created through
//! Autodiscover or the manual settings (and not twice), the cloud accounts pre-created once; every write has its
//! "about to" and outcome records and no secret reaches the audit log. Sign-ins use the real OS keyring (run
//! through scripts/with-keyring.sh).

use cutover::inventory::{Archive, Mailbox, RecipientType};
use cutover::m365::{Cloud, ConnectionSettings, HttpClient, M365, RetryPolicy};
use cutover::plan::source::{SourceAuth, SourcePermission};
use cutover::project::{AuditLog, Phase};
use cutover::runner::Event;
use cutover::runner::jobs::JobContext;
use cutover::runner::stages::prepare::endpoint::{EndpointRequest, EndpointVia, ManualSettings, create_endpoint};
use cutover::runner::stages::prepare::{domains, registrar};
use cutover::runner::stages::users::precreate as users;
use cutover::secrets::{Secret, Secrets};
use cutover::sim::{SimInfo, SimOptions, Simulator};
use std::path::Path;
use std::time::Duration;
use tokio::sync::mpsc;
use url::Url;

fn policy() -> RetryPolicy {
    RetryPolicy {
        max_attempts: 5,
        max_total_wait: Duration::from_secs(40),
        base_delay: Duration::from_millis(50),
        max_delay: Duration::from_millis(500),
        timeout: Duration::from_secs(10),
        connect_timeout: Duration::from_secs(5),
        ..RetryPolicy::default()
    }
}

async fn start(scenario: &str) -> Simulator {
    let o = SimOptions { scenario: scenario.into(), ..Default::default() };
    Simulator::start(o).await.expect("simulator starts")
}

/// Signed in as the simulator's app with client credentials, its sign-in kept in the OS keyring.
async fn connect(info: &SimInfo) -> M365 {
    let project = format!("it-tasks-{}-{}", std::process::id(), fastrand::u64(..));
    let settings = ConnectionSettings {
        cloud: Cloud::custom(&info.login_url, &info.graph_url, &info.exo_url).expect("loopback cloud"),
        client_id: Some(info.app_id.clone()),
        ca_cert: None,
    };
    let http = HttpClient::new(policy(), None).expect("client");
    let m = M365::connect(&project, &info.tenant_id, &settings, Secrets::open().expect("OS keyring"), http)
        .expect("connect");
    m.auth.sign_in_with_client_secret(Secret::new(info.app_secret.clone())).await.expect("client credentials");
    m
}

fn context(dir: &Path) -> (JobContext, mpsc::UnboundedReceiver<Event>) {
    let (tx, rx) = mpsc::unbounded_channel();
    (JobContext::new(1, tx, AuditLog::new(dir.join("audit.jsonl"))), rx)
}

fn progress_labels(rx: &mut mpsc::UnboundedReceiver<Event>) -> Vec<String> {
    let mut labels = Vec::new();
    while let Ok(e) = rx.try_recv() {
        if let Event::JobProgress { label, .. } = e {
            labels.push(label);
        }
    }
    labels
}

fn mailbox(name: &str, address: &str, kind: RecipientType, hidden: bool) -> Mailbox {
    Mailbox {
        display_name: name.into(),
        primary_smtp: address.into(),
        upn: address.replace(".com", ".local"),
        proxy_addresses: vec![format!("SMTP:{address}")],
        recipient_type: kind,
        total_item_size: 1_000_000,
        item_count: 100,
        deleted_item_size: 0,
        archive: Archive::None,
        hidden,
        forwarding: None,
        last_logon: None,
        database: "DB01".into(),
        legacy_exchange_dn: format!("/o=First Organization/cn={name}"),
    }
}

/// Each "about to" is followed by its outcome before the next write starts; returns the actions done, in order.
fn audited_actions(dir: &Path) -> Vec<String> {
    let (records, bad) = AuditLog::new(dir.join("audit.jsonl")).read().expect("audit log");
    assert!(bad.is_empty(), "unreadable audit lines: {bad:?}");
    assert_eq!(records.len() % 2, 0, "every write has two records");
    let mut done = Vec::new();
    for pair in records.chunks(2) {
        assert_eq!(pair[0].phase, Phase::AboutTo, "{}", pair[0].summary());
        assert_eq!(pair[1].phase, Phase::Done, "{}", pair[1].summary());
        assert_eq!(pair[0].action, pair[1].action);
        done.push(pair[0].action.clone());
    }
    done
}

fn count(actions: &[String], action: &str) -> usize {
    actions.iter().filter(|a| *a == action).count()
}

#[tokio::test]
async fn typical_domains_then_endpoint_then_accounts_each_once_and_audited() {
    let sim = start("typical").await;
    let info = sim.info().clone();
    let m = connect(&info).await;
    let dir = tempfile::tempdir().expect("temp dir");
    let (ctx, mut rx) = context(dir.path());
    let domains = info.email_domains.clone();
    assert_eq!(domains.len(), 2, "the typical tenant has two email domains");

    // Domains: both added, each with its MS=ms… record; a second run adds nothing.
    let first = domains::add_domains(&ctx, &m.graph, &domains).await.expect("add domains");
    assert_eq!(first.outcome.done.len(), 2, "{:?}", first.outcome);
    for d in &first.domains {
        assert!(d.added && d.state.in_tenant && !d.state.verified);
        let txt = d.state.txt.as_deref().expect("verification TXT");
        assert!(txt.starts_with("MS=ms"), "{txt}");
        let instruction = d.instruction().expect("instruction");
        assert!(instruction.starts_with(&format!("{}  TXT  \"MS=ms", d.state.name)), "{instruction}");
    }
    let again = domains::add_domains(&ctx, &m.graph, &domains).await.expect("add domains again");
    assert!(again.outcome.nothing_done(), "{:?}", again.outcome);
    assert!(again.outcome.summary.starts_with("Nothing to add"), "{}", again.outcome.summary);
    assert_eq!(
        again.domains.iter().map(|d| d.state.txt.clone()).collect::<Vec<_>>(),
        first.domains.iter().map(|d| d.state.txt.clone()).collect::<Vec<_>>()
    );

    // The watch says "not yet" while no TXT record is published, and stopping it is no error.
    let (watch_ctx, mut watch_rx) = context(dir.path());
    let stopper = watch_ctx.cancel.clone();
    tokio::spawn(async move {
        tokio::time::sleep(Duration::from_millis(700)).await;
        stopper.cancel();
    });
    let waiting = tokio::time::timeout(
        Duration::from_secs(30),
        domains::verify_domains_watch(&watch_ctx, &m.graph, &domains, Duration::from_millis(200), |_| {}),
    )
    .await
    .expect("the watch stops when cancelled")
    .expect("not yet is no error");
    assert!(waiting.outcome.cancelled && waiting.verified.is_empty(), "{waiting:?}");
    assert_eq!(waiting.pending.len(), 2);
    assert!(waiting.pending[0].1.contains("TXT record"), "Graph's reason is kept: {:?}", waiting.pending);
    assert!(waiting.rounds >= 2, "retried each interval: {} rounds", waiting.rounds);
    assert!(waiting.outcome.summary.contains("not verified yet"), "{}", waiting.outcome.summary);
    assert!(progress_labels(&mut watch_rx).iter().any(|l| l.contains("0 of 2 verified")));

    // The demo registrar publishes the records, keeping the SPF value; the watch then verifies both.
    let control = Url::parse(&info.control_url).expect("control url");
    for d in &first.domains {
        let txt = d.state.txt.as_deref().expect("txt");
        let published =
            registrar::publish_verification_txt(&ctx, true, &control, &d.state.name, txt).await.expect("published");
        assert_eq!(published.done.len(), 1, "{published:?}");
        let twice = registrar::publish_verification_txt(&ctx, true, &control, &d.state.name, txt).await.expect("idem");
        assert!(twice.nothing_done(), "{twice:?}");
    }
    let zone: serde_json::Value =
        reqwest::get(format!("{}/dns/records", info.control_url)).await.expect("records").json().await.expect("json");
    let apex_txt = zone["records"]
        .as_array()
        .expect("records")
        .iter()
        .find(|s| s["name"] == domains[0].as_str() && s["type"] == "TXT")
        .and_then(|s| s["history"].as_array()?.last()?.get(1)?.as_array().cloned())
        .expect("TXT set");
    assert!(apex_txt.iter().any(|v| v.as_str().is_some_and(|v| v.starts_with("v=spf1"))), "SPF kept: {apex_txt:?}");
    assert!(apex_txt.iter().any(|v| v.as_str().is_some_and(|v| v.starts_with("MS=ms"))), "{apex_txt:?}");
    let (verify_ctx, _verify_rx) = context(dir.path());
    let verified = tokio::time::timeout(
        Duration::from_secs(30),
        domains::verify_domains_watch(&verify_ctx, &m.graph, &domains, Duration::from_millis(200), |_| {}),
    )
    .await
    .expect("verified within 30 s")
    .expect("verified");
    assert_eq!(verified.verified.len(), 2, "{verified:?}");
    assert!(verified.pending.is_empty() && !verified.outcome.cancelled);
    let idle = domains::verify_domains_watch(&verify_ctx, &m.graph, &domains, Duration::from_millis(200), |_| {})
        .await
        .expect("nothing to verify");
    assert!(idle.outcome.summary.starts_with("Nothing to verify"), "{}", idle.outcome.summary);
    assert_eq!(idle.rounds, 0);

    // The endpoint: Autodiscover works in `typical`; a second run creates nothing; a new concurrency is set.
    let password = Secret::new(info.source.admin_password.clone());
    let request = |max| EndpointRequest {
        name: "CutoverEndpoint".into(),
        admin_user: info.source.admin_user.clone(),
        email_address: format!("administrator@{}", domains[0]),
        manual: Some(ManualSettings {
            exchange_server: info.source.host.clone(),
            rpc_proxy_server: info.source.host.clone(),
            authentication: SourceAuth::Basic,
            mailbox_permission: SourcePermission::FullAccess,
        }),
        max_concurrent_migrations: max,
    };
    let created = create_endpoint(&ctx, &m.exo, request(30), &password).await.expect("endpoint");
    assert_eq!(created.via, Some(EndpointVia::Autodiscover), "{:?}", created.outcome);
    assert!(created.autodiscover_test.as_ref().is_some_and(|t| t.succeeded()));
    assert!(created.manual_test.is_none(), "no fallback needed");
    assert_eq!(created.endpoint.as_ref().and_then(|e| e.max_concurrent_migrations), Some(30));
    assert!(created.outcome.summary.contains("with Autodiscover"), "{}", created.outcome.summary);
    let kept = create_endpoint(&ctx, &m.exo, request(30), &password).await.expect("kept");
    assert_eq!(kept.via, Some(EndpointVia::Existing));
    assert!(kept.outcome.nothing_done(), "{:?}", kept.outcome);
    let tuned = create_endpoint(&ctx, &m.exo, request(40), &password).await.expect("tuned");
    assert_eq!(tuned.outcome.done.len(), 1, "{:?}", tuned.outcome);
    let endpoints = m.exo.get_migration_endpoints().await.expect("endpoints").items;
    assert_eq!(endpoints.len(), 1, "one endpoint: {endpoints:?}");
    assert_eq!(endpoints[0].max_concurrent_migrations, Some(40));

    // Accounts: one exists already without a usage location; the hidden mailbox is not migrated; the shared
    // mailbox gets an account but no licence.
    let domain = &domains[0];
    let existing = cutover::m365::graph::NewUser {
        user_principal_name: format!("kim.early@{domain}"),
        display_name: "Kim Early".into(),
        mail_nickname: "kim.early".into(),
        usage_location: None,
        password: Secret::new("Setup-Only-Passw0rd!"),
        force_change_password: true,
    };
    m.graph.create_user(&existing).await.expect("setup user");
    let inventory = vec![
        mailbox("Ann Lake", &format!("ann.lake@{domain}"), RecipientType::UserMailbox, false),
        mailbox("Bo Stone", &format!("bo.stone@{domain}"), RecipientType::UserMailbox, false),
        mailbox("Kim Early", &format!("kim.early@{domain}"), RecipientType::UserMailbox, false),
        mailbox("Front Desk", &format!("frontdesk@{domain}"), RecipientType::SharedMailbox, false),
        mailbox("Scanner", &format!("scanner@{domain}"), RecipientType::UserMailbox, true),
    ];
    let sku = m
        .graph
        .subscribed_skus()
        .await
        .expect("skus")
        .into_iter()
        .find(|s| s.sku_part_number == "EXCHANGESTANDARD")
        .expect("EXCHANGESTANDARD")
        .sku_id;
    let made = users::precreate_users(&ctx, &m.graph, &inventory, "gb", Some(&sku)).await.expect("accounts");
    assert_eq!(made.created.len(), 3, "{made:?}");
    assert_eq!(made.existing, vec![format!("kim.early@{domain}")]);
    assert_eq!(made.usage_location_set, vec![format!("kim.early@{domain}")]);
    assert_eq!(made.licensed.len(), 3, "the three user mailboxes, not the shared one: {made:?}");
    assert!(made.outcome.summary.contains("random first password"), "{}", made.outcome.summary);
    assert!(progress_labels(&mut rx).iter().any(|l| l == &format!("cloud accounts: ann.lake@{domain}")));
    let ann = m.graph.user_by_upn(&format!("ann.lake@{domain}")).await.expect("read").expect("ann");
    assert_eq!(ann.usage_location.as_deref(), Some("GB"));
    assert!(ann.assigned_licenses.iter().any(|l| l.sku_id == sku));
    assert!(m.graph.user_by_upn(&format!("scanner@{domain}")).await.expect("read").is_none(), "hidden: not made");
    let rerun = users::precreate_users(&ctx, &m.graph, &inventory, "GB", Some(&sku)).await.expect("rerun");
    assert!(rerun.outcome.nothing_done() && rerun.created.is_empty(), "{rerun:?}");
    assert!(rerun.outcome.summary.starts_with("Nothing to do"), "{}", rerun.outcome.summary);

    // The audit log: a pair for every write, none repeated by the second runs, and no secret.
    let actions = audited_actions(dir.path());
    assert_eq!(count(&actions, "add-domain"), 2);
    assert_eq!(count(&actions, "publish-verification-txt-demo"), 2);
    assert_eq!(count(&actions, "verify-domains"), 2, "the stopped watch and the one that verified");
    assert_eq!(count(&actions, "new-migration-endpoint"), 1);
    assert_eq!(count(&actions, "set-migration-endpoint"), 1);
    assert_eq!(count(&actions, "create-user"), 3);
    assert_eq!(count(&actions, "set-usage-location"), 1);
    assert_eq!(count(&actions, "assign-license"), 3);
    let audit = std::fs::read_to_string(dir.path().join("audit.jsonl")).expect("audit text");
    assert!(!audit.contains(&info.source.admin_password), "the source password is not in the audit log");
    assert!(!audit.contains(&info.app_secret));
    assert!(!audit.to_ascii_lowercase().contains("password"), "no password field or value: {audit}");
    assert!(m.auth.sign_out().await.expect("sign out"));
    sim.shutdown().await;
}

#[tokio::test]
async fn trouble_autodiscover_fails_then_the_manual_test_names_the_expired_certificate() {
    let sim = start("trouble").await;
    let info = sim.info().clone();
    let m = connect(&info).await;
    let dir = tempfile::tempdir().expect("temp dir");
    let (ctx, _rx) = context(dir.path());
    let password = Secret::new(info.source.admin_password.clone());
    let request = EndpointRequest {
        name: "CutoverEndpoint".into(),
        admin_user: info.source.admin_user.clone(),
        email_address: format!("administrator@{}", info.email_domains[0]),
        manual: Some(ManualSettings {
            exchange_server: info.source.host.clone(),
            rpc_proxy_server: info.source.host.clone(),
            authentication: SourceAuth::Ntlm,
            mailbox_permission: SourcePermission::Admin,
        }),
        max_concurrent_migrations: 20,
    };
    let out = create_endpoint(&ctx, &m.exo, request.clone(), &password).await.expect("tests ran");
    assert!(out.endpoint.is_none() && out.via.is_none(), "{out:?}");
    let auto = out.autodiscover_test.as_ref().expect("autodiscover test");
    assert!(!auto.succeeded());
    assert!(auto.message.as_deref().is_some_and(|t| t.contains("Autodiscover")), "{auto:?}");
    let manual = out.manual_test.as_ref().expect("the manual settings were tried");
    assert!(manual.message.as_deref().is_some_and(|t| t.contains("certificate has expired")), "{manual:?}");
    let summary = &out.outcome.summary;
    assert!(summary.starts_with("Not created: the Autodiscover test failed: The Autodiscover service"), "{summary}");
    assert!(summary.contains("the test with the manual settings failed") && summary.contains("expired"), "{summary}");
    assert!(out.outcome.nothing_done());
    // Without manual settings the outcome asks for them rather than trying.
    let auto_only = EndpointRequest { manual: None, ..request };
    let out = create_endpoint(&ctx, &m.exo, auto_only, &password).await.expect("test ran");
    assert!(out.manual_test.is_none() && out.outcome.summary.contains("give the manual settings"), "{out:?}");
    assert!(m.exo.get_migration_endpoints().await.expect("endpoints").items.is_empty(), "nothing created");
    assert!(audited_actions(dir.path()).is_empty(), "tests are reads: no write was recorded");
    assert!(m.auth.sign_out().await.expect("sign out"));
    sim.shutdown().await;
}

#[tokio::test]
async fn without_autodiscover_the_manual_settings_create_the_endpoint() {
    let path = Path::new(env!("CARGO_MANIFEST_DIR")).join("assets/scenarios/small.json");
    let mut scenario: serde_json::Value =
        serde_json::from_str(&std::fs::read_to_string(path).expect("small scenario")).expect("json");
    scenario["name"] = "small-no-autodiscover".into();
    scenario["source"]["autodiscover"] = false.into();
    let dir = tempfile::tempdir().expect("temp dir");
    let file = dir.path().join("no-autodiscover.json");
    std::fs::write(&file, scenario.to_string()).expect("scenario file");
    let sim = start(file.to_str().expect("utf-8 path")).await;
    let info = sim.info().clone();
    let m = connect(&info).await;
    let (ctx, _rx) = context(dir.path());
    let password = Secret::new(info.source.admin_password.clone());
    let request = EndpointRequest {
        name: "CutoverEndpoint".into(),
        admin_user: info.source.admin_user.clone(),
        email_address: format!("administrator@{}", info.email_domains[0]),
        manual: Some(ManualSettings {
            exchange_server: info.source.host.clone(),
            rpc_proxy_server: info.source.host.clone(),
            authentication: SourceAuth::Basic,
            mailbox_permission: SourcePermission::FullAccess,
        }),
        max_concurrent_migrations: 20,
    };
    let out = create_endpoint(&ctx, &m.exo, request.clone(), &password).await.expect("endpoint");
    assert_eq!(out.via, Some(EndpointVia::Manual), "{:?}", out.outcome);
    assert!(out.autodiscover_test.as_ref().is_some_and(|t| !t.succeeded()));
    assert!(out.outcome.summary.contains("with the manual settings (Autodiscover failed)"), "{}", out.outcome.summary);
    let endpoints = m.exo.get_migration_endpoints().await.expect("endpoints").items;
    assert_eq!(endpoints.len(), 1);
    assert_eq!(endpoints[0].max_concurrent_migrations, Some(20));
    // Found again by its name, or by its RPC proxy under another name: not created twice.
    let renamed = EndpointRequest { name: "Another".into(), ..request };
    let again = create_endpoint(&ctx, &m.exo, renamed, &password).await.expect("kept");
    assert_eq!(again.via, Some(EndpointVia::Existing));
    assert!(again.outcome.nothing_done());
    assert_eq!(audited_actions(dir.path()), vec!["new-migration-endpoint".to_owned()]);
    let audit = std::fs::read_to_string(dir.path().join("audit.jsonl")).expect("audit text");
    assert!(!audit.contains(&info.source.admin_password));
    assert!(m.auth.sign_out().await.expect("sign out"));
    sim.shutdown().await;
}
