//! Exchange Online admin REST: `POST /adminapi/beta/{tenant}/InvokeCommand`, dispatching on `X-CmdletName` with
//! the body `{"CmdletInput":{"CmdletName":…,"Parameters":{…}}}`, answering `{"@odata.context":…,"value":[…]}`
//! paged by `Prefer: odata.maxpagesize` with `@odata.nextLink`, warnings in `@adminapi.warnings`, and errors as
//! `{"error":{"code","message","details":[{"message":"<id>|<ExceptionType>|<text>"}]}}`.

use axum::extract::{Path, Query, State};
use axum::http::{HeaderMap, StatusCode, header};
use axum::response::{IntoResponse, Response};
use axum::routing::post;
use axum::{Json, Router};
use chrono::{DateTime, Utc};
use serde_json::{Map, Value, json};
use std::collections::HashMap;

use super::engine::{self, Move, Params, UserStatus, format_size};
use super::identity::{EXO_AUDIENCE, TokenProblem};
use super::scenario::CertProblem;
use super::scenario::MailboxSpec;
use super::{Shared, World};

/// Exchange Online's state: the migration endpoints, the batch and its moves, and the policies.
#[derive(Debug, Default)]
pub struct Exchange {
    /// In creation order; a tenant may hold several (one per source, or a spare one).
    pub endpoints: Vec<Endpoint>,
    pub batch: Option<Batch>,
    pub moves: Vec<Move>,
    pub last_tick: Option<DateTime<Utc>>,
    pub mx_changed_at: Option<DateTime<Utc>>,
    pub transport_rules: Vec<Map<String, Value>>,
    pub content_filter: Map<String, Value>,
    pub dkim: Vec<Map<String, Value>>,
    pub malware_filter: Map<String, Value>,
    /// Mail through Exchange Online, as its message trace knows it.
    pub messages: Vec<Message>,
    /// Send As rights: (mailbox's primary address, trustee), both lower case.
    pub send_as: std::collections::BTreeSet<(String, String)>,
}

/// One message in the trace: sent from a mailbox through Graph, or received from outside.
#[derive(Debug, Clone)]
pub struct Message {
    pub received: DateTime<Utc>,
    pub sender: String,
    pub recipient: String,
    pub subject: String,
}

/// Simulated seconds a message shows Pending in the trace before it is Delivered.
const PENDING_SECONDS: i64 = 30;

#[derive(Debug, Clone)]
pub struct Endpoint {
    pub name: String,
    pub guid: String,
    pub server: String,
    pub max_concurrent: u32,
    pub authentication: String,
}

#[derive(Debug, Clone)]
pub struct Batch {
    pub name: String,
    pub guid: String,
    /// The endpoint it was made on: its MaxConcurrentMigrations paces the moves.
    pub endpoint: String,
    pub created: DateTime<Utc>,
    pub started: Option<DateTime<Utc>>,
    pub stopped: bool,
    pub complete_requested: Option<DateTime<Utc>>,
    /// When Remove-MigrationBatch was run: the batch shows `Removing` until `REMOVING_SECONDS` later.
    pub removing: Option<DateTime<Utc>>,
}

/// Simulated seconds a removed batch stays visible as `Removing` before it is gone.
const REMOVING_SECONDS: i64 = 60;

pub fn router() -> Router<Shared> {
    Router::new().route("/adminapi/beta/{tenant}/InvokeCommand", post(invoke))
}

/// A cmdlet failure in the admin API's form.
struct CmdletError {
    status: StatusCode,
    exception: &'static str,
    text: String,
}

fn fail(exception: &'static str, text: impl Into<String>) -> CmdletError {
    CmdletError { status: StatusCode::BAD_REQUEST, exception, text: text.into() }
}

impl CmdletError {
    fn into_response(self) -> Response {
        let id = format!("{:08X}", (uuid::Uuid::new_v4().as_u128() & 0xFFFF_FFFF) as u32);
        let body = json!({"error": {
            "code": "BadRequest",
            "message": "Error executing cmdlet",
            "details": [{"code": "Failure", "target": "", "message": format!("{id}|{}|{}", self.exception, self.text)}],
            "innererror": {"message": "Error executing cmdlet", "type": "Microsoft.Exchange.Admin.OData.Core.ODataServiceException"},
        }});
        (self.status, Json(body)).into_response()
    }
}

const NOT_FOUND: &str = "Microsoft.Exchange.Configuration.Tasks.ManagementObjectNotFoundException";

/// The domain controller Exchange names in a not-found error (a made-up one of the simulated forest).
const DOMAIN_CONTROLLER: &str = "SIMPR01A001DC01.SIMPR01A001.PROD.OUTLOOK.COM";

/// Exchange's answer for an `-Identity` that names nothing: ManagementObjectNotFoundException, worded as the
/// service words it.
fn not_found(id: &str) -> CmdletError {
    fail(
        NOT_FOUND,
        format!(
            "The operation couldn't be performed because object '{id}' couldn't be found on '{DOMAIN_CONTROLLER}'."
        ),
    )
}
const MIGRATION_PERMANENT: &str = "Microsoft.Exchange.Migration.MigrationPermanentException";
const PARAMETER: &str = "System.Management.Automation.ParameterBindingException";

async fn invoke(
    State(shared): State<Shared>,
    Path(tenant): Path<String>,
    Query(q): Query<HashMap<String, String>>,
    headers: HeaderMap,
    body: Option<Json<Value>>,
) -> Response {
    let auth = headers.get(header::AUTHORIZATION).and_then(|v| v.to_str().ok());
    if let Err(p) = shared.lock().auth.check(auth, EXO_AUDIENCE) {
        let text = match p {
            TokenProblem::Expired => "The access token is expired.",
            TokenProblem::WrongAudience => "The audience of the access token is not valid for Exchange Online.",
            _ => "The access token is missing or not valid.",
        };
        let mut r =
            (StatusCode::UNAUTHORIZED, Json(json!({"error": {"code": "InvalidAuthenticationToken", "message": text}})))
                .into_response();
        r.headers_mut().insert(
            header::WWW_AUTHENTICATE,
            header::HeaderValue::from_static(
                "Bearer client_id=\"00000002-0000-0ff1-ce00-000000000000\", error=\"invalid_token\"",
            ),
        );
        return r;
    }
    let info = &shared.info;
    if !(tenant.eq_ignore_ascii_case(&info.tenant_id)
        || tenant.eq_ignore_ascii_case(&info.tenant_domain)
        || info.email_domains.iter().any(|d| d.eq_ignore_ascii_case(&tenant)))
    {
        return (
            StatusCode::NOT_FOUND,
            Json(json!({"error": {"code": "NotFound", "message": format!("Tenant '{tenant}' was not found.")}})),
        )
            .into_response();
    }
    let Some(Json(body)) = body else {
        return fail(PARAMETER, "The request body must be {\"CmdletInput\":{\"CmdletName\":…,\"Parameters\":{…}}}.")
            .into_response();
    };
    let Some(name) = body.pointer("/CmdletInput/CmdletName").and_then(Value::as_str) else {
        return fail(PARAMETER, "CmdletInput.CmdletName is missing.").into_response();
    };
    // The endpoint routes on this header; a request without it is malformed.
    let Some(h) = headers.get("x-cmdletname").and_then(|v| v.to_str().ok()) else {
        return fail(
            PARAMETER,
            format!("The X-CmdletName header is missing; send X-CmdletName: {name} with the request."),
        )
        .into_response();
    };
    if !h.eq_ignore_ascii_case(name) {
        return fail(
            PARAMETER,
            format!("The X-CmdletName header '{h}' does not match CmdletInput.CmdletName '{name}'."),
        )
        .into_response();
    }
    let empty = Map::new();
    let params = body.pointer("/CmdletInput/Parameters").and_then(Value::as_object).unwrap_or(&empty);
    let page_size = headers
        .get("prefer")
        .and_then(|v| v.to_str().ok())
        .and_then(|p| p.split(',').find_map(|x| x.trim().strip_prefix("odata.maxpagesize=")?.parse::<usize>().ok()))
        .unwrap_or(1000)
        .clamp(1, 1000);
    let skip: usize = q.get("$skiptoken").and_then(|s| s.parse().ok()).unwrap_or(0);

    let mut world = shared.lock();
    tick(&mut world);
    let result = run(&shared, &mut world, name, params);
    drop(world);
    let (mut rows, mut warnings) = match result {
        Ok(x) => x,
        Err(e) => return e.into_response(),
    };
    // ResultSize: Get-* cmdlets return 1,000 objects unless asked for more (or Unlimited).
    if name.starts_with("Get-") {
        let limit = match params.get("ResultSize") {
            Some(Value::String(s)) if s.eq_ignore_ascii_case("unlimited") => usize::MAX,
            Some(v) => v.as_u64().or_else(|| v.as_str().and_then(|s| s.parse().ok())).map_or(1000, |n| n as usize),
            None => 1000,
        };
        if rows.len() > limit {
            rows.truncate(limit);
            warnings.push("There are more results available than are currently displayed. To view them, increase the value for the ResultSize parameter.".into());
        }
    }
    let total = rows.len();
    let page: Vec<Value> = rows.into_iter().skip(skip).take(page_size).collect();
    let base = format!("{}/adminapi/beta/{tenant}", info.exo_url);
    let mut out = json!({
        "@odata.context": format!("{base}/$metadata#Collection(Exchange.GenericHashTable)"),
        "adminapi.warnings@odata.type": "#Collection(String)",
        "@adminapi.warnings": warnings,
        "value": page,
    });
    if skip + page_size < total {
        out["@odata.nextLink"] = json!(format!("{base}/InvokeCommand?$skiptoken={}", skip + page_size));
    }
    Json(out).into_response()
}

