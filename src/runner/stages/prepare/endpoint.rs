//! Stage 4: the migration endpoint (Outlook Anywhere) Exchange Online pulls the mailboxes through. Reads
//! `Get-MigrationEndpoint` first: an endpoint of that name (or on the same RPC proxy) is kept, and only its
//! `MaxConcurrentMigrations` corrected. Otherwise `Test-MigrationServerAvailability` with Autodiscover, then with
//! the manual settings if Autodiscover fails, and `New-MigrationEndpoint` with the settings that tested OK.

use crate::inventory::estimate::MAX_CONCURRENCY;
use crate::m365::exo::{AutodiscoverSource, AvailabilityTest, ExoClient, MigrationEndpoint, OutlookAnywhere};
use crate::plan::source::{SourceAuth, SourcePermission};
use crate::runner::jobs::JobContext;
use crate::runner::resume::{ReadBack, field};
use crate::runner::tasks::{TaskError, TaskOutcome, write};
use crate::secrets::Secret;
use serde_json::json;

/// The source's Outlook Anywhere settings, for when Autodiscover does not answer.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ManualSettings {
    /// The mailbox server's FQDN (`-ExchangeServer`).
    pub exchange_server: String,
    /// Outlook Anywhere's external host name (`-RpcProxyServer`).
    pub rpc_proxy_server: String,
    pub authentication: SourceAuth,
    pub mailbox_permission: SourcePermission,
}

/// What the endpoint should be.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct EndpointRequest {
    pub name: String,
    /// The migration account: `DOMAIN\user` or a UPN.
    pub admin_user: String,
    /// An on-premises mailbox address to run Autodiscover with (usually the migration account's own).
    pub email_address: String,
    /// Tried when Autodiscover fails; `None`: Autodiscover only.
    pub manual: Option<ManualSettings>,
    /// 1 to 100.
    pub max_concurrent_migrations: u32,
}

/// How the endpoint came to be.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum EndpointVia {
    /// It was there already.
    Existing,
    Autodiscover,
    Manual,
}

/// What [`create_endpoint`] did.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct EndpointOutcome {
    pub outcome: TaskOutcome,
    /// The endpoint as Exchange Online reports it; `None` when neither way tested OK.
    pub endpoint: Option<MigrationEndpoint>,
    pub via: Option<EndpointVia>,
    /// `Test-MigrationServerAvailability -Autodiscover`, when run.
    pub autodiscover_test: Option<AvailabilityTest>,
    /// `Test-MigrationServerAvailability` with the manual settings, when run.
    pub manual_test: Option<AvailabilityTest>,
}

/// Creates the Outlook Anywhere migration endpoint unless it exists; see the module's description.
pub async fn create_endpoint(
    ctx: &JobContext,
    exo: &ExoClient,
    request: EndpointRequest,
    password: &Secret,
) -> Result<EndpointOutcome, TaskError> {
    validate(&request, password)?;
    let max = request.max_concurrent_migrations;
    let existing = exo.get_migration_endpoints().await?.items;
    if let Some(e) = existing.iter().find(|e| e.identity.eq_ignore_ascii_case(&request.name))
        && !e.is_outlook_anywhere()
    {
        return Err(TaskError::EndpointNameTaken {
            name: request.name.clone(),
            kind: e.endpoint_type.clone().unwrap_or_else(|| "unknown".into()),
        });
    }
    let same_proxy = |e: &MigrationEndpoint| {
        request
            .manual
            .as_ref()
            .is_some_and(|m| e.rpc_proxy_server.as_deref().is_some_and(|p| p.eq_ignore_ascii_case(&m.rpc_proxy_server)))
    };
    let found = existing
        .iter()
        .find(|e| e.identity.eq_ignore_ascii_case(&request.name))
        .or_else(|| existing.iter().find(|e| e.is_outlook_anywhere() && same_proxy(e)));
    if let Some(e) = found {
        return keep_existing(ctx, exo, e.clone(), max).await;
    }

    ctx.progress("testing the source with Autodiscover", 0, Some(3));
    let auto = AutodiscoverSource {
        email_address: request.email_address.clone(),
        user_name: request.admin_user.clone(),
        password: password.clone(),
    };
    let auto_test = first(exo.test_migration_server_autodiscover(&auto).await?.items);
    let mut manual_test = None;
    let via = if auto_test.as_ref().is_some_and(tested_ok) {
        EndpointVia::Autodiscover
    } else if let Some(m) = &request.manual {
        if ctx.cancel.is_cancelled() {
            return Ok(not_created(auto_test, None, true));
        }
        ctx.progress("testing the source with the manual settings", 1, Some(3));
        manual_test = first(exo.test_migration_server(&outlook_anywhere(&request, m, password)).await?.items);
        if manual_test.as_ref().is_some_and(tested_ok) {
            EndpointVia::Manual
        } else {
            return Ok(not_created(auto_test, manual_test, false));
        }
    } else {
        return Ok(not_created(auto_test, None, false));
    };
    if ctx.cancel.is_cancelled() {
        return Ok(not_created(auto_test, manual_test, true));
    }

    ctx.progress(format!("creating the migration endpoint {}", request.name), 2, Some(3));
    let mut detail = json!({
        "name": request.name,
        "via": match via { EndpointVia::Manual => "manual", _ => "autodiscover" },
        "admin_user": request.admin_user,
        "email_address": request.email_address,
        "max_concurrent_migrations": max,
    });
    let created = match (via, &request.manual) {
        (EndpointVia::Manual, Some(m)) => {
            detail["exchange_server"] = json!(m.exchange_server);
            detail["rpc_proxy_server"] = json!(m.rpc_proxy_server);
            detail["authentication"] = json!(m.authentication.cmdlet_value());
            detail["mailbox_permission"] = json!(m.mailbox_permission.cmdlet_value());
            let source = outlook_anywhere(&request, m, password);
            write(
                ctx,
                crate::plan::prepare::STAGE,
                "new-migration-endpoint",
                detail,
                exo.new_migration_endpoint(&request.name, &source, Some(max)),
            )
            .await?
        }
        _ => {
            write(
                ctx,
                crate::plan::prepare::STAGE,
                "new-migration-endpoint",
                detail,
                exo.new_migration_endpoint_autodiscover(&request.name, &auto, Some(max)),
            )
            .await?
        }
    };
    ctx.progress("migration endpoint", 3, Some(3));
    let endpoint = first(created.items);
    let how = match via {
        EndpointVia::Manual => "with the manual settings (Autodiscover failed)",
        _ => "with Autodiscover",
    };
    let summary = format!(
        "Created the migration endpoint {} {how}; MaxConcurrentMigrations {max}.",
        endpoint.as_ref().map_or(request.name.as_str(), |e| e.identity.as_str())
    );
    Ok(EndpointOutcome {
        outcome: TaskOutcome { done: vec![summary.clone()], summary, ..TaskOutcome::default() },
        endpoint,
        via: Some(via),
        autodiscover_test: auto_test,
        manual_test,
    })
}

