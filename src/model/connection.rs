//! How a project reaches its Microsoft 365 tenant, as the project stores it: the cloud, the application id and
//! an extra CA file. Where each cloud's hosts are, and the checks of `cutover new`'s flags, live with the client
//! (`m365::endpoints`), which adds its methods to these types.

use serde::{Deserialize, Serialize};
use std::path::PathBuf;
use url::Url;

/// A Microsoft 365 cloud. The national clouds have their own hosts and their own token scopes.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, Default)]
#[serde(tag = "kind", rename_all = "kebab-case")]
// Made once per project and cloned rarely: boxing the custom URLs would buy nothing.
#[allow(clippy::large_enum_variant)]
pub enum Cloud {
    /// The worldwide service.
    #[default]
    Global,
    /// Microsoft 365 US Government GCC High.
    UsGovGccHigh,
    /// Microsoft 365 US Government DoD.
    UsGovDod,
    /// Microsoft 365 operated by 21Vianet in China.
    China,
    /// Any other set of hosts, such as the simulator. It stands in for the worldwide service, so its token scopes
    /// are the worldwide ones.
    Custom { login: Url, graph: Url, exo: Url },
}

impl Cloud {
    /// The name `--cloud` takes and the status line shows.
    pub fn name(&self) -> &'static str {
        match self {
            Cloud::Global => "global",
            Cloud::UsGovGccHigh => "gcc-high",
            Cloud::UsGovDod => "dod",
            Cloud::China => "china",
            Cloud::Custom { .. } => "custom",
        }
    }
}

/// Everything a project remembers about how to reach its tenant; nothing here is secret.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, Default)]
pub struct ConnectionSettings {
    #[serde(default)]
    pub cloud: Cloud,
    /// The application (client) id registered in the tenant, used for every sign-in.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub client_id: Option<String>,
    /// A PEM file of extra certificate authorities to trust (a custom cloud's, such as the simulator's).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub ca_cert: Option<PathBuf>,
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn settings_round_trip_through_json() {
        let url = |s: &str| Url::parse(s).expect("valid URL");
        let settings = ConnectionSettings {
            cloud: Cloud::Custom {
                login: url("http://127.0.0.1:1"),
                graph: url("http://127.0.0.1:2"),
                exo: url("http://127.0.0.1:3"),
            },
            client_id: Some("0f7a1b7e-1111-2222-3333-444455556666".into()),
            ca_cert: Some("/tmp/ca.pem".into()),
        };
        let json = serde_json::to_string(&settings).expect("json");
        assert_eq!(serde_json::from_str::<ConnectionSettings>(&json).expect("back"), settings);
        assert_eq!(serde_json::from_str::<ConnectionSettings>("{}").expect("default").cloud, Cloud::Global);
        assert_eq!(Cloud::UsGovGccHigh.name(), "gcc-high");
    }
}
