//! Where the Microsoft 365 services of each cloud live: the sign-in (identity platform), Microsoft Graph and
//! Exchange Online hosts, as data, and the checks of the connection flags of `cutover new`. The simulator and
//! any test double are a `Cloud::Custom`. The types themselves are plain data in [`crate::model`].

use serde::{Deserialize, Serialize};
use url::Url;

// The plain data lives in `model`, where the project stores it; the hosts and the flag checks are added here.
pub use crate::model::{Cloud, ConnectionSettings};

#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum EndpointError {
    #[error("unknown cloud '{0}': use global, gcc-high, dod or china (or --login-url, --graph-url and --exo-url)")]
    UnknownCloud(String),
    #[error("{flag} '{value}' is not a URL: {reason}. Give a full URL such as https://login.example.com")]
    NotAUrl { flag: &'static str, value: String, reason: String },
    #[error(
        "{flag} '{value}' uses plain http to a host that is not this machine; use https (plain http is only allowed to 127.0.0.1, ::1 or localhost)"
    )]
    PlainHttp { flag: &'static str, value: String },
    #[error("{flag} '{value}' must use https")]
    BadScheme { flag: &'static str, value: String },
    /// The URL carried a user name or password; `shown` is the URL without it.
    #[error(
        "{flag} has a user name and password in it (user:password@): drop that part and give {shown}; secrets go to the OS keyring (`cutover auth login`), never into the project's settings"
    )]
    Credentials { flag: &'static str, shown: String },
    #[error("a custom cloud needs all three of --login-url, --graph-url and --exo-url; missing: {0}")]
    IncompleteCustom(String),
    #[error(
        "--ca-cert {path}: {reason}. Give a PEM file of the CA certificates to trust (the simulator prints its path)"
    )]
    CaCert { path: String, reason: String },
    #[error("--client-id '{0}' is not an application id: give the GUID shown in the app registration's overview")]
    BadClientId(String),
}

const GLOBAL: [&str; 3] =
    ["https://login.microsoftonline.com", "https://graph.microsoft.com", "https://outlook.office365.com"];
const GCC_HIGH: [&str; 3] =
    ["https://login.microsoftonline.us", "https://graph.microsoft.us", "https://outlook.office365.us"];
// DoD's Exchange Online resource (token audience and admin API host) is outlook-dod.office365.us, as in
// Microsoft's DoD endpoint list and the admin API's per-environment base URLs; webmail.apps.mil is the
// older remote PowerShell host, not the resource a token is issued for.
const DOD: [&str; 3] =
    ["https://login.microsoftonline.us", "https://dod-graph.microsoft.us", "https://outlook-dod.office365.us"];
const CHINA: [&str; 3] =
    ["https://login.chinacloudapi.cn", "https://microsoftgraph.chinacloudapi.cn", "https://partner.outlook.cn"];

/// Which service a token or a request is for.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord, Serialize, Deserialize)]
#[serde(rename_all = "kebab-case")]
pub enum Resource {
    Graph,
    ExchangeOnline,
    /// Microsoft Graph for sending mail as a migrated mailbox, asked for only when a test mail is sent: a
    /// signed-in engineer's token needs the delegated Mail.Send.Shared (incremental consent) and Send As on the
    /// mailbox; an app signed in with a secret needs the application permission Mail.Send, granted up front.
    GraphMail,
}

impl Resource {
    /// The resources every sign-in holds; [`Resource::GraphMail`] is asked for on its own, when needed.
    pub const ALL: [Resource; 2] = [Resource::Graph, Resource::ExchangeOnline];

    pub fn label(self) -> &'static str {
        match self {
            Resource::Graph => "Microsoft Graph",
            Resource::ExchangeOnline => "Exchange Online",
            Resource::GraphMail => "Microsoft Graph (Mail.Send.Shared)",
        }
    }

    /// The delegated permission asked for on its own, if the resource is one.
    pub fn permission(self) -> Option<&'static str> {
        match self {
            Resource::GraphMail => Some("Mail.Send.Shared"),
            Resource::Graph | Resource::ExchangeOnline => None,
        }
    }
}

impl Cloud {
    /// Parses the `--cloud` value.
    pub fn from_name(name: &str) -> Result<Cloud, EndpointError> {
        match name.trim().to_ascii_lowercase().as_str() {
            "global" | "worldwide" | "commercial" => Ok(Cloud::Global),
            "gcc-high" | "gcchigh" => Ok(Cloud::UsGovGccHigh),
            "dod" => Ok(Cloud::UsGovDod),
            "china" | "21vianet" => Ok(Cloud::China),
            other => Err(EndpointError::UnknownCloud(other.to_owned())),
        }
    }

