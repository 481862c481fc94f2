//! The Microsoft identity platform's v2.0 endpoints: `/{tenant}/oauth2/v2.0/devicecode` and `/token` with the
//! device_code, client_credentials and refresh_token grants; tokens that expire; errors in the platform's JSON
//! (`error`, `error_description` starting with `AADSTS…`, `error_codes`, `timestamp`, `trace_id`, `correlation_id`).

use axum::extract::{Form, Path, State, rejection::FormRejection};
use axum::http::StatusCode;
use axum::response::{IntoResponse, Response};
use axum::{Json, Router, routing::post};
use base64::Engine;
use base64::engine::general_purpose::URL_SAFE_NO_PAD;
use rand::RngExt;
use serde_json::json;
use std::collections::HashMap;
use std::time::{Duration, Instant};

use super::Shared;

pub const GRAPH_AUDIENCE: &str = "https://graph.microsoft.com";
pub const EXO_AUDIENCE: &str = "https://outlook.office365.com";
const DEVICE_CODE_GRANT: &str = "urn:ietf:params:oauth:grant-type:device_code";
/// Microsoft's own public clients that admins commonly sign in with (Graph PowerShell, Exchange Online PowerShell).
const WELL_KNOWN_PUBLIC_CLIENTS: &[&str] =
    &["14d82eec-204b-4c2f-b7e8-296a70dab67e", "fb78d390-0c51-40cd-8e17-fdbfab77341b"];
/// Delegated permissions the simulated admin consented to, per resource.
const GRAPH_CONSENTED: &str =
    "Directory.ReadWrite.All Domain.ReadWrite.All Organization.Read.All ServiceHealth.Read.All User.ReadWrite.All";
const EXO_CONSENTED: &str = "Exchange.Manage";
/// Application permissions an administrator granted the simulated app registration (client credentials).
const GRAPH_APP_ROLES: &[&str] =
    &["Directory.ReadWrite.All", "Domain.ReadWrite.All", "User.ReadWrite.All", "Organization.Read.All", "Mail.Send"];

/// Identity state: pending device codes, issued tokens and refresh tokens.
#[derive(Debug, Default)]
pub struct AuthState {
    device_codes: HashMap<String, DeviceCode>,
    tokens: HashMap<String, Token>,
    refresh_tokens: HashMap<String, Grant>,
    /// Delegated Graph permissions consented to at a device code sign-in that asked for them by name, beyond
    /// those consented up front (incremental consent).
    consented: std::collections::BTreeSet<String>,
    pub token_lifetime: Duration,
    pub device_code_lifetime: Duration,
    pub poll_interval: Duration,
    pub auto_approve: bool,
}

#[derive(Debug, Clone)]
struct DeviceCode {
    user_code: String,
    client_id: String,
    scopes: Vec<String>,
    issued: Instant,
    last_poll: Option<Instant>,
    decision: Decision,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Decision {
    Pending,
    Approved,
    Declined,
    Redeemed,
}

#[derive(Debug, Clone)]
struct Token {
    audience: String,
    expires: Instant,
    revoked: bool,
    /// The token's `scp` (delegated) or `roles` (app), for the resources that check a permission.
    permissions: Vec<String>,
    /// The signed-in user of a delegated token; none for an app's.
    upn: Option<String>,
}

/// What a refresh token may be redeemed for.
#[derive(Debug, Clone)]
struct Grant {
    client_id: String,
    revoked: bool,
}

/// Why a bearer token was refused by a resource.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum TokenProblem {
    Missing,
    Unknown,
    Expired,
    Revoked,
    WrongAudience,
}

impl AuthState {
    pub fn new(
        token_lifetime: Duration,
        device_code_lifetime: Duration,
        poll_interval: Duration,
        auto_approve: bool,
    ) -> Self {
        AuthState { token_lifetime, device_code_lifetime, poll_interval, auto_approve, ..Default::default() }
    }