/// Brings the engine up to the simulated now.
pub fn tick(world: &mut World) {
    let now = world.clock.now();
    let from = world.exchange.last_tick.unwrap_or(now);
    world.exchange.last_tick = Some(now);
    let primary = world.scenario.primary_domain().to_string();
    let source_host = format!("{}.{primary}", world.scenario.source.host);
    let old_mx = world.scenario.dns.mx_host.clone().unwrap_or(source_host).to_ascii_lowercase();
    let at_source = |values: &[String]| {
        values
            .iter()
            .any(|v| v.split_whitespace().nth(1).is_some_and(|h| h.trim_end_matches('.').eq_ignore_ascii_case(&old_mx)))
    };
    if !at_source(&world.dns.current(&primary, "MX")) && world.exchange.mx_changed_at.is_none() {
        world.exchange.mx_changed_at = Some(now);
    }
    // Senders behind the slowest resolver still reach the old server after the change: mail goes on landing in
    // the source mailboxes until that resolver sees the new MX too.
    let slowest = world.scenario.dns.resolver_delays_seconds.iter().copied().fold(0.0, f64::max);
    let mx_at_source = world.dns.view(&primary, "MX", now, slowest).is_some_and(|(_, values)| at_source(values));
    let Some(batch) = &world.exchange.batch else { return };
    if let Some(at) = batch.removing {
        if now >= at + chrono::Duration::seconds(REMOVING_SECONDS) {
            world.exchange.batch = None;
            world.exchange.moves.clear();
        }
        return;
    }
    if batch.started.is_none() || batch.stopped {
        return;
    }
    let endpoint = world.exchange.endpoints.iter().find(|e| e.name.eq_ignore_ascii_case(&batch.endpoint));
    let max = endpoint.map_or(20, |e| e.max_concurrent) as usize;
    let params = Params::new(&world.scenario.migration);
    let refused = refusals(world, &primary);
    let ev = engine::advance(
        &mut world.exchange.moves,
        &world.scenario.mailboxes,
        &params,
        max,
        from,
        now,
        mx_at_source,
        &refused,
    );
    for i in ev.provisioned {
        let spec = &world.scenario.mailboxes[i];
        let upn = format!("{}@{primary}", spec.alias);
        let mut proxies = vec![format!("SMTP:{upn}"), format!("smtp:{}@{}", spec.alias, world_tenant_domain(world))];
        proxies.extend(world.scenario.tenant.domains.iter().skip(1).map(|d| format!("smtp:{}@{d}", spec.alias)));
        if let Some(u) = world.directory.users.iter_mut().find(|u| u.upn.eq_ignore_ascii_case(&upn)) {
            // A pre-created account gets its mailbox (and the addresses with it) from the move; one that has a
            // mailbox already keeps what it has.
            if u.mail.is_none() {
                u.mail = Some(upn.clone());
                u.proxy_addresses = proxies;
            }
            continue;
        }
        world.directory.users.push(super::graph::User {
            id: uuid::Uuid::new_v5(&uuid::Uuid::NAMESPACE_DNS, upn.as_bytes()).to_string(),
            display_name: spec.display_name.clone(),
            mail_nickname: spec.alias.clone(),
            mail: Some(upn.clone()),
            usage_location: None,
            account_enabled: true,
            licences: vec![],
            proxy_addresses: proxies,
            upn,
        });
    }
}

/// Per scenario mailbox, why provisioning fails: its domain is not accepted, or one of its addresses is held
/// by a group or a contact (Exchange refuses a proxy address another recipient has).
fn refusals(world: &World, primary: &str) -> Vec<Option<String>> {
    if !world.directory.is_verified(primary) {
        let why = "Error: MigrationPermanentException: The domain of the mailbox's primary SMTP address isn't an accepted domain of the organization. Add and verify the domain, then start the batch again.";
        return vec![Some(why.to_owned()); world.scenario.mailboxes.len()];
    }
    let d = &world.directory;
    let holders: Vec<(&str, &str)> = d
        .groups
        .iter()
        .flat_map(|g| g.proxy_addresses.iter().map(move |p| (p.as_str(), g.display_name.as_str())))
        .chain(d.contacts.iter().flat_map(|c| {
            std::iter::once(c.mail.as_str())
                .chain(c.proxy_addresses.iter().map(String::as_str))
                .map(move |a| (a, c.display_name.as_str()))
        }))
        .filter_map(|(a, name)| {
            let bare = a.strip_prefix("SMTP:").or_else(|| a.strip_prefix("smtp:")).unwrap_or(a);
            (!a.contains(':') || bare != a).then_some((bare, name))
        })
        .collect();
    world
        .scenario
        .mailboxes
        .iter()
        .map(|m| {
            world.scenario.tenant.domains.iter().find_map(|domain| {
                let address = format!("{}@{domain}", m.alias);
                holders.iter().find(|(a, _)| a.eq_ignore_ascii_case(&address)).map(|(_, holder)| {
                    format!(
                        "Error: MigrationPermanentException: The proxy address \"SMTP:{address}\" is already being used by the proxy addresses or LegacyExchangeDN of \"{holder}\". Please choose another proxy address."
                    )
                })
            })
        })
        .collect()
}

