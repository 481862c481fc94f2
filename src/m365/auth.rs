//! Sign-in to the Microsoft identity platform (v2.0 endpoints): the device code flow for the engineer, client
//! credentials (app id + secret) for unattended runs, and refresh tokens. One access token per resource (Graph,
//! Exchange Online), kept in memory only and renewed before it expires or once when a service refuses it. The
//! refresh token and the client secret are kept in the OS keyring through [`crate::secrets`].
//!
//! The device code flow is split for the TUI's runner: [`Authenticator::start_device_code`] gives the code and
//! URL to show, then [`Authenticator::wait_for_device_code`] (or one [`Authenticator::poll_device_code`] at a
//! time) finishes it; a [`CancellationToken`] stops the wait.

use super::endpoints::{Cloud, Resource};
use super::error::{AuthError, M365Error, Service};
use super::http::{HttpClient, Request, TokenSource, form};
use crate::secrets::{Secret, SecretKind, Secrets};
use futures::future::BoxFuture;
use reqwest::Method;
use serde::Deserialize;
use std::collections::HashMap;
use std::sync::Mutex;
use std::time::{Duration, Instant};
use tokio_util::sync::CancellationToken;
use url::Url;

/// A token is renewed when less than this is left of its life.
pub const RENEW_MARGIN: Duration = Duration::from_secs(5 * 60);
const DEVICE_CODE_GRANT: &str = "urn:ietf:params:oauth:grant-type:device_code";
/// The identity platform's documented default polling interval.
const DEFAULT_INTERVAL: Duration = Duration::from_secs(5);
const SLOW_DOWN_STEP: Duration = Duration::from_secs(5);
/// The longest life an answer is believed for: access tokens live 60 to 90 minutes and device codes 15, so a
/// larger `expires_in` is garbage, and added to the clock it would overflow it.
const MAX_LIFE: Duration = Duration::from_secs(24 * 3600);
/// The longest wait between two device code polls an answer is believed for.
const MAX_INTERVAL: Duration = Duration::from_secs(60);

/// A life in seconds from an answer, capped at [`MAX_LIFE`].
fn life(secs: u64) -> Duration {
    Duration::from_secs(secs).min(MAX_LIFE)
}

/// Who signs in where.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct SignInConfig {
    /// The project name, for messages.
    pub project: String,
    /// What the keyring accounts start with (`<keyring_scope>/refresh-token` …): the project's id.
    pub keyring_scope: String,
    pub cloud: Cloud,
    /// Tenant id (GUID) or a verified domain such as contoso.onmicrosoft.com.
    pub tenant: String,
    pub client_id: String,
}

/// What to show the engineer during a device code sign-in.
#[derive(Debug, Clone)]
pub struct DeviceCodePrompt {
    pub user_code: String,
    pub verification_uri: String,
    /// The identity platform's own instruction text.
    pub message: String,
    pub expires_at: Instant,
    pub expires_in: Duration,
    /// Current polling interval; grows by 5 s on each `slow_down`.
    pub interval: Duration,
    device_code: Secret,
    /// What the code signs in to: the sign-in's Graph, or a permission asked for on its own.
    resource: Resource,
}

impl DeviceCodePrompt {
    fn from_answer(answer: DeviceCodeAnswer, now: Instant, resource: Resource) -> DeviceCodePrompt {
        let expires_in = life(answer.expires_in);
        DeviceCodePrompt {
            user_code: answer.user_code,
            verification_uri: answer.verification_uri,
            message: answer.message,
            expires_at: now + expires_in,
            expires_in,
            interval: answer
                .interval
                .map(Duration::from_secs)
                .unwrap_or(DEFAULT_INTERVAL)
                .clamp(Duration::from_secs(1), MAX_INTERVAL),
            device_code: answer.device_code,
            resource,
        }
    }
}

/// How a sign-in is kept: a refresh token (the engineer) or a client secret (an app).
#[derive(Debug, Clone, Copy, PartialEq, Eq, serde::Serialize)]
#[serde(rename_all = "kebab-case")]
pub enum SignInKind {
    DeviceCode,
    ClientSecret,
}

/// A finished sign-in.
#[derive(Debug, Clone, PartialEq, Eq, serde::Serialize)]
pub struct SignedIn {
    pub kind: SignInKind,
    /// The account (UPN) for a device code sign-in; the app id for client credentials.
    pub account: Option<String>,
    pub tenant_id: Option<String>,
}

