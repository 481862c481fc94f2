//! The one HTTP layer of the Microsoft 365 clients: timeouts, retries (429 and 503 honour `Retry-After`; other
//! transient faults back off exponentially with jitter; only idempotent requests are retried blindly; the total
//! wait is capped), `client-request-id`, error mapping, the bearer token (refreshed once on a 401) and
//! `@odata.nextLink` paging. Tracing spans carry method, host, path, status and duration, never headers or bodies.
//!
//! A wait is never silent: while an attempt has no answer, every few seconds, and before each pause between
//! attempts, a [`RetryNotice`] goes to the observer of the work under way ([`observed`]: the wizard's job, the
//! headless command's stderr) and to the client's own. One request's whole wait, attempts included, is bounded by
//! [`RetryPolicy::max_total_wait`] (`CUTOVER_NETWORK_WAIT`), and the error that gives up names the fixes.
//!
//! Which answers resend which requests: a 429 resends any request, because Microsoft's throttling guidance says
//! a throttled request fails and is to be sent again after `Retry-After`. A 503 (with or without `Retry-After`) and a 500/502/504
//! resend only idempotent requests: Microsoft's Graph error list says of a 503 only that the service is
//! unavailable or overloaded and that the request "may" be repeated after the delay, not that it was left
//! undone, so a create sent twice could be made twice. A write that fails so comes back as an error whose
//! advice says to check the current state before running it again.

use super::endpoints::{Resource, check_scheme};
use super::error::{M365Error, Service, api_error};
use crate::secrets::Secret;
use futures::future::BoxFuture;
use reqwest::Method;
use reqwest::header::{HeaderMap, HeaderValue};
use serde::de::DeserializeOwned;
use std::sync::Arc;
use std::time::{Duration, Instant, SystemTime};
use url::Url;

/// The environment variable that sets how long one request may wait in all, in seconds.
pub const WAIT_ENV: &str = "CUTOVER_NETWORK_WAIT";

/// The default bound of one request's whole wait: about a minute, what a check may take.
pub const DEFAULT_WAIT: Duration = Duration::from_secs(60);

/// How hard to try before giving up.
#[derive(Debug, Clone)]
pub struct RetryPolicy {
    /// Attempts per request, the first included.
    pub max_attempts: u32,
    /// The most time one request may take in all: its attempts and the pauses between them.
    pub max_total_wait: Duration,
    /// First back-off for transient faults without `Retry-After`; doubles each attempt.
    pub base_delay: Duration,
    pub max_delay: Duration,
    /// Time allowed for one attempt, answer body included (never more than what is left of the whole wait).
    pub timeout: Duration,
    pub connect_timeout: Duration,
    /// How often a wait for an answer is told to the observer.
    pub notice_every: Duration,
}

impl Default for RetryPolicy {
    fn default() -> Self {
        RetryPolicy {
            max_attempts: 4,
            max_total_wait: DEFAULT_WAIT,
            base_delay: Duration::from_millis(500),
            max_delay: Duration::from_secs(30),
            timeout: Duration::from_secs(20),
            connect_timeout: Duration::from_secs(10),
            notice_every: Duration::from_secs(5),
        }
    }
}

/// `CUTOVER_NETWORK_WAIT` does not hold a usable number of seconds.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error(
    "{WAIT_ENV}={value}: give the most seconds one request may wait in all, a whole number from 1 to 3600 (60 by default)"
)]
pub struct WaitSettingError {
    pub value: String,
}

impl RetryPolicy {
    /// The default policy with its whole wait taken from `CUTOVER_NETWORK_WAIT` when set.
    pub fn from_env() -> Result<RetryPolicy, WaitSettingError> {
        RetryPolicy::with_wait_setting(std::env::var(WAIT_ENV).ok().as_deref())
    }

    /// The default policy with its whole wait from `value` (seconds); `None` or blank keeps the default. A short
    /// wait shortens the attempts and the notices with it, so the engineer still hears within its first quarter.
    pub fn with_wait_setting(value: Option<&str>) -> Result<RetryPolicy, WaitSettingError> {
        let mut policy = RetryPolicy::default();
        let Some(value) = value.map(str::trim).filter(|v| !v.is_empty()) else { return Ok(policy) };
        let secs =
            value.parse::<u64>().ok().filter(|s| (1..=3600).contains(s)).ok_or_else(|| WaitSettingError {
                value: crate::safe_text::escape_controls(value, true).into_owned(),
            })?;
        let wait = Duration::from_secs(secs);
        policy.max_total_wait = wait;
        policy.timeout = policy.timeout.min(wait);
        policy.connect_timeout = policy.connect_timeout.min(wait);
        policy.notice_every = policy.notice_every.min(wait / 4).max(Duration::from_millis(100));
        Ok(policy)
    }
}

/// What a request is waiting for, told to the observer.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Waiting {
    /// The attempt under way has had no answer for this long.
    NoAnswer { silent: Duration },
    /// The attempt failed (`reason`); the next one follows after `delay`.
    Retrying { delay: Duration, reason: String },
}