/// What the control API's `/state` shows of Exchange Online.
pub fn summary(world: &World) -> Value {
    json!({
        "batch_status": world.exchange.batch.as_ref().map(|b| batch_status(world, b)),
        "mx_changed_at": iso(world.exchange.mx_changed_at),
        "endpoint": world.exchange.endpoints.first().map(|e| e.name.clone()),
        "endpoints": world.exchange.endpoints.iter().map(|e| e.name.clone()).collect::<Vec<_>>(),
    })
}

fn world_tenant_domain(world: &World) -> String {
    format!("{}.onmicrosoft.com", world.scenario.tenant.name)
}

fn text(p: &Map<String, Value>, k: &str) -> Option<String> {
    p.get(k).and_then(|v| match v {
        Value::String(s) => Some(s.clone()),
        Value::Number(n) => Some(n.to_string()),
        Value::Bool(b) => Some(b.to_string()),
        _ => None,
    })
}

fn flag(p: &Map<String, Value>, k: &str) -> bool {
    match p.get(k) {
        Some(Value::Bool(b)) => *b,
        Some(Value::String(s)) => s.eq_ignore_ascii_case("true"),
        Some(Value::Null) => true,
        _ => false,
    }
}

type Rows = (Vec<Value>, Vec<String>);

fn run(shared: &Shared, world: &mut World, name: &str, p: &Map<String, Value>) -> Result<Rows, CmdletError> {
    let mut warnings = Vec::new();
    let rows = match name.to_ascii_lowercase().as_str() {
        "test-migrationserveravailability" => vec![test_server(world, p)],
        "new-migrationendpoint" => new_endpoint(world, p)?,
        "get-migrationendpoint" => match text(p, "Identity") {
            Some(id) => vec![endpoint_json(&world.exchange.endpoints[find_endpoint(world, &id)?])],
            None => world.exchange.endpoints.iter().map(endpoint_json).collect(),
        },
        "set-migrationendpoint" => {
            let i = match text(p, "Identity") {
                Some(id) => find_endpoint(world, &id)?,
                // Without -Identity PowerShell would prompt; with one endpoint there is nothing to ask.
                None if world.exchange.endpoints.len() == 1 => 0,
                None => return Err(fail(PARAMETER, "Identity is required.")),
            };
            let e = &mut world.exchange.endpoints[i];
            let mut changed = false;
            if let Some(n) = text(p, "MaxConcurrentMigrations") {
                let n = parse_concurrency(&n)?;
                changed |= n != e.max_concurrent;
                e.max_concurrent = n;
            }
            if !changed {
                warnings.push(unchanged(&e.name));
            }
            vec![]
        }
        "remove-migrationendpoint" => {
            let id = text(p, "Identity").ok_or_else(|| fail(PARAMETER, "Identity is required."))?;
            let i = find_endpoint(world, &id)?;
            let name = world.exchange.endpoints[i].name.clone();
            if world.exchange.batch.as_ref().is_some_and(|b| b.endpoint.eq_ignore_ascii_case(&name)) {
                return Err(fail(MIGRATION_PERMANENT, "The endpoint is in use by a migration batch. Remove the batch first."));
            }
            world.exchange.endpoints.remove(i);
            vec![]
        }
        "new-migrationbatch" => new_batch(world, p)?,
        "get-migrationbatch" => match text(p, "Identity") {
            Some(id) => {
                let b = find_batch(world, &id)?.clone();
                vec![batch_json(world, &b)]
            }
            None => world.exchange.batch.iter().map(|b| batch_json(world, b)).collect(),
        },
        "start-migrationbatch" => {
            batch_mut(world, p)?;
            start_batch(world)?
        }
        "stop-migrationbatch" => {
            let b = batch_mut(world, p)?;
            b.stopped = true;
            for m in &mut world.exchange.moves {
                if !matches!(m.status, UserStatus::Completed | UserStatus::CompletedWithWarnings | UserStatus::Failed) {
                    m.status = UserStatus::Stopped;
                    m.until = None;
                }
            }
            vec![]
        }
        "complete-migrationbatch" => {
            batch_mut(world, p)?;
            complete_batch(world)?
        }
        "remove-migrationbatch" => {
            let now = world.clock.now();
            let b = match text(p, "Identity") {
                Some(id) => find_batch(world, &id)?.name.clone(),
                None => world.exchange.batch.as_ref().map(|b| b.name.clone()).ok_or_else(|| not_found("Identity"))?,
            };
            if let Some(batch) = world.exchange.batch.as_mut().filter(|x| x.name == b) {
                batch.removing.get_or_insert(now);
            }
            vec![]
        }
        "set-migrationbatch" => {
            batch_mut(world, p)?;
            if flag(p, "ApproveSkippedItems") {
                world.exchange.moves.iter_mut().for_each(|m| m.skipped_approved = true);
            }
            vec![]
        }
        "start-migrationuser" => start_user(world, p)?,
        "get-migrationuser" => users(world, p, false)?,
        "get-migrationuserstatistics" => users(world, p, true)?,
        "set-migrationuser" => {
            let id = text(p, "Identity").ok_or_else(|| fail(PARAMETER, "Identity is required."))?;
            let i = find_move(world, &id)?;
            if flag(p, "ApproveSkippedItems") {
                world.exchange.moves[i].skipped_approved = true;
            }
            vec![]
        }
        "get-mailbox" => mailboxes(world, p)?,
        verb @ ("get-recipientpermission" | "add-recipientpermission" | "remove-recipientpermission") => {
            recipient_permission(world, verb, p, &mut warnings)?
        }
        "set-mailbox" => {
            if !set_mailbox(world, p)? {
                warnings.push(unchanged(&text(p, "Identity").unwrap_or_default()));
            }
            vec![]
        }
        "get-accepteddomain" => world
            .directory
            .domains
            .iter()
            .filter(|d| d.verified)
            .map(|d| json!({"Identity": d.id, "Name": d.id, "DomainName": d.id, "DomainType": "Authoritative", "Default": d.default, "InitialDomain": d.initial, "IsValid": true}))
            .collect(),
        "get-transportrule" => world.exchange.transport_rules.iter().cloned().map(Value::Object).collect(),
        "new-transportrule" => {
            let name = text(p, "Name").ok_or_else(|| fail(PARAMETER, "Name is required."))?;
            if world.exchange.transport_rules.iter().any(|r| r.get("Name") == Some(&json!(name))) {
                return Err(fail("Microsoft.Exchange.Management.Tasks.RuleAlreadyExistsException", format!("A rule named '{name}' already exists.")));
            }
            let mut r = p.clone();
            r.insert("Identity".into(), json!(name));
            r.insert("Guid".into(), json!(uuid::Uuid::new_v4().to_string()));
            r.insert("State".into(), json!(if p.get("Enabled") == Some(&json!(false)) { "Disabled" } else { "Enabled" }));
            r.insert("Mode".into(), json!(text(p, "Mode").unwrap_or_else(|| "Enforce".into())));
            r.insert("Priority".into(), json!(world.exchange.transport_rules.len()));
            world.exchange.transport_rules.push(r.clone());
            vec![Value::Object(r)]
        }
        "set-transportrule" => {
            let id = text(p, "Identity").ok_or_else(|| fail(PARAMETER, "Identity is required."))?;
            let r = world
                .exchange
                .transport_rules
                .iter_mut()
                .find(|r| r.get("Name") == Some(&json!(id)))
                .ok_or_else(|| not_found(&id))?;
            if !merge(r, p) {
                warnings.push(unchanged(&id));
            }
            vec![]
        }
        "get-hostedcontentfilterpolicy" => vec![Value::Object(content_filter(world).clone())],
        "set-hostedcontentfilterpolicy" => {
            let f = content_filter(world);
            if !merge(f, p) {
                let id = f.get("Identity").and_then(Value::as_str).unwrap_or("Default").to_string();
                warnings.push(unchanged(&id));
            }
            vec![]
        }
        "get-malwarefilterpolicy" => vec![Value::Object(malware_filter(world).clone())],
        "set-malwarefilterpolicy" => {
            let f = malware_filter(world);
            if !merge(f, p) {
                warnings.push(unchanged("Default"));
            }
            vec![]
        }
        "get-messagetracev2" => message_trace(world, p)?,
        "get-dkimsigningconfig" => dkim(world).into_iter().map(Value::Object).collect(),
        "new-dkimsigningconfig" | "set-dkimsigningconfig" => set_dkim(world, p)?,
        "get-organizationconfig" => vec![json!({"Identity": world_tenant_domain(world), "Name": world_tenant_domain(world),
            "DisplayName": world.scenario.tenant.display_name, "IsDehydrated": false, "OAuth2ClientProfileEnabled": true,
            "Guid": shared.info.tenant_id})],
        _ => {
            return Err(fail(
                "System.Management.Automation.CommandNotFoundException",
                format!("The term '{name}' is not recognized as a name of a cmdlet, function, script file, or executable program."),
            ));
        }
    };
    Ok((rows, warnings))
}

