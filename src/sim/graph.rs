//! Microsoft Graph v1.0, the subset the wizard uses: organization, domains (verification records, verify,
//! service configuration records), subscribedSkus, users (create, list with `$filter`/`$select`/`$top` and
//! `@odata.nextLink`, update, assignLicense), groups and organizational contacts (list with `$select`/`$top`
//! and `@odata.nextLink`) and service health overviews, with Graph's error JSON.

use axum::extract::{Path, Query, State};
use axum::http::{HeaderMap, StatusCode, header};
use axum::response::{IntoResponse, Response};
use axum::routing::{get, post};
use axum::{Json, Router};
use serde_json::{Map, Value, json};
use std::collections::HashMap;

use super::Shared;
use super::identity::{GRAPH_AUDIENCE, TokenProblem};
use super::scenario::{GroupKindSpec, TenantSpec};

const CONTEXT: &str = "https://graph.microsoft.com/v1.0/$metadata";

/// The tenant's directory as Graph shows it.
#[derive(Debug, Default)]
pub struct Directory {
    pub domains: Vec<Domain>,
    pub users: Vec<User>,
    pub groups: Vec<Group>,
    pub contacts: Vec<Contact>,
}

#[derive(Debug, Clone)]
pub struct Domain {
    pub id: String,
    pub verified: bool,
    pub initial: bool,
    pub default: bool,
    /// The number in MS=ms12345678.
    pub code: u32,
}

#[derive(Debug, Clone)]
pub struct User {
    pub id: String,
    pub display_name: String,
    pub upn: String,
    pub mail_nickname: String,
    pub mail: Option<String>,
    pub usage_location: Option<String>,
    pub account_enabled: bool,
    pub licences: Vec<String>,
    pub proxy_addresses: Vec<String>,
}

/// A group as Graph lists it; `group_types` holds `Unified` for a Microsoft 365 group.
#[derive(Debug, Clone)]
pub struct Group {
    pub id: String,
    pub display_name: String,
    pub mail: Option<String>,
    pub mail_nickname: String,
    pub mail_enabled: bool,
    pub security_enabled: bool,
    pub group_types: Vec<String>,
    pub proxy_addresses: Vec<String>,
}

/// An organizational contact.
#[derive(Debug, Clone)]
pub struct Contact {
    pub id: String,
    pub display_name: String,
    pub mail: String,
    pub mail_nickname: String,
    pub proxy_addresses: Vec<String>,
}

fn nickname(address: Option<&str>, display_name: &str) -> String {
    match address.and_then(|a| a.split_once('@')) {
        Some((local, _)) => local.to_owned(),
        None => display_name.chars().filter(char::is_ascii_alphanumeric).collect(),
    }
}

impl Group {
    /// From the scenario: Exchange Online gives every mail-enabled group an address at the initial domain too;
    /// a Microsoft 365 group also carries its SharePoint site's `SPO:` entry.
    fn from_spec(g: &super::scenario::GroupSpec, tenant_domain: &str) -> Group {
        let id = uuid::Uuid::new_v5(&uuid::Uuid::NAMESPACE_OID, format!("group:{}", g.display_name).as_bytes());
        let nick = nickname(g.mail.as_deref(), &g.display_name);
        let mut proxy_addresses: Vec<String> = Vec::new();
        if let Some(mail) = &g.mail {
            proxy_addresses.push(format!("SMTP:{mail}"));
            proxy_addresses.extend(g.aliases.iter().map(|a| format!("smtp:{a}")));
            proxy_addresses.push(format!("smtp:{nick}@{tenant_domain}"));
        }
        if g.kind == GroupKindSpec::Microsoft365 {
            proxy_addresses.insert(0, format!("SPO:SPO_{id}@SPO_{}", uuid::Uuid::new_v5(&id, b"site")));
        }
        Group {
            id: id.to_string(),
            display_name: g.display_name.clone(),
            mail: g.mail.clone(),
            mail_nickname: nick,
            mail_enabled: g.kind != GroupKindSpec::Security,
            security_enabled: matches!(g.kind, GroupKindSpec::MailSecurity | GroupKindSpec::Security),
            group_types: if g.kind == GroupKindSpec::Microsoft365 { vec!["Unified".into()] } else { vec![] },
            proxy_addresses,
        }
    }
}

impl Directory {
    /// The tenant's admin, and the groups and contacts the scenario declares.
    pub fn new(tenant_domain: &str, tenant: &TenantSpec) -> Directory {
        let groups = tenant.groups.iter().map(|g| Group::from_spec(g, tenant_domain)).collect();
        let contacts = tenant
            .contacts
            .iter()
            .map(|c| Contact {
                id: uuid::Uuid::new_v5(&uuid::Uuid::NAMESPACE_OID, format!("contact:{}", c.display_name).as_bytes())
                    .to_string(),
                display_name: c.display_name.clone(),
                mail: c.mail.clone(),
                mail_nickname: nickname(Some(&c.mail), &c.display_name),
                proxy_addresses: std::iter::once(format!("SMTP:{}", c.mail))
                    .chain(c.aliases.iter().map(|a| format!("smtp:{a}")))
                    .collect(),
            })
            .collect();
        let mut d = Directory { groups, contacts, ..Directory::default() };
        d.domains.push(Domain { id: tenant_domain.into(), verified: true, initial: true, default: true, code: 0 });
        d.users.push(User {
            id: uuid::Uuid::new_v5(&uuid::Uuid::NAMESPACE_DNS, format!("admin@{tenant_domain}").as_bytes()).to_string(),
            display_name: "Simulated Admin".into(),
            upn: format!("admin@{tenant_domain}"),
            mail_nickname: "admin".into(),
            mail: Some(format!("admin@{tenant_domain}")),
            usage_location: Some("US".into()),
            account_enabled: true,
            licences: vec![],
            proxy_addresses: vec![format!("SMTP:admin@{tenant_domain}")],
        });
        d
    }

