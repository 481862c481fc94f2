//! The one error type of the Microsoft 365 clients. Microsoft's own code and message are kept as sent (Graph
//! `error.code/message/innerError`, identity platform `error/error_description/error_codes`, Exchange Online
//! `error.details[].message` as `id|ExceptionType|text`), and each error says what the engineer should do.

use super::endpoints::{EndpointError, Resource};
use crate::secrets::SecretsError;
use serde::Deserialize;
use std::fmt;
use std::time::Duration;

/// Which Microsoft service answered.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Service {
    Identity,
    Graph,
    ExchangeOnline,
}

impl fmt::Display for Service {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(match self {
            Service::Identity => "the Microsoft identity platform",
            Service::Graph => "Microsoft Graph",
            Service::ExchangeOnline => "Exchange Online",
        })
    }
}

impl From<Resource> for Service {
    fn from(r: Resource) -> Service {
        match r {
            Resource::Graph | Resource::GraphMail => Service::Graph,
            Resource::ExchangeOnline => Service::ExchangeOnline,
        }
    }
}

/// An Exchange exception from `error.details[].message`: `id|ExceptionType|text`.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ExoException {
    pub id: String,
    pub exception_type: String,
    pub text: String,
}

impl ExoException {
    pub fn parse(message: &str) -> Option<ExoException> {
        let mut parts = message.splitn(3, '|');
        let (id, exception_type, text) = (parts.next()?, parts.next()?, parts.next()?);
        Some(ExoException {
            id: id.trim().into(),
            exception_type: exception_type.trim().into(),
            text: text.trim().into(),
        })
    }

    /// The short name of the exception type, without its namespace.
    pub fn short_type(&self) -> &str {
        self.exception_type.rsplit('.').next().unwrap_or(&self.exception_type)
    }
}

/// An error answer from a Microsoft service.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ApiError {
    pub service: Service,
    pub method: String,
    /// Path of the request, without the query.
    pub path: String,
    pub status: u16,
    /// Microsoft's code: Graph `error.code`, the identity platform's `error`, Exchange's `error.code`.
    pub code: String,
    pub message: String,
    /// Identity platform `error_codes`, as AADSTS numbers.
    pub aadsts: Vec<u32>,
    /// Exchange exceptions from `error.details`.
    pub exceptions: Vec<ExoException>,
    /// The id to quote to Microsoft support: the service's request id, else ours.
    pub request_id: String,
    /// What the engineer should do.
    pub advice: String,
}

impl ApiError {
    pub fn has_aadsts(&self, code: u32) -> bool {
        self.aadsts.contains(&code)
    }

    pub fn exception_type(&self) -> Option<&str> {
        self.exceptions.first().map(ExoException::short_type)
    }
}

impl fmt::Display for ApiError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{} refused {} {} (HTTP {}", self.service, self.method, self.path, self.status)?;
        if !self.code.is_empty() {
            write!(f, ", {}", self.code)?;
        }
        write!(f, "): {}", self.message)?;
        for e in &self.exceptions {
            if !self.message.contains(&e.text) {
                write!(f, " [{}: {}]", e.short_type(), e.text)?;
            }
        }
        write!(f, ". {} (request id {})", self.advice, self.request_id)
    }
}