/// Exchange's warning for a Set-* cmdlet whose values were already in place.
fn unchanged(identity: &str) -> String {
    format!("The command completed successfully but no settings of '{identity}' have been modified.")
}

/// Writes the parameters other than Identity into an object; whether any value changed.
fn merge(object: &mut Map<String, Value>, p: &Map<String, Value>) -> bool {
    let mut changed = false;
    for (k, v) in p.iter().filter(|(k, _)| *k != "Identity") {
        changed |= object.get(k) != Some(v);
        object.insert(k.clone(), v.clone());
    }
    changed
}

fn parse_concurrency(n: &str) -> Result<u32, CmdletError> {
    match n.parse::<u32>() {
        Ok(v) if (1..=100).contains(&v) => Ok(v),
        _ => Err(fail(
            PARAMETER,
            format!(
                "Cannot validate argument on parameter 'MaxConcurrentMigrations'. The value {n} must be between 1 and 100."
            ),
        )),
    }
}

/// The outcome of reaching the source over Outlook Anywhere, as Exchange Online would find it.
fn reach_source(world: &World, server: &str, user: Option<&str>, password: Option<&str>) -> Result<(), String> {
    let s = &world.scenario.source;
    let host = format!("{}.{}", s.host, world.scenario.primary_domain());
    if !server.eq_ignore_ascii_case(&host) {
        return Err(format!(
            "The connection to the server '{server}' could not be completed: the name couldn't be resolved."
        ));
    }
    match s.certificate {
        CertProblem::Expired => {
            return Err(format!(
                "The connection to the server '{host}' could not be completed: the remote certificate has expired (RPC over HTTP certificate validation failed)."
            ));
        }
        CertProblem::SelfSigned => {
            return Err(format!(
                "The connection to the server '{host}' could not be completed: the remote certificate is not issued by a trusted certification authority."
            ));
        }
        CertProblem::MissingSan => {
            return Err(format!(
                "The connection to the server '{host}' could not be completed: the certificate's names don't match the RPC proxy server name."
            ));
        }
        CertProblem::None | CertProblem::NearExpiry => {}
    }
    if !s.rpc_auth.iter().any(|a| a.eq_ignore_ascii_case("basic") || a.eq_ignore_ascii_case("ntlm")) {
        return Err(format!(
            "The server '{host}' refused the connection: HTTP 401 Unauthorized. Outlook Anywhere accepts only {} authentication; enable Basic or NTLM on the RPC virtual directory.",
            s.rpc_auth.join(", ")
        ));
    }
    let admin = &s.admin_user;
    let bare = admin.rsplit('\\').next().unwrap_or(admin);
    let user_ok = user.is_some_and(|u| {
        u.eq_ignore_ascii_case(admin)
            || u.eq_ignore_ascii_case(bare)
            || u.to_ascii_lowercase().starts_with(&format!("{}@", bare.to_ascii_lowercase()))
    });
    if !user_ok || password != Some(s.admin_password.as_str()) {
        return Err(format!(
            "The server '{host}' refused the connection: HTTP 401 Unauthorized. Check the migration account's user name and password."
        ));
    }
    Ok(())
}

fn credentials(p: &Map<String, Value>) -> (Option<String>, Option<String>) {
    match p.get("Credentials") {
        Some(Value::Object(c)) => (
            c.get("UserName").and_then(Value::as_str).map(str::to_string),
            c.get("Password").and_then(Value::as_str).map(str::to_string),
        ),
        _ => (None, None),
    }
}

fn source_server(world: &World, p: &Map<String, Value>) -> Result<String, String> {
    if let Some(s) = text(p, "RPCProxyServer").or_else(|| text(p, "ExchangeServer")) {
        return Ok(s);
    }
    if flag(p, "Autodiscover") {
        if !world.scenario.source.autodiscover {
            return Err("The Autodiscover service couldn't be located (HTTP 404). Specify the RPC proxy server and Exchange server names instead.".into());
        }
        return Ok(format!("{}.{}", world.scenario.source.host, world.scenario.primary_domain()));
    }
    Err("Specify -Autodiscover with -EmailAddress, or -ExchangeServer and -RPCProxyServer.".into())
}

fn test_server(world: &World, p: &Map<String, Value>) -> Value {
    let (user, password) = credentials(p);
    let outcome = source_server(world, p)
        .and_then(|server| reach_source(world, &server, user.as_deref(), password.as_deref()).map(|_| server));
    match outcome {
        Ok(server) => {
            json!({"Result": "Success", "Message": "", "ConnectionSettings": {"ExchangeServer": server, "RPCProxyServer": server, "Authentication": "Basic"}, "SupportsCutover": true, "ErrorDetail": null, "IsValid": true})
        }
        Err(e) => {
            json!({"Result": "Failed", "Message": e, "ConnectionSettings": null, "SupportsCutover": false, "ErrorDetail": format!("{MIGRATION_PERMANENT}: {e}"), "IsValid": true})
        }
    }
}

fn endpoint_json(e: &Endpoint) -> Value {
    json!({"Identity": e.name, "Name": e.name, "Guid": e.guid, "EndpointType": "ExchangeOutlookAnywhere", "RpcProxyServer": e.server,
        "ExchangeServer": e.server, "Authentication": e.authentication, "MaxConcurrentMigrations": e.max_concurrent,
        "MaxConcurrentIncrementalSyncs": 20, "IsValid": true})
}

fn new_endpoint(world: &mut World, p: &Map<String, Value>) -> Result<Vec<Value>, CmdletError> {
    let name = text(p, "Name").ok_or_else(|| fail(PARAMETER, "Name is required."))?;
    if world.exchange.endpoints.iter().any(|e| e.name.eq_ignore_ascii_case(&name)) {
        return Err(fail(
            "Microsoft.Exchange.Migration.MigrationEndpointDuplicateException",
            format!("A migration endpoint named '{name}' already exists."),
        ));
    }
    let (user, password) = credentials(p);
    let server = source_server(world, p).map_err(|e| fail(MIGRATION_PERMANENT, e))?;
    reach_source(world, &server, user.as_deref(), password.as_deref()).map_err(|e| fail(MIGRATION_PERMANENT, e))?;
    let max = match text(p, "MaxConcurrentMigrations") {
        Some(n) => parse_concurrency(&n)?,
        None => 20,
    };
    let e = Endpoint {
        name,
        guid: uuid::Uuid::new_v4().to_string(),
        server,
        max_concurrent: max,
        authentication: text(p, "Authentication").unwrap_or_else(|| "Basic".into()),
    };
    let out = endpoint_json(&e);
    world.exchange.endpoints.push(e);
    Ok(vec![out])
}

