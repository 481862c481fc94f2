//! The Microsoft 365 clients against the embedded simulator, over real HTTP on 127.0.0.1, through its public
//! interface only (its URLs and its control API). Sign-ins are kept in the real OS keyring (run through
//! scripts/with-keyring.sh).

use cutover::m365::error::AuthError;
use cutover::m365::{Cloud, ConnectionSettings, HttpClient, M365, M365Error, Poll, Resource, RetryPolicy};
use cutover::secrets::{Secret, Secrets};
use cutover::sim::{SimInfo, SimOptions, Simulator};
use std::time::{Duration, Instant};

async fn start(f: impl FnOnce(&mut SimOptions)) -> Simulator {
    let mut o =
        SimOptions { scenario: "small".into(), device_code_interval: Duration::from_secs(1), ..Default::default() };
    f(&mut o);
    Simulator::start(o).await.expect("simulator starts")
}

fn project() -> String {
    format!("it-sim-{}-{}", std::process::id(), fastrand::u64(..))
}

fn policy() -> RetryPolicy {
    RetryPolicy {
        max_attempts: 5,
        max_total_wait: Duration::from_secs(30),
        base_delay: Duration::from_millis(50),
        max_delay: Duration::from_millis(500),
        timeout: Duration::from_secs(10),
        connect_timeout: Duration::from_secs(5),
        ..RetryPolicy::default()
    }
}

fn connect(info: &SimInfo, project: &str, tenant: &str, client_id: &str) -> M365 {
    let settings = ConnectionSettings {
        cloud: Cloud::custom(&info.login_url, &info.graph_url, &info.exo_url).expect("loopback cloud"),
        client_id: Some(client_id.to_owned()),
        ca_cert: None,
    };
    let http = HttpClient::new(policy(), None).expect("client");
    M365::connect(project, tenant, &settings, Secrets::open().expect("OS keyring"), http).expect("connect")
}

async fn control(info: &SimInfo, path: &str, body: serde_json::Value) -> u16 {
    reqwest::Client::new()
        .post(format!("{}{path}", info.control_url))
        .json(&body)
        .send()
        .await
        .expect("control call")
        .status()
        .as_u16()
}

#[tokio::test]
async fn device_code_sign_in_end_to_end_with_slow_down_then_refresh_then_revocation() {
    let sim = start(|_| {}).await;
    let info = sim.info().clone();
    let project = project();
    let m = connect(&info, &project, &info.tenant_id, &info.client_id);
    let mut prompt = m.auth.start_device_code().await.expect("device code");
    assert!(!prompt.user_code.is_empty() && prompt.verification_uri.starts_with("http"));
    assert_eq!(prompt.interval, Duration::from_secs(1));
    // Too eager a client is told to slow down; the interval grows by 5 s.
    assert_eq!(m.auth.poll_device_code(&mut prompt).await.expect("poll"), Poll::Pending);
    assert_eq!(m.auth.poll_device_code(&mut prompt).await.expect("poll"), Poll::SlowDown);
    assert_eq!(prompt.interval, Duration::from_secs(6));
    assert_eq!(control(&info, "/devicecode/approve", serde_json::json!({ "user_code": prompt.user_code })).await, 200);
    let started = Instant::now();
    let cancel = tokio_util::sync::CancellationToken::new();
    let signed_in =
        tokio::time::timeout(Duration::from_secs(30), m.auth.wait_for_device_code(&mut prompt, &cancel, |_, _| {}))
            .await
            .expect("within 30 s")
            .expect("signed in");
    assert!(started.elapsed() >= Duration::from_secs(6), "waited the grown interval: {:?}", started.elapsed());
    assert_eq!(signed_in.kind, cutover::m365::SignInKind::DeviceCode);
    // One token per resource: Exchange's comes from the refresh token kept in the OS keyring.
    let graph = m.auth.access_token(Resource::Graph).await.expect("graph token");
    let exo = m.auth.access_token(Resource::ExchangeOnline).await.expect("exo token");
    assert_ne!(graph.expose(), exo.expose());
    // Another process (a fresh client) signs in silently from the keyring.
    let again = connect(&info, &project, &info.tenant_id, &info.client_id);
    again.auth.access_token(Resource::Graph).await.expect("silent sign-in from the stored refresh token");
    // Once the tokens are revoked, the refresh fails with what to do.
    assert_eq!(control(&info, "/tokens/revoke", serde_json::json!({})).await, 200);
    let fresh = connect(&info, &project, &info.tenant_id, &info.client_id);
    let err = fresh.auth.access_token(Resource::Graph).await.expect_err("revoked");
    assert!(matches!(err, M365Error::Auth(AuthError::SignInExpired { .. })), "{err}");
    assert!(err.to_string().contains("cutover auth login"), "{err}");
    assert!(m.auth.sign_out().await.expect("sign out"));
    sim.shutdown().await;
}

