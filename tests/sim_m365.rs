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

async fn app_token(i: &cutover::sim::SimInfo, resource: &str) -> String {
    let (s, t) = form(
        &format!("{}/{}/oauth2/v2.0/token", i.login_url, i.tenant_id),
        &[
            ("grant_type", "client_credentials"),
            ("client_id", &i.app_id),
            ("client_secret", &i.app_secret),
            ("scope", &format!("{resource}/.default")),
        ],
    )
    .await;
    assert_eq!(s, 200, "{t}");
    t["access_token"].as_str().unwrap().to_string()
}

async fn cmdlet(i: &cutover::sim::SimInfo, token: &str, name: &str, params: Value) -> (u16, Value) {
    let r = http()
        .post(format!("{}/adminapi/beta/{}/InvokeCommand", i.exo_url, i.tenant_id))
        .bearer_auth(token)
        .header("X-CmdletName", name)
        .header("X-ResponseFormat", "json")
        .header("Prefer", "odata.maxpagesize=4")
        .json(&json!({"CmdletInput": {"CmdletName": name, "Parameters": params}}))
        .send()
        .await
        .unwrap();
    let s = r.status().as_u16();
    (s, r.json().await.unwrap())
}

async fn advance(i: &cutover::sim::SimInfo, seconds: f64) {
    let r = http()
        .post(format!("{}/clock/advance", i.control_url))
        .json(&json!({"seconds": seconds}))
        .send()
        .await
        .unwrap();
    assert_eq!(r.status(), 200);
}

/// A Graph GET with a bearer token: the status and the JSON body.
async fn graph_get(url: String, token: String) -> (u16, Value) {
    let r = http().get(url).bearer_auth(token).send().await.unwrap();
    let status = r.status().as_u16();
    (status, r.json::<Value>().await.unwrap())
}

#[tokio::test]
async fn graph_shapes_paging_errors_and_throttling() {
    let sim = start("typical", |_| {}).await;
    let i = sim.info().clone();
    let g = app_token(&i, "https://graph.microsoft.com").await;
    let get = |path: String| graph_get(path, g.clone());
    let (s, org) = get(format!("{}/v1.0/organization", i.graph_url)).await;
    assert_eq!(s, 200);
    assert!(org["value"][0]["onPremisesSyncEnabled"].is_null());
    let (s, skus) = get(format!("{}/v1.0/subscribedSkus", i.graph_url)).await;
    assert_eq!(s, 200);
    assert_eq!(skus["value"][0]["prepaidUnits"]["enabled"], 125);
    assert!(skus["value"][0]["consumedUnits"].is_u64());
    let (s, e) = get(format!("{}/v1.0/domains/nope.example", i.graph_url)).await;
    assert_eq!(s, 404);
    assert_eq!(e["error"]["code"], "Request_ResourceNotFound");
    assert!(e["error"]["innerError"]["request-id"].is_string());
    let r = http().get(format!("{}/v1.0/organization", i.graph_url)).send().await.unwrap();
    assert_eq!(r.status(), 401);
    let exo = app_token(&i, "https://outlook.office365.com").await;
    let r = http().get(format!("{}/v1.0/organization", i.graph_url)).bearer_auth(exo).send().await.unwrap();
    assert_eq!(r.status(), 401);

    // Throttling on demand.
    let r = http()
        .post(format!("{}/faults", i.control_url))
        .json(&json!({"service": "graph", "path_contains": "/subscribedSkus", "kind": {"type": "throttle", "retry_after": 17}, "times": 1}))
        .send()
        .await
        .unwrap();
    assert_eq!(r.status(), 201);
    let r = http().get(format!("{}/v1.0/subscribedSkus", i.graph_url)).bearer_auth(&g).send().await.unwrap();
    assert_eq!(r.status(), 429);
    assert_eq!(r.headers()["retry-after"], "17");
    assert_eq!(r.json::<Value>().await.unwrap()["error"]["code"], "TooManyRequests");
    assert_eq!(get(format!("{}/v1.0/subscribedSkus", i.graph_url)).await.0, 200);
    sim.shutdown().await;
}

#[tokio::test]
async fn service_records_and_health_have_graphs_shapes() {
    let sim = start("typical", |_| {}).await;
    let i = sim.info().clone();
    let g = app_token(&i, "https://graph.microsoft.com").await;
    verify_domain(&i, &g).await;
    let d = &i.email_domains[0];
    let get = |path: String| graph_get(path, g.clone());
    let (s, records) = get(format!("{}/v1.0/domains/{d}/serviceConfigurationRecords", i.graph_url)).await;
    assert_eq!(s, 200);
    assert!(records["@odata.context"].as_str().unwrap().ends_with("serviceConfigurationRecords"));
    let records = records["value"].as_array().unwrap();
    let of = |kind: &str| records.iter().find(|r| r["recordType"] == kind).unwrap_or_else(|| panic!("no {kind}"));
    let mx = of("Mx");
    assert_eq!(mx["@odata.type"], "#microsoft.graph.domainDnsMxRecord");
    assert_eq!(mx["mailExchange"], format!("{}.mail.protection.outlook.com", d.replace('.', "-")));
    assert!(mx["preference"].is_u64() && mx["ttl"].is_u64() && mx["isOptional"].is_boolean());
    assert_eq!(mx["supportedService"], "Email");
    assert_eq!(of("Txt")["text"], "v=spf1 include:spf.protection.outlook.com -all");
    let cname = of("Cname");
    assert_eq!(cname["canonicalName"], "autodiscover.outlook.com");
    assert_eq!(cname["label"], format!("autodiscover.{d}"));
    let (s, health) = get(format!("{}/v1.0/admin/serviceAnnouncement/healthOverviews", i.graph_url)).await;
    assert_eq!(s, 200);
    let exchange = health["value"].as_array().unwrap().iter().find(|h| h["id"] == "Exchange").expect("Exchange");
    assert_eq!(exchange["service"], "Exchange Online");
    assert_eq!(exchange["status"], "serviceOperational");
    let (s, e) = get(format!("{}/v1.0/domains/nope.example/serviceConfigurationRecords", i.graph_url)).await;
    assert_eq!(s, 404);
    assert_eq!(e["error"]["code"], "Request_ResourceNotFound");
    sim.shutdown().await;
}