fn new_batch(world: &mut World, p: &Map<String, Value>) -> Result<Vec<Value>, CmdletError> {
    let name = text(p, "Name").ok_or_else(|| fail(PARAMETER, "Name is required."))?;
    if world.scenario.tenant.directory_sync {
        return Err(fail(
            MIGRATION_PERMANENT,
            "You can't use cutover migration because directory synchronization is enabled for your organization. Turn off directory synchronization, or use a staged or hybrid migration.",
        ));
    }
    if world.exchange.batch.is_some() {
        return Err(fail(
            MIGRATION_PERMANENT,
            "A cutover migration batch already exists. Only one cutover batch can exist at a time; remove it first.",
        ));
    }
    let endpoint =
        text(p, "SourceEndpoint").ok_or_else(|| fail(PARAMETER, "SourceEndpoint is required for a cutover batch."))?;
    let endpoint = world.exchange.endpoints[find_endpoint(world, &endpoint)?].name.clone();
    let now = world.clock.now();
    world.exchange.moves = world.scenario.mailboxes.iter().map(Move::new).collect();
    world.exchange.batch = Some(Batch {
        name,
        guid: uuid::Uuid::new_v4().to_string(),
        endpoint,
        created: now,
        started: None,
        stopped: false,
        complete_requested: None,
        removing: None,
    });
    world.exchange.last_tick = Some(now);
    if flag(p, "AutoStart") {
        start_batch(world)?;
    }
    let b = world.exchange.batch.clone().ok_or_else(|| fail(MIGRATION_PERMANENT, "the batch vanished"))?;
    Ok(vec![batch_json(world, &b)])
}

/// The endpoint an identity names (its name or GUID).
fn find_endpoint(world: &World, id: &str) -> Result<usize, CmdletError> {
    world
        .exchange
        .endpoints
        .iter()
        .position(|e| e.name.eq_ignore_ascii_case(id) || e.guid.eq_ignore_ascii_case(id))
        .ok_or_else(|| not_found(id))
}

/// The batch an identity names (its name or GUID).
fn find_batch<'w>(world: &'w World, id: &str) -> Result<&'w Batch, CmdletError> {
    world
        .exchange
        .batch
        .as_ref()
        .filter(|b| b.name.eq_ignore_ascii_case(id) || b.guid.eq_ignore_ascii_case(id))
        .ok_or_else(|| not_found(id))
}

/// The batch, for a cmdlet that changes it: the one `-Identity` names (the only one when it names none), refused
/// once it is being removed.
fn batch_mut<'w>(world: &'w mut World, p: &Map<String, Value>) -> Result<&'w mut Batch, CmdletError> {
    let id = text(p, "Identity");
    let b = world
        .exchange
        .batch
        .as_mut()
        .filter(|b| id.as_ref().is_none_or(|id| b.name.eq_ignore_ascii_case(id) || b.guid.eq_ignore_ascii_case(id)))
        .ok_or_else(|| not_found(id.as_deref().unwrap_or("Identity")))?;
    if b.removing.is_some() {
        return Err(fail(MIGRATION_PERMANENT, format!("The migration batch '{}' is being removed.", b.name)));
    }
    Ok(b)
}

fn start_batch(world: &mut World) -> Result<Vec<Value>, CmdletError> {
    let now = world.clock.now();
    let b = batch_mut(world, &Map::new())?;
    if b.complete_requested.is_some() {
        return Err(fail(MIGRATION_PERMANENT, "The batch is completing or completed and can't be started."));
    }
    b.started.get_or_insert(now);
    b.stopped = false;
    world.exchange.last_tick = Some(now);
    for m in &mut world.exchange.moves {
        match m.status {
            // A retry: failed moves start over; a stall does not come back, a poisoned job fails again.
            UserStatus::Failed => {
                m.status = UserStatus::Queued;
                m.error = None;
                m.retried = true;
            }
            UserStatus::Stopped => {
                m.status = if m.last_sync.is_some() { UserStatus::Synced } else { UserStatus::Queued }
            }
            // Starting a synced batch runs an incremental sync now.
            UserStatus::Synced => {
                m.status = UserStatus::IncrementalSyncing;
                m.until = None;
            }
            _ => {}
        }
    }
    Ok(vec![])
}

fn complete_batch(world: &mut World) -> Result<Vec<Value>, CmdletError> {
    let now = world.clock.now();
    let b = batch_mut(world, &Map::new())?.clone();
    let status = batch_status(world, &b);
    // A batch CompletedWithErrors completes again: the mailboxes whose completion failed are retried.
    if !matches!(status, "Synced" | "SyncedWithErrors" | "CompletedWithErrors") {
        return Err(fail(
            MIGRATION_PERMANENT,
            format!("The batch can't be completed while its status is {status}; wait until it is Synced."),
        ));
    }
    batch_mut(world, &Map::new())?.complete_requested.get_or_insert(now);
    for m in &mut world.exchange.moves {
        match m.status {
            UserStatus::Synced | UserStatus::CompletionFailed => {
                m.status = UserStatus::Completing;
                m.error = None;
                m.until = None;
            }
            UserStatus::IncrementalSyncing => m.completing = true,
            _ => {}
        }
    }
    Ok(vec![])
}

/// The batch status, derived from its moves as Exchange reports it.
fn batch_status(world: &World, b: &Batch) -> &'static str {
    if b.removing.is_some() {
        return "Removing";
    }
    let moves = &world.exchange.moves;
    let count = |s: UserStatus| moves.iter().filter(|m| m.status == s).count();
    let failed = count(UserStatus::Failed);
    if b.started.is_none() {
        return "Created";
    }
    if b.stopped {
        return "Stopped";
    }
    // Exchange fails the whole batch when every one of its users failed.
    if !moves.is_empty() && failed == moves.len() {
        return "Failed";
    }
    if b.complete_requested.is_some() {
        let done = count(UserStatus::Completed) + count(UserStatus::CompletedWithWarnings);
        let failed = failed + count(UserStatus::CompletionFailed);
        return if done + failed < moves.len() {
            "Completing"
        } else if failed > 0 {
            "CompletedWithErrors"
        } else {
            "Completed"
        };
    }
    if moves.iter().any(|m| matches!(m.status, UserStatus::Queued | UserStatus::Provisioning | UserStatus::Syncing)) {
        return "Syncing";
    }
    if count(UserStatus::IncrementalSyncing) > 0 {
        return "IncrementalSyncing";
    }
    if failed > 0 { "SyncedWithErrors" } else { "Synced" }
}

fn iso(t: Option<DateTime<Utc>>) -> Value {
    t.map_or(Value::Null, |t| json!(t.format("%Y-%m-%dT%H:%M:%S%.3fZ").to_string()))
}