    /// Checks a bearer token for a resource.
    pub fn check(&self, authorization: Option<&str>, audience: &str) -> Result<(), TokenProblem> {
        let raw = authorization.ok_or(TokenProblem::Missing)?;
        let token =
            raw.strip_prefix("Bearer ").or_else(|| raw.strip_prefix("bearer ")).ok_or(TokenProblem::Missing)?.trim();
        let t = self.tokens.get(token).ok_or(TokenProblem::Unknown)?;
        if t.revoked {
            return Err(TokenProblem::Revoked);
        }
        if Instant::now() >= t.expires {
            return Err(TokenProblem::Expired);
        }
        if t.audience != audience {
            return Err(TokenProblem::WrongAudience);
        }
        Ok(())
    }

    /// A token's permissions (its `scp` or its `roles`) and its signed-in user (none for an app).
    pub fn grants(&self, authorization: Option<&str>) -> Option<(&[String], Option<&str>)> {
        let token = authorization
            .and_then(|raw| raw.strip_prefix("Bearer ").or_else(|| raw.strip_prefix("bearer ")))
            .map(str::trim)
            .and_then(|t| self.tokens.get(t))?;
        Some((token.permissions.as_slice(), token.upn.as_deref()))
    }

    /// Delegated Graph permissions named in `scope` that were never consented to.
    fn not_consented(&self, scope: &str) -> Vec<String> {
        named_graph_permissions(scope)
            .into_iter()
            .filter(|p| !GRAPH_CONSENTED.split(' ').any(|c| c == p) && !self.consented.contains(p))
            .collect()
    }

    /// Approves (or declines) pending device codes: the one with this user code, or all of them.
    pub fn decide(&mut self, user_code: Option<&str>, approve: bool) -> usize {
        let mut n = 0;
        for d in self.device_codes.values_mut() {
            if d.decision == Decision::Pending && user_code.is_none_or(|u| u.eq_ignore_ascii_case(&d.user_code)) {
                d.decision = if approve { Decision::Approved } else { Decision::Declined };
                n += 1;
            }
        }
        n
    }

    /// Pending device codes by user code.
    pub fn pending_user_codes(&self) -> Vec<String> {
        self.device_codes.values().filter(|d| d.decision == Decision::Pending).map(|d| d.user_code.clone()).collect()
    }

    /// Makes every access token expire now (the next call must refresh).
    pub fn expire_all(&mut self) {
        let now = Instant::now();
        for t in self.tokens.values_mut() {
            t.expires = now;
        }
    }

    /// Every access token, refresh token and device code issued so far, revoked and expired ones too: what a
    /// test scans the client's files, screens and processes for.
    pub fn issued_secrets(&self) -> (Vec<String>, Vec<String>, Vec<String>) {
        let sorted = |mut v: Vec<String>| {
            v.sort();
            v
        };
        (
            sorted(self.tokens.keys().cloned().collect()),
            sorted(self.refresh_tokens.keys().cloned().collect()),
            sorted(self.device_codes.keys().cloned().collect()),
        )
    }

    /// Revokes every access and refresh token (as when an admin revokes sessions).
    pub fn revoke_all(&mut self) {
        for t in self.tokens.values_mut() {
            t.revoked = true;
        }
        for g in self.refresh_tokens.values_mut() {
            g.revoked = true;
        }
    }
}

pub fn router() -> Router<Shared> {
    Router::new()
        .route("/{tenant}/oauth2/v2.0/devicecode", post(devicecode))
        .route("/{tenant}/oauth2/v2.0/token", post(token))
}

type Params = Result<Form<HashMap<String, String>>, FormRejection>;

/// An error in the identity platform's JSON form.
pub fn aad_error(status: StatusCode, error: &str, code: u32, text: &str) -> Response {
    let now = chrono::Utc::now();
    let timestamp = now.format("%Y-%m-%d %H:%M:%SZ").to_string();
    let trace = uuid::Uuid::new_v4().to_string();
    let correlation = uuid::Uuid::new_v4().to_string();
    let body = json!({
        "error": error,
        "error_description": format!(
            "AADSTS{code}: {text}\r\nTrace ID: {trace}\r\nCorrelation ID: {correlation}\r\nTimestamp: {timestamp}"
        ),
        "error_codes": [code],
        "timestamp": timestamp,
        "trace_id": trace,
        "correlation_id": correlation,
        "error_uri": format!("https://login.microsoftonline.com/error?code={code}"),
    });
    (status, Json(body)).into_response()
}