#[derive(Debug, thiserror::Error)]
pub enum M365Error {
    #[error("{0}")]
    Api(Box<ApiError>),
    /// Still throttled (429) when the retry policy ran out: `attempts` reached `max_attempts`, or waiting
    /// `retry_after` more would pass `cap`.
    #[error(
        "{service} kept throttling cutover (HTTP 429): {attempts} attempts and {waited:?} of waiting, and it asked for {retry_after:?} more; cutover stops after {max_attempts} attempts or {cap:?} of waiting. Nothing more was sent: wait a few minutes for the throttle to lift and try again later, outside busy hours if it repeats, or allow a longer wait with CUTOVER_NETWORK_WAIT=SECONDS"
    )]
    Throttled {
        service: Service,
        attempts: u32,
        max_attempts: u32,
        waited: Duration,
        retry_after: Duration,
        cap: Duration,
    },
    #[error("could not reach {host}: {detail}. {advice}")]
    Network { host: String, detail: String, advice: String },
    #[error(
        "{service} sent an answer to {what} that cutover cannot read ({detail}); nothing was changed from it. If it repeats, quote request id {request_id} to support"
    )]
    Malformed { service: Service, what: String, detail: String, request_id: String },
    #[error(transparent)]
    Endpoint(#[from] EndpointError),
    #[error("--ca-cert {path}: {detail}. Give a PEM file with one or more CERTIFICATE blocks")]
    CaCert { path: String, detail: String },
    #[error(transparent)]
    Secrets(#[from] SecretsError),
    #[error("{0}")]
    Auth(#[from] AuthError),
    #[error("{next} points to another host than {first}; cutover does not send its token there")]
    ForeignNextLink { first: String, next: String },
    #[error("the listing from {service} went on for more than {pages} pages; stopped. Narrow the query or report it")]
    TooManyPages { service: Service, pages: usize },
    #[error("cancelled")]
    Cancelled,
}

impl From<ApiError> for M365Error {
    fn from(e: ApiError) -> Self {
        M365Error::Api(Box::new(e))
    }
}

impl M365Error {
    pub fn api(&self) -> Option<&ApiError> {
        match self {
            M365Error::Api(e) => Some(e),
            _ => None,
        }
    }
}

/// Sign-in problems that are not a service's error answer.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum AuthError {
    #[error(
        "no application (client) id is set for this project: register an app in the Microsoft Entra admin center (App registrations; allow public client flows for device code sign-in) and pass --client-id"
    )]
    NoClientId,
    #[error(
        "the device code expired before the sign-in was completed; run the sign-in again and enter the new code within {minutes} minutes"
    )]
    DeviceCodeExpired { minutes: u64 },
    #[error(
        "the sign-in was declined at the verification page; run it again and accept, or sign in with another account"
    )]
    Declined,
    #[error("the identity platform did not recognise the device code; start the sign-in again")]
    BadVerificationCode,
    #[error("not signed in to project '{project}': run `cutover auth login --project {project}`")]
    NotSignedIn { project: String },
    #[error(
        "the sign-in of project '{project}' is no longer valid ({reason}): run `cutover auth login --project {project}` again"
    )]
    SignInExpired { project: String, reason: String },
    #[error(
        "the signed-in account has not consented to the Microsoft Graph permission {permission} ({reason}): run the task that needs it again, which asks for it by device code, or have an administrator grant admin consent for {permission} to cutover's app"
    )]
    ConsentNeeded { permission: &'static str, reason: String },
    #[error(
        "the consent was given by {got}, but the project is signed in as {expected}; nothing was kept: run the task again and sign in at the code as {expected}"
    )]
    ConsentWrongAccount { expected: String, got: String },
    #[error("the token answer has no access_token")]
    NoAccessToken,
    #[error("the tenant '{0}' is not a tenant id or a domain; use its GUID or a name like contoso.onmicrosoft.com")]
    BadTenant(String),
}

/// Graph's error body: `{"error":{"code","message","innerError":{"request-id","date"}}}`.
#[derive(Debug, Deserialize)]
struct GraphErrorBody {
    error: GraphError,
}

#[derive(Debug, Deserialize)]
struct GraphError {
    #[serde(default)]
    code: String,
    #[serde(default)]
    message: String,
    #[serde(default, alias = "innererror", rename = "innerError")]
    inner: Option<serde_json::Value>,
    #[serde(default)]
    details: Vec<ErrorDetail>,
}

#[derive(Debug, Deserialize)]
struct ErrorDetail {
    #[serde(default)]
    message: String,
}

/// The identity platform's error body.
#[derive(Debug, Deserialize)]
struct IdentityErrorBody {
    error: String,
    #[serde(default)]
    error_description: String,
    #[serde(default)]
    error_codes: Vec<u32>,
}

/// What an error answer says, read leniently: an unreadable body still gives a typed error with its status.
#[allow(clippy::too_many_arguments)]
pub(crate) fn api_error(
    service: Service,
    method: &str,
    path: &str,
    status: u16,
    body: &[u8],
    our_request_id: &str,
    header_request_id: Option<&str>,
    permission: Option<&str>,
) -> ApiError {
    let mut e = ApiError {
        service,
        method: method.to_owned(),
        path: path.to_owned(),
        status,
        code: String::new(),
        message: String::new(),
        aadsts: Vec::new(),
        exceptions: Vec::new(),
        request_id: header_request_id.unwrap_or(our_request_id).to_owned(),
        advice: String::new(),
    };
    if let Ok(id) = serde_json::from_slice::<IdentityErrorBody>(body) {
        e.code = id.error;
        e.message = id.error_description.lines().next().unwrap_or_default().to_owned();
        e.aadsts = id.error_codes;
    } else if let Ok(g) = serde_json::from_slice::<GraphErrorBody>(body) {
        e.code = g.error.code;
        e.message = g.error.message;
        e.exceptions = g.error.details.iter().filter_map(|d| ExoException::parse(&d.message)).collect();
        if header_request_id.is_none()
            && let Some(id) = g.error.inner.as_ref().and_then(|i| i.get("request-id")).and_then(|v| v.as_str())
        {
            e.request_id = id.to_owned();
        }
    } else {
        let text = String::from_utf8_lossy(body);
        let text = text.trim();
        e.message = if text.is_empty() {
            "no error body".to_owned()
        } else {
            format!("an error body that is not Microsoft's JSON: {}", truncate(text, 200))
        };
    }
    if e.message.is_empty() {
        e.message = "no message".to_owned();
    }
    e.advice = advice(&e, permission);
    e
}