fn batch_json(world: &World, b: &Batch) -> Value {
    let moves = &world.exchange.moves;
    let count = |f: &dyn Fn(&Move) -> bool| moves.iter().filter(|m| f(m)).count();
    let last = moves.iter().filter_map(|m| m.last_sync).max();
    json!({
        "Identity": b.name, "Name": b.name, "Guid": b.guid,
        "Status": batch_status(world, b),
        "MigrationType": "ExchangeOutlookAnywhere", "BatchDirection": "Onboarding",
        "TotalCount": moves.len(),
        "ActiveCount": count(&|m| matches!(m.status, UserStatus::Provisioning | UserStatus::Syncing | UserStatus::IncrementalSyncing | UserStatus::Completing)),
        "StoppedCount": count(&|m| m.status == UserStatus::Stopped),
        "SyncedCount": count(&|m| m.status == UserStatus::Synced),
        "FinalizedCount": count(&|m| matches!(m.status, UserStatus::Completed | UserStatus::CompletedWithWarnings)),
        "FailedCount": count(&|m| matches!(m.status, UserStatus::Failed | UserStatus::CompletionFailed)),
        "FailedInitialSyncCount": count(&|m| m.status == UserStatus::Failed && m.last_sync.is_none()),
        "FailedIncrementalSyncCount": count(&|m| m.status == UserStatus::Failed && m.last_sync.is_some()),
        "PendingCount": count(&|m| m.status == UserStatus::Queued),
        "ProvisionedCount": count(&|m| m.provisioned),
        "SourceEndpoint": b.endpoint,
        "CreationDateTime": iso(Some(b.created)), "CreationDateTimeUTC": iso(Some(b.created)),
        "StartDateTime": iso(b.started), "StartDateTimeUTC": iso(b.started),
        "LastSyncedDateTime": iso(last), "LastSyncedDateTimeUTC": iso(last),
        "CompleteAfterUTC": null,
        "IsValid": true,
    })
}

fn find_move(world: &World, id: &str) -> Result<usize, CmdletError> {
    let primary = world.scenario.primary_domain();
    world
        .scenario
        .mailboxes
        .iter()
        .position(|s| id.eq_ignore_ascii_case(&format!("{}@{primary}", s.alias)) || id.eq_ignore_ascii_case(&s.alias))
        .filter(|i| *i < world.exchange.moves.len())
        .ok_or_else(|| not_found(id))
}

fn users(world: &World, p: &Map<String, Value>, statistics: bool) -> Result<Vec<Value>, CmdletError> {
    let primary = world.scenario.primary_domain();
    let Some(batch) = &world.exchange.batch else {
        return if let Some(id) = text(p, "Identity") { Err(not_found(&id)) } else { Ok(vec![]) };
    };
    let only = match text(p, "Identity") {
        Some(id) => Some(find_move(world, &id)?),
        None if statistics => return Err(fail(PARAMETER, "Identity is required for Get-MigrationUserStatistics.")),
        None => None,
    };
    let status_filter = text(p, "Status");
    let mut out = Vec::new();
    for (i, (m, s)) in world.exchange.moves.iter().zip(&world.scenario.mailboxes).enumerate() {
        if only.is_some_and(|o| o != i)
            || status_filter.as_ref().is_some_and(|f| !f.eq_ignore_ascii_case(m.status.as_str()))
        {
            continue;
        }
        let email = format!("{}@{primary}", s.alias);
        let mut v = json!({
            "Identity": email, "Identifier": email, "MailboxEmailAddress": email, "BatchId": batch.name,
            "RecipientType": "Mailbox", "Status": m.status.as_str(), "StatusSummary": m.status.as_str(),
            "State": state_of(m.status), "SkippedItemCount": m.skipped, "SyncedItemCount": m.items_done as u64,
            "LastSuccessfulSyncTime": iso(m.last_sync), "ErrorSummary": m.error.clone().unwrap_or_default(),
            "Guid": uuid::Uuid::new_v5(&uuid::Uuid::NAMESPACE_DNS, email.as_bytes()).to_string(), "IsValid": true,
        });
        if statistics {
            let o = v.as_object_mut().ok_or_else(|| fail(MIGRATION_PERMANENT, "internal"))?;
            // As Exchange reports it: what the last sync enumerated at the source; mail that arrived since is
            // counted by the next incremental sync.
            o.insert("TotalItemsInSourceMailboxCount".into(), json!(m.items_total as u64));
            o.insert("BytesTransferred".into(), json!(format_size(m.bytes_done as u64)));
            o.insert("EstimatedTotalTransferSize".into(), json!(format_size((m.bytes_total + m.pending_bytes) as u64)));
            o.insert("PercentageComplete".into(), json!(m.percent()));
            o.insert("Error".into(), json!(m.error));
            o.insert("SkippedItemsApproved".into(), json!(m.skipped_approved));
            if flag(p, "IncludeSkippedItems") {
                let limit = text(p, "LimitSkippedItemsTo").and_then(|n| n.parse::<usize>().ok()).unwrap_or(usize::MAX);
                o.insert("SkippedItems".into(), Value::Array(skipped_items(s, m, &email, limit)));
            }
        }
        out.push(v);
    }
    Ok(out)
}

/// The items a move skipped, one object each as `-IncludeSkippedItems` lists them. The same mailbox gives the
/// same items every time: they stand for real messages in its folders.
fn skipped_items(spec: &MailboxSpec, m: &Move, email: &str, limit: usize) -> Vec<Value> {
    const FOLDERS: [&str; 4] = ["Inbox", "Sent Items", "Inbox/Projects", "Archive"];
    const SUBJECTS: [&str; 4] =
        ["Site survey photos", "Quarterly scans", "Drawings for review", "Video of the walkthrough"];
    let received = m.last_sync.unwrap_or_else(Utc::now) - chrono::Duration::days(400);
    (0..m.skipped as usize)
        .take(limit)
        .map(|k| {
            // Above Exchange Online's 150 MB message limit, which is why the move skipped it.
            let bytes = 157_286_400 + (k as u64 + 1) * 9_437_184 + spec.alias.len() as u64 * 4_096;
            let at = received + chrono::Duration::days(k as i64 * 17) + chrono::Duration::minutes(k as i64 * 53);
            json!({
                "Kind": "LargeItem",
                "FolderName": FOLDERS[k % FOLDERS.len()],
                "Subject": format!("{} ({})", SUBJECTS[k % SUBJECTS.len()], k + 1),
                "Sender": if k % 2 == 0 { format!("partner{k}@fabrikam.com") } else { email.to_owned() },
                "Recipient": if k % 2 == 0 { email.to_owned() } else { format!("client{k}@contoso.com") },
                "MessageClass": "IPM.Note",
                "MessageSize": format_size(bytes),
                "DateSent": iso(Some(at - chrono::Duration::minutes(2))),
                "DateReceived": iso(Some(at)),
                "Failure": format!("MigrationPermanentException: The item is {} and exceeds the maximum message size of 150 MB.", format_size(bytes)),
            })
        })
        .collect()
}

/// `Start-MigrationUser -Identity`: a failed user starts over (a stall does not come back, a poisoned job fails
/// again), a stopped one resumes. A user in any other state is left as it is, as Start-MigrationBatch leaves it.
fn start_user(world: &mut World, p: &Map<String, Value>) -> Result<Vec<Value>, CmdletError> {
    let id = text(p, "Identity").ok_or_else(|| fail(PARAMETER, "Identity is required."))?;
    let i = find_move(world, &id)?;
    let b = batch_mut(world, &Map::new())?;
    if b.complete_requested.is_some() {
        return Err(fail(MIGRATION_PERMANENT, "The batch is completing or completed; its users can't be started."));
    }
    let m = &mut world.exchange.moves[i];
    match m.status {
        UserStatus::Failed => {
            m.status = UserStatus::Queued;
            m.error = None;
            m.retried = true;
        }
        UserStatus::Stopped => m.status = if m.last_sync.is_some() { UserStatus::Synced } else { UserStatus::Queued },
        _ => {}
    }
    Ok(vec![])
}