/// One poll's result.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Poll {
    Pending,
    /// The identity platform asked to poll more slowly; the prompt's interval has grown.
    SlowDown,
    Done(SignedIn),
}

#[derive(Deserialize)]
struct DeviceCodeAnswer {
    device_code: Secret,
    user_code: String,
    verification_uri: String,
    #[serde(default)]
    message: String,
    #[serde(deserialize_with = "number_or_text")]
    expires_in: u64,
    #[serde(default, deserialize_with = "opt_number_or_text")]
    interval: Option<u64>,
}

#[derive(Deserialize)]
struct TokenAnswer {
    access_token: Option<Secret>,
    #[serde(default)]
    refresh_token: Option<Secret>,
    #[serde(default)]
    id_token: Option<String>,
    #[serde(default, deserialize_with = "opt_number_or_text")]
    expires_in: Option<u64>,
}

fn number_or_text<'de, D: serde::Deserializer<'de>>(d: D) -> Result<u64, D::Error> {
    opt_number_or_text(d)?.ok_or_else(|| serde::de::Error::custom("missing number"))
}

/// The v2.0 endpoint sends numbers; older answers sent them as text.
fn opt_number_or_text<'de, D: serde::Deserializer<'de>>(d: D) -> Result<Option<u64>, D::Error> {
    match Option::<serde_json::Value>::deserialize(d)? {
        None | Some(serde_json::Value::Null) => Ok(None),
        Some(serde_json::Value::Number(n)) => {
            n.as_u64().map(Some).ok_or_else(|| serde::de::Error::custom("not a count"))
        }
        Some(serde_json::Value::String(s)) => s.trim().parse().map(Some).map_err(serde::de::Error::custom),
        Some(_) => Err(serde::de::Error::custom("not a number")),
    }
}

struct Cached {
    token: Secret,
    expires_at: Instant,
}

/// Signs in and hands out tokens. Shared behind an `Arc` by the Graph and Exchange Online clients.
pub struct Authenticator {
    config: SignInConfig,
    http: HttpClient,
    secrets: Secrets,
    cache: Mutex<HashMap<Resource, Cached>>,
    /// The user's UPN from the last ID token (a delegated sign-in only).
    account: Mutex<Option<String>>,
    /// Serialises renewals so that parallel calls do not each spend the refresh token.
    renewing: tokio::sync::Mutex<()>,
}

impl std::fmt::Debug for Authenticator {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Authenticator").field("config", &self.config).finish()
    }
}

impl Authenticator {
    pub fn new(config: SignInConfig, http: HttpClient, secrets: Secrets) -> Result<Authenticator, M365Error> {
        if config.client_id.trim().is_empty() {
            return Err(AuthError::NoClientId.into());
        }
        let t = config.tenant.trim();
        if t.is_empty() || !t.chars().all(|c| c.is_ascii_alphanumeric() || c == '-' || c == '.') {
            return Err(AuthError::BadTenant(config.tenant.clone()).into());
        }
        Ok(Authenticator {
            config,
            http,
            secrets,
            cache: Mutex::new(HashMap::new()),
            account: Mutex::new(None),
            renewing: tokio::sync::Mutex::new(()),
        })
    }

    pub fn config(&self) -> &SignInConfig {
        &self.config
    }

    fn endpoint(&self, leaf: &str) -> Result<Url, M365Error> {
        let base = self.config.cloud.login();
        let path = format!("{}/oauth2/v2.0/{leaf}", self.config.tenant.trim());
        join(&base, &path)
    }

    /// Asks for a device code; show the prompt's `message` (or code and URL) to the engineer.
    pub async fn start_device_code(&self) -> Result<DeviceCodePrompt, M365Error> {
        self.start_device_code_for(Resource::Graph).await
    }

    /// Asks for a device code for `resource`: the sign-in (Graph), or a permission asked for only when it is
    /// needed ([`Resource::GraphMail`]), which the engineer consents to at the verification page.
    pub async fn start_device_code_for(&self, resource: Resource) -> Result<DeviceCodePrompt, M365Error> {
        let scope = format!("{} offline_access openid profile", self.config.cloud.delegated_scope(resource));
        let req = Request::new(Service::Identity, Method::POST, self.endpoint("devicecode")?)
            .body(form(&[("client_id", &self.config.client_id), ("scope", &scope)]))
            .idempotent(true);
        let response = self.http.send(&req, None).await?;
        Ok(DeviceCodePrompt::from_answer(response.json()?, Instant::now(), resource))
    }