fn missing(name: &str) -> Response {
    aad_error(
        StatusCode::BAD_REQUEST,
        "invalid_request",
        900144,
        &format!("The request body must contain the following parameter: '{name}'."),
    )
}

fn tenant_known(shared: &Shared, tenant: &str) -> bool {
    let info = &shared.info;
    ["organizations", "common"].contains(&tenant)
        || tenant.eq_ignore_ascii_case(&info.tenant_id)
        || tenant.eq_ignore_ascii_case(&info.tenant_domain)
        || info.email_domains.iter().any(|d| d.eq_ignore_ascii_case(tenant))
}

fn unknown_tenant(tenant: &str) -> Response {
    aad_error(
        StatusCode::BAD_REQUEST,
        "invalid_tenant",
        90002,
        &format!(
            "Tenant '{tenant}' not found. Check to make sure you have the correct tenant ID and are signing into the correct cloud."
        ),
    )
}

fn unknown_client(client_id: &str, tenant: &str) -> Response {
    aad_error(
        StatusCode::BAD_REQUEST,
        "unauthorized_client",
        700016,
        &format!(
            "Application with identifier '{client_id}' was not found in the directory '{tenant}'. This can happen if the application has not been installed by the administrator of the tenant."
        ),
    )
}

/// The Graph permissions a scope parameter names (not `.default`, not the OpenID scopes).
fn named_graph_permissions(scope: &str) -> Vec<String> {
    scope
        .split_whitespace()
        .filter(|s| !["openid", "profile", "email", "offline_access"].contains(s))
        .filter_map(|s| match s.strip_prefix("https://graph.microsoft.com/") {
            Some(rest) => Some(rest),
            None if !s.contains("://") => Some(s),
            None => None,
        })
        .filter(|p| *p != ".default")
        .map(str::to_owned)
        .collect()
}

/// Splits a scope parameter into the audience it is for and the scopes as the answer lists them.
fn resolve_scope(scope: &str) -> Result<(String, String), Box<Response>> {
    let mut audience: Option<&str> = None;
    let mut named = Vec::new();
    let mut default = false;
    for s in scope.split_whitespace() {
        if ["openid", "profile", "email", "offline_access"].contains(&s) {
            continue;
        }
        let (aud, name) = if let Some(rest) = s.strip_prefix("https://graph.microsoft.com/") {
            (GRAPH_AUDIENCE, rest)
        } else if let Some(rest) = s.strip_prefix("https://outlook.office365.com/") {
            (EXO_AUDIENCE, rest)
        } else if s.contains("://") {
            return Err(Box::new(aad_error(
                StatusCode::BAD_REQUEST,
                "invalid_resource",
                500011,
                &format!("The resource principal named {s} was not found in the tenant."),
            )));
        } else {
            (GRAPH_AUDIENCE, s)
        };
        if audience.is_some_and(|a| a != aud) {
            return Err(Box::new(aad_error(
                StatusCode::BAD_REQUEST,
                "invalid_scope",
                28000,
                "Provided value for the input parameter scope is not valid because it contains more than one resource.",
            )));
        }
        audience = Some(aud);
        if name == ".default" {
            default = true;
        } else {
            named.push(name.to_string());
        }
    }
    let Some(aud) = audience else {
        return Err(Box::new(aad_error(
            StatusCode::BAD_REQUEST,
            "invalid_scope",
            70011,
            "The provided request must include a 'scope' input parameter naming a resource.",
        )));
    };
    let listed = if default || named.is_empty() {
        if aud == GRAPH_AUDIENCE { GRAPH_CONSENTED.to_string() } else { EXO_CONSENTED.to_string() }
    } else {
        named.join(" ")
    };
    let listed = if aud == GRAPH_AUDIENCE {
        listed
    } else {
        listed.split(' ').map(|s| format!("{EXO_AUDIENCE}/{s}")).collect::<Vec<_>>().join(" ")
    };
    Ok((aud.to_string(), listed))
}

