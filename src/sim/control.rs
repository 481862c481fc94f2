//! The control API (`{control_url}/…`): what a test or the demo uses to play the admin, the registrar and the
//! weather: approve device codes, expire or revoke tokens, inject faults, move the clock, change DNS records.
//! Documented in docs/simulator.md.

use axum::Router;
use axum::body::Bytes;
use axum::extract::{Json, State, rejection::JsonRejection};
use axum::http::StatusCode;
use axum::response::{Html, IntoResponse, Response};
use axum::routing::{get, post};
use serde::Deserialize;
use serde_json::json;

use super::Shared;
use super::dns::Change;
use super::scenario::FaultSpec;

pub fn router() -> Router<Shared> {
    Router::new()
        .route("/state", get(state))
        .route("/devicelogin", get(devicelogin))
        .route("/devicecode/approve", post(approve))
        .route("/devicecode/decline", post(decline))
        .route("/tokens/expire", post(expire))
        .route("/tokens/revoke", post(revoke))
        .route("/faults", get(list_faults).post(add_fault).delete(clear_faults))
        .route("/clock/advance", post(advance))
        .route("/requests", get(requests).delete(reset_requests))
        .route("/retry-after", get(retry_after))
        .route("/secrets", get(secrets))
        .route("/fix", post(fix))
        .route("/dns/records", get(dns_records).post(dns_change))
        .route("/dns/resolvers", get(dns_resolvers))
        .route("/inventory.csv", get(inventory_csv))
        .route("/transport-rules.json", get(transport_rules_json))
        .route("/mail/inbound", post(inbound_mail))
}

/// A control call with a body that does not parse.
pub fn bad_request(text: String) -> Response {
    (StatusCode::BAD_REQUEST, axum::Json(json!({"error": text}))).into_response()
}

async fn state(State(shared): State<Shared>) -> Response {
    let mut world = shared.lock();
    super::exo::tick(&mut world);
    axum::Json(json!({
        "exchange": super::exo::summary(&world),
        "scenario": shared.info.scenario,
        "now": world.clock.now(),
        "speed": world.clock.speed(),
        "pending_user_codes": world.auth.pending_user_codes(),
    }))
    .into_response()
}

async fn devicelogin(State(shared): State<Shared>) -> Html<String> {
    let codes = shared.lock().auth.pending_user_codes();
    Html(format!(
        "<!doctype html><title>cutover simulator sign-in</title><h1>Simulated Microsoft sign-in</h1>\
         <p>Pending codes: {}</p><form method=post action=devicecode/approve><button>Approve all as admin@{}</button></form>",
        if codes.is_empty() { "none".to_string() } else { codes.join(", ") },
        shared.info.tenant_domain
    ))
}

#[derive(Debug, Default, Deserialize)]
struct Decide {
    user_code: Option<String>,
}

fn decide(shared: &Shared, body: &[u8], approve: bool) -> Response {
    let d = if body.iter().all(u8::is_ascii_whitespace) {
        Decide::default()
    } else {
        match serde_json::from_slice::<Decide>(body) {
            Ok(d) => d,
            Err(e) => return bad_request(format!("body must be {{\"user_code\": \"…\"}} or empty: {e}")),
        }
    };
    let n = shared.lock().auth.decide(d.user_code.as_deref(), approve);
    if n == 0 {
        return (StatusCode::NOT_FOUND, axum::Json(json!({"error": "no pending device code matches"}))).into_response();
    }
    axum::Json(json!({ "decided": n })).into_response()
}

async fn approve(State(shared): State<Shared>, body: Bytes) -> Response {
    decide(&shared, &body, true)
}

async fn decline(State(shared): State<Shared>, body: Bytes) -> Response {
    decide(&shared, &body, false)
}

async fn expire(State(shared): State<Shared>) -> Response {
    shared.lock().auth.expire_all();
    axum::Json(json!({"expired": true})).into_response()
}

async fn revoke(State(shared): State<Shared>) -> Response {
    shared.lock().auth.revoke_all();
    axum::Json(json!({"revoked": true})).into_response()
}

async fn list_faults(State(shared): State<Shared>) -> Response {
    axum::Json(json!({"faults": shared.lock().faults.rules()})).into_response()
}

async fn add_fault(State(shared): State<Shared>, body: Result<Json<FaultSpec>, JsonRejection>) -> Response {
    match body {
        Ok(Json(spec)) if ["login", "graph", "exo", "source"].contains(&spec.service.as_str()) => {
            shared.lock().faults.add(spec);
            (StatusCode::CREATED, axum::Json(json!({"added": true}))).into_response()
        }
        Ok(Json(spec)) => bad_request(format!("service {:?}: use login, graph, exo or source", spec.service)),
        Err(e) => bad_request(format!("not a fault rule (see docs/simulator.md): {e}")),
    }
}

async fn clear_faults(State(shared): State<Shared>) -> Response {
    shared.lock().faults.clear();
    StatusCode::NO_CONTENT.into_response()
}

async fn requests(State(shared): State<Shared>) -> Response {
    axum::Json(json!(shared.lock().requests)).into_response()
}

/// Each fault served with a `Retry-After` and when the same request came back (see `faults::RetryLog`).
async fn retry_after(State(shared): State<Shared>) -> Response {
    axum::Json(shared.lock().retries.summary()).into_response()
}

/// Every secret the simulator issued or accepted, so a test can prove the client keeps none of them anywhere.
async fn secrets(State(shared): State<Shared>) -> Response {
    let world = shared.lock();
    let (access, refresh, device) = world.auth.issued_secrets();
    let passwords: Vec<&String> =
        std::iter::once(&shared.info.source.admin_password).chain(&world.accepted_passwords).collect();
    axum::Json(json!({
        "access_tokens": access,
        "refresh_tokens": refresh,
        "device_codes": device,
        "client_secrets": [shared.info.app_secret],
        "passwords": passwords,
    }))
    .into_response()
}