/// Told to the observer while a request waits, so a screen or stderr can say "no answer for 5 s, attempt 2 of 4".
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct RetryNotice {
    pub service: Service,
    /// Method and path, without the query: `GET /v1.0/domains`.
    pub what: String,
    pub attempt: u32,
    pub max_attempts: u32,
    /// Time since the request began.
    pub elapsed: Duration,
    /// When, from the request's start, cutover gives up.
    pub give_up_at: Duration,
    pub waiting: Waiting,
}

impl std::fmt::Display for RetryNotice {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(f, "waiting for {} ({}): ", self.service, self.what)?;
        match &self.waiting {
            Waiting::NoAnswer { silent } => {
                write!(f, "no answer for {}, attempt {} of {}", secs(*silent), self.attempt, self.max_attempts)?;
            }
            Waiting::Retrying { delay, reason } => {
                write!(f, "{reason}; attempt {} of {} in {}", self.attempt + 1, self.max_attempts, secs(*delay))?
            }
        }
        write!(f, ", giving up at {}", secs(self.give_up_at))
    }
}

/// A duration as people read it in a notice: whole seconds, or tenths below ten seconds.
pub fn secs(d: Duration) -> String {
    if d >= Duration::from_secs(10) || d.subsec_millis() == 0 {
        format!("{} s", d.as_secs_f64().round() as u64)
    } else {
        format!("{:.1} s", d.as_secs_f64())
    }
}

pub type RetryObserver = Arc<dyn Fn(&RetryNotice) + Send + Sync>;

tokio::task_local! {
    /// The observer of the work under way: the wizard's job or the headless command.
    static WORK_OBSERVER: RetryObserver;
}

/// Runs `work` with `observer` told of every wait of the requests it sends, whichever client sends them.
pub async fn observed<F: std::future::Future>(observer: RetryObserver, work: F) -> F::Output {
    WORK_OBSERVER.scope(observer, work).await
}

/// A request body. A form is kept encoded as a [`Secret`] because sign-in forms carry secrets.
#[derive(Debug, Clone)]
pub enum Body {
    Empty,
    Json(serde_json::Value),
    Form(Secret),
}

/// Encodes form fields; the result may hold secrets, so it is one.
pub fn form(fields: &[(&str, &str)]) -> Body {
    let mut s = url::form_urlencoded::Serializer::new(String::new());
    for (k, v) in fields {
        s.append_pair(k, v);
    }
    Body::Form(Secret::new(s.finish()))
}

#[derive(Debug, Clone)]
pub struct Request {
    pub service: Service,
    pub method: Method,
    pub url: Url,
    pub headers: Vec<(&'static str, String)>,
    pub body: Body,
    /// Safe to send twice: reads, and writes that check before acting.
    pub idempotent: bool,
    /// The Graph permission the call needs, named in a 403's advice.
    pub permission: Option<&'static str>,
}

impl Request {
    pub fn new(service: Service, method: Method, url: Url) -> Request {
        let idempotent = matches!(method, Method::GET | Method::HEAD | Method::PUT | Method::DELETE);
        Request { service, method, url, headers: Vec::new(), body: Body::Empty, idempotent, permission: None }
    }

    pub fn header(mut self, name: &'static str, value: impl Into<String>) -> Request {
        self.headers.push((name, value.into()));
        self
    }

    pub fn json(mut self, body: serde_json::Value) -> Request {
        self.body = Body::Json(body);
        self
    }

    pub fn body(mut self, body: Body) -> Request {
        self.body = body;
        self
    }

    pub fn idempotent(mut self, yes: bool) -> Request {
        self.idempotent = yes;
        self
    }

    pub fn permission(mut self, permission: &'static str) -> Request {
        self.permission = Some(permission);
        self
    }

    fn what(&self) -> String {
        format!("{} {}", self.method, self.url.path())
    }
}

/// A successful answer, body read in full.
#[derive(Debug, Clone)]
pub struct Response {
    pub service: Service,
    pub status: u16,
    pub headers: HeaderMap,
    pub body: Vec<u8>,
    pub request_id: String,
    what: String,
}

impl Response {
    pub fn json<T: DeserializeOwned>(&self) -> Result<T, M365Error> {
        serde_json::from_slice(&self.body).map_err(|e| self.malformed(e.to_string()))
    }

