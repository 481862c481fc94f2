//! TLS certificate inspection of the source's published names: connect with rustls, capture the chain the server
//! sends, judge trust against the system's roots plus the caller's extra CAs (separately from expiry, so both are
//! reported), days to expiry, the SANs against every name the migration service will use (wildcards cover one
//! label only), key size and signature algorithm.

use std::sync::{Arc, Mutex};

use chrono::{DateTime, Utc};
use rustls::client::WebPkiServerVerifier;
use rustls::client::danger::{HandshakeSignatureValid, ServerCertVerified, ServerCertVerifier};
use rustls::pki_types::{CertificateDer, ServerName, UnixTime};
use rustls::{CertificateError, DigitallySignedStruct, RootCertStore, SignatureScheme};
use tokio::net::TcpStream;
use x509_parser::prelude::{FromDer, GeneralName, X509Certificate};
use x509_parser::public_key::PublicKey;

use super::net;
use super::{SourceError, SourceTarget, valid_host};
use crate::plan::{CheckResult, Outcome};

/// Fewer days than this before expiry gives a warning: a migration runs for days or weeks.
pub const EXPIRY_WARN_DAYS: i64 = 30;

/// What one certificate says about itself.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct CertInfo {
    pub subject: String,
    pub issuer: String,
    pub not_before: DateTime<Utc>,
    pub not_after: DateTime<Utc>,
    pub dns_names: Vec<String>,
    pub key_algorithm: String,
    pub key_bits: usize,
    pub signature: SignatureAlgorithm,
    pub self_signed: bool,
}

/// The certificate's signature algorithm, as far as the check cares.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum SignatureAlgorithm {
    Md5Rsa,
    Sha1Rsa,
    Sha1Ecdsa,
    Sha256Rsa,
    Sha384Rsa,
    Sha512Rsa,
    RsaPss,
    Sha256Ecdsa,
    Sha384Ecdsa,
    Sha512Ecdsa,
    Ed25519,
    Unknown(String),
}

impl SignatureAlgorithm {
    fn from_oid(oid: &str) -> Self {
        match oid {
            "1.2.840.113549.1.1.4" => SignatureAlgorithm::Md5Rsa,
            "1.2.840.113549.1.1.5" => SignatureAlgorithm::Sha1Rsa,
            "1.2.840.10045.4.1" => SignatureAlgorithm::Sha1Ecdsa,
            "1.2.840.113549.1.1.11" => SignatureAlgorithm::Sha256Rsa,
            "1.2.840.113549.1.1.12" => SignatureAlgorithm::Sha384Rsa,
            "1.2.840.113549.1.1.13" => SignatureAlgorithm::Sha512Rsa,
            "1.2.840.113549.1.1.10" => SignatureAlgorithm::RsaPss,
            "1.2.840.10045.4.3.2" => SignatureAlgorithm::Sha256Ecdsa,
            "1.2.840.10045.4.3.3" => SignatureAlgorithm::Sha384Ecdsa,
            "1.2.840.10045.4.3.4" => SignatureAlgorithm::Sha512Ecdsa,
            "1.3.101.112" => SignatureAlgorithm::Ed25519,
            other => SignatureAlgorithm::Unknown(other.to_owned()),
        }
    }

    pub fn is_sha1(&self) -> bool {
        matches!(self, SignatureAlgorithm::Sha1Rsa | SignatureAlgorithm::Sha1Ecdsa)
    }

    pub fn name(&self) -> String {
        match self {
            SignatureAlgorithm::Md5Rsa => "MD5 with RSA".to_owned(),
            SignatureAlgorithm::Sha1Rsa => "SHA-1 with RSA".to_owned(),
            SignatureAlgorithm::Sha1Ecdsa => "ECDSA with SHA-1".to_owned(),
            SignatureAlgorithm::Sha256Rsa => "SHA-256 with RSA".to_owned(),
            SignatureAlgorithm::Sha384Rsa => "SHA-384 with RSA".to_owned(),
            SignatureAlgorithm::Sha512Rsa => "SHA-512 with RSA".to_owned(),
            SignatureAlgorithm::RsaPss => "RSA-PSS".to_owned(),
            SignatureAlgorithm::Sha256Ecdsa => "ECDSA with SHA-256".to_owned(),
            SignatureAlgorithm::Sha384Ecdsa => "ECDSA with SHA-384".to_owned(),
            SignatureAlgorithm::Sha512Ecdsa => "ECDSA with SHA-512".to_owned(),
            SignatureAlgorithm::Ed25519 => "Ed25519".to_owned(),
            SignatureAlgorithm::Unknown(oid) => format!("algorithm {oid}"),
        }
    }
}

