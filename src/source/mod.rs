//! The on-premises side, checked the way the Microsoft 365 migration service will reach it: Autodiscover, the
//! TLS certificate, Outlook Anywhere (RPC over HTTP) and EWS. Each gives a typed report of what was asked and
//! what answered: facts only; the verdicts and the fixes are stage 2's, in `plan::source`.
//!
//! [`SourceTarget`] holds how to reach the server: the email domain, the DNS servers to resolve its names with
//! (none: the system's), an HTTPS port override (the simulator cannot bind 443), extra trusted CA certificates
//! and a timeout.

pub mod autodiscover;
pub mod certificate;
pub mod ews;
#[cfg(test)]
mod fuzz;
mod net;
pub mod outlook_anywhere;
pub mod version;

use std::fmt;
use std::net::SocketAddr;
use std::path::Path;
use std::time::Duration;

use rustls::pki_types::CertificateDer;
use rustls::pki_types::pem::PemObject;

pub use autodiscover::{AutodiscoverReport, autodiscover};
pub use certificate::{CertificateReport, certificate};
pub use ews::{EwsReport, ews};
pub use net::{AuthScheme, TLS_FAILED};
pub use outlook_anywhere::{OutlookAnywhereReport, outlook_anywhere};

/// Bad settings for reaching the source server. Failures of the server itself are not errors: they are the
/// findings of the checks, in their reports.
#[derive(Debug, thiserror::Error)]
pub enum SourceError {
    #[error("'{input}' is not a usable email domain ({reason}); give the domain only, such as contoso.com")]
    InvalidDomain { input: String, reason: String },
    #[error("'{input}' is not a usable host name ({reason}); give a name such as mail.contoso.com")]
    InvalidHost { input: String, reason: String },
    #[error(
        "'{input}' is not an email address; give the address of a mailbox on the source, such as admin@contoso.com"
    )]
    InvalidEmail { input: String },
    #[error(
        "the extra CA certificate {origin} could not be read: {reason}; give the CA certificate in PEM format \
         (a file that starts with -----BEGIN CERTIFICATE-----)"
    )]
    InvalidCaCertificate { origin: String, reason: String },
    #[error(
        "'{input}' is not a usable URL ({reason}); give an https:// URL such as https://mail.contoso.com/EWS/Exchange.asmx"
    )]
    InvalidUrl { input: String, reason: String },
    #[error("the DNS servers given for the source could not be used: {0}")]
    Dns(#[from] crate::dns::DnsError),
    #[error("the HTTPS client could not be set up: {0}; check the extra CA certificates given")]
    HttpClient(String),
}

/// How to reach the source Exchange server.
#[derive(Debug, Clone)]
pub struct SourceTarget {
    domain: String,
    dns_servers: Vec<SocketAddr>,
    https_port: Option<u16>,
    http_port: Option<u16>,
    extra_roots: Vec<CertificateDer<'static>>,
    timeout: Duration,
}

impl SourceTarget {
    /// A target for the email domain `domain` (contoso.com), resolved by the system's resolver, on the standard
    /// ports, trusting the system's CA certificates.
    pub fn new(domain: &str) -> Result<Self, SourceError> {
        let domain = crate::dns::fqdn(domain)
            .map_err(|e| SourceError::InvalidDomain { input: domain.to_owned(), reason: reason_of(&e) })?;
        let domain = crate::dns::normalize_host(&domain);
        if !domain.contains('.') {
            return Err(SourceError::InvalidDomain { input: domain, reason: "it has a single label".to_owned() });
        }
        Ok(Self {
            domain,
            dns_servers: Vec::new(),
            https_port: None,
            http_port: None,
            extra_roots: Vec::new(),
            timeout: Duration::from_secs(20),
        })
    }

    /// Resolve the source's host names with these DNS servers instead of the system's.
    pub fn with_dns_servers(mut self, servers: Vec<SocketAddr>) -> Self {
        self.dns_servers = servers;
        self
    }

    /// Connect to this port wherever the standard HTTPS port 443 would be used (explicitly or implicitly).
    pub fn with_https_port(mut self, port: u16) -> Self {
        self.https_port = Some(port);
        self
    }

    /// Connect to this port for the plain-HTTP redirect step of Autodiscover instead of port 80.
    pub fn with_http_port(mut self, port: u16) -> Self {
        self.http_port = Some(port);
        self
    }