fn random_token(bytes: usize) -> String {
    let mut buf = vec![0u8; bytes];
    rand::rng().fill(&mut buf[..]);
    URL_SAFE_NO_PAD.encode(buf)
}

async fn devicecode(State(shared): State<Shared>, Path(tenant): Path<String>, params: Params) -> Response {
    let Ok(Form(p)) = params else { return missing("client_id") };
    if !tenant_known(&shared, &tenant) {
        return unknown_tenant(&tenant);
    }
    let Some(client_id) = p.get("client_id") else { return missing("client_id") };
    let Some(scope) = p.get("scope") else { return missing("scope") };
    if !is_public_client(&shared, client_id) {
        return unknown_client(client_id, &tenant);
    }
    if let Err(e) = resolve_scope(scope) {
        return *e;
    }
    let device_code = random_token(96);
    let user_code: String = {
        const LETTERS: &[u8] = b"ABCDEFGHJKLMNPQRSTUVWXYZ23456789";
        let mut rng = rand::rng();
        (0..9).map(|_| LETTERS[rng.random_range(0..LETTERS.len())] as char).collect()
    };
    let verification_uri = format!("{}/devicelogin", shared.info.control_url);
    let mut world = shared.lock();
    let auth = &mut world.auth;
    let decision = if auth.auto_approve { Decision::Approved } else { Decision::Pending };
    auth.device_codes.insert(
        device_code.clone(),
        DeviceCode {
            user_code: user_code.clone(),
            client_id: client_id.clone(),
            scopes: scope.split_whitespace().map(str::to_string).collect(),
            issued: Instant::now(),
            last_poll: None,
            decision,
        },
    );
    let body = json!({
        "user_code": user_code,
        "device_code": device_code,
        "verification_uri": verification_uri,
        "expires_in": auth.device_code_lifetime.as_secs(),
        "interval": auth.poll_interval.as_secs(),
        "message": format!(
            "To sign in, use a web browser to open the page {verification_uri} and enter the code {user_code} to authenticate."
        ),
    });
    (StatusCode::OK, Json(body)).into_response()
}

fn is_public_client(shared: &Shared, client_id: &str) -> bool {
    client_id == shared.info.client_id || WELL_KNOWN_PUBLIC_CLIENTS.contains(&client_id)
}

async fn token(State(shared): State<Shared>, Path(tenant): Path<String>, params: Params) -> Response {
    let Ok(Form(p)) = params else { return missing("grant_type") };
    if !tenant_known(&shared, &tenant) {
        return unknown_tenant(&tenant);
    }
    let Some(grant_type) = p.get("grant_type") else { return missing("grant_type") };
    let Some(client_id) = p.get("client_id") else { return missing("client_id") };
    match grant_type.as_str() {
        DEVICE_CODE_GRANT => device_code_grant(&shared, &tenant, client_id, &p),
        "client_credentials" => client_credentials(&shared, &tenant, client_id, &p),
        "refresh_token" => refresh(&shared, client_id, &p),
        other => aad_error(
            StatusCode::BAD_REQUEST,
            "unsupported_grant_type",
            70003,
            &format!("The app requested an unsupported grant type '{other}'."),
        ),
    }
}

