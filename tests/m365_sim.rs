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
    let logout = run(vec!["auth".into(), "logout".into(), "--project".into(), name.clone()]).await.expect("join");
    assert!(logout.status.success(), "{}", text(&logout));
    sim.shutdown().await;
}