fn truncate(text: &str, max: usize) -> String {
    match text.char_indices().nth(max) {
        Some((i, _)) => format!("{}…", &text[..i]),
        None => text.to_owned(),
    }
}

/// What to do about an error, from Microsoft's documented codes.
fn advice(e: &ApiError, permission: Option<&str>) -> String {
    let aad = |code: u32| e.has_aadsts(code);
    if e.service == Service::Identity {
        return if aad(90002) || aad(900023) || aad(90072) {
            "Check the tenant id or domain in the project (kickoff) and the cloud chosen with --cloud".into()
        } else if aad(700016) {
            "The application (client) id is not registered in this tenant: check --client-id, or grant the app to the tenant".into()
        } else if aad(7000215) || aad(7000222) {
            "The client secret is wrong or expired: create a new one in the app registration and run `cutover auth login --client-secret-stdin`".into()
        } else if aad(65001) || aad(65004) || e.code == "consent_required" {
            "An administrator must grant consent to the app (Entra admin center > Enterprise applications > Permissions > Grant admin consent)".into()
        } else if aad(50076) || aad(50079) || e.code == "interaction_required" {
            "The tenant requires interactive sign-in (MFA or Conditional Access): sign in again with the device code"
                .into()
        } else if aad(700082) || aad(50173) || aad(70043) || aad(700084) || e.code == "invalid_grant" {
            "The sign-in has expired or was revoked: run `cutover auth login` again".into()
        } else if aad(7000218) || e.code == "invalid_client" {
            "The app must allow public client flows for device code sign-in (App registration > Authentication), or sign in with a client secret".into()
        } else {
            "Check the tenant, the client id and the app's permissions, then sign in again".into()
        };
    }
    match e.status {
        401 => format!(
            "The token was refused by {}: sign in again with `cutover auth login`; if it repeats, check that the app has {} permissions",
            e.service, e.service
        ),
        403 => match (e.service, permission) {
            (Service::Graph, _) if e.code == "ErrorSendAsDenied" => "The signed-in account may not send as this mailbox: it needs Send As on it (Add-RecipientPermission -AccessRights SendAs), which Exchange Online can take up to an hour to apply once given".into(),
            (Service::Graph, Some(p)) => format!(
                "The signed-in account or app lacks the Microsoft Graph permission {p}: add it (App registration > API permissions), grant admin consent, then sign in again"
            ),
            (Service::ExchangeOnline, _) => "The account lacks the Exchange Online role for this cmdlet (Organization Management), or the app lacks Exchange.ManageAsApp with the Exchange Administrator role".into(),
            _ => "The signed-in account lacks the permission for this call: use a Global Administrator, or grant the app the permission".into(),
        },
        404 if e.service == Service::Graph => "The object does not exist in this tenant: check the name (a domain must be added first)".into(),
        400 if e.service == Service::Graph && e.path.ends_with("/verify") => "Microsoft does not see the verification record yet: publish the TXT record shown for the domain at its DNS host, wait for it to propagate (up to its TTL), then verify again".into(),
        409 => "The object already exists or is in use: refresh and check the tenant's current state".into(),
        429 => "Microsoft is throttling: wait and try again later".into(),
        400 if e.exception_type().is_some() => exo_advice(e.exception_type().unwrap_or_default()),
        500..=599 => format!("{} has a temporary problem: try again in a few minutes; check the service health if it persists", e.service),
        _ if e.exception_type().is_some() => exo_advice(e.exception_type().unwrap_or_default()),
        _ => "Check the request's input".into(),
    }
}