fn device_code_grant(shared: &Shared, tenant: &str, client_id: &str, p: &HashMap<String, String>) -> Response {
    let Some(code) = p.get("device_code") else { return missing("device_code") };
    let mut world = shared.lock();
    let auth = &mut world.auth;
    let (lifetime, interval) = (auth.device_code_lifetime, auth.poll_interval);
    let Some(d) = auth.device_codes.get_mut(code) else {
        return aad_error(
            StatusCode::BAD_REQUEST,
            "bad_verification_code",
            70000,
            "The provided value for the input parameter 'device_code' is not valid.",
        );
    };
    if d.client_id != client_id {
        return unknown_client(client_id, tenant);
    }
    let now = Instant::now();
    if now.duration_since(d.issued) >= lifetime {
        return aad_error(
            StatusCode::BAD_REQUEST,
            "expired_token",
            70020,
            "The provided value for the input parameter 'device_code' is not valid. This device code has expired.",
        );
    }
    // Polling faster than the interval is answered with slow_down (RFC 8628, section 3.5).
    let too_fast = d.last_poll.is_some_and(|last| now.duration_since(last) + Duration::from_millis(250) < interval);
    d.last_poll = Some(now);
    match d.decision {
        Decision::Declined => {
            aad_error(StatusCode::BAD_REQUEST, "authorization_declined", 70000, "The user has declined the request.")
        }
        Decision::Redeemed => aad_error(
            StatusCode::BAD_REQUEST,
            "invalid_grant",
            54005,
            "OAuth2 Authorization code was already redeemed, please retry with a new valid code or use an existing refresh token.",
        ),
        _ if too_fast => aad_error(
            StatusCode::BAD_REQUEST,
            "slow_down",
            70016,
            "The client is polling too often. Wait the interval before polling again.",
        ),
        Decision::Pending => aad_error(
            StatusCode::BAD_REQUEST,
            "authorization_pending",
            70016,
            "The provided request has not yet been authorized by the user. The user must input their code.",
        ),
        Decision::Approved => {
            d.decision = Decision::Redeemed;
            let scope = d.scopes.join(" ");
            // Signing in at a code that named permissions is accepting them.
            let named = named_graph_permissions(&scope);
            auth.consented.extend(named);
            let offline = d.scopes.iter().any(|s| s == "offline_access");
            let id_token = d.scopes.iter().any(|s| s == "openid");
            let client = d.client_id.clone();
            drop(world);
            issue(shared, &client, &scope, offline, id_token, true)
        }
    }
}

fn client_credentials(shared: &Shared, tenant: &str, client_id: &str, p: &HashMap<String, String>) -> Response {
    if client_id != shared.info.app_id {
        return unknown_client(client_id, tenant);
    }
    let Some(secret) = p.get("client_secret") else {
        return aad_error(
            StatusCode::UNAUTHORIZED,
            "invalid_client",
            7000218,
            "The request body must contain the following parameter: 'client_assertion' or 'client_secret'.",
        );
    };
    if secret != &shared.info.app_secret {
        return aad_error(
            StatusCode::UNAUTHORIZED,
            "invalid_client",
            7000215,
            "Invalid client secret provided. Ensure the secret being sent in the request is the client secret value, not the client secret ID.",
        );
    }
    let Some(scope) = p.get("scope") else { return missing("scope") };
    if !scope.split_whitespace().all(|s| s.ends_with("/.default")) {
        return aad_error(
            StatusCode::BAD_REQUEST,
            "invalid_scope",
            1002012,
            &format!(
                "The provided value for scope {scope} is not valid. Client credential flows must have a scope value with /.default suffixed to the resource identifier (application ID URI)."
            ),
        );
    }
    issue(shared, client_id, scope, false, false, false)
}

fn refresh(shared: &Shared, client_id: &str, p: &HashMap<String, String>) -> Response {
    let Some(rt) = p.get("refresh_token") else { return missing("refresh_token") };
    let scope = p.get("scope").cloned().unwrap_or_else(|| format!("{GRAPH_AUDIENCE}/.default"));
    {
        let world = shared.lock();
        match world.auth.refresh_tokens.get(rt) {
            None => {
                return aad_error(
                    StatusCode::BAD_REQUEST,
                    "invalid_grant",
                    9002313,
                    "Invalid request. Request is malformed or invalid.",
                );
            }
            Some(g) if g.revoked => {
                return aad_error(
                    StatusCode::BAD_REQUEST,
                    "invalid_grant",
                    50173,
                    "The provided grant has expired due to it being revoked, a fresh auth token is needed. The user might have changed or reset their password.",
                );
            }
            Some(g) if g.client_id != client_id => {
                return aad_error(
                    StatusCode::BAD_REQUEST,
                    "invalid_grant",
                    70000,
                    "Provided grant is invalid or malformed: the refresh token was issued to a different client.",
                );
            }
            Some(_) => {}
        }
        let missing = world.auth.not_consented(&scope);
        if !missing.is_empty() {
            return aad_error(
                StatusCode::BAD_REQUEST,
                "invalid_grant",
                65001,
                &format!(
                    "The user or administrator has not consented to use the application with ID '{client_id}' named 'cutover' for {}. Send an interactive authorization request for this user and resource.",
                    missing.join(", ")
                ),
            );
        }
    }
    issue(shared, client_id, &scope, true, false, true)
}