    /// Asks once whether the engineer has finished; on success the refresh token is saved to the keyring.
    pub async fn poll_device_code(&self, prompt: &mut DeviceCodePrompt) -> Result<Poll, M365Error> {
        if Instant::now() >= prompt.expires_at {
            return Err(AuthError::DeviceCodeExpired { minutes: prompt.expires_in.as_secs().div_ceil(60) }.into());
        }
        let req = Request::new(Service::Identity, Method::POST, self.endpoint("token")?)
            .body(form(&[
                ("grant_type", DEVICE_CODE_GRANT),
                ("client_id", &self.config.client_id),
                ("device_code", prompt.device_code.expose()),
            ]))
            .idempotent(true);
        match self.http.send(&req, None).await {
            Ok(response) => {
                let answer: TokenAnswer = response.json()?;
                let account = answer.id_token.as_deref().and_then(|t| claim(t, &["preferred_username", "upn"]));
                let tenant_id = answer.id_token.as_deref().and_then(|t| claim(t, &["tid"]));
                // A consent must come from the account the project is signed in with: another account's tokens
                // would run every later call as them, under the project's name.
                if prompt.resource.permission().is_some() {
                    let expected = TokenSource::account(self);
                    if let (Some(expected), Some(got)) = (&expected, &account)
                        && !expected.eq_ignore_ascii_case(got)
                    {
                        return Err(
                            AuthError::ConsentWrongAccount { expected: expected.clone(), got: got.clone() }.into()
                        );
                    }
                }
                let refresh = self.remember(prompt.resource, answer)?;
                let project = self.config.keyring_scope.clone();
                let secrets = self.secrets.clone();
                blocking(move || {
                    secrets.delete(&project, &SecretKind::ClientSecret)?;
                    match refresh {
                        Some(r) => secrets.save(&project, &SecretKind::RefreshToken, &r),
                        None => secrets.delete(&project, &SecretKind::RefreshToken).map(|_| ()),
                    }
                })
                .await?;
                Ok(Poll::Done(SignedIn { kind: SignInKind::DeviceCode, account, tenant_id }))
            }
            Err(M365Error::Api(e)) => match e.code.as_str() {
                "authorization_pending" => Ok(Poll::Pending),
                "slow_down" => {
                    prompt.interval += SLOW_DOWN_STEP;
                    Ok(Poll::SlowDown)
                }
                "expired_token" | "code_expired" => {
                    Err(AuthError::DeviceCodeExpired { minutes: prompt.expires_in.as_secs().div_ceil(60) }.into())
                }
                "authorization_declined" | "access_denied" => Err(AuthError::Declined.into()),
                "bad_verification_code" => Err(AuthError::BadVerificationCode.into()),
                _ => Err(M365Error::Api(e)),
            },
            Err(other) => Err(other),
        }
    }

    /// Polls at the prompt's interval until the sign-in ends, the code expires, or `cancel` fires. `on_poll` sees
    /// each pending or slow-down answer (a screen can show "still waiting" or the new interval).
    pub async fn wait_for_device_code(
        &self,
        prompt: &mut DeviceCodePrompt,
        cancel: &CancellationToken,
        mut on_poll: impl FnMut(&Poll, &DeviceCodePrompt),
    ) -> Result<SignedIn, M365Error> {
        loop {
            tokio::select! {
                _ = cancel.cancelled() => return Err(M365Error::Cancelled),
                _ = tokio::time::sleep(prompt.interval) => {}
            }
            match self.poll_device_code(prompt).await? {
                Poll::Done(signed_in) => return Ok(signed_in),
                other => on_poll(&other, prompt),
            }
        }
    }

    /// Signs in as an app with its client secret; the secret is kept in the keyring only once it works.
    pub async fn sign_in_with_client_secret(&self, secret: Secret) -> Result<SignedIn, M365Error> {
        let answer = self.client_credentials(&secret, Resource::Graph).await?;
        self.remember(Resource::Graph, answer)?;
        let project = self.config.keyring_scope.clone();
        let secrets = self.secrets.clone();
        blocking(move || {
            secrets.save(&project, &SecretKind::ClientSecret, &secret)?;
            secrets.delete(&project, &SecretKind::RefreshToken).map(|_| ())
        })
        .await?;
        Ok(SignedIn { kind: SignInKind::ClientSecret, account: Some(self.config.client_id.clone()), tenant_id: None })
    }