/// Adds and verifies the primary domain through Graph and the registrar, as the wizard's stage 4 does.
async fn verify_domain(i: &cutover::sim::SimInfo, g: &str) {
    let d = &i.email_domains[0];
    let r = http()
        .post(format!("{}/v1.0/domains", i.graph_url))
        .bearer_auth(g)
        .json(&json!({"id": d}))
        .send()
        .await
        .unwrap();
    assert_eq!(r.status(), 201);
    let r = http().post(format!("{}/v1.0/domains/{d}/verify", i.graph_url)).bearer_auth(g).send().await.unwrap();
    assert_eq!(r.status(), 400, "no TXT record yet");
    let recs: Value = http()
        .get(format!("{}/v1.0/domains/{d}/verificationDnsRecords", i.graph_url))
        .bearer_auth(g)
        .send()
        .await
        .unwrap()
        .json()
        .await
        .unwrap();
    let txt = recs["value"].as_array().unwrap().iter().find(|r| r["recordType"] == "Txt").unwrap();
    assert_eq!(txt["@odata.type"], "#microsoft.graph.domainDnsTxtRecord");
    let text = txt["text"].as_str().unwrap();
    assert!(text.starts_with("MS=ms"));
    let r = http()
        .post(format!("{}/dns/records", i.control_url))
        .json(&json!({"name": d, "type": "TXT", "values": ["v=spf1 mx a -all", text]}))
        .send()
        .await
        .unwrap();
    assert_eq!(r.status(), 200);
    let v: Value = http()
        .post(format!("{}/v1.0/domains/{d}/verify", i.graph_url))
        .bearer_auth(g)
        .send()
        .await
        .unwrap()
        .json()
        .await
        .unwrap();
    assert_eq!(v["isVerified"], true);
}