    /// A custom cloud from the three URL flags; each must be https, or http to loopback.
    pub fn custom(login: &str, graph: &str, exo: &str) -> Result<Cloud, EndpointError> {
        Ok(Cloud::Custom {
            login: checked_url("--login-url", login)?,
            graph: checked_url("--graph-url", graph)?,
            exo: checked_url("--exo-url", exo)?,
        })
    }

    /// The cloud the `new` flags describe: the three custom URLs win over `--cloud`, and must come together.
    pub fn from_flags(
        cloud: Option<&str>,
        login: Option<&str>,
        graph: Option<&str>,
        exo: Option<&str>,
    ) -> Result<Cloud, EndpointError> {
        match (login, graph, exo) {
            (None, None, None) => cloud.map_or(Ok(Cloud::Global), Cloud::from_name),
            (Some(l), Some(g), Some(e)) => Cloud::custom(l, g, e),
            _ => {
                let missing: Vec<&str> = [("--login-url", login), ("--graph-url", graph), ("--exo-url", exo)]
                    .iter()
                    .filter(|(_, v)| v.is_none())
                    .map(|(f, _)| *f)
                    .collect();
                Err(EndpointError::IncompleteCustom(missing.join(", ")))
            }
        }
    }

    fn fixed(&self) -> Option<[&'static str; 3]> {
        match self {
            Cloud::Global => Some(GLOBAL),
            Cloud::UsGovGccHigh => Some(GCC_HIGH),
            Cloud::UsGovDod => Some(DOD),
            Cloud::China => Some(CHINA),
            Cloud::Custom { .. } => None,
        }
    }

    fn host(&self, index: usize) -> Url {
        match (self, self.fixed()) {
            (Cloud::Custom { login, graph, exo }, _) => [login, graph, exo][index].clone(),
            // The constants above are valid URLs; a unit test parses every one of them.
            (_, Some(urls)) => Url::parse(urls[index]).unwrap_or_else(|_| unreachable!("constant URL")),
            (_, None) => unreachable!("only Custom has no fixed hosts"),
        }
    }

    /// The identity platform's root (the authority without the tenant).
    pub fn login(&self) -> Url {
        self.host(0)
    }

    /// Microsoft Graph's service root (without `/v1.0`).
    pub fn graph(&self) -> Url {
        self.host(1)
    }

    /// Exchange Online's root (the admin API lives under `/adminapi/beta/{tenant}/`).
    pub fn exo(&self) -> Url {
        self.host(2)
    }

    pub fn base(&self, resource: Resource) -> Url {
        match resource {
            Resource::Graph | Resource::GraphMail => self.graph(),
            Resource::ExchangeOnline => self.exo(),
        }
    }

    /// The `.default` scope for a resource: the resource's own host in each national cloud, the worldwide one for
    /// a custom cloud. An app's token (client credentials) can only ask for this.
    pub fn scope(&self, resource: Resource) -> String {
        format!("{}/.default", self.scope_root(resource))
    }

    /// The scope a signed-in user's token asks for: the permission named when the resource is one asked for on
    /// its own (`https://graph.microsoft.com/Mail.Send`), else `.default`.
    pub fn delegated_scope(&self, resource: Resource) -> String {
        match resource.permission() {
            Some(permission) => format!("{}/{permission}", self.scope_root(resource)),
            None => self.scope(resource),
        }
    }

    fn scope_root(&self, resource: Resource) -> &'static str {
        let index = match resource {
            Resource::Graph | Resource::GraphMail => 1,
            Resource::ExchangeOnline => 2,
        };
        self.fixed().unwrap_or(GLOBAL)[index]
    }
}

impl ConnectionSettings {
    /// The settings `cutover new` stores, from its flags: the cloud (or the three custom URLs), a CA file that
    /// must exist and hold PEM certificates (kept as an absolute path), and the client id (a GUID).
    pub fn from_flags(
        cloud: Option<&str>,
        login_url: Option<&str>,
        graph_url: Option<&str>,
        exo_url: Option<&str>,
        ca_cert: Option<&std::path::Path>,
        client_id: Option<&str>,
    ) -> Result<ConnectionSettings, EndpointError> {
        let cloud = Cloud::from_flags(cloud, login_url, graph_url, exo_url)?;
        let ca_cert = match ca_cert {
            None => None,
            Some(path) => {
                let shown = path.display().to_string();
                let fail = |reason: String| EndpointError::CaCert { path: shown.clone(), reason };
                let bytes = crate::input_file::read_ca_file(path).map_err(|e| fail(e.reason()))?;
                let text = String::from_utf8_lossy(&bytes);
                if !text.contains("-----BEGIN CERTIFICATE-----") {
                    return Err(fail("it holds no PEM certificate".into()));
                }
                Some(std::fs::canonicalize(path).map_err(|e| fail(e.to_string()))?)
            }
        };
        let client_id = client_id.map(parse_client_id).transpose()?;
        Ok(ConnectionSettings { cloud, client_id, ca_cert })
    }
}