    /// Forgets the tokens and deletes the stored refresh token and client secret. True if anything was stored.
    pub async fn sign_out(&self) -> Result<bool, M365Error> {
        self.lock_cache().clear();
        *self.account.lock().unwrap_or_else(std::sync::PoisonError::into_inner) = None;
        let project = self.config.keyring_scope.clone();
        let secrets = self.secrets.clone();
        blocking(move || {
            let a = secrets.delete(&project, &SecretKind::RefreshToken)?;
            let b = secrets.delete(&project, &SecretKind::ClientSecret)?;
            Ok(a || b)
        })
        .await
    }

    /// How the project is signed in, from the keyring alone (no network).
    pub async fn stored_kind(&self) -> Result<Option<SignInKind>, M365Error> {
        let project = self.config.keyring_scope.clone();
        let secrets = self.secrets.clone();
        blocking(move || {
            if secrets.load(&project, &SecretKind::ClientSecret)?.is_some() {
                Ok(Some(SignInKind::ClientSecret))
            } else if secrets.load(&project, &SecretKind::RefreshToken)?.is_some() {
                Ok(Some(SignInKind::DeviceCode))
            } else {
                Ok(None)
            }
        })
        .await
    }

    /// A valid access token for `resource`: from memory while it has more than [`RENEW_MARGIN`] left, else a new
    /// one from the stored client secret or refresh token.
    pub async fn access_token(&self, resource: Resource) -> Result<Secret, M365Error> {
        if let Some(token) = self.cached(resource) {
            return Ok(token);
        }
        let _guard = self.renewing.lock().await;
        if let Some(token) = self.cached(resource) {
            return Ok(token);
        }
        let project = self.config.keyring_scope.clone();
        let secrets = self.secrets.clone();
        let (client_secret, refresh) = blocking(move || {
            Ok((secrets.load(&project, &SecretKind::ClientSecret)?, secrets.load(&project, &SecretKind::RefreshToken)?))
        })
        .await?;
        let (answer, delegated) = match (client_secret, refresh) {
            (Some(secret), _) => (self.client_credentials(&secret, resource).await?, false),
            (None, Some(refresh)) => (self.refresh(&refresh, resource).await?, true),
            (None, None) => return Err(AuthError::NotSignedIn { project: self.config.project.clone() }.into()),
        };
        let token = answer.access_token.clone().ok_or(AuthError::NoAccessToken)?;
        if let Some(rotated) = self.remember(resource, answer)?.filter(|_| delegated) {
            let project = self.config.keyring_scope.clone();
            let secrets = self.secrets.clone();
            blocking(move || secrets.save(&project, &SecretKind::RefreshToken, &rotated)).await?;
        }
        Ok(token)
    }

    fn cached(&self, resource: Resource) -> Option<Secret> {
        let cache = self.lock_cache();
        cache.get(&resource).filter(|c| c.expires_at > Instant::now() + RENEW_MARGIN).map(|c| c.token.clone())
    }

