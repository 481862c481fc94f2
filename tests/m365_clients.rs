//! The Microsoft 365 clients over real HTTP on 127.0.0.1, against a scripted test double (a `Cloud::Custom`) that
//! answers with Microsoft's documented bodies: device code with slow_down, refresh on expiry and on a 401, paging,
//! 429 with Retry-After (measured), 503 then success, a dropped connection, a wrong tenant, a Graph 403, and no
//! secret in the logs. Sign-ins are kept in the real OS keyring (run through scripts/with-keyring.sh).

use cutover::m365::error::AuthError;
use cutover::m365::{Cloud, ConnectionSettings, M365, M365Error, Poll, Resource, RetryPolicy};
use cutover::secrets::{Secret, Secrets};
use std::collections::HashMap;
use std::net::SocketAddr;
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};
use tokio::io::{AsyncReadExt, AsyncWriteExt};
use tokio::net::TcpListener;

#[derive(Debug, Clone)]
struct Req {
    at: Instant,
    method: String,
    path: String,
    headers: HashMap<String, String>,
    body: String,
}

enum Action {
    Reply(u16, Vec<(&'static str, String)>, String),
    /// Sends the headers and half the body, then closes the connection.
    Truncate(String),
}

fn json(status: u16, body: serde_json::Value) -> Action {
    Action::Reply(status, vec![], body.to_string())
}

type Handler = Arc<dyn Fn(&Req, &[Req]) -> Action + Send + Sync>;

struct Server {
    addr: SocketAddr,
    log: Arc<Mutex<Vec<Req>>>,
}

impl Server {
    async fn start(handler: impl Fn(&Req, &[Req]) -> Action + Send + Sync + 'static) -> Server {
        let listener = TcpListener::bind("127.0.0.1:0").await.expect("bind loopback");
        let addr = listener.local_addr().expect("addr");
        let log: Arc<Mutex<Vec<Req>>> = Arc::default();
        let handler: Handler = Arc::new(handler);
        let server_log = log.clone();
        tokio::spawn(async move {
            while let Ok((socket, _)) = listener.accept().await {
                tokio::spawn(connection(socket, handler.clone(), server_log.clone()));
            }
        });
        Server { addr, log }
    }

    fn url(&self) -> String {
        format!("http://{}", self.addr)
    }

    fn requests(&self, path_prefix: &str) -> Vec<Req> {
        self.log.lock().expect("log").iter().filter(|r| r.path.starts_with(path_prefix)).cloned().collect()
    }
}

async fn connection(mut socket: tokio::net::TcpStream, handler: Handler, log: Arc<Mutex<Vec<Req>>>) {
    let mut buf = Vec::new();
    loop {
        // Bounded: a request head larger than 64 KiB ends the connection.
        let head_end = loop {
            if let Some(i) = buf.windows(4).position(|w| w == b"\r\n\r\n") {
                break i + 4;
            }
            if buf.len() > 65_536 {
                return;
            }
            let mut chunk = [0u8; 4096];
            match socket.read(&mut chunk).await {
                Ok(0) | Err(_) => return,
                Ok(n) => buf.extend_from_slice(&chunk[..n]),
            }
        };
        let head = String::from_utf8_lossy(&buf[..head_end]).to_string();
        let mut lines = head.split("\r\n");
        let mut first = lines.next().unwrap_or_default().split(' ');
        let (method, path) = (first.next().unwrap_or_default().to_owned(), first.next().unwrap_or_default().to_owned());
        let headers: HashMap<String, String> = lines
            .filter_map(|l| l.split_once(':'))
            .map(|(k, v)| (k.trim().to_ascii_lowercase(), v.trim().to_owned()))
            .collect();
        let length: usize = headers.get("content-length").and_then(|v| v.parse().ok()).unwrap_or(0);
        while buf.len() < head_end + length {
            let mut chunk = [0u8; 4096];
            match socket.read(&mut chunk).await {
                Ok(0) | Err(_) => return,
                Ok(n) => buf.extend_from_slice(&chunk[..n]),
            }
        }
        let body = String::from_utf8_lossy(&buf[head_end..head_end + length]).to_string();
        buf.drain(..head_end + length);
        let req = Req { at: Instant::now(), method, path, headers, body };
        let action = {
            let mut log = log.lock().expect("log");
            let action = handler(&req, &log);
            log.push(req);
            action
        };
        match action {
            Action::Reply(status, headers, body) => {
                let mut out = format!(
                    "HTTP/1.1 {status} X\r\ncontent-type: application/json\r\ncontent-length: {}\r\n",
                    body.len()
                );
                for (k, v) in headers {
                    out.push_str(&format!("{k}: {v}\r\n"));
                }
                out.push_str("\r\n");
                out.push_str(&body);
                if socket.write_all(out.as_bytes()).await.is_err() {
                    return;
                }
            }
            Action::Truncate(body) => {
                let out = format!(
                    "HTTP/1.1 200 OK\r\ncontent-type: application/json\r\ncontent-length: {}\r\n\r\n{}",
                    body.len(),
                    &body[..body.len() / 2]
                );
                let _ = socket.write_all(out.as_bytes()).await;
                let _ = socket.shutdown().await;
                return;
            }
        }
    }
}

fn form_field(body: &str, key: &str) -> Option<String> {
    url::form_urlencoded::parse(body.as_bytes()).find(|(k, _)| k == key).map(|(_, v)| v.into_owned())
}

fn policy() -> RetryPolicy {
    RetryPolicy {
        max_attempts: 5,
        max_total_wait: Duration::from_secs(20),
        base_delay: Duration::from_millis(50),
        max_delay: Duration::from_millis(400),
        timeout: Duration::from_secs(10),
        connect_timeout: Duration::from_secs(5),
        ..RetryPolicy::default()
    }
}

/// A project name no other test run uses, so keyring entries never collide.
fn project() -> String {
    format!("it-m365-{}-{}", std::process::id(), fastrand::u64(..))
}

fn connect(server: &Server, project: &str, tenant: &str, policy: RetryPolicy) -> M365 {
    let url = server.url();
    let settings = ConnectionSettings {
        cloud: Cloud::custom(&url, &url, &url).expect("loopback cloud"),
        client_id: Some("11111111-2222-3333-4444-555555555555".into()),
        ca_cert: None,
    };
    let http = cutover::m365::HttpClient::new(policy, None).expect("client");
    M365::connect(project, tenant, &settings, Secrets::open().expect("OS keyring"), http).expect("connect")
}

/// The identity platform's token answer.
fn token(access: &str, expires_in: u64) -> Action {
    json(
        200,
        serde_json::json!({
            "token_type": "Bearer",
            "scope": "https://graph.microsoft.com/.default",
            "expires_in": expires_in,
            "access_token": access,
            "refresh_token": format!("refresh-after-{access}"),
        }),
    )
}

fn bearer(req: &Req) -> String {
    req.headers.get("authorization").cloned().unwrap_or_default()
}

/// Signs in with client credentials against a double whose token endpoint hands out `app-token-N`.
async fn app_sign_in(m: &M365) {
    m.auth.sign_in_with_client_secret(Secret::new("app-client-secret-value")).await.expect("client credentials");
}

fn token_count(log: &[Req]) -> usize {
    log.iter().filter(|r| r.path.ends_with("/oauth2/v2.0/token")).count()
}

#[tokio::test]
async fn device_code_sign_in_polls_honours_slow_down_and_then_gets_both_tokens() {
    let server = Server::start(|req, log| {
        if req.path == "/contoso.onmicrosoft.com/oauth2/v2.0/devicecode" {
            assert!(form_field(&req.body, "scope").is_some_and(|s| s.contains("offline_access")));
            return json(
                200,
                serde_json::json!({
                    "device_code": "DAQABAAEAAAD--DLA3VO7QrddgJg7WevrDEVICECODE",
                    "user_code": "FHJ3K8P2Q",
                    "verification_uri": "https://microsoft.com/devicelogin",
                    "expires_in": 900,
                    "interval": 1,
                    "message": "To sign in, use a web browser to open the page https://microsoft.com/devicelogin and enter the code FHJ3K8P2Q to authenticate."
                }),
            );
        }
        let grant = form_field(&req.body, "grant_type").unwrap_or_default();
        if grant == "urn:ietf:params:oauth:grant-type:device_code" {
            let polls = log.iter().filter(|r| r.body.contains("device_code=")).count();
            return match polls {
                0 => json(400, serde_json::json!({"error": "authorization_pending", "error_description": "AADSTS70016: OAuth 2.0 device flow error. Authorization is pending.", "error_codes": [70016]})),
                1 => json(400, serde_json::json!({"error": "slow_down", "error_description": "slow down", "error_codes": []})),
                _ => {
                    let mut answer = serde_json::json!({
                        "token_type": "Bearer", "expires_in": 3600, "access_token": "graph-token-1",
                        "refresh_token": "refresh-after-graph-token-1", "id_token": id_token("admin@contoso.onmicrosoft.com"),
                    });
                    answer["scope"] = serde_json::json!("https://graph.microsoft.com/.default");
                    json(200, answer)
                }
            };
        }
        if grant == "refresh_token" {
            assert_eq!(form_field(&req.body, "refresh_token").as_deref(), Some("refresh-after-graph-token-1"));
            assert!(form_field(&req.body, "scope").is_some_and(|s| s.starts_with("https://outlook.office365.com/.default")));
            return token("exo-token-1", 3600);
        }
        if req.path.ends_with("/InvokeCommand") {
            return json(200, serde_json::json!({"value": [{"DomainName": "contoso.com", "DomainType": "Authoritative", "Default": true}]}));
        }
        json(404, serde_json::json!({"error": {"code": "NotFound", "message": "no route"}}))
    })
    .await;
    let project = project();
    let m = connect(&server, &project, "contoso.onmicrosoft.com", policy());
    let mut prompt = m.auth.start_device_code().await.expect("device code");
    assert_eq!(prompt.user_code, "FHJ3K8P2Q");
    assert!(prompt.message.contains("microsoft.com/devicelogin"));
    let mut seen = Vec::new();
    let cancel = tokio_util::sync::CancellationToken::new();
    let signed_in = tokio::time::timeout(
        Duration::from_secs(30),
        m.auth.wait_for_device_code(&mut prompt, &cancel, |p, _| seen.push(p.clone())),
    )
    .await
    .expect("within 30 s")
    .expect("signed in");
    assert_eq!(seen, vec![Poll::Pending, Poll::SlowDown]);
    assert_eq!(signed_in.kind, cutover::m365::SignInKind::DeviceCode);
    let polls: Vec<Instant> =
        server.requests("/contoso").iter().filter(|r| r.body.contains("device_code=")).map(|r| r.at).collect();
    assert_eq!(polls.len(), 3);
    assert!(polls[1] - polls[0] >= Duration::from_millis(950), "the interval is kept");
    assert!(polls[2] - polls[1] >= Duration::from_millis(5900), "slow_down adds 5 s: {:?}", polls[2] - polls[1]);
    // The Exchange token comes from the stored refresh token, in the real keyring.
    let exo = m.auth.access_token(Resource::ExchangeOnline).await.expect("exo token");
    assert_eq!(exo.expose(), "exo-token-1");
    assert_eq!(signed_in.account.as_deref(), Some("admin@contoso.onmicrosoft.com"));
    let domains = m.exo.get_accepted_domains().await.expect("accepted domains");
    assert_eq!(domains.items[0].domain_name, "contoso.com");
    let call = &server.requests("/adminapi")[0];
    assert_eq!(call.headers["x-anchormailbox"], "UPN:admin@contoso.onmicrosoft.com");
    assert_eq!(call.headers["authorization"], "Bearer exo-token-1");
    assert!(m.auth.sign_out().await.expect("sign out"));
}

/// An unsigned ID token naming the user, as the identity platform's token answer carries it.
fn id_token(upn: &str) -> String {
    use base64::Engine;
    let b64 = |v: serde_json::Value| base64::engine::general_purpose::URL_SAFE_NO_PAD.encode(v.to_string());
    format!(
        "{}.{}.",
        b64(serde_json::json!({"typ": "JWT", "alg": "none"})),
        b64(serde_json::json!({"preferred_username": upn, "tid": "7fe81447-da57-4385-becb-6de57f21477e"}))
    )
}

#[tokio::test]
async fn a_consent_given_by_another_account_is_refused_and_nothing_is_kept() {
    // The admin signs in; a refresh naming Mail.Send answers AADSTS65001; the consent's code is accepted by
    // someone else.
    let server = Server::start(|req, _| {
        if req.path.ends_with("/devicecode") {
            let dc = if form_field(&req.body, "scope").is_some_and(|s| s.contains("Mail.Send")) { "consent" } else { "sign-in" };
            return json(200, serde_json::json!({"device_code": dc, "user_code": "U", "verification_uri": "https://microsoft.com/devicelogin", "expires_in": 900, "interval": 1}));
        }
        let grant = form_field(&req.body, "grant_type").unwrap_or_default();
        if grant == "refresh_token" {
            return json(400, serde_json::json!({"error": "invalid_grant", "error_description": "AADSTS65001: The user or administrator has not consented to use the application.", "error_codes": [65001], "suberror": "consent_required"}));
        }
        let who = if form_field(&req.body, "device_code").as_deref() == Some("consent") { "intern@contoso.com" } else { "admin@contoso.onmicrosoft.com" };
        json(200, serde_json::json!({"token_type": "Bearer", "expires_in": 3600, "access_token": format!("token-of-{who}"), "refresh_token": format!("refresh-of-{who}"), "id_token": id_token(who)}))
    })
    .await;
    let m = connect(&server, &project(), "contoso.onmicrosoft.com", policy());
    let cancel = tokio_util::sync::CancellationToken::new();
    let mut prompt = m.auth.start_device_code().await.expect("device code");
    m.auth.wait_for_device_code(&mut prompt, &cancel, |_, _| {}).await.expect("signed in");
    let err = m.auth.access_token(Resource::GraphMail).await.expect_err("never consented");
    assert!(matches!(err, M365Error::Auth(AuthError::ConsentNeeded { permission: "Mail.Send.Shared", .. })), "{err}");
    let mut prompt = m.auth.start_device_code_for(Resource::GraphMail).await.expect("consent code");
    let err = m.auth.wait_for_device_code(&mut prompt, &cancel, |_, _| {}).await.expect_err("another account");
    assert!(
        err.to_string().contains("given by intern@contoso.com") && err.to_string().contains("signed in as admin@"),
        "{err}"
    );
    assert_eq!(
        cutover::m365::http::TokenSource::account(m.auth.as_ref()).as_deref(),
        Some("admin@contoso.onmicrosoft.com")
    );
    assert!(m.auth.sign_out().await.expect("sign out"));
}

#[tokio::test]
async fn device_code_stops_on_decline_and_on_expiry_and_can_be_cancelled() {
    let server = Server::start(|req, _| {
        if req.path.ends_with("/devicecode") {
            return json(200, serde_json::json!({"device_code": "dc", "user_code": "U", "verification_uri": "https://microsoft.com/devicelogin", "expires_in": 900, "interval": 1}));
        }
        let code = if req.path.starts_with("/declined") { "authorization_declined" } else { "expired_token" };
        json(400, serde_json::json!({"error": code, "error_description": code, "error_codes": []}))
    })
    .await;
    let project = project();
    for (tenant, expected) in [("declined.example", "declined"), ("expired.example", "expired")] {
        let m = connect(&server, &project, tenant, policy());
        let mut prompt = m.auth.start_device_code().await.expect("code");
        let err = m.auth.poll_device_code(&mut prompt).await.expect_err("stops");
        assert!(err.to_string().contains(expected), "{err}");
        assert!(matches!(err, M365Error::Auth(AuthError::Declined | AuthError::DeviceCodeExpired { .. })));
    }
    let m = connect(&server, &project, "declined.example", policy());
    let mut prompt = m.auth.start_device_code().await.expect("code");
    let cancel = tokio_util::sync::CancellationToken::new();
    cancel.cancel();
    let err = m.auth.wait_for_device_code(&mut prompt, &cancel, |_, _| {}).await.expect_err("cancelled");
    assert!(matches!(err, M365Error::Cancelled));
}

#[tokio::test]
async fn an_expiring_token_is_renewed_and_a_refused_one_is_replaced_once() {
    let server = Server::start(|req, log| {
        if req.path.ends_with("/oauth2/v2.0/token") {
            let n = token_count(log) + 1;
            // The first token lives 1 s (inside the renewal margin), the later ones an hour.
            return token(&format!("app-token-{n}"), if n == 1 { 1 } else { 3600 });
        }
        if req.path.starts_with("/v1.0/organization") {
            let earlier = log.iter().filter(|r| r.path.starts_with("/v1.0/organization")).count();
            if earlier == 1 {
                return json(401, serde_json::json!({"error": {"code": "InvalidAuthenticationToken", "message": "Access token has expired or is not yet valid."}}));
            }
            return json(200, serde_json::json!({"value": [{"id": "84841066-274d-4ec0-a5c1-276be684bdd3", "displayName": "Contoso", "onPremisesSyncEnabled": true}]}));
        }
        json(404, serde_json::json!({}))
    })
    .await;
    let project = project();
    let m = connect(&server, &project, "contoso.onmicrosoft.com", policy());
    app_sign_in(&m).await; // token 1, expires at once
    let org = m.graph.organization().await.expect("org"); // renewed: token 2
    assert!(org.directory_sync_on());
    assert_eq!(token_count(&server.requests("/")), 2, "a token about to expire is renewed before use");
    m.graph.organization().await.expect("org after a 401"); // token 2 refused, token 3 accepted
    let graph_calls: Vec<String> = server.requests("/v1.0/organization").iter().map(bearer).collect();
    assert_eq!(graph_calls, vec!["Bearer app-token-2", "Bearer app-token-2", "Bearer app-token-3"]);
    assert!(m.auth.sign_out().await.expect("sign out"));
}

#[tokio::test]
async fn graph_and_exchange_listings_follow_every_page() {
    let server = Server::start(|req, log| {
        if req.path.ends_with("/oauth2/v2.0/token") {
            return token("t", 3600);
        }
        if req.path.starts_with("/v1.0/users") {
            let page: u32 = req.path.split("page=").nth(1).and_then(|p| p.parse().ok()).unwrap_or(1);
            // The connection drops in the middle of page 2 the first time: that page alone is fetched again.
            if page == 2 && !log.iter().any(|r| r.path == req.path) {
                return Action::Truncate(r#"{"value":[{"id":"u2","userPrincipalName":"user2@contoso.com"}]}"#.into());
            }
            let next = (page < 3).then(|| format!("http://{}/v1.0/users?$skiptoken=x&page={}", req.headers["host"], page + 1));
            return json(200, serde_json::json!({
                "value": [{"id": format!("u{page}"), "userPrincipalName": format!("user{page}@contoso.com")}],
                "@odata.nextLink": next,
            }));
        }
        if req.path.contains("/adminapi/beta/contoso.onmicrosoft.com/InvokeCommand") {
            let page: u32 = req.path.split("page=").nth(1).and_then(|p| p.parse().ok()).unwrap_or(1);
            let mut body = serde_json::json!({
                "@odata.context": "https://outlook.office365.com/adminapi/beta/contoso.onmicrosoft.com/$metadata#Collection(Exchange.GenericHashTable)",
                "value": [{"Identity": format!("user{page}@contoso.com"), "Status": if page == 1 { "Syncing" } else { "Polishing" }, "SyncedItemCount": 10}],
            });
            if page == 1 {
                body["@odata.nextLink"] = serde_json::json!(format!("http://{}/adminapi/beta/contoso.onmicrosoft.com/InvokeCommand?page=2", req.headers["host"]));
                body["@adminapi.warnings"] = serde_json::json!(["WARNING: first page warning"]);
            }
            return json(200, body);
        }
        json(404, serde_json::json!({}))
    })
    .await;
    let project = project();
    let m = connect(&server, &project, "contoso.onmicrosoft.com", policy());
    app_sign_in(&m).await;
    let users = m.graph.users().await.expect("users");
    assert_eq!(users.iter().map(|u| u.id.as_str()).collect::<Vec<_>>(), ["u1", "u2", "u3"]);
    assert_eq!(server.requests("/v1.0/users").len(), 4, "pages 1, 2 (dropped), 2 again, 3");
    let out = m.exo.get_migration_users(None).await.expect("migration users");
    assert_eq!(out.items.len(), 2);
    assert_eq!(out.items[1].status, cutover::m365::exo::UserStatus::Unknown("Polishing".into()));
    assert_eq!(out.warnings, vec!["WARNING: first page warning"]);
    let calls = server.requests("/adminapi");
    assert_eq!(calls.len(), 2);
    assert_eq!(calls[0].body, calls[1].body, "the same body is posted to the next link");
    let body: serde_json::Value = serde_json::from_str(&calls[0].body).expect("json body");
    assert_eq!(body["CmdletInput"]["CmdletName"], "Get-MigrationUser");
    assert_eq!(body["CmdletInput"]["Parameters"]["ResultSize"], "Unlimited");
    for c in &calls {
        assert_eq!(c.headers["x-cmdletname"], "Get-MigrationUser");
        assert_eq!(c.headers["x-responseformat"], "json");
        assert_eq!(c.headers["prefer"], "odata.maxpagesize=1000");
        assert!(c.headers["x-anchormailbox"].contains("@contoso.onmicrosoft.com"));
        assert!(c.headers.contains_key("client-request-id"));
    }
    m.auth.sign_out().await.expect("sign out");
}

#[tokio::test]
async fn throttling_waits_as_told_and_transient_faults_are_retried() {
    let server = Server::start(|req, log| {
        if req.path.ends_with("/oauth2/v2.0/token") {
            return token("t", 3600);
        }
        let earlier = log.iter().filter(|r| r.path == req.path && r.method == req.method).count();
        match (req.method.as_str(), req.path.as_str(), earlier) {
            ("GET", "/v1.0/subscribedSkus", 0) => Action::Reply(429, vec![("retry-after", "2".into())], r#"{"error":{"code":"TooManyRequests","message":"Too many requests"}}"#.into()),
            ("GET", "/v1.0/domains", 0) => json(503, serde_json::json!({"error": {"code": "serviceNotAvailable", "message": "Service unavailable"}})),
            ("GET", "/admin/serviceAnnouncement/healthOverviews", _) => json(404, serde_json::json!({})),
            ("GET", "/v1.0/admin/serviceAnnouncement/healthOverviews", 0) => Action::Truncate(r#"{"value":[{"id":"Exchange","service":"Exchange Online","status":"serviceOperational"}]}"#.into()),
            ("POST", "/v1.0/users/u1/assignLicense", 0) => Action::Reply(429, vec![("retry-after", "1".into())], "{}".into()),
            ("POST", "/v1.0/domains", _) => json(503, serde_json::json!({"error": {"code": "serviceNotAvailable", "message": "try later"}})),
            ("GET", "/v1.0/domains/new.example", _) => json(404, serde_json::json!({"error": {"code": "Request_ResourceNotFound", "message": "Resource 'new.example' does not exist"}})),
            ("GET", "/v1.0/subscribedSkus", _) => json(200, serde_json::json!({"value": [{"skuId": "c7df2760-2c81-4ef7-b578-5b5392b571df", "skuPartNumber": "ENTERPRISEPREMIUM", "consumedUnits": 14, "prepaidUnits": {"enabled": 25, "suspended": 0, "warning": 0, "lockedOut": 0}}]})),
            ("GET", "/v1.0/domains", _) => json(200, serde_json::json!({"value": [{"id": "contoso.com", "isVerified": true}]})),
            ("GET", "/v1.0/admin/serviceAnnouncement/healthOverviews", _) => json(200, serde_json::json!({"value": [{"id": "Exchange", "service": "Exchange Online", "status": "serviceOperational"}]})),
            ("POST", "/v1.0/users/u1/assignLicense", _) => json(200, serde_json::json!({"id": "u1", "userPrincipalName": "a@contoso.com"})),
            _ => json(404, serde_json::json!({})),
        }
    })
    .await;
    let project = project();
    let m = connect(&server, &project, "contoso.onmicrosoft.com", policy());
    app_sign_in(&m).await;

    let skus = m.graph.subscribed_skus().await.expect("after Retry-After");
    assert_eq!(skus[0].available(), 11);
    let times: Vec<Instant> = server.requests("/v1.0/subscribedSkus").iter().map(|r| r.at).collect();
    assert_eq!(times.len(), 2);
    assert!(times[1] - times[0] >= Duration::from_millis(1950), "Retry-After: 2 obeyed: {:?}", times[1] - times[0]);

    assert_eq!(m.graph.domains().await.expect("503 then success").len(), 1);
    assert_eq!(server.requests("/v1.0/domains").len(), 2);

    let health = m.graph.health_overviews().await.expect("after a dropped connection");
    assert!(health[0].status.is_healthy());
    assert_eq!(server.requests("/v1.0/admin").len(), 2);

    m.graph.assign_license("u1", "c7df2760-2c81-4ef7-b578-5b5392b571df").await.expect("429 on a POST is resent");
    assert_eq!(server.requests("/v1.0/users/u1/assignLicense").len(), 2);

    // A POST that is not idempotent is not resent after a 503.
    let err = m.graph.add_domain("new.example").await.expect_err("503 on create");
    assert_eq!(err.api().map(|e| e.status), Some(503));
    assert_eq!(server.requests("/v1.0/domains").iter().filter(|r| r.method == "POST").count(), 1);
    m.auth.sign_out().await.expect("sign out");
}

#[tokio::test]
async fn a_throttle_longer_than_the_cap_is_told_to_the_caller_at_once() {
    let server = Server::start(|req, _| {
        if req.path.ends_with("/oauth2/v2.0/token") {
            return token("t", 3600);
        }
        Action::Reply(429, vec![("retry-after", "300".into())], "{}".into())
    })
    .await;
    let project = project();
    let mut p = policy();
    p.max_total_wait = Duration::from_secs(5);
    let m = connect(&server, &project, "contoso.onmicrosoft.com", p);
    app_sign_in(&m).await;
    let started = Instant::now();
    let err = m.graph.organization().await.expect_err("throttled");
    assert!(started.elapsed() < Duration::from_secs(3));
    assert!(
        matches!(err, M365Error::Throttled { retry_after, .. } if retry_after == Duration::from_secs(300)),
        "{err}"
    );
    assert!(err.to_string().contains("try again later"));
    m.auth.sign_out().await.expect("sign out");
}

#[tokio::test]
async fn a_429_storm_stops_after_the_allowed_attempts_with_the_fix() {
    let server = Server::start(|req, _| {
        if req.path.ends_with("/oauth2/v2.0/token") {
            return token("t", 3600);
        }
        Action::Reply(
            429,
            vec![("retry-after", "0".into())],
            r#"{"error":{"code":"TooManyRequests","message":"Too many requests"}}"#.into(),
        )
    })
    .await;
    let project = project();
    let mut p = policy();
    p.max_attempts = 3;
    let m = connect(&server, &project, "contoso.onmicrosoft.com", p);
    app_sign_in(&m).await;
    let err = m.graph.organization().await.expect_err("still throttled");
    assert!(matches!(err, M365Error::Throttled { attempts: 3, max_attempts: 3, .. }), "{err:?}");
    assert_eq!(server.requests("/v1.0/organization").len(), 3, "exactly the allowed attempts, then nothing more");
    let text = err.to_string();
    assert!(text.contains("3 attempts") && text.contains("wait a few minutes"), "{text}");
    m.auth.sign_out().await.expect("sign out");
}

#[tokio::test]
async fn a_post_is_not_resent_after_a_503_even_with_retry_after() {
    let server = Server::start(|req, log| {
        if req.path.ends_with("/oauth2/v2.0/token") {
            return token("t", 3600);
        }
        let earlier = log.iter().filter(|r| r.path == req.path && r.method == req.method).count();
        let unavailable = || {
            Action::Reply(
                503,
                vec![("retry-after", "0".into())],
                r#"{"error":{"code":"serviceNotAvailable","message":"Service unavailable"}}"#.into(),
            )
        };
        match (req.method.as_str(), req.path.as_str(), earlier) {
            ("GET", "/v1.0/domains/new.example", _) => json(404, serde_json::json!({"error": {"code": "Request_ResourceNotFound", "message": "Resource 'new.example' does not exist"}})),
            ("POST", "/v1.0/domains", _) => unavailable(),
            ("GET", "/v1.0/domains", 0) => unavailable(),
            ("GET", "/v1.0/domains", _) => json(200, serde_json::json!({"value": [{"id": "contoso.com", "isVerified": true}]})),
            _ => json(404, serde_json::json!({})),
        }
    })
    .await;
    let project = project();
    let m = connect(&server, &project, "contoso.onmicrosoft.com", policy());
    app_sign_in(&m).await;
    // A create may have been carried out before the 503: sent once, and the error says to check first.
    let err = m.graph.add_domain("new.example").await.expect_err("503 on create");
    let api = err.api().expect("Graph's error");
    assert_eq!((api.status, api.code.as_str()), (503, "serviceNotAvailable"));
    assert!(api.advice.contains("check the current state"), "{err}");
    let posts = server.requests("/v1.0/domains").into_iter().filter(|r| r.method == "POST").count();
    assert_eq!(posts, 1, "the POST was not resent");
    // A read is resent as Retry-After says.
    assert_eq!(m.graph.domains().await.expect("503 then success").len(), 1);
    let gets = server.requests("/v1.0/domains").into_iter().filter(|r| r.method == "GET" && r.path == "/v1.0/domains");
    assert_eq!(gets.count(), 2);
    m.auth.sign_out().await.expect("sign out");
}

#[tokio::test]
async fn a_wrong_tenant_and_a_missing_permission_are_named_with_the_fix() {
    let server = Server::start(|req, _| {
        if req.path.starts_with("/nope.onmicrosoft.com/") {
            return json(400, serde_json::json!({
                "error": "invalid_request",
                "error_description": "AADSTS90002: Tenant 'nope.onmicrosoft.com' not found. Check to make sure you have the correct tenant ID and are signing into the correct cloud.\r\nTrace ID: 0000\r\nCorrelation ID: 1111\r\nTimestamp: 2024-01-01 00:00:00Z",
                "error_codes": [90002],
                "timestamp": "2024-01-01 00:00:00Z",
                "trace_id": "0000",
                "correlation_id": "1111"
            }));
        }
        if req.path.ends_with("/oauth2/v2.0/token") {
            return token("t", 3600);
        }
        if req.method == "GET" && req.path == "/v1.0/domains/contoso.com" {
            return json(404, serde_json::json!({"error": {"code": "Request_ResourceNotFound", "message": "Resource 'contoso.com' does not exist."}}));
        }
        json(403, serde_json::json!({"error": {"code": "Authorization_RequestDenied", "message": "Insufficient privileges to complete the operation.", "innerError": {"date": "2024-01-01T00:00:00", "request-id": "5d8f3b1c-0000-0000-0000-000000000000", "client-request-id": "x"}}}))
    })
    .await;
    let project = project();
    let wrong = connect(&server, &project, "nope.onmicrosoft.com", policy());
    let err =
        wrong.auth.sign_in_with_client_secret(Secret::new("app-client-secret-value")).await.expect_err("no tenant");
    let api = err.api().expect("identity error");
    assert!(api.has_aadsts(90002));
    assert!(err.to_string().contains("Check the tenant id"), "{err}");
    assert_eq!(wrong.auth.stored_kind().await.expect("kind"), None, "a failed sign-in stores nothing");

    let m = connect(&server, &project, "contoso.onmicrosoft.com", policy());
    app_sign_in(&m).await;
    let err = m.graph.add_domain("contoso.com").await.expect_err("403");
    let text = err.to_string();
    assert!(text.contains("Domain.ReadWrite.All") && text.contains("Authorization_RequestDenied"), "{text}");
    assert!(text.contains("5d8f3b1c"), "the request id to quote: {text}");
    m.auth.sign_out().await.expect("sign out");
}

/// Captures every log line at TRACE level while the clients sign in and call Graph, then looks for secrets.
#[tokio::test]
async fn no_secret_reaches_the_log() {
    #[derive(Clone, Default)]
    struct Buf(Arc<Mutex<Vec<u8>>>);
    impl std::io::Write for Buf {
        fn write(&mut self, b: &[u8]) -> std::io::Result<usize> {
            self.0.lock().expect("buf").extend_from_slice(b);
            Ok(b.len())
        }
        fn flush(&mut self) -> std::io::Result<()> {
            Ok(())
        }
    }
    let buf = Buf::default();
    let writer = buf.clone();
    let subscriber = tracing_subscriber::fmt()
        .with_max_level(tracing::Level::TRACE)
        .with_ansi(false)
        .with_writer(move || writer.clone())
        .finish();
    let _guard = tracing::subscriber::set_default(subscriber);
    let server = Server::start(|req, _| {
        if req.path.ends_with("/oauth2/v2.0/token") {
            return token("access-token-must-not-leak", 3600);
        }
        json(
            401,
            serde_json::json!({"error": {"code": "InvalidAuthenticationToken", "message": "Access token is empty."}}),
        )
    })
    .await;
    let project = project();
    let m = connect(&server, &project, "contoso.onmicrosoft.com", policy());
    m.auth.sign_in_with_client_secret(Secret::new("client-secret-must-not-leak")).await.expect("sign in");
    let err = m.graph.organization().await.expect_err("401 twice");
    let shown = format!("{err} {err:?}");
    m.auth.sign_out().await.expect("sign out");
    let log = String::from_utf8_lossy(&buf.0.lock().expect("buf")).to_string();
    assert!(log.contains("http"), "the log was captured: {log}");
    for secret in ["access-token-must-not-leak", "client-secret-must-not-leak", "refresh-after-access-token"] {
        assert!(!log.contains(secret), "{secret} in the log");
        assert!(!shown.contains(secret), "{secret} in the error");
    }
}

/// `cutover auth login|status|logout` as a separate process: the sign-in is kept in the OS keyring and no secret
/// reaches state.json, audit.jsonl, cutover.log or anything else in the project folder.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn the_auth_commands_keep_secrets_out_of_the_project_folder() {
    let server = Server::start(|req, _| {
        if req.path.ends_with("/oauth2/v2.0/token") {
            assert_eq!(form_field(&req.body, "client_secret").as_deref(), Some("cli-secret-must-not-leak"));
            return token("cli-access-token-must-not-leak", 3600);
        }
        json(404, serde_json::json!({}))
    })
    .await;
    let home = tempfile::tempdir().expect("temp home");
    let name = project();
    {
        use cutover::plan::kickoff::Field;
        use cutover::project::{DataHome, Project, ProjectName};
        let mut p = Project::create(&DataHome::at(home.path()), &ProjectName::parse(&name).expect("name"), false)
            .expect("create");
        let url = server.url();
        p.change(None, "test-setup", serde_json::json!({}), |s| {
            s.m365.cloud = Cloud::custom(&url, &url, &url).expect("cloud");
            Field::Tenant.apply(&mut s.kickoff, "contoso.onmicrosoft.com")
        })
        .expect("io")
        .expect("valid");
    }
    let run = |args: Vec<&'static str>, stdin: &'static str| {
        let home = home.path().to_owned();
        let name = name.clone();
        tokio::task::spawn_blocking(move || {
            use std::io::Write;
            let mut child = std::process::Command::new(env!("CARGO_BIN_EXE_cutover"))
                .args(&args)
                .args(["--project", &name])
                .env("CUTOVER_HOME", &home)
                .stdin(std::process::Stdio::piped())
                .stdout(std::process::Stdio::piped())
                .stderr(std::process::Stdio::piped())
                .spawn()
                .expect("spawn cutover");
            child.stdin.take().expect("stdin").write_all(stdin.as_bytes()).expect("write stdin");
            child.wait_with_output().expect("run cutover")
        })
    };
    let login = run(
        vec!["auth", "login", "--client-secret-stdin", "--client-id", "11111111-2222-3333-4444-555555555555"],
        "cli-secret-must-not-leak\n",
    )
    .await
    .expect("join");
    let text = |o: &std::process::Output| {
        format!("{}{}", String::from_utf8_lossy(&o.stdout), String::from_utf8_lossy(&o.stderr))
    };
    assert!(login.status.success(), "{}", text(&login));
    let status = run(vec!["auth", "status", "--json"], "").await.expect("join");
    assert!(status.status.success(), "{}", text(&status));
    let doc: serde_json::Value = serde_json::from_slice(&status.stdout).expect("one JSON document");
    assert_eq!(doc["signed_in"], true);
    assert_eq!(doc["kind"], "client-secret");
    let mut files = Vec::new();
    let mut dirs = vec![home.path().to_owned()];
    while let Some(dir) = dirs.pop() {
        for entry in std::fs::read_dir(&dir).expect("list").filter_map(Result::ok) {
            let path = entry.path();
            if path.is_dir() { dirs.push(path) } else { files.push(path) }
        }
    }
    let names: Vec<String> =
        files.iter().map(|f| f.file_name().unwrap_or_default().to_string_lossy().into_owned()).collect();
    for written in ["state.json", "audit.jsonl", "cutover.log"] {
        assert!(names.contains(&written.to_owned()), "{written} missing from {names:?}");
    }
    let log = std::fs::read_to_string(home.path().join("projects").join(&name).join("cutover.log")).expect("log");
    assert!(log.contains("/oauth2/v2.0/token"), "the HTTP layer logs its requests: {log}");
    let state = std::fs::read_to_string(home.path().join("projects").join(&name).join("state.json")).expect("state");
    assert!(state.contains("11111111-2222-3333-4444-555555555555"), "the client id is remembered");
    for file in &files {
        let content = String::from_utf8_lossy(&std::fs::read(file).expect("read")).into_owned();
        for secret in ["cli-secret-must-not-leak", "cli-access-token-must-not-leak", "refresh-after-cli-access"] {
            assert!(!content.contains(secret), "{secret} found in {}", file.display());
        }
    }
    for output in [&login, &status] {
        assert!(!text(output).contains("must-not-leak"), "{}", text(output));
    }
    let logout = run(vec!["auth", "logout"], "").await.expect("join");
    assert!(logout.status.success(), "{}", text(&logout));
    let after = run(vec!["auth", "status", "--json"], "").await.expect("join");
    assert_eq!(after.status.code(), Some(1), "{}", text(&after));
}

#[tokio::test]
async fn a_malformed_body_is_a_typed_error_and_retries_are_announced() {
    let server = Server::start(|req, log| {
        if req.path.ends_with("/oauth2/v2.0/token") {
            return token("t", 3600);
        }
        if req.path.starts_with("/v1.0/organization") {
            return Action::Reply(200, vec![], r#"{"value":[{"id": "84841066", "displayName": "#.into());
        }
        let earlier = log.iter().filter(|r| r.path == req.path).count();
        if earlier == 0 {
            return Action::Reply(429, vec![("retry-after", "1".into())], "{}".into());
        }
        json(200, serde_json::json!({"value": [{"id": "contoso.com", "isVerified": false}]}))
    })
    .await;
    let project = project();
    let notices: Arc<Mutex<Vec<cutover::m365::RetryNotice>>> = Arc::default();
    let seen = notices.clone();
    let url = server.url();
    let settings = ConnectionSettings {
        cloud: Cloud::custom(&url, &url, &url).expect("loopback cloud"),
        client_id: Some("11111111-2222-3333-4444-555555555555".into()),
        ca_cert: None,
    };
    let http = cutover::m365::HttpClient::new(policy(), None)
        .expect("client")
        .with_observer(Arc::new(move |n| seen.lock().expect("notices").push(n.clone())));
    let m = M365::connect(&project, "contoso.onmicrosoft.com", &settings, Secrets::open().expect("keyring"), http)
        .expect("connect");
    app_sign_in(&m).await;
    let err = m.graph.organization().await.expect_err("truncated JSON");
    assert!(matches!(err, M365Error::Malformed { .. }), "{err}");
    assert!(err.to_string().contains("cannot read"), "{err}");
    let domains = m.graph.domains().await.expect("after one throttle");
    assert!(!domains[0].is_verified);
    let notices = notices.lock().expect("notices").clone();
    assert_eq!(notices.len(), 1);
    let cutover::m365::Waiting::Retrying { delay, reason } = &notices[0].waiting else { panic!("{:?}", notices[0]) };
    assert_eq!(*delay, Duration::from_secs(1));
    assert!(reason.contains("429"), "{:?}", notices[0]);
    m.auth.sign_out().await.expect("sign out");
}

/// A TLS test double on 127.0.0.1 whose certificate comes from a CA of its own; returns its URL and the CA's PEM.
async fn tls_server() -> (String, String) {
    use rcgen::{BasicConstraints, CertificateParams, IsCa, Issuer, KeyPair};
    use tokio_rustls::rustls;
    let ca_key = KeyPair::generate().expect("CA key");
    let mut ca = CertificateParams::new(Vec::<String>::new()).expect("CA params");
    ca.is_ca = IsCa::Ca(BasicConstraints::Unconstrained);
    let ca_cert = ca.self_signed(&ca_key).expect("CA");
    let leaf_key = KeyPair::generate().expect("leaf key");
    let leaf = CertificateParams::new(vec!["127.0.0.1".to_owned()]).expect("leaf params");
    let leaf_cert = leaf.signed_by(&leaf_key, &Issuer::new(ca, ca_key)).expect("leaf");
    let key = rustls::pki_types::PrivateKeyDer::Pkcs8(leaf_key.serialize_der().into());
    let config = rustls::ServerConfig::builder_with_provider(Arc::new(rustls::crypto::aws_lc_rs::default_provider()))
        .with_safe_default_protocol_versions()
        .expect("versions")
        .with_no_client_auth()
        .with_single_cert(vec![leaf_cert.der().clone()], key)
        .expect("server config");
    let acceptor = tokio_rustls::TlsAcceptor::from(Arc::new(config));
    let listener = TcpListener::bind("127.0.0.1:0").await.expect("bind");
    let addr = listener.local_addr().expect("addr");
    tokio::spawn(async move {
        while let Ok((socket, _)) = listener.accept().await {
            let acceptor = acceptor.clone();
            tokio::spawn(async move {
                let Ok(mut tls) = acceptor.accept(socket).await else { return };
                let mut buf = [0u8; 4096];
                let _ = tls.read(&mut buf).await;
                let body = r#"{"value":[{"id":"Exchange","service":"Exchange Online","status":"serviceOperational"}]}"#;
                let answer = format!(
                    "HTTP/1.1 200 OK\r\ncontent-type: application/json\r\ncontent-length: {}\r\nconnection: close\r\n\r\n{body}",
                    body.len()
                );
                let _ = tls.write_all(answer.as_bytes()).await;
                let _ = tls.shutdown().await;
            });
        }
    });
    (format!("https://{addr}"), ca_cert.pem())
}

#[tokio::test]
async fn an_untrusted_certificate_is_named_and_a_given_ca_is_trusted() {
    use cutover::m365::Service;
    use cutover::m365::http::Request;
    let (url, ca_pem) = tls_server().await;
    let req = Request::new(Service::Graph, reqwest::Method::GET, url::Url::parse(&url).expect("url"));
    let plain = cutover::m365::HttpClient::new(policy(), None).expect("client");
    let err = plain.send(&req, None).await.expect_err("untrusted");
    assert!(matches!(err, M365Error::Network { .. }), "{err}");
    assert!(err.to_string().contains("--ca-cert"), "{err}");
    let dir = tempfile::tempdir().expect("temp");
    let pem = dir.path().join("ca.pem");
    std::fs::write(&pem, &ca_pem).expect("write CA");
    let trusting = cutover::m365::HttpClient::with_ca_file(policy(), Some(&pem)).expect("client with CA");
    let response = trusting.send(&req, None).await.expect("trusted through --ca-cert");
    assert_eq!(response.status, 200);
}

#[tokio::test]
async fn an_unknown_exchange_object_is_none_and_other_exchange_errors_keep_their_exception() {
    let server = Server::start(|req, _| {
        if req.path.ends_with("/oauth2/v2.0/token") {
            return token("t", 3600);
        }
        let detail = if req.body.contains("NoSuchBatch") {
            "Ex6F9304|Microsoft.Exchange.Configuration.Tasks.ManagementObjectNotFoundException|The operation couldn't be performed because object 'NoSuchBatch' couldn't be found on 'AM0PR01A001DC01.EURPR01A001.prod.outlook.com'."
        } else {
            "Ex1A2B3C|Microsoft.Exchange.Migration.MigrationPermanentException|Directory synchronization is enabled for this tenant. A cutover migration can't be started."
        };
        json(400, serde_json::json!({"error": {"code": "BadRequest", "message": "Error executing cmdlet", "details": [{"code": "Ex", "target": "", "message": detail}]}}))
    })
    .await;
    let project = project();
    let m = connect(&server, &project, "contoso.onmicrosoft.com", policy());
    app_sign_in(&m).await;
    assert_eq!(m.exo.get_migration_batch("NoSuchBatch").await.expect("not found is an answer"), None);
    let err = m.exo.batch_action(cutover::m365::exo::BatchAction::Start, "CutoverBatch").await.expect_err("refused");
    let api = err.api().expect("typed");
    assert_eq!(api.exception_type(), Some("MigrationPermanentException"));
    assert!(err.to_string().contains("Directory synchronization is enabled"), "{err}");
    assert_eq!(server.requests("/adminapi").len(), 2, "a refused write is not resent");
    m.auth.sign_out().await.expect("sign out");
}