impl CertInfo {
    /// Reads a DER certificate. Errors name what did not parse.
    pub fn from_der(der: &[u8]) -> Result<Self, String> {
        let (_, cert) = X509Certificate::from_der(der).map_err(|e| format!("the certificate does not parse: {e}"))?;
        let time = |t: i64| DateTime::<Utc>::from_timestamp(t, 0).unwrap_or(DateTime::<Utc>::MIN_UTC);
        let dns_names = match cert.subject_alternative_name() {
            Ok(Some(san)) => san
                .value
                .general_names
                .iter()
                .filter_map(|n| match n {
                    GeneralName::DNSName(name) => Some(name.to_ascii_lowercase()),
                    _ => None,
                })
                .collect(),
            _ => Vec::new(),
        };
        let (key_algorithm, key_bits) = match cert.public_key().parsed() {
            Ok(PublicKey::RSA(rsa)) => ("RSA".to_owned(), rsa.key_size()),
            Ok(PublicKey::EC(ec)) => ("EC".to_owned(), ec.key_size()),
            Ok(PublicKey::DSA(y)) => ("DSA".to_owned(), y.len() * 8),
            Ok(other) => ("other".to_owned(), other.key_size()),
            Err(_) => (cert.public_key().algorithm.algorithm.to_id_string(), 0),
        };
        Ok(Self {
            subject: cert.subject().to_string(),
            issuer: cert.issuer().to_string(),
            not_before: time(cert.validity().not_before.timestamp()),
            not_after: time(cert.validity().not_after.timestamp()),
            dns_names,
            key_algorithm,
            key_bits,
            signature: SignatureAlgorithm::from_oid(&cert.signature_algorithm.algorithm.to_id_string()),
            self_signed: cert.subject().as_raw() == cert.issuer().as_raw(),
        })
    }

    /// Whether a SAN covers `host`: exactly, or by a wildcard standing for exactly one leftmost label.
    pub fn covers(&self, host: &str) -> bool {
        self.dns_names.iter().any(|pattern| name_matches(pattern, host))
    }

    /// Whole days until expiry (negative once expired).
    pub fn days_left(&self, now: DateTime<Utc>) -> i64 {
        (self.not_after - now).num_days()
    }
}

/// `*.contoso.com` covers `mail.contoso.com`, not `contoso.com` nor `a.mail.contoso.com`.
pub fn name_matches(pattern: &str, host: &str) -> bool {
    let pattern = pattern.trim_end_matches('.').to_ascii_lowercase();
    let host = host.trim_end_matches('.').to_ascii_lowercase();
    match pattern.strip_prefix("*.") {
        Some(suffix) => match host.split_once('.') {
            Some((label, rest)) => !label.is_empty() && rest == suffix && suffix.contains('.'),
            None => false,
        },
        None => pattern == host,
    }
}

/// Whether the chain leads to a trusted root, judged apart from the validity dates.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Trust {
    Trusted,
    Untrusted(String),
}

/// What the server at one name presented.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Presented {
    /// The leaf first, then the intermediates as sent.
    pub chain: Vec<CertInfo>,
    pub trust: Trust,
    pub tls_version: String,
}

/// One name's inspection.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct HostCertificate {
    pub host: String,
    pub port: u16,
    pub result: Result<Presented, String>,
}

/// The certificates presented at each required name.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct CertificateReport {
    pub required_names: Vec<String>,
    pub hosts: Vec<HostCertificate>,
    pub at: DateTime<Utc>,
}

/// Connects to each of `names` (the Autodiscover and Outlook Anywhere host names) on the target's HTTPS port
/// and inspects what it presents. Every certificate must cover all of `names`.
pub async fn certificate(target: &SourceTarget, names: &[&str]) -> Result<CertificateReport, SourceError> {
    let mut required = Vec::new();
    for name in names {
        let host = valid_host(name)?;
        if !required.contains(&host) {
            required.push(host);
        }
    }
    let verifier = base_verifier(target)?;
    let port = target.https_port_for(None);
    let mut hosts = Vec::new();
    for host in &required {
        let result = inspect(target, &verifier, host, port).await;
        hosts.push(HostCertificate { host: host.clone(), port, result });
    }
    Ok(CertificateReport { required_names: required, hosts, at: Utc::now() })
}

