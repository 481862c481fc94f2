//! The source server's certificates, generated at start with rcgen: a private CA and a leaf for the Outlook
//! Anywhere and Autodiscover names, spoiled on purpose when the scenario asks (expired, near expiry,
//! self-signed, a SAN missing).

use rcgen::{BasicConstraints, CertificateParams, DistinguishedName, DnType, IsCa, Issuer, KeyPair, KeyUsagePurpose};
use std::sync::Arc;
use time::{Duration, OffsetDateTime};
use tokio_rustls::rustls;
use tokio_rustls::rustls::pki_types::{CertificateDer, PrivateKeyDer, PrivatePkcs8KeyDer};

use super::SimError;
use super::scenario::CertProblem;

pub struct Certificates {
    pub ca_pem: String,
    pub server_config: Arc<rustls::ServerConfig>,
}

fn err(e: impl std::fmt::Display) -> SimError {
    SimError::Certificate(e.to_string())
}

/// `names`: the Outlook Anywhere host first, then the Autodiscover hosts.
pub fn generate(organisation: &str, names: &[String], problem: CertProblem) -> Result<Certificates, SimError> {
    let now = OffsetDateTime::now_utc();
    let ca_key = KeyPair::generate().map_err(err)?;
    let mut ca = CertificateParams::new(Vec::<String>::new()).map_err(err)?;
    let mut dn = DistinguishedName::new();
    dn.push(DnType::CommonName, "Cutover Simulator Root CA");
    dn.push(DnType::OrganizationName, "cutover simulator");
    ca.distinguished_name = dn;
    ca.is_ca = IsCa::Ca(BasicConstraints::Unconstrained);
    ca.key_usages = vec![KeyUsagePurpose::KeyCertSign, KeyUsagePurpose::CrlSign, KeyUsagePurpose::DigitalSignature];
    ca.not_before = now - Duration::days(400);
    ca.not_after = now + Duration::days(3650);
    let ca_cert = ca.self_signed(&ca_key).map_err(err)?;

    let sans: Vec<String> = match problem {
        // The usual mistake: a certificate bought for the mail host only.
        CertProblem::MissingSan => names.iter().take(1).cloned().collect(),
        _ => names.to_vec(),
    };
    let leaf_key = KeyPair::generate().map_err(err)?;
    let mut leaf = CertificateParams::new(sans).map_err(err)?;
    let mut dn = DistinguishedName::new();
    dn.push(DnType::CommonName, names.first().cloned().unwrap_or_default());
    dn.push(DnType::OrganizationName, organisation);
    leaf.distinguished_name = dn;
    leaf.key_usages = vec![KeyUsagePurpose::DigitalSignature, KeyUsagePurpose::KeyEncipherment];
    leaf.extended_key_usages = vec![rcgen::ExtendedKeyUsagePurpose::ServerAuth];
    (leaf.not_before, leaf.not_after) = match problem {
        CertProblem::Expired => (now - Duration::days(400), now - Duration::days(12)),
        CertProblem::NearExpiry => (now - Duration::days(350), now + Duration::days(9)),
        _ => (now - Duration::days(30), now + Duration::days(335)),
    };
    let leaf_cert = if problem == CertProblem::SelfSigned {
        leaf.self_signed(&leaf_key).map_err(err)?
    } else {
        let issuer = Issuer::new(ca, ca_key);
        leaf.signed_by(&leaf_key, &issuer).map_err(err)?
    };

    let chain: Vec<CertificateDer<'static>> = if problem == CertProblem::SelfSigned {
        vec![leaf_cert.der().clone()]
    } else {
        vec![leaf_cert.der().clone(), ca_cert.der().clone()]
    };
    let key = PrivateKeyDer::Pkcs8(PrivatePkcs8KeyDer::from(leaf_key.serialize_der()));
    let provider = Arc::new(rustls::crypto::aws_lc_rs::default_provider());
    let mut config = rustls::ServerConfig::builder_with_provider(provider)
        .with_safe_default_protocol_versions()
        .map_err(err)?
        .with_no_client_auth()
        .with_single_cert(chain, key)
        .map_err(err)?;
    config.alpn_protocols = vec![b"http/1.1".to_vec()];
    Ok(Certificates { ca_pem: ca_cert.pem(), server_config: Arc::new(config) })
}