#[tokio::test]
async fn a_ten_mailbox_batch_goes_from_created_to_completed() {
    let sim = start("small", |o| o.speed = 1.0).await;
    let i = sim.info().clone();
    let g = app_token(&i, "https://graph.microsoft.com").await;
    let x = app_token(&i, "https://outlook.office365.com").await;
    verify_domain(&i, &g).await;
    let creds = json!({"UserName": i.source.admin_user, "Password": i.source.admin_password});
    let (s, t) = cmdlet(&i, &x, "Test-MigrationServerAvailability", json!({"ExchangeOutlookAnywhere": true, "Autodiscover": true, "EmailAddress": format!("sarah.jones@{}", i.email_domains[0]), "Credentials": creds})).await;
    assert_eq!(s, 200, "{t}");
    assert_eq!(t["value"][0]["Result"], "Success");
    let (s, _) = cmdlet(&i, &x, "New-MigrationEndpoint", json!({"ExchangeOutlookAnywhere": true, "Name": "Source", "Autodiscover": true, "EmailAddress": format!("sarah.jones@{}", i.email_domains[0]), "Credentials": creds, "MaxConcurrentMigrations": 4})).await;
    assert_eq!(s, 200);
    let (s, b) = cmdlet(&i, &x, "New-MigrationBatch", json!({"Name": "Cutover", "SourceEndpoint": "Source"})).await;
    assert_eq!(s, 200, "{b}");
    assert_eq!(b["value"][0]["Status"], "Created");
    assert_eq!(b["value"][0]["TotalCount"], 10);
    let (s, e) = cmdlet(&i, &x, "New-MigrationBatch", json!({"Name": "Second", "SourceEndpoint": "Source"})).await;
    assert_eq!(s, 400);
    let detail = e["error"]["details"][0]["message"].as_str().unwrap();
    assert_eq!(detail.split('|').count(), 3, "{detail}");
    assert!(detail.contains("MigrationPermanentException"));

    let (_, e) = cmdlet(&i, &x, "Get-MigrationEndpoint", json!({})).await;
    assert_eq!(e["value"][0]["MaxConcurrentMigrations"], 4);
    cmdlet(&i, &x, "Start-MigrationBatch", json!({"Identity": "Cutover"})).await;
    let mut seen = vec!["Created".to_string()];
    let mut user_states = std::collections::BTreeSet::new();
    let mut most_active = 0;
    for _ in 0..200 {
        advance(&i, 600.0).await;
        let (_, b) = cmdlet(&i, &x, "Get-MigrationBatch", json!({})).await;
        let st = b["value"][0]["Status"].as_str().unwrap().to_string();
        if seen.last() != Some(&st) {
            seen.push(st.clone());
        }
        // MaxConcurrentMigrations 4: never more than 4 moves at work at once, by the batch's count and the users'.
        let all = all_users(&i, &x).await;
        let active = all.iter().filter(|u| u["State"] == "Active" && u["Status"] != "Queued").count();
        assert!(active <= 4, "{active} moves active at once: {all:?}");
        assert_eq!(b["value"][0]["ActiveCount"], active, "{b}");
        most_active = most_active.max(active);
        // Paging: 10 users at 4 per page.
        let (_, p1) = cmdlet(&i, &x, "Get-MigrationUser", json!({"ResultSize": "Unlimited"})).await;
        assert_eq!(p1["value"].as_array().unwrap().len(), 4);
        assert!(p1["@odata.nextLink"].is_string());
        for u in p1["value"].as_array().unwrap() {
            user_states.insert(u["Status"].as_str().unwrap().to_string());
        }
        if st == "Synced" {
            break;
        }
    }
    assert_eq!(seen, vec!["Created", "Syncing", "Synced"], "{seen:?}");
    assert_eq!(most_active, 4, "the 4 slots were used");
    assert!(user_states.contains("Syncing") && user_states.contains("Synced"), "{user_states:?}");
    let (_, st) =
        cmdlet(&i, &x, "Get-MigrationUserStatistics", json!({"Identity": format!("dr.patel@{}", i.email_domains[0])}))
            .await;
    let u = &st["value"][0];
    assert_eq!(u["Status"], "Synced");
    assert_eq!(u["PercentageComplete"], 100);
    assert!(u["SyncedItemCount"].as_u64().unwrap() >= 40300);
    assert!(u["BytesTransferred"].as_str().unwrap().starts_with("8.9 GB ("), "{u}");
    assert!(u["LastSuccessfulSyncTime"].is_string());

    // The MX moves to Exchange Online, an incremental sync picks up what arrived, then the batch completes.
    let d = &i.email_domains[0];
    let changed: Value = http()
        .post(format!("{}/dns/records", i.control_url))
        .json(&json!({"name": d, "type": "MX", "values": [format!("0 {}.mail.protection.outlook.com", d.replace('.', "-"))]}))
        .send()
        .await
        .unwrap()
        .json()
        .await
        .unwrap();
    let changed_at = chrono::DateTime::parse_from_rfc3339(changed["changed_at"].as_str().unwrap()).unwrap();
    advance(&i, 60.0).await;
    cmdlet(&i, &x, "Start-MigrationBatch", json!({"Identity": "Cutover"})).await;
    let (_, b) = cmdlet(&i, &x, "Get-MigrationBatch", json!({})).await;
    assert_eq!(b["value"][0]["Status"], "IncrementalSyncing");
    advance(&i, 3600.0).await;
    let (_, b) = cmdlet(&i, &x, "Get-MigrationBatch", json!({})).await;
    assert_eq!(b["value"][0]["Status"], "Synced");
    // Mail that reached the old MX during the sync was picked up, and every last sync follows the MX change.
    let (_, st) =
        cmdlet(&i, &x, "Get-MigrationUserStatistics", json!({"Identity": format!("dr.patel@{}", i.email_domains[0])}))
            .await;
    let total = st["value"][0]["TotalItemsInSourceMailboxCount"].as_u64().unwrap();
    assert!(total > 40300);
    let state: Value = http().get(format!("{}/state", i.control_url)).send().await.unwrap().json().await.unwrap();
    assert!(state["exchange"]["mx_changed_at"].is_string(), "{state}");
    // New mail now lands in Exchange Online: the source mailbox stops growing.
    advance(&i, 6.0 * 3600.0).await;
    let (_, st) =
        cmdlet(&i, &x, "Get-MigrationUserStatistics", json!({"Identity": format!("dr.patel@{}", i.email_domains[0])}))
            .await;
    assert_eq!(st["value"][0]["TotalItemsInSourceMailboxCount"].as_u64().unwrap(), total);
    let mut url = format!("{}/adminapi/beta/{}/InvokeCommand", i.exo_url, i.tenant_id);
    let mut walked = 0;
    for _ in 0..10 {
        let page: Value = http()
            .post(&url)
            .bearer_auth(&x)
            .header("X-CmdletName", "Get-MigrationUser")
            .header("Prefer", "odata.maxpagesize=3")
            .json(&json!({"CmdletInput": {"CmdletName": "Get-MigrationUser", "Parameters": {}}}))
            .send()
            .await
            .unwrap()
            .json()
            .await
            .unwrap();
        for u in page["value"].as_array().unwrap() {
            let last = chrono::DateTime::parse_from_rfc3339(u["LastSuccessfulSyncTime"].as_str().unwrap()).unwrap();
            assert!(last > changed_at, "{u}");
            walked += 1;
        }
        match page["@odata.nextLink"].as_str() {
            Some(n) => url = n.to_string(),
            None => break,
        }
    }
    assert_eq!(walked, 10);
    let (s, c) = cmdlet(&i, &x, "Complete-MigrationBatch", json!({"Identity": "Cutover"})).await;
    assert_eq!(s, 200, "{c}");
    let mut last = String::new();
    for _ in 0..50 {
        advance(&i, 600.0).await;
        let (_, b) = cmdlet(&i, &x, "Get-MigrationBatch", json!({})).await;
        last = b["value"][0]["Status"].as_str().unwrap().to_string();
        if last == "Completed" {
            assert_eq!(b["value"][0]["FinalizedCount"], 10);
            assert_eq!(b["value"][0]["FailedCount"], 0);
            break;
        }
        assert_eq!(last, "Completing");
    }
    assert_eq!(last, "Completed");
    let (_, mbx) = cmdlet(&i, &x, "Get-Mailbox", json!({"ResultSize": "Unlimited"})).await;
    assert!(mbx["value"].as_array().unwrap().len() == 4 && mbx["@odata.nextLink"].is_string());
    sim.shutdown().await;
}

/// Every migration user in one page.
async fn all_users(i: &cutover::sim::SimInfo, token: &str) -> Vec<Value> {
    let page: Value = http()
        .post(format!("{}/adminapi/beta/{}/InvokeCommand", i.exo_url, i.tenant_id))
        .bearer_auth(token)
        .header("X-CmdletName", "Get-MigrationUser")
        .header("Prefer", "odata.maxpagesize=1000")
        .json(&json!({"CmdletInput": {"CmdletName": "Get-MigrationUser", "Parameters": {"ResultSize": "Unlimited"}}}))
        .send()
        .await
        .unwrap()
        .json()
        .await
        .unwrap();
    assert!(page["@odata.nextLink"].is_null());
    page["value"].as_array().unwrap().clone()
}

