//! Faults on demand: 429 with Retry-After, 503, slow answers, dropped connections and expired tokens, per
//! service and path (or cmdlet), every Nth request, a given number of times. Rules come from the scenario or
//! from the control endpoint. Each fault with a `Retry-After` is followed to the client's next identical
//! request, so a test can prove that no request came back before it was allowed to ([`RetryLog`]).

use axum::body::{Body, Bytes};
use axum::extract::{Request, State};
use axum::http::{HeaderValue, StatusCode, header};
use axum::middleware::Next;
use axum::response::{IntoResponse, Response};
use serde::Serialize;
use serde_json::json;

use super::Shared;
use super::scenario::{FaultKind, FaultSpec, RetryAfterForm};
use std::collections::HashMap;
use std::time::{Duration, Instant, SystemTime};

/// Requests received, per service and per cmdlet (Exchange), path (Graph) or endpoint (sign-in): what a test
/// or a benchmark reads to prove how many requests a poll costs. Faulted requests count too: they reached the
/// service.
#[derive(Debug, Default, Clone, Serialize)]
pub struct RequestCounts {
    pub total: u64,
    pub login: std::collections::BTreeMap<String, u64>,
    pub graph: std::collections::BTreeMap<String, u64>,
    pub exo: std::collections::BTreeMap<String, u64>,
    /// Graph's writes apart, by method and path (`POST /v1.0/domains`), since a path is read and written alike:
    /// what proves a write was sent once.
    pub graph_writes: std::collections::BTreeMap<String, u64>,
}

impl RequestCounts {
    fn count(&mut self, service: &str, method: &axum::http::Method, path: &str, cmdlet: Option<&str>) {
        let (map, key) = match service {
            // The tenant segment varies; the endpoint (`token`, `devicecode`) is what matters.
            "login" => (&mut self.login, path.rsplit('/').next().unwrap_or(path).to_owned()),
            "graph" => {
                let path = path.strip_prefix("/graph").unwrap_or(path);
                if method != axum::http::Method::GET {
                    *self.graph_writes.entry(format!("{method} {path}")).or_default() += 1;
                }
                (&mut self.graph, path.to_owned())
            }
            "exo" => (&mut self.exo, cmdlet.unwrap_or("(no X-CmdletName)").to_owned()),
            _ => return,
        };
        *map.entry(key).or_default() += 1;
        self.total += 1;
    }
}

#[derive(Debug, Default)]
pub struct Faults {
    rules: Vec<Rule>,
}

#[derive(Debug, Clone, Serialize)]
pub struct Rule {
    pub service: String,
    pub path_contains: Option<String>,
    pub kind: FaultKind,
    pub every: u32,
    pub remaining: Option<u32>,
    /// Matching requests seen so far.
    pub seen: u64,
    /// Faults served so far.
    pub served: u64,
}

impl Faults {
    pub fn new(specs: &[FaultSpec]) -> Faults {
        let mut f = Faults::default();
        for s in specs {
            f.add(s.clone());
        }
        f
    }

    pub fn add(&mut self, s: FaultSpec) {
        self.rules.push(Rule {
            service: s.service,
            path_contains: s.path_contains,
            kind: s.kind,
            every: s.every.max(1),
            remaining: s.times,
            seen: 0,
            served: 0,
        });
    }

    pub fn clear(&mut self) {
        self.rules.clear();
    }

    pub fn rules(&self) -> &[Rule] {
        &self.rules
    }

    /// The fault to serve for this request, if any (the first rule that fires wins).
    pub fn pick(&mut self, service: &str, path: &str, cmdlet: Option<&str>) -> Option<FaultKind> {
        for r in &mut self.rules {
            if r.service != service || r.remaining == Some(0) {
                continue;
            }
            if let Some(p) = &r.path_contains
                && !path.contains(p.as_str())
                && cmdlet.is_none_or(|c| !c.eq_ignore_ascii_case(p))
            {
                continue;
            }
            r.seen += 1;
            if r.seen % u64::from(r.every) == 0 {
                r.served += 1;
                if let Some(n) = &mut r.remaining {
                    *n -= 1;
                }
                return Some(r.kind.clone());
            }
        }
        None
    }
}

/// The service a path of the main HTTP server belongs to.
fn service_of(path: &str) -> Option<&'static str> {
    ["login", "graph", "exo"].into_iter().find(|s| path.strip_prefix('/').is_some_and(|p| p.starts_with(s)))
}

/// The largest request body the fault layer reads to tell one request from another (the simulator's own
/// answers refuse far smaller bodies).
const BODY_LIMIT: usize = 16 * 1024 * 1024;

