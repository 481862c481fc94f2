//! The Microsoft 365 clients: where each cloud lives ([`endpoints`]), sign-in ([`auth`]), the one HTTP layer
//! ([`http`]: retries, paging, errors), Microsoft Graph v1.0 ([`graph`]) and the Exchange Online admin API
//! ([`exo`]). They speak Microsoft's documented wire formats and know nothing of the simulator.

pub mod auth;
pub mod endpoints;
pub mod error;
pub mod exo;
pub mod graph;
pub mod http;

pub use auth::{Authenticator, DeviceCodePrompt, Poll, SignInConfig, SignInKind, SignedIn};
pub use endpoints::{Cloud, ConnectionSettings, Resource};
pub use error::{ApiError, AuthError, M365Error, Service};
pub use http::{HttpClient, RetryNotice, RetryObserver, RetryPolicy, Session, WAIT_ENV, Waiting, observed};

use crate::secrets::Secrets;
use std::sync::Arc;

/// The clients of one project's tenant, sharing one sign-in and one HTTP client.
#[derive(Clone)]
pub struct M365 {
    pub auth: Arc<Authenticator>,
    pub graph: graph::GraphClient,
    pub exo: exo::ExoClient,
    /// Graph with the token of [`Resource::GraphMail`], for `sendMail` alone: its permission is asked for only
    /// when a test mail is sent.
    pub mail: graph::GraphClient,
}

impl M365 {
    /// Builds the clients from what the project remembers; no network call is made here. The keyring
    /// accounts are named by `project` itself: [`M365::connect_scoped`] names them by the project's id.
    pub fn connect(
        project: &str,
        tenant: &str,
        settings: &ConnectionSettings,
        secrets: Secrets,
        http: HttpClient,
    ) -> Result<M365, M365Error> {
        M365::connect_scoped(project, project, tenant, settings, secrets, http)
    }

    /// [`M365::connect`] with the keyring accounts under `keyring_scope` (the project's id).
    pub fn connect_scoped(
        project: &str,
        keyring_scope: &str,
        tenant: &str,
        settings: &ConnectionSettings,
        secrets: Secrets,
        http: HttpClient,
    ) -> Result<M365, M365Error> {
        let client_id = settings.client_id.clone().ok_or(AuthError::NoClientId)?;
        let config = SignInConfig {
            project: project.to_owned(),
            keyring_scope: keyring_scope.to_owned(),
            cloud: settings.cloud.clone(),
            tenant: tenant.to_owned(),
            client_id,
        };
        let auth = Arc::new(Authenticator::new(config, http.clone(), secrets)?);
        let session = |resource| Session { http: http.clone(), tokens: auth.clone(), resource };
        let graph = graph::GraphClient::new(session(Resource::Graph), &settings.cloud.graph())?;
        let exo = exo::ExoClient::new(session(Resource::ExchangeOnline), &settings.cloud.exo(), tenant)?;
        let mail = graph::GraphClient::new(session(Resource::GraphMail), &settings.cloud.graph())?;
        Ok(M365 { auth, graph, exo, mail })
    }
}