fn unchanged(identity: &str) -> Value {
    json!([format!("The command completed successfully but no settings of '{identity}' have been modified.")])
}

#[tokio::test]
async fn warnings_a_failed_batch_and_removal_on_the_wire() {
    let sim = start("small", |_| {}).await;
    let i = sim.info().clone();
    let x = app_token(&i, "https://outlook.office365.com").await;
    // The request names its cmdlet in X-CmdletName; without it the endpoint refuses the request.
    let r = http()
        .post(format!("{}/adminapi/beta/{}/InvokeCommand", i.exo_url, i.tenant_id))
        .bearer_auth(&x)
        .json(&json!({"CmdletInput": {"CmdletName": "Get-MigrationBatch", "Parameters": {}}}))
        .send()
        .await
        .unwrap();
    assert_eq!(r.status(), 400);
    let e: Value = r.json().await.unwrap();
    assert_eq!(e["error"]["code"], "BadRequest", "{e}");
    assert!(e["error"]["details"][0]["message"].as_str().unwrap().contains("X-CmdletName header is missing"), "{e}");

    // No-op writes warn; real changes do not. An endpoint created without MaxConcurrentMigrations has 20.
    let creds = json!({"UserName": i.source.admin_user, "Password": i.source.admin_password});
    let (s, _) = cmdlet(&i, &x, "New-MigrationEndpoint", json!({"ExchangeOutlookAnywhere": true, "Name": "Source", "ExchangeServer": i.source.host, "RPCProxyServer": i.source.host, "Credentials": creds})).await;
    assert_eq!(s, 200);
    let (_, e) = cmdlet(&i, &x, "Get-MigrationEndpoint", json!({})).await;
    assert_eq!(e["value"][0]["MaxConcurrentMigrations"], 20);
    assert_eq!(e["@adminapi.warnings"], json!([]));
    let (s, w) =
        cmdlet(&i, &x, "Set-MigrationEndpoint", json!({"Identity": "Source", "MaxConcurrentMigrations": 20})).await;
    assert_eq!(s, 200, "{w}");
    assert_eq!(w["@adminapi.warnings"], unchanged("Source"));
    let (_, w) =
        cmdlet(&i, &x, "Set-MigrationEndpoint", json!({"Identity": "Source", "MaxConcurrentMigrations": 30})).await;
    assert_eq!(w["@adminapi.warnings"], json!([]));
    let (_, w) =
        cmdlet(&i, &x, "Set-HostedContentFilterPolicy", json!({"Identity": "Default", "BulkThreshold": 7})).await;
    assert_eq!(w["@adminapi.warnings"], unchanged("Default"));
    let (_, w) =
        cmdlet(&i, &x, "Set-HostedContentFilterPolicy", json!({"Identity": "Default", "BulkThreshold": 6})).await;
    assert_eq!(w["@adminapi.warnings"], json!([]));
    let (s, _) = cmdlet(&i, &x, "New-TransportRule", json!({"Name": "Tag external", "Mode": "Enforce"})).await;
    assert_eq!(s, 200);
    let (_, w) = cmdlet(&i, &x, "Set-TransportRule", json!({"Identity": "Tag external", "Mode": "Enforce"})).await;
    assert_eq!(w["@adminapi.warnings"], unchanged("Tag external"));
    let (_, w) = cmdlet(&i, &x, "Set-TransportRule", json!({"Identity": "Tag external", "Mode": "Audit"})).await;
    assert_eq!(w["@adminapi.warnings"], json!([]));

    // ResultSize cuts the list and says so.
    let (s, b) = cmdlet(&i, &x, "New-MigrationBatch", json!({"Name": "Cutover", "SourceEndpoint": "Source"})).await;
    assert_eq!(s, 200, "{b}");
    let (_, u) = cmdlet(&i, &x, "Get-MigrationUser", json!({"ResultSize": 3})).await;
    assert_eq!(u["value"].as_array().unwrap().len(), 3, "{u}");
    assert!(u["@odata.nextLink"].is_null());
    let warnings = u["@adminapi.warnings"].as_array().unwrap();
    assert_eq!(warnings.len(), 1, "{u}");
    assert!(warnings[0].as_str().unwrap().contains("increase the value for the ResultSize parameter"), "{u}");
    let (_, u) = cmdlet(&i, &x, "Get-MigrationUser", json!({"ResultSize": 10})).await;
    assert_eq!(u["@adminapi.warnings"], json!([]));

    // The domain was never added, so every user fails provisioning: Exchange fails the whole batch.
    cmdlet(&i, &x, "Start-MigrationBatch", json!({"Identity": "Cutover"})).await;
    let mut status = String::new();
    for _ in 0..20 {
        advance(&i, 120.0).await;
        let (_, b) = cmdlet(&i, &x, "Get-MigrationBatch", json!({})).await;
        status = b["value"][0]["Status"].as_str().unwrap().to_string();
        if status == "Failed" {
            assert_eq!(b["value"][0]["FailedCount"], 10, "{b}");
            break;
        }
        assert_eq!(status, "Syncing", "{b}");
    }
    assert_eq!(status, "Failed");

    // Removal takes a while: the batch shows Removing and refuses other cmdlets, then it is gone.
    let (s, r) = cmdlet(&i, &x, "Remove-MigrationBatch", json!({"Identity": "Cutover"})).await;
    assert_eq!(s, 200, "{r}");
    let (_, b) = cmdlet(&i, &x, "Get-MigrationBatch", json!({})).await;
    assert_eq!(b["value"][0]["Status"], "Removing", "{b}");
    let (s, _) = cmdlet(&i, &x, "Start-MigrationBatch", json!({"Identity": "Cutover"})).await;
    assert_eq!(s, 400);
    advance(&i, 30.0).await;
    let (_, b) = cmdlet(&i, &x, "Get-MigrationBatch", json!({})).await;
    assert_eq!(b["value"][0]["Status"], "Removing", "{b}");
    advance(&i, 40.0).await;
    let (_, b) = cmdlet(&i, &x, "Get-MigrationBatch", json!({})).await;
    assert_eq!(b["value"], json!([]), "{b}");
    let (s, b) = cmdlet(&i, &x, "New-MigrationBatch", json!({"Name": "Again", "SourceEndpoint": "Source"})).await;
    assert_eq!(s, 200, "{b}");
    sim.shutdown().await;
}