/// An endpoint already there: only `MaxConcurrentMigrations` is brought to what was asked.
async fn keep_existing(
    ctx: &JobContext,
    exo: &ExoClient,
    mut endpoint: MigrationEndpoint,
    max: u32,
) -> Result<EndpointOutcome, TaskError> {
    let mut outcome = TaskOutcome::default();
    let kept = format!("the migration endpoint {} exists already", endpoint.identity);
    if endpoint.max_concurrent_migrations == Some(u64::from(max)) {
        outcome.skipped.push(format!("{kept} with MaxConcurrentMigrations {max}"));
        outcome.summary = format!("Nothing to do: {kept}, with MaxConcurrentMigrations {max}.");
    } else {
        let detail = json!({ "name": endpoint.identity, "max_concurrent_migrations": max,
            "was": endpoint.max_concurrent_migrations });
        write(
            ctx,
            crate::plan::prepare::STAGE,
            "set-migration-endpoint",
            detail,
            exo.set_max_concurrent_migrations(&endpoint.identity, max),
        )
        .await?;
        let was = endpoint.max_concurrent_migrations.map_or_else(|| "unset".to_owned(), |n| n.to_string());
        endpoint.max_concurrent_migrations = Some(u64::from(max));
        outcome.skipped.push(kept.clone());
        outcome.done.push(format!("MaxConcurrentMigrations {was} → {max}"));
        outcome.summary = format!("Kept: {kept}; MaxConcurrentMigrations changed from {was} to {max}.");
    }
    Ok(EndpointOutcome {
        outcome,
        endpoint: Some(endpoint),
        via: Some(EndpointVia::Existing),
        autodiscover_test: None,
        manual_test: None,
    })
}

fn not_created(auto: Option<AvailabilityTest>, manual: Option<AvailabilityTest>, cancelled: bool) -> EndpointOutcome {
    let said = |t: &Option<AvailabilityTest>| match t {
        None => "no answer".to_owned(),
        Some(t) => {
            let text = t.message.as_deref().or(t.error_detail.as_deref()).unwrap_or(&t.result);
            text.trim().trim_end_matches('.').to_owned()
        }
    };
    let mut summary = format!("Not created: the Autodiscover test failed: {}", said(&auto));
    if manual.is_some() {
        summary.push_str(&format!("; the test with the manual settings failed: {}", said(&manual)));
    } else if !cancelled {
        summary.push_str("; give the manual settings (Exchange server, RPC proxy server, authentication, permission) to try without Autodiscover");
    }
    summary.push_str(if cancelled { ". Stopped." } else { ". Fix this on the source server (or, if the credentials were refused, enter the migration account's password again in stage 2), then try again." });
    EndpointOutcome {
        outcome: TaskOutcome { summary, cancelled, ..TaskOutcome::default() },
        endpoint: None,
        via: None,
        autodiscover_test: auto,
        manual_test: manual,
    }
}

/// `Success`, or `Warning` (the test passed with a remark Exchange Online still accepts).
fn tested_ok(t: &AvailabilityTest) -> bool {
    t.succeeded() || t.warned()
}

