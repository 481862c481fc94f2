//! Stage 2's certificate check: the verdict on what the source's published names presented (trust, dates,
//! SANs, key and signature), with the fix for each finding. The facts come from `source::certificate`.

use chrono::{DateTime, Utc};

use crate::plan::{CheckResult, Outcome};
use crate::source::certificate::{CertificateReport, SignatureAlgorithm, Trust};

/// Fewer days than this before expiry gives a warning: a migration runs for days or weeks.
pub const EXPIRY_WARN_DAYS: i64 = 30;

/// Stage 2's `certificate` check ("TLS certificate valid, trusted, not near expiry, SANs cover the names"): the
/// worst finding over every name, each fix said once. Dates are judged at the report's time.
pub fn check(report: &CertificateReport, now: DateTime<Utc>) -> CheckResult {
    let mut worst = Outcome::Pass;
    let mut lines = Vec::new();
    let mut fixes: Vec<String> = Vec::new();
    let names = report.required_names.join(", ");
    let raise = |o: Outcome, worst: &mut Outcome| {
        if rank(o) > rank(*worst) {
            *worst = o;
        }
    };
    for h in &report.hosts {
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
                let days = leaf.days_left(report.at);
                if leaf.not_after < report.at {
                    raise(Outcome::Fail, &mut worst);
                    lines.push(format!("  expired {} days ago", -days));
                    fixes.push(format!(
                        "renew the certificate (expired on {}) with SANs {names}",
                        leaf.not_after.format("%Y-%m-%d")
                    ));
                } else if leaf.not_before > report.at {
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
                    report.required_names.iter().filter(|n| !leaf.covers(n)).map(String::as_str).collect();
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
    CheckResult::new(worst, text.join("\n"), now)
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
    use crate::source::certificate::{CertInfo, HostCertificate, Presented};

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

    fn judged(leaf: CertInfo, trust: Trust) -> CheckResult {
        check(&report(leaf, trust), Utc::now())
    }

    #[test]
    fn verdicts() {
        let both = ["autodiscover.contoso.com", "mail.contoso.com"];
        let good = judged(info(200, &both, false, SignatureAlgorithm::Sha256Rsa), Trust::Trusted);
        assert_eq!(good.outcome, Outcome::Pass, "{}", good.evidence);
        let soon = judged(info(12, &both, false, SignatureAlgorithm::Sha256Rsa), Trust::Trusted);
        assert_eq!(soon.outcome, Outcome::Warn, "{}", soon.evidence);
        assert!(soon.evidence.contains("expires in 1"), "{}", soon.evidence);
        let expired = judged(info(-3, &both, false, SignatureAlgorithm::Sha256Rsa), Trust::Trusted);
        assert_eq!(expired.outcome, Outcome::Fail);
        assert!(expired.evidence.contains("expired"), "{}", expired.evidence);
        let wildcard = report(info(200, &["*.contoso.com"], false, SignatureAlgorithm::Sha256Rsa), Trust::Trusted);
        assert_eq!(check(&wildcard, Utc::now()).outcome, Outcome::Pass);
        let missing = judged(info(200, &["mail.contoso.com"], false, SignatureAlgorithm::Sha256Rsa), Trust::Trusted);
        assert_eq!(missing.outcome, Outcome::Fail);
        assert!(missing.evidence.contains("do not cover: autodiscover.contoso.com"), "{}", missing.evidence);
        let mut weak = info(200, &both, false, SignatureAlgorithm::Sha256Rsa);
        weak.key_bits = 1024;
        let weak = judged(weak, Trust::Trusted);
        assert_eq!(weak.outcome, Outcome::Warn, "{}", weak.evidence);
        assert!(weak.evidence.contains("RSA 2048 bits or more"), "{}", weak.evidence);
        let sha1 = judged(info(200, &both, false, SignatureAlgorithm::Sha1Rsa), Trust::Trusted);
        assert_eq!(sha1.outcome, Outcome::Warn);
        assert!(sha1.evidence.contains("SHA-1"), "{}", sha1.evidence);
        let selfsigned =
            judged(info(200, &both, true, SignatureAlgorithm::Sha256Rsa), Trust::Untrusted("unknown issuer".into()));
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

    #[test]
    fn a_dropped_handshake_gets_the_tls_advice() {
        let report = CertificateReport {
            required_names: vec!["mail.contoso.com".into()],
            hosts: vec![HostCertificate {
                host: "mail.contoso.com".into(),
                port: 443,
                result: Err("the TLS handshake with mail.contoso.com port 443 failed before a certificate: eof".into()),
            }],
            at: Utc::now(),
        };
        let c = check(&report, Utc::now());
        assert_eq!(c.outcome, Outcome::Fail);
        assert!(c.evidence.contains("TLS 1.2"), "{}", c.evidence);
        let unreachable = CertificateReport {
            hosts: vec![HostCertificate {
                result: Err("could not connect to mail.contoso.com".into()),
                ..report.hosts[0].clone()
            }],
            ..report
        };
        let c = check(&unreachable, Utc::now());
        assert!(c.evidence.contains("make mail.contoso.com reachable from the internet on port 443"), "{}", c.evidence);
    }
}