#[tokio::test]
async fn trouble_refuses_a_batch_and_serves_faults() {
    let sim = start("trouble", |_| {}).await;
    let i = sim.info().clone();
    let g = app_token(&i, "https://graph.microsoft.com").await;
    let x = app_token(&i, "https://outlook.office365.com").await;
    // The scenario throttles every 4th Graph call: four calls see exactly one 429 with Retry-After.
    let mut throttled = 0;
    for _ in 0..4 {
        let r = http().get(format!("{}/v1.0/organization", i.graph_url)).bearer_auth(&g).send().await.unwrap();
        if r.status() == 429 {
            assert_eq!(r.headers()["retry-after"], "10");
            throttled += 1;
        } else {
            let org: Value = r.json().await.unwrap();
            assert_eq!(org["value"][0]["onPremisesSyncEnabled"], true);
        }
    }
    assert_eq!(throttled, 1);
    let creds = json!({"UserName": i.source.admin_user, "Password": i.source.admin_password});
    let (s, t) = cmdlet(&i, &x, "Test-MigrationServerAvailability", json!({"ExchangeOutlookAnywhere": true, "ExchangeServer": i.source.host, "RPCProxyServer": i.source.host, "Credentials": creds})).await;
    assert_eq!(s, 200);
    assert_eq!(t["value"][0]["Result"], "Failed");
    assert!(t["value"][0]["Message"].as_str().unwrap().contains("expired"));
    let (s, e) = cmdlet(&i, &x, "New-MigrationBatch", json!({"Name": "Cutover", "SourceEndpoint": "Source"})).await;
    assert_eq!(s, 400);
    assert!(e["error"]["details"][0]["message"].as_str().unwrap().contains("directory synchronization"));

    // A 503 every 7th Get-MigrationUser (and a 429 every 11th call of any cmdlet).
    let mut unavailable = 0;
    for _ in 0..7 {
        let r = http()
            .post(format!("{}/adminapi/beta/{}/InvokeCommand", i.exo_url, i.tenant_id))
            .bearer_auth(&x)
            .header("X-CmdletName", "Get-MigrationUser")
            .json(&json!({"CmdletInput": {"CmdletName": "Get-MigrationUser", "Parameters": {}}}))
            .send()
            .await
            .unwrap();
        if r.status() == 503 {
            assert_eq!(r.headers()["retry-after"], "5");
            unavailable += 1;
        }
    }
    assert_eq!(unavailable, 1);

    // Dropped connections and expired tokens on demand.
    http().delete(format!("{}/faults", i.control_url)).send().await.unwrap();
    http()
        .post(format!("{}/faults", i.control_url))
        .json(&json!({"service": "graph", "kind": {"type": "drop"}, "times": 1}))
        .send()
        .await
        .unwrap();
    let r = http().get(format!("{}/v1.0/domains", i.graph_url)).bearer_auth(&g).send().await;
    let failed = match r {
        Err(_) => true,
        Ok(r) => r.bytes().await.is_err(),
    };
    assert!(failed, "a dropped connection must not deliver a whole answer");
    assert_eq!(http().get(format!("{}/v1.0/domains", i.graph_url)).bearer_auth(&g).send().await.unwrap().status(), 200);
    http().post(format!("{}/tokens/expire", i.control_url)).send().await.unwrap();
    let r = http().get(format!("{}/v1.0/domains", i.graph_url)).bearer_auth(&g).send().await.unwrap();
    assert_eq!(r.status(), 401);
    let e: Value = r.json().await.unwrap();
    assert_eq!(e["error"]["code"], "InvalidAuthenticationToken");
    assert!(e["error"]["message"].as_str().unwrap().contains("expired"));
    sim.shutdown().await;
}