    pub fn with_timeout(mut self, timeout: Duration) -> Self {
        self.timeout = timeout;
        self
    }

    /// Also trust the CA certificates in this PEM text (one or more certificates).
    pub fn with_extra_ca_pem(mut self, pem: &str, origin: &str) -> Result<Self, SourceError> {
        let invalid = |reason: String| SourceError::InvalidCaCertificate { origin: origin.to_owned(), reason };
        let certs = CertificateDer::pem_slice_iter(pem.as_bytes())
            .collect::<Result<Vec<_>, _>>()
            .map_err(|e| invalid(e.to_string()))?;
        if certs.is_empty() {
            return Err(invalid("it holds no certificate".to_owned()));
        }
        for cert in &certs {
            x509_parser::parse_x509_certificate(cert.as_ref())
                .map_err(|e| invalid(format!("a certificate in it does not parse: {e}")))?;
        }
        self.extra_roots.extend(certs);
        Ok(self)
    }

    /// Also trust the CA certificates in this PEM file.
    pub fn with_extra_ca_file(self, path: &Path) -> Result<Self, SourceError> {
        let origin = path.display().to_string();
        let pem = crate::input_file::read_ca_file(path)
            .map_err(|e| SourceError::InvalidCaCertificate { origin: origin.clone(), reason: e.reason() })?;
        self.with_extra_ca_pem(&String::from_utf8_lossy(&pem), &origin)
    }

    pub fn domain(&self) -> &str {
        &self.domain
    }

    /// The standard Autodiscover host name of the domain.
    pub fn autodiscover_host(&self) -> String {
        format!("autodiscover.{}", self.domain)
    }

    pub fn dns_servers(&self) -> &[SocketAddr] {
        &self.dns_servers
    }

    pub fn timeout(&self) -> Duration {
        self.timeout
    }

    pub(crate) fn extra_roots(&self) -> &[CertificateDer<'static>] {
        &self.extra_roots
    }

    /// The port to use for an https URL whose port is `explicit` (None when the URL gives none).
    pub(crate) fn https_port_for(&self, explicit: Option<u16>) -> u16 {
        match explicit {
            None | Some(443) => self.https_port.unwrap_or(443),
            Some(port) => port,
        }
    }

    pub(crate) fn http_port(&self) -> u16 {
        self.http_port.unwrap_or(80)
    }

    /// `https://host[:port]/path`, with the port override applied.
    pub(crate) fn https_url(&self, host: &str, path: &str) -> String {
        match self.https_port_for(None) {
            443 => format!("https://{host}{path}"),
            port => format!("https://{host}:{port}{path}"),
        }
    }
}

/// The source administrator's sign-in for Basic authentication. The password is borrowed from the caller (who
/// keeps it in the keyring) for the duration of a check; it is never stored, logged or printed.
#[derive(Clone, Copy)]
pub struct Credentials<'a> {
    pub user: &'a str,
    password: &'a str,
}

impl<'a> Credentials<'a> {
    pub fn new(user: &'a str, password: &'a str) -> Self {
        Self { user, password }
    }

    pub(crate) fn password(&self) -> &'a str {
        self.password
    }
}

impl fmt::Debug for Credentials<'_> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("Credentials").field("user", &self.user).field("password", &"***").finish()
    }
}

/// Why one of the later server checks had nothing to run against.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum NotRun {
    /// No Outlook Anywhere host is known: Autodiscover gave no EXPR settings and none was given by hand.
    NoOutlookAnywhereHost,
    /// Autodiscover gave an EWS URL that cannot be used; the reason.
    UnusableEwsUrl(String),
}

/// The four server reports of stage 2, each fed by the previous.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct HealthReports {
    /// The email domain the target was made for.
    pub domain: String,
    pub autodiscover: AutodiscoverReport,
    /// The certificates of the Autodiscover name and, when known, the Outlook Anywhere host.
    pub certificate: CertificateReport,
    pub outlook_anywhere: Result<OutlookAnywhereReport, NotRun>,
    pub ews: Result<EwsReport, NotRun>,
}