#[tokio::test]
async fn mail_send_is_consented_to_only_when_asked_for_and_send_mail_needs_it() {
    let sim = start(|o| o.auto_approve = true).await;
    let info = sim.info().clone();
    let project = project();
    let m = connect(&info, &project, &info.tenant_id, &info.client_id);
    let cancel = tokio_util::sync::CancellationToken::new();
    let mut prompt = m.auth.start_device_code().await.expect("device code");
    m.auth.wait_for_device_code(&mut prompt, &cancel, |_, _| {}).await.expect("signed in");
    let from = format!("admin@{}", info.tenant_domain);
    // The sign-in's own token does not carry Mail.Send: Graph refuses, naming the permission to grant.
    let err = m.graph.send_mail(&from, "someone@partner.example", "test", "text").await.expect_err("no Mail.Send");
    assert_eq!(err.api().map(|e| e.status), Some(403), "{err}");
    assert!(err.to_string().contains("Mail.Send"), "{err}");
    // Asked for by name, the identity platform says it was never consented to (AADSTS65001).
    let err = m.auth.access_token(Resource::GraphMail).await.expect_err("not consented yet");
    assert!(matches!(err, M365Error::Auth(AuthError::ConsentNeeded { permission: "Mail.Send.Shared", .. })), "{err}");
    // A device code for it is the consent; then the mail goes, and a fresh client needs no code again.
    let mut prompt = m.auth.start_device_code_for(Resource::GraphMail).await.expect("consent code");
    m.auth.wait_for_device_code(&mut prompt, &cancel, |_, _| {}).await.expect("consented");
    m.mail.send_mail(&from, "someone@partner.example", "test", "text").await.expect("sent as the signed-in admin");
    // Sending as a migrated mailbox takes Send As on it: tests/headless.rs sees it given and taken back.
    let again = connect(&info, &project, &info.tenant_id, &info.client_id);
    again.auth.access_token(Resource::GraphMail).await.expect("silent, from the stored refresh token");
    assert!(m.auth.sign_out().await.expect("sign out"));
    sim.shutdown().await;
}

#[tokio::test]
async fn a_declined_device_code_stops_the_wait() {
    let sim = start(|_| {}).await;
    let info = sim.info().clone();
    let m = connect(&info, &project(), &info.tenant_domain, &info.client_id);
    let mut prompt = m.auth.start_device_code().await.expect("device code");
    assert_eq!(control(&info, "/devicecode/decline", serde_json::json!({ "user_code": prompt.user_code })).await, 200);
    let cancel = tokio_util::sync::CancellationToken::new();
    let err =
        tokio::time::timeout(Duration::from_secs(20), m.auth.wait_for_device_code(&mut prompt, &cancel, |_, _| {}))
            .await
            .expect("within 20 s")
            .expect_err("declined");
    assert!(matches!(err, M365Error::Auth(AuthError::Declined)), "{err}");
    sim.shutdown().await;
}

#[tokio::test]
async fn client_credentials_renew_short_lived_tokens_and_name_bad_input() {
    let sim = start(|o| o.token_lifetime = Duration::from_secs(2)).await;
    let info = sim.info().clone();
    let project = project();
    let m = connect(&info, &project, &info.tenant_id, &info.app_id);
    m.auth.sign_in_with_client_secret(Secret::new(info.app_secret.clone())).await.expect("client credentials");
    let first = m.auth.access_token(Resource::Graph).await.expect("token");
    // A 2 s token is inside the renewal margin: every call gets a new one rather than a token about to die.
    tokio::time::sleep(Duration::from_millis(1100)).await;
    let second = m.auth.access_token(Resource::Graph).await.expect("renewed");
    assert_ne!(first.expose(), second.expose());
    m.auth.access_token(Resource::ExchangeOnline).await.expect("exchange token with the same secret");
    assert!(m.auth.sign_out().await.expect("sign out"));

    let bad = connect(&info, &project, &info.tenant_id, &info.app_id);
    let err = bad.auth.sign_in_with_client_secret(Secret::new("not-the-secret")).await.expect_err("wrong secret");
    assert!(err.to_string().contains("client secret"), "{err}");
    assert!(!err.to_string().contains("not-the-secret"));
    assert_eq!(bad.auth.stored_kind().await.expect("kind"), None, "a refused secret is not kept");

    let wrong = connect(&info, &project, "nosuchtenant.onmicrosoft.com", &info.app_id);
    let err = wrong.auth.sign_in_with_client_secret(Secret::new(info.app_secret.clone())).await.expect_err("tenant");
    assert!(err.api().is_some_and(|e| e.has_aadsts(90002)), "{err}");
    assert!(err.to_string().contains("Check the tenant id"), "{err}");
    sim.shutdown().await;
}