    pub fn malformed(&self, detail: impl Into<String>) -> M365Error {
        M365Error::Malformed {
            service: self.service,
            what: self.what.clone(),
            detail: detail.into(),
            request_id: self.request_id.clone(),
        }
    }
}

/// The services' clock, as the `Date` of their answers tells it, against this machine's. Exchange's timestamps
/// (a batch's start, a mailbox's last sync) are written by that clock, so a time of ours compared with one of
/// them is first put on it: a laptop whose clock runs minutes off, or the simulator, whose clock runs faster,
/// would otherwise judge a sync early or late.
#[derive(Debug, Default)]
pub struct ServiceClock {
    /// Milliseconds the service is ahead of this machine at the last answer with a `Date`; none before one.
    offset_ms: std::sync::Mutex<Option<i64>>,
}

impl ServiceClock {
    /// Takes the offset from an answer's `Date`, read when the answer arrived.
    fn observe(&self, headers: &HeaderMap, received: SystemTime) {
        let Some(date) = headers.get("date").and_then(|v| v.to_str().ok()) else { return };
        let Ok(server) = httpdate::parse_http_date(date.trim()) else { return };
        let ms = |t: SystemTime| {
            t.duration_since(SystemTime::UNIX_EPOCH).map_or(0, |d| i64::try_from(d.as_millis()).unwrap_or(i64::MAX))
        };
        // `Date` has whole seconds: half a second added makes the rounding error symmetric.
        let offset = ms(server) + 500 - ms(received);
        if let Ok(mut kept) = self.offset_ms.lock() {
            *kept = Some(offset);
        }
    }

    /// How far the service's clock is ahead of this machine's; none before the first answer with a `Date`.
    pub fn offset(&self) -> Option<chrono::Duration> {
        self.offset_ms.lock().ok().and_then(|o| *o).map(chrono::Duration::milliseconds)
    }

    /// `local`, a time of this machine's clock, on the service's clock (unchanged before any answer).
    pub fn to_service(&self, local: chrono::DateTime<chrono::Utc>) -> chrono::DateTime<chrono::Utc> {
        local + self.offset().unwrap_or_default()
    }

    /// Now on the service's clock.
    pub fn now(&self) -> chrono::DateTime<chrono::Utc> {
        self.to_service(chrono::Utc::now())
    }
}

/// The shared HTTP client: TLS roots (the system's plus any extra CA), timeouts and the retry policy.
#[derive(Clone)]
pub struct HttpClient {
    client: reqwest::Client,
    policy: RetryPolicy,
    observer: Option<RetryObserver>,
    clock: Arc<ServiceClock>,
}

impl std::fmt::Debug for HttpClient {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("HttpClient").field("policy", &self.policy).finish()
    }
}

impl HttpClient {
    /// `extra_ca_pem` is the content of a PEM file of CA certificates to trust besides the system's.
    pub fn new(policy: RetryPolicy, extra_ca_pem: Option<(&str, &[u8])>) -> Result<HttpClient, M365Error> {
        let mut builder = reqwest::Client::builder()
            .timeout(policy.timeout)
            .connect_timeout(policy.connect_timeout)
            // A redirect could carry the bearer token elsewhere; Microsoft's APIs used here do not redirect.
            .redirect(reqwest::redirect::Policy::none())
            .user_agent(concat!("cutover/", env!("CARGO_PKG_VERSION")));
        if let Some((path, pem)) = extra_ca_pem {
            let bad = |detail: String| M365Error::CaCert { path: path.to_owned(), detail };
            let certs = reqwest::Certificate::from_pem_bundle(pem).map_err(|e| bad(e.to_string()))?;
            if certs.is_empty() {
                return Err(bad("it holds no certificate".into()));
            }
            builder = builder.tls_certs_merge(certs);
        }
        let client = builder.build().map_err(|e| M365Error::Network {
            host: "-".into(),
            detail: format!("the HTTP client could not be built: {e}"),
            advice: "check --ca-cert".into(),
        })?;
        Ok(HttpClient { client, policy, observer: None, clock: Arc::default() })
    }

    /// Reads the `--ca-cert` file, if any, and builds the client.
    pub fn with_ca_file(policy: RetryPolicy, ca: Option<&std::path::Path>) -> Result<HttpClient, M365Error> {
        match ca {
            None => HttpClient::new(policy, None),
            Some(path) => {
                let shown = path.display().to_string();
                let pem = crate::input_file::read_ca_file(path)
                    .map_err(|e| M365Error::CaCert { path: shown.clone(), detail: e.reason() })?;
                HttpClient::new(policy, Some((&shown, &pem)))
            }
        }
    }

    pub fn with_observer(mut self, observer: RetryObserver) -> HttpClient {
        self.observer = Some(observer);
        self
    }

    pub fn policy(&self) -> &RetryPolicy {
        &self.policy
    }

    /// The services' clock as this client's answers tell it, shared by its clones.
    pub fn clock(&self) -> &Arc<ServiceClock> {
        &self.clock
    }