/// Middleware of the main server.
pub async fn layer(State(shared): State<Shared>, req: Request, next: Next) -> Response {
    let Some(service) = service_of(req.uri().path()) else { return next.run(req).await };
    let arrived = Instant::now();
    let cmdlet = req.headers().get("x-cmdletname").and_then(|v| v.to_str().ok()).map(str::to_string);
    // The body is part of what makes a request the same one again (an InvokeCommand's cmdlet and parameters).
    let (parts, body) = req.into_parts();
    let Ok(bytes) = axum::body::to_bytes(body, BODY_LIMIT).await else {
        return (StatusCode::PAYLOAD_TOO_LARGE, "request body too large or cut short").into_response();
    };
    let signature = Signature::of(service, parts.method.as_str(), &parts.uri, cmdlet.as_deref(), &bytes);
    let req = Request::from_parts(parts, Body::from(bytes));
    let (fault, date) = {
        let mut world = shared.lock();
        world.requests.count(service, req.method(), req.uri().path(), cmdlet.as_deref());
        world.retries.arrived(&signature, arrived);
        let fault = world.faults.pick(service, req.uri().path(), cmdlet.as_deref());
        if let Some(wait) = fault.as_ref().and_then(FaultKind::retry_after) {
            world.retries.faulted(signature, wait, Instant::now());
        }
        (fault, SystemTime::from(world.clock.now()))
    };
    apply(service, fault, date, req, next).await
}

/// Serves a fault (or passes the request on). Shared with the source server. `date` is the answer's clock
/// (the simulated one on the main server), on which a `Retry-After` HTTP-date is written.
pub async fn apply(service: &str, fault: Option<FaultKind>, date: SystemTime, req: Request, next: Next) -> Response {
    let error = |status, code, message, retry_after| error(service, status, code, message, retry_after, date);
    match fault {
        None => next.run(req).await,
        Some(FaultKind::Slow { millis }) => {
            tokio::time::sleep(std::time::Duration::from_millis(millis)).await;
            next.run(req).await
        }
        Some(FaultKind::Throttle { retry_after, retry_after_form }) => error(
            StatusCode::TOO_MANY_REQUESTS,
            "TooManyRequests",
            "Too many requests.",
            Some((retry_after, retry_after_form)),
        ),
        Some(FaultKind::Unavailable { retry_after, retry_after_form }) => error(
            StatusCode::SERVICE_UNAVAILABLE,
            "ServiceUnavailable",
            "The service is temporarily unavailable.",
            retry_after.map(|s| (s, retry_after_form)),
        ),
        Some(FaultKind::ExpiredToken) => error(
            StatusCode::UNAUTHORIZED,
            "InvalidAuthenticationToken",
            "Lifetime validation failed, the token is expired.",
            None,
        ),
        Some(FaultKind::Drop) => {
            // Headers go out, then the body fails: the connection is cut before a whole answer arrives.
            let stream = futures::stream::once(async { Err::<Bytes, _>(std::io::Error::other("dropped by fault")) });
            let mut r = Response::new(Body::from_stream(stream));
            r.headers_mut().insert(header::CONTENT_TYPE, HeaderValue::from_static("application/json"));
            r.headers_mut().insert(header::CONTENT_LENGTH, HeaderValue::from_static("512"));
            r
        }
    }
}

fn error(
    service: &str,
    status: StatusCode,
    code: &str,
    message: &str,
    retry_after: Option<(u32, RetryAfterForm)>,
    date: SystemTime,
) -> Response {
    let mut r = if service == "login" {
        let err = if status == StatusCode::UNAUTHORIZED { "invalid_grant" } else { "temporarily_unavailable" };
        super::identity::aad_error(status, err, 50196, message)
    } else {
        let body = json!({"error": {"code": code, "message": message, "innerError": {
            "date": chrono::Utc::now().format("%Y-%m-%dT%H:%M:%S").to_string(),
            "request-id": uuid::Uuid::new_v4().to_string(),
            "client-request-id": uuid::Uuid::new_v4().to_string(),
        }}});
        (status, axum::Json(body)).into_response()
    };
    match retry_after {
        Some((s, RetryAfterForm::Seconds)) => {
            r.headers_mut().insert(header::RETRY_AFTER, HeaderValue::from(s));
        }
        Some((s, RetryAfterForm::HttpDate)) => {
            // The answer's `Date` and the `Retry-After` date are written together, on the same clock and to the
            // same whole second, so the wait they mean is exactly `s` seconds.
            let whole = date.duration_since(SystemTime::UNIX_EPOCH).map_or(0, |d| d.as_secs());
            let now = SystemTime::UNIX_EPOCH + Duration::from_secs(whole);
            let at = now + Duration::from_secs(u64::from(s));
            for (name, value) in [(header::DATE, now), (header::RETRY_AFTER, at)] {
                if let Ok(v) = HeaderValue::from_str(&httpdate::fmt_http_date(value)) {
                    r.headers_mut().insert(name, v);
                }
            }
        }
        None => {}
    }
    if status == StatusCode::UNAUTHORIZED {
        r.headers_mut().insert(
            header::WWW_AUTHENTICATE,
            HeaderValue::from_static(
                "Bearer error=\"invalid_token\", error_description=\"The access token is expired\"",
            ),
        );
    }
    r
}

impl FaultKind {
    /// How long this fault asks the client to wait before it sends the request again, if it says.
    pub fn retry_after(&self) -> Option<Duration> {
        match self {
            FaultKind::Throttle { retry_after, .. } | FaultKind::Unavailable { retry_after: Some(retry_after), .. } => {
                Some(Duration::from_secs(u64::from(*retry_after)))
            }
            _ => None,
        }
    }
}