#[tokio::test]
async fn a_throttled_token_endpoint_is_waited_for() {
    let sim = start(|_| {}).await;
    let info = sim.info().clone();
    let rule = serde_json::json!({
        "service": "login", "path_contains": "/token", "kind": { "type": "throttle", "retry_after": 2 }, "times": 1
    });
    let status = control(&info, "/faults", rule).await;
    assert!((200..300).contains(&status), "fault rule accepted: {status}");
    let m = connect(&info, &project(), &info.tenant_id, &info.app_id);
    let started = Instant::now();
    m.auth.sign_in_with_client_secret(Secret::new(info.app_secret.clone())).await.expect("after the throttle");
    assert!(started.elapsed() >= Duration::from_secs(2), "Retry-After obeyed: {:?}", started.elapsed());
    m.auth.sign_out().await.expect("sign out");
    sim.shutdown().await;
}

/// `cutover auth login` as the engineer runs it, against the simulator with the admin approving at once.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn the_auth_command_signs_in_with_a_device_code() {
    let sim = start(|o| o.auto_approve = true).await;
    let info = sim.info().clone();
    let home = tempfile::tempdir().expect("temp home");
    let name = project();
    {
        use cutover::plan::kickoff::Field;
        use cutover::project::{DataHome, Project, ProjectName};
        let mut p = Project::create(&DataHome::at(home.path()), &ProjectName::parse(&name).expect("name"), false)
            .expect("create");
        let cloud = Cloud::custom(&info.login_url, &info.graph_url, &info.exo_url).expect("cloud");
        let tenant = info.tenant_domain.clone();
        p.change(None, "test-setup", serde_json::json!({}), |s| {
            s.m365.cloud = cloud;
            Field::Tenant.apply(&mut s.kickoff, &tenant)
        })
        .expect("io")
        .expect("valid");
    }
    let run = |args: Vec<String>| {
        let home = home.path().to_owned();
        tokio::task::spawn_blocking(move || {
            std::process::Command::new(env!("CARGO_BIN_EXE_cutover"))
                .args(&args)
                .env("CUTOVER_HOME", &home)
                .stdin(std::process::Stdio::null())
                .output()
                .expect("run cutover")
        })
    };
    let text = |o: &std::process::Output| {
        format!("{}{}", String::from_utf8_lossy(&o.stdout), String::from_utf8_lossy(&o.stderr))
    };
    let login = run(vec![
        "auth".into(),
        "login".into(),
        "--json".into(),
        "--project".into(),
        name.clone(),
        "--client-id".into(),
        info.client_id.clone(),
    ])
    .await
    .expect("join");
    assert!(login.status.success(), "{}", text(&login));
    assert!(String::from_utf8_lossy(&login.stderr).contains("enter the code"), "the prompt is shown: {}", text(&login));
    let doc: serde_json::Value = serde_json::from_slice(&login.stdout).expect("one JSON document on stdout");
    assert_eq!(doc["kind"], "device-code");
    assert_eq!(doc["services"][0]["ok"], true, "{doc}");
    assert_eq!(doc["services"][1]["ok"], true, "{doc}");
    let status = run(vec!["auth".into(), "status".into(), "--json".into(), "--project".into(), name.clone()])
        .await
        .expect("join");
    assert!(status.status.success(), "{}", text(&status));
    let doc: serde_json::Value = serde_json::from_slice(&status.stdout).expect("one JSON document on stdout");
    assert_eq!(doc["kind"], "device-code");
    assert!(doc["account"].as_str().is_some_and(|a| a.contains('@')), "the signed-in user is named: {doc}");
    let logout = run(vec!["auth".into(), "logout".into(), "--project".into(), name.clone()]).await.expect("join");
    assert!(logout.status.success(), "{}", text(&logout));
    sim.shutdown().await;
}