    pub fn is_verified(&self, domain: &str) -> bool {
        self.domains.iter().any(|d| d.verified && d.id.eq_ignore_ascii_case(domain))
    }

    /// Consumed units of a SKU: the scenario's starting count plus the directory's assignments.
    pub fn consumed(&self, sku_id: &str) -> usize {
        self.users.iter().filter(|u| u.licences.iter().any(|l| l == sku_id)).count()
    }
}

pub fn router() -> Router<Shared> {
    Router::new()
        .route("/v1.0/organization", get(organization))
        .route("/v1.0/domains", get(list_domains).post(add_domain))
        .route("/v1.0/domains/{id}", get(get_domain))
        .route("/v1.0/domains/{id}/verificationDnsRecords", get(verification_records))
        .route("/v1.0/domains/{id}/verify", post(verify))
        .route("/v1.0/domains/{id}/serviceConfigurationRecords", get(service_records))
        .route("/v1.0/subscribedSkus", get(skus))
        .route("/v1.0/users", get(list_users).post(create_user))
        .route("/v1.0/users/{id}", get(get_user).patch(update_user))
        .route("/v1.0/users/{id}/assignLicense", post(assign_licence))
        .route("/v1.0/users/{id}/sendMail", post(send_mail))
        .route("/v1.0/groups", get(list_groups))
        .route("/v1.0/contacts", get(list_contacts))
        .route("/v1.0/admin/serviceAnnouncement/healthOverviews", get(health))
        .route("/v1.0/admin/serviceAnnouncement/issues", get(issues))
}

/// Graph's error JSON.
pub fn error(status: StatusCode, code: &str, message: &str) -> Response {
    let body = json!({"error": {"code": code, "message": message, "innerError": {
        "date": chrono::Utc::now().format("%Y-%m-%dT%H:%M:%S").to_string(),
        "request-id": uuid::Uuid::new_v4().to_string(),
        "client-request-id": uuid::Uuid::new_v4().to_string(),
    }}});
    (status, Json(body)).into_response()
}

fn authorise(shared: &Shared, headers: &HeaderMap) -> Result<(), Box<Response>> {
    let auth = headers.get(header::AUTHORIZATION).and_then(|v| v.to_str().ok());
    let problem = match shared.lock().auth.check(auth, GRAPH_AUDIENCE) {
        Ok(()) => return Ok(()),
        Err(p) => p,
    };
    let message = match problem {
        TokenProblem::Missing => "Access token is empty.",
        TokenProblem::Unknown => "Access token validation failure. Invalid signature.",
        TokenProblem::Expired => "Lifetime validation failed, the token is expired.",
        TokenProblem::Revoked => "Access token has been revoked.",
        TokenProblem::WrongAudience => "Access token validation failure. Invalid audience.",
    };
    let mut r = error(StatusCode::UNAUTHORIZED, "InvalidAuthenticationToken", message);
    r.headers_mut().insert(
        header::WWW_AUTHENTICATE,
        header::HeaderValue::from_static("Bearer realm=\"\", authorization_uri=\"https://login.microsoftonline.com/common/oauth2/authorize\", client_id=\"00000003-0000-0000-c000-000000000000\""),
    );
    Err(Box::new(r))
}

macro_rules! auth {
    ($shared:expr, $headers:expr) => {
        if let Err(r) = authorise(&$shared, &$headers) {
            return *r;
        }
    };
}

fn collection(context: &str, value: Vec<Value>) -> Response {
    Json(json!({"@odata.context": format!("{CONTEXT}#{context}"), "value": value})).into_response()
}

fn not_found(id: &str) -> Response {
    error(
        StatusCode::NOT_FOUND,
        "Request_ResourceNotFound",
        &format!("Resource '{id}' does not exist or one of its queried reference-property objects are not present."),
    )
}

async fn organization(State(shared): State<Shared>, headers: HeaderMap) -> Response {
    auth!(shared, headers);
    let world = shared.lock();
    let t = &world.scenario.tenant;
    let verified: Vec<Value> = world
        .directory
        .domains
        .iter()
        .filter(|d| d.verified)
        .map(|d| json!({"capabilities": "Email, OfficeCommunicationsOnlineClient", "isDefault": d.default, "isInitial": d.initial, "name": d.id, "type": "Managed"}))
        .collect();
    let sync: Value = if t.directory_sync { json!(true) } else { Value::Null };
    let last_sync: Value =
        if t.directory_sync { json!(world.clock.now() - chrono::Duration::minutes(25)) } else { Value::Null };
    collection(
        "organization",
        vec![json!({
            "id": shared.info.tenant_id,
            "displayName": t.display_name,
            "countryLetterCode": t.country,
            "tenantType": "AAD",
            "onPremisesSyncEnabled": sync,
            "onPremisesLastSyncDateTime": last_sync,
            "verifiedDomains": verified,
            "createdDateTime": "2019-03-14T09:21:07Z",
        })],
    )
}