    fn lock_cache(&self) -> std::sync::MutexGuard<'_, HashMap<Resource, Cached>> {
        // A panic elsewhere while holding the lock leaves a plain map behind; it is still usable.
        self.cache.lock().unwrap_or_else(std::sync::PoisonError::into_inner)
    }

    /// Keeps the access token in memory; gives back the refresh token of the answer, if any, for the caller to
    /// store (awaited there, so that a sign-out cannot race with a late save).
    fn remember(&self, resource: Resource, answer: TokenAnswer) -> Result<Option<Secret>, M365Error> {
        let token = answer.access_token.ok_or(AuthError::NoAccessToken)?;
        // The ID token names the user; a refresh may come without one, and a user's access token names them too
        // (read only as a label, never trusted for anything else).
        let named = answer
            .id_token
            .as_deref()
            .and_then(|t| claim(t, &["preferred_username", "upn"]))
            .or_else(|| claim(token.expose(), &["upn", "preferred_username", "unique_name"]));
        if let Some(upn) = named {
            *self.account.lock().unwrap_or_else(std::sync::PoisonError::into_inner) = Some(upn);
        }
        // A token without a stated life is used once and renewed on the next call.
        let life = life(answer.expires_in.unwrap_or(0));
        self.lock_cache().insert(resource, Cached { token, expires_at: Instant::now() + life });
        Ok(answer.refresh_token)
    }

    async fn client_credentials(&self, secret: &Secret, resource: Resource) -> Result<TokenAnswer, M365Error> {
        let scope = self.config.cloud.scope(resource);
        let req = Request::new(Service::Identity, Method::POST, self.endpoint("token")?)
            .body(form(&[
                ("grant_type", "client_credentials"),
                ("client_id", &self.config.client_id),
                ("client_secret", secret.expose()),
                ("scope", &scope),
            ]))
            .idempotent(true);
        self.http.send(&req, None).await?.json()
    }

    async fn refresh(&self, refresh: &Secret, resource: Resource) -> Result<TokenAnswer, M365Error> {
        // openid brings an ID token back, which names the user for Exchange's X-AnchorMailbox.
        let scope = format!("{} offline_access openid profile", self.config.cloud.delegated_scope(resource));
        let req = Request::new(Service::Identity, Method::POST, self.endpoint("token")?)
            .body(form(&[
                ("grant_type", "refresh_token"),
                ("client_id", &self.config.client_id),
                ("refresh_token", refresh.expose()),
                ("scope", &scope),
            ]))
            .idempotent(true);
        match self.http.send(&req, None).await {
            // AADSTS65001: the user has not consented to a permission asked for on its own; a device code sign-in
            // for it asks them (the sign-in itself still holds).
            Err(M365Error::Api(e)) if e.code == "invalid_grant" && (e.has_aadsts(65001) || e.has_aadsts(65004)) => {
                match resource.permission() {
                    Some(permission) => Err(AuthError::ConsentNeeded { permission, reason: e.message.clone() }.into()),
                    None => Err(M365Error::Api(e)),
                }
            }
            Err(M365Error::Api(e)) if e.code == "invalid_grant" => {
                Err(AuthError::SignInExpired { project: self.config.project.clone(), reason: e.message.clone() }.into())
            }
            other => other?.json(),
        }
    }
}

impl TokenSource for Authenticator {
    fn token(&self, resource: Resource) -> BoxFuture<'_, Result<Secret, M365Error>> {
        Box::pin(self.access_token(resource))
    }

    fn invalidate(&self, resource: Resource, token: &Secret) {
        let mut cache = self.lock_cache();
        if cache.get(&resource).is_some_and(|c| &c.token == token) {
            cache.remove(&resource);
        }
    }

    fn account(&self) -> Option<String> {
        self.account.lock().unwrap_or_else(std::sync::PoisonError::into_inner).clone()
    }
}

/// Runs keyring calls (D-Bus or system calls) off the async threads.
async fn blocking<T: Send + 'static>(
    f: impl FnOnce() -> Result<T, crate::secrets::SecretsError> + Send + 'static,
) -> Result<T, M365Error> {
    match tokio::task::spawn_blocking(f).await {
        Ok(result) => result.map_err(M365Error::from),
        Err(e) => Err(M365Error::Secrets(crate::secrets::SecretsError::Platform {
            account: "-".into(),
            detail: format!("the keyring call did not finish: {e}"),
        })),
    }
}

/// `base` + `path`, keeping any path `base` already has (a custom cloud may live under a prefix).
pub(crate) fn join(base: &Url, path: &str) -> Result<Url, M365Error> {
    let mut base = base.clone();
    if !base.path().ends_with('/') {
        base.set_path(&format!("{}/", base.path()));
    }
    base.join(path.trim_start_matches('/')).map_err(|e| {
        M365Error::Endpoint(super::endpoints::EndpointError::NotAUrl {
            flag: "URL",
            value: format!("{base}{path}"),
            reason: e.to_string(),
        })
    })
}

/// A claim from a JWT's payload, read without checking the signature: only to label the account.
pub(crate) fn claim(jwt: &str, names: &[&str]) -> Option<String> {
    use base64::Engine;
    let payload = jwt.split('.').nth(1)?;
    let bytes = base64::engine::general_purpose::URL_SAFE_NO_PAD.decode(payload.trim_end_matches('=')).ok()?;
    let claims: serde_json::Value = serde_json::from_slice(&bytes).ok()?;
    names.iter().find_map(|n| claims.get(n).and_then(|v| v.as_str()).map(str::to_owned))
}