/// Signs in as the simulator's app and gives the clients.
async fn app(info: &SimInfo) -> M365 {
    let m = connect(info, &project(), &info.tenant_id, &info.app_id);
    m.auth.sign_in_with_client_secret(Secret::new(info.app_secret.clone())).await.expect("client credentials");
    m
}

async fn fault(info: &SimInfo, rule: serde_json::Value) {
    let status = control(info, "/faults", rule).await;
    assert!((200..300).contains(&status), "fault rule accepted: {status}");
}

/// How often each fault rule fired, in the order the rules were added (the control API's `GET /faults`).
async fn served(info: &SimInfo) -> Vec<u64> {
    let rules: serde_json::Value = reqwest::Client::new()
        .get(format!("{}/faults", info.control_url))
        .send()
        .await
        .expect("control call")
        .json()
        .await
        .expect("fault list");
    rules["faults"]
        .as_array()
        .expect("a list of rules")
        .iter()
        .map(|r| r["served"].as_u64().expect("served count"))
        .collect()
}

#[tokio::test]
async fn graph_prepares_the_tenant_through_the_simulator() {
    use cutover::m365::graph::{DnsRecordData, NewUser};
    let sim = start(|_| {}).await;
    let info = sim.info().clone();
    let m = app(&info).await;

    let org = m.graph.organization().await.expect("organization");
    assert!(!org.directory_sync_on());
    let domain = info.email_domains[0].clone();
    let added = m.graph.add_domain(&domain).await.expect("add domain");
    assert!(!added.is_verified);
    assert_eq!(m.graph.add_domain(&domain).await.expect("added twice").id, added.id, "not added twice");
    let records = m.graph.verification_records(&domain).await.expect("verification records");
    let txt = records
        .iter()
        .find_map(|r| match &r.data {
            DnsRecordData::Txt { text } if text.starts_with("MS=ms") => Some(text.clone()),
            _ => None,
        })
        .expect("an MS= TXT record");
    let err = m.graph.verify_domain(&domain).await.expect_err("record not published yet");
    assert!(err.to_string().contains("TXT record"), "{err}");
    let published = reqwest::Client::new()
        .post(format!("{}/dns/records", info.control_url))
        .json(&serde_json::json!({ "name": domain, "type": "TXT", "ttl": 300, "values": [txt] }))
        .send()
        .await
        .expect("registrar");
    assert!(published.status().is_success());
    assert!(m.graph.verify_domain(&domain).await.expect("verified").is_verified);
    let service = m.graph.service_configuration_records(&domain).await.expect("service records");
    assert!(service.iter().any(|r| matches!(&r.data, DnsRecordData::Mx { mail_exchange, .. } if mail_exchange.ends_with(".mail.protection.outlook.com"))));
    assert!(service.iter().any(
        |r| matches!(&r.data, DnsRecordData::Cname { canonical_name } if canonical_name == "autodiscover.outlook.com")
    ));

    let skus = m.graph.subscribed_skus().await.expect("skus");
    let sku = skus.iter().find(|s| s.available() > 0).expect("a SKU with free units");
    let before = sku.available();
    let upn = format!("pilot.user@{domain}");
    let user = m
        .graph
        .create_user(&NewUser {
            user_principal_name: upn.clone(),
            display_name: "Pilot User".into(),
            mail_nickname: "pilot.user".into(),
            usage_location: None,
            password: Secret::new("Generated-Pa55word!"),
            force_change_password: true,
        })
        .await
        .expect("create user");
    assert_eq!(m.graph.user_by_upn(&upn).await.expect("lookup").map(|u| u.id), Some(user.id.clone()));
    m.graph.set_usage_location(&user.id, "US").await.expect("usage location");
    m.graph.assign_license(&user.id, &sku.sku_id).await.expect("licence");
    let after =
        m.graph.subscribed_skus().await.expect("skus").into_iter().find(|s| s.sku_id == sku.sku_id).expect("sku");
    assert_eq!(after.available(), before - 1);
    let holders = m.graph.users_by_proxy_address(&upn).await.expect("by proxy address");
    assert!(holders.iter().all(|u| u.id == user.id));
    let health = m.graph.health_overviews().await.expect("health");
    assert!(health.iter().any(|h| h.service == "Exchange Online"));
    m.auth.sign_out().await.expect("sign out");
    sim.shutdown().await;
}