/// What makes a request the same one again: service, method, path and query, cmdlet and a hash of the body.
#[derive(Debug, Clone, PartialEq, Eq, Hash)]
pub struct Signature {
    service: String,
    /// Shown in the log: the method and path (for `exo`, the cmdlet), without the query or body.
    label: String,
    uri: String,
    body_hash: u64,
}

impl Signature {
    fn of(service: &str, method: &str, uri: &axum::http::Uri, cmdlet: Option<&str>, body: &[u8]) -> Signature {
        use std::hash::{Hash, Hasher};
        let mut h = std::collections::hash_map::DefaultHasher::new();
        body.hash(&mut h);
        let label = match cmdlet {
            Some(c) if service == "exo" => format!("{method} {c}"),
            _ => format!("{method} {}", uri.path()),
        };
        Signature { service: service.to_owned(), label, uri: uri.to_string(), body_hash: h.finish() }
    }
}

/// Each fault served with a `Retry-After`, and when the same request came back: a retry that arrives before
/// the fault's answer plus its `Retry-After` is early. Real time, as the client's wait is. Counts and the
/// shortest margin are kept for every retry, the requests themselves only for the first early ones.
#[derive(Debug, Default)]
pub struct RetryLog {
    waiting: HashMap<Signature, (Instant, Duration)>,
    retried: u64,
    early: Vec<Retried>,
    early_count: u64,
    min_margin_s: Option<f64>,
}

/// How many early retries are listed (all are counted).
const EARLY_LISTED: usize = 100;

/// A faulted request that came back too early.
#[derive(Debug, Clone, Serialize)]
pub struct Retried {
    pub service: String,
    pub request: String,
    pub retry_after_s: f64,
    pub waited_s: f64,
}

impl RetryLog {
    pub fn faulted(&mut self, signature: Signature, wait: Duration, at: Instant) {
        self.waiting.insert(signature, (at, wait));
    }

    pub fn arrived(&mut self, signature: &Signature, at: Instant) {
        let Some((faulted, wait)) = self.waiting.remove(signature) else { return };
        let waited = at.saturating_duration_since(faulted);
        self.retried += 1;
        let margin = waited.as_secs_f64() - wait.as_secs_f64();
        self.min_margin_s = Some(self.min_margin_s.map_or(margin, |m| m.min(margin)));
        if waited < wait {
            self.early_count += 1;
            if self.early.len() < EARLY_LISTED {
                self.early.push(Retried {
                    service: signature.service.clone(),
                    request: signature.label.clone(),
                    retry_after_s: wait.as_secs_f64(),
                    waited_s: waited.as_secs_f64(),
                });
            }
        }
    }

    /// The summary `GET /retry-after` answers: counts, the shortest margin, and the early retries.
    pub fn summary(&self) -> serde_json::Value {
        json!({
            "faulted": self.retried + self.waiting.len() as u64,
            "retried": self.retried,
            "not_retried": self.waiting.len(),
            "early": self.early_count,
            "min_margin_s": self.min_margin_s,
            "early_requests": self.early,
        })
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn every_nth_and_times_are_honoured() {
        let mut f = Faults::new(&[FaultSpec {
            service: "exo".into(),
            path_contains: Some("Get-MigrationUser".into()),
            kind: FaultKind::Throttle { retry_after: 10, retry_after_form: RetryAfterForm::Seconds },
            every: 2,
            times: Some(1),
        }]);
        assert_eq!(f.pick("exo", "/exo/adminapi", Some("Get-MigrationUser")), None);
        assert!(f.pick("exo", "/exo/adminapi", Some("Get-MigrationUser")).is_some());
        assert_eq!(f.pick("exo", "/exo/adminapi", Some("Get-MigrationUser")), None);
        assert_eq!(f.pick("exo", "/exo/adminapi", Some("Get-MigrationUser")), None);
        assert_eq!(f.pick("graph", "/graph/v1.0/users", None), None);
    }

    #[test]
    fn a_retry_before_its_retry_after_is_early() {
        let uri: axum::http::Uri = "/graph/v1.0/users?$top=999".parse().expect("uri");
        let sig = Signature::of("graph", "GET", &uri, None, b"");
        let other = Signature::of("graph", "GET", &"/graph/v1.0/users?$top=5".parse().expect("uri"), None, b"");
        let t0 = Instant::now();
        let mut log = RetryLog::default();
        log.faulted(sig.clone(), Duration::from_secs(2), t0);
        log.arrived(&other, t0 + Duration::from_millis(10));
        log.arrived(&sig, t0 + Duration::from_secs(1));
        log.faulted(sig.clone(), Duration::from_secs(2), t0 + Duration::from_secs(1));
        log.arrived(&sig, t0 + Duration::from_secs(3));
        let s = log.summary();
        assert_eq!(
            (s["retried"].as_u64(), s["early"].as_u64(), s["not_retried"].as_u64()),
            (Some(2), Some(1), Some(0))
        );
        assert_eq!(s["early_requests"][0]["request"], "GET /graph/v1.0/users");
    }
}