#[cfg(test)]
mod fuzz;

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_documented_device_code_answer_is_read() {
        let body = r#"{"user_code":"FHJ3K8P2Q","device_code":"GMMhmHCXhWEzkobqIHGG_EnNYYsAkukHspeYUk9E8","verification_uri":"https://microsoft.com/devicelogin","expires_in":900,"interval":5,"message":"To sign in, use a web browser to open the page https://microsoft.com/devicelogin and enter the code FHJ3K8P2Q to authenticate."}"#;
        let a: DeviceCodeAnswer = serde_json::from_str(body).expect("parse");
        assert_eq!((a.user_code.as_str(), a.expires_in, a.interval), ("FHJ3K8P2Q", 900, Some(5)));
        let text: DeviceCodeAnswer = serde_json::from_str(
            r#"{"user_code":"A","device_code":"B","verification_uri":"https://x","expires_in":"900"}"#,
        )
        .expect("text numbers");
        assert_eq!((text.expires_in, text.interval), (900, None));
    }

    #[test]
    fn the_documented_token_answer_is_read() {
        let body = r#"{"token_type":"Bearer","scope":"User.Read profile openid email","expires_in":3599,"access_token":"eyJ0eXAiOiJKV1QiLCJhbGciOiJSUzI1NiIsIng1dCI6Ik5HVEZ2ZEstZnl0aEV1Q...","refresh_token":"AwABAAAAvPM1KaPlrEqdFSBzjqfTGAMxZGUTdM0t4B4...","id_token":"eyJ0eXAiOiJKV1QiLCJhbGciOiJub25lIn0.eyJhdWQiOiIyZDRkMTFhMi1mODE0LTQ2YTctODkwYS0yNzRhNzJhNzMwOWUiLCJpc3MiOiJodHRwczovL2xvZ2luLm1pY3Jvc29mdG9ubGluZS5jb20vN2ZlODE0NDctZGE1Ny00Mzg1LWJlY2ItNmRlNTdmMjE0NzdlL3YyLjAiLCJpYXQiOjEzODgzNjcyNTYsInByZWZlcnJlZF91c2VybmFtZSI6ImFkbWluQGNvbnRvc28ub25taWNyb3NvZnQuY29tIiwidGlkIjoiN2ZlODE0NDctZGE1Ny00Mzg1LWJlY2ItNmRlNTdmMjE0NzdlIn0."}"#;
        let a: TokenAnswer = serde_json::from_str(body).expect("parse");
        assert_eq!(a.expires_in, Some(3599));
        let id = a.id_token.expect("id token");
        assert_eq!(claim(&id, &["preferred_username"]).as_deref(), Some("admin@contoso.onmicrosoft.com"));
        assert_eq!(claim(&id, &["tid"]).as_deref(), Some("7fe81447-da57-4385-becb-6de57f21477e"));
        assert_eq!(claim("opaque-token", &["upn"]), None);
    }

    #[test]
    fn endpoints_keep_a_custom_prefix() {
        let base = Url::parse("http://127.0.0.1:8080/login").expect("url");
        assert_eq!(
            join(&base, "contoso.onmicrosoft.com/oauth2/v2.0/token").expect("join").as_str(),
            "http://127.0.0.1:8080/login/contoso.onmicrosoft.com/oauth2/v2.0/token"
        );
        let global = Cloud::Global.login();
        assert_eq!(
            join(&global, "t/oauth2/v2.0/devicecode").expect("join").as_str(),
            "https://login.microsoftonline.com/t/oauth2/v2.0/devicecode"
        );
    }

    fn auth(tenant: &str, client_id: &str) -> Result<Authenticator, M365Error> {
        Authenticator::new(
            SignInConfig {
                project: "acme".into(),
                keyring_scope: "acme".into(),
                cloud: Cloud::Global,
                tenant: tenant.into(),
                client_id: client_id.into(),
            },
            HttpClient::new(Default::default(), None).expect("client"),
            Secrets::mock(),
        )
    }

    #[test]
    fn a_missing_client_id_or_a_bad_tenant_is_refused() {
        assert!(matches!(auth("contoso.onmicrosoft.com", " "), Err(M365Error::Auth(AuthError::NoClientId))));
        assert!(matches!(auth("contoso/../x", "id"), Err(M365Error::Auth(AuthError::BadTenant(_)))));
        assert!(auth("contoso.onmicrosoft.com", "id").is_ok());
    }

    #[tokio::test]
    async fn without_a_stored_sign_in_no_token_is_given() {
        let a = auth("contoso.onmicrosoft.com", "id").expect("auth");
        let err = a.access_token(Resource::Graph).await.expect_err("not signed in");
        assert!(err.to_string().contains("cutover auth login --project acme"), "{err}");
        assert_eq!(a.stored_kind().await.expect("kind"), None);
    }
}