#[tokio::test]
async fn users_are_found_by_a_proxy_address_and_only_by_their_own() {
    let sim = start(|_| {}).await;
    let info = sim.info().clone();
    let m = app(&info).await;
    // Every simulated tenant has its administrator, with SMTP:admin@<tenant domain> among its proxy addresses.
    let address = format!("admin@{}", info.tenant_domain);
    let found = m.graph.users_by_proxy_address(&address).await.expect("by proxy address");
    assert_eq!(found.len(), 1, "{found:?}");
    assert!(found[0].user_principal_name.eq_ignore_ascii_case(&address), "{found:?}");
    let prefixed = m.graph.users_by_proxy_address(&format!("SMTP:{address}")).await.expect("with its prefix");
    assert_eq!(prefixed.iter().map(|u| &u.id).collect::<Vec<_>>(), vec![&found[0].id]);
    let unknown = format!("nobody.{}@{}", fastrand::u32(..), info.tenant_domain);
    assert!(m.graph.users_by_proxy_address(&unknown).await.expect("unknown address").is_empty());
    m.auth.sign_out().await.expect("sign out");
    sim.shutdown().await;
}

#[tokio::test]
async fn graph_faults_from_the_simulator_are_ridden_out() {
    let sim = start(|_| {}).await;
    let info = sim.info().clone();
    let m = app(&info).await;
    fault(&info, serde_json::json!({"service": "graph", "path_contains": "/subscribedSkus", "kind": {"type": "throttle", "retry_after": 2}, "times": 1})).await;
    let started = Instant::now();
    m.graph.subscribed_skus().await.expect("after the throttle");
    assert!(started.elapsed() >= Duration::from_secs(2), "Retry-After obeyed: {:?}", started.elapsed());
    fault(&info, serde_json::json!({"service": "graph", "path_contains": "/domains", "kind": {"type": "unavailable"}, "times": 1})).await;
    m.graph.domains().await.expect("503 then success");
    fault(&info, serde_json::json!({"service": "graph", "path_contains": "/healthOverviews", "kind": {"type": "drop"}, "times": 1})).await;
    m.graph.health_overviews().await.expect("a dropped connection then success");
    fault(&info, serde_json::json!({"service": "graph", "path_contains": "/organization", "kind": {"type": "expired_token"}, "times": 1})).await;
    m.graph.organization().await.expect("a refused token is replaced once");
    // Each fault did fire, once: the calls above rode it out rather than missing it.
    assert_eq!(served(&info).await, vec![1, 1, 1, 1]);
    // Tokens expired by the service are replaced on the 401, once.
    assert_eq!(control(&info, "/tokens/expire", serde_json::json!({})).await, 200);
    m.graph.organization().await.expect("after the service expired every token");
    m.auth.sign_out().await.expect("sign out");
    sim.shutdown().await;
}

/// Adds the primary email domain to the tenant and verifies it through the simulated registrar, as stage 4 does:
/// mailboxes of an unverified domain fail at provisioning.
async fn verify_primary_domain(m: &M365, info: &SimInfo) {
    use cutover::m365::graph::DnsRecordData;
    let domain = info.email_domains[0].clone();
    m.graph.add_domain(&domain).await.expect("add domain");
    let txt = m
        .graph
        .verification_records(&domain)
        .await
        .expect("records")
        .into_iter()
        .find_map(|r| match r.data {
            DnsRecordData::Txt { text } => Some(text),
            _ => None,
        })
        .expect("TXT");
    let published = reqwest::Client::new()
        .post(format!("{}/dns/records", info.control_url))
        .json(&serde_json::json!({ "name": domain, "type": "TXT", "ttl": 300, "values": [txt] }))
        .send()
        .await
        .expect("registrar");
    assert!(published.status().is_success());
    assert!(m.graph.verify_domain(&domain).await.expect("verify").is_verified);
}

fn outlook_anywhere(info: &SimInfo, password: &str) -> cutover::m365::exo::OutlookAnywhere {
    cutover::m365::exo::OutlookAnywhere {
        exchange_server: info.source.host.clone(),
        rpc_proxy_server: info.source.host.clone(),
        authentication: "Basic".into(),
        email_address: format!("administrator@{}", info.email_domains[0]),
        user_name: info.source.admin_user.clone(),
        password: Secret::new(password),
        mailbox_permission: Some("FullAccess".into()),
    }
}