    /// Sends a request with retries; `bearer` goes in `Authorization`. Non-2xx answers become typed errors.
    pub async fn send(&self, req: &Request, bearer: Option<&Secret>) -> Result<Response, M365Error> {
        check_scheme("URL", &req.url)?;
        let host = req.url.host_str().unwrap_or_default().to_owned();
        let path = req.url.path().to_owned();
        let request_id = uuid::Uuid::new_v4().to_string();
        let started = Instant::now();
        let limit = self.policy.max_total_wait;
        let notice = |attempt, waiting| RetryNotice {
            service: req.service,
            what: req.what(),
            attempt,
            max_attempts: self.policy.max_attempts,
            elapsed: started.elapsed(),
            give_up_at: limit,
            waiting,
        };
        let mut attempt = 0;
        loop {
            attempt += 1;
            let span = tracing::info_span!(
                "http",
                method = %req.method,
                host = %host,
                path = %path,
                attempt,
                status = tracing::field::Empty,
                duration_ms = tracing::field::Empty,
            );
            let attempt_started = Instant::now();
            // No attempt outlasts the whole wait.
            let timeout =
                self.policy.timeout.min(limit.saturating_sub(started.elapsed())).max(Duration::from_millis(1));
            let sent = tracing::Instrument::instrument(self.attempt(req, bearer, &request_id, timeout), span.clone());
            let outcome = self.watch(sent, |silent| self.notify(&notice(attempt, Waiting::NoAnswer { silent }))).await;
            span.record("duration_ms", attempt_started.elapsed().as_millis() as u64);
            let (delay, failure) = match outcome {
                Ok((status, headers, body)) => {
                    span.record("status", status);
                    let header_id = headers.get("request-id").and_then(|v| v.to_str().ok()).map(str::to_owned);
                    if (200..300).contains(&status) {
                        tracing::info!(parent: &span, "ok");
                        return Ok(Response {
                            service: req.service,
                            status,
                            headers,
                            body,
                            request_id: header_id.unwrap_or(request_id),
                            what: req.what(),
                        });
                    }
                    let error = || {
                        let mut e = api_error(
                            req.service,
                            req.method.as_str(),
                            &path,
                            status,
                            &body,
                            &request_id,
                            header_id.as_deref(),
                            req.permission,
                        );
                        if status >= 500 && !req.idempotent {
                            e.advice = may_have_acted(req.service, "failing");
                        }
                        M365Error::from(e)
                    };
                    let retry_after = retry_after(&headers, SystemTime::now());
                    tracing::info!(parent: &span, status, retry_after_s = retry_after.map(|d| d.as_secs()), "error answer");
                    match status {
                        // The service refused the request without acting on it: safe to resend any request.
                        429 => (
                            Some(retry_after.unwrap_or_else(|| self.backoff(attempt))),
                            Failure::Throttled(error(), retry_after),
                        ),
                        // Unavailable or failed: the request may have been acted on, so only resend a safe one.
                        503 if req.idempotent => {
                            (Some(retry_after.unwrap_or_else(|| self.backoff(attempt))), Failure::Other(error()))
                        }
                        500 | 502 | 504 if req.idempotent => (Some(self.backoff(attempt)), Failure::Other(error())),
                        _ => return Err(error()),
                    }
                }
                Err(e) => {
                    let safe = e.is_connect() || req.idempotent;
                    let error = network_error(req, &host, &e);
                    tracing::info!(parent: &span, error = %error, "no answer");
                    if safe && is_transient(&e) {
                        (Some(self.backoff(attempt)), Failure::Other(error))
                    } else {
                        return Err(error);
                    }
                }
            };
            let Some(delay) = delay else { return Err(failure.into_error()) };
            let waited = started.elapsed();
            if attempt >= self.policy.max_attempts || waited.saturating_add(delay) >= limit {
                return Err(match failure {
                    Failure::Throttled(_, _) => M365Error::Throttled {
                        service: req.service,
                        attempts: attempt,
                        max_attempts: self.policy.max_attempts,
                        waited,
                        retry_after: delay,
                        cap: limit,
                    },
                    Failure::Other(e) => self.gave_up(req, e, attempt, waited),
                });
            }
            self.notify(&notice(attempt, Waiting::Retrying { delay, reason: failure.reason() }));
            tokio::time::sleep(delay).await;
        }
    }

    /// Awaits `attempt`, telling `silent` how long it has gone unanswered every `notice_every`.
    async fn watch<T>(&self, attempt: impl std::future::Future<Output = T>, silent: impl Fn(Duration)) -> T {
        let every = self.policy.notice_every.max(Duration::from_millis(10));
        let began = tokio::time::Instant::now();
        let mut ticks = tokio::time::interval_at(began + every, every);
        tokio::pin!(attempt);
        loop {
            tokio::select! {
                biased;
                outcome = &mut attempt => return outcome,
                _ = ticks.tick() => silent(began.elapsed()),
            }
        }
    }

    fn notify(&self, notice: &RetryNotice) {
        tracing::info!(notice = %notice, "waiting");
        let _ = WORK_OBSERVER.try_with(|observer| observer(notice));
        if let Some(observer) = &self.observer {
            observer(notice);
        }
    }