/// An application (client) id: a GUID, kept in lower case.
pub fn parse_client_id(id: &str) -> Result<String, EndpointError> {
    let id = id.trim();
    if is_guid(id) { Ok(id.to_ascii_lowercase()) } else { Err(EndpointError::BadClientId(id.to_owned())) }
}

fn is_guid(s: &str) -> bool {
    let groups: Vec<&str> = s.split('-').collect();
    groups.len() == 5
        && groups.iter().zip([8, 4, 4, 4, 12]).all(|(g, n)| g.len() == n && g.chars().all(|c| c.is_ascii_hexdigit()))
}

/// True for 127.0.0.0/8, ::1 and `localhost`.
pub fn is_loopback(url: &Url) -> bool {
    match url.host() {
        Some(url::Host::Ipv4(ip)) => ip.is_loopback(),
        Some(url::Host::Ipv6(ip)) => ip.is_loopback(),
        Some(url::Host::Domain(d)) => d.eq_ignore_ascii_case("localhost"),
        None => false,
    }
}

/// Refuses anything but https, except plain http to loopback.
/// A URL with user information is refused too (reqwest would send it as a Basic sign-in), and never echoed.
pub fn check_scheme(flag: &'static str, url: &Url) -> Result<(), EndpointError> {
    let mut shown = url.clone();
    let _ = shown.set_username("");
    let _ = shown.set_password(None);
    if !url.username().is_empty() || url.password().is_some() {
        return Err(EndpointError::Credentials { flag, shown: shown.to_string() });
    }
    match url.scheme() {
        "https" => Ok(()),
        "http" if is_loopback(url) => Ok(()),
        "http" => Err(EndpointError::PlainHttp { flag, value: shown.to_string() }),
        _ => Err(EndpointError::BadScheme { flag, value: shown.to_string() }),
    }
}

