//! Stage 4: every email domain verified in the tenant (`GET /domains/{id}`, and the `MS=` TXT record of those
//! not yet verified), the migration endpoint (Get-MigrationEndpoint, then Test-MigrationServerAvailability
//! against it), and the MX TTL from the domain's authoritative servers.

use crate::dns::mx_ttl;
use crate::m365::M365;
use crate::m365::exo::OutlookAnywhere;
use crate::m365::graph::verification_txt;
use crate::plan::prepare::Check;
use crate::plan::prepare::{self, DomainState, MxTtlAnswer, MxTtlFound};
use crate::plan::{CheckId, CheckResult, Outcome};
use crate::project::ProjectState;
use crate::runner::checks::{self, CheckError, Results};
use crate::runner::connect::Connections;
use chrono::Utc;

const IDS: [CheckId; 2] = [CheckId::Prepare(Check::DomainsVerified), CheckId::Prepare(Check::EndpointTest)];

pub(super) async fn run(state: &ProjectState, conn: &Connections) -> Result<Results, CheckError> {
    let mx = mx_check(state, conn).await;
    let mut results = match checks::m365(conn, &IDS)? {
        Ok(m) => {
            let (domains, endpoint) = tokio::join!(domains_check(state, m), endpoint_check(state, conn, m));
            vec![(IDS[0], domains?), (IDS[1], endpoint?)]
        }
        Err(failed) => failed,
    };
    results.push((Check::MxTtl.into(), mx));
    Ok(results)
}

async fn domains_check(state: &ProjectState, m: &M365) -> Result<CheckResult, CheckError> {
    let mut found = Vec::new();
    for name in &state.kickoff.domains {
        let domain = match m.graph.domain(name).await {
            Ok(d) => d,
            Err(e) => return checks::m365_failure(&format!("GET /domains/{name}"), e),
        };
        let Some(domain) = domain else {
            found.push(DomainState { name: name.clone(), in_tenant: false, verified: false, txt: None });
            continue;
        };
        let txt = if domain.is_verified {
            None
        } else {
            match m.graph.verification_records(name).await {
                Ok(records) => verification_txt(&records).map(|t| t.text),
                Err(e) => return checks::m365_failure(&format!("GET /domains/{name}/verificationDnsRecords"), e),
            }
        };
        found.push(DomainState { name: name.clone(), in_tenant: true, verified: domain.is_verified, txt });
    }
    let mut r = prepare::domains_check(&found, Utc::now());
    if !found.is_empty() {
        r.evidence = format!("GET /domains/{{id}} for {}: {}", state.kickoff.domains.join(", "), r.evidence);
    }
    Ok(r)
}

async fn endpoint_check(state: &ProjectState, conn: &Connections, m: &M365) -> Result<CheckResult, CheckError> {
    let endpoints = match m.exo.get_migration_endpoints().await {
        Ok(out) => out.items,
        Err(e) => return checks::m365_failure("Get-MigrationEndpoint", e),
    };
    let access = &state.source_access;
    let Some(endpoint) = endpoints.iter().find(|e| e.is_outlook_anywhere()) else {
        let others: Vec<String> = endpoints
            .iter()
            .map(|e| format!("{} ({})", e.identity, e.endpoint_type.as_deref().unwrap_or("type not given")))
            .collect();
        let listed = if others.is_empty() { "none".to_owned() } else { others.join(", ") };
        let mut text = format!(
            "Get-MigrationEndpoint found no Outlook Anywhere endpoint (endpoints: {listed}). Run the task Create the migration endpoint."
        );
        // With the manual settings at hand, tell now whether the endpoint's own test will pass.
        if let Some(proxy) = access.rpc_proxy_server.clone() {
            let server = access.exchange_server.clone().unwrap_or_else(|| proxy.clone());
            let auth = access.auth.cmdlet_value().to_owned();
            if let Ok(tested) = availability(state, conn, m, proxy, server, auth).await? {
                text.push_str(&format!(" Before creating it, with the manual settings: {}", tested.evidence));
            }
        }
        return Ok(CheckResult::new(Outcome::Fail, text, Utc::now()));
    };
    let described = format!(
        "Get-MigrationEndpoint: '{}' (Outlook Anywhere, RPC proxy {}, Exchange server {}, authentication {}).",
        endpoint.identity,
        endpoint.rpc_proxy_server.as_deref().unwrap_or("not given"),
        endpoint.exchange_server.as_deref().unwrap_or("not given"),
        endpoint.authentication.as_deref().unwrap_or("not given")
    );
    let Some(proxy) = endpoint.rpc_proxy_server.clone().or_else(|| access.rpc_proxy_server.clone()) else {
        return Ok(CheckResult::new(
            Outcome::Fail,
            format!(
                "{described} Test-MigrationServerAvailability not run: the RPC proxy server is not known; enter it in the source settings (or `cutover source --rpc-proxy-server`)."
            ),
            Utc::now(),
        ));
    };
    let server = endpoint.exchange_server.clone().or_else(|| access.exchange_server.clone()).unwrap_or(proxy.clone());
    let auth = endpoint.authentication.clone().unwrap_or_else(|| access.auth.cmdlet_value().to_owned());
    let mut result = match availability(state, conn, m, proxy, server, auth).await? {
        Ok(r) | Err(r) => r,
    };
    result.evidence = format!("{described} {}", result.evidence);
    Ok(result)
}