fn domain_json(d: &Domain) -> Value {
    json!({
        "authenticationType": "Managed",
        "availabilityStatus": null,
        "id": d.id,
        "isAdminManaged": true,
        "isDefault": d.default,
        "isInitial": d.initial,
        "isRoot": true,
        "isVerified": d.verified,
        "passwordNotificationWindowInDays": 14,
        "passwordValidityPeriodInDays": 2147483647,
        "supportedServices": if d.verified { json!(["Email", "OfficeCommunicationsOnlineClient"]) } else { json!([]) },
        "state": null,
    })
}

async fn list_domains(State(shared): State<Shared>, headers: HeaderMap) -> Response {
    auth!(shared, headers);
    let world = shared.lock();
    collection("domains", world.directory.domains.iter().map(domain_json).collect())
}

async fn add_domain(State(shared): State<Shared>, headers: HeaderMap, body: Option<Json<Value>>) -> Response {
    auth!(shared, headers);
    let Some(id) = body.as_ref().and_then(|b| b.get("id")).and_then(Value::as_str).map(str::to_ascii_lowercase) else {
        return error(
            StatusCode::BAD_REQUEST,
            "Request_BadRequest",
            "Invalid value specified for property 'id' of resource 'Domain'.",
        );
    };
    if !id.contains('.') || id.contains(' ') {
        return error(
            StatusCode::BAD_REQUEST,
            "Request_BadRequest",
            "Invalid value specified for property 'id' of resource 'Domain'.",
        );
    }
    let mut world = shared.lock();
    if world.directory.domains.iter().any(|d| d.id == id) {
        return error(
            StatusCode::BAD_REQUEST,
            "Request_BadRequest",
            "Another object with the same value for property id already exists.",
        );
    }
    let code =
        10_000_000 + (uuid::Uuid::new_v5(&uuid::Uuid::NAMESPACE_DNS, id.as_bytes()).as_u128() % 89_999_999) as u32;
    let d = Domain { id, verified: false, initial: false, default: false, code };
    let body = domain_json(&d);
    world.directory.domains.push(d);
    let mut body = body;
    body["@odata.context"] = json!(format!("{CONTEXT}#domains/$entity"));
    (StatusCode::CREATED, Json(body)).into_response()
}

fn find_domain<'a>(world: &'a super::World, id: &str) -> Option<&'a Domain> {
    world.directory.domains.iter().find(|d| d.id.eq_ignore_ascii_case(id))
}

async fn get_domain(State(shared): State<Shared>, headers: HeaderMap, Path(id): Path<String>) -> Response {
    auth!(shared, headers);
    let world = shared.lock();
    match find_domain(&world, &id) {
        Some(d) => {
            let mut b = domain_json(d);
            b["@odata.context"] = json!(format!("{CONTEXT}#domains/$entity"));
            Json(b).into_response()
        }
        None => not_found(&id),
    }
}

async fn verification_records(State(shared): State<Shared>, headers: HeaderMap, Path(id): Path<String>) -> Response {
    auth!(shared, headers);
    let world = shared.lock();
    let Some(d) = find_domain(&world, &id) else { return not_found(&id) };
    let ms = format!("ms{}", d.code);
    collection(
        &format!("domains('{}')/verificationDnsRecords", d.id),
        vec![
            json!({"@odata.type": "#microsoft.graph.domainDnsTxtRecord", "id": uuid::Uuid::new_v5(&uuid::Uuid::NAMESPACE_URL, format!("txt:{}", d.id).as_bytes()).to_string(),
                "isOptional": false, "label": d.id, "recordType": "Txt", "supportedService": "Email", "ttl": 3600, "text": format!("MS={ms}")}),
            json!({"@odata.type": "#microsoft.graph.domainDnsMxRecord", "id": uuid::Uuid::new_v5(&uuid::Uuid::NAMESPACE_URL, format!("mx:{}", d.id).as_bytes()).to_string(),
                "isOptional": false, "label": d.id, "recordType": "Mx", "supportedService": "Email", "ttl": 3600, "mailExchange": format!("{ms}.msv1.invalid"), "preference": 32767}),
        ],
    )
}

async fn verify(State(shared): State<Shared>, headers: HeaderMap, Path(id): Path<String>) -> Response {
    auth!(shared, headers);
    let mut world = shared.lock();
    let Some(d) = find_domain(&world, &id).cloned() else { return not_found(&id) };
    let wanted = format!("MS=ms{}", d.code);
    // Microsoft asks the domain's authoritative servers: the registrar's current records.
    let txt = world.dns.current(&d.id, "TXT");
    let mx = world.dns.current(&d.id, "MX");
    let found =
        txt.iter().any(|t| t.trim() == wanted) || mx.iter().any(|m| m.ends_with(&format!("ms{}.msv1.invalid", d.code)));
    if !d.verified && !found {
        return error(
            StatusCode::BAD_REQUEST,
            "Request_BadRequest",
            &format!(
                "Domain verification failed. The TXT record '{wanted}' was not found at '{}'. DNS changes can take up to 72 hours to propagate.",
                d.id
            ),
        );
    }
    let Some(stored) = world.directory.domains.iter_mut().find(|x| x.id == d.id) else { return not_found(&id) };
    stored.verified = true;
    let mut b = domain_json(stored);
    b["@odata.context"] = json!(format!("{CONTEXT}#domains/$entity"));
    Json(b).into_response()
}