fn checked_url(flag: &'static str, value: &str) -> Result<Url, EndpointError> {
    let value = value.trim();
    let credentials = || EndpointError::Credentials { flag, shown: crate::text::without_credentials(value) };
    if crate::text::refuse_url_credentials(flag, value).is_err() {
        return Err(credentials());
    }
    // What does not parse is shown without anything that may be a password.
    let shown = || crate::text::without_credentials(value);
    let url = Url::parse(value).map_err(|e| EndpointError::NotAUrl { flag, value: shown(), reason: e.to_string() })?;
    if !url.username().is_empty() || url.password().is_some() {
        return Err(credentials());
    }
    if url.host().is_none() {
        return Err(EndpointError::NotAUrl { flag, value: shown(), reason: "it has no host".into() });
    }
    check_scheme(flag, &url)?;
    Ok(url)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn every_fixed_cloud_has_valid_https_hosts() {
        for cloud in [Cloud::Global, Cloud::UsGovGccHigh, Cloud::UsGovDod, Cloud::China] {
            for url in [cloud.login(), cloud.graph(), cloud.exo()] {
                assert_eq!(url.scheme(), "https", "{cloud:?}");
            }
        }
        assert_eq!(Cloud::UsGovDod.graph().host_str(), Some("dod-graph.microsoft.us"));
        assert_eq!(Cloud::China.exo().host_str(), Some("partner.outlook.cn"));
        assert_eq!(Cloud::UsGovGccHigh.login().host_str(), Some("login.microsoftonline.us"));
    }

    #[test]
    fn scopes_follow_the_cloud_and_custom_uses_the_worldwide_ones() {
        assert_eq!(Cloud::Global.scope(Resource::Graph), "https://graph.microsoft.com/.default");
        assert_eq!(Cloud::Global.scope(Resource::ExchangeOnline), "https://outlook.office365.com/.default");
        assert_eq!(Cloud::UsGovGccHigh.scope(Resource::Graph), "https://graph.microsoft.us/.default");
        assert_eq!(Cloud::China.scope(Resource::ExchangeOnline), "https://partner.outlook.cn/.default");
        assert_eq!(Cloud::UsGovDod.scope(Resource::ExchangeOnline), "https://outlook-dod.office365.us/.default");
        assert_eq!(Cloud::UsGovDod.exo().host_str(), Some("outlook-dod.office365.us"));
        assert_eq!(Cloud::Global.delegated_scope(Resource::GraphMail), "https://graph.microsoft.com/Mail.Send.Shared");
        assert_eq!(Cloud::Global.scope(Resource::GraphMail), "https://graph.microsoft.com/.default");
        assert_eq!(Cloud::Global.delegated_scope(Resource::Graph), "https://graph.microsoft.com/.default");
        let sim = Cloud::custom("http://127.0.0.1:1", "http://127.0.0.1:2", "http://localhost:3").expect("loopback");
        assert_eq!(sim.scope(Resource::ExchangeOnline), "https://outlook.office365.com/.default");
        assert_eq!(sim.graph().port(), Some(2));
    }

    #[test]
    fn plain_http_is_refused_except_to_loopback() {
        assert!(Cloud::custom("http://[::1]:9", "https://g.example", "https://e.example").is_ok());
        let err = Cloud::custom("https://l.example", "http://graph.example", "https://e.example").expect_err("http");
        assert!(matches!(err, EndpointError::PlainHttp { flag: "--graph-url", .. }));
        assert!(err.to_string().contains("use https"));
        assert!(matches!(
            Cloud::custom("ftp://l.example", "https://g.example", "https://e.example"),
            Err(EndpointError::BadScheme { .. })
        ));
        assert!(matches!(Cloud::custom("nope", "https://g", "https://e"), Err(EndpointError::NotAUrl { .. })));
        let err = Cloud::custom("https://l.example", "https://g.example", "https://sa:s3cret@e.example/x")
            .expect_err("credentials");
        assert!(
            matches!(&err, EndpointError::Credentials { flag: "--exo-url", shown } if shown == "https://e.example/x")
        );
        assert!(!err.to_string().contains("s3cret"), "{err}");
        // Nor does a URL that does not parse echo what may be a password, nor one stored before this check.
        let err = Cloud::custom("https://l.example", "https://us er:s3cret@g", "https://e").expect_err("bad");
        assert!(!err.to_string().contains("s3cret"), "{err}");
        let stored = Url::parse("http://sa:s3cret@graph.example/").expect("url");
        let err = check_scheme("URL", &stored).expect_err("credentials");
        assert!(matches!(err, EndpointError::Credentials { .. }) && !err.to_string().contains("s3cret"), "{err}");
    }

    #[test]
    fn flags_choose_the_cloud() {
        assert_eq!(Cloud::from_flags(None, None, None, None), Ok(Cloud::Global));
        assert_eq!(Cloud::from_flags(Some("gcc-high"), None, None, None), Ok(Cloud::UsGovGccHigh));
        assert!(matches!(Cloud::from_flags(Some("mars"), None, None, None), Err(EndpointError::UnknownCloud(_))));
        let err = Cloud::from_flags(None, Some("https://l.example"), None, None).expect_err("incomplete");
        assert!(err.to_string().contains("--graph-url, --exo-url"), "{err}");
    }

    #[test]
    fn new_flags_are_checked_before_they_are_stored() {
        let dir = tempfile::tempdir().expect("temp");
        let pem = dir.path().join("ca.pem");
        std::fs::write(&pem, "-----BEGIN CERTIFICATE-----\nMIIB\n-----END CERTIFICATE-----\n").expect("write");
        let s = ConnectionSettings::from_flags(
            None,
            Some("http://127.0.0.1:1"),
            Some("http://127.0.0.1:2"),
            Some("http://127.0.0.1:3"),
            Some(&pem),
            Some("0F7A1B7E-1111-2222-3333-444455556666"),
        )
        .expect("valid");
        assert_eq!(s.client_id.as_deref(), Some("0f7a1b7e-1111-2222-3333-444455556666"));
        assert!(s.ca_cert.expect("ca").is_absolute());
        let bad_id = ConnectionSettings::from_flags(Some("global"), None, None, None, None, Some("my-app"));
        assert!(matches!(bad_id, Err(EndpointError::BadClientId(_))));
        std::fs::write(&pem, "not a certificate").expect("write");
        let bad_ca = ConnectionSettings::from_flags(None, None, None, None, Some(&pem), None);
        assert!(matches!(bad_ca, Err(EndpointError::CaCert { .. })));
        let missing = ConnectionSettings::from_flags(None, None, None, None, Some(&dir.path().join("nope.pem")), None);
        assert!(missing.expect_err("missing").to_string().contains("nope.pem"));
    }
}
