//! Stage 2's four checks that reach the source server, judged together: the plan's ids in order, the verdict on
//! each of the source client's reports (or on why a check had nothing to run against), and the wording and
//! rules the four share (which sign-ins the migration service accepts, what fixes a transport failure).

use chrono::{DateTime, Utc};

use crate::plan::source::Check;
use crate::plan::{CheckId, CheckResult, Outcome};
use crate::source::autodiscover::AuthPackage;
use crate::source::{AuthScheme, HealthReports, NotRun, TLS_FAILED};

/// The plan's ids of stage 2's server checks, in the order [`checks`] returns them.
pub const CHECK_IDS: [CheckId; 4] = [
    CheckId::Source(Check::Autodiscover),
    CheckId::Source(Check::Certificate),
    CheckId::Source(Check::OutlookAnywhere),
    CheckId::Source(Check::Ews),
];

/// The verdicts on [`crate::source::health_checks`]'s reports, keyed by the plan's check ids.
pub fn checks(reports: &HealthReports, now: DateTime<Utc>) -> Vec<(CheckId, CheckResult)> {
    let oa = match &reports.outlook_anywhere {
        Ok(report) => super::outlook_anywhere::check(report, now),
        Err(why) => not_run("the Outlook Anywhere host", why, &reports.domain, now),
    };
    let ews = match &reports.ews {
        Ok(report) => super::ews::check(report, now),
        Err(why) => not_run("the EWS URL", why, &reports.domain, now),
    };
    let results = [
        super::autodiscover::check(&reports.autodiscover, now),
        super::certificate::check(&reports.certificate, now),
        oa,
        ews,
    ];
    CHECK_IDS.into_iter().zip(results).collect()
}

/// A check that did not run: `what` it needed, and why it was not there.
fn not_run(what: &str, why: &NotRun, domain: &str, now: DateTime<Utc>) -> CheckResult {
    match why {
        NotRun::NoOutlookAnywhereHost => CheckResult::new(
            Outcome::NotRun,
            format!(
                "Not run: {what} is not known, because Autodiscover gave no Outlook Anywhere settings and none \
                 were given by hand. Enter the RPC proxy server (e.g. mail.{domain}) in stage 2's manual settings."
            ),
            now,
        ),
        // A URL from the server that is not usable is a finding about the server, not bad input.
        NotRun::UnusableEwsUrl(e) => {
            CheckResult::new(Outcome::Fail, format!("Autodiscover gave an unusable EWS URL: {e}"), now)
        }
    }
}

/// Whether the Microsoft 365 migration service can sign in with an offered scheme (Basic or NTLM).
pub(super) fn scheme_accepted(scheme: &AuthScheme) -> bool {
    matches!(scheme, AuthScheme::Basic | AuthScheme::Ntlm)
}

/// Whether the migration service can use an Outlook Anywhere authentication for its connection (Basic or NTLM).
pub(super) fn package_accepted(package: &AuthPackage) -> bool {
    matches!(package, AuthPackage::Basic | AuthPackage::Ntlm | AuthPackage::KerbNtlm)
}

/// The schemes a server offers, as the evidence lists them.
pub(super) fn list_schemes(schemes: &[AuthScheme]) -> String {
    if schemes.is_empty() {
        "none".to_owned()
    } else {
        schemes.iter().map(ToString::to_string).collect::<Vec<_>>().join(", ")
    }
}

/// The fix for a transport failure: the certificate when TLS refused it, else reachability of `what`.
pub(super) fn transport_fix(error: &str, what: &str) -> String {
    if error.starts_with(TLS_FAILED) {
        "Fix the certificate first (see the certificate check): the migration service refuses it the same way."
            .to_owned()
    } else {
        format!(
            "Fix: publish {what} on port 443 from the internet (DNS, firewall, reverse proxy), with a certificate \
             from a public CA."
        )
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_migration_service_signs_in_with_basic_or_ntlm() {
        assert!(scheme_accepted(&AuthScheme::Ntlm) && scheme_accepted(&AuthScheme::Basic));
        assert!(!scheme_accepted(&AuthScheme::Negotiate) && !scheme_accepted(&AuthScheme::Kerberos));
        assert!(package_accepted(&AuthPackage::Ntlm) && package_accepted(&AuthPackage::KerbNtlm));
        assert!(!package_accepted(&AuthPackage::Negotiate) && !package_accepted(&AuthPackage::Kerb));
        assert_eq!(list_schemes(&[]), "none");
        assert_eq!(list_schemes(&[AuthScheme::Negotiate, AuthScheme::Ntlm]), "Negotiate, NTLM");
    }

    #[test]
    fn a_refused_certificate_is_fixed_first() {
        let tls = transport_fix(&format!("{TLS_FAILED}: the server's certificate has expired"), "mail.contoso.com");
        assert!(tls.contains("Fix the certificate first"), "{tls}");
        let down = transport_fix("could not connect (connection refused)", "mail.contoso.com");
        assert!(down.contains("publish mail.contoso.com on port 443"), "{down}");
    }

    #[test]
    fn a_check_without_a_target_says_why_and_where_to_give_it() {
        let now = Utc::now();
        let c = not_run("the EWS URL", &NotRun::NoOutlookAnywhereHost, "contoso.com", now);
        assert_eq!(c.outcome, Outcome::NotRun);
        assert!(c.evidence.starts_with("Not run: the EWS URL is not known"), "{}", c.evidence);
        assert!(c.evidence.contains("(e.g. mail.contoso.com) in stage 2's manual settings"), "{}", c.evidence);
        let c = not_run("the EWS URL", &NotRun::UnusableEwsUrl("'x' is not a usable URL".into()), "contoso.com", now);
        assert_eq!(c.outcome, Outcome::Fail);
        assert!(c.evidence.contains("unusable EWS URL: 'x'"), "{}", c.evidence);
    }
}