async fn service_records(State(shared): State<Shared>, headers: HeaderMap, Path(id): Path<String>) -> Response {
    auth!(shared, headers);
    let world = shared.lock();
    let Some(d) = find_domain(&world, &id) else { return not_found(&id) };
    let rec = |kind: &str, extra: Value| {
        let mut v = json!({"@odata.type": format!("#microsoft.graph.domainDns{kind}Record"),
            "id": uuid::Uuid::new_v5(&uuid::Uuid::NAMESPACE_URL, format!("{kind}:{}:{extra}", d.id).as_bytes()).to_string(),
            "isOptional": false, "label": d.id, "recordType": kind, "supportedService": "Email", "ttl": 3600});
        if let (Some(o), Some(e)) = (v.as_object_mut(), extra.as_object()) {
            o.extend(e.clone());
        }
        v
    };
    let mut cname = rec("Cname", json!({"canonicalName": "autodiscover.outlook.com"}));
    cname["label"] = json!(format!("autodiscover.{}", d.id));
    collection(
        &format!("domains('{}')/serviceConfigurationRecords", d.id),
        vec![
            rec(
                "Mx",
                json!({"mailExchange": format!("{}.mail.protection.outlook.com", d.id.replace('.', "-")), "preference": 0}),
            ),
            rec("Txt", json!({"text": "v=spf1 include:spf.protection.outlook.com -all"})),
            cname,
        ],
    )
}

async fn skus(State(shared): State<Shared>, headers: HeaderMap) -> Response {
    auth!(shared, headers);
    let world = shared.lock();
    let value = world
        .scenario
        .tenant
        .licences
        .iter()
        .map(|l| {
            json!({
                "accountName": world.scenario.tenant.name,
                "accountId": shared.info.tenant_id,
                "appliesTo": "User",
                "capabilityStatus": "Enabled",
                "consumedUnits": l.consumed as usize + world.directory.consumed(&l.sku_id),
                "id": format!("{}_{}", shared.info.tenant_id, l.sku_id),
                "prepaidUnits": {"enabled": l.prepaid, "lockedOut": 0, "suspended": 0, "warning": 0},
                "servicePlans": [{"servicePlanId": "9aaf7827-d63c-4b61-89c3-182f06f82e5c", "servicePlanName": "EXCHANGE_S_STANDARD", "provisioningStatus": "Success", "appliesTo": "User"}],
                "skuId": l.sku_id,
                "skuPartNumber": l.sku_part_number,
                "subscriptionIds": [uuid::Uuid::new_v5(&uuid::Uuid::NAMESPACE_OID, l.sku_id.as_bytes()).to_string()],
            })
        })
        .collect();
    collection("subscribedSkus", value)
}

fn user_json(u: &User, select: Option<&[String]>) -> Value {
    let full = json!({
        "id": u.id, "displayName": u.display_name, "userPrincipalName": u.upn, "mail": u.mail,
        "businessPhones": [], "givenName": null, "surname": null, "jobTitle": null, "mobilePhone": null,
        "officeLocation": null, "preferredLanguage": null,
        "mailNickname": u.mail_nickname, "usageLocation": u.usage_location, "accountEnabled": u.account_enabled,
        "assignedLicenses": u.licences.iter().map(|s| json!({"disabledPlans": [], "skuId": s})).collect::<Vec<_>>(),
        "proxyAddresses": u.proxy_addresses,
    });
    const DEFAULT: &[&str] = &[
        "businessPhones",
        "displayName",
        "givenName",
        "jobTitle",
        "mail",
        "mobilePhone",
        "officeLocation",
        "preferredLanguage",
        "surname",
        "userPrincipalName",
        "id",
    ];
    let keep: Vec<&str> = match select {
        Some(s) => s.iter().map(String::as_str).collect(),
        None => DEFAULT.to_vec(),
    };
    let mut out = Map::new();
    if let Some(o) = full.as_object() {
        for k in keep {
            if let Some(v) = o.get(k) {
                out.insert(k.to_string(), v.clone());
            }
        }
    }
    Value::Object(out)
}

