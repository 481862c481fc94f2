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

        /// What the client saw at mail.contoso.com, served `chain`; the verdicts on such reports are `plan`'s.
        async fn inspect(ca: &Ca, trust_ca: bool, chain: Vec<CertificateDer<'static>>, key: &KeyPair) -> Presented {
            let port = serve(chain, key).await;
            let mut target = SourceTarget::new("contoso.com").unwrap();
            if trust_ca {
                target = target.with_extra_ca_pem(&ca.pem, "test CA").unwrap();
            }
            let verifier = base_verifier(&target).unwrap();
            let ip = IpAddr::V4(Ipv4Addr::LOCALHOST);
            let timeout = std::time::Duration::from_secs(5);
            inspect_at(&verifier, "mail.contoso.com", ip, port, timeout).await.expect("a certificate is presented")
        }

        const BOTH: [&str; 2] = ["mail.contoso.com", "autodiscover.contoso.com"];

        #[tokio::test]
        async fn a_good_certificate_is_trusted_in_date_and_covers_the_names() {
            let ca = ca();
            let (chain, key) = leaf(&ca, &BOTH, (-10, 365));
            let p = inspect(&ca, true, chain, &key).await;
            assert_eq!(p.trust, Trust::Trusted, "{p:?}");
            assert!(BOTH.iter().all(|n| p.chain[0].covers(n)), "{p:?}");
            assert!(p.chain[0].days_left(Utc::now()) > 300, "{p:?}");
            assert_eq!(p.chain[1].subject, "CN=Contoso Test Root CA");
            assert!(!p.chain[0].self_signed);
        }

        #[tokio::test]
        async fn an_unknown_ca_is_not_trusted() {
            let ca = ca();
            let (chain, key) = leaf(&ca, &BOTH, (-10, 365));
            let p = inspect(&ca, false, chain, &key).await;
            assert!(matches!(&p.trust, Trust::Untrusted(why) if why.contains("trusted CA")), "{p:?}");
        }

        #[tokio::test]
        async fn an_expired_certificate_from_a_trusted_ca_is_expired_not_untrusted() {
            let ca = ca();
            let (chain, key) = leaf(&ca, &BOTH, (-400, -5));
            let p = inspect(&ca, true, chain, &key).await;
            assert_eq!(p.trust, Trust::Trusted, "{p:?}");
            let days = p.chain[0].days_left(Utc::now());
            assert!((-5..=-4).contains(&days), "{days}");
        }

        #[tokio::test]
        async fn a_missing_san_and_a_near_expiry_are_seen() {
            let ca = ca();
            let (chain, key) = leaf(&ca, &["mail.contoso.com"], (-10, 365));
            let p = inspect(&ca, true, chain, &key).await;
            assert!(p.chain[0].covers("mail.contoso.com"));
            assert!(!p.chain[0].covers("autodiscover.contoso.com"), "{p:?}");
            let (chain, key) = leaf(&ca, &BOTH, (-300, 10));
            let p = inspect(&ca, true, chain, &key).await;
            assert!((9..=10).contains(&p.chain[0].days_left(Utc::now())), "{p:?}");
        }

        #[tokio::test]
        async fn a_server_that_drops_the_handshake_is_reported_as_a_handshake_failure() {
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
            // The plan gives the TLS 1.2 advice on the word "handshake" (plan::source::certificate's tests).
            assert!(result.as_ref().is_err_and(|e| e.contains("handshake")), "{result:?}");
        }

        #[tokio::test]
        async fn a_self_signed_certificate_is_seen_as_such() {
            let mut params = CertificateParams::new(BOTH.iter().map(|n| n.to_string()).collect::<Vec<_>>()).unwrap();
            params.distinguished_name.push(DnType::CommonName, "mail.contoso.com");
            let key = KeyPair::generate().unwrap();
            let cert = params.self_signed(&key).unwrap();
            let ca = ca();
            let p = inspect(&ca, true, vec![cert.der().clone()], &key).await;
            assert!(p.chain[0].self_signed, "{p:?}");
            assert!(matches!(p.trust, Trust::Untrusted(_)), "{p:?}");
        }
    }
}