/// Issues an access token (and a refresh token when asked) for the scope's resource.
fn issue(shared: &Shared, client_id: &str, scope: &str, offline: bool, id_token: bool, delegated: bool) -> Response {
    let (audience, listed) = match resolve_scope(scope) {
        Ok(x) => x,
        Err(e) => return *e,
    };
    let info = &shared.info;
    let mut world = shared.lock();
    let lifetime = world.auth.token_lifetime;
    let now = chrono::Utc::now().timestamp();
    let header = URL_SAFE_NO_PAD.encode(br#"{"typ":"JWT","alg":"RS256","kid":"cutover-sim"}"#);
    let mut claims = json!({
        "aud": audience,
        "iss": format!("https://sts.windows.net/{}/", info.tenant_id),
        "iat": now, "nbf": now, "exp": now + lifetime.as_secs() as i64,
        "appid": client_id,
        "tid": info.tenant_id,
        "ver": "1.0",
        "jti": uuid::Uuid::new_v4().to_string(),
    });
    let upn = delegated.then(|| format!("admin@{}", info.tenant_domain));
    let permissions: Vec<String> = if delegated {
        let mut scp: Vec<String> = listed.split(' ').map(str::to_owned).collect();
        // `.default` brings every permission consented to, those given later included.
        if listed == GRAPH_CONSENTED {
            scp.extend(world.auth.consented.iter().cloned());
        }
        claims["scp"] = json!(scp.join(" "));
        claims["upn"] = json!(format!("admin@{}", info.tenant_domain));
        scp
    } else {
        let roles: Vec<String> = if audience == GRAPH_AUDIENCE {
            GRAPH_APP_ROLES.iter().map(|r| (*r).to_owned()).collect()
        } else {
            vec!["Exchange.ManageAsApp".to_owned()]
        };
        claims["roles"] = json!(roles);
        roles
    };
    let payload = URL_SAFE_NO_PAD.encode(claims.to_string());
    let access = format!("{header}.{payload}.{}", random_token(64));
    world.auth.tokens.insert(
        access.clone(),
        Token { audience, expires: Instant::now() + lifetime, revoked: false, permissions, upn },
    );
    let mut body = json!({
        "token_type": "Bearer",
        "expires_in": lifetime.as_secs(),
        "ext_expires_in": lifetime.as_secs(),
        "access_token": access,
    });
    if delegated {
        body["scope"] = json!(listed);
    }
    if offline {
        let rt = format!("1.{}", random_token(96));
        world.auth.refresh_tokens.insert(rt.clone(), Grant { client_id: client_id.to_string(), revoked: false });
        body["refresh_token"] = json!(rt);
    }
    if id_token {
        let id_claims = json!({"aud": client_id, "tid": info.tenant_id, "preferred_username": format!("admin@{}", info.tenant_domain), "name": "Simulated Admin", "iat": now, "exp": now + 3600});
        body["id_token"] = json!(format!(
            "{}.{}.{}",
            URL_SAFE_NO_PAD.encode(br#"{"typ":"JWT","alg":"none"}"#),
            URL_SAFE_NO_PAD.encode(id_claims.to_string()),
            ""
        ));
    }
    (StatusCode::OK, Json(body)).into_response()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn scopes_resolve_to_one_resource() {
        assert_eq!(resolve_scope("https://graph.microsoft.com/.default offline_access").unwrap().0, GRAPH_AUDIENCE);
        let (aud, listed) = resolve_scope("https://outlook.office365.com/.default").unwrap();
        assert_eq!(aud, EXO_AUDIENCE);
        assert!(listed.starts_with("https://outlook.office365.com/"));
        assert_eq!(resolve_scope("User.Read openid").unwrap().1, "User.Read");
        assert!(resolve_scope("https://graph.microsoft.com/.default https://outlook.office365.com/.default").is_err());
        assert!(resolve_scope("openid profile").is_err());
    }
}