fn exo_advice(exception: &str) -> String {
    match exception {
        "ManagementObjectNotFoundException" => "The Exchange object does not exist: check its name or identity".into(),
        "ManagementObjectAlreadyExistsException" => "The Exchange object already exists: use it, or remove it first".into(),
        "MigrationPermanentException" => "A permanent migration error: read its text, fix the cause on the source, then retry the mailbox".into(),
        "MigrationServerConnectionFailedException" | "MigrationRemoteEndpointSettingsCouldNotBeAutodiscoveredPermanentException" => {
            "Exchange Online could not reach the source server: check Outlook Anywhere, its certificate and the migration account's credentials".into()
        }
        "ParameterBindingException" | "ArgumentException" => "A parameter was refused: check the value given".into(),
        other => format!("Exchange raised {other}: read its text and fix the cause"),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn graph_403_names_the_permission() {
        let body = br#"{"error":{"code":"Authorization_RequestDenied","message":"Insufficient privileges to complete the operation.","innerError":{"date":"2024-01-01T00:00:00","request-id":"a1b2","client-request-id":"c3"}}}"#;
        let e =
            api_error(Service::Graph, "POST", "/v1.0/domains", 403, body, "ours", None, Some("Domain.ReadWrite.All"));
        assert_eq!(e.code, "Authorization_RequestDenied");
        assert_eq!(e.request_id, "a1b2");
        let text = e.to_string();
        assert!(text.contains("Domain.ReadWrite.All") && text.contains("Insufficient privileges"), "{text}");
    }

    #[test]
    fn identity_errors_keep_their_aadsts_codes() {
        let body = br#"{"error":"invalid_request","error_description":"AADSTS90002: Tenant 'nope.onmicrosoft.com' not found. Check to make sure you have the correct tenant ID.\r\nTrace ID: x","error_codes":[90002],"timestamp":"2024-01-01 00:00:00Z","trace_id":"t","correlation_id":"c"}"#;
        let e = api_error(Service::Identity, "POST", "/nope/oauth2/v2.0/token", 400, body, "ours", None, None);
        assert_eq!(e.code, "invalid_request");
        assert!(e.has_aadsts(90002));
        assert!(e.message.starts_with("AADSTS90002") && !e.message.contains("Trace ID"));
        assert!(e.advice.contains("tenant id"), "{}", e.advice);
    }

    #[test]
    fn exchange_details_are_split_into_id_type_and_text() {
        let body = br#"{"error":{"code":"BadRequest","message":"The operation couldn't be performed because object 'batch1' couldn't be found.","details":[{"code":"Ex6F9304","target":"","message":"Ex6F9304|Microsoft.Exchange.Configuration.Tasks.ManagementObjectNotFoundException|The operation couldn't be performed because object 'batch1' couldn't be found."}]}}"#;
        let e = api_error(
            Service::ExchangeOnline,
            "POST",
            "/adminapi/beta/t/InvokeCommand",
            400,
            body,
            "ours",
            Some("hdr"),
            None,
        );
        assert_eq!(e.exceptions.len(), 1);
        assert_eq!(e.exceptions[0].id, "Ex6F9304");
        assert_eq!(e.exception_type(), Some("ManagementObjectNotFoundException"));
        assert_eq!(e.request_id, "hdr");
        assert!(e.advice.contains("does not exist"));
    }

    #[test]
    fn consent_revocation_and_verification_have_their_own_advice() {
        let consent = br#"{"error":"invalid_grant","error_description":"AADSTS65001: The user or administrator has not consented to use the application.","error_codes":[65001]}"#;
        let e = api_error(Service::Identity, "POST", "/t/oauth2/v2.0/token", 400, consent, "ours", None, None);
        assert!(e.advice.contains("grant consent"), "{}", e.advice);
        let revoked = br#"{"error":"invalid_grant","error_description":"AADSTS50173: The provided grant has expired due to it being revoked.","error_codes":[50173]}"#;
        let e = api_error(Service::Identity, "POST", "/t/oauth2/v2.0/token", 400, revoked, "ours", None, None);
        assert!(e.advice.contains("cutover auth login"), "{}", e.advice);
        let verify = br#"{"error":{"code":"Request_BadRequest","message":"Domain verification failed for the following reason(s): Unable to verify domain. Please check that you've added the DNS record to your domain's DNS settings."}}"#;
        let e = api_error(Service::Graph, "POST", "/v1.0/domains/contoso.com/verify", 400, verify, "ours", None, None);
        assert!(e.advice.contains("TXT record"), "{}", e.advice);
    }

    #[test]
    fn a_body_that_is_not_json_still_gives_a_typed_error() {
        let e = api_error(
            Service::Graph,
            "GET",
            "/v1.0/organization",
            502,
            b"<html>Bad gateway</html>",
            "ours",
            None,
            None,
        );
        assert_eq!(e.status, 502);
        assert!(e.message.contains("not Microsoft's JSON"));
        let e = api_error(Service::Graph, "GET", "/v1.0/organization", 500, b"", "ours", None, None);
        assert_eq!(e.message, "no error body");
        assert_eq!(e.request_id, "ours");
    }
}
