//! The simulator's Microsoft 365 side over real HTTP on 127.0.0.1, with plain reqwest: identity platform,
//! Graph v1.0 and Exchange Online InvokeCommand wire shapes as Microsoft documents them.

use cutover::sim::{SimOptions, Simulator};
use serde_json::{Value, json};
use std::time::{Duration, Instant};

async fn start(scenario: &str, f: impl FnOnce(&mut SimOptions)) -> Simulator {
    let mut o =
        SimOptions { scenario: scenario.into(), device_code_interval: Duration::from_secs(1), ..Default::default() };
    f(&mut o);
    Simulator::start(o).await.expect("simulator starts")
}

fn http() -> reqwest::Client {
    reqwest::Client::builder().timeout(Duration::from_secs(10)).build().unwrap()
}

async fn form(url: &str, params: &[(&str, &str)]) -> (u16, Value) {
    let r = http().post(url).form(params).send().await.unwrap();
    let status = r.status().as_u16();
    (status, r.json().await.unwrap())
}

fn assert_aad_error(body: &Value, error: &str, code: u64) {
    assert_eq!(body["error"], error, "{body}");
    assert!(body["error_description"].as_str().unwrap().starts_with(&format!("AADSTS{code}:")), "{body}");
    assert_eq!(body["error_codes"], json!([code]), "{body}");
    for f in ["timestamp", "trace_id", "correlation_id"] {
        assert!(body[f].is_string(), "{f} missing in {body}");
    }
}

#[tokio::test]
async fn device_code_flow_goes_pending_slow_down_approved_then_refresh() {
    let sim = start("small", |_| {}).await;
    let i = sim.info().clone();
    let base = format!("{}/{}/oauth2/v2.0", i.login_url, i.tenant_id);
    let (s, dc) = form(
        &format!("{base}/devicecode"),
        &[("client_id", &i.client_id), ("scope", "https://graph.microsoft.com/.default offline_access openid")],
    )
    .await;
    assert_eq!(s, 200);
    for f in ["device_code", "user_code", "verification_uri", "message"] {
        assert!(dc[f].is_string(), "{f}: {dc}");
    }
    assert_eq!(dc["expires_in"], 900);
    assert_eq!(dc["interval"], 1);
    assert!(dc.get("verification_uri_complete").is_none());
    let code = dc["device_code"].as_str().unwrap();
    let grant = "urn:ietf:params:oauth:grant-type:device_code";
    let poll = [("grant_type", grant), ("client_id", &i.client_id), ("device_code", code)];

    let (s, b) = form(&format!("{base}/token"), &poll).await;
    assert_eq!(s, 400);
    assert_aad_error(&b, "authorization_pending", 70016);
    let (s, b) = form(&format!("{base}/token"), &poll).await;
    assert_eq!(s, 400);
    assert_eq!(b["error"], "slow_down");

    let r = http()
        .post(format!("{}/devicecode/approve", i.control_url))
        .json(&json!({"user_code": dc["user_code"]}))
        .send()
        .await
        .unwrap();
    assert_eq!(r.status(), 200);
    tokio::time::sleep(Duration::from_millis(1100)).await;
    let (s, tok) = form(&format!("{base}/token"), &poll).await;
    assert_eq!(s, 200, "{tok}");
    assert_eq!(tok["token_type"], "Bearer");
    assert!(tok["expires_in"].as_u64().unwrap() > 0);
    assert!(tok["access_token"].as_str().unwrap().split('.').count() == 3);
    assert!(tok["refresh_token"].is_string());
    assert!(tok["id_token"].is_string());
    assert!(tok["scope"].as_str().unwrap().contains("User.ReadWrite.All"));

    // A device code is redeemed once.
    let (s, b) = form(&format!("{base}/token"), &poll).await;
    assert_eq!(s, 400);
    assert_eq!(b["error"], "invalid_grant");

    // The refresh token is good for the other resource too.
    let (s, r2) = form(
        &format!("{base}/token"),
        &[
            ("grant_type", "refresh_token"),
            ("client_id", &i.client_id),
            ("refresh_token", tok["refresh_token"].as_str().unwrap()),
            ("scope", "https://outlook.office365.com/.default offline_access"),
        ],
    )
    .await;
    assert_eq!(s, 200, "{r2}");
    assert!(r2["scope"].as_str().unwrap().starts_with("https://outlook.office365.com/"));
    assert_ne!(r2["access_token"], tok["access_token"]);

    // Revoked sessions: the refresh token no longer works.
    http().post(format!("{}/tokens/revoke", i.control_url)).send().await.unwrap();
    let (s, b) = form(
        &format!("{base}/token"),
        &[
            ("grant_type", "refresh_token"),
            ("client_id", &i.client_id),
            ("refresh_token", r2["refresh_token"].as_str().unwrap()),
        ],
    )
    .await;
    assert_eq!(s, 400);
    assert_aad_error(&b, "invalid_grant", 50173);
    sim.shutdown().await;
}