/// The `$filter` forms the clients use: `userPrincipalName eq '…'`, `mail eq '…'`,
/// `proxyAddresses/any(x:x eq '…')`, `startswith(displayName,'…')`.
fn filter_matches(filter: &str, u: &User) -> Result<bool, String> {
    let f = filter.trim();
    let quoted = |s: &str| -> Option<String> {
        let a = s.find('\'')?;
        let b = s.rfind('\'')?;
        (b > a).then(|| s[a + 1..b].replace("''", "'"))
    };
    if let Some(rest) = f.strip_prefix("proxyAddresses/any(") {
        let v = quoted(rest).ok_or("proxyAddresses/any needs a quoted value")?;
        return Ok(u.proxy_addresses.iter().any(|p| p.eq_ignore_ascii_case(&v)));
    }
    if let Some(rest) = f.strip_prefix("startswith(") {
        let (prop, _) = rest.split_once(',').ok_or("startswith(property,'value')")?;
        let v = quoted(rest).ok_or("startswith needs a quoted value")?.to_ascii_lowercase();
        let field = match prop.trim() {
            "displayName" => u.display_name.clone(),
            "userPrincipalName" => u.upn.clone(),
            "mail" => u.mail.clone().unwrap_or_default(),
            p => return Err(format!("startswith on '{p}' is not supported")),
        };
        return Ok(field.to_ascii_lowercase().starts_with(&v));
    }
    if let Some((prop, _)) = f.split_once(" eq ") {
        let v = quoted(f).ok_or("eq needs a quoted value")?;
        let field = match prop.trim() {
            "userPrincipalName" => u.upn.clone(),
            "mail" => u.mail.clone().unwrap_or_default(),
            "mailNickname" => u.mail_nickname.clone(),
            "id" => u.id.clone(),
            p => return Err(format!("Property '{p}' in the filter is not supported")),
        };
        return Ok(field.eq_ignore_ascii_case(&v));
    }
    Err(format!("Invalid filter clause: {f}"))
}

/// `$select` as a list of property names.
fn selected(q: &HashMap<String, String>) -> Option<Vec<String>> {
    q.get("$select").map(|s| s.split(',').map(|p| p.trim().to_string()).collect())
}

/// One page of `items` by `$top` (1–999, default 100) and `$skiptoken`, with `@odata.nextLink` (carrying
/// `$filter` and `$select`) while more remain.
fn paged(shared: &Shared, q: &HashMap<String, String>, entity: &str, items: Vec<Value>) -> Response {
    let top = match q.get("$top").map(|t| t.parse::<usize>()) {
        None => 100,
        Some(Ok(n)) if (1..=999).contains(&n) => n,
        Some(_) => {
            return error(
                StatusCode::BAD_REQUEST,
                "Request_UnsupportedQuery",
                "Invalid page size specified: must be between 1 and 999.",
            );
        }
    };
    let skip: usize = q
        .get("$skiptoken")
        .and_then(|s| s.strip_prefix("X'"))
        .and_then(|s| s.trim_end_matches('\'').parse().ok())
        .unwrap_or(0);
    let total = items.len();
    let page: Vec<Value> = items.into_iter().skip(skip).take(top).collect();
    let mut body = json!({"@odata.context": format!("{CONTEXT}#{entity}"), "value": page});
    if skip + top < total {
        let mut next = format!("{}/v1.0/{entity}?$top={top}&$skiptoken=X'{}'", shared.info.graph_url, skip + top);
        for k in ["$filter", "$select"] {
            if let Some(v) = q.get(k) {
                next.push_str(&format!("&{k}={}", urlencode(v)));
            }
        }
        body["@odata.nextLink"] = json!(next);
    }
    Json(body).into_response()
}

async fn list_users(
    State(shared): State<Shared>,
    headers: HeaderMap,
    Query(q): Query<HashMap<String, String>>,
) -> Response {
    auth!(shared, headers);
    let select = selected(&q);
    let items = {
        let world = shared.lock();
        let mut matched = Vec::new();
        for u in &world.directory.users {
            match q.get("$filter").map(|f| filter_matches(f, u)) {
                None | Some(Ok(true)) => matched.push(user_json(u, select.as_deref())),
                Some(Ok(false)) => {}
                Some(Err(e)) => return error(StatusCode::BAD_REQUEST, "Request_UnsupportedQuery", &e),
            }
        }
        matched
    };
    paged(&shared, &q, "users", items)
}

/// Keeps the `$select`ed properties of `full`; a name the type does not have is Graph's 400.
fn project(full: Value, select: Option<&[String]>, type_name: &str) -> Result<Value, Box<Response>> {
    let (Some(select), Value::Object(all)) = (select, &full) else { return Ok(full) };
    let mut out = Map::new();
    for k in select {
        match all.get(k) {
            Some(v) => {
                out.insert(k.clone(), v.clone());
            }
            None => {
                return Err(Box::new(error(
                    StatusCode::BAD_REQUEST,
                    "Request_BadRequest",
                    &format!("Could not find a property named '{k}' on type 'microsoft.graph.{type_name}'."),
                )));
            }
        }
    }
    Ok(Value::Object(out))
}

/// The collections that take no `$filter` here.
fn no_filter(q: &HashMap<String, String>) -> Result<(), Box<Response>> {
    match q.get("$filter") {
        Some(f) => Err(Box::new(error(
            StatusCode::BAD_REQUEST,
            "Request_UnsupportedQuery",
            &format!("Unsupported query: the simulator lists this collection whole; $filter '{f}' is not served."),
        ))),
        None => Ok(()),
    }
}

