//! The connection flags of `cutover new` (cloud, custom endpoints, extra CA, client id): validated before the
//! project is created, then stored in it through its audited path.

use crate::m365::ConnectionSettings;
use crate::m365::endpoints::EndpointError;
use crate::project::Project;
use color_eyre::eyre::eyre;
use std::path::PathBuf;

#[derive(Debug, Clone, Default, clap::Args)]
pub struct NewFlags {
    /// The Microsoft 365 cloud: global, gcc-high, dod or china
    #[arg(long)]
    pub cloud: Option<String>,
    /// A custom cloud's sign-in URL (with --graph-url and --exo-url), such as the simulator's
    #[arg(long)]
    pub login_url: Option<String>,
    #[arg(long)]
    pub graph_url: Option<String>,
    #[arg(long)]
    pub exo_url: Option<String>,
    /// A PEM file of extra certificate authorities to trust for Microsoft 365 (a custom cloud's)
    #[arg(long)]
    pub ca_cert: Option<PathBuf>,
    /// The application (client) id registered in the tenant
    #[arg(long)]
    pub client_id: Option<String>,
}

impl NewFlags {
    /// The settings the flags describe, or `None` when none was given (the project keeps the defaults).
    pub fn settings(&self) -> Result<Option<ConnectionSettings>, EndpointError> {
        let given = self.cloud.is_some()
            || self.login_url.is_some()
            || self.graph_url.is_some()
            || self.exo_url.is_some()
            || self.ca_cert.is_some()
            || self.client_id.is_some();
        if !given {
            return Ok(None);
        }
        ConnectionSettings::from_flags(
            self.cloud.as_deref(),
            self.login_url.as_deref(),
            self.graph_url.as_deref(),
            self.exo_url.as_deref(),
            self.ca_cert.as_deref(),
            self.client_id.as_deref(),
        )
        .map(Some)
    }
}

/// Stores the connection settings in a project, audited (`set-connection`).
pub fn store(project: &mut Project, settings: ConnectionSettings) -> color_eyre::Result<()> {
    let detail = serde_json::json!({
        "cloud": settings.cloud.name(),
        "client_id": settings.client_id,
        "ca_cert": settings.ca_cert,
    });
    project
        .change(None, "set-connection", detail, |s| {
            s.m365 = settings;
            Ok::<(), std::convert::Infallible>(())
        })?
        .map_err(|e| eyre!("{e}"))
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::m365::Cloud;

    #[test]
    fn flags_are_validated_and_absent_flags_change_nothing() {
        assert_eq!(NewFlags::default().settings().expect("none"), None);
        let dod = NewFlags { cloud: Some("dod".into()), ..Default::default() };
        assert_eq!(dod.settings().expect("valid").expect("given").cloud, Cloud::UsGovDod);
        let partial = NewFlags { login_url: Some("http://127.0.0.1:1".into()), ..Default::default() };
        assert!(partial.settings().expect_err("incomplete").to_string().contains("--graph-url, --exo-url"));
        let bad_id = NewFlags { client_id: Some("not-a-guid".into()), ..Default::default() };
        assert!(bad_id.settings().is_err());
        let remote_http = NewFlags {
            login_url: Some("http://login.example.com".into()),
            graph_url: Some("https://graph.example.com".into()),
            exo_url: Some("https://exo.example.com".into()),
            ..Default::default()
        };
        assert!(remote_http.settings().is_err());
    }

    #[test]
    fn stored_settings_are_the_projects_and_audited() {
        let tmp = tempfile::tempdir().expect("temp dir");
        let home = crate::project::DataHome::at(tmp.path());
        let name = crate::project::ProjectName::parse("acme").expect("name");
        let mut project = Project::create(&home, &name, false).expect("create");
        let flags = NewFlags {
            cloud: Some("gcc-high".into()),
            client_id: Some("11111111-2222-3333-4444-555555555555".into()),
            ..Default::default()
        };
        store(&mut project, flags.settings().expect("valid").expect("given")).expect("stored");
        drop(project);
        let (project, _) = Project::open(&home, &name).expect("reopen");
        assert_eq!(project.state().m365.cloud, Cloud::UsGovGccHigh);
        assert_eq!(project.state().m365.client_id.as_deref(), Some("11111111-2222-3333-4444-555555555555"));
        let (records, _) = project.audit().read().expect("audit");
        assert!(records.iter().any(|r| r.action == "set-connection"));
    }
}