#[tokio::test]
async fn users_page_filter_and_licences() {
    let sim = start("typical", |o| o.token_lifetime = Duration::from_secs(3)).await;
    let i = sim.info().clone();
    let g = app_token(&i, "https://graph.microsoft.com").await;
    verify_domain(&i, &g).await;
    let d = &i.email_domains[0];
    for n in 0..5 {
        let r = http()
            .post(format!("{}/v1.0/users", i.graph_url))
            .bearer_auth(&g)
            .json(&json!({"accountEnabled": true, "displayName": format!("User {n}"), "mailNickname": format!("user{n}"),
                "userPrincipalName": format!("user{n}@{d}"), "passwordProfile": {"forceChangePasswordNextSignIn": true, "password": "xWwvJ]6NMw+bWH-d"}}))
            .send()
            .await
            .unwrap();
        assert_eq!(r.status(), 201);
    }
    let r = http()
        .post(format!("{}/v1.0/users", i.graph_url))
        .bearer_auth(&g)
        .json(&json!({"accountEnabled": true, "displayName": "Dup", "mailNickname": "user0", "userPrincipalName": format!("user0@{d}"), "passwordProfile": {"password": "xWwvJ]6NMw+bWH-d"}}))
        .send()
        .await
        .unwrap();
    assert_eq!(r.status(), 400);
    let mut url = format!("{}/v1.0/users?$top=2&$select=id,userPrincipalName,usageLocation", i.graph_url);
    let mut seen = 0;
    for _ in 0..10 {
        let page: Value = http().get(&url).bearer_auth(&g).send().await.unwrap().json().await.unwrap();
        let v = page["value"].as_array().unwrap();
        assert!(v.len() <= 2);
        assert!(v.iter().all(|u| u.as_object().unwrap().len() == 3), "{page}");
        seen += v.len();
        match page["@odata.nextLink"].as_str() {
            Some(n) => url = n.to_string(),
            None => break,
        }
    }
    assert_eq!(seen, 6, "the admin and five users");
    let found: Value = http()
        .get(format!("{}/v1.0/users", i.graph_url))
        .query(&[("$filter", format!("userPrincipalName eq 'user3@{d}'"))])
        .bearer_auth(&g)
        .send()
        .await
        .unwrap()
        .json()
        .await
        .unwrap();
    assert_eq!(found["value"].as_array().unwrap().len(), 1);
    let id = found["value"][0]["id"].as_str().unwrap();
    let sku = "f245ecc8-75af-4f8e-b61f-27d8114de5f3";
    let assign = json!({"addLicenses": [{"disabledPlans": [], "skuId": sku}], "removeLicenses": []});
    let r = http()
        .post(format!("{}/v1.0/users/{id}/assignLicense", i.graph_url))
        .bearer_auth(&g)
        .json(&assign)
        .send()
        .await
        .unwrap();
    assert_eq!(r.status(), 400, "no usage location yet");
    let r = http()
        .patch(format!("{}/v1.0/users/{id}", i.graph_url))
        .bearer_auth(&g)
        .json(&json!({"usageLocation": "GB"}))
        .send()
        .await
        .unwrap();
    assert_eq!(r.status(), 204);
    let r = http()
        .post(format!("{}/v1.0/users/{id}/assignLicense", i.graph_url))
        .bearer_auth(&g)
        .json(&assign)
        .send()
        .await
        .unwrap();
    assert_eq!(r.status(), 200);
    let skus: Value = http()
        .get(format!("{}/v1.0/subscribedSkus", i.graph_url))
        .bearer_auth(&g)
        .send()
        .await
        .unwrap()
        .json()
        .await
        .unwrap();
    let s = skus["value"].as_array().unwrap().iter().find(|s| s["skuId"] == sku).unwrap();
    assert_eq!(s["consumedUnits"], 3);

    // Access tokens expire after their lifetime (3 s here).
    tokio::time::sleep(Duration::from_millis(3100)).await;
    assert_eq!(http().get(format!("{}/v1.0/users", i.graph_url)).bearer_auth(&g).send().await.unwrap().status(), 401);
    sim.shutdown().await;
}

/// Finds a migration user's row by alias.
fn row<'a>(users: &'a Value, alias: &str) -> &'a Value {
    users["value"]
        .as_array()
        .unwrap()
        .iter()
        .find(|u| u["Identity"].as_str().unwrap().starts_with(&format!("{alias}@")))
        .unwrap()
}