    /// The last failure of a request retried until the policy ran out, with what to do about it.
    fn gave_up(&self, req: &Request, error: M365Error, attempts: u32, waited: Duration) -> M365Error {
        let mut advice = format!(
            "cutover gave up after {attempts} attempts in {} (it tries at most {} times within {}). Check the network and the proxy, and {}'s health (Service health in the Microsoft 365 admin center, or https://status.cloud.microsoft); try again later, or allow a longer wait with {WAIT_ENV}=SECONDS",
            secs(waited),
            self.policy.max_attempts,
            secs(self.policy.max_total_wait),
            req.service,
        );
        if is_write(&req.method) {
            advice = format!("{advice}. {}", may_have_acted(req.service, "the connection failed"));
        }
        match error {
            M365Error::Api(mut e) => {
                e.advice = advice;
                M365Error::Api(e)
            }
            M365Error::Network { host, detail, .. } => M365Error::Network { host, detail, advice },
            other => other,
        }
    }

    async fn attempt(
        &self,
        req: &Request,
        bearer: Option<&Secret>,
        request_id: &str,
        timeout: Duration,
    ) -> Result<(u16, HeaderMap, Vec<u8>), reqwest::Error> {
        let mut builder = self
            .client
            .request(req.method.clone(), req.url.clone())
            .timeout(timeout)
            .header("client-request-id", request_id)
            .header("return-client-request-id", "true");
        for (name, value) in &req.headers {
            builder = builder.header(*name, value);
        }
        if let Some(token) = bearer {
            // The formatted header is wiped once copied into the request.
            let text = zeroize::Zeroizing::new(format!("Bearer {}", token.expose()));
            let mut value = HeaderValue::from_str(&text).unwrap_or_else(|_| HeaderValue::from_static("Bearer invalid"));
            value.set_sensitive(true);
            builder = builder.header(reqwest::header::AUTHORIZATION, value);
        }
        builder = match &req.body {
            Body::Empty => builder,
            Body::Json(v) => builder.json(v),
            Body::Form(f) => builder
                .header(reqwest::header::CONTENT_TYPE, "application/x-www-form-urlencoded")
                .body(f.expose().to_owned()),
        };
        let response = builder.send().await?;
        let status = response.status().as_u16();
        let headers = response.headers().clone();
        self.clock.observe(&headers, SystemTime::now());
        let body = response.bytes().await?.to_vec();
        Ok((status, headers, body))
    }

    /// Exponential back-off with full jitter, bounded by `max_delay`.
    fn backoff(&self, attempt: u32) -> Duration {
        let exp = self.policy.base_delay.saturating_mul(1u32 << attempt.saturating_sub(1).min(16));
        let cap = exp.min(self.policy.max_delay);
        let half = cap / 2;
        half + Duration::from_millis(fastrand::u64(0..=half.as_millis() as u64))
    }
}

enum Failure {
    Throttled(M365Error, Option<Duration>),
    Other(M365Error),
}

impl Failure {
    fn reason(&self) -> String {
        match self {
            Failure::Throttled(_, Some(d)) => format!("throttled (429), Retry-After {}", secs(*d)),
            Failure::Throttled(_, None) => "throttled (429)".into(),
            Failure::Other(M365Error::Api(e)) => format!("HTTP {}", e.status),
            Failure::Other(e) => e.to_string(),
        }
    }

    fn into_error(self) -> M365Error {
        match self {
            Failure::Throttled(e, _) | Failure::Other(e) => e,
        }
    }
}

/// How long the service asked to wait, from every form Microsoft's services send: `Retry-After` as
/// delta-seconds (Graph, Exchange Online, the identity platform) or as an HTTP-date in any of the three forms HTTP
/// allows (IMF-fixdate, RFC 850, asctime), and the milliseconds of `retry-after-ms` / `x-ms-retry-after-ms`
/// (Azure's front ends). Given several, the longest wins: retrying before any of them has passed is too early.
///
/// An HTTP-date is measured against the answer's own `Date` header when it has one: the date was written by the
/// server's clock, so a laptop whose clock runs ahead would otherwise retry before the server meant. Without a
/// `Date`, it is measured against `now`, rounded up to the next whole second since HTTP-dates have no fractions.
pub fn retry_after(headers: &HeaderMap, now: SystemTime) -> Option<Duration> {
    let value = |name: &str| headers.get(name).and_then(|v| v.to_str().ok()).map(str::trim).filter(|v| !v.is_empty());
    let mut waits = Vec::new();
    if let Some(v) = value("retry-after") {
        if let Some(d) = delta_seconds(v) {
            waits.push(d);
        } else if let Ok(at) = httpdate::parse_http_date(v) {
            let server_now = value("date").and_then(|d| httpdate::parse_http_date(d).ok());
            let wait = match server_now {
                Some(server_now) => at.duration_since(server_now).unwrap_or(Duration::ZERO),
                None => at.duration_since(now).map_or(Duration::ZERO, round_up_to_second),
            };
            waits.push(wait);
        }
    }
    for name in ["retry-after-ms", "x-ms-retry-after-ms"] {
        if let Some(ms) = value(name).and_then(|v| v.parse::<f64>().ok()).filter(|ms| ms.is_finite() && *ms >= 0.0) {
            waits.push(Duration::from_secs_f64(ms.min(86_400_000.0) / 1000.0));
        }
    }
    waits.into_iter().max().map(|d| d.min(MAX_RETRY_AFTER))
}