fn state_of(s: UserStatus) -> &'static str {
    match s {
        UserStatus::Queued
        | UserStatus::Provisioning
        | UserStatus::Syncing
        | UserStatus::IncrementalSyncing
        | UserStatus::Completing => "Active",
        UserStatus::Synced => "Waiting",
        UserStatus::Completed | UserStatus::CompletedWithWarnings => "Completed",
        UserStatus::Stopped => "Stopped",
        UserStatus::Failed | UserStatus::CompletionFailed => "Failed",
    }
}

fn mailboxes(world: &World, p: &Map<String, Value>) -> Result<Vec<Value>, CmdletError> {
    let only = text(p, "Identity");
    let rows: Vec<Value> = world
        .directory
        .users
        .iter()
        .filter(|u| u.mail.is_some())
        .filter(|u| only.as_ref().is_none_or(|id| id.eq_ignore_ascii_case(&u.upn) || id.eq_ignore_ascii_case(&u.mail_nickname)))
        .map(|u| json!({"Identity": u.mail_nickname, "Name": u.mail_nickname, "Alias": u.mail_nickname, "DisplayName": u.display_name,
            "PrimarySmtpAddress": u.mail, "UserPrincipalName": u.upn, "EmailAddresses": u.proxy_addresses,
            "LegacyExchangeDN": cloud_legacy_dn(u),
            "RecipientTypeDetails": "UserMailbox", "ExchangeGuid": uuid::Uuid::new_v5(&uuid::Uuid::NAMESPACE_OID, u.upn.as_bytes()).to_string(),
            "HiddenFromAddressListsEnabled": false, "IsValid": true}))
        .collect();
    if let Some(id) = only
        && rows.is_empty()
    {
        return Err(not_found(&id));
    }
    Ok(rows)
}

/// The LegacyExchangeDN Exchange Online gives a cloud mailbox: not the source's, which is why the X500 address
/// is needed.
fn cloud_legacy_dn(u: &super::graph::User) -> String {
    let id = uuid::Uuid::new_v5(&uuid::Uuid::NAMESPACE_OID, u.upn.as_bytes()).simple().to_string();
    format!(
        "/o=ExchangeLabs/ou=Exchange Administrative Group (FYDIBOHF23SPDLT)/cn=Recipients/cn={}-{}",
        &id[..32],
        u.mail_nickname
    )
}

/// The values of one key of a hashtable parameter (`@{Add=...}` arrives as an object typed
/// `#Exchange.GenericHashTable`), the key in any case, one value or a list.
fn hashtable_values(table: &Map<String, Value>, key: &str) -> Vec<String> {
    let found = table.iter().find(|(k, _)| k.eq_ignore_ascii_case(key)).map(|(_, v)| v);
    match found {
        Some(Value::String(s)) => vec![s.clone()],
        Some(Value::Array(list)) => list.iter().filter_map(Value::as_str).map(str::to_owned).collect(),
        _ => Vec::new(),
    }
}

/// `Get-`, `Add-` and `Remove-RecipientPermission` for Send As: the mailbox by address, UPN or alias; the
/// trustee a user of the tenant. Add of a right held, or Remove of one not held, changes nothing and warns.
fn recipient_permission(
    world: &mut World,
    verb: &str,
    p: &Map<String, Value>,
    warnings: &mut Vec<String>,
) -> Result<Vec<Value>, CmdletError> {
    let id = text(p, "Identity").ok_or_else(|| fail(PARAMETER, "Identity is required."))?;
    let resolve = |world: &World, who: &str| {
        world
            .directory
            .users
            .iter()
            .filter(|u| u.mail.is_some())
            .find(|u| {
                who.eq_ignore_ascii_case(&u.upn)
                    || u.mail.as_deref().is_some_and(|m| who.eq_ignore_ascii_case(m))
                    || who.eq_ignore_ascii_case(&u.mail_nickname)
            })
            .map(|u| (u.mail.clone().unwrap_or_default().to_lowercase(), u.upn.to_lowercase()))
    };
    let (mailbox, _) = resolve(world, &id).ok_or_else(|| not_found(&id))?;
    let trustee = match text(p, "Trustee") {
        Some(t) => Some(
            world
                .directory
                .users
                .iter()
                .find(|u| u.upn.eq_ignore_ascii_case(&t))
                .map(|u| u.upn.to_lowercase())
                .ok_or_else(|| not_found(&t))?,
        ),
        None => None,
    };
    let row = |trustee: &str| json!({"Identity": mailbox, "Trustee": trustee, "AccessControlType": "Allow", "AccessRights": ["SendAs"], "IsInherited": false, "InheritanceType": "None"});
    if verb == "get-recipientpermission" {
        let held =
            world.exchange.send_as.iter().filter(|(m, t)| *m == mailbox && trustee.as_ref().is_none_or(|x| x == t));
        return Ok(held.map(|(_, t)| row(t)).collect());
    }
    let trustee = trustee.ok_or_else(|| fail(PARAMETER, "Trustee is required."))?;
    let rights = text(p, "AccessRights").unwrap_or_default();
    if !rights.eq_ignore_ascii_case("SendAs") {
        return Err(fail(PARAMETER, format!("AccessRights '{rights}' is not supported here: use SendAs.")));
    }
    let key = (mailbox.clone(), trustee.clone());
    let changed = if verb == "add-recipientpermission" {
        world.exchange.send_as.insert(key)
    } else {
        world.exchange.send_as.remove(&key)
    };
    if !changed {
        warnings.push(format!("The Send As right of {trustee} on {mailbox} is already as asked."));
    }
    Ok(if verb == "add-recipientpermission" { vec![row(&trustee)] } else { vec![] })
}

/// `Set-Mailbox -EmailAddresses`: a list replaces the addresses, `@{Add=...; Remove=...}` changes some; an
/// address is compared without regard to case, its prefix's case kept (`SMTP:` primary, `smtp:` secondary).
/// Whether anything changed.
fn set_mailbox(world: &mut World, p: &Map<String, Value>) -> Result<bool, CmdletError> {
    let id = text(p, "Identity").ok_or_else(|| fail(PARAMETER, "Identity is required."))?;
    let u = world
        .directory
        .users
        .iter_mut()
        .filter(|u| u.mail.is_some())
        .find(|u| {
            id.eq_ignore_ascii_case(&u.upn)
                || u.mail.as_deref().is_some_and(|m| id.eq_ignore_ascii_case(m))
                || id.eq_ignore_ascii_case(&u.mail_nickname)
        })
        .ok_or_else(|| not_found(&id))?;
    let before = u.proxy_addresses.clone();
    match p.get("EmailAddresses") {
        Some(Value::Object(table)) => {
            for add in hashtable_values(table, "Add") {
                if !u.proxy_addresses.iter().any(|a| a.eq_ignore_ascii_case(&add)) {
                    u.proxy_addresses.push(add);
                }
            }
            let remove = hashtable_values(table, "Remove");
            u.proxy_addresses.retain(|a| !remove.iter().any(|r| r.eq_ignore_ascii_case(a)));
        }
        Some(Value::Array(list)) => {
            u.proxy_addresses = list.iter().filter_map(Value::as_str).map(str::to_owned).collect();
        }
        Some(Value::String(one)) => u.proxy_addresses = vec![one.clone()],
        _ => {}
    }
    if !u.proxy_addresses.iter().any(|a| a.starts_with("SMTP:")) {
        u.proxy_addresses = before;
        return Err(fail(PARAMETER, "A mailbox must keep one primary SMTP address (SMTP:)."));
    }
    Ok(u.proxy_addresses != before)
}