fn first<T>(items: Vec<T>) -> Option<T> {
    items.into_iter().next()
}

fn outlook_anywhere(request: &EndpointRequest, m: &ManualSettings, password: &Secret) -> OutlookAnywhere {
    OutlookAnywhere {
        exchange_server: m.exchange_server.clone(),
        rpc_proxy_server: m.rpc_proxy_server.clone(),
        authentication: m.authentication.cmdlet_value().to_owned(),
        email_address: request.email_address.clone(),
        user_name: request.admin_user.clone(),
        password: password.clone(),
        mailbox_permission: Some(m.mailbox_permission.cmdlet_value().to_owned()),
    }
}

fn validate(r: &EndpointRequest, password: &Secret) -> Result<(), TaskError> {
    let bad = |what: &str, fix: &str| Err(TaskError::BadInput { what: what.to_owned(), fix: fix.to_owned() });
    if r.name.trim().is_empty() {
        return bad("migration endpoint name", "give the endpoint a name, such as CutoverEndpoint");
    }
    if r.admin_user.trim().is_empty() {
        return bad("migration account", "give the source account as DOMAIN\\user or user@domain");
    }
    if !r.email_address.contains('@') {
        return bad(
            &format!("Autodiscover email address {:?}", r.email_address),
            "give an on-premises mailbox address, such as the migration account's",
        );
    }
    if password.is_empty() {
        return bad("the migration account's password", "enter it (it is kept in the OS keyring only)");
    }
    if !(1..=MAX_CONCURRENCY).contains(&r.max_concurrent_migrations) {
        return bad(
            &format!("MaxConcurrentMigrations {}", r.max_concurrent_migrations),
            "give a number from 1 to 100 (20 is Exchange Online's default)",
        );
    }
    if let Some(m) = &r.manual
        && (m.exchange_server.trim().is_empty() || m.rpc_proxy_server.trim().is_empty())
    {
        return bad("manual endpoint settings", "give both the Exchange server and the RPC proxy server names");
    }
    Ok(())
}

/// Reads back a `new-migration-endpoint` (done when the endpoint exists) or a `set-migration-endpoint` (done
/// when its MaxConcurrentMigrations is the value written) that a crash cut short.
pub async fn read_back(exo: &ExoClient, action: &str, detail: &serde_json::Value) -> Result<ReadBack, String> {
    let name = field(detail, "name")?;
    let endpoints = exo.get_migration_endpoints().await.map_err(|e| e.to_string())?.items;
    let found = endpoints.iter().find(|e| e.identity.eq_ignore_ascii_case(name));
    if action == "new-migration-endpoint" {
        return Ok(ReadBack::from(
            found.is_some(),
            format!("the migration endpoint {name} exists"),
            format!("there is no migration endpoint {name}"),
        ));
    }
    let max = detail.get("max_concurrent_migrations").and_then(serde_json::Value::as_u64);
    let now = found.and_then(|e| e.max_concurrent_migrations);
    let shown = now.map_or_else(|| "unset".to_owned(), |n| n.to_string());
    Ok(ReadBack::from(
        max.is_some() && now == max,
        format!("{name} has MaxConcurrentMigrations {shown}, as written"),
        format!("{name} has MaxConcurrentMigrations {shown}"),
    ))
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::inventory::estimate::DEFAULT_CONCURRENCY;

    fn request() -> EndpointRequest {
        EndpointRequest {
            name: "CutoverEndpoint".into(),
            admin_user: "CONTOSO\\migadmin".into(),
            email_address: "migadmin@contoso.com".into(),
            manual: None,
            max_concurrent_migrations: DEFAULT_CONCURRENCY,
        }
    }

    #[test]
    fn bad_requests_are_refused_with_the_fix() {
        let password = Secret::new("x");
        assert!(validate(&request(), &password).is_ok());
        let err = validate(&EndpointRequest { max_concurrent_migrations: 101, ..request() }, &password)
            .expect_err("over 100");
        assert!(err.to_string().contains("from 1 to 100"), "{err}");
        let err = validate(&EndpointRequest { email_address: "migadmin".into(), ..request() }, &password)
            .expect_err("no address");
        assert!(err.to_string().contains("on-premises mailbox address"), "{err}");
        assert!(validate(&request(), &Secret::new("")).is_err());
    }

    #[test]
    fn a_failed_test_says_what_exchange_online_found() {
        let failed = AvailabilityTest {
            result: "Failed".into(),
            message: Some("The Autodiscover service couldn't be located.".into()),
            error_detail: None,
            supports_cutover: Some(false),
        };
        let out = not_created(Some(failed), None, false);
        assert_eq!(
            out.outcome.summary,
            "Not created: the Autodiscover test failed: The Autodiscover service couldn't be located; give the manual settings (Exchange server, RPC proxy server, authentication, permission) to try without Autodiscover. Fix this on the source server (or, if the credentials were refused, enter the migration account's password again in stage 2), then try again."
        );
    }
}
