//! Faults on demand: 429 with Retry-After, 503, slow answers, dropped connections and expired tokens, per
//! service and path (or cmdlet), every Nth request, a given number of times. Rules come from the scenario or
//! from the control endpoint.

use axum::body::{Body, Bytes};
use axum::extract::{Request, State};
use axum::http::{HeaderValue, StatusCode, header};
use axum::middleware::Next;
use axum::response::{IntoResponse, Response};
use serde::Serialize;
use serde_json::json;

use super::Shared;
use super::scenario::{FaultKind, FaultSpec};

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

/// Middleware of the main server.
pub async fn layer(State(shared): State<Shared>, req: Request, next: Next) -> Response {
    let Some(service) = service_of(req.uri().path()) else { return next.run(req).await };
    let cmdlet = req.headers().get("x-cmdletname").and_then(|v| v.to_str().ok()).map(str::to_string);
    let fault = {
        let mut world = shared.lock();
        world.requests.count(service, req.method(), req.uri().path(), cmdlet.as_deref());
        world.faults.pick(service, req.uri().path(), cmdlet.as_deref())
    };
    apply(service, fault, req, next).await
}

/// Serves a fault (or passes the request on). Shared with the source server.
pub async fn apply(service: &str, fault: Option<FaultKind>, req: Request, next: Next) -> Response {
    match fault {
        None => next.run(req).await,
        Some(FaultKind::Slow { millis }) => {
            tokio::time::sleep(std::time::Duration::from_millis(millis)).await;
            next.run(req).await
        }
        Some(FaultKind::Throttle { retry_after }) => {
            error(service, StatusCode::TOO_MANY_REQUESTS, "TooManyRequests", "Too many requests.", Some(retry_after))
        }
        Some(FaultKind::Unavailable { retry_after }) => error(
            service,
            StatusCode::SERVICE_UNAVAILABLE,
            "ServiceUnavailable",
            "The service is temporarily unavailable.",
            retry_after,
        ),
        Some(FaultKind::ExpiredToken) => error(
            service,
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

fn error(service: &str, status: StatusCode, code: &str, message: &str, retry_after: Option<u32>) -> Response {
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
    if let Some(s) = retry_after {
        r.headers_mut().insert(header::RETRY_AFTER, HeaderValue::from(s));
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

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn every_nth_and_times_are_honoured() {
        let mut f = Faults::new(&[FaultSpec {
            service: "exo".into(),
            path_contains: Some("Get-MigrationUser".into()),
            kind: FaultKind::Throttle { retry_after: 10 },
            every: 2,
            times: Some(1),
        }]);
        assert_eq!(f.pick("exo", "/exo/adminapi", Some("Get-MigrationUser")), None);
        assert!(f.pick("exo", "/exo/adminapi", Some("Get-MigrationUser")).is_some());
        assert_eq!(f.pick("exo", "/exo/adminapi", Some("Get-MigrationUser")), None);
        assert_eq!(f.pick("exo", "/exo/adminapi", Some("Get-MigrationUser")), None);
        assert_eq!(f.pick("graph", "/graph/v1.0/users", None), None);
    }
}