/// The longest `Retry-After` believed: an HTTP-date years ahead is garbage, not a throttle.
const MAX_RETRY_AFTER: Duration = Duration::from_secs(86_400);

/// Delta-seconds: a whole number by the standard; a decimal one is read too (rounded up) rather than ignored,
/// since ignoring it would fall back to a back-off shorter than asked.
fn delta_seconds(v: &str) -> Option<Duration> {
    if let Ok(secs) = v.parse::<u64>() {
        // Past a day a wait is no longer a throttle (and a huge one would overflow the clock's arithmetic).
        return Some(Duration::from_secs(secs).min(MAX_RETRY_AFTER));
    }
    let secs: f64 = v.parse().ok().filter(|s: &f64| s.is_finite() && *s >= 0.0)?;
    Some(Duration::from_secs(secs.min(MAX_RETRY_AFTER.as_secs_f64()).ceil() as u64))
}

fn round_up_to_second(d: Duration) -> Duration {
    if d.subsec_nanos() == 0 { d } else { Duration::from_secs(d.as_secs() + 1) }
}

fn is_transient(e: &reqwest::Error) -> bool {
    (e.is_connect() || e.is_timeout() || e.is_request() || e.is_body() || e.is_decode()) && !is_tls(e)
}

fn error_chain(e: &reqwest::Error) -> String {
    let mut text = e.to_string();
    let mut source = std::error::Error::source(e);
    while let Some(s) = source {
        text.push_str(": ");
        text.push_str(&s.to_string());
        source = s.source();
    }
    text
}

fn is_tls(e: &reqwest::Error) -> bool {
    let chain = error_chain(e).to_ascii_lowercase();
    chain.contains("certificate") || chain.contains("tls") || chain.contains("handshake")
}

/// Whether a request asks the service to change something.
fn is_write(method: &Method) -> bool {
    !matches!(*method, Method::GET | Method::HEAD | Method::OPTIONS)
}

/// The advice for a write whose outcome is unknown: it may have reached the service.
fn may_have_acted(service: Service, how: &str) -> String {
    format!(
        "{service} may or may not have acted on this change before {how}: check the current state (run the stage's checks again) before repeating it"
    )
}

/// A request that got no answer. A write whose connection was made may have reached the service before it broke
/// or timed out, so it gets the advice of a 503: check the current state first.
fn network_error(req: &Request, host: &str, e: &reqwest::Error) -> M365Error {
    let detail = error_chain(e);
    let advice = if is_tls(e) {
        "The server's TLS certificate is not trusted: for a custom cloud give its CA with --ca-cert; otherwise check for a proxy that intercepts TLS".to_owned()
    } else if is_write(&req.method) && !e.is_connect() {
        let how = if e.is_timeout() { "the answer timed out" } else { "the connection broke" };
        may_have_acted(req.service, how)
    } else if e.is_timeout() {
        "The service did not answer in time: check the network and try again".to_owned()
    } else if e.is_connect() {
        "Check the network, the proxy and the host name (and that the cloud chosen is the tenant's)".to_owned()
    } else {
        "The connection broke: try again; a read changes nothing".to_owned()
    };
    M365Error::Network { host: host.to_owned(), detail, advice }
}

/// Gives bearer tokens per resource. Implemented by the sign-in ([`super::auth::Authenticator`]).
pub trait TokenSource: Send + Sync {
    fn token(&self, resource: Resource) -> BoxFuture<'_, Result<Secret, M365Error>>;
    /// The service refused `token`: forget it so the next call gets a fresh one.
    fn invalidate(&self, resource: Resource, token: &Secret);
    /// The signed-in user's name (UPN), when the sign-in is a user's rather than an app's.
    fn account(&self) -> Option<String> {
        None
    }
}

/// A [`HttpClient`] bound to one resource and its tokens.
#[derive(Clone)]
pub struct Session {
    pub http: HttpClient,
    pub tokens: Arc<dyn TokenSource>,
    pub resource: Resource,
}

/// One page of a listing: its items, the link to the next page, and Exchange's warnings.
#[derive(Debug, Clone, PartialEq)]
pub struct Page {
    pub items: Vec<serde_json::Value>,
    pub next_link: Option<String>,
    pub warnings: Vec<String>,
}

/// All pages of a listing, gathered.
#[derive(Debug, Clone, PartialEq, Default)]
pub struct Listing {
    pub items: Vec<serde_json::Value>,
    pub warnings: Vec<String>,
    pub pages: usize,
}

/// A guard against a service that sends next links forever.
pub const MAX_PAGES: usize = 10_000;