async fn reset_requests(State(shared): State<Shared>) -> Response {
    shared.lock().requests = Default::default();
    StatusCode::NO_CONTENT.into_response()
}

/// What the engineer fixed outside the tool: on the source server, or in the tenant's directory sync settings.
#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
struct Fix {
    directory_sync: Option<bool>,
    certificate: Option<super::scenario::CertProblem>,
    rpc_auth: Option<Vec<String>>,
    autodiscover: Option<bool>,
}

/// Plays the fixes a real engineer makes by hand (turn directory sync off, renew the certificate, enable Basic
/// or NTLM on the RPC proxy, bring Autodiscover back), so a scenario such as `trouble` can go on to migrate.
async fn fix(State(shared): State<Shared>, body: Result<Json<Fix>, JsonRejection>) -> Response {
    let f = match body {
        Ok(Json(f)) => f,
        Err(e) => {
            return bad_request(format!(
                "body must be {{\"directory_sync\": false, \"certificate\": \"none\", \"rpc_auth\": [\"Basic\"], \"autodiscover\": true}} (any of them): {e}"
            ));
        }
    };
    let mut world = shared.lock();
    if let Some(d) = f.directory_sync {
        world.scenario.tenant.directory_sync = d;
    }
    if let Some(c) = f.certificate {
        world.scenario.source.certificate = c;
    }
    if let Some(a) = f.rpc_auth {
        world.scenario.source.rpc_auth = a;
    }
    if let Some(a) = f.autodiscover {
        world.scenario.source.autodiscover = a;
    }
    let s = &world.scenario;
    axum::Json(json!({
        "directory_sync": s.tenant.directory_sync,
        "certificate": s.source.certificate,
        "rpc_auth": s.source.rpc_auth,
        "autodiscover": s.source.autodiscover,
    }))
    .into_response()
}

#[derive(Debug, Deserialize)]
struct Advance {
    seconds: f64,
}

async fn advance(State(shared): State<Shared>, body: Result<Json<Advance>, JsonRejection>) -> Response {
    match body {
        Ok(Json(a)) if a.seconds >= 0.0 && a.seconds.is_finite() => {
            let mut world = shared.lock();
            world.clock.advance(a.seconds);
            axum::Json(json!({"now": world.clock.now()})).into_response()
        }
        Ok(_) => bad_request("seconds must be a number ≥ 0".into()),
        Err(e) => bad_request(format!("body must be {{\"seconds\": N}}: {e}")),
    }
}

async fn inventory_csv(State(shared): State<Shared>) -> Response {
    match super::inventory::csv(&shared.lock()) {
        Ok(text) => ([(axum::http::header::CONTENT_TYPE, "text/csv; charset=utf-8")], text).into_response(),
        Err(e) => (StatusCode::INTERNAL_SERVER_ERROR, e.to_string()).into_response(),
    }
}

async fn transport_rules_json(State(shared): State<Shared>) -> Response {
    let text = super::rules::json(&shared.lock());
    ([(axum::http::header::CONTENT_TYPE, "application/json; charset=utf-8")], text).into_response()
}

/// A message from outside to a customer address.
#[derive(Debug, Deserialize)]
struct Inbound {
    from: String,
    to: String,
    #[serde(default)]
    subject: String,
}

/// Someone outside sends a message to `to`: it reaches Exchange Online (and its message trace) only once the
/// recipient domain's MX in the zone points to Exchange Online Protection; before that it goes to the source
/// server, and the answer says so (409).
async fn inbound_mail(State(shared): State<Shared>, body: Result<Json<Inbound>, JsonRejection>) -> Response {
    let m = match body {
        Ok(Json(m)) => m,
        Err(e) => return bad_request(format!("body must be {{\"from\",\"to\",\"subject\"}}: {e}")),
    };
    let Some((_, domain)) = m.to.rsplit_once('@') else { return bad_request("to must be an email address".into()) };
    let mut world = shared.lock();
    let to_eop =
        world.dns.current(domain, "MX").iter().any(|v| v.to_ascii_lowercase().contains(".mail.protection.outlook.com"));
    if !to_eop {
        return (
            StatusCode::CONFLICT,
            axum::Json(json!({"delivered_to": "source", "reason": format!("the MX of {domain} does not point to Exchange Online yet")})),
        )
            .into_response();
    }
    let now = world.clock.now();
    world.exchange.messages.push(super::exo::Message {
        received: now,
        sender: m.from,
        recipient: m.to,
        subject: m.subject,
    });
    axum::Json(json!({"delivered_to": "exchange-online", "received": now})).into_response()
}

async fn dns_records(State(shared): State<Shared>) -> Response {
    let world = shared.lock();
    axum::Json(json!({"now": world.clock.now(), "records": world.dns.sets})).into_response()
}

/// The resolvers the simulator runs, with their delays: what a demo's propagation watch asks.
async fn dns_resolvers(State(shared): State<Shared>) -> Response {
    axum::Json(&shared.info.dns).into_response()
}

/// The registrar: sets (or with empty `values`, removes) a record set; resolvers see it after their delay.
async fn dns_change(State(shared): State<Shared>, body: Result<Json<Change>, JsonRejection>) -> Response {
    let change = match body {
        Ok(Json(c)) => c,
        Err(e) => return bad_request(format!("body must be {{\"name\",\"type\",\"ttl\",\"values\":[…]}}: {e}")),
    };
    let mut world = shared.lock();
    let now = world.clock.now();
    match world.dns.set(change, now) {
        Ok(()) => axum::Json(json!({"changed_at": now})).into_response(),
        Err(e) => bad_request(e),
    }
}