fn group_json(g: &Group) -> Value {
    json!({
        "id": g.id, "deletedDateTime": null, "classification": null, "createdDateTime": "2021-06-02T08:14:55Z",
        "creationOptions": [], "description": null, "displayName": g.display_name, "expirationDateTime": null,
        "groupTypes": g.group_types, "isAssignableToRole": null, "mail": g.mail, "mailEnabled": g.mail_enabled,
        "mailNickname": g.mail_nickname, "membershipRule": null, "membershipRuleProcessingState": null,
        "onPremisesLastSyncDateTime": null, "onPremisesSecurityIdentifier": null, "onPremisesSyncEnabled": null,
        "preferredDataLocation": null, "proxyAddresses": g.proxy_addresses, "renewedDateTime": "2021-06-02T08:14:55Z",
        "resourceBehaviorOptions": [], "resourceProvisioningOptions": [], "securityEnabled": g.security_enabled,
        "securityIdentifier": format!("S-1-12-1-{}", uuid::Uuid::parse_str(&g.id).map(|u| u.as_u64_pair().0 % 4_294_967_296).unwrap_or(0)),
        "theme": null,
        "visibility": if g.group_types.iter().any(|t| t == "Unified") { json!("Private") } else { Value::Null },
    })
}

fn contact_json(c: &Contact) -> Value {
    json!({
        "id": c.id, "deletedDateTime": null, "addresses": [], "companyName": null, "department": null,
        "displayName": c.display_name, "givenName": null, "jobTitle": null, "mail": c.mail,
        "mailNickname": c.mail_nickname, "onPremisesLastSyncDateTime": null, "onPremisesSyncEnabled": null,
        "phones": [], "proxyAddresses": c.proxy_addresses, "surname": null,
    })
}

async fn list_groups(
    State(shared): State<Shared>,
    headers: HeaderMap,
    Query(q): Query<HashMap<String, String>>,
) -> Response {
    auth!(shared, headers);
    if let Err(r) = no_filter(&q) {
        return *r;
    }
    let select = selected(&q);
    let items: Result<Vec<Value>, _> =
        shared.lock().directory.groups.iter().map(|g| project(group_json(g), select.as_deref(), "group")).collect();
    match items {
        Ok(items) => paged(&shared, &q, "groups", items),
        Err(r) => *r,
    }
}

async fn list_contacts(
    State(shared): State<Shared>,
    headers: HeaderMap,
    Query(q): Query<HashMap<String, String>>,
) -> Response {
    auth!(shared, headers);
    if let Err(r) = no_filter(&q) {
        return *r;
    }
    let select = selected(&q);
    let items: Result<Vec<Value>, _> = shared
        .lock()
        .directory
        .contacts
        .iter()
        .map(|c| project(contact_json(c), select.as_deref(), "orgContact"))
        .collect();
    match items {
        Ok(items) => paged(&shared, &q, "contacts", items),
        Err(r) => *r,
    }
}

fn urlencode(s: &str) -> String {
    s.bytes()
        .map(|b| match b {
            b'A'..=b'Z' | b'a'..=b'z' | b'0'..=b'9' | b'-' | b'_' | b'.' | b'~' | b',' => (b as char).to_string(),
            _ => format!("%{b:02X}"),
        })
        .collect()
}

fn find_user<'a>(users: &'a mut [User], id: &str) -> Option<&'a mut User> {
    users.iter_mut().find(|u| u.id.eq_ignore_ascii_case(id) || u.upn.eq_ignore_ascii_case(id))
}

async fn get_user(
    State(shared): State<Shared>,
    headers: HeaderMap,
    Path(id): Path<String>,
    Query(q): Query<HashMap<String, String>>,
) -> Response {
    auth!(shared, headers);
    let select = selected(&q);
    let mut world = shared.lock();
    match find_user(&mut world.directory.users, &id) {
        Some(u) => Json(user_json(u, select.as_deref())).into_response(),
        None => not_found(&id),
    }
}

fn bad_property(p: &str) -> Response {
    error(
        StatusCode::BAD_REQUEST,
        "Request_BadRequest",
        &format!("Invalid value specified for property '{p}' of resource 'User'."),
    )
}

async fn create_user(State(shared): State<Shared>, headers: HeaderMap, body: Option<Json<Value>>) -> Response {
    auth!(shared, headers);
    let Some(Json(b)) = body else { return bad_property("userPrincipalName") };
    let text = |k: &str| b.get(k).and_then(Value::as_str).map(str::to_string);
    let Some(upn) = text("userPrincipalName") else { return bad_property("userPrincipalName") };
    let Some(display_name) = text("displayName") else { return bad_property("displayName") };
    let Some(nick) = text("mailNickname") else { return bad_property("mailNickname") };
    if b.get("accountEnabled").and_then(Value::as_bool).is_none() {
        return bad_property("accountEnabled");
    }
    if b.pointer("/passwordProfile/password").and_then(Value::as_str).is_none_or(|p| p.len() < 8) {
        return bad_property("passwordProfile");
    }
    let mut world = shared.lock();
    let Some((_, domain)) = upn.split_once('@') else { return bad_property("userPrincipalName") };
    if !world.directory.is_verified(domain) {
        return error(
            StatusCode::BAD_REQUEST,
            "Request_BadRequest",
            "The domain portion of the userPrincipalName property is invalid. You must use one of the verified domain names in your organization.",
        );
    }
    if world.directory.users.iter().any(|u| u.upn.eq_ignore_ascii_case(&upn)) {
        return error(
            StatusCode::BAD_REQUEST,
            "Request_BadRequest",
            "Another object with the same value for property userPrincipalName already exists.",
        );
    }
    let u = User {
        id: uuid::Uuid::new_v4().to_string(),
        display_name,
        mail_nickname: nick,
        mail: None,
        usage_location: text("usageLocation"),
        account_enabled: b.get("accountEnabled").and_then(Value::as_bool).unwrap_or(true),
        licences: vec![],
        proxy_addresses: vec![],
        upn,
    };
    let mut out = user_json(&u, None);
    out["@odata.context"] = json!(format!("{CONTEXT}#users/$entity"));
    world.directory.users.push(u);
    if let Some(p) = b.pointer("/passwordProfile/password").and_then(Value::as_str) {
        world.accepted_passwords.push(p.to_owned());
    }
    (StatusCode::CREATED, Json(out)).into_response()
}