impl Session {
    /// Sends with a token; on a 401 the token is dropped and the request sent once more with a fresh one.
    pub async fn send(&self, req: &Request) -> Result<Response, M365Error> {
        let token = self.tokens.token(self.resource).await?;
        match self.http.send(req, Some(&token)).await {
            Err(M365Error::Api(e)) if e.status == 401 => {
                tracing::info!(resource = ?self.resource, "token refused (401); getting a fresh one, once");
                self.tokens.invalidate(self.resource, &token);
                let token = self.tokens.token(self.resource).await?;
                self.http.send(req, Some(&token)).await
            }
            other => other,
        }
    }

    /// Follows `@odata.nextLink` from `first` to the end. Each next link is fetched with the same method and
    /// body (Exchange's InvokeCommand wants the same POST body again); it must stay on the same host.
    pub async fn collect(&self, first: Request) -> Result<Listing, M365Error> {
        let mut listing = Listing::default();
        let mut req = first;
        let origin = req.url.origin();
        loop {
            let response = self.send(&req).await?;
            let page = parse_page(&response)?;
            listing.items.extend(page.items);
            listing.warnings.extend(page.warnings);
            listing.pages += 1;
            let Some(next) = page.next_link else { return Ok(listing) };
            if listing.pages >= MAX_PAGES {
                return Err(M365Error::TooManyPages { service: req.service, pages: listing.pages });
            }
            let next_url = req.url.join(&next).map_err(|e| response.malformed(format!("@odata.nextLink: {e}")))?;
            if next_url.origin() != origin {
                return Err(M365Error::ForeignNextLink { first: req.url.to_string(), next: next_url.to_string() });
            }
            req.url = next_url;
        }
    }
}

/// Reads `{"value":[...], "@odata.nextLink": "...", "@adminapi.warnings": [...]}`.
pub fn parse_page(response: &Response) -> Result<Page, M365Error> {
    let doc: serde_json::Value = response.json()?;
    let Some(obj) = doc.as_object() else { return Err(response.malformed("the answer is not a JSON object")) };
    let items = match obj.get("value") {
        Some(serde_json::Value::Array(items)) => items.clone(),
        Some(serde_json::Value::Null) | None => Vec::new(),
        Some(_) => return Err(response.malformed("\"value\" is not a list")),
    };
    let next_link = match obj.get("@odata.nextLink") {
        Some(serde_json::Value::String(s)) if !s.is_empty() => Some(s.clone()),
        Some(serde_json::Value::String(_)) | Some(serde_json::Value::Null) | None => None,
        Some(_) => return Err(response.malformed("\"@odata.nextLink\" is not text")),
    };
    Ok(Page { items, next_link, warnings: warnings(obj) })
}

/// Exchange's `@adminapi.warnings`: a list of strings (or objects with a message).
pub fn warnings(obj: &serde_json::Map<String, serde_json::Value>) -> Vec<String> {
    match obj.get("@adminapi.warnings") {
        Some(serde_json::Value::Array(list)) => list
            .iter()
            .filter_map(|w| match w {
                serde_json::Value::String(s) => Some(s.clone()),
                serde_json::Value::Object(o) => o.get("message").and_then(|m| m.as_str()).map(str::to_owned),
                _ => None,
            })
            .collect(),
        Some(serde_json::Value::String(s)) => vec![s.clone()],
        _ => Vec::new(),
    }
}

#[cfg(test)]
mod fuzz;

#[cfg(test)]
mod tests {
    use super::*;