fn provider() -> Arc<rustls::crypto::CryptoProvider> {
    Arc::new(rustls::crypto::aws_lc_rs::default_provider())
}

/// The system's roots (the bundled Mozilla roots when the system has none) plus the target's extra CAs.
fn base_verifier(target: &SourceTarget) -> Result<Arc<WebPkiServerVerifier>, SourceError> {
    let mut roots = RootCertStore::empty();
    let native = rustls_native_certs::load_native_certs();
    let (added, _) = roots.add_parsable_certificates(native.certs);
    if added == 0 {
        roots.add_parsable_certificates(webpki_root_certs::TLS_SERVER_ROOT_CERTS.iter().cloned());
    }
    for extra in target.extra_roots() {
        roots.add(extra.clone()).map_err(|e| SourceError::InvalidCaCertificate {
            origin: "given to the source target".to_owned(),
            reason: e.to_string(),
        })?;
    }
    WebPkiServerVerifier::builder_with_provider(Arc::new(roots), provider())
        .build()
        .map_err(|e| SourceError::HttpClient(e.to_string()))
}

/// A verifier that records the chain and the real verdict, then lets the handshake finish so that the
/// certificate can be reported on even when it is bad. Nothing is sent over such a connection.
#[derive(Debug)]
struct Recorder {
    inner: Arc<WebPkiServerVerifier>,
    seen: Mutex<Option<SeenSlot>>,
}

/// What the verifier saw during the handshake. The verdict at the real time is kept for debugging output; the
/// report uses the trust judged apart from the dates and computes the dates itself.
#[derive(Debug)]
struct SeenSlot {
    chain: Vec<CertificateDer<'static>>,
    verdict: Result<(), rustls::Error>,
    trust: Trust,
}