async fn update_user(
    State(shared): State<Shared>,
    headers: HeaderMap,
    Path(id): Path<String>,
    body: Option<Json<Value>>,
) -> Response {
    auth!(shared, headers);
    let Some(Json(b)) = body else { return bad_property("body") };
    let mut world = shared.lock();
    let Some(u) = find_user(&mut world.directory.users, &id) else { return not_found(&id) };
    if let Some(v) = b.get("usageLocation") {
        match v.as_str() {
            Some(c) if c.len() == 2 && c.chars().all(|x| x.is_ascii_alphabetic()) => {
                u.usage_location = Some(c.to_ascii_uppercase())
            }
            _ => return bad_property("usageLocation"),
        }
    }
    if let Some(v) = b.get("displayName").and_then(Value::as_str) {
        u.display_name = v.to_string();
    }
    if let Some(v) = b.get("accountEnabled").and_then(Value::as_bool) {
        u.account_enabled = v;
    }
    StatusCode::NO_CONTENT.into_response()
}

async fn assign_licence(
    State(shared): State<Shared>,
    headers: HeaderMap,
    Path(id): Path<String>,
    body: Option<Json<Value>>,
) -> Response {
    auth!(shared, headers);
    let Some(Json(b)) = body else { return bad_property("addLicenses") };
    let (Some(add), Some(remove)) =
        (b.get("addLicenses").and_then(Value::as_array), b.get("removeLicenses").and_then(Value::as_array))
    else {
        return error(
            StatusCode::BAD_REQUEST,
            "Request_BadRequest",
            "Invalid value specified for property 'addLicenses' or 'removeLicenses'.",
        );
    };
    let add: Vec<String> =
        add.iter().filter_map(|l| l.get("skuId").and_then(Value::as_str)).map(str::to_string).collect();
    let remove: Vec<String> = remove.iter().filter_map(Value::as_str).map(str::to_string).collect();
    let mut world = shared.lock();
    let world = &mut *world;
    for sku in &add {
        let Some(l) = world.scenario.tenant.licences.iter().find(|l| l.sku_id.eq_ignore_ascii_case(sku)) else {
            return error(
                StatusCode::BAD_REQUEST,
                "Request_BadRequest",
                &format!("License {sku} does not correspond to a valid company License."),
            );
        };
        let already = world
            .directory
            .users
            .iter()
            .any(|u| (u.id == id || u.upn.eq_ignore_ascii_case(&id)) && u.licences.contains(sku));
        if !already && l.consumed as usize + world.directory.consumed(sku) >= l.prepaid as usize {
            return error(
                StatusCode::BAD_REQUEST,
                "Request_BadRequest",
                &format!(
                    "License assignment failed because the subscription {} has no available licenses.",
                    l.sku_part_number
                ),
            );
        }
    }
    let Some(u) = find_user(&mut world.directory.users, &id) else { return not_found(&id) };
    if !add.is_empty() && u.usage_location.is_none() {
        return error(
            StatusCode::BAD_REQUEST,
            "Request_BadRequest",
            "License assignment cannot be done for user with invalid usage location.",
        );
    }
    u.licences.retain(|l| !remove.contains(l));
    for s in add {
        if !u.licences.contains(&s) {
            u.licences.push(s);
        }
    }
    let mut out = user_json(u, None);
    out["@odata.context"] = json!(format!("{CONTEXT}#users/$entity"));
    Json(out).into_response()
}

async fn health(State(shared): State<Shared>, headers: HeaderMap) -> Response {
    auth!(shared, headers);
    let exchange = shared.lock().scenario.tenant.exchange_health.clone();
    collection(
        "admin/serviceAnnouncement/healthOverviews",
        vec![
            json!({"service": "Exchange Online", "status": exchange, "id": "Exchange"}),
            json!({"service": "Microsoft Entra", "status": "serviceOperational", "id": "OrgLiveID"}),
            json!({"service": "Microsoft 365 suite", "status": "serviceOperational", "id": "OSDPPlatform"}),
        ],
    )
}

