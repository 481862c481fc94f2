//! One place that turns a project (its state, its name, the keyring) into what the live checks and tasks talk
//! to: the Microsoft 365 clients, the source server target and the DNS resolvers. Nothing here goes on the
//! network; each part that cannot be built carries an error naming what is missing and how to fix it.

use crate::dns::{DnsError, Resolver};
use crate::m365::error::AuthError;
use crate::m365::{HttpClient, M365, M365Error, RetryPolicy};
use crate::project::ProjectState;
use crate::secrets::{Secret, SecretKind, Secrets};
use crate::source::SourceTarget;

/// Why a connection could not be set up.
#[derive(Debug, thiserror::Error)]
pub enum ConnectError {
    #[error("no Microsoft 365 tenant is recorded: fill Tenant in the kickoff form (stage 1)")]
    NoTenant,
    #[error(
        "no application (client) id is set for project '{project}': run `cutover auth login --project {project} --client-id ID` with the id of the app registered in the tenant"
    )]
    NoClientId { project: String },
    #[error("the Microsoft 365 clients could not be set up: {0}")]
    M365(M365Error),
    #[error("no email domain is recorded: fill Email domains in the kickoff form (stage 1)")]
    NoDomain,
    #[error("the source server settings cannot be used: {0}")]
    Source(#[from] crate::source::SourceError),
    #[error("the DNS resolvers cannot be used: {0}")]
    Dns(#[from] DnsError),
    #[error("{0}")]
    Wait(#[from] crate::m365::http::WaitSettingError),
    #[error("the OS keyring cannot be read: {0}")]
    Secrets(#[from] crate::secrets::SecretsError),
}

/// What a project's checks talk to, built once per run.
pub struct Connections {
    project: String,
    /// What the project's keyring accounts start with: its id.
    keyring_scope: String,
    secrets: Secrets,
    /// The tenant's clients (Graph, Exchange Online), sharing one sign-in.
    pub m365: Result<M365, ConnectError>,
    /// The source server, reached through the first email domain.
    pub source: Result<SourceTarget, ConnectError>,
    dns_servers: Vec<std::net::SocketAddr>,
}

impl Connections {
    /// Builds every connection the project's settings allow; no network call is made.
    pub fn new(project: &str, state: &ProjectState, secrets: Secrets) -> Connections {
        Connections {
            project: project.to_owned(),
            keyring_scope: state.keyring_scope(),
            m365: m365(project, state, secrets.clone()),
            source: source(state),
            dns_servers: state.source_access.dns_servers.clone(),
            secrets,
        }
    }

    pub fn project(&self) -> &str {
        &self.project
    }

    /// How far Microsoft 365's clock is ahead of ours now, from a fresh answer (`GET /organization`, whose `Date`
    /// the HTTP layer reads): a time the project records to compare with Exchange's timestamps is kept with it.
    /// None without a tenant connection or an answer.
    pub async fn service_ahead_ms(&self) -> Option<i64> {
        let m365 = self.m365.as_ref().ok()?;
        if let Err(e) = m365.graph.organization().await {
            tracing::info!(error = %e, "the service clock was read from an earlier answer");
        }
        m365.exo.clock().offset().map(|d| d.num_milliseconds())
    }

    pub fn keyring_scope(&self) -> &str {
        &self.keyring_scope
    }

    /// The source migration account's password from the keyring (`<project id>/source-password`), if stored.
    pub async fn source_password(&self) -> Result<Option<Secret>, ConnectError> {
        let secrets = self.secrets.clone();
        let project = self.keyring_scope.clone();
        let loaded = tokio::task::spawn_blocking(move || secrets.load(&project, &SecretKind::SourcePassword)).await;
        match loaded {
            Ok(result) => Ok(result?),
            Err(e) => Err(ConnectError::Secrets(crate::secrets::SecretsError::Platform {
                account: format!("{}/{}", self.keyring_scope, SecretKind::SourcePassword.account_suffix()),
                detail: e.to_string(),
            })),
        }
    }

    /// The resolver for general lookups: the source's given DNS servers, else the system's.
    pub fn resolver(&self) -> Result<Resolver, ConnectError> {
        if self.dns_servers.is_empty() {
            Ok(Resolver::system()?)
        } else {
            Ok(Resolver::at(dns_label(&self.dns_servers), &self.dns_servers)?)
        }
    }

    /// Who to ask for `domain`'s configured MX TTL: the given DNS servers (a test double answers with
    /// authority), else the domain's authoritative servers found through the system's resolver.
    pub async fn mx_resolvers(&self, domain: &str) -> Result<Vec<Resolver>, ConnectError> {
        if !self.dns_servers.is_empty() {
            return Ok(vec![Resolver::at(dns_label(&self.dns_servers), &self.dns_servers)?]);
        }
        let system = Resolver::system()?;
        Ok(Resolver::authoritative(domain, &system).await?)
    }
}

fn dns_label(servers: &[std::net::SocketAddr]) -> String {
    let list: Vec<String> = servers.iter().map(ToString::to_string).collect();
    format!("DNS server {}", list.join(", "))
}

fn m365(project: &str, state: &ProjectState, secrets: Secrets) -> Result<M365, ConnectError> {
    let tenant = state.kickoff.tenant.as_ref().ok_or(ConnectError::NoTenant)?;
    if state.m365.client_id.is_none() {
        return Err(ConnectError::NoClientId { project: project.to_owned() });
    }
    let http = HttpClient::with_ca_file(RetryPolicy::from_env()?, state.m365.ca_cert.as_deref())
        .map_err(ConnectError::M365)?;
    M365::connect_scoped(project, &state.keyring_scope(), &tenant.to_string(), &state.m365, secrets, http).map_err(
        |e| match e {
            M365Error::Auth(AuthError::NoClientId) => ConnectError::NoClientId { project: project.to_owned() },
            other => ConnectError::M365(other),
        },
    )
}

fn source(state: &ProjectState) -> Result<SourceTarget, ConnectError> {
    let domain = state.kickoff.domains.first().ok_or(ConnectError::NoDomain)?;
    let access = &state.source_access;
    let mut target = SourceTarget::new(domain)?.with_dns_servers(access.dns_servers.clone());
    if let Some(port) = access.https_port {
        target = target.with_https_port(port);
    }
    if let Some(port) = access.http_port {
        target = target.with_http_port(port);
    }
    if let Some(ca) = &access.ca_cert {
        target = target.with_extra_ca_file(ca)?;
    }
    Ok(target)
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::plan::kickoff::Field;
    use crate::secrets::Secrets;

    fn state() -> ProjectState {
        ProjectState::new("acme", chrono::Utc::now(), false)
    }

    #[test]
    fn missing_settings_name_the_fix() {
        let secrets = Secrets::mock();
        let mut s = state();
        let c = Connections::new("acme", &s, secrets.clone());
        assert!(matches!(c.m365, Err(ConnectError::NoTenant)));
        assert!(c.source.as_ref().err().is_some_and(|e| e.to_string().contains("Email domains")));
        Field::Tenant.apply(&mut s.kickoff, "contoso.onmicrosoft.com").expect("valid");
        Field::Domains.apply(&mut s.kickoff, "contoso.com").expect("valid");
        let c = Connections::new("acme", &s, secrets.clone());
        let err = c.m365.err().expect("no client id");
        assert!(err.to_string().contains("cutover auth login --project acme --client-id"), "{err}");
        assert_eq!(c.source.expect("target").domain(), "contoso.com");
        s.m365.client_id = Some("11111111-2222-3333-4444-555555555555".into());
        s.source_access.ca_cert = Some("/nonexistent/ca.pem".into());
        s.source_access.dns_servers = vec!["127.0.0.1:5353".parse().expect("addr")];
        let c = Connections::new("acme", &s, secrets);
        assert!(c.m365.is_ok());
        assert_eq!(c.resolver().expect("resolver").label(), "DNS server 127.0.0.1:5353");
        assert!(c.source.expect_err("bad CA").to_string().contains("/nonexistent/ca.pem"));
    }

    #[tokio::test]
    async fn a_same_named_project_does_not_see_anothers_secrets() {
        let secrets = Secrets::mock();
        let (old, new) = (state(), state());
        let password = crate::secrets::Secret::new("Passw0rd!");
        secrets.save(&old.keyring_scope(), &SecretKind::SourcePassword, &password).expect("save");
        let c = Connections::new("acme", &old, secrets.clone());
        assert_eq!(
            c.source_password().await.expect("keyring").map(|p| p.expose().to_owned()),
            Some("Passw0rd!".into())
        );
        let c = Connections::new("acme", &new, secrets);
        assert_eq!(c.source_password().await.expect("keyring"), None, "a new project named acme starts clean");
    }
}