#[tokio::test]
async fn device_code_declined_expired_and_unknown() {
    let sim = start("small", |o| o.device_code_lifetime = Duration::from_secs(2)).await;
    let i = sim.info().clone();
    let base = format!("{}/{}/oauth2/v2.0", i.login_url, i.tenant_domain);
    let grant = "urn:ietf:params:oauth:grant-type:device_code";
    let new_code = || async {
        let (_, dc) = form(&format!("{base}/devicecode"), &[("client_id", &i.client_id), ("scope", "User.Read")]).await;
        dc["device_code"].as_str().unwrap().to_string()
    };
    let declined = new_code().await;
    http().post(format!("{}/devicecode/decline", i.control_url)).send().await.unwrap();
    let (s, b) = form(
        &format!("{base}/token"),
        &[("grant_type", grant), ("client_id", &i.client_id), ("device_code", &declined)],
    )
    .await;
    assert_eq!(s, 400);
    assert_eq!(b["error"], "authorization_declined");

    let (s, b) =
        form(&format!("{base}/token"), &[("grant_type", grant), ("client_id", &i.client_id), ("device_code", "nope")])
            .await;
    assert_eq!(s, 400);
    assert_eq!(b["error"], "bad_verification_code");

    let expiring = new_code().await;
    tokio::time::sleep(Duration::from_millis(2100)).await;
    let (s, b) = form(
        &format!("{base}/token"),
        &[("grant_type", grant), ("client_id", &i.client_id), ("device_code", &expiring)],
    )
    .await;
    assert_eq!(s, 400);
    assert_aad_error(&b, "expired_token", 70020);

    let (s, b) = form(
        &format!("{}/not-a-tenant.example/oauth2/v2.0/devicecode", i.login_url),
        &[("client_id", &i.client_id), ("scope", "User.Read")],
    )
    .await;
    assert_eq!(s, 400);
    assert_aad_error(&b, "invalid_tenant", 90002);
    let (s, b) = form(
        &format!("{base}/devicecode"),
        &[("client_id", "00000000-0000-0000-0000-000000000001"), ("scope", "User.Read")],
    )
    .await;
    assert_eq!(s, 400);
    assert_aad_error(&b, "unauthorized_client", 700016);
    let (s, b) = form(&format!("{base}/devicecode"), &[("scope", "User.Read")]).await;
    assert_eq!(s, 400);
    assert_aad_error(&b, "invalid_request", 900144);
    sim.shutdown().await;
}

#[tokio::test]
async fn client_credentials_and_auto_approve() {
    let sim = start("small", |o| o.auto_approve = true).await;
    let i = sim.info().clone();
    let url = format!("{}/{}/oauth2/v2.0/token", i.login_url, i.tenant_id);
    let cc = |secret: &str, scope: &str| {
        let (url, app, secret, scope) = (url.clone(), i.app_id.clone(), secret.to_string(), scope.to_string());
        async move {
            form(
                &url,
                &[
                    ("grant_type", "client_credentials"),
                    ("client_id", &app),
                    ("client_secret", &secret),
                    ("scope", &scope),
                ],
            )
            .await
        }
    };
    let (s, t) = cc(&i.app_secret, "https://outlook.office365.com/.default").await;
    assert_eq!(s, 200, "{t}");
    assert_eq!(t["token_type"], "Bearer");
    assert!(t["ext_expires_in"].is_u64());
    assert!(t.get("refresh_token").is_none());
    let (s, b) = cc("wrong", "https://graph.microsoft.com/.default").await;
    assert_eq!(s, 401);
    assert_aad_error(&b, "invalid_client", 7000215);
    let (s, b) = cc(&i.app_secret, "User.Read").await;
    assert_eq!(s, 400);
    assert_aad_error(&b, "invalid_scope", 1002012);

    let (_, dc) = form(
        &format!("{}/{}/oauth2/v2.0/devicecode", i.login_url, i.tenant_id),
        &[("client_id", &i.client_id), ("scope", "https://graph.microsoft.com/.default")],
    )
    .await;
    let started = Instant::now();
    let (s, t) = form(
        &url,
        &[
            ("grant_type", "urn:ietf:params:oauth:grant-type:device_code"),
            ("client_id", &i.client_id),
            ("device_code", dc["device_code"].as_str().unwrap()),
        ],
    )
    .await;
    assert_eq!(s, 200, "{t}");
    assert!(started.elapsed() < Duration::from_secs(5));
    sim.shutdown().await;
}