#[tokio::test]
async fn typical_batch_fails_skips_and_retries_like_exchange() {
    let sim = start("typical", |_| {}).await;
    let i = sim.info().clone();
    let g = app_token(&i, "https://graph.microsoft.com").await;
    let x = app_token(&i, "https://outlook.office365.com").await;
    verify_domain(&i, &g).await;
    let creds = json!({"UserName": i.source.admin_user, "Password": i.source.admin_password});
    let (s, e) = cmdlet(&i, &x, "New-MigrationEndpoint", json!({"ExchangeOutlookAnywhere": true, "Name": "Source", "ExchangeServer": i.source.host, "RPCProxyServer": i.source.host, "Credentials": creds, "MaxConcurrentMigrations": 101})).await;
    assert_eq!(s, 400, "{e}");
    let (s, _) = cmdlet(&i, &x, "New-MigrationEndpoint", json!({"ExchangeOutlookAnywhere": true, "Name": "Source", "ExchangeServer": i.source.host, "RPCProxyServer": i.source.host, "Credentials": creds, "MaxConcurrentMigrations": 100})).await;
    assert_eq!(s, 200);
    let (s, b) =
        cmdlet(&i, &x, "New-MigrationBatch", json!({"Name": "Cutover", "SourceEndpoint": "Source", "AutoStart": true}))
            .await;
    assert_eq!(s, 200, "{b}");
    let mut status = String::new();
    for _ in 0..40 {
        advance(&i, 6.0 * 3600.0).await;
        let (_, b) = cmdlet(&i, &x, "Get-MigrationBatch", json!({})).await;
        status = b["value"][0]["Status"].as_str().unwrap().to_string();
        if status == "SyncedWithErrors" {
            assert_eq!(b["value"][0]["FailedCount"], 2);
            assert_eq!(b["value"][0]["TotalCount"], 120);
            break;
        }
    }
    assert_eq!(status, "SyncedWithErrors");
    let (_, users) = cmdlet(&i, &x, "Get-MigrationUser", json!({"ResultSize": "Unlimited", "Status": "Failed"})).await;
    assert!(row(&users, "scanner")["ErrorSummary"].as_str().unwrap().contains("MigrationPermanentException"));
    assert!(row(&users, "a.fischer")["ErrorSummary"].as_str().unwrap().contains("poison"));
    let (_, st) = cmdlet(
        &i,
        &x,
        "Get-MigrationUserStatistics",
        json!({"Identity": format!("j.morrison@{}", i.email_domains[0])}),
    )
    .await;
    assert_eq!(st["value"][0]["SkippedItemCount"], 3);

    // Retry: the poisoned job fails again (its corrupt data is still there), and so does the hidden mailbox.
    cmdlet(&i, &x, "Start-MigrationBatch", json!({"Identity": "Cutover"})).await;
    advance(&i, 24.0 * 3600.0).await;
    let (_, users) = cmdlet(&i, &x, "Get-MigrationUser", json!({"ResultSize": "Unlimited"})).await;
    assert_eq!(users["value"].as_array().unwrap().len(), 4, "a page of 4 (Prefer: odata.maxpagesize=4)");
    let (_, fischer) =
        cmdlet(&i, &x, "Get-MigrationUser", json!({"Identity": format!("a.fischer@{}", i.email_domains[0])})).await;
    assert_eq!(fischer["value"][0]["Status"], "Failed");
    assert!(fischer["value"][0]["ErrorSummary"].as_str().unwrap().contains("MigrationPermanentException"));
    let (_, scanner) =
        cmdlet(&i, &x, "Get-MigrationUser", json!({"Identity": format!("scanner@{}", i.email_domains[0])})).await;
    assert_eq!(scanner["value"][0]["Status"], "Failed");
    // Completed without the approval: the last sync runs, then the mailbox with skipped items fails completion.
    let (s, e) = cmdlet(&i, &x, "Complete-MigrationBatch", json!({"Identity": "Cutover"})).await;
    assert_eq!(s, 200, "{e}");
    advance(&i, 6.0 * 3600.0).await;
    let (_, b) = cmdlet(&i, &x, "Get-MigrationBatch", json!({})).await;
    assert_eq!(b["value"][0]["Status"], "CompletedWithErrors");
    let (_, m) =
        cmdlet(&i, &x, "Get-MigrationUser", json!({"Identity": format!("j.morrison@{}", i.email_domains[0])})).await;
    assert_eq!(m["value"][0]["Status"], "CompletionFailed");
    assert!(m["value"][0]["ErrorSummary"].as_str().unwrap().contains("skipped item(s) that haven't been approved"));
    let (s, _) = cmdlet(
        &i,
        &x,
        "Set-MigrationUser",
        json!({"Identity": format!("j.morrison@{}", i.email_domains[0]), "ApproveSkippedItems": true}),
    )
    .await;
    assert_eq!(s, 200);
    let (s, e) = cmdlet(&i, &x, "Complete-MigrationBatch", json!({"Identity": "Cutover"})).await;
    assert_eq!(s, 200, "{e}");
    advance(&i, 6.0 * 3600.0).await;
    let (_, b) = cmdlet(&i, &x, "Get-MigrationBatch", json!({})).await;
    assert_eq!(b["value"][0]["Status"], "CompletedWithErrors");
    let (_, m) =
        cmdlet(&i, &x, "Get-MigrationUser", json!({"Identity": format!("j.morrison@{}", i.email_domains[0])})).await;
    assert_eq!(m["value"][0]["Status"], "CompletedWithWarnings");
    sim.shutdown().await;
}

/// Follows `@odata.nextLink` from `url` (at most 10 pages), checking each page's size and shape.
async fn all_pages(url: String, token: &str, page_size: usize, entity: &str) -> (Vec<Value>, usize) {
    let mut url = url;
    let (mut items, mut pages) = (Vec::new(), 0);
    for _ in 0..10 {
        let r = http().get(&url).bearer_auth(token).send().await.unwrap();
        assert_eq!(r.status(), 200, "{url}");
        let page: Value = r.json().await.unwrap();
        assert!(page["@odata.context"].as_str().unwrap().ends_with(&format!("$metadata#{entity}")), "{page}");
        let v = page["value"].as_array().unwrap();
        assert!(v.len() <= page_size, "{page}");
        items.extend(v.iter().cloned());
        pages += 1;
        match page["@odata.nextLink"].as_str() {
            Some(n) => url = n.to_string(),
            None => return (items, pages),
        }
    }
    panic!("more than 10 pages of {entity}");
}

/// The small scenario with a tenant holding every group flavour and a few contacts; a group alias and a
/// contact hold the address of the mailbox `reception`.
fn groups_scenario() -> (tempfile::TempDir, String) {
    let mut scenario: Value =
        serde_json::from_str(include_str!("../assets/scenarios/small.json")).expect("small scenario");
    scenario["tenant"]["groups"] = json!([
        { "display_name": "Front Desk", "kind": "distribution", "mail": "frontdesk@contosodental.com", "aliases": ["reception@contosodental.com"] },
        { "display_name": "Clinicians", "kind": "microsoft365", "mail": "clinicians@contosodental.com" },
        { "display_name": "Billing Admins", "kind": "mail_security", "mail": "billing-admins@contosodental.com" },
        { "display_name": "VPN Users", "kind": "security" },
        { "display_name": "Newsletter", "mail": "news@contosodental.com" }
    ]);
    scenario["tenant"]["contacts"] = json!([
        { "display_name": "Lab Partner", "mail": "orders@fabrikamlab.com" },
        { "display_name": "Old Reception", "mail": "reception@contosodental.com", "aliases": ["desk@contosodental.com"] },
        { "display_name": "Accountant", "mail": "books@tailspin.com" }
    ]);
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("groups.json");
    std::fs::write(&path, scenario.to_string()).unwrap();
    let path = path.to_str().unwrap().to_owned();
    (dir, path)
}