impl ServerCertVerifier for Recorder {
    fn verify_server_cert(
        &self,
        end_entity: &CertificateDer<'_>,
        intermediates: &[CertificateDer<'_>],
        server_name: &ServerName<'_>,
        ocsp_response: &[u8],
        now: UnixTime,
    ) -> Result<ServerCertVerified, rustls::Error> {
        let verdict =
            self.inner.verify_server_cert(end_entity, intermediates, server_name, ocsp_response, now).map(|_| ());
        let trust = match &verdict {
            Ok(())
            | Err(rustls::Error::InvalidCertificate(CertificateError::NotValidForName))
            | Err(rustls::Error::InvalidCertificate(CertificateError::NotValidForNameContext { .. })) => Trust::Trusted,
            Err(rustls::Error::InvalidCertificate(
                CertificateError::Expired
                | CertificateError::ExpiredContext { .. }
                | CertificateError::NotValidYet
                | CertificateError::NotValidYetContext { .. },
            )) => {
                // Judge the chain at a moment inside the leaf's validity, so that an expired certificate from a
                // trusted CA is reported as expired, not as untrusted.
                let inside = CertInfo::from_der(end_entity.as_ref())
                    .ok()
                    .map(|c| c.not_before + (c.not_after - c.not_before) / 2)
                    .and_then(|t| u64::try_from(t.timestamp()).ok())
                    .map(|secs| UnixTime::since_unix_epoch(std::time::Duration::from_secs(secs)));
                match inside {
                    Some(t) => {
                        match self.inner.verify_server_cert(end_entity, intermediates, server_name, ocsp_response, t) {
                            Ok(_)
                            | Err(rustls::Error::InvalidCertificate(CertificateError::NotValidForName))
                            | Err(rustls::Error::InvalidCertificate(CertificateError::NotValidForNameContext {
                                ..
                            })) => Trust::Trusted,
                            Err(e) => Trust::Untrusted(net::describe_tls_error(&e)),
                        }
                    }
                    None => Trust::Untrusted("the certificate's dates do not parse".to_owned()),
                }
            }
            Err(e) => Trust::Untrusted(net::describe_tls_error(e)),
        };
        let mut chain = vec![end_entity.clone().into_owned()];
        chain.extend(intermediates.iter().map(|c| c.clone().into_owned()));
        if let Ok(mut slot) = self.seen.lock() {
            *slot = Some(SeenSlot { chain, verdict, trust });
        }
        Ok(ServerCertVerified::assertion())
    }

    fn verify_tls12_signature(
        &self,
        message: &[u8],
        cert: &CertificateDer<'_>,
        dss: &DigitallySignedStruct,
    ) -> Result<HandshakeSignatureValid, rustls::Error> {
        self.inner.verify_tls12_signature(message, cert, dss)
    }

    fn verify_tls13_signature(
        &self,
        message: &[u8],
        cert: &CertificateDer<'_>,
        dss: &DigitallySignedStruct,
    ) -> Result<HandshakeSignatureValid, rustls::Error> {
        self.inner.verify_tls13_signature(message, cert, dss)
    }

    fn supported_verify_schemes(&self) -> Vec<SignatureScheme> {
        self.inner.supported_verify_schemes()
    }
}

async fn inspect(
    target: &SourceTarget,
    verifier: &Arc<WebPkiServerVerifier>,
    host: &str,
    port: u16,
) -> Result<Presented, String> {
    let ips = net::lookup_host(target, host).await?;
    let Some(ip) = ips.first().copied() else {
        return Err(format!("{host} has no address"));
    };
    inspect_at(verifier, host, ip, port, target.timeout()).await
}

/// Connects to `ip`:`port` asking for `host` (SNI) and inspects what the server presents.
async fn inspect_at(
    verifier: &Arc<WebPkiServerVerifier>,
    host: &str,
    ip: std::net::IpAddr,
    port: u16,
    timeout: std::time::Duration,
) -> Result<Presented, String> {
    let recorder = Arc::new(Recorder { inner: verifier.clone(), seen: Mutex::new(None) });
    let config = rustls::ClientConfig::builder_with_provider(provider())
        .with_safe_default_protocol_versions()
        .map_err(|e| e.to_string())?
        .dangerous()
        .with_custom_certificate_verifier(recorder.clone())
        .with_no_client_auth();
    let connector = tokio_rustls::TlsConnector::from(Arc::new(config));
    let server_name = ServerName::try_from(host.to_owned()).map_err(|e| format!("{host}: {e}"))?;
    let tcp = tokio::time::timeout(timeout, TcpStream::connect((ip, port)))
        .await
        .map_err(|_| format!("could not connect to {host} ({ip}) port {port} within {} s", timeout.as_secs()))?
        .map_err(|e| format!("could not connect to {host} ({ip}) port {port}: {e}"))?;
    let handshake = tokio::time::timeout(timeout, connector.connect(server_name, tcp)).await;
    let tls_version = match &handshake {
        Ok(Ok(stream)) => stream.get_ref().1.protocol_version().map(|v| format!("{v:?}")).unwrap_or_default(),
        _ => String::new(),
    };
    let seen = recorder.seen.lock().ok().and_then(|mut s| s.take());
    let Some(SeenSlot { chain, verdict, trust }) = seen else {
        return Err(match handshake {
            Err(_) => format!("the TLS handshake with {host} port {port} did not finish in time"),
            Ok(Err(e)) => format!("the TLS handshake with {host} port {port} failed before a certificate: {e}"),
            Ok(Ok(_)) => format!("{host} port {port} presented no certificate"),
        });
    };
    tracing::debug!(host, port, verdict = ?verdict, "certificate verified");
    let chain = chain.iter().map(|der| CertInfo::from_der(der.as_ref())).collect::<Result<Vec<_>, _>>()?;
    Ok(Presented { chain, trust, tls_version })
}

impl CertificateReport {
    /// The check of stage 2 ("TLS certificate valid, trusted, not near expiry, SANs cover the names").
    pub fn to_check(&self) -> CheckResult {
        let mut worst = Outcome::Pass;
        let mut lines = Vec::new();
        let mut fixes: Vec<String> = Vec::new();
        let names = self.required_names.join(", ");
        let raise = |o: Outcome, worst: &mut Outcome| {
            if rank(o) > rank(*worst) {
                *worst = o;
            }
        };
        for h in &self.hosts {
            match &h.result {
                Err(e) => {
                    raise(Outcome::Fail, &mut worst);
                    lines.push(format!("{}:{}: {e}", h.host, h.port));
                    if e.contains("handshake") {
                        fixes.push(
                            "offer TLS 1.2 on the Exchange server (Microsoft 365 refuses TLS 1.0 and 1.1); see \
                             Microsoft's TLS 1.2 guidance for Exchange Server"
                                .to_owned(),
                        );
                    } else {
                        fixes.push(format!("make {} reachable from the internet on port 443", h.host));
                    }
                }
                Ok(p) => {
                    let Some(leaf) = p.chain.first() else { continue };
                    lines.push(format!(
                        "{}:{} ({}): {} issued by {}, valid {} to {}, key {} {} bits, signed {}",
                        h.host,
                        h.port,
                        if p.tls_version.is_empty() { "TLS" } else { p.tls_version.as_str() },
                        leaf.subject,
                        leaf.issuer,
                        leaf.not_before.format("%Y-%m-%d"),
                        leaf.not_after.format("%Y-%m-%d"),
                        leaf.key_algorithm,
                        leaf.key_bits,
                        leaf.signature.name()
                    ));
                    lines.push(format!(
                        "  SANs: {}",
                        if leaf.dns_names.is_empty() { "none".to_owned() } else { leaf.dns_names.join(", ") }
                    ));
                    for c in p.chain.iter().skip(1) {
                        lines.push(format!("  chain: {} issued by {}", c.subject, c.issuer));
                    }
                    match &p.trust {
                        Trust::Trusted => lines.push("  trusted: yes".to_owned()),
                        Trust::Untrusted(why) => {
                            raise(Outcome::Fail, &mut worst);
                            let what = if leaf.self_signed { "self-signed" } else { "not trusted" };
                            lines.push(format!("  trusted: no, {what}: {why}"));
                            fixes.push(format!(
                                "the migration service needs a certificate from a trusted public CA whose SANs \
                                 include {names}; install one on the Exchange server (Import-ExchangeCertificate, \
                                 then Enable-ExchangeCertificate -Services IIS)"
                            ));
                        }
                    }
                    let days = leaf.days_left(self.at);
                    if leaf.not_after < self.at {
                        raise(Outcome::Fail, &mut worst);
                        lines.push(format!("  expired {} days ago", -days));
                        fixes.push(format!(
                            "renew the certificate (expired on {}) with SANs {names}",
                            leaf.not_after.format("%Y-%m-%d")
                        ));
                    } else if leaf.not_before > self.at {
                        raise(Outcome::Fail, &mut worst);
                        lines.push(format!("  not valid before {}", leaf.not_before.format("%Y-%m-%d %H:%M UTC")));
                        fixes.push("check the server's clock and the certificate's start date".to_owned());
                    } else if days < EXPIRY_WARN_DAYS {
                        raise(Outcome::Warn, &mut worst);
                        lines.push(format!("  expires in {days} days"));
                        fixes.push(format!(
                            "renew the certificate before {} so that it cannot expire during the migration",
                            leaf.not_after.format("%Y-%m-%d")
                        ));
                    } else {
                        lines.push(format!("  expires in {days} days"));
                    }
                    let missing: Vec<&str> =
                        self.required_names.iter().filter(|n| !leaf.covers(n)).map(String::as_str).collect();
                    if !missing.is_empty() {
                        raise(Outcome::Fail, &mut worst);
                        lines.push(format!("  SANs do not cover: {}", missing.join(", ")));
                        fixes.push(format!(
                            "the migration service needs a certificate from a trusted public CA whose SANs include \
                             {names} (a UCC/SAN certificate); {} is missing",
                            missing.join(", ")
                        ));
                    }
                    let weak_key = match leaf.key_algorithm.as_str() {
                        "RSA" => leaf.key_bits < 2048,
                        "EC" => leaf.key_bits < 256,
                        _ => false,
                    };
                    if weak_key {
                        raise(Outcome::Warn, &mut worst);
                        fixes.push(format!(
                            "the {} key has {} bits: request the renewed certificate with RSA 2048 bits or more",
                            leaf.key_algorithm, leaf.key_bits
                        ));
                    }
                    // The root's own signature does not matter (it is trusted by presence); the others do.
                    for c in p.chain.iter().filter(|c| !c.self_signed || std::ptr::eq(*c, leaf)) {
                        if c.signature == SignatureAlgorithm::Md5Rsa {
                            raise(Outcome::Fail, &mut worst);
                            fixes.push(format!("{} is signed with MD5: replace it", c.subject));
                        } else if c.signature.is_sha1() {
                            raise(Outcome::Warn, &mut worst);
                            fixes.push(format!(
                                "{} is signed with SHA-1, which clients are dropping: reissue it with SHA-256",
                                c.subject
                            ));
                        }
                    }
                }
            }
        }
        // Several names usually present the same certificate: say each fix once.
        let mut seen = std::collections::HashSet::new();
        fixes.retain(|f| seen.insert(f.clone()));
        let headline = match worst {
            Outcome::Pass => format!("The certificate is trusted, in date and covers {names}."),
            Outcome::Warn => format!("The certificate works for {names} but needs attention."),
            _ => format!("The certificate is not usable by the migration service for {names}."),
        };
        let mut text = vec![headline];
        text.extend(lines);
        text.extend(fixes.into_iter().map(|f| format!("Fix: {f}.")));
        CheckResult::new(worst, text.join("\n"), Utc::now())
    }
}

fn rank(o: Outcome) -> u8 {
    match o {
        Outcome::Pass => 0,
        Outcome::NotRun => 1,
        Outcome::Warn => 2,
        Outcome::Fail => 3,
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn wildcards_cover_one_label_only() {
        assert!(name_matches("*.contoso.com", "mail.contoso.com"));
        assert!(name_matches("*.Contoso.com", "AUTODISCOVER.contoso.com."));
        assert!(!name_matches("*.contoso.com", "contoso.com"));
        assert!(!name_matches("*.contoso.com", "a.mail.contoso.com"));
        assert!(!name_matches("*.com", "contoso.com"), "a wildcard over a bare TLD is not honoured");
        assert!(!name_matches("mail*.contoso.com", "mail1.contoso.com"), "partial-label wildcards are not honoured");
        assert!(name_matches("mail.contoso.com", "mail.contoso.com"));
        assert!(!name_matches("mail.contoso.com", "webmail.contoso.com"));
    }

    #[test]
    fn signature_oids() {
        assert!(SignatureAlgorithm::from_oid("1.2.840.113549.1.1.5").is_sha1());
        assert!(!SignatureAlgorithm::from_oid("1.2.840.113549.1.1.11").is_sha1());
        assert_eq!(SignatureAlgorithm::from_oid("1.2.3"), SignatureAlgorithm::Unknown("1.2.3".into()));
    }

    fn info(days_from_now: i64, names: &[&str], self_signed: bool, signature: SignatureAlgorithm) -> CertInfo {
        let now = Utc::now();
        CertInfo {
            subject: "CN=mail.contoso.com".into(),
            issuer: if self_signed { "CN=mail.contoso.com".into() } else { "CN=Public CA".into() },
            not_before: now - chrono::Duration::days(300),
            not_after: now + chrono::Duration::days(days_from_now),
            dns_names: names.iter().map(|s| s.to_string()).collect(),
            key_algorithm: "RSA".into(),
            key_bits: 2048,
            signature,
            self_signed,
        }
    }

    fn report(leaf: CertInfo, trust: Trust) -> CertificateReport {
        CertificateReport {
            required_names: vec!["autodiscover.contoso.com".into(), "mail.contoso.com".into()],
            hosts: vec![HostCertificate {
                host: "mail.contoso.com".into(),
                port: 443,
                result: Ok(Presented { chain: vec![leaf], trust, tls_version: "TLSv1_3".into() }),
            }],
            at: Utc::now(),
        }
    }

    #[test]
    fn verdicts() {
        let both = ["autodiscover.contoso.com", "mail.contoso.com"];
        let good = report(info(200, &both, false, SignatureAlgorithm::Sha256Rsa), Trust::Trusted).to_check();
        assert_eq!(good.outcome, Outcome::Pass, "{}", good.evidence);
        let soon = report(info(12, &both, false, SignatureAlgorithm::Sha256Rsa), Trust::Trusted).to_check();
        assert_eq!(soon.outcome, Outcome::Warn, "{}", soon.evidence);
        assert!(soon.evidence.contains("expires in 1"), "{}", soon.evidence);
        let expired = report(info(-3, &both, false, SignatureAlgorithm::Sha256Rsa), Trust::Trusted).to_check();
        assert_eq!(expired.outcome, Outcome::Fail);
        assert!(expired.evidence.contains("expired"), "{}", expired.evidence);
        let wildcard = report(info(200, &["*.contoso.com"], false, SignatureAlgorithm::Sha256Rsa), Trust::Trusted);
        assert_eq!(wildcard.to_check().outcome, Outcome::Pass);
        let missing =
            report(info(200, &["mail.contoso.com"], false, SignatureAlgorithm::Sha256Rsa), Trust::Trusted).to_check();
        assert_eq!(missing.outcome, Outcome::Fail);
        assert!(missing.evidence.contains("do not cover: autodiscover.contoso.com"), "{}", missing.evidence);
        let mut weak = info(200, &both, false, SignatureAlgorithm::Sha256Rsa);
        weak.key_bits = 1024;
        let weak = report(weak, Trust::Trusted).to_check();
        assert_eq!(weak.outcome, Outcome::Warn, "{}", weak.evidence);
        assert!(weak.evidence.contains("RSA 2048 bits or more"), "{}", weak.evidence);
        let sha1 = report(info(200, &both, false, SignatureAlgorithm::Sha1Rsa), Trust::Trusted).to_check();
        assert_eq!(sha1.outcome, Outcome::Warn);
        assert!(sha1.evidence.contains("SHA-1"), "{}", sha1.evidence);
        let selfsigned =
            report(info(200, &both, true, SignatureAlgorithm::Sha256Rsa), Trust::Untrusted("unknown issuer".into()))
                .to_check();
        assert_eq!(selfsigned.outcome, Outcome::Fail);
        assert!(selfsigned.evidence.contains("self-signed"), "{}", selfsigned.evidence);
        assert!(
            selfsigned.evidence.contains(
                "the migration service needs a certificate from a trusted public CA whose SANs include \
                 autodiscover.contoso.com, mail.contoso.com"
            ),
            "{}",
            selfsigned.evidence
        );
    }

    /// Real TLS on 127.0.0.1: a server presenting a certificate made here, inspected by the real client code.
    mod over_tls {
        use super::super::*;
        use rcgen::{BasicConstraints, CertificateParams, DnType, IsCa, Issuer, KeyPair};
        use rustls::pki_types::PrivateKeyDer;
        use std::net::{IpAddr, Ipv4Addr};

        struct Ca {
            pem: String,
            der: CertificateDer<'static>,
            issuer: Issuer<'static, KeyPair>,
        }

        fn ca() -> Ca {
            let mut params = CertificateParams::new(Vec::<String>::new()).unwrap();
            params.is_ca = IsCa::Ca(BasicConstraints::Unconstrained);
            params.distinguished_name.push(DnType::CommonName, "Contoso Test Root CA");
            let key = KeyPair::generate().unwrap();
            let cert = params.self_signed(&key).unwrap();
            Ca { pem: cert.pem(), der: cert.der().clone(), issuer: Issuer::new(params, key) }
        }

        /// Serves `chain` (leaf first) on a random loopback port; returns the port.
        async fn serve(chain: Vec<CertificateDer<'static>>, key: &KeyPair) -> u16 {
            let key = PrivateKeyDer::Pkcs8(key.serialize_der().into());
            let config = rustls::ServerConfig::builder_with_provider(provider())
                .with_safe_default_protocol_versions()
                .unwrap()
                .with_no_client_auth()
                .with_single_cert(chain, key)
                .unwrap();
            let acceptor = tokio_rustls::TlsAcceptor::from(Arc::new(config));
            let listener = tokio::net::TcpListener::bind((Ipv4Addr::LOCALHOST, 0)).await.unwrap();
            let port = listener.local_addr().unwrap().port();
            tokio::spawn(async move {
                // Bounded: the tests make at most a few connections.
                for _ in 0..4 {
                    let Ok((tcp, _)) = listener.accept().await else { return };
                    let acceptor = acceptor.clone();
                    tokio::spawn(async move {
                        let _ = acceptor.accept(tcp).await;
                    });
                }
            });
            port
        }

        fn leaf(ca: &Ca, names: &[&str], valid_days: (i64, i64)) -> (Vec<CertificateDer<'static>>, KeyPair) {
            let mut params = CertificateParams::new(names.iter().map(|n| n.to_string()).collect::<Vec<_>>()).unwrap();
            params.distinguished_name.push(DnType::CommonName, names.first().copied().unwrap_or("leaf"));
            let now = time::OffsetDateTime::now_utc();
            params.not_before = now + time::Duration::days(valid_days.0);
            params.not_after = now + time::Duration::days(valid_days.1);
            let key = KeyPair::generate().unwrap();
            let cert = params.signed_by(&key, &ca.issuer).unwrap();
            (vec![cert.der().clone(), ca.der.clone()], key)
        }

        async fn check(ca: &Ca, trust_ca: bool, chain: Vec<CertificateDer<'static>>, key: &KeyPair) -> CheckResult {
            let port = serve(chain, key).await;
            let mut target = SourceTarget::new("contoso.com").unwrap();
            if trust_ca {
                target = target.with_extra_ca_pem(&ca.pem, "test CA").unwrap();
            }
            let verifier = base_verifier(&target).unwrap();
            let ip = IpAddr::V4(Ipv4Addr::LOCALHOST);
            let timeout = std::time::Duration::from_secs(5);
            let result = inspect_at(&verifier, "mail.contoso.com", ip, port, timeout).await;
            CertificateReport {
                required_names: vec!["mail.contoso.com".into(), "autodiscover.contoso.com".into()],
                hosts: vec![HostCertificate { host: "mail.contoso.com".into(), port, result }],
                at: Utc::now(),
            }
            .to_check()
        }

        const BOTH: [&str; 2] = ["mail.contoso.com", "autodiscover.contoso.com"];

        #[tokio::test]
        async fn a_good_certificate_passes() {
            let ca = ca();
            let (chain, key) = leaf(&ca, &BOTH, (-10, 365));
            let c = check(&ca, true, chain, &key).await;
            assert_eq!(c.outcome, Outcome::Pass, "{}", c.evidence);
            assert!(c.evidence.contains("trusted: yes"), "{}", c.evidence);
            assert!(c.evidence.contains("chain: CN=Contoso Test Root CA"), "{}", c.evidence);
        }

        #[tokio::test]
        async fn an_untrusted_ca_fails_with_the_fix() {
            let ca = ca();
            let (chain, key) = leaf(&ca, &BOTH, (-10, 365));
            let c = check(&ca, false, chain, &key).await;
            assert_eq!(c.outcome, Outcome::Fail, "{}", c.evidence);
            assert!(c.evidence.contains("trusted: no"), "{}", c.evidence);
            assert!(c.evidence.contains("trusted public CA whose SANs include"), "{}", c.evidence);
        }

        #[tokio::test]
        async fn an_expired_certificate_from_a_trusted_ca_is_expired_not_untrusted() {
            let ca = ca();
            let (chain, key) = leaf(&ca, &BOTH, (-400, -5));
            let c = check(&ca, true, chain, &key).await;
            assert_eq!(c.outcome, Outcome::Fail, "{}", c.evidence);
            assert!(c.evidence.contains("trusted: yes"), "{}", c.evidence);
            assert!(
                c.evidence.contains("expired 5 days ago") || c.evidence.contains("expired 4 days ago"),
                "{}",
                c.evidence
            );
        }

        #[tokio::test]
        async fn a_missing_san_fails_and_near_expiry_warns() {
            let ca = ca();
            let (chain, key) = leaf(&ca, &["mail.contoso.com"], (-10, 365));
            let c = check(&ca, true, chain, &key).await;
            assert_eq!(c.outcome, Outcome::Fail, "{}", c.evidence);
            assert!(c.evidence.contains("do not cover: autodiscover.contoso.com"), "{}", c.evidence);
            let (chain, key) = leaf(&ca, &BOTH, (-300, 10));
            let c = check(&ca, true, chain, &key).await;
            assert_eq!(c.outcome, Outcome::Warn, "{}", c.evidence);
        }

        #[tokio::test]
        async fn a_server_that_drops_the_handshake_is_reported_with_the_tls_advice() {
            let listener = tokio::net::TcpListener::bind((Ipv4Addr::LOCALHOST, 0)).await.unwrap();
            let port = listener.local_addr().unwrap().port();
            tokio::spawn(async move {
                // One connection, closed at once, as a server without a protocol version in common does.
                if let Ok((tcp, _)) = listener.accept().await {
                    drop(tcp);
                }
            });
            let target = SourceTarget::new("contoso.com").unwrap();
            let verifier = base_verifier(&target).unwrap();
            let ip = IpAddr::V4(Ipv4Addr::LOCALHOST);
            let result = inspect_at(&verifier, "mail.contoso.com", ip, port, std::time::Duration::from_secs(5)).await;
            assert!(result.as_ref().is_err_and(|e| e.contains("handshake")), "{result:?}");
            let check = CertificateReport {
                required_names: vec!["mail.contoso.com".into()],
                hosts: vec![HostCertificate { host: "mail.contoso.com".into(), port, result }],
                at: Utc::now(),
            }
            .to_check();
            assert_eq!(check.outcome, Outcome::Fail);
            assert!(check.evidence.contains("TLS 1.2"), "{}", check.evidence);
        }

        #[tokio::test]
        async fn a_self_signed_certificate_is_named() {
            let mut params = CertificateParams::new(BOTH.iter().map(|n| n.to_string()).collect::<Vec<_>>()).unwrap();
            params.distinguished_name.push(DnType::CommonName, "mail.contoso.com");
            let key = KeyPair::generate().unwrap();
            let cert = params.self_signed(&key).unwrap();
            let ca = ca();
            let c = check(&ca, true, vec![cert.der().clone()], &key).await;
            assert_eq!(c.outcome, Outcome::Fail, "{}", c.evidence);
            assert!(c.evidence.contains("self-signed"), "{}", c.evidence);
        }
    }
}