/// Stage 2's four server checks in one go, each fed by the previous: Autodiscover for `mailbox` (a mailbox on
/// the source), then the certificate of the Autodiscover and Outlook Anywhere names, Outlook Anywhere and EWS.
/// `manual_host` is the Outlook Anywhere host the engineer gave (stage 2's manual settings); without it the host
/// comes from Autodiscover's EXPR settings. A check that has nothing to run against says why, as [`NotRun`].
pub async fn health_checks(
    target: &SourceTarget,
    mailbox: &str,
    credentials: Option<Credentials<'_>>,
    manual_host: Option<&str>,
) -> Result<HealthReports, SourceError> {
    let manual_host = manual_host.map(valid_host).transpose()?;
    let ad = autodiscover(target, mailbox, credentials).await?;
    let oa_host = manual_host.or_else(|| ad.outlook_anywhere_host().map(str::to_owned));
    let autodiscover_host = target.autodiscover_host();
    let mut names = vec![autodiscover_host.as_str()];
    if let Some(host) = &oa_host {
        names.push(host);
    }
    let cert = certificate(target, &names).await?;
    let oa = match &oa_host {
        Some(host) => Ok(outlook_anywhere(target, host).await?),
        None => Err(NotRun::NoOutlookAnywhereHost),
    };
    let ews_url = match (ad.settings().and_then(|s| s.ews_url()), &oa_host) {
        (Some(url), _) => Some(url.to_owned()),
        (None, Some(host)) => Some(ews::ews_url(target, host)?),
        (None, None) => None,
    };
    let ews = match ews_url {
        // A URL from the server that is not usable is a finding about the server, not bad input.
        Some(url) => ews(target, &url, credentials).await.map_err(|e| NotRun::UnusableEwsUrl(e.to_string())),
        None => Err(NotRun::NoOutlookAnywhereHost),
    };
    Ok(HealthReports {
        domain: target.domain().to_owned(),
        autodiscover: ad,
        certificate: cert,
        outlook_anywhere: oa,
        ews,
    })
}

/// The bare reason of a DNS name error, for embedding in another message.
fn reason_of(e: &crate::dns::DnsError) -> String {
    match e {
        crate::dns::DnsError::InvalidName { reason, .. } => reason.clone(),
        other => other.to_string(),
    }
}

/// Checks that `host` is a plain DNS host name and returns it in lower case.
pub(crate) fn valid_host(host: &str) -> Result<String, SourceError> {
    crate::dns::fqdn(host)
        .map(|h| crate::dns::normalize_host(&h))
        .map_err(|e| SourceError::InvalidHost { input: host.to_owned(), reason: reason_of(&e) })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn target_validates_the_domain() {
        let t = SourceTarget::new("Contoso.com.").unwrap();
        assert_eq!(t.domain(), "contoso.com");
        assert_eq!(t.autodiscover_host(), "autodiscover.contoso.com");
        assert!(matches!(SourceTarget::new("contoso"), Err(SourceError::InvalidDomain { .. })));
        let err = SourceTarget::new("http://contoso.com").unwrap_err();
        assert!(err.to_string().contains("give the domain only"), "{err}");
    }

    #[test]
    fn port_override_replaces_443_only() {
        let t = SourceTarget::new("contoso.com").unwrap().with_https_port(8443);
        assert_eq!(t.https_port_for(None), 8443);
        assert_eq!(t.https_port_for(Some(443)), 8443);
        assert_eq!(t.https_port_for(Some(444)), 444);
        assert_eq!(
            t.https_url("mail.contoso.com", "/EWS/Exchange.asmx"),
            "https://mail.contoso.com:8443/EWS/Exchange.asmx"
        );
        let plain = SourceTarget::new("contoso.com").unwrap();
        assert_eq!(plain.https_url("mail.contoso.com", "/x"), "https://mail.contoso.com/x");
    }

    #[test]
    fn bad_ca_pem_is_a_typed_error() {
        let err = SourceTarget::new("contoso.com").unwrap().with_extra_ca_pem("not a cert", "sim-ca.pem").unwrap_err();
        assert!(matches!(err, SourceError::InvalidCaCertificate { .. }));
        assert!(err.to_string().contains("sim-ca.pem"), "{err}");
        assert!(err.to_string().contains("BEGIN CERTIFICATE"), "{err}");
    }

    #[test]
    fn credentials_debug_hides_the_password() {
        let c = Credentials::new("CONTOSO\\migadmin", "Pa55w.rd-secret");
        let shown = format!("{c:?}");
        assert!(shown.contains("migadmin"));
        assert!(!shown.contains("Pa55w.rd-secret"));
    }
}