/// Test-MigrationServerAvailability with these Outlook Anywhere settings and the project's account: `Ok` with
/// the verdict when it ran, `Err` with a Fail saying what is missing when it could not.
async fn availability(
    state: &ProjectState,
    conn: &Connections,
    m: &M365,
    proxy: String,
    server: String,
    auth: String,
) -> Result<Result<CheckResult, CheckResult>, CheckError> {
    let now = Utc::now;
    let access = &state.source_access;
    let password = conn.source_password().await;
    let email = access.autodiscover_address(state.inventory.as_deref());
    let (Some(user), Ok(Some(password)), Some(email)) = (access.admin_user.clone(), password, email) else {
        return Ok(Err(CheckResult::new(
            Outcome::Fail,
            format!(
                "Test-MigrationServerAvailability not run: it needs the migration account, its password (kept in the OS keyring as {}/source-password) and a source mailbox address; enter the missing ones in the source settings (or `cutover source`).",
                conn.keyring_scope()
            ),
            now(),
        )));
    };
    let source = OutlookAnywhere {
        exchange_server: server,
        rpc_proxy_server: proxy.clone(),
        authentication: auth,
        email_address: email.clone(),
        user_name: user.clone(),
        password,
        mailbox_permission: Some(access.permission.cmdlet_value().to_owned()),
    };
    let asked = format!("Test-MigrationServerAvailability against {proxy} as {user} for {email}");
    let test = match m.exo.test_migration_server(&source).await {
        Ok(out) => out,
        Err(e) => return checks::m365_failure(&asked, e).map(Ok),
    };
    let Some(answer) = test.items.first() else {
        return Ok(Ok(CheckResult::new(Outcome::Fail, format!("{asked}: no result came back."), now())));
    };
    // Exchange often repeats the message inside the error detail (after the exception type): show it once.
    let message = answer.message.as_deref().map(|m| m.trim().trim_end_matches('.'));
    let error = answer.error_detail.as_deref().map(|d| d.trim().trim_end_matches('.'));
    let detail = match (message, error) {
        (Some(m), Some(e)) if e.contains(m) => format!(" ({e})"),
        (Some(m), Some(e)) => format!(" ({m}; {e})"),
        (Some(one), None) | (None, Some(one)) => format!(" ({one})"),
        (None, None) => String::new(),
    };
    let warnings =
        if test.warnings.is_empty() { String::new() } else { format!(" Warnings: {}.", test.warnings.join("; ")) };
    let head = format!("{asked}: {}{detail}.{warnings}", answer.result);
    let result = if answer.succeeded() && answer.supports_cutover == Some(false) {
        CheckResult::new(
            Outcome::Fail,
            format!(
                "{head} The source answers but does not support a cutover migration; plan a staged or hybrid migration."
            ),
            now(),
        )
    } else if answer.succeeded() {
        CheckResult::new(Outcome::Pass, head, now())
    } else if answer.warned() {
        CheckResult::new(Outcome::Warn, head, now())
    } else {
        CheckResult::new(
            Outcome::Fail,
            format!(
                "{head} Fix on the source: a certificate from a public CA, valid and naming {proxy}; Outlook Anywhere published with Basic or NTLM; the migration account's password and its {} permission; then run this check again.",
                access.permission.cmdlet_value()
            ),
            now(),
        )
    };
    Ok(Ok(result))
}

async fn mx_check(state: &ProjectState, conn: &Connections) -> CheckResult {
    let mut answers = Vec::new();
    for domain in &state.kickoff.domains {
        let answer = |asked: String, found| MxTtlAnswer { domain: domain.clone(), asked, found };
        let resolvers = match conn.mx_resolvers(domain).await {
            Ok(r) => r,
            Err(e) => {
                answers.push(answer("no server".into(), MxTtlFound::Error(e.to_string())));
                continue;
            }
        };
        // The first authoritative server that answers gives the configured TTL.
        let mut last_error = None;
        let mut done = false;
        for resolver in &resolvers {
            match mx_ttl(resolver, domain).await {
                Ok(found) => {
                    let ttl = found.max_ttl().map_or(MxTtlFound::NoMx, MxTtlFound::Ttl);
                    answers.push(answer(resolver.label().to_owned(), ttl));
                    done = true;
                    break;
                }
                Err(e) => last_error = Some(e.to_string()),
            }
        }
        if !done {
            let e = last_error.unwrap_or_else(|| "no server to ask".into());
            answers.push(answer("the domain's DNS servers".into(), MxTtlFound::Error(e)));
        }
    }
    let cutover = state.kickoff.cutover.as_ref().and_then(|c| c.utc());
    prepare::mx_ttl_check(&answers, cutover, Utc::now())
}