    fn headers(pairs: &[(&'static str, &str)]) -> HeaderMap {
        let mut h = HeaderMap::new();
        for (k, v) in pairs {
            h.insert(*k, HeaderValue::from_str(v).expect("header"));
        }
        h
    }

    #[test]
    fn retry_after_reads_seconds_and_http_dates() {
        let now = SystemTime::UNIX_EPOCH + Duration::from_secs(1_700_000_000);
        assert_eq!(retry_after(&headers(&[("retry-after", "120")]), now), Some(Duration::from_secs(120)));
        let later = httpdate::fmt_http_date(now + Duration::from_secs(30));
        assert_eq!(retry_after(&headers(&[("retry-after", &later)]), now), Some(Duration::from_secs(30)));
        let past = httpdate::fmt_http_date(now - Duration::from_secs(30));
        assert_eq!(retry_after(&headers(&[("retry-after", &past)]), now), Some(Duration::ZERO));
        assert_eq!(retry_after(&headers(&[("retry-after", "soon")]), now), None);
        assert_eq!(retry_after(&HeaderMap::new(), now), None);
    }

    #[test]
    fn the_service_clock_is_read_from_date() {
        let now = SystemTime::UNIX_EPOCH + Duration::from_secs(1_700_000_000);
        let date = httpdate::fmt_http_date(now - Duration::from_secs(60));
        let clock = ServiceClock::default();
        assert_eq!(clock.offset(), None, "no answer yet");
        let local = chrono::DateTime::from_timestamp(1_700_000_000, 0).expect("valid");
        assert_eq!(clock.to_service(local), local, "unchanged before an answer");
        clock.observe(&headers(&[("date", &date)]), now);
        let offset = clock.offset().expect("measured");
        assert!((offset + chrono::Duration::seconds(60)).num_milliseconds().abs() <= 1000, "a minute behind: {offset}");
        clock.observe(&headers(&[("date", "not a date")]), now);
        assert_eq!(clock.offset(), Some(offset), "a Date that does not parse changes nothing");
    }

    #[test]
    fn retry_after_reads_every_form_and_the_servers_clock() {
        let now = SystemTime::UNIX_EPOCH + Duration::from_secs(1_700_000_000);
        // The obsolete HTTP-date forms are still HTTP-dates.
        let rfc850 = "Tuesday, 14-Nov-23 22:13:50 GMT";
        let asctime = "Tue Nov 14 22:13:50 2023";
        assert_eq!(retry_after(&headers(&[("retry-after", rfc850)]), now), Some(Duration::from_secs(30)));
        assert_eq!(retry_after(&headers(&[("retry-after", asctime)]), now), Some(Duration::from_secs(30)));
        // A server whose clock is a minute behind ours: its date is read against its own Date header.
        let server_now = now - Duration::from_secs(60);
        let at = httpdate::fmt_http_date(server_now + Duration::from_secs(20));
        let date = httpdate::fmt_http_date(server_now);
        assert_eq!(retry_after(&headers(&[("retry-after", &at), ("date", &date)]), now), Some(Duration::from_secs(20)));
        // Sub-second clocks: never shorter than the whole seconds asked.
        let late = now + Duration::from_millis(300);
        let at = httpdate::fmt_http_date(now + Duration::from_secs(5));
        assert_eq!(retry_after(&headers(&[("retry-after", &at)]), late), Some(Duration::from_secs(5)));
        assert_eq!(retry_after(&headers(&[("retry-after", "1.5")]), now), Some(Duration::from_secs(2)));
        assert_eq!(retry_after(&headers(&[("retry-after-ms", "2500")]), now), Some(Duration::from_millis(2500)));
        assert_eq!(
            retry_after(&headers(&[("retry-after", "1"), ("x-ms-retry-after-ms", "4000")]), now),
            Some(Duration::from_secs(4)),
            "the longest wait wins"
        );
    }

    #[test]
    fn backoff_grows_with_jitter_and_stays_under_the_cap() {
        let http = HttpClient::new(RetryPolicy::default(), None).expect("client");
        for attempt in 1..20 {
            let d = http.backoff(attempt);
            assert!(d <= http.policy.max_delay, "{attempt}: {d:?}");
            let exp = http.policy.base_delay.saturating_mul(1 << (attempt - 1).min(16)).min(http.policy.max_delay);
            assert!(d >= exp / 2, "{attempt}: {d:?}");
        }
    }

    fn response(body: &str) -> Response {
        Response {
            service: Service::ExchangeOnline,
            status: 200,
            headers: HeaderMap::new(),
            body: body.as_bytes().to_vec(),
            request_id: "r".into(),
            what: "POST /x".into(),
        }
    }

    #[test]
    fn pages_carry_items_next_links_and_warnings() {
        let page = parse_page(&response(
            r#"{"@odata.context":"x","value":[{"a":1},{"a":2}],"@odata.nextLink":"https://outlook.office365.com/adminapi/beta/t/InvokeCommand?$skiptoken=2","@adminapi.warnings":["WARNING: The command completed successfully but no settings of 'x' have been modified."]}"#,
        ))
        .expect("page");
        assert_eq!(page.items.len(), 2);
        assert!(page.next_link.as_deref().is_some_and(|l| l.contains("skiptoken")));
        assert_eq!(page.warnings.len(), 1);
        let last = parse_page(&response(r#"{"value":[]}"#)).expect("page");
        assert_eq!(last.next_link, None);
        assert!(matches!(parse_page(&response(r#"{"value":{}}"#)), Err(M365Error::Malformed { .. })));
        assert!(matches!(parse_page(&response("{\"value\":[")), Err(M365Error::Malformed { .. })));
    }

    #[test]
    fn a_form_body_never_prints_its_content() {
        let body = form(&[("client_secret", "s3cr3t value")]);
        let Body::Form(ref secret) = body else { panic!("form") };
        assert_eq!(secret.expose(), "client_secret=s3cr3t+value");
        assert!(!format!("{body:?}").contains("s3cr3t"));
    }

    #[tokio::test]
    async fn plain_http_to_another_host_is_refused_before_sending() {
        let http = HttpClient::new(RetryPolicy::default(), None).expect("client");
        let req = Request::new(Service::Graph, Method::GET, Url::parse("http://graph.example/v1.0/x").expect("url"));
        assert!(matches!(http.send(&req, None).await, Err(M365Error::Endpoint(_))));
    }

    #[test]
    fn a_bad_ca_file_is_named() {
        let err = HttpClient::new(RetryPolicy::default(), Some(("/tmp/x.pem", b"not pem"))).expect_err("no certs");
        assert!(err.to_string().contains("/tmp/x.pem"), "{err}");
    }
}