/// The open issues of the scenario's Exchange Online, filtered as the documented `$filter` on `service` and
/// `isResolved` asks; any other filter is refused, as Graph refuses what it cannot read.
async fn issues(
    State(shared): State<Shared>,
    headers: HeaderMap,
    Query(q): Query<std::collections::HashMap<String, String>>,
) -> Response {
    auth!(shared, headers);
    let world = shared.lock();
    let all: Vec<Value> = world
        .scenario
        .tenant
        .exchange_issues
        .iter()
        .map(|i| {
            json!({"id": i.id, "title": i.title, "classification": i.classification, "status": i.status,
                "impactDescription": i.impact_description, "service": "Exchange Online", "feature": i.feature_group,
                "featureGroup": i.feature_group, "isResolved": false, "origin": "microsoft",
                "startDateTime": world.clock.now() - chrono::Duration::hours(2), "endDateTime": null, "details": [], "posts": []})
        })
        .collect();
    let wanted = match q.get("$filter").map(|f| issue_filter(f)) {
        None => all,
        Some(Ok((service, resolved))) => all
            .into_iter()
            .filter(|i| {
                service.as_deref().is_none_or(|s| i["service"] == s) && resolved.is_none_or(|r| i["isResolved"] == r)
            })
            .collect(),
        Some(Err(e)) => return error(StatusCode::BAD_REQUEST, "BadRequest", &e),
    };
    collection("admin/serviceAnnouncement/issues", wanted)
}

/// `service eq '…'` and `isResolved eq true|false`, joined by `and`.
fn issue_filter(filter: &str) -> Result<(Option<String>, Option<bool>), String> {
    let (mut service, mut resolved) = (None, None);
    for clause in filter.split(" and ") {
        let clause = clause.trim();
        if let Some(v) = clause.strip_prefix("service eq '").and_then(|v| v.strip_suffix('\'')) {
            service = Some(v.replace("''", "'"));
        } else if let Some(v) = clause.strip_prefix("isResolved eq ") {
            resolved = Some(v.parse::<bool>().map_err(|_| format!("Invalid filter clause: {clause}"))?);
        } else {
            return Err(format!("Invalid filter clause: {clause}"));
        }
    }
    Ok((service, resolved))
}

/// `POST /users/{id or UPN}/sendMail`: 202 once accepted; the message enters Exchange Online's trace, one row
/// per recipient. The sender must be a user of the tenant.
async fn send_mail(
    State(shared): State<Shared>,
    headers: HeaderMap,
    Path(id): Path<String>,
    body: Option<Json<Value>>,
) -> Response {
    auth!(shared, headers);
    let mut world = shared.lock();
    let Some(user) = world.directory.users.iter().find(|u| u.id == id || u.upn.eq_ignore_ascii_case(&id)).cloned()
    else {
        return error(StatusCode::NOT_FOUND, "ErrorInvalidUser", &format!("The requested user '{id}' is invalid."));
    };
    // An app sends as anyone with Mail.Send; a user as themselves with Mail.Send, as another with
    // Mail.Send.Shared and Send As on that mailbox.
    let bearer = headers.get(header::AUTHORIZATION).and_then(|v| v.to_str().ok());
    let (permissions, upn) = world.auth.grants(bearer).unwrap_or((&[], None));
    let has = |p: &str| permissions.iter().any(|x| x == p);
    let denied = "Access is denied. Check credentials and try again.";
    match upn {
        None if !has("Mail.Send") => return error(StatusCode::FORBIDDEN, "ErrorAccessDenied", denied),
        Some(me) if me.eq_ignore_ascii_case(&user.upn) && !has("Mail.Send") && !has("Mail.Send.Shared") => {
            return error(StatusCode::FORBIDDEN, "ErrorAccessDenied", denied);
        }
        Some(me) if !me.eq_ignore_ascii_case(&user.upn) => {
            if !has("Mail.Send.Shared") {
                return error(StatusCode::FORBIDDEN, "ErrorAccessDenied", denied);
            }
            let mailbox = user.mail.clone().unwrap_or_default().to_lowercase();
            if !world.exchange.send_as.contains(&(mailbox, me.to_lowercase())) {
                return error(
                    StatusCode::FORBIDDEN,
                    "ErrorSendAsDenied",
                    "The user account which was used to submit this request does not have the right to send mail on behalf of the specified sending account., Cannot submit message.",
                );
            }
        }
        _ => {}
    }
    let message = body.as_ref().and_then(|Json(b)| b.get("message"));
    let recipients: Vec<String> = message
        .and_then(|m| m.get("toRecipients"))
        .and_then(Value::as_array)
        .map(|r| {
            r.iter()
                .filter_map(|x| x.pointer("/emailAddress/address").and_then(Value::as_str).map(str::to_owned))
                .collect()
        })
        .unwrap_or_default();
    if recipients.is_empty() {
        return error(StatusCode::BAD_REQUEST, "ErrorInvalidRecipients", "At least one recipient isn't valid.");
    }
    let subject = message.and_then(|m| m.get("subject")).and_then(Value::as_str).unwrap_or_default().to_owned();
    let now = world.clock.now();
    for r in recipients {
        world.exchange.messages.push(super::exo::Message {
            received: now,
            sender: user.upn.clone(),
            recipient: r,
            subject: subject.clone(),
        });
    }
    StatusCode::ACCEPTED.into_response()
}