async fn advance(info: &SimInfo, seconds: f64) {
    assert_eq!(control(info, "/clock/advance", serde_json::json!({ "seconds": seconds })).await, 200);
}

#[tokio::test]
async fn exchange_online_runs_a_cutover_batch_through_the_simulator() {
    use cutover::m365::exo::{BatchAction, BatchStatus, UserStatus};
    let sim = start(|_| {}).await;
    let info = sim.info().clone();
    let m = app(&info).await;
    verify_primary_domain(&m, &info).await;
    assert!(!m.exo.get_accepted_domains().await.expect("accepted domains").items.is_empty());

    let bad = m.exo.test_migration_server(&outlook_anywhere(&info, "wrong")).await.expect("a failed test is an answer");
    assert!(!bad.items[0].succeeded());
    assert!(bad.items[0].message.as_deref().is_some_and(|t| t.contains("401")), "{:?}", bad.items[0]);
    let source = outlook_anywhere(&info, &info.source.admin_password);
    let ok = m.exo.test_migration_server(&source).await.expect("test");
    assert!(ok.items[0].succeeded(), "{:?}", ok.items[0]);

    m.exo.new_migration_endpoint("CutoverEndpoint", &source, Some(20)).await.expect("endpoint");
    m.exo.new_migration_endpoint("CutoverEndpoint", &source, Some(20)).await.expect("endpoint again is not duplicated");
    assert_eq!(m.exo.get_migration_endpoints().await.expect("endpoints").items.len(), 1);

    let batch = m.exo.new_cutover_batch("CutoverBatch", "CutoverEndpoint", &[], true).await.expect("batch");
    assert_eq!(batch.items[0].identity, "CutoverBatch");
    let second =
        m.exo.new_cutover_batch("Another", "CutoverEndpoint", &[], false).await.expect_err("one batch per tenant");
    assert!(second.api().is_some_and(|e| !e.exceptions.is_empty()), "{second}");

    // Bounded: at most 48 simulated hours, an hour at a time, until a mailbox has finished its initial sync.
    let mut synced = None;
    let mut last = String::new();
    for _ in 0..48 {
        advance(&info, 3600.0).await;
        let users = m.exo.get_migration_users(Some("CutoverBatch")).await.expect("migration users");
        assert!(users.items.iter().all(|u| !matches!(u.status, UserStatus::Unknown(_))), "{:?}", users.items);
        if let Some(u) = users.items.iter().find(|u| u.status.is_synced()) {
            synced = Some((u.clone(), users.items.len()));
            break;
        }
        last = users
            .items
            .iter()
            .map(|u| format!("{}:{}:{}", u.identity, u.status, u.error.as_deref().unwrap_or("")))
            .collect::<Vec<_>>()
            .join(", ");
        tokio::time::sleep(Duration::from_millis(50)).await;
    }
    let Some((synced, count)) = synced else { panic!("no mailbox synced within 48 simulated hours: {last}") };
    let batch = m.exo.get_migration_batch("CutoverBatch").await.expect("batch").expect("exists");
    assert!(!matches!(batch.status, BatchStatus::Unknown(_) | BatchStatus::Created), "{:?}", batch.status);
    assert_eq!(count as u64, batch.total_count);
    let stats = m.exo.get_migration_user_statistics(&synced.identity).await.expect("stats").expect("exists");
    assert!(stats.bytes_transferred.and_then(|b| b.bytes()).is_some_and(|b| b > 0), "{stats:?}");
    assert!(stats.synced_items > 0);
    assert!(!m.exo.get_mailboxes().await.expect("mailboxes").items.is_empty());
    m.exo.set_max_concurrent_migrations("CutoverEndpoint", 50).await.expect("endpoint concurrency");
    let endpoint = m.exo.get_migration_endpoints().await.expect("endpoints").items.remove(0);
    assert_eq!(endpoint.max_concurrent_migrations, Some(50));
    // Bounded: until the initial sync of the whole batch is done, then complete it.
    let mut status = BatchStatus::Created;
    for _ in 0..96 {
        advance(&info, 3600.0).await;
        status = m.exo.get_migration_batch("CutoverBatch").await.expect("batch").expect("exists").status;
        if matches!(status, BatchStatus::Synced | BatchStatus::SyncedWithErrors) {
            break;
        }
    }
    assert!(matches!(status, BatchStatus::Synced | BatchStatus::SyncedWithErrors), "{status:?}");
    m.exo.approve_skipped_items("CutoverBatch").await.expect("approve skipped items");
    m.exo.batch_action(BatchAction::Complete, "CutoverBatch").await.expect("complete");
    for _ in 0..48 {
        advance(&info, 3600.0).await;
        status = m.exo.get_migration_batch("CutoverBatch").await.expect("batch").expect("exists").status;
        if matches!(status, BatchStatus::Completed | BatchStatus::CompletedWithErrors) {
            break;
        }
    }
    assert!(matches!(status, BatchStatus::Completed | BatchStatus::CompletedWithErrors), "{status:?}");
    m.exo.batch_action(BatchAction::Remove, "CutoverBatch").await.expect("remove");
    m.auth.sign_out().await.expect("sign out");
    sim.shutdown().await;
}