#[tokio::test]
async fn groups_and_contacts_list_with_select_and_paging() {
    let (_dir, path) = groups_scenario();
    let sim = start(&path, |_| {}).await;
    let i = sim.info().clone();
    let g = app_token(&i, "https://graph.microsoft.com").await;

    let select = "id,displayName,mail,proxyAddresses,mailEnabled,securityEnabled,groupTypes";
    let (groups, pages) =
        all_pages(format!("{}/v1.0/groups?$select={select}&$top=2", i.graph_url), &g, 2, "groups").await;
    assert_eq!((groups.len(), pages), (5, 3), "five groups over three pages of two");
    assert!(groups.iter().all(|x| x.as_object().unwrap().len() == 7), "only the selected properties: {groups:?}");
    let by_name = |name: &str| groups.iter().find(|x| x["displayName"] == name).unwrap().clone();
    let dl = by_name("Front Desk");
    assert_eq!((dl["mailEnabled"].clone(), dl["securityEnabled"].clone()), (json!(true), json!(false)));
    assert_eq!(dl["groupTypes"], json!([]));
    let proxies: Vec<&str> = dl["proxyAddresses"].as_array().unwrap().iter().map(|p| p.as_str().unwrap()).collect();
    assert_eq!(proxies[..2], ["SMTP:frontdesk@contosodental.com", "smtp:reception@contosodental.com"]);
    assert!(proxies.iter().any(|p| p.ends_with(&format!("@{}", i.tenant_domain))), "{proxies:?}");
    let m365 = by_name("Clinicians");
    assert_eq!(m365["groupTypes"], json!(["Unified"]));
    assert!(m365["proxyAddresses"].as_array().unwrap().iter().any(|p| p.as_str().unwrap().starts_with("SPO:")));
    assert_eq!(by_name("Billing Admins")["securityEnabled"], true);
    let security = by_name("VPN Users");
    assert_eq!((security["mail"].clone(), security["mailEnabled"].clone()), (Value::Null, json!(false)));
    assert_eq!(security["proxyAddresses"], json!([]));
    assert_eq!(by_name("Newsletter")["mailEnabled"], true, "a group's kind defaults to distribution");

    // Without $select, the whole group; an unknown property and a bad page size are Graph's 400s.
    let (full, _) = all_pages(format!("{}/v1.0/groups", i.graph_url), &g, 100, "groups").await;
    assert!(full[0].get("visibility").is_some() && full[0].get("mailNickname").is_some(), "{:?}", full[0]);
    for (query, code) in [("$select=id,nosuch", "Request_BadRequest"), ("$top=0", "Request_UnsupportedQuery")] {
        let r = http().get(format!("{}/v1.0/groups?{query}", i.graph_url)).bearer_auth(&g).send().await.unwrap();
        assert_eq!(r.status(), 400, "{query}");
        let body: Value = r.json().await.unwrap();
        assert_eq!(body["error"]["code"], code, "{body}");
    }

    let (contacts, pages) = all_pages(
        format!("{}/v1.0/contacts?$select=id,displayName,mail,proxyAddresses&$top=2", i.graph_url),
        &g,
        2,
        "contacts",
    )
    .await;
    assert_eq!((contacts.len(), pages), (3, 2));
    assert!(contacts.iter().all(|c| c.as_object().unwrap().len() == 4), "{contacts:?}");
    let old = contacts.iter().find(|c| c["displayName"] == "Old Reception").unwrap();
    assert_eq!(old["mail"], "reception@contosodental.com");
    assert_eq!(old["proxyAddresses"], json!(["SMTP:reception@contosodental.com", "smtp:desk@contosodental.com"]));
    let r = http().get(format!("{}/v1.0/contacts", i.graph_url)).send().await.unwrap();
    assert_eq!(r.status(), 401, "a token is needed");
    sim.shutdown().await;
}

#[tokio::test]
async fn a_mailbox_whose_address_a_group_holds_fails_to_provision() {
    let (_dir, path) = groups_scenario();
    let sim = start(&path, |_| {}).await;
    let i = sim.info().clone();
    let g = app_token(&i, "https://graph.microsoft.com").await;
    let x = app_token(&i, "https://outlook.office365.com").await;
    verify_domain(&i, &g).await;
    let creds = json!({"UserName": i.source.admin_user, "Password": i.source.admin_password});
    let (s, _) = cmdlet(&i, &x, "New-MigrationEndpoint", json!({"ExchangeOutlookAnywhere": true, "Name": "Source", "Autodiscover": true, "EmailAddress": format!("sarah.jones@{}", i.email_domains[0]), "Credentials": creds, "MaxConcurrentMigrations": 10})).await;
    assert_eq!(s, 200);
    let (s, b) = cmdlet(&i, &x, "New-MigrationBatch", json!({"Name": "Cutover", "SourceEndpoint": "Source"})).await;
    assert_eq!(s, 200, "{b}");
    cmdlet(&i, &x, "Start-MigrationBatch", json!({"Identity": "Cutover"})).await;
    let mut failed = Value::Null;
    for _ in 0..20 {
        advance(&i, 600.0).await;
        let (_, users) =
            cmdlet(&i, &x, "Get-MigrationUser", json!({"ResultSize": "Unlimited", "Status": "Failed"})).await;
        if !users["value"].as_array().unwrap().is_empty() {
            failed = users;
            break;
        }
    }
    let rows = failed["value"].as_array().expect("a failed migration user within 20 simulated 10-minute steps");
    assert_eq!(rows.len(), 1, "only reception collides: {failed}");
    let error = row(&failed, "reception")["ErrorSummary"].as_str().unwrap().to_owned();
    assert!(
        error.contains("The proxy address \"SMTP:reception@contosodental.com\" is already being used")
            && error.contains("\"Front Desk\""),
        "{error}"
    );
    sim.shutdown().await;
}