fn content_filter(world: &mut World) -> &mut Map<String, Value> {
    if world.exchange.content_filter.is_empty()
        && let Value::Object(m) = json!({"Identity": "Default", "Name": "Default", "IsDefault": true, "BulkThreshold": 7,
            "SpamAction": "MoveToJmf", "HighConfidenceSpamAction": "MoveToJmf", "PhishSpamAction": "MoveToJmf",
            "HighConfidencePhishAction": "Quarantine", "BulkSpamAction": "MoveToJmf", "MarkAsSpamBulkMail": "On",
            "QuarantineRetentionPeriod": 15, "InlineSafetyTipsEnabled": true, "PhishZapEnabled": true, "SpamZapEnabled": true})
    {
        world.exchange.content_filter = m;
    }
    &mut world.exchange.content_filter
}

/// The Default anti-malware policy as a tenant created before December 2023 has it: the common attachments
/// filter off, so stage 9 has a difference to show.
fn malware_filter(world: &mut World) -> &mut Map<String, Value> {
    if world.exchange.malware_filter.is_empty()
        && let Value::Object(m) = json!({"Identity": "Default", "Name": "Default", "IsDefault": true, "EnableFileFilter": false,
            "FileTypeAction": "NonDefault", "ZapEnabled": true, "EnableInternalSenderAdminNotifications": false,
            "FileTypes": ["ace", "ani", "apk", "app", "cab", "cmd", "com", "deb", "dmg", "exe", "hta", "img", "iso", "jar", "js", "jse", "lnk", "msi", "ps1", "scr", "vbe", "vbs", "wsf"]})
    {
        world.exchange.malware_filter = m;
    }
    &mut world.exchange.malware_filter
}

/// The DKIM signing configs: the initial domain's (on from the start, as Microsoft signs with it) and each
/// one New-DkimSigningConfig made.
fn dkim(world: &World) -> Vec<Map<String, Value>> {
    let tenant = world_tenant_domain(world);
    world
        .directory
        .domains
        .iter()
        .filter(|d| d.verified)
        .filter_map(|d| {
            let stored = world.exchange.dkim.iter().find(|c| c.get("Domain") == Some(&json!(d.id)));
            if stored.is_none() && !d.initial {
                return None;
            }
            let enabled = stored.and_then(|c| c.get("Enabled")).and_then(Value::as_bool).unwrap_or(d.initial);
            let dashed = d.id.replace('.', "-");
            let mut m = Map::new();
            m.insert("Identity".into(), json!(d.id));
            m.insert("Domain".into(), json!(d.id));
            m.insert("Enabled".into(), json!(enabled));
            m.insert("Status".into(), json!(if enabled { "Valid" } else { "CnameMissing" }));
            m.insert("Selector1CNAME".into(), json!(format!("selector1-{dashed}._domainkey.{tenant}")));
            m.insert("Selector2CNAME".into(), json!(format!("selector2-{dashed}._domainkey.{tenant}")));
            m.insert("KeySize".into(), json!(2048));
            Some(m)
        })
        .collect()
}

fn set_dkim(world: &mut World, p: &Map<String, Value>) -> Result<Vec<Value>, CmdletError> {
    let domain = text(p, "Identity")
        .or_else(|| text(p, "DomainName"))
        .ok_or_else(|| fail(PARAMETER, "Identity or DomainName is required."))?;
    if !world.directory.is_verified(&domain) {
        return Err(not_found(&domain));
    }
    let enable = flag(p, "Enabled");
    let exists = world.exchange.dkim.iter().any(|c| c.get("Domain") == Some(&json!(domain)));
    if p.contains_key("DomainName") && exists {
        return Err(fail(
            "Microsoft.Exchange.Management.Tasks.ValidationException",
            format!("A DKIM signing config for {domain} already exists."),
        ));
    }
    if !p.contains_key("DomainName") && !exists && !world.directory.domains.iter().any(|d| d.initial && d.id == domain)
    {
        return Err(not_found(&domain));
    }
    if enable {
        let tenant = world_tenant_domain(world);
        let dashed = domain.replace('.', "-");
        let missing = (1..=2).any(|n| {
            let want = format!("selector{n}-{dashed}._domainkey.{tenant}");
            !world
                .dns
                .current(&format!("selector{n}._domainkey.{domain}"), "CNAME")
                .iter()
                .any(|v| v.trim_end_matches('.').eq_ignore_ascii_case(&want))
        });
        if missing {
            return Err(fail(
                "Microsoft.Exchange.Management.Tasks.ValidationException",
                format!(
                    "CNAME record does not exist for this config. Please publish the following two CNAME records first. Domain Name : {domain} Host Name : selector1._domainkey Points to address or value: selector1-{}._domainkey.{}",
                    domain.replace('.', "-"),
                    world_tenant_domain(world)
                ),
            ));
        }
    }
    world.exchange.dkim.retain(|c| c.get("Domain") != Some(&json!(domain)));
    let mut m = Map::new();
    m.insert("Domain".into(), json!(domain));
    m.insert("Enabled".into(), json!(enable));
    world.exchange.dkim.push(m);
    Ok(dkim(world).into_iter().filter(|c| c.get("Domain") == Some(&json!(domain))).map(Value::Object).collect())
}

/// `Get-MessageTraceV2`: the messages received between `StartDate` and `EndDate` (both required, at most 10
/// days back), of `SenderAddress` and `RecipientAddress` when given; newest first.
fn message_trace(world: &World, p: &Map<String, Value>) -> Result<Vec<Value>, CmdletError> {
    let date = |k: &str| {
        text(p, k)
            .and_then(|s| DateTime::parse_from_rfc3339(&s).ok())
            .map(|d| d.with_timezone(&Utc))
            .ok_or_else(|| fail(PARAMETER, format!("{k} is required, as a date and time.")))
    };
    let (start, end) = (date("StartDate")?, date("EndDate")?);
    let now = world.clock.now();
    if start < now - chrono::Duration::days(10) {
        return Err(fail(PARAMETER, "The StartDate can't be older than 10 days from today."));
    }
    let matches = |k: &str, v: &str| text(p, k).is_none_or(|want| want.eq_ignore_ascii_case(v));
    let mut rows: Vec<&Message> = world
        .exchange
        .messages
        .iter()
        .filter(|m| m.received >= start && m.received <= end)
        .filter(|m| matches("SenderAddress", &m.sender) && matches("RecipientAddress", &m.recipient))
        .collect();
    rows.sort_by_key(|m| std::cmp::Reverse(m.received));
    Ok(rows
        .into_iter()
        .map(|m| {
            let status =
                if now < m.received + chrono::Duration::seconds(PENDING_SECONDS) { "Pending" } else { "Delivered" };
            let id = uuid::Uuid::new_v5(&uuid::Uuid::NAMESPACE_OID, format!("{}{}{}", m.sender, m.recipient, m.subject).as_bytes());
            json!({"Received": m.received, "SenderAddress": m.sender, "RecipientAddress": m.recipient,
                "Subject": m.subject, "Status": status, "MessageTraceId": id, "MessageId": format!("<{id}@sim.prod.outlook.com>"),
                "Size": 2048, "FromIP": "", "ToIP": ""})
        })
        .collect())
}