#[tokio::test]
async fn two_thousand_migration_users_come_in_pages_even_when_a_page_is_cut() {
    let sim = start(|o| o.scenario = "large".into()).await;
    let info = sim.info().clone();
    let m = app(&info).await;
    let source = outlook_anywhere(&info, &info.source.admin_password);
    m.exo.new_migration_endpoint("CutoverEndpoint", &source, Some(100)).await.expect("endpoint");
    m.exo.new_cutover_batch("CutoverBatch", "CutoverEndpoint", &[], false).await.expect("batch");
    fault(&info, serde_json::json!({"service": "exo", "path_contains": "Get-MigrationUser", "kind": {"type": "drop"}, "every": 2, "times": 1})).await;
    let users = m.exo.get_migration_users(None).await.expect("every page");
    assert_eq!(users.items.len(), 2000);
    let mut ids: Vec<&str> = users.items.iter().map(|u| u.identity.as_str()).collect();
    ids.sort_unstable();
    ids.dedup();
    assert_eq!(ids.len(), 2000, "no page twice, none missing");
    assert_eq!(served(&info).await, vec![1], "a page was cut and fetched again");
    m.auth.sign_out().await.expect("sign out");
    sim.shutdown().await;
}

#[tokio::test]
async fn directory_sync_blocks_the_cutover_batch_with_a_typed_error() {
    let sim = start(|o| o.scenario = "trouble".into()).await;
    let info = sim.info().clone();
    let m = app(&info).await;
    assert!(m.graph.organization().await.expect("organization").directory_sync_on());
    let source = outlook_anywhere(&info, &info.source.admin_password);
    // The trouble scenario's source has an expired certificate: Exchange Online's own test says so.
    let test = m.exo.test_migration_server(&source).await.expect("an answer");
    assert!(!test.items[0].succeeded(), "{:?}", test.items[0]);
    assert!(
        test.items[0].message.as_deref().is_some_and(|t| t.to_lowercase().contains("certificate")),
        "{:?}",
        test.items[0]
    );
    let _ = m.exo.new_migration_endpoint("CutoverEndpoint", &source, None).await;
    let err = m.exo.new_cutover_batch("CutoverBatch", "CutoverEndpoint", &[], false).await.expect_err("refused");
    let api = err.api().expect("an Exchange error");
    assert_eq!(api.status, 400);
    assert!(!api.exceptions.is_empty(), "{err}");
    m.auth.sign_out().await.expect("sign out");
    sim.shutdown().await;
}

#[tokio::test]
async fn the_service_clock_follows_the_simulated_one() {
    let sim = start(|_| {}).await;
    let info = sim.info().clone();
    let m = app(&info).await;
    m.exo.get_accepted_domains().await.expect("accepted domains");
    let before = m.exo.clock().offset().expect("the answer's Date was read");
    assert!(before.num_seconds().abs() <= 2, "a fresh simulator runs on this machine's time: {before}");
    advance(&info, 86_400.0).await;
    m.exo.get_accepted_domains().await.expect("accepted domains");
    let after = m.exo.clock().offset().expect("read again");
    assert!((after - before - chrono::Duration::days(1)).num_seconds().abs() <= 2, "a day ahead: {after}");
    let ahead = m.exo.clock().now() - chrono::Utc::now();
    assert!((ahead - chrono::Duration::days(1)).num_seconds().abs() <= 3, "now on the service's clock: {ahead}");
    sim.shutdown().await;
}
